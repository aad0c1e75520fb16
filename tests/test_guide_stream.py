"""The guide track made a piece at a time equals the guide made from the whole programme.

Each streamed part (loudness, true peak, limiter, ducking, scratch voice) is checked against
the same computation over the whole array, on pieces small enough to split every window; the
whole guide track, made in half-second pieces, against a whole-array guide computed here; and
its memory on a long programme.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubkit.adapters import dubaudio
from dubkit.adapters.dubaudio import GuideReport, write_guide_track
from dubkit.errors import MediaError, OutputError
from dubkit.records import Cue
from tests.conftest import looped_flac, measured_child
from tests.test_dubaudio import (
    CPEC,
    LONG_URDU,
    SEMINAR,
    SEMINAR_CUES,
    SHORT_URDU,
    _once_per_input,
    cue,
    urdu_espeak,
)

# ------------------------------------------------------------------ whole-array reference


def whole_lufs(samples: Any, rate: int) -> float | None:
    """pyloudnorm over the whole array, rounded as the guide reports it."""
    import pyloudnorm

    meter = pyloudnorm.Meter(rate)
    if samples.shape[0] < meter.block_size * rate:
        return None
    value = float(meter.integrated_loudness(samples))
    return round(value, 2) if math.isfinite(value) else None


def whole_true_peak(samples: Any, rate: int) -> float:
    """4x oversampled peak of the whole array in one resample_poly call."""
    import numpy as np
    from scipy.signal import resample_poly

    peak = float(np.max(np.abs(samples)))
    if rate >= 96_000:
        return peak
    return max(peak, float(np.max(np.abs(resample_poly(samples, 4, 1, axis=0)))))


def whole_limiter_gain(x: Any, rate: int) -> Any:
    import numpy as np
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    amp = np.max(np.abs(x), axis=1)
    need = np.minimum(1.0, dubaudio._LIMITER_CEILING / np.maximum(amp, 1e-12)).astype(np.float32)
    attack, release = max(1, int(0.005 * rate)), max(1, int(0.08 * rate))
    held = minimum_filter1d(need, size=attack + release, origin=(release - attack) // 2)
    return np.minimum(uniform_filter1d(held, size=attack), need)


def whole_duck_gain(
    frames: int, rate: int, cues: Sequence[Cue], duck_db: float, fade_ms: int
) -> Any:
    import numpy as np

    depth = np.zeros(frames, dtype=np.float32)
    fade = rate * fade_ms // 1000
    ramp = np.linspace(0.0, 1.0, fade + 2, dtype=np.float32)[1:-1]
    for c in cues:
        start = min(frames, c.start_ms * rate // 1000)
        end = min(frames, c.end_ms * rate // 1000)
        depth[start:end] = 1.0
        head = depth[max(0, start - fade) : start]
        np.maximum(head, ramp[fade - len(head) :], out=head)
        tail = depth[end : end + fade]
        np.maximum(tail, ramp[::-1][: len(tail)], out=tail)
    return np.power(np.float32(10.0), depth * np.float32(duck_db / 20)).astype(np.float32)


@dataclass(frozen=True)
class Whole:
    pcm: Any  # int16 (frames, channels)
    before: float | None
    after: float | None
    gain_db: float
    peak_dbfs: float
    limited: bool
    not_fitting: tuple[tuple[int, float], ...]


def whole_guide(
    media: Path,
    cues: Sequence[Cue],
    *,
    voice: bool = False,
    texts: Sequence[str] | None = None,
    target_lufs: float = -23.0,
    duck_db: float = -12.0,
    fade_ms: int = 80,
    max_tempo: float = 1.35,
) -> Whole:
    """The guide track computed over the whole programme at once, as it was made before it
    was streamed: decode all, mix all, measure all, limit all."""
    import numpy as np

    with dubaudio._audio_stream(media) as (rate, chunks):
        samples = np.concatenate(list(chunks))
    frames, channels = samples.shape
    mix = samples * whole_duck_gain(frames, rate, cues, duck_db, fade_ms)[:, np.newaxis]
    not_fitting: list[tuple[int, float]] = []
    if voice:
        programme = dubaudio._Programme(media, rate, channels, frames)
        espeak, ffmpeg = dubaudio._espeak_path(), dubaudio.ffmpeg_path()
        track = np.zeros_like(samples)
        lines = list(texts) if texts is not None else [" ".join(c.lines) for c in cues]
        order = sorted(range(len(cues)), key=lambda i: (cues[i].start_ms, cues[i].index))
        for pos, i in enumerate(order):
            text = " ".join(lines[i].split())
            if not text:
                continue
            with tempfile.TemporaryDirectory() as work:
                speech, speech_rate = dubaudio._speak(espeak, text, Path(work))
            if len(speech) == 0:
                continue
            needed = dubaudio._needed_tempo(len(speech) / speech_rate, cues[i].duration_ms / 1000)
            if needed > max_tempo:
                not_fitting.append((cues[i].index, round(needed, 3)))
            fitted = dubaudio._fit(ffmpeg, speech, speech_rate, min(needed, max_tempo), programme)
            next_ms = cues[order[pos + 1]].start_ms if pos + 1 < len(order) else None
            start, placed = dubaudio._place(fitted, programme, cues[i], next_ms)
            track[start : start + len(placed)] += placed
        original, level = whole_lufs(samples, rate), whole_lufs(track, rate)
        target = target_lufs if original is None else original
        mix += track * (1.0 if level is None else float(10 ** ((target - level) / 20)))
    before = whole_lufs(mix, rate)
    gain_db, limited = 0.0, False
    if before is not None:
        gain_db = target_lufs - before
        peak_db = dubaudio._db(whole_true_peak(mix, rate))
        if peak_db + gain_db > -1.0:
            gain_db, limited = -1.0 - peak_db, True
    if limited and before is not None:
        gain_db = target_lufs - before
        for _ in range(6):
            scale = np.float32(10 ** (gain_db / 20))
            limited_mix = mix * whole_limiter_gain(mix * scale, rate)[:, np.newaxis]
            loudness = whole_lufs(limited_mix * scale, rate)
            if loudness is None or abs(target_lufs - loudness) < 0.1:
                break
            gain_db += target_lufs - loudness
        mix = limited_mix
    pcm = np.clip(np.round(mix * np.float32(10 ** (gain_db / 20)) * 32768.0), -32768, 32767)
    pcm = pcm.astype(np.int16)
    written = pcm.astype(np.float32) / 32768.0
    return Whole(
        pcm=pcm,
        before=before,
        after=whole_lufs(written, rate),
        gain_db=round(gain_db, 2),
        peak_dbfs=dubaudio._db(whole_true_peak(written, rate)),
        limited=limited,
        not_fitting=tuple(sorted(not_fitting)),
    )


def read_pcm(path: Path) -> Any:
    import numpy as np

    with wave.open(str(path), "rb") as reader:
        data = reader.readframes(reader.getnframes())
        return np.frombuffer(data, dtype=np.int16).reshape(-1, reader.getnchannels())


def assert_same_guide(report: GuideReport, whole: Whole) -> None:
    """Samples within one LSB (float rounding), every measurement within its last digit."""
    import numpy as np

    pcm = read_pcm(report.path)
    assert pcm.shape == whole.pcm.shape
    differ = np.abs(pcm.astype(np.int32) - whole.pcm.astype(np.int32))
    assert differ.max() <= 1 and np.count_nonzero(differ) <= pcm.size // 10_000
    assert report.limited == whole.limited
    assert report.lines_not_fitting == whole.not_fitting
    for name, value in [
        ("loudness_before", whole.before),
        ("loudness_after", whole.after),
        ("gain_db", whole.gain_db),
        ("peak_dbfs", whole.peak_dbfs),
    ]:
        got = getattr(report, name)
        assert (got is None) == (value is None), name
        assert got is None or got == pytest.approx(value, abs=0.011), name


# ------------------------------------------------------------------ the guide track whole


def make_programme(out: Path, rate: int, channels: int, seconds: int) -> Path:
    """Tone and noise stepping in level every 1.3 s, peaking near full scale: loud enough
    for -5 LUFS to need the limiter, uneven enough that every block and gate counts.

    16-bit PCM in packets of 4,096 samples, as a WAV file holds and decodes it, in Matroska
    (`out` is .mka), written here with PyAV: opening a WAV makes FFmpeg read into it to find
    the stream's parameters (50 ms an open at 48 kHz stereo, and each pass of each guide
    opens the programme), where Matroska states them in its header; and ffmpeg's aevalsrc
    took 0.3 s to evaluate the samples that numpy computes in a few milliseconds."""
    import av
    import numpy as np

    t = np.arange(seconds * rate) / rate
    level = 0.35 + 0.3 * np.mod(np.floor(t / 1.3), 3)
    noise = np.random.default_rng(0).uniform(-1.0, 1.0, len(t))
    left = level * (0.8 * np.sin(2 * np.pi * 440 * t) + 0.2 * noise)
    right = 0.3 * np.sin(2 * np.pi * 660 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.3 * t))
    pcm = np.round(np.stack([left, right][:channels], axis=1) * 32767).astype(np.int16)
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(out), "w", format="matroska") as container:
        stream = container.add_stream("pcm_s16le", rate=rate, layout=layout)
        for at in range(0, len(pcm), 4096):
            packed = np.ascontiguousarray(pcm[at : at + 4096]).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(packed, format="s16", layout=layout)
            frame.sample_rate, frame.pts = rate, at
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out


# Both programmes are made without ffmpeg, but the tests that take them need it (the voice's
# lines are fitted with it): they are skipped locally, and fail in CI, where it is missing.
@pytest.fixture(scope="module")
def stereo(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_programme(tmp_path_factory.mktemp("s") / "stereo.mka", 48_000, 2, 7)


@pytest.fixture(scope="module")
def mono(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_programme(tmp_path_factory.mktemp("m") / "mono.mka", 44_100, 1, 7)


# Cues whose edges and fades fall across the pieces (half-second, 0.37 s and 1.3 s) with no
# other cue's fade covering them, and at a 300 ms fade overlap and reach past the programme's
# start and end; cue 2's long line runs on across several pieces and is cut at cue 3's start;
# cue 3's line fits, sped up; cue 4's does not, and runs on past its cue to before cue 5's
# start; cue 5's long line is cut at the programme's end (7 s).
STREAM_CUES = (
    cue(1, 260, 940),
    cue(2, 1480, 2020),
    cue(3, 2620, 5010),
    cue(4, 5230, 6240),
    cue(5, 6530, 6960),
)
STREAM_TEXTS = ("", LONG_URDU, CPEC, SHORT_URDU, LONG_URDU)


@pytest.mark.parametrize(
    ("which", "piece_s", "kwargs"),
    [
        ("stereo", 0.5, {}),
        ("stereo", 0.5, {"target_lufs": -5.0}),
        ("stereo", 0.37, {"target_lufs": -5.0, "voice": True}),
        ("mono", 0.5, {"target_lufs": -5.0, "voice": True, "duck_db": -20.0, "fade_ms": 300}),
        ("mono", 1.3, {"voice": True}),
    ],
)
def test_guide_made_in_pieces_equals_the_guide_made_whole(
    which: str,
    piece_s: float,
    kwargs: dict[str, Any],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """7 s in 6 to 19 pieces: the samples and every report field are those of the guide
    made whole, limited or not, with the voice or without, mono or stereo."""
    media: Path = request.getfixturevalue(which)
    if kwargs.get("voice"):
        urdu_espeak()
        kwargs = {**kwargs, "texts": STREAM_TEXTS}
    _once_per_input(monkeypatch)  # the same lines are spoken for both guides
    monkeypatch.setattr(dubaudio, "GUIDE_PIECE_S", piece_s)
    report = write_guide_track(media, STREAM_CUES, tmp_path / "guide.wav", **kwargs)
    whole = whole_guide(media, STREAM_CUES, **kwargs)
    print(f"{which} in {piece_s} s pieces: {report}")
    assert report.limited == (kwargs.get("target_lufs") == -5.0)
    assert report.voice == bool(kwargs.get("voice"))
    if report.voice:
        assert {2, 5} <= {index for index, _ in report.lines_not_fitting}
    assert_same_guide(report, whole)


@pytest.mark.assets
def test_shared_recording_in_pieces_equals_it_whole(
    assets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real speech, 70 s in the default pieces, with the voice and the limiter."""
    urdu_espeak()
    media, cues = assets / SEMINAR, SEMINAR_CUES
    _once_per_input(monkeypatch)
    report = write_guide_track(media, cues, tmp_path / "guide.wav", voice=True)
    assert report.limited and report.voice
    assert_same_guide(report, whole_guide(media, cues, voice=True))


