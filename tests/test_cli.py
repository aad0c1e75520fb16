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


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from dubkit.cli import app\n"
        "for args in (['--help'], ['transcribe', '--help'], ['models', '--help'],\n"
        "             ['translate', '--help'], ['run', '--help'], ['memory', '--help'],\n"
        "             ['review', '--help']):\n"
        "    r = CliRunner().invoke(app, args)\n"
        "    assert r.exit_code == 0, r.output\n"
        "heavy = {'faster_whisper', 'ctranslate2', 'av', 'numpy', 'opencc', 'onnxruntime',\n"
        "         'sentencepiece', 'sqlite3', 'rjieba', 'pypinyin', 'starlette', 'uvicorn'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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
