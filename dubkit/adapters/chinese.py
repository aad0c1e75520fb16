"""Traditional to Simplified Chinese with OpenCC's t2s tables."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

from dubkit.records import Transcript


@cache
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Simplified characters for `text`; anything already Simplified is left as it is."""
    return str(_converter().convert(text)) if text else text


def simplify_transcript(transcript: Transcript) -> Transcript:
    """Every segment and word in Simplified characters (t2s keeps lengths, so timing holds)."""
    return replace(
        transcript,
        segments=tuple(
            replace(
                seg,
                text=to_simplified(seg.text),
                words=tuple(replace(w, text=to_simplified(w.text)) for w in seg.words),
            )
            for seg in transcript.segments
        ),
    )
