"""Long programmes: the sound spooled to disk, the VAD read in pieces, recognition in blocks.

An hour of programme must not sit in memory: `spool_audio` writes the decoded sound to an
unnamed temporary file, the VAD reads it 320 s at a time, and the recogniser decodes a block
(a batch of windows) at a time. Each piece is checked against the whole-array computation it
replaces: faster-whisper's own VAD, `decode_audio`, and recognition of the programme held
whole in memory.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import wave
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubkit import constants as C
from dubkit.adapters.whisper import _Encodings
from dubkit.asr import guard
from dubkit.asr.recognise import DecodeRequest, RecogniseSettings, recognise
from dubkit.asr.windows import SpeechMap, speech_chunks
from dubkit.records import DecodedAudio
from tests.conftest import DEV_TERMS, looped_flac, measured_child
from tests.test_asr_core import ScriptedDecoder

SEMINAR = ("zh-long", "funasr_vad_example_70s.wav")
FRAME = C.VAD_FRAME_SAMPLES


# ------------------------------------------------------------------ speech chunks


@contextlib.contextmanager
def _vad_answering(probs: Sequence[float]) -> Iterator[None]:
    """faster-whisper's VAD filter with its model replaced by these probabilities."""
    import numpy as np
    from faster_whisper import vad

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(vad, "get_vad_model", lambda: lambda audio: np.asarray(probs, np.float32))
        yield


_LEVELS = st.sampled_from([0.0, 0.1, 0.34, 0.35, 0.4, 0.49, 0.5, 0.7, 1.0])


@settings(max_examples=300, deadline=None)
@given(
    runs=st.lists(st.tuples(_LEVELS, st.integers(1, 90)), min_size=1, max_size=14),
    short=st.integers(0, FRAME - 1),
)
def test_speech_chunks_are_faster_whispers_own(runs: list[tuple[float, int]], short: int) -> None:
    """From the same probabilities, `speech_chunks` finds exactly the chunks faster-whisper's
    VAD filter finds with its default options (runs of up to 90 frames: around the 2 s of
    silence, 62.5 frames, that end a chunk; the 400 ms padding, shared or not)."""
    import numpy as np
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    probs = [p for p, n in runs for _ in range(n)]
    samples = len(probs) * FRAME - 1 - short  # faster-whisper pads to whole frames, by one
    with _vad_answering(probs):
        theirs = get_speech_timestamps(np.zeros(samples, np.float32), VadOptions())
    assert speech_chunks(probs, samples) == [(c["start"], c["end"]) for c in theirs]


def test_speech_chunks_of_nothing_and_of_all_speech() -> None:
    assert speech_chunks([0.0] * 100, 100 * FRAME - 1) == []
    assert speech_chunks([0.9] * 100, 100 * FRAME - 1) == [(0, 100 * FRAME - 1)]


# ------------------------------------------------------------------ the VAD in pieces


@pytest.fixture(scope="module")
def seminar(assets: Path) -> Any:
    from dubkit.adapters.audio import decode_audio

    return decode_audio(assets.joinpath(*SEMINAR)).samples


@pytest.mark.slow
def test_the_vad_read_in_pieces_gives_faster_whispers_numbers(seminar: Any) -> None:
    """Silero's probabilities read 10,000 frames at a time, state and context carried,
    equal faster-whisper's for the whole array: across the 320 s piece boundary, and at the
    end, where it zeroes the last 64 samples of a final frame that is only 30 samples short
    of full."""
    import numpy as np
    from faster_whisper.vad import get_vad_model

    from dubkit.adapters.whisper import speech_probabilities

    x = np.tile(seminar, 5)[: 10_700 * FRAME + FRAME - 30]
    whole = get_vad_model()(np.pad(x, (0, FRAME - len(x) % FRAME)))
    assert np.array_equal(speech_probabilities(x), whole)
    even = seminar[: 300 * FRAME]  # a whole number of frames: padded by a frame of silence
    whole = get_vad_model()(np.pad(even, (0, FRAME)))
    assert np.array_equal(speech_probabilities(even), whole)


# ------------------------------------------------------------------ the spooled sound


