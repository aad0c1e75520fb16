"""Run one programme through the stages and write each stage's artefact."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dubkit import __version__
from dubkit import constants as C
from dubkit.asr.words import resegment_transcript
from dubkit.burned.cues import SAMPLE_FPS, ocr_document, srt_cues
from dubkit.burned.fuse import ASR, OCR, Fused, fuse, picture_cues
from dubkit.burned.records import Band, BurnedCue
from dubkit.episode.burn import BurnedGeometry
from dubkit.errors import ConfigError, DubkitError, MediaError, OutputError
from dubkit.escape import display_text, render_json
from dubkit.fsutil import (
    atomic_write_all,
    display_path,
    parse_json,
    read_json,
    read_limited,
    sha256_file,
)
from dubkit.glossary.terms import TermSet, canonical_text, canonical_transcript
from dubkit.ports import Memory, ProgressFn, TranscribeOptions, Transcriber, Translator
from dubkit.profiles import BUILTIN_PROFILES, URDU_PROFILE, Profile
from dubkit.qa.adherence import glossary_report, recognition_flags
from dubkit.records import Cue, Transcript
from dubkit.subtitles.files import read_srt, subtitle_stem
from dubkit.subtitles.parse import PROGRAMME_END, ends_too_late
from dubkit.subtitles.segmentation import segment_cues
from dubkit.subtitles.writers import render_asr_json, render_srt
from dubkit.text.lines import join_lines
from dubkit.text.urdu import UrduStyle
from dubkit.timecode import clock, usable_rate
from dubkit.translate.layout import group_sentences, layout, layout_sentences
from dubkit.translate.steps import StepStats, TranslationResult, translate_texts, translated_cues

CHINESE = ("zh", "yue")  # languages cut into words with a Chinese segmenter
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
    fps: float = 25.0  # the frame rate the cues were snapped to
    cue_records: tuple[Cue, ...] = field(default=(), repr=False)
    source: str = "asr"  # where the cues came from: asr, ocr or auto (both, fused)
    cue_sources: tuple[str, ...] = field(default=(), repr=False)  # per cue: ocr or asr
    cue_en: tuple[str, ...] = field(default=(), repr=False)  # per cue: English read with it
    en_srt: Path | None = None  # STEM.en.srt: the English lines read from the picture
    ocr_json: Path | None = None  # STEM.ocr.json: the picture's reading, boxes included

    def to_dict(self) -> dict[str, Any]:
        hidden = ("cue_records", "cue_sources", "cue_en")
        d = {f: getattr(self, f) for f in self.__dataclass_fields__ if f not in hidden}
        return {k: display_path(v) if isinstance(v, Path) else v for k, v in d.items()}


def output_paths(media: Path, outdir: Path, language: str = "zh") -> tuple[Path, Path]:
    """STEM.zh.srt (STEM.LANG.srt when --language auto heard another language), STEM.asr.json."""
    return outdir / f"{media.stem}.{language}.srt", outdir / f"{media.stem}.asr.json"


def transcribe_file(
    media: Path,
    outdir: Path,
    transcriber: Transcriber | None,
    options: TranscribeOptions,
    profile: Profile,
    run_meta: dict[str, Any],
    progress: ProgressFn | None = None,
    terms: TermSet | None = None,
    fps: float | None = None,
    source: str = "asr",
) -> TranscribeResult:
    """Decode, recognise, convert to Simplified, put glossary variants in their canonical
    form, build cues; write STEM.zh.srt and asr.json. Cues snap to `fps` when given, else to
    the media's own frame rate, else to the profile's (a sound file has no frames).

    `source`: "asr" the speech; "ocr" the subtitles burned into the picture (no speech
    recognition: no `transcriber` and no sound needed; STEM.ocr.json written too, and
    STEM.en.srt when the picture has English lines); "auto" both, fused by
    `dubkit.burned.fuse` (a file with no picture or no subtitle band falls back to the
    speech, with a warning). Each cue's source is recorded in asr.json's `cues`."""
    from dubkit.asr.biasing import BiasTerms

    if source not in SOURCES:
        raise ConfigError(f"--source {source}: choose {', '.join(SOURCES)}")
    started = time.perf_counter()
    picture, note = read_picture(media, source) if source != "asr" else (None, None)
    if source == "ocr" and picture is not None:
        return _transcribe_picture(media, outdir, picture, profile, run_meta, terms, fps, started)
    if transcriber is None:
        raise DubkitError(f"--source {source}: no recogniser loaded to transcribe {media}")
    from dubkit.adapters.audio import spool_audio

    bias = None
    if terms is not None:
        from dubkit.adapters.chinese import (
            pinyin_alternatives,
            pinyin_readings,
            split_dictionary_words,
        )

        bias = BiasTerms.from_glossary(
            terms, pinyin_readings, split_dictionary_words, pinyin_alternatives
        )
    # The sound is spooled to a temporary file and recognised block by block: an hour of
    # programme never sits in memory (its samples are gone when this block ends).
    with spool_audio(media, too_long(media)) as audio:
        transcript = transcriber.transcribe(audio, options, progress, bias)
    if picture is not None and transcript.language not in CHINESE:
        # the speech cannot fill gaps in Chinese subtitles, and its SRT would take the name
        # of the picture's English (STEM.en.srt): the picture is read alone
        name = LANGUAGE_NAMES.get(transcript.language, transcript.language)
        said = (
            f"{display_path(media)}: --source auto: the speech sounds like {name} "
            f"({transcript.language}), not Chinese; the subtitles are the picture's alone, as "
            f"--source ocr reads them"
        )
        return _transcribe_picture(
            media, outdir, picture, profile, run_meta, terms, fps, started,
            [*audio.warnings, said],
        )  # fmt: skip
    normalised = 0
    if transcript.language == "zh" and terms is not None:
        transcript, normalised = canonical_transcript(transcript, terms)
    if transcript.language in CHINESE:
        from dubkit.adapters.chinese import split_words

        protected = [t.zh for t in terms.terms] if terms is not None else []
        transcript = resegment_transcript(transcript, split_words, protected)
    rate = fps or (picture.info.fps if picture is not None else audio.frame_rate)
    profile = at_rate(profile, rate)
    cues = segment_cues(transcript.segments, profile)
    fused = tuple(Fused(c, ASR) for c in cues)
    if picture is not None:
        burned, more = canonical_burned(picture.cues, terms)
        fused, normalised = fuse(burned, cues), normalised + more
        cues = tuple(f.cue for f in fused)
    warnings = [*audio.warnings, *transcript.warnings, *([note] if note else [])]
    warnings += picture.warnings if picture is not None else ()
    if not transcript.segments and not cues:
        warnings.append(f"{display_path(media)}: no speech found; wrote an empty subtitle file")
    elif (foreign := foreign_language_note(media, options.language, transcript)) is not None:
        warnings.append(foreign)
    settings = {
        **run_meta,
        "options": asdict(options),
        "glossary": {"terms": terms.label, "variants_normalised": normalised} if terms else None,
        "profile": asdict(profile),
    }
    srt_path, json_path, read = _write_transcription(
        media, outdir, transcript, cues, fused, picture, warnings, settings,
        source if picture is not None else "asr",
    )  # fmt: skip
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
        fps=profile.fps,
        cue_records=tuple(cues),
        source=source if picture is not None else "asr",
        cue_sources=tuple(f.source for f in fused),
        cue_en=tuple(f.en for f in fused),
        **written_picture_files(media, outdir, read),
    )


SOURCES = ("asr", "ocr", "auto")  # --source: the speech, the burned subtitles, both


def too_long(media: Path) -> Callable[[int], MediaError]:
    """The error for `media` once its sound passes C.MAX_PROGRAMME_MS (`spool_audio`)."""

    def error(ms: int) -> MediaError:
        return MediaError(
            f"{display_path(media)}: {clock(ms)} long or more, longer than {PROGRAMME_END}, "
            f"the last time ASS subtitles can hold; dubkit takes programmes under 10 hours: "
            f"split this one into parts (ffmpeg -ss and -t)",
            path=media,
        )

    return error


def check_source_media(media: Path, source: str) -> None:
    """What `--source` needs of `media`, checked before any model loads (a MediaError saying
    what is missing and the fix): its picture under ocr (no sound needed), its sound
    otherwise; under auto a file without sound is told to read its picture alone."""
    if source == "ocr":
        from dubkit.adapters.ocr import probe_video

        probe_video(media)
        return
    from dubkit.adapters.audio import check_media, has_audio

    if source == "auto" and not has_audio(media):
        raise MediaError(
            f"{display_path(media)}: has no sound, and --source auto hears the speech as well "
            f"as reading the picture; read the picture alone with --source ocr",
            path=media,
        )
    check_media(media)


@dataclass(frozen=True, slots=True)
class Picture:
    """What `dubkit ocr`'s reading found in a programme's picture."""

    info: Any  # adapters.ocr.VideoInfo
    band: Any  # burned.records.Band
    cues: tuple[BurnedCue, ...]
    warnings: tuple[str, ...] = ()  # what went wrong reading it (a truncated file)

    def document(self, media: Path, written: dict[str, str] | None = None) -> bytes:
        """STEM.ocr.json, as `dubkit ocr` writes it; `written`: the sha256 of each SRT
        `dubkit ocr` wrote with it, by name (ocr_records reads it back)."""
        from dubkit.fsutil import json_bytes

        size = (self.info.width, self.info.height)
        doc = ocr_document(
            str(media), round(self.info.fps, 3), size, self.band, self.cues, self.warnings
        )
        return json_bytes(doc if written is None else {**doc, "written": written})


def read_picture(media: Path, source: str) -> tuple[Picture | None, str | None]:
    """The subtitles burned into `media`'s picture, or why there are none. Under
    `--source ocr` no picture, no subtitle band in it, or a band in which no subtitle could
    be read is a MediaError; under `auto` it is a note (the speech alone is transcribed)."""
    from dubkit.adapters.ocr import find_subtitle_band, probe_video, read_burned

    shown = display_path(media)
    try:
        info = probe_video(media)
    except MediaError:
        if source == "ocr":
            raise
        return (
            None,
            f"{shown}: --source auto: no picture to read subtitles from; transcribed the "
            f"speech only",
        )
    band = find_subtitle_band(media, info)
    if band is None:
        if source == "ocr":
            raise MediaError(
                f"{shown}: no burned subtitles found (no line of text keeps appearing low in "
                f"the picture); transcribe the speech with --source asr (or auto)",
                path=media,
            )
        return (
            None,
            f"{shown}: --source auto: no burned subtitles found in the picture; transcribed "
            f"the speech only",
        )
    warnings: list[str] = []
    cues, _calls = read_burned(media, info, band, warnings=warnings)
    if not cues:  # text was seen low in the picture, but no subtitle could be read there
        if source == "ocr":
            raise MediaError(
                f"{shown}: no burned subtitles read (none of the text found low in the picture "
                f"reads as a subtitle); transcribe the speech with --source asr (or auto)",
                path=media,
            )
        return (
            None,
            f"{shown}: --source auto: no burned subtitles read in the picture; transcribed "
            f"the speech only",
        )
    return Picture(info, band, cues, tuple(warnings)), None


def picture_files(
    media: Path, outdir: Path, picture: Picture, meta: dict[str, Any]
) -> dict[Path, bytes]:
    """STEM.ocr.json and, when the picture has English lines, STEM.en.srt (as `dubkit ocr`
    writes them: every cue with English, timed as read, so those with Chinese too have the
    times of their cue in STEM.zh.srt). asr.json's `meta` names the English file:
    `--pivot-from burned` translates from it (a person may correct it there)."""
    files = {outdir / f"{media.stem}.ocr.json": picture.document(media)}
    english = srt_cues(picture.cues, "en")
    if english:
        path = outdir / f"{media.stem}.en.srt"
        files[path] = render_srt(english).encode("utf-8")
        meta["english_srt"] = path.name
        # what was written, so that a person's correction is told from it (keep_corrected)
        meta["english_srt_sha256"] = hashlib.sha256(files[path]).hexdigest()
    return files


EDITED = "edited"  # STEM.en.edited.srt: a corrected SRT set aside, never overwritten


def picture_records(outdir: Path, stem: str) -> dict[str, set[str]]:
    """File name → sha256 of the picture's English dubkit last wrote there, as STEM.asr.json
    records it (`english_srt`, `english_srt_sha256`)."""
    recorded = recognition_record(outdir / f"{stem}.asr.json")
    if recorded is not None and recorded.english_srt and recorded.english_srt_sha256:
        return {recorded.english_srt: {recorded.english_srt_sha256}}
    return {}


def pivot_records(outdir: Path, stem: str) -> dict[str, set[str]] | None:
    """File name → sha256 of each pivot SRT translation last wrote there, as STEM.qa.json
    records it (`pivot_srts`); None when there is no such record (no qa.json, or one from
    before dubkit kept it)."""
    doc = _artefact(outdir / f"{stem}.qa.json")
    recorded = doc.get("pivot_srts") if doc is not None else None
    if not isinstance(recorded, dict):
        return None
    return {k: {v} for k, v in recorded.items() if isinstance(k, str) and isinstance(v, str)}


def keep_corrected(path: Path, new: bytes, written: set[str], then: str) -> str | None:
    """Before `path` is replaced with `new`: a file there that is neither `new` nor one that
    dubkit wrote (its sha256 in `written`) was changed by a person, so it is renamed
    STEM.en.edited.srt (STEM.en.edited.2.srt when that is taken: a correction is never
    overwritten) and the one-line warning returned; `then` says what to do with it."""
    try:
        old = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        old = None
    if old is None or old == new or hashlib.sha256(old).hexdigest() in written:
        return None
    base = path.name.removesuffix(path.suffix)
    n, aside = 1, path.with_name(f"{base}.{EDITED}{path.suffix}")
    while aside.exists() or aside.is_symlink():
        n += 1
        aside = path.with_name(f"{base}.{EDITED}.{n}{path.suffix}")
    try:
        os.replace(path, aside)
    except OSError as exc:
        raise OutputError(
            f"{display_path(path)}: changed since dubkit wrote it, and cannot be set aside "
            f"({display_text(exc.strerror or str(exc))}); move it away and run again",
            path=path,
        ) from exc
    return f"{display_path(path)}: changed since dubkit wrote it; kept as {aside.name}{then}"


def keep_corrected_english(media: Path, outdir: Path, files: dict[Path, bytes]) -> list[str]:
    """The picture's English about to be written again (STEM.en.srt in `files`): a copy a
    person corrected since dubkit wrote it is set aside first (keep_corrected)."""
    path = outdir / f"{media.stem}.en.srt"
    if path not in files:
        return []
    written = picture_records(outdir, media.stem).get(path.name, set())
    written |= (pivot_records(outdir, media.stem) or {}).get(path.name, set())
    then = (
        f" (the English read from the picture again is written in its place; to translate "
        f"from the correction, move it back and run `dubkit translate {media.stem}.zh.srt "
        f"--pivot-from burned`)"
    )
    note = keep_corrected(path, files[path], written, then)
    return [note] if note is not None else []


def ocr_records(outdir: Path, stem: str) -> dict[str, str]:
    """File name → sha256 of each SRT `dubkit ocr` last wrote there, as STEM.ocr.json records
    it (`written`); empty when it records none (written by transcribe, or before dubkit kept
    the record)."""
    doc = _artefact(outdir / f"{stem}.ocr.json")
    recorded = doc.get("written") if doc is not None else None
    if not isinstance(recorded, dict):
        return {}
    return {k: v for k, v in recorded.items() if isinstance(k, str) and isinstance(v, str)}


@dataclass(frozen=True, slots=True)
class OcrResult:
    """`dubkit ocr` on one file: its reading, the files written, how long it took, and what
    to tell (what went wrong reading it, a corrected SRT set aside)."""

    media: Path
    info: Any  # adapters.ocr.VideoInfo
    band: Band
    cues: tuple[BurnedCue, ...]
    files: tuple[Path, ...]
    seconds: float
    ocr_calls: int = 0
    warnings: tuple[str, ...] = ()


def ocr_file(
    media: Path,
    outdir: Path,
    band: Band | None = None,
    sample_fps: float = SAMPLE_FPS,
    progress: ProgressFn | None = None,
) -> OcrResult:
    """`dubkit ocr`: the subtitles burned into `media` (in `band`, or where text keeps
    appearing), written to STEM.zh.srt (when any cue has a Chinese line),
    STEM.en.srt (when any has an English line) and STEM.ocr.json (always, so the run is
    recorded) in `outdir`, all or none. ocr.json records the sha256 of each SRT written
    (`written`); an SRT there that is neither what dubkit last wrote (that record, asr.json's
    English, qa.json's pivots) nor the new reading is set aside first (keep_corrected)."""
    from dubkit.adapters.ocr import read_file

    started = time.perf_counter()
    reading = read_file(media, band, sample_fps, progress)
    stem = media.stem
    files: dict[Path, bytes] = {}
    for language in ("zh", "en"):
        found = srt_cues(reading.cues, language)
        if found:
            files[outdir / f"{stem}.{language}.srt"] = render_srt(found).encode("utf-8")
    before = ocr_records(outdir, stem)
    recorded = {name: {digest} for name, digest in before.items()}
    for more in (picture_records(outdir, stem), pivot_records(outdir, stem) or {}):
        for name, digests in more.items():
            recorded[name] = recorded.get(name, set()) | digests
    then = " (the picture's reading is written in its place)"
    notes = [
        note
        for path, data in files.items()
        if (note := keep_corrected(path, data, recorded.get(path.name, set()), then))
    ]
    # SRTs not written this time keep the record of what dubkit last wrote there
    written = {**before, **{p.name: hashlib.sha256(d).hexdigest() for p, d in files.items()}}
    picture = Picture(reading.info, reading.band, reading.cues, reading.warnings)
    files[outdir / f"{stem}.ocr.json"] = picture.document(media, written)
    atomic_write_all(files)
    return OcrResult(
        media,
        reading.info,
        reading.band,
        reading.cues,
        tuple(files),
        time.perf_counter() - started,
        reading.ocr_calls,
        (*reading.warnings, *notes),
    )


def written_picture_files(media: Path, outdir: Path, files: dict[Path, bytes]) -> dict[str, Any]:
    """TranscribeResult's `en_srt` and `ocr_json`: those of `files` written."""
    en, ocr = outdir / f"{media.stem}.en.srt", outdir / f"{media.stem}.ocr.json"
    return {"en_srt": en if en in files else None, "ocr_json": ocr if ocr in files else None}


def canonical_burned(
    cues: Sequence[BurnedCue], terms: TermSet | None
) -> tuple[tuple[BurnedCue, ...], int]:
    """The picture's Chinese with glossary variants in their canonical form, as the speech's
    is; and how many were replaced."""
    if terms is None:
        return tuple(cues), 0
    out, replaced = [], 0
    for cue in cues:
        lines = []
        for line in cue.zh.split("\n"):
            text, matches = canonical_text(line, terms)
            lines.append(text)
            replaced += len(matches)
        out.append(replace(cue, zh="\n".join(lines)))
    return tuple(out), replaced


def flagged_entries(cues: Sequence[Cue]) -> list[dict[str, Any]]:
    """asr.json's `flagged_cues`: the cues of STEM.zh.srt whose text transcription flagged
    (the recogniser's loops, a burned subtitle with no speech under it). `translate` reads
    them back so that QA still knows, unless someone has since edited the cue."""
    return [
        {"start_ms": c.start_ms, "end_ms": c.end_ms, "text": c.text, "flags": list(c.flags)}
        for c in cues
        if recognition_flags(c.flags)
    ]


def cue_entries(fused: Sequence[Fused]) -> list[dict[str, Any]]:
    """asr.json's `cues`: each cue of STEM.zh.srt with its source (ocr or asr), its flags and
    the English read with it (when the picture had some)."""
    return [
        {
            "index": f.cue.index,
            "start_ms": f.cue.start_ms,
            "end_ms": f.cue.end_ms,
            "text": f.cue.text,
            "source": f.source,
            "flags": list(f.cue.flags),
            **({"en": f.en} if f.en else {}),
        }
        for f in fused
    ]


def _transcribe_picture(
    media: Path,
    outdir: Path,
    picture: Picture,
    profile: Profile,
    run_meta: dict[str, Any],
    terms: TermSet | None,
    fps: float | None,
    started: float,
    notes: Sequence[str] = (),
) -> TranscribeResult:
    """`--source ocr`: the cues read from the picture, no speech recognition (`notes`: why,
    when `auto` fell back to it)."""
    duration = picture.info.duration_ms
    if duration > C.MAX_PROGRAMME_MS:
        raise MediaError(
            f"{display_path(media)}: {clock(duration)} long, longer than {PROGRAMME_END}; "
            f"split it into parts (ffmpeg -ss and -t)",
            path=media,
        )
    profile = at_rate(profile, fps or picture.info.fps)
    burned, normalised = canonical_burned(picture.cues, terms)
    fused = picture_cues(burned)
    cues = [f.cue for f in fused]
    warnings = [*notes, *picture.warnings]
    if not cues:  # the picture's subtitles are all English: STEM.en.srt holds them
        warnings.append(
            f"{display_path(media)}: no Chinese in the burned subtitles read; wrote an empty "
            f"Chinese subtitle file"
        )
    transcript = Transcript((), "zh", 1.0, duration)
    settings = {
        **run_meta,
        "options": None,
        "glossary": {"terms": terms.label, "variants_normalised": normalised} if terms else None,
        "profile": asdict(profile),
    }
    srt_path, json_path, read = _write_transcription(
        media, outdir, transcript, cues, fused, picture, warnings, settings, OCR
    )
    return TranscribeResult(
        media=media,
        srt=srt_path,
        asr_json=json_path,
        cues=len(cues),
        duration_ms=duration,
        language="zh",
        detected_language=None,
        detected_probability=None,
        warnings=tuple(warnings),
        seconds=time.perf_counter() - started,
        fps=profile.fps,
        cue_records=tuple(cues),
        source=OCR,
        cue_sources=tuple(f.source for f in fused),
        cue_en=tuple(f.en for f in fused),
        **written_picture_files(media, outdir, read),
    )


def _write_transcription(
    media: Path,
    outdir: Path,
    transcript: Transcript,
    cues: Sequence[Cue],
    fused: Sequence[Fused],
    picture: Picture | None,
    warnings: list[str],
    settings: dict[str, Any],
    source: str,
) -> tuple[Path, Path, dict[Path, bytes]]:
    """STEM.LANG.srt and STEM.asr.json (its meta: what every transcription records, with the
    run's `settings` and the cues' `source`), and the picture's files when it was read, all or
    none. A corrected STEM.en.srt is set aside first, said in `warnings` (which asr.json
    holds). The SRT's and asr.json's paths, and the picture's files written."""
    srt_path, json_path = output_paths(media, outdir, transcript.language)
    meta = {
        "dubkit_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "media": display_path(media),
        **settings,
        "warnings": warnings,
        "flagged_cues": flagged_entries(cues),
        "source": source,
        "cues": cue_entries(fused),
    }
    # first: it names STEM.en.srt in asr.json's meta
    read = picture_files(media, outdir, picture, meta) if picture is not None else {}
    warnings += keep_corrected_english(media, outdir, read)  # before asr.json is replaced
    atomic_write_all(
        {
            json_path: render_asr_json(transcript, meta).encode("utf-8"),
            srt_path: render_srt(cues).encode("utf-8"),
            **read,
        }
    )
    return srt_path, json_path, read


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
        f"{display_path(media)}: speech sounds like {name} ({detected}, p={p:.2f}), not {wanted}; "
        f"transcribed as {requested} anyway — check the file, or pass --language auto"
    )


