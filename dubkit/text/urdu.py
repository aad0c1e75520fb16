"""Urdu text as broadcasters print it: Urdu code points and punctuation, one digit system,
bidi marks around left-to-right runs. Pure functions over strings."""

from __future__ import annotations

import re
import unicodedata
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

# Arabic-script letters and their marks; not digits (۰-۹) or punctuation (، ؛ ؟ ۔).
_ARABIC_LETTER = (
    "\u0620-\u065f\u066e-\u06d3\u06d5\u06e5\u06e6\u06ee\u06ef\u06fa-\u06ff\u0750-\u077f"
    "\ufb50-\ufdff\ufe70-\ufefc"
)
_URL = r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
# A left-to-right run: a URL, or Latin letters or digits possibly joined by spaces and
# punctuation inside (CPEC, "Radio Pakistan", 2025, 3.5, 10:30, COVID-19, "Hello, how are
# you? I am fine."), with the English sentence's own final punctuation.
_LTR_RUN = re.compile(
    rf"{_URL}|[A-Za-z0-9\u00c0-\u024f\u06f0-\u06f9]+"
    r"(?:[ .,:;/%&'+\-–?!]+[A-Za-z0-9\u00c0-\u024f\u06f0-\u06f9]+)*%?(?:[.?!]+(?=\s|$))?"
)
_HAS_ARABIC = re.compile(f"[{_ARABIC_LETTER}]")
_STARTS_ARABIC = re.compile(f"[{_ARABIC_LETTER}]")
# Text ending in an Urdu word, or in an Urdu word and one Latin word or number (the "CPEC" of
# "…کا نام CPEC."): punctuation that follows closes an Urdu sentence or clause.
_AFTER_URDU = re.compile(
    rf"[{_ARABIC_LETTER}][\s\"'»”’)\]]*(?:[A-Za-z0-9\u06f0-\u06f9\-]+[\"'”’)\]]*)?$"
)
_URDU_PUNCTUATION = {"?": "؟", ";": "؛", ",": "،", ".": "۔"}
_PROTECTED = re.compile(f"({_URL})")
# Fullwidth and halfwidth forms, Arabic presentation forms: NFKC folds them to plain letters,
# digits and punctuation (，→, 。→. ？→? ３→3 ﻙ→ك).
_COMPAT = re.compile("[\ufb50-\ufdff\ufe70-\ufeff\uff00-\uffef]+")
_CJK_PUNCTUATION = str.maketrans({"\u3002": ".", "\u3001": ",", "\u300c": '"', "\u300d": '"'})
_LOOKALIKE_TABLE = str.maketrans(LOOKALIKES)
_TO_LATIN = str.maketrans(_URDU_DIGITS + _ARABIC_DIGITS, _LATIN_DIGITS * 2)
_TO_URDU = str.maketrans(_LATIN_DIGITS, _URDU_DIGITS)
_DIGIT_RUN = re.compile(r"(?<![A-Za-z0-9])(?<![A-Za-z]-)[0-9]+(?![A-Za-z])")  # not MP3, COVID-19


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
    """Urdu letters for Arabic look-alikes, Urdu punctuation, one digit system, bidi marks.
    `text` is one cue: with Urdu anywhere in it, every line of it is right to left (a line
    of Latin words in an Urdu cue gets its marks too), as translation writes cues."""
    text = normalise_letters(text, style.digits)
    return mark_bidi(text, rtl=has_urdu(text)) if style.bidi_marks else text


def normalise_letters(text: str, digits: str = "latin") -> str:
    """Everything but the bidi marks: compatibility forms folded (fullwidth ，。？ and digits
    copied from Chinese, Arabic presentation forms), Urdu letters for look-alikes, digits in
    one system, Urdu punctuation after Urdu words, spaces collapsed. URLs and e-mail
    addresses are left exactly as they are."""
    out = []
    for n, part in enumerate(_PROTECTED.split(strip_bidi(text))):
        if n % 2:  # a URL or address
            out.append(part)
            continue
        part = _COMPAT.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), part)
        part = part.translate(_CJK_PUNCTUATION)
        part = part.translate(_LOOKALIKE_TABLE)
        part = set_digits(part, digits)
        out.append(punctuate(part))
    return "\n".join(" ".join(line.split()) for line in "".join(out).split("\n"))


def strip_bidi(text: str) -> str:
    return text.translate({ord(c): None for c in BIDI_CONTROLS})


def set_digits(text: str, system: str) -> str:
    """Every digit in one system: Latin 0-9 or Urdu ۰-۹ (Arabic-Indic ٠-٩ is never right).

    With Urdu digits, digits that belong to a Latin word (COVID-19, MP3) stay as they are.
    """
    if system != "urdu":
        return text.translate(_TO_LATIN)
    return _DIGIT_RUN.sub(lambda m: m.group(0).translate(_TO_URDU), text.translate(_TO_LATIN))


def punctuate(text: str) -> str:
    """Latin sentence punctuation after an Urdu word becomes Urdu punctuation (۔ ، ؟ ؛).

    Only after an Arabic-script letter (spaces, quotes and brackets between allowed): English
    inside an Urdu line keeps its own punctuation; 3.5, 1,000 and an ellipsis stay.
    """
    if not _HAS_ARABIC.search(text):
        return text

    def urdu(m: re.Match[str]) -> str:
        mark, start = m.group(0), m.start()
        before = text[:start]
        prev, nxt = text[start - 1 : start], text[start + 1 : start + 2]
        if mark == "." and "." in (prev, nxt):
            return mark  # an ellipsis
        if mark in ".," and prev.isdigit() and nxt.isdigit():
            return mark  # 3.5, 1,000
        if not _AFTER_URDU.search(before):
            return mark
        return _URDU_PUNCTUATION[mark]

    text = re.sub(r"[?;,.]", urdu, text)
    text = re.sub(r"(?<=\S)\s+([۔،؟؛])", r"\1", text)
    return re.sub(f"([۔،؟؛])(?=[{_ARABIC_LETTER}])", r"\1 ", text)


def mark_bidi(text: str, rtl: bool | None = None) -> str:
    """LRM on both sides of each left-to-right run (Latin words, numbers) inside a
    right-to-left line, and RLM first when the line does not start with an Arabic-script
    letter, so players that take the direction from the first strong character still lay it
    out right to left. `rtl` None: lines with Arabic-script letters are right to left."""
    lines = []
    for line in text.split("\n"):
        if not (rtl if rtl is not None else _HAS_ARABIC.search(line)) or not line:
            lines.append(line)
            continue
        marked = _LTR_RUN.sub(lambda m: f"{LRM}{m.group(0)}{LRM}", line)
        if not _STARTS_ARABIC.match(line):
            marked = RLM + marked
        lines.append(marked)
    return "\n".join(lines)


def lookalikes_in(text: str) -> list[str]:
    """The Arabic look-alike characters present (for checks and tests)."""
    return sorted({c for c in text if c in LOOKALIKES})


def has_urdu(text: str) -> bool:
    """Whether `text` holds Arabic-script letters (a right-to-left text)."""
    return _HAS_ARABIC.search(text) is not None
