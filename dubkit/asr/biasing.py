"""Glossary biasing where the evidence says a term was spoken, and nowhere else.

faster-whisper's `hotwords` are prompt text in every 30 s window: a long list makes windows
without those words hallucinate them. Here a first pass is decoded without glossary hotwords;
the terms that probably were spoken in a window are found by sound in its text
(`pinyin.find_by_sound`). A term heard with exactly its syllables and tones, as whole words
of the text (邮地亚王 for 犹地亚王), is written in directly; a window with near matches is
decoded again with only those terms as hotwords, and the new text is kept only when it
changes nothing but the terms (each where the old text sounded like it) and a few characters
for others that sound the same (`judge`). Pure: the readings and the word segmenter are
passed in.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dubkit import constants as C
from dubkit.asr.guard import find_loops
from dubkit.asr.pinyin import (
    Reader,
    find_by_sound,
    is_han,
    min_score,
    split_reading,
    syllables,
)
from dubkit.glossary.terms import TermSet

_UNHEARD = re.compile(r"[\s\W_]+", re.UNICODE)
Splitter = Callable[[str], Sequence[str]]


@dataclass(frozen=True, slots=True)
class BiasTerms:
    """Chinese forms that may bias recognition, each with its canonical form, and how to hear
    them: `read` gives readings, `split` Chinese words. `literal` also holds the
    mis-hearings, which are never hotwords but mean the term is already there."""

    forms: Mapping[str, str]  # form → canonical zh
    read: Reader = field(compare=False)
    split: Splitter | None = field(default=None, compare=False)
    literal: frozenset[str] = frozenset()
    # every reading of one character (藏: cang, zang), when known
    alternatives: Callable[[str], Sequence[str]] | None = field(default=None, compare=False)

    @classmethod
    def from_pairs(
        cls,
        forms: Iterable[tuple[str, str]],
        read: Reader,
        split: Splitter | None = None,
        misheard: Iterable[str] = (),
        alternatives: Callable[[str], Sequence[str]] | None = None,
    ) -> BiasTerms:
        chosen: dict[str, str] = {}
        for form, zh in forms:
            # quotes and spaces are not heard (“一带一路”倡议 sounds like 一带一路倡议);
            # forms with letters or digits are written by Whisper without help
            heard = _UNHEARD.sub("", form)
            if len(heard) >= C.BIAS_MIN_SYLLABLES and all(is_han(ch) for ch in heard):
                chosen.setdefault(heard, zh)
        return cls(chosen, read, split, frozenset(chosen) | frozenset(misheard), alternatives)

    @classmethod
    def from_glossary(
        cls,
        terms: TermSet,
        read: Reader,
        split: Splitter | None = None,
        alternatives: Callable[[str], Sequence[str]] | None = None,
    ) -> BiasTerms:
        """Canonical forms and correct variants (never mis-hearings: that would bias towards
        the error), narrowest scope first as the glossaries combine them."""
        pairs = [(form, t.zh) for t in terms.terms for form in (t.zh, *t.variants)]
        misheard = [m for t in terms.terms for m in t.misheard]
        return cls.from_pairs(pairs, read, split, misheard, alternatives)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A term that text[start:end] (`heard`) sounds like."""

    form: str
    zh: str
    start: int
    end: int
    heard: str
    score: float
    exact: bool  # the same syllables (tones aside)
    whole_words: bool = False  # the heard span starts and ends between words of the text
    no_words: bool = False  # the span holds no word of two characters or more: a mishearing

    @property
    def substitutable(self) -> bool:
        """Written in without decoding again: heard with exactly the term's syllables, as
        whole words of the text (一家新闻 does not hold 假新闻: 家 belongs to 一家), and
        three characters or more. A term of three must also match every tone and be heard
        without a break; a longer one, rarer by chance, may differ in one tone, and may be
        heard across one comma only where what was heard is no words at all (三零酸,现干 for
        三磷酸腺苷; never 社交，媒体, two words and a clause break)."""
        if not (self.exact and self.whole_words and len(self.form) >= C.BIAS_SUBSTITUTE_MIN_CHARS):
            return False
        breaks = sum(1 for ch in self.heard if not is_han(ch))
        if len(self.form) == C.BIAS_SUBSTITUTE_MIN_CHARS:
            return self.score >= 1.0 and breaks == 0
        tones = self.score >= 1 - C.BIAS_TONE_COST / len(self.form) - 1e-9
        return tones and (breaks == 0 or (breaks == 1 and self.no_words))

    def to_dict(self) -> dict[str, object]:
        return {"term": self.zh, "form": self.form, "heard": self.heard, "score": self.score}


