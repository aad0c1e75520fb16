"""`dubkit ocr`: subtitles burned into the picture to STEM.zh.srt, STEM.en.srt and
STEM.ocr.json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dubkit.burned.cues import SAMPLE_FPS
from dubkit.cli.options import OutDir, SampleFpsOpt

BandOpt = Annotated[
    str | None,
    typer.Option(
        help="Y0:Y1, the subtitle band in pixel rows of the full frame (default: found from "
        "where text keeps appearing).",
    ),
]


def ocr(
    media: Annotated[list[Path], typer.Argument(help="Videos with subtitles in the picture.")],
    outdir: OutDir = Path("."),
    band: BandOpt = None,
    fps: SampleFpsOpt = SAMPLE_FPS,
) -> None:
    """Read subtitles burned into the picture: STEM.zh.srt, STEM.en.srt (English lines, when
    present) and STEM.ocr.json (times, text, boxes)."""
    from dubkit.adapters.ocr import probe_video
    from dubkit.burned.band import parse_band
    from dubkit.cli.common import _checked, each_file, ensure_writable
    from dubkit.cli.console import make_console
    from dubkit.episode.pipeline import ocr_file
    from dubkit.fsutil import display_path

    console = make_console()
    forced = parse_band(band) if band is not None else None
    ensure_writable(outdir)
    media, failures = _checked(console, media, lambda path: path.stem, probe_video, "read")
    work = lambda path, progress: ocr_file(path, outdir, forced, fps, progress)  # noqa: E731
    for path, result in each_file(console, media, work, failures):
        for warning in result.warnings:
            console.print(f"warning: {warning}", markup=False)
        if not result.cues:
            console.print(
                f"{display_path(path)}: no burned subtitles found (rows "
                f"{result.band.y0}:{result.band.y1} searched); no SRT written → "
                f"{', '.join(display_path(f) for f in result.files)}",
                markup=False,
            )
            continue
        english = sum(1 for cue in result.cues if cue.en)
        console.print(
            f"{display_path(path)}: {len(result.cues)} cues ({english} with English) in rows "
            f"{result.band.y0}:{result.band.y1}, {result.info.duration_ms / 1000:.1f} s in "
            f"{result.seconds:.1f} s → {', '.join(display_path(f) for f in result.files)}",
            markup=False,
        )
    if failures:
        raise typer.Exit(1)
