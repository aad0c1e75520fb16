"""The engine: what is loaded (recogniser, translation route, memory, settings) and one method
per stage. `dubkit run` calls the stages in order; `dubkit batch` calls the same methods under
its manifest, in a worker process or on a Dask worker, so the two cannot drift.

`EngineSpec` is the picklable recipe (paths, names and settings, no models); `Engine.load`
turns it into loaded models once per process. The recogniser is loaded when a stage first
needs it: never under `--source ocr`, and not by a batch whose transcriptions are all done.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager as ContextManager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dubkit import __version__
from dubkit import constants as C
from dubkit.episode.pipeline import (
    DubSettings,
    RunResult,
    TranscribeResult,
    Translated,
    TranslateResult,
    TranslateSettings,
    at_rate,
    burned_english,
    dub_outputs,
    library_versions,
    set_aside_stale,
    transcribe_file,
    translate_cues,
    translation_notes,
    translation_texts,
)
from dubkit.episode.pipeline import (
    on_screen as on_screen,  # dubkit.review reads it from here too
)
from dubkit.errors import DubkitError
from dubkit.escape import render_json
from dubkit.fsutil import atomic_write_all, display_path
from dubkit.glossary.terms import TermSet
from dubkit.ports import MTOptions, ProgressFn, TranscribeOptions
from dubkit.profiles import Profile
from dubkit.qa.adherence import recognition_flags
from dubkit.records import Cue


@dataclass(frozen=True, slots=True)
class RecognitionSpec:
    """The Whisper model and how it decodes."""

    model_name: str
    model_path: Path | None  # None: not looked up (--source ocr needs no model)
    device: str
    compute_type: str | None
    threads: int
    options: TranscribeOptions
    profile: Profile  # the Chinese cues' subtitle profile
    fps: float | None = None  # cues snap to this rate; None: the media's own (else profile's)
    source: str = "asr"  # asr (speech), ocr (burned subtitles) or auto (both, fused)


@dataclass(frozen=True, slots=True)
class TranslationSpec:
    """The translation route (packages found, not loaded), its options and the memory."""

    route: Any  # packages.Route
    options: MTOptions
    settings: TranslateSettings
    memory_path: Path | None = None  # None: the default file
    cache: bool = True  # False: only the memory's approved lines, nothing written to it


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """Everything an engine loads and every setting its stages take."""

    recognition: RecognitionSpec
    translation: TranslationSpec | None  # None: no route installed, Chinese outputs only
    dub: DubSettings = field(default_factory=DubSettings)


def _nothing(_: str) -> ContextManager[None]:
    return contextlib.nullcontext()


def load_recogniser(
    rec: Any,
    threads: int,
    status: Callable[[str], ContextManager[Any]] = _nothing,
    notice: Callable[[str], None] = lambda _: None,
) -> Any:
    """The Whisper recogniser `rec` names (a RecognitionSpec, or `setup.Recognition`): loaded
    under `status` (a spinner), its device fallback told to `notice`. The one loader of the
    recogniser: the engine's, and `transcribe`'s and `align`'s, which run no engine."""
    from dubkit.adapters.whisper import WhisperTranscriber

    with status(f"loading {rec.model_name}…"):
        transcriber = WhisperTranscriber.load(
            rec.model_name, rec.model_path, rec.device, rec.compute_type, threads
        )
    if transcriber.device.notice:
        notice(transcriber.device.notice)
    return transcriber


def load_steps(
    route: Any,
    options: MTOptions,
    status: Callable[[str], ContextManager[Any]] = _nothing,
    notice: Callable[[str], None] = lambda _: None,
) -> list[Any]:
    """The translation route's models, one step per package, loaded under `status`; device
    fallbacks told to `notice`. The engine's loader, and `translate`'s."""
    from dubkit.adapters.argos import load_route

    with status(f"loading {route.description}…"):
        steps = load_route(route.stages, options)
    for step in steps:
        if step.device.notice:
            notice(step.device.notice)
    return steps


