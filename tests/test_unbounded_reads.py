"""Every command that reads a file from outside reads a bounded regular file: a FIFO (an
endless wait), /dev/zero (endless bytes) or deep nesting gives one line, at once. What a
broken build could hang on or read without end (a FIFO, /dev/zero), and the DUBKIT_* limits
(read when dubkit is imported), run in a child process that may use 1 GB and 20 s: a hang or
runaway read fails the test. Deep nesting and a TMX's entity can do neither (a build without
the checks raises, or reads a few bytes more): they run in this process, through typer's
CliRunner, where an uncaught exception fails the test as a traceback would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dubkit.cli import app
from tests.conftest import capped_dubkit, one_error_line

ROOT = Path(__file__).resolve().parent.parent


def dubkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return capped_dubkit(*args, cwd=cwd)


def in_process(*args: str) -> str:
    """dubkit ARGS in this process: its one error line (`one_error_line`), without a crash
    (an uncaught exception, which `python -m dubkit` would print as a traceback)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return one_error_line(result)


def _plant(path: Path, kind: str) -> Path:
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


def _glossary(folder: Path) -> Path:
    path = folder / "g.yaml"
    path.write_text('name: g\nversion: "1"\nterms:\n  - zh: 中巴\n    ur: چین\n', encoding="utf-8")
    return path


COMMANDS = {
    "glossary import": lambda f, bad: [
        "glossary", "import", str(bad), "--into", str(_glossary(f))
    ],
    "glossary coverage (asr.json)": lambda f, bad: [
        "glossary", "coverage", str(bad), "-g", str(_glossary(f))
    ],
    "memory import": lambda f, bad: [
        "memory", "import", str(bad), "--memory", str(f / "m.sqlite")
    ],
}  # fmt: skip
NAMES = {
    "glossary import": "terms.csv",
    "glossary coverage (asr.json)": "ep.asr.json",
    "memory import": "lines.tmx",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fifo", "zero"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_fifo_or_dev_zero_is_one_line(tmp_path: Path, command: str, kind: str) -> None:
    bad = _plant(tmp_path / NAMES[command], kind)
    done = dubkit(*COMMANDS[command](tmp_path, bad), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and str(bad.name) in errors[0], done.stderr


def test_coverage_of_a_deeply_nested_asr_json_is_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "ep.asr.json"
    deep.write_text("[" * 200_000, encoding="utf-8")
    line = in_process("glossary", "coverage", str(deep), "-g", str(_glossary(tmp_path)))
    assert "nested too deeply" in line, line  # one `error: ` line: no traceback


def test_a_utf16_tmx_with_an_entity_is_refused(tmp_path: Path) -> None:
    tmx = tmp_path / "lines.tmx"
    body = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE tmx [<!ENTITY a "中巴">]>'
        '<tmx version="1.4"><header/><body><tu><tuv xml:lang="zh"><seg>&a;</seg></tuv>'
        '<tuv xml:lang="ur"><seg>چین</seg></tuv></tu></body></tmx>'
    )
    tmx.write_bytes(body.encode("utf-16"))
    line = in_process("memory", "import", str(tmx), "--memory", str(tmp_path / "m.sqlite"))
    assert "DOCTYPE or entities" in line, line


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fifo", "zero"])
@pytest.mark.parametrize("command", ["qa", "glossary coverage"])
def test_a_subtitle_file_that_is_a_fifo_or_dev_zero_is_one_line(
    tmp_path: Path, command: str, kind: str
) -> None:
    bad = _plant(tmp_path / "ep.ur.srt", kind)
    args = [*command.split(), str(bad)]
    if command == "glossary coverage":
        args += ["-g", str(_glossary(tmp_path))]
    done = dubkit(*args, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "ep.ur.srt" in errors[0], done.stderr


def test_a_reader_limit_is_set_by_its_environment_variable(tmp_path: Path) -> None:
    srt = tmp_path / "ep.ur.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nسلام\n", encoding="utf-8")
    env = {**os.environ, "DUBKIT_MAX_SUBTITLE_BYTES": "10"}
    done = capped_dubkit("qa", str(srt), cwd=tmp_path, env=env)
    assert done.returncode == 1 and "more than 10" in done.stderr, done.stderr


@pytest.mark.parametrize("value", ["ten", "-5", "0", "1e3", "inf"])
def test_a_limit_variable_that_is_no_positive_number_is_one_line(
    tmp_path: Path, value: str
) -> None:
    env = {**os.environ, "DUBKIT_MAX_GLOSSARY_BYTES": value}
    done = capped_dubkit("glossary", "check", str(tmp_path / "g.yaml"), cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: DUBKIT_MAX_GLOSSARY_BYTES={value!r} is not a positive whole number; unset it "
        f"or give one (the default is {2 * 2**20})"
    ]
