"""dubkit.toml: defaults for commands and named profiles, validated where they enter."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from dubkit import constants as C
from dubkit.errors import ConfigError
from dubkit.escape import one_line
from dubkit.fsutil import NotReadable, display_path, read_limited
from dubkit.profiles import BUILTIN_PROFILES, DEFAULT_PROFILE, Profile
from dubkit.timecode import check_rate

CONFIG_NAME = "dubkit.toml"


def _schema() -> Any:
    """pydantic models, built on first use so `dubkit --help` never imports pydantic."""
    from pydantic import BaseModel, ConfigDict, Field

    class _Strict(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

    class ProfileSection(_Strict):
        base: str | None = None
        max_chars_per_line: int | None = Field(None, ge=1, le=200)
        max_lines: int | None = Field(None, ge=1, le=10)
        min_duration_ms: int | None = Field(None, ge=0)
        max_duration_ms: int | None = Field(None, ge=1)
        min_gap_frames: int | None = Field(None, ge=0)
        fps: float | None = Field(None, gt=0, le=300)
        pause_split_ms: int | None = Field(None, ge=0)
        max_cps: float | None = Field(None, ge=1, le=100)
        language: str | None = None

    class TranscribeSection(_Strict):
        model: str | None = None
        device: str | None = None
        compute_type: str | None = None
        beam_size: int | None = Field(None, ge=1, le=20)
        batch_size: int | None = Field(None, ge=0, le=256)
        vad: bool | None = None
        language: str | None = None
        hotwords: list[str] = Field(default_factory=list)
        profile: str | None = None
        guard: bool | None = None
        recover: bool | None = None
        glossary_bias: bool | None = None

    class TranslateSection(_Strict):
        route: str | None = Field(None, pattern="^(auto|direct|pivot)$")
        pivot: str | None = None
        device: str | None = None
        compute_type: str | None = None
        beam_size: int | None = Field(None, ge=1, le=20)
        max_batch_tokens: int | None = Field(None, ge=1, le=1_000_000)
        memory: str | None = None
        cache: bool | None = None
        digits: str | None = Field(None, pattern="^(latin|urdu)$")
        bidi_marks: bool | None = None
        bom: bool | None = None
        packages: list[str] = Field(default_factory=list)
        index: str | None = None
        layout: str | None = Field(None, pattern="^(sentence|cue)$")
        profile: str | None = None

    class GlossarySection(_Strict):
        files: list[str] = Field(default_factory=list)

    class ConfigFile(_Strict):
        transcribe: TranscribeSection | None = None
        translate: TranslateSection | None = None
        glossary: GlossarySection | None = None
        profiles: dict[str, ProfileSection] = Field(default_factory=dict)

    return ConfigFile


@dataclass(frozen=True, slots=True)
class RecognitionConfig:
    """[transcribe]: recognition settings, dubkit's defaults here and nowhere else."""

    model: str = C.DEFAULT_MODEL
    device: str = "auto"
    compute_type: str | None = None  # None: int8 on CPU, float16 on GPU
    beam_size: int = C.DEFAULT_BEAM_SIZE
    batch_size: int | None = None  # None: 4 on CPU, 8 on GPU
    vad: bool = True
    language: str = C.DEFAULT_LANGUAGE
    hotwords: tuple[str, ...] = ()
    profile: str | None = None  # None: zh-broadcast
    guard: bool = True
    recover: bool = True
    glossary_bias: bool = True


@dataclass(frozen=True, slots=True)
class TranslationConfig:
    """[translate]: translation settings, dubkit's defaults here and nowhere else."""

    route: str = "auto"
    pivot: str = C.MT_PIVOT
    device: str = "auto"
    compute_type: str | None = None
    beam_size: int = C.MT_BEAM_SIZE
    max_batch_tokens: int = C.MT_MAX_BATCH_TOKENS
    memory: str | None = None  # None: DUBKIT_HOME/memory.sqlite
    cache: bool = True
    digits: str = "latin"
    bidi_marks: bool = True
    bom: bool = False
    packages: tuple[str, ...] = ()
    index: str | None = None
    layout: str = "sentence"
    profile: str | None = None  # None: ur-broadcast


@dataclass(frozen=True, slots=True)
class Config:
    """dubkit.toml, validated and typed (every default when there is none)."""

    path: Path | None = None
    transcribe: RecognitionConfig = field(default_factory=RecognitionConfig)
    translate: TranslationConfig = field(default_factory=TranslationConfig)
    glossary_files: tuple[Path, ...] = ()  # relative to the config file's folder
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


_Settings = TypeVar("_Settings", RecognitionConfig, TranslationConfig)


def with_flags(settings: _Settings, **given: Any) -> _Settings:
    """`settings` with the flags that were given (None: not given) over them."""
    return replace(settings, **{k: v for k, v in given.items() if v is not None})


