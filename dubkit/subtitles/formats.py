"""Subtitle formats beyond plain SubRip: WebVTT, ASS styled for Urdu, a bilingual zh+ur SRT,
and readers for SRT, WebVTT and ASS that repair (lenient) or refuse (strict) damaged files.

Pure: text in, text out; the caller reads and writes the files."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import partial
from pathlib import PurePath
from typing import TYPE_CHECKING, Literal

from dubkit.constants import URDU_FONT
from dubkit.errors import SubtitleParseError
from dubkit.records import Cue
from dubkit.subtitles.parse import CueCollector, ParsedSubtitles, has_srt_timing, parse_srt
from dubkit.subtitles.writers import render_srt
from dubkit.text.urdu import has_urdu
from dubkit.timecode import clock

if TYPE_CHECKING:
    import pysubs2

KINDS = ("srt", "vtt", "ass")
_SUFFIX_KINDS = {".srt": "srt", ".vtt": "vtt", ".ass": "ass", ".ssa": "ass"}
# Noto's Simplified Chinese face (Debian fonts-noto-cjk); libass falls back through fontconfig
# when it is missing. Belongs next to URDU_FONT in constants.py.
CHINESE_FONT = "Noto Sans CJK SC"
# ASS sizes are in script pixels at PlayResY; these are for 1080 lines and scale with it.
# 64 px keeps Nastaliq, whose ascenders and descenders are tall, readable on two lines without
# covering more than the bottom fifth of the frame; outline 3 and shadow 1 read on any picture.
ASS_FONT_SIZE_1080 = 64
ASS_OUTLINE_1080 = 3
ASS_SHADOW_1080 = 1
ASS_SAFE_MARGIN = 0.05  # title-safe area: 5% of the width at each side, 5% of the height below
ASS_MAX_MS = 35_999_990  # 9:59:59.99, the last time H:MM:SS.cc can hold
# libass lays out a line left to right unless the style's Encoding is -1, which makes it take
# the direction from the first strong character (the RLM that dubkit.text.urdu puts before a line
# that starts with Latin); VSFilter-style renderers read it as the default charset.
ASS_ENCODING_AUTO_DIRECTION = -1
ASS_ENCODING_DEFAULT = 1

_STYLES = {"ur": "Urdu", "zh": "Chinese"}
_FONTS = {"ur": URDU_FONT, "zh": CHINESE_FONT}


# ------------------------------------------------------------------------------- writers


def render_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text: identifiers are the cue indices, Urdu cues are right-aligned.

    Written directly rather than with pysubs2: its WebVTT writer is its SubRip writer with a
    header, so it neither escapes '&', '<' and '>' nor writes cue settings.
    """
    blocks = ["WEBVTT\n"]
    for cue in cues:
        settings = " align:right" if has_urdu(cue.text) else ""
        timing = f"{clock(cue.start_ms, '.')} --> {clock(cue.end_ms, '.')}{settings}"
        # A blank line would end the cue early: cue lines are never empty in the file.
        text = [_vtt_escape(line) for line in cue.lines if line.strip()]
        blocks.append("\n".join([str(cue.index), timing, *text]) + "\n")
    return "\n".join(blocks)


def _vtt_escape(line: str) -> str:
    # '>' too, although WebVTT only requires '&' and '<': a line then never holds '-->'.
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_ass(
    cues: Sequence[Cue],
    *,
    language: str = "ur",
    font: str | None = None,
    play_res: tuple[int, int] = (1920, 1080),
    align: Literal["center", "right"] = "center",
) -> str:
    """Advanced SubStation Alpha with one style, "Urdu" (or "Chinese" for language="zh").

    White text with a black outline and shadow, bottom-centred (align="right": bottom-right)
    inside the title-safe margins, in `font` (URDU_FONT or CHINESE_FONT by default); sizes
    scale with `play_res`. Cue lines are joined with \\N; '{' and '}' are escaped as libass
    reads them. Times are rounded to centiseconds, the precision of ASS. A cue ending after
    9:59:59.99, the last time ASS can write, is a ValueError: dubkit refuses programmes that
    run later when it reads them (C.MAX_PROGRAMME_MS) and holds its own cues to it.
    """
    import pysubs2  # only the ASS writer needs it

    name = _STYLES.get(language, "")  # an unknown language is refused by _styled_file
    subs = _styled_file(language, font, play_res, align, name)
    for cue in cues:
        start, end = _centiseconds(cue.start_ms), _centiseconds(cue.end_ms)
        if end > ASS_MAX_MS:
            raise ValueError(
                f"cue {cue.index} ends at {clock(cue.end_ms)}; ASS times stop at 9:59:59.99"
            )
        text = r"\N".join(_ass_escape(part) for line in cue.lines for part in line.split("\n"))
        subs.events.append(pysubs2.SSAEvent(start=start, end=end, style=name, text=text))
    return subs.to_string("ass", header_notice="Written by dubkit")


