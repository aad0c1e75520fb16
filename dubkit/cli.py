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
from dubkit.cli_options import (
    BatchOpt,
    BatchTokensOpt,
    BeamOpt,
    BiasOpt,
    BidiOpt,
    BomOpt,
    CacheOpt,
    ClipFormatOpt,
    ClipsOpt,
    ComputeOpt,
    ConfigOpt,
    DeviceOpt,
    DigitsOpt,
    DubscriptOpt,
    GlossaryOpt,
    GuardOpt,
    GuideTrackOpt,
    HandlesOpt,
    HotwordOpt,
    JsonOpt,
    LanguageOpt,
    LayoutOpt,
    MemoryOpt,
    ModelOpt,
    MtBeamOpt,
    MtComputeOpt,
    MtDeviceOpt,
    OutDir,
    PackagesOpt,
    PivotOpt,
    PivotSrtOpt,
    ProfileOpt,
    RecoverOpt,
    RouteOpt,
    ScratchVoiceOpt,
    ThreadsOpt,
    UrProfileOpt,
    VadOpt,
)
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


def _notice(console: Console, text: str) -> None:
    """A notice once per command (recognition and translation often share the reason)."""
    said: set[str] = console.__dict__.setdefault("_dubkit_notices", set())
    if text not in said:
        said.add(text)
        console.print(f"notice: {text}", markup=False)


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
    outdir: OutDir = Path("."),
    model: ModelOpt = None,
    device: DeviceOpt = None,
    compute_type: ComputeOpt = None,
    beam_size: BeamOpt = None,
    batch_size: BatchOpt = None,
    vad: VadOpt = None,
    language: LanguageOpt = None,
    hotword: HotwordOpt = None,
    guard: GuardOpt = None,
    recover: RecoverOpt = None,
    glossary_bias: BiasOpt = None,
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
    max_chars: Annotated[int | None, typer.Option(help="Characters per line.")] = None,
    max_lines: Annotated[int | None, typer.Option(help="Lines per cue.")] = None,
    fps: Annotated[float | None, typer.Option(help="Frame rate times snap to.")] = None,
    min_duration: Annotated[int | None, typer.Option(help="Shortest cue, ms.")] = None,
    max_duration: Annotated[int | None, typer.Option(help="Longest cue, ms.")] = None,
    min_gap: Annotated[int | None, typer.Option(help="Frames between cues.")] = None,
    threads: ThreadsOpt = 0,
    glossary: GlossaryOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Transcribe Chinese speech into STEM.zh.srt and STEM.asr.json."""
    from dubkit.episode.setup import load_glossaries, recognition

    console = _console()
    try:
        from dubkit.config import load_config

        cfg = load_config(config)
        terms = load_glossaries(cfg, glossary)
        asr = recognition(
            cfg,
            {
                "model": model, "device": device, "compute_type": compute_type,
                "beam_size": beam_size, "batch_size": batch_size, "vad": vad,
                "language": language, "guard": guard, "recover": recover,
                "glossary_bias": glossary_bias,
            },
            hotword,
            profile,
            {
                "max_chars_per_line": max_chars, "max_lines": max_lines, "fps": fps,
                "min_duration_ms": min_duration, "max_duration_ms": max_duration,
                "min_gap_frames": min_gap,
            },
        )  # fmt: skip
        _writable(outdir)
    except DubkitError as exc:
        _fail(console, exc)
    media, failures = _check_media(console, media)
    if not media:
        raise typer.Exit(1)
    try:
        transcriber = _load_transcriber(console, asr, threads)
    except DubkitError as exc:
        _fail(console, exc)
    results, more_failures = _transcribe_all(
        console, media, outdir, transcriber, asr.options, asr.profile, terms
    )
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


def _writable(outdir: Path) -> None:
    from dubkit.fsutil import ensure_writable_dir

    ensure_writable_dir(outdir)


def _check_subtitles(
    console: Console, paths: list[Path], encoding: str | None
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Read every subtitle file before the models load: bad ones are reported, not fatal."""
    from dubkit.episode.pipeline import read_srt, subtitle_stem

    good: list[Path] = []
    failures: list[tuple[Path, str]] = []
    stems: dict[str, Path] = {}
    for path in paths:
        try:
            if (first := stems.setdefault(subtitle_stem(path), path)) is not path:
                raise DubkitError(
                    f"{path}: has the same name as {first}, so their outputs would overwrite "
                    f"each other; translate them into different folders with -o"
                )
            read_srt(path, encoding)
        except DubkitError as exc:
            console.print(f"error: {exc}", markup=False)
            failures.append((path, str(exc)))
        else:
            good.append(path)
    return good, failures


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


