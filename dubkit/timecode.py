"""Frame snapping and timecodes: the one place where milliseconds meet frames."""

from __future__ import annotations

import math
from fractions import Fraction

# Broadcast rates written as decimals map to their exact NTSC fractions.
_NTSC = {
    23.976: Fraction(24000, 1001),
    29.97: Fraction(30000, 1001),
    59.94: Fraction(60000, 1001),
}


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
    rate = frame_rate(fps)
    return math.floor(Fraction(frame * 1000) / rate + Fraction(1, 2))


def ms_to_frame_floor(ms: int, fps: float) -> int:
    """Frame containing `ms` (the frame whose start is at or before it)."""
    rate = frame_rate(fps)
    frame = math.floor(Fraction(ms) * rate / 1000)
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
