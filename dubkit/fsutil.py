"""Writing files so that an interrupted run never leaves a half-written one."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from dubkit.errors import OutputError
from dubkit.escape import display_text, one_line


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
    with atomic_paths(files) as temps:
        for path, data in files.items():
            try:
                with open(temps[path], "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise write_error(path, exc) from exc


@contextlib.contextmanager
def atomic_paths(targets: Iterable[Path]) -> Iterator[dict[Path, Path]]:
    """A temporary file beside each target for the block to write (a stream, another
    program); all are renamed over their targets once the block succeeds, else removed. All
    or none: if one rename fails, the targets already replaced get their old versions back
    (a symlink at a target is replaced, never followed, and put back as the symlink).

    An OSError becomes an OutputError naming the target (the last one, when the block's own
    OSError cannot say which).
    """
    temps: dict[Path, Path] = {}
    current = Path(".")
    try:
        for current in targets:
            if current.is_dir():  # caught here, so that no rename below can fail for it
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(current))
            fd, name = tempfile.mkstemp(
                prefix=f".{current.name}.", suffix=".tmp", dir=current.parent
            )
            temps[current] = Path(name)
            try:
                os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; honour the user's umask
            finally:
                os.close(fd)
        yield dict(temps)
        # One rename is all or nothing by itself. With several, a rename can still fail part-way
        # (a folder or a bind mount at the name, EBUSY, an immutable file): so each old version
        # is kept under a second name first, and the ones already replaced are put back.
        olds: dict[Path, Path | None] = {}  # target: its old version, None where it had none
        try:
            if len(temps) > 1:
                for current in temps:
                    olds[current] = _keep_old(current)
            for current, tmp in list(temps.items()):
                os.replace(tmp, current)
                del temps[current]
        except OSError:
            for target in [target for target in olds if target not in temps]:  # replaced
                old = olds.pop(target)
                with contextlib.suppress(OSError):  # if this fails, the old copy stays beside it
                    if old is None:
                        os.unlink(target)
                    else:
                        os.replace(old, target)
            raise
        finally:
            for old in olds.values():
                if old is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(old)
    except OSError as exc:
        raise write_error(current, exc) from exc
    finally:
        for tmp in temps.values():
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _keep_old(target: Path) -> Path | None:
    """A hidden second name beside `target` for what is there now, or None when nothing is.
    A hard link costs nothing and keeps the very entry: content, mode, owner, and a symlink as
    a symlink, never followed. Raises OSError."""
    old = target.with_name(f".{target.name}.{secrets.token_hex(6)}.old")
    try:
        os.link(target, old, follow_symlinks=False)
        return old
    except FileNotFoundError:
        return None
    except OSError as exc:
        link_error = exc
    # Some file systems, and Linux's protected_hardlinks for another user's file, refuse hard
    # links: copy instead. Never move the target aside: its name would go missing meanwhile.
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        os.symlink(os.readlink(target), old)
        return old
    if not stat.S_ISREG(info.st_mode):  # a folder, a FIFO, a device: never opened
        raise link_error
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # in case it was swapped since lstat
    try:
        with os.fdopen(os.open(target, flags), "rb") as src, open(old, "xb") as dst:
            shutil.copyfileobj(src, dst)
            os.fchmod(dst.fileno(), stat.S_IMODE(info.st_mode))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(old)  # no partial copy left behind
        raise
    return old


def staging_folder(target: Path, mode: int | None = None) -> Path:
    """A hidden, unique, empty folder beside `target` (its parent created if needed) to build
    a new `target` in; `mode` None honours the user's umask. Raises OSError."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    staging.chmod(0o777 & ~_umask() if mode is None else mode)  # mkdtemp makes 0700
    return staging


