"""From band images to cues: when the band changed, which frame it changed on, the vote
across a subtitle's readings, and the cues, SRT cues and `STEM.ocr.json` document."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from dubkit.burned.records import Band, BurnedCue, Reading, Shot
from dubkit.records import Cue

# Frames sampled per second to spot changes in the band: a subtitle shorter than a quarter of
# a second is rare, and each change found is then timed to its frame.
SAMPLE_FPS = 4.0
# Two samples of the band show different subtitles when their text masks (bright pixels with
# a strong edge beside them, on a downscaled grey crop) differ in more than this share of the
# cells either marks: a moving background under one subtitle stays well below it, another
# subtitle in the same place is far above it.
CHANGE_THRESHOLD = 0.3
# A band with fewer marked cells than this holds no text (noise of a moving background).
MIN_TEXT_CELLS = 12
# The voted reading's mean OCR score below this: the cue is flagged "low-confidence".
LOW_CONFIDENCE = 0.85
LOW_CONFIDENCE_FLAG = "low-confidence"
# Readings of one subtitle the OCR makes at most (spread over its frames) for the vote.
READINGS_PER_CUE = 3
# The cover box reaches this many pixels beyond the text boxes (outline, shadow).
COVER_PAD_PX = 4
# Two cues with the same text this close together are one subtitle split by a change of
# the background under it.
MERGE_GAP_MS = 80
# Decoding that stops this far short of the declared length (or this share of it, when that
# is less) is a truncated file: warned about, and recorded in `STEM.ocr.json`.
TRUNCATED_MS = 1000
TRUNCATED_SHARE = 0.05


def band_changed(distance: float) -> bool:
    """Whether two samples of the band, `distance` apart (0 same, 1 disjoint), show
    different subtitles."""
    return distance > CHANGE_THRESHOLD


def mask_distance(a_cells: int, b_cells: int, shared: int) -> float:
    """Distance between two text masks with `a_cells` and `b_cells` marked, `shared` in both:
    the share of the marked cells that only one marks (0 when both are empty)."""
    a = a_cells if a_cells >= MIN_TEXT_CELLS else 0
    b = b_cells if b_cells >= MIN_TEXT_CELLS else 0
    if not a and not b:
        return 0.0
    if not a or not b:
        return 1.0
    union = a_cells + b_cells - shared
    return (union - shared) / union if union else 0.0


def looks_truncated(decoded_ms: int, declared_ms: int, frame_ms: int) -> bool:
    """Whether decoding that stopped at `decoded_ms` (the end of the last frame) fell well
    short of the `declared_ms` the container gives: by more than TRUNCATED_MS, or than
    TRUNCATED_SHARE of it, and always by more than two frames."""
    short = declared_ms - decoded_ms
    return short > max(2 * frame_ms, min(TRUNCATED_MS, TRUNCATED_SHARE * declared_ms))


def has_text(cells: int) -> bool:
    """Whether a band mask with `cells` marked holds text."""
    return cells >= MIN_TEXT_CELLS


def change_index(to_old: Sequence[float], to_new: Sequence[float]) -> int:
    """The first of the frames between two samples that shows the new band: frames given as
    their distances to the old sample and to the new one (the last frame is the new sample);
    the frame after the last one still closer to the old sample."""
    if len(to_old) != len(to_new):
        raise ValueError("change_index needs one distance to each sample per frame")
    first = 0
    for i, (old, new) in enumerate(zip(to_old, to_new, strict=True)):
        if old < new:
            first = i + 1
    return min(first, max(0, len(to_new) - 1))


def spread(count: int, most: int = READINGS_PER_CUE) -> list[int]:
    """Up to `most` indexes spread evenly over `count` samples, the first and last (often
    caught mid-change) left out when there are enough others."""
    if count <= most:
        return list(range(count))
    step = count / (most + 1)
    return sorted({min(count - 1, round(step * (k + 1))) for k in range(most)})


def vote(readings: Sequence[Reading]) -> tuple[str, str, float, tuple[Reading, ...]]:
    """The text most readings agree on (ties: the better mean score), its mean score and the
    readings that agree."""
    useful = [r for r in readings if not r.empty]
    if not useful:
        return "", "", 0.0, ()
    counts = Counter((r.zh, r.en) for r in useful)

    def mean(key: tuple[str, str]) -> float:
        scores = [r.score for r in useful if (r.zh, r.en) == key]
        return sum(scores) / len(scores)

    best = max(counts, key=lambda key: (counts[key], mean(key)))
    agreeing = tuple(r for r in useful if (r.zh, r.en) == best)
    return best[0], best[1], round(mean(best), 4), agreeing


def cover_of(
    readings: Sequence[Reading], width: int, height: int, pad: int = COVER_PAD_PX
) -> tuple[int, int, int, int]:
    """The union of the readings' boxes, padded by `pad` and clamped to the frame."""
    boxes = [b for r in readings for b in r.boxes]
    if not boxes:
        return (0, 0, 0, 0)
    return (
        max(0, min(b.x0 for b in boxes) - pad),
        max(0, min(b.y0 for b in boxes) - pad),
        min(width, max(b.x1 for b in boxes) + pad),
        min(height, max(b.y1 for b in boxes) + pad),
    )


