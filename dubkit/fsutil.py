"""Writing files so that an interrupted run never leaves a half-written one."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from pathlib import Path

from dubkit.errors import OutputError


def ensure_writable_dir(folder: Path) -> Path:
    """Create `folder` if needed and prove a file can be written there, or say why not."""
    try:
        if folder.exists() and not folder.is_dir():
            raise OutputError(
                f"{folder}: exists and is not a folder; choose another -o", path=folder
            )
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".dubkit-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot write here ({exc.strerror or exc}); choose another folder with -o "
            f"or fix its permissions",
            path=folder,
        ) from exc
    return folder


def atomic_write_all(files: dict[Path, bytes]) -> None:
    """Write every file to a temporary name first; rename them only once all are written.

    A failure part-way leaves none of the new files and the old ones untouched.
    """
    temps: dict[Path, str] = {}
    current = next(iter(files), Path("."))
    try:
        for current, data in files.items():
            if current.is_dir():  # caught here, so that no rename below can fail for it
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(current))
            fd, temps[current] = tempfile.mkstemp(
                prefix=f".{current.name}.", suffix=".tmp", dir=current.parent
            )
            os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; honour the user's umask
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for current, tmp in list(temps.items()):
            os.replace(tmp, current)
            del temps[current]
    except OSError as exc:
        hint = (
            "free some space or choose another folder with -o"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else "check the path and permissions, or choose another folder with -o"
        )
        raise OutputError(
            f"{current}: cannot write ({exc.strerror or exc}); {hint}", path=current
        ) from exc
    finally:
        for tmp in temps.values():
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's content, read in 1 MiB blocks (models run to gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def display_path(path: Path) -> str:
    """A path as text that always encodes (undecodable bytes in names become \\xNN)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
