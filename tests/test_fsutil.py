from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dubkit.errors import OutputError
from dubkit.fsutil import (
    NotReadable,
    atomic_paths,
    atomic_write_all,
    ensure_writable_dir,
    read_limited,
    replace_folder,
    staging_folder,
)


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "a.srt"
    atomic_write_all({target: b"old"})
    atomic_write_all({target: "新的".encode()})
    assert target.read_text(encoding="utf-8") == "新的"
    assert [p.name for p in tmp_path.iterdir()] == ["a.srt"]
    assert target.stat().st_mode & 0o644 == 0o644


def test_disk_full_keeps_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.srt"
    atomic_write_all({target: b"old"})

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="No space left on device"):
        atomic_write_all({target: b"new"})
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.srt"]


def test_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("tempfile.mkstemp", denied)
    with pytest.raises(OutputError, match=r"cannot write here \(Permission denied\); choose"):
        ensure_writable_dir(tmp_path / "out")


def test_pair_is_all_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "ep.zh.srt").mkdir()  # something in the way of the second file
    with pytest.raises(OutputError, match=r"ep\.zh\.srt: cannot write .*check the path"):
        atomic_write_all({tmp_path / "ep.asr.json": b"{}", tmp_path / "ep.zh.srt": b""})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep.zh.srt"]


def test_atomic_paths_rename_only_when_the_block_succeeds(tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.mp4"
    a.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_paths([a, b]) as temps:
        temps[a].write_bytes(b"new")
        raise RuntimeError("the renderer failed")
    assert a.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]
    with atomic_paths([a, b]) as temps:
        assert all(t.parent == tmp_path and t.name.startswith(".") for t in temps.values())
        temps[a].write_bytes(b"new")
        temps[b].write_bytes(b"clip")
    assert a.read_bytes() == b"new" and b.read_bytes() == b"clip"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.mp4"]


def test_atomic_paths_name_the_target_of_an_os_error(tmp_path: Path) -> None:
    target = tmp_path / "guide.wav"
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    message = r"guide\.wav: cannot write \(No space left"
    with pytest.raises(OutputError, match=message), atomic_paths([target]):
        raise full
    assert list(tmp_path.iterdir()) == []


def test_replace_folder_swaps_and_removes_the_old_copy(tmp_path: Path) -> None:
    target = tmp_path / "clips"
    target.mkdir()
    (target / "0001.wav").write_bytes(b"old")
    staging = staging_folder(target)
    assert staging.parent == tmp_path and staging.name.startswith(".clips.")
    (staging / "0002.wav").write_bytes(b"new")
    replace_folder(staging, target)
    assert [p.name for p in target.iterdir()] == ["0002.wav"]
    assert [p.name for p in tmp_path.iterdir()] == ["clips"]
    assert staging_folder(tmp_path / "models" / "x", mode=0o755).stat().st_mode & 0o777 == 0o755


def test_reading_a_small_file_under_a_large_limit_sets_aside_only_its_size(tmp_path: Path) -> None:
    """read(n) allocates n bytes before it reads: asking for the limit (256 MiB for an
    artefact) set that much aside for every file, and failed under a memory cap."""
    import tracemalloc

    path = tmp_path / "small.srt"
    path.write_bytes(b"x" * 100)
    tracemalloc.start()
    try:
        assert read_limited(path, 2**30) == b"x" * 100
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_a_file_with_no_size_is_read_up_to_the_limit(tmp_path: Path) -> None:
    """Files that report no size (/proc) are read on, never past the limit."""
    version = Path("/proc/version")
    if not version.is_file():
        pytest.skip("no /proc/version on this system")
    assert version.stat().st_size == 0
    assert read_limited(version, 2**20) == version.read_bytes()
    with pytest.raises(NotReadable):
        read_limited(version, 5)