# ------------------------------------------------------------------------------ translation


@dataclass(frozen=True, slots=True)
class TranslateSettings:
    """How a Chinese subtitle file becomes Urdu (and optionally English) subtitles."""

    source: str = "zh"
    target: str = "ur"
    pivot_srt: bool = False
    bom: bool = False  # some broadcast players want a UTF-8 BOM
    style: UrduStyle = field(default_factory=UrduStyle)
    encoding: str | None = None  # input encoding; None sniffs UTF-8/UTF-16 BOMs
    # "sentence": cues of one sentence are translated together and the Urdu is laid back
    # over their time (profile rules applied); "cue": one translation per cue, same timing.
    layout: str = "sentence"
    profile: Profile = field(default_factory=lambda: BUILTIN_PROFILES[URDU_PROFILE])
    # Besides STEM.ur.srt: WebVTT, ASS styled for an Urdu font, and a zh+ur bilingual SRT.
    formats: tuple[str, ...] = ("vtt", "ass", "bilingual")
    # "mt": a pivot route's first step (zh→en) is machine translation; "burned": the English
    # burned into the picture with a cue (STEM.en.srt, see burned_english) stands in for it
    # where there is.
    pivot_from: str = "mt"
    # The Urdu ASS of a programme with burned subtitles (their geometry known): False, above
    # them; True (`--cover-burned`), over them, on opaque boxes hiding them while each is on
    # screen, so that the ASS alone is the deliverable.
    cover_burned: bool = False


