"""`dubkit burn`'s plan, and where the Urdu goes on a programme that has subtitles burned in.

The burned subtitles' geometry comes from the OCR stage's STEM.ocr.json: the band of rows
they occupy and, for each burned cue, the box its text covers (full-frame pixels of the
frames OCR read). With it, the Urdu sits above the band, never on the burned text; with
`--cover-burned`, an opaque box hides each burned cue while it is on screen and the Urdu is
centred in that box instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dubkit import constants as C
from dubkit.constants import URDU_FONT
from dubkit.errors import ConfigError, DubkitError, MediaError, SubtitleParseError

if TYPE_CHECKING:
    from dubkit.adapters.render import MediaInfo, PreparedSubtitles

DEFAULT_CRF = 20  # x264: no visible loss on broadcast pictures at about half the size of 18
CRF_RANGE = (0, 51)  # libx264's scale: 0 lossless, 51 the worst it can do
ABOVE_BAND_GAP = 0.01  # of the picture's height, between the Urdu's last line and the band
SHAPE_TOLERANCE = 0.02  # an ocr.json's frame may differ this much in shape (rounding, crops)
# How dubkit placed a script's lines (recorded in the script: see render.with_placement).
PLACED_ABOVE = "above-band"  # above the burned subtitles
PLACED_OVER = "cover"  # on opaque boxes over them


@dataclass(frozen=True, slots=True)
class BurnedCue:
    """One burned-in cue: when it is on screen and the box its text covers (frame pixels)."""

    start_ms: int
    end_ms: int
    cover: tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True, slots=True)
class BurnedGeometry:
    """The burned subtitles of a programme, as the OCR stage found them."""

    path: Path
    frame_size: tuple[int, int]
    band: tuple[float, float]  # y0, y1: the rows the burned subtitles use
    cues: tuple[BurnedCue, ...]


@dataclass(frozen=True, slots=True)
class Picture:
    """Where the programme's picture lies in the rendered frame (letterboxed or not)."""

    frame: tuple[int, int]  # the rendered frame's width and height
    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class BurnPlan:
    """What `dubkit burn` encodes: the media, the placed subtitles, the output, the quality."""

    media: MediaInfo
    subtitles: PreparedSubtitles
    output: Path
    crf: int
    covered: int  # burned cues hidden under a box


def plan_burn(
    media: Path,
    subtitles: Path,
    output: Path,
    crf: int,
    font: str | None,
    cover_burned: bool,
    ocr: Path | None,
) -> BurnPlan:
    """Every input checked before the encode starts: the quality, the subtitles (they must
    belong to the media: no cue may start past its end), the burned geometry, the output."""
    from dubkit.adapters import render
    from dubkit.fsutil import check_creatable, display_path, write_error
    from dubkit.subtitles.files import read_subtitle_text
    from dubkit.subtitles.formats import read_subtitles, subtitle_kind

    low, high = CRF_RANGE
    if not low <= crf <= high:
        raise ConfigError(
            f"--crf {crf}: choose {low} (lossless) to {high} (worst); 18-23 is broadcast "
            f"quality, {DEFAULT_CRF} the default"
        )
    kind = subtitle_kind(subtitles)
    if kind is None:
        raise SubtitleParseError(
            f"{subtitles}: not a subtitle file dubkit can burn; use .srt, .vtt or .ass",
            path=subtitles,
        )
    info = render.probe(media)
    if info.video_stream is None or info.picture_size is None:
        raise MediaError(
            f"{media}: has no picture to burn subtitles into; use the programme's video file",
            path=media,
        )
    text = read_subtitle_text(subtitles)
    cues = read_subtitles(text, display_path(subtitles), kind=subtitle_kind(subtitles, text)).cues
    if not cues:
        raise SubtitleParseError(f"{subtitles}: no cues; nothing to burn", path=subtitles)
    end = info.duration_ms
    late = next((c for c in cues if end is not None and c.start_ms >= end), None)
    if late is not None and end is not None:
        raise ConfigError(
            f"{subtitles}: cue {late.index} starts at {late.start_ms / 1000:g} s, past the end "
            f"of {media} ({end / 1000:g} s); these are not its subtitles — choose "
            f"the subtitles of this programme"
        )
    for source, what in (
        (media, "the programme itself"),
        (subtitles, "the subtitles file"),
        (ocr if ocr is not None else subtitles.parent / f"{media.stem}.ocr.json", "the OCR file"),
    ):
        if _same_file(output, source):
            raise ConfigError(f"-o {output}: is {what}; choose another output file")
    if output.is_dir():
        raise ConfigError(f"-o {output}: is a folder; name the output file, e.g. -o out.mp4")
    check_creatable(output)
    prepared = render.prepare_subtitles(subtitles, text, font or URDU_FONT, font is not None)
    geometry = (
        find_geometry(media, subtitles, ocr, cover_burned, info.picture_size)
        if needs_geometry(prepared.ass, cover_burned)
        else None
    )
    picture = whole_picture(info.picture_size)
    placed, covered = place(prepared, geometry, picture, cover_burned)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(output, exc) from exc
    return BurnPlan(info, placed, output, crf, covered)


