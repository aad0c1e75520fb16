"""`dubkit memory`: export, import and count the translation memory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dubkit.cli.console import (
    make_console,
)
from dubkit.cli.options import ConfigOpt, MemoryOpt, SourceLangOpt, TargetLangOpt

memory_app = typer.Typer(
    help="The translation memory: export and import TMX, statistics.", no_args_is_help=True
)


def _memory_file(config: Path | None, memory: Path | None) -> Path | None:
    """The memory file as `run` finds it: --memory, else [translate] memory of dubkit.toml
    (beside it), else None (DUBKIT_HOME/memory.sqlite)."""
    from dubkit.config import load_config
    from dubkit.episode.setup import Translation

    given = {"memory": str(memory) if memory else None}
    return Translation(load_config(config), given, None).memory_path


@memory_app.command("export")
def memory_export(
    tmx: Annotated[Path, typer.Argument(help="TMX file to write.")],
    approved_only: Annotated[
        bool, typer.Option("--approved-only", help="Only human-approved lines.")
    ] = False,
    source: SourceLangOpt = "zh",
    target: TargetLangOpt = "ur",
    memory: MemoryOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Write the memory's source→target pairs as TMX 1.4 for a CAT tool."""
    from dubkit.translate.memory import SqliteMemory, export_tmx

    console = make_console()
    with SqliteMemory(_memory_file(config, memory)) as tm:
        count = export_tmx(tm, tmx, source, target, approved_only)
    console.print(f"{tmx}: {count} translation units ({source}→{target})", markup=False)


@memory_app.command("import")
def memory_import(
    tmx: Annotated[Path, typer.Argument(help="TMX file with corrected lines.")],
    source: SourceLangOpt = "zh",
    target: TargetLangOpt = "ur",
    memory: MemoryOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Import corrected lines: from now on they replace machine translation of those lines."""
    from dubkit.translate.memory import SqliteMemory, import_tmx

    console = make_console()
    with SqliteMemory(_memory_file(config, memory)) as tm:
        count = import_tmx(tm, tmx, source, target)
    console.print(f"{tmx}: {count} approved {source}→{target} lines imported", markup=False)


@memory_app.command("stats")
def memory_stats(memory: MemoryOpt = None, config: ConfigOpt = None) -> None:
    """How many lines the memory holds."""
    from dubkit.translate.memory import SqliteMemory

    with SqliteMemory(_memory_file(config, memory)) as tm:
        stats = tm.stats()
    typer.echo(
        f"{stats.path}: {stats.mt_entries} machine translations under {stats.engines} "
        f"engine keys; {stats.approved} approved and {stats.route_mt} machine route pairs"
    )
