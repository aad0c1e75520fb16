"""Burned-in subtitles read from the picture: frames decoded with PyAV, the band's text masks
with OpenCV and numpy, text read by RapidOCR (PP-OCRv6 models from its wheel, on
onnxruntime, offline). The decisions (band, change, vote, timing) are `dubkit.burned`'s."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from dubkit.burned.band import LOWEST_TOP, check_band, default_band, find_band, sample_times
from dubkit.burned.cues import (
    SAMPLE_FPS,
    band_changed,
    build_cues,
    change_index,
    has_text,
    looks_truncated,
    mask_distance,
    spread,
)
from dubkit.burned.lines import read_frame
from dubkit.burned.records import Band, Box, BurnedCue, Reading, Shot
from dubkit.errors import MediaError

# Frames spread over the programme in which text boxes are looked for to find the band.
BAND_SAMPLES = 12
# Band samples nearer than this (seconds) after the last frame decoded are decoded to, not
# sought: broadcast keyframes come every 0.5-10 s, and a seek decodes from the one before.
SEEK_BEYOND_S = 10.0
# Text masks are made at the scale of a 360-row picture: small enough to be cheap, large
# enough that a subtitle's strokes stay apart.
MASK_ROWS = 360
# A text pixel: at least TEXT_LEVEL bright, and TEXT_EDGE brighter than the darkest pixel
# within STROKE pixels on both sides (left and right, or above and below): a thin light stroke
# against its outline or its box. The edges of a large bright shape moving behind have a dark
# side only, so a moving background barely changes the mask.
TEXT_LEVEL = 170
TEXT_EDGE = 80
STROKE = 3
# The OCR reads pictures at the scale of a picture this many rows tall: subtitle letters are
# then 20-30 pixels, the size PP-OCR's detector keeps a line in one box (at 1080p it cuts
# 共建一带一路 after 一带, at 360 rows it does not), and a 1080p band costs what a 360p one does.
OCR_ROWS = 360
# The detector sees at most this many pixels on the longer side.
DETECT_SIDE = 960
# Boxes the recogniser scores under this are dropped as noise; the ones kept between this and
# burned.cues.LOW_CONFIDENCE make a flagged cue rather than none.
OCR_MIN_SCORE = 0.4
# Band images kept per shot for the readings (evenly thinned beyond this).
KEEP_PER_SHOT = 16

_GREY_PLANE = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12",
               "nv21", "gray"}  # fmt: skip

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    fps: float
    width: int
    height: int
    duration_ms: int


@dataclass(frozen=True)
class OcrReading:
    """One file's reading: its picture, the band, the cues, how many images the OCR read and
    what went wrong on the way (a truncated file). Nothing written: `dubkit ocr` writes it
    (`dubkit.episode.pipeline.ocr_file`)."""

    media: Path
    info: VideoInfo
    band: Band
    cues: tuple[BurnedCue, ...]
    ocr_calls: int = 0
    warnings: tuple[str, ...] = ()


def _video_stream(container: Any, path: Path) -> Any:
    from av.stream import Disposition

    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            return stream
    kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
    what = "a cover picture" if container.streams.video else f"only {kinds}"
    raise MediaError(
        f"{path}: has no video picture to read subtitles from ({what}); give the video file "
        f"the subtitles are burned into",
        path=path,
    )


def _open(path: Path) -> tuple[Any, Any]:
    from dubkit.adapters.audio import open_container

    container = open_container(path)
    try:
        stream = _video_stream(container, path)
    except MediaError:
        container.close()
        raise
    stream.thread_type = "AUTO"
    return container, stream


def probe_video(path: Path) -> VideoInfo:
    """The picture's rate, size and length; MediaError (with the fix) when there is none."""
    container, stream = _open(path)
    with container:
        rate = stream.average_rate or stream.guessed_rate
        width, height = stream.codec_context.width, stream.codec_context.height
        if not rate or not width or not height:
            raise MediaError(
                f"{path}: the video stream has no frame rate or size; remux it with "
                f"`ffmpeg -i IN -c copy OUT.mp4` or export it again",
                path=path,
            )
        if stream.duration is not None and stream.time_base is not None:
            duration_ms = round(float(stream.duration * stream.time_base) * 1000)
        else:
            duration_ms = round((container.duration or 0) / 1000)
    return VideoInfo(path, float(rate), int(width), int(height), max(0, duration_ms))


