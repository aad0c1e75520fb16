"""Where the subtitles sit: the rows where centred text boxes keep appearing across frames
sampled over the programme, or the rows the user names with `--band y0:y1`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dubkit.burned.records import Band, Box
from dubkit.errors import ConfigError

# Subtitles are centred: a box whose centre is further than this share of the frame's width
# from the middle is a logo, a caption or a ticker, not a subtitle line.
CENTRE_TOLERANCE = 0.2
# Subtitles sit in the lower part of the picture; text above this share of the height (titles,
# clocks, channel names) is not looked at when the band is found by itself.
LOWEST_TOP = 0.5
# A subtitle line is no taller than this share of the picture; a taller box is a shape the
# detector took for text.
MAX_LINE_HEIGHT = 0.15
# Rows count when text covered them in at least this many sampled frames (one stray box on a
# moving background does not make a band), or in every frame with text when fewer had any.
MIN_FRAMES = 2
# The band reaches this share of a line's height above and below the text found, so that
# glyphs taller than the sampled ones (and their outline) stay inside.
PAD_LINES = 0.5
# Without any text in the sampled frames: the lower quarter, where subtitles usually are.
DEFAULT_TOP = 0.75
# Subtitles sit on the bottom margin: a subtitle with a second line (English under the
# Chinese) pushes its first line up. A band found from one line's rows only (every sampled
# frame held a one-line subtitle) reaches up this many line heights from its bottom, so the
# first line of a two-line subtitle stays inside it (a 10-minute programme whose samples all
# fell on one-line subtitles read every two-line one with its Chinese cut: CER 0.33).
TWO_LINES = 2.4
# The band samples are spread evenly, each moved by up to this share of the spacing (a fixed
# low-discrepancy sequence): samples at an exact period can fall on the same phase of a
# regular subtitle rhythm every time (every one on a one-line subtitle, or in a gap).
SAMPLE_JITTER = 0.4
_GOLDEN = 0.6180339887498949


def sample_times(duration_s: float, count: int) -> list[float]:
    """`count` times (seconds from the start) spread over a programme `duration_s` long, for
    the band samples: one in each of `count` equal spans, not at the same place in each."""
    step = duration_s / count if count else 0.0
    return [step * (k + 0.5 + SAMPLE_JITTER * ((k * _GOLDEN) % 1 - 0.5)) for k in range(count)]


def find_band(frames: Sequence[Sequence[Box]], width: int, height: int) -> Band | None:
    """The subtitle band from the boxes of each sampled frame, or None when no frame had
    centred text in the lower part of the picture."""
    rows = [0] * height
    heights: list[int] = []
    for boxes in frames:
        covered = [False] * height
        for box in boxes:
            if abs(box.centre_x - width / 2) > CENTRE_TOLERANCE * width:
                continue
            if box.centre_y < LOWEST_TOP * height or not 0 < box.height <= MAX_LINE_HEIGHT * height:
                continue
            heights.append(box.height)
            for y in range(max(0, box.y0), min(height, box.y1)):
                covered[y] = True
        for y, hit in enumerate(covered):
            rows[y] += hit
    if not heights:
        return None
    need = min(MIN_FRAMES, max(rows))
    line = sorted(heights)[len(heights) // 2]
    y0, y1 = _busiest_stretch(rows, need, line)
    y0 = min(y0, y1 - round(TWO_LINES * line))  # room for a first line above a second
    pad = max(4, round(line * PAD_LINES))
    return Band(max(0, y0 - pad), min(height, y1 + pad))


def _busiest_stretch(rows: Sequence[int], need: int, gap: int) -> tuple[int, int]:
    """The stretch of rows hit in at least `need` frames (gaps under `gap` rows bridged: the
    space between a Chinese and an English line) with the most hits in all: the subtitles,
    not a caption or a moving shape elsewhere in the lower half."""
    best = max(_stretches(rows, need, gap), key=lambda st: sum(rows[st[0] : st[1]]))
    # grown by the rows next to it that text covered in fewer frames (a second line that
    # only some subtitles have)
    for y0, y1 in _stretches(rows, 1, gap):
        if y0 <= best[0] and best[1] <= y1:
            return y0, y1
    return best


def _stretches(rows: Sequence[int], need: int, gap: int) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for y, n in enumerate(rows):
        if n < need:
            continue
        if found and y - found[-1][1] <= gap:
            found[-1] = (found[-1][0], y + 1)
        else:
            found.append((y, y + 1))
    return found


def default_band(height: int) -> Band:
    """The lower quarter of the picture."""
    return Band(int(height * DEFAULT_TOP), height)


_BAND = re.compile(r"\s*(\d+)\s*:\s*(\d+)\s*")


def parse_band(text: str) -> Band:
    """`--band y0:y1` (pixel rows of the full frame, y1 exclusive) as a Band; ConfigError
    with the fix when it is not two rows in order."""
    match = _BAND.fullmatch(text)
    if match is None or int(match[1]) >= int(match[2]):
        raise ConfigError(
            f"--band {text!r}: expected two pixel rows of the full frame, top first, as Y0:Y1 "
            f"(for example 270:350)"
        )
    return Band(int(match[1]), int(match[2]))


def check_band(band: Band, height: int, option: str = "--band") -> Band:
    """`band` inside a frame `height` rows tall; ConfigError naming the frame's height when
    it starts below the picture, clipped to the picture when it only runs past its bottom."""
    if band.y0 >= height:
        raise ConfigError(
            f"{option} {band.y0}:{band.y1}: starts below the picture, which is {height} rows "
            f"tall; give rows between 0 and {height}"
        )
    return Band(band.y0, min(band.y1, height))