@dataclass(frozen=True, slots=True)
class TranslateResult:
    source: Path
    outputs: dict[str, Path]  # language → SRT written
    cues: int
    flagged: int
    approved: int
    steps: tuple[StepStats, ...]
    repairs: tuple[str, ...]
    seconds: float
    adherence: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # warnings (translation_notes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "adherence": self.adherence,
            "notes": list(self.notes),
            "source": display_path(self.source),
            "outputs": {k: display_path(v) for k, v in self.outputs.items()},
            "cues": self.cues,
            "flagged": self.flagged,
            "approved": self.approved,
            "memory_hits": sum(s.memory_hits for s in self.steps),
            "translated": sum(s.translated for s in self.steps),
            "steps": [asdict(s) for s in self.steps],
            "repairs": list(self.repairs),
            "seconds": round(self.seconds, 3),
        }


def translation_paths(
    stem: str,
    outdir: Path,
    settings: TranslateSettings,
    pivots: Sequence[str] = (),
    picture_english: bool = False,
) -> dict[str, Path]:
    """STEM.ur.srt, and with pivot_srt STEM.LANG.srt for each pivot language of the route,
    or STEM.LANG.pivot.srt where that name is not the machine pivot's to take
    (pivot_name_taken): English when the picture had English lines (`picture_english`:
    STEM.en.srt is theirs), or a STEM.LANG.srt there that translation did not write."""
    paths = {settings.target: outdir / f"{stem}.{settings.target}.srt"}
    if settings.pivot_srt:
        for lang in pivots:
            kept = pivot_name_taken(stem, outdir, lang, picture_english)
            paths[lang] = outdir / f"{stem}.{lang}{'.pivot' if kept else ''}.srt"
    return paths


