from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dubkit.errors import OutputError
from dubkit.fsutil import atomic_write_all, ensure_writable_dir


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
