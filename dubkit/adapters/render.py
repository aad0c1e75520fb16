"""Burn subtitles into still frames or a short clip with ffmpeg and libass (previews).

ffmpeg 5.1's `subtitles` filter gives libass its *simple* shaper (FriBidi presentation forms),
which draws Noto Nastaliq Urdu as boxes: that font has no presentation forms and needs
HarfBuzz. So every input is turned into an ASS script first (ffmpeg converts SRT and WebVTT),
styled as dubkit ships its Urdu ASS (dubkit.subtitles.formats.ass_header), and drawn with the
`ass` filter and `shaping=complex`.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from dubkit.adapters.audio import open_container
from dubkit.errors import ConfigError, DubkitError, MediaError, OutputError, SubtitleParseError
from dubkit.fsutil import atomic_paths
from dubkit.subtitles.formats import ass_header, subtitle_kind
from dubkit.timecode import clock

BACKGROUND = "0x202020"  # dark grey, not black: outlines and shadows stay visible
BACKGROUND_SIZE = (1280, 720)
BACKGROUND_RATE = 25  # PAL, as DEFAULT_FPS
STOP_WAIT_S = 3  # for ffmpeg to end on SIGTERM before it is killed
MAX_CLIP_MS = 5 * 60 * 1000  # a preview, not an encode: longer clips take minutes on a laptop
_DEMUXERS = {"srt": "srt", "vtt": "webvtt"}  # ffmpeg reads these and writes them as ASS
# Square pixels (anamorphic PAL is 720x576 shown at 16:9) and even sides (H.264).
_SQUARE_EVEN = "scale=trunc(iw*sar/2)*2:trunc(ih/2)*2,setsar=1"
_FFMPEG_MISSING = "ffmpeg not found; run scripts/bootstrap.sh or apt-get install ffmpeg"
# Lines ffmpeg prints after the real reason; the reason is the last line that is not one.
_GENERIC = re.compile(
    r"^(Conversion failed!|Error while (filtering|processing the decoded data).*|"
    r"Error (initializing|reinitializing) (complex )?filters?.*|Failed to (inject|set value).*|"
    r"Error (opening|closing) (filters|output files?).*|av_interleaved_write_frame\(\).*|"
    r"Error writing trailer.*|Exiting normally.*|Nothing was written into output file.*|"
    r"Output file is empty, nothing was encoded.*|Error initializing output stream.*|"
    r"Could not write header for output file.*)$"
)
# Sound codecs ffmpeg's mp4 muxer stores as they are (FLAC only with -strict experimental in
# ffmpeg 5.1, PCM not at all). Lossless sound it cannot store (integer PCM, FLAC) is encoded to
# ALAC, lossless too: every sample stays as it was; any other is encoded to AAC at
# MP4_AUDIO_BITRATE.
MP4_AUDIO = frozenset({"aac", "mp3", "mp2", "ac3", "eac3", "alac", "opus", "dts"})
MP4_AUDIO_BITRATE = "256k"
_TO_ALAC = re.compile(r"^(flac|pcm_[su](8|16|24|32)(le|be)?(_planar)?)$")
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
    # (width, height) as rendered: square pixels, even sides (what _picture's `fit` makes)
    picture_size: tuple[int, int] | None = None
    frames: int | None = None  # pictures in the stream (its count, else duration x rate)
    audio_codecs: tuple[str, ...] = ()  # each sound stream's codec, in stream order


def audio_encoding(codec: str) -> str | None:
    """What burn encodes a sound stream of `codec` to: None (copied as it is), "alac" (lossless
    sound MP4 cannot hold) or "aac"."""
    if codec in MP4_AUDIO:
        return None
    return "alac" if _TO_ALAC.match(codec) else "aac"


def audio_to_encode(media: MediaInfo) -> list[tuple[str, str]]:
    """(codec, what it is encoded to) for `media`'s sound streams that MP4 cannot hold, each
    codec once, in stream order."""
    found = {c: audio_encoding(c) for c in media.audio_codecs}
    return [(c, to) for c, to in found.items() if to is not None]


def _sound_options(media: MediaInfo) -> list[str]:
    """ffmpeg's per-stream options for the sound streams burn cannot copy."""
    options: list[str] = []
    for n, codec in enumerate(media.audio_codecs):
        to = audio_encoding(codec)
        if to == "alac":
            options += [f"-c:a:{n}", "alac"]
        elif to == "aac":
            options += [f"-c:a:{n}", "aac", f"-b:a:{n}", MP4_AUDIO_BITRATE]
    return options