def _same_file(a: Path, b: Path) -> bool:
    """Whether `a` and `b` name one file (the same path, a symlink or a hard link to it)."""
    import os

    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def needs_geometry(script: str, cover: bool) -> bool:
    """Whether placing `script` reads the burned subtitles' places: not for a script dubkit
    placed already (over them, or above them when no boxes are asked for), which burn and
    preview take as it is, with no STEM.ocr.json beside it."""
    from dubkit.adapters.render import placement

    done = placement(script)
    return not (done == PLACED_OVER or (done == PLACED_ABOVE and not cover))


def whole_picture(size: tuple[int, int]) -> Picture:
    """The picture filling the frame (burn, and preview without --size)."""
    return Picture(size, 0, 0, size[0], size[1])


def fitted_picture(picture: tuple[int, int], frame: tuple[int, int]) -> Picture:
    """A picture scaled to fit inside `frame` and centred, as preview's --size pads it."""
    scale = min(frame[0] / picture[0], frame[1] / picture[1])
    width, height = picture[0] * scale, picture[1] * scale
    return Picture(frame, (frame[0] - width) / 2, (frame[1] - height) / 2, width, height)


def find_geometry(
    media: Path,
    subtitles: Path,
    ocr: Path | None,
    required: bool,
    picture_size: tuple[int, int] | None = None,
) -> BurnedGeometry | None:
    """The burned geometry from `ocr`, else STEM.ocr.json beside the subtitles; None when
    that default file is absent and `required` (--cover-burned) is not. With the media's
    `picture_size`, geometry read from a picture of another shape is refused: it belongs
    to another programme (the same shape at another size is scaled)."""
    path = ocr if ocr is not None else subtitles.parent / f"{media.stem}.ocr.json"
    if ocr is None and not path.exists():
        if required:
            raise ConfigError(
                f"--cover-burned needs the burned subtitles' places; {path} not found — run "
                f"`dubkit ocr {media}` first, or name the file with --ocr"
            )
        return None
    geometry = read_geometry(path)
    if picture_size is not None:
        (read_w, read_h), (w, h) = geometry.frame_size, picture_size
        if abs(read_w / read_h - w / h) > SHAPE_TOLERANCE * (w / h):
            raise ConfigError(
                f"{path}: was read from a {read_w}x{read_h} picture, but {media} is {w}x{h}; "
                f"it belongs to another programme — run `dubkit ocr {media}` for this one"
            )
    return geometry


def read_geometry(path: Path) -> BurnedGeometry:
    """STEM.ocr.json, checked; ConfigError naming the file and the field otherwise."""
    from dubkit.fsutil import NotReadable, read_json

    try:
        doc = read_json(path, C.MAX_ARTEFACT_BYTES)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: no such file; run `dubkit ocr MEDIA` first, or fix --ocr", path=path
        ) from exc
    except NotReadable as exc:
        raise ConfigError(
            f"{path}: is {exc.kind or f'{exc.size:,} bytes, too large'}; name the OCR JSON file",
            path=path,
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})", path=path) from exc
    except ValueError as exc:
        raise ConfigError(
            f"{path}: not JSON ({exc}); run `dubkit ocr MEDIA` again", path=path
        ) from exc
    return _geometry(path, doc)


