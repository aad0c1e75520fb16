"""The checks behind `dubkit qa`: every profile limit and the Urdu writing conventions,
re-derived from the subtitle file itself (flags set at generation time are not in SRT files).

Pure: cues and a profile in, reports and plain JSON-ready data out.

Characters are counted as dubkit.text.reading counts them, the way layout built the cues.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from typing import Any

from dubkit.profiles import Profile
from dubkit.qa.adherence import RECOGNITION_FLAGS
from dubkit.records import Cue
from dubkit.text.reading import count_chars, reading_speed, strip_tags, too_fast, visible
from dubkit.text.urdu import BIDI_CONTROLS, LOOKALIKES, LRM, RLM, has_urdu, mark_bidi, strip_bidi
from dubkit.timecode import clock, frame_rate, frame_to_ms, ms_to_frame_floor

# Every flag code, in report order, with what it means (the HTML report and the JSON list them).
CODES: dict[str, str] = {
    "empty": "the cue has no visible text",
    "line-too-long": "a line has more characters than the profile allows",
    "too-many-lines": "the cue has more lines than the profile allows",
    "reading-speed": "more characters per second than the profile allows",
    "too-short": "shown for less than the profile's minimum duration",
    "too-long": "shown for longer than the profile's maximum duration",
    "gap": "fewer frames after the previous cue than the profile asks for",
    "overlap": "starts before the previous cue ends",
    "out-of-order": "starts before the previous cue starts",
    "off-frame": "a time is not on a frame boundary at the profile's frame rate",
    "lookalike": "Arabic letters that look like Urdu ones (ي ك ه ...) instead of Urdu letters",
    "digits-mixed": "digits in another system than the rest of the file",
    "bidi-missing": "Latin words or digits in an Urdu line without LRM marks around them",
    "latin-punctuation": "Latin , ; ? or . right after an Urdu word instead of ، ؛ ؟ ۔",
    "glossary": "a glossary term's approved rendering is missing",
    "recognition": "the Chinese was flagged: by the recogniser (a loop, text run on, no speech "
    "heard) or, read from the picture, a subtitle with no speech under it",
}

# Frame times are rounded to whole milliseconds (41.708 ms is written 42 or 41 by different
# tools), so durations and frame boundaries are compared within this tolerance.
_ROUNDING_MS = 1
_LATIN_NUMBER = re.compile(r"(?<![A-Za-z0-9])(?<![A-Za-z]-)[0-9]+(?![A-Za-z])")  # not COVID-19, MP3
_URDU_DIGITS = re.compile("[\u06f0-\u06f9]+")
_ARABIC_INDIC_DIGITS = re.compile("[\u0660-\u0669]+")
_URDU_MARK = {",": "،", ";": "؛", "?": "؟", ".": "۔"}
# Marks that start (before) or end (after) a left-to-right run inside right-to-left text.
_LTR_OPENERS = frozenset("\u200e\u202a\u202d\u2066\u2068")  # LRM, LRE, LRO, LRI, FSI
_LTR_CLOSERS = frozenset("\u200e\u202c\u2069")  # LRM, PDF, PDI


@dataclass(frozen=True, slots=True)
class Flag:
    """One broken rule: its code (a key of CODES) and the reason, with the numbers."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class CueReport:
    """A cue as the file has it, its character count and reading speed, and its flags."""

    index: int
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    chars: int
    cps: float | None  # None for a cue shown for 0 ms
    flags: tuple[Flag, ...] = ()

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms

    @property
    def clean(self) -> bool:
        return not self.flags

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "duration_ms": self.duration_ms,
            "lines": list(self.lines),
            "chars": self.chars,
            "cps": self.cps,
            "flags": [{"code": f.code, "reason": f.reason} for f in self.flags],
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """The programme: cues, clean cues, cues per flag code and the fastest cue."""

    cues: int
    clean: int
    counts: Mapping[str, int] = field(default_factory=dict)  # code → cues carrying it
    worst_cps: float | None = None
    worst_cue: int | None = None
    duration_ms: int = 0

    @property
    def clean_percent(self) -> float:
        return round(100 * self.clean / self.cues, 1) if self.cues else 100.0

    @property
    def passed(self) -> bool:
        return self.clean == self.cues

    def to_dict(self) -> dict[str, Any]:
        return {
            "cues": self.cues,
            "clean": self.clean,
            "flagged": self.cues - self.clean,
            "clean_percent": self.clean_percent,
            "counts": dict(self.counts),
            "worst_cps": self.worst_cps,
            "worst_cue": self.worst_cue,
            "duration_ms": self.duration_ms,
        }


# ---------------------------------------------------------------------------- numbers