@dataclass(frozen=True, slots=True)
class PreparedSubtitles:
    """An ASS script ready for libass, and the font file it must use."""

    ass: str
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
        if not pictures:
            return MediaInfo(path, duration, None)
        stream = pictures[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio or 1
        size = (int(width * Fraction(sar) / 2) * 2, height // 2 * 2) if width and height else None
        frames = stream.frames or None
        if frames is None and duration and stream.average_rate:
            frames = round(duration / 1000 * float(stream.average_rate))
        sounds = tuple(s.codec_context.codec.canonical_name for s in container.streams.audio)
        return MediaInfo(path, duration, stream.index, size, frames, sounds)


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
        bad = unusable_style_number(text)
        if bad is not None:
            style, field, value = bad
            raise SubtitleParseError(
                f"{path}: style {style!r}: {field} {value!r} is not a finite number; give it "
                f"in pixels (Fontsize 48, Outline 2)",
                path=path,
            )
        script = set_style_font(text, font) if force_font else text
    else:
        script = ass_header(language="ur", font=font) + _events(_to_ass(path, text, kind))
    return PreparedSubtitles(ass=script, font=forced, font_file=file)


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


def _joined(sections: list[tuple[str, list[str]]]) -> str:
    """The script `_sections` split, whole again."""
    return "\n".join(line for _, lines in sections for line in lines)


def _fields(line: str) -> list[str]:
    return [f.strip().casefold() for f in line.split(":", 1)[1].split(",")]


def set_style_font(script: str, font: str) -> str:
    """`script` with `font` as the Fontname of every style (other fields untouched)."""
    sections = _sections(script)
    for name, lines in sections:
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
    return _joined(sections)


@dataclass(frozen=True, slots=True)
class Cover:
    """An opaque box drawn under the subtitles while a burned-in line is on screen, in the
    script's pixels (PlayResX x PlayResY)."""

    start_ms: int
    end_ms: int
    x0: float
    y0: float
    x1: float
    y1: float


COVER_COLOUR = "&H000000&"  # ASS BGR: black, as the letterbox of a picture
COVER_BOX = "&H00000000"  # the same black, opaque, as a style colour (alpha first)


def play_res(script: str) -> tuple[int, int]:
    """The script's PlayResX and PlayResY, as libass reads them (384x288 when neither is
    given; the missing one in 4:3, or 1280x1024, when only one is)."""
    values: dict[str, int] = {}
    for name, lines in _sections(script):
        if name == "script info":
            for line in lines:
                key, sep, value = line.partition(":")
                if sep and key.strip().casefold() in ("playresx", "playresy"):
                    with contextlib.suppress(ValueError):
                        values[key.strip().casefold()] = int(value.strip())
    x, y = values.get("playresx", 0), values.get("playresy", 0)
    if x <= 0 and y <= 0:
        return 384, 288
    if y <= 0:
        return x, 1024 if x == 1280 else x * 3 // 4
    if x <= 0:
        return 1280 if y == 1024 else y * 4 // 3, y
    return x, y


# A line's height is this times its font size: Nastaliq's ink reaches past the em libass
# sizes it by (measured: 24 rows for a 23.3-row em at 360p), so stacked lines need the air.
LINE_SPACING = 1.25
BOXED_STYLE = "dubkit-boxed"  # the style of a line placed on a cover (see boxed_style)


def boxed_style(script: str) -> str:
    """`script` with one more style, BOXED_STYLE: its first style with an opaque black box
    behind the text (BorderStyle 3), so that a line placed on a cover box never spills onto
    the picture however much wider than the burned text it is. A line takes it with
    `\\r` + BOXED_STYLE (libass). Unchanged when the script has no style to copy."""
    sections = _sections(script)
    fields = None
    for name, lines in sections:
        if name not in ("v4+ styles", "v4 styles"):
            continue
        for number, line in enumerate(lines):
            if line.lower().startswith("format:"):
                fields = _fields(line)
            elif line.lower().startswith("style:"):
                values = [v.strip() for v in line.split(":", 1)[1].split(",")]
                if fields is None or len(values) != len(fields):
                    return script
                wanted = {"name": BOXED_STYLE, "borderstyle": "3", "outlinecolour": COVER_BOX,
                          "backcolour": COVER_BOX, "shadow": "0"}  # fmt: skip
                for key, value in wanted.items():
                    if key in fields:
                        values[fields.index(key)] = value
                outline = fields.index("outline") if "outline" in fields else None
                if outline is not None:  # the box's margin around the text
                    with contextlib.suppress(ValueError):
                        values[outline] = str(max(4.0, float(values[outline]) * 2))
                lines.insert(number + 1, "Style: " + ",".join(values))
                return _joined(sections)
    return script


def dialogue_spans(script: str) -> list[tuple[int, int] | None]:
    """(start_ms, end_ms) of each Dialogue line of the script, in file order; None for one
    whose times cannot be read (libass skips it)."""
    spans: list[tuple[int, int] | None] = []
    for _, fields, values in _dialogues(script):
        if values is None or not {"start", "end"} <= set(fields):
            spans.append(None)
            continue
        start = _ass_ms(values[fields.index("start")])
        end = _ass_ms(values[fields.index("end")])
        spans.append((start, end) if start is not None and end is not None else None)
    return spans


def dialogue_heights(script: str, style: str | None = None) -> list[float]:
    """The height of each Dialogue line of the script (as dialogue_spans: 0 for one that
    cannot be read), in file order, in the script's pixels (PlayResY): its lines (\\N
    breaks) times its style's Fontsize (libass sizes a font so that its ascent and descent
    fill it) scaled by ScaleY and LINE_SPACING, plus the outline above and below and the
    shadow.
    `style` names a style to measure every line in instead of its own (a `\\r` override)."""
    sizes: dict[str, tuple[float, float]] = {}  # style name: (line height, outline + shadow)
    for name, lines in _sections(script):
        if name not in ("v4+ styles", "v4 styles"):
            continue
        keys: list[str] = []
        for line in lines:
            if line.lower().startswith("format:"):
                keys = _fields(line)
            elif line.lower().startswith("style:") and {"name", "fontsize"} <= set(keys):
                values = [v.strip() for v in line.split(":", 1)[1].split(",")]
                if len(values) != len(keys):
                    continue
                row = dict(zip(keys, values, strict=True))
                size = _number(row, "fontsize", 18) * _number(row, "scaley", 100) / 100
                edge = 2 * _number(row, "outline", 2) + _number(row, "shadow", 0)
                sizes.setdefault(row["name"], (size * LINE_SPACING, edge))
    fallback = next(iter(sizes.values()), (18 * LINE_SPACING, 4.0))
    heights = []
    for _, fields, cells in _dialogues(script):
        if cells is None:  # as dialogue_spans: one entry per Dialogue line
            heights.append(0.0)
            continue
        own = cells[fields.index("style")].strip() if "style" in fields else ""
        size, edge = sizes.get(style or own, sizes.get(own.lstrip("*"), fallback))
        text = cells[fields.index("text")] if "text" in fields else ""
        rows = text.count("\\N") + 1
        heights.append(rows * size + edge)
    return heights


def _number(row: dict[str, str], key: str, default: float) -> float:
    """A style's number, `default` when it is missing, unreadable or not finite (nan, inf)."""
    try:
        value = float(row[key]) if key in row else default
    except ValueError:
        return default
    return value if math.isfinite(value) else default


# The style fields libass reads as numbers of pixels, scales or angles: one that is nan or
# inf makes it draw nothing, or somewhere off the picture.
_STYLE_NUMBERS = frozenset(
    ["fontsize", "scalex", "scaley", "spacing", "angle", "outline", "shadow",
     "marginl", "marginr", "marginv"]
)  # fmt: skip


def unusable_style_number(script: str) -> tuple[str, str, str] | None:
    """The first (style, field, value) of the script's styles whose number is not finite
    ("nan", "inf"), or None: what libass would draw from it is no subtitle."""
    for name, lines in _sections(script):
        if name not in ("v4+ styles", "v4 styles"):
            continue
        names: list[str] = []
        for line in lines:
            if line.lower().startswith("format:"):
                names = [f.strip() for f in line.split(":", 1)[1].split(",")]
            elif line.lower().startswith("style:") and names:
                values = [v.strip() for v in line.split(":", 1)[1].split(",")]
                row = dict(zip((f.casefold() for f in names), values, strict=False))
                for field, value in zip(names, values, strict=False):
                    if field.casefold() not in _STYLE_NUMBERS:
                        continue
                    try:
                        number = float(value)
                    except ValueError:
                        continue
                    if not math.isfinite(number):
                        return row.get("name", "?"), field, value
    return None


def place_dialogues(script: str, tags: Sequence[str], covers: Sequence[Cover] = ()) -> str:
    """`script` with override `tags` (e.g. "\\an5\\pos(960,980)") put before the text of
    each Dialogue line, in file order ("" leaves one as it is: libass honours the first
    \\an and \\pos of a line, so these win over the line's own), and an opaque box for each
    of `covers`, in a layer below every line's so that it never pushes a line aside and is
    drawn under all of them."""
    lines = script.replace("\r\n", "\n").split("\n")
    layers, index, first_style = [], 0, "Default"
    where: list[tuple[int, list[str]]] = []  # (line number, the events' Format fields)
    for number, fields, values in _dialogues(script):
        if values is None:
            continue
        if "layer" in fields:
            with contextlib.suppress(ValueError):
                layers.append(int(values[fields.index("layer")]))
        if "style" in fields and not where:
            first_style = values[fields.index("style")].strip() or first_style
        where.append((number, fields))
        if index < len(tags) and tags[index] and "text" in fields:
            position = fields.index("text")
            values[position] = "{" + tags[index] + "}" + values[position]
            lines[number] = f"{lines[number].split(':', 1)[0]}:{','.join(values)}"
        index += 1
    if covers:
        layer = min([0, *layers]) - 1
        fields = where[0][1] if where else ["layer", "start", "end", "style", "name", "marginl",
                                            "marginr", "marginv", "effect", "text"]  # fmt: skip
        boxes = [_cover_line(c, fields, layer, first_style) for c in covers]
        at = where[0][0] if where else len(lines)
        if not where:
            lines += ["[Events]", "Format: " + ", ".join(fields)]
            at = len(lines)
        lines[at:at] = boxes
    return "\n".join(lines)


# A [Script Info] line (libass ignores keys it does not know) saying how dubkit placed the
# script's lines, so that a script placed once (the Urdu ASS `run` writes) is not placed again.
PLACEMENT_KEY = "X-Dubkit-Placement"


def placement(script: str) -> str | None:
    """How dubkit placed the script's lines (the PLACEMENT_KEY value), or None."""
    for name, lines in _sections(script):
        if name == "script info":
            for line in lines:
                key, sep, value = line.partition(":")
                if sep and key.strip().casefold() == PLACEMENT_KEY.casefold():
                    return value.strip() or None
    return None


def with_placement(script: str, how: str) -> str:
    """`script` recording in its [Script Info] that dubkit placed its lines `how` (an
    earlier record replaced); unchanged when it has no [Script Info]."""
    sections = _sections(script)
    infos = [lines for name, lines in sections if name == "script info"]
    for lines in infos:
        for number, line in enumerate(lines[1:], start=1):  # after the section's header
            if line.partition(":")[0].strip().casefold() == PLACEMENT_KEY.casefold():
                lines[number] = f"{PLACEMENT_KEY}: {how}"
                return _joined(sections)
    if not infos:
        return script
    infos[0].insert(1, f"{PLACEMENT_KEY}: {how}")
    return _joined(sections)


def cover_count(script: str) -> int:
    """The opaque boxes (as _cover_line draws them) among the script's Dialogue lines."""
    mark = f"\\1c{COVER_COLOUR}\\1a&H00&\\p3}}m 0 0 l "
    return sum(
        1
        for _, fields, values in _dialogues(script)
        if values is not None and "text" in fields and mark in values[fields.index("text")]
    )


def _cover_line(cover: Cover, fields: list[str], layer: int, style: str) -> str:
    # Drawn with \\p3 (coordinates in quarter pixels) from its top-left corner at \\pos with
    # \\an7: libass aligns a drawing by its bounding box, which is then exactly the box.
    w, h = round((cover.x1 - cover.x0) * 4), round((cover.y1 - cover.y0) * 4)
    text = (
        f"{{\\an7\\pos({cover.x0:.2f},{cover.y0:.2f})\\bord0\\shad0\\be0\\blur0\\fscx100"
        f"\\fscy100\\frz0\\1c{COVER_COLOUR}\\1a&H00&\\p3}}m 0 0 l {w} 0 {w} {h} 0 {h}{{\\p0}}"
    )
    values = {
        "layer": str(layer),
        "start": clock(cover.start_ms, ".", fraction=2, hours=1),
        # rounded out to the next centisecond: the whole cue is covered
        "end": clock(-(-cover.end_ms // 10) * 10, ".", fraction=2, hours=1),
        "style": style,
        "text": text,
    }
    return "Dialogue: " + ",".join(
        values.get(f, "0" if f.startswith("margin") else "") for f in fields
    )


def _dialogues(script: str) -> Iterator[tuple[int, list[str], list[str] | None]]:
    """(line number in the script, the Format fields, the values or None) of each Dialogue
    line of the [Events] section."""
    number = -1
    for name, lines in _sections(script):
        fields = ["layer", "start", "end", "style", "name", "marginl", "marginr", "marginv",
                  "effect", "text"]  # fmt: skip
        for line in lines:
            number += 1
            if name != "events":
                continue
            if line.lower().startswith("format:"):
                fields = _fields(line)
            elif line.lower().startswith("dialogue:"):
                values = line.split(":", 1)[1].split(",", len(fields) - 1)
                yield number, fields, values if len(values) == len(fields) else None


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
    with _libass(subtitles, folder, "preview") as burn, atomic_paths(targets) as temp:
        for still in stills:
            out = temp[still.path]
            what = f"frame at {_seconds(still.at_ms)} s of {media.path}"
            _run(ffmpeg, _still_args(media, still.at_ms, burn, size, out), what, out)
        if clip is not None:
            out = temp[clip.path]
            what = f"clip at {_seconds(clip.start_ms)} s of {media.path}"
            _run(ffmpeg, _clip_args(media, clip, burn, size, out), what, out)
    return targets


@contextlib.contextmanager
def _libass(subtitles: PreparedSubtitles, folder: Path, what: str) -> Iterator[str]:
    """The `ass` filter drawing `subtitles`: the script and its font in a hidden folder
    inside `folder` (removed afterwards), shaped by HarfBuzz."""
    try:
        work = Path(tempfile.mkdtemp(prefix=f".dubkit-{what}-", dir=folder))
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
        yield (
            f"ass=filename={filter_value(str(script))}:fontsdir={filter_value(str(fonts))}"
            ":shaping=complex"
        )
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot write ({exc.strerror or exc}); check the path and permissions, "
            f"or choose another folder with -o",
            path=folder,
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(work)


def burn(
    media: MediaInfo,
    subtitles: PreparedSubtitles,
    output: Path,
    crf: int,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """The whole programme with `subtitles` burnt in (H.264 at `crf`, every sound stream
    copied untouched, or encoded as `audio_encoding` says when MP4 cannot hold its codec) as
    MP4 at `output`:
    written to a temporary file beside it and renamed over it (a symlink planted there is
    replaced, never followed). `progress(frames done, frames in all)` as ffmpeg reports them."""
    ffmpeg = ffmpeg_path()
    if media.video_stream is None:
        raise MediaError(f"{media.path}: has no picture to burn subtitles into", path=media.path)
    sound = _sound_options(media)
    with _libass(subtitles, output.parent, "burn") as filters, atomic_paths([output]) as temp:
        out = temp[output]
        args = [
            ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats", "-y",
            "-i", str(media.path), "-map", f"0:{media.video_stream}", "-map", "0:a?",
            "-vf", f"{_SQUARE_EVEN},{filters}", "-fps_mode", "passthrough",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-c:a", "copy", *sound, "-movflags", "+faststart", "-progress", "pipe:1",
            "-f", "mp4", str(out),
        ]  # fmt: skip
        log = out.with_name(out.name + ".log")
        try:
            with log.open("w+b") as errors:
                code = _follow(args, errors, media.frames or 0, progress)
                errors.seek(0)
                stderr = errors.read(1 << 20)
        finally:
            with contextlib.suppress(OSError):
                log.unlink()
        what = f"{media.path} with {output.name}"
        if code != 0:
            raise RenderError(f"ffmpeg could not burn the subtitles into {what}: {_reason(stderr)}")
        if out.stat().st_size == 0:
            raise RenderError(f"ffmpeg wrote nothing for {what}: {_reason(stderr)}")
    return output


def _follow(
    args: list[str], errors: Any, total: int, progress: Callable[[int, int], None] | None
) -> int:
    """Run ffmpeg, passing each `frame=N` of its -progress report to `progress`. Whatever
    stops the reading (Ctrl-C, a signal turned into an exception, an error in `progress`)
    stops ffmpeg too, and waits for it, before it goes on: no ffmpeg is left encoding."""
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors) as proc:
        try:
            for raw in proc.stdout or ():
                key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                if key == "frame" and value.isdigit() and progress is not None:
                    done = int(value)
                    progress(done, max(total, done))
                elif key == "progress" and value == "end" and progress is not None and total:
                    progress(total, total)
            return proc.wait()
        except BaseException:
            _stop(proc)
            raise


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Ask `proc` to end (SIGTERM), kill it when it has not within STOP_WAIT_S, reap it."""
    proc.terminate()
    try:
        proc.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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
        fit = _SQUARE_EVEN
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
