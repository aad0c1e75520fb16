"""The command line through typer's CliRunner: exit codes, one-line errors, no stray files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dubkit.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["transcribe"],
        ["translate"],
        ["run"],
        ["models"],
        ["models", "list"],
        ["models", "pull"],
        ["models", "install"],
        ["memory"],
        ["memory", "export"],
        ["memory", "import"],
        ["memory", "stats"],
    ],
)
def test_help(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("dubkit ")


# Besides the libraries only adapters may import (pyproject's import contracts): what a
# command imports only when it runs (workbooks, timecodes, the memory's SQLite, YAML, the
# loudness meter).
ALSO_HEAVY = ("openpyxl", "timecode", "sqlite3", "ruamel", "yaml", "scipy", "pyloudnorm")


def test_help_of_every_command_imports_no_heavy_library() -> None:
    """`--help` of dubkit and of every command and subcommand (walked from the app, so a new
    command is checked too), in one fresh process: no heavy library is imported; each one
    found is named with the first help that brought it in."""
    import tomllib

    contracts = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text("utf-8"))
    protected = [
        name
        for contract in contracts["tool"]["importlinter"]["contracts"]
        if contract["type"] == "protected"
        for name in contract["protected_modules"]
        if name != "rich"  # the console's own: it draws the help
    ]
    assert {  # what the four tests this one replaced checked by name, among others
        "faster_whisper", "ctranslate2", "sentencepiece", "av", "numpy", "opencc", "rjieba",
        "pypinyin", "onnxruntime", "starlette", "uvicorn",
    } <= set(protected)  # fmt: skip
    code = (
        "import json, sys\n"
        "import typer.main\n"
        "from typer.testing import CliRunner\n"
        "from dubkit.cli import app\n"
        "heavy, first, helped = set(json.loads(sys.argv[1])), {}, []\n"
        "def paths(command, prefix=()):\n"
        "    yield prefix\n"
        "    for name, sub in sorted(getattr(command, 'commands', {}).items()):\n"
        "        yield from paths(sub, (*prefix, name))\n"
        "for path in paths(typer.main.get_command(app)):\n"
        "    r = CliRunner().invoke(app, [*path, '--help'])\n"
        "    assert r.exit_code == 0 and 'Usage' in r.output, (path, r.output)\n"
        "    helped.append(' '.join(path))\n"
        "    for name in heavy & set(sys.modules):\n"  # a submodule brings its package
        "        first.setdefault(name, ' '.join(path) or 'dubkit')\n"
        "print(json.dumps([helped, first]))\n"
    )
    heavy = json.dumps([*protected, *ALSO_HEAVY])
    out = subprocess.run(
        [sys.executable, "-c", code, heavy], capture_output=True, text=True, check=True
    )
    helped, imported = json.loads(out.stdout)
    assert {"", "burn", "dubscript import", "glossary add", "models pull", "review"} <= set(
        helped
    ), helped
    assert imported == {}, imported


def _one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = [ln for ln in result.stderr.splitlines() if ln.strip() and not ln.startswith("notice:")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_missing_media(tmp_path: Path, base_model_dir: Path) -> None:
    result = runner.invoke(app, ["transcribe", str(tmp_path / "nope.wav"), "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert "no such file" in _one_error_line(result)


def test_config_error_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[transcribe]\nbeam_size = 0\n", encoding="utf-8")
    result = runner.invoke(app, ["transcribe", "x.wav", "--config", str(cfg)])
    assert result.exit_code == 1
    assert "beam_size" in _one_error_line(result)


def test_unknown_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBKIT_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["transcribe", "x.wav", "-o", str(tmp_path), "--model", "tiny"])
    assert result.exit_code == 1
    assert "dubkit models pull whisper:tiny" in _one_error_line(result)


def test_output_folder_is_a_file(tmp_path: Path, base_model_dir: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["transcribe", "x.wav", "-o", str(blocker / "sub")])
    assert result.exit_code == 1
    assert "cannot write here" in _one_error_line(result)


def test_models_list_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBKIT_HOME", str(tmp_path))
    result = runner.invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    names = {m["name"]: m for m in doc["models"]}
    assert names["whisper:base"]["status"] == "not installed"
    assert names["whisper:base"]["offline"] is True
    assert names["whisper:large-v3"]["size"] == 3087284237
    assert doc["store"] == str(tmp_path / "models")


def test_models_list_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBKIT_HOME", str(tmp_path))
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code == 0
    assert "whisper:base" in result.stdout
    assert "not installed" in result.stdout


def test_pull_offline_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBKIT_HOME", str(tmp_path))
    monkeypatch.setenv("HF_ENDPOINT", "https://127.0.0.1:9")  # nothing listens on discard
    result = runner.invoke(app, ["models", "pull", "whisper:tiny"])
    assert result.exit_code == 1
    line = _one_error_line(result)
    assert "cannot reach 127.0.0.1" in line
    assert "dubkit models install FOLDER --name tiny" in line
    assert not (tmp_path / "models" / "whisper" / "tiny").exists()


def test_pull_unknown_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBKIT_HOME", str(tmp_path))
    result = runner.invoke(app, ["models", "pull", "whisper:huge"])
    assert result.exit_code == 1
    assert "unknown model whisper:huge" in _one_error_line(result)


def test_install_rejects_non_model_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBKIT_HOME", str(tmp_path / "home"))
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "model.bin").write_bytes(b"not a model")
    (fake / "config.json").write_text("{}", encoding="utf-8")
    (fake / "tokenizer.json").write_text("{}", encoding="utf-8")
    result = runner.invoke(app, ["models", "install", str(fake)])
    assert result.exit_code == 1
    assert "cannot load it as Whisper" in _one_error_line(result)
    assert not (tmp_path / "home" / "models" / "whisper" / "fake").exists()
    result = runner.invoke(app, ["models", "install", str(tmp_path / "absent")])
    assert result.exit_code == 1
    assert "no such file or folder" in _one_error_line(result)


def test_run_batch_and_transcribe_take_the_shared_options_declared_once() -> None:
    """The option groups of dubkit.cli.options reach each command, and RunFlags holds what
    run and batch get (a group option missing there would fail every run)."""
    from dataclasses import fields

    import typer.main

    from dubkit.cli.options import DUBBING, PICTURE, RECOGNITION, TRANSLATION
    from dubkit.episode.setup import RunFlags

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]

    def names(command: str) -> set[str]:
        return {p.name for p in commands[command].params}

    recognition = {name for name, _, _ in RECOGNITION}
    picture = {name for name, _, _ in PICTURE}
    shared = recognition | {
        name for group in (TRANSLATION, PICTURE, DUBBING) for name, _, _ in group
    }
    assert shared <= names("run") and shared <= names("batch")
    assert recognition <= names("transcribe")
    assert picture <= names("translate")
    assert {f.name for f in fields(RunFlags)} == shared | {"threads"}
