"""Decode any media file ffmpeg knows to 16 kHz mono float32, with clear errors (PyAV)."""

from __future__ import annotations

import contextlib
import os
import tempfile
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dubkit import constants as C
from dubkit.constants import SAMPLE_RATE
from dubkit.errors import MediaError
from dubkit.fsutil import scratch_error
from dubkit.records import DecodedAudio
from dubkit.timecode import broadcast_rate

if TYPE_CHECKING:
    import numpy as np

# Decoded audio shorter than the container's declared length by more than this is truncated.
_TRUNCATION_TOLERANCE_MS = 500
_LEVEL_PIECE_SAMPLES = 60 * SAMPLE_RATE  # sound_levels reads this much at a time


def probe_path(path: Path) -> None:
    """Fail early, with the fix, for paths that cannot be media at all."""
    try:
        _probe_path(path)
    except OSError as exc:
        raise MediaError(f"{path}: cannot open ({exc.strerror or exc})", path=path) from exc


def _probe_path(path: Path) -> None:
    if not path.exists():
        raise MediaError(f"{path}: no such file; check the path", path=path)
    if path.is_dir():
        raise MediaError(f"{path}: is a folder, not a media file; name the file inside", path=path)
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: file is empty (0 bytes); copy or export it again", path=path)


def check_media(path: Path) -> None:
    """Open the container and find its audio stream, without decoding: cheap, fails early."""
    with _open(path):
        pass


def has_audio(path: Path) -> bool:
    """Whether `path` holds a sound stream (MediaError when it cannot be read as media)."""
    with open_container(path) as container:
        return bool(container.streams.audio)


def open_container(path: Path) -> Any:
    """An open PyAV container for `path`, or MediaError saying why it cannot be read."""
    import av

    probe_path(path)
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise MediaError(
            f"{path}: cannot read as media ({reason}); the file is corrupt or not audio/video "
            f"— check it with `ffprobe` or export it again",
            path=path,
        ) from exc


def _open(path: Path) -> Any:
    """An open PyAV container with at least one audio stream, or MediaError saying why not."""
    container = open_container(path)
    if not container.streams.audio:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
        container.close()
        raise MediaError(
            f"{path}: has no audio stream (only {kinds}); use a version with its soundtrack",
            path=path,
        )
    return container


def decode_audio(path: Path) -> DecodedAudio:
    """First audio stream of `path` as 16 kHz mono, whole in memory; MediaError when there is
    none to be had. (Recognition reads a programme through `spool_audio` instead.)"""
    import numpy as np

    chunks: list[np.ndarray[Any, Any]] = []
    with _decoding(path) as decoding:
        for chunk in decoding.chunks():
            chunks.append(chunk)
    samples = (
        np.concatenate(chunks).astype(np.float32) / 32768.0
        if chunks
        else np.zeros(0, dtype=np.float32)
    )
    return decoding.result(samples)


@contextlib.contextmanager
def spool_audio(
    path: Path, too_long: Callable[[int], Exception] | None = None
) -> Iterator[DecodedAudio]:
    """First audio stream of `path` as 16 kHz mono, written as it is decoded to an unnamed
    temporary file in $TMPDIR (16-bit, 115 MB an hour) and read back in pieces: the
    programme's sound is never whole in this process's memory. The samples are readable
    until the block ends; MediaError as `decode_audio`, OutputError when $TMPDIR cannot
    take the file. `too_long(ms)` is raised for a programme longer than C.MAX_PROGRAMME_MS
    as soon as its decoded sound passes that length, not after all of it is on the disk.
    (Not on the length its container declares: a wrong header, a VBR MP3 without its index
    or a capture with a timestamp jump declares hours it does not hold.)"""
    with contextlib.ExitStack() as stack:
        try:
            # unbuffered: what is written is in the file for os.pread, and a full disk is
            # found by the write, not again when the file is closed
            file = stack.enter_context(tempfile.TemporaryFile(prefix="dubkit-sound-", buffering=0))
            spool = _Spool(file)
            with _decoding(path) as decoding:
                for chunk in decoding.chunks():
                    spool.write(chunk)
                    heard_ms = len(spool) * 1000 // SAMPLE_RATE
                    if too_long is not None and heard_ms > C.MAX_PROGRAMME_MS:
                        raise too_long(heard_ms)
        except OSError as exc:
            raise scratch_error(exc, f"the sound of {path} (about 115 MB an hour)") from exc
        yield decoding.result(spool)


class _Spool:
    """16-bit samples in an unnamed temporary file, sliced as float32 like a numpy array."""

    def __init__(self, file: Any) -> None:
        self.file = file
        self.length = 0

    def write(self, chunk: np.ndarray[Any, Any]) -> None:
        data = memoryview(chunk.astype("<i2", copy=False).tobytes())
        while data:  # an unbuffered write may take only part
            data = data[self.file.write(data) :]
        self.length += len(chunk)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: slice) -> np.ndarray[Any, Any]:
        import numpy as np

        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("spooled samples are read by contiguous slices only")
        start, stop, _ = key.indices(self.length)
        if stop <= start:
            return np.zeros(0, dtype=np.float32)
        data = os.pread(self.file.fileno(), (stop - start) * 2, start * 2)
        return np.frombuffer(data, dtype="<i2").astype(np.float32) / np.float32(32768.0)


