"""Immutable records passed between stages. Times are integer milliseconds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dubkit.constants import SAMPLE_RATE


def _check_span(kind: str, start_ms: int, end_ms: int) -> None:
    if not 0 <= start_ms <= end_ms:
        raise ValueError(f"{kind} needs 0 <= start_ms <= end_ms, got {start_ms}..{end_ms}")


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word (for Chinese, usually one to four characters)."""

    text: str
    start_ms: int
    end_ms: int
    probability: float = 1.0

    def __post_init__(self) -> None:
        _check_span("Word", self.start_ms, self.end_ms)


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of speech as the recogniser returned it, with its words."""

    text: str
    start_ms: int
    end_ms: int
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    flags: tuple[str, ...] = ()  # what the recognition guard found (asr-repetition, ...)

    def __post_init__(self) -> None:
        _check_span("Segment", self.start_ms, self.end_ms)


@dataclass(frozen=True, slots=True)
class Transcript:
    """Everything recognition produced for one programme."""

    segments: tuple[Segment, ...]
    language: str
    language_probability: float
    duration_ms: int
    detected_language: str | None = None
    detected_probability: float | None = None
    # How recognition went, window by window (dubkit.asr.recognise), for asr.json.
    report: dict[str, Any] = field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = ()

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle event: its lines, shown from start_ms to end_ms."""

    index: int
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    flags: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        _check_span("Cue", self.start_ms, self.end_ms)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class DecodedAudio:
    """Mono samples at SAMPLE_RATE (a float32 numpy array, made by the audio adapter), and what
    decoding noticed on the way."""

    path: Path
    samples: Any
    declared_ms: int | None
    warnings: tuple[str, ...] = ()
    frame_rate: float | None = None  # the picture's frames per second; None: sound only

    @property
    def duration_ms(self) -> int:
        return len(self.samples) * 1000 // SAMPLE_RATE
