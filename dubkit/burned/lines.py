"""One frame's text boxes as a reading: boxes grouped into lines (top to bottom, left to
right), each line given to Chinese or English by its script."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from dubkit.burned.records import Box, Reading

# Two boxes are on one line when their vertical overlap is at least this share of the shorter.
SAME_LINE_OVERLAP = 0.5
# Two boxes of one line that overlap by this share of the line's height or more both hold
# the glyph at their seam.
SEAM_OVERLAP = 0.3

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_LATIN = re.compile(r"[A-Za-z]")


def group_lines(boxes: Sequence[Box]) -> list[list[Box]]:
    """The boxes as lines, top to bottom, each line's boxes left to right."""
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.centre_y, b.x0)):
        for line in lines:
            top, bottom = min(b.y0 for b in line), max(b.y1 for b in line)
            overlap = min(bottom, box.y1) - max(top, box.y0)
            if overlap >= SAME_LINE_OVERLAP * max(1, min(bottom - top, box.height)):
                line.append(box)
                break
        else:
            lines.append([box])
    return [sorted(line, key=lambda b: b.x0) for line in lines]


def script_of(text: str) -> str:
    """ "zh" for a line with any Chinese character (or with no letters at all: a number, a
    date), "en" for a line of Latin letters."""
    if _HAN.search(text) or not _LATIN.search(text):
        return "zh"
    return "en"


def _join(boxes: Sequence[Box], script: str) -> str:
    """The line's text. Where the detector cut a line into two overlapping boxes (it does at a
    lone 一), the glyph in the overlap is read by both: the second copy is dropped."""
    out = ""
    last: Box | None = None
    for box in boxes:
        text = box.text.strip()
        if not text:
            continue
        if script == "zh" and last is not None and out and out[-1] == text[0]:
            overlap = last.x1 - box.x0
            if overlap >= SEAM_OVERLAP * min(last.height, box.height):
                text = text[1:]
        out += text if script == "zh" or not out else " " + text
        last = box
    return out


def read_frame(
    at_ms: int, boxes: Sequence[Box], simplify: Callable[[str], str] = lambda text: text
) -> Reading:
    """The reading of one frame: Chinese lines (through `simplify`, the Traditional to
    Simplified conversion) and English lines, each joined with a newline; score is the mean
    of the boxes' scores (0 without text)."""
    kept = [b for b in boxes if b.text.strip()]
    zh: list[str] = []
    en: list[str] = []
    for line in group_lines(kept):
        script = script_of("".join(b.text for b in line))
        (zh if script == "zh" else en).append(_join(line, script))
    score = sum(b.score for b in kept) / len(kept) if kept else 0.0
    return Reading(
        at_ms=at_ms,
        zh=simplify("\n".join(zh)),
        en="\n".join(en),
        score=round(score, 4),
        boxes=tuple(kept),
    )