def ass_header(*, language: str = "ur", font: str | None = None, style: str = "Default") -> str:
    """The [Script Info] and [V4+ Styles] sections render_ass writes, its one style named
    `style`: what the preview draws SRT and WebVTT with (ffmpeg's events name "Default"), so
    that it shows the subtitles as dubkit ships them."""
    text = _styled_file(language, font, (1920, 1080), "center", style).to_string(
        "ass", header_notice="Written by dubkit"
    )
    return text[: text.index("[Events]")]


def _styled_file(
    language: str, font: str | None, play_res: tuple[int, int], align: str, name: str
) -> pysubs2.SSAFile:
    """An empty pysubs2 SSAFile with dubkit's script info and its one style, `name`."""
    import pysubs2

    if language not in _STYLES:
        raise ValueError(f"language must be one of {', '.join(_STYLES)}, not {language!r}")
    if align not in ("center", "right"):
        raise ValueError(f"align must be 'center' or 'right', not {align!r}")
    width, height = play_res
    if width <= 0 or height <= 0:
        raise ValueError(f"play_res must be positive, got {width}x{height}")
    scale = height / 1080
    style = pysubs2.SSAStyle(
        fontname=font or _FONTS[language],
        fontsize=round(ASS_FONT_SIZE_1080 * scale),
        primarycolor=pysubs2.Color(255, 255, 255, 0),
        secondarycolor=pysubs2.Color(255, 255, 255, 0),
        outlinecolor=pysubs2.Color(0, 0, 0, 0),
        backcolor=pysubs2.Color(0, 0, 0, 128),  # a half-transparent shadow
        borderstyle=1,  # outline and shadow, no opaque box
        outline=round(ASS_OUTLINE_1080 * scale, 1),
        shadow=round(ASS_SHADOW_1080 * scale, 1),
        alignment=(
            pysubs2.Alignment.BOTTOM_RIGHT if align == "right" else pysubs2.Alignment.BOTTOM_CENTER
        ),
        marginl=round(width * ASS_SAFE_MARGIN),
        marginr=round(width * ASS_SAFE_MARGIN),
        marginv=round(height * ASS_SAFE_MARGIN),
        encoding=ASS_ENCODING_AUTO_DIRECTION if language == "ur" else ASS_ENCODING_DEFAULT,
    )
    subs = pysubs2.SSAFile()
    subs.info = {
        "ScriptType": "v4.00+",  # pysubs2 sets it too; first here, where editors put it
        "Title": f"dubkit {language}",
        "PlayResX": str(width),
        "PlayResY": str(height),
        # dubkit's segmentation has broken the lines already; smart wrapping (0) keeps those
        # breaks and only wraps a line still too wide for the frame, where 2 would run it off.
        "WrapStyle": "0",
        "ScaledBorderAndShadow": "yes",
        "Collisions": "Normal",
    }
    subs.styles = {name: style}
    return subs


def _centiseconds(ms: int) -> int:
    return (ms + 5) // 10 * 10  # half up, as Aegisub and pysubs2 round


# libass reads \{ and \} as literal braces; a literal backslash before N, n or h (or before
# the U+2060 WORD JOINER used here) gets a word joiner after it so that it stays a backslash.
_ASS_BACKSLASH = re.compile(r"\\(?=[Nnh\u2060])")


def _ass_escape(line: str) -> str:
    line = _ASS_BACKSLASH.sub("\\\\\u2060", line)
    return line.replace("{", r"\{").replace("}", r"\}")


