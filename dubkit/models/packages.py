"""Argos Translate packages: find them, install them safely, pull them from the index; routes.

A package (`.argosmodel`) is a zip with one top-level folder holding `metadata.json`, a
CTranslate2 model in `model/` and a tokenizer (`sentencepiece.model`, or `bpe.model`). dubkit
reads packages from its own store and from Argos Translate's folders, so packages installed by
`argospm` work as they are; argostranslate itself is never imported.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import reprlib
import shutil
import socket
import stat
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlparse

from dubkit import constants as C
from dubkit.errors import ModelUnavailable, OutputError
from dubkit.escape import one_line
from dubkit.fsutil import (
    NotReadable,
    atomic_write_all,
    parse_json,
    read_limited,
    replace_folder,
    sha256_file,
)
from dubkit.models.checks import LoadChecks
from dubkit.models.jsonfiles import read_json
from dubkit.models.jsonfiles import reason as json_reason
from dubkit.models.store import ByteProgress, dubkit_home, models_dir, new_staging

ARGOS_INDEX_URL = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"
INDEX_MAX_AGE_S = 24 * 3600  # the index changes a few times a year; refresh daily
MANIFEST = "dubkit-package.json"
TOKENIZERS = ("sentencepiece.model", "bpe.model")
# Stored and deflated only: zipfile inflates deflate in bounded steps, but decompresses a
# bzip2 or LZMA read whole (785 bytes of bzip2 are 1 GiB of zeros, all in memory at once).
# argospm's packages are deflated.
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_CHUNK = 1 << 20
_CODE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?")
_SHA256 = re.compile(r"(?:sha256:)?[0-9A-Fa-f]{64}")
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 40
_REPR.maxlevel = 2


def _shown(value: object) -> str:
    """A value from a package or the index, quoted short and escaped (nested values elided)."""
    return _REPR.repr(value)


def _refusal(exc: NotReadable) -> str:
    if exc.code == "not-a-file":
        return f"is {exc.kind}, not a file"
    return f"is too large ({exc.size:,} bytes, at most {C.MAX_PACKAGE_JSON_BYTES:,})"


@dataclass(frozen=True, slots=True)
class ArgosPackage:
    """One installed translation package (one direction)."""

    from_code: str
    to_code: str
    version: str
    path: Path
    origin: str  # "dubkit", "argos" or "extra"
    tokenizer: str  # file name of the tokenizer model
    target_prefix: str = ""
    code: str = ""
    from_name: str = ""
    to_name: str = ""

    @property
    def pair(self) -> str:
        return f"{self.from_code}-{self.to_code}"

    @property
    def label(self) -> str:
        return f"{self.code or 'translate-' + self.from_code + '_' + self.to_code} {self.version}"

    def fingerprint(self) -> str:
        """A content hash of the model and tokenizer: the identity the translation memory uses.

        dubkit's store records it at install time; other folders are hashed when first used
        (about 0.3 s per 100 MB) and remembered by file size and modification time.
        """
        return _fingerprint(self.path, self.tokenizer)


@dataclass(frozen=True, slots=True)
class Route:
    """The packages that take text from one language to another, in order."""

    source: str
    target: str
    stages: tuple[ArgosPackage, ...]

    @property
    def kind(self) -> str:
        return "direct" if len(self.stages) == 1 else "pivot"

    @property
    def description(self) -> str:
        codes = [self.stages[0].from_code, *(p.to_code for p in self.stages)]
        return "→".join(codes)


# ------------------------------------------------------------------------------- discovery


def store_dir() -> Path:
    """dubkit's own package folder."""
    return models_dir() / "argos"


def argos_dirs() -> list[Path]:
    """Argos Translate's package folders: ARGOS_PACKAGES_DIR (environment, then its
    settings.json), else $XDG_DATA_HOME/argos-translate/packages."""
    if env := os.environ.get("ARGOS_PACKAGES_DIR"):
        return [Path(env).expanduser()]
    home = Path.home()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    try:
        settings = read_json(config / "argos-translate" / "settings.json")
        if isinstance(settings, dict) and isinstance(settings.get("ARGOS_PACKAGES_DIR"), str):
            return [Path(settings["ARGOS_PACKAGES_DIR"]).expanduser()]
    except (OSError, ValueError):
        pass  # Argos itself would fail on it; its default folder is the best guess
    data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return [data / "argos-translate" / "packages"]


