"""Glossaries from outside translators treated as hostile input: includes that climb out of
the glossary's folder or name a FIFO, a device or a huge file; YAML aliases that expand
exponentially ("billion laughs") or nesting that exhausts the recursion limit; secret lines
that must never be echoed whole in a message.

Commands that could hang or fill memory on a broken build run in a subprocess with a timeout
and a memory cap, so the suite fails instead of stalling.
"""

from __future__ import annotations

import itertools
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dubkit import constants as C
from dubkit.cli import app
from tests.conftest import capped_dubkit

runner = CliRunner()
ROOTS = "DUBKIT_GLOSSARY_ROOTS"
HEAD = 'name: g\nversion: "1"\n'


@pytest.fixture(autouse=True)
def _no_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    """The allow-list comes from the test, never from the environment running it."""
    monkeypatch.delenv(ROOTS, raising=False)


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def dubkit(*args: str, cwd: Path, roots: str | None = None) -> subprocess.CompletedProcess[str]:
    """dubkit in a child process that may use 2 GB and 20 s (TimeoutExpired fails the test)."""
    env = {k: v for k, v in os.environ.items() if k != ROOTS}
    if roots is not None:
        env[ROOTS] = roots
    return capped_dubkit(*args, cwd=cwd, memory=2 * 2**30, env=env)


# What a broken build could hang on (a FIFO) or read without end (a device): run in a capped
# child. A folder, or a file of MAX_GLOSSARY_BYTES + 1, can do neither: run in this process.
UNBOUNDED = {"fifo", "/dev/zero", "link to /dev/zero"}


def refused(
    kind: str, args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of dubkit ARGS run in `cwd`, given a glossary of `kind`."""
    if kind in UNBOUNDED:
        done = dubkit(*args, cwd=cwd)
        return done.returncode, done.stdout, done.stderr
    monkeypatch.chdir(cwd)
    result = invoke(*args)
    return result.exit_code, result.stdout, result.stderr


def glossary(path: Path, includes: list[str], terms: str = "terms: []\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    listed = ", ".join(f'"{name}"' for name in includes)
    path.write_text(f"{HEAD}includes: [{listed}]\n{terms}", encoding="utf-8")
    return path


def no_window_of(secret: str, text: str, size: int = C.GLOSSARY_EXCERPT_CHARS + 1) -> bool:
    """No `size` consecutive characters of `secret` occur in `text`."""
    return all(secret[i : i + size] not in text for i in range(len(secret) - size + 1))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A valid glossary outside the including glossary's folder."""
    path = tmp_path / "outside" / "other.yaml"
    path.parent.mkdir()
    path.write_text(f"{HEAD}terms:\n  - zh: 北京\n    ur: بیجنگ\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ includes


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_an_include_outside_the_folder_is_refused_at_its_line(
    tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """`../`, an absolute path, or a link in the folder that points out: all refused where
    the include is written, and the file outside is never read."""
    folder = tmp_path / "series"
    folder.mkdir()
    if how == "symlink":
        (folder / "link.yaml").symlink_to(outside)
    name = {"relative": "../outside/other.yaml", "absolute": str(outside)}.get(how, "link.yaml")
    glossary(folder / "main.yaml", [name])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ROOTS, os.pathsep)  # empty entries: no root (not the current folder)
    result = invoke("glossary", "check", "series/main.yaml")
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("series/main.yaml:3:12: error: includes ")
    assert "[include-outside]" in result.stdout
    assert "DUBKIT_GLOSSARY_ROOTS" in result.stdout
    assert "other.yaml:" not in result.stdout  # not read: no message of its own
    assert result.stderr.splitlines()[-1].startswith("1 file(s), 0 terms: 1 error(s)")


def test_etc_passwd_is_never_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    glossary(tmp_path / "main.yaml", ["/etc/passwd"])
    result = invoke("glossary", "check", "main.yaml")
    assert result.exit_code == 1
    assert result.stdout.count("\n") == 1
    assert "[include-outside]" in result.stdout


def test_an_include_under_an_allow_listed_root_is_read(
    tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "series"
    glossary(folder / "main.yaml", ["../outside/other.yaml"])
    monkeypatch.chdir(folder)
    monkeypatch.setenv(ROOTS, os.pathsep.join(["", str(tmp_path / "nowhere"), str(outside.parent)]))
    result = invoke("glossary", "check", "main.yaml")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == "2 file(s), 1 terms: 0 error(s), 0 warning(s)"


def test_an_include_in_a_subfolder_and_a_link_within_the_folder_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    glossary(tmp_path / "sub" / "inner.yaml", [], "terms:\n  - zh: 北京\n    ur: بیجنگ\n")
    (tmp_path / "again.yaml").symlink_to(tmp_path / "sub" / "inner.yaml")
    glossary(tmp_path / "main.yaml", ["sub/inner.yaml"])
    glossary(tmp_path / "second.yaml", ["again.yaml"])
    monkeypatch.chdir(tmp_path)
    result = invoke("glossary", "check", "main.yaml", "second.yaml")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == "3 file(s), 1 terms: 0 error(s), 0 warning(s)"


def test_an_include_of_dev_zero_is_refused_without_reading(tmp_path: Path) -> None:
    """Even under an allow-listed root, a device is not a glossary."""
    glossary(tmp_path / "main.yaml", ["/dev/zero"])
    outside = dubkit("glossary", "check", "main.yaml", cwd=tmp_path)
    assert outside.returncode == 1, outside.stderr
    assert "[include-outside]" in outside.stdout
    allowed = dubkit("glossary", "check", "main.yaml", cwd=tmp_path, roots="/dev")
    assert allowed.returncode == 1, allowed.stderr
    assert allowed.stdout == (
        "main.yaml:3:12: error: includes '/dev/zero', which is a character device, not a "
        "glossary file; name a .yaml file [include-not-a-file]\n"
    )


def test_an_include_of_a_fifo_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    glossary(tmp_path / "main.yaml", ["pipe.yaml"])
    started = time.monotonic()
    result = dubkit("glossary", "check", "main.yaml", cwd=tmp_path)
    assert time.monotonic() - started < 20
    assert result.returncode == 1, result.stderr
    assert "which is a FIFO, not a glossary file" in result.stdout
    assert result.stdout.count("\n") == 1


def test_an_oversize_include_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process: a build that read the file would read MAX_GLOSSARY_BYTES + 1 bytes,
    nothing a child's caps are needed for."""
    big = tmp_path / "big.yaml"
    big.write_text(f"{HEAD}terms: []\n", encoding="utf-8")
    os.truncate(big, C.MAX_GLOSSARY_BYTES + 1)  # sparse: no disk used
    glossary(tmp_path / "main.yaml", ["big.yaml"])
    monkeypatch.chdir(tmp_path)
    result = invoke("glossary", "check", "main.yaml")
    assert result.exit_code == 1, result.output
    assert "[include-too-large]" in result.stdout
    assert f"{C.MAX_GLOSSARY_BYTES + 1:,} bytes" in result.stdout


# ------------------------------------------------------------------- files named directly


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("fifo", "the file is a FIFO, not a glossary file"),
        ("/dev/zero", "the file is a character device, not a glossary file"),
        ("link to /dev/zero", "the file is a character device, not a glossary file"),
        ("folder", "the file is a folder, not a glossary file"),
        ("oversize", f"the file is {C.MAX_GLOSSARY_BYTES + 1:,} bytes, too large for a glossary"),
    ],
    ids=["fifo", "dev-zero", "link-to-dev-zero", "folder", "oversize"],
)
def test_a_glossary_given_with_g_must_be_a_small_regular_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, says: str
) -> None:
    """`-g` (any command that loads glossaries) refuses with one line and exit 1, and so
    does `glossary check`, without reading the file (UNBOUNDED says where each runs)."""
    path = tmp_path / "g.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link to /dev/zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    elif kind == "oversize":
        path.write_text(f"{HEAD}terms: []\n", encoding="utf-8")
        os.truncate(path, C.MAX_GLOSSARY_BYTES + 1)
    given = "/dev/zero" if kind == "/dev/zero" else "g.yaml"
    coverage = ["glossary", "coverage", "ep.zh.srt", "-g", given]
    code, _, err = refused(kind, coverage, tmp_path, monkeypatch)
    assert code == 1, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {given}:1:1: {says}")
    code, out, err = refused(kind, ["glossary", "check", given], tmp_path, monkeypatch)
    assert code == 1, err
    assert out.startswith(f"{given}:1:1: error: {says}")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------- no secrets echoed

