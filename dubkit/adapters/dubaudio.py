"""Audio for dubbing studios: reference clips of each line, and a guide track (pydub, pyloudnorm).

The programme's audio is decoded once with PyAV at its own sample rate, mono or stereo as the
source (more channels are downmixed to stereo by FFmpeg's standard matrix), so the guide track has
exactly the programme's number of samples and no resampling touches the reference. Files are
16-bit PCM (WAV, or FLAC for the guide) or MP3 for clips.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import subprocess
import tempfile
import warnings
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dubkit.adapters.audio import check_media
from dubkit.adapters.render import ToolMissing, ffmpeg_path
from dubkit.errors import ConfigError, DubkitError, MediaError, OutputError
from dubkit.fsutil import (
    atomic_paths,
    check_creatable,
    replace_folder,
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


@dataclass(frozen=True)
class _Programme:
    """Decoded audio: float32 samples shaped (frames, channels) at the source's rate."""

    path: Path
    samples: np.ndarray[Any, Any]
    rate: int

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

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
    """
    import numpy as np

    fmt = _check_guide_options(cues, dest, duck_db, fade_ms, voice, texts, max_tempo)
    programme = _decode(media)
    _check_cues_inside(programme.path, programme.duration_ms, cues)
    original_lufs = _integrated_lufs(programme.samples, programme.rate)
    mix = programme.samples * _duck_gain(programme, cues, duck_db, fade_ms)[:, np.newaxis]
    not_fitting: tuple[tuple[int, float], ...] = ()
    if voice:
        lines = list(texts) if texts is not None else [" ".join(c.lines) for c in cues]
        track, not_fitting = _voice_track(programme, cues, lines, max_tempo)
        level = target_lufs if original_lufs is None else original_lufs
        mix += track * _gain_to(track, programme.rate, level)
    before = _integrated_lufs(mix, programme.rate)
    gain_db, limited = _normalising_gain(mix, programme.rate, before, target_lufs)
    if limited and before is not None:
        # Ducked dialogue leaves the loudness low and the peaks high: reach the target with
        # a look-ahead peak limiter rather than giving up loudness.
        mix, gain_db = _limit_to_target(mix, programme.rate, target_lufs - before, target_lufs)
    pcm = _to_pcm16(mix * np.float32(10 ** (gain_db / 20)))
    written = pcm.astype(np.float32) / 32768.0  # measure what the file holds, not the plan
    _export_atomic(_segment_pcm(pcm, programme.rate), dest, fmt)
    return GuideReport(
        path=dest,
        duration_ms=programme.duration_ms,
        sample_rate=programme.rate,
        channels=programme.channels,
        loudness_before=before,
        loudness_after=_integrated_lufs(written, programme.rate),
        target_lufs=target_lufs,
        gain_db=round(gain_db, 2),
        peak_dbfs=_db(_true_peak(written, programme.rate)),
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


def _duck_gain(
    programme: _Programme, cues: Sequence[Cue], duck_db: float, fade_ms: int
) -> np.ndarray[Any, Any]:
    """Per-sample gain: duck_db over each cue, ramped (in dB) over fade_ms before and after it,
    so the whole cue is ducked; overlapping ramps keep the deeper duck."""
    import numpy as np

    depth = np.zeros(programme.frames, dtype=np.float32)
    fade = programme.rate * fade_ms // 1000
    ramp = np.linspace(0.0, 1.0, fade + 2, dtype=np.float32)[1:-1]  # rising, without its ends
    for cue in cues:
        start, end = programme.frame(cue.start_ms), programme.frame(cue.end_ms)
        depth[start:end] = 1.0
        lo = max(0, start - fade)
        head = depth[lo:start]
        np.maximum(head, ramp[fade - len(head) :], out=head)
        tail = depth[end : end + fade]
        np.maximum(tail, ramp[::-1][: len(tail)], out=tail)
    gain: np.ndarray[Any, Any] = np.power(np.float32(10.0), depth * np.float32(duck_db / 20))
    return gain.astype(np.float32)


def _normalising_gain(
    mix: np.ndarray[Any, Any], rate: int, loudness: float | None, target: float
) -> tuple[float, bool]:
    """The gain to `target`, lowered if it would push the true peak over the ceiling."""
    if loudness is None:
        return 0.0, False  # nothing measurable to normalise: leave silence alone
    gain = target - loudness
    peak_db = _db(_true_peak(mix, rate))
    if peak_db + gain > TRUE_PEAK_CEILING_DBTP:
        return TRUE_PEAK_CEILING_DBTP - peak_db, True
    return gain, False


_LIMITER_MARGIN_DB = 1.5  # sample ceiling below the true-peak ceiling (inter-sample peaks)
_LIMITER_ATTACK_S = 0.005
_LIMITER_RELEASE_S = 0.08


def _limiter_gain(x: np.ndarray[Any, Any], rate: int, ceiling: float) -> np.ndarray[Any, Any]:
    """Per-sample gain (<= 1) that keeps |x| under `ceiling`: the needed reduction held over
    the attack window ahead and the release window behind, then smoothed."""
    import numpy as np
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    amp = np.max(np.abs(x), axis=1) if x.ndim == 2 else np.abs(x)
    need = np.minimum(1.0, ceiling / np.maximum(amp, 1e-12)).astype(np.float32)
    attack = max(1, int(_LIMITER_ATTACK_S * rate))
    release = max(1, int(_LIMITER_RELEASE_S * rate))
    held = minimum_filter1d(need, size=attack + release, origin=(release - attack) // 2)
    smooth = uniform_filter1d(held, size=attack)
    gain: np.ndarray[Any, Any] = np.minimum(smooth, need)
    return gain


def _limit_to_target(
    mix: np.ndarray[Any, Any], rate: int, gain_db: float, target: float
) -> tuple[np.ndarray[Any, Any], float]:
    """Gain to the target loudness with the peaks limited under the true-peak ceiling; the
    loudness lost to limiting is made up in a few measured passes. Returns the limited mix
    (before the final gain) and that gain."""
    import numpy as np

    ceiling = 10 ** ((TRUE_PEAK_CEILING_DBTP - _LIMITER_MARGIN_DB) / 20)
    limited = mix
    for _ in range(6):
        scale = np.float32(10 ** (gain_db / 20))
        g = _limiter_gain(mix * scale, rate, ceiling)
        limited = mix * (g[:, np.newaxis] if mix.ndim == 2 else g)
        loudness = _integrated_lufs(limited * scale, rate)
        if loudness is None or abs(target - loudness) < 0.1:
            break
        gain_db += target - loudness
    return limited, gain_db


# ------------------------------------------------------------------ scratch voice


def _voice_track(
    programme: _Programme, cues: Sequence[Cue], lines: Sequence[str], max_tempo: float
) -> tuple[np.ndarray[Any, Any], tuple[tuple[int, float], ...]]:
    """Each line spoken by espeak-ng's Urdu voice, fitted to its cue and placed at its start."""
    import numpy as np

    espeak = _espeak_path()
    ffmpeg = ffmpeg_path()
    track = np.zeros_like(programme.samples)
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
            _place(track, fitted, programme, cue, next_ms)
    return track, tuple(sorted(not_fitting))


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
    track: np.ndarray[Any, Any],
    voice: np.ndarray[Any, Any],
    programme: _Programme,
    cue: Cue,
    next_ms: int | None,
) -> None:
    """Add `voice` at the cue's start, cut (with a short fade) at the next cue's start."""
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
    track[start : start + len(voice)] += voice