class Engine:
    """The loaded models and the stages over them. One per process; reused across episodes.
    `transcriber` None: the recogniser is loaded when a stage first needs it (`status`
    wraps the load, `notice` hears a device fallback)."""

    def __init__(
        self,
        spec: EngineSpec,
        transcriber: Any,
        steps: Sequence[Any] | None,
        memory: Any,
        status: Callable[[str], ContextManager[Any]] = _nothing,
        notice: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.spec = spec
        self._transcriber = transcriber
        self._status, self._notice = status, notice
        self.steps = steps
        self.memory = memory
        route = spec.translation.route if spec.translation else None
        self.meta: dict[str, Any] = {
            "model": model_meta(transcriber) if transcriber is not None else None,
            "translation": (
                {"route": route.description, "steps": [s.description for s in steps]}
                if route is not None and steps is not None
                else None
            ),
        }

    @classmethod
    def load(
        cls,
        spec: EngineSpec,
        status: Callable[[str], ContextManager[Any]] = _nothing,
        notice: Callable[[str], None] = lambda _: None,
        *,
        recogniser: bool = False,
    ) -> Engine:
        """Load the route's models and open the memory, and with `recogniser` the recogniser
        too (when the source needs one; otherwise it loads when a stage first needs it);
        `status` wraps each load (a spinner), `notice` hears device fallbacks."""
        steps, memory = None, None
        if spec.translation is not None:
            mt = spec.translation
            steps = load_steps(mt.route, mt.options, status, notice)
            memory = open_memory(mt.memory_path, mt.cache)
        engine = cls(spec, None, steps, memory, status, notice)
        if recogniser and spec.recognition.source != "ocr":
            engine.recogniser()
        return engine

    @property
    def recogniser_loaded(self) -> bool:
        """Whether the recogniser is loaded (batch reports how many workers loaded one)."""
        return self._transcriber is not None

    def recogniser(self) -> Any:
        """The recogniser, loaded on first use."""
        if self._transcriber is None:
            rec = self.spec.recognition
            if rec.model_path is None:
                raise DubkitError(
                    f"--source {rec.source}: no recogniser was set up; transcribe with "
                    f"--source asr or auto"
                )
            self._transcriber = load_recogniser(rec, rec.threads, self._status, self._notice)
            self.meta["model"] = model_meta(self._transcriber)
        return self._transcriber

    def close(self) -> None:
        if self.memory is not None:
            self.memory.close()
            self.memory = None

    # ------------------------------------------------------------------------------ stages

    def transcribe(
        self, media: Path, outdir: Path, progress: ProgressFn | None, terms: TermSet | None
    ) -> TranscribeResult:
        """STEM.zh.srt and STEM.asr.json, recognition biased by the glossary's terms (under
        --source ocr|auto also STEM.ocr.json, and STEM.en.srt for English in the picture)."""
        rec = self.spec.recognition
        transcriber = self.recogniser() if rec.source != "ocr" else None
        return transcribe_file(
            media, outdir, transcriber, rec.options, rec.profile, self.meta, progress, terms,
            rec.fps, rec.source,
        )  # fmt: skip

    def can_translate(self, heard_language: str) -> bool:
        mt = self.spec.translation
        return self.steps is not None and mt is not None and heard_language == mt.settings.source

    def translate(
        self,
        cues: Sequence[Cue],
        stem: str,
        outdir: Path,
        terms: TermSet | None,
        fps: float | None = None,
    ) -> Translated:
        """STEM.ur.srt (.vtt, .ass, bilingual), the pivots' SRTs and STEM.qa.json; the Urdu
        cues snap to `fps` (the Chinese cues' rate) when given. From what transcription left
        beside the outputs: under `--pivot-from burned` the English read from the picture
        (STEM.en.srt), and the burned subtitles' places for the ASS (STEM.ocr.json)."""
        if self.steps is None or self.spec.translation is None:
            raise DubkitError("no translation route is loaded")
        settings = self._translate_settings(fps)
        english = self.burned_english(cues, stem, outdir)
        screen = on_screen(outdir / f"{stem}.asr.json", outdir / f"{stem}.ocr.json")
        return translate_cues(
            cues, stem, outdir, self.steps, self.memory, settings, terms, english, screen
        )

    def burned_english(
        self, cues: Sequence[Cue], stem: str, outdir: Path
    ) -> tuple[str, ...] | None:
        """Per cue, the English `--pivot-from burned` translates from (None: not asked for,
        or the picture had none)."""
        mt = self.spec.translation
        if mt is None or mt.settings.pivot_from != "burned":
            return None
        return burned_english(cues, outdir / f"{stem}.asr.json")

    def _translate_settings(self, fps: float | None) -> TranslateSettings:
        assert self.spec.translation is not None
        settings = self.spec.translation.settings
        return replace(settings, profile=at_rate(settings.profile, fps))

    def dub(
        self,
        media: Path,
        outdir: Path,
        zh_cues: Sequence[Cue],
        done: Translated,
        terms: TermSet | None,
        fps: float | None = None,
    ) -> dict[str, Any] | None:
        """The dubbing script (timecode at `fps`, the cues' rate), reference clips and guide
        track, as the settings ask."""
        rate = fps or self.spec.recognition.profile.fps
        return dub_outputs(media, outdir, zh_cues, done, terms, self.spec.dub, rate)

    def run(
        self,
        media: Path,
        outdir: Path,
        progress: ProgressFn | None = None,
        terms: TermSet | None = None,
    ) -> RunResult:
        """Every stage in order; STEM.run.json records them. Without a route (or when the
        speech is not the route's source language) the Chinese outputs are still written."""
        started = time.perf_counter()
        heard = self.transcribe(media, outdir, progress, terms)
        translation, dubbing = None, None
        note = self.not_translated(media, heard.language)
        if note is not None:
            heard = replace(heard, warnings=(*heard.warnings, note))
        elif self.steps is not None:
            t0 = time.perf_counter()
            # what batch reads back from the files: the cues with the recogniser's flags only
            cues = tuple(replace(c, flags=recognition_flags(c.flags)) for c in heard.cue_records)
            done = self.translate(cues, media.stem, outdir, terms, heard.fps)
            translation = translate_result(heard.srt, done, time.perf_counter() - t0)
            dubbing = self.dub(media, outdir, cues, done, terms, heard.fps)
            said = [*translation_notes(media, done.qa), *dubbing_notes(dubbing)]
            heard = replace(heard, warnings=(*heard.warnings, *said))
        if translation is None:
            # the transcript just written stays, even where it is STEM.en.srt (speech heard
            # in English) and an earlier translation left its machine pivot under that name
            stale = set_aside_stale(media.stem, outdir, [p for p in (heard.srt, heard.en_srt) if p])
            heard = replace(heard, warnings=(*heard.warnings, *stale))
        run_json = self.write_run_json(
            media, outdir, self.meta["model"], heard.to_dict(),
            translation.to_dict() if translation else None, dubbing,
            time.perf_counter() - started,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        return RunResult(media, heard, translation, run_json, seconds, dubbing)

    def not_translated(self, media: Path, language: str) -> str | None:
        """The warning `run` and `batch` give when the speech is heard in another language
        than the route's source: the Chinese outputs are written, nothing is translated."""
        mt = self.spec.translation
        if self.steps is None or mt is None or self.can_translate(language):
            return None
        return (
            f"{display_path(media)}: transcribed as {language}, but the translation route "
            f"starts from {mt.settings.source}; not translated"
        )

    def write_run_json(
        self,
        media: Path,
        outdir: Path,
        model: dict[str, Any] | None,
        heard: dict[str, Any],
        translation: dict[str, Any] | None,
        dubbing: dict[str, Any] | None,
        seconds: float,
    ) -> Path:
        """STEM.run.json, written as `run` and `batch` write it: the stages' records (`heard`
        and `translation` as their `to_dict` gives them), the recogniser that transcribed
        (`model`: None when none did), the route, the library versions and the settings."""
        mt = self.spec.translation
        status = (
            "complete"
            if translation
            else "no-translation-route"
            if self.steps is None
            else "not-translated"
        )
        doc = {
            "dubkit_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "media": display_path(media),
            "status": status,
            "versions": library_versions(),
            **self.meta,
            "model": model,
            "stages": {"transcribe": heard, "translate": translation, "dubbing": dubbing},
            "translate_settings": asdict(mt.settings) if mt else None,
            "seconds": round(seconds, 3),
        }
        run_json = outdir / f"{media.stem}.run.json"
        atomic_write_all({run_json: render_json(doc).encode("utf-8")})
        return run_json

    # ------------------------------------------------------------------- keys for resuming

    def stage_keys(self) -> dict[str, Any]:
        """What each stage's output depends on besides its input files (batch manifests)."""
        rec, mt = self.spec.recognition, self.spec.translation
        options = asdict(rec.options)
        if options["batch_size"] is None and rec.device in ("cpu", "cuda"):
            # the size that will be used: as given, when it is given (auto: found on loading)
            options["batch_size"] = C.default_batch_size(rec.device)
        if rec.source != "ocr":  # a change of decoding is a change of output
            options["patience"] = C.BATCHED_PATIENCE
            options["revision"] = C.RECOGNITION_REVISION
        return {
            "transcribe": [
                model_identity(rec.model_name, rec.model_path) if rec.model_path else None,
                options,
                asdict(rec.profile),
                rec.fps,
                *([rec.source] if rec.source != "asr" else []),
            ],
            "translate": [
                [p.fingerprint() for p in mt.route.stages] if mt else None,
                repr(mt.settings) if mt else None,
                [mt.options.beam_size, mt.options.max_batch_tokens] if mt else None,
            ],
            "dub": [asdict(self.spec.dub), rec.profile.fps],
        }

    def approved_fingerprint(self, cues: Sequence[Cue], fps: float | None = None) -> str | None:
        """The memory's approved lines for the texts `cues` would send through the route (see
        translate): a line approved since (or imported from TMX) makes the episodes that say
        it translate again, and only those."""
        mt = self.spec.translation
        if self.memory is None or mt is None:
            return None
        texts = translation_texts(cues, self._translate_settings(fps))
        found = self.memory.approved(mt.settings.source, mt.settings.target, texts)
        digest = hashlib.sha256()
        for source, target in sorted(found.items()):
            digest.update(f"{source}\0{target}\0".encode())
        return digest.hexdigest()


def translate_result(source: Path, done: Translated, seconds: float) -> TranslateResult:
    """What STEM.run.json records of a translation (`run` and `batch` alike)."""
    return TranslateResult(
        source=source,
        outputs=done.paths,
        cues=len(done.cues),
        flagged=sum(1 for c in done.cues if c.flags),
        approved=done.result.approved,
        steps=done.result.steps,
        repairs=(),
        seconds=seconds,
        adherence=done.qa["adherence"],
    )


def dubbing_notes(report: dict[str, Any] | None) -> list[str]:
    """The one-line warning a dubbing stage leaves in its report (no sound: no clips)."""
    note = report.get("note") if report else None
    return [note] if isinstance(note, str) else []


def model_meta(transcriber: Any) -> dict[str, Any]:
    """The recogniser as run.json and asr.json record it (`transcribe` and `align` too)."""
    return {
        "name": transcriber.name,
        "path": display_path(transcriber.path),
        "device": transcriber.device.device,
        "compute_type": transcriber.device.compute_type,
    }


def open_memory(path: Path | None, cache: bool) -> Any:
    """The translation memory; with `cache` off only its approved lines (if the file exists)."""
    from dubkit.translate.memory import ApprovedOnly, SqliteMemory, default_path

    if cache:
        return SqliteMemory(path)
    found = (path or default_path()).expanduser()
    return ApprovedOnly(SqliteMemory(found)) if found.is_file() else None


def model_identity(name: str, path: Path) -> dict[str, Any]:
    """Model name and its weights' identity: the store manifest's sha256, else size+mtime."""
    identity: dict[str, Any] = {"name": name}
    from dubkit.models.jsonfiles import read_json

    try:
        doc = read_json(path / "dubkit-model.json")  # bounded; deep nesting is a ValueError
        identity["sha256"] = doc.get("sha256") if isinstance(doc, dict) else None
    except (OSError, ValueError):
        pass
    try:
        st = (path / "model.bin").stat()
        identity["size"] = st.st_size
        if not identity.get("sha256"):
            identity["mtime_ns"] = st.st_mtime_ns
    except OSError:
        identity["size"] = None
    return identity