class _decoding:
    """The first audio stream of `path` decoded to 16-bit 16 kHz mono chunks, with what
    decoding noticed (a truncated file, skipped packets) for the DecodedAudio record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bad_packets = 0
        self.decoded = 0

    def __enter__(self) -> _decoding:
        self.container = _open(self.path)
        stream = self.container.streams.audio[0]
        self.stream = stream
        self.declared_ms = _declared_ms(self.path, self.container, stream)
        self.frame_rate = _frame_rate(self.container)
        return self

    def __exit__(self, *exc: object) -> None:
        self.container.close()

    def chunks(self) -> Iterator[np.ndarray[Any, Any]]:
        import av

        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        try:
            for packet in self.container.demux(self.stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    self.bad_packets += 1
                    continue
                for frame in frames:
                    for out in resampler.resample(frame):
                        yield self._counted(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                yield self._counted(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            if not self.decoded:
                raise MediaError(
                    f"{self.path}: audio cannot be decoded ({exc}); export the file again",
                    path=self.path,
                ) from exc
            self.bad_packets += 1

    def _counted(self, chunk: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        self.decoded += len(chunk)
        return chunk

    def result(self, samples: Any) -> DecodedAudio:
        path = self.path
        if len(samples) == 0:
            raise MediaError(
                f"{path}: the audio stream holds no samples (0 s of sound); use a file with audio",
                path=path,
            )
        decoded_ms = len(samples) * 1000 // SAMPLE_RATE
        declared_ms = self.declared_ms
        warnings: list[str] = []
        if declared_ms is not None and decoded_ms + _TRUNCATION_TOLERANCE_MS < declared_ms:
            warnings.append(
                f"{path}: looks truncated: decoded {decoded_ms / 1000:.1f} s of the "
                f"{declared_ms / 1000:.1f} s it declares; transcribing what is there"
            )
        elif self.bad_packets:
            warnings.append(f"{path}: skipped {self.bad_packets} undecodable audio packet(s)")
        return DecodedAudio(
            path=path,
            samples=samples,
            declared_ms=declared_ms,
            warnings=tuple(warnings),
            frame_rate=self.frame_rate,
        )


def media_frame_rate(path: Path) -> float | None:
    """The broadcast rate of `path`'s first moving picture, as recognition snaps the cues
    of the media it decodes (DecodedAudio.frame_rate); None: no such picture."""
    with open_container(path) as container:
        return _frame_rate(container)


def _frame_rate(container: Any) -> float | None:
    """The first moving picture's frames per second (a cover image is not a picture)."""
    from av.stream import Disposition

    for video in container.streams.video:
        if video.disposition & Disposition.attached_pic or not video.average_rate:
            continue
        # only a broadcast rate is trusted: variable-rate video, a slideshow or a still
        # picture under a radio programme keep the profile's rate
        return broadcast_rate(float(video.average_rate))
    return None


def _declared_ms(path: Path, container: Any, stream: Any) -> int | None:
    if "wav" in container.format.name.split(","):
        # FFmpeg clamps a WAV's length to the file size, hiding truncation; the RIFF header
        # still says how many frames were written.
        with contextlib.suppress(wave.Error, EOFError, OSError), wave.open(str(path)) as header:
            size = header.getnframes() * header.getsampwidth() * header.getnchannels()
            if 0 < size < 0xFFFFFFFF - 64:  # streamed WAVs write 0 or 0xFFFFFFFF: unknown
                return int(header.getnframes() * 1000 // header.getframerate())
    if stream.duration is not None and stream.time_base is not None:
        return int(stream.duration * stream.time_base * 1000)
    if container.duration is not None:
        return int(container.duration // 1000)  # microseconds
    return None


def sound_levels(audio: DecodedAudio, frame_ms: int) -> tuple[float, ...]:
    """The level (dB of the mean square, -100 for silence) of each whole `frame_ms` frame,
    read a minute or so at a time (the samples may be spooled: `spool_audio`)."""
    import numpy as np

    size = SAMPLE_RATE * frame_ms // 1000
    whole = len(audio.samples) // size * size
    piece = max(1, _LEVEL_PIECE_SAMPLES // size) * size
    levels: list[float] = []
    for start in range(0, whole, piece):
        frames = np.asarray(audio.samples[start : min(whole, start + piece)], dtype=np.float64)
        power = np.mean(frames.reshape(-1, size) ** 2, axis=1)
        db = 10 * np.log10(np.maximum(power, 1e-10))
        levels += np.where(power > 1e-10, db, -100.0).tolist()
    return tuple(levels)