def _check_size(path: Path, frame: Any, size: tuple[int, int], at_ms: int) -> None:
    """MediaError (with the fix) when `frame` is not of the picture's `size`: the band and the
    masks are rows of one frame size."""
    if (frame.width, frame.height) != size:
        raise MediaError(
            f"{path}: the picture changes size at {at_ms / 1000:.1f} s ({size[0]}x{size[1]} → "
            f"{frame.width}x{frame.height}); convert it to one size first "
            f"(`ffmpeg -i IN -vf scale={size[0]}:{size[1]} OUT.mp4`)",
            path=path,
        )


def _frames(path: Path) -> Iterator[tuple[int, Any]]:
    """Every frame of the picture with its time in ms from the stream's start (its
    presentation time: variable frame rates keep their timing). MediaError when the picture
    changes size, which the band and the masks cannot follow."""
    import av

    container, stream = _open(path)
    with container:
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        size: tuple[int, int] | None = None
        last_ms = 0
        try:
            for n, frame in enumerate(container.decode(stream)):
                at = frame.time if frame.time is not None else n / rate
                at_ms = max(0, round((at - start) * 1000))
                size = size or (frame.width, frame.height)
                _check_size(path, frame, size, max(at_ms, last_ms))  # times may restart there
                last_ms = at_ms
                yield at_ms, frame
        except av.error.FFmpegError as exc:
            raise MediaError(
                f"{path}: the picture cannot be decoded ({exc}); check it with `ffprobe` or "
                f"export it again",
                path=path,
            ) from exc


def _with_last(items: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any, bool]]:
    """The items, each with whether it is the last."""
    previous: tuple[int, Any] | None = None
    for item in items:
        if previous is not None:
            yield previous[0], previous[1], False
        previous = item
    if previous is not None:
        yield previous[0], previous[1], True


def _spread_frames(path: Path, info: VideoInfo, count: int, top: int) -> list[Any]:
    """About `count` frames spread over the programme: their rows from `top` down (bgr arrays).
    A sample further than SEEK_BEYOND_S past the last frame decoded is sought; a nearer one is
    decoded to (a seek would decode again from the keyframe before it)."""
    import av

    container, stream = _open(path)
    out: list[Any] = []
    with container:
        tb = float(stream.time_base)
        first = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        frames: Iterator[Any] | None = None
        decoded = -math.inf
        for at in sample_times(info.duration_ms / 1000, count):
            target = first + at
            try:
                if frames is None or target - decoded > SEEK_BEYOND_S:
                    container.seek(int(target / tb), stream=stream, backward=True)
                    frames = iter(container.decode(stream))
                for frame in frames:
                    decoded = frame.time if frame.time is not None else decoded
                    if frame.time is None or frame.time >= target - 0.5 / info.fps:
                        if (frame.width, frame.height) != (info.width, info.height):
                            return out  # another size: scan() says where, with the fix
                        image = frame.to_ndarray(format="bgr24")[top:]
                        out.append(_scaled(image, _ocr_scale(info.height)))
                        break
            except av.error.FFmpegError:
                frames = None
                continue
    return out


@cache
def _engine() -> Any:
    """RapidOCR with its bundled PP-OCRv6 detector and recogniser; no angle classifier
    (subtitles are upright), the detector limited to DETECT_SIDE on its longer side."""
    import logging

    import onnxruntime
    from rapidocr import RapidOCR

    onnxruntime.set_default_logger_severity(3)  # its warnings would break the one-line output
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return RapidOCR(
        params={
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Global.text_score": OCR_MIN_SCORE,
            "Det.limit_type": "max",
            "Det.limit_side_len": DETECT_SIDE,
        }
    )


def _scaled(image: Any, scale: float) -> Any:
    import cv2

    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _ocr_scale(height: int) -> float:
    return min(1.0, OCR_ROWS / height)


def _boxes(points: Any, texts: Any, scores: Any, dy: int, scale: float = 1.0) -> list[Box]:
    boxes: list[Box] = []
    if points is None:
        return boxes
    for k, quad in enumerate(points):
        xs = [float(p[0]) / scale for p in quad]
        ys = [float(p[1]) / scale for p in quad]
        boxes.append(
            Box(
                round(min(xs)),
                round(min(ys)) + dy,
                round(max(xs)),
                round(max(ys)) + dy,
                str(texts[k]) if texts is not None else "",
                float(scores[k]) if scores is not None else 1.0,
            )
        )
    return boxes


