"""Burned subtitles and recognised speech made into one cue list (`--source auto`). Pure:
the cues read from the picture and the cues recognised from the sound in, fused cues out.

The rule:

- A confident picture cue (Chinese text, no `low-confidence` flag) is kept as read, with
  the picture's timing. Less than NO_SPEECH_MS of recognised speech under it: flagged
  `no-speech` (a caption, a sign, or the recogniser missed it: a person should look).
- A low-confidence picture cue gives way to the speech under it; with no speech under it
  it is kept, flagged `low-confidence` and `no-speech`.
- A speech cue more than half of whose time lies under kept picture cues is theirs (the
  subtitle says it); otherwise it fills the band's silence (speech with no subtitle, or a
  subtitle read with low confidence), cut to the longest stretch of its time that no kept
  picture cue covers, so that cues never overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from dubkit import constants as C
from dubkit.burned.cues import LOW_CONFIDENCE_FLAG
from dubkit.burned.records import BurnedCue
from dubkit.records import Cue

OCR = "ocr"
ASR = "asr"
NO_SPEECH_FLAG = C.NO_SPEECH_UNDER_SUBTITLE
# Less recognised speech than this under a picture cue: flagged NO_SPEECH_FLAG. A short word
# is about 200 ms; a subtitle with speech under it has far more.
NO_SPEECH_MS = 200
# A speech cue this much (share of its time) under kept picture cues is covered by them.
COVERED_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Fused:
    """One cue of the fused list, where its text came from and the English read with it."""

    cue: Cue
    source: str  # OCR or ASR
    en: str = ""


def picture_cues(burned: Sequence[BurnedCue]) -> tuple[Fused, ...]:
    """The picture's cues with Chinese text, as read (`--source ocr`), numbered from 1."""
    return tuple(
        Fused(Cue(n, b.start_ms, b.end_ms, tuple(b.zh.split("\n")), b.flags), OCR, b.en)
        for n, b in enumerate((b for b in burned if b.zh), start=1)
    )


def fuse(burned: Sequence[BurnedCue], heard: Sequence[Cue]) -> tuple[Fused, ...]:
    """Picture cues where they are confident, speech where the band is empty or its reading
    is doubtful (the module's rule); in time order, numbered from 1."""
    kept: list[Fused] = []
    for pic in picture_cues(burned):
        speech = sum(_overlap(pic.cue, h) for h in heard)
        doubtful = LOW_CONFIDENCE_FLAG in pic.cue.flags
        if doubtful and speech > 0:
            continue  # the speech under it stands in
        if speech < NO_SPEECH_MS:
            pic = replace(pic, cue=_flagged(pic.cue, NO_SPEECH_FLAG))
        kept.append(pic)
    filled: list[Fused] = []
    for cue in heard:
        covered = sum(_overlap(cue, k.cue) for k in kept)
        if covered > COVERED_SHARE * cue.duration_ms:
            continue
        span = _longest_free(cue.start_ms, cue.end_ms, [k.cue for k in kept])
        if span is not None:
            filled.append(Fused(replace(cue, start_ms=span[0], end_ms=span[1]), ASR))
    both = sorted([*kept, *filled], key=lambda f: (f.cue.start_ms, f.cue.end_ms))
    return tuple(replace(f, cue=replace(f.cue, index=n)) for n, f in enumerate(both, start=1))


def _overlap(a: Cue, b: Cue) -> int:
    return max(0, min(a.end_ms, b.end_ms) - max(a.start_ms, b.start_ms))


def _flagged(cue: Cue, flag: str) -> Cue:
    return replace(cue, flags=tuple(dict.fromkeys((*cue.flags, flag))))


def _longest_free(start: int, end: int, taken: Sequence[Cue]) -> tuple[int, int] | None:
    """The longest stretch of start..end that none of `taken` covers (None: none is left)."""
    free = [(start, end)]
    for t in taken:
        free = [
            piece
            for a, b in free
            for piece in ((a, min(b, t.start_ms)), (max(a, t.end_ms), b))
            if piece[1] > piece[0]
        ]
    return max(free, key=lambda p: (p[1] - p[0], -p[0])) if free else None