def _spans_of(text: str, forms: Iterable[str]) -> list[tuple[int, int]]:
    spans = []
    for form in forms:
        at = text.find(form)
        while at >= 0:
            spans.append((at, at + len(form)))
            at = text.find(form, at + 1)
    return spans


def _word_ends(text: str, split: Splitter | None) -> set[int] | None:
    if split is None:
        return None
    pieces = list(split(text))
    if "".join(pieces) != text:
        return None
    ends, at = {0}, 0
    for piece in pieces:
        at += len(piece)
        ends.add(at)
    return ends


def candidates(text: str, bias: BiasTerms) -> list[Candidate]:
    """Terms `text` probably says but does not write: sound matches that are not the form
    itself and do not overlap a term (or known mis-hearing) already written there. Where
    two forms claim the same characters the better score wins."""
    written = _spans_of(text, bias.literal)
    ends = _word_ends(text, bias.split)
    found = []
    for m in find_by_sound(text, bias.forms, bias.read):
        if m.heard == m.form or any(a < m.end and m.start < b for a, b in written):
            continue
        whole = ends is not None and m.start in ends and m.end in ends
        inside = sorted(e for e in ends or () if m.start <= e <= m.end)
        no_words = whole and all(
            b - a == 1 or not any(is_han(ch) for ch in text[a:b])
            for a, b in itertools.pairwise(inside)
        )
        zh = bias.forms[m.form]
        found.append(
            Candidate(m.form, zh, m.start, m.end, m.heard, m.score, m.exact, whole, no_words)
        )
    chosen: list[Candidate] = []
    for cand in sorted(found, key=lambda c: (-c.score, -len(c.form), c.start)):
        if all(cand.end <= c.start or c.end <= cand.start for c in chosen):
            chosen.append(cand)
    return sorted(chosen, key=lambda c: c.start)


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A term the biased pass wrote where the first pass heard `heard`, which stands at
    [start, end) of the first pass's spoken text (spaces and punctuation left out)."""

    form: str
    start: int
    end: int
    heard: str


@dataclass(frozen=True, slots=True)
class Verdict:
    keep: bool
    reason: str
    gained: tuple[str, ...] = ()  # terms the second pass wrote where the first sounded like them
    # Where the second pass is refused only for what it changed outside its terms (间 → 皆,
    # decoding noise that one CPU makes and another does not), the terms it gained with their
    # evidence, to be written into the first pass's text instead.
    confirmed: tuple[Confirmed, ...] = ()


def _spoken(text: str) -> str:
    return _UNHEARD.sub("", text)


def _gain_score(n: int) -> float:
    """What a term gained by a biased pass must score where the first pass heard it: one
    tone off for three characters, one initial or final for four or more (十五年 is not
    食物链, 罗马皇李 is 罗马皇帝); two must sound the same."""
    if n <= C.BIAS_MIN_SYLLABLES:
        return min_score(n)
    cost = C.BIAS_TONE_COST if n == C.BIAS_SUBSTITUTE_MIN_CHARS else 0.5
    return 1 - cost / n - 1e-9


def _gained_spans(
    first: str, second: str, bias: BiasTerms, matcher: difflib.SequenceMatcher[str]
) -> tuple[list[tuple[int, int, int, int, str]], str | None]:
    """Each term the second pass writes where the first did not: (second start, end, first
    start, end, form), or the reason one was written without evidence."""
    gained: list[tuple[int, int, int, int, str]] = []
    seen: set[int] = set()
    ends = _word_ends(first, bias.split)
    for form in sorted(bias.forms, key=len, reverse=True):
        at = second.find(form)
        while at >= 0:
            end = at + len(form)
            if not seen.intersection(range(at, end)):
                seen.update(range(at, end))
                a, b = _map_span(matcher, at, end)
                if first[a:b] != form:
                    heard = first[a:b]
                    ok = (
                        len(heard) >= len(form) - 1
                        and (ends is None or (a in ends and b in ends))
                        and any(
                            m.heard == heard and m.score >= _gain_score(len(form))
                            for m in find_by_sound(heard, [form], bias.read)
                        )
                    )
                    if not ok:
                        said = heard or "(nothing)"
                        return gained, f"the biased pass wrote {form} where {said!r} was heard"
                    if any(a < g[3] and g[2] < b for g in gained):  # 大希律王大希律王 for one
                        return (
                            gained,
                            f"the biased pass wrote {form} twice where {heard!r} was heard",
                        )
                    gained.append((at, end, a, b, form))
            at = second.find(form, at + 1)
    return gained, None


