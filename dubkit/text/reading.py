"""Characters for the reading speed, counted one way wherever cues are built or checked.

As Netflix does, every visible character counts, spaces and punctuation included; invisible
bidi controls (LRM, RLM, isolates) and formatting tags (<i>, {\\an8}) do not. A line break
counts as one character in the reading speed (it stands for the space the line was broken at,
so the speed does not depend on where a cue is wrapped) but not in a line's length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dubkit.text.urdu import strip_bidi

_TAGS = re.compile(r"</?(?:i|b|u|s|font)\b[^>]*>|\{\\[^}]*\}", re.IGNORECASE)


def strip_tags(line: str) -> str:
    """A line without formatting tags (<i>, <font ...>, {\\an8}); bidi marks kept."""
    return _TAGS.sub("", line)


def visible(line: str) -> str:
    """A line as the viewer sees it: no bidi controls, no formatting tags."""
    return strip_tags(strip_bidi(line))


def count_chars(lines: Sequence[str]) -> int:
    """Characters for the reading speed: every visible one, spaces included, and one for
    each line break."""
    shown = [visible(line) for line in lines]
    return sum(len(s) for s in shown) + max(0, len(shown) - 1)


def reading_speed(chars: int, duration_ms: int) -> float | None:
    """Characters per second, rounded to 0.01 (None when the cue is shown for 0 ms)."""
    if duration_ms <= 0:
        return None if chars else 0.0
    return round(chars * 1000 / duration_ms, 2)


def too_fast(cps: float | None, max_cps: float | None) -> bool:
    """Whether a reading speed is over the limit, both at the 0.01 cps shown."""
    return max_cps is not None and cps is not None and cps > round(max_cps, 2)
