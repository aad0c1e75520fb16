"""Which glossary terms an episode's Chinese holds, and where: for glossary maintainers
deciding what a series needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dubkit import constants as C
from dubkit.escape import one_line
from dubkit.fsutil import NotReadable, display_path, read_json
from dubkit.glossary.terms import TermSet, find_terms


@dataclass(frozen=True, slots=True)
class Coverage:
    """term_coverage of one episode, over its `units` cues or segments (`unit` says which)."""

    rows: list[dict[str, Any]]
    units: int
    unit: str  # "cues" (subtitles) or "segments" (a dubkit asr.json)


def episode_coverage(path: Path, terms: TermSet, encoding: str | None = None) -> Coverage:
    """Which of `terms` the episode at `path` holds: subtitles (SRT, WebVTT, ASS; UTF-8 or
    UTF-16 sniffed, else `encoding`) or a dubkit asr.json. SubtitleParseError names the
    file when it is neither."""
    units, unit = episode_units(path, encoding)
    return Coverage(term_coverage(units, terms), len(units), unit)


def episode_units(path: Path, encoding: str | None = None) -> tuple[list[tuple[int, str]], str]:
    """(number, Chinese text) of each segment of an asr.json, or each cue of a subtitle file
    as dubkit reads every subtitle file; and which they are ("segments" or "cues")."""
    from dubkit.errors import SubtitleParseError
    from dubkit.subtitles.files import read_subtitle_text
    from dubkit.subtitles.formats import read_subtitles, subtitle_kind
    from dubkit.text.lines import join_lines

    shown = display_path(path)
    if path.suffix.lower() == ".json":
        try:
            doc = read_json(path, C.MAX_ARTEFACT_BYTES)
            segments = [(n, str(s["text"])) for n, s in enumerate(doc["segments"], start=1)]
        except NotReadable as exc:
            raise SubtitleParseError(f"{shown}: not a dubkit asr.json (it is {exc})") from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            why = one_line(str(exc))[:120]
            raise SubtitleParseError(f"{shown}: not a dubkit asr.json ({why})") from exc
        return segments, "segments"
    text = read_subtitle_text(path, encoding)
    cues = read_subtitles(text, shown, kind=subtitle_kind(path, text)).cues
    return [(c.index, join_lines(c.lines)) for c in cues], "cues"


def term_coverage(units: list[tuple[int, str]], terms: TermSet) -> list[dict[str, Any]]:
    """Per term: its Chinese, its approved Urdu, how often and in which units it occurs."""
    where: dict[str, list[int]] = {}
    for n, text in units:
        for m in find_terms(text, terms):
            where.setdefault(m.term.zh, []).append(n)
    return [
        {"zh": t.zh, "ur": t.rendering("ur"), "count": len(where.get(t.zh, [])),
         "units": where.get(t.zh, [])}
        for t in terms.terms
    ]  # fmt: skip
