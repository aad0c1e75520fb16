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
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubkit import constants as C
from dubkit.asr import guard
from dubkit.asr.recognise import DecodeRequest, RecogniseSettings, recognise
from dubkit.asr.windows import SpeechMap, speech_chunks
from dubkit.records import DecodedAudio, Segment, Word
from tests.conftest import run_ffmpeg

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

    x = np.tile(seminar, 5)[: 10_000 * FRAME + 700 * FRAME + 30]
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
    minute, hour = tmp_path / "minute.flac", tmp_path / "half-hour.mka"
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", "sine=f=440:r=16000", "-t", "60",
               "-c:a", "flac", "-frame_size", "32768", minute.as_posix())  # fmt: skip
    run_ffmpeg(ffmpeg, "-stream_loop", "29", "-i", minute.as_posix(), "-c", "copy",
               hour.as_posix())  # fmt: skip
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "import av, numpy\n"
        "from dubkit.adapters.audio import spool_audio\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
        "with spool_audio(Path(sys.argv[1])) as audio:\n"
        "    n = len(audio.samples)\n"
        "    last = audio.samples[n - 16_000 : n]\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
        "print(n, round(float(abs(last).max()), 3), before, after)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(hour)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    n, peak, before, after = done.stdout.split()
    assert int(n) == 1800 * C.SAMPLE_RATE and float(peak) > 0.1  # all of it, to its end
    assert int(after) - int(before) < 20, done.stdout


# ------------------------------------------------------------------ recognition in blocks


@dataclass
class _Scripted:
    """A WindowDecoder whose windows say what `say` gives; every request recorded."""

    speech: SpeechMap
    say: Any
    requests: list[DecodeRequest] = field(default_factory=list)

    def decode(self, request: DecodeRequest) -> list[tuple[Segment, ...]]:
        self.requests.append(request)
        out = []
        for a, b in request.windows:
            text = self.say(request, (a, b))
            step = (b - a) // max(1, len(text))
            words = tuple(Word(ch, a + k * step, a + (k + 1) * step) for k, ch in enumerate(text))
            out.append((Segment(text, a, b, words),) if text else ())
        return out

    def count_tokens(self, text: str) -> int:
        return len(text)


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

    decoder = _Scripted(speech, say)
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


class _Counted:
    """Samples read through slices, the longest slice remembered."""

    def __init__(self, samples: Any) -> None:
        self.samples, self.longest = samples, 0

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: slice) -> Any:
        got = self.samples[key]
        self.longest = max(self.longest, len(got))
        return got


@pytest.mark.slow
def test_a_programme_decoded_in_blocks_is_decoded_as_whole(
    assets: Path, transcriber: Any, tmp_path: Path
) -> None:
    """A 100 s programme (the seminar between two terminology clips), spooled and decoded in
    blocks of two windows, gives exactly the segments, words, times, flags, glossary biasing
    and window reports that the same programme gives held whole in memory; the windows are
    those planned over faster-whisper's VAD of the whole programme, and no read takes more
    than a block's sound (or the VAD's 320 s piece)."""
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
    terms = load_terms([Path(__file__).parent / "data" / "zh-dev-terms.yaml"])
    bias = BiasTerms.from_glossary(
        terms, pinyin_readings, split_dictionary_words, pinyin_alternatives
    )
    options = TranscribeOptions(batch_size=2)

    in_memory = DecodedAudio(path, whole, None)
    as_whole = transcriber.transcribe(in_memory, options, bias=bias)
    with spool_audio(path) as spooled:
        counted = _Counted(spooled.samples)
        decoder = transcriber.open(DecodedAudio(path, counted, None), options)
        in_blocks = transcriber.transcribe(DecodedAudio(path, counted, None), options, bias=bias)

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
    block = max(b - a for a, b in chunks) + 2 * 30 * C.SAMPLE_RATE
    assert counted.longest <= max(10_000 * FRAME, block)


@pytest.mark.slow
def test_a_window_past_30_s_is_heard_for_30_s_and_does_not_crash(
    assets: Path, base_model_dir: Path
) -> None:
    """The planner lets a window run up to 300 ms of VAD padding past 30 s. Handed whole to
    the batched pipeline, which rounds a clip's length up to whole seconds, word alignment
    was told of 3,100 frames against the encoder's 3,000, and ctranslate2 read past its
    buffer: a segfault or a corrupted heap on programmes of a few minutes (not on every
    window: the frames alignment is given are checked). In a child process, so that a
    crash is a failure."""
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
    assert count > 0 and 25_000 < end <= 30_000
