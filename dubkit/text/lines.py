"""Subtitle lines: a cue's lines joined into one text, and a text laid out in balanced lines
under a width and a line count. Pure functions over strings."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

# Chinese and Latin punctuation that ends a sentence or a clause.
SENTENCE_END = frozenset("。！？!?…；;")
CLAUSE_END = frozenset("，、,：:—")
# A line breaks best after these: sentence and clause marks, Urdu's (۔ ؟ ، ؛) included.
BREAK_AFTER = SENTENCE_END | CLAUSE_END | frozenset("۔؟،؛")
# Languages written without spaces between words.
UNSPACED_LANGUAGES = ("zh", "ja", "yue")

# A Latin word, number or clause that goes on across a line break: a space stands there.
_LATIN_BEFORE = re.compile(r"[A-Za-z0-9\u00c0-\u024f,.;:!?%)\]]$")
_LATIN_AFTER = re.compile(r"[A-Za-z0-9\u00c0-\u024f(\[]")
_WORD_SPACE = re.compile(r"[ \t\r\n]+")  # not NBSP: it binds
# What a line layout costs, in characters of imbalance. Only their order matters much.
_INSIDE_PHRASE = 2.0  # a break neither after punctuation nor at a space (Chinese: a space
# often stands for a comma, and between Latin words it is a word boundary)
_AFTER_CLAUSE = -1.0  # after punctuation and at a space: where Urdu and Latin lines break best
_TOP_HEAVY = 0.5  # bottom-heavy pyramids read better
_HOPELESS = 4  # text over this many times what the lines hold is filled, not balanced

_Cost = tuple[int, int, float]  # characters past the width, lines, imbalance and breaks


def join_lines(lines: Iterable[str], language: str = "zh") -> str:
    """Lines as one text. Chinese (and Japanese, Cantonese) lines join directly, with a space
    only where Latin words or numbers go on across the break ("CPEC" / "project"); other
    languages join with one space. Blank lines are dropped."""
    parts = [line.strip() for line in lines if line.strip()]
    if language not in UNSPACED_LANGUAGES:
        return " ".join(parts)
    text = ""
    for part in parts:
        if text and _LATIN_BEFORE.search(text) and _LATIN_AFTER.match(part):
            text += " "
        text += part
    return text


@dataclass(frozen=True, slots=True)
class Piece:
    """Text that no line break falls inside, whether a space joins it to the piece before,
    and what a line break before it gains (a speaker's pause) or costs (when negative)."""

    text: str
    space_before: bool = False
    bonus: float = 0.0


def wrap_words(text: str, width: int, max_lines: int) -> tuple[str, ...]:
    """`text` in balanced lines broken at spaces (see balanced_lines)."""
    words = [w for w in _WORD_SPACE.split(text.strip()) if w]
    return balanced_lines([Piece(w, space_before=True) for w in words], width, max_lines)


def balanced_lines(pieces: Sequence[Piece], width: int, max_lines: int) -> tuple[str, ...]:
    """Pieces in at most `max_lines` lines: the fewest lines of at most `width` characters,
    as balanced as can be, bottom-heavy, broken after punctuation, at spaces and where the
    pieces' bonuses say. Text that cannot fit is never cut: the least of it runs past the
    width (the caller flags it)."""
    if not pieces:
        return ()
    bounds = (0, *_best_breaks(pieces, width, max(1, max_lines)), len(pieces))
    return tuple(_joined(pieces[a:b]) for a, b in itertools.pairwise(bounds))


def _best_breaks(pieces: Sequence[Piece], width: int, max_lines: int) -> tuple[int, ...]:
    """Where lines start (piece indices after the first line), for the cheapest layout."""
    n = len(pieces)
    size = _sizes(pieces)
    if size(0, n) <= width or n == 1:
        return ()
    if size(0, n) > _HOPELESS * width * max_lines:
        # far too long to fit (a hostile or broken cue): fill the lines in one pass
        return _filled(size, n, width, max_lines)

    def ends(i: int, last: bool) -> list[int]:
        """Where a line from piece i may end: within the width (a piece longer than the
        width alone on its line), or, for the last line, at the end whatever its length."""
        found = [i + 1]
        while found[-1] < n and size(i, found[-1] + 1) <= width:
            found.append(found[-1] + 1)
        return [*found, n] if last and found[-1] != n else found

    # layer[(i, j)]: the cheapest layout of pieces[:j] whose last line is pieces[i:j]; lines
    # within the width keep it to about n * width states, whatever the length of the text
    layer: dict[tuple[int, int], tuple[_Cost, tuple[int, ...]]] = {
        (0, j): ((max(0, size(0, j) - width), 1, 0.0), ()) for j in ends(0, True)
    }
    best = layer[0, n]
    for lines in range(2, max_lines + 1):
        if best[0][0] == 0:
            break  # it fits: more lines can only cost more
        nxt: dict[tuple[int, int], tuple[_Cost, tuple[int, ...]]] = {}
        for (i, j), (cost, breaks) in layer.items():
            if j == n:
                continue
            for k in ends(j, lines == max_lines) if lines < max_lines else (n,):
                above, below = size(i, j), size(j, k)
                step = _pair(above, below) + _break_cost(pieces, j)
                total = (cost[0] + max(0, below - width), lines, cost[2] + step)
                if (j, k) not in nxt or total < nxt[j, k][0]:
                    nxt[j, k] = (total, (*breaks, j))
        layer = nxt
        best = min([best, *(v for (_, j), v in layer.items() if j == n)], key=lambda v: v[0])
    return best[1]


def _filled(size: Callable[[int, int], int], n: int, width: int, max_lines: int) -> tuple[int, ...]:
    """Line starts that fill each line up to `width`, the last line taking what is left."""
    breaks: list[int] = []
    start = 0
    for j in range(1, n):
        if len(breaks) == max_lines - 1:
            break
        if size(start, j + 1) > width:
            breaks.append(j)
            start = j
    return tuple(breaks)


def _sizes(pieces: Sequence[Piece]) -> Callable[[int, int], int]:
    """Length of the line pieces[i:j], in constant time."""
    chars, spaces = [0], [0]
    for p in pieces:
        chars.append(chars[-1] + len(p.text))
        spaces.append(spaces[-1] + p.space_before)
    return lambda i, j: chars[j] - chars[i] + spaces[j] - spaces[i + 1]


def _pair(above: int, below: int) -> float:
    """What two consecutive lines cost: their difference, and more when the top is longer."""
    return abs(above - below) + (_TOP_HEAVY if above > below else 0.0)


def _break_cost(pieces: Sequence[Piece], j: int) -> float:
    """What a line break before piece j costs."""
    after, space = pieces[j - 1].text[-1:] in BREAK_AFTER, pieces[j].space_before
    cost = _AFTER_CLAUSE if after and space else 0.0 if after or space else _INSIDE_PHRASE
    return cost - pieces[j].bonus


def _joined(pieces: Sequence[Piece]) -> str:
    rest = "".join((" " if p.space_before else "") + p.text for p in pieces[1:])
    return pieces[0].text + rest
