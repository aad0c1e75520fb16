"""One frame's text boxes as a reading: boxes grouped into lines (top to bottom, left to
right), each line given to Chinese or English by its script."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from dubkit.burned.records import Box, Reading

# Two boxes are on one line when their vertical overlap is at least this share of the shorter.
SAME_LINE_OVERLAP = 0.5
# Two boxes of one line that overlap by this share of the line's height or more both hold
# the glyph at their seam.
SEAM_OVERLAP = 0.3

_HAN_CLASS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_HAN = re.compile(rf"[{_HAN_CLASS}]")
_LATIN = re.compile(r"[A-Za-z]")
# A box's text cut where the script changes: runs holding Chinese (and what sits between
# its characters) and runs without.
_RUNS = re.compile(
    rf"[{_HAN_CLASS}](?:[^A-Za-z]*[{_HAN_CLASS}])?[^A-Za-z{_HAN_CLASS}]*|[^{_HAN_CLASS}]+"
)


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
    """ "zh" for a line that is mostly Chinese (a Han character counted as two letters, the
    width it takes: `CPEC 项目顺利推进`) or has no letters at all (a number, a date), "en"
    otherwise (`CCTV 4`, `瓜达尔港 Gwadar Port`, which `read_frame` splits by script)."""
    han = len(_HAN.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if 2 * han > latin or not latin else "en"


def _pure(text: str) -> str | None:
    """ "zh" or "en" for text of one script, None for text with both (or neither)."""
    han, latin = bool(_HAN.search(text)), bool(_LATIN.search(text))
    if han == latin:
        return None
    return "zh" if han else "en"


def _split(line: Sequence[Box]) -> tuple[list[Box], list[Box]]:
    """A line's boxes as its Chinese boxes and its English boxes: a line mostly Chinese is
    all Chinese, as one in Latin letters only is all English; a row holding both a Chinese
    line and an English one (the detector found them apart, or read them as one box) is split
    by script, a box holding both cut at the change of script."""
    text = "".join(b.text for b in line)
    if script_of(text) == "zh":
        return list(line), []
    if not _HAN.search(text):
        return [], list(line)
    zh: list[Box] = []
    en: list[Box] = []
    for box in line:
        for piece in _RUNS.findall(box.text):
            piece = piece.strip()
            if piece:
                (en if _pure(piece) == "en" else zh).append(replace(box, text=piece))
    return zh, en


def _joiner(before: str, after: str) -> str:
    """The space kept between two boxes of a Chinese line where one side is a Latin word."""
    return " " if _LATIN.fullmatch(before[-1]) or _LATIN.fullmatch(after[0]) else ""


def _join(boxes: Sequence[Box], script: str) -> str:
    """The line's text. Where the detector cut a line into two overlapping boxes (it does at a
    lone 一), the glyph in the overlap is read by both: the second copy is dropped. A Latin
    word beside Chinese keeps its space (`CPEC 项目`)."""
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
                if not text:
                    continue
        if not out:
            out = text
        elif script == "zh":
            out += _joiner(out, text) + text
        else:
            out += " " + text
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
        zh_boxes, en_boxes = _split(line)
        if zh_boxes:
            zh.append(_join(zh_boxes, "zh"))
        if en_boxes:
            en.append(_join(en_boxes, "en"))
    score = sum(b.score for b in kept) / len(kept) if kept else 0.0
    return Reading(
        at_ms=at_ms,
        zh=simplify("\n".join(zh)),
        en="\n".join(en),
        score=round(score, 4),
        boxes=tuple(kept),
    )
