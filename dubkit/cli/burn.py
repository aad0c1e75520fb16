"""`dubkit burn`: the open-caption deliverable, Urdu subtitles burnt into the whole programme.

ffmpeg with libass draws them in the shipped Urdu style (dubkit.adapters.render); the picture
is encoded again in H.264, every sound track MP4 can hold is copied untouched (others are
encoded to ALAC when lossless, else AAC). `--font`, `--ocr` and `--cover-burned` are
shared with `dubkit preview` (dubkit.cli.options).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from dubkit.cli.options import CoverBurnedOpt, FontOpt, OcrOpt
from dubkit.episode.burn import CRF_RANGE, DEFAULT_CRF


def burn(
    media: Annotated[Path, typer.Argument(help="Programme (video).")],
    subtitles: Annotated[Path, typer.Argument(help="Subtitles: .srt, .vtt or .ass.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The MP4 to write.")],
    crf: Annotated[
        int,
        typer.Option(
            help=f"H.264 quality, {CRF_RANGE[0]} (lossless) to {CRF_RANGE[1]} (worst); "
            "lower is better and bigger."
        ),
    ] = DEFAULT_CRF,
    font: FontOpt = None,
    cover_burned: CoverBurnedOpt = False,
    ocr: OcrOpt = None,
) -> None:
    """Burn SUBTITLES into the whole of MEDIA, written as an MP4 (-o)."""
    from dubkit.adapters.render import MP4_AUDIO_BITRATE, audio_to_encode
    from dubkit.adapters.render import burn as encode
    from dubkit.cli.console import make_console, progress_bar
    from dubkit.episode.burn import plan_burn
    from dubkit.escape import display_text
    from dubkit.fsutil import display_path

    console = make_console()
    plan = plan_burn(media, subtitles, output, crf, font, cover_burned, ocr)
    for codec, to in audio_to_encode(plan.media):
        how = "ALAC (lossless)" if to == "alac" else f"AAC {MP4_AUDIO_BITRATE}"
        console.print(f"{codec} audio is not stored in MP4: encoded to {how}", markup=False)
    with _sigterm_interrupts(), progress_bar(console) as bar:
        report = _frames(bar, bar.add_task("burning", total=None, seconds="") if bar else None)
        encode(plan.media, plan.subtitles, plan.output, plan.crf, report)
    typer.echo(display_path(plan.output))
    shown = f"in {plan.subtitles.font}" if plan.subtitles.font else "in the script's own fonts"
    hidden = f"; {plan.covered} burned cue(s) covered" if cover_burned or plan.covered else ""
    console.print(
        f"{display_path(media)}: {display_text(subtitles.name)} burnt {shown} "
        f"(crf {plan.crf}){hidden}",
        markup=False,
    )


def _frames(bar: Any, task: Any) -> Any:
    """A progress callback (frames done, frames in all) for the console's progress bar."""
    if bar is None:
        return None

    def report(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total or None, seconds=f"{done}/{total} frames")

    return report


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM ends the block as Ctrl-C does, but with exit 143: the exception unwinds
    through the encode, which stops ffmpeg and removes its temporary files. The previous
    handler comes back afterwards. (Signals can only be caught on the main thread.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