def _num(value: float) -> str:
    """17.0 → 17, 19.50 → 19.5, 17.04 → 17.04."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ---------------------------------------------------------------------------------- rules


def check_cues(
    cues: Sequence[Cue], profile: Profile, frame_tolerance_ms: int = _ROUNDING_MS
) -> list[CueReport]:
    """A report per cue, in file order, with every rule the cue breaks. ASS stores
    centiseconds, so its frame times are checked within 5 ms (`frame_tolerance_ms`)."""
    digits = _digit_system(cues)
    reports = []
    prev: Cue | None = None
    for cue in cues:
        chars = count_chars(cue.lines)
        cps = reading_speed(chars, cue.duration_ms)
        flags = [
            *_text_flags(cue, chars, cps, profile),
            *_duration_flags(cue, profile),
            *_sequence_flags(prev, cue, profile),
            *_frame_flags(cue, profile, frame_tolerance_ms),
            *_urdu_flags(cue, digits),
        ]
        order = list(CODES)
        flags.sort(key=lambda f: order.index(f.code))
        reports.append(
            CueReport(cue.index, cue.start_ms, cue.end_ms, cue.lines, chars, cps, tuple(flags))
        )
        prev = cue
    return reports


def _text_flags(cue: Cue, chars: int, cps: float | None, profile: Profile) -> list[Flag]:
    shown = [visible(line) for line in cue.lines]
    if not any(s.strip() for s in shown):
        return [Flag("empty", "no text")]
    flags = []
    limit = profile.max_chars_per_line
    for n, line in enumerate(shown, start=1):
        if len(line) > limit:
            flags.append(Flag("line-too-long", f"line {n}: {len(line)} characters > {limit}"))
    if len(shown) > profile.max_lines:
        flags.append(Flag("too-many-lines", f"{len(shown)} lines > {profile.max_lines}"))
    if profile.max_cps is not None:
        if cps is None:
            flags.append(Flag("reading-speed", f"{_plural(chars, 'character')} in 0 ms"))
        elif too_fast(cps, profile.max_cps):
            seconds = cue.duration_ms / 1000
            flags.append(
                Flag(
                    "reading-speed",
                    f"{_num(cps)} cps > {_num(profile.max_cps)} "
                    f"({_plural(chars, 'character')} in {seconds:.2f} s)",
                )
            )
    return flags


def _duration_flags(cue: Cue, profile: Profile) -> list[Flag]:
    duration = cue.duration_ms
    if duration + _ROUNDING_MS < profile.min_duration_ms:
        return [Flag("too-short", f"{duration} ms < {profile.min_duration_ms} ms")]
    if duration - _ROUNDING_MS > profile.max_duration_ms:
        return [Flag("too-long", f"{duration} ms > {profile.max_duration_ms} ms")]
    return []


def _sequence_flags(prev: Cue | None, cue: Cue, profile: Profile) -> list[Flag]:
    """Against the previous cue in the file: order, overlap, then the gap between them."""
    if prev is None:
        return []
    if cue.start_ms < prev.start_ms:
        return [
            Flag(
                "out-of-order",
                f"starts at {clock(cue.start_ms)}, before cue {prev.index} "
                f"({clock(prev.start_ms)})",
            )
        ]
    if cue.start_ms < prev.end_ms:
        return [Flag("overlap", f"overlaps cue {prev.index} by {prev.end_ms - cue.start_ms} ms")]
    fps = profile.fps
    gap = ms_to_frame_floor(cue.start_ms, fps) - ms_to_frame_floor(prev.end_ms, fps)
    if gap < profile.min_gap_frames:
        return [
            Flag(
                "gap",
                f"{_plural(gap, 'frame')} after cue {prev.index} < {profile.min_gap_frames} "
                f"({cue.start_ms - prev.end_ms} ms at {_num(fps)} fps)",
            )
        ]
    return []


def _frame_flags(cue: Cue, profile: Profile, tolerance_ms: int) -> list[Flag]:
    flags = []
    for what, ms in (("start", cue.start_ms), ("end", cue.end_ms)):
        nearest = off_frame(ms, profile.fps, tolerance_ms)
        if nearest is not None:
            flags.append(
                Flag(
                    "off-frame",
                    f"{what} {clock(ms)} is {abs(ms - nearest)} ms off the {_num(profile.fps)} "
                    f"fps frame grid (nearest {clock(nearest)})",
                )
            )
    return flags


def off_frame(ms: int, fps: float, tolerance_ms: int = _ROUNDING_MS) -> int | None:
    """The nearest frame boundary in ms when `ms` is not on one (within rounding), else None."""
    rate = frame_rate(fps)
    frame = round(Fraction(ms) * rate / 1000)
    exact = Fraction(frame * 1000) / rate
    off = abs(ms - exact)
    on_grid = off <= tolerance_ms if tolerance_ms > _ROUNDING_MS else off < _ROUNDING_MS
    return None if on_grid else frame_to_ms(frame, fps)


# ----------------------------------------------------------------------------------- Urdu


def _digit_system(cues: Sequence[Cue]) -> str:
    """The file's digit system: the one more cues use (Latin on a tie, dubkit's default)."""
    latin = sum(bool(_LATIN_NUMBER.search(strip_bidi(c.text))) for c in cues)
    urdu = sum(bool(_URDU_DIGITS.search(c.text)) for c in cues)
    return "urdu" if urdu > latin else "latin"


def _urdu_flags(cue: Cue, digits: str) -> list[Flag]:
    text = strip_bidi(cue.text)
    flags = []
    found = [c for c in sorted(set(text)) if c in LOOKALIKES]
    if found:
        listed = ", ".join(
            f"{c} U+{ord(c):04X} (use {LOOKALIKES[c]} U+{ord(str(LOOKALIKES[c])):04X})"
            for c in found
        )
        flags.append(Flag("lookalike", f"{_plural(len(found), 'Arabic letter')}: {listed}"))
    flags += _digit_flags(text, digits)
    untagged = [strip_tags(line) for line in cue.lines]
    missing = [run for line in untagged if has_urdu(line) for run in _unmarked_runs(line)]
    if missing:
        runs = ", ".join(repr(r) for r in dict.fromkeys(missing))
        flags.append(
            Flag(
                "bidi-missing", f"{_plural(len(missing), 'left-to-right run')} without LRM: {runs}"
            )
        )
    marks = [m for line in cue.lines for m in _latin_marks_after_urdu(visible(line))]
    if marks:
        listed = ", ".join(f"'{m}' (use '{_URDU_MARK[m]}')" for m in dict.fromkeys(marks))
        flags.append(Flag("latin-punctuation", f"{len(marks)} after an Urdu word: {listed}"))
    return flags


def _digit_flags(text: str, system: str) -> list[Flag]:
    flags = []
    arabic = _ARABIC_INDIC_DIGITS.findall(text)
    if arabic:
        flags.append(
            Flag(
                "digits-mixed",
                f"Arabic-Indic digits {' '.join(arabic)} are not Urdu; use Latin 0-9 or Urdu ۰-۹",
            )
        )
    other = (_URDU_DIGITS if system == "latin" else _LATIN_NUMBER).findall(text)
    if other:
        used, usual = ("Urdu", "Latin") if system == "latin" else ("Latin", "Urdu")
        flags.append(
            Flag(
                "digits-mixed",
                f"{used} digits {' '.join(other)} in a file that writes {usual} digits",
            )
        )
    return flags


def _unmarked_runs(line: str) -> list[str]:
    """Left-to-right runs (Latin words, numbers, as dubkit.text.urdu.mark_bidi finds them) of an
    Urdu line with no LRM (or LRI, LRE) just before them or no LRM (PDI, PDF) just after.
    A run's own closing punctuation may sit inside or outside the marks."""
    plain = strip_bidi(line)
    where = [i for i, c in enumerate(line) if c not in BIDI_CONTROLS]  # plain index → line index
    missing = []
    for start, end in _ltr_runs(plain):
        before = line[(where[start - 1] + 1 if start else 0) : where[start]]
        core_end = end
        while core_end > start + 1 and not plain[core_end - 1].isalnum():
            core_end -= 1  # CPEC. and 10%: the marks may close before the punctuation
        after = line[where[core_end - 1] + 1 : where[end] if end < len(plain) else len(line)]
        if not (_LTR_OPENERS & set(before)) or not (_LTR_CLOSERS & set(after)):
            missing.append(plain[start:end])
    return missing


