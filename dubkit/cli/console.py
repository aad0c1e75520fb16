"""The terminal: the only module that imports rich. Messages go to stderr (stdout carries
`--json` and tables), every external string is printed without markup, progress bars and
spinners appear only on a terminal, and `fail` is the one place an error becomes exit 1."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table as _RichTable
from rich.text import Text

from dubkit.errors import DubkitError
from dubkit.escape import one_line

__all__ = ["Console", "Table", "Text"]


class Table(_RichTable):
    """A rich table whose text cells and title are shown as written, on one line each:
    control characters (a name's newline, an escape sequence) escaped."""

    def __init__(self, *args: Any, title: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, title=None if title is None else one_line(title), **kwargs)

    def add_row(self, *cells: Any, **kwargs: Any) -> None:
        super().add_row(*(one_line(c) if isinstance(c, str) else c for c in cells), **kwargs)


def make_console(stderr: bool = True) -> Console:
    """Messages and progress on stderr (results on stdout with `stderr=False`). Markup is off:
    names, versions and glossary lines from outside print as written ('1.9[/bold]' too),
    whether in a message, a table cell or a progress bar."""
    return Console(stderr=stderr, soft_wrap=True, highlight=False, markup=False)


def print_table(table: Table) -> None:
    """A result table, on stdout."""
    make_console(stderr=False).print(table)


def plain(text: str) -> Text:
    """A table cell shown as written (no markup, no highlighting)."""
    return Text(text)


def notice(console: Console, text: str) -> None:
    """A notice once per command (recognition and translation often share the reason)."""
    said: set[str] = console.__dict__.setdefault("_dubkit_notices", set())
    if text not in said:
        said.add(text)
        console.print(f"notice: {one_line(text)}", markup=False)


def fail(console: Console, error: DubkitError | str) -> NoReturn:
    """The one line a failed command prints, then exit 1."""
    console.print(f"error: {one_line(str(error))}", markup=False)
    raise typer.Exit(1)


def status_spinner(console: Console) -> Callable[[str], AbstractContextManager[Any]]:
    """A spinner with a message while something loads, on a terminal; else nothing."""
    if console.is_terminal:
        # a spinner parses markup whatever the console says: its message goes as Text
        return lambda text: console.status(Text(one_line(text)))
    return lambda _text: contextlib.nullcontext()


def progress_bar(console: Console) -> Any:
    """A progress bar (audio seconds done, ETA) when stderr is a terminal; else None inside
    the `with`."""
    if not console.is_terminal:
        return contextlib.nullcontext()
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.fields[seconds]}", markup=False),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def advance(bar: Any, task: Any) -> Callable[[int, int], None]:
    """A progress callback (done ms, total ms) for one task of `progress_bar`."""

    def report(done_ms: int, total_ms: int) -> None:
        if bar is not None:
            done, total = done_ms / 1000, total_ms / 1000
            bar.update(task, completed=done, total=total, seconds=f"{done:.0f}/{total:.0f} s")

    return report


def _download_bar(console: Console) -> Any:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("{task.description}", markup=False), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TimeRemainingColumn(), console=console,
    )  # fmt: skip


class ByteProgress:
    """One download's bar, when stderr is a terminal: `with` gives the callback or None."""

    def __init__(self, console: Console, label: str) -> None:
        self.console, self.label = console, label
        self.bar: Any = None

    def __enter__(self) -> Callable[[int, int], None] | None:
        if not self.console.is_terminal:
            return None
        self.bar = _download_bar(self.console)
        self.bar.start()
        task = self.bar.add_task(self.label, total=None)

        def report(done: int, total: int) -> None:
            self.bar.update(task, completed=done, total=total)

        return report

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


class ByteProgressFactory:
    """One progress bar per download, when stderr is a terminal."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar: Any = None

    def __enter__(self) -> ByteProgressFactory:
        if self.console.is_terminal:
            self.bar = _download_bar(self.console)
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, label: str) -> Callable[[int, int], None] | None:
        if self.bar is None:
            return None
        task = self.bar.add_task(label, total=None)

        def report(done: int, total: int) -> None:
            self.bar.update(task, completed=done, total=total or None)

        return report


class EpisodeBars:
    """An overall bar and one bar per running episode (audio seconds, ETA) on a terminal;
    each finished episode as a line."""

    def __init__(self, console: Console, total: int) -> None:
        self.console, self.total = console, total
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> EpisodeBars:
        if self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TimeRemainingColumn(), console=self.console,
            )  # fmt: skip
            self.progress.start()
            self.overall = self.progress.add_task("episodes", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, event: str, data: Any) -> None:
        if event == "finished":
            line = f"{data.name}: {data.status}" + (f" — {data.error}" if data.error else "")
            self.console.print(one_line(line), markup=False)
        if self.progress is None:
            return
        if event == "started" and data.name not in self.tasks:
            self.tasks[data.name] = self.progress.add_task(f"  {one_line(data.name)}", total=None)
        elif event == "progress":
            name, done_ms, total_ms = data
            task = self.tasks.get(name) or self.progress.add_task(f"  {one_line(name)}", total=None)
            self.tasks[name] = task
            self.progress.update(task, completed=done_ms / 1000, total=total_ms / 1000)
        elif event == "finished":
            self.progress.advance(self.overall)
            task = self.tasks.pop(data.name, None)
            if task is not None:
                self.progress.remove_task(task)