def detect_boxes(image: Any, top: int = 0, scale: float = 1.0) -> list[Box]:
    """Text boxes (no reading) in a bgr image of a frame's rows from `top` down, shrunk by
    `scale`, in frame pixels."""
    result = _engine()(image, use_det=True, use_cls=False, use_rec=False)
    return _boxes(getattr(result, "boxes", None), None, None, top, scale)


def read_band(image: Any, band: Band, at_ms: int, scale: float = 1.0) -> Reading:
    """The text in a band image (bgr, the band's rows of the frame shrunk by `scale`), boxes
    in frame pixels."""
    from dubkit.adapters.chinese import to_simplified

    result = _engine()(image, use_det=True, use_cls=False, use_rec=True)
    boxes = _boxes(result.boxes, getattr(result, "txts", None), result.scores, band.y0, scale)
    return read_frame(at_ms, boxes, to_simplified)


def locate_band(path: Path, info: VideoInfo, samples: int = BAND_SAMPLES) -> Band:
    """Where centred text keeps appearing in frames spread over the programme; the lower
    quarter when none had any."""
    found = find_subtitle_band(path, info, samples)
    return found if found is not None else default_band(info.height)


def find_subtitle_band(path: Path, info: VideoInfo, samples: int = BAND_SAMPLES) -> Band | None:
    """Where centred text keeps appearing in frames spread over the programme; None when
    none had any (no burned subtitles to read)."""
    top = int(info.height * LOWEST_TOP)  # find_band looks no higher
    frames = _spread_frames(path, info, samples, top)
    scale = _ocr_scale(info.height)
    return find_band([detect_boxes(f, top, scale) for f in frames], info.width, info.height)