def test_the_spool_holds_what_decode_audio_decodes(
    speech_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every slice of the spooled programme is the in-memory decode's; the spool is an
    unnamed file (nothing in the temporary folder) gone when the block ends."""
    import tempfile

    import numpy as np

    from dubkit.adapters.audio import decode_audio, spool_audio

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    whole = decode_audio(speech_wav)
    with spool_audio(speech_wav) as spooled:
        assert list(tmp_path.iterdir()) == []
        n = len(whole.samples)
        assert len(spooled.samples) == n and spooled.duration_ms == whole.duration_ms
        for a, b in [(0, n), (0, 1), (n - 1, n), (12_345, 54_321), (n - 10, n + 500), (5, 5)]:
            got = spooled.samples[a:b]
            assert got.dtype == np.float32 and np.array_equal(got, whole.samples[a:b]), (a, b)
        assert (spooled.declared_ms, spooled.warnings) == (whole.declared_ms, whole.warnings)
        samples = spooled.samples
    with pytest.raises(ValueError):
        samples[0:10]  # the file is closed: the sound is gone


@pytest.mark.parametrize("piece", [1_000, 16_000 * 60])
def test_sound_levels_read_in_pieces_are_the_levels_of_the_whole(
    speech_wav: Path, piece: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dubkit align` and `review`'s waveform read the level of the spooled sound a piece at
    a time: frame for frame what the whole array gives (50 ms and 20 ms frames, pieces of
    a few frames, and of a minute, longer than the recording)."""
    import numpy as np

    from dubkit.adapters import audio

    monkeypatch.setattr(audio, "_LEVEL_PIECE_SAMPLES", piece)
    whole = audio.decode_audio(speech_wav)
    for frame_ms in (50, 20):
        size = 16 * frame_ms
        frames = whole.samples[: len(whole.samples) // size * size].astype(np.float64)
        power = np.mean(frames.reshape(-1, size) ** 2, axis=1)
        expected = np.where(power > 1e-10, 10 * np.log10(np.maximum(power, 1e-10)), -100.0)
        with audio.spool_audio(speech_wav) as spooled:
            levels = audio.sound_levels(spooled, frame_ms)
        assert len(levels) == len(whole.samples) // size > 100
        assert levels == tuple(expected.tolist())
        assert min(levels) < -30 < max(levels)  # the pauses and the speech both read


def test_a_truncated_file_is_spooled_with_its_warning(speech_wav: Path, tmp_path: Path) -> None:
    import numpy as np

    from dubkit.adapters.audio import decode_audio, spool_audio

    cut = tmp_path / "cut.wav"
    data = speech_wav.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    whole = decode_audio(cut)
    with spool_audio(cut) as spooled:
        assert spooled.warnings == whole.warnings and "truncated" in spooled.warnings[0]
        assert np.array_equal(spooled.samples[0 : len(spooled.samples)], whole.samples)


@pytest.mark.slow
def test_spooling_half_an_hour_takes_no_more_memory(ffmpeg: str, tmp_path: Path) -> None:
    """Half an hour decoded whole is 115 MB of float32 at 16 kHz mono (and more while it is
    converted); spooled, the process does not grow (0 MB measured, for an hour too)."""
    half_hour = looped_flac(ffmpeg, tmp_path, 30, "sine=f=440:r=16000")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import av, numpy\n"
        "from dubkit.adapters.audio import spool_audio\n"
        "before = peak()\n"
        "with spool_audio(Path(sys.argv[1])) as audio:\n"
        "    n = len(audio.samples)\n"
        "    last = audio.samples[n - 16_000 : n]\n"
        "print(n, round(float(abs(last).max()), 3), before, peak())\n"
    )
    n, peak, before, after = measured_child(script, str(half_hour))
    assert int(n) == 1800 * C.SAMPLE_RATE and float(peak) > 0.1  # all of it, to its end
    assert int(after) - int(before) < 20, (before, after)


# ------------------------------------------------------------------ recognition in blocks


def test_each_block_is_finished_before_the_next_is_decoded() -> None:
    """Five windows in batches of two are three blocks: each block's batch, then the
    guard's decodes of its windows, then the next block; progress after each block. A loop
    cut by a block's edge (中国 ×3 at the end of one window, ×3 at the start of the next) is
    still found and flagged on both sides."""
    seconds = 140
    speech = SpeechMap(((0, seconds * 1000),), (0.9,) * (seconds * 1000 // 32), 32.0)
    windows: list[tuple[int, int]] = []

    def say(request: DecodeRequest, window: tuple[int, int]) -> str:
        if window not in windows:
            windows.append(window)
        k = windows.index(window)
        if k == 1:
            return "今天天气很好我们出去走走" + "中国" * 3
        if k == 2:
            return "中国" * 3 + "明天下雨我们在家看书"
        if k == 3 and request.batched:
            return "好" * 40  # a loop: decoded again by the guard, inside its block
        return "这是第几个窗口的话我们说完了"

    decoder = ScriptedDecoder(speech, say)
    seen: list[tuple[int, int]] = []
    heard = recognise(
        decoder,
        RecogniseSettings(batch_size=2, bias=False, recover=False),
        progress=lambda done, total: seen.append((done, total)),
    )
    order = [[windows.index(w) for w in r.windows] for r in decoder.requests]
    assert order == [[0, 1], [2, 3], [3], [4]]
    total = seconds * 1000
    assert [done for done, _ in seen] == [0, windows[1][1], windows[3][1], total]
    assert {t for _, t in seen} == {total}
    edge = [s for s in heard.segments if "中国" in s.text]
    assert len(edge) == 2 and all(guard.REPETITION in s.flags for s in edge)
    assert "好" * 40 not in "".join(s.text for s in heard.segments)
    assert [w["window"] for w in heard.report["windows"]] == [0, 1, 2, 3, 4]


@pytest.mark.slow
def test_a_programme_decoded_in_blocks_is_decoded_as_whole(
    assets: Path, transcriber: Any, tmp_path: Path
) -> None:
    """A 100 s programme (the seminar between two terminology clips), spooled to disk and
    decoded in blocks of two windows, gives exactly the segments, words, times, flags,
    glossary biasing and window reports it gives from its samples held whole in memory, and
    the windows are those planned over faster-whisper's own VAD of the whole programme. (The
    decoder's reads and clip offsets are checked sample by sample without the model, below.)"""
    import numpy as np
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from dubkit.adapters.audio import decode_audio, spool_audio
    from dubkit.adapters.chinese import (
        pinyin_alternatives,
        pinyin_readings,
        split_dictionary_words,
    )
    from dubkit.asr.biasing import BiasTerms
    from dubkit.asr.windows import plan_windows
    from dubkit.glossary.files import load_terms
    from dubkit.ports import TranscribeOptions

    parts = [
        decode_audio(assets / "zh-dev" / "funasrnano_rag_history.wav").samples,
        decode_audio(assets.joinpath(*SEMINAR)).samples[: 70 * C.SAMPLE_RATE],
        decode_audio(assets / "zh-dev" / "funasrnano_rag_biochemistry.wav").samples,
    ]
    gap = np.zeros(3 * C.SAMPLE_RATE, np.float32)
    whole = np.concatenate([parts[0], gap, parts[1], gap, parts[2]])
    path = tmp_path / "programme.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(C.SAMPLE_RATE)
        out.writeframes((whole * 32768).round().astype("<i2").tobytes())
    whole = decode_audio(path).samples  # as the file holds it
    terms = load_terms([DEV_TERMS])
    bias = BiasTerms.from_glossary(
        terms, pinyin_readings, split_dictionary_words, pinyin_alternatives
    )
    options = TranscribeOptions(batch_size=2)

    in_memory = DecodedAudio(path, whole, None)
    as_whole = transcriber.transcribe(in_memory, options, bias=bias)
    with spool_audio(path) as spooled:
        decoder = transcriber.open(spooled, options)
        in_blocks = transcriber.transcribe(spooled, options, bias=bias)

    found = get_speech_timestamps(whole, VadOptions())
    chunks = tuple((c["start"] * 1000 // 16_000, c["end"] * 1000 // 16_000) for c in found)
    assert decoder.speech.chunks == chunks
    windows = plan_windows(decoder.speech)
    assert len(windows) == 3  # blocks of two windows and one
    assert [(w["start_ms"], w["end_ms"]) for w in in_blocks.report["windows"]] == [
        (decoder.speech.to_original(a), decoder.speech.to_original(b, end=True)) for a, b in windows
    ]
    assert in_blocks.segments == as_whole.segments
    assert in_blocks.report == as_whole.report
    assert in_blocks.report["summary"]["biased_windows"] >= 1  # biasing ran in a block
    assert (in_blocks.language, in_blocks.detected_language) == ("zh", "zh")


@pytest.mark.slow
def test_a_window_past_30_s_is_aligned_within_the_encoders_frames(
    assets: Path, base_model_dir: Path
) -> None:
    """The planner lets a window run up to 300 ms of VAD padding past 30 s. The batched
    pipeline rounds a clip's length up to whole seconds, so word alignment was told of 3,100
    frames against the encoder's 3,000, and ctranslate2 read past its buffer: a segfault or
    a corrupted heap on programmes of a few minutes (not on every window: the frames
    alignment is given are checked). In a child process, so that a crash is a failure."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from dubkit.adapters.audio import decode_audio\n"
        "from dubkit.adapters.whisper import WhisperTranscriber\n"
        "from dubkit.asr.recognise import DecodeRequest\n"
        "from dubkit.ports import TranscribeOptions\n"
        "import faster_whisper.transcribe as ft\n"
        "seen, align = [], ft.WhisperModel.find_alignment\n"
        "def spy(self, tok, text, enc, frames, *a, **k):\n"
        "    most = max(frames) if isinstance(frames, (list, tuple)) else frames\n"
        "    seen.append(most - 2 * enc.shape[1])\n"
        "    return align(self, tok, text, enc, frames, *a, **k)\n"
        "ft.WhisperModel.find_alignment = spy\n"
        "t = WhisperTranscriber.load('whisper:base', Path(sys.argv[2]), device='cpu')\n"
        "d = t.open(decode_audio(Path(sys.argv[1])), TranscribeOptions())\n"
        "[segs] = d.decode(DecodeRequest(((0, 30_290),), batched=True))\n"
        "print(len(segs), max(s.end_ms for s in segs), max(seen))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(assets.joinpath(*SEMINAR)), str(base_model_dir)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    count, end, beyond = map(int, done.stdout.split())
    assert beyond <= 0  # frames alignment was told of, past the encoder's
    assert count > 0 and 25_000 < end <= 30_290


# ------------------------------------------------------------------ the decoder's reads


_CHUNKS = [(0, 6400 * 3), (60_000, 60_000 + 512 * 77 + 256), (200_000, 333_337)]


def _decoder(audio: Any, chunks: list[tuple[int, int]]) -> Any:
    """A WhisperDecoder over `audio` with these speech chunks, without a model or a VAD."""
    from dubkit.adapters.whisper import WhisperDecoder

    decoder = WhisperDecoder.__new__(WhisperDecoder)
    decoder.audio, decoder.chunks, decoder._held = audio, chunks, None
    decoder._speech = SpeechMap(tuple((a * 1000 // 16_000, b * 1000 // 16_000) for a, b in chunks))
    decoder.options = SimpleNamespace(beam_size=5)
    decoder.language, decoder.model, decoder.first_pass = "zh", None, False
    decoder.transcriber = SimpleNamespace(sampled=False)
    return decoder


def _timeline(audio: Any, chunks: list[tuple[int, int]]) -> Any:
    import numpy as np

    return np.concatenate([audio[a:b] for a, b in chunks])


def test_speech_samples_are_the_chunks_laid_end_to_end_whatever_block_is_held() -> None:
    """Any stretch of the speech timeline, asked for in any order, is the chunks' samples
    laid end to end: the block held from an earlier request never answers for samples it
    does not hold (3,000 random stretches, across joins and past the end)."""
    import random

    import numpy as np

    audio = np.arange(400_000, dtype=np.float32)
    whole = _timeline(audio, _CHUNKS)
    decoder = _decoder(audio, _CHUNKS)
    total = decoder.speech.duration_ms
    rng = random.Random(7)
    for _ in range(3000):
        a = rng.randrange(0, total + 5)
        b = min(total, a + rng.randrange(0, 9000))
        assert np.array_equal(decoder.speech_samples(a, b), whole[a * 16 : b * 16]), (a, b)


def test_each_clip_of_a_batch_is_its_windows_own_sound(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batched pipeline is given one block's sound and each window's place in it: cut
    as faster-whisper cuts it (seconds × 16,000, truncated), each clip is exactly its
    window's samples, and what is said in a clip's first half second comes
    back in its window's first half second on the speech timeline."""
    import faster_whisper
    import numpy as np

    chunks = [*_CHUNKS, (400_000, 1_400_000)]
    audio = np.arange(1_500_000, dtype=np.float32)
    whole = _timeline(audio, chunks)
    decoder = _decoder(audio, chunks)
    seen: dict[str, Any] = {}

    class Pipeline:
        def __init__(self, model: Any) -> None:
            pass

        def transcribe(self, samples: Any, clip_timestamps: Any, **kw: Any) -> Any:
            seen["samples"], seen["clips"] = samples, clip_timestamps
            said = []
            for clip in clip_timestamps:
                at = int(clip["start"] * 16_000) / 16_000
                said.append(SimpleNamespace(
                    seek=int(at * 100), start=round(at, 3), end=round(at + 0.5, 3), text="x",
                    words=[], avg_logprob=0.0, no_speech_prob=0.0,
                ))  # fmt: skip
            return iter(said), None

    monkeypatch.setattr(faster_whisper, "BatchedInferencePipeline", Pipeline)
    total = decoder.speech.duration_ms
    for windows in [
        ((0, 1200), (1200, 5003), (5003, 26880), (26880, total)),
        ((777, 1999), (1999, 26880 + 1999), (26880 + 1999, total)),  # a block not at 0
    ]:
        out = decoder.decode(DecodeRequest(windows, "", batched=True))
        assert len(seen["samples"]) == (total - windows[0][0]) * 16  # the block, no more
        for (a, b), clip in zip(windows, seen["clips"], strict=True):
            start, end = int(clip["start"] * 16_000), int(clip["end"] * 16_000)
            wanted = whole[a * 16 : b * 16]
            assert np.array_equal(seen["samples"][start:end], wanted), (a, b)
        assert [(said[0].start_ms, said[0].end_ms) for said in out] == [
            (a, a + 500) for a, _ in windows
        ]


def test_each_decode_is_given_its_requests_beam_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The beam size is the options', the patience the request's: a batch gets
    C.BATCHED_PATIENCE (2), a window decoded alone faster-whisper's own 1."""
    import faster_whisper
    import numpy as np

    decoder = _decoder(np.zeros(200_000, dtype=np.float32), [(0, 200_000)])
    seen: list[dict[str, Any]] = []

    def transcribe(samples: Any, **kw: Any) -> Any:
        seen.append(kw)
        return iter(()), None

    class Pipeline:
        def __init__(self, model: Any) -> None:
            self.transcribe = transcribe

    monkeypatch.setattr(faster_whisper, "BatchedInferencePipeline", Pipeline)
    decoder.model = SimpleNamespace(transcribe=transcribe)
    decoder.decode(DecodeRequest(((0, 6000), (6000, 12_000)), batched=True))
    assert not decoder.transcriber.sampled  # beam search draws nothing
    decoder.decode(DecodeRequest(((0, 6000),), temperatures=(0.0, 0.2)))
    assert [(kw["beam_size"], kw["patience"]) for kw in seen] == [(5, 2.0), (5, 1.0)]
    assert decoder.transcriber.sampled  # the fallback may: the next programme reloads


def test_a_full_temporary_folder_is_one_error_naming_it(
    speech_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spool is the one file recognition writes besides its outputs: $TMPDIR full gives
    an error that names the folder and the fix, not an OSError's traceback."""
    import tempfile

    from dubkit.adapters.audio import spool_audio
    from dubkit.errors import OutputError

    def full(**kw: Any) -> Any:
        return open("/dev/full", "w+b", buffering=0)

    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    with pytest.raises(OutputError) as caught, spool_audio(speech_wav):
        pass
    message = str(caught.value)
    assert message.startswith(tempfile.gettempdir()) and "No space left" in message
    assert "TMPDIR" in message and "\n" not in message


def test_only_first_passes_are_evidence_of_the_language() -> None:
    """The language heard is judged on the first windows' first passes: the recogniser marks
    them, and the adapter collects evidence from those encodes only, never from a window
    decoded again (the guard's decode of window 0 came before window 1's first pass)."""
    speech = SpeechMap(((0, 140_000),), (0.9,) * (140_000 // 32), 32.0)
    heard: list[tuple[int, int]] = []

    def say(request: DecodeRequest, window: tuple[int, int]) -> str:
        heard.append(window)
        if heard.count(window) == 1 and window == heard[0]:
            return "好" * 40  # window 0 loops: the guard decodes it again at once
        return "这是第几个窗口的话我们说完了"

    decoder = ScriptedDecoder(speech, say)
    recognise(decoder, RecogniseSettings(batch_size=1, bias=False, recover=False))
    marks = [(r.windows[0], r.first_pass) for r in decoder.requests]
    first = [w for w, mark in marks if mark]
    assert first == sorted(set(first)) and len(first) == 5  # each window's first hearing
    assert marks[1] == (marks[0][0], False)  # the guard's decode of window 0

    calls: list[int] = []
    model = _EncoderModel(calls)
    encodings = _Encodings(model)
    stub = SimpleNamespace(detections=[], first_pass=True, encoded={})
    with encodings.serving(stub):  # type: ignore[arg-type]
        for features, mark in [(_features(0), True), (_features(9), False), (_features(1), True)]:
            stub.first_pass = mark
            model.encode(features)
        assert [d[0][0] for d in stub.detections] == ["0.0", "1.0"]
        for value in (2, 3, 4):  # the first 4 windows' evidence is plenty
            model.encode(_features(value))
    assert [d[0][0] for d in stub.detections] == ["0.0", "1.0", "2.0", "3.0"]


class _EncoderModel:
    """faster-whisper's WhisperModel as `_Encodings` sees it: `encode` (here each window's
    encoding is its features' first value, everywhere) and the CTranslate2 model's
    `detect_language`, which names each encoding by that value."""

    def __init__(self, calls: list[int], device: str = "cpu") -> None:
        self.calls = calls
        self.model = SimpleNamespace(
            device=device,
            detect_language=lambda output: [[(f"{row[0][0]}", 1.0)] for row in _array(output)],
        )

    def encode(self, features: Any) -> Any:
        import ctranslate2
        import numpy as np

        batch = features if features.ndim == 3 else features[None]
        self.calls.append(len(batch))
        return ctranslate2.StorageView.from_array(
            np.ascontiguousarray(batch[:, :1, :4] + np.zeros((1, 3, 1), np.float32))
        )


def _features(*values: float) -> Any:
    """Features of one window (80 x 3000), or of a batch of them."""
    import numpy as np

    batch = np.stack([np.full((80, 3000), v, np.float32) for v in values])
    return batch[0] if len(values) == 1 else batch


def _array(output: Any) -> Any:
    import numpy as np

    return np.asarray(output)


def test_a_window_decoded_again_whole_gets_its_first_encoding_back() -> None:
    """The guard's re-decode, the refill and the biased pass give the encoder the features
    the window's first pass did: they get that encoding back, not a second encoder pass;
    other features (a stretch, a continuation, a window of another block) are encoded, and
    a thread the encoder does not serve is left alone."""
    calls: list[int] = []
    model = _EncoderModel(calls)
    encodings = _Encodings(model)
    decoder = SimpleNamespace(detections=[], first_pass=True, encoded={})
    with encodings.serving(decoder):  # type: ignore[arg-type]
        block = model.encode(_features(1, 2, 3))
        decoder.first_pass = False
        again = model.encode(_features(2))  # (faster-whisper's sequential decoder: 2-D)
        assert calls == [3]
        assert (_array(again)[0] == _array(block)[1]).all()
        model.encode(_features(2.5))  # a stretch of window 2: not a first pass's features
        model.encode(_features(2.5))  # and not held: a later decode of it encodes it again
        assert calls == [3, 1, 1]
        decoder.first_pass, decoder.encoded = True, {}  # the next block (WhisperDecoder.decode)
        model.encode(_features(4))
        decoder.first_pass = False
        model.encode(_features(1))
        assert calls == [3, 1, 1, 1, 1]
    seen: list[float] = []
    other = threading.Thread(
        target=lambda: seen.append(_array(model.encode(_features(4)))[0, 0, 0])
    )
    with encodings.serving(decoder):  # type: ignore[arg-type]
        other.start()
        other.join()
    assert seen == [4.0] and calls == [3, 1, 1, 1, 1, 1]  # encoded: no programme in that thread

    calls.clear()  # on a GPU the encoder is cheap and its output is not in host memory
    model = _EncoderModel(calls, device="cuda")
    encodings = _Encodings(model)
    decoder = SimpleNamespace(detections=[], first_pass=True, encoded={})
    with encodings.serving(decoder):  # type: ignore[arg-type]
        model.encode(_features(1, 2))
        decoder.first_pass = False
        model.encode(_features(2))
    assert calls == [2, 1] and decoder.encoded == {}
    assert [d[0][0] for d in decoder.detections] == ["1.0", "2.0"]


def test_a_new_block_lets_the_last_blocks_encodings_go() -> None:
    """Encodings are held while their block is decided, and let go at the next first pass."""
    from dubkit.adapters.whisper import WhisperDecoder

    decoder = object.__new__(WhisperDecoder)  # (what `decode` needs, without a model)
    decoder.transcriber = SimpleNamespace(sampled=False)  # type: ignore[assignment]
    decoder._batched = lambda request: [()] * len(request.windows)  # type: ignore[method-assign]
    decoder.encoded = {b"window": "its encoding"}
    decoder.decode(DecodeRequest(((0, 30_000),), batched=True))  # the window decoded again
    assert decoder.encoded == {b"window": "its encoding"}
    decoder.decode(DecodeRequest(((30_000, 60_000),), batched=True, first_pass=True))
    assert decoder.encoded == {}


@pytest.mark.parametrize(("device", "given", "used"), [
    ("cpu", None, 4), ("cuda", None, 8), ("cpu", 8, 8), ("cuda", 2, 2), ("cpu", 0, 0),
])  # fmt: skip
def test_the_batch_size_not_given_is_the_devices(device: str, given: int | None, used: int) -> None:
    """On CPU 4 windows at once, not 8: beam search holds about 125 MB a window, and 4 were
    no slower on 2 cores (bench/README.md); on a GPU faster-whisper's 8."""
    from dubkit.adapters.ct2 import DeviceChoice
    from dubkit.adapters.whisper import WhisperTranscriber
    from dubkit.ports import TranscribeOptions

    transcriber = object.__new__(WhisperTranscriber)  # the choice of size needs no model
    transcriber.device = DeviceChoice(device, "int8")
    assert transcriber.batch_size(TranscribeOptions(batch_size=given)) == used


def test_a_programme_past_the_longest_is_refused_before_it_is_spooled(
    silence_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A programme over 10 hours was refused only once all of it was decoded onto the disk
    (1.2 GB, minutes of work): now as its sound passes 10 hours. The longest is lowered to
    2 s here, so that 8 s of silence stand for it."""
    import struct

    from dubkit.adapters import audio

    class TooLong(Exception):
        pass

    monkeypatch.setattr(C, "MAX_PROGRAMME_MS", 2_000)
    written: list[int] = []
    write = audio._Spool.write

    def counted(self: Any, chunk: Any) -> None:
        written.append(len(chunk))
        write(self, chunk)

    monkeypatch.setattr(audio._Spool, "write", counted)
    with pytest.raises(TooLong) as said, audio.spool_audio(silence_wav, TooLong):
        pass
    [ms] = said.value.args
    assert 2_000 < ms == sum(written) * 1000 // C.SAMPLE_RATE < 2_100, written
    # exactly the longest is not too long; and with no limit asked for, all is spooled
    monkeypatch.setattr(C, "MAX_PROGRAMME_MS", 8_000)
    with audio.spool_audio(silence_wav, TooLong) as spooled:
        assert spooled.duration_ms == 8_000
    monkeypatch.setattr(C, "MAX_PROGRAMME_MS", 2_000)
    with audio.spool_audio(silence_wav) as spooled:
        assert spooled.duration_ms == 8_000
    # a header that claims 20 hours is not believed: the sound is spooled (and found short)
    lying = tmp_path / "lying.wav"
    data = bytearray(silence_wav.read_bytes())
    at = data.index(b"data")
    data[at + 4 : at + 8] = struct.pack("<I", 20 * 3600 * C.SAMPLE_RATE * 2)
    lying.write_bytes(bytes(data))
    monkeypatch.setattr(C, "MAX_PROGRAMME_MS", 9_000)
    with audio.spool_audio(lying, TooLong) as spooled:
        assert spooled.duration_ms == 8_000
        assert spooled.declared_ms is not None and spooled.declared_ms > 10 * 3600 * 1000
        assert "looks truncated" in spooled.warnings[0]


def _transcribe_key(device: str, batch_size: int | None = None, source: str = "asr") -> Any:
    """The batch manifest's transcribe key of an engine recognising on `device`."""
    from dubkit.episode.engine import Engine, EngineSpec, RecognitionSpec
    from dubkit.ports import TranscribeOptions
    from dubkit.profiles import BUILTIN_PROFILES, DEFAULT_PROFILE

    options = TranscribeOptions(batch_size=batch_size)
    profile = BUILTIN_PROFILES[DEFAULT_PROFILE]
    rec = RecognitionSpec("whisper:base", None, device, None, 0, options, profile, source=source)
    return Engine(EngineSpec(rec, None), None, None, None).stage_keys()["transcribe"]


@pytest.mark.parametrize(("device", "key"), [("cpu", 4), ("cuda", 8), ("auto", None)])
def test_a_batch_resumes_on_the_batch_size_that_will_be_used(device: str, key: int | None) -> None:
    """Not given, the size is the device's: the batch manifest's key says which, so that
    `--batch-size 4` on CPU and no flag are the same work (auto: found only on loading)."""

    def keys(batch_size: int | None) -> Any:
        return _transcribe_key(device, batch_size)

    assert keys(None)[1]["batch_size"] == key
    assert (keys(None) == keys(4)) == (key == 4) and (keys(None) == keys(8)) == (key == 8)
    assert keys(2) != keys(None)


def test_a_batch_made_before_a_change_of_beam_patience_is_transcribed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batched decodes' patience changes the text: it is part of the transcribe key."""
    now = _transcribe_key("cpu")
    monkeypatch.setattr(C, "BATCHED_PATIENCE", 1.0)
    assert _transcribe_key("cpu") != now


def test_a_batch_made_before_a_change_of_the_recognisers_decisions_is_transcribed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The refill (RECOGNITION_REVISION 3) changes the text of some windows: a transcription
    made before it is not kept on resume, whether speech alone or speech and picture were
    read; one read from the picture alone (--source ocr) does not depend on it."""
    now = {source: _transcribe_key("cpu", source=source) for source in ("asr", "auto", "ocr")}
    assert now["asr"][1]["revision"] == now["auto"][1]["revision"] == C.RECOGNITION_REVISION
    assert "revision" not in now["ocr"][1]
    monkeypatch.setattr(C, "RECOGNITION_REVISION", C.RECOGNITION_REVISION + 1)
    assert _transcribe_key("cpu") != now["asr"]
    assert _transcribe_key("cpu", source="auto") != now["auto"]
    assert _transcribe_key("cpu", source="ocr") == now["ocr"]


def test_only_the_long_window_warning_of_faster_whisper_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its warning for a window 0.3 s past 30 s would break the one-line output on every
    long programme; an English-only model's warning must still be seen."""
    import logging

    from dubkit.adapters.whisper import _quiet_long_window_warning

    _quiet_long_window_warning()
    _quiet_long_window_warning()  # each model load: one filter all the same
    log = logging.getLogger("faster_whisper")
    assert len(log.filters) == 1
    with caplog.at_level(logging.WARNING, logger="faster_whisper"):
        log.warning("Segment %d is longer than 30 seconds, only the first 30 seconds ...", 3)
        log.warning("The current model is English-only but the language parameter is set")
    assert [r.getMessage()[:24] for r in caplog.records] == ["The current model is Eng"]


def _transcriber(cpu_threads: int = 0) -> Any:
    """A WhisperTranscriber around a stand-in model (its `model` the CTranslate2 one)."""
    from dubkit.adapters.ct2 import DeviceChoice
    from dubkit.adapters.whisper import WhisperTranscriber

    model = SimpleNamespace(model="model 0", find_alignment=None, encode=None)
    return WhisperTranscriber(
        model, "whisper:base", Path("/models/base"), DeviceChoice("cpu", "int8"), cpu_threads
    )


def test_a_programme_after_one_that_sampled_gets_a_model_with_fresh_samplers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CTranslate2 seeds each thread's sampler once: after a decode that may have sampled the
    model is loaded again, on the same device, type and threads, the seed set first; not
    otherwise."""
    import ctranslate2

    from dubkit import constants as C

    loads: list[tuple[Any, ...]] = []
    seeds: list[int] = []
    monkeypatch.setattr(ctranslate2, "set_random_seed", seeds.append)
    monkeypatch.setattr(
        ctranslate2.models,
        "Whisper",
        lambda path, **kw: loads.append((path, kw)) or f"model {len(loads)}",
    )
    transcriber = _transcriber(cpu_threads=2)
    model = transcriber.model
    transcriber.restart_sampler()
    assert model.model == "model 0" and not loads  # nothing drawn yet: nothing to redo
    transcriber.sampled = True
    transcriber.restart_sampler()
    assert model.model == "model 1" and not transcriber.sampled
    assert loads == [
        ("/models/base", {"device": "cpu", "compute_type": "int8", "intra_threads": 2})
    ]
    assert seeds == [C.ASR_SAMPLING_SEED]


def test_a_failed_reload_says_so_and_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctranslate2

    from dubkit.errors import ModelUnavailable

    def gone(path: str, **kw: Any) -> Any:
        raise RuntimeError("Unable to open file 'model.bin' in model '/models/base'")

    monkeypatch.setattr(ctranslate2.models, "Whisper", gone)
    transcriber = _transcriber()
    transcriber.sampled = True
    with pytest.raises(ModelUnavailable, match=r"cannot load the model again.*models pull"):
        transcriber.restart_sampler()
    assert transcriber.sampled  # the next programme tries again


def test_no_programme_reloads_the_model_under_another(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads sharing one transcriber (a Dask worker with several threads): the model is
    loaded again only when no programme is being transcribed."""
    import threading

    transcriber = _transcriber()
    inside, leave = threading.Event(), threading.Event()
    restarts: list[int] = []

    def decode(*args: Any) -> Any:
        transcriber.sampled = True  # each programme's decodes sample
        if not inside.is_set():  # the first programme stays in until told to leave
            inside.set()
            assert leave.wait(10)
        return "transcript"

    monkeypatch.setattr(transcriber, "_transcribe", decode)
    monkeypatch.setattr(transcriber, "restart_sampler", lambda: restarts.append(1))
    first = threading.Thread(target=transcriber.transcribe, args=(None, None))
    first.start()
    assert inside.wait(10)
    transcriber.transcribe(None, None)  # type: ignore[arg-type]  # while the first runs
    assert len(restarts) == 1  # the first's, before it began; none under it
    leave.set()
    first.join(10)
    transcriber.transcribe(None, None)  # type: ignore[arg-type]
    assert len(restarts) == 2