# ------------------------------------------------------------------ the streamed parts


def signal(seed: int, frames: int, channels: int, silent_from: float = 1.0) -> Any:
    """Noise whose level jumps every 1/40 to 1/6 of its length (some stretches far under the
    gates), and digital silence from `silent_from` of its length on."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = rng.standard_normal((frames, channels)).astype(np.float32)
    at = 0
    while at < frames:
        length = int(rng.integers(frames // 40 + 1, frames // 6 + 2))
        out[at : at + length] *= np.float32(10 ** (rng.uniform(-90, 0) / 20))
        at += length
    out[int(frames * silent_from) :] = 0.0
    return out


def split(samples: Any, cuts: list[int]) -> list[Any]:
    """The samples cut at the given points (sorted, clamped, repeats making empty pieces)."""
    points = sorted(min(max(c, 0), len(samples)) for c in cuts)
    edges = [0, *points, len(samples)]
    return [samples[a:b] for a, b in itertools.pairwise(edges)]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rate=st.sampled_from([8_000, 16_000, 44_100, 48_000]),
    seconds=st.floats(0.35, 3.2),
    channels=st.sampled_from([1, 2]),
    silent_from=st.sampled_from([1.0, 0.5, 0.0]),
    cuts=st.lists(st.floats(0.0, 1.0), max_size=12),
)
def test_streamed_loudness_equals_pyloudnorm_on_the_whole(
    seed: int,
    rate: int,
    seconds: float,
    channels: int,
    silent_from: float,
    cuts: list[float],
) -> None:
    """Block by block: the same gating blocks (75 % overlap, the last ones running past the
    end) and the same K-weighted energies, however the pieces fall; so the same loudness."""
    import numpy as np
    import pyloudnorm

    frames = int(seconds * rate)
    samples = signal(seed, frames, channels, silent_from)
    meter = dubaudio._Loudness(rate)
    for piece in split(samples, [int(c * frames) for c in cuts]):
        meter.feed(piece)
    got = meter.result()
    assert got == whole_lufs(samples, rate)  # the same to the last digit reported
    if got is None and frames < 0.4 * rate:
        return
    reference = pyloudnorm.Meter(rate)
    reference.integrated_loudness(samples)
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(np.concatenate(meter._blocks).sum(axis=1))
    expected = np.array(reference.blockwise_loudness)
    assert levels.shape == expected.shape
    assert np.allclose(levels, expected, rtol=1e-9, atol=0, equal_nan=True)


@pytest.mark.assets
def test_streamed_loudness_of_real_recordings(assets: Path) -> None:
    """Speech and song from ../shared/assets, mono and made stereo, in ragged pieces."""
    import numpy as np

    names = ["zh-long/funasr_vad_example_70s.wav", "zh-dev/funasrnano_lyrics_3.wav"]
    for name in names:
        with dubaudio._audio_stream(assets / name) as (rate, chunks):
            mono = np.concatenate(list(chunks))
        for samples in (mono, np.hstack([mono, 0.5 * mono[::-1]])):
            meter = dubaudio._Loudness(rate)
            for piece in split(samples, list(range(0, len(samples), 7_919))):
                meter.feed(piece)
            assert meter.result() == whole_lufs(samples, rate), name


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rate=st.sampled_from([8_000, 48_000, 96_000]),
    frames=st.integers(1, 3_000),
    channels=st.sampled_from([1, 2]),
    cuts=st.lists(st.integers(0, 3_000), max_size=8),
)
def test_streamed_true_peak_equals_oversampling_the_whole(
    seed: int, rate: int, frames: int, channels: int, cuts: list[int]
) -> None:
    """Bursts near the Nyquist frequency, each louder than the last, their peaks between the
    samples, each cut through by a piece's edge: the peak is the whole array's."""
    import numpy as np

    rng = np.random.default_rng(seed)
    samples = (0.05 * rng.standard_normal((frames, channels))).astype(np.float32)
    burst = np.array([1, -1, 1, 1, -1, 1], dtype=np.float32)
    starts = sorted(int(at) for at in rng.integers(0, frames, 3))
    for height, at in zip((0.3, 0.6, 0.9), starts, strict=True):
        part = samples[at : at + len(burst)]
        part[:] = height * burst[: len(part), np.newaxis]
    peak = dubaudio._TruePeak(rate)
    for piece in split(samples, cuts + [at + 3 for at in starts]):
        peak.feed(piece)
    assert peak.result() == pytest.approx(whole_true_peak(samples, rate), rel=1e-6)


@settings(max_examples=150, deadline=None)
@given(
    size=st.integers(1, 60),
    origin_at=st.floats(0.0, 1.0),
    frames=st.integers(1, 400),
    cuts=st.lists(st.integers(0, 400), max_size=10),
    seed=st.integers(0, 2**32 - 1),
)
def test_sliding_filters_over_a_stream_equal_them_over_the_whole(
    size: int, origin_at: float, frames: int, cuts: list[int], seed: int
) -> None:
    """Windows reaching past either edge of a piece, and past the stream's ends (reflected)."""
    import numpy as np
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    origin = -(size // 2) + int(origin_at * (size - 1))
    x = np.random.default_rng(seed).random(frames).astype(np.float32)
    for apply in (
        lambda v: minimum_filter1d(v, size=size, origin=origin),
        lambda v: uniform_filter1d(v, size=size, origin=origin),
    ):
        sliding = dubaudio._Sliding(apply, size, origin)
        got = [sliding.feed(piece) for piece in split(x, cuts)]
        got.append(sliding.finish())
        assert np.allclose(np.concatenate(got), apply(x), rtol=1e-6, atol=1e-7)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    scale_db=st.floats(0.0, 30.0),
    cuts=st.lists(st.integers(0, 24_000), max_size=10),
)
def test_streamed_limiter_equals_the_limiter_over_the_whole(
    seed: int, scale_db: float, cuts: list[int]
) -> None:
    """The look-ahead reaches into the next piece and the release back into the last."""
    import numpy as np

    rate = 8_000
    samples = signal(seed, 24_000, 2)
    scale = np.float32(10 ** (scale_db / 20))
    got = np.concatenate(list(dubaudio._limited(split(samples, cuts), rate, scale)))
    expected = samples * whole_limiter_gain(samples * scale, rate)[:, np.newaxis]
    assert np.allclose(got, expected, rtol=1e-6, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    spans=st.lists(st.tuples(st.integers(0, 3_000), st.integers(0, 1_500)), max_size=6),
    fade_ms=st.integers(0, 400),
    piece=st.integers(50, 9_000),
)
def test_ducking_in_pieces_equals_ducking_the_whole(
    spans: list[tuple[int, int]], fade_ms: int, piece: int
) -> None:
    import numpy as np

    rate, frames = 8_000, 32_000  # 4 s; cues overlap, fade past the ends, touch each other
    cues = tuple(cue(i, s, s + d) for i, (s, d) in enumerate(spans))
    ducking = dubaudio._Ducking(cues, -12.0, fade_ms)
    parts = []
    for start in range(0, frames, piece):
        count = min(piece, frames - start)
        gain = ducking.gain(rate, start, count)
        parts.append(np.ones(count, np.float32) if gain is None else gain)
    expected = whole_duck_gain(frames, rate, cues, -12.0, fade_ms)
    assert np.array_equal(np.concatenate(parts), expected)


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(st.tuples(st.integers(0, 900), st.integers(1, 400)), max_size=6),
    piece=st.integers(1, 700),
    channels=st.sampled_from([1, 2]),
)
def test_voice_track_in_pieces_equals_the_lines_added_whole(
    lines: list[tuple[int, int]], piece: int, channels: int
) -> None:
    import numpy as np

    frames = 1_000
    rng = np.random.default_rng(len(lines) * 1000 + piece)
    whole = np.zeros((frames, channels), np.float32)
    with tempfile.TemporaryFile() as store:
        track = dubaudio._VoiceTrack(store, channels)
        for start, length in lines:
            line = rng.standard_normal((min(length, frames - start), channels)).astype(np.float32)
            track.add(start, line)
            whole[start : start + len(line)] += line
        for start in range(0, frames, piece):
            got = track.piece(start, min(piece, frames - start))
            want = whole[start : start + piece]
            assert np.array_equal(np.zeros_like(want) if got is None else got, want)