def _load_transcriber(console: Console, rec: Any, threads: int) -> Any:
    """The recogniser `rec` (an `episode.setup.Recognition`) names, loaded."""
    from dubkit.adapters.whisper import WhisperTranscriber

    with _status(console)(f"loading {rec.model_name}…"):
        transcriber = WhisperTranscriber.load(
            rec.model_name, rec.model_path, rec.device, rec.compute_type, threads
        )
    if transcriber.device.notice:
        _notice(console, transcriber.device.notice)
    return transcriber


def _transcribe_all(
    console: Console,
    media: list[Path],
    outdir: Path,
    transcriber: Any,
    options: Any,
    profile: Any,
    terms: Any = None,
) -> tuple[list[Any], list[tuple[Path, str]]]:
    from dubkit.episode.pipeline import transcribe_file

    run_meta = {"model": _model_meta(transcriber)}
    results, failures = [], []
    with _progress(console) as bar:
        for path in media:
            task = bar.add_task(path.name, total=None, seconds="reading") if bar else None
            try:
                result = transcribe_file(
                    path, outdir, transcriber, options, profile, run_meta, _advance(bar, task),
                    terms,
                )  # fmt: skip
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


def _status(console: Console) -> Any:
    """A spinner with a message while something loads, on a terminal; else nothing."""
    return console.status if console.is_terminal else (lambda _text: _nothing())


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


# ---------------------------------------------------------------------------- translation


def _adherence(console: Console, where: Path, adherence: dict[str, Any], terms: Any) -> None:
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


def _load_steps(console: Console, route: Any, options: Any) -> list[Any]:
    from dubkit.adapters.argos import load_route

    with console.status(f"loading {route.description}…") if console.is_terminal else _nothing():
        steps = load_route(route.stages, options)
    for step in steps:
        if step.device.notice:
            _notice(console, step.device.notice)
    return steps


def _step_summary(result: Any) -> str:
    hits = sum(s.memory_hits for s in result.steps)
    done = sum(s.translated for s in result.steps)
    extra = f", {result.approved} approved" if result.approved else ""
    return f"{hits} from memory, {done} translated{extra}"