def _geometry(path: Path, doc: Any) -> BurnedGeometry:
    def bad(field: str, expected: str) -> ConfigError:
        return ConfigError(
            f"{path}: {field}: expected {expected}; run `dubkit ocr MEDIA` again", path=path
        )

    if not isinstance(doc, dict):
        raise bad("the document", "an object with frame_size, band and cues")
    size = doc.get("frame_size")
    if not (isinstance(size, list) and len(size) == 2 and all(_whole(v, 1) for v in size)):
        raise bad("frame_size", "[width, height] in pixels")
    width, height = int(size[0]), int(size[1])
    band = doc.get("band")
    y0, y1 = (band.get("y0"), band.get("y1")) if isinstance(band, dict) else (None, None)
    if not (_number(y0) and _number(y1) and 0 <= y0 < y1 <= height):  # type: ignore[operator]
        raise bad("band", f"{{'y0': top, 'y1': bottom}} with 0 <= y0 < y1 <= {height}")
    raw = doc.get("cues")
    if not isinstance(raw, list):
        raise bad("cues", "a list")
    cues = []
    for n, cue in enumerate(raw):
        if not isinstance(cue, dict):
            raise bad(f"cues[{n}]", "an object")
        start, end = cue.get("start_ms"), cue.get("end_ms")
        if not (_whole(start, 0) and _whole(end, 0) and start < end):  # type: ignore[operator]
            raise bad(f"cues[{n}].start_ms/end_ms", "whole milliseconds, start before end")
        box = cue.get("cover")
        if not (isinstance(box, list) and len(box) == 4 and all(map(_number, box))):
            raise bad(f"cues[{n}].cover", "[x0, y0, x1, y1] in pixels")
        # padding may reach past the frame: keep the part inside it
        x_0, y_0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
        x_1, y_1 = min(float(width), float(box[2])), min(float(height), float(box[3]))
        if not (x_0 < x_1 and y_0 < y_1):
            raise bad(f"cues[{n}].cover", f"a box with x0 < x1 and y0 < y1 inside {width}x{height}")
        cues.append(BurnedCue(int(start), int(end), (x_0, y_0, x_1, y_1)))  # type: ignore[arg-type]
    return BurnedGeometry(path, (width, height), (float(y0), float(y1)), tuple(cues))  # type: ignore[arg-type]


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _whole(value: object, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def place(
    subtitles: PreparedSubtitles,
    geometry: BurnedGeometry | None,
    picture: Picture,
    cover: bool,
) -> tuple[PreparedSubtitles, int]:
    """The subtitles placed clear of the burned ones (place_script), and how many burned
    cues are covered."""
    script, covered = place_script(subtitles.ass, geometry, picture, cover)
    return replace(subtitles, ass=script), covered


def place_deliverable(
    script: str, geometry: BurnedGeometry | None, cover: bool
) -> tuple[str, dict[str, Any]]:
    """The Urdu ASS `run` writes, placed as `burn` places subtitles on the programme whose
    burned subtitles `geometry` describes (its own frame: the ASS scales with the picture),
    and what qa.json's `placement` says of it. As styled when no geometry is known; with
    `cover` (--cover-burned) a note then says the picture had no burned subtitles: a band
    in which no subtitle was read is none (placed above it, the Urdu would float mid-picture
    over nothing)."""
    if geometry is None or not geometry.cues:
        note = (
            "--cover-burned: no burned subtitles found in the picture to cover; the Urdu ASS "
            "sits at the bottom centre as usual"
        )
        return script, {"ass": "styled", **({"note": note} if cover else {})}
    placed, covered = place_script(script, geometry, whole_picture(geometry.frame_size), cover)
    where = PLACED_OVER if covered else PLACED_ABOVE
    return placed, {"ass": where, "covered": covered, "geometry": geometry.path.name}


def place_as_before(script: str, replaced: Sequence[Path]) -> tuple[str, str | None]:
    """A new Urdu ASS (`dubkit dubscript import`) placed as the dubkit ASS it replaces: the
    first of `replaced` (STEM.ur.ass) there is says how run placed it (X-Dubkit-Placement:
    over the burned subtitles, or above them) and the STEM.ocr.json beside it where they
    are, so the new script gets the same boxes and its lines the same places (for the same
    times). A script placed by nobody: `script` as it is, None. ConfigError when the places
    are gone: an ASS that no longer covers the Chinese must not replace one that did."""
    from dubkit.adapters.render import placement
    from dubkit.fsutil import display_path
    from dubkit.subtitles.files import read_subtitle_text

    old = next((path for path in replaced if path.is_file()), None)
    if old is None or not old.name.endswith(".ur.ass"):
        return script, None
    try:
        how = placement(read_subtitle_text(old))
    except DubkitError:  # unreadable: nothing to keep
        return script, None
    if how not in (PLACED_OVER, PLACED_ABOVE):
        return script, None
    where = "over" if how == PLACED_OVER else "above"
    ocr = old.with_name(f"{old.name.removesuffix('.ur.ass')}.ocr.json")
    if not ocr.is_file():
        raise ConfigError(
            f"{display_path(old)}: was placed {where} the burned subtitles from {ocr.name}, "
            f"which is no longer beside it; put it back and import again, so that the new "
            f"script is placed the same way",
            path=old,
        )
    placed, said = place_deliverable(script, read_geometry(ocr), how == PLACED_OVER)
    if said["ass"] == "styled":
        return placed, f"{old.name}: {ocr.name} holds no burned subtitle; placed as styled"
    boxes = f", {said['covered']} burned cue(s) covered" if said["ass"] == PLACED_OVER else ""
    return placed, f"{old.name}: placed {where} the burned subtitles as before{boxes}"


def place_script(
    script: str,
    geometry: BurnedGeometry | None,
    picture: Picture,
    cover: bool,
) -> tuple[str, int]:
    """An ASS script placed clear of the burned subtitles, and how many burned cues are
    covered.

    Without geometry it is as styled. With it, each line sits centred above the band; with
    `cover`, each burned cue gets an opaque box for its time, and a line on screen with a
    burned cue (the one it overlaps most) is centred in that cue's box. A script dubkit has
    placed already (the Urdu ASS `run` writes) is kept as it is, its boxes never drawn twice,
    unless `cover` asks for boxes it lacks: then they are added and its lines moved onto them.
    """
    from dubkit.adapters.render import (
        BOXED_STYLE,
        Cover,
        boxed_style,
        cover_count,
        dialogue_heights,
        dialogue_spans,
        place_dialogues,
        play_res,
        with_placement,
    )

    if not needs_geometry(script, cover):
        return script, cover_count(script)
    if geometry is None or not geometry.cues:  # no burned subtitle read: nothing to avoid
        return script, 0
    res_x, res_y = play_res(script)
    frame_w, frame_h = geometry.frame_size
    sx = picture.width / frame_w * res_x / picture.frame[0]
    sy = picture.height / frame_h * res_y / picture.frame[1]
    ox, oy = picture.left * res_x / picture.frame[0], picture.top * res_y / picture.frame[1]

    def x(value: float) -> float:
        return ox + value * sx

    def y(value: float) -> float:
        return oy + value * sy

    above = (
        x(frame_w / 2),
        y(geometry.band[0]) - ABOVE_BAND_GAP * picture.height * res_y / picture.frame[1],
    )
    covers = (
        [Cover(c.start_ms, c.end_ms, x(c.cover[0]), y(c.cover[1]), x(c.cover[2]), y(c.cover[3]))
         for c in geometry.cues]
        if cover
        else []
    )  # fmt: skip
    script = boxed_style(script) if covers else script
    spans = dialogue_spans(script)
    own, boxed = dialogue_heights(script), dialogue_heights(script, BOXED_STYLE)
    anchors: list[tuple[int, float, float]] = []  # (\\an, x, y) of each line
    for span in spans:
        box = _most_overlapping(span, covers) if span is not None else None
        if box is None:
            anchors.append((2, *above))
        else:  # centred on the burned cue's box
            anchors.append((5, (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2))
    heights = [b if a[0] == 5 else h for a, h, b in zip(anchors, own, boxed, strict=True)]
    tags = []
    for (align, px, py), lift in zip(anchors, _stack(spans, anchors, heights), strict=True):
        at = f"\\an{align}\\pos({px:.2f},{py - lift:.2f})"
        # on a cover, on its own opaque box too: an Urdu line wider than the Chinese stays legible
        tags.append(f"\\r{BOXED_STYLE}{at}" if align == 5 else at)
    placed = place_dialogues(script, tags, covers)
    return with_placement(placed, PLACED_OVER if covers else PLACED_ABOVE), len(covers)


def _stack(
    spans: list[tuple[int, int] | None],
    anchors: list[tuple[int, float, float]],
    heights: list[float],
) -> list[float]:
    """How far up (script pixels) to lift each line from its anchor so that no two lines on
    screen at the same time at the same anchor overlap (libass does not move lines placed
    with \\pos out of each other's way): in order of start, each line takes the lowest place
    clear of those already on screen, so a later one goes above.

    A line with \\an2 covers [lift, lift + height) above its anchor, one with \\an5
    [lift - height / 2, lift + height / 2)."""
    lifts = [0.0] * len(spans)
    placed: list[tuple[tuple[int, int], tuple[int, float, float], float, float]] = []
    timed = sorted((span, i) for i, span in enumerate(spans) if span is not None)
    for (start, end), i in timed:
        # a height that is no number (a style libass cannot size either) takes no room
        anchor, height = anchors[i], heights[i] if math.isfinite(heights[i]) else 0.0
        under = height / 2 if anchor[0] == 5 else 0.0
        shown = [
            (bottom, top)
            for (s, e), where, bottom, top in placed
            if where == anchor and s < end and start < e
        ]
        # above everything on screen is always clear; the lowest clear place is taken
        highest = max((top + under for _, top in shown), default=0.0)
        lift = min(
            (
                lift
                for lift in {0.0, *(top + under for _, top in shown)}
                if all(lift - under + height <= low or high <= lift - under for low, high in shown)
            ),
            default=highest,
        )
        lifts[i] = lift
        placed.append(((start, end), anchor, lift - under, lift - under + height))
    return lifts


def _most_overlapping(span: tuple[int, int], covers: list[Any]) -> Any:
    best, most = None, 0
    for box in covers:
        overlap = min(span[1], box.end_ms) - max(span[0], box.start_ms)
        if overlap > most:
            best, most = box, overlap
    return best
