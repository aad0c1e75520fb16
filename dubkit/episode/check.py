"""`dubkit qa`'s work: finished subtitles checked against a profile, the Urdu conventions and
the glossary, with the flags the recogniser and translation left beside them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from dubkit.config import Config


def check_subtitles(
    subs: Path,
    profile: str | None,
    cfg: Config,
    glossary: list[Path] | None,
    source: Path | None,
    html: Path | None,
    no_html: bool,
    outdir: Path | None,
    encoding: str | None,
) -> tuple[dict[str, Any], Path | None]:
    """`dubkit qa`'s check: read SUBS (SRT, WebVTT or ASS) leniently and strictly, carry over
    the recogniser's and translation's flags from the files beside it, check every rule of
    the profile (and the glossary against --source), write the HTML report; every failure a
    DubkitError. Returns the report and where the HTML went."""
    from dubkit.config import resolve_profile
    from dubkit.episode.setup import load_glossaries
    from dubkit.errors import ConfigError, SubtitleParseError
    from dubkit.fsutil import atomic_write_all, display_path, ensure_writable_dir
    from dubkit.profiles import URDU_PROFILE
    from dubkit.qa.html import render_html
    from dubkit.qa.rules import detect_language, qa_report

    parsed, structure_error, kind = _read(subs, encoding)
    if not parsed.cues:
        raise SubtitleParseError(f"{display_path(subs)}: no cues; nothing to check", path=subs)
    from dubkit.episode.pipeline import (
        at_rate,
        cue_rate,
        programme_stem,
        with_recognition_flags,
        with_translation_flags,
    )

    # The recogniser's flags are part of the check: for Chinese subtitles from the asr.json
    # beside them, for Urdu ones from the qa.json translation wrote beside them (its flags
    # are the Urdu cues', matched by time: never put on a Chinese cue that shares one).
    stem = programme_stem(subs)
    urdu = detect_language(parsed.cues) == "ur"
    cues = with_recognition_flags(parsed.cues, subs.with_name(f"{stem}.asr.json"))
    named = subs.stem[len(stem) + 1 :] or None  # ur, zh-ur, zh, en: what the name says
    if named in ("ur", "zh-ur") or (named is None and urdu):
        cues = with_translation_flags(cues, subs.with_name(f"{stem}.qa.json"))
    parsed = replace(parsed, cues=cues)
    default = URDU_PROFILE if urdu else None
    chosen = resolve_profile(profile or default, cfg)
    # frames are the programme's: the rate its Chinese cues were snapped to, when known
    chosen = at_rate(chosen, cue_rate(subs.with_name(f"{stem}.asr.json")))
    terms = load_glossaries(cfg, glossary) if source is not None else None
    if source is not None and terms is None:
        raise ConfigError("--source needs a glossary: --glossary FILE or [glossary] files")
    adherence = None
    if source is not None:
        asr_json = source.with_name(f"{programme_stem(source)}.asr.json")
        sources = with_recognition_flags(_read(source, encoding)[0].cues, asr_json)
        adherence = _glossary(parsed.cues, sources, terms, chosen.language)
    html_path = None
    if not no_html:
        html_path = html or (outdir or subs.parent) / f"{subs.stem}.qa.html"
        ensure_writable_dir(html_path.parent)
    report = qa_report(
        display_path(subs), parsed.cues, chosen, adherence, parsed.repairs, structure_error,
        frame_tolerance_ms=5 if kind == "ass" else 1,  # ASS rounds times to 10 ms
    )  # fmt: skip
    report["html"] = display_path(html_path) if html_path else None
    if html_path is not None:
        atomic_write_all({html_path: render_html(report).encode("utf-8")})
    return report, html_path


def _read(path: Path, encoding: str | None) -> tuple[Any, str | None, str]:
    """Cues and repairs of a subtitle file, the first problem strict reading refuses (None
    when there is none), and the file's kind; SRT, WebVTT and ASS are read.

    Lenient reading sorts unordered cues, trims overlaps and drops empty cues so that the
    rest can be checked; strict reading says whether the file needed any of that."""
    from dubkit.errors import SubtitleParseError
    from dubkit.fsutil import display_path
    from dubkit.subtitles.files import read_subtitle_text
    from dubkit.subtitles.formats import read_subtitles, subtitle_kind

    name = display_path(path)
    text = read_subtitle_text(path, encoding)
    kind = subtitle_kind(path, text) or "srt"
    parsed = read_subtitles(text, name, kind=kind)
    try:
        read_subtitles(text, name, strict=True, kind=kind)
    except SubtitleParseError as exc:
        return parsed, str(exc), kind
    return parsed, None, kind


def _glossary(cues: Any, sources: Any, terms: Any, language: str) -> dict[str, Any]:
    """dubkit.qa.adherence.glossary_report over the cue pairs; the files must have the same cues."""
    from dubkit.errors import SubtitleParseError
    from dubkit.qa.adherence import glossary_report
    from dubkit.text.lines import join_lines

    if len(sources) != len(cues):
        raise SubtitleParseError(
            f"--source has {len(sources)} cues and the subtitles {len(cues)}; give the Chinese "
            f"SRT these subtitles were translated from (translated with --layout cue)"
        )
    texts = [join_lines(c.lines) for c in sources]
    return glossary_report(sources, cues, texts, terms, language)
