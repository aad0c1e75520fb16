"""Frame snapping and timecodes: the one place where milliseconds meet frames."""

from __future__ import annotations

import functools
import math
import operator
import re
from fractions import Fraction
from typing import Any

from dubkit import constants as C
from dubkit.errors import ConfigError

# Broadcast rates written as decimals map to their exact NTSC fractions.
_NTSC = {
    23.976: Fraction(24000, 1001),
    29.97: Fraction(30000, 1001),
    59.94: Fraction(60000, 1001),
}


@functools.lru_cache(maxsize=64)  # asked for every frame boundary, of a few rates a run
def frame_rate(fps: float) -> Fraction:
    """Exact frame rate for a decimal rate (29.97 -> 30000/1001)."""
    if fps <= 0:
        raise ValueError(f"frame rate must be positive, got {fps}")
    for approx, exact in _NTSC.items():
        if abs(fps - approx) < 0.001:
            return exact
    return Fraction(fps).limit_denominator(1001)


def frame_to_ms(frame: int, fps: float) -> int:
    """Start of a frame in whole milliseconds (rounded half up)."""
    frame = operator.index(frame)  # a whole number (numpy's too), never a float
    rate = frame_rate(fps)  # floor(frame * 1000 / rate + 1/2), in integers
    return (2000 * frame * rate.denominator + rate.numerator) // (2 * rate.numerator)


def ms_to_frame_floor(ms: int, fps: float) -> int:
    """Frame containing `ms` (the frame whose start is at or before it)."""
    ms = operator.index(ms)  # whole milliseconds (numpy's too), never a float
    rate = frame_rate(fps)
    frame = ms * rate.numerator // (1000 * rate.denominator)
    # frame_to_ms rounds, so a boundary can land a millisecond after ms; step back if so.
    while frame > 0 and frame_to_ms(frame, fps) > ms:
        frame -= 1
    while frame_to_ms(frame + 1, fps) <= ms:
        frame += 1
    return frame


def ms_to_frame_ceil(ms: int, fps: float) -> int:
    """First frame boundary at or after `ms`."""
    frame = ms_to_frame_floor(ms, fps)
    return frame if frame_to_ms(frame, fps) == ms else frame + 1


def ms_to_frames(ms: int, fps: float) -> int:
    """A duration in milliseconds as a whole number of frames, rounded up."""
    return math.ceil(Fraction(ms) * frame_rate(fps) / 1000)


def snap_ms(ms: int, fps: float) -> int:
    """Nearest frame boundary to `ms`."""
    lower = ms_to_frame_floor(ms, fps)
    a, b = frame_to_ms(lower, fps), frame_to_ms(lower + 1, fps)
    return a if ms - a <= b - ms else b


def seconds_to_ms(seconds: float) -> int:
    """Float seconds (as recognisers report them) to integer milliseconds."""
    return max(0, round(seconds * 1000))