def _beside(settings: TranslationConfig, base: Path) -> TranslationConfig:
    """The memory file and package folders named in dubkit.toml, relative to its folder (as
    glossary files are), not to wherever the command runs."""

    def place(name: str) -> str:
        path = Path(name).expanduser()
        return str(path if path.is_absolute() else base / path)

    return replace(
        settings,
        memory=place(settings.memory) if settings.memory else None,
        packages=tuple(place(p) for p in settings.packages),
    )


def _section(cls: type[_Settings], data: Mapping[str, Any]) -> _Settings:
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML: a regular UTF-8 file of at most MAX_CONFIG_BYTES, parsed; every
    failure a ConfigError naming the file."""
    shown = display_path(path)
    try:
        text = read_limited(path, C.MAX_CONFIG_BYTES).decode("utf-8")
        return tomllib.loads(text)
    except FileNotFoundError as exc:
        raise ConfigError(f"{shown}: config file not found; check --config", path=path) from exc
    except NotReadable as exc:
        what = exc.kind if exc.code == "not-a-file" else f"{exc.size:,} bytes"
        raise ConfigError(
            f"{shown}: is {what}, not a regular file of at most {C.MAX_CONFIG_BYTES:,} bytes; "
            f"check --config",
            path=path,
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"{shown}: cannot read config ({exc.strerror or exc})", path=path
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{shown}: not UTF-8 text (byte {exc.start}); save it as UTF-8",
                          path=path) from exc  # fmt: skip
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: invalid TOML: {one_line(str(exc))[:200]}", path=path) from exc
    except RecursionError as exc:
        raise ConfigError(f"{shown}: nested too deeply to be a dubkit.toml; "
                          f"see examples/dubkit.toml", path=path) from exc  # fmt: skip


def _key_with_nul(node: Any, where: str = "") -> str | None:
    """The dotted key of the first value holding a NUL (TOML's "\\u0000"), or None."""
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return where if isinstance(node, str) and "\0" in node else None
    for key, value in items:
        found = _key_with_nul(value, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return None


def load_config(path: Path | None) -> Config:
    """dubkit.toml (./dubkit.toml when `path` is None, every default when there is none),
    validated; ConfigError names the spot."""
    if path is None:
        local = Path.cwd() / CONFIG_NAME
        if not local.is_file():
            return Config()
        path = local
    raw = _read_toml(path)
    with_nul = _key_with_nul(raw)
    if with_nul:
        raise ConfigError(
            f"{display_path(path)}: {one_line(with_nul)[:80]}: holds a NUL character (\\u0000), "
            f"which no file name or setting can carry; remove it",
            path=path,
        )
    from pydantic import ValidationError

    try:
        parsed = _schema().model_validate(raw)
    except RecursionError as exc:
        raise ConfigError(f"{display_path(path)}: nested too deeply to be a dubkit.toml; "
                          f"see examples/dubkit.toml", path=path) from exc  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{path}: {where}: {first['msg']} ({exc.error_count()} problem(s)); "
            f"see examples/dubkit.toml",
            path=path,
        ) from exc
    data: dict[str, Any] = parsed.model_dump(exclude_none=True)
    base = path.parent if path.parent != Path.cwd() else Path(".")  # short messages for ./
    return Config(
        path=path,
        transcribe=_section(RecognitionConfig, data.get("transcribe", {})),
        translate=_beside(_section(TranslationConfig, data.get("translate", {})), base),
        glossary_files=tuple(base / f for f in data.get("glossary", {}).get("files", [])),
        profiles=data.get("profiles", {}),
    )


def resolve_profile(
    name: str | None, config: Config, overrides: dict[str, Any] | None = None
) -> Profile:
    """A built-in or configured profile, with command-line overrides applied last."""
    name = name or config.transcribe.profile or DEFAULT_PROFILE
    configured = config.profiles
    profile = _named_profile(name, configured, seen=())
    changes = {k: v for k, v in (overrides or {}).items() if v is not None}
    try:
        chosen = replace(profile, **changes) if changes else profile
    except ValueError as exc:
        raise ConfigError(f"{exc}; adjust the options") from exc
    check_rate(chosen.fps, f"profile {chosen.name}: fps")
    return chosen


def _named_profile(
    name: str, configured: Mapping[str, Mapping[str, Any]], seen: tuple[str, ...]
) -> Profile:
    if name in seen:
        raise ConfigError(f"profile {name!r} is based on itself ({' -> '.join(seen)})")
    if name not in configured:
        if name in BUILTIN_PROFILES:
            return BUILTIN_PROFILES[name]
        known = sorted(set(BUILTIN_PROFILES) | set(configured))
        raise ConfigError(f"unknown profile {name!r}; choose one of {', '.join(known)}")
    section = dict(configured[name])
    base_name = section.pop("base", None)
    base = _named_profile(base_name, configured, (*seen, name)) if base_name else Profile(name=name)
    allowed = {f.name for f in fields(Profile)} - {"name"}
    try:
        return replace(base, name=name, **{k: v for k, v in section.items() if k in allowed})
    except ValueError as exc:
        raise ConfigError(f"{exc}; fix [profiles.{name}] in {CONFIG_NAME}") from exc
