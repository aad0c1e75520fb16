"""Settings for the stages, merged once from command-line flags, `dubkit.toml` and defaults,
and checked before any model loads (a typo fails in a second, not after a model load)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dubkit.config import Config, resolve_profile, with_flags
from dubkit.episode.engine import EngineSpec, RecognitionSpec, TranslationSpec
from dubkit.episode.pipeline import CHINESE, SOURCES, DubSettings, TranslateSettings
from dubkit.errors import ConfigError
from dubkit.glossary.terms import TermSet
from dubkit.ports import MTOptions, TranscribeOptions
from dubkit.profiles import URDU_PROFILE, Profile
from dubkit.timecode import check_rate


@dataclass(frozen=True, slots=True)
class Recognition:
    """What `recognition` resolved: the model, its decoding options and the cue profile."""

    model_name: str
    model_path: Path | None  # None: not looked up (no recogniser needed)
    device: str
    compute_type: str | None
    options: TranscribeOptions
    profile: Profile


def recognition(
    cfg: Config,
    given: dict[str, Any],
    hotwords: list[str] | None = None,
    profile: str | None = None,
    limits: dict[str, Any] | None = None,
    source: str = "asr",
) -> Recognition:
    """Recognition settings: `given` (flags, None = not given) over `[transcribe]` over the
    defaults; the model resolved in the store, unless `source` is "ocr" (the picture alone:
    no model needed, none looked up)."""
    from dubkit.adapters.whisper import check_language
    from dubkit.models.store import resolve_model

    s = with_flags(cfg.transcribe, **given)
    options = TranscribeOptions(
        language=s.language,
        beam_size=s.beam_size,
        batch_size=s.batch_size,
        vad=s.vad,
        hotwords=(*s.hotwords, *(hotwords or ())),
        guard=s.guard,
        recover=s.recover,
        bias=s.glossary_bias,
    )
    check_language(options.language)
    check_source_language(source, options.language)
    chosen = resolve_profile(profile, cfg, limits or {})
    model_name, model_path = resolve_model(s.model) if source != "ocr" else (s.model, None)
    return Recognition(model_name, model_path, s.device, s.compute_type, options, chosen)


class Translation:
    """Translation settings from `[translate]` and flags; the route is looked up on demand."""

    def __init__(
        self,
        cfg: Config,
        given: dict[str, Any],
        packages: list[Path] | None,
        *,
        threads: int = 0,
        pivot_srt: bool = False,
        encoding: str | None = None,
        pivot_from: str = "mt",
        cover_burned: bool = False,
    ) -> None:
        from dubkit.text.urdu import DIGIT_SYSTEMS, UrduStyle

        s = with_flags(cfg.translate, **given)
        if s.digits not in DIGIT_SYSTEMS:
            raise ConfigError(f"--digits {s.digits}: choose latin or urdu")
        if s.route not in ("auto", "direct", "pivot"):
            raise ConfigError(f"--route {s.route}: choose auto, direct or pivot")
        if s.layout not in ("sentence", "cue"):
            raise ConfigError(f"--layout {s.layout}: choose sentence or cue")
        if pivot_from not in ("mt", "burned"):
            raise ConfigError(f"--pivot-from {pivot_from}: choose mt or burned")
        self.route_mode = s.route
        self.pivot = s.pivot
        # absolute, so that a batch worker in another folder (a Dask worker) finds the same
        given_packages: list[str | Path] = [*s.packages, *(packages or [])]
        self.extra = [_absolute(Path(p)) for p in given_packages]
        self.memory_path = _absolute(Path(s.memory)) if s.memory else None
        self.cache = s.cache
        self.options = MTOptions(
            device=s.device,
            compute_type=s.compute_type,
            threads=threads,
            beam_size=s.beam_size,
            max_batch_tokens=s.max_batch_tokens,
        )
        self.settings = TranslateSettings(
            pivot_srt=pivot_srt,
            bom=s.bom,
            style=UrduStyle(digits=s.digits, bidi_marks=s.bidi_marks),
            encoding=encoding,
            layout=s.layout,
            profile=resolve_profile(s.profile or URDU_PROFILE, cfg),
            pivot_from=pivot_from,
            cover_burned=cover_burned,
        )

    def route(self) -> Any:
        from dubkit.models.packages import find_route, installed_packages

        return find_route(
            self.settings.source,
            self.settings.target,
            installed_packages(self.extra),
            self.route_mode,
            (self.pivot,),
        )

    def no_route(self) -> str:
        from dubkit.models.packages import no_route_message

        return no_route_message(self.settings.source, self.settings.target, self.route_mode)

    def memory(self) -> Any:
        """The translation memory; with --no-cache only its approved lines (if it exists)."""
        from dubkit.episode.engine import open_memory

        return open_memory(self.memory_path, self.cache)

    def spec(self, route: Any) -> TranslationSpec:
        return TranslationSpec(route, self.options, self.settings, self.memory_path, self.cache)


def glossary_files(cfg: Config, files: list[Path] | None) -> list[Path]:
    """`[glossary] files` (relative to the config file) then the --glossary files."""
    return [*cfg.glossary_files, *(files or [])]


def load_glossaries(cfg: Config, files: list[Path] | None) -> TermSet | None:
    """The combined glossary terms from --glossary and [glossary] files (None without)."""
    paths = glossary_files(cfg, files)
    if not paths:
        return None
    from dubkit.adapters.chinese import to_simplified
    from dubkit.glossary.files import load_terms

    return load_terms(paths, to_simplified)


@dataclass(frozen=True, slots=True)
class RunFlags:
    """The options `run` and `batch` share, as given on the command line (None: not given,
    so `dubkit.toml` or the default decides)."""

    model: str | None = None
    device: str | None = None
    compute_type: str | None = None
    beam_size: int | None = None
    batch_size: int | None = None
    vad: bool | None = None
    language: str | None = None
    hotword: list[str] | None = None
    guard: bool | None = None
    recover: bool | None = None
    glossary_bias: bool | None = None
    profile: str | None = None
    mt_device: str | None = None
    mt_compute_type: str | None = None
    mt_beam_size: int | None = None
    batch_tokens: int | None = None
    route: str | None = None
    pivot: str | None = None
    packages: list[Path] | None = None
    pivot_srt: bool = False
    cache: bool | None = None
    memory: Path | None = None
    bom: bool | None = None
    bidi: bool | None = None
    digits: str | None = None
    threads: int = 0
    layout: str | None = None
    ur_profile: str | None = None
    dubscript: bool = True
    clips: bool = True
    handles: int = 250
    clip_format: str = "wav"
    fps: float | None = None
    source: str = "asr"
    pivot_from: str = "mt"
    cover_burned: bool = False
    guide_track: bool = False
    scratch_voice: bool = False


def engine_spec(cfg: Config, flags: RunFlags) -> tuple[EngineSpec, Translation]:
    """The engine's recipe for `run` and `batch`; its translation is None when no route is
    installed (the Translation setup says why)."""
    if flags.clip_format not in ("wav", "mp3"):
        raise ConfigError(f"--clip-format {flags.clip_format}: choose wav or mp3")
    if flags.fps is not None:
        check_rate(flags.fps, "--fps")
    check_source(flags.source)
    if flags.cover_burned and flags.source == "asr":
        raise ConfigError(
            "--cover-burned: covers the subtitles burned into the picture, which only "
            "--source ocr or auto reads; add --source auto (or ocr), or leave out --cover-burned"
        )
    rec = recognition(
        cfg,
        {
            "model": flags.model, "device": flags.device, "compute_type": flags.compute_type,
            "beam_size": flags.beam_size, "batch_size": flags.batch_size, "vad": flags.vad,
            "language": flags.language, "guard": flags.guard, "recover": flags.recover,
            "glossary_bias": flags.glossary_bias,
        },
        flags.hotword,
        flags.profile,
        source=flags.source,
    )  # fmt: skip
    mt = Translation(
        cfg,
        {
            "route": flags.route, "pivot": flags.pivot, "device": flags.mt_device or flags.device,
            "compute_type": flags.mt_compute_type, "beam_size": flags.mt_beam_size,
            "max_batch_tokens": flags.batch_tokens, "cache": flags.cache,
            "memory": str(flags.memory) if flags.memory else None, "bom": flags.bom,
            "bidi_marks": flags.bidi, "digits": flags.digits, "layout": flags.layout,
            "profile": flags.ur_profile,
        },
        flags.packages,
        threads=flags.threads,
        pivot_srt=flags.pivot_srt,
        pivot_from=flags.pivot_from,
        cover_burned=flags.cover_burned,
    )  # fmt: skip
    found = mt.route()
    dub = DubSettings(
        script=flags.dubscript, clips=flags.clips, handles_ms=flags.handles,
        clip_format=flags.clip_format, guide=flags.guide_track or flags.scratch_voice,
        scratch_voice=flags.scratch_voice,
    )  # fmt: skip
    spec = EngineSpec(
        RecognitionSpec(
            rec.model_name, rec.model_path, rec.device, rec.compute_type, flags.threads,
            rec.options, rec.profile, flags.fps, flags.source,
        ),
        mt.spec(found) if found is not None else None,
        dub,
    )  # fmt: skip
    return spec, mt


def check_source(source: str) -> str:
    """--source: asr, ocr or auto, else a ConfigError before any model loads."""
    if source not in SOURCES:
        raise ConfigError(f"--source {source}: choose {', '.join(SOURCES)}")
    return source


def check_source_language(source: str, language: str) -> None:
    """--source auto fuses Chinese subtitles read from the picture with Chinese speech: a
    --language that is not Chinese (nor auto) is a ConfigError before any model loads (its
    SRT would also take the name of the picture's English, STEM.en.srt)."""
    if source == "auto" and language not in (*CHINESE, "auto"):
        raise ConfigError(
            f"--source auto --language {language}: the subtitles burned into the picture are "
            f"read as Chinese, and the speech fills their gaps in Chinese; give --language zh "
            f"(or auto), read the picture alone with --source ocr, or transcribe the speech "
            f"alone with --source asr"
        )


def _absolute(path: Path) -> Path:
    return path.expanduser().absolute()
