"""The command line's options and settings: each option declared once (dubkit.cli.options)
and spelled the same by every command, settings merged once from flags, dubkit.toml and
defaults by every command, and DubkitError turned into its one line in one place."""

from __future__ import annotations

import ast
import inspect
import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.models import OptionInfo
from typer.testing import CliRunner

from dubkit.cli import app
from dubkit.cli import options as shared
from dubkit.records import Cue
from dubkit.subtitles.writers import render_srt
from dubkit.translate.memory import SqliteMemory
from tests.conftest import CPEC, DEV_TERMS
from tests.test_dubscript import ZH_TEXTS, _cues, _write_programme

runner = CliRunner()
CLI = Path(__file__).resolve().parent.parent / "dubkit" / "cli"
# The flags the audit found declared by each command that takes them, besides those
# dubkit.cli.options declares for some command already.
AUDITED = {"--encoding", "--font", "--ocr"}


def _commands() -> dict[str, Any]:
    """Every command of `dubkit`, by its words ("dubscript import"). (typer carries its own
    copy of click: its commands are not `click`'s classes.)"""

    def walk(group: Any, words: tuple[str, ...]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                found |= walk(command, (*words, name))
            else:
                found[" ".join((*words, name))] = command
        return found

    return walk(typer.main.get_command(app), ())


def _declared(command: Any) -> list[tuple[Any, OptionInfo]]:
    """Each option of the command with the typer declaration it was built from."""
    signature = inspect.signature(command.callback, eval_str=True)
    infos: dict[str, OptionInfo] = {}
    for name, parameter in signature.parameters.items():
        if typing.get_origin(parameter.annotation) is typing.Annotated:
            for meta in parameter.annotation.__metadata__:
                if isinstance(meta, OptionInfo):
                    infos[name] = meta
    return [
        (p, infos[p.name])
        for p in command.params
        if p.param_type_name == "option" and p.name in infos
    ]


def _long(option: Any) -> set[str]:
    return {o for o in (*option.opts, *option.secondary_opts) if o.startswith("--")}


def _shared_infos() -> set[int]:
    return {
        id(meta)
        for value in vars(shared).values()
        if typing.get_origin(value) is typing.Annotated
        for meta in value.__metadata__
        if isinstance(meta, OptionInfo)
    }


# ------------------------------------------------------------------ each option declared once


def test_an_option_dubkit_cli_options_declares_is_declared_nowhere_else() -> None:
    """A flag one command takes from dubkit.cli.options is never declared again by another
    command, nor is a flag the audit found declared per command: two commands that mean
    different things by one flag take two aliases of dubkit.cli.options, named for it."""
    commands = _commands()
    mine = _shared_infos()
    flags = set(AUDITED)
    for command in commands.values():
        for option, info in _declared(command):
            if id(info) in mine:
                flags |= _long(option)
    again = sorted(
        f"{name}: {'/'.join(option.opts)}"
        for name, command in commands.items()
        for option, info in _declared(command)
        if id(info) not in mine and _long(option) & flags
    )
    assert again == []


def test_bom_and_memory_switches_are_spelled_as_run_and_translate_spell_them() -> None:
    """--bom comes with --no-bom; a command with --memory FILE turns the memory off with
    --no-cache, as run and translate do (--no-memory is a hidden alias only)."""
    spelled = {
        name: {o for p in c.params if not getattr(p, "hidden", False) for o in _long(p)}
        for name, c in _commands().items()
    }
    assert [n for n, flags in spelled.items() if "--bom" in flags and "--no-bom" not in flags] == []
    own = ("memory ",)  # the memory's own commands: --memory is what they work on
    assert [
        n
        for n, flags in spelled.items()
        if "--memory" in flags and not n.startswith(own) and "--no-cache" not in flags
    ] == []
    assert [n for n, flags in spelled.items() if "--no-memory" in flags] == []
    assert {"dubscript import", "review", "run", "translate", "batch"} <= {
        n for n, flags in spelled.items() if {"--cache", "--no-cache"} <= flags
    }


def test_no_help_text_holds_what_rich_would_take_for_markup() -> None:
    """typer renders help through rich: "[glossary] files" showed as " files" (a section of
    dubkit.toml is written glossary.files in help instead)."""
    eaten = sorted(
        f"{name}: {found}"
        for name, command in _commands().items()
        for text in (command.help or "", *(getattr(p, "help", None) or "" for p in command.params))
        for found in re.findall(r"\[[a-z][^\]]*\]", text)
    )
    assert eaten == []


@pytest.mark.parametrize("switch", ["--no-cache", "--no-memory"])
def test_dubscript_import_without_the_memory(tmp_path: Path, switch: str) -> None:
    xlsx, _, _ = _write_programme(tmp_path)
    memory = tmp_path / "tm.sqlite"
    result = runner.invoke(app, ["dubscript", "import", str(xlsx), "--memory", str(memory), switch])
    assert result.exit_code == 0, result.output
    assert "memory not updated (--no-cache)" in result.stderr
    assert not memory.exists()


def test_no_command_module_maps_a_dubkit_error_to_exit_1_itself() -> None:
    """dubkit.cli.root is the one place a DubkitError becomes its `error:` line and exit 1:
    a command that catches one only to print it is a second copy of that place."""
    copies = []
    for path in sorted(CLI.glob("*.py")):
        if path.name == "root.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ExceptHandler) or node.type is None:
                continue
            caught = ast.unparse(node.type)
            only_fails = len(node.body) == 1 and "fail(" in ast.unparse(node.body[0])
            if caught == "DubkitError" and only_fails:
                copies.append(f"{path.name}:{node.lineno}")
    assert copies == []


# --------------------------------------------------------------- settings merged once


def _toml(folder: Path, *lines: str) -> None:
    (folder / "dubkit.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_dubscript_import_takes_the_translate_settings_of_dubkit_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[translate] memory, bom and digits decide `dubscript import` as they decide `run`:
    the approvals go to that memory (not the default one), the SRT has a BOM and Urdu
    digits; a flag given wins over the file."""
    monkeypatch.chdir(tmp_path)
    xlsx, srt, _ = _write_programme(tmp_path)
    srt.unlink()  # every line counts as changed, so every line is approved
    _toml(tmp_path, "[translate]", 'memory = "tm.sqlite"', "bom = true", 'digits = "urdu"')
    result = runner.invoke(app, ["dubscript", "import", xlsx.name])
    assert result.exit_code == 0, result.output
    with SqliteMemory(tmp_path / "tm.sqlite") as tm:
        assert len(tm.approved("zh", "ur", ZH_TEXTS)) == 3
    assert not (tmp_path / "memory.sqlite").exists()  # the default memory (conftest's)
    written = srt.read_bytes()
    assert written.startswith(b"\xef\xbb\xbf1\n")
    assert "۲۰۲۵" in written.decode("utf-8") and "2025" not in written.decode("utf-8")
    again = runner.invoke(app, ["dubscript", "import", xlsx.name, "--no-bom", "--digits", "latin"])
    assert again.exit_code == 0, again.output
    assert srt.read_bytes().startswith(b"1\n") and "2025" in srt.read_text(encoding="utf-8")


def test_dubscript_import_reads_the_config_given(tmp_path: Path) -> None:
    xlsx, srt, _ = _write_programme(tmp_path)
    config = tmp_path / "settings" / "studio.toml"
    config.parent.mkdir()
    _toml(config.parent, "[translate]", 'memory = "studio.sqlite"')
    (config.parent / "dubkit.toml").rename(config)
    srt.unlink()
    args = ["dubscript", "import", str(xlsx), "--config", str(config)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with SqliteMemory(config.parent / "studio.sqlite") as tm:  # beside the config, as run
        assert len(tm.approved("zh", "ur", ZH_TEXTS)) == 3


def test_dubscript_export_takes_the_glossary_of_dubkit_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dubkit.dubbing.files import read_xlsx

    monkeypatch.chdir(tmp_path)
    _, srt, _ = _write_programme(tmp_path)
    _toml(tmp_path, "[glossary]", f"files = [{json.dumps(str(CPEC))}]")
    result = runner.invoke(app, ["dubscript", "export", srt.name])
    assert result.exit_code == 0, result.output
    lines = read_xlsx((tmp_path / "news.dubscript.xlsx").read_bytes(), "news.dubscript.xlsx")
    assert lines[2].terms == ("چین پاکستان اقتصادی راہداری",)  # 中巴经济走廊, from the toml


def _programme(folder: Path) -> Path:
    """A programme folder with STEM.zh.srt, STEM.ur.srt and STEM.qa.json, as translation
    leaves it (the Urdu is the Chinese here: review reads, it does not translate)."""
    from dubkit.episode.pipeline import TranslateSettings, translate_cues

    class Same:
        source, target, key = "zh", "ur", "same-v1"

        def translate(self, texts: typing.Sequence[str]) -> list[str]:
            return list(texts)

    folder.mkdir()
    zh = _cues(ZH_TEXTS, lambda t: (t,))
    (folder / "ep.zh.srt").write_text(render_srt(zh), encoding="utf-8")
    translate_cues(zh, "ep", folder, [Same()], None, TranslateSettings(layout="cue"))
    return folder


def _reviewed(monkeypatch: pytest.MonkeyPatch, folder: Path, *args: str) -> tuple[Any, Any]:
    """`dubkit review FOLDER ARGS` up to serving: its result and the session it would serve."""
    from dubkit.review import server

    sessions: list[Any] = []
    monkeypatch.setattr(server, "create_app", lambda session, *a: sessions.append(session))
    monkeypatch.setattr(server, "serve", lambda *a: None)
    result = runner.invoke(app, ["review", str(folder), *args])
    assert result.exit_code == 0, result.output
    [session] = sessions
    return result, session


def test_review_takes_the_memory_and_glossary_of_dubkit_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.chdir(tmp_path)
    folder = _programme(tmp_path / "out")
    _toml(
        tmp_path,
        "[translate]",
        'memory = "tm.sqlite"',
        "[glossary]",
        f"files = [{json.dumps(str(CPEC))}]",
    )
    _, session = _reviewed(monkeypatch, folder)
    assert session.memory == tmp_path / "tm.sqlite"
    assert session.use_memory is True
    assert "中巴经济走廊" in {t.zh for t in session.load().basis.terms.terms}  # qa.json names none
    _, off = _reviewed(monkeypatch, folder, "--no-cache")
    assert off.use_memory is False


def test_review_keeps_the_glossary_the_run_used_and_says_when_nothing_is_approved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dubkit.toml's glossary files stand in only where qa.json names none: a run's own
    glossary is never replaced by them. translate.cache = false approves nothing, and says so."""

    monkeypatch.chdir(tmp_path)
    folder = _programme(tmp_path / "out")
    qa_json = folder / "ep.qa.json"
    qa = json.loads(qa_json.read_text(encoding="utf-8"))
    qa["glossaries"] = [{"name": "cpec-media", "file": str(CPEC)}]  # what the run used
    qa_json.write_text(json.dumps(qa), encoding="utf-8")
    other = DEV_TERMS
    _toml(
        tmp_path,
        "[translate]",
        "cache = false",
        "[glossary]",
        f"files = [{json.dumps(str(other))}]",
    )
    result, session = _reviewed(monkeypatch, folder)
    assert "not approved in the translation memory (translate.cache = false" in result.stderr
    assert session.use_memory is False
    zh = {t.zh for t in session.load().basis.terms.terms}
    assert "中巴经济走廊" in zh and "三磷酸腺苷" not in zh  # cpec-media's, not the toml's


def test_review_reads_dubkit_tomls_glossary_only_where_the_run_left_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken glossary in dubkit.toml does not stop the review of a programme whose qa.json
    names its own; terms qa.json recorded (no file named) win over the toml's."""
    monkeypatch.chdir(tmp_path)
    folder = _programme(tmp_path / "out")
    qa_json = folder / "ep.qa.json"
    qa = json.loads(qa_json.read_text(encoding="utf-8"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("terms: [\n", encoding="utf-8")
    _toml(tmp_path, "[glossary]", f"files = [{json.dumps(str(broken))}]")
    qa["glossaries"] = [{"name": "cpec-media", "file": str(CPEC)}]
    qa_json.write_text(json.dumps(qa), encoding="utf-8")
    _, session = _reviewed(monkeypatch, folder)
    assert "中巴经济走廊" in {t.zh for t in session.load().basis.terms.terms}
    qa["glossaries"] = []
    qa["cues"][0]["terms"] = [{"zh": "瓜达尔港", "approved": "گوادر بندرگاہ"}]
    qa_json.write_text(json.dumps(qa), encoding="utf-8")
    _, session = _reviewed(monkeypatch, folder)
    assert {t.zh for t in session.load().basis.terms.terms} == {"瓜达尔港"}  # recorded


def test_glossary_coverage_takes_the_glossary_of_dubkit_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    srt = tmp_path / "ep.zh.srt"
    srt.write_text(render_srt([Cue(1, 0, 2000, ("中巴经济走廊",))]), encoding="utf-8")
    _toml(tmp_path, "[glossary]", f"files = [{json.dumps(str(CPEC))}]")
    result = runner.invoke(app, ["glossary", "coverage", srt.name])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["中巴经济走廊\tچین پاکستان اقتصادی راہداری\t1\t1"]


def test_memory_commands_take_the_memory_of_dubkit_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _toml(tmp_path, "[translate]", 'memory = "tm.sqlite"')
    with SqliteMemory(tmp_path / "tm.sqlite") as tm:
        tm.approve("zh", "ur", {"你好": "سلام"}, note="test")
    result = runner.invoke(app, ["memory", "stats"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{tmp_path / 'tm.sqlite'}: ")
    assert "1 approved" in result.stdout
    exported = runner.invoke(app, ["memory", "export", "out.tmx"])
    assert exported.exit_code == 0, exported.output
    assert "out.tmx: 1 translation units" in exported.stderr