def pivot_name_taken(stem: str, outdir: Path, lang: str, picture_english: bool) -> bool:
    """Whether the machine pivot must not be written as STEM.LANG.srt: the picture had
    English lines (STEM.en.srt is theirs), or a STEM.LANG.srt is there that is not the pivot
    translation last wrote (qa.json's `pivot_srts`): the picture's English of an earlier
    run (`--source asr` now), `dubkit ocr`'s, a person's, a pivot someone corrected. A file
    with no record (an older qa.json) is kept too: the pivot goes beside it."""
    path = outdir / f"{stem}.{lang}.srt"
    if lang == "en" and picture_english:
        return True
    if not (path.exists() or path.is_symlink()):
        return False
    recorded = pivot_records(outdir, stem) or {}
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return True
    return digest not in recorded.get(path.name, set())


@dataclass(frozen=True, slots=True)
class OnScreen:
    """What the picture holds besides the speech, for translation's outputs: whether it had
    English lines (STEM.en.srt is theirs), and where its burned subtitles are (the Urdu ASS
    is placed clear of them, or over them with `cover_burned`; None: none known)."""

    english: bool = False
    geometry: BurnedGeometry | None = None


@dataclass(frozen=True, slots=True)
class Translated:
    """What translate_cues wrote and made."""

    paths: dict[str, Path]
    cues: tuple[Cue, ...]  # the target-language cues, as written
    pivot_cues: tuple[tuple[Cue, ...], ...]  # per pivot step (a direct route has none)
    result: TranslationResult
    qa: dict[str, Any]


def translate_cues(
    cues: Sequence[Cue],
    stem: str,
    outdir: Path,
    steps: Sequence[Translator],
    memory: Memory | None,
    settings: TranslateSettings,
    terms: TermSet | None = None,
    english: Sequence[str] | None = None,
    screen: OnScreen | None = None,
) -> Translated:
    """Translate cues through the route and write STEM.ur.srt (and the pivots' SRTs; a direct
    route has none) and STEM.qa.json (glossary adherence, flags). Cues ending after
    C.MAX_PROGRAMME_MS are refused before any translation work: ASS could not hold them.
    `english`: per cue, the English burned into the picture with it ("" for none); with
    `settings.pivot_from` "burned" it replaces the zh→en step where a unit (cue, or sentence
    whose cues all have it) has it. `screen`: what else the picture holds (OnScreen)."""
    check_programme_end(cues, outdir / f"{stem}.{settings.source}.srt")
    texts = [join_lines(cue.lines, settings.source) for cue in cues]
    pivots, pivot_qa = burned_pivots(cues, english, steps, settings)
    screen = screen or OnScreen(bool(english) and any(english or ()))
    if settings.layout == "sentence":
        return _translate_sentences(
            cues, texts, stem, outdir, steps, memory, settings, terms, pivots, pivot_qa, screen
        )
    result = translate_texts(translation_texts(cues, settings), steps, memory, terms, pivots)
    target_cues = translated_cues(
        cues, result.final, settings.target, settings.style, *_line_limits(settings)
    )
    notes = [
        (*(result.notes[k] if result.notes else ()), *recognition_flags(cue.flags))
        for k, cue in enumerate(cues)
    ]
    target_cues = tuple(
        replace(c, flags=tuple(dict.fromkeys((*c.flags, *n))))
        for c, n in zip(target_cues, notes, strict=True)
    )
    qa = glossary_report(cues, target_cues, texts, terms, settings.target)
    mark_pivots(qa, pivots, pivot_qa)
    pivot_cues = [
        translated_cues(cues, out, lang, None, *_line_limits(settings))
        for lang, out in zip([s.target for s in steps[:-1]], result.outputs, strict=False)
    ]
    paths, written = _write_translation(
        stem, outdir, steps, settings, cues, target_cues, pivot_cues, qa, None, screen
    )
    return Translated(paths, written, tuple(tuple(p) for p in pivot_cues), result, qa)