def _ltr_runs(plain: str) -> list[tuple[int, int]]:
    """(start, end) of each left-to-right run of `plain`, read off mark_bidi's own output so
    that the check and the writer agree on what a run is."""
    runs = []
    pos, start = 0, -1
    for c in mark_bidi(plain, rtl=True):
        if c == LRM:
            if start < 0:
                start = pos
            else:
                runs.append((start, pos))
                start = -1
        elif c != RLM:
            pos += 1
    return runs


def _latin_marks_after_urdu(text: str) -> list[str]:
    """Latin , ; ? . directly after an Urdu letter (spaces between allowed); an ellipsis is
    not a full stop."""
    marks = []
    for m in re.finditer(r"[,;?.]", text):
        i = m.start()
        mark = m.group(0)
        if mark == "." and "." in (text[i - 1 : i], text[i + 1 : i + 2]):
            continue
        before = text[:i].rstrip()
        if before and has_urdu(before[-1]):
            marks.append(mark)
    return marks


# ----------------------------------------------------------------------- programme report


def with_glossary(reports: Sequence[CueReport], glossary: Mapping[str, Any]) -> list[CueReport]:
    """The reports with a 'glossary' flag on each cue whose approved terms are missing, and a
    'recognition' flag on each cue whose Chinese the recogniser flagged (`glossary` is
    dubkit.qa.adherence.glossary_report's result)."""
    misses: dict[int, list[str]] = {}
    for miss in glossary.get("adherence", {}).get("misses", []):
        misses.setdefault(int(miss["cue"]), []).append(f"{miss['zh']} → {miss['approved']!r}")
    heard = {
        int(c["index"]): [f for f in c.get("flags", ()) if f in RECOGNITION_FLAGS]
        for c in glossary.get("cues", ())
    }
    out = []
    for r in reports:
        if r.index in misses:
            flag = Flag("glossary", f"approved rendering missing: {'; '.join(misses[r.index])}")
            r = replace(r, flags=(*r.flags, flag))
        out.append(r)
    return with_recognition(out, {k: v for k, v in heard.items() if v})