def search_dirs(extra: Sequence[Path] = ()) -> list[tuple[Path, str]]:
    """Where packages are looked for, first match wins on equal versions."""
    env_extra = [Path(p) for p in os.environ.get("DUBKIT_PACKAGES", "").split(os.pathsep) if p]
    found = [(Path(p).expanduser(), "extra") for p in [*extra, *env_extra]]
    found.append((store_dir(), "dubkit"))
    found += [(p, "argos") for p in argos_dirs()]
    return found


def installed_packages(extra: Sequence[Path] = ()) -> list[ArgosPackage]:
    """Every readable translation package in the search folders (unreadable ones skipped)."""
    packages = []
    for root, origin in search_dirs(extra):
        for folder in sorted(root.iterdir()) if root.is_dir() else []:
            if folder.name.startswith(".") or not (folder / "metadata.json").is_file():
                continue
            try:
                packages.append(read_package(folder, origin))
            except ModelUnavailable:
                continue
    return packages


def broken_packages(extra: Sequence[Path] = ()) -> list[tuple[Path, str]]:
    """Package folders that cannot be used, with the reason (for `models list`)."""
    broken = []
    for root, origin in search_dirs(extra):
        for folder in sorted(root.iterdir()) if root.is_dir() else []:
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            try:
                read_package(folder, origin)
            except ModelUnavailable as exc:
                broken.append((folder, str(exc)))
    return broken


def read_package(folder: Path, origin: str = "extra") -> ArgosPackage:
    """Read and check a package folder's metadata and files (without loading the model)."""
    meta = read_metadata(folder / "metadata.json")
    if meta.get("type", "translate") != "translate":
        raise ModelUnavailable(
            f"{folder}: a {_shown(meta['type'])} package, not a translation package"
        )
    if not (folder / "model" / "model.bin").is_file():
        raise ModelUnavailable(
            f"{folder}: no model/model.bin (a CTranslate2 model) in the package; reinstall it",
            path=folder,
        )
    tokenizer = next((t for t in TOKENIZERS if (folder / t).is_file()), None)
    if tokenizer is None:
        raise ModelUnavailable(
            f"{folder}: no sentencepiece.model or bpe.model in the package; reinstall it",
            path=folder,
        )
    return ArgosPackage(
        from_code=meta["from_code"],
        to_code=meta["to_code"],
        version=str(meta.get("package_version", "")),
        path=folder,
        origin=origin,
        tokenizer=tokenizer,
        target_prefix=str(meta.get("target_prefix") or ""),
        code=str(meta.get("code") or ""),
        from_name=str(meta.get("from_name") or ""),
        to_name=str(meta.get("to_name") or ""),
    )


def read_metadata(path: Path) -> dict[str, Any]:
    """metadata.json as a dict with valid from_code and to_code; ModelUnavailable otherwise."""
    try:
        data = read_json(path)
    except FileNotFoundError as exc:
        raise ModelUnavailable(f"{path.parent}: no metadata.json; not an Argos package") from exc
    except NotReadable as exc:
        raise ModelUnavailable(
            f"{path}: metadata.json {_refusal(exc)}; reinstall the package", path=path
        ) from exc
    except OSError as exc:
        raise ModelUnavailable(
            f"{path}: cannot read metadata.json ({exc.strerror or exc}); reinstall the package",
            path=path,
        ) from exc
    except ValueError as exc:
        raise ModelUnavailable(
            f"{path}: metadata.json is not valid JSON ({json_reason(exc)}); reinstall the package",
            path=path,
        ) from exc
    return check_metadata(data, str(path))


def check_metadata(data: Any, where: str) -> dict[str, Any]:
    problem = _metadata_problem(data)
    if problem:
        raise ModelUnavailable(f"{where}: metadata.json {problem}")
    return dict(data)


def _metadata_problem(data: Any) -> str | None:
    """What is wrong with a package's metadata (or an index entry, which has the same keys)."""
    if not isinstance(data, dict):
        return f"must hold a JSON object, not {_json_kind(data)}"
    for key in ("from_code", "to_code"):
        value = data.get(key)
        if not isinstance(value, str) or not _CODE.fullmatch(value):
            return f"needs {key} as a language code like 'zh' or 'ur', got {_shown(value)}"
    for key in ("package_version", "code", "from_name", "to_name", "target_prefix", "type"):
        if key in data and not isinstance(data[key], str):
            return f"{key} must be text, got {_shown(data[key])}"
    return None


def _json_kind(value: object) -> str:
    kinds: tuple[tuple[type | tuple[type, ...], str], ...] = (
        (dict, "an object"), (list, "a list"), (str, "a string"), (bool, "a boolean"),
        ((int, float), "a number"),
    )  # fmt: skip
    return next((name for cls, name in kinds if isinstance(value, cls)), "null")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version)) or (0,)


