from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dubkit.timecode import (
    frame_rate,
    frame_to_ms,
    ms_to_frame_ceil,
    ms_to_frame_floor,
    ms_to_frames,
    snap_ms,
)

RATES = st.sampled_from([25.0, 24.0, 30.0, 29.97, 23.976, 50.0, 59.94])
MS = st.integers(min_value=0, max_value=30 * 3_600_000)


def test_ntsc_rates_are_exact() -> None:
    assert frame_rate(29.97).numerator == 30000
    assert frame_rate(29.97).denominator == 1001
    assert frame_to_ms(30, 29.97) == 1001
    assert frame_to_ms(25, 25.0) == 1000


def test_bad_rate() -> None:
    with pytest.raises(ValueError):
        frame_rate(0)


@given(frame=st.integers(min_value=0, max_value=10_000_000), fps=RATES)
def test_frame_round_trip(frame: int, fps: float) -> None:
    assert ms_to_frame_floor(frame_to_ms(frame, fps), fps) == frame
    assert ms_to_frame_ceil(frame_to_ms(frame, fps), fps) == frame


@given(ms=MS, fps=RATES)
def test_floor_and_ceil_bracket(ms: int, fps: float) -> None:
    lo, hi = ms_to_frame_floor(ms, fps), ms_to_frame_ceil(ms, fps)
    assert frame_to_ms(lo, fps) <= ms <= frame_to_ms(hi, fps)
    assert hi - lo in (0, 1)
    assert frame_to_ms(lo + 1, fps) > ms


@given(ms=MS, fps=RATES)
def test_snap_is_on_a_frame_and_near(ms: int, fps: float) -> None:
    snapped = snap_ms(ms, fps)
    frame = ms_to_frame_floor(snapped, fps)
    assert frame_to_ms(frame, fps) == snapped
    assert abs(snapped - ms) <= 1000 / fps / 2 + 1


@given(ms=st.integers(min_value=0, max_value=100_000), fps=RATES)
def test_duration_in_frames_covers_duration(ms: int, fps: float) -> None:
    frames = ms_to_frames(ms, fps)
    assert frames * 1000 / float(frame_rate(fps)) >= ms - 1e-6
    assert (frames - 1) * 1000 / float(frame_rate(fps)) < ms or frames == 0
