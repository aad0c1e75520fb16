"""The `dubkit` command: the app, its version option, and every command registered here, in
the order `--help` lists them. Each command lives in its own module of this package.

Heavy libraries (faster-whisper, ctranslate2, PyAV, numpy, pydantic) are imported inside the
commands that need them, so `dubkit --help` starts fast.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from dubkit import __version__
from dubkit.cli import (
    align,
    batch,
    dubscript,
    glossary,
    memory,
    models,
    preview,
    qa,
    run,
    transcribe,
    translate,
)
from dubkit.cli.console import fail, make_console
from dubkit.errors import DubkitError


class _Commands(TyperGroup):
    """The commands, with the one place a DubkitError becomes its `error:` line and exit 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DubkitError as exc:
            fail(make_console(), exc)


app = typer.Typer(
    name="dubkit",
    cls=_Commands,
    help="Localise Chinese television programmes into Urdu.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dubkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Localise Chinese television programmes into Urdu."""


app.command("transcribe")(transcribe.transcribe)
app.command("translate")(translate.translate)
app.command("run")(run.run)
app.add_typer(models.models_app, name="models")
app.add_typer(memory.memory_app, name="memory")
app.add_typer(glossary.glossary_app, name="glossary")
app.command("align")(align.align)
app.command("batch")(batch.batch)
app.add_typer(dubscript.dub_app, name="dubscript")
app.command("preview")(preview.preview)
app.command("qa")(qa.qa)


def main() -> None:
    """Console-script entry point."""
    app()