SECRET = "key" + secrets.token_hex(60)  # 123 characters no message may quote whole
OTHER = "val" + secrets.token_hex(60)

HOSTILE = {
    "unknown-field": f"{SECRET}: {OTHER}\n",
    "duplicate-key": f"{HEAD}terms: []\n{SECRET}: {OTHER}\n{SECRET}: {OTHER}x\n",
    "missing-ur": f"{HEAD}terms:\n  - zh: {SECRET}\n",
    "bad-date": f"{HEAD}terms:\n  - zh: 北京\n    ur: بیجنگ\n    approved: {SECRET}\n",
    "lookalike": f"{HEAD}terms:\n  - zh: 北京\n    ur: \u064a{SECRET}\n",
    "tag-handle": f"{HEAD}terms: !{SECRET}! []\n",
    "alias": f"{HEAD}terms: *{SECRET}\n",
    "anchor": f"{HEAD}terms: &{SECRET} []\n",
    "missing-include": f"{HEAD}includes: [{SECRET}.yaml]\nterms: []\n",
    "conflict": f"{HEAD}terms:\n  - zh: {SECRET}\n    ur: ا\n  - zh: {SECRET}\n    ur: ب\n",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_messages_quote_only_a_short_excerpt_of_a_long_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """A file whose lines are long secrets (a key file included by mistake, a hostile
    glossary): every message quotes at most GLOSSARY_EXCERPT_CHARS of any of them."""
    (tmp_path / "creds.yaml").write_text(HOSTILE[case], encoding="utf-8")
    glossary(tmp_path / "main.yaml", ["creds.yaml"])
    monkeypatch.chdir(tmp_path)
    result = invoke("glossary", "check", "main.yaml")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert "creds.yaml:" in result.stdout
    assert no_window_of(SECRET, result.output), result.output
    assert no_window_of(OTHER, result.output), result.output


def test_control_characters_in_a_key_are_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "g.yaml").write_text(f'{HEAD}"\\e[2J\\rwiped": 1\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke("glossary", "check", "g.yaml")
    assert result.exit_code == 1
    assert "\x1b" not in result.output
    assert "\r" not in result.output
    assert result.stdout.startswith("g.yaml:3:")
    assert "error: \\x1b[2J\\rwiped: unknown field" in result.stdout


# --------------------------------------------------------------------------- YAML bombs


def billion_laughs(levels: int = 9) -> str:
    lines = [HEAD + "terms: []", 'a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in itertools.pairwise("abcdefghijklmnop"[:levels]):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "lol.yaml").write_text(billion_laughs(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    result = invoke("glossary", "check", "lol.yaml")
    assert time.monotonic() - started < 5
    assert result.exit_code == 1, result.output
    assert result.stdout == (
        "lol.yaml:4:4: error: anchor &a: glossaries do not use YAML anchors or aliases "
        "(&name, *name, <<: *name); write each value out in full [yaml-alias]\n"
    )


def test_a_merge_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "merge.yaml").write_text(
        f"{HEAD}terms:\n  - zh: 北京\n    ur: بیجنگ\n  - <<: *base\n    zh: 上海\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = invoke("glossary", "check", "merge.yaml")
    assert result.exit_code == 1
    assert result.stdout.startswith("merge.yaml:6:9: error: alias *base: ")
    assert result.stdout.endswith("[yaml-alias]\n")


# Composing YAML recurses, a frame or more a level: a build without the depth limit fails on
# as many levels as Python allows frames, with RecursionError. (The scanner looks up to 1,024
# characters ahead at each '[' for a key's ':', so a run of them takes time with the square of
# its length up to that: 10,000 took 1 s a parse here, 1,000 take 0.4 s.)
DEEP_LEVELS = 1_000


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_deep_nesting_is_one_line_not_a_recursion_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opening: str
) -> None:
    assert sys.getrecursionlimit() <= DEEP_LEVELS
    deep = f"{HEAD}terms: {opening * DEEP_LEVELS}\n"
    (tmp_path / "deep.yaml").write_text(deep, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke("glossary", "check", "deep.yaml")
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert result.exit_code == 1
    assert result.stdout.startswith("deep.yaml:3:")
    assert f"nested more than {C.GLOSSARY_MAX_DEPTH} levels deep" in result.stdout
    assert result.stdout.count("\n") == 1
    shown = invoke("glossary", "coverage", "ep.zh.srt", "-g", "deep.yaml")
    assert shown.exit_code == 1
    assert shown.stderr.startswith("error: deep.yaml:3:")
    assert shown.stderr.count("\n") == 1


def test_nesting_at_the_limit_is_a_schema_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit counts the mapping and the terms list: 48 more levels still parse."""
    inner = "[" * (C.GLOSSARY_MAX_DEPTH - 2) + "]" * (C.GLOSSARY_MAX_DEPTH - 2)
    (tmp_path / "deep.yaml").write_text(f"{HEAD}terms: {inner}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke("glossary", "check", "deep.yaml")
    assert result.exit_code == 1
    assert "[schema]" in result.stdout
    assert "[yaml-depth]" not in result.stdout


def test_add_quotes_a_value_nested_past_the_recursion_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`glossary add` (and `import`, with a translator's CSV) tests whether a value can be
    written plain by parsing it: deep nesting there is a reason to quote, not a crash."""
    glossary(tmp_path / "g.yaml", [])
    monkeypatch.chdir(tmp_path)
    assert sys.getrecursionlimit() <= DEEP_LEVELS
    note = "[" * DEEP_LEVELS
    result = invoke("glossary", "add", "g.yaml", "--zh", "北京", "--ur", "بیجنگ", "--note", note)
    assert result.exception is None, result.exception
    assert result.exit_code == 0, result.output
    assert f'    note: "{note}"\n' in (tmp_path / "g.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("include", ['"a\\0b.yaml"', '"\\ud800.yaml"'])
def test_an_include_name_no_path_can_hold_is_a_message(tmp_path: Path, include: str) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(f"{HEAD}includes: [{include}]\nterms: []\n", encoding="utf-8")
    result = runner.invoke(app, ["glossary", "check", str(path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "include" in result.output


@pytest.mark.parametrize("command", [["check"], ["show"], ["export", "-o", "x.csv"]])
def test_a_lone_surrogate_in_a_field_is_an_error_at_its_line(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "g.yaml"
    path.write_text(
        f'{HEAD}terms:\n  - zh: 中巴\n    ur: چین\n    en: "\\ud800"\n', encoding="utf-8"
    )
    result = runner.invoke(app, ["glossary", command[0], str(path), *command[1:]])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert "lone surrogate" in result.output and ":6:" in result.output
