"""Small interfaces between the core and the adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dubkit import constants as C
from dubkit.records import Transcript

if TYPE_CHECKING:
    from dubkit.adapters.audio import DecodedAudio

ProgressFn = Callable[[int, int], None]
"""Called with (milliseconds of audio done, milliseconds in all)."""


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """What the recogniser is asked to do (recorded in asr.json)."""

    language: str = C.DEFAULT_LANGUAGE  # "auto" detects
    beam_size: int = C.DEFAULT_BEAM_SIZE
    batch_size: int = C.DEFAULT_BATCH_SIZE  # 0 or 1: sequential decoding
    vad: bool = True
    hotwords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise ValueError(f"beam size must be at least 1, got {self.beam_size}")
        if self.batch_size < 0:
            raise ValueError(f"batch size must not be negative, got {self.batch_size}")


class Transcriber(Protocol):
    """Speech to timed words."""

    def transcribe(
        self, audio: DecodedAudio, options: TranscribeOptions, progress: ProgressFn | None = None
    ) -> Transcript: ...