def replace_folder(staging: Path, target: Path) -> None:
    """Swap the finished folder `staging` into place as `target`. An older `target` is moved
    aside first, put back if the swap fails, and removed only once it succeeded. Raises
    OSError."""
    old = None
    if target.exists():
        # A unique empty folder, which rename(2) replaces: a leftover from a crashed run
        # (containers reuse PIDs) can never block the swap.
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        try:
            os.replace(target, old)
        except OSError:
            old.rmdir()
            raise
    try:
        os.replace(staging, target)
    except OSError:
        if old is not None:
            os.replace(old, target)  # put the previous copy back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_creatable(path: Path) -> None:
    """OutputError (write_error's) unless `path` could be written: its nearest existing folder
    is a folder this process may write in. Creates nothing, so long work can check its
    destination before it starts."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise write_error(path, NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise write_error(path, PermissionError(errno.EACCES, os.strerror(errno.EACCES)))


def write_error(path: Path, exc: OSError) -> OutputError:
    """The one-line error for a file or folder that cannot be written, with the fix."""
    hint = (
        "free some space or choose another folder with -o"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT)
        else "check the path and permissions, or choose another folder with -o"
    )
    return OutputError(f"{path}: cannot write ({exc.strerror or exc}); {hint}", path=path)


def scratch_error(exc: OSError, what: str) -> OutputError:
    """The one-line error for a temporary file that cannot be made or written ($TMPDIR
    full, read-only or missing), saying what it is for and the fix."""
    import tempfile

    folder = tempfile.gettempdir()
    return OutputError(
        f"{folder}: cannot write {what} there ({exc.strerror or exc}); free some space there "
        f"or set TMPDIR to a folder with room",
        path=Path(folder),
    )


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
    """A path as one line of text that always encodes (undecodable bytes in names become
    \\xNN, control characters their escapes)."""
    return one_line(display_text(os.fspath(path)))


class NotReadable(ValueError):
    """A path dubkit refuses to read: `code` "not-a-file" (with the `kind` it is: a FIFO
    would block the read, a device never end) or "too-large" (with its `size`)."""

    def __init__(self, code: str, kind: str = "", size: int = 0) -> None:
        super().__init__(kind or f"{size} bytes")
        self.code, self.kind, self.size = code, kind, size


_KINDS = (
    (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
)  # fmt: skip


def check_readable(info: os.stat_result, limit: int) -> None:
    """NotReadable unless `info` is a regular file of at most `limit` bytes."""
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "a special file")
        raise NotReadable("not-a-file", kind=kind)
    if info.st_size > limit:
        raise NotReadable("too-large", size=info.st_size)


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or NotReadable (OSError when it
    cannot be opened). Checked before opening (opening a FIFO blocks) and again once open and
    non-blocking (the path may have been swapped in between); never reads past the limit."""
    check_readable(os.stat(path), limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    with os.fdopen(os.open(path, flags), "rb") as handle:
        info = os.fstat(handle.fileno())
        check_readable(info, limit)
        # read(n) sets n bytes aside first: ask for the file's size, not the limit's
        data = handle.read(info.st_size + 1)
        if len(data) > info.st_size:  # it grew after fstat: read on, never past the limit
            data += handle.read(limit + 1 - len(data))
    if len(data) > limit:
        raise NotReadable("too-large", size=len(data))
    return data


def json_bytes(doc: object) -> bytes:
    """`doc` as indented JSON in UTF-8, Chinese and Urdu as written; a file name that is not
    UTF-8 (its undecodable bytes are lone surrogates in Python) makes the whole document
    ASCII with \\u escapes instead, still valid JSON that reads back to the same name."""
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(doc, ensure_ascii=True, indent=2) + "\n").encode("ascii")


def parse_json(data: bytes) -> Any:
    """The value `data` holds; ValueError when it is not UTF-8 JSON, nesting too deep for
    Python's parser included ('[' * 100000 exhausts the recursion limit)."""
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def read_json(path: Path, limit: int) -> Any:
    """A JSON file of at most `limit` bytes, read as read_limited reads: OSError, or
    ValueError (NotReadable for a FIFO, a device or a file over the limit, never read; bad or
    too deeply nested JSON) when it cannot be used."""
    return parse_json(read_limited(path, limit))