def best_packages(packages: Iterable[ArgosPackage]) -> dict[tuple[str, str], ArgosPackage]:
    """The package to use for each language pair: highest version, then search order."""
    best: dict[tuple[str, str], ArgosPackage] = {}
    for package in packages:
        key = (package.from_code, package.to_code)
        if key not in best or _version_key(package.version) > _version_key(best[key].version):
            best[key] = package
    return best


def find_route(
    source: str,
    target: str,
    packages: Iterable[ArgosPackage],
    mode: str = "auto",
    pivots: Sequence[str] = ("en",),
) -> Route | None:
    """A direct package when installed (mode auto or direct), else source→pivot→target."""
    best = best_packages(packages)
    if mode not in ("auto", "direct", "pivot"):
        raise ModelUnavailable(f"route mode {mode!r}: choose auto, direct or pivot")
    if mode != "pivot" and (source, target) in best:
        return Route(source, target, (best[source, target],))
    if mode == "direct":
        return None
    for pivot in pivots:
        first, second = best.get((source, pivot)), best.get((pivot, target))
        if first is not None and second is not None:
            return Route(source, target, (first, second))
    return None


def no_route_message(source: str, target: str, mode: str = "auto") -> str:
    return (
        f"no {source}→{target} translation route installed ({mode}); run "
        f"`dubkit models pull argos:{source}-{target}` on a machine with internet, or "
        f"`dubkit models install FILE.argosmodel` for each package"
    )


# ------------------------------------------------------------------------------ install


def install_archive(
    archive: Path,
    into: Path | None = None,
    expect: tuple[str, str] | None = None,
    source: str | None = None,
    *,
    checks: LoadChecks,
) -> ArgosPackage:
    """Install an `.argosmodel` after checking it; nothing is left behind when it fails.

    Refused: not a zip, members with absolute paths, `..`, links or odd file types, not
    exactly one top-level folder, a zip bomb (more than MAX_PACKAGE_BYTES unpacked, more than
    PACKAGE_MAX_MEMBERS members, or unpacking to more than PACKAGE_MAX_RATIO times its size),
    a bad metadata.json, no tokenizer, or a model or tokenizer `checks` cannot load (CTranslate2
    and SentencePiece, dubkit.adapters.modelfiles). Extraction goes to
    a hidden staging folder beside the target, renamed into place only when every check
    passed, and counts the bytes it writes: a member's header cannot lie its way past.
    """
    archive = archive.expanduser()
    root = (into or store_dir()).expanduser()
    if not archive.is_file():
        raise ModelUnavailable(f"{archive}: no such file; give an .argosmodel file", path=archive)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelUnavailable(
            f"{archive}: not an Argos package (not a zip archive: {exc}); download it again",
            path=archive,
        ) from exc
    with zf:
        top = _check_members(archive, zf.infolist(), archive.stat().st_size)
        staging = new_staging(root, "install")
        try:
            _extract(archive, zf, top, staging)
            package = read_package(staging, "dubkit")
            if expect and (package.from_code, package.to_code) != expect:
                raise ModelUnavailable(
                    f"{archive}: holds a {package.pair} package, expected "
                    f"{expect[0]}-{expect[1]}; nothing was installed",
                    path=archive,
                )
            checks.translator_loads(staging / "model", archive)
            checks.tokenizer_loads(staging / package.tokenizer, archive)
            # The folder is named from the checked metadata, never from the archive, and only
            # an older copy of the same package may be replaced.
            target = root / folder_name(package)
            _check_replaceable(archive, target, package)
            _write_manifest(staging, package, source or f"file:{archive.resolve()}", archive)
            replace_folder(staging, target)
        except OSError as exc:
            raise ModelUnavailable(
                f"{archive}: install into {root} failed ({exc.strerror or exc}); nothing was "
                f"installed — free some space, or choose a writable folder",
                path=archive,
            ) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return read_package(target, "dubkit" if into is None else "extra")


def folder_name(package: ArgosPackage) -> str:
    """translate-zh_en-1_9, as argospm names its downloads."""
    version = re.sub(r"[^0-9A-Za-z]+", "_", package.version).strip("_")
    return f"translate-{package.from_code}_{package.to_code}" + (f"-{version}" if version else "")


def _check_replaceable(archive: Path, target: Path, package: ArgosPackage) -> None:
    if not target.exists() and not target.is_symlink():
        return
    try:
        existing = read_metadata(target / "metadata.json")
    except ModelUnavailable:
        existing = None
    if (
        target.is_symlink()
        or existing is None
        or (existing["from_code"], existing["to_code"]) != (package.from_code, package.to_code)
    ):
        raise ModelUnavailable(
            f"{archive}: {target} exists and is not a {package.pair} package, so it was left "
            f"alone and nothing was installed; move it away or install with --dir elsewhere",
            path=target,
        )