def test_regrouped_pieces_are_the_chunks_in_order() -> None:
    import numpy as np

    chunks = [np.arange(n * 2, dtype=np.float32).reshape(-1, 2) + n for n in (3, 1, 7, 2, 5)]
    pieces = list(dubaudio._regroup(iter(chunks), 4))
    assert [len(p) for p in pieces] == [4, 4, 4, 4, 2]
    assert np.array_equal(np.concatenate(pieces), np.concatenate(chunks))


# ------------------------------------------------------------------ errors and memory


def test_a_programme_that_changes_between_passes_is_media_error(
    stereo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each pass decodes the programme again: one that decodes shorter (the file is being
    written, or was replaced) is refused rather than mixed out of step."""
    real_stream = dubaudio._audio_stream
    passes: list[int] = []

    def shorter_the_second_time(path: Path, **kwargs: Any) -> Any:
        passes.append(1)
        stream = real_stream(path, **kwargs)
        if len(passes) == 1:
            return stream

        class Shorter:
            def __enter__(self) -> Any:
                rate, chunks = stream.__enter__()
                return rate, (c[: len(c) // 2] for c in chunks)

            def __exit__(self, *exc: Any) -> Any:
                return stream.__exit__(*exc)

        return Shorter()

    monkeypatch.setattr(dubaudio, "_audio_stream", shorter_the_second_time)
    dest = tmp_path / "guide.wav"
    with pytest.raises(MediaError, match="changed while the guide track was being made"):
        write_guide_track(stereo, STREAM_CUES, dest)
    assert list(tmp_path.iterdir()) == []


def test_flac_encoder_failure_is_one_line_output_error(tmp_path: Path) -> None:
    """ffmpeg stops part-way: the error names the guide and gives ffmpeg's last line."""
    import numpy as np

    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\nhead -c 10 >/dev/null\necho 'Encoder flac: no' >&2\nexit 1\n")
    fake.chmod(0o755)
    pieces = (np.zeros((48_000, 2), np.int16) for _ in range(20))
    dest = tmp_path / "guide.flac"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dubaudio, "ffmpeg_path", lambda: str(fake))
        with pytest.raises(OutputError) as exc:
            dubaudio._write_pcm(pieces, tmp_path / "tmp.flac", "flac", 48_000, 2, shown=dest)
    message = str(exc.value)
    assert "\n" not in message and str(dest) in message and "Encoder flac: no" in message


