"""Burn subtitles into still frames or a short clip with ffmpeg and libass (previews).

ffmpeg 5.1's `subtitles` filter gives libass its *simple* shaper (FriBidi presentation forms),
which draws Noto Nastaliq Urdu as boxes: that font has no presentation forms and needs
HarfBuzz. So every input is turned into an ASS script first (ffmpeg converts SRT and WebVTT),
styled as dubkit ships its Urdu ASS (dubkit.subtitles.formats.ass_header), and drawn with the
`ass` filter and `shaping=complex`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dubkit.adapters.audio import open_container
from dubkit.errors import ConfigError, DubkitError, MediaError, OutputError, SubtitleParseError
from dubkit.fsutil import atomic_paths
from dubkit.subtitles.formats import ass_header, subtitle_kind

BACKGROUND = "0x202020"  # dark grey, not black: outlines and shadows stay visible
BACKGROUND_SIZE = (1280, 720)
BACKGROUND_RATE = 25  # PAL, as DEFAULT_FPS
MAX_CLIP_MS = 5 * 60 * 1000  # a preview, not an encode: longer clips take minutes on a laptop
_DEMUXERS = {"srt": "srt", "vtt": "webvtt"}  # ffmpeg reads these and writes them as ASS
_FFMPEG_MISSING = "ffmpeg not found; run scripts/bootstrap.sh or apt-get install ffmpeg"
# Lines ffmpeg prints after the real reason; the reason is the last line that is not one.
_GENERIC = re.compile(
    r"^(Conversion failed!|Error while (filtering|processing the decoded data).*|"
    r"Error (initializing|reinitializing) (complex )?filters?.*|Failed to (inject|set value).*|"
    r"Error (opening|closing) (filters|output files?).*|av_interleaved_write_frame\(\).*|"
    r"Error writing trailer.*|Exiting normally.*|Nothing was written into output file.*|"
    r"Output file is empty, nothing was encoded.*)$"
)
_LOG_PREFIX = re.compile(r"^(\[[^\]]* @ 0x[0-9a-f]+\] *)+")


class ToolMissing(DubkitError):
    """An external program dubkit runs (ffmpeg) is not installed."""


class FontMissing(DubkitError):
    """The font asked for is not installed, so libass would silently use another."""


class RenderError(DubkitError):
    """ffmpeg failed to render a preview."""


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What rendering needs to know about a media file."""

    path: Path
    duration_ms: int | None
    video_stream: int | None  # index of the picture stream; None: audio only (background)


@dataclass(frozen=True, slots=True)
class PreparedSubtitles:
    """An ASS script ready for libass, and the font file it must use."""

    ass: str
    spans: tuple[tuple[int, int], ...]  # (start_ms, end_ms) of each event, in time order
    font: str | None  # family forced on the script; None: the script's own styles
    font_file: Path | None  # None: fontconfig could not be asked (fc-list missing)


@dataclass(frozen=True, slots=True)
class Still:
    at_ms: int
    path: Path


@dataclass(frozen=True, slots=True)
class Clip:
    start_ms: int
    duration_ms: int
    path: Path


def ffmpeg_path() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise ToolMissing(_FFMPEG_MISSING)
    return path


def probe(path: Path) -> MediaInfo:
    """Duration and picture stream of `path`; MediaError when ffmpeg cannot read it."""
    import av

    with open_container(path) as container:
        # Cover art in an MP3 or M4A is a one-frame "video" stream: not a picture to preview.
        pictures = [
            s
            for s in container.streams.video
            if not s.disposition & av.stream.Disposition.attached_pic
        ]
        if not pictures and not container.streams.audio:
            raise MediaError(f"{path}: has neither picture nor sound; use the programme file")
        duration = container.duration // 1000 if container.duration else None
        return MediaInfo(path, duration, pictures[0].index if pictures else None)


def prepare_subtitles(path: Path, text: str, font: str, force_font: bool) -> PreparedSubtitles:
    """The subtitles as a styled ASS script.

    SRT and WebVTT get the style dubkit ships its Urdu ASS with, in `font`; an ASS script
    keeps its own styles unless `force_font`, which puts `font` in all of them.
    """
    if not font.strip() or any(c in font for c in ",\n\r{}\\"):
        raise ConfigError(f"--font {font!r}: name a font family (no commas, braces, backslashes)")
    kind = subtitle_kind(path, text)
    if kind is None:
        raise SubtitleParseError(
            f"{path}: not a subtitle file dubkit can preview; use .srt, .vtt or .ass", path=path
        )
    forced = font if force_font or kind != "ass" else None
    file = font_file(forced) if forced else None  # before any work: a missing font fails fast
    if kind == "ass":
        script = set_style_font(text, font) if force_font else text
    else:
        script = ass_header(language="ur", font=font) + _events(_to_ass(path, text, kind))
    return PreparedSubtitles(
        ass=script, spans=tuple(sorted(ass_spans(script))), font=forced, font_file=file
    )