def render_bilingual_srt(zh_cues: Sequence[Cue], ur_cues: Sequence[Cue]) -> str:
    """One SubRip file whose cues hold the Chinese line(s), then the Urdu line(s).

    The two lists must be the same cues translated: same count and same timings.
    """
    if len(zh_cues) != len(ur_cues):
        raise ValueError(
            f"bilingual SRT needs as many Urdu cues as Chinese ones: {len(zh_cues)} zh, "
            f"{len(ur_cues)} ur"
        )
    both = []
    for zh, ur in zip(zh_cues, ur_cues, strict=True):
        if (zh.start_ms, zh.end_ms) != (ur.start_ms, ur.end_ms):
            raise ValueError(
                f"cue {zh.index}: zh {clock(zh.start_ms)} --> {clock(zh.end_ms)} but ur "
                f"{clock(ur.start_ms)} --> {clock(ur.end_ms)}; bilingual cues need one timing"
            )
        both.append(Cue(zh.index, zh.start_ms, zh.end_ms, (*zh.lines, *ur.lines)))
    return render_srt(both)


def write_subtitles(cues: Sequence[Cue], kind: str, *, language: str = "ur") -> str:
    """`cues` as SubRip ("srt"), WebVTT ("vtt") or ASS ("ass", styled for `language`)."""
    if kind == "srt":
        return render_srt(cues)
    if kind == "vtt":
        return render_vtt(cues)
    if kind == "ass":
        return render_ass(cues, language=language)
    raise ValueError(f"subtitle kind must be one of {', '.join(KINDS)}, not {kind!r}")


# ------------------------------------------------------------------------------- readers


def read_subtitles(
    text: str, name: str, *, strict: bool = False, kind: str | None = None
) -> ParsedSubtitles:
    """Cues from SubRip, WebVTT or ASS text (`kind`, else `subtitle_kind` of the text and
    the name's suffix, else SubRip).

    Lenient (the default) repairs and reports, one "NAME:LINE: what; what was done" a line:
    a BOM, CRLF line ends, timings written loosely (one-digit hours, ',' for '.' or the
    reverse), bad or missing SRT indices, empty cues and cues that end before they start
    (dropped), cues out of order (sorted), overlapping cues (the earlier one trimmed to end
    where the next starts). Strict raises SubtitleParseError at the first of those (a BOM and
    CRLF are legal and pass). What cannot be read at all fails in both modes.
    """
    kind = kind or subtitle_kind(name, text) or "srt"
    if kind == "srt":
        return parse_srt(text, name, strict=strict, drop_inverted=True)
    if kind == "vtt":
        return parse_vtt(text, name, strict=strict)
    if kind == "ass":
        return parse_ass(text, name, strict=strict)
    raise ValueError(f"subtitle kind must be one of {', '.join(KINDS)}, not {kind!r}")


def subtitle_kind(name: str | PurePath, text: str | None = None) -> str | None:
    """A subtitle file's kind ("srt", "vtt" or "ass"): its own header says it when it has one
    (WEBVTT, a [Script Info] section first), else its suffix (.srt, .vtt, .ass, .ssa), else
    SubRip timing lines among its first lines; None when none does."""
    head = (text or "").lstrip("\ufeff").lstrip()
    if re.match(r"WEBVTT(?:[ \t\r\n]|$)", head):
        return "vtt"
    if head[:13].lower() == "[script info]":
        return "ass"
    kind = _SUFFIX_KINDS.get(PurePath(name).suffix.lower())
    return kind or ("srt" if text and has_srt_timing(text) else None)


# WebVTT times: hours optional (two digits or more when present), MM:SS.mmm. Read loosely
# (one-digit fields, ',' or missing milliseconds) and report what was loose.
_VTT_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?"
_VTT_TIMING = re.compile(rf"^\s*{_VTT_TIME}[ \t]*-->[ \t]*{_VTT_TIME}(?:[ \t]+(.*))?$")
_VTT_STRICT_TIME = re.compile(r"(?:\d{2,}:)?\d{2}:\d{2}\.\d{3}")
_VTT_SKIPPED_BLOCK = re.compile(r"(?:NOTE|STYLE|REGION)(?:[ \t]|$)")
_VTT_RUBY_TEXT = re.compile(r"<rt(?:[.\s][^>]*)?>.*?</rt>", re.DOTALL)  # readings, not text
_VTT_TAG = re.compile(r"<[^>\n]*>")


