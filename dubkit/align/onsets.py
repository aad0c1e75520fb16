"""Where speech starts and stops in the programme's sound, to correct the recogniser's times.

Whisper's word times lean early after a pause: the first word of a window starts where the
window (the VAD's speech chunk, padded by 400 ms) starts, so a line said after a pause is
found up to half a second before it is said. The sound itself says when it starts: the level
rises from the pause's floor. Pure: the caller hands over the level of each FRAME_MS frame
(dubkit.adapters.audio.sound_levels).
"""

from __future__ import annotations

from collections.abc import Sequence

# One level every FRAME_MS: finer than a 25 fps frame, coarse enough to be cheap.
FRAME_MS = 10
_SILENT_DB = -100.0
# A start found in a pause moves to the first sound after it, at most this much later (the
# VAD's 400 ms padding, and the pause Whisper folds into a window's first word).
MAX_LATE_MS = 900
# A start found inside sound moves back to where that sound began, at most this much.
MAX_EARLY_MS = 300
# The level counts as speech above floor + this share of the range between the floor and the
# loud level around the start: a syllable's onset rises through it within a frame or two.
_ONSET_SHARE = 0.3
# Around a start, the floor and the loud level are measured over this much either side; with
# less than MIN_RANGE_DB between them (music under speech, no pause) nothing is moved.
_WINDOW_MS = 1500
MIN_RANGE_DB = 15.0
_HOLD = 3  # frames the level must stay up for an onset (a click is not speech)


def _threshold(level: Sequence[float], at: int) -> float | None:
    """The speech threshold near frame `at`; None where floor and loud level are too close."""
    reach = _WINDOW_MS // FRAME_MS
    around = sorted(level[max(0, at - reach) : at + reach])
    if not around:
        return None
    floor = around[len(around) // 10]
    loud = around[len(around) * 9 // 10]
    if loud - floor < MIN_RANGE_DB:
        return None
    return floor + _ONSET_SHARE * (loud - floor)


def speech_start(level: Sequence[float], start_ms: int, latest_ms: int) -> int:
    """start_ms moved to where the sound there begins: later when it lies in a pause (up to
    MAX_LATE_MS, never after latest_ms), earlier when it lies inside sound that began less
    than MAX_EARLY_MS before. Unchanged when the sound gives no clear answer."""
    at = start_ms // FRAME_MS
    if not 0 <= at < len(level) or (limit := _threshold(level, at)) is None:
        return start_ms
    if not level[at] >= limit:
        last = min(len(level) - _HOLD, (min(latest_ms, start_ms + MAX_LATE_MS)) // FRAME_MS)
        for f in range(at + 1, last + 1):
            if all(v >= limit for v in level[f : f + _HOLD]):
                return f * FRAME_MS
        return start_ms
    first = max(0, at - MAX_EARLY_MS // FRAME_MS)
    for f in range(at, first - 1, -1):
        if f == 0:
            return start_ms  # sound from the very start: no pause before it to go by
        if level[f - 1] < limit and level[f - 2 if f >= 2 else 0] < limit:
            return f * FRAME_MS
    return start_ms


def speech_end(level: Sequence[float], end_ms: int, earliest_ms: int) -> int:
    """end_ms moved back to where the sound stops when it lies in a pause (never before
    earliest_ms, at most MAX_LATE_MS): the recogniser's last word often runs on into it."""
    at = min(end_ms // FRAME_MS, len(level)) - 1
    if at < 0 or (limit := _threshold(level, at)) is None or level[at] >= limit:
        return end_ms
    first = max(earliest_ms, end_ms - MAX_LATE_MS) // FRAME_MS
    for f in range(at, first - 1, -1):
        if level[f] >= limit:
            return min(end_ms, (f + 1) * FRAME_MS)
    return end_ms
