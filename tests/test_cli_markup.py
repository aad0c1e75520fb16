"""Text from outside (package versions, glossary lines, episode names, file names) prints as
written through every command that shows it: rich markup in it is never interpreted."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from dubkit.cli import app

runner = CliRunner()
MARKUP = "[/bold]x[red]"  # a closing tag with nothing open made rich raise MarkupError
STYLED = "[red]x[bold]"  # tags rich would eat, leaving "x" (no slash: fits a file name)
WIDE = {"COLUMNS": "400"}  # no table cell wrapped


def test_models_list_shows_a_package_version_with_markup(tmp_path: Path) -> None:
    from tests.argos_factory import build_package_dir

    folder = tmp_path / "packages"
    folder.mkdir()
    build_package_dir(folder, "zh", "en", package_version=f"1.9{STYLED}")
    result = runner.invoke(app, ["models", "list", "--packages", str(folder)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert f"1.9{STYLED}" in result.stdout


def test_glossary_show_prints_a_term_with_markup(tmp_path: Path) -> None:
    glossary = tmp_path / "g.yaml"
    glossary.write_text(
        f"name: g\nversion: 1\nterms:\n  - zh: 中巴\n    ur: چین پاکستان\n    en: '{MARKUP}'\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["glossary", "show", str(glossary)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert MARKUP in result.stdout


def test_batch_summary_prints_names_and_errors_with_markup() -> None:
    from dubkit.cli.batch import _summary
    from dubkit.cli.console import make_console

    outcome = SimpleNamespace(
        name=f"ep{MARKUP}", status="failed", stages={}, seconds=1.0,
        error=f"ep{MARKUP}.mp4: cannot read",
    )  # fmt: skip
    report = SimpleNamespace(
        executor="local", jobs=1, outcomes=[outcome], not_run=[f"[/i]{MARKUP}"], interrupted=None,
        failed=[outcome], model_loads=lambda: 1, outdir=Path("out"),
    )  # fmt: skip
    console = make_console()
    console.file, console.width = io.StringIO(), 300
    _summary(console, report)
    shown = console.file.getvalue()
    assert f"ep{MARKUP}" in shown and f"[/i]{MARKUP}" in shown


@pytest.mark.parametrize(
    ("command", "name", "text", "count"),
    [
        ("qa", "ur.srt", "not a subtitle file", 1),
        ("glossary check", "yaml", "terms: [", 2),  # the finding, then the summary line
    ],
)
def test_an_error_about_a_file_named_with_markup_is_shown_as_named(
    tmp_path: Path, command: str, name: str, text: str, count: int
) -> None:
    bad = tmp_path / f"{STYLED}.{name}"
    bad.write_text(text, encoding="utf-8")
    result = runner.invoke(app, [*command.split(), str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == count and STYLED in lines[0], result.output


def test_a_spinner_message_with_markup_shows_as_written() -> None:
    """On a terminal, loading a model whose folder is named '[/bold]' broke with MarkupError:
    a rich spinner parses markup whatever its console says."""
    from dubkit.cli.console import make_console, status_spinner

    console = make_console()
    console.file = io.StringIO()
    console._force_terminal = True  # as on an operator's terminal
    with status_spinner(console)(f"loading ./m/{MARKUP}…"):
        pass


def test_table_cells_and_titles_escape_control_characters() -> None:
    from dubkit.cli.console import Table, make_console

    table = Table(title="ep\x1b[2J")
    table.add_column("name")
    table.add_row("a\nerror: forged\x1b]52;c;ZXZpbA==\x07")
    console = make_console()
    console.file, console.width = io.StringIO(), 300
    console.print(table)
    shown = console.file.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown
    assert "a\\nerror: forged\\x1b]52;c;ZXZpbA==\\x07" in shown


def test_one_line_shows_a_right_to_left_override_instead_of_obeying_it() -> None:
    from dubkit.escape import one_line

    assert one_line("report\u202etxt.exe") == "report\\u202etxt.exe"
    assert one_line("سی پیک \u2066CPEC\u2069 \u200e") == "سی پیک \u2066CPEC\u2069 \u200e"


@pytest.mark.parametrize("value", ["-1", "99999999999"])
def test_batch_threads_out_of_range_is_one_line(tmp_path: Path, value: str) -> None:
    result = runner.invoke(
        app, ["batch", str(tmp_path), "-o", str(tmp_path / "o"), "--threads", value]
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --threads"), result.output