def _check_members(archive: Path, members: list[zipfile.ZipInfo], archive_size: int) -> str:
    def refuse(why: str) -> ModelUnavailable:
        return ModelUnavailable(
            f"{archive}: refused, {why}; nothing was installed — get the package from a "
            f"trusted source",
            path=archive,
        )

    if len(members) > C.PACKAGE_MAX_MEMBERS:
        raise refuse(
            f"it holds {len(members):,} members, more than the {C.PACKAGE_MAX_MEMBERS:,} a "
            f"package may hold (a zip bomb)"
        )
    tops: set[str] = set()
    total = 0
    for info in members:
        name = info.filename
        posix = PurePosixPath(name.replace("\\", "/"))
        mode = info.external_attr >> 16
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or posix.is_absolute():
            raise refuse(f"member {name!r} has an absolute path")
        if ".." in posix.parts:
            raise refuse(f"member {name!r} climbs out of the folder with '..'")
        if stat.S_ISLNK(mode):
            raise refuse(f"member {name!r} is a symbolic link")
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):  # 0: no type recorded
            raise refuse(f"member {name!r} is not a regular file or folder")
        if not posix.parts:
            continue
        tops.add(posix.parts[0])
        if len(posix.parts) == 1 and not info.is_dir():
            raise refuse(f"file {name!r} lies outside the package's top-level folder")
        if _bomb(info.file_size, info.compress_size):
            raise refuse(
                f"member {_shown(name)} would unpack to {info.file_size:,} bytes from "
                f"{info.compress_size:,}, more than {C.PACKAGE_MAX_RATIO} times its size (a "
                f"zip bomb)"
            )
        total += info.file_size
    if len(tops) != 1:
        raise refuse(
            f"an Argos package has exactly one top-level folder, this one has {len(tops)}"
            + (f" ({', '.join(sorted(tops)[:4])})" if tops else "")
        )
    if total > C.MAX_PACKAGE_BYTES:
        raise refuse(
            f"it would unpack to {total:,} bytes, more than the {C.MAX_PACKAGE_BYTES:,} a "
            f"package may hold (a zip bomb)"
        )
    if _bomb(total, archive_size):  # many small members, or members sharing their data
        raise refuse(
            f"it would unpack to {total:,} bytes from {archive_size:,}, more than "
            f"{C.PACKAGE_MAX_RATIO} times its size (a zip bomb)"
        )
    top = tops.pop()
    if top.startswith(".") or not re.fullmatch(r"[\w.+-]{1,128}", top):
        raise refuse(f"its folder name {top!r} is not a plain name")
    return top


def _bomb(unpacked: int, packed: int) -> bool:
    """Whether `packed` bytes unpacking to `unpacked` is a compression ratio no model has."""
    return unpacked > C.PACKAGE_RATIO_FLOOR and unpacked > C.PACKAGE_MAX_RATIO * max(packed, 1)


class _TooLong(ValueError):
    """A member gave more bytes than its header claims, or than a package may hold."""


def _copy_member(src: IO[bytes], out: IO[bytes], declared: int, budget: int) -> int:
    """Copy one member: at most its declared size and the budget left, else _TooLong."""
    allowed = min(declared, budget)
    done = 0
    while chunk := src.read(min(_CHUNK, allowed - done + 1)):
        done += len(chunk)
        if done > allowed:
            if declared <= budget:
                plural = "" if declared == 1 else "s"
                raise _TooLong(f"more than the {declared:,} byte{plural} its header claims")
            raise _TooLong(f"more than the {C.MAX_PACKAGE_BYTES:,} bytes a package may hold")
        out.write(chunk)
    return done


def _extract(archive: Path, zf: zipfile.ZipFile, top: str, staging: Path) -> None:
    """Extract members under `top` into `staging`, by our own checked paths, checking CRCs
    and counting what is written (never more than the headers claim, nor MAX_PACKAGE_BYTES)."""

    def damaged(info: zipfile.ZipInfo, why: object) -> ModelUnavailable:
        return ModelUnavailable(
            f"{archive}: damaged or unsupported archive ({info.filename}: {why}); nothing was "
            f"installed — download it again",
            path=archive,
        )

    for info in zf.infolist():
        if info.flag_bits & 0x1:
            raise damaged(info, "encrypted")
        if info.compress_type not in _COMPRESSIONS:
            raise damaged(
                info,
                f"compression method {info.compress_type} is not supported; Argos packages "
                f"are stored or deflated",
            )
    written = 0
    for info in zf.infolist():
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts[1:]
        if not parts:
            continue
        dest = staging.joinpath(*parts)
        try:
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, dest.open("xb") as out:
                written += _copy_member(src, out, info.file_size, C.MAX_PACKAGE_BYTES - written)
        except _TooLong as exc:
            raise damaged(info, exc) from exc
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError) as exc:
            raise damaged(info, exc) from exc
        except RuntimeError as exc:  # zipfile's "File is encrypted" and similar
            raise damaged(info, exc) from exc
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.EISDIR, errno.ENOTDIR):  # a path twice
                raise damaged(info, "the same path twice, as file and folder") from exc
            raise


