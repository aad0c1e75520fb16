"""The harness the hostile-input tests rely on (tests/conftest.py: capped_dubkit, forked from
tests/zygote.py) holds a child to its time and memory caps and gives its output and status as
`python -m dubkit` started from nothing would: a cap that did not hold would let a broken build
pass them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, capped_dubkit

SRT = "1\n00:00:01,000 --> 00:00:02,000\n你好\n"


def _fresh(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dubkit", *args], cwd=cwd, capture_output=True, text=True,
        env={**env, "PYTHONPATH": str(ROOT)}, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [["glossary", "check", "g.yaml"], ["qa", "missing.srt"], ["qa", "ep.srt"], ["--version"]],
    ids=["issues", "error", "report", "version"],
)
def test_a_forked_child_answers_as_a_fresh_process_does(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "g.yaml").write_text("name: x\nterms: [{zh: 中国}]\n", encoding="utf-8")
    (tmp_path / "ep.srt").write_text(SRT, encoding="utf-8")
    env = {**os.environ, "DUBKIT_HOME": str(tmp_path / "home"), "COLUMNS": "100"}
    forked, fresh = (
        capped_dubkit(*args, cwd=tmp_path, env=env),
        _fresh(*args, cwd=tmp_path, env=env),
    )
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        fresh.returncode, fresh.stdout, fresh.stderr,
    )  # fmt: skip


def test_the_environment_is_read_by_the_child(tmp_path: Path) -> None:
    """dubkit reads its DUBKIT_* limits when imported: each child imports it anew."""
    (tmp_path / "ep.srt").write_text(SRT, encoding="utf-8")
    small = capped_dubkit(
        "qa", "ep.srt", cwd=tmp_path, env={**os.environ, "DUBKIT_MAX_SUBTITLE_BYTES": "10"}
    )
    assert small.returncode == 1 and "more than 10" in small.stderr
    assert capped_dubkit("qa", "ep.srt", cwd=tmp_path).returncode == 0


def test_a_child_past_its_time_is_killed_and_the_next_one_runs(tmp_path: Path) -> None:
    terms = "".join(f"  - {{zh: 词{n}, ur: لفظ, en: w{n}}}\n" for n in range(20_000))
    (tmp_path / "big.yaml").write_text(f"name: big\nterms:\n{terms}", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        capped_dubkit("glossary", "check", "big.yaml", cwd=tmp_path, timeout=0.5)
    assert time.monotonic() - started < 5
    assert capped_dubkit("--version", cwd=tmp_path).returncode == 0


def test_a_child_past_its_memory_cap_fails(tmp_path: Path) -> None:
    """A 160 MiB subtitle file (sparse), read whole once its size limit is lifted, does not
    fit under a 128 MiB cap."""
    big = tmp_path / "big.srt"
    with big.open("wb") as handle:
        handle.truncate(160 * 2**20)
    env = {**os.environ, "DUBKIT_MAX_SUBTITLE_BYTES": str(2**30)}
    done = capped_dubkit("qa", "big.srt", cwd=tmp_path, env=env, memory=128 * 2**20)
    assert done.returncode == 1
    assert "MemoryError" in done.stderr
