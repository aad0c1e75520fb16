"""Run one programme through the stages and write each stage's artefact."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dubkit import __version__
from dubkit import constants as C
from dubkit.fsutil import atomic_write_all
from dubkit.ports import ProgressFn, TranscribeOptions, Transcriber
from dubkit.profiles import Profile
from dubkit.segmentation import segment_cues
from dubkit.writers import render_asr_json, render_srt

LANGUAGE_NAMES = {
    "zh": "Chinese", "yue": "Cantonese", "en": "English", "ur": "Urdu", "hi": "Hindi",
    "ar": "Arabic", "fa": "Persian", "ja": "Japanese", "ko": "Korean", "ru": "Russian",
    "fr": "French", "de": "German", "es": "Spanish", "pa": "Punjabi",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TranscribeResult:
    media: Path
    srt: Path
    asr_json: Path
    cues: int
    duration_ms: int
    language: str
    detected_language: str | None
    detected_probability: float | None
    warnings: tuple[str, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: display_path(v) if isinstance(v, Path) else v for k, v in d.items()}


def display_path(path: Path) -> str:
    """A path as text that always encodes (undecodable bytes in names become \\xNN)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def output_paths(media: Path, outdir: Path, language: str = "zh") -> tuple[Path, Path]:
    """STEM.zh.srt (STEM.LANG.srt when --language auto heard another language), STEM.asr.json."""
    return outdir / f"{media.stem}.{language}.srt", outdir / f"{media.stem}.asr.json"


def transcribe_file(
    media: Path,
    outdir: Path,
    transcriber: Transcriber,
    options: TranscribeOptions,
    profile: Profile,
    run_meta: dict[str, Any],
    progress: ProgressFn | None = None,
) -> TranscribeResult:
    """Decode, recognise, convert to Simplified, build cues; write STEM.zh.srt and asr.json."""
    from dubkit.adapters.audio import decode_audio
    from dubkit.adapters.chinese import simplify_transcript

    started = time.perf_counter()
    audio = decode_audio(media)
    transcript = transcriber.transcribe(audio, options, progress)
    if transcript.language == "zh":
        transcript = simplify_transcript(transcript)
    cues = segment_cues(transcript.segments, profile)
    warnings = list(audio.warnings)
    if not transcript.segments:
        warnings.append(f"{media}: no speech found; wrote an empty subtitle file")
    elif (note := foreign_language_note(media, options.language, transcript)) is not None:
        warnings.append(note)
    srt_path, json_path = output_paths(media, outdir, transcript.language)
    meta = {
        "dubkit_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "media": display_path(media),
        **run_meta,
        "options": asdict(options),
        "profile": asdict(profile),
        "warnings": warnings,
    }
    atomic_write_all(
        {
            json_path: render_asr_json(transcript, meta).encode("utf-8"),
            srt_path: render_srt(cues).encode("utf-8"),
        }
    )
    return TranscribeResult(
        media=media,
        srt=srt_path,
        asr_json=json_path,
        cues=len(cues),
        duration_ms=audio.duration_ms,
        language=transcript.language,
        detected_language=transcript.detected_language,
        detected_probability=transcript.detected_probability,
        warnings=tuple(warnings),
        seconds=time.perf_counter() - started,
    )


def foreign_language_note(media: Path, requested: str, transcript: Any) -> str | None:
    """A warning when the speech sounds like another language than the one requested."""
    detected, p = transcript.detected_language, transcript.detected_probability
    if requested == "auto" or detected is None or p is None or detected == requested:
        return None
    if p < C.FOREIGN_LANGUAGE_WARN_PROBABILITY:
        return None
    name = LANGUAGE_NAMES.get(detected, detected)
    wanted = LANGUAGE_NAMES.get(requested, requested)
    return (
        f"{media}: speech sounds like {name} ({detected}, p={p:.2f}), not {wanted}; "
        f"transcribed as {requested} anyway — check the file, or pass --language auto"
    )
