"""Checks and loaders several commands share, each a few lines around the library."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from dubkit.cli.console import (
    Console,
    notice,
    status_spinner,
)
from dubkit.errors import DubkitError


def ensure_writable(outdir: Path) -> None:
    from dubkit.fsutil import ensure_writable_dir

    ensure_writable_dir(outdir)


def check_subtitle_files(
    console: Console, paths: list[Path], encoding: str | None
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Read every subtitle file before the models load: bad ones are reported, not fatal."""
    from dubkit.subtitles.files import read_srt, subtitle_stem

    return _checked(
        console, paths, subtitle_stem, lambda path: read_srt(path, encoding), "translate"
    )


def check_media_files(
    console: Console, media: list[Path], source: str = "asr"
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Open every file before the model loads, so bad paths fail in a second: its sound,
    or under --source ocr its picture (the sound is not needed then)."""
    from dubkit.episode.pipeline import check_source_media

    def check(path: Path) -> None:
        check_source_media(path, source)

    return _checked(console, media, lambda path: path.stem, check, "transcribe")


def _checked(
    console: Console,
    paths: list[Path],
    stem_of: Callable[[Path], str],
    check: Callable[[Path], object],
    verb: str,
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The paths that pass `check` and do not share an output name with an earlier one; each
    failure printed as its error line and returned with its reason."""
    good: list[Path] = []
    failures: list[tuple[Path, str]] = []
    stems: dict[str, Path] = {}
    for path in paths:
        try:
            if (first := stems.setdefault(stem_of(path), path)) is not path:
                raise DubkitError(
                    f"{path}: has the same name as {first}, so their outputs would overwrite "
                    f"each other; {verb} them into different folders with -o",
                    path=path,
                )
            check(path)
        except DubkitError as exc:
            console.print(f"error: {exc}", markup=False)
            failures.append((path, str(exc)))
        else:
            good.append(path)
    return good, failures


def each_file(
    console: Console,
    paths: list[Path],
    work: Callable[[Path, Any], Any],
    failures: list[tuple[Path, str]],
) -> Iterator[tuple[Path, Any]]:
    """(path, result) of `work(path, progress)` for each file, under one progress bar with a
    task per file; a file whose work raises a DubkitError gets its `error:` line and joins
    `failures`, and the others go on."""
    from dubkit.cli.console import advance, progress_bar
    from dubkit.escape import display_text

    with progress_bar(console) as bar:
        for path in paths:
            task = (
                bar.add_task(display_text(path.name), total=None, seconds="reading")
                if bar
                else None
            )
            try:
                result = work(path, advance(bar, task))
            except DubkitError as exc:
                console.print(f"error: {exc}", markup=False)
                failures.append((path, str(exc)))
                continue
            finally:
                if bar is not None:
                    bar.remove_task(task)
            yield path, result


def load_transcriber(console: Console, rec: Any, threads: int) -> Any:
    """The recogniser `rec` (an `episode.setup.Recognition`) names, loaded under a spinner."""
    from dubkit.episode.engine import load_recogniser

    return load_recogniser(rec, threads, status_spinner(console), partial(notice, console))


def report_adherence(console: Console, where: Path, adherence: dict[str, Any], terms: Any) -> None:
    if terms is None or not adherence:
        return
    rate = adherence.get("rate")
    unverified = adherence.get("unverified") or []
    if unverified:
        console.print(
            f"{where}: {len(unverified)} term occurrence(s) not counted: the recogniser flagged "
            f"their text (loop or no speech); check those cues",
            markup=False,
        )
    if rate is None:
        console.print(f"{where}: no spoken glossary term in the source", markup=False)
        return
    console.print(
        f"{where}: glossary adherence {rate:.1%} ({adherence['found']}/{adherence['terms']} "
        f"spoken terms)",
        markup=False,
    )
    for miss in adherence.get("misses", []):
        console.print(f"  miss: cue {miss['cue']}: {miss['zh']} → {miss['approved']}", markup=False)


def load_steps(console: Console, route: Any, options: Any) -> list[Any]:
    from dubkit.episode import engine

    return engine.load_steps(route, options, status_spinner(console), partial(notice, console))


def step_summary(result: Any) -> str:
    hits = sum(s.memory_hits for s in result.steps)
    done = sum(s.translated for s in result.steps)
    extra = f", {result.approved} approved" if result.approved else ""
    return f"{hits} from memory, {done} translated{extra}"
