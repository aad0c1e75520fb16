"""`dubkit batch`: many episodes, resumable stage by stage, one process per job or on Dask.

The command checks settings and the translation route once, builds a picklable
`EngineLoader` (everything a worker needs to load the models) and hands it to
`dubkit.batch.run_batch`, which calls it once per worker process.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dubkit.errors import DubkitError, ModelUnavailable

if TYPE_CHECKING:
    from rich.console import Console


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)


@dataclass(frozen=True)
class EngineLoader:
    """Picklable recipe for a worker's models (sent to pool processes and Dask workers)."""

    model_name: str
    model_path: Path
    device: str
    compute_type: str | None
    threads: int
    options: Any  # TranscribeOptions
    profile: Any  # Profile
    route: Any  # Route
    mt_options: Any  # MTOptions
    settings: Any  # TranslateSettings
    dub: Any  # DubSettings
    glossaries: tuple[Path, ...] = ()
    key: str = field(default="")

    def __call__(self) -> BatchEngine:
        return BatchEngine(self)


def _model_identity(name: str, path: Path) -> dict[str, Any]:
    """Model name and its weights' identity: the store manifest's sha256, else size+mtime."""
    import json

    identity: dict[str, Any] = {"name": name}
    try:
        doc = json.loads((path / "dubkit-model.json").read_text(encoding="utf-8"))
        identity["sha256"] = doc.get("sha256")
    except (OSError, ValueError):
        pass
    try:
        st = (path / "model.bin").stat()
        identity["size"] = st.st_size
        if not identity.get("sha256"):
            identity["mtime_ns"] = st.st_mtime_ns
    except OSError:
        identity["size"] = None
    return identity


class BatchEngine:
    """The models one worker keeps loaded, and the three stages over them."""

    def __init__(self, spec: EngineLoader) -> None:
        from dubkit.adapters.argos import load_route
        from dubkit.adapters.whisper import WhisperTranscriber

        self.spec = spec
        self.transcriber = WhisperTranscriber.load(
            spec.model_name, spec.model_path, spec.device, spec.compute_type, spec.threads
        )
        self.steps = load_route(spec.route.stages, spec.mt_options)
        self.run_meta = {
            "model": {"name": spec.model_name, "path": str(spec.model_path)},
            "translation": {"route": spec.route.description},
        }
        self._terms: dict[Path | None, Any] = {}
        self.warnings: tuple[str, ...] = ()  # the last transcription's, for the report

    def stage_keys(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "transcribe": [
                _model_identity(spec.model_name, spec.model_path),
                asdict(spec.options),
                asdict(spec.profile),
            ],
            "translate": [
                [p.fingerprint() for p in spec.route.stages],
                repr(spec.settings),
                spec.mt_options.beam_size,
                spec.mt_options.max_batch_tokens,
            ],
            "dub": [asdict(spec.dub), spec.profile.fps],
        }

    def terms(self, glossary: Path | None) -> Any:
        if glossary not in self._terms:
            files = [*self.spec.glossaries, *([glossary] if glossary else [])]
            if not files:
                self._terms[glossary] = None
            else:
                from dubkit.adapters.chinese import to_simplified
                from dubkit.glossary_files import load_terms

                self._terms[glossary] = load_terms(files, to_simplified)
        return self._terms[glossary]

    def glossary_fingerprint(self, glossary: Path | None) -> str | None:
        self._terms.pop(glossary, None)  # re-read: the file may have changed since
        terms = self.terms(glossary)
        return None if terms is None else str(terms.fingerprint)

    def recognition_fingerprint(self, glossary: Path | None) -> str | None:
        terms = self.terms(glossary)
        return None if terms is None else str(terms.recognition_fingerprint)

    def transcribe(
        self, media: Path, outdir: Path, progress: Any, glossary: Path | None
    ) -> list[Path]:
        from dubkit.adapters.audio import check_media
        from dubkit.pipeline import transcribe_file

        self.warnings = ()
        check_media(media)
        spec = self.spec
        heard = transcribe_file(
            media, outdir, self.transcriber, spec.options, spec.profile, self.run_meta,
            progress, self.terms(glossary),
        )  # fmt: skip
        self.warnings = heard.warnings
        if heard.language != spec.settings.source:
            raise DubkitError(
                f"{media}: transcribed as {heard.language}, but the route starts from "
                f"{spec.settings.source}; not translated",
                path=media,
            )
        return [heard.srt, heard.asr_json]

    def translate(
        self, stem: str, zh_srt: Path, outdir: Path, glossary: Path | None
    ) -> tuple[list[Path], Any]:
        from dubkit.pipeline import read_srt, translate_cues, with_recognition_flags

        # the recogniser's flags, as `run` keeps them in memory: QA must know a loop
        cues = with_recognition_flags(read_srt(zh_srt).cues, zh_srt.with_name(f"{stem}.asr.json"))
        terms = self.terms(glossary)
        done = translate_cues(cues, stem, outdir, self.steps, None, self.spec.settings, terms)
        return list(done.paths.values()), (done, cues, terms)

    def dub(
        self, media: Path, outdir: Path, zh_srt: Path, done: Any, glossary: Path | None
    ) -> list[Path]:
        from dubkit.pipeline import dub_outputs

        translated, cues, terms = done
        report = dub_outputs(
            media, outdir, cues, translated, terms, self.spec.dub, self.spec.profile.fps
        )
        written: list[Path] = []
        if report:
            written += [outdir / Path(p).name for p in report.get("script", {}).values()]
            if "clips" in report:
                folder = outdir / "clips" / media.stem
                written += sorted(p for p in folder.iterdir() if p.is_file())
            if "guide" in report:
                written.append(outdir / f"{media.stem}.guide.wav")
        return written