def translation_texts(cues: Sequence[Cue], settings: TranslateSettings) -> list[str]:
    """What goes through the route for `cues`, in order: each cue's text, or each sentence's
    under the sentence layout. The memory's approved lines are looked up by these texts."""
    texts = [join_lines(cue.lines, settings.source) for cue in cues]
    if settings.layout == "sentence":
        return [s.text for s in _sentences(cues, texts, settings)]
    return texts


def _sentences(cues: Sequence[Cue], texts: Sequence[str], settings: TranslateSettings) -> Any:
    return group_sentences(cues, texts, settings.profile.pause_split_ms)


def burned_pivots(
    cues: Sequence[Cue],
    english: Sequence[str] | None,
    steps: Sequence[Translator],
    settings: TranslateSettings,
) -> tuple[list[str | None] | None, dict[str, Any]]:
    """Per unit translated (cue, or sentence under the sentence layout), the English burned
    into the picture that replaces the route's zh→en step (None: machine translation), and
    what qa.json says about it. A sentence uses it only when each of its cues has English
    (joined with spaces); the route must be zh→en→target."""
    if settings.pivot_from != "burned":
        return None, {"from": "mt"}
    if len(steps) != 2 or steps[0].source != settings.source or steps[0].target != "en":
        route = "→".join([steps[0].source, *(s.target for s in steps)]) if steps else "none"
        note = f"--pivot-from burned: the route {route} has no English step; translated as usual"
        return None, {"from": "mt", "note": note}
    found = [e.strip() for e in english] if english is not None else []
    if len(found) != len(cues) or not any(found):
        note = "--pivot-from burned: no English burned into the picture; translated as usual"
        return None, {"from": "mt", "note": note}
    if settings.layout == "sentence":
        texts = [join_lines(cue.lines, settings.source) for cue in cues]
        sentences = _sentences(cues, texts, settings)
        units = [found[s.first : s.last] for s in sentences]
        pivots = [" ".join(u) if all(u) else None for u in units]
    else:
        pivots = [e or None for e in found]
    used = sum(1 for p in pivots if p)
    return pivots, {"from": "burned", "units": used, "of": len(pivots)}


def mark_pivots(
    qa: dict[str, Any], pivots: Sequence[str | None] | None, pivot_qa: dict[str, Any]
) -> None:
    """qa.json: `pivot` (where the English came from) and, per unit translated from the
    burned English, `"pivot": "burned"`."""
    qa["pivot"] = pivot_qa
    if pivots is not None:
        for entry, pivot in zip(qa["cues"], pivots, strict=True):
            if pivot:
                entry["pivot"] = "burned"


def burned_english(
    cues: Sequence[Cue], asr_json: Path, english: Path | None = None
) -> tuple[str, ...] | None:
    """Per cue, the English burned into the picture with it; None when the asr.json
    `transcribe --source ocr|auto` wrote records none. From the STEM.en.srt that asr.json
    names, or `english` (where a person may have corrected the reading), matched by times;
    when that file is gone, from asr.json's `cues`, matched by times and text (an edited cue
    has none). SubtitleParseError names the line of an English SRT that cannot be read."""
    english = english or english_srt(asr_json)
    if english is not None and english.is_file():
        said = {(c.start_ms, c.end_ms): " ".join(c.lines) for c in read_srt(english).cues}
        return tuple(said.get((c.start_ms, c.end_ms), "") for c in cues)
    doc = _artefact(asr_json)
    entries = doc.get("cues") if doc is not None else None
    found: dict[tuple[int, int, str], str] = {}
    for e in entries if isinstance(entries, list) else ():
        if not isinstance(e, dict):
            continue
        a, b, text, en = e.get("start_ms"), e.get("end_ms"), e.get("text"), e.get("en")
        if (
            isinstance(a, int)
            and isinstance(b, int)
            and isinstance(text, str)
            and isinstance(en, str)
        ):
            found[(a, b, text)] = en
    if not found:
        return None
    return tuple(found.get((c.start_ms, c.end_ms, c.text), "") for c in cues)


def read_from_picture(asr_json: Path) -> bool:
    """Whether the transcription that wrote `asr_json` read the picture (--source ocr or
    auto, a subtitle band found): it wrote STEM.ocr.json beside it then."""
    recorded = recognition_record(asr_json)
    return recorded is not None and recorded.source in (OCR, "auto")


def heard_language(asr_json: Path) -> str | None:
    """The language the transcription that wrote `asr_json` heard (None: no asr.json, or
    it says none)."""
    recorded = recognition_record(asr_json)
    return recorded.language if recorded is not None else None


def english_srt(asr_json: Path) -> Path | None:
    """The STEM.en.srt beside `asr_json` that transcription wrote from the English lines of
    the picture, as asr.json names it (None: it names none)."""
    recorded = recognition_record(asr_json)
    named = recorded.english_srt if recorded is not None else None
    if named and named == Path(named).name:
        return asr_json.with_name(named)
    return None


def picture_english(asr_json: Path, beside: Path) -> Path | None:
    """The SRT of the English read from the picture for the Chinese SRT that `asr_json` is
    beside: the one asr.json names, else, where no transcription wrote an asr.json (the
    outputs of `dubkit ocr`), `beside` (STEM.en.srt) when it is there and is not a machine
    pivot translation wrote."""
    named = english_srt(asr_json)
    if named is not None or asr_json.exists() or not beside.is_file():
        return named
    recorded = pivot_records(beside.parent, beside.name.removesuffix(".en.srt")) or {}
    return None if beside.name in recorded else beside


def on_screen(asr_json: Path, ocr_json: Path) -> OnScreen:
    """What the picture gave a programme's translation, from the files its transcription
    wrote: whether STEM.en.srt holds its English lines, and its burned subtitles' places
    (STEM.ocr.json, read only when asr.json says this transcription read the picture, or
    when there is no asr.json: `dubkit ocr` wrote it; an older file beside a newer
    transcription may be another programme's)."""
    from dubkit.episode.burn import read_geometry

    read = (read_from_picture(asr_json) or not asr_json.exists()) and ocr_json.is_file()
    return OnScreen(english_srt(asr_json) is not None, read_geometry(ocr_json) if read else None)


def translation_notes(where: Path, qa: dict[str, Any]) -> list[str]:
    """The one-line warnings a translation leaves in its qa.json, as `run`, `batch` and
    `translate` print and report them: why the burned English was not used, where the ASS
    went instead of over the burned subtitles, pivot SRTs a person had changed (set aside)."""
    notes = [qa.get(k, {}).get("note") for k in ("pivot", "placement")]
    said = [f"{display_path(where)}: {n}" for n in notes if isinstance(n, str)]
    return said + [n for n in qa.get("set_aside", []) if isinstance(n, str)]


def check_programme_end(cues: Sequence[Cue], source: Path) -> None:
    """OutputError naming the cue of `source` (the Chinese SRT: run writes it before it
    translates) that ends after C.MAX_PROGRAMME_MS (9:59:59.99): its ASS subtitles could not
    be written, and finding that out after translating would lose the work."""
    late = next((c for c in cues if c.end_ms > C.MAX_PROGRAMME_MS), None)
    if late is not None:
        shown = ends_too_late(clock(late.end_ms))
        raise OutputError(f"{display_path(source)}: cue {late.index} {shown}", path=source)


def within_programme(cue: Cue) -> Cue:
    """`cue` ending by C.MAX_PROGRAMME_MS: layout may lengthen the last cues for reading time
    past the end of a programme that itself ends in time; there they end, in every format."""
    if cue.end_ms <= C.MAX_PROGRAMME_MS:
        return cue
    return replace(cue, start_ms=min(cue.start_ms, C.MAX_PROGRAMME_MS), end_ms=C.MAX_PROGRAMME_MS)


