"""The `dubkit` command: the app, its version option, and every command registered here, in
the order `--help` lists them. Each command lives in its own module of this package.

Heavy libraries (faster-whisper, ctranslate2, PyAV, numpy, pydantic) are imported inside the
commands that need them, so `dubkit --help` starts fast.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from dubkit import __version__
from dubkit import constants as C
from dubkit.cli import (
    align,
    batch,
    burn,
    dubscript,
    glossary,
    memory,
    models,
    ocr,
    preview,
    qa,
    review,
    run,
    transcribe,
    translate,
)
from dubkit.cli.console import fail, make_console
from dubkit.errors import DubkitError
from dubkit.escape import one_line


class _Commands(TyperGroup):
    """The commands, with the one place a DubkitError becomes its `error:` line and exit 1."""

    def invoke(self, ctx: Any) -> Any:
        if C.LIMIT_PROBLEMS:  # a DUBKIT_MAX_... variable that is no number
            fail(make_console(), C.LIMIT_PROBLEMS[0])
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
app.command("burn")(burn.burn)
app.command("ocr")(ocr.ocr)
app.command("qa")(qa.qa)
app.command("review")(review.review)


class _WatchedStdout(io.FileIO):
    """File descriptor 1, remembering the error that stopped a write to it: an OSError that
    reaches `main` is standard output's only when this saw it."""

    error: OSError | None = None

    def write(self, data: Any, /) -> int:
        try:
            return super().write(data)
        except OSError as exc:
            self.error = exc
            raise


def _watch_stdout() -> _WatchedStdout | None:
    """sys.stdout rebuilt over a _WatchedStdout (same encoding, errors and buffering); None,
    and nothing changed, when stdout is not file descriptor 1."""
    stdout = sys.stdout
    try:
        if stdout is None or stdout.fileno() != 1:
            return None
        stdout.flush()
    except (AttributeError, OSError, ValueError):
        return None
    raw = _WatchedStdout(1, "w", closefd=False)
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=stdout.encoding,
        errors=stdout.errors,
        line_buffering=bool(stdout.line_buffering),
    )
    return raw


def _quiet_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so that what is still buffered for it is thrown
    away at exit instead of failing again there (Python's recipe for SIGPIPE)."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)


def main() -> None:
    """Console-script entry point. Standard output that cannot take the results (a full disk,
    `> /dev/full`) ends the command with one error line and exit 1; a reader that has gone
    away (`dubkit models list | head -1`) with a quiet exit 1, as Python's recipe does."""
    watched = _watch_stdout()
    try:
        try:
            app()
        finally:
            if sys.stdout is not None:
                sys.stdout.flush()  # a write error shows here, not as a traceback at exit
    except SystemExit:
        if watched is not None and watched.error is not None:
            _quiet_stdout()  # typer turned the broken pipe into exit 1 already
        raise
    except OSError as exc:
        if watched is None or watched.error is None:
            raise  # not standard output's: a bug to see whole
        _quiet_stdout()
        if not isinstance(watched.error, BrokenPipeError):
            reason = one_line(watched.error.strerror or str(exc))
            full = watched.error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
            fix = "free some space, or send" if full else "send"
            with contextlib.suppress(OSError):
                sys.stderr.write(
                    f"error: cannot write to standard output ({reason}); {fix} the output to "
                    f"another file or program\n"
                )
                sys.stderr.flush()
        sys.exit(1)
