"""`dubkit preview`'s plan: the options checked against the media and the subtitles (their
cue times, the frame size, the clip) before ffmpeg runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dubkit.constants import URDU_FONT
from dubkit.errors import ConfigError, SubtitleParseError

if TYPE_CHECKING:
    from dubkit.adapters.render import Clip, MediaInfo, PreparedSubtitles, Still

DEFAULT_STILLS = 6  # enough to judge font, size and line breaks without rendering a programme
_SIZE = re.compile(r"(\d{2,5})[xX](\d{2,5})")
_NUMBER = r"\d+(?:\.\d*)?|\.\d+"
_CLIP = re.compile(rf"({_NUMBER}):({_NUMBER})")


@dataclass(frozen=True, slots=True)
class PreviewPlan:
    """What `dubkit preview` renders: the media, the prepared subtitles, stills, a clip."""

    media: MediaInfo
    subtitles: PreparedSubtitles
    stills: tuple[Still, ...]
    clip: Clip | None
    size: tuple[int, int] | None


def plan_preview(
    media: Path,
    subtitles: Path,
    outdir: Path,
    at: list[float] | None,
    count: int,
    clip: str | None,
    font: str | None,
    size: str | None,
    cover_burned: bool = False,
    ocr: Path | None = None,
) -> PreviewPlan:
    """Every input checked, and every output named, before anything is rendered."""
    from dubkit.adapters import render
    from dubkit.episode.burn import (
        find_geometry,
        fitted_picture,
        needs_geometry,
        place,
        whole_picture,
    )
    from dubkit.fsutil import ensure_writable_dir
    from dubkit.subtitles.files import read_subtitle_text
    from dubkit.subtitles.formats import subtitle_kind

    frame_size = _parse_size(size) if size is not None else None
    clip_span = _parse_clip(clip) if clip is not None else None
    if subtitle_kind(subtitles) is None:
        raise SubtitleParseError(
            f"{subtitles}: not a subtitle file dubkit can preview; use .srt, .vtt or .ass",
            path=subtitles,
        )
    info = render.probe(media)
    text = read_subtitle_text(subtitles)
    spans = _cue_spans(subtitles, text)
    if not spans:
        raise SubtitleParseError(f"{subtitles}: no cues; nothing to preview", path=subtitles)
    prepared = render.prepare_subtitles(subtitles, text, font or URDU_FONT, font is not None)
    if info.picture_size is None:
        if cover_burned:
            raise ConfigError(f"--cover-burned: {media} has no picture with subtitles to cover")
    else:
        geometry = (
            find_geometry(media, subtitles, ocr, cover_burned, info.picture_size)
            if needs_geometry(prepared.ass, cover_burned)
            else None
        )
        picture = (
            fitted_picture(info.picture_size, frame_size)
            if frame_size is not None
            else whole_picture(info.picture_size)
        )
        prepared, _ = place(prepared, geometry, picture, cover_burned)
    stem = media.stem
    if at:
        times = [(n, round(s * 1000), f"--at {s:g} s") for n, s in enumerate(at, start=1)]
    elif clip_span is None:
        times = [
            (n, (start + end) // 2, f"cue {n} ({(start + end) / 2000:g} s)")
            for n, (start, end) in enumerate(spans[:count], start=1)
        ]
    else:
        times = []
    for _, ms, label in times:
        _check_time(info, ms, label, "" if at else "; are these the subtitles of this programme?")
    if clip_span is not None:
        _check_time(info, clip_span[0], f"--clip start {clip_span[0] / 1000:g} s", "")
    ensure_writable_dir(outdir)
    stills = tuple(render.Still(ms, outdir / f"{stem}.preview.{n:04d}.png") for n, ms, _ in times)
    movie = (
        render.Clip(clip_span[0], clip_span[1], outdir / f"{stem}.preview.mp4")
        if clip_span is not None
        else None
    )
    return PreviewPlan(info, prepared, stills, movie, frame_size)


def _parse_size(text: str) -> tuple[int, int]:
    m = _SIZE.fullmatch(text.strip())
    if m is None:
        raise ConfigError(f"--size {text!r}: write WIDTHxHEIGHT, e.g. 1280x720")
    width, height = int(m.group(1)), int(m.group(2))
    if not (16 <= width <= 7680 and 16 <= height <= 4320) or width % 2 or height % 2:
        raise ConfigError(
            f"--size {text}: sides must be even numbers from 16x16 to 7680x4320 (H.264 needs "
            f"even sides)"
        )
    return width, height


def _parse_clip(text: str) -> tuple[int, int]:
    from dubkit.adapters.render import MAX_CLIP_MS

    m = _CLIP.fullmatch(text.strip())
    if m is None:
        raise ConfigError(f"--clip {text!r}: write START:DURATION in seconds, e.g. 62.5:8")
    start, duration = round(float(m.group(1)) * 1000), round(float(m.group(2)) * 1000)
    if not 0 < duration <= MAX_CLIP_MS:
        raise ConfigError(
            f"--clip {text}: the duration must be more than 0 and at most "
            f"{MAX_CLIP_MS // 1000} s (a preview, not an encode)"
        )
    return start, duration


def _cue_spans(path: Path, text: str) -> tuple[tuple[int, int], ...]:
    """Cue times as dubkit reads the file (its errors name the line)."""
    from dubkit.fsutil import display_path
    from dubkit.subtitles.formats import read_subtitles, subtitle_kind

    cues = read_subtitles(text, display_path(path), kind=subtitle_kind(path, text)).cues
    return tuple(sorted((c.start_ms, c.end_ms) for c in cues))


def _check_time(media: MediaInfo, ms: int, label: str, hint: str) -> None:
    if media.duration_ms is not None and ms >= media.duration_ms:
        raise ConfigError(
            f"{label} is past the end of {media.path} ({media.duration_ms / 1000:g} s){hint}"
        )
