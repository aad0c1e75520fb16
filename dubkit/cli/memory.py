"""`dubkit memory`: export, import and count the translation memory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dubkit.cli.console import (
    make_console,
)

memory_app = typer.Typer(
    help="The translation memory: export and import TMX, statistics.", no_args_is_help=True
)

MemoryFileOpt = Annotated[
    Path | None, typer.Option("--memory", help="Memory file (default DUBKIT_HOME/memory.sqlite).")
]
SourceLang = Annotated[str, typer.Option("--source", help="Source language.")]
TargetLang = Annotated[str, typer.Option("--target", help="Target language.")]


@memory_app.command("export")
def memory_export(
    tmx: Annotated[Path, typer.Argument(help="TMX file to write.")],
    approved_only: Annotated[
        bool, typer.Option("--approved-only", help="Only human-approved lines.")
    ] = False,
    source: SourceLang = "zh",
    target: TargetLang = "ur",
    memory: MemoryFileOpt = None,
) -> None:
    """Write the memory's source→target pairs as TMX 1.4 for a CAT tool."""
    from dubkit.translate.memory import SqliteMemory, export_tmx

    console = make_console()
    with SqliteMemory(memory) as tm:
        count = export_tmx(tm, tmx, source, target, approved_only)
    console.print(f"{tmx}: {count} translation units ({source}→{target})", markup=False)


@memory_app.command("import")
def memory_import(
    tmx: Annotated[Path, typer.Argument(help="TMX file with corrected lines.")],
    source: SourceLang = "zh",
    target: TargetLang = "ur",
    memory: MemoryFileOpt = None,
) -> None:
    """Import corrected lines: from now on they replace machine translation of those lines."""
    from dubkit.translate.memory import SqliteMemory, import_tmx

    console = make_console()
    with SqliteMemory(memory) as tm:
        count = import_tmx(tm, tmx, source, target)
    console.print(f"{tmx}: {count} approved {source}→{target} lines imported", markup=False)


@memory_app.command("stats")
def memory_stats(memory: MemoryFileOpt = None) -> None:
    """How many lines the memory holds."""
    from dubkit.translate.memory import SqliteMemory

    with SqliteMemory(memory) as tm:
        stats = tm.stats()
    typer.echo(
        f"{stats.path}: {stats.mt_entries} machine translations under {stats.engines} "
        f"engine keys; {stats.approved} approved and {stats.route_mt} machine route pairs"
    )
