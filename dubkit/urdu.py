"""Urdu text as broadcasters print it: Urdu code points and punctuation, one digit system,
bidi marks around left-to-right runs. Pure functions over strings."""

from __future__ import annotations

import re
from dataclasses import dataclass

LRM, RLM = "\u200e", "\u200f"
# Every explicit directional mark or isolate; removed before marks are placed again, so that
# normalising twice gives the same text.
BIDI_CONTROLS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

# Arabic code points that look like Urdu letters but shape and sort differently, and break
# search and glossary matching. The he mapping is to gol he (ہ): machine translation output
# uses U+0647 where Urdu writes ہ; do-chashmi he (ھ) in aspirates is never written as U+0647
# by Urdu models, so the choice is safe for them.
LOOKALIKES: dict[str, str | int | None] = {
    "\u064a": "\u06cc",  # ي Arabic yeh → ی Farsi yeh (Urdu choti ye)
    "\u0649": "\u06cc",  # ى alef maksura → ی
    "\u0643": "\u06a9",  # ك Arabic kaf → ک keheh
    "\u0647": "\u06c1",  # ه Arabic heh → ہ heh goal
    "\u0629": "\u06c3",  # ة teh marbuta → ۃ teh marbuta goal
    "\u06d5": "\u06c1",  # ە ae → ہ
}
_LATIN_DIGITS = "0123456789"
_URDU_DIGITS = "۰۱۲۳۴۵۶۷۸۹"  # U+06F0..U+06F9, Extended Arabic-Indic, the Urdu digits
_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"  # U+0660..U+0669, Arabic-Indic, wrong for Urdu
DIGIT_SYSTEMS = ("latin", "urdu")

_ARABIC_LETTER = r"\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff"
# A left-to-right run: Latin letters or digits, possibly joined by spaces, dots, hyphens and
# similar inside (CPEC, "Radio Pakistan", 2025, 3.5, 10:30, COVID-19).
_LTR_RUN = re.compile(
    r"[A-Za-z0-9\u00c0-\u024f\u06f0-\u06f9]+"
    r"(?:[ .,:/%&'+\-–]+[A-Za-z0-9\u00c0-\u024f\u06f0-\u06f9]+)*%?"
)
_HAS_ARABIC = re.compile(f"[{_ARABIC_LETTER}]")


@dataclass(frozen=True, slots=True)
class UrduStyle:
    """How Urdu output is written (recorded in run.json)."""

    digits: str = "latin"  # Pakistani broadcast subtitles use Western digits
    bidi_marks: bool = True

    def __post_init__(self) -> None:
        if self.digits not in DIGIT_SYSTEMS:
            raise ValueError(
                f"digits must be one of {', '.join(DIGIT_SYSTEMS)}, not {self.digits!r}"
            )


def normalise(text: str, style: UrduStyle = UrduStyle()) -> str:
    """Urdu letters for Arabic look-alikes, Urdu punctuation, one digit system, bidi marks."""
    text = strip_bidi(text)
    text = text.translate(str.maketrans(LOOKALIKES))
    text = set_digits(text, style.digits)
    text = punctuate(text)
    text = " ".join(text.split())
    return mark_bidi(text) if style.bidi_marks else text


def strip_bidi(text: str) -> str:
    return text.translate({ord(c): None for c in BIDI_CONTROLS})


def set_digits(text: str, system: str) -> str:
    """Every digit in one system: Latin 0-9 or Urdu ۰-۹ (Arabic-Indic ٠-٩ is never right)."""
    target = _URDU_DIGITS if system == "urdu" else _LATIN_DIGITS
    table = str.maketrans(_LATIN_DIGITS + _URDU_DIGITS + _ARABIC_DIGITS, target * 3)
    return text.translate(table)


def punctuate(text: str) -> str:
    """Latin sentence punctuation next to Urdu words becomes Urdu punctuation (۔ ، ؟ ؛).

    A full stop or comma between digits (3.5, 1,000) or inside a Latin run (U.S.) is kept.
    """
    if not _HAS_ARABIC.search(text):
        return text
    text = text.replace("?", "؟").replace(";", "؛")
    text = re.sub(r"(?<![0-9A-Za-z]),|,(?![0-9])", "،", text)
    text = re.sub(r"(?<=[" + _ARABIC_LETTER + r"\s)\"'».])\.(?!\d)|\.(?=\s*$)", "۔", text)
    text = re.sub(r"\s+([۔،؟؛!])", r"\1", text)
    return text


def mark_bidi(text: str) -> str:
    """LRM on both sides of each left-to-right run inside an Urdu line, and RLM at the start
    of a line whose first strong character is Latin, so players that guess the paragraph
    direction from the first letter still lay the line out right to left."""
    if not _HAS_ARABIC.search(text):
        return text
    lines = []
    for line in text.split("\n"):
        if not _HAS_ARABIC.search(line):
            lines.append(line)
            continue
        marked = _LTR_RUN.sub(lambda m: f"{LRM}{m.group(0)}{LRM}", line)
        first = re.search(rf"[A-Za-z{_ARABIC_LETTER}]", line)
        if first and first.group(0).isascii():
            marked = RLM + marked
        lines.append(marked)
    return "\n".join(lines)


def lookalikes_in(text: str) -> list[str]:
    """The Arabic look-alike characters present (for checks and tests)."""
    return sorted({c for c in text if c in LOOKALIKES})
