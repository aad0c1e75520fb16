"""`dubkit align`'s work: read the script, plan the job, recognise the programme's words,
retime the script to them (or apply a known correction), write STEM.zh.srt and
STEM.align.json. The command only parses options and prints."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dubkit.errors import ConfigError, DubkitError, OutputError, SubtitleParseError
from dubkit.ports import ProgressFn, TranscribeOptions, Transcriber
from dubkit.records import Cue, Transcript

_MAX_OFFSET_MS = 24 * 3600 * 1000  # no programme is longer than a day


@dataclass(frozen=True, slots=True)
class AlignScript:
    """The script's units in Simplified characters, with where each came from."""

    path: Path
    is_srt: bool
    units: tuple[str, ...]
    labels: tuple[str, ...]  # "line 12" or "cue 3", for messages
    cues: tuple[Cue, ...]  # an SRT's cues (Simplified text); () for a text script
    simplified: int  # units whose text changed from Traditional to Simplified
    repairs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlignJob:
    """What `dubkit align` will do: the script read, the media, the mode and the outputs."""

    script: AlignScript
    media: Path | None
    mode: str  # text, linear or offset
    srt: Path
    report: Path


def plan_alignment(
    script: Path,
    media: Path | None,
    outdir: Path,
    mode: str | None,
    offset: float | None,
    factor: float | None,
    encoding: str | None,
) -> AlignJob:
    """Check the options and read the script, before any model loads."""
    from dubkit.fsutil import ensure_writable_dir
    from dubkit.subtitles.files import subtitle_stem

    known = offset is not None or factor is not None
    if offset is not None and not (math.isfinite(offset) and abs(offset) <= _MAX_OFFSET_MS):
        raise ConfigError(f"--offset {offset}: give milliseconds within ±24 hours")
    if mode is not None and mode not in ("text", "linear"):
        raise ConfigError(f"--mode {mode}: choose text or linear")
    if known and mode is not None:
        raise ConfigError(
            "--offset/--factor apply a known correction; --mode finds one from the audio: "
            "give one or the other"
        )
    if factor is not None and not 0 < factor < 10:
        raise ConfigError(f"--factor {factor}: must be between 0 and 10 (1.0 changes nothing)")
    parsed = read_script(script, encoding)
    job_mode = "offset" if known else mode or "text"
    if job_mode != "text" and not parsed.is_srt:
        option = "--offset/--factor" if known else "--mode linear"
        raise ConfigError(
            f"{script}: {option} needs an SRT (a plain-text script has no times to correct); "
            f"use the default text mode"
        )
    if known and media is not None:
        raise ConfigError(
            f"{media}: --offset/--factor need no audio; drop MEDIA, or drop them to find the "
            f"correction from the audio with --mode linear"
        )
    if not known and media is None:
        raise ConfigError(
            f"{script}: name the MEDIA to align it to (or give --offset/--factor for an SRT)"
        )
    if media is not None:
        from dubkit.adapters.audio import check_media

        check_media(media)
    if not known:  # found in the speech: only Chinese can be
        _check_chinese(script, parsed.units, "cues" if parsed.is_srt else "lines")
    ensure_writable_dir(outdir)
    stem = subtitle_stem(script)
    srt, report = outdir / f"{stem}.zh.srt", outdir / f"{stem}.align.json"
    for out in (srt, report):
        for source in (script, media):
            if source is not None and out.exists() and out.resolve() == source.resolve():
                raise OutputError(
                    f"{source}: writing {out.name} would overwrite it; choose another folder "
                    f"with -o or rename the input",
                    path=source,
                )
    return AlignJob(parsed, media, job_mode, srt, report)


