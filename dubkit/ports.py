"""Small interfaces between the core and the adapters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dubkit import constants as C
from dubkit.records import DecodedAudio, Transcript

if TYPE_CHECKING:
    from dubkit.asr.biasing import BiasTerms

ProgressFn = Callable[[int, int], None]
"""Called with (milliseconds of audio done, milliseconds in all)."""


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """What the recogniser is asked to do (recorded in asr.json)."""

    language: str = C.DEFAULT_LANGUAGE  # "auto" detects
    beam_size: int = C.DEFAULT_BEAM_SIZE
    batch_size: int | None = None  # 0 or 1: sequential; None: the device's (constants)
    vad: bool = True
    hotwords: tuple[str, ...] = ()  # the user's own: in every window's prompt
    guard: bool = True  # loops and invented text decoded again, collapsed, flagged
    recover: bool = True  # speech the decoder skipped decoded again on its own
    bias: bool = True  # glossary terms heard in a window bias its second pass

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise ValueError(f"beam size must be at least 1, got {self.beam_size}")
        if self.batch_size is not None and self.batch_size < 0:
            raise ValueError(f"batch size must not be negative, got {self.batch_size}")


class Transcriber(Protocol):
    """Speech to timed words."""

    def transcribe(
        self,
        audio: DecodedAudio,
        options: TranscribeOptions,
        progress: ProgressFn | None = None,
        bias: BiasTerms | None = None,
    ) -> Transcript: ...


@dataclass(frozen=True, slots=True)
class MTOptions:
    """How translation packages are run (recorded in run.json; part of the memory key)."""

    device: str = "auto"
    compute_type: str | None = None  # int8 on CPU, float16 on GPU
    threads: int = 0  # CPU: workers (0 = one per core); GPU: CPU threads
    beam_size: int = C.MT_BEAM_SIZE
    length_penalty: float = C.MT_LENGTH_PENALTY
    max_batch_tokens: int = C.MT_MAX_BATCH_TOKENS
    max_decoding_length: int = C.MT_MAX_DECODING_LENGTH

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise ValueError(f"beam size must be at least 1, got {self.beam_size}")
        if self.max_batch_tokens < 1:
            raise ValueError(f"batch size must be at least 1 token, got {self.max_batch_tokens}")


class Translator(Protocol):
    """One translation step (one package): many texts in, as many out, in order."""

    source: str
    target: str

    @property
    def key(self) -> str:
        """Identity of engine, model and options: memory entries are kept per key."""
        ...

    def translate(self, texts: Sequence[str]) -> list[str]: ...


class Memory(Protocol):
    """Translation memory: machine output per engine key, and approved human translations."""

    def lookup(self, key: str, texts: Sequence[str]) -> dict[str, str]: ...

    def remember(self, key: str, pairs: Mapping[str, str]) -> None: ...

    def approved(self, source: str, target: str, texts: Sequence[str]) -> dict[str, str]: ...

    def record(self, source: str, target: str, pairs: Mapping[str, str]) -> None: ...
