"""`dubkit align`: retime a Chinese script or SRT to the programme's speech.

A broadcaster's own transcript is more accurate than recognition; this keeps its words and
takes only the timing from the recogniser (or, for an SRT that is merely shifted or stretched,
one offset and factor). Writes STEM.zh.srt and STEM.align.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dubkit.cli.options import (
    ComputeOpt,
    ConfigOpt,
    DeviceOpt,
    EncodingOpt,
    JsonOpt,
    ModelOpt,
    OutDir,
    ProfileOpt,
    ThreadsOpt,
)
from dubkit.errors import ConfigError

if TYPE_CHECKING:
    from dubkit.cli.console import Console
    from dubkit.episode.alignment import AlignJob
    from dubkit.records import Transcript

# The options only `align` has; the shared ones come from dubkit.cli.options.
ScriptArg = Annotated[
    Path,
    typer.Argument(help="Chinese script: an SRT, or a UTF-8 text file with one line per cue."),
]
MediaArg = Annotated[
    Path | None,
    typer.Argument(help="The programme (any format ffmpeg reads); not needed with --offset."),
]
ModeOpt = Annotated[
    str | None,
    typer.Option(
        help="text: place every line or cue from its words (default); linear: fit one offset "
        "and factor to an SRT that is only shifted or stretched, keeping its cues."
    ),
]
OffsetOpt = Annotated[
    float | None, typer.Option(help="Known correction in ms (SRT only, no MEDIA): added.")
]
FactorOpt = Annotated[
    float | None,
    typer.Option(help="Known correction (SRT only, no MEDIA): times multiplied, then offset."),
]


def align(
    script: ScriptArg,
    media: MediaArg = None,
    outdir: OutDir = Path("."),
    mode: ModeOpt = None,
    offset: OffsetOpt = None,
    factor: FactorOpt = None,
    model: ModelOpt = None,
    device: DeviceOpt = None,
    compute_type: ComputeOpt = None,
    threads: ThreadsOpt = 0,
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
    encoding: EncodingOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Retime a Chinese script or SRT to MEDIA's speech: STEM.zh.srt and STEM.align.json.

    Text mode (default) places every line of a plain-text script, or every cue of an SRT, at
    the recognised words it matches, with a confidence (share of its characters found);
    lines not found are listed, flagged and timed between their neighbours. --mode linear
    fits one offset and factor to an SRT that is only shifted or stretched and keeps its
    cues. --offset/--factor apply a known correction without audio; --profile applies to
    text mode. Output is in Simplified characters; --json prints STEM.align.json on stdout
    too. Exit 1 only when the input cannot be used.
    """
    from dubkit.cli.console import make_console
    from dubkit.episode import alignment as A

    console = make_console()
    job = A.plan_alignment(script, media, outdir, mode, offset, factor, encoding)
    if job.mode == "offset":
        cues = A.known_correction(job, offset, factor)
        correction = {"factor": factor or 1.0, "offset_ms": offset or 0.0}
        doc = A.align_document(job, cues, None, None, correction)
    else:
        transcript, meta, chosen, level = _recognise(
            console, job, model, device, compute_type, threads, profile, config
        )
        doc, cues = A.retime(job, transcript, meta, chosen, level)
    A.write_alignment(job, cues, doc)
    _report(console, job, doc)
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))


def _recognise(
    console: Console,
    job: AlignJob,
    model: str | None,
    device: str | None,
    compute_type: str | None,
    threads: int,
    profile: str | None,
    config: Path | None,
) -> tuple[Transcript, dict[str, Any], Any, tuple[float, ...]]:
    """Load Whisper as `transcribe` does (a spinner), recognise MEDIA (a progress bar)."""
    from dubkit.cli.common import load_transcriber
    from dubkit.cli.console import advance, progress_bar
    from dubkit.config import load_config
    from dubkit.episode.alignment import recognise_words
    from dubkit.episode.engine import model_meta
    from dubkit.episode.setup import recognition

    if job.media is None:  # plan_alignment asks for MEDIA unless --offset/--factor
        raise ConfigError(f"{job.script.path}: name the MEDIA to align it to")
    cfg = load_config(config)
    given = {"model": model, "device": device, "compute_type": compute_type, "language": "zh"}
    rec = recognition(cfg, given, None, profile)
    transcriber = load_transcriber(console, rec, threads)
    with progress_bar(console) as bar:
        task = bar.add_task(job.media.name, total=None, seconds="reading") if bar else None
        words, warnings, level = recognise_words(
            transcriber, job.media, rec.options, advance(bar, task)
        )
    for warning in warnings:
        console.print(f"warning: {warning}", markup=False)
    return words, model_meta(transcriber), rec.profile, level


def _report(console: Console, job: AlignJob, doc: dict[str, Any]) -> None:
    """One summary line, then every unit that could not be placed."""
    script, summary = job.script, doc["summary"]
    for repair in script.repairs:
        console.print(f"repaired: {repair}", markup=False)
    if script.simplified:
        console.print(
            f"notice: {script.simplified} {_kind(job)} converted to Simplified Chinese "
            f"(dubkit writes Simplified)",
            markup=False,
        )
    outs = f"→ {job.srt}, {job.report}"
    if job.mode == "offset":
        console.print(f"{script.path}: {summary['cues']} cues retimed {outs}", markup=False)
        return
    placed = (
        f"{summary['placed']} of {summary['units']} {_kind(job)} found in the speech "
        f"({summary['placed_ratio']:.0%}), mean confidence {summary['mean_confidence']:.2f}"
    )
    if "mean_correction_ms" in summary:
        placed += f", mean correction {summary['mean_correction_ms']:+.0f} ms"
    if job.mode == "linear" and summary["kept"]:
        console.print(
            f"{script.path}: timing kept: the fitted correction is no better than none (median "
            f"start error {summary['fit_error_ms']:.0f} ms fitted, "
            f"{summary['unchanged_error_ms']:.0f} ms as it is); {placed} {outs}",
            markup=False,
        )
    elif job.mode == "linear":
        console.print(
            f"{script.path}: factor {summary['factor']:.5f}, offset {summary['offset_ms']:+.0f} "
            f"ms from {summary['cues_used']} cues; {placed} {outs}",
            markup=False,
        )
    else:
        console.print(f"{script.path}: {placed}; {summary['cues']} cues {outs}", markup=False)
    for miss in doc["unplaced"]:
        console.print(
            f"unplaced: {miss['unit']}: {miss['text'].replace(chr(10), ' ')} "
            f"(confidence {miss['confidence']:.2f})",
            markup=False,
        )


def _kind(job: AlignJob) -> str:
    return "cues" if job.script.is_srt else "lines"