def _gain_to(track: np.ndarray[Any, Any], rate: int, lufs: float) -> float:
    """The linear gain that brings `track` to `lufs` (1.0 when it has nothing to measure)."""
    level = _integrated_lufs(track, rate)
    return 1.0 if level is None else float(10 ** ((lufs - level) / 20))


# ------------------------------------------------------------------ measurement


def _integrated_lufs(samples: np.ndarray[Any, Any], rate: int) -> float | None:
    """ITU-R BS.1770-4 integrated loudness, None when gating leaves nothing (or under 0.4 s)."""
    import pyloudnorm

    meter = pyloudnorm.Meter(rate)
    if samples.shape[0] < meter.block_size * rate:
        return None
    value = float(meter.integrated_loudness(samples))
    return round(value, 2) if math.isfinite(value) else None


def _true_peak(samples: np.ndarray[Any, Any], rate: int) -> float:
    """Largest absolute value after 4x oversampling (BS.1770-4 Annex 2), in chunks."""
    import numpy as np
    from scipy.signal import resample_poly

    if samples.size == 0:
        return 0.0
    peak = float(np.max(np.abs(samples)))
    if rate >= 96_000:
        return peak
    chunk, pad, up = rate * 10, 64, _TRUE_PEAK_OVERSAMPLING
    for start in range(0, samples.shape[0], chunk):
        lo, hi = max(0, start - pad), min(samples.shape[0], start + chunk + pad)
        over = resample_poly(samples[lo:hi], up, 1, axis=0)
        keep = over[(start - lo) * up : (min(hi, start + chunk) - lo) * up]
        peak = max(peak, float(np.max(np.abs(keep))))
    return peak


def _db(linear: float) -> float:
    return round(20 * math.log10(linear), 2) if linear > 0 else -math.inf


# ------------------------------------------------------------------ decoding and writing


def _decode(path: Path) -> _Programme:
    """The first audio stream at its own rate, as mono or stereo float32, whole in memory
    (the guide track measures and mixes the whole programme); MediaError if not."""
    import numpy as np

    with _audio_stream(path) as (rate, chunks):
        parts = list(chunks)
    if not parts or sum(len(c) for c in parts) == 0:
        raise _no_samples(path)
    return _Programme(path=path, samples=np.concatenate(parts), rate=rate)


@contextlib.contextmanager
def _audio_stream(path: Path) -> Iterator[tuple[int, Iterator[np.ndarray[Any, Any]]]]:
    """(rate, chunks): the first audio stream decoded piece by piece, as float32 shaped
    (frames, channels), mono or stereo, at its own rate. MediaError if it cannot be decoded
    (a skipped packet would shift every later line, so a damaged stream is refused) or holds
    no samples."""
    import av

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


def _export_atomic(segment: Any, dest: Path, fmt: str) -> None:
    """Export to a temporary name in dest's folder, then rename it over dest."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(dest, exc) from exc
    with atomic_paths([dest]) as temps:
        _export(segment, temps[dest], fmt, shown=dest)