def _line_limits(settings: TranslateSettings) -> tuple[int, int]:
    return settings.profile.max_chars_per_line, settings.profile.max_lines


def _translate_sentences(
    cues: Sequence[Cue],
    texts: Sequence[str],
    stem: str,
    outdir: Path,
    steps: Sequence[Translator],
    memory: Memory | None,
    settings: TranslateSettings,
    terms: TermSet | None,
    pivots: Sequence[str | None] | None = None,
    pivot_qa: dict[str, Any] | None = None,
    screen: OnScreen | None = None,
) -> Translated:
    """Sentence by sentence: the Chinese cues of a sentence go through MT together and the
    translation is laid back over their time span under the Urdu profile."""
    profile = settings.profile
    sentences = _sentences(cues, texts, settings)
    result = translate_texts(translation_texts(cues, settings), steps, memory, terms, pivots)
    protected = sorted({t.rendering(settings.target) for t in terms.terms}) if terms else []
    heard = [  # what the recogniser flagged in each sentence's Chinese
        tuple(dict.fromkeys(f for c in cues[s.first : s.last] for f in recognition_flags(c.flags)))
        for s in sentences
    ]
    notes = [result.notes[n] if result.notes else () for n in range(len(sentences))]
    # the recogniser's flags stay on the time of the cue they were raised for (no speech
    # under the second cue of a sentence flags the Urdu shown then, not the sentence's first)
    target_cues, sentence_of = layout_sentences(
        cues, sentences, result.final, profile, protected, settings.style, notes=notes,
        cue_flags=[recognition_flags(c.flags) for c in cues],
    )  # fmt: skip
    source_sentence = [n for n, s in enumerate(sentences) for _ in range(s.first, s.last)]
    units = [
        Cue(n, s.start_ms, s.end_ms, (s.text,), heard[n - 1]) for n, s in enumerate(sentences, 1)
    ]
    said = [
        Cue(n, s.start_ms, s.end_ms, (out,), tuple(notes))
        for n, (s, out, notes) in enumerate(
            zip(sentences, result.final, result.notes or [()] * len(sentences), strict=True), 1
        )
    ]
    qa = glossary_report(units, said, [s.text for s in sentences], terms, settings.target)
    qa["units"] = "sentences"
    mark_pivots(qa, pivots, pivot_qa or {"from": "mt"})
    pivot_profile = replace(profile, max_cps=None, language="en")
    pivot_cues = [
        layout(cues, sentences, out, pivot_profile, [], None)
        for out in result.outputs[: len(steps) - 1]
    ]
    groups = (source_sentence, list(sentence_of))
    paths, written = _write_translation(
        stem, outdir, steps, settings, cues, target_cues, pivot_cues, qa, groups, screen
    )
    return Translated(paths, written, tuple(tuple(p) for p in pivot_cues), result, qa)


def _write_translation(
    stem: str,
    outdir: Path,
    steps: Sequence[Translator],
    settings: TranslateSettings,
    source_cues: Sequence[Cue],
    target_cues: Sequence[Cue],
    pivot_cues: Sequence[Sequence[Cue]],
    qa: dict[str, Any],
    groups: tuple[Sequence[int], Sequence[int]] | None = None,
    screen: OnScreen | None = None,
) -> tuple[dict[str, Path], tuple[Cue, ...]]:
    """STEM.ur.srt (.vtt, .ass), STEM.zh-ur.srt, STEM.qa.json and the pivots' SRTs, all or
    nothing. The ASS is placed for the burned subtitles `screen` knows (qa.json's
    `placement` says how)."""
    from dubkit.episode.burn import place_deliverable
    from dubkit.subtitles.formats import render_ass, render_bilingual_srt, render_vtt

    screen = screen or OnScreen()
    pivots = [step.target for step in steps[:-1]]
    paths = translation_paths(stem, outdir, settings, pivots, screen.english)
    paths["qa"] = outdir / f"{stem}.qa.json"
    bom = "\ufeff" if settings.bom else ""
    target = settings.target
    # A cue with no text (the sentence came back empty) is listed in qa.json, not written.
    keep = [i for i, c in enumerate(target_cues) if c.lines]
    qa["untranslated_cues"] = [
        {"start_ms": c.start_ms, "end_ms": c.end_ms} for c in target_cues if not c.lines
    ]
    if groups is not None:
        groups = (groups[0], [groups[1][i] for i in keep])
    target_cues = tuple(
        replace(within_programme(target_cues[i]), index=n) for n, i in enumerate(keep, 1)
    )
    qa["target_cues"] = [  # what generation flagged, for `dubkit qa` to be read against
        {"index": c.index, "start_ms": c.start_ms, "end_ms": c.end_ms, "flags": list(c.flags)}
        for c in target_cues
    ]
    files = {paths[target]: (bom + render_srt(target_cues)).encode("utf-8")}
    if "vtt" in settings.formats:
        paths[f"{target}.vtt"] = outdir / f"{stem}.{target}.vtt"
        files[paths[f"{target}.vtt"]] = render_vtt(target_cues).encode("utf-8")
    if "ass" in settings.formats:
        paths[f"{target}.ass"] = outdir / f"{stem}.{target}.ass"
        ass = render_ass(target_cues, language=target)
        ass, qa["placement"] = place_deliverable(ass, screen.geometry, settings.cover_burned)
        files[paths[f"{target}.ass"]] = ass.encode("utf-8")
    if "bilingual" in settings.formats:
        paths["bilingual"] = outdir / f"{stem}.{settings.source}-{target}.srt"
        both = render_bilingual_srt(source_under(source_cues, target_cues, groups), target_cues)
        files[paths["bilingual"]] = (bom + both).encode("utf-8")
    pivot_files = {}
    if settings.pivot_srt:
        for lang, pcues in zip(pivots, pivot_cues, strict=True):
            pivot_files[paths[lang]] = (bom + render_srt(pcues)).encode("utf-8")
    # what was written, so that the next translation knows its own pivot from a person's file
    written = {p.name: hashlib.sha256(d).hexdigest() for p, d in pivot_files.items()}
    qa["pivot_srts"] = {**qa.pop("pivot_srts", {}), **written}  # review keeps the run's record
    recorded = pivot_records(outdir, stem) or {}
    for path, data in pivot_files.items():  # a pivot someone corrected is set aside first
        note = keep_corrected(path, data, recorded.get(path.name, set()), "")
        qa.setdefault("set_aside", []).extend([note] if note else [])
    files[paths["qa"]] = render_json(qa).encode("utf-8")
    atomic_write_all({**files, **pivot_files})
    return paths, target_cues


Flagged = tuple[int, int, str | None, tuple[str, ...]]


def _flagged_entries(path: Path, key: str) -> list[Flagged]:
    """(start_ms, end_ms, text or None, recogniser flags) of each entry under `key` of a
    dubkit artefact read back (asr.json's flagged_cues, qa.json's target_cues). A file that
    is missing, too large, not JSON or not dubkit's gives nothing; an entry of the wrong
    shape is skipped: these files only add flags, they never stop a command."""
    return _flagged_in(_artefact(path), key)


def _flagged_in(doc: dict[str, Any] | None, key: str) -> list[Flagged]:
    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    class Entry(BaseModel):
        model_config = ConfigDict(strict=True, extra="ignore")
        start_ms: int = Field(ge=0)
        end_ms: int = Field(ge=0)
        text: str | None = None
        flags: list[str]

    entries = doc.get(key) if doc is not None else None
    found: list[Flagged] = []
    for raw in entries if isinstance(entries, list) else ():
        try:
            e = Entry.model_validate(raw)
        except ValidationError:
            continue
        flags = recognition_flags(e.flags)
        if flags:
            found.append((e.start_ms, e.end_ms, e.text, flags))
    return found


