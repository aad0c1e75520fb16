"""Reading SubRip robustly. Pure: takes text, returns cues and what was repaired.

`CueCollector` is shared with the WebVTT and ASS readers in `dubkit.subtitles.formats`: it holds the
strict/lenient switch and the checks every format needs (empty cues, a cue ending before it
starts, cues out of order, overlapping cues)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from dubkit import constants as C
from dubkit.errors import SubtitleParseError
from dubkit.records import Cue
from dubkit.timecode import clock

_TIME = r"(\d{1,3}):(\d{1,2}):(\d{1,2})(?:[,.:](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-{{1,2}}>\s*{_TIME}(?:\s+.*)?$")  # SRT, with X1: Y1: tails
# A line that starts like a timing line: if it does not parse, the file is damaged there.
_TIMING_LIKE = re.compile(r"^\s*\d{1,3}:\d{1,2}[:.,]\d.*-+>")
_SRT_TIME = re.compile(r"\d{2,3}:\d{2}:\d{2},\d{3}")  # pysrt writes 3-digit hours past 99


def has_srt_timing(text: str, lines: int = 10) -> bool:
    """Whether one of the first `lines` non-blank lines of `text` starts like a SubRip timing
    line: an SRT saved under another name (a .txt script)."""
    head = [ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()][:lines]
    return any(_TIMING_LIKE.match(line) for line in head)


# The last time a programme may reach (C.MAX_PROGRAMME_MS), as ASS writes it.
PROGRAMME_END = clock(C.MAX_PROGRAMME_MS, ".", fraction=2, hours=1)


def ends_too_late(shown_end: str) -> str:
    """Why a cue ending at `shown_end`, after C.MAX_PROGRAMME_MS, is refused, and the fix."""
    return (
        f"ends at {shown_end}, after {PROGRAMME_END}, the last time ASS subtitles can hold; "
        f"dubkit takes programmes under 10 hours: split this one into parts"
    )


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


@dataclass(slots=True)
class _Draft:
    line: int  # the cue's timing line, for messages
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]


class CueCollector:
    """Cues as a reader finds them, and the problems it meets.

    Strict: the first problem raises `SubtitleParseError` "NAME:LINE: what; how to fix".
    Lenient: the problem is repaired and reported "NAME:LINE: what; what was done". A cue
    that ends before it starts is dropped (reported) only when `drop_inverted` is set: it
    loses a line of dialogue, which `parse_srt` by default refuses to do silently. With
    `max_ms`, a cue ending after it is refused in both modes (nothing can repair it).
    """

    def __init__(
        self,
        name: str,
        *,
        strict: bool = False,
        drop_inverted: bool = True,
        clock: Callable[[int], str] = clock,
        max_ms: int | None = None,
    ) -> None:
        self.name = name
        self.strict = strict
        self.drop_inverted = drop_inverted
        self.clock = clock
        self.max_ms = max_ms
        self.repairs: list[str] = []
        self._drafts: list[_Draft] = []

    def problem(self, line: int, what: str, repaired: str, fix: str) -> None:
        """Raise (strict) or record (lenient) one problem found at `line`."""
        if self.strict:
            raise SubtitleParseError(f"{self.name}:{line}: {what}; {fix}")
        self.repairs.append(f"{self.name}:{line}: {what}; {repaired}")

    def line_ends(self, text: str) -> list[str]:
        """The lines of `text`: a BOM dropped, CRLF and CR read as LF. Both are legal (SubRip
        from Windows editors, WebVTT allows both), so strict reading accepts them too."""
        if text.startswith("\ufeff"):
            text = text[1:]
            if not self.strict:
                self.repairs.append(f"{self.name}:1: byte-order mark removed")
        if "\r" in text:
            line = text[: text.index("\r")].count("\n") + 1
            kind = "CRLF" if "\r\n" in text else "CR"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            if not self.strict:
                self.repairs.append(f"{self.name}:{line}: {kind} line ends read as LF")
        return text.split("\n")

    def add(self, line: int, start_ms: int, end_ms: int, lines: tuple[str, ...]) -> None:
        """One cue as the file has it; `line` is its timing line."""
        shown = f"{self.clock(start_ms)} --> {self.clock(end_ms)}"
        if self.max_ms is not None and max(start_ms, end_ms) > self.max_ms:
            late = self.clock(max(start_ms, end_ms))
            raise SubtitleParseError(f"{self.name}:{line}: cue {ends_too_late(late)}")
        if end_ms < start_ms:
            if self.strict or not self.drop_inverted:
                raise SubtitleParseError(
                    f"{self.name}:{line}: cue ends before it starts ({shown}); fix the timing"
                )
            self.repairs.append(f"{self.name}:{line}: cue ends before it starts ({shown}); dropped")
            return
        if not lines:
            self.problem(line, "empty cue", "dropped", "delete it or give it text")
            return
        if self.strict and self._drafts:
            previous = self._drafts[-1]
            if start_ms < previous.start_ms:
                raise SubtitleParseError(
                    f"{self.name}:{line}: cue starts at {self.clock(start_ms)}, before the cue "
                    f"above it (line {previous.line}, {self.clock(previous.start_ms)}); "
                    f"put the cues in time order"
                )
            if start_ms < previous.end_ms:
                raise SubtitleParseError(
                    f"{self.name}:{line}: cue starts at {self.clock(start_ms)}, before the cue "
                    f"above it ends (line {previous.line}, {self.clock(previous.end_ms)}); "
                    f"end that cue earlier or start this one later"
                )
        self._drafts.append(_Draft(line, start_ms, end_ms, lines))

    def result(self) -> ParsedSubtitles:
        """The cues in time order, without overlaps, numbered from 1, and the repairs."""
        drafts = self._drafts
        for before, draft in pairwise(drafts):
            if draft.start_ms < before.start_ms:
                self.repairs.append(
                    f"{self.name}:{draft.line}: cue starts at {self.clock(draft.start_ms)}, "
                    f"before the cue above it (line {before.line}); moved into time order"
                )
        ordered = sorted(drafts, key=lambda d: d.start_ms)  # stable: equal starts keep order
        for draft, after in pairwise(ordered):
            if draft.end_ms > after.start_ms:
                self.repairs.append(
                    f"{self.name}:{draft.line}: cue ends at {self.clock(draft.end_ms)}, after "
                    f"the next cue starts (line {after.line}); end trimmed to "
                    f"{self.clock(after.start_ms)}"
                )
                draft.end_ms = after.start_ms
        cues = tuple(Cue(n, d.start_ms, d.end_ms, d.lines) for n, d in enumerate(ordered, start=1))
        return ParsedSubtitles(cues, tuple(self.repairs))


def _ms(h: str, m: str, s: str, frac: str | None) -> int:
    millis = int((frac or "0").ljust(3, "0")[:3])
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + millis


def parse_srt(
    text: str,
    name: str = "<srt>",
    *,
    strict: bool = False,
    drop_inverted: bool = False,
    max_ms: int | None = None,
) -> ParsedSubtitles:
    """Cues from SubRip text, forgiving what players forgive, naming the line of what is not.

    Lenient (the default), accepted and reported: a BOM, CRLF or CR line ends, missing blank
    lines between cues, missing, non-numeric or out-of-order indices, '.' instead of ',' before
    milliseconds, one-digit hours, blank lines inside a cue, empty cues (dropped), cues out of
    time order (sorted), overlapping cues (the earlier one's end trimmed to the next start).
    Strict: each of those but the BOM and CR line ends (which are legal) raises
    `SubtitleParseError` at its line. Always refused with `NAME:LINE:` in the message: text
    before the first cue, a timing line that cannot be read, and an end before its start,
    unless `drop_inverted` (lenient only) drops that cue and reports it.

    Times run to 999:59:59,999 (SubRip itself goes to 99:59:59,999 and a parser reads what
    the format holds); with `max_ms` a cue ending later is refused at its line, as
    `dubkit.subtitles.files.read_srt` does for C.MAX_PROGRAMME_MS.
    """
    found = CueCollector(name, strict=strict, drop_inverted=drop_inverted, max_ms=max_ms)
    lines = found.line_ends(text)
    body: list[str] = []
    span: tuple[int, int, int] | None = None  # timing line number, start, end
    seen = 0  # cues met so far, for the expected index
    blank = True  # a blank line (or the file start) since the last text line
    index: tuple[int, str] | None = None  # the line just above a timing line

    def close() -> None:
        if span is not None:
            found.add(span[0], span[1], span[2], tuple(body))

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        timing = _TIMING.match(raw)
        if timing:
            seen += 1
            if index is None:
                found.problem(
                    number,
                    "cue without an index line",
                    f"numbered {seen}",
                    f"put its number ({seen}) on the line above the timing line",
                )
            else:
                _check_index(index, seen, found)
            close()
            span, body, index = (number, *_span(timing, number, found)), [], None
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
                found.problem(
                    number,
                    "no blank line before this cue",
                    "read as a new cue",
                    "put a blank line between cues",
                )
            index, blank = (number, line), False
            continue
        if span is None:
            raise SubtitleParseError(
                f"{name}:{number}: text {line[:40]!r} before the first cue; a SubRip file "
                f"starts with an index line and a timing line"
            )
        if blank and body:
            found.problem(
                number,
                "blank line inside a cue",
                "dropped",
                "a blank line ends a cue: remove it, or give this text an index and a timing",
            )
        body.append(line)
        blank = False
    close()
    return found.result()


def _stamp(timing: re.Match[str], first: int) -> str:
    """The text of the start (first=1) or end (first=5) time of a timing line."""
    last = first + 3 if timing.group(first + 3) is not None else first + 2
    return timing.string[timing.start(first) : timing.end(last)]


def _span(timing: re.Match[str], number: int, found: CueCollector) -> tuple[int, int]:
    g = timing.groups()
    start, end = _ms(*g[:4]), _ms(*g[4:])
    stamps = (_stamp(timing, 1), _stamp(timing, 5))
    fix = "SubRip writes HH:MM:SS,mmm"
    if any(re.search(r"\d\.\d", stamp) for stamp in stamps):
        found.problem(number, "'.' before milliseconds", "read as ','", fix)
    if len(g[0]) == 1 or len(g[4]) == 1:
        found.problem(number, "one-digit hours", "read as HH", fix)
    elif not all(_SRT_TIME.fullmatch(stamp.replace(".", ",")) for stamp in stamps):
        found.problem(
            number,
            f"timing {' --> '.join(stamps)!r} is not HH:MM:SS,mmm",
            f"read as {clock(start)} --> {clock(end)}",
            fix,
        )
    return start, end


def _check_index(found_index: tuple[int, str], expected: int, found: CueCollector) -> None:
    number, text = found_index
    fix = f"number the cues 1, 2, 3, … (this one {expected})"
    if not (text.isascii() and text.isdecimal()):
        found.problem(number, f"index {text[:20]!r} is not a number", "renumbered", fix)
    elif int(text) != expected:
        found.problem(number, f"index {text} out of sequence", f"renumbered {expected}", fix)
