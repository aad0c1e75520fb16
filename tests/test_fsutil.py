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


def _five_outputs(folder: Path) -> dict[Path, bytes]:
    """A save's outputs: two that exist (one a planted symlink), one new, the last blocked."""
    victim = folder / "victim.txt"
    victim.write_bytes(b"secret")
    (folder / "ep.ur.srt").write_bytes(b"old srt")
    (folder / "ep.ur.srt").chmod(0o640)
    (folder / "ep.ur.vtt").symlink_to(victim)
    return {
        folder / "ep.ur.srt": b"new srt",
        folder / "ep.ur.vtt": b"new vtt",
        folder / "ep.ur.ass": b"new ass",  # did not exist before
        folder / "ep.qa.json": b"{}",
    }


def _assert_old_set(folder: Path) -> None:
    assert (folder / "ep.ur.srt").read_bytes() == b"old srt"
    assert (folder / "ep.ur.srt").stat().st_mode & 0o777 == 0o640
    assert (folder / "ep.ur.vtt").is_symlink()
    assert os.readlink(folder / "ep.ur.vtt") == str(folder / "victim.txt")
    assert (folder / "victim.txt").read_bytes() == b"secret"
    assert not (folder / "ep.ur.ass").exists()
    # no temporary or backup left beside them (ep.qa.json, in the way, is each test's own)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["ep.qa.json", "ep.ur.srt", "ep.ur.vtt", "victim.txt"]


def test_a_folder_appearing_at_the_last_name_leaves_every_old_file(tmp_path: Path) -> None:
    """The renames ran one by one: the ones before the blocked name stayed replaced, a
    mixed set of old and new outputs."""
    files = _five_outputs(tmp_path)
    blocked = tmp_path / "ep.qa.json"
    message = r"ep\.qa\.json: cannot write"
    with pytest.raises(OutputError, match=message), atomic_paths(files) as temps:
        for path, data in files.items():
            temps[path].write_bytes(data)
        blocked.mkdir()  # a non-empty folder now in the way (after the check up front)
        (blocked / "keep").write_bytes(b"x")
    _assert_old_set(tmp_path)
    assert [p.name for p in blocked.iterdir()] == ["keep"]


@pytest.mark.parametrize("links", [True, False], ids=["hard-links", "no-hard-links"])
def test_a_rename_failing_part_way_puts_the_replaced_files_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, links: bool
) -> None:
    """EBUSY (a bind mount) on the last rename, after the others were already renamed in;
    without hard links (some file systems) the old versions are kept as copies."""
    files = _five_outputs(tmp_path)
    blocked = tmp_path / "ep.qa.json"
    blocked.write_bytes(b"")
    real_replace = os.replace

    def busy(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == blocked:
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(dst))
        real_replace(src, dst)

    def no_link(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "replace", busy)
    if not links:
        monkeypatch.setattr(os, "link", no_link)
    with pytest.raises(OutputError, match=r"ep\.qa\.json: cannot write \(Device or resource busy"):
        atomic_write_all(files)
    _assert_old_set(tmp_path)
    assert blocked.read_bytes() == b""


def test_several_files_replace_a_planted_symlink_and_leave_no_backup(tmp_path: Path) -> None:
    files = _five_outputs(tmp_path)
    atomic_write_all(files)
    for path, data in files.items():
        assert not path.is_symlink() and path.read_bytes() == data
    assert (tmp_path / "victim.txt").read_bytes() == b"secret"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [p.name for p in files] + ["victim.txt"]
    )


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