def with_recognition(
    reports: Sequence[CueReport], flagged: Mapping[int, Sequence[str]]
) -> list[CueReport]:
    """A 'recognition' flag on each cue (by index) whose Chinese the recogniser flagged:
    such a cue is never clean, whatever its layout."""
    out = []
    for r in reports:
        if flagged.get(r.index) and all(f.code != "recognition" for f in r.flags):
            why = ", ".join(flagged[r.index])
            r = replace(r, flags=(*r.flags, Flag("recognition", f"{why}: check what was said")))
        out.append(r)
    return out


def summarise(reports: Sequence[CueReport]) -> Summary:
    """Cues, clean cues, cues per code (in CODES order), the fastest cue."""
    per_code = Counter(code for r in reports for code in {f.code for f in r.flags})
    counts = {code: per_code[code] for code in CODES if per_code[code]}
    # A 0 ms cue with text reads infinitely fast: it is the worst cue.
    speeds = [(math.inf if r.cps is None else r.cps, r.index) for r in reports]
    worst = max(speeds, default=None)
    worst_cps = None if worst is None or worst[0] == math.inf else worst[0]
    return Summary(
        cues=len(reports),
        clean=sum(r.clean for r in reports),
        counts=counts,
        worst_cps=worst_cps,
        worst_cue=worst[1] if worst else None,
        duration_ms=max((r.end_ms for r in reports), default=0),
    )


def detect_language(cues: Sequence[Cue]) -> str:
    """'ur' when any cue has Arabic-script letters, else 'zh'."""
    return "ur" if any(has_urdu(c.text) for c in cues) else "zh"


def build_report(
    name: str,
    profile: Profile,
    reports: Sequence[CueReport],
    glossary: Mapping[str, Any] | None = None,
    repairs: Sequence[str] = (),
    structure_error: str | None = None,
) -> dict[str, Any]:
    """The whole QA report as JSON-ready data (what --json prints and the HTML shows).

    `repairs` are what lenient reading changed to read the file; `structure_error` is the
    first problem strict reading refused (overlapping or unordered cues, empty cues, bad
    indices...): the file fails then even when every cue as repaired passes."""
    summary = summarise(reports)
    return {
        "file": name,
        "profile": asdict(profile),
        "passed": summary.passed and structure_error is None,
        "summary": summary.to_dict(),
        "codes": dict(CODES),
        "structure_error": structure_error,
        "repairs": list(repairs),
        "glossary": dict(glossary) if glossary is not None else None,
        "cues": [r.to_dict() for r in reports],
    }


def qa_report(
    name: str,
    cues: Sequence[Cue],
    profile: Profile,
    glossary: Mapping[str, Any] | None = None,
    repairs: Sequence[str] = (),
    structure_error: str | None = None,
    frame_tolerance_ms: int = _ROUNDING_MS,
) -> dict[str, Any]:
    """Every check on a programme's cues, glossary misses as flags, as build_report's data."""
    reports = check_cues(cues, profile, frame_tolerance_ms)
    own = {c.index: [f for f in c.flags if f in RECOGNITION_FLAGS] for c in cues}
    reports = with_recognition(reports, {k: v for k, v in own.items() if v})
    if glossary is not None:
        reports = with_glossary(reports, glossary)
    return build_report(name, profile, reports, glossary, repairs, structure_error)