def clock(ms: int, separator: str = ",", *, fraction: int = 3, hours: int = 2) -> str:
    """Milliseconds as a clock: HH:MM:SS,mmm (SubRip) by default; separator "." for WebVTT;
    fraction=2, hours=1 for ASS (H:MM:SS.cc); fraction=0, hours=0 for a chart (M:SS, or
    H:MM:SS from the first hour). Digits are truncated, never rounded up."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hh, minutes = divmod(minutes, 60)
    text = f"{minutes:02d}:{seconds:02d}" if hh or hours else f"{minutes}:{seconds:02d}"
    if hh or hours:
        text = f"{hh:0{hours}d}:{text}"
    return f"{text}{separator}{millis // 10 ** (3 - fraction):0{fraction}d}" if fraction else text


# ------------------------------------------------------------------------------ SMPTE timecode

# Rates counted in drop-frame timecode by default: NTSC 30000/1001 and 60000/1001.
_DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))
_SMPTE = re.compile(r"^\s*(\d{1,2})[:;](\d{1,2})[:;](\d{1,2})[:;](\d{1,3})\s*$")


def is_drop_frame_rate(fps: float) -> bool:
    """Whether `fps` is an NTSC rate (29.97, 59.94) whose timecode may drop frame labels."""
    return frame_rate(fps) in _DROP_FRAME_RATES


def nominal_fps(fps: float) -> int:
    """Frames counted per timecode second: 30 for 29.97, 24 for 23.976, 25 for 25."""
    rate = frame_rate(fps)
    nominal = round(rate)
    if rate.denominator != 1 and rate not in (*_DROP_FRAME_RATES, Fraction(24000, 1001)):
        raise ValueError(f"SMPTE timecode needs a whole or NTSC frame rate, not {fps}")
    return nominal


def _use_drop_frame(fps: float, drop_frame: bool | None) -> bool:
    if drop_frame is None:
        return is_drop_frame_rate(fps)
    if drop_frame and not is_drop_frame_rate(fps):
        raise ValueError(f"drop-frame timecode exists only at 29.97 and 59.94 fps, not {fps}")
    return drop_frame


def smpte_frames_per_day(fps: float, drop_frame: bool | None = None) -> int:
    """Frames from 00:00:00:00 up to (not including) the 24-hour wrap."""
    nominal = nominal_fps(fps)
    frames = nominal * 86_400
    if _use_drop_frame(fps, drop_frame):
        # 2 labels (4 at 59.94) skipped each minute, except every tenth: 1,296 minutes a day.
        frames -= nominal // 15 * (24 * 60 - 24 * 6)
    return frames


def _library_timecode(
    fps: float, drop_frame: bool, *, frames: int | None = None, label: str | None = None
) -> Any:
    # The `timecode` package does the label arithmetic: drop-frame counting (skip labels 00
    # and 01 of every minute except each tenth, 00-03 at 59.94) is easy to get subtly wrong,
    # and the package is the widely used, tested implementation. It numbers frames from 1.
    from timecode.timecode import Timecode

    rate = frame_rate(fps)
    name = {
        Fraction(30000, 1001): "29.97",
        Fraction(60000, 1001): "59.94",
        Fraction(24000, 1001): "23.976",
    }.get(rate, str(nominal_fps(fps)))
    return Timecode(name, start_timecode=label, frames=frames, force_non_drop_frame=not drop_frame)


def frames_to_smpte(frame: int, fps: float, drop_frame: bool | None = None) -> str:
    """Frame number (0 at 00:00:00:00) as SMPTE timecode: HH:MM:SS:FF, or HH:MM:SS;FF in
    drop-frame. `drop_frame` None: drop-frame at 29.97 and 59.94, non-drop otherwise."""
    drop = _use_drop_frame(fps, drop_frame)
    limit = smpte_frames_per_day(fps, drop)
    if not 0 <= frame < limit:
        raise ValueError(f"frame {frame} is outside one day of SMPTE timecode (0..{limit - 1})")
    return str(_library_timecode(fps, drop, frames=frame + 1))


def smpte_to_frames(text: str, fps: float, drop_frame: bool | None = None) -> int:
    """SMPTE timecode (':' or ';' between fields) as a frame number (0 at 00:00:00:00).

    Raises ValueError for malformed text, fields out of range, and drop-frame labels that do
    not exist (00:01:00;00)."""
    drop = _use_drop_frame(fps, drop_frame)
    nominal = nominal_fps(fps)
    m = _SMPTE.match(text)
    if m is None:
        shown = text.strip()
        if len(shown) > C.CELL_EXCERPT_CHARS:
            shown = shown[: C.CELL_EXCERPT_CHARS] + "…"
        raise ValueError(f"{shown!r} is not SMPTE timecode HH:MM:SS:FF")
    hh, mm, ss, ff = (int(g) for g in m.groups())
    if hh > 23 or mm > 59 or ss > 59 or ff >= nominal:
        raise ValueError(
            f"{text.strip()} is out of range (hours 0-23, minutes and seconds 0-59, "
            f"frames 0-{nominal - 1} at {fps:g} fps)"
        )
    label = f"{hh:02d}:{mm:02d}:{ss:02d}{';' if drop else ':'}{ff:02d}"
    if drop and ss == 0 and mm % 10 and ff < nominal // 15:
        first = f"{hh:02d}:{mm:02d}:00;{nominal // 15:02d}"
        raise ValueError(
            f"{label} does not exist in drop-frame timecode (the first frame of minute {mm} "
            f"is {first})"
        )
    frames = int(_library_timecode(fps, drop, label=label).frames) - 1
    if frames_to_smpte(frames, fps, drop) != label:  # the library's own parsing, checked
        raise ValueError(f"{label} is not a valid timecode at {fps:g} fps")
    return frames


def ms_to_smpte(ms: int, fps: float, drop_frame: bool | None = None) -> str:
    """Milliseconds as the SMPTE timecode of the nearest frame (see frames_to_smpte)."""
    if ms < 0:
        raise ValueError(f"time must not be negative, got {ms} ms")
    return frames_to_smpte(ms_to_frame_floor(snap_ms(ms, fps), fps), fps, drop_frame)


def smpte_to_ms(text: str, fps: float, drop_frame: bool | None = None) -> int:
    """SMPTE timecode as the start of its frame in whole milliseconds (see smpte_to_frames)."""
    return frame_to_ms(smpte_to_frames(text, fps, drop_frame), fps)


# The frame rates television and film use; a rate read from a file is one of these or not
# trusted (variable-rate video averages to 22.06, a slideshow to 1).
BROADCAST_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0)


def broadcast_rate(fps: float) -> float | None:
    """The broadcast rate `fps` is (within 0.1%), or None."""
    for rate in BROADCAST_RATES:
        if abs(fps - rate) <= rate * 0.001:
            return rate
    return None


def counts_frames(fps: float) -> bool:
    """Whether SMPTE timecode can count frames at `fps` (a whole or NTSC rate)."""
    try:
        nominal_fps(fps)
    except ValueError:
        return False
    return True


def usable_rate(fps: float) -> bool:
    """Whether `fps`, read back from a file, is a rate dubkit times at: within C.MIN_FPS to
    C.MAX_FPS (NaN is not) and countable by SMPTE timecode."""
    return C.MIN_FPS <= fps <= C.MAX_FPS and counts_frames(fps)


def check_rate(fps: float, where: str) -> float:
    """`fps` when SMPTE timecode can count it (whole or NTSC); ConfigError naming `where`."""
    if not counts_frames(fps):
        raise ConfigError(
            f"{where} {fps}: dubbing timecode needs a whole or NTSC frame rate "
            f"(23.976, 25, 29.97, 59.94...)"
        )
    return fps
