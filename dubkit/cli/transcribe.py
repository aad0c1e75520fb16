"""`dubkit transcribe`: speech to STEM.zh.srt and STEM.asr.json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dubkit import __version__
from dubkit.cli.common import (
    check_media_files,
    each_file,
    ensure_writable,
    load_transcriber,
)
from dubkit.cli.console import (
    Console,
    make_console,
)
from dubkit.cli.options import (
    RECOGNITION,
    ConfigOpt,
    GlossaryOpt,
    JsonOpt,
    OutDir,
    ThreadsOpt,
    with_options,
)
from dubkit.episode.engine import model_meta
from dubkit.escape import render_json
from dubkit.fsutil import display_path


@with_options(RECOGNITION)
def transcribe(
    media: Annotated[list[Path], typer.Argument(help="Media files (any format ffmpeg reads).")],
    outdir: OutDir = Path("."),
    config: ConfigOpt = None,
    max_chars: Annotated[int | None, typer.Option(help="Characters per line.")] = None,
    max_lines: Annotated[int | None, typer.Option(help="Lines per cue.")] = None,
    min_duration: Annotated[int | None, typer.Option(help="Shortest cue, ms.")] = None,
    max_duration: Annotated[int | None, typer.Option(help="Longest cue, ms.")] = None,
    min_gap: Annotated[int | None, typer.Option(help="Frames between cues.")] = None,
    threads: ThreadsOpt = 0,
    glossary: GlossaryOpt = None,
    as_json: JsonOpt = False,
    **options: Any,
) -> None:
    """Transcribe Chinese speech (or the subtitles burned into the picture: --source) into
    STEM.zh.srt and STEM.asr.json."""
    from dubkit.episode.setup import check_source, load_glossaries, recognition
    from dubkit.timecode import check_rate

    console = make_console()
    from dubkit.config import load_config

    cfg = load_config(config)
    terms = load_glossaries(cfg, glossary)
    fps, hotword, profile = options.pop("fps"), options.pop("hotword"), options.pop("profile")
    source = check_source(options.pop("source"))
    asr = recognition(
        cfg,
        options,  # the rest of RECOGNITION: model, device, compute_type, beam_size, ...
        hotword,
        profile,
        {
            "max_chars_per_line": max_chars, "max_lines": max_lines,
            "min_duration_ms": min_duration, "max_duration_ms": max_duration,
            "min_gap_frames": min_gap,
        },
        source,
    )  # fmt: skip
    if fps is not None:
        check_rate(fps, "--fps")
    ensure_writable(outdir)
    media, failures = check_media_files(console, media, source)
    if not media:
        raise typer.Exit(1)
    # --source ocr reads the picture only: no recogniser to load
    transcriber = load_transcriber(console, asr, threads) if source != "ocr" else None
    results, more_failures = _transcribe_all(
        console, media, outdir, transcriber, asr.options, asr.profile, terms, fps, source
    )
    failures += more_failures
    if as_json:
        summary = {
            "dubkit_version": __version__,
            "model": transcriber.name if transcriber else None,
            "device": transcriber.device.device if transcriber else None,
            "compute_type": transcriber.device.compute_type if transcriber else None,
            "files": [r.to_dict() for r in results]
            + [{"media": display_path(m), "error": e} for m, e in failures],
        }
        typer.echo(render_json(summary), nl=False)
    if failures:
        raise typer.Exit(1)


def _transcribe_all(
    console: Console,
    media: list[Path],
    outdir: Path,
    transcriber: Any,
    options: Any,
    profile: Any,
    terms: Any = None,
    fps: float | None = None,
    source: str = "asr",
) -> tuple[list[Any], list[tuple[Path, str]]]:
    from dubkit.episode.pipeline import transcribe_file

    run_meta = {"model": model_meta(transcriber) if transcriber is not None else None}
    results: list[Any] = []
    failures: list[tuple[Path, str]] = []

    def work(path: Path, progress: Any) -> Any:
        return transcribe_file(
            path, outdir, transcriber, options, profile, run_meta, progress, terms, fps, source
        )

    for path, result in each_file(console, media, work, failures):
        results.append(result)
        for warning in result.warnings:
            console.print(f"warning: {warning}", markup=False)
        console.print(
            f"{display_path(path)}: {result.cues} cues, {result.duration_ms / 1000:.1f} s "
            f"in {result.seconds:.1f} s → "
            + ", ".join(display_path(p) for p in (result.srt, result.en_srt) if p is not None),
            markup=False,
        )
    return results, failures
