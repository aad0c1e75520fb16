"""Which glossary terms an episode's Chinese holds, and where: for glossary maintainers
deciding what a series needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dubkit import constants as C
from dubkit.escape import one_line
from dubkit.fsutil import NotReadable, display_path, read_json
from dubkit.glossary.terms import TermSet, find_terms


def episode_units(path: Path) -> list[tuple[int, str]]:
    """(number, Chinese text) of each cue of an SRT or segment of an asr.json."""
    from dubkit.errors import SubtitleParseError
    from dubkit.subtitles.files import read_srt
    from dubkit.text.lines import join_lines

    if path.suffix == ".json":
        shown = display_path(path)
        try:
            doc = read_json(path, C.MAX_ARTEFACT_BYTES)
            return [(n, str(s["text"])) for n, s in enumerate(doc["segments"], start=1)]
        except NotReadable as exc:
            raise SubtitleParseError(f"{shown}: not a dubkit asr.json (it is {exc})") from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            why = one_line(str(exc))[:120]
            raise SubtitleParseError(f"{shown}: not a dubkit asr.json ({why})") from exc
    return [(c.index, join_lines(c.lines)) for c in read_srt(path).cues]


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
