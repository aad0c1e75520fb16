"""Glossary biasing where the evidence says a term was spoken, and nowhere else.

faster-whisper's `hotwords` are prompt text in every 30 s window: a long list makes windows
without those words hallucinate them. Here a first pass is decoded without glossary hotwords;
the terms that probably were spoken in a window are found by sound in its text
(`pinyin.find_by_sound`); a term heard exactly (same syllables, three or more) is written in
directly, and a window with near matches is decoded again with only those terms as hotwords,
kept only when the new text gains a term where the old one sounded like it and loses nothing.
Pure.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dubkit import constants as C
from dubkit.asr.guard import find_loops, spoken_chars
from dubkit.asr.pinyin import find_by_sound, is_han, min_score
from dubkit.glossary import TermSet

_UNHEARD = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class BiasTerms:
    """Chinese forms that may bias recognition, each with its canonical form; `literal` also
    holds the mis-hearings, which are never hotwords but mean the term is already there."""

    forms: Mapping[str, str]  # form → canonical zh
    literal: frozenset[str] = frozenset()

    @classmethod
    def from_pairs(
        cls, forms: Iterable[tuple[str, str]], misheard: Iterable[str] = ()
    ) -> BiasTerms:
        chosen: dict[str, str] = {}
        for form, zh in forms:
            # quotes and spaces are not heard (“一带一路”倡议 sounds like 一带一路倡议);
            # forms with letters or digits are written by Whisper without help
            heard = _UNHEARD.sub("", form)
            if len(heard) >= C.BIAS_MIN_SYLLABLES and all(is_han(ch) for ch in heard):
                chosen.setdefault(heard, zh)
        return cls(chosen, frozenset(chosen) | frozenset(misheard))

    @classmethod
    def from_glossary(cls, terms: TermSet) -> BiasTerms:
        """Canonical forms and correct variants (never mis-hearings: that would bias towards
        the error), narrowest scope first as the glossaries combine them."""
        pairs = [(form, t.zh) for t in terms.terms for form in (t.zh, *t.variants)]
        return cls.from_pairs(pairs, [m for t in terms.terms for m in t.misheard])


@dataclass(frozen=True, slots=True)
class Candidate:
    """A term that text[start:end] (`heard`) sounds like."""

    form: str
    zh: str
    start: int
    end: int
    heard: str
    score: float
    exact: bool

    @property
    def substitutable(self) -> bool:
        """Heard with exactly the term's syllables, and long enough that a homophone of the
        same length is unlikely to be another word: written in without decoding again."""
        return self.exact and len(self.form) >= C.BIAS_SUBSTITUTE_MIN_CHARS

    def to_dict(self) -> dict[str, object]:
        return {"term": self.zh, "form": self.form, "heard": self.heard, "score": self.score}


def _literal_spans(text: str, literal: Iterable[str]) -> list[tuple[int, int]]:
    spans = []
    for form in literal:
        at = text.find(form)
        while at >= 0:
            spans.append((at, at + len(form)))
            at = text.find(form, at + 1)
    return spans


def candidates(text: str, bias: BiasTerms) -> list[Candidate]:
    """Terms `text` probably says but does not write: sound matches that are not the form
    itself and do not overlap a term (or known mis-hearing) already written there. Where
    two forms claim the same characters the better score wins."""
    written = _literal_spans(text, bias.literal)
    found = []
    for m in find_by_sound(text, bias.forms):
        if m.heard == m.form or any(a < m.end and m.start < b for a, b in written):
            continue
        found.append(
            Candidate(m.form, bias.forms[m.form], m.start, m.end, m.heard, m.score, m.exact)
        )
    chosen: list[Candidate] = []
    for cand in sorted(found, key=lambda c: (-c.score, -len(c.form), c.start)):
        if all(cand.end <= c.start or c.end <= cand.start for c in chosen):
            chosen.append(cand)
    return sorted(chosen, key=lambda c: c.start)


@dataclass(frozen=True, slots=True)
class Verdict:
    keep: bool
    reason: str
    gained: tuple[str, ...] = ()  # terms the second pass wrote where the first sounded like them


def _map_span(matcher: difflib.SequenceMatcher[str], start: int, end: int) -> tuple[int, int]:
    """Where second-pass characters [start, end) came from in the first pass."""
    first_start = first_end = None
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if j2 <= start or j1 >= end:
            if j1 == j2 == start and first_start is None:
                first_start = i1
            continue
        if first_start is None:
            first_start = i1 + (start - j1 if tag == "equal" else 0)
        first_end = i2 - (j2 - end if tag == "equal" and end < j2 else 0)
    if first_start is None:
        return 0, 0
    return first_start, max(first_start, first_end if first_end is not None else first_start)


def judge(first: str, second: str, bias: BiasTerms, proposed: Sequence[Candidate]) -> Verdict:
    """Keep the biased second pass only if it loses no text, does not run on, has no loop,
    and every term it writes that the first pass did not was heard there by sound."""
    n1, n2 = spoken_chars(first), spoken_chars(second)
    if find_loops(second) and not find_loops(first):
        return Verdict(False, "the biased pass loops")
    if n2 < n1 * (1 - C.BIAS_MAX_LOSS):
        return Verdict(False, f"the biased pass lost text ({n2} characters, not {n1})")
    grown = sum(max(0, len(c.form) - len(c.heard)) for c in proposed)
    if n2 > n1 * (1 + C.BIAS_MAX_LOSS) + grown:
        return Verdict(False, f"the biased pass added text ({n2} characters, not {n1})")
    matcher = difflib.SequenceMatcher(None, first, second, autojunk=False)
    gained: list[str] = []
    seen: set[int] = set()
    for form in sorted(bias.forms, key=len, reverse=True):
        at = second.find(form)
        while at >= 0:
            if seen.intersection(range(at, at + len(form))):
                at = second.find(form, at + 1)
                continue
            seen.update(range(at, at + len(form)))
            a, b = _map_span(matcher, at, at + len(form))
            before = first[max(0, a - 1) : b + 1]
            if first[a:b] != form:
                ok = [m for m in find_by_sound(before, [form]) if m.score >= min_score(len(form))]
                if not ok:
                    was = first[a:b] or "(nothing)"
                    return Verdict(False, f"the biased pass wrote {form} where {was!r} was heard")
                gained.append(bias.forms[form])
            at = second.find(form, at + len(form))
    if not gained:
        return Verdict(False, "no term gained")
    return Verdict(True, "gained " + ", ".join(dict.fromkeys(gained)), tuple(dict.fromkeys(gained)))