def _to_ass(path: Path, text: str, kind: str) -> str:
    """ffmpeg's own reading of SRT or WebVTT, as ASS (keeps <i>, <b>, <font> as overrides)."""
    done = subprocess.run(
        [ffmpeg_path(), "-nostdin", "-hide_banner", "-loglevel", "error",
         "-f", _DEMUXERS[kind], "-i", "pipe:0", "-f", "ass", "pipe:1"],
        input=text.encode("utf-8"),
        capture_output=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SubtitleParseError(
            f"{path}: ffmpeg cannot read it as {kind} ({_reason(done.stderr)})", path=path
        )
    return done.stdout.decode("utf-8", "replace")


def _events(ass: str) -> str:
    text = ass.replace("\r\n", "\n")
    start = text.find("[Events]")
    return text[start:] if start >= 0 else "[Events]\n"


def _sections(text: str) -> list[tuple[str, list[str]]]:
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in text.lstrip("\ufeff").replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            sections.append((stripped[1:-1].strip().casefold(), [line]))
        else:
            sections[-1][1].append(line)
    return sections


def _fields(line: str) -> list[str]:
    return [f.strip().casefold() for f in line.split(":", 1)[1].split(",")]


def set_style_font(script: str, font: str) -> str:
    """`script` with `font` as the Fontname of every style (other fields untouched)."""
    out: list[str] = []
    for name, lines in _sections(script):
        if name in ("v4+ styles", "v4 styles"):
            position = None
            for n, line in enumerate(lines):
                if line.lower().startswith("format:"):
                    fields = _fields(line)
                    position = fields.index("fontname") if "fontname" in fields else None
                elif line.lower().startswith("style:") and position is not None:
                    head, values = line.split(":", 1)
                    parts = values.split(",")
                    if position < len(parts):
                        parts[position] = font
                        lines[n] = f"{head}:{','.join(parts)}"
        out.extend(lines)
    return "\n".join(out)


def ass_spans(script: str) -> list[tuple[int, int]]:
    """(start_ms, end_ms) of every Dialogue event of an ASS script."""
    spans: list[tuple[int, int]] = []
    for name, lines in _sections(script):
        if name != "events":
            continue
        fields = ["layer", "start", "end"]
        for line in lines:
            if line.lower().startswith("format:"):
                fields = _fields(line)
            elif line.lower().startswith("dialogue:") and {"start", "end"} <= set(fields):
                values = line.split(":", 1)[1].split(",", len(fields) - 1)
                if len(values) == len(fields):
                    start = _ass_ms(values[fields.index("start")])
                    end = _ass_ms(values[fields.index("end")])
                    if start is not None and end is not None and end > start:
                        spans.append((start, end))
    return spans


def _ass_ms(value: str) -> int | None:
    m = re.fullmatch(r"\s*(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d{1,3}))?\s*", value)
    if m is None:
        return None
    h, mi, s, frac = m.groups()
    return ((int(h) * 60 + int(mi)) * 60 + int(s)) * 1000 + int((frac or "0").ljust(3, "0"))


def font_file(family: str) -> Path | None:
    """The installed file of `family` (its regular face), via fontconfig.

    libass silently falls back to another font when a family is missing; asking first turns
    that into an error. The file also goes to libass through `fontsdir`, which takes
    precedence over fontconfig: Debian's Noto Nastaliq Urdu Bold claims the regular weight,
    and fontconfig would otherwise hand libass the bold face. None when fc-list is missing.
    """
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    listing = subprocess.run(
        [fc_list, "--format", "%{file}\t%{family}\t%{style}\n"],
        capture_output=True,
        text=True,
        errors="replace",
    ).stdout
    wanted = family.strip().casefold()
    faces: list[tuple[bool, str]] = []
    for line in listing.splitlines():
        file, families, styles = [*line.split("\t"), "", ""][:3]
        if wanted in {f.strip().casefold() for f in families.split(",")}:
            regular = bool({"regular", "book", "normal", "roman"} & _names(styles))
            faces.append((not regular, file))
    if not faces:
        raise FontMissing(
            f"font {family!r} is not installed (fc-list knows no such family); install it "
            f"(Debian fonts-noto-core has Noto Nastaliq Urdu and Noto Naskh Arabic) or choose "
            f"another with --font"
        )
    return Path(min(faces)[1])


def _names(styles: str) -> set[str]:
    return {s.strip().casefold() for s in styles.split(",")}


def filter_value(text: str) -> str:
    """`text` as one option value in an ffmpeg filter graph, escaped for both levels.

    The filter's option parser treats \\ ' : specially; the graph parser before it also
    \\ ' [ ] , ; — so a path like "/tmp/a, b's [1]: c.ass" reaches libass unchanged.
    """
    option_level = re.sub(r"([\\':])", r"\\\1", text)
    return re.sub(r"([\\'\[\],;])", r"\\\1", option_level)


def render(
    media: MediaInfo,
    subtitles: PreparedSubtitles,
    stills: Sequence[Still],
    clip: Clip | None,
    size: tuple[int, int] | None,
) -> list[Path]:
    """Render every still and the clip to temporary files beside them, then rename them into
    place (dubkit.fsutil.atomic_paths): an error part-way leaves none of the new files."""
    ffmpeg = ffmpeg_path()
    targets = [s.path for s in stills] + ([clip.path] if clip else [])
    if not targets:
        return []
    folder = targets[0].parent
    try:
        work = Path(tempfile.mkdtemp(prefix=".dubkit-preview-", dir=folder))
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot write here ({exc.strerror or exc}); choose another folder with -o",
            path=folder,
        ) from exc
    try:
        script = work / "subtitles.ass"
        script.write_text(subtitles.ass, encoding="utf-8")
        fonts = work / "fonts"
        fonts.mkdir()
        if subtitles.font_file is not None:
            os.symlink(subtitles.font_file, fonts / subtitles.font_file.name)
        burn = f"ass=filename={filter_value(str(script))}:fontsdir={filter_value(str(fonts))}"
        burn += ":shaping=complex"
        with atomic_paths(targets) as temp:
            for still in stills:
                out = temp[still.path]
                what = f"frame at {_seconds(still.at_ms)} s of {media.path}"
                _run(ffmpeg, _still_args(media, still.at_ms, burn, size, out), what, out)
            if clip is not None:
                out = temp[clip.path]
                what = f"clip at {_seconds(clip.start_ms)} s of {media.path}"
                _run(ffmpeg, _clip_args(media, clip, burn, size, out), what, out)
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot write ({exc.strerror or exc}); check the path and permissions, "
            f"or choose another folder with -o",
            path=folder,
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(work)
    return targets


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.3f}"