def test_an_error_while_encoding_stops_ffmpeg(
    ffmpeg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mix fails part-way (a damaged packet): ffmpeg is stopped and reaped, the error
    goes on unchanged."""
    import numpy as np

    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def spy(*args: Any, **kwargs: Any) -> Any:
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    def pieces() -> Any:
        yield np.zeros((48_000, 2), np.int16)
        raise MediaError("programme.mkv: audio cannot be decoded (damaged packet)")

    monkeypatch.setattr(dubaudio.subprocess, "Popen", spy)
    dest = tmp_path / "guide.flac"
    with pytest.raises(MediaError, match="damaged packet"):
        dubaudio._write_pcm(pieces(), tmp_path / "tmp.flac", "flac", 48_000, 2, shown=dest)
    [proc] = started
    assert proc.returncode is not None


@pytest.mark.slow
def test_guide_of_a_long_programme_takes_little_memory(ffmpeg: str, tmp_path: Path) -> None:
    """Ten minutes of stereo took 1.55 GB at the peak when the guide was mixed whole (2.2 GB
    with sound in it; an hour, 9 to 13 GB): in pieces it takes what a two-second programme
    does. Five minutes, not an hour, to stay quick: an hour takes the same memory, in 16 s.
    The limit is under one more whole copy of these five minutes (float32 stereo, 115 MB)
    above the measured peak, so even a single whole read of the sound fails it; mixed whole
    (whole_guide here, in a measured child), they peak at 1,404 MB."""
    programme = looped_flac(ffmpeg, tmp_path, 5, "anullsrc=r=48000:cl=stereo")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from dubkit.adapters.dubaudio import write_guide_track\n"
        "from dubkit.records import Cue\n"
        "cues = [Cue(n + 1, n * 50_000 + 1_000, n * 50_000 + 4_000, ('x',)) for n in range(6)]\n"
        "report = write_guide_track(Path(sys.argv[1]), cues, Path(sys.argv[2]))\n"
        "print(report.duration_ms, peak())\n"
    )
    words = measured_child(script, str(programme), str(tmp_path / "guide.flac"))
    duration_ms, peak_mb = (int(v) for v in words[-2:])
    assert duration_ms == 300_000
    # measured: 167 MB for 5 or 10 minutes (an hour: 171 MB; a 2 s programme: 128 MB)
    # (read as VmHWM: ru_maxrss had kept the pytest worker's peak, 1,176 MB in a CI run)
    assert peak_mb < 250, f"peak {peak_mb} MB"
