"""faster-whisper behind the Transcriber port: device choice, model loading, recognition."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from dubkit.adapters.audio import DecodedAudio
from dubkit.adapters.ct2 import DeviceChoice, load_on_device
from dubkit.constants import SAMPLE_RATE
from dubkit.errors import ConfigError, MediaError, ModelUnavailable
from dubkit.ports import ProgressFn, TranscribeOptions
from dubkit.records import Segment, Transcript, Word
from dubkit.timecode import seconds_to_ms

_DETECT_ENCODES = 4  # language evidence from the first windows is plenty


def check_language(code: str) -> None:
    """ConfigError unless Whisper knows the language code (or it is 'auto')."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if code != "auto" and code not in _LANGUAGE_CODES:
        raise ConfigError(
            f"--language {code}: not a Whisper language code; use e.g. zh, yue, en, ur, or auto"
        )


def _probe_encode(model: Any) -> None:
    """Encode one second of silence: the first encode is where missing CUDA libraries show."""
    import numpy as np

    audio = np.zeros(SAMPLE_RATE, dtype=np.float32)
    features = model.feature_extractor(audio)
    model.encode(np.pad(features, ((0, 0), (0, max(0, 3000 - features.shape[-1])))))


class WhisperTranscriber:
    """A loaded faster-whisper model; load once, transcribe many files."""

    def __init__(self, model: Any, name: str, path: Path, choice: DeviceChoice) -> None:
        self.model = model
        self.name = name
        self.path = path
        self.device = choice

    @classmethod
    def load(
        cls,
        name: str,
        path: Path,
        device: str = "auto",
        compute_type: str | None = None,
        cpu_threads: int = 0,
    ) -> WhisperTranscriber:
        """Load from a local folder only (never the network); pick and verify the device."""
        model, choice = load_on_device(
            device,
            compute_type,
            lambda dev, ctype: cls._load(path, dev, ctype, cpu_threads),
            _probe_encode,
        )
        return cls(model, name, path, choice)

    @staticmethod
    def _load(path: Path, device: str, compute_type: str, cpu_threads: int) -> Any:
        from faster_whisper import WhisperModel

        if not (path / "model.bin").is_file():
            raise ModelUnavailable(
                f"{path}: no model.bin here; install the model with `dubkit models pull` "
                f"or `dubkit models install PATH`",
                path=path,
            )
        try:
            return WhisperModel(
                str(path),
                device=device,
                compute_type=compute_type,
                cpu_threads=cpu_threads,
                local_files_only=True,
            )
        except RuntimeError as exc:
            if device == "cuda":
                raise
            raise ModelUnavailable(
                f"{path}: cannot load as a CTranslate2 Whisper model ({exc}); reinstall it "
                f"with `dubkit models pull` or `dubkit models install PATH`",
                path=path,
            ) from exc

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes in the prompt, as faster-whisper encodes hotwords."""
        return len(self.model.hf_tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids)

    def transcribe(
        self, audio: DecodedAudio, options: TranscribeOptions, progress: ProgressFn | None = None
    ) -> Transcript:
        """Recognise `audio`; word timestamps always, batched unless batch_size <= 1."""
        from faster_whisper import BatchedInferencePipeline

        check_language(options.language)
        language = None if options.language == "auto" else options.language
        common: dict[str, Any] = {
            "language": language,
            "beam_size": options.beam_size,
            "word_timestamps": True,
            "vad_filter": options.vad,
            "hotwords": " ".join(options.hotwords) or None,
        }
        detections: list[list[tuple[str, float]]] = []
        if progress is not None:
            progress(0, audio.duration_ms)
        with _language_evidence(self.model, detections):
            if options.batch_size > 1:
                seconds = len(audio.samples) / SAMPLE_RATE
                if not options.vad:
                    # Without VAD the batched pipeline needs explicit 30 s windows.
                    common["clip_timestamps"] = [
                        {"start": t, "end": min(t + 30.0, seconds)}
                        for t in range(0, int(seconds) + 1, 30)
                        if t < seconds
                    ]
                pipeline = BatchedInferencePipeline(self.model)
                raw, info = pipeline.transcribe(
                    audio.samples,
                    batch_size=options.batch_size,
                    without_timestamps=False,
                    **common,
                )
            else:
                raw, info = self.model.transcribe(audio.samples, **common)
            segments = []
            try:
                for seg in raw:
                    segments.append(_segment(seg))
                    if progress is not None:
                        progress(min(segments[-1].end_ms, audio.duration_ms), audio.duration_ms)
            except (RuntimeError, ValueError) as exc:
                raise MediaError(
                    f"{audio.path}: recognition failed ({' '.join(str(exc).split())}); retry "
                    f"with --device cpu or a smaller --batch-size",
                    path=audio.path,
                ) from exc
        detected, detected_p = _aggregate(detections)
        if language is None:
            detected, detected_p = info.language, float(info.language_probability)
        return Transcript(
            segments=tuple(segments),
            language=language or info.language,
            language_probability=float(info.language_probability),
            duration_ms=audio.duration_ms,
            detected_language=detected,
            detected_probability=detected_p,
        )


class _language_evidence:
    """Ask the decoder which language each encoded window is in, reusing the encoder output.

    faster-whisper only detects the language when none is given, at the cost of an extra
    encoder pass; here the windows it encodes anyway answer the question for one decoder step.
    """

    def __init__(self, model: Any, sink: list[list[tuple[str, float]]]) -> None:
        self.model, self.sink = model, sink

    def __enter__(self) -> None:
        original = self.model.encode

        def encode(features: Any) -> Any:
            output = original(features)
            if len(self.sink) < _DETECT_ENCODES:
                self.sink.extend(self.model.model.detect_language(output))
            return output

        self.model.encode = encode

    def __exit__(self, *exc: object) -> None:
        del self.model.encode  # the instance attribute shadowed the method


def _aggregate(detections: list[list[tuple[str, float]]]) -> tuple[str | None, float | None]:
    if not detections:
        return None, None
    totals: dict[str, float] = defaultdict(float)
    for window in detections:
        for token, prob in window:
            totals[token.strip("<|>")] += prob
    language, total = max(totals.items(), key=lambda kv: kv[1])
    return language, total / len(detections)


def _segment(seg: Any) -> Segment:
    words = tuple(
        Word(
            text=w.word,
            start_ms=seconds_to_ms(w.start),
            end_ms=max(seconds_to_ms(w.start), seconds_to_ms(w.end)),
            probability=float(w.probability),
        )
        for w in (seg.words or ())
    )
    start = seconds_to_ms(seg.start)
    return Segment(
        text=seg.text.strip(),
        start_ms=start,
        end_ms=max(start, seconds_to_ms(seg.end)),
        words=words,
        avg_logprob=float(seg.avg_logprob),
        no_speech_prob=float(seg.no_speech_prob),
    )