def _picture(
    media: MediaInfo, at_ms: int, size: tuple[int, int] | None
) -> tuple[list[str], str, str]:
    """Input options, the picture's -map and the filters before the subtitles, for a picture
    starting at `at_ms`.

    Seeking makes the picture's timestamps start at 0; `setpts` puts them back at the
    programme's time, which is what the subtitles are timed against.
    """
    shift = f"setpts=PTS+{_seconds(at_ms)}/TB"
    if media.video_stream is None:
        width, height = size or BACKGROUND_SIZE
        # RGB inside the source graph: the PNG gets exactly BACKGROUND, not a YUV round trip.
        source = f"color=c={BACKGROUND}:s={width}x{height}:r={BACKGROUND_RATE},format=rgb24"
        return ["-f", "lavfi", "-i", source], "0:v:0", shift
    if size is None:
        # Square pixels (anamorphic PAL is 720x576 shown at 16:9) and even sides (H.264).
        fit = "scale=trunc(iw*sar/2)*2:trunc(ih/2)*2,setsar=1"
    else:
        w, h = size
        fit = (
            f"scale={w}:{h}:force_original_aspect_ratio=decrease,"
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1"
        )
    return (
        ["-ss", _seconds(at_ms), "-i", str(media.path)],
        f"0:{media.video_stream}",
        f"{fit},{shift}",
    )


def _still_args(
    media: MediaInfo, at_ms: int, burn: str, size: tuple[int, int] | None, out: Path
) -> list[str]:
    inputs, picture, chain = _picture(media, at_ms, size)
    # PNG by name, not by suffix (`out` is a temporary name); -update 1: one file, never a
    # pattern (a '%' in the name stays a '%')
    return [*inputs, "-map", picture, "-vf", f"{chain},{burn}", "-frames:v", "1",
            "-c:v", "png", "-f", "image2", "-update", "1", str(out)]  # fmt: skip


def _clip_args(
    media: MediaInfo, clip: Clip, burn: str, size: tuple[int, int] | None, out: Path
) -> list[str]:
    inputs, picture, chain = _picture(media, clip.start_ms, size)
    sound = "0:a:0?"
    if media.video_stream is None:
        inputs += ["-ss", _seconds(clip.start_ms), "-i", str(media.path)]
        sound = "1:a:0?"
    back = f"setpts=PTS-{_seconds(clip.start_ms)}/TB"
    return [
        *inputs, "-map", picture, "-map", sound, "-vf", f"{chain},{burn},{back}",
        "-t", _seconds(clip.duration_ms),
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-f", "mp4", str(out),
    ]  # fmt: skip


def _run(ffmpeg: str, args: list[str], what: str, out: Path) -> None:
    done = subprocess.run(
        [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        capture_output=True,
    )
    if done.returncode != 0:
        raise RenderError(f"ffmpeg could not render the {what}: {_reason(done.stderr)}")
    if not out.is_file() or out.stat().st_size == 0:
        raise RenderError(
            f"ffmpeg rendered no {what}: the time is past the last picture; choose an earlier one"
        )


def _reason(stderr: bytes) -> str:
    """The last line of ffmpeg's log that says what went wrong, without its [filter @ 0x…]."""
    text = stderr.decode("utf-8", "replace")
    lines = [ln for ln in (_LOG_PREFIX.sub("", raw).strip() for raw in text.splitlines()) if ln]
    meaningful = [ln for ln in lines if not _GENERIC.match(ln)]
    return (meaningful or lines or ["no message"])[-1]
