"""`dubkit preview`: subtitles burnt into still frames or a short clip, to check how they look.

Rendering is ffmpeg with libass (dubkit.adapters.render), in an Urdu font; media without a
picture (a recording) gets a dark background so the subtitles can still be seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dubkit.cli.options import CoverBurnedOpt, FontOpt, OcrOpt, OutDir
from dubkit.episode.preview import DEFAULT_STILLS


def preview(
    media: Annotated[Path, typer.Argument(help="Programme (video), or a recording (audio).")],
    subtitles: Annotated[Path, typer.Argument(help="Subtitles: .srt, .vtt or .ass.")],
    outdir: OutDir = Path("."),
    at: Annotated[
        list[float] | None,
        typer.Option("--at", min=0, help="A frame at this time in seconds (repeatable)."),
    ] = None,
    count: Annotated[
        int, typer.Option(min=1, help="Without --at: frames at the middle of the first N cues.")
    ] = DEFAULT_STILLS,
    clip: Annotated[
        str | None,
        typer.Option(
            help="START:DURATION in seconds: write STEM.preview.mp4 (no frames "
            "unless --at is given too)."
        ),
    ] = None,
    font: FontOpt = None,
    size: Annotated[
        str | None,
        typer.Option(help="WIDTHxHEIGHT of the frames (default: the video's; 1280x720 for audio)."),
    ] = None,
    cover_burned: CoverBurnedOpt = False,
    ocr: OcrOpt = None,
) -> None:
    """Burn SUBTITLES into frames of MEDIA (STEM.preview.NNNN.png) or a clip (STEM.preview.mp4)."""
    from dubkit.adapters.render import render
    from dubkit.cli.console import make_console
    from dubkit.episode.preview import plan_preview

    console = make_console()
    plan = plan_preview(media, subtitles, outdir, at, count, clip, font, size, cover_burned, ocr)
    written = render(plan.media, plan.subtitles, plan.stills, plan.clip, plan.size)
    for path in written:
        typer.echo(str(path))
    shown = f"in {plan.subtitles.font}" if plan.subtitles.font else "in the script's own fonts"
    console.print(
        f"{media}: {len(plan.stills)} frame(s){' and a clip' if plan.clip else ''} with "
        f"{subtitles.name} {shown}",
        markup=False,
    )