def with_recognition_flags(cues: Sequence[Cue], asr_json: Path) -> tuple[Cue, ...]:
    """The recogniser's flags (from the asr.json beside a Chinese SRT) back on the cues they
    were written for: same times and same text, so an edited cue sheds its flag."""
    recorded = recognition_record(asr_json)
    flagged = {(a, b, text): flags for a, b, text, flags in recorded.flagged} if recorded else {}
    return tuple(
        replace(c, flags=tuple(dict.fromkeys((*c.flags, *flagged[key]))))
        if (key := (c.start_ms, c.end_ms, c.text)) in flagged
        else c
        for c in cues
    )


def with_translation_flags(cues: Sequence[Cue], qa_json: Path) -> tuple[Cue, ...]:
    """The recogniser's flags on the Urdu cues made from flagged Chinese, as translation
    recorded them in the qa.json beside the Urdu subtitles (matched by their times)."""
    flagged = {(a, b): flags for a, b, _, flags in _flagged_entries(qa_json, "target_cues")}
    return tuple(
        replace(c, flags=tuple(dict.fromkeys((*c.flags, *flagged[key]))))
        if (key := (c.start_ms, c.end_ms)) in flagged
        else c
        for c in cues
    )


def programme_stem(path: Path) -> str:
    """'ep1.zh.srt', 'ep1.ur.ass', 'ep1.zh-ur.srt', 'ep1.en.pivot.srt' → 'ep1': the name all
    of a programme's files share."""
    stem = path.stem
    for language in ("zh-ur", "zh", "ur", "en.pivot", "en"):
        if stem.endswith(f".{language}"):
            return stem[: -len(language) - 1]
    return stem


def translate_file(
    path: Path,
    outdir: Path,
    steps: Sequence[Translator],
    memory: Memory | None,
    settings: TranslateSettings,
    terms: TermSet | None = None,
) -> TranslateResult:
    """STEM.zh.srt → STEM.ur.srt: same cues, same timing."""
    started = time.perf_counter()
    parsed = read_srt(path, settings.encoding)
    stem = subtitle_stem(path, settings.source)
    asr_json = path.with_name(f"{stem}.asr.json")
    source_cues = with_recognition_flags(parsed.cues, asr_json)
    # what the picture gave, as run has it: its English (STEM.en.srt, which a person may
    # have corrected) and its burned subtitles' places (STEM.ocr.json) for the Urdu ASS
    screen = on_screen(asr_json, path.with_name(f"{stem}.ocr.json"))
    english_file = picture_english(asr_json, path.with_name(f"{stem}.en.srt"))
    screen = replace(screen, english=english_file is not None)
    english = None
    if settings.pivot_from == "burned":
        english = burned_english(source_cues, asr_json, english_file)
    pivots = [step.target for step in steps[:-1]]
    for out in translation_paths(stem, outdir, settings, pivots, screen.english).values():
        if out.exists() and out.resolve() == path.resolve():
            raise OutputError(
                f"{display_path(path)}: translating it would overwrite it; rename the input or "
                f"use -o",
                path=path,
            )
    # the Urdu keeps to the frames the Chinese was snapped to (the programme's own rate)
    settings = replace(settings, profile=at_rate(settings.profile, cue_rate(asr_json)))
    done = translate_cues(
        source_cues, stem, outdir, steps, memory, settings, terms, english, screen
    )
    paths, cues, result, qa = done.paths, done.cues, done.result, done.qa
    return TranslateResult(
        source=path,
        outputs=paths,
        cues=len(cues),
        flagged=sum(1 for c in cues if c.flags),
        approved=result.approved,
        steps=result.steps,
        repairs=parsed.repairs,
        seconds=time.perf_counter() - started,
        adherence=qa["adherence"],
        notes=tuple(translation_notes(path, qa)),
    )


# ------------------------------------------------------------------------------------ run


@dataclass(frozen=True, slots=True)
class RunResult:
    media: Path
    transcription: TranscribeResult
    translation: TranslateResult | None  # None when no route is installed
    run_json: Path
    seconds: float
    dubbing: dict[str, Any] | None = None


def library_versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {"dubkit": __version__}
    for dist in ("faster-whisper", "ctranslate2", "sentencepiece", "opencc", "av"):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            found[dist] = None
    return found


@dataclass(frozen=True, slots=True)
class DubSettings:
    """What `run` writes for the dubbing studio."""

    script: bool = True  # STEM.dubscript.xlsx/.csv/.html
    clips: bool = True  # clips/STEM/NNNN.wav
    handles_ms: int = 250
    clip_format: str = "wav"
    guide: bool = False  # STEM.guide.wav
    scratch_voice: bool = False  # espeak-ng's Urdu voice in the guide track

    @property
    def reads_sound(self) -> bool:
        """Whether dubbing reads the programme's sound: reference clips, the guide track."""
        return self.clips or self.guide


def dub_outputs(
    media: Path,
    outdir: Path,
    zh_cues: Sequence[Cue],
    done: Translated,
    terms: TermSet | None,
    dub: DubSettings | None,
    fps: float,
) -> dict[str, Any] | None:
    """The dubbing script, reference clips and guide track for the Urdu cues just written.
    Media with no sound (a picture read with --source ocr) gets no clips and no guide track;
    the report's `note` says so."""
    if dub is None or not (dub.script or dub.reads_sound):
        return None
    from dubkit.adapters.audio import has_audio
    from dubkit.dubbing.script import build_script

    stem = media.stem
    report: dict[str, Any] = {}
    if dub.reads_sound and not has_audio(media):
        report["note"] = (
            f"{display_path(media)}: has no sound; no reference clips and no guide track written"
        )
        dub = replace(dub, clips=False, guide=False)
    en = done.pivot_cues[0] if done.pivot_cues else None
    clips_dir = outdir / "clips" / stem
    lines = build_script(
        done.cues, zh_cues, en, terms, clips_dir_name=f"clips/{stem}" if dub.clips else None
    )
    if dub.script:
        from dubkit.dubbing.files import write_script_files

        written = write_script_files(lines, outdir, stem, fps, title=stem)
        report["script"] = {k: display_path(v) for k, v in written.items()}
        report["lines"] = len(lines)
    if dub.clips:
        from dubkit.adapters.dubaudio import write_clips

        clips = write_clips(
            media, done.cues, clips_dir, handles_ms=dub.handles_ms, fmt=dub.clip_format
        )
        report["clips"] = {"folder": display_path(clips_dir), "count": len(clips)}
    if dub.guide:
        from dubkit.adapters.dubaudio import write_guide_track
        from dubkit.text.urdu import strip_bidi

        guide = write_guide_track(
            media,
            done.cues,
            outdir / f"{stem}.guide.wav",
            voice=dub.scratch_voice,
            texts=[strip_bidi(c.text) for c in done.cues],
        )
        report["guide"] = {
            "path": display_path(guide.path),
            "duration_ms": guide.duration_ms,
            "loudness_lufs": guide.loudness_after,
            "target_lufs": guide.target_lufs,
            "true_peak_dbtp": guide.peak_dbfs,
            "limited": guide.limited,
            "lines_not_fitting": [list(x) for x in guide.lines_not_fitting],
        }
    return report


