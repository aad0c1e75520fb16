"""`dubkit models`: list, download and install speech models and translation packages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dubkit.cli.console import (
    ByteProgress,
    ByteProgressFactory,
    make_console,
)
from dubkit.cli.options import (
    ConfigOpt,
    JsonOpt,
    PackagesOpt,
    PivotOpt,
)
from dubkit.errors import DubkitError
from dubkit.escape import one_line

models_app = typer.Typer(help="List, download and install models.", no_args_is_help=True)


@models_app.command("list")
def models_list(
    as_json: JsonOpt = False,
    packages_dir: PackagesOpt = None,
) -> None:
    """Speech models, translation packages and the zh→ur route: what is installed where."""
    from dubkit.models.inventory import speech_model_rows, translation_rows
    from dubkit.models.store import models_dir

    rows = speech_model_rows()
    packages, broken, routes = translation_rows(packages_dir)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "store": str(models_dir()),
                    "models": rows,
                    "translation_packages": packages,
                    "broken_packages": broken,
                    "routes": routes,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    from dubkit.cli.console import Table, make_console

    table = Table(title=f"speech models (store: {models_dir()})")
    for column in ("name", "size", "status", "location", "source", "licence"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["name"] + (" *" if row["offline"] else ""),
            _human_size(row["size"]),
            row["status"],
            row["location"] or "-",
            row["source"],
            row["licence"] or "-",
        )
    out = make_console(stderr=False)
    out.print(table)
    out.print("* installs offline: `dubkit models pull whisper:base`", markup=False)
    pkg_table = Table(title="translation packages (Argos Translate)")
    for column in ("pair", "version", "origin", "location"):
        pkg_table.add_column(column)
    for p in packages:
        pkg_table.add_row(p["pair"], p["version"], p["origin"], p["path"])
    for path, why in broken:  # names and reasons from outside: one line each, escaped
        pkg_table.add_row(
            "?", "-", "broken", one_line(why if str(path) in why else f"{path}: {why}")
        )
    out.print(pkg_table)
    for r in routes:
        state = r["via"] if r["via"] else f"not installed: `dubkit models pull argos:{r['pair']}`"
        out.print(f"route {r['pair']}: {state}", markup=False)


@models_app.command("pull")
def models_pull(
    name: Annotated[
        str, typer.Argument(help="whisper:SIZE (e.g. whisper:base) or argos:FROM-TO (argos:zh-ur).")
    ],
    index: Annotated[
        str | None, typer.Option(help="Argos package index URL (default: argospm's index).")
    ] = None,
    refresh: Annotated[bool, typer.Option(help="Fetch the index even if cached today.")] = False,
    pivot: PivotOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Download and verify a model: Whisper sizes, or the Argos packages of a route."""
    from dubkit.adapters.modelfiles import MODEL_FILES

    console = make_console()
    if name.startswith("argos:"):
        from dubkit.config import load_config
        from dubkit.models.packages import parse_route_name, pull_route

        notices: list[str] = []
        configured = load_config(config).translate
        source, target = parse_route_name(name)
        progress = ByteProgressFactory(console)
        with progress:
            installed = pull_route(
                source, target, index or configured.index, progress, refresh, notices,
                (pivot or configured.pivot,), checks=MODEL_FILES,
            )  # fmt: skip
        for notice in notices:
            console.print(f"notice: {one_line(notice)}", markup=False)
        for package in installed:
            console.print(f"{package.pair} {package.version}: ready in {package.path}")
        return
    from dubkit.models.store import pull

    with ByteProgress(console, f"pull {name}") as report:
        model = pull(name, report, checks=MODEL_FILES)
    console.print(f"{model.name}: {model.status}, {_human_size(model.size)} in {model.path}")


@models_app.command("install")
def models_install(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Argos .argosmodel files, or one CTranslate2 Whisper folder."),
    ],
    name: Annotated[
        str | None, typer.Option(help="Whisper: name in the store (default: the folder's name).")
    ] = None,
    into: Annotated[
        Path | None,
        typer.Option("--dir", help="Argos: install into this packages folder, not the store."),
    ] = None,
) -> None:
    """Install models offline: Argos packages from files, or a Whisper folder."""
    from dubkit.adapters.modelfiles import MODEL_FILES
    from dubkit.errors import ModelUnavailable
    from dubkit.models.packages import install_archive
    from dubkit.models.store import install_folder

    console = make_console()
    failed = False
    for path in paths:
        try:
            if not path.exists():
                raise ModelUnavailable(
                    f"{path}: no such file or folder; give .argosmodel files or a CTranslate2 "
                    f"Whisper folder",
                    path=path,
                )
            if path.is_dir():
                model = install_folder(path, name, checks=MODEL_FILES)
                console.print(
                    f"{model.name}: {model.status}, {_human_size(model.size)} in {model.path}"
                )
            else:
                package = install_archive(path, into, checks=MODEL_FILES)
                console.print(f"{package.pair} {package.version}: installed in {package.path}")
        except DubkitError as exc:
            console.print(f"error: {exc}", markup=False)
            failed = True
    if failed:
        raise typer.Exit(1)


def _human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
