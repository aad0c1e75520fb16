"""The records of burned-subtitle reading: text boxes, readings of one frame, shots (a stretch
of frames whose band did not change) and the cues made from them. Times in milliseconds,
positions in full-frame pixels."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Box:
    """One text box the OCR found, in full-frame pixels, with its text and score (0..1)."""

    x0: int
    y0: int
    x1: int
    y1: int
    text: str = ""
    score: float = 1.0

    def __post_init__(self) -> None:
        if not (self.x0 <= self.x1 and self.y0 <= self.y1):
            raise ValueError(f"Box needs x0 <= x1 and y0 <= y1, got {self}")

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def centre_x(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def centre_y(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True, slots=True)
class Band:
    """The rows of the full frame the subtitles sit in: y0 inclusive, y1 exclusive."""

    y0: int
    y1: int

    def __post_init__(self) -> None:
        if not 0 <= self.y0 < self.y1:
            raise ValueError(f"Band needs 0 <= y0 < y1, got {self.y0}:{self.y1}")


@dataclass(frozen=True, slots=True)
class Reading:
    """What the OCR read in one frame's band: Chinese lines, English lines, mean score."""

    at_ms: int
    zh: str
    en: str
    score: float
    boxes: tuple[Box, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.zh or self.en)


@dataclass(frozen=True, slots=True)
class Shot:
    """Frames from start_ms (the first) to end_ms (the first after) whose band did not change,
    with the readings of some of them."""

    start_ms: int
    end_ms: int
    readings: tuple[Reading, ...]


@dataclass(frozen=True, slots=True)
class BurnedCue:
    """One subtitle read from the picture, timed by frame."""

    index: int
    start_ms: int
    end_ms: int
    zh: str
    en: str
    confidence: float
    cover: tuple[int, int, int, int]
    flags: tuple[str, ...]
    readings: tuple[Reading, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.start_ms <= self.end_ms:
            raise ValueError(f"BurnedCue needs 0 <= start_ms <= end_ms, got {self}")