def read_script(path: Path, encoding: str | None) -> AlignScript:
    """A subtitle file (SRT, WebVTT or ASS, as `subtitle_kind` tells them: by header, suffix
    or SubRip timing lines) or a text file, one unit a line.

    A cue's unit is its Chinese lines (a bilingual cue's English line is not said); its
    Chinese lines are converted to Simplified, its other lines are kept as they are."""
    from dubkit.adapters.chinese import to_simplified
    from dubkit.align.alignment import spoken_text
    from dubkit.asr.pinyin import is_han
    from dubkit.fsutil import display_path
    from dubkit.subtitles.files import read_subtitle_text
    from dubkit.subtitles.formats import read_subtitles, subtitle_kind
    from dubkit.subtitles.parse import parse_srt

    name = display_path(path)
    text = read_subtitle_text(path, encoding)
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kind = subtitle_kind(path, text)
    is_srt = kind is not None
    cues: tuple[Cue, ...] = ()
    repairs: tuple[str, ...] = ()
    if is_srt:  # SubRip as parse_srt reads it: an inverted cue is kept (its text is said)
        parsed = parse_srt(text, name) if kind == "srt" else read_subtitles(text, name, kind=kind)
        repairs = parsed.repairs
        cues = tuple(
            replace(
                c,
                lines=tuple(
                    to_simplified(line) if any(map(is_han, line)) else line for line in c.lines
                ),
            )
            for c in parsed.cues
        )
        originals = [spoken_text(c.lines) for c in parsed.cues]
        units = [spoken_text(c.lines) for c in cues]
        labels = [f"cue {c.index}" for c in cues]
    else:
        numbered = [(n, line.strip()) for n, line in enumerate(lines, start=1) if line.strip()]
        originals = [line for _, line in numbered]
        units = [to_simplified(line) for line in originals]
        labels = [f"line {n}" for n, _ in numbered]
    if not units:
        raise SubtitleParseError(
            f"{path}: no text to align; a script has one line of Chinese per cue", path=path
        )
    return AlignScript(
        path=path,
        is_srt=is_srt,
        units=tuple(units),
        labels=tuple(labels),
        cues=cues,
        simplified=sum(a != b for a, b in zip(originals, units, strict=True)),
        repairs=repairs,
    )


def _check_chinese(path: Path, units: Sequence[str], kind: str) -> None:
    """Refuse, before any model loads, a script whose units are mostly without Chinese: only
    Chinese is found in the speech, so it would be refused after a whole recognition."""
    from dubkit.align.alignment import MIN_PLACED_RATIO
    from dubkit.asr.pinyin import is_han

    chinese = sum(any(map(is_han, unit)) for unit in units)
    if chinese < MIN_PLACED_RATIO * len(units):
        raise SubtitleParseError(
            f"{path}: only {chinese} of {len(units)} {kind} hold Chinese (at least "
            f"{MIN_PLACED_RATIO:.0%} must, as that much must be found in the speech); give "
            f"the Chinese script (or a bilingual one with a Chinese line per cue)",
            path=path,
        )


def retime(
    job: AlignJob,
    transcript: Transcript,
    meta: dict[str, Any],
    profile: Any,
    level: Sequence[float] = (),
) -> tuple[dict[str, Any], tuple[Cue, ...]]:
    """Retime the script to the recognised words (characters compared by sound, starts and
    ends moved to the sound's onsets by `level`, see dubkit.align.onsets). DubkitError, and
    nothing to write, when fewer than MIN_PLACED_RATIO of the units were found."""
    from dubkit.adapters.chinese import pinyin_readings
    from dubkit.align.alignment import retime_linear, retime_text, timed_characters

    chars = timed_characters(transcript, pinyin_readings)
    script = job.script
    if job.mode == "linear":
        try:
            linear = retime_linear(script.cues, chars, read=pinyin_readings, level=level)
        except ValueError as exc:  # not one cue found
            raise _refusal(job, 0, len(script.cues)) from exc
        _check_placed(job, linear.placements)
        fit = {
            "factor": round(linear.factor, 6),
            "offset_ms": round(linear.offset_ms, 1),
            "cues_used": linear.used,
            "kept": linear.kept,
            "fit_error_ms": round(linear.fit_error_ms, 1),
            "unchanged_error_ms": round(linear.unchanged_error_ms, 1),
        }
        units = tuple(range(len(linear.cues)))
        doc = align_document(job, linear.cues, linear.placements, units, fit, linear.residuals_ms)
        cues = linear.cues
    else:
        hints = [(c.start_ms, c.end_ms) for c in script.cues] if script.is_srt else None
        result = retime_text(
            script.units,
            chars,
            profile,
            hints,
            lines=[c.lines for c in script.cues] if script.is_srt else None,
            read=pinyin_readings,
            level=level,
            end_ms=transcript.duration_ms or None,
        )
        _check_placed(job, result.placements)
        doc = align_document(job, result.cues, result.placements, result.cue_units, None)
        doc["profile"] = profile.name
        cues = result.cues
    if script.is_srt and len(cues) == len(script.cues):
        moved = [new.start_ms - old.start_ms for new, old in zip(cues, script.cues, strict=True)]
        doc["summary"]["mean_correction_ms"] = round(sum(moved) / len(moved), 1)
    doc["model"] = meta
    doc["heard_characters"] = len(chars)
    return doc, cues


