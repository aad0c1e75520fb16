"""A recogniser that hears what a test says, for the commands' paths that come after
recognition: `dubkit run`, `transcribe` and in-process `batch` load it instead of
whisper:base (the `canned` fixture in conftest), so what they check runs without the model.
What recognition itself writes is judged with the real model (test_recognition and the
`model` tests)."""

from __future__ import annotations

import wave
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from dubkit.records import Segment, Transcript, Word


class CannedTranscriber:
    """Hears `segments` in any file, as Chinese; the transcript lasts as long as the audio
    (or the last segment, if that ends later). It tells `progress` what whisper's tells it
    for a programme decoded in one batch: none of it done, then all of it."""

    name = "whisper:canned"
    path = Path("canned")
    device = SimpleNamespace(device="cpu", compute_type="int8", notice=None)

    def __init__(self, segments: tuple[Segment, ...]) -> None:
        self.segments = segments

    def transcribe(self, audio: Any, options: Any, progress: Any = None, bias: Any = None) -> Any:
        heard = max([audio.duration_ms, *(s.end_ms for s in self.segments)])
        if progress is not None:
            progress(0, heard)
            progress(heard, heard)
        return Transcript(self.segments, "zh", 1.0, heard, "zh", 0.99)


def said(text: str, start_ms: int, end_ms: int) -> Segment:
    """A segment of two words: the text's first two characters and the rest."""
    half = (start_ms + end_ms) // 2
    words = (Word(text[:2], start_ms, half), Word(text[2:], half, end_ms))
    return Segment(text, start_ms, end_ms, words)


HEARD = (said("你好世界", 500, 1800), said("谢谢大家", 2200, 3500))


def silent_wav(path: Path, seconds: float = 4.0) -> Path:
    """A 16 kHz mono WAV of silence at `path`: media for the canned recogniser to hear."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\x00\x00" * int(16_000 * seconds))
    return path