def parse_vtt(text: str, name: str = "<vtt>", *, strict: bool = False) -> ParsedSubtitles:
    """Cues from WebVTT text: cue identifiers and settings read past, NOTE, STYLE and REGION
    blocks skipped, tags (<c>, <v Name>, <i>, <b>, <ruby>, timestamps) removed and character
    references (&amp; &lt; &gt; &nbsp; &lrm; &rlm; …) decoded. See `read_subtitles`."""
    found = CueCollector(name, strict=strict, clock=lambda ms: clock(ms, "."))
    lines = found.line_ends(text)
    first = next((n for n, line in enumerate(lines) if line.strip()), 0)
    if re.match(r"WEBVTT(?:[ \t]|$)", lines[first].lstrip()):
        if first:
            found.problem(
                1, "blank lines before the WEBVTT header", "skipped", "start the file with WEBVTT"
            )
        # The header block: WEBVTT and its header lines, up to a blank line.
        while first < len(lines) and lines[first].strip() and "-->" not in lines[first]:
            first += 1
        if first < len(lines) and "-->" in lines[first]:
            found.problem(
                first + 1,
                "no blank line after the WEBVTT header",
                "read as a cue",
                "put a blank line after the header",
            )
    else:
        first = 0
        found.problem(
            1,
            "no WEBVTT header",
            "read as WebVTT",
            "a WebVTT file starts with the line WEBVTT",
        )
    for number, block in _blocks(lines, first):
        _vtt_block(block, number, found)
    return found.result()


def _blocks(lines: list[str], first: int) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines from lines[first:], with the line number of each run's start."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    for number, line in enumerate(lines[first:], start=first + 1):
        if not line.strip():
            current = None
        elif current is None:
            current = [line]
            blocks.append((number, current))
        else:
            current.append(line)
    return blocks


def _vtt_block(block: list[str], number: int, found: CueCollector) -> None:
    if _VTT_SKIPPED_BLOCK.match(block[0]):
        return
    timing_at = next((i for i, line in enumerate(block[:2]) if "-->" in line), None)
    if timing_at is None:
        found.problem(
            number,
            f"text {block[0].strip()[:40]!r} outside a cue",
            "dropped",
            "a cue starts with a timing line HH:MM:SS.mmm --> HH:MM:SS.mmm",
        )
        return
    start = timing_at
    # A timing line inside a cue's text starts a new cue: the blank line before it is missing.
    for i in range(timing_at + 1, len(block) + 1):
        if i < len(block) and "-->" not in block[i]:
            continue
        _vtt_cue(block[start], block[start + 1 : i], number + start, found)
        if i < len(block):
            found.problem(
                number + i,
                "no blank line before this cue",
                "read as a new cue",
                "put a blank line between cues",
            )
        start = i


def _vtt_cue(timing_line: str, text: list[str], number: int, found: CueCollector) -> None:
    timing = _VTT_TIMING.match(timing_line)
    if timing is None:
        raise SubtitleParseError(
            f"{found.name}:{number}: unreadable timing line {timing_line.strip()[:60]!r}; "
            f"expected HH:MM:SS.mmm --> HH:MM:SS.mmm"
        )
    g = timing.groups()
    start, end = _vtt_ms(*g[:4]), _vtt_ms(*g[4:8])
    stamps = timing_line.strip().split("-->")
    stamps = [stamps[0].strip(), stamps[1].split()[0]]
    fix = "WebVTT writes HH:MM:SS.mmm"
    if "," in "".join(stamps):
        found.problem(number, "',' before milliseconds", "read as '.'", fix)
    if (g[0] is not None and len(g[0]) == 1) or (g[4] is not None and len(g[4]) == 1):
        found.problem(number, "one-digit hours", "read as HH", fix)
    elif not all(_VTT_STRICT_TIME.fullmatch(stamp.replace(",", ".")) for stamp in stamps):
        found.problem(
            number,
            f"timing {' --> '.join(stamps)!r} is not HH:MM:SS.mmm",
            f"read as {clock(start, '.')} --> {clock(end, '.')}",
            fix,
        )
    lines = (html.unescape(_VTT_TAG.sub("", _VTT_RUBY_TEXT.sub("", line))) for line in text)
    found.add(number, start, end, tuple(s for s in (line.strip() for line in lines) if s))


def _vtt_ms(h: str | None, m: str, s: str, frac: str | None) -> int:
    millis = int((frac or "0").ljust(3, "0"))
    return ((int(h or 0) * 60 + int(m)) * 60 + int(s)) * 1000 + millis