def _check_placed(job: AlignJob, placements: Sequence[Any]) -> None:
    """Refuse a retiming resting on too few units found in the speech (MIN_PLACED_RATIO)."""
    from dubkit.align.alignment import MIN_PLACED_RATIO

    placed, total = sum(p.placed for p in placements), len(placements)
    if placed < MIN_PLACED_RATIO * total:
        raise _refusal(job, placed, total)


def _refusal(job: AlignJob, placed: int, total: int) -> DubkitError:
    from dubkit.align.alignment import MIN_PLACED_RATIO

    kind = "cues" if job.script.is_srt else "lines"
    return DubkitError(
        f"{job.script.path}: only {placed} of {total} {kind} were found in the speech of "
        f"{job.media} (at least {MIN_PLACED_RATIO:.0%} must be), so nothing was written; "
        f"check that the script is this programme's and in Chinese, or give a known "
        f"--offset"
    )


def known_correction(job: AlignJob, offset: float | None, factor: float | None) -> tuple[Cue, ...]:
    from dubkit.align.alignment import apply_linear

    return apply_linear(job.script.cues, factor or 1.0, offset or 0.0)


def align_document(
    job: AlignJob,
    cues: tuple[Cue, ...],
    placements: Any,
    cue_units: tuple[int, ...] | None,
    fit: dict[str, Any] | None,
    residuals: tuple[int | None, ...] | None = None,
) -> dict[str, Any]:
    """STEM.align.json: per cue its unit, text, times, confidence and whether it was placed."""
    from dubkit import __version__
    from dubkit.fsutil import display_path

    script = job.script
    rows = []
    for k, cue in enumerate(cues):
        row: dict[str, Any] = {"index": cue.index}
        if placements is not None and cue_units is not None:
            p = placements[cue_units[k]]
            row |= {
                "unit": script.labels[cue_units[k]],
                "placed": p.placed,
                "confidence": round(p.confidence, 3),
                "asr_probability": round(p.probability, 3),
            }
        row |= {"start_ms": cue.start_ms, "end_ms": cue.end_ms, "text": cue.text}
        if residuals is not None:
            row["residual_ms"] = residuals[k]
        row["flags"] = list(cue.flags)
        rows.append(row)
    summary: dict[str, Any] = {"units": len(script.units), "cues": len(cues)}
    unplaced: list[dict[str, Any]] = []
    if placements is not None:
        placed = [p for p in placements if p.placed]
        summary |= {
            "placed": len(placed),
            "placed_ratio": round(len(placed) / len(placements), 4),
            "mean_confidence": round(
                sum(p.confidence for p in placed) / len(placed) if placed else 0.0, 4
            ),
        }
        unplaced = [
            {"unit": label, "text": p.text, "confidence": round(p.confidence, 3)}
            for label, p in zip(script.labels, placements, strict=True)
            if not p.placed
        ]
    if fit is not None:
        summary |= fit
    return {
        "dubkit_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "script": display_path(script.path),
        "media": display_path(job.media) if job.media else None,
        "mode": job.mode,
        "text": "converted to Simplified Chinese",
        "units_simplified": script.simplified,
        "repairs": list(script.repairs),
        "summary": summary,
        "unplaced": unplaced,
        "cues": rows,
    }


def write_alignment(job: AlignJob, cues: tuple[Cue, ...], doc: dict[str, Any]) -> None:
    from dubkit.fsutil import atomic_write_all, display_path
    from dubkit.subtitles.writers import render_srt

    doc["outputs"] = {"srt": display_path(job.srt), "report": display_path(job.report)}
    atomic_write_all(
        {
            job.srt: render_srt(cues).encode("utf-8"),
            job.report: (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        }
    )


def recognise_words(
    transcriber: Transcriber, media: Path, options: TranscribeOptions, progress: ProgressFn | None
) -> tuple[Transcript, tuple[str, ...], tuple[float, ...]]:
    """MEDIA recognised as `transcribe` does, in Simplified characters and Chinese words (not
    Whisper's token pieces, so that no line breaks inside a word: 之|后); the warnings; and
    the sound's level (dubkit.adapters.audio.sound_levels) to find where lines start."""
    from dubkit.adapters.audio import sound_levels, spool_audio
    from dubkit.adapters.chinese import simplify_transcript, split_words
    from dubkit.align.onsets import FRAME_MS
    from dubkit.asr.words import resegment_transcript
    from dubkit.episode.pipeline import too_long

    with spool_audio(media, too_long(media)) as audio:  # in pieces, as `transcribe` reads it
        transcript = transcriber.transcribe(audio, options, progress)
        level = sound_levels(audio, FRAME_MS)
    words = resegment_transcript(simplify_transcript(transcript), split_words)
    return words, (*audio.warnings, *transcript.warnings), level
