"""Reading SubRip robustly. Pure: takes text, returns cues and what was repaired."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dubkit.errors import SubtitleParseError
from dubkit.records import Cue

_TIME = r"(\d{1,3}):(\d{1,2}):(\d{1,2})(?:[,.:](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-{{1,2}}>\s*{_TIME}(?:\s+.*)?$")  # SRT, with X1: Y1: tails
# A line that starts like a timing line: if it does not parse, the file is damaged there.
_TIMING_LIKE = re.compile(r"^\s*\d{1,3}:\d{1,2}[:.,]\d.*-+>")


@dataclass(frozen=True, slots=True)
class ParsedSubtitles:
    cues: tuple[Cue, ...]
    repairs: tuple[str, ...]  # what lenient reading fixed, one line each


def decode_subtitle_bytes(data: bytes, name: str, encoding: str | None = None) -> str:
    """Text of a subtitle file: UTF-8 (with or without BOM), UTF-16 with BOM, or `encoding`."""
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise SubtitleParseError(f"{name}: cannot decode as {encoding} ({exc})") from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SubtitleParseError(
                f"{name}: damaged UTF-16 (byte {exc.start}: {exc.reason}); save it again as UTF-8"
            ) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SubtitleParseError(
            f"{name}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}); if it is GBK/GB18030 "
            f"from a Chinese editor, pass --encoding gb18030"
        ) from exc


def _ms(h: str, m: str, s: str, frac: str | None) -> int:
    millis = int((frac or "0").ljust(3, "0")[:3])
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + millis


def parse_srt(text: str, name: str = "<srt>") -> ParsedSubtitles:
    """Cues from SubRip text, forgiving what players forgive, naming the line of what is not.

    Accepted and reported: a BOM, CRLF or CR line ends, missing blank lines between cues,
    missing, non-numeric or out-of-order indices, '.' instead of ',' before milliseconds,
    one-digit hours, blank lines inside a cue. Refused with `NAME:LINE:` in the message: text
    before the first cue, a timing line that cannot be read, an end before its start.
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    repairs: list[str] = []
    cues: list[Cue] = []
    body: list[str] = []
    span: tuple[int, int] | None = None
    blank = True  # a blank line (or the file start) since the last text line
    index: tuple[int, str] | None = None  # the line just above a timing line

    def close() -> None:
        if span is not None:
            cues.append(Cue(len(cues) + 1, span[0], span[1], tuple(body)))

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        timing = _TIMING.match(raw)
        if timing:
            if index is None:
                repairs.append(f"{name}:{number}: cue without an index line")
            else:
                _check_index(index, len(cues) + (span is not None) + 1, name, repairs)
            close()
            span, body, index = _span(timing, raw, name, number, repairs), [], None
            continue
        if _TIMING_LIKE.match(line):
            raise SubtitleParseError(
                f"{name}:{number}: unreadable timing line {line[:60]!r}; expected "
                f"HH:MM:SS,mmm --> HH:MM:SS,mmm"
            )
        if not line:
            blank = True
            continue
        above_timing = number < len(lines) and _TIMING_LIKE.match(lines[number])
        # The line above a timing line is its index when it is a number or starts a block;
        # text right under the previous cue's text is that cue's last line (index missing).
        if above_timing and (line.isdecimal() or blank or span is None):
            if span is not None and not blank:
                repairs.append(f"{name}:{number}: no blank line before this cue")
            index, blank = (number, line), False
            continue
        if span is None:
            raise SubtitleParseError(
                f"{name}:{number}: text {line[:40]!r} before the first cue; a SubRip file "
                f"starts with an index line and a timing line"
            )
        if blank and body:
            repairs.append(f"{name}:{number}: blank line inside a cue dropped")
        body.append(line)
        blank = False
    close()
    return ParsedSubtitles(tuple(cues), tuple(repairs))


def _span(
    timing: re.Match[str], raw: str, name: str, number: int, repairs: list[str]
) -> tuple[int, int]:
    g = timing.groups()
    start, end = _ms(*g[:4]), _ms(*g[4:])
    if re.search(r"\d\.\d", raw):
        repairs.append(f"{name}:{number}: '.' before milliseconds read as ','")
    if end < start:
        raise SubtitleParseError(
            f"{name}:{number}: cue ends before it starts ({raw.strip()[:60]}); fix the timing"
        )
    return start, end


def _check_index(found: tuple[int, str], expected: int, name: str, repairs: list[str]) -> None:
    number, text = found
    if not (text.isascii() and text.isdecimal()):
        repairs.append(f"{name}:{number}: index {text[:20]!r} is not a number; renumbered")
    elif int(text) != expected:
        repairs.append(f"{name}:{number}: index {text} out of sequence; renumbered {expected}")