def judge(first: str, second: str, bias: BiasTerms) -> Verdict:
    """Keep the biased second pass only if it changes nothing but terms and characters:
    every term it writes that the first pass did not sits, as whole words, where the first
    pass sounded like it (see _gain_score); no term the first pass wrote is lost; outside the
    terms at most a few characters are replaced, each by one that sounds the same (圣藏 →
    胜脏: the same syllables, another character; never 不 → 就 or 百 → 千), none added or
    dropped; no new loop. Spaces and punctuation aside. A pass refused only because those
    few characters outside its terms were added, dropped or said otherwise still confirms
    its terms (`Verdict.confirmed`); one that changed more than a few confirms nothing."""
    a, b = _spoken(first), _spoken(second)
    if find_loops(b) and not find_loops(a):
        return Verdict(False, "the biased pass loops")
    for form in bias.forms:
        if b.count(form) < a.count(form):
            return Verdict(False, f"the biased pass lost {form}")
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    gained, wrong = _gained_spans(a, b, bias, matcher)
    if wrong is not None:
        return Verdict(False, wrong)
    if not gained:
        return Verdict(False, "no term gained")
    refused, changed = _outside_changes(a, b, bias, matcher, gained)
    most = max(C.BIAS_MAX_OTHER_CHANGES, round(C.BIAS_MAX_OTHER_SHARE * len(a)))
    if changed > most:  # (the count is why: one of those changes alone would confirm the terms)
        why = f"the biased pass changed {changed} characters outside the terms, more than {most}"
        among = f"; among them it {refused.removeprefix('the biased pass ')}" if refused else ""
        return Verdict(False, why + among)
    if refused is not None:
        confirmed = tuple(Confirmed(f, s, e, a[s:e]) for *_, s, e, f in sorted(gained))
        return Verdict(False, refused, confirmed=confirmed)
    terms = tuple(dict.fromkeys(bias.forms[f] for *_, f in sorted(gained)))
    return Verdict(True, "gained " + ", ".join(terms), terms)


def _outside_changes(
    a: str,
    b: str,
    bias: BiasTerms,
    matcher: difflib.SequenceMatcher[str],
    gained: Sequence[tuple[int, int, int, int, str]],
) -> tuple[str | None, int]:
    """Why the changes outside the gained terms refuse the second pass (the first that
    does: text added or dropped, or a character for one of another sound), or None; and
    how many characters they change."""
    sound_a, sound_b = _sounds(a, bias), _sounds(b, bias)
    refused, changed = None, 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        outside_b = [j for j in range(j1, j2) if not any(s <= j < e for s, e, *_ in gained)]
        outside_a = [i for i in range(i1, i2) if not any(s <= i < e for _, _, s, e, _ in gained)]
        if not outside_a and not outside_b:
            continue  # inside a term's span: the term itself
        changed += max(len(outside_a), len(outside_b))
        if refused is not None:
            continue
        change = f"{a[i1:i2]!r} → {b[j1:j2]!r}"
        if len(outside_a) != len(outside_b):
            kind = "dropped" if len(outside_a) > len(outside_b) else "added"
            refused = f"the biased pass {kind} text outside the terms ({change})"
        elif any(
            not sound_a.get(i, set()) & sound_b.get(j, set())  # 不 → 就: another word
            for i, j in zip(outside_a, outside_b, strict=True)
        ):
            refused = f"the biased pass changed what was said ({change})"
    return refused, changed


def confirmed_in(
    texts: Sequence[str], confirmed: Sequence[Confirmed], bias: BiasTerms
) -> list[list[Candidate]]:
    """For each text (the first pass's segments, in order), the candidates that write its
    `confirmed` terms: each the sound match of that term at the very place it was confirmed.
    A term heard across two segments is not written."""
    out, at = [], 0
    for text in texts:
        here = {
            (at + len(_spoken(text[: c.start])), c.form, _spoken(c.heard)): c
            for c in candidates(text, bias)
        }
        found = (here.get((c.start, c.form, c.heard)) for c in confirmed)
        out.append([c for c in found if c is not None])
        at += len(_spoken(text))
    return out


def _sounds(text: str, bias: BiasTerms) -> dict[int, set[tuple[str, str]]]:
    """For each Han character of `text`: its (initial, final) in context, and every other
    reading it has (a misheard 藏 may stand for zang as well as cang)."""
    out: dict[int, set[tuple[str, str]]] = {}
    for syl in syllables(text, bias.read):
        sounds = {syl.sound[:2]}
        if bias.alternatives is not None:
            sounds |= {split_reading(r)[:2] for r in bias.alternatives(syl.char)}
        out[syl.index] = sounds
    return out


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
