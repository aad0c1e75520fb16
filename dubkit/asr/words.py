"""Chinese words for subtitle breaks: Whisper's "words" in Chinese are single characters or
token fragments (降|低, 活|动), so cues and lines cut between them fall inside real words.
Each segment is re-cut at the boundaries of a Chinese word segmenter; every character keeps
the time of the recognised word it came from. Pure: the segmenter is passed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dubkit.records import Segment, Transcript, Word

Splitter = Callable[[str], Sequence[str]]


@dataclass(frozen=True, slots=True)
class _Char:
    ch: str
    start_ms: int
    end_ms: int
    probability: float


def _chars(words: Sequence[Word]) -> list[_Char]:
    """Every character with a time: a word's span shared evenly among its characters
    (spaces take the start of what follows them)."""
    out: list[_Char] = []
    for word in words:
        body = [ch for ch in word.text if not ch.isspace()]
        span = word.end_ms - word.start_ms
        k = 0
        for ch in word.text:
            if ch.isspace():
                at = word.start_ms + span * k // max(len(body), 1)
                out.append(_Char(ch, at, at, word.probability))
                continue
            start = word.start_ms + span * k // len(body)
            end = word.start_ms + span * (k + 1) // len(body)
            out.append(_Char(ch, start, end, word.probability))
            k += 1
    return out


def _is_punctuation(text: str) -> bool:
    return bool(text.strip()) and not any(ch.isalnum() for ch in text)


def _protect(pieces: list[str], text: str, protected: Sequence[str]) -> list[str]:
    """Pieces merged so that no occurrence of a protected form is split."""
    cuts = set()
    at = 0
    for piece in pieces:
        at += len(piece)
        cuts.add(at)
    for form in sorted(set(protected), key=len, reverse=True):
        if not form:
            continue
        start = text.find(form)
        while start >= 0:
            cuts -= set(range(start + 1, start + len(form)))
            start = text.find(form, start + len(form))
    out, last = [], 0
    for cut in sorted(cuts):
        if cut > last:
            out.append(text[last:cut])
            last = cut
    if last < len(text):
        out.append(text[last:])
    return out


def resegment(segment: Segment, split: Splitter, protected: Sequence[str] = ()) -> Segment:
    """The segment's words re-cut at `split`'s word boundaries (never inside a `protected`
    form). The text is unchanged, character for character; a space before a word stays
    with it, punctuation joins the word before it."""
    if not segment.words:
        return segment
    chars = _chars(segment.words)
    text = "".join(c.ch for c in chars)
    pieces = list(split(text))
    if "".join(pieces) != text:  # a segmenter that changed the text: keep Whisper's words
        return segment
    pieces = _protect(pieces, text, protected)
    words: list[Word] = []
    pending = ""
    at = 0
    for piece in pieces:
        span = chars[at : at + len(piece)]
        at += len(piece)
        if not piece.strip():
            pending += piece
            continue
        if _is_punctuation(piece) and words and not pending:
            last = words[-1]
            words[-1] = dataclasses.replace(
                last, text=last.text + piece, end_ms=max(last.end_ms, span[-1].end_ms)
            )
            continue
        body = [c for c in span if not c.ch.isspace()]
        start = max(body[0].start_ms, words[-1].end_ms if words else 0)
        words.append(
            Word(
                pending + piece,
                start,
                max(start, body[-1].end_ms),
                min(c.probability for c in body),
            )
        )
        pending = ""
    if pending and words:
        last = words[-1]
        words[-1] = dataclasses.replace(last, text=last.text + pending)
    return dataclasses.replace(segment, words=tuple(words))


def resegment_transcript(
    transcript: Transcript, split: Splitter, protected: Sequence[str] = ()
) -> Transcript:
    return dataclasses.replace(
        transcript,
        segments=tuple(resegment(s, split, protected) for s in transcript.segments),
    )
