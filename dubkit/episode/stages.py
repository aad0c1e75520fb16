"""The engine's stages as `dubkit batch` runs them: each from the files the previous stage
left on disk (so a resumed batch can skip any of them), with each episode's own glossary."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dubkit.config import Config
from dubkit.episode.engine import Engine, EngineSpec
from dubkit.episode.setup import RunFlags
from dubkit.glossary.terms import TermSet


@dataclass(frozen=True)
class EngineLoader:
    """Picklable recipe for a worker's engine (sent to pool processes and Dask workers)."""

    spec: EngineSpec
    glossaries: tuple[Path, ...] = ()  # for every episode, before the episode's own
    key: str = field(default="")

    def __call__(self) -> BatchStages:
        return BatchStages(Engine.load(self.spec), self.glossaries)


def plan_batch(
    cfg: Config, glossary: list[Path] | None, flags: RunFlags, jobs: int
) -> tuple[EngineLoader, int]:
    """(the workers' engine recipe, jobs): every setting, the shared glossary, the route and
    the memory checked once here, before any worker starts (a failure in a worker's
    initialiser would break the pool). Jobs are capped at the cores; a job's threads, when not
    given, share the cores out (`flags.threads` 0). The recipe carries a key of itself: a
    worker keeps one engine per key."""
    from dubkit.adapters.argos import cpu_cores
    from dubkit.episode.batch import key_of
    from dubkit.episode.engine import open_memory
    from dubkit.episode.setup import engine_spec, glossary_files, load_glossaries
    from dubkit.errors import ModelUnavailable

    cores = cpu_cores()
    jobs = min(jobs, cores)
    flags = replace(flags, threads=flags.threads or max(1, cores // jobs))
    load_glossaries(cfg, glossary)  # a broken shared glossary fails before anything runs
    spec, mt = engine_spec(cfg, flags)
    if spec.translation is None:
        raise ModelUnavailable(mt.no_route())
    memory = open_memory(spec.translation.memory_path, spec.translation.cache)
    if memory is not None:
        memory.close()
    shared = tuple(p.resolve() for p in glossary_files(cfg, glossary))
    loader = EngineLoader(spec, shared)
    return replace(loader, key=key_of(repr(loader))), jobs


class BatchStages:
    """One worker's engine, with the per-episode glossary and file hand-offs batch needs."""

    def __init__(self, engine: Engine, glossaries: tuple[Path, ...] = ()) -> None:
        self.engine = engine
        self.glossaries = glossaries
        self._terms: dict[Path | None, TermSet | None] = {}
        # the last stage's warnings, for the report: what `run` prints (the transcription's,
        # the translation's notes, dubbing's "no sound")
        self.warnings: tuple[str, ...] = ()
        # the last stage's record for STEM.run.json (batch keeps it in its manifest)
        self.result: dict[str, Any] | None = None
        self._read: tuple[Any, tuple[Any, float | None]] | None = None  # see _chinese

    @property
    def recogniser_loaded(self) -> bool:
        """Whether this worker's engine has loaded the Whisper recogniser (never under
        --source ocr)."""
        return bool(self.engine.recogniser_loaded)

    def stage_keys(self) -> dict[str, Any]:
        return self.engine.stage_keys()

    def close(self) -> None:
        self.engine.close()

    def terms(self, glossary: Path | None) -> TermSet | None:
        if glossary not in self._terms:
            files = [*self.glossaries, *([glossary] if glossary else [])]
            if not files:
                self._terms[glossary] = None
            else:
                from dubkit.adapters.chinese import to_simplified
                from dubkit.glossary.files import load_terms

                self._terms[glossary] = load_terms(files, to_simplified)
        return self._terms[glossary]

    def glossary_fingerprint(self, glossary: Path | None) -> str | None:
        self._terms.pop(glossary, None)  # re-read: the file may have changed since
        terms = self.terms(glossary)
        return None if terms is None else str(terms.fingerprint)

    def recognition_fingerprint(self, glossary: Path | None) -> str | None:
        """What recognition takes from the glossaries (their Chinese forms), and where it
        biases by them, the revision of the biasing rules (C.BIASING_REVISION)."""
        from dubkit import constants as C

        terms = self.terms(glossary)
        if terms is None:
            return None
        if self.engine.spec.recognition.options.bias:
            return f"{terms.recognition_fingerprint}:{C.BIASING_REVISION}"
        return str(terms.recognition_fingerprint)

    def approved_fingerprint(self, stem: str, zh_srt: Path, fps: float | None = None) -> str | None:
        """The memory's approved lines for what this episode would translate."""
        if self.engine.memory is None or self.engine.spec.translation is None:
            return None
        if not self._translates(stem, zh_srt):
            return None
        cues, rate = self._chinese(stem, zh_srt, fps)
        return self.engine.approved_fingerprint(cues, rate)

    def pivot_fingerprint(self, stem: str, zh_srt: Path) -> str | None:
        """The English burned into the picture that `--pivot-from burned` would translate
        this episode from (STEM.en.srt, which a person may correct); None when not asked
        for or when there is none."""
        import hashlib

        mt = self.engine.spec.translation
        if mt is None or mt.settings.pivot_from != "burned" or not self._translates(stem, zh_srt):
            return None
        cues, _ = self._chinese(stem, zh_srt)
        english = self.engine.burned_english(cues, stem, zh_srt.parent)
        if english is None:
            return None
        return hashlib.sha256("\0".join(english).encode("utf-8", "surrogatepass")).hexdigest()

    def dub_reads_media(self) -> bool:
        return self.engine.spec.dub.reads_sound

    def frame_rate(self, media: Path) -> float | None:
        """The rate an episode's own Chinese SRT is timed at, as `run` times the cues it
        transcribes: --fps, else the media's own broadcast rate (None: the profile's)."""
        fps = self.engine.spec.recognition.fps
        if fps:
            return fps
        from dubkit.adapters.audio import media_frame_rate

        return media_frame_rate(media)

    def _chinese(
        self, stem: str, zh_srt: Path, fps: float | None = None
    ) -> tuple[Any, float | None]:
        """The episode's Chinese cues with the recogniser's flags, as `run` keeps them in
        memory (QA must know a loop), and the rate transcription snapped them to (an
        episode's own SRT, which has no asr.json: `fps`, from `frame_rate`)."""
        from dubkit.episode.pipeline import cue_rate, with_recognition_flags
        from dubkit.subtitles.files import read_srt

        asr_json = zh_srt.with_name(f"{stem}.asr.json")
        # read once per episode, not once per key and again to translate: the same files
        # (see _identity) give the same cues
        key = (_identity(zh_srt), _identity(asr_json))
        if self._read is None or self._read[0] != key:
            cues = tuple(with_recognition_flags(read_srt(zh_srt).cues, asr_json))
            self._read = (key, (cues, cue_rate(asr_json, run_json=False)))
        cues, heard_rate = self._read[1]
        # the rate given now (--fps, else the media's) before any run.json an earlier
        # batch left beside the SRT
        return cues, heard_rate or fps or self.engine.spec.recognition.fps

    def _translates(self, stem: str, zh_srt: Path) -> bool:
        heard = self._heard(stem, zh_srt)
        return heard is None or self.engine.can_translate(heard)

    def _heard(self, stem: str, zh_srt: Path) -> str | None:
        """The language transcription heard, as asr.json says (None: no asr.json, as for an
        episode's own SRT, which is Chinese). Another language than the route's is not
        translated."""
        from dubkit.episode.pipeline import heard_language

        return heard_language(zh_srt.with_name(f"{stem}.asr.json"))

    def transcribe(
        self, media: Path, outdir: Path, progress: Any, glossary: Path | None
    ) -> list[Path]:
        """STEM.zh.srt and asr.json (and the picture's files). Speech in another language
        than the route's is warned of, as `run` does, and the later stages translate nothing."""
        from dubkit.episode.pipeline import check_source_media

        self.warnings, self.result = (), None
        check_source_media(media, self.engine.spec.recognition.source)
        heard = self.engine.transcribe(media, outdir, progress, self.terms(glossary))
        note = self.engine.not_translated(media, heard.language)
        if note is not None:
            heard = replace(heard, warnings=(*heard.warnings, note))
        self.warnings = heard.warnings
        self.result = {"model": self.engine.meta["model"], "transcribe": heard.to_dict()}
        # STEM.en.srt is not an output here: a person may correct the English read from the
        # picture, and the translate stage (keyed by it) then runs again, not this one
        return [heard.srt, heard.asr_json, *([heard.ocr_json] if heard.ocr_json else [])]

    def translate(
        self, media: Path, zh_srt: Path, outdir: Path, glossary: Path | None,
        fps: float | None = None,
    ) -> tuple[list[Path], Any]:  # fmt: skip
        """The Urdu files (None for dub when the episode is not translated: its earlier
        translation outputs are set aside as `run` sets them aside)."""
        from dubkit.episode.engine import translate_result
        from dubkit.episode.pipeline import english_srt, set_aside_stale, translation_notes

        self.warnings, self.result = (), None
        stem = media.stem
        heard = self._heard(stem, zh_srt)
        if heard is not None and not self.engine.can_translate(heard):
            english = english_srt(zh_srt.with_name(f"{stem}.asr.json"))
            # the transcript just written (STEM.en.srt for English speech) stays, as in `run`
            keep = [outdir / f"{stem}.{heard}.srt", *([english] if english else [])]
            self.warnings = tuple(set_aside_stale(stem, outdir, keep))
            return [], None
        started = time.perf_counter()
        cues, rate = self._chinese(stem, zh_srt, fps)
        terms = self.terms(glossary)
        done = self.engine.translate(cues, stem, outdir, terms, rate)
        self.warnings = tuple(translation_notes(media, done.qa))
        self.result = translate_result(zh_srt, done, time.perf_counter() - started).to_dict()
        return list(done.paths.values()), (done, cues, terms, rate)

    def dub(
        self, media: Path, outdir: Path, zh_srt: Path, done: Any, glossary: Path | None
    ) -> list[Path]:
        from dubkit.episode.engine import dubbing_notes

        self.warnings, self.result = (), None
        translated, cues, terms, fps = done
        report = self.engine.dub(media, outdir, cues, translated, terms, fps)
        self.warnings = tuple(dubbing_notes(report))
        self.result = report
        written: list[Path] = []
        if report:
            written += [outdir / Path(p).name for p in report.get("script", {}).values()]
            if "clips" in report:
                folder = outdir / "clips" / media.stem
                written += sorted(p for p in folder.iterdir() if p.is_file())
            if "guide" in report:
                written.append(outdir / f"{media.stem}.guide.wav")
        return written

    def report(
        self, media: Path, outdir: Path, stages: Mapping[str, Any], fps: float | None = None
    ) -> Path:
        """STEM.run.json as `run` writes it, from what each stage recorded (`stages`: per
        stage its `result`, `warnings` and `seconds`, as the manifest keeps them; `fps`: the
        rate an episode's own SRT is timed at)."""
        from dubkit.episode.batch import STAGES

        def part(stage: str, what: str) -> Any:
            entry = stages.get(stage)
            return entry.get(what) if isinstance(entry, Mapping) else None

        heard = part("transcribe", "result")
        if not isinstance(heard, Mapping):
            heard = self._own_srt(media, outdir, fps)
        transcribed = heard.get("transcribe")
        # run's order: the transcription's warnings, then translation's and dubbing's notes
        said = [w for stage in STAGES for w in part(stage, "warnings") or () if isinstance(w, str)]
        seconds = sum(s for stage in STAGES if isinstance(s := part(stage, "seconds"), int | float))
        translation, dubbing = part("translate", "result"), part("dub", "result")
        return self.engine.write_run_json(
            media, outdir, heard.get("model"),
            {**(transcribed if isinstance(transcribed, Mapping) else {}), "warnings": said},
            translation if isinstance(translation, dict) else None,
            dubbing if isinstance(dubbing, dict) else None, seconds,
        )  # fmt: skip

    def _own_srt(self, media: Path, outdir: Path, fps: float | None) -> dict[str, Any]:
        """What run.json records of the transcription an episode's own SRT stands in for:
        no recogniser, its cues, and the rate they are timed at."""
        from dubkit.fsutil import display_path, sha256_file
        from dubkit.subtitles.files import read_srt

        srt = outdir / f"{media.stem}.zh.srt"
        mt = self.engine.spec.translation
        return {
            "model": None,
            "transcribe": {
                "media": display_path(media),
                "srt": display_path(srt),
                "asr_json": None,
                "cues": len(read_srt(srt).cues),
                "language": mt.settings.source if mt else "zh",
                "fps": fps or self.engine.spec.recognition.profile.fps,
                "source": "srt",
                # which SRT that rate belongs to: commands run again from the files read it
                # only for this very SRT (pipeline.cue_rate)
                "srt_sha256": sha256_file(srt),
            },
        }


def _identity(path: Path) -> tuple[str, int, int, int, int, int] | None:
    """What tells one version of a file from another without reading it: path, device,
    inode, size, modification and change time (a write moves the change time, which no
    one can set back; None: no such file, or none that can be looked at)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