class _Masks:
    """Text masks of the band: grey crop at MASK_ROWS scale, bright pixels beside a dark one,
    2x2 cells."""

    def __init__(self, info: VideoInfo, band: Band) -> None:
        import cv2
        import numpy as np

        self.band = band
        self.scale = min(1.0, MASK_ROWS / info.height)
        self.size = (
            max(8, round(info.width * self.scale)),
            max(8, round((band.y1 - band.y0) * self.scale)),
        )
        self.kernels = (np.ones((1, STROKE), np.uint8), np.ones((STROKE, 1), np.uint8))
        self.cv2, self.np = cv2, np

    def grey(self, frame: Any) -> Any:
        """The band's rows of the frame in grey, downscaled (a copy: frames are reused)."""
        np = self.np
        if frame.format.name in _GREY_PLANE:
            plane = frame.planes[0]
            rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
            crop = rows[self.band.y0 : self.band.y1, : frame.width]
        else:
            crop = frame.to_ndarray(format="gray")[self.band.y0 : self.band.y1]
        return self.cv2.resize(crop, self.size, interpolation=self.cv2.INTER_AREA)

    def mask(self, grey: Any) -> Any:
        cv2, np = self.cv2, self.np
        level = grey.astype(np.int16) - TEXT_EDGE

        def darker(kernel: Any, anchor: tuple[int, int]) -> Any:
            return cv2.erode(grey, kernel, anchor=anchor) <= level

        row, col = self.kernels
        across = darker(row, (STROKE - 1, 0)) & darker(row, (0, 0))
        down = darker(col, (0, STROKE - 1)) & darker(col, (0, 0))
        text = (grey >= TEXT_LEVEL) & (across | down)
        h, w = text.shape
        cells = text[: h - h % 2, : w - w % 2].reshape(h // 2, 2, w // 2, 2).any(axis=(1, 3))
        return cells

    def distance(self, a: Any, b: Any) -> float:
        np = self.np
        return mask_distance(int(a.sum()), int(b.sum()), int(np.count_nonzero(a & b)))


@dataclass
class _Open:
    """The shot being collected: its first frame's time, its text, band images to read."""

    start_ms: int
    text: bool
    images: list[tuple[int, Any]] = field(default_factory=list)
    seen: int = 0

    def add(self, at_ms: int, image: Any) -> None:
        self.seen += 1
        self.images.append((at_ms, image))
        if len(self.images) > KEEP_PER_SHOT:
            self.images = self.images[::2]


@dataclass(frozen=True)
class Scan:
    """The shots of the band, how many images the OCR read, and what went wrong on the way
    (one line each)."""

    shots: tuple[Shot, ...]
    calls: int
    warnings: tuple[str, ...] = ()


def scan(
    path: Path,
    info: VideoInfo,
    band: Band,
    sample_fps: float = SAMPLE_FPS,
    progress: Progress | None = None,
) -> Scan:
    """The shots of the band (runs of samples whose text did not change), each change timed to
    its frame, with readings of up to READINGS_PER_CUE band images of each shot that holds
    text. A sample every 1/`sample_fps` s of frame time (variable frame rates included), and
    the last frame, so a change after the last sample is timed too."""
    masks = _Masks(info, band)
    period_ms = 1000 / sample_fps
    recent: list[tuple[int, Any]] = []  # the frames since the last sample, this one last
    shots: list[Shot] = []
    calls = 0
    current: _Open | None = None
    last_mask: Any = None
    last_ms = 0
    next_ms = 0.0

    def close(shot: _Open, end_ms: int) -> None:
        nonlocal calls
        readings: list[Reading] = []
        if shot.text and shot.images:
            for k in spread(len(shot.images)):
                at_ms, image = shot.images[k]
                readings.append(read_band(image, band, at_ms, scale))
                calls += 1
        shots.append(Shot(shot.start_ms, max(shot.start_ms, end_ms), tuple(readings)))

    frame_ms = round(1000 / info.fps)
    scale = _ocr_scale(info.height)
    for at_ms, frame, final in _with_last(_frames(path)):
        last_ms = at_ms
        recent.append((at_ms, masks.grey(frame)))
        if at_ms < next_ms and not final:
            continue
        next_ms = (math.floor(at_ms / period_ms) + 1) * period_ms
        mask = masks.mask(recent[-1][1])
        text = has_text(int(mask.sum()))
        if current is None or last_mask is None:
            current = _Open(at_ms, text)
        elif band_changed(masks.distance(last_mask, mask)):
            between = [masks.mask(g) for _ms, g in recent]
            k = change_index(
                [masks.distance(last_mask, m) for m in between],
                [masks.distance(mask, m) for m in between],
            )
            boundary = recent[k][0]
            close(current, boundary)
            current = _Open(boundary, text)
        if text:
            image = frame.to_ndarray(format="bgr24")[band.y0 : band.y1]
            current.add(at_ms, _scaled(image, scale))
        last_mask = mask
        recent = []
        if progress is not None:
            progress(min(at_ms, info.duration_ms), info.duration_ms)
    if current is not None:
        close(current, last_ms + frame_ms)
    warnings: list[str] = []
    if current is not None and looks_truncated(last_ms + frame_ms, info.duration_ms, frame_ms):
        warnings.append(
            f"{path}: decoded only to {(last_ms + frame_ms) / 1000:.1f} s of "
            f"{info.duration_ms / 1000:.1f} s; the file looks truncated (reading what is there)"
        )
    return Scan(tuple(shots), calls, tuple(warnings))


def read_burned(
    path: Path,
    info: VideoInfo,
    band: Band,
    sample_fps: float = SAMPLE_FPS,
    progress: Progress | None = None,
    warnings: list[str] | None = None,
) -> tuple[tuple[BurnedCue, ...], int]:
    """The subtitles burned into `band` of `path`, as cues timed to the frame, and how many
    images the OCR read; nothing written. What went wrong on the way (a truncated file) is
    added to `warnings` when given."""
    found = scan(path, info, band, sample_fps, progress)
    if warnings is not None:
        warnings.extend(found.warnings)
    return build_cues(found.shots, info.width, info.height), found.calls


def read_file(
    path: Path,
    band: Band | None = None,
    sample_fps: float = SAMPLE_FPS,
    progress: Progress | None = None,
) -> OcrReading:
    """The subtitles burned into `path`, read in `band` (default: where text keeps appearing,
    `locate_band`); nothing written."""
    info = probe_video(path)
    chosen = check_band(band, info.height) if band else locate_band(path, info)
    warnings: list[str] = []
    cues, calls = read_burned(path, info, chosen, sample_fps, progress, warnings)
    return OcrReading(path, info, chosen, cues, calls, tuple(warnings))
