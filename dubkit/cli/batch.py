"""`dubkit batch`: many episodes, resumable stage by stage, one process per job or on Dask.

The command hands its options to `dubkit.episode.stages.plan_batch`, which checks settings, the
route and the memory once and builds a picklable `EngineLoader` (everything a worker needs to
load the models); `dubkit.episode.batch.run_batch` calls it once per worker process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dubkit.cli.options import (
    DUBBING,
    PICTURE,
    RECOGNITION,
    TRANSLATION,
    ConfigOpt,
    GlossaryOpt,
    JobThreadsOpt,
    OutDir,
    with_options,
)

if TYPE_CHECKING:
    from dubkit.cli.console import Console


@with_options(RECOGNITION, TRANSLATION, PICTURE, DUBBING)
def batch(
    folders: Annotated[
        list[Path],
        typer.Argument(
            help="Media files, or folders of episodes (one sub-folder "
            "per episode may hold its .srt and glossary)."
        ),
    ],
    outdir: OutDir = Path("dubkit-batch"),
    jobs: Annotated[int, typer.Option(min=1, help="Episodes at once (worker processes).")] = 1,
    glossary: GlossaryOpt = None,
    resume: Annotated[
        bool,
        typer.Option("--resume/--force", help="Skip stages whose inputs did not change."),
    ] = True,
    fail_fast: Annotated[bool, typer.Option(help="Stop at the first failed episode.")] = False,
    executor: Annotated[str, typer.Option(help="local (process pool) or dask.")] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://HOST:PORT).")
    ] = None,
    threads: JobThreadsOpt = 0,
    config: ConfigOpt = None,
    **options: Any,
) -> None:
    """Run every episode through the same stages as `run` into OUT/EPISODE/, resumable stage
    by stage; batch-report.json and a summary at the end; exit 1 when any episode failed."""
    from dubkit.cli.common import ensure_writable
    from dubkit.cli.console import EpisodeBars, fail, make_console
    from dubkit.config import load_config
    from dubkit.episode import batch as batchlib
    from dubkit.episode.setup import RunFlags
    from dubkit.episode.stages import plan_batch

    console = make_console()
    if executor not in ("local", "dask"):
        fail(console, f"--executor {executor}: choose local or dask")
    cfg = load_config(config)
    loader, jobs = plan_batch(cfg, glossary, RunFlags(**options, threads=threads), jobs)
    ensure_writable(outdir)
    episodes, problems = batchlib.discover(folders)
    for _, why in problems:
        console.print(f"error: {why}", markup=False)
    if not episodes:
        fail(console, "no episodes found (media files, or one folder per episode)")
    with EpisodeBars(console, len(episodes)) as bars:
        report = batchlib.run_batch(
            episodes, outdir, loader, jobs=jobs, force=not resume, fail_fast=fail_fast,
            executor=executor, scheduler=scheduler, notify=bars,
        )  # fmt: skip
    _summary(console, report)
    if report.interrupted:
        raise typer.Exit(143 if report.interrupted == "SIGTERM" else 130)
    if report.failed or problems:
        raise typer.Exit(1)


def _summary(console: Console, report: Any) -> None:
    from dubkit.cli.console import Table

    table = Table(title=f"dubkit batch ({report.executor}, {report.jobs} job(s))")
    for column in ("episode", "status", "transcribe", "translate", "dub", "s", "reason"):
        table.add_column(column)
    for o in report.outcomes:
        table.add_row(
            o.name, o.status, *(o.stages.get(s, "-") for s in ("transcribe", "translate", "dub")),
            f"{o.seconds:.1f}", o.error or "",
        )  # fmt: skip
    for name in report.not_run:
        table.add_row(name, "not run", "-", "-", "-", "-", report.interrupted or "stopped")
    console.print(table)
    done = sum(o.status == "done" for o in report.outcomes)
    console.print(
        f"{done} done, {len(report.failed)} failed, {len(report.not_run)} not run; "
        f"{report.model_loads()} model load(s); report: {report.outdir / 'batch-report.json'}",
        markup=False,
    )
