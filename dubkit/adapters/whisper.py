"""faster-whisper behind the Transcriber port: device choice, model loading, recognition."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dubkit import constants as C
from dubkit.adapters.ct2 import DeviceChoice, load_on_device
from dubkit.asr.biasing import BiasTerms
from dubkit.asr.recognise import DecodeRequest, RecogniseSettings, recognise
from dubkit.asr.windows import SpeechMap, speech_chunks
from dubkit.constants import SAMPLE_RATE
from dubkit.errors import ConfigError, MediaError, ModelUnavailable
from dubkit.ports import ProgressFn, TranscribeOptions
from dubkit.records import DecodedAudio, Segment, Transcript, Word
from dubkit.timecode import seconds_to_ms

_DETECT_ENCODES = 4  # language evidence from the first windows is plenty
_VAD_CONTEXT = 64  # samples of the frame before that Silero v6 hears with each frame
_VAD_BATCH_FRAMES = 10_000  # frames per session run, as faster-whisper's SileroVADModel


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


def _drop_long_window_warning(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("Segment %d is longer than 30 seconds")


def _quiet_long_window_warning() -> None:
    """faster-whisper warns "Segment N is longer than 30 seconds" for a window whose VAD
    padding runs up to 0.3 s past 30 s (asr.windows plans them so; the padding is cut, as
    it says): on every long programme, breaking the one-line output. That warning alone is
    dropped; its others (an English-only model, a missing preprocessor config) still show."""
    log = logging.getLogger("faster_whisper")
    if _drop_long_window_warning not in log.filters:
        log.addFilter(_drop_long_window_warning)


class WhisperTranscriber:
    """A loaded faster-whisper model; load once, transcribe many files."""

    def __init__(
        self, model: Any, name: str, path: Path, choice: DeviceChoice, cpu_threads: int = 0
    ) -> None:
        _bound_alignment(model)
        self.encodings = _Encodings(model)
        self.model = model
        self.name = name
        self.path = path
        self.device = choice
        self.cpu_threads = cpu_threads
        self.sampled = False  # a decode since the model's threads last started may have sampled
        self._lock = threading.Lock()
        self._running = 0  # programmes being transcribed (threads may share a transcriber)

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
        return cls(model, name, path, choice, cpu_threads)

    @staticmethod
    def _load(path: Path, device: str, compute_type: str, cpu_threads: int) -> Any:
        import ctranslate2
        from faster_whisper import WhisperModel

        _quiet_long_window_warning()
        # Seeded before the model's threads first sample: each thread's generator takes the
        # seed then (CTranslate2 seeds it once per thread), so fallback decodes repeat.
        ctranslate2.set_random_seed(C.ASR_SAMPLING_SEED)

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
        if not text.strip():
            return 0
        return len(self.model.hf_tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids)

    def batch_size(self, options: TranscribeOptions) -> int:
        """The batch size asked for, or this device's default."""
        if options.batch_size is not None:
            return options.batch_size
        return C.default_batch_size(self.device.device)

    def open(self, audio: DecodedAudio, options: TranscribeOptions) -> WhisperDecoder:
        """This model bound to one programme's speech (VAD chunks laid end to end)."""
        check_language(options.language)
        return WhisperDecoder(self, audio, options)

    def restart_sampler(self) -> None:
        """Each of CTranslate2's threads seeds its sampler once, at its first draw: after a
        programme whose decodes may have sampled (temperature fallback), the model is loaded
        again (new threads, samplers from the seed; 0.3 s for whisper:base on CPU), so a
        programme transcribes the same alone, in a batch after others, or resumed. Only
        while no programme is being transcribed (`transcribe` calls it)."""
        if not self.sampled:
            return
        import ctranslate2

        self.model.model = None  # the old weights go before the new ones come
        ctranslate2.set_random_seed(C.ASR_SAMPLING_SEED)
        try:
            self.model.model = ctranslate2.models.Whisper(
                str(self.path),
                device=self.device.device,
                compute_type=self.device.compute_type,
                intra_threads=self.cpu_threads,
            )
        except (RuntimeError, ValueError, OSError) as exc:  # (still `sampled`: tried again)
            raise ModelUnavailable(
                f"{self.path}: cannot load the model again ({' '.join(str(exc).split())}); "
                f"reinstall it with `dubkit models pull` or `dubkit models install PATH`",
                path=self.path,
            ) from exc
        self.sampled = False

    def transcribe(
        self,
        audio: DecodedAudio,
        options: TranscribeOptions,
        progress: ProgressFn | None = None,
        bias: BiasTerms | None = None,
    ) -> Transcript:
        """Recognise `audio` window by window (dubkit.asr.recognise): word timestamps always,
        batched unless batch_size <= 1, guarded, glossary-biased only where a term is heard."""
        with self._lock:  # threads sharing this model: none is reloaded under another
            if not self._running:
                self.restart_sampler()
            self._running += 1
        try:
            return self._transcribe(audio, options, progress, bias)
        finally:
            with self._lock:
                self._running -= 1

    def _transcribe(
        self,
        audio: DecodedAudio,
        options: TranscribeOptions,
        progress: ProgressFn | None,
        bias: BiasTerms | None,
    ) -> Transcript:
        from dubkit.adapters.chinese import to_simplified

        decoder = self.open(audio, options)
        settings = RecogniseSettings(
            batch_size=self.batch_size(options),
            hotwords=options.hotwords,
            guard=options.guard,
            recover=options.recover,
            bias=options.bias,
        )
        normalise = to_simplified if decoder.language == "zh" else _unchanged
        try:
            with self.encodings.serving(decoder):
                heard = recognise(decoder, settings, normalise, bias, progress)
        except (RuntimeError, ValueError) as exc:
            reason = " ".join(str(exc).split())
            fix = (
                "lower --batch-size, or use --device cpu"
                if "out of memory" in reason.lower()
                else "retry with --device cpu; if it fails again, report it with the file"
            )
            raise MediaError(
                f"{audio.path}: recognition failed ({reason}); {fix}", path=audio.path
            ) from exc
        detected, detected_p = _aggregate(decoder.detections)
        if options.language == "auto":
            detected, detected_p = decoder.language, decoder.language_probability
        return Transcript(
            segments=heard.segments,
            language=decoder.language,
            language_probability=decoder.language_probability,
            duration_ms=audio.duration_ms,
            detected_language=detected,
            detected_probability=detected_p,
            report=heard.report,
            warnings=heard.warnings,
        )


