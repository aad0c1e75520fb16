"""`dubkit run`: every stage for each programme, through the engine `batch` uses too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dubkit import __version__
from dubkit.cli.common import (
    check_media_files,
    each_file,
    ensure_writable,
    report_adherence,
)
from dubkit.cli.console import (
    Console,
    fail,
    make_console,
    notice,
    status_spinner,
)
from dubkit.cli.options import (
    DUBBING,
    PICTURE,
    RECOGNITION,
    TRANSLATION,
    ConfigOpt,
    GlossaryOpt,
    JsonOpt,
    OutDir,
    ThreadsOpt,
    with_options,
)
from dubkit.escape import display_text, render_json
from dubkit.fsutil import display_path


@with_options(RECOGNITION, TRANSLATION, PICTURE, DUBBING)
def run(
    media: Annotated[list[Path], typer.Argument(help="Media files (any format ffmpeg reads).")],
    outdir: OutDir = Path("."),
    glossary: GlossaryOpt = None,
    threads: ThreadsOpt = 0,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    **options: Any,
) -> None:
    """Transcribe and translate in one go: STEM.zh.srt, STEM.ur.srt (.vtt, .ass), the dubbing
    script and reference clips, STEM.run.json; `--guide-track` adds a guide track. With
    --source ocr|auto also STEM.en.srt (English in the picture) and STEM.ocr.json, and
    `--cover-burned` places the Urdu of STEM.ur.ass over the burned Chinese."""
    from dubkit.config import load_config
    from dubkit.episode.engine import Engine
    from dubkit.episode.setup import RunFlags, engine_spec, load_glossaries

    console = make_console()
    cfg = load_config(config)
    terms = load_glossaries(cfg, glossary)  # a broken glossary fails before any model
    flags = RunFlags(**options, threads=threads)
    spec, mt = engine_spec(cfg, flags)
    ensure_writable(outdir)
    if spec.translation is None:
        console.print(f"warning: {mt.no_route()}; writing the Chinese outputs only", markup=False)
    media, failures = check_media_files(console, media, flags.source)
    if not media:
        raise typer.Exit(1)
    engine = Engine.load(
        spec, status_spinner(console), lambda text: notice(console, text), recogniser=True
    )
    route = spec.translation.route if spec.translation else None
    if flags.pivot_srt and route is not None and route.kind == "direct":
        notice(console, f"--pivot-srt: the route {route.description} has no pivot language")
    if flags.pivot_from == "burned" and flags.source == "asr":
        notice(console, "--pivot-from burned: the English is read with --source ocr or auto")
    results = []
    work = lambda path, progress: engine.run(path, outdir, progress, terms)  # noqa: E731
    for _, result in each_file(console, media, work, failures):
        results.append(result)
        for warning in result.transcription.warnings:
            console.print(f"warning: {warning}", markup=False)
    engine.close()
    if as_json:
        summary = {
            "dubkit_version": __version__,
            **engine.meta,
            "files": [json.loads(r.run_json.read_text("utf-8")) for r in results]
            + [{"media": display_path(m), "error": e} for m, e in failures],
        }
        typer.echo(render_json(summary), nl=False)
    _run_table(console, results)
    for r in results:
        if r.translation is not None:
            report_adherence(console, r.media, r.translation.adherence, terms)
    if spec.translation is None:
        fail(console, mt.no_route())
    if failures:
        raise typer.Exit(1)


def _run_table(console: Console, results: list[Any]) -> None:
    from dubkit.cli.console import Table

    if not results:
        return
    table = Table(title="dubkit run")
    for column in ("media", "audio", "zh cues", "ur cues", "memory", "MT", "ASR s", "MT s"):
        table.add_column(column, justify="left" if column == "media" else "right")
    for r in results:
        t, m = r.transcription, r.translation
        table.add_row(
            display_text(r.media.name),
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
        t = r.transcription
        read = [p for p in (t.en_srt, t.ocr_json) if p is not None]  # from the picture
        outs = [t.srt, *read, *(r.translation.outputs.values() if r.translation else ())]
        shown = ", ".join(map(display_path, [*outs, r.run_json]))
        console.print(f"{display_path(r.media)}: {shown}", markup=False)
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