def build_cues(shots: Sequence[Shot], width: int, height: int) -> tuple[BurnedCue, ...]:
    """One cue per shot whose readings hold text; neighbouring shots that read the same are
    one cue. Flags a cue whose voted reading scores under LOW_CONFIDENCE."""
    merged: list[tuple[int, int, str, str, list[Reading]]] = []
    for shot in shots:
        zh, en, _score, _agreeing = vote(shot.readings)
        if not (zh or en):
            continue
        if merged and (merged[-1][2], merged[-1][3]) == (zh, en):
            last = merged[-1]
            if shot.start_ms - last[1] <= MERGE_GAP_MS:
                merged[-1] = (last[0], shot.end_ms, zh, en, [*last[4], *shot.readings])
                continue
        merged.append((shot.start_ms, shot.end_ms, zh, en, list(shot.readings)))
    cues = []
    for index, (start, end, _zh, _en, readings) in enumerate(merged, start=1):
        zh, en, confidence, _agreeing = vote(readings)
        flags = (LOW_CONFIDENCE_FLAG,) if confidence < LOW_CONFIDENCE else ()
        cues.append(
            BurnedCue(
                index=index,
                start_ms=start,
                end_ms=end,
                zh=zh,
                en=en,
                confidence=confidence,
                cover=cover_of(readings, width, height),
                flags=flags,
                readings=tuple(r for r in readings if not r.empty),
            )
        )
    return tuple(cues)


def srt_cues(cues: Sequence[BurnedCue], language: str) -> tuple[Cue, ...]:
    """The cues holding `language` ("zh" or "en") text, as subtitle cues numbered from 1,
    timed as read."""
    out: list[Cue] = []
    for cue in cues:
        text = cue.zh if language == "zh" else cue.en
        if text:
            out.append(
                Cue(len(out) + 1, cue.start_ms, cue.end_ms, tuple(text.split("\n")), cue.flags)
            )
    return tuple(out)


def ocr_document(
    media: str,
    fps: float,
    frame_size: tuple[int, int],
    band: Band,
    cues: Sequence[BurnedCue],
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """`STEM.ocr.json`: the media as given, its frame rate and size, the band, what went wrong
    reading it (one line each), the cues with their cover boxes and readings."""
    return {
        "media": media,
        "fps": fps,
        "frame_size": [frame_size[0], frame_size[1]],
        "band": {"y0": band.y0, "y1": band.y1},
        "warnings": list(warnings),
        "cues": [
            {
                "index": c.index,
                "start_ms": c.start_ms,
                "end_ms": c.end_ms,
                "zh": c.zh,
                "en": c.en,
                "confidence": c.confidence,
                "cover": list(c.cover),
                "flags": list(c.flags),
                "readings": [
                    {"at_ms": r.at_ms, "zh": r.zh, "en": r.en, "score": r.score} for r in c.readings
                ],
            }
            for c in cues
        ],
    }