def _on_speech_timeline(probs: Any, chunks: list[tuple[int, int]], frame: int) -> Any:
    """The VAD's probability for each `frame`-sample frame of the speech timeline (chunks
    laid end to end), read at the frame's centre in the programme: no drift however many
    chunks there are."""
    import numpy as np

    total = sum(b - a for a, b in chunks)
    if not total:
        return probs[:0]
    offsets = np.cumsum([0] + [b - a for a, b in chunks[:-1]])
    starts = np.array([a for a, _ in chunks])
    centres = np.arange(0, total, frame) + frame // 2
    k = np.searchsorted(offsets, centres, side="right") - 1
    original = starts[k] + (centres - offsets[k])
    return probs[np.minimum(original // frame, len(probs) - 1)]


def speech_probabilities(samples: Any) -> Any:
    """Silero VAD's speech probability of each 512-sample frame of `samples` (a numpy array,
    or the spooled programme: anything sliced like one), read 10,000 frames (320 s) at a
    time with the model's state and each frame's 64 samples of context carried from the
    frame before: the same numbers faster-whisper's VAD gives for the whole array at once
    (it pads the audio with up to one frame of silence and runs the same batches), without
    the programme's sound in memory."""
    import numpy as np
    from faster_whisper.vad import get_vad_model

    frame, context, batch = C.VAD_FRAME_SAMPLES, _VAD_CONTEXT, _VAD_BATCH_FRAMES
    frames = len(samples) // frame + 1  # faster-whisper always pads, by a frame when even
    session = get_vad_model().session
    h = np.zeros((1, 1, 128), dtype=np.float32)
    c = np.zeros((1, 1, 128), dtype=np.float32)
    before = np.zeros(context, dtype=np.float32)  # the first frame's context is silence
    out = []
    for first in range(0, frames, batch):
        count = min(batch, frames - first)
        piece = np.asarray(samples[first * frame : (first + count) * frame], dtype=np.float32)
        piece = np.pad(piece, (0, count * frame - len(piece))).reshape(count, frame)
        if first + count == frames:
            piece[-1, -context:] = 0  # as faster-whisper's model, which zeroes them in place
        contexts = np.concatenate([before[np.newaxis], piece[:-1, -context:]])
        before = piece[-1, -context:].copy()
        probs, h, c = session.run(
            None, {"input": np.concatenate([contexts, piece], axis=1), "h": h, "c": c}
        )
        out.append(np.asarray(probs, dtype=np.float32).reshape(-1))
    return np.concatenate(out)


def _bound_alignment(model: Any) -> None:
    """Word alignment told of no more frames than the encoder saw. faster-whisper's batched
    pipeline rounds a clip's length up to whole seconds: for a window the planner lets run a
    few milliseconds of VAD padding past 30 s (Whisper hears its first 30 s) it asked
    ctranslate2 to align 3,100 frames against the encoder's 3,000, and ctranslate2 read past
    its buffer (a segfault or a corrupted heap on programmes of a few minutes)."""
    original = model.find_alignment

    def find_alignment(
        tokenizer: Any, text_tokens: Any, encoder_output: Any, num_frames: Any, *a: Any, **k: Any
    ) -> Any:
        heard = 2 * int(encoder_output.shape[1])  # two mel frames per encoder position
        if isinstance(num_frames, (list, tuple)):
            num_frames = [min(int(n), heard) for n in num_frames]
        else:
            num_frames = min(int(num_frames), heard)
        return original(tokenizer, text_tokens, encoder_output, num_frames, *a, **k)

    model.find_alignment = find_alignment


def _seconds(ms: int, length: int) -> float:
    """A time, in a piece of `length` samples, that faster-whisper turns back into exactly
    the sample at `ms` (it truncates seconds * 16000: 1.001 s gives 16015, not 16016), or the
    piece's end (the speech timeline counts whole milliseconds of each chunk, so its last
    window may end up to a millisecond a chunk past the samples)."""
    return (min(ms * SAMPLE_RATE // 1000, length) + 0.5) / SAMPLE_RATE


def _unchanged(text: str) -> str:
    return text


class WhisperDecoder:
    """faster-whisper behind the WindowDecoder port, for one programme.

    The VAD's speech chunks (faster-whisper's own Silero VAD with its default options, as its
    sequential decoder uses them) are laid end to end; windows are decoded either together by
    the batched pipeline (one `generate` call per batch) or one by one by the sequential
    decoder, which brings temperature fallback and continues a window the model stopped early.
    """

    def __init__(
        self, transcriber: WhisperTranscriber, audio: DecodedAudio, options: TranscribeOptions
    ) -> None:
        self.transcriber = transcriber
        self.model = transcriber.model
        self.count_tokens = transcriber.count_tokens
        self.options = options
        self.audio = audio.samples  # read in pieces: a spooled programme is never whole
        frame = C.VAD_FRAME_SAMPLES  # Silero's window: 32 ms at 16 kHz
        # The speech probability is wanted even with --no-vad: the guard and recovery read it.
        probs = speech_probabilities(self.audio)
        total = len(self.audio)
        chunks = speech_chunks(probs, total) if options.vad else [(0, total)] if total else []
        self.chunks = chunks
        self._speech = SpeechMap(
            tuple((a * 1000 // SAMPLE_RATE, b * 1000 // SAMPLE_RATE) for a, b in chunks),
            tuple(float(p) for p in _on_speech_timeline(probs, chunks, frame)),
            frame * 1000 / SAMPLE_RATE,
        )
        self._held: tuple[int, int, Any] | None = None  # (start, end, samples) of the block
        self.detections: list[list[tuple[str, float]]] = []
        self.first_pass = False
        self.encoded: dict[bytes, Any] = {}  # this block's first-pass encodings (_Encodings)
        self.language = options.language
        self.language_probability = 1.0
        if options.language == "auto":
            self.language, self.language_probability = self._detect()

    @property
    def speech(self) -> SpeechMap:
        return self._speech

    def _detect(self) -> tuple[str, float]:
        if not self.chunks:
            return "zh", 0.0
        first = self.speech_samples(0, min(30_000, self._speech.duration_ms))
        language, probability, _ = self.model.detect_language(first, vad_filter=False)
        return str(language), float(probability)

    def speech_samples(self, start_ms: int, end_ms: int) -> Any:
        """The samples of a stretch of the speech timeline (the chunks laid end to end),
        from the block held in memory when it covers the stretch; else that stretch is read
        from the programme and held, released when the next block is read. A batch's
        windows are one block: its own decodes and every later one of its windows (the
        guard's, biasing's, recovery's) read it from memory."""
        import numpy as np

        lo, hi = start_ms * SAMPLE_RATE // 1000, end_ms * SAMPLE_RATE // 1000
        if self._held is not None and self._held[0] <= lo and hi <= self._held[1]:
            first, _, held = self._held
            return held[lo - first : hi - first]
        pieces, at = [], 0
        for a, b in self.chunks:
            if at >= hi:
                break
            if at + (b - a) > lo:
                pieces.append(self.audio[a + max(0, lo - at) : a + min(b - a, hi - at)])
            at += b - a
        held = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        self._held = (lo, lo + len(held), held)
        return held

    def _common(self, request: DecodeRequest) -> dict[str, Any]:
        return {
            "language": self.language,
            "beam_size": self.options.beam_size,
            "patience": request.patience,
            "word_timestamps": True,
            "without_timestamps": False,
            "hotwords": request.hotwords or None,
        }

    def decode(self, request: DecodeRequest) -> list[tuple[Segment, ...]]:
        if not request.windows:
            return []
        self.first_pass = request.first_pass  # language evidence is taken from these only
        if request.first_pass:  # a new block: the last one's windows are not decoded again
            self.encoded.clear()
        if any(t > 0 for t in request.temperatures):
            self.transcriber.sampled = True  # it may draw samples: the next programme reloads
        if request.batched:
            return self._batched(request)
        return [self._one(window, request) for window in request.windows]

    def _batched(self, request: DecodeRequest) -> list[tuple[Segment, ...]]:
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(self.model)
        lo = min(a for a, _ in request.windows)
        samples = self.speech_samples(lo, max(b for _, b in request.windows))
        clips = [(a - lo, b - lo) for a, b in request.windows]
        raw, _ = pipeline.transcribe(
            samples,
            batch_size=len(request.windows),
            clip_timestamps=[
                {"start": _seconds(a, len(samples)), "end": _seconds(b, len(samples))}
                for a, b in clips
            ],
            vad_filter=False,
            temperature=request.temperatures[0],  # (a batch never falls back)
            **self._common(request),
        )
        raw = list(raw)
        starts = [round((a - lo) / 10) for a, _ in request.windows]  # centiseconds, as `seek`
        out: list[list[Segment]] = [[] for _ in request.windows]
        for seg in raw:
            k = min(range(len(starts)), key=lambda i: abs(starts[i] - seg.seek))
            out[k].append(_segment(seg, lo, request.windows[k]))
        return [tuple(s) for s in out]

    def _one(self, window: tuple[int, int], request: DecodeRequest) -> tuple[Segment, ...]:
        a, b = window
        piece = self.speech_samples(a, b)
        if not len(piece):
            return ()
        raw, _ = self.model.transcribe(
            piece,
            vad_filter=False,
            condition_on_previous_text=False,
            temperature=list(request.temperatures),
            **self._common(request),
        )
        return tuple(_segment(seg, a, window) for seg in raw)


class _Encodings:
    """The model's `encode`, seen through the decoder of the programme this thread is
    transcribing (`serving`); installed once on the model, so threads sharing a transcriber
    never swap it under each other.

    - **Language evidence**: faster-whisper only detects the language when none is given, at
      the cost of an extra encoder pass; here the windows it encodes anyway answer the
      question for one decoder step. The first windows' first passes answer it, never a
      second decode (the guard's, biasing's, a recovered snippet's) of a window already heard.
    - **One encoding per window**: a window decoded again whole (the guard's re-decode, the
      refill, the glossary's biased pass) gives the encoder the same features its first pass
      did, and gets that encoding back instead of a second encoder pass, the larger part of
      a decode on CPU. Kept for the block being decided only (`WhisperDecoder.encoded`: a
      batch of windows, 3 MB each for whisper:base, 7.7 MB for large-v3; decoding one window
      at a time, that window and the continuations of its first pass, a few), keyed by the
      features, so a stretch or another window is encoded as before. On CPU only (the
      encoding is copied out of CTranslate2's memory). Measured here, the batched encoding
      of a window and its encoding alone are the same to the bit.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.original = model.encode
        self.local = threading.local()
        model.encode = self

    @contextlib.contextmanager
    def serving(self, decoder: WhisperDecoder) -> Iterator[None]:
        self.local.decoder = decoder
        try:
            yield
        finally:
            self.local.decoder = None

    def __call__(self, features: Any) -> Any:
        import ctranslate2
        import numpy as np

        decoder: WhisperDecoder | None = getattr(self.local, "decoder", None)
        if decoder is None:
            return self.original(features)
        batch = features if features.ndim == 3 else features[None]
        keys = []
        if self.model.model.device == "cpu":
            keys = [_key(f) for f in batch]
        if keys and all(k in decoder.encoded for k in keys):
            held = np.stack([decoder.encoded[k] for k in keys])
            return ctranslate2.StorageView.from_array(held)
        output = self.original(features)
        if decoder.first_pass:
            if keys:
                for key, encoding in zip(keys, np.asarray(output), strict=True):
                    decoder.encoded[key] = encoding.copy()
            if len(decoder.detections) < _DETECT_ENCODES:
                decoder.detections.extend(self.model.model.detect_language(output))
        return output


def _key(features: Any) -> bytes:
    """A window's features, as a key: their bytes (in C order, whatever the array's layout),
    shape and type."""
    import numpy as np

    digest = hashlib.blake2b(np.ascontiguousarray(features).data, digest_size=16)
    digest.update(f"{features.shape}{features.dtype.str}".encode())
    return digest.digest()


def _aggregate(detections: list[list[tuple[str, float]]]) -> tuple[str | None, float | None]:
    if not detections:
        return None, None
    totals: dict[str, float] = defaultdict(float)
    for window in detections:
        for token, prob in window:
            totals[token.strip("<|>")] += prob
    language, total = max(totals.items(), key=lambda kv: kv[1])
    return language, total / len(detections)


def _segment(seg: Any, offset_ms: int, window: tuple[int, int]) -> Segment:
    """A faster-whisper segment on the speech timeline (`offset_ms` added), inside `window`."""
    lo, hi = window

    def ms(seconds: float) -> int:
        return min(max(offset_ms + seconds_to_ms(seconds), lo), hi)

    words = tuple(
        Word(
            text=w.word,
            start_ms=ms(w.start),
            end_ms=max(ms(w.start), ms(w.end)),
            probability=float(w.probability),
        )
        for w in (seg.words or ())
    )
    start = ms(seg.start)
    return Segment(
        text=seg.text.strip(),
        start_ms=start,
        end_ms=max(start, ms(seg.end)),
        words=words,
        avg_logprob=float(seg.avg_logprob),
        no_speech_prob=float(seg.no_speech_prob),
    )
