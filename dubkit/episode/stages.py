"""The engine's stages as `dubkit batch` runs them: each from the files the previous stage
left on disk (so a resumed batch can skip any of them), with each episode's own glossary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dubkit.episode.engine import Engine, EngineSpec
from dubkit.errors import DubkitError
from dubkit.glossary.terms import TermSet


@dataclass(frozen=True)
class EngineLoader:
    """Picklable recipe for a worker's engine (sent to pool processes and Dask workers)."""

    spec: EngineSpec
    glossaries: tuple[Path, ...] = ()  # for every episode, before the episode's own
    key: str = field(default="")

    def __call__(self) -> BatchStages:
        return BatchStages(Engine.load(self.spec), self.glossaries)


class BatchStages:
    """One worker's engine, with the per-episode glossary and file hand-offs batch needs."""

    def __init__(self, engine: Engine, glossaries: tuple[Path, ...] = ()) -> None:
        self.engine = engine
        self.glossaries = glossaries
        self._terms: dict[Path | None, TermSet | None] = {}
        # the last stage's warnings, for the report: what `run` prints (the transcription's,
        # the translation's notes, dubbing's "no sound")
        self.warnings: tuple[str, ...] = ()

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
        terms = self.terms(glossary)
        return None if terms is None else str(terms.recognition_fingerprint)

    def approved_fingerprint(self, stem: str, zh_srt: Path) -> str | None:
        """The memory's approved lines for what this episode would translate."""
        if self.engine.memory is None or self.engine.spec.translation is None:
            return None
        cues, fps = self._chinese(stem, zh_srt)
        return self.engine.approved_fingerprint(cues, fps)

    def pivot_fingerprint(self, stem: str, zh_srt: Path) -> str | None:
        """The English burned into the picture that `--pivot-from burned` would translate
        this episode from (STEM.en.srt, which a person may correct); None when not asked
        for or when there is none."""
        import hashlib

        mt = self.engine.spec.translation
        if mt is None or mt.settings.pivot_from != "burned":
            return None
        cues, _ = self._chinese(stem, zh_srt)
        english = self.engine.burned_english(cues, stem, zh_srt.parent)
        if english is None:
            return None
        return hashlib.sha256("\0".join(english).encode("utf-8", "surrogatepass")).hexdigest()

    def _chinese(self, stem: str, zh_srt: Path) -> tuple[Any, float | None]:
        """The episode's Chinese cues with the recogniser's flags, as `run` keeps them in
        memory (QA must know a loop), and the rate transcription snapped them to (an
        episode's own SRT: --fps)."""
        from dubkit.episode.pipeline import cue_rate, with_recognition_flags
        from dubkit.subtitles.files import read_srt

        asr_json = zh_srt.with_name(f"{stem}.asr.json")
        cues = with_recognition_flags(read_srt(zh_srt).cues, asr_json)
        return cues, cue_rate(asr_json) or self.engine.spec.recognition.fps

    def transcribe(
        self, media: Path, outdir: Path, progress: Any, glossary: Path | None
    ) -> list[Path]:
        from dubkit.episode.pipeline import check_source_media

        self.warnings = ()
        check_source_media(media, self.engine.spec.recognition.source)
        heard = self.engine.transcribe(media, outdir, progress, self.terms(glossary))
        self.warnings = heard.warnings
        mt = self.engine.spec.translation
        if mt is not None and not self.engine.can_translate(heard.language):
            source = mt.settings.source
            raise DubkitError(
                f"{media}: transcribed as {heard.language}, but the route starts from "
                f"{source}; not translated",
                path=media,
            )
        # STEM.en.srt is not an output here: a person may correct the English read from the
        # picture, and the translate stage (keyed by it) then runs again, not this one
        return [heard.srt, heard.asr_json, *([heard.ocr_json] if heard.ocr_json else [])]

    def translate(
        self, stem: str, zh_srt: Path, outdir: Path, glossary: Path | None
    ) -> tuple[list[Path], Any]:
        from dubkit.episode.pipeline import translation_notes

        self.warnings = ()
        cues, fps = self._chinese(stem, zh_srt)
        terms = self.terms(glossary)
        done = self.engine.translate(cues, stem, outdir, terms, fps)
        self.warnings = tuple(translation_notes(zh_srt, done.qa))
        return list(done.paths.values()), (done, cues, terms, fps)

    def dub(
        self, media: Path, outdir: Path, zh_srt: Path, done: Any, glossary: Path | None
    ) -> list[Path]:
        from dubkit.episode.engine import dubbing_notes

        self.warnings = ()
        translated, cues, terms, fps = done
        report = self.engine.dub(media, outdir, cues, translated, terms, fps)
        self.warnings = tuple(dubbing_notes(report))
        written: list[Path] = []
        if report:
            written += [outdir / Path(p).name for p in report.get("script", {}).values()]
            if "clips" in report:
                folder = outdir / "clips" / media.stem
                written += sorted(p for p in folder.iterdir() if p.is_file())
            if "guide" in report:
                written.append(outdir / f"{media.stem}.guide.wav")
        return written