# ASS times are H:MM:SS.cc; read a millisecond third digit too.
_ASS_TIME = re.compile(r"(\d+):(\d{1,2}):(\d{1,2})[.:,](\d{1,3})")
_ASS_FORMAT_LINE = "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"
_ASS_DEFAULT_FORMAT = tuple(f.strip().lower() for f in _ASS_FORMAT_LINE[7:].split(","))
_ASS_EVENT_LINES = ("comment", "picture", "sound", "movie", "command")
# In Text: an override block (when it is closed), an escape, or plain text.
_ASS_TOKEN = re.compile(r"\{([^}]*)\}|\\[Nnh{}]|\\\u2060|[^{\\]+|.", re.DOTALL)
_ASS_DRAWING = re.compile(r"\\p(\d+)")


def parse_ass(text: str, name: str = "<ass>", *, strict: bool = False) -> ParsedSubtitles:
    """Cues from the Dialogue lines of an ASS/SSA [Events] section, in its Format's field
    order: \\N and \\n are line breaks, \\h a no-break space, override blocks {…} and vector
    drawings removed; layer, style, actor, margins and effect left out. Comment lines, and
    events that only draw (the boxes `--cover-burned` hides burned subtitles under), are
    skipped. ASS allows events to overlap; a cue list does not, so overlaps are repaired
    (lenient) or refused (strict) as in the other formats. See `read_subtitles`."""
    found = CueCollector(
        name, strict=strict, clock=partial(clock, separator=".", fraction=2, hours=1)
    )
    section = ""
    fields: tuple[str, ...] | None = None
    for number, raw in enumerate(found.line_ends(text), start=1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.lower()
            continue
        if section != "[events]":
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if key == "format" and colon:
            fields = _ass_format(value, number, found)
        elif key == "dialogue" and colon:
            if fields is None:
                found.problem(
                    number,
                    "Dialogue before the [Events] Format line",
                    "read with the standard ASS fields",
                    f"add '{_ASS_FORMAT_LINE}' after [Events]",
                )
                fields = _ASS_DEFAULT_FORMAT
            _ass_dialogue(value, fields, number, found)
        elif key not in _ASS_EVENT_LINES or not colon:
            found.problem(
                number,
                f"{line[:40]!r} is not an [Events] line",
                "skipped",
                "[Events] holds Format, Dialogue and Comment lines",
            )
    return found.result()


def _ass_format(value: str, number: int, found: CueCollector) -> tuple[str, ...]:
    fields = tuple(f.strip().lower() for f in value.split(","))
    if not {"start", "end"} <= set(fields) or fields[-1] != "text":
        raise SubtitleParseError(
            f"{found.name}:{number}: [Events] Format {value.strip()[:60]!r} needs Start, End "
            f"and, last, Text; write '{_ASS_FORMAT_LINE}'"
        )
    return fields


def _ass_dialogue(value: str, fields: tuple[str, ...], number: int, found: CueCollector) -> None:
    parts = value.lstrip().split(",", len(fields) - 1)
    if len(parts) < len(fields):
        raise SubtitleParseError(
            f"{found.name}:{number}: Dialogue has {len(parts)} fields, the Format line names "
            f"{len(fields)}; Text is the last field and the others are separated by commas"
        )
    times = []
    for field in ("start", "end"):
        stamp = parts[fields.index(field)].strip()
        time = _ASS_TIME.fullmatch(stamp)
        if time is None:
            raise SubtitleParseError(
                f"{found.name}:{number}: unreadable {field.title()} time {stamp[:20]!r}; "
                f"expected H:MM:SS.cc"
            )
        h, m, s, frac = time.groups()
        times.append(((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(frac.ljust(3, "0")))
    lines = _ass_lines(parts[-1])
    if not lines and any(int(scale) > 0 for scale in _ASS_DRAWING.findall(parts[-1])):
        return  # a vector drawing and no text (a box, a logo): a shape, not a cue
    found.add(number, times[0], times[1], lines)


def _ass_lines(text: str) -> tuple[str, ...]:
    out: list[str] = []
    drawing = False  # inside {\p1} … {\p0}: vector drawing commands, not text
    for token in _ASS_TOKEN.finditer(text):
        block, piece = token.group(1), token.group(0)
        if block is not None:
            for scale in _ASS_DRAWING.findall(block):
                drawing = int(scale) > 0
        elif drawing:
            continue
        elif piece in (r"\N", r"\n"):
            out.append("\n")
        elif piece == r"\h":
            out.append("\u00a0")
        elif piece in (r"\{", r"\}", "\\\u2060"):
            out.append(piece[0] if piece[1] == "\u2060" else piece[1])
        else:
            out.append(piece)
    return tuple(s for s in (line.strip() for line in "".join(out).split("\n")) if s)
