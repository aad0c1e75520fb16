"""Audio for dubbing studios: reference clips of each line, and a guide track (pydub, pyloudnorm).

The programme's audio is decoded with PyAV at its own sample rate, mono or stereo as the source
(more channels are downmixed to stereo by FFmpeg's standard matrix), so the guide track has
exactly the programme's number of samples and no resampling touches the reference. The programme
is never held whole (an hour of stereo is 1.4 GB as float32): clips are cut as the audio streams
past, and the guide track is measured, mixed and written a piece at a time, decoding the programme
once for each pass. Files are 16-bit PCM (WAV, or FLAC for the guide) or MP3 for clips.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import subprocess
import tempfile
import warnings
import wave
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from dubkit.adapters.audio import check_media
from dubkit.adapters.render import ToolMissing, ffmpeg_path
from dubkit.errors import ConfigError, DubkitError, MediaError, OutputError
from dubkit.fsutil import (
    atomic_paths,
    check_creatable,
    replace_folder,
    scratch_error,
    staging_folder,
    write_error,
)
from dubkit.records import Cue

if TYPE_CHECKING:
    import numpy as np

HANDLES_MS = 250  # a quarter second either side: room for breaths and a cross-fade in the DAW
CLIP_FORMATS = ("wav", "mp3")
MP3_BITRATE = "192k"  # transparent enough for a reference clip, a tenth of the WAV's size
DUCK_DB = -12.0  # the original stays audible for timing, clearly under the dub
DUCK_FADE_MS = 80  # short enough to keep the cue's first syllable ducked, long enough not to click
MAX_TEMPO = 1.35  # beyond about a third faster, sped-up speech stops sounding like speech
TARGET_LUFS = -23.0  # EBU R128 programme loudness
TRUE_PEAK_CEILING_DBTP = -1.0  # EBU R128 maximum true peak
GUIDE_FORMATS = {".wav": "wav", ".flac": "flac"}  # lossless: the file holds the measured samples
URDU_VOICE = "ur"  # espeak-ng's Urdu voice (Debian espeak-ng-data)
# espeak-ng pads its output with silence; samples below -40 dBFS at either end are trimmed so
# that a line's length is its speech.
_VOICE_TRIM_LEVEL = 10 ** (-40 / 20)
_VOICE_TRUNCATE_FADE_MS = 10  # fade a voice cut at the next cue, so the cut does not click
_TRUE_PEAK_OVERSAMPLING = 4  # ITU-R BS.1770-4 Annex 2, for rates below 96 kHz
# The guide track is decoded, mixed, measured and written this many seconds at a time, so its
# memory does not grow with the programme (10 s of stereo is 3.8 MB as float32).
GUIDE_PIECE_S = 10.0
_PEAK_CONTEXT = 64  # samples each side of a stretch when oversampling (scipy's filter reaches 10)
_CLIP_NAME = re.compile(r"^\d{4,}\.(wav|mp3)$")
_ESPEAK_MISSING = "espeak-ng not found; run scripts/bootstrap.sh or apt-get install espeak-ng"


class GuideError(DubkitError):
    """The scratch voice for the guide track could not be synthesised or fitted."""


@dataclass(frozen=True, slots=True)
class GuideReport:
    """What write_guide_track wrote and measured. Loudness in LUFS, None when BS.1770 gating
    leaves nothing to measure (silence, or under 0.4 s); peak_dbfs is the true peak (dBTP)."""

    path: Path
    duration_ms: int
    sample_rate: int
    channels: int
    loudness_before: float | None
    loudness_after: float | None
    target_lufs: float
    gain_db: float
    peak_dbfs: float
    limited: bool  # the look-ahead limiter worked to keep the true peak under the ceiling
    lines_not_fitting: tuple[tuple[int, float], ...]  # (cue index, tempo it would need)
    voice: bool


@dataclass(frozen=True, slots=True)
class _Programme:
    """What a pass over the programme's audio found: its rate, channels (1 or 2) and length."""

    path: Path
    rate: int
    channels: int
    frames: int

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // self.rate

    def frame(self, ms: int) -> int:
        """The sample index at `ms`, clamped to the programme."""
        return max(0, min(self.frames, ms * self.rate // 1000))


# ------------------------------------------------------------------ reference clips


def write_clips(
    media: Path,
    cues: Sequence[Cue],
    outdir: Path,
    *,
    handles_ms: int = HANDLES_MS,
    fmt: str = "wav",
) -> list[Path]:
    """Cut each cue's original audio, with handles, to `outdir/NNNN.wav` (or .mp3), NNNN being
    the cue index as in the dubbing script.

    A clip spans [start - handles, end + handles], clamped to the programme: clips at its edges
    are shorter by what the clamp removed. The set is written to a hidden sibling folder and
    renamed into place, so a failure leaves the previous set (or none), never half a set.
    """
    _check_clip_options(cues, outdir, handles_ms, fmt)
    names = {cue.index: f"{cue.index:04d}.{fmt}" for cue in cues}
    tmp = _temp_dir(outdir)
    try:
        with _audio_stream(media) as (rate, chunks):
            spans = [
                (max(0, (c.start_ms - handles_ms) * rate // 1000),
                 max(0, (c.end_ms + handles_ms) * rate // 1000), c.index)
                for c in cues
            ]  # fmt: skip
            frames = 0
            for index, samples, decoded in _clip_samples(chunks, spans):
                name, frames = names[index], decoded
                _export(_segment(samples, rate), tmp / name, fmt, shown=outdir / name)
        _check_cues_inside(media, frames * 1000 // rate, cues)
        _publish_dir(tmp, outdir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already when published
    return [outdir / names[cue.index] for cue in cues]


def _clip_samples(
    chunks: Iterator[np.ndarray[Any, Any]], spans: Sequence[tuple[int, int, int]]
) -> Iterator[tuple[int, np.ndarray[Any, Any], int]]:
    """(key, samples[start:end], frames decoded so far) for each span (start, end, key), as
    soon as the decoded audio reaches its end: only the audio from the earliest span still
    waiting is held, never the programme (an hour of stereo is 1.3 GB as float32). At the
    end, spans past it get what there is, clamped as a slice is."""
    import numpy as np

    pending = sorted(spans)
    held: list[np.ndarray[Any, Any]] = []
    held_from = decoded = 0
    for chunk in chunks:
        held.append(chunk)
        decoded += len(chunk)
        ready = [s for s in pending if s[1] <= decoded]
        if not ready and pending and pending[0][0] < decoded:
            continue  # the earliest waiting span is being filled
        whole = np.concatenate(held) if len(held) > 1 else held[0]
        for start, end, key in ready:
            yield key, whole[max(0, start - held_from) : end - held_from], decoded
        pending = [s for s in pending if s[1] > decoded]
        keep = min([s[0] for s in pending if s[0] < decoded], default=decoded)
        held = [whole[max(0, keep - held_from) :]]
        held_from = max(held_from, keep)  # the frame held[0] starts at
    if decoded == 0:
        return
    whole = np.concatenate(held) if len(held) > 1 else held[0]
    for start, end, key in pending:
        yield key, whole[max(0, start - held_from) : max(0, end - held_from)], decoded


def _check_clip_options(cues: Sequence[Cue], outdir: Path, handles_ms: int, fmt: str) -> None:
    if fmt not in CLIP_FORMATS:
        raise ConfigError(f"clip format {fmt!r} is not supported; use one of {CLIP_FORMATS}")
    if handles_ms < 0:
        raise ConfigError(f"handles must be 0 ms or more, got {handles_ms}; use e.g. 250")
    seen: set[int] = set()
    for cue in cues:
        if cue.index in seen:
            raise ConfigError(
                f"cue index {cue.index} appears twice; clips are named by cue index, "
                f"so renumber the script",
            )
        seen.add(cue.index)
    if outdir.exists() and not outdir.is_dir():
        raise OutputError(f"{outdir}: exists and is not a folder; choose another", path=outdir)
    if outdir.is_dir():
        others = sorted(p.name for p in outdir.iterdir() if not _CLIP_NAME.match(p.name))
        if others:
            raise OutputError(
                f"{outdir}: holds files that are not clips ({', '.join(others[:3])}); the clip "
                f"set replaces the folder, so choose an empty or clips-only folder",
                path=outdir,
            )


def _temp_dir(outdir: Path) -> Path:
    try:
        return staging_folder(outdir)
    except OSError as exc:
        raise write_error(outdir, exc) from exc


def _publish_dir(tmp: Path, outdir: Path) -> None:
    """Rename the finished set into place; an older set is swapped out, then removed."""
    try:
        replace_folder(tmp, outdir)
    except OSError as exc:
        raise write_error(outdir, exc) from exc


# ------------------------------------------------------------------ guide track


def write_guide_track(
    media: Path,
    cues: Sequence[Cue],
    dest: Path,
    *,
    duck_db: float = DUCK_DB,
    fade_ms: int = DUCK_FADE_MS,
    voice: bool = False,
    texts: Sequence[str] | None = None,
    max_tempo: float = MAX_TEMPO,
    target_lufs: float = TARGET_LUFS,
) -> GuideReport:
    """Write the programme's audio, ducked by `duck_db` under every cue, optionally with a
    scratch Urdu voice (espeak-ng) in each cue's slot, normalised to `target_lufs`.

    The track has the programme's exact sample count, rate and channels (mono or stereo). With
    `voice`, each line is `texts[i]` (default: the cue's lines), sped up by up to `max_tempo` to
    fit its cue; a line that still does not fit runs on, at `max_tempo`, to the next cue's start,
    where it is cut, and is listed in `lines_not_fitting`. The voice sits at the original's
    loudness. Loudness is measured (ITU-R BS.1770) before and after one gain change; the gain is
    held back if the true peak would pass -1 dBTP, and the report says so.

    Memory does not grow with the programme: each pass (measuring the original for the voice,
    measuring the mix, each limiter pass, writing) decodes it again, GUIDE_PIECE_S at a time.
    """
    fmt = _check_guide_options(cues, dest, duck_db, fade_ms, voice, texts, max_tempo)
    if fmt != "wav":
        ffmpeg_path()  # ToolMissing with the fix now, not after the programme is mixed
    mix = _Mix(media, _Ducking(tuple(cues), duck_db, fade_ms))
    not_fitting: tuple[tuple[int, float], ...] = ()
    with contextlib.ExitStack() as stack:
        if voice:
            lines = list(texts) if texts is not None else [" ".join(c.lines) for c in cues]
            try:
                store = stack.enter_context(tempfile.TemporaryFile(prefix="dubkit-voice-"))
            except OSError as exc:
                raise scratch_error(exc, "the scratch voice's lines") from exc
            mix, not_fitting = _with_voice(mix, cues, lines, max_tempo, target_lufs, store)
        programme, before, peak = _measure_mix(mix)
        _check_cues_inside(media, programme.duration_ms, cues)
        mix = replace(mix, frames=programme.frames)
        gain_db, limited = _normalising_gain(peak, before, target_lufs)
        limiter_db = None
        if limited and before is not None:
            # Ducked dialogue leaves the loudness low and the peaks high: reach the target with
            # a look-ahead peak limiter rather than giving up loudness.
            limiter_db, gain_db = _limit_to_target(
                mix, programme, target_lufs - before, target_lufs
            )
        after, written_peak = _write_guide(mix, programme, limiter_db, gain_db, dest, fmt)
    return GuideReport(
        path=dest,
        duration_ms=programme.duration_ms,
        sample_rate=programme.rate,
        channels=programme.channels,
        loudness_before=before,
        loudness_after=after,
        target_lufs=target_lufs,
        gain_db=round(gain_db, 2),
        peak_dbfs=_db(written_peak),
        limited=limited,
        lines_not_fitting=not_fitting,
        voice=voice,
    )


def _check_guide_options(
    cues: Sequence[Cue],
    dest: Path,
    duck_db: float,
    fade_ms: int,
    voice: bool,
    texts: Sequence[str] | None,
    max_tempo: float,
) -> str:
    fmt = GUIDE_FORMATS.get(dest.suffix.lower())
    if fmt is None:
        raise ConfigError(
            f"{dest}: the guide track is written as {', '.join(GUIDE_FORMATS)}; name it so"
        )
    if dest.is_dir():
        raise OutputError(f"{dest}: is a folder; name the guide track's file", path=dest)
    check_creatable(dest)  # before the programme is decoded and mixed, not after
    if duck_db > 0:
        raise ConfigError(f"duck_db lowers the original, so it must be <= 0, got {duck_db}")
    if fade_ms < 0:
        raise ConfigError(f"fade must be 0 ms or more, got {fade_ms}; use e.g. {DUCK_FADE_MS}")
    if not max_tempo >= 1.0:
        raise ConfigError(f"max tempo must be 1.0 or more, got {max_tempo}; use e.g. {MAX_TEMPO}")
    if voice and texts is not None and len(texts) != len(cues):
        raise ConfigError(f"{len(texts)} voice texts for {len(cues)} cues; give one per cue")
    return fmt


@dataclass(frozen=True, slots=True)
class _Ducking:
    """Per-sample gain: duck_db over each cue, ramped (in dB) over fade_ms before and after it,
    so the whole cue is ducked; overlapping ramps keep the deeper duck."""

    cues: tuple[Cue, ...]
    duck_db: float
    fade_ms: int

    def gain(self, rate: int, start: int, count: int) -> np.ndarray[Any, Any] | None:
        """The gain over samples [start, start + count) of the programme; None where no cue
        reaches them (a gain of 1 throughout)."""
        import numpy as np

        depth = np.zeros(count, dtype=np.float32)
        lo, hi = count, 0  # the samples some cue reaches
        fade = rate * self.fade_ms // 1000
        ramp = np.linspace(0.0, 1.0, fade + 2, dtype=np.float32)[1:-1]  # rising, without its ends
        fall = ramp[::-1]

        def here(first: int, stop: int) -> slice:  # samples [first, stop) within this piece
            return slice(min(max(first - start, 0), count), min(max(stop - start, 0), count))

        for cue in self.cues:
            first, last = cue.start_ms * rate // 1000, cue.end_ms * rate // 1000
            if last + fade <= start or first - fade >= start + count:
                continue
            reach = here(first - fade, last + fade)
            lo, hi = min(lo, reach.start), max(hi, reach.stop)
            depth[here(first, last)] = 1.0
            head = here(first - fade, first)
            at = start + head.start - first + fade  # where in the ramp the head starts
            np.maximum(depth[head], ramp[at : at + head.stop - head.start], out=depth[head])
            tail = here(last, last + fade)
            at = start + tail.start - last
            np.maximum(depth[tail], fall[at : at + tail.stop - tail.start], out=depth[tail])
        if lo >= hi:
            return None
        gain = np.ones(count, dtype=np.float32)  # 10 ** 0, where the depth is 0
        gain[lo:hi] = np.power(np.float32(10.0), depth[lo:hi] * np.float32(self.duck_db / 20))
        return gain


@dataclass(frozen=True)
class _Mix:
    """The guide's mix before its gain: the original ducked under every cue, plus the scratch
    voice at `voice_gain`. It is made afresh, a piece at a time, on every pass."""

    media: Path
    ducking: _Ducking
    voice: _VoiceTrack | None = None
    voice_gain: float = 1.0
    frames: int | None = None  # the programme's length once a pass has counted it

    @contextlib.contextmanager
    def stream(self) -> Iterator[tuple[int, Iterator[np.ndarray[Any, Any]]]]:
        """(rate, pieces of the mix shaped (frames, channels)), decoding the programme."""
        with _audio_stream(self.media, checked=self.frames is not None) as (rate, chunks):
            yield rate, self._pieces(rate, chunks)

    def _pieces(
        self, rate: int, chunks: Iterator[np.ndarray[Any, Any]]
    ) -> Iterator[np.ndarray[Any, Any]]:
        import numpy as np

        start = 0
        for piece in _regroup(chunks, _piece_frames(rate)):
            gain = self.ducking.gain(rate, start, len(piece))
            mix = piece if gain is None else piece * gain[:, np.newaxis]
            voice = None if self.voice is None else self.voice.piece(start, len(piece))
            if voice is not None:
                mix = mix + voice * self.voice_gain  # not in place: `piece` is the decoder's
            start += len(piece)
            yield mix
        if self.frames is not None and start != self.frames:
            raise MediaError(
                f"{self.media}: changed while the guide track was being made (now {start} "
                f"samples, {self.frames} before); make the guide again once the file is complete",
                path=self.media,
            )


def _measure_mix(mix: _Mix) -> tuple[_Programme, float | None, float]:
    """One pass: the programme's rate, channels and length, and the mix's loudness and true
    peak (linear)."""
    with mix.stream() as (rate, pieces):
        loudness, peak = _Loudness(rate), _TruePeak(rate)
        for piece in pieces:
            loudness.feed(piece)
            peak.feed(piece)
    programme = _Programme(mix.media, rate, loudness.channels, loudness.frames)
    return programme, loudness.result(), peak.result()


def _normalising_gain(peak: float, loudness: float | None, target: float) -> tuple[float, bool]:
    """The gain to `target`, lowered if it would push the true peak (linear) over the ceiling."""
    if loudness is None:
        return 0.0, False  # nothing measurable to normalise: leave silence alone
    gain = target - loudness
    peak_db = _db(peak)
    if peak_db + gain > TRUE_PEAK_CEILING_DBTP:
        return TRUE_PEAK_CEILING_DBTP - peak_db, True
    return gain, False


_LIMITER_MARGIN_DB = 1.5  # sample ceiling below the true-peak ceiling (inter-sample peaks)
_LIMITER_CEILING = 10 ** ((TRUE_PEAK_CEILING_DBTP - _LIMITER_MARGIN_DB) / 20)
_LIMITER_ATTACK_S = 0.005
_LIMITER_RELEASE_S = 0.08


def _limited(
    pieces: Iterable[np.ndarray[Any, Any]], rate: int, scale: np.float32
) -> Iterator[np.ndarray[Any, Any]]:
    """The mix with a per-sample gain (<= 1) that keeps |mix * scale| under the limiter's
    ceiling: the needed reduction held over the attack window ahead and the release window
    behind, then smoothed. The mix comes out as soon as the look-ahead past it has come in."""
    import numpy as np
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    attack = max(1, int(_LIMITER_ATTACK_S * rate))
    release = max(1, int(_LIMITER_RELEASE_S * rate))
    size, origin = attack + release, (release - attack) // 2
    hold = _Sliding(lambda x: minimum_filter1d(x, size=size, origin=origin), size, origin)
    smooth = _Sliding(lambda x: uniform_filter1d(x, size=attack), attack, 0)
    waiting: list[np.ndarray[Any, Any]] = []  # mix not yet given out, and its needed gain
    needs: list[np.ndarray[Any, Any]] = []

    def give(gain: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        mix, need = np.concatenate(waiting), np.concatenate(needs)
        n = len(gain)
        waiting[:], needs[:] = [mix[n:]], [need[n:]]
        limited: np.ndarray[Any, Any] = mix[:n] * np.minimum(gain, need[:n])[:, np.newaxis]
        return limited

    for piece in pieces:
        amp = np.max(np.abs(piece * scale), axis=1)
        need = np.minimum(1.0, _LIMITER_CEILING / np.maximum(amp, 1e-12)).astype(np.float32)
        waiting.append(piece)
        needs.append(need)
        gain = smooth.feed(hold.feed(need))
        if len(gain):
            yield give(gain)
    rest = np.concatenate([smooth.feed(hold.finish()), smooth.finish()])
    if len(rest):
        yield give(rest)


def _limit_to_target(
    mix: _Mix, programme: _Programme, gain_db: float, target: float
) -> tuple[float, float]:
    """Gain to the target loudness with the peaks limited under the true-peak ceiling; the
    loudness lost to limiting is made up in a few measured passes. Returns the gain the
    limiter works at (its input is the mix at that gain) and the final gain."""
    import numpy as np

    limiter_db = gain_db
    for _ in range(6):
        limiter_db = gain_db
        scale = np.float32(10 ** (gain_db / 20))
        loudness = _Loudness(programme.rate)
        with mix.stream() as (rate, pieces):
            for piece in _limited(pieces, rate, scale):
                loudness.feed(piece * scale)
        measured = loudness.result()
        if measured is None or abs(target - measured) < 0.1:
            break
        gain_db += target - measured
    return limiter_db, gain_db


def _write_guide(
    mix: _Mix,
    programme: _Programme,
    limiter_db: float | None,
    gain_db: float,
    dest: Path,
    fmt: str,
) -> tuple[float | None, float]:
    """The last pass: the mix (limited at `limiter_db`, if any) at `gain_db`, written to dest
    as 16-bit PCM; the loudness and true peak (linear) of what the file holds, not the plan."""
    import numpy as np

    loudness, peak = _Loudness(programme.rate), _TruePeak(programme.rate)
    gain = np.float32(10 ** (gain_db / 20))

    def pcm(pieces: Iterable[np.ndarray[Any, Any]]) -> Iterator[np.ndarray[Any, Any]]:
        for piece in pieces:
            samples = _to_pcm16(piece * gain)
            written = samples.astype(np.float32) / 32768.0
            loudness.feed(written)
            peak.feed(written)
            yield samples

    with mix.stream() as (rate, pieces):
        if limiter_db is not None:
            pieces = _limited(pieces, rate, np.float32(10 ** (limiter_db / 20)))
        _export_pcm(pcm(pieces), dest, fmt, programme)
    return loudness.result(), peak.result()


class _Sliding:
    """A scipy.ndimage 1-D filter of `size` at `origin` (mode 'reflect') run over a stream,
    with the values it has over the whole stream: an output waits for the samples its window
    reaches ahead, and the samples it reaches behind are kept for the next piece."""

    def __init__(
        self, apply: Callable[[np.ndarray[Any, Any]], np.ndarray[Any, Any]], size: int, origin: int
    ) -> None:
        self._apply = apply
        self._behind = size // 2 + origin  # output i sees inputs [i - behind, i + ahead]
        self._ahead = size - 1 - self._behind
        self._held: np.ndarray[Any, Any] | None = None
        self._held_from = 0  # the stream's sample that _held starts at
        self._done = 0  # outputs given so far

    def feed(self, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The outputs that `x` completes (none, some, or more than len(x))."""
        import numpy as np

        held = x if self._held is None else np.concatenate([self._held, x])
        self._held = held
        if self._held_from == 0 and len(held) < self._behind:
            return held[:0]  # the first outputs reflect the stream's first `behind` samples
        ready = self._held_from + len(held) - self._ahead
        if ready <= self._done:
            return held[:0]
        out: np.ndarray[Any, Any] = self._apply(held)[
            self._done - self._held_from : ready - self._held_from
        ]
        self._done = ready
        keep = max(self._held_from, ready - self._behind)
        self._held = held[keep - self._held_from :]
        self._held_from = keep
        return out

    def finish(self) -> np.ndarray[Any, Any]:
        """The outputs still waiting: at the stream's end the window reflects, as over the whole."""
        import numpy as np

        if self._held is None:
            return np.zeros(0, dtype=np.float32)
        out: np.ndarray[Any, Any] = self._apply(self._held)[self._done - self._held_from :]
        self._done = self._held_from + len(self._held)
        return out


# ------------------------------------------------------------------ scratch voice


class _VoiceTrack:
    """The scratch voice's lines, each where _place put it, kept in an unnamed temporary file
    (an hour of lines is as large as the programme) and added up again a piece at a time."""

    def __init__(self, store: IO[bytes], channels: int) -> None:
        self._store = store
        self._channels = channels
        self._lines: list[tuple[int, int, int]] = []  # (first sample, samples, byte offset)

    def add(self, start: int, samples: np.ndarray[Any, Any]) -> None:
        import numpy as np

        try:
            offset = self._store.seek(0, os.SEEK_END)
            self._store.write(np.ascontiguousarray(samples, dtype=np.float32).tobytes())
        except OSError as exc:
            raise scratch_error(exc, "the scratch voice's lines") from exc
        self._lines.append((start, len(samples), offset))

    def piece(self, start: int, count: int) -> np.ndarray[Any, Any] | None:
        """The voice over samples [start, start + count): the lines there added in the order
        they were placed (None where no line sounds)."""
        import numpy as np

        out = None
        width = self._channels * 4  # bytes in a sample of float32 (frames, channels)
        for first, length, offset in self._lines:
            lo, hi = max(first, start), min(first + length, start + count)
            if lo >= hi:
                continue
            if out is None:
                out = np.zeros((count, self._channels), dtype=np.float32)
            self._store.seek(offset + (lo - first) * width)
            line = np.frombuffer(self._store.read((hi - lo) * width), dtype=np.float32)
            out[lo - start : hi - start] += line.reshape(-1, self._channels)
        return out


def _with_voice(
    mix: _Mix,
    cues: Sequence[Cue],
    lines: Sequence[str],
    max_tempo: float,
    target_lufs: float,
    store: IO[bytes],
) -> tuple[_Mix, tuple[tuple[int, float], ...]]:
    """The mix with the scratch voice, at the original's loudness (one pass measures it)."""
    espeak, ffmpeg = _espeak_path(), ffmpeg_path()  # missing tools fail before any decoding
    with _audio_stream(mix.media) as (rate, chunks):
        original = _Loudness(rate)
        for piece in _regroup(chunks, _piece_frames(rate)):
            original.feed(piece)
    programme = _Programme(mix.media, rate, original.channels, original.frames)
    _check_cues_inside(mix.media, programme.duration_ms, cues)
    track = _VoiceTrack(store, programme.channels)
    not_fitting = _voice_track(programme, cues, lines, max_tempo, track, espeak, ffmpeg)
    level = original.result()
    gain = _gain_to(track, programme, target_lufs if level is None else level)
    return replace(mix, voice=track, voice_gain=gain, frames=programme.frames), not_fitting


def _voice_track(
    programme: _Programme,
    cues: Sequence[Cue],
    lines: Sequence[str],
    max_tempo: float,
    track: _VoiceTrack,
    espeak: str,
    ffmpeg: str,
) -> tuple[tuple[int, float], ...]:
    """Each line spoken by espeak-ng's Urdu voice, fitted to its cue and placed at its start
    in `track`; the lines that do not fit."""
    order = sorted(range(len(cues)), key=lambda i: (cues[i].start_ms, cues[i].index))
    not_fitting: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory(prefix="dubkit-voice-") as work:
        for pos, i in enumerate(order):
            cue, text = cues[i], " ".join(lines[i].split())
            if not text:
                continue
            speech, speech_rate = _speak(espeak, text, Path(work))
            if len(speech) == 0:
                continue
            needed = _needed_tempo(len(speech) / speech_rate, cue.duration_ms / 1000)
            if needed > max_tempo:
                not_fitting.append((cue.index, round(needed, 3)))
            fitted = _fit(ffmpeg, speech, speech_rate, min(needed, max_tempo), programme)
            next_ms = cues[order[pos + 1]].start_ms if pos + 1 < len(order) else None
            track.add(*_place(fitted, programme, cue, next_ms))
    return tuple(sorted(not_fitting))


def _espeak_path() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise ToolMissing(_ESPEAK_MISSING)
    listing = subprocess.run(
        [path, f"--voices={URDU_VOICE}"], capture_output=True, text=True, check=False
    ).stdout
    if not any(line.split()[1:2] == [URDU_VOICE] for line in listing.splitlines()[1:]):
        raise ToolMissing(
            f"espeak-ng at {path} has no Urdu voice ({URDU_VOICE}); "
            f"apt-get install espeak-ng-data, or leave the scratch voice off"
        )
    return path


def _speak(espeak: str, text: str, work: Path) -> tuple[np.ndarray[Any, Any], int]:
    """Mono int16 speech for `text`, its silent ends trimmed, and its sample rate."""
    import numpy as np

    # The text goes through a file, so a line starting with "-" is never read as an option.
    source, out = work / "line.txt", work / "line.wav"
    source.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [espeak, "-v", URDU_VOICE, "-b", "1", "-f", str(source), "-w", str(out)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        raise GuideError(f"espeak-ng could not speak {text[:40]!r} ({reason}); check the text")
    with wave.open(str(out), "rb") as reader:
        rate, frames = reader.getframerate(), reader.readframes(reader.getnframes())
    speech = np.frombuffer(frames, dtype=np.int16)
    loud = np.flatnonzero(np.abs(speech.astype(np.float32)) > _VOICE_TRIM_LEVEL * 32768)
    if len(loud) == 0:
        return speech[:0], rate
    return speech[loud[0] : loud[-1] + 1], rate


def _needed_tempo(speech_s: float, slot_s: float) -> float:
    if slot_s <= 0:
        return math.inf
    return max(1.0, speech_s / slot_s)


def _fit(
    ffmpeg: str, speech: np.ndarray[Any, Any], rate: int, tempo: float, programme: _Programme
) -> np.ndarray[Any, Any]:
    """Speech sped up by `tempo` (ffmpeg atempo), at the programme's rate and channels."""
    import numpy as np

    filters = ",".join(f"atempo={step:.6f}" for step in _atempo_steps(tempo))
    args = [ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(rate)]
    args += ["-ac", "1", "-i", "pipe:0", *(["-af", filters] if filters else [])]
    args += ["-ar", str(programme.rate), "-ac", str(programme.channels), "-f", "f32le", "pipe:1"]
    done = subprocess.run(args, input=speech.tobytes(), capture_output=True, check=False)
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise GuideError(f"ffmpeg could not fit the scratch voice ({reason[0]}); check ffmpeg")
    return np.frombuffer(done.stdout, dtype=np.float32).reshape(-1, programme.channels)


def _atempo_steps(tempo: float) -> list[float]:
    """atempo factors whose product is `tempo`, each within the filter's 0.5-2.0 range."""
    steps: list[float] = []
    while tempo > 2.0:
        steps.append(2.0)
        tempo /= 2.0
    if abs(tempo - 1.0) > 1e-6:
        steps.append(tempo)
    return steps


def _place(
    voice: np.ndarray[Any, Any], programme: _Programme, cue: Cue, next_ms: int | None
) -> tuple[int, np.ndarray[Any, Any]]:
    """`voice` placed at the cue's start: its first sample, and the voice cut (with a short
    fade) at the next cue's start or the programme's end."""
    import numpy as np

    start = programme.frame(cue.start_ms)
    stop = programme.frames
    if next_ms is not None:  # overlapping cues: a line may still use its own cue in full
        stop = programme.frame(max(cue.end_ms, next_ms))
    if start + len(voice) > stop:
        voice = voice[: stop - start].copy()
        fade = min(len(voice), programme.rate * _VOICE_TRUNCATE_FADE_MS // 1000)
        if fade:
            voice[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, np.newaxis]
    return start, voice


def _gain_to(track: _VoiceTrack, programme: _Programme, lufs: float) -> float:
    """The linear gain that brings `track` to `lufs` (1.0 when it has nothing to measure)."""
    import numpy as np

    loudness = _Loudness(programme.rate)
    size = _piece_frames(programme.rate)
    for start in range(0, programme.frames, size):
        count = min(size, programme.frames - start)
        voice = track.piece(start, count)
        silence = np.zeros((count, programme.channels), dtype=np.float32)
        loudness.feed(silence if voice is None else voice)
    level = loudness.result()
    return 1.0 if level is None else float(10 ** ((lufs - level) / 20))


# ------------------------------------------------------------------ measurement


class _Loudness:
    """ITU-R BS.1770-4 integrated loudness of a stream of pieces shaped (frames, channels),
    the value pyloudnorm gives for the whole, rounded to 0.01 LU (None when gating leaves
    nothing, or under 0.4 s): its K-weighting filters carry their state from piece to piece,
    and each 400 ms gating block (75 % overlap) is summed, as pyloudnorm sums it, once the
    pieces have completed it."""

    def __init__(self, rate: int) -> None:
        import pyloudnorm

        meter = pyloudnorm.Meter(rate)
        # pyloudnorm's own K-weighting (its coefficients depend on the rate), stage by stage
        self._stages = [(f.b, f.a, f.passband_gain) for f in meter._filters.values()]
        self._rate = rate
        self._block_s = float(meter.block_size)
        self._step = 1.0 - meter.overlap
        self._state: list[np.ndarray[Any, Any]] = []
        self._squares: np.ndarray[Any, Any] | None = None  # (channels, samples) from _held_from
        self._held_from = 0
        self._blocks: list[np.ndarray[Any, Any]] = []  # mean squares, (blocks, channels)
        self._next_block = 0
        self._quiet_from = 0  # all filtered samples from here on are 0 (digital silence)
        self.frames = 0
        self.channels = 0

    def feed(self, piece: np.ndarray[Any, Any]) -> None:
        import numpy as np
        from scipy.signal import lfilter

        if len(piece) == 0:
            return
        if not self._state:
            self.channels = piece.shape[1]
            self._state = [
                np.zeros((max(len(a), len(b)) - 1, self.channels)) for b, a, _ in self._stages
            ]
        filtered = piece
        for n, (b, a, gain) in enumerate(self._stages):
            if not self._state[n].any() and not filtered.any():
                continue  # silence into a filter at rest stays silence, and the filter at rest
            out, self._state[n] = lfilter(b, a, filtered, axis=0, zi=self._state[n])
            filtered = (gain * out).astype(piece.dtype)  # pyloudnorm filters in place
        if filtered.any():
            self._quiet_from = self.frames + len(piece)
        squares = np.ascontiguousarray(np.square(filtered).T)
        held = self._squares
        self._squares = squares if held is None else np.concatenate([held, squares], axis=1)
        self.frames += len(piece)
        self._sum_blocks(None)

    def result(self) -> float | None:
        import numpy as np

        if self.frames < self._block_s * self._rate:
            return None
        length_s = self.frames / self._rate
        count = int(np.round((length_s - self._block_s) / (self._block_s * self._step))) + 1
        self._sum_blocks(count)  # the last blocks may run past the end, as in pyloudnorm
        blocks = np.concatenate(self._blocks)[:count].T
        value = _gated_loudness(blocks)
        return round(value, 2) if math.isfinite(value) else None

    def _bounds(self, j: int) -> tuple[int, int]:
        """Block j's samples, computed as pyloudnorm computes them (same floating point)."""
        block, step, rate = self._block_s, self._step, self._rate
        return int(block * (j * step) * rate), int(block * (j * step + 1) * rate)

    def _sum_blocks(self, count: int | None) -> None:
        """Sum each block complete in what is held; at the end (`count` given), up to it."""
        import numpy as np

        squares = self._squares
        if squares is None:
            return
        factor = 1.0 / (self._block_s * self._rate)
        rows: list[list[Any]] = []
        j = self._next_block
        while count is None or j < count:
            lo, hi = self._bounds(j)
            if count is None and hi > self.frames:
                break
            if lo >= self._quiet_from:
                rows.append([0.0] * self.channels)  # what summing its zeros gives, sooner
            else:
                lo, hi = lo - self._held_from, hi - self._held_from
                rows.append([factor * np.sum(squares[c, lo:hi]) for c in range(self.channels)])
            j += 1
        if rows:
            self._blocks.append(np.array(rows, dtype=np.float64))
        self._next_block = j
        drop = min(self._bounds(j)[0] - self._held_from, squares.shape[1])
        self._squares = squares[:, drop:]
        self._held_from += drop


def _gated_loudness(blocks: np.ndarray[Any, Any]) -> float:
    """BS.1770-4 gating of the blocks' mean squares (channels, blocks), in pyloudnorm's
    arithmetic: an absolute gate at -70 LUFS, then a relative one 10 LU under what passed."""
    import numpy as np

    weights = (1.0, 1.0, 1.0, 1.41, 1.41)  # channel gains: L, R, C, Ls, Rs
    channels = range(len(blocks))
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # log of 0, mean of nothing
        levels = -0.691 + 10.0 * np.log10(sum(weights[i] * blocks[i] for i in channels))
        passed = levels >= -70.0
        means = [np.mean(blocks[i, passed]) for i in channels]
        relative = -0.691 + 10.0 * np.log10(np.sum([weights[i] * means[i] for i in channels]))
        passed = (levels > relative - 10.0) & (levels > -70.0)
        means = np.nan_to_num(np.array([np.mean(blocks[i, passed]) for i in channels]))
        return float(-0.691 + 10.0 * np.log10(np.sum([weights[i] * means[i] for i in channels])))


class _TruePeak:
    """Largest absolute value after 4x oversampling (BS.1770-4 Annex 2) of a stream: each
    stretch is oversampled with _PEAK_CONTEXT samples of its neighbours, so the value does not
    depend on where the pieces end; a stretch too quiet to raise the peak is not oversampled."""

    def __init__(self, rate: int) -> None:
        self._oversample = rate < 96_000
        self._peak = 0.0
        self._held: np.ndarray[Any, Any] | None = None  # context, then samples not yet scanned
        self._held_from = 0
        self._done = 0  # samples scanned
        self._frames = 0

    def feed(self, piece: np.ndarray[Any, Any]) -> None:
        import numpy as np

        if len(piece) == 0:
            return
        self._peak = max(self._peak, float(np.max(np.abs(piece))))
        self._frames += len(piece)
        if self._oversample:
            self._held = piece if self._held is None else np.concatenate([self._held, piece])
            self._scan(self._frames - _PEAK_CONTEXT)

    def result(self) -> float:
        self._scan(self._frames)  # the stream's end: beyond it is silence, as for the whole
        return self._peak

    def _scan(self, upto: int) -> None:
        """Oversample samples [done, upto), with what is held around them as context."""
        import numpy as np
        from scipy.signal import resample_poly

        held, up = self._held, _TRUE_PEAK_OVERSAMPLING
        if held is None or upto <= self._done:
            return
        if float(np.max(np.abs(held))) * _oversampling_gain() > self._peak:
            over = resample_poly(held, up, 1, axis=0)
            scanned = over[(self._done - self._held_from) * up : (upto - self._held_from) * up]
            self._peak = max(self._peak, float(np.max(np.abs(scanned))))
        self._done = upto
        keep = max(self._held_from, upto - _PEAK_CONTEXT)
        self._held = held[keep - self._held_from :]
        self._held_from = keep


@functools.cache
def _oversampling_gain() -> float:
    """The most oversampling can raise a peak: the largest sum of the filter's absolute taps
    over the output phases (read from an impulse's response), with room for rounding."""
    import numpy as np
    from scipy.signal import resample_poly

    up = _TRUE_PEAK_OVERSAMPLING
    impulse = np.zeros(2 * _PEAK_CONTEXT + 1)
    impulse[_PEAK_CONTEXT] = 1.0
    response = np.abs(resample_poly(impulse, up, 1))
    return 1.001 * max(float(np.sum(response[phase::up])) for phase in range(up))


def _db(linear: float) -> float:
    return round(20 * math.log10(linear), 2) if linear > 0 else -math.inf


# ------------------------------------------------------------------ decoding and writing


def _piece_frames(rate: int) -> int:
    return max(1, round(GUIDE_PIECE_S * rate))


def _regroup(chunks: Iterable[np.ndarray[Any, Any]], size: int) -> Iterator[np.ndarray[Any, Any]]:
    """The decoded chunks (a codec's frames: a few milliseconds to a second) as pieces of
    `size` samples, the last one shorter."""
    import numpy as np

    held: list[np.ndarray[Any, Any]] = []
    count = 0
    for chunk in chunks:
        held.append(chunk)
        count += len(chunk)
        if count >= size:
            whole = np.concatenate(held)
            cut = count - count % size
            for at in range(0, cut, size):
                yield whole[at : at + size]
            held, count = [whole[cut:].copy()], count - cut
    if count:
        yield np.concatenate(held)


@contextlib.contextmanager
def _audio_stream(
    path: Path, *, checked: bool = False
) -> Iterator[tuple[int, Iterator[np.ndarray[Any, Any]]]]:
    """(rate, chunks): the first audio stream decoded piece by piece, as float32 shaped
    (frames, channels), mono or stereo, at its own rate. MediaError if it cannot be decoded
    (a skipped packet would shift every later line, so a damaged stream is refused) or holds
    no samples. `checked`: a pass has decoded it already, so it is not probed again."""
    import av

    if not checked:
        check_media(path)  # missing, empty, corrupt or silent-film files fail here, with the fix
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, ValueError) as exc:
        raise _undecodable(path, exc) from exc
    with container:
        stream = container.streams.audio[0]
        rate = int(stream.rate or stream.codec_context.sample_rate)
        channels = 1 if stream.channels == 1 else 2
        resampler = av.AudioResampler(
            format="flt", layout="mono" if channels == 1 else "stereo", rate=rate
        )

        def chunks() -> Iterator[np.ndarray[Any, Any]]:
            decoded = 0
            try:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        decoded += out.samples
                        yield out.to_ndarray().reshape(-1, channels)
                for out in resampler.resample(None):
                    decoded += out.samples
                    yield out.to_ndarray().reshape(-1, channels)
            except (av.error.FFmpegError, ValueError) as exc:
                raise _undecodable(path, exc) from exc
            if decoded == 0:
                raise _no_samples(path)

        yield rate, chunks()


def _undecodable(path: Path, exc: Exception) -> MediaError:
    return MediaError(f"{path}: audio cannot be decoded ({exc}); export the file again", path=path)


def _no_samples(path: Path) -> MediaError:
    return MediaError(
        f"{path}: the audio stream holds no samples (0 s of sound); use a file with audio",
        path=path,
    )


def _check_cues_inside(path: Path, duration_ms: int, cues: Sequence[Cue]) -> None:
    for cue in cues:
        if cue.start_ms >= duration_ms:
            raise MediaError(
                f"{path}: cue {cue.index} starts at {cue.start_ms / 1000:.3f} s, after "
                f"the programme's end ({duration_ms / 1000:.3f} s); check that the "
                f"script belongs to this media",
                path=path,
            )


def _to_pcm16(samples: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    import numpy as np

    scaled = np.round(samples * 32768.0)  # the inverse of reading int16 as value / 32768
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def _segment(samples: np.ndarray[Any, Any], rate: int) -> Any:
    return _segment_pcm(_to_pcm16(samples), rate)


def _segment_pcm(pcm: np.ndarray[Any, Any], rate: int) -> Any:
    """A pydub AudioSegment over interleaved int16 samples shaped (frames, channels)."""
    audio_segment = _pydub()
    return audio_segment(data=pcm.tobytes(), sample_width=2, frame_rate=rate, channels=pcm.shape[1])


def _pydub() -> Any:
    """pydub's AudioSegment, imported without its import-time warnings.

    pydub 0.25 imports audioop (deprecated in 3.11, removed in 3.13), has regexes with invalid
    escapes (a DeprecationWarning when compiled on 3.11, SyntaxWarning on 3.12+), and warns
    when ffmpeg is missing (dubkit checks for ffmpeg itself, with the fix).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"'audioop' is deprecated")
        warnings.filterwarnings("ignore", message=r"invalid escape sequence")
        warnings.filterwarnings("ignore", message=r"Couldn't find ffmpeg or avconv")
        from pydub import AudioSegment
    return AudioSegment


def _export(segment: Any, path: Path, fmt: str, *, shown: Path) -> None:
    """Write one file with pydub (WAV itself, MP3 and FLAC through ffmpeg), flushed to disk;
    errors name `shown`, the file's final name, not the temporary one."""
    from pydub.exceptions import CouldntEncodeError

    if fmt != "wav":
        ffmpeg_path()  # ToolMissing with the fix, rather than pydub's bare error
    options = {"bitrate": MP3_BITRATE} if fmt == "mp3" else {}
    try:
        with open(path, "wb") as handle:
            segment.export(handle, format=fmt, **options)
            handle.flush()
            os.fsync(handle.fileno())
    except CouldntEncodeError as exc:
        last = str(exc).strip().splitlines()[-1:] or ["no output"]
        raise OutputError(
            f"{shown}: ffmpeg could not encode {fmt} ({last[0]}); check ffmpeg's {fmt} encoder",
            path=shown,
        ) from exc
    except OSError as exc:
        raise write_error(shown, exc) from exc


def _export_pcm(
    pieces: Iterable[np.ndarray[Any, Any]], dest: Path, fmt: str, programme: _Programme
) -> None:
    """Write int16 pieces to a temporary name in dest's folder, then rename it over dest (a
    symlink planted there is replaced, never followed)."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(dest, exc) from exc
    with atomic_paths([dest]) as temps:  # an OSError in here names dest
        _write_pcm(pieces, temps[dest], fmt, programme.rate, programme.channels, shown=dest)


def _write_pcm(
    pieces: Iterable[np.ndarray[Any, Any]],
    path: Path,
    fmt: str,
    rate: int,
    channels: int,
    *,
    shown: Path,
) -> None:
    """Write int16 pieces shaped (frames, channels) to `path` as they come, as WAV (Python's
    wave) or through ffmpeg's stdin (FLAC), flushed to disk; errors name `shown`, the file's
    final name."""
    if fmt != "wav":
        _encode(pieces, path, fmt, rate, channels, shown=shown)
    else:
        flags = os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        with open(os.open(path, flags), "wb") as handle:
            with wave.open(handle, "wb") as writer:
                writer.setnchannels(channels)
                writer.setsampwidth(2)
                writer.setframerate(rate)
                for pcm in pieces:
                    writer.writeframesraw(pcm.tobytes())
            handle.flush()
            os.fsync(handle.fileno())


def _encode(
    pieces: Iterable[np.ndarray[Any, Any]],
    path: Path,
    fmt: str,
    rate: int,
    channels: int,
    *,
    shown: Path,
) -> None:
    """Encode int16 pieces with ffmpeg, fed through its stdin, to `path`."""
    args = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-f", "s16le"]
    args += ["-ar", str(rate), "-ac", str(channels), "-i", "pipe:0", "-f", fmt, str(path)]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors
        )
        assert proc.stdin is not None
        try:
            with contextlib.suppress(BrokenPipeError):  # ffmpeg stopped: its status says why
                for pcm in pieces:
                    proc.stdin.write(pcm.tobytes())
                proc.stdin.close()
            code = proc.wait()
        except BaseException:  # a decoding error, Ctrl-C: no ffmpeg is left behind
            proc.kill()
            proc.wait()
            raise
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        if code != 0:
            errors.seek(0)
            last = errors.read(1 << 16).decode(errors="replace").strip().splitlines()[-1:]
            raise OutputError(
                f"{shown}: ffmpeg could not encode {fmt} ({(last or ['no output'])[0]}); "
                f"check ffmpeg's {fmt} encoder",
                path=shown,
            )
    done = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        os.fsync(done)
    finally:
        os.close(done)