@app.command()
def translate(
    srt: Annotated[list[Path], typer.Argument(help="Chinese subtitle files (STEM.zh.srt).")],
    outdir: OutDir = Path("."),
    pivot_srt: PivotSrtOpt = False,
    route: RouteOpt = None,
    pivot: PivotOpt = None,
    packages: PackagesOpt = None,
    device: DeviceOpt = None,
    compute_type: ComputeOpt = None,
    beam_size: MtBeamOpt = None,
    batch_tokens: BatchTokensOpt = None,
    threads: ThreadsOpt = 0,
    cache: CacheOpt = None,
    memory: MemoryOpt = None,
    bom: BomOpt = None,
    bidi: BidiOpt = None,
    digits: DigitsOpt = None,
    encoding: Annotated[
        str | None, typer.Option(help="Input encoding (default: UTF-8, BOM sniffed).")
    ] = None,
    glossary: GlossaryOpt = None,
    layout: LayoutOpt = None,
    ur_profile: UrProfileOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Translate Chinese SRT files into STEM.ur.srt (sentence by sentence, re-timed under the
    Urdu profile; `--layout cue` keeps the Chinese cues and timing)."""
    from dubkit.episode.pipeline import translate_file
    from dubkit.episode.setup import Translation, load_glossaries

    console = _console()
    try:
        from dubkit.config import load_config

        cfg = load_config(config)
        mt = Translation(
            cfg,
            {
                "route": route, "pivot": pivot, "device": device, "compute_type": compute_type,
                "beam_size": beam_size, "max_batch_tokens": batch_tokens, "cache": cache,
                "memory": str(memory) if memory else None, "bom": bom, "bidi_marks": bidi,
                "digits": digits, "threads": threads, "pivot_srt": pivot_srt,
                "encoding": encoding, "layout": layout, "profile": ur_profile,
            },
            packages,
        )  # fmt: skip
        _writable(outdir)
        terms = load_glossaries(cfg, glossary)
        found = mt.route()
        if found is None:
            _fail(console, mt.no_route())
    except DubkitError as exc:
        _fail(console, exc)
    srt, failures = _check_subtitles(console, srt, encoding)
    if not srt:
        raise typer.Exit(1)
    try:
        steps = _load_steps(console, found, mt.options)
        tm = mt.memory()
    except DubkitError as exc:
        _fail(console, exc)
    if pivot_srt and found.kind == "direct":
        _notice(console, f"--pivot-srt: the route {found.description} has no pivot language")
    results: list[Any] = []
    for path in srt:
        try:
            with console.status(f"translating {path.name}…") if console.is_terminal else _nothing():
                result = translate_file(path, outdir, steps, tm, mt.settings, terms)
        except DubkitError as exc:
            console.print(f"error: {exc}", markup=False)
            failures.append((path, str(exc)))
            continue
        results.append(result)
        for repair in result.repairs:
            console.print(f"repaired: {repair}", markup=False)
        outs = ", ".join(str(p) for p in result.outputs.values())
        console.print(
            f"{path}: {result.cues} cues ({_step_summary(result)}) via {found.description} in "
            f"{result.seconds:.1f} s → {outs}",
            markup=False,
        )
        _adherence(console, path, result.adherence, terms)
    if tm is not None:
        tm.close()
    if as_json:
        summary = {
            "dubkit_version": __version__,
            "route": found.description,
            "steps": [s.description for s in steps],
            "files": [r.to_dict() for r in results]
            + [{"source": str(p), "error": e} for p, e in failures],
        }
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    if failures:
        raise typer.Exit(1)


@app.command()
def run(
    media: Annotated[list[Path], typer.Argument(help="Media files (any format ffmpeg reads).")],
    outdir: OutDir = Path("."),
    model: ModelOpt = None,
    device: DeviceOpt = None,
    compute_type: ComputeOpt = None,
    beam_size: BeamOpt = None,
    batch_size: BatchOpt = None,
    vad: VadOpt = None,
    language: LanguageOpt = None,
    hotword: HotwordOpt = None,
    guard: GuardOpt = None,
    recover: RecoverOpt = None,
    glossary_bias: BiasOpt = None,
    profile: ProfileOpt = None,
    mt_device: MtDeviceOpt = None,
    mt_compute_type: MtComputeOpt = None,
    mt_beam_size: MtBeamOpt = None,
    batch_tokens: BatchTokensOpt = None,
    route: RouteOpt = None,
    pivot: PivotOpt = None,
    packages: PackagesOpt = None,
    pivot_srt: PivotSrtOpt = False,
    cache: CacheOpt = None,
    memory: MemoryOpt = None,
    bom: BomOpt = None,
    bidi: BidiOpt = None,
    digits: DigitsOpt = None,
    threads: ThreadsOpt = 0,
    glossary: GlossaryOpt = None,
    layout: LayoutOpt = None,
    ur_profile: UrProfileOpt = None,
    dubscript: DubscriptOpt = True,
    clips: ClipsOpt = True,
    handles: HandlesOpt = 250,
    clip_format: ClipFormatOpt = "wav",
    guide_track: GuideTrackOpt = False,
    scratch_voice: ScratchVoiceOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Transcribe and translate in one go: STEM.zh.srt, STEM.ur.srt (.vtt, .ass), the dubbing
    script and reference clips, STEM.run.json; `--guide-track` adds a guide track."""
    from dubkit.config import load_config
    from dubkit.episode.engine import Engine
    from dubkit.episode.setup import RunFlags, engine_spec, load_glossaries

    console = _console()
    try:
        cfg = load_config(config)
        terms = load_glossaries(cfg, glossary)  # a broken glossary fails before any model
        spec, mt = engine_spec(cfg, RunFlags.take(locals()))
        _writable(outdir)
        if spec.translation is None:
            console.print(
                f"warning: {mt.no_route()}; writing the Chinese outputs only", markup=False
            )
    except DubkitError as exc:
        _fail(console, exc)
    media, failures = _check_media(console, media)
    if not media:
        raise typer.Exit(1)
    try:
        engine = Engine.load(spec, _status(console), lambda text: _notice(console, text))
    except DubkitError as exc:
        _fail(console, exc)
    route = spec.translation.route if spec.translation else None
    if pivot_srt and route is not None and route.kind == "direct":
        _notice(console, f"--pivot-srt: the route {route.description} has no pivot language")
    results = []
    with _progress(console) as bar:
        for path in media:
            task = bar.add_task(path.name, total=None, seconds="reading") if bar else None
            try:
                result = engine.run(path, outdir, _advance(bar, task), terms)
            except DubkitError as exc:
                console.print(f"error: {exc}", markup=False)
                failures.append((path, str(exc)))
                continue
            finally:
                if bar is not None:
                    bar.remove_task(task)
            results.append(result)
            for warning in result.transcription.warnings:
                console.print(f"warning: {warning}", markup=False)
    engine.close()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "dubkit_version": __version__,
                    **engine.meta,
                    "files": [json.loads(r.run_json.read_text("utf-8")) for r in results]
                    + [{"media": str(m), "error": e} for m, e in failures],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    _run_table(console, results)
    for r in results:
        if r.translation is not None:
            _adherence(console, r.media, r.translation.adherence, terms)
    if spec.translation is None:
        _fail(console, mt.no_route())
    if failures:
        raise typer.Exit(1)


def _model_meta(transcriber: Any) -> dict[str, Any]:
    return {
        "name": transcriber.name,
        "path": str(transcriber.path),
        "device": transcriber.device.device,
        "compute_type": transcriber.device.compute_type,
    }


def _advance(bar: Any, task: Any) -> Any:
    def advance(done_ms: int, total_ms: int) -> None:
        if bar is not None:
            done, total = done_ms / 1000, total_ms / 1000
            bar.update(task, completed=done, total=total, seconds=f"{done:.0f}/{total:.0f} s")

    return advance


def _run_table(console: Console, results: list[Any]) -> None:
    from rich.table import Table

    if not results:
        return
    table = Table(title="dubkit run")
    for column in ("media", "audio", "zh cues", "ur cues", "memory", "MT", "ASR s", "MT s"):
        table.add_column(column, justify="left" if column == "media" else "right")
    for r in results:
        t, m = r.transcription, r.translation
        table.add_row(
            r.media.name,
            f"{t.duration_ms / 1000:.1f} s",
            str(t.cues),
            str(m.cues) if m else "-",
            str(sum(s.memory_hits for s in m.steps)) if m else "-",
            str(sum(s.translated for s in m.steps)) if m else "-",
            f"{t.seconds:.1f}",
            f"{m.seconds:.1f}" if m else "-",
        )
    console.print(table)
    for r in results:
        outs = [r.transcription.srt, *(r.translation.outputs.values() if r.translation else ())]
        console.print(f"{r.media}: {', '.join(map(str, [*outs, r.run_json]))}", markup=False)
        dub = r.dubbing or {}
        if "script" in dub:
            console.print(
                f"  dubbing script: {dub['script']['xlsx']} ({dub['lines']} lines)", markup=False
            )
        if "clips" in dub:
            console.print(
                f"  clips: {dub['clips']['count']} in {dub['clips']['folder']}", markup=False
            )
        if "guide" in dub:
            g = dub["guide"]
            misfits = len(g["lines_not_fitting"])
            loud = "unmeasured" if g["loudness_lufs"] is None else f"{g['loudness_lufs']:.1f} LUFS"
            console.print(
                f"  guide track: {g['path']}, {loud} measured"
                + (f", {misfits} line(s) do not fit their slot" if misfits else ""),
                markup=False,
            )


@models_app.command("list")
def models_list(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    packages_dir: PackagesOpt = None,
) -> None:
    """Speech models, translation packages and the zh→ur route: what is installed where."""
    from dubkit.models.store import catalogue, installed_models, models_dir

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
    packages, broken, routes = _translation_rows(packages_dir)
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
    from rich.console import Console
    from rich.table import Table

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
    out = Console(soft_wrap=True)
    out.print(table)
    out.print("* installs offline: `dubkit models pull whisper:base`", markup=False)
    pkg_table = Table(title="translation packages (Argos Translate)")
    for column in ("pair", "version", "origin", "location"):
        pkg_table.add_column(column)
    for p in packages:
        pkg_table.add_row(p["pair"], p["version"], p["origin"], p["path"])
    for path, why in broken:
        pkg_table.add_row("?", "-", "broken", f"{path}: {why}")
    out.print(pkg_table)
    for r in routes:
        state = r["via"] if r["via"] else f"not installed: `dubkit models pull argos:{r['pair']}`"
        out.print(f"route {r['pair']}: {state}", markup=False)


def _translation_rows(
    extra: list[Path] | None,
) -> tuple[list[dict[str, str]], list[tuple[str, str]], list[dict[str, Any]]]:
    from dubkit.models.packages import broken_packages, find_route, installed_packages

    found = installed_packages(extra or ())
    packages = [
        {"pair": p.pair, "version": p.version, "origin": p.origin, "path": str(p.path)}
        for p in found
    ]
    broken = [(str(path), why) for path, why in broken_packages(extra or ())]
    route = find_route("zh", "ur", found)
    routes = [
        {
            "pair": "zh-ur",
            "via": route.description if route else None,
            "kind": route.kind if route else None,
        }
    ]
    return packages, broken, routes


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
    console = _console()
    if name.startswith("argos:"):
        from dubkit.config import load_config, translate_defaults
        from dubkit.models.packages import parse_route_name, pull_route

        notices: list[str] = []
        try:
            configured = translate_defaults(load_config(config))
            source, target = parse_route_name(name)
            progress = _ByteProgressFactory(console)
            with progress:
                installed = pull_route(
                    source, target, index or configured["index"], progress, refresh, notices,
                    (pivot or configured["pivot"],),
                )  # fmt: skip
        except DubkitError as exc:
            _fail(console, exc)
        for notice in notices:
            console.print(f"notice: {notice}", markup=False)
        for package in installed:
            console.print(f"{package.pair} {package.version}: ready in {package.path}")
        return
    from dubkit.models.store import pull

    try:
        with _byte_progress(console, f"pull {name}") as report:
            model = pull(name, report)
    except DubkitError as exc:
        _fail(console, exc)
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
    from dubkit.errors import ModelUnavailable
    from dubkit.models.packages import install_archive
    from dubkit.models.store import install_folder

    console = _console()
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
                model = install_folder(path, name)
                console.print(
                    f"{model.name}: {model.status}, {_human_size(model.size)} in {model.path}"
                )
            else:
                package = install_archive(path, into)
                console.print(f"{package.pair} {package.version}: installed in {package.path}")
        except DubkitError as exc:
            console.print(f"error: {exc}", markup=False)
            failed = True
    if failed:
        raise typer.Exit(1)


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


class _ByteProgressFactory:
    """One progress bar per download, when stderr is a terminal."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar: Any = None

    def __enter__(self) -> _ByteProgressFactory:
        if self.console.is_terminal:
            from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

            self.bar = Progress(
                *Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(),
                console=self.console,
            )  # fmt: skip
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, label: str) -> Any:
        if self.bar is None:
            return None
        task = self.bar.add_task(label, total=None)

        def report(done: int, total: int) -> None:
            self.bar.update(task, completed=done, total=total or None)

        return report


# ---------------------------------------------------------------------------------- memory

memory_app = typer.Typer(
    help="The translation memory: export and import TMX, statistics.", no_args_is_help=True
)
app.add_typer(memory_app, name="memory")
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

    console = _console()
    try:
        with SqliteMemory(memory) as tm:
            count = export_tmx(tm, tmx, source, target, approved_only)
    except DubkitError as exc:
        _fail(console, exc)
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

    console = _console()
    try:
        with SqliteMemory(memory) as tm:
            count = import_tmx(tm, tmx, source, target)
    except DubkitError as exc:
        _fail(console, exc)
    console.print(f"{tmx}: {count} approved {source}→{target} lines imported", markup=False)


@memory_app.command("stats")
def memory_stats(memory: MemoryFileOpt = None) -> None:
    """How many lines the memory holds."""
    from dubkit.translate.memory import SqliteMemory

    console = _console()
    try:
        with SqliteMemory(memory) as tm:
            stats = tm.stats()
    except DubkitError as exc:
        _fail(console, exc)
    typer.echo(
        f"{stats.path}: {stats.mt_entries} machine translations under {stats.engines} "
        f"engine keys; {stats.approved} approved and {stats.route_mt} machine route pairs"
    )


# -------------------------------------------------------------------------------- glossary

glossary_app = typer.Typer(
    help="Check, edit, search and exchange terminology glossaries (YAML).", no_args_is_help=True
)
app.add_typer(glossary_app, name="glossary")
GlossaryFiles = Annotated[list[Path], typer.Argument(help="Glossary YAML files.")]


@glossary_app.command("check")
def glossary_check(
    files: GlossaryFiles,
    fix: Annotated[
        bool, typer.Option("--fix", help="Apply the safe fixes in place (comments kept).")
    ] = False,
) -> None:
    """Every YAML, schema and orthography problem as FILE:LINE:COL; exit 1 on errors."""
    from dubkit.adapters.chinese import to_simplified
    from dubkit.glossary.files import apply_fixes, check_files

    console = _console()
    loaded, issues = check_files(files, to_simplified)
    fixed = 0
    if fix:
        try:
            for file in loaded:
                fixed += apply_fixes(file, issues)
        except DubkitError as exc:
            _fail(console, exc)
        if fixed:
            loaded, issues = check_files(files, to_simplified)
    for issue in issues:
        typer.echo(str(issue))
    errors = sum(i.severity == "error" for i in issues)
    warnings = len(issues) - errors
    terms = sum(len(f.glossary.terms) for f in loaded if f.glossary is not None)
    summary = f"{len(loaded)} file(s), {terms} terms: {errors} error(s), {warnings} warning(s)"
    if fix:
        summary += f", {fixed} fixed"
    fixable = sum(i.fix is not None for i in issues)
    if fixable and not fix:
        summary += f"; {fixable} can be fixed with --fix"
    console.print(summary, markup=False)
    if errors:
        raise typer.Exit(1)


@glossary_app.command("add")
def glossary_add(
    file: Annotated[Path, typer.Argument(help="Glossary YAML to add the term to.")],
    zh: Annotated[str, typer.Option(help="Chinese (Simplified) form.")],
    ur: Annotated[str | None, typer.Option(help="Approved Urdu rendering.")] = None,
    en: Annotated[str | None, typer.Option(help="English (pivot) rendering.")] = None,
    variant: Annotated[list[str] | None, typer.Option(help="Another Chinese form.")] = None,
    misheard: Annotated[list[str] | None, typer.Option(help="A common mis-hearing.")] = None,
    short: Annotated[str | None, typer.Option(help="Short Urdu form.")] = None,
    type_: Annotated[str, typer.Option("--type", help="person, organisation, place, ...")] = "term",
    do_not_translate: Annotated[bool, typer.Option(help="Keep the source form.")] = False,
    forbidden: Annotated[list[str] | None, typer.Option(help="A rendering not to use.")] = None,
    note: Annotated[str | None, typer.Option(help="A note for translators.")] = None,
    source: Annotated[str | None, typer.Option(help="Where the rendering comes from.")] = None,
    approved: Annotated[str | None, typer.Option(help="Approval date YYYY-MM-DD.")] = None,
) -> None:
    """Add a term at the end of the file's list; the rest of the file stays as it is."""
    from dubkit.glossary.files import add_entry

    console = _console()
    entry = {
        "zh": zh, "ur": ur, "en": en, "variants": variant or [], "misheard": misheard or [],
        "short": short, "type": type_, "do_not_translate": do_not_translate,
        "forbidden": forbidden or [], "note": note, "source": source, "approved": approved,
    }  # fmt: skip
    try:
        from dubkit.adapters.chinese import to_simplified

        add_entry(file, {k: v for k, v in entry.items() if v not in (None, "", [])}, to_simplified)
    except DubkitError as exc:
        _fail(console, exc)
    console.print(f"{file}: added {zh}", markup=False)


@glossary_app.command("show")
def glossary_show(
    files: GlossaryFiles,
    query: Annotated[
        str, typer.Option("--query", "-q", help="Text to look for in any field.")
    ] = "",
) -> None:
    """Entries whose Chinese, Urdu, English or note contains QUERY (all when empty)."""
    from rich.console import Console
    from rich.table import Table

    console = _console()
    terms = _glossary_terms(console, files)
    needle = query.casefold()
    table = Table(title=f"terms matching {query!r}" if query else "terms")
    for column in ("zh", "ur", "en", "type", "glossary"):
        table.add_column(column)
    shown = 0
    for t in terms.terms:
        fields = (t.zh, t.ur, t.en, t.short, t.note, *t.variants, *t.misheard)
        if needle and not any(needle in f.casefold() for f in fields):
            continue
        forms = " / ".join((t.zh, *t.variants))
        table.add_row(forms, t.rendering("ur"), t.en, t.type, f"{t.file}:{t.line}")
        shown += 1
    Console(soft_wrap=True).print(table)
    if not shown:
        raise typer.Exit(1)


@glossary_app.command("coverage")
def glossary_coverage(
    episode: Annotated[Path, typer.Argument(help="STEM.zh.srt or STEM.asr.json.")],
    glossary: GlossaryOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Which glossary terms occur in an episode's Chinese, and in which cues or segments."""
    from dubkit.glossary.terms import find_terms

    console = _console()
    terms = _glossary_terms(console, glossary or [])
    try:
        units = _episode_units(episode)
    except DubkitError as exc:
        _fail(console, exc)
    where: dict[str, list[int]] = {}
    for n, text in units:
        for m in find_terms(text, terms):
            where.setdefault(m.term.zh, []).append(n)
    rows = [
        {"zh": t.zh, "ur": t.rendering("ur"), "count": len(where.get(t.zh, [])),
         "units": where.get(t.zh, [])}
        for t in terms.terms
    ]  # fmt: skip
    used = [r for r in rows if r["count"]]
    if as_json:
        typer.echo(json.dumps({"episode": str(episode), "terms": rows}, ensure_ascii=False))
        return
    for r in used:
        typer.echo(f"{r['zh']}\t{r['ur']}\t{r['count']}\t{','.join(map(str, r['units']))}")
    console.print(
        f"{episode}: {len(used)} of {len(rows)} terms occur ({sum(r['count'] for r in used)} "
        f"times in {len(units)} {'cues' if episode.suffix == '.srt' else 'segments'})",
        markup=False,
    )


def _episode_units(path: Path) -> list[tuple[int, str]]:
    """(number, Chinese text) of each cue of an SRT or segment of an asr.json."""
    from dubkit.episode.pipeline import read_srt
    from dubkit.errors import SubtitleParseError
    from dubkit.translate.steps import cue_text

    if path.suffix == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return [(n, str(s["text"])) for n, s in enumerate(doc["segments"], start=1)]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SubtitleParseError(f"{path}: not a dubkit asr.json ({exc})") from exc
    return [(c.index, cue_text(c, "zh")) for c in read_srt(path).cues]


def _glossary_terms(console: Console, files: list[Path]) -> Any:
    if not files:
        _fail(console, "name at least one glossary file (--glossary FILE)")
    try:
        from dubkit.episode.setup import load_glossaries

        terms = load_glossaries({}, files)
    except DubkitError as exc:
        _fail(console, exc)
    return terms


@glossary_app.command("export")
def glossary_export(
    files: GlossaryFiles,
    output: Annotated[Path, typer.Option("-o", "--output", help="terms.csv or terms.tbx")],
    bom: Annotated[bool, typer.Option(help="UTF-8 BOM in CSV (for Excel).")] = True,
) -> None:
    """Export the combined terms as CSV (spreadsheets) or TBX (ISO 30042, CAT tools)."""
    from dubkit.fsutil import atomic_write_all
    from dubkit.glossary.exchange import render_csv, render_tbx

    console = _console()
    terms = _glossary_terms(console, files)
    if output.suffix.lower() == ".tbx":
        data = render_tbx(list(terms.terms), terms.label)
    elif output.suffix.lower() == ".csv":
        data = (("\ufeff" if bom else "") + render_csv(list(terms.terms))).encode("utf-8")
    else:
        _fail(console, f"{output}: choose a .csv or .tbx file name")
    try:
        atomic_write_all({output: data})
    except DubkitError as exc:
        _fail(console, exc)
    console.print(f"{output}: {len(terms.terms)} terms", markup=False)


@glossary_app.command("import")
def glossary_import(
    csv_file: Annotated[Path, typer.Argument(help="CSV with a zh column (as export writes).")],
    into: Annotated[Path, typer.Option("--into", help="Glossary YAML to add the terms to.")],
) -> None:
    """Add the CSV's terms to a glossary (those already in it are reported, not changed)."""
    from dubkit.adapters.chinese import to_simplified
    from dubkit.glossary.exchange import parse_csv
    from dubkit.glossary.files import add_entry

    console = _console()
    try:
        entries = parse_csv(csv_file.read_text(encoding="utf-8-sig"), str(csv_file))
    except OSError as exc:
        _fail(console, f"{csv_file}: cannot read ({exc.strerror or exc})")
    except DubkitError as exc:
        _fail(console, exc)
    added, skipped = 0, 0
    for entry in entries:
        try:
            add_entry(into, entry, to_simplified)
            added += 1
        except DubkitError as exc:
            console.print(f"skipped: {exc}", markup=False)
            skipped += 1
    console.print(f"{into}: {added} added, {skipped} skipped", markup=False)
    if skipped and not added:
        raise typer.Exit(1)


def _register_commands() -> None:
    """Commands that live in dubkit/commands/: each module's register(app) adds its own."""
    import importlib
    import pkgutil

    import dubkit.commands

    for module in pkgutil.iter_modules(dubkit.commands.__path__):
        importlib.import_module(f"dubkit.commands.{module.name}").register(app)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