def batch(
    folders: Annotated[
        list[Path],
        typer.Argument(
            help="Media files, or folders of episodes (one sub-folder "
            "per episode may hold its .srt and glossary)."
        ),
    ],
    outdir: Annotated[Path, typer.Option("-o", "--outdir", help="Output folder.")] = Path(
        "dubkit-batch"
    ),
    jobs: Annotated[int, typer.Option(min=1, help="Episodes at once (worker processes).")] = 1,
    glossary: Annotated[
        list[Path] | None, typer.Option("--glossary", "-g", help="Glossary for every episode.")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume/--force", help="Skip stages whose inputs did not change."),
    ] = True,
    fail_fast: Annotated[bool, typer.Option(help="Stop at the first failed episode.")] = False,
    executor: Annotated[str, typer.Option(help="local (process pool) or dask.")] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://HOST:PORT).")
    ] = None,
    packages: Annotated[
        list[Path] | None, typer.Option("--packages", help="Extra folder of Argos packages.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Whisper model (whisper:base).")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    compute_type: Annotated[str | None, typer.Option(help="int8, float32...")] = None,
    layout: Annotated[str | None, typer.Option(help="sentence or cue.")] = None,
    dubscript: Annotated[
        bool, typer.Option("--dubscript/--no-dubscript", help="Dubbing script.")
    ] = True,
    clips: Annotated[bool, typer.Option("--clips/--no-clips", help="Reference clips.")] = True,
    config: Annotated[Path | None, typer.Option(help="Config file.")] = None,
) -> None:
    """Run every episode through the pipeline into OUT/EPISODE/, resumable stage by stage;
    batch-report.json and a summary at the end; exit 1 when any episode failed."""
    from dubkit import batch as batchlib
    from dubkit.cli import _asr_setup, _console, _fail, _MtSetup, _terms, _writable

    console = _console()
    if executor not in ("local", "dask"):
        _fail(console, f"--executor {executor}: choose local or dask")
    cores = os.cpu_count() or 1
    jobs = min(jobs, cores)
    try:
        from dubkit.config import load_config
        from dubkit.pipeline import DubSettings

        cfg = load_config(config)
        _terms(cfg, glossary)  # a broken shared glossary fails before anything runs
        settings, options, chosen, model_name, model_path = _asr_setup(
            cfg, {"model": model, "device": device, "compute_type": compute_type}, None, None, {}
        )
        mt = _MtSetup(
            cfg, {"device": device, "layout": layout, "threads": max(1, cores // jobs)}, packages
        )
        route = mt.route()
        if route is None:
            raise ModelUnavailable(mt.no_route())
        _writable(outdir)
        episodes, problems = batchlib.discover(folders)
    except DubkitError as exc:
        _fail(console, exc)
    for _, why in problems:
        console.print(f"error: {why}", markup=False)
    if not episodes:
        _fail(console, "no episodes found (media files, or one folder per episode)")
    base = Path(cfg["_path"]).parent if "_path" in cfg else Path(".")
    shared = tuple(
        p.resolve()
        for p in [base / f for f in cfg.get("glossary", {}).get("files", [])] + list(glossary or [])
    )
    loader = EngineLoader(
        model_name, model_path, settings["device"], settings["compute_type"],
        max(1, cores // jobs), options, chosen, route, mt.options, mt.settings,
        DubSettings(script=dubscript, clips=clips), shared,
    )  # fmt: skip
    loader = _keyed(loader)
    with _Bars(console, len(episodes)) as bars:
        try:
            report = batchlib.run_batch(
                episodes, outdir, loader, jobs=jobs, force=not resume, fail_fast=fail_fast,
                executor=executor, scheduler=scheduler, notify=bars,
            )  # fmt: skip
        except DubkitError as exc:
            _fail(console, exc)
    _summary(console, report)
    if report.interrupted:
        raise typer.Exit(143 if report.interrupted == "SIGTERM" else 130)
    if report.failed or problems:
        raise typer.Exit(1)


def _keyed(loader: EngineLoader) -> EngineLoader:
    from dataclasses import replace

    from dubkit.batch import key_of

    return replace(loader, key=key_of(repr(loader)))


class _Bars:
    """An overall bar and one bar per running episode (audio seconds, ETA) on a terminal."""

    def __init__(self, console: Console, total: int) -> None:
        self.console, self.total = console, total
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _Bars:
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
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
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
            self.console.print(line, markup=False)
        if self.progress is None:
            return
        if event == "started" and data.name not in self.tasks:
            self.tasks[data.name] = self.progress.add_task(f"  {data.name}", total=None)
        elif event == "progress":
            name, done_ms, total_ms = data
            task = self.tasks.get(name) or self.progress.add_task(f"  {name}", total=None)
            self.tasks[name] = task
            self.progress.update(task, completed=done_ms / 1000, total=total_ms / 1000)
        elif event == "finished":
            self.progress.advance(self.overall)
            task = self.tasks.pop(data.name, None)
            if task is not None:
                self.progress.remove_task(task)


def _summary(console: Console, report: Any) -> None:
    from rich.table import Table

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
