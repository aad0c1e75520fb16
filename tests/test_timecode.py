from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dubkit.timecode import (
    clock,
    frame_rate,
    frame_to_ms,
    frames_to_smpte,
    ms_to_frame_ceil,
    ms_to_frame_floor,
    ms_to_frames,
    ms_to_smpte,
    smpte_frames_per_day,
    smpte_to_frames,
    smpte_to_ms,
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


def test_whole_numbers_only_and_numpys_in_full() -> None:
    """Frames and milliseconds are whole numbers: a float is refused at once (it used to be
    read exactly; in integer arithmetic it would give floats, or never end past 2**53), and a
    numpy integer is read as Python's, in full (int32 arithmetic overflows by frame 1,072)."""
    import numpy as np

    with pytest.raises(TypeError):
        frame_to_ms(1001.0, 29.97)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ms_to_frame_floor(2.0**60, 29.97)  # type: ignore[arg-type]
    assert frame_to_ms(np.int32(100_000), 29.97) == frame_to_ms(100_000, 29.97) == 3_336_667
    assert type(ms_to_frame_floor(np.int64(3_336_667), 29.97)) is int


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


# ------------------------------------------------------------------------------ SMPTE timecode


SMPTE_RATES = st.sampled_from([(25.0, False), (30.0, False), (29.97, True), (59.94, True),
                               (23.976, False), (24.0, False), (50.0, False)])  # fmt: skip


def _reference_drop_frame(frame: int, nominal: int) -> str:
    """Drop-frame labels by the textbook formula, to check the library against."""
    drop = nominal // 15
    per_ten, per_minute = nominal * 600 - drop * 9, nominal * 60 - drop
    tens, rest = divmod(frame, per_ten)
    skipped = drop * 9 * tens + (drop * ((rest - drop) // per_minute) if rest > drop else 0)
    f = frame + skipped
    hh, mm = f // (nominal * 3600), f // (nominal * 60) % 60
    return f"{hh:02d}:{mm:02d}:{f // nominal % 60:02d};{f % nominal:02d}"


def test_drop_frame_known_labels() -> None:
    assert frames_to_smpte(17982, 29.97) == "00:10:00;00"
    assert frames_to_smpte(1799, 29.97) == "00:00:59;29"
    assert frames_to_smpte(1800, 29.97) == "00:01:00;02"  # ;00 and ;01 are skipped
    assert frames_to_smpte(3600, 59.94) == "00:01:00;04"
    assert frames_to_smpte(17982, 29.97, drop_frame=False) == "00:09:59:12"
    assert smpte_to_frames("00:10:00;00", 29.97) == 17982
    assert smpte_to_frames("00:10:00:00", 29.97) == 17982  # ':' accepted for drop-frame too
    assert frames_to_smpte(smpte_frames_per_day(29.97) - 1, 29.97) == "23:59:59;29"


def test_non_drop_known_labels() -> None:
    assert ms_to_smpte(0, 25) == "00:00:00:00"
    assert ms_to_smpte(3_600_000 + 61_000 + 40 * 7, 25) == "01:01:01:07"
    assert ms_to_smpte(1001, 29.97) == "00:00:01;00"
    assert ms_to_smpte(1000, 30) == "00:00:01:00"
    assert smpte_to_ms("01:00:00:00", 25) == 3_600_000
    assert smpte_to_ms(" 00:00:02;12 ", 25) == 2480


def test_ms_snaps_to_the_nearest_frame() -> None:
    assert ms_to_smpte(19, 25) == "00:00:00:00"
    assert ms_to_smpte(21, 25) == "00:00:00:01"
    assert ms_to_smpte(20, 25) == "00:00:00:00"  # a tie goes to the earlier frame, as snap_ms


@pytest.mark.parametrize(
    ("text", "fps", "why"),
    [
        ("00:01:00;00", 29.97, "does not exist"),
        ("00:01:00;01", 29.97, "does not exist"),
        ("00:00:00:25", 25.0, "out of range"),
        ("00:60:00:00", 25.0, "out of range"),
        ("24:00:00:00", 25.0, "out of range"),
        ("1:2:3", 25.0, "not SMPTE"),
        ("00:00:01.00", 25.0, "not SMPTE"),
        ("", 25.0, "not SMPTE"),
    ],
)
def test_bad_timecodes(text: str, fps: float, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        smpte_to_frames(text, fps)


def test_drop_frame_needs_an_ntsc_rate() -> None:
    with pytest.raises(ValueError, match="drop-frame"):
        frames_to_smpte(0, 25, drop_frame=True)
    with pytest.raises(ValueError, match="whole or NTSC"):
        frames_to_smpte(0, 12.5)
    with pytest.raises(ValueError, match="outside one day"):
        frames_to_smpte(25 * 86_400, 25)
    with pytest.raises(ValueError, match="negative"):
        ms_to_smpte(-1, 25)


@given(data=st.data(), rate=SMPTE_RATES)
def test_frames_smpte_frames_is_identity_over_a_day(
    data: st.DataObject, rate: tuple[float, bool]
) -> None:
    fps, drop = rate
    frame = data.draw(st.integers(min_value=0, max_value=smpte_frames_per_day(fps) - 1))
    text = frames_to_smpte(frame, fps)
    assert (";" in text) == drop
    assert smpte_to_frames(text, fps) == frame


@given(frame=st.integers(min_value=0, max_value=2_589_407))
def test_drop_frame_matches_the_textbook_formula(frame: int) -> None:
    assert frames_to_smpte(frame, 29.97) == _reference_drop_frame(frame, 30)
    assert frames_to_smpte(frame * 2, 59.94) == _reference_drop_frame(frame * 2, 60)


@given(data=st.data(), fps=st.sampled_from([25.0, 30.0, 29.97]))
def test_ms_on_frame_boundaries_round_trip(data: st.DataObject, fps: float) -> None:
    frame = data.draw(st.integers(min_value=0, max_value=smpte_frames_per_day(fps) - 1))
    ms = frame_to_ms(frame, fps)
    assert smpte_to_ms(ms_to_smpte(ms, fps), fps) == ms


@given(ms=st.integers(min_value=0, max_value=23 * 3_600_000), fps=st.sampled_from([25.0, 29.97]))
def test_any_ms_comes_back_snapped(ms: int, fps: float) -> None:
    assert smpte_to_ms(ms_to_smpte(ms, fps), fps) == snap_ms(ms, fps)


def test_clock_in_every_format() -> None:
    ms = 3_723_045  # 1 h 2 min 3.045 s
    assert clock(ms) == "01:02:03,045"  # SubRip
    assert clock(ms, ".") == "01:02:03.045"  # WebVTT
    assert clock(ms, ".", fraction=2, hours=1) == "1:02:03.04"  # ASS, truncated
    assert clock(ms, fraction=0, hours=0) == "1:02:03"  # a chart's axis
    assert clock(62_999, fraction=0, hours=0) == "1:02"
    assert clock(0) == "00:00:00,000"
    assert clock(360_000_000) == "100:00:00,000"


@pytest.mark.parametrize(
    ("fps", "expected"),
    [(23.976, 23.976), (23.97602, 23.976), (30000 / 1001, 29.97), (25.0, 25.0), (59.94, 59.94),
     (22.059, None), (12.5, None), (1.0, None), (29.5, None)],
)  # fmt: skip
def test_only_broadcast_rates_are_read_from_a_file(fps: float, expected: float | None) -> None:
    from dubkit.timecode import broadcast_rate

    assert broadcast_rate(fps) == expected


def test_a_rate_timecode_cannot_count_is_a_config_error() -> None:
    from dubkit.errors import ConfigError
    from dubkit.timecode import check_rate

    assert check_rate(29.97, "--fps") == 29.97
    assert check_rate(12.0, "--fps") == 12.0
    with pytest.raises(ConfigError, match=r"--fps 27\.3: dubbing timecode needs"):
        check_rate(27.3, "--fps")