def _write_manifest(folder: Path, package: ArgosPackage, source: str, archive: Path) -> None:
    model = folder / "model" / "model.bin"
    doc = {
        "pair": package.pair,
        "version": package.version,
        "source": source,
        "archive_sha256": sha256_file(archive),
        "fingerprint": _content_hash(folder, package.tokenizer),
        "model_size": model.stat().st_size,
        "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (folder / MANIFEST).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def remove_package(package: ArgosPackage) -> None:
    if package.origin != "dubkit":
        raise ModelUnavailable(
            f"{package.path}: not in dubkit's store; remove it with argospm or by hand"
        )
    shutil.rmtree(package.path)


# -------------------------------------------------------------------------- fingerprints


def _content_hash(folder: Path, tokenizer: str) -> str:
    digest = hashlib.sha256()
    for rel in ("metadata.json", tokenizer):
        digest.update(rel.encode() + b"\0" + sha256_file(folder / rel).encode())
    model = folder / "model"
    for path in sorted(p for p in model.rglob("*") if p.is_file()):
        digest.update(path.relative_to(model).as_posix().encode() + b"\0")
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


_FINGERPRINTS: dict[tuple[str, int, int], str] = {}


def _fingerprint(folder: Path, tokenizer: str) -> str:
    model = folder / "model" / "model.bin"
    st = model.stat()
    key = (str(folder.resolve()), st.st_size, st.st_mtime_ns)
    if key in _FINGERPRINTS:
        return _FINGERPRINTS[key]
    try:
        manifest = read_json(folder / MANIFEST)
    except (OSError, ValueError):
        manifest = None  # hashed again below
    if (
        isinstance(manifest, dict)
        and manifest.get("model_size") == st.st_size
        and isinstance(manifest.get("fingerprint"), str)
        and (folder / MANIFEST).stat().st_mtime_ns >= st.st_mtime_ns
    ):
        value = str(manifest["fingerprint"])
    else:
        value = _content_hash(folder, tokenizer)
    _FINGERPRINTS[key] = value
    return value


# ---------------------------------------------------------------------------------- pull


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One package in the Argos index."""

    from_code: str
    to_code: str
    version: str
    links: tuple[str, ...]
    code: str = ""
    sha256: str | None = None  # not in Argos's own index; honoured when a mirror adds it
    size: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def index_url(override: str | None = None) -> str:
    """--index, else DUBKIT_ARGOS_INDEX, else ARGOS_PACKAGE_INDEX (a base URL, as Argos
    reads it), else the public argospm index."""
    if override:
        return override
    if env := os.environ.get("DUBKIT_ARGOS_INDEX"):
        return env
    if base := os.environ.get("ARGOS_PACKAGE_INDEX"):
        return base if base.endswith(".json") else base.rstrip("/") + "/index.json"
    return ARGOS_INDEX_URL


def cache_dir() -> Path:
    return dubkit_home() / "cache"


Fetch = Callable[[str], Any]


def load_index(
    url: str, refresh: bool = False, notices: list[str] | None = None
) -> list[IndexEntry]:
    """The package index, from a cache younger than a day or from `url` (then cached).

    When the network fails and a cached copy exists, the cached copy is used with a notice.
    Malformed entries are skipped with a notice (see `parse_index`).
    """
    cache = cache_dir() / f"argos-index-{hashlib.sha256(url.encode()).hexdigest()[:12]}.json"
    fresh = cache.is_file() and time.time() - cache.stat().st_mtime < INDEX_MAX_AGE_S
    if fresh and not refresh:
        try:
            return parse_index(read_limited(cache, C.MAX_INDEX_BYTES), str(cache), notices)
        except (ModelUnavailable, OSError, ValueError):
            pass  # a damaged cache: fetch again
    try:
        data = _get_bytes(url)
        entries = parse_index(data, url, notices)
    except ModelUnavailable as exc:
        if cache.is_file():
            if notices is not None:
                notices.append(f"{exc}; using the cached index from {_age(cache)}")
            try:
                cached = read_limited(cache, C.MAX_INDEX_BYTES)
            except (OSError, ValueError):
                raise exc from None
            return parse_index(cached, str(cache), notices)
        raise
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_all({cache: data})
    except (OSError, OutputError) as exc:
        reason = exc.__cause__ or exc  # an OutputError's: the OSError under it
        if notices is not None:
            notices.append(
                f"{cache}: cannot cache the index ({getattr(reason, 'strerror', None) or reason})"
            )
    return entries


def _age(path: Path) -> str:
    hours = (time.time() - path.stat().st_mtime) / 3600
    return f"{hours:.0f} h ago" if hours < 48 else f"{hours / 24:.0f} days ago"


def parse_index(data: bytes, where: str, notices: list[str] | None = None) -> list[IndexEntry]:
    """The translation packages an index lists. Entries of another type are left out; entries
    of the wrong shape (links not a list of URLs, a version that is not text...) are skipped,
    with one notice naming the first few."""
    try:
        doc = parse_json(data)
    except ValueError as exc:
        raise ModelUnavailable(
            f"{where}: the package index is not valid JSON ({json_reason(exc)})"
        ) from exc
    if not isinstance(doc, list):
        raise ModelUnavailable(f"{where}: the package index must be a JSON list of packages")
    entries = []
    skipped = []
    for n, item in enumerate(doc, start=1):
        try:
            entry = _index_entry(item)
        except ValueError as exc:
            skipped.append(f"entry {n}{_entry_name(item)}: {exc}")
            continue
        if entry is not None:
            entries.append(entry)
    if skipped and notices is not None:
        count = "1 malformed entry" if len(skipped) == 1 else f"{len(skipped)} malformed entries"
        more = "; …" if len(skipped) > 3 else ""
        notices.append(f"{where}: {count} skipped ({'; '.join(skipped[:3])}{more})")
    return entries


def _index_entry(item: Any) -> IndexEntry | None:
    """One index entry; None for a package of another type; ValueError saying what is wrong."""
    if not isinstance(item, dict):
        raise ValueError(f"{_json_kind(item)}, not an object")
    if isinstance(item.get("type"), str) and item["type"] != "translate":
        return None
    problem = _metadata_problem(item)
    if problem:
        raise ValueError(problem)
    links = item.get("links", [])
    if not isinstance(links, list) or not all(isinstance(u, str) for u in links):
        raise ValueError(f"links must be a list of URLs, got {_shown(links)}")
    key = "sha256" if item.get("sha256") else "checksum"
    checksum = item.get(key)
    if checksum and (not isinstance(checksum, str) or not _SHA256.fullmatch(checksum)):
        raise ValueError(f"{key} must be 64 hexadecimal digits, got {_shown(checksum)}")
    size = item.get("size")
    if size is not None and (type(size) is not int or size < 0):
        raise ValueError(f"size must be a number of bytes, got {_shown(size)}")
    return IndexEntry(
        from_code=item["from_code"],
        to_code=item["to_code"],
        version=item.get("package_version", ""),
        links=tuple(u for u in links if _is_http(u)),  # others (ipfs:) are not fetched
        code=item.get("code", ""),
        sha256=checksum.removeprefix("sha256:").lower() if checksum else None,
        size=size,
        raw=item,
    )


def _entry_name(item: Any) -> str:
    """' (translate-zh_en)' for an entry with a code, escaped and cut short; else ''."""
    code = item.get("code") if isinstance(item, dict) else None
    if not isinstance(code, str) or not code:
        return ""
    return f" ({one_line(code[:60])}{'…' if len(code) > 60 else ''})"


def _is_http(url: str) -> bool:
    try:
        return urlparse(url).scheme in ("http", "https")
    except ValueError:  # "http://[::1" and the like
        return False


def plan_pull(
    entries: Sequence[IndexEntry], source: str, target: str, pivots: Sequence[str] = ("en",)
) -> list[IndexEntry]:
    """The index entries to download for source→target: direct when listed, else a pivot."""
    best: dict[tuple[str, str], IndexEntry] = {}
    for entry in entries:
        key = (entry.from_code, entry.to_code)
        if entry.links and (
            key not in best or _version_key(entry.version) > _version_key(best[key].version)
        ):
            best[key] = entry
    if (source, target) in best:
        return [best[source, target]]
    for pivot in pivots:
        if (source, pivot) in best and (pivot, target) in best:
            return [best[source, pivot], best[pivot, target]]
    listed = sorted(f"{a}-{b}" for a, b in best if source in (a, b) or target in (a, b))
    raise ModelUnavailable(
        f"the package index has no {source}→{target} route (direct or through "
        f"{', '.join(pivots)}); it lists {', '.join(listed) or 'nothing relevant'}"
    )


def parse_route_name(spec: str) -> tuple[str, str]:
    """'argos:zh-ur' (or 'zh-ur') → ('zh', 'ur')."""
    kind, _, pair = spec.rpartition(":")
    codes = pair.split("-")
    if kind not in ("", "argos") or len(codes) != 2 or not all(_CODE.fullmatch(c) for c in codes):
        raise ModelUnavailable(
            f"invalid package name {spec!r}: use argos:FROM-TO, e.g. argos:zh-ur"
        )
    return codes[0], codes[1]


def pull_route(
    source: str,
    target: str,
    url: str | None = None,
    progress: Callable[[str], ByteProgress | None] | None = None,
    refresh: bool = False,
    notices: list[str] | None = None,
    pivots: Sequence[str] = ("en",),
    *,
    checks: LoadChecks,
) -> list[ArgosPackage]:
    """Download, verify and install the packages the index lists for source→target."""
    heard: list[str] = []
    index = load_index(index_url(url), refresh, heard)
    if notices is not None:
        notices.extend(heard)
    try:
        entries = plan_pull(index, source, target, pivots)
    except ModelUnavailable as exc:  # the notices may say why: a malformed entry skipped
        if not heard:
            raise
        raise ModelUnavailable(f"{exc} ({'; '.join(heard)})") from exc
    installed = best_packages(installed_packages())
    result = []
    for entry in entries:
        have = installed.get((entry.from_code, entry.to_code))
        if have is not None and _version_key(have.version) >= _version_key(entry.version):
            result.append(have)
            continue
        label = entry.code or f"{entry.from_code}-{entry.to_code}"
        result.append(download_package(entry, progress(label) if progress else None, checks=checks))
    return result


def download_package(
    entry: IndexEntry, progress: ByteProgress | None = None, *, checks: LoadChecks
) -> ArgosPackage:
    """Fetch one package (trying its links in turn, all within PACKAGE_DEADLINE_S), verify
    it, install it."""
    downloads = cache_dir() / "downloads"
    errors: list[str] = []
    deadline = time.monotonic() + C.PACKAGE_DEADLINE_S
    for link in entry.links:
        if time.monotonic() >= deadline and errors:
            break
        try:
            downloads.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                prefix=".download-", suffix=".argosmodel", dir=downloads
            )
        except OSError as exc:
            raise ModelUnavailable(
                f"{downloads}: cannot store downloads ({exc.strerror or exc}); set DUBKIT_HOME "
                f"to a writable folder",
                path=downloads,
            ) from exc
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            digest = _download(link, tmp, progress, entry.size, deadline)
            if entry.sha256 and digest != entry.sha256:
                raise ModelUnavailable(
                    f"{link}: SHA-256 {digest[:12]}… does not match the index's "
                    f"{entry.sha256[:12]}…; the download is corrupt or tampered with"
                )
            return install_archive(
                tmp, expect=(entry.from_code, entry.to_code), source=f"index:{link}", checks=checks
            )
        except ModelUnavailable as exc:
            errors.append(str(exc))
        finally:
            tmp.unlink(missing_ok=True)
    more = f"; and {len(errors) - 3} more" if len(errors) > 3 else ""
    raise ModelUnavailable(
        f"could not install {entry.from_code}-{entry.to_code} {entry.version}: "
        f"{'; '.join(errors[:3]) or 'the index lists no http(s) link'}{more}; nothing was "
        f"installed"
    )


class _Watchdog:
    """Shuts the sockets of one download at its deadline, so that no read waits past it: the
    per-read timeout alone starts again with every byte (a server trickling a byte every 20 s,
    in the headers or the body, would hold a download for ever)."""

    def __init__(self, deadline: float) -> None:
        self.expired = False
        self._done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                self._shut(sock)
        return sock

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # socket.socket's own shutdown, also for a TLS socket: the blocked read then sees the
        # end of the stream. A socket closed (or handed to TLS) meanwhile has no descriptor.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _WatchedContext:
    """An SSLContext whose sockets the watchdog watches from before their handshake (a
    handshake can trickle too)."""

    def __init__(self, context: Any, watchdog: _Watchdog) -> None:
        self._context = context
        self._watchdog = watchdog

    def wrap_socket(self, sock: socket.socket, server_hostname: str | None = None) -> Any:
        tls = self._context.wrap_socket(
            sock, server_hostname=server_hostname, do_handshake_on_connect=False
        )
        self._watchdog.watch(tls)
        try:
            tls.do_handshake()
        except BaseException:
            tls.close()  # as ssl's own wrap_socket does when the handshake fails
            raise
        return tls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _open_url(url: str, watchdog: _Watchdog) -> Any:
    """urlopen, with every socket it opens (TLS or not) watched by `watchdog`."""
    import http.client
    import urllib.request

    def connect(*args: Any, **kwargs: Any) -> socket.socket:
        return watchdog.watch(socket.create_connection(*args, **kwargs))

    class Connection(http.client.HTTPConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = connect

    class TLSConnection(http.client.HTTPSConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = connect
            self._context = _WatchedContext(self._context, watchdog)  # type: ignore[has-type]

    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(Connection, req)

    class HTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            context = self._context  # type: ignore[attr-defined]
            return self.do_open(TLSConnection, req, context=context)

    request = urllib.request.Request(url, headers={"User-Agent": "dubkit"})
    opener = urllib.request.build_opener(HTTP, HTTPS)
    return opener.open(request, timeout=C.DOWNLOAD_READ_TIMEOUT_S)


def _get_bytes(url: str) -> bytes:
    """The package index at `url`: at most MAX_INDEX_BYTES, within INDEX_DEADLINE_S."""
    out = io.BytesIO()
    deadline = time.monotonic() + C.INDEX_DEADLINE_S
    _fetch(url, out, "fetch", "the package index", C.MAX_INDEX_BYTES, deadline, C.INDEX_DEADLINE_S)
    return out.getvalue()


def _download(
    url: str, dest: Path, progress: ByteProgress | None, size: int | None, deadline: float
) -> str:
    """Stream `url` into `dest`, at most MAX_PACKAGE_BYTES, by `deadline`; the SHA-256."""
    try:
        with dest.open("wb") as out:
            return _fetch(
                url, out, "download", "a translation package", C.MAX_PACKAGE_BYTES, deadline,
                C.PACKAGE_DEADLINE_S, progress, size,
            )  # fmt: skip
    except OSError as exc:
        raise ModelUnavailable(
            f"{dest}: cannot store the download ({exc.strerror or exc}); free some space or set "
            f"DUBKIT_HOME",
            path=dest,
        ) from exc


def _fetch(
    url: str,
    out: IO[bytes],
    verb: str,
    what: str,
    limit: int,
    deadline: float,
    allowed: float,
    progress: ByteProgress | None = None,
    size: int | None = None,
) -> str:
    """Stream `url` into `out`: at most `limit` bytes (a larger Content-Length is refused
    unread), all by `deadline` (time.monotonic()); the SHA-256 of what arrived. Truncation
    is an error."""
    import http.client
    import urllib.error

    def late() -> ModelUnavailable:
        return ModelUnavailable(
            f"{url}: the download of {what} did not finish within {allowed:g} s; retry on a "
            f"faster connection{_offline_hint()}"
        )

    digest = hashlib.sha256()
    done = total = 0
    with _Watchdog(deadline) as watchdog:
        try:
            with _open_url(url, watchdog) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else (size or 0)
                if total > limit:
                    raise ModelUnavailable(
                        f"{url}: refused, the server announces {total:,} bytes, larger than the "
                        f"limit of {limit:,} bytes for {what}"
                    )
                read = getattr(response, "read1", response.read)  # read1: what has arrived
                while chunk := read(_CHUNK):
                    done += len(chunk)
                    if done > limit:
                        raise ModelUnavailable(
                            f"{url}: refused, the download ran past the limit of {limit:,} "
                            f"bytes for {what}"
                        )
                    if time.monotonic() > deadline:
                        raise late()
                    out.write(chunk)
                    digest.update(chunk)
                    if progress:
                        progress(done, total)
        except http.client.IncompleteRead as exc:
            if watchdog.expired:
                raise late() from exc
            raise ModelUnavailable(
                f"{url}: download cut off after {done + len(exc.partial)} bytes; retry"
            ) from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            if watchdog.expired:
                raise late() from exc
            raise ModelUnavailable(
                f"cannot {verb} {url} ({_reason(exc)}){_offline_hint()}"
            ) from exc
        if watchdog.expired:  # the stream ended because the watchdog shut it
            raise late()
    if total and done != total:
        raise ModelUnavailable(f"{url}: download cut off at {done} of {total} bytes; retry")
    return digest.hexdigest()


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
    return " ".join(str(reason).split())


def _offline_hint() -> str:
    return (
        "; on a machine without internet, download the .argosmodel files elsewhere and run "
        "`dubkit models install FILE.argosmodel`"
    )