def set_aside_stale(stem: str, outdir: Path, keep: Sequence[Path] = ()) -> list[str]:
    """The translation outputs an earlier run left for `stem` no longer match the Chinese
    just written: each is renamed with `.stale` before its suffix (STEM.ur.stale.srt,
    STEM.ur.stale.ass, STEM.qa.stale.json; nothing is deleted) and a line says so. They are
    the Urdu in every format, the bilingual SRT, the pivots qa.json records (STEM.en.srt
    only when it was the machine pivot: never the picture's English), STEM.en.pivot.srt and
    qa.json itself. `keep`: files just written, left where they are."""
    recorded = pivot_records(outdir, stem)
    # an older qa.json records no pivot: its STEM.en.srt was the machine pivot, as before
    # (with no qa.json at all, no translation wrote one)
    older = recorded is None and (outdir / f"{stem}.qa.json").is_file()
    pivots = list(recorded or ()) + ([f"{stem}.{C.MT_PIVOT}.srt"] if older else [])
    names = [
        *(f"{stem}.ur.{ext}" for ext in ("srt", "vtt", "ass")),
        f"{stem}.zh-ur.srt",
        *pivots,
        f"{stem}.{C.MT_PIVOT}.pivot.srt",
        f"{stem}.qa.json",  # last: the pivots were read from it
    ]
    notes = []
    for name in dict.fromkeys(names):
        old = outdir / name
        if old in keep or name != Path(name).name or not old.is_file():
            continue
        aside = old.with_name(f"{old.stem}.stale{old.suffix}")
        try:
            os.replace(old, aside)
        except OSError as exc:
            notes.append(
                f"{display_path(old)}: from an earlier run and no longer matches "
                f"({display_text(str(exc))})"
            )
            continue
        notes.append(
            f"{display_path(old)}: from an earlier run, no longer matches; renamed "
            f"{display_text(aside.name)}"
        )
    return notes


def source_under(
    source: Sequence[Cue],
    target: Sequence[Cue],
    groups: tuple[Sequence[int], Sequence[int]] | None = None,
) -> tuple[Cue, ...]:
    """The source cues re-cut to the target's timing: each source cue goes, whole, to the
    target cue it overlaps most (so every line appears once, in order), for bilingual files.
    With `groups` (the sentence of each source cue, of each target cue) only a target cue of
    the same sentence is chosen."""
    lines: list[list[str]] = [[] for _ in target]
    for k, cue in enumerate(source):
        if not target:
            break
        choices = list(range(len(target)))
        if groups is not None:
            choices = [i for i in choices if groups[1][i] == groups[0][k]] or choices
        overlap = {i: _overlap(cue, target[i]) for i in choices}
        best = max(choices, key=lambda i: (overlap[i], -i))
        if overlap[best] <= 0:  # no overlap: the nearest target cue in time
            best = min(choices, key=lambda i: (abs(_centre(target[i]) - _centre(cue)), i))
        lines[best] += list(cue.lines)
    return tuple(replace(t, lines=tuple(ls), flags=()) for t, ls in zip(target, lines, strict=True))


def _overlap(a: Cue, b: Cue) -> int:
    return min(a.end_ms, b.end_ms) - max(a.start_ms, b.start_ms)


def _centre(cue: Cue) -> float:
    return (cue.start_ms + cue.end_ms) / 2


def cue_rate(asr_json: Path, run_json: bool = True) -> float | None:
    """The frame rate STEM.asr.json says the Chinese cues were snapped to, so that later
    stages, run again from the files (translate, qa, dubscript export, review), keep to it.
    Where there is no asr.json (a batch episode that brought its own Chinese SRT, timed at
    its media's rate), the rate STEM.run.json beside it records for that very STEM.zh.srt
    (`run_json`; see run_rate). None: neither says."""
    recorded = recognition_record(asr_json)
    if recorded is None and run_json and asr_json.name.endswith(".asr.json"):
        stem = asr_json.name[: -len(".asr.json")]
        run = _artefact(asr_json.with_name(f"{stem}.run.json"))
        return run_rate(run, asr_json.with_name(f"{stem}.zh.srt"))
    return recorded.fps if recorded is not None else None


def run_rate(run: dict[str, Any] | None, srt: Path | None) -> float | None:
    """The rate a STEM.run.json (read back) says an episode's own Chinese SRT is timed at,
    only where `srt` is that very file (the hash it recorded): a run.json left from another
    run, or beside a hand-made SRT, says nothing about its cues."""
    stages = run.get("stages") if run is not None else None
    heard = stages.get("transcribe") if isinstance(stages, dict) else None
    if not isinstance(heard, dict) or srt is None:
        return None
    rate, digest = heard.get("fps"), heard.get("srt_sha256")
    if not isinstance(rate, int | float) or isinstance(rate, bool) or not usable_rate(rate):
        return None
    try:
        same = isinstance(digest, str) and sha256_file(srt) == digest
    except OSError:
        return None
    return float(rate) if same else None


@dataclass(frozen=True)
class RecognitionRecord:
    """What later stages read back from a STEM.asr.json (a few fields of a file that runs to
    megabytes for an hour): kept per content, so that a batch episode's stages parse it
    once, not once per question."""

    language: str | None  # the language heard
    source: str | None  # asr, ocr or auto
    english_srt: str | None  # the picture's English SRT transcription wrote, and its hash
    english_srt_sha256: str | None
    fps: float | None  # the rate the cues were snapped to (a usable one, or None)
    flagged: tuple[Flagged, ...]  # flagged_cues

    @classmethod
    def of(cls, doc: dict[str, Any]) -> RecognitionRecord:
        def text(key: str) -> str | None:
            value = doc.get(key)
            return value if isinstance(value, str) else None

        profile = doc.get("profile")
        fps = profile.get("fps") if isinstance(profile, dict) else None
        try:
            rate = float(fps) if fps is not None and not isinstance(fps, bool) else None
        except (TypeError, ValueError, OverflowError):  # (an integer of 400 digits)
            rate = None
        return cls(
            language=text("language"),
            source=text("source"),
            english_srt=text("english_srt"),
            english_srt_sha256=text("english_srt_sha256"),
            # a rate the dubbing timecode can count, as --fps must be
            fps=rate if rate is not None and usable_rate(rate) else None,
            flagged=tuple(_flagged_in(doc, "flagged_cues")),
        )


_RECORDS: dict[bytes, RecognitionRecord] = {}  # by the SHA-256 of the file's bytes
_RECORDS_KEPT = 4  # files' records kept (a batch worker needs its episode's; the flagged
# cues are most of a record: about 110 KiB for 300 of them)
_RECORDS_LOCK = threading.Lock()  # a Dask worker's threads share them


def recognition_record(asr_json: Path) -> RecognitionRecord | None:
    """The record of an asr.json (None when it is missing, too large, not JSON or not an
    object). Its bytes are read each time, but parsed once per content: hashing an hour's
    file costs a few milliseconds, parsing it a tenth of a second."""
    try:
        data = read_limited(asr_json, C.MAX_ARTEFACT_BYTES)
    except (OSError, ValueError):
        return None
    key = hashlib.sha256(data).digest()
    if (kept := _RECORDS.get(key)) is not None:
        return kept
    try:
        doc = parse_json(data)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    record = RecognitionRecord.of(doc)
    with _RECORDS_LOCK:
        while len(_RECORDS) >= _RECORDS_KEPT:
            del _RECORDS[next(iter(_RECORDS))]
        _RECORDS[key] = record
    return record


def _artefact(path: Path) -> dict[str, Any] | None:
    """A dubkit JSON artefact read back (asr.json, qa.json): None when it is missing, too
    large, not JSON or not an object. These files only add to a command; never stop it."""
    try:
        doc = read_json(path, C.MAX_ARTEFACT_BYTES)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def at_rate(profile: Profile, fps: float | None) -> Profile:
    """`profile` at frame rate `fps` (unchanged for None); ConfigError when its limits do not
    hold at that rate (a minimum gap of frames longer than the longest cue, say)."""
    if fps is None or fps == profile.fps:
        return profile
    try:
        return replace(profile, fps=fps)
    except ValueError as exc:
        raise ConfigError(f"{exc} at {fps} fps; adjust the profile or give --fps") from exc
