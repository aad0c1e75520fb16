"""Find glossary terms in Chinese text by how they sound: toneless pinyin (pypinyin), tolerant
of the confusions Mandarin speakers and Whisper make (zh/z, ch/c, sh/s, n/l, in/ing, en/eng).

A recogniser that mishears a term usually writes a homophone or a near-homophone (犹地亚王 →
邮地亚王, 三磷酸腺苷 → 三零酸现干), so the sound of the first-pass text is the evidence that a
term was spoken. Pure: the readings come from a `Reader` (dubkit.adapters.chinese's, over
pypinyin's phrase dictionary).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from dubkit import constants as C

# CJK unified ideographs (basic, extension A, compatibility); the rest never carries pinyin.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_INITIALS = (
    "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h",
    "j", "q", "x", "r", "z", "c", "s", "y", "w",
)  # fmt: skip
# The usual confusions of Mandarin speakers (and of Whisper on them), folded together.
_INITIAL_FOLD = {"zh": "z", "ch": "c", "sh": "s", "n": "l"}
_FINAL_FOLD = {"ing": "in", "eng": "en"}

Sound = tuple[str, str, int]  # (initial, final) folded, and the tone (0 when unknown)
Reader = Callable[[str], Sequence[str]]
"""Han characters → one reading each, in context, numbered tone last ('zhong1'; '?' for a
character without a reading)."""


def is_han(char: str) -> bool:
    return bool(_HAN.fullmatch(char))


def split_reading(reading: str) -> Sound:
    """'zhong1' → ('z', 'ong', 1) after folding; '?' (no reading) matches nothing."""
    tone = int(reading[-1]) % 5 if reading[-1:].isdigit() else 0  # neutral tone 5 → 0
    syllable = reading.rstrip("012345")
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            final = syllable[len(initial) :]
            return _INITIAL_FOLD.get(initial, initial), _FINAL_FOLD.get(final, final), tone
    return "", _FINAL_FOLD.get(syllable, syllable), tone


@dataclass(frozen=True, slots=True)
class Syllable:
    """One Han character of a text: where it is and how it is read there."""

    index: int  # position of the character in the text
    sound: Sound
    char: str = ""


def syllables(text: str, read: Reader) -> tuple[Syllable, ...]:
    """The Han characters of `text`, each with its reading in context."""
    han = [(i, ch) for i, ch in enumerate(text) if is_han(ch)]
    if not han:
        return ()
    readings = list(read("".join(ch for _, ch in han)))
    if len(readings) != len(han):
        raise ValueError(f"a reader must give one reading per character, not {readings!r}")
    return tuple(
        Syllable(i, split_reading(r), ch) for (i, ch), r in zip(han, readings, strict=True)
    )


def syllable_cost(a: Sound, b: Sound) -> float:
    """0 for the same sound (after folding) and tone; a different tone costs 0.25, a different
    initial or final 0.5, both 1. A character without a reading matches nothing. (The same
    character costs 0 whatever its reading: see _cost.)"""
    if a[1] == "?" or b[1] == "?":
        return 1.0
    same_initial, same_final = a[0] == b[0], a[1] == b[1]
    if same_initial and same_final:
        return 0.0 if a[2] == b[2] or not a[2] or not b[2] else C.BIAS_TONE_COST
    return 0.5 if same_initial or same_final else 1.0


def min_score(n: int) -> float:
    """The score a term of `n` syllables needs: two-syllable terms must sound the same, and a
    single character is never matched by sound (too many homophones)."""
    if n < C.BIAS_MIN_SYLLABLES:
        return 2.0  # unreachable
    if n == C.BIAS_MIN_SYLLABLES:
        return 1.0
    return C.BIAS_MIN_SCORE


@dataclass(frozen=True, slots=True)
class SoundMatch:
    """A term form heard in text: text[start:end] sounds like `form` with this score."""

    form: str
    start: int
    end: int
    heard: str
    score: float  # 1 - (syllable cost / syllables in the form); 1.0 = same sounds and tones
    exact: bool  # as many syllables, each with the same initial and final (tones aside)


@cache
def _form_sounds(form: str, read: Reader) -> tuple[Syllable, ...] | None:
    """The readings of a form made only of Han characters (others are matched literally)."""
    if not form or not all(is_han(ch) for ch in form):
        return None
    return syllables(form, read)


def _sub(a: Syllable, b: Syllable) -> float:
    # the same character is the same sound, however context makes pypinyin read it (打中)
    return 0.0 if a.char == b.char else syllable_cost(a.sound, b.sound)


def _cost(form: Sequence[Syllable], heard: Sequence[Syllable]) -> float:
    """Edit distance in syllables: substitutions cost syllable_cost, a syllable more or less
    costs 1."""
    n, m = len(form), len(heard)
    row = [float(j) for j in range(m + 1)]
    for i in range(1, n + 1):
        prev, row[0] = row[0], float(i)
        for j in range(1, m + 1):
            cur = min(row[j] + 1, row[j - 1] + 1, prev + _sub(form[i - 1], heard[j - 1]))
            prev, row[j] = row[j], cur
    return row[m]


# Between the characters of a heard term: a space or a comma the recogniser put there
# (三零酸,现干), never a sentence end, a letter or a digit.
_INSIDE_OK = frozenset(" \u3000,，、")


def _plausible_span(text: str, n: int) -> bool:
    between = [ch for ch in text if not is_han(ch)]
    if n <= C.BIAS_MIN_SYLLABLES:
        return not between
    return len(between) <= 1 and all(ch in _INSIDE_OK for ch in between)


@dataclass(frozen=True, slots=True)
class _FormIndex:
    """The forms that can be matched by sound, with their syllables, and where each folded
    sound and each character stands in them: (form number, syllable number)."""

    forms: tuple[tuple[str, tuple[Syllable, ...]], ...]
    by_sound: dict[tuple[str, str], tuple[tuple[int, int], ...]]
    by_char: dict[str, tuple[tuple[int, int], ...]]


_INDEX_ON_THE_SPOT = 8  # forms or fewer: indexed for the call, not kept


def _form_index(forms: tuple[str, ...], read: Reader) -> _FormIndex:
    """A glossary's forms, asked for window after window, are indexed once (a few glossaries
    at a time: about 0.5 KB a form); a few forms (a term looked for alone) on the spot."""
    if len(forms) <= _INDEX_ON_THE_SPOT:
        return _build_index(forms, read)
    return _kept_index(forms, read)


@lru_cache(maxsize=4)
def _kept_index(forms: tuple[str, ...], read: Reader) -> _FormIndex:
    return _build_index(forms, read)


def _build_index(forms: tuple[str, ...], read: Reader) -> _FormIndex:
    matchable = []
    for form in forms:
        sounds = _form_sounds(form, read)
        if sounds is not None and len(sounds) >= C.BIAS_MIN_SYLLABLES:
            matchable.append((form, sounds))
    by_sound: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    by_char: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for f, (_, sounds) in enumerate(matchable):
        for k, syl in enumerate(sounds):
            by_sound[syl.sound[:2]].append((f, k))
            by_char[syl.char].append((f, k))
    return _FormIndex(
        tuple(matchable),
        {key: tuple(at) for key, at in by_sound.items()},
        {key: tuple(at) for key, at in by_char.items()},
    )


def find_by_sound(text: str, forms: Iterable[str], read: Reader) -> list[SoundMatch]:
    """Every place where one of `forms` is heard in `text` well enough (see min_score), the
    best-scoring first, non-overlapping per form; in text order."""
    heard = syllables(text, read)
    if not heard:
        return []
    index = _form_index(tuple(dict.fromkeys(forms)), read)
    # A good enough match agrees on initial and final (or the character) in at least half
    # its syllables: each syllable of the text votes for the start of every form it could
    # stand in, so forms with no syllable in the text (most forms) cost nothing.
    votes: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for q, syl in enumerate(heard):
        for f, k in {*index.by_sound.get(syl.sound[:2], ()), *index.by_char.get(syl.char, ())}:
            votes[f][q - k] += 1
    found: list[SoundMatch] = []
    for f in sorted(votes):
        form, sounds = index.forms[f]
        n = len(sounds)
        need = min_score(n)
        scored: dict[tuple[int, int], float] = {}
        for p, count in votes[f].items():
            if 2 * count < n:
                continue
            lengths = (n,) if n <= C.BIAS_MIN_SYLLABLES else (n - 1, n, n + 1)
            for start in (p - 1, p, p + 1):
                for length in lengths:
                    end = start + length
                    if start < 0 or end > len(heard) or (start, end) in scored:
                        continue
                    score = 1 - _cost(sounds, heard[start:end]) / n
                    first, last = heard[start].index, heard[end - 1].index + 1
                    if score >= need and _plausible_span(text[first:last], n):
                        scored[(start, end)] = score
        taken: set[int] = set()
        for (start, end), score in sorted(
            scored.items(), key=lambda s: (-s[1], s[0][0], s[0][1] - s[0][0])
        ):
            if taken.intersection(range(start, end)):
                continue
            taken.update(range(start, end))
            first, last = heard[start].index, heard[end - 1].index + 1
            exact = end - start == n and all(
                a.char == b.char or a.sound[:2] == b.sound[:2]
                for a, b in zip(sounds, heard[start:end], strict=True)
            )
            found.append(SoundMatch(form, first, last, text[first:last], round(score, 3), exact))
    return sorted(found, key=lambda m: (m.start, -m.score))
