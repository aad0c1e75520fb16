"""Retime a script or subtitle file to speech: align its characters to the recogniser's.

Pure: no I/O, no models. The caller converts the script to Simplified Chinese and recognises
the audio; this module matches characters, times each unit (a script line or an SRT cue) and
lays the units out as cues.

Two ways to retime:

- text (`retime_text`): every unit is placed on its own, from the recognised characters it
  matches. A unit whose characters mostly are not in the speech is "unplaced": it gets times
  between its placed neighbours and is flagged, so an editor can find it.
- linear (`retime_linear`): for an SRT that is only shifted or stretched (another edit, another
  frame rate), one offset and factor are fitted to the cues that could be placed and applied to
  every cue, keeping the file's own cue boundaries.

The alignment is a global one (weighted edit distance over characters). Long inputs are cut
into small pieces first at anchors, character n-grams that occur exactly once on both sides and
in the same order (patience diff), so a 30-minute programme (tens of thousands of characters)
aligns in about a second and never builds the full n·m table.
"""

from __future__ import annotations

import itertools
import math
import statistics
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from dubkit.align.onsets import speech_end, speech_start
from dubkit.asr.pinyin import Reader, is_han, split_reading
from dubkit.profiles import Profile
from dubkit.records import Cue, Transcript
from dubkit.subtitles.segmentation import frame_times
from dubkit.text.lines import CLAUSE_END, SENTENCE_END, Piece, balanced_lines, join_lines
from dubkit.timecode import frame_to_ms, ms_to_frame_floor

# A unit is placed when at least this share of its characters is found in the speech. Below
# it, the matches are more likely chance hits on common characters (的, 是, 我们) than the line.
MIN_PLACED_SHARE = 0.4
# Placed units below this share are flagged "low-confidence" for review.
LOW_CONFIDENCE = 0.6
# Unplaced units with no placed neighbour on one side are given this much time per character:
# Mandarin broadcast speech runs at about four characters a second.
FALLBACK_CHAR_MS = 250
# Cells of the dynamic-programming table between two anchors; larger stretches are cut at
# anchors first. 200,000 cells take about 0.1 s in pure Python.
_DP_CELLS = 200_000
# Anchor n-gram sizes, longest (most reliable) first.
_ANCHOR_SIZES = (8, 4, 2, 1)
# Edit costs: a substitution is cheaper than a deletion plus an insertion (3 < 2 + 2), but
# dearer than one of them, so that the alignment prefers a real match next to a gap over two
# substitutions.
_SUB, _GAP = 3, 2
# Re-align without the unplaced units until nothing changes, at most this often (their chance
# matches can take characters from a neighbour's start or end).
_PASSES = 3
# The command refuses a retiming when fewer than this share of the units were found in the
# speech: the rest would be guesses between too few anchors (a script of another programme,
# a file in another language).
MIN_PLACED_RATIO = 0.5
# Linear mode keeps the file's own timing unless the fitted line's median start error is at
# least this much smaller than the unchanged file's: below it the fit is the recogniser's
# timing noise (about 100 ms), not a real shift, and two and a half frames are invisible.
LINEAR_GAIN_MS = 100
# fit_linear: cues whose start is further than this from the fitted line are ignored (beyond a
# robust spread estimate); a frame or two of subtitle lead-in is normal.
FIT_TOLERANCE_MS = 250.0


class TimedChar(NamedTuple):
    """One recognised character and the time the recogniser gave it."""

    char: str
    start_ms: int
    end_ms: int
    probability: float = 1.0
    word: int = -1  # index of the recognised word it belongs to (-1: unknown)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one unit of the script was found in the speech."""

    text: str
    start_ms: int
    end_ms: int
    chars: int  # characters that take part in matching (no spaces or punctuation)
    matched: int  # of those, how many were found in the recognised speech
    probability: float  # the recogniser's mean probability for the matched characters
    placed: bool
    char_spans: tuple[tuple[int, int], ...]  # time of each matching character, interpolated
    char_words: tuple[int, ...] = ()  # recognised word of each matching character (-1: none)

    @property
    def confidence(self) -> float:
        return self.matched / self.chars if self.chars else 0.0


@dataclass(frozen=True, slots=True)
class TextAlignment:
    """Every unit placed on its own: placements, the cues laid out from them, and for each cue
    the index of the unit it shows (a long unit becomes several cues)."""

    placements: tuple[Placement, ...]
    cues: tuple[Cue, ...]
    cue_units: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LinearAlignment:
    """One offset and factor for every cue: new = factor * old + offset_ms."""

    placements: tuple[Placement, ...]
    cues: tuple[Cue, ...]
    factor: float
    offset_ms: float
    used: int  # cues the fit rests on (placed, not outliers)
    residuals_ms: tuple[int | None, ...]  # corrected start minus found start; None: unplaced
    kept: bool = False  # the fit was no better than no change: the cues keep their times
    fit_error_ms: float = 0.0  # median |fitted start - found start| over the placed cues
    unchanged_error_ms: float = 0.0  # the same for the file's own starts


# ------------------------------------------------------------------------------- characters


def match_key(char: str) -> str:
    """The form a character is compared in ('' when it takes no part: spaces, punctuation).

    NFKC folds full-width Latin and digits (Ｐ → p); case is ignored.
    """
    folded = unicodedata.normalize("NFKC", char).casefold()
    if len(folded) == 1 and folded.isalnum():
        return folded
    return char.casefold() if char.isalnum() and len(char.casefold()) == 1 else ""


def match_text(text: str) -> str:
    """`text` as the aligner sees it: its matching characters only."""
    return "".join(match_key(c) for c in text)


_SOUND_CODES: dict[str, str] = {}  # folded syllable -> a private-use character standing for it


def _sound_code(reading: str) -> str | None:
    """One character for a reading's folded, toneless syllable (None: no reading)."""
    if not reading or reading == "?":
        return None
    initial, final, _ = split_reading(reading)
    syllable = f"{initial}-{final}"
    if syllable not in _SOUND_CODES:
        _SOUND_CODES[syllable] = chr(0xF0000 + len(_SOUND_CODES))
    return _SOUND_CODES[syllable]


def sound_text(text: str, read: Reader | None = None) -> str:
    """match_text(text), with each Han character replaced by its sound when `read` is given.

    Whisper base mis-hears about one Chinese character in five, mostly as a homophone or a
    near-homophone (酯 → 纸, 钦点 → 清典, 统治 → 统子): compared by their toneless syllables,
    folded as dubkit.asr.pinyin folds them (zh/z, ch/c, sh/s, n/l, in/ing, en/eng), these
    still match. Read in context (one call per text), so 重要 and 重庆 read as they are said.
    """
    keys = [match_key(c) for c in text]
    if read is None:
        return "".join(keys)
    han = [k for k in keys if k and is_han(k)]
    readings = iter(read("".join(han)) if han else ())
    out = []
    for key in keys:
        if key and is_han(key):
            out.append(_sound_code(next(readings, "?")) or key)
        else:
            out.append(key)
    return "".join(out)


def spoken_text(lines: Sequence[str]) -> str:
    """The lines of a cue that are said in the programme: those with Chinese characters.

    A bilingual subtitle (a Chinese line, then its English translation) is aligned on its
    Chinese only; a cue without any Chinese keeps all its lines (it may be a name, a number).
    """
    chinese = [line for line in lines if any(is_han(c) for c in line)]
    return "\n".join(chinese or lines)


def timed_characters(transcript: Transcript, read: Reader | None = None) -> list[TimedChar]:
    """The recognised characters in order, each with a share of its word's time.

    Whisper's Chinese words are one to four characters; a word's time is spread evenly over
    its characters (spaces and punctuation take none). With `read`, the characters are their
    sounds (sound_text).
    """
    out: list[TimedChar] = []
    for w, word in enumerate(transcript.words):
        keys = [k for k in sound_text(word.text, read) if k]
        span = word.end_ms - word.start_ms
        for n, key in enumerate(keys):
            start = word.start_ms + span * n // len(keys)
            end = word.start_ms + span * (n + 1) // len(keys)
            out.append(TimedChar(key, start, end, word.probability, w))
    return out


# -------------------------------------------------------------------------------- alignment


def align_characters(script: str, heard: str) -> list[tuple[int, int]]:
    """Aligned index pairs (i in script, j in heard), increasing in both.

    Equal characters are matches; unequal aligned pairs are substitutions (a mis-heard
    character), which still say where the script character was spoken.
    """
    out: list[tuple[int, int]] = []
    stack = [(0, len(script), 0, len(heard))]
    while stack:
        i0, i1, j0, j1 = stack.pop()
        # A common prefix or suffix is always part of an optimal alignment.
        while i0 < i1 and j0 < j1 and script[i0] == heard[j0]:
            out.append((i0, j0))
            i0, j0 = i0 + 1, j0 + 1
        while i0 < i1 and j0 < j1 and script[i1 - 1] == heard[j1 - 1]:
            i1, j1 = i1 - 1, j1 - 1
            out.append((i1, j1))
        if i0 == i1 or j0 == j1:
            continue
        if (i1 - i0) * (j1 - j0) <= _DP_CELLS:
            out.extend(_edit_alignment(script, heard, i0, i1, j0, j1))
            continue
        runs: list[tuple[int, int, int]] = []
        for k in _ANCHOR_SIZES:
            runs = _anchor_runs(script, heard, i0, i1, j0, j1, k)
            if runs:
                break
        # No character is unique to both sides in the same order: they have nothing reliable
        # in common, and a full table this size would take too long. Leave them unaligned.
        pi, pj = i0, j0
        for i, j, length in runs:
            stack.append((pi, i, pj, j))
            out.extend((i + t, j + t) for t in range(length))
            pi, pj = i + length, j + length
        if runs:
            stack.append((pi, i1, pj, j1))
    out.sort()
    return out


def _edit_alignment(s: str, a: str, i0: int, i1: int, j0: int, j1: int) -> list[tuple[int, int]]:
    """Weighted edit-distance alignment of s[i0:i1] and a[j0:j1] (full table: keep it small)."""
    m = j1 - j0
    heard = a[j0:j1]
    prev = list(range(0, (m + 1) * _GAP, _GAP))
    trace: list[bytearray] = []
    for x in range(1, i1 - i0 + 1):
        c = s[i0 + x - 1]
        cur = [x * _GAP] + [0] * m
        row = bytearray(m + 1)
        row[0] = 1
        left = cur[0]
        for y in range(1, m + 1):
            diag = prev[y - 1] + (0 if heard[y - 1] == c else _SUB)
            up = prev[y] + _GAP
            left += _GAP
            if diag <= up and diag <= left:
                left = diag
            elif up <= left:
                left = up
                row[y] = 1
            else:
                row[y] = 2
            cur[y] = left
        trace.append(row)
        prev = cur
    out: list[tuple[int, int]] = []
    x, y = i1 - i0, m
    while x > 0 and y > 0:
        step = trace[x - 1][y]
        if step == 0:
            x, y = x - 1, y - 1
            out.append((i0 + x, j0 + y))
        elif step == 1:
            x -= 1
        else:
            y -= 1
    out.reverse()
    return out


def _unique_grams(text: str, lo: int, hi: int, k: int) -> dict[str, int]:
    """n-grams of text[lo:hi] with their position, -1 for those that occur more than once."""
    seen: dict[str, int] = {}
    for p in range(lo, hi - k + 1):
        gram = text[p : p + k]
        seen[gram] = -1 if gram in seen else p
    return seen


def _anchor_runs(
    s: str, a: str, i0: int, i1: int, j0: int, j1: int, k: int
) -> list[tuple[int, int, int]]:
    """Runs (i, j, length) of k-grams unique on both sides, in an order both sides agree on."""
    in_s = _unique_grams(s, i0, i1, k)
    in_a = _unique_grams(a, j0, j1, k)
    pairs = sorted((i, j) for gram, i in in_s.items() if i >= 0 and (j := in_a.get(gram, -1)) >= 0)
    chain = _longest_increasing(pairs)
    runs: list[tuple[int, int, int]] = []
    for i, j in chain:
        if runs:
            ri, rj, rl = runs[-1]
            if i - ri == j - rj and i <= ri + rl:  # the same diagonal, overlapping: extend
                runs[-1] = (ri, rj, max(rl, i + k - ri))
                continue
            if i < ri + rl or j < rj + rl:  # crosses the previous run: drop it
                continue
        runs.append((i, j, k))
    return runs


def _longest_increasing(pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest chain of pairs (sorted by i, i distinct) whose j strictly increases."""
    tails: list[int] = []  # j at the end of the best chain of each length
    tail_at: list[int] = []  # index into pairs of that end
    back = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        pos = bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_at.append(n)
        else:
            tails[pos], tail_at[pos] = j, n
        back[n] = tail_at[pos - 1] if pos else -1
    chain: list[tuple[int, int]] = []
    n = tail_at[-1] if tail_at else -1
    while n >= 0:
        chain.append(pairs[n])
        n = back[n]
    chain.reverse()
    return chain


def align_script(
    units: Sequence[str],
    chars: Sequence[TimedChar],
    hints: Sequence[tuple[int, int]] | None = None,
    *,
    read: Reader | None = None,
    level: Sequence[float] = (),
    end_ms: int | None = None,
) -> list[Placement]:
    """Place every unit (a script line, an SRT cue's text) in the recognised characters.

    A placed unit runs from its first to its last matched character (widened over mis-heard
    characters right next to them). Units matching less than MIN_PLACED_SHARE are unplaced
    and re-aligned without, so their chance matches do not take a neighbour's characters;
    they get times between their placed neighbours, or from `hints` (their old start and end,
    mapped by a line fitted to the placed units) when that lands between them.

    `read` compares Han characters by sound (sound_text; `chars` must be read the same way),
    `level` (onsets.levels of the programme) moves each placed unit's start and end to where
    its sound starts and stops, and nothing is timed past `end_ms` (the programme's end).
    """
    keys = [sound_text(u, read) for u in units]
    owner = [n for n, key in enumerate(keys) for _ in key]
    starts = _unit_starts(keys)
    heard = "".join(c.char for c in chars)
    excluded: dict[int, int] = {}  # unplaced unit -> characters it matched when last aligned
    for _ in range(_PASSES):
        kept = [i for i, n in enumerate(owner) if n not in excluded]
        script = "".join(key for n, key in enumerate(keys) if n not in excluded)
        found: list[dict[int, int]] = [{} for _ in units]  # offset in unit -> heard index
        for i, j in align_characters(script, heard):
            n = owner[kept[i]]
            found[n][kept[i] - starts[n]] = j
        matched = [
            excluded.get(n, sum(1 for off, j in f.items() if keys[n][off] == heard[j]))
            for n, f in enumerate(found)
        ]
        low = {
            n: matched[n]
            for n, key in enumerate(keys)
            if n not in excluded and matched[n] < MIN_PLACED_SHARE * max(len(key), 1)
        }
        if not low:
            break
        excluded.update(low)
    placements: list[tuple[Placement, int, int] | None] = [
        None if n in excluded else _place(unit, keys[n], found[n], heard, chars, matched[n])
        for n, unit in enumerate(units)
    ]
    if level:
        placements = [None if f is None else (_to_sound(f[0], level), *f[1:]) for f in placements]
    return _fill_unplaced(units, keys, placements, matched, heard, chars, hints, end_ms)


def _to_sound(p: Placement, level: Sequence[float]) -> Placement:
    """The placement's start and end moved to where its sound starts and stops (onsets)."""
    middle = (p.start_ms + p.end_ms) // 2
    start = speech_start(level, p.start_ms, middle)
    end = max(start, speech_end(level, p.end_ms, max(start, middle)))
    if (start, end) == (p.start_ms, p.end_ms):
        return p
    spans = tuple((min(max(a, start), end), min(max(b, start), end)) for a, b in p.char_spans)
    return replace(p, start_ms=start, end_ms=end, char_spans=spans)


def _unit_starts(keys: Sequence[str]) -> list[int]:
    starts, total = [], 0
    for key in keys:
        starts.append(total)
        total += len(key)
    return starts


def _place(
    unit: str,
    key: str,
    found: dict[int, int],
    heard: str,
    chars: Sequence[TimedChar],
    matched: int,
) -> tuple[Placement, int, int]:
    """The unit from its first to its last matched character, and their heard indices."""
    hits = sorted(off for off, j in found.items() if key[off] == heard[j])
    first, last = hits[0], hits[-1]
    # Widen over mis-heard characters right next to the matched ones (气流 for 七牛).
    while first - 1 in found and found[first - 1] == found[first] - 1:
        first -= 1
    while last + 1 in found and found[last + 1] == found[last] + 1:
        last += 1
    start, end = chars[found[first]].start_ms, chars[found[last]].end_ms
    known = {off: (chars[j].start_ms, chars[j].end_ms) for off, j in found.items()}
    probability = statistics.fmean(chars[found[off]].probability for off in hits)
    placement = Placement(
        text=unit,
        start_ms=start,
        end_ms=max(start, end),
        chars=len(key),
        matched=matched,
        probability=probability,
        placed=True,
        char_spans=_spread(len(key), known, start, max(start, end)),
        char_words=tuple(chars[found[off]].word if off in found else -1 for off in range(len(key))),
    )
    return placement, found[first], found[last]


def _spread(
    count: int, known: dict[int, tuple[int, int]], start: int, end: int
) -> tuple[tuple[int, int], ...]:
    """A time for each of `count` characters within [start, end]: the known ones as found
    (kept in order), the others interpolated between their known neighbours."""
    anchors = [(-1, start, start)]
    for off in sorted(known):
        s, e = known[off]
        s = min(max(s, anchors[-1][2], start), end)
        anchors.append((off, s, min(max(e, s), end)))
    anchors.append((count, end, end))
    spans: list[tuple[int, int]] = []
    for (a_off, _, a_end), (b_off, b_start, b_end) in itertools.pairwise(anchors):
        inside, room = b_off - a_off - 1, b_start - a_end
        for t in range(inside):
            spans.append((a_end + room * t // inside, a_end + room * (t + 1) // inside))
        if b_off < count:
            spans.append((b_start, b_end))
    return tuple(spans)


def _fill_unplaced(
    units: Sequence[str],
    keys: Sequence[str],
    placements: Sequence[tuple[Placement, int, int] | None],
    matched: Sequence[int],
    heard: str,
    chars: Sequence[TimedChar],
    hints: Sequence[tuple[int, int]] | None,
    end_ms: int | None = None,
) -> list[Placement]:
    """Placed units keep their times, made monotonic; runs of unplaced units fill the gaps.

    An unplaced run is aligned again on its own against the speech between its placed
    neighbours: a line the recogniser got mostly wrong (七牛毕竟 heard as 气流病菌) is still
    timed by the characters it lines up with. With none, the SRT's own times (`hints`)
    moved by a line fitted to the placed units are used when they land in the gap; else the
    gap is shared out by length.
    """
    mapping: tuple[float, float] | None = None
    if hints is not None:
        pairs = [
            (float(hints[n][0]), float(p[0].start_ms))
            for n, p in enumerate(placements)
            if p is not None
        ]
        if pairs:
            mapping = fit_linear(pairs)
    out: list[Placement] = []
    previous_end, previous_j = 0, 0  # end time and next free heard index after the last placed
    n = 0
    while n < len(units):
        if (found := placements[n]) is not None:
            p, _, last_j = found
            start = max(p.start_ms, previous_end)
            end = max(p.end_ms, start)
            if (start, end) != (p.start_ms, p.end_ms):
                moved = tuple((max(a, start), max(b, start)) for a, b in p.char_spans)
                p = replace(p, start_ms=start, end_ms=end, char_spans=moved)
            out.append(p)
            previous_end, previous_j = end, last_j + 1
            n += 1
            continue
        run_end = n
        while run_end < len(units) and placements[run_end] is None:
            run_end += 1
        following = placements[run_end] if run_end < len(units) else None
        next_j = following[1] if following is not None else len(heard)
        out.extend(
            _place_run(
                range(n, run_end),
                units,
                keys,
                matched,
                (previous_end, following[0].start_ms if following else None),
                (previous_j, next_j),
                heard,
                chars,
                hints if mapping else None,
                mapping or (1.0, 0.0),
                end_ms,
            )
        )
        previous_end = max(previous_end, out[-1].end_ms)
        n = run_end
    return out


def _place_run(
    run: range,
    units: Sequence[str],
    keys: Sequence[str],
    matched: Sequence[int],
    bounds: tuple[int, int | None],
    heard_range: tuple[int, int],
    heard: str,
    chars: Sequence[TimedChar],
    hints: Sequence[tuple[int, int]] | None,
    mapping: tuple[float, float],
    end_ms: int | None = None,
) -> list[Placement]:
    """Times for consecutive unplaced units between two placed ones (None: no next one),
    never past end_ms."""
    lo, hi_bound = bounds
    j0, j1 = heard_range
    sizes = [len(keys[k]) for k in run]
    total = sum(sizes)
    local = align_characters("".join(keys[k] for k in run), heard[j0:j1])
    known = {i: (chars[j0 + j].start_ms, chars[j0 + j].end_ms) for i, j in local}
    said = max(total, 1) * FALLBACK_CHAR_MS  # as long as the units would take to say
    if hi_bound is None:
        hi = max(lo + said, max((e for _, e in known.values()), default=lo))
        if end_ms is not None:
            lo, hi = min(lo, end_ms), min(hi, end_ms)
            known = {i: (min(s, hi), min(e, hi)) for i, (s, e) in known.items()}
    else:
        hi = max(hi_bound, lo)
        if run.start == 0:  # nothing before: start no earlier than needed
            first = min((s for s, _ in known.values()), default=hi)
            lo = max(lo, min(hi - said, first))
    if known:
        char_spans = _spread(total, known, lo, hi)
        spans, done = [], 0
        for size in sizes:
            if size:
                spans.append((char_spans[done][0], char_spans[done + size - 1][1]))
            else:  # nothing to say: a moment where it stands
                at = char_spans[min(done, total - 1)][0] if total else lo
                spans.append((at, at))
            done += size
    else:
        spans = _share(lo, hi, [max(size, 1) for size in sizes])
        if hints is not None:
            factor, offset = mapping
            spans = [_mapped(hints[k], factor, offset, lo, hi, spans[t]) for t, k in enumerate(run)]
    out: list[Placement] = []
    for t, k in enumerate(run):
        s, e = spans[t]
        out.append(
            Placement(
                text=units[k],
                start_ms=s,
                end_ms=e,
                chars=sizes[t],
                matched=matched[k],
                probability=0.0,
                placed=False,
                char_spans=_spread(sizes[t], {}, s, e),
            )
        )
    return out


def _share(lo: int, hi: int, sizes: Sequence[int]) -> list[tuple[int, int]]:
    """[lo, hi] cut into consecutive spans in proportion to sizes."""
    total, done, spans = sum(sizes), 0, []
    for size in sizes:
        a = lo + (hi - lo) * done // total
        done += size
        spans.append((a, lo + (hi - lo) * done // total))
    return spans


def _mapped(
    hint: tuple[int, int],
    factor: float,
    offset: float,
    lo: int,
    hi: int,
    fallback: tuple[int, int],
) -> tuple[int, int]:
    """The hint's span moved by the fitted line, if it lands inside [lo, hi]."""
    s, e = round(hint[0] * factor + offset), round(hint[1] * factor + offset)
    if lo <= s <= e <= hi:
        return s, e
    return fallback


# -------------------------------------------------------------------------------- cue layout


def retime_text(
    units: Sequence[str],
    chars: Sequence[TimedChar],
    profile: Profile,
    hints: Sequence[tuple[int, int]] | None = None,
    *,
    lines: Sequence[tuple[str, ...]] | None = None,
    read: Reader | None = None,
    level: Sequence[float] = (),
    end_ms: int | None = None,
) -> TextAlignment:
    """Place each unit, then lay the units out as cues within the profile (one cue per unit
    showing `lines`, when given: an SRT's cues as they were written). See align_script for
    `read`, `level` and `end_ms`."""
    placements = tuple(align_script(units, chars, hints, read=read, level=level, end_ms=end_ms))
    cues, cue_units = layout_cues(placements, profile, lines, end_ms)
    return TextAlignment(placements, cues, cue_units)


def layout_cues(
    placements: Sequence[Placement],
    profile: Profile,
    lines: Sequence[tuple[str, ...]] | None = None,
    end_ms: int | None = None,
) -> tuple[tuple[Cue, ...], tuple[int, ...]]:
    """Cues from placed units, and the unit each cue shows.

    A unit that fits a cue (profile characters and duration) becomes one cue, its own line
    breaks kept when they fit. A longer one is split after sentence or clause punctuation
    (or spaces, or line breaks) into pieces that fit, each timed by its own characters; a
    phrase still too long is cut into equal pieces. Frame snapping, minimum and maximum
    duration and the gap between cues follow the same rules as `segment_cues`; cues of
    unplaced units carry the flag "unplaced", placed ones below LOW_CONFIDENCE
    "low-confidence". As there, a cue too short to read may delay the next one by up to
    segmentation.MAX_LATE_MS (an unplaced line squeezed between two spoken ones does), never
    more, so timing cannot drift.

    With `lines` (one tuple per placement), each placement is one cue showing exactly those
    lines: a subtitle file's cues keep their text, its English lines included, untouched.
    No cue ends after end_ms.
    """
    frame_ms = math.ceil(1000 / profile.fps)
    max_span = profile.max_duration_ms - 2 * frame_ms
    max_chars = profile.max_chars_per_line * profile.max_lines
    texts: list[str] = []
    spans: list[tuple[int, int]] = []
    owners: list[int] = []
    flags: list[tuple[str, ...]] = []
    bonuses: list[list[float]] = []
    for n, p in enumerate(placements):
        mark = (
            ("unplaced",)
            if not p.placed
            else ("low-confidence",)
            if p.confidence < LOW_CONFIDENCE
            else ()
        )
        pieces = (
            [("\n".join(lines[n]), (p.start_ms, p.end_ms), [])]
            if lines is not None
            else _pieces(p, max_chars, max_span)
        )
        for text, span, bonus in pieces:
            texts.append(text)
            bonuses.append(bonus)
            spans.append(span)
            owners.append(n)
            flags.append(mark)
    frames = frame_times(spans, profile)
    if end_ms is not None:  # gaps and minimum durations may not push cues past the end
        limit, fitted = ms_to_frame_floor(end_ms, profile.fps), []
        for s, e, more in reversed(frames):
            e = max(min(e, limit), 1)
            s = max(min(s, e - 1), 0)
            fitted.append((s, e, more))
            limit = s - profile.min_gap_frames
        frames = fitted[::-1]
    cues = tuple(
        Cue(
            index=k,
            start_ms=frame_to_ms(s, profile.fps),
            end_ms=frame_to_ms(e, profile.fps),
            lines=(
                tuple(text.split("\n"))
                if lines is not None
                else _lines(text, profile.max_chars_per_line, profile.max_lines, bonus)
            ),
            flags=(*mark, *more),
        )
        for k, (text, (s, e, more), mark, bonus) in enumerate(
            zip(texts, frames, flags, bonuses, strict=True), 1
        )
    )
    return cues, tuple(owners)


def _pieces(
    p: Placement, max_chars: int, max_span: int
) -> list[tuple[str, tuple[int, int], list[float]]]:
    """A unit's text in cue-sized pieces with their times, and for each position in a piece
    how good a line break there is (see _break_bonus)."""
    text = p.text.strip()
    offsets = _key_offsets(text)  # matching-character index at each position of text

    def span(a: int, b: int) -> tuple[int, int]:
        """Time of text[a:b] from its matching characters."""
        first, last = offsets[a], offsets[b] - 1
        if not p.char_spans:
            return p.start_ms, p.end_ms
        if last < first:  # punctuation only: a moment at its place
            at = p.char_spans[min(first, len(p.char_spans) - 1)][0]
            return at, at
        return p.char_spans[first][0], p.char_spans[last][1]

    def fits(a: int, b: int) -> bool:
        s, e = span(a, b)
        return _width(text[a:b]) <= max_chars and e - s <= max_span

    def piece(a: int, b: int) -> tuple[str, tuple[int, int], list[float]]:
        lead = len(text[a:b]) - len(text[a:b].lstrip())
        body = text[a:b].strip()
        return body, span(a, b), _break_bonus(p, offsets, a + lead, len(body))

    if fits(0, len(text)):
        return [piece(0, len(text))]
    phrases = _phrases(text)
    pieces: list[tuple[int, int]] = []
    for a, b in phrases:
        if pieces and fits(pieces[-1][0], b):
            pieces[-1] = (pieces[-1][0], b)
        elif fits(a, b):
            pieces.append((a, b))
        else:
            parts = max(
                math.ceil(_width(text[a:b]) / max_chars),
                math.ceil((span(a, b)[1] - span(a, b)[0]) / max(max_span, 1)),
            )
            cuts = [a + (b - a) * t // parts for t in range(parts + 1)]
            pieces.extend((x, y) for x, y in itertools.pairwise(cuts) if x < y)
    return [piece(a, b) for a, b in pieces if text[a:b].strip()]


def _break_bonus(p: Placement, offsets: Sequence[int], start: int, length: int) -> list[float]:
    """For each position of a piece, what breaking a line there gains: the speaker's pause
    (as segmentation scores it), less 3 inside a word the recogniser heard as one (之|后)."""
    out = [0.0] * (length + 1)
    if not p.placed:
        return out
    for k in range(1, length):
        after = offsets[start + k]
        before = after - 1
        if before < 0 or after >= p.chars or offsets[start + k + 1] == after:
            continue  # at punctuation or a space: scored as such
        pause = p.char_spans[after][0] - p.char_spans[before][1]
        out[k] = min(max(pause, 0), 400) / 50
        if p.char_words and p.char_words[before] == p.char_words[after] != -1:
            out[k] -= 3.0
    return out


def _key_offsets(text: str) -> list[int]:
    """For each position of text (and its end), how many matching characters come before."""
    out, count = [0], 0
    for c in text:
        count += 1 if match_key(c) else 0
        out.append(count)
    return out


def _phrases(text: str) -> list[tuple[int, int]]:
    """(start, end) of phrases: cut after sentence or clause punctuation, spaces, newlines."""
    cuts = [0]
    for pos, c in enumerate(text):
        if c in SENTENCE_END or c in CLAUSE_END or c.isspace():
            nxt = pos + 1
            if nxt < len(text) and not (text[nxt] in SENTENCE_END or text[nxt] in CLAUSE_END):
                cuts.append(nxt)
    cuts.append(len(text))
    return [(a, b) for a, b in itertools.pairwise(cuts) if a < b]


def _width(text: str) -> int:
    return len(join_lines(text.split("\n")))


def _lines(text: str, width: int, max_lines: int, bonus: Sequence[float] = ()) -> tuple[str, ...]:
    """Lines of a cue: its own line breaks when they fit, else balanced (dubkit.text.lines),
    at punctuation, pauses and word boundaries (`bonus`, per position of a one-line text)."""
    own = tuple(line.strip() for line in text.split("\n") if line.strip())
    if len(own) <= max_lines and all(len(line) <= width for line in own):
        return own or ("",)
    flat = join_lines(own)
    return balanced_lines(_characters(flat, bonus), width, max_lines)


def _characters(flat: str, bonus: Sequence[float]) -> list[Piece]:
    """Each character of a one-line text a piece (a Chinese line may break between any two),
    spaces joining them; a break's bonus is the best of the positions it stands for."""
    gains = bonus if len(bonus) == len(flat) + 1 else [0.0] * (len(flat) + 1)
    pieces: list[Piece] = []
    gap = 0  # where the spaces before this character start
    for k, c in enumerate(flat):
        if c.isspace():
            continue
        pieces.append(Piece(c, gap < k, max(gains[gap : k + 1]) if pieces else 0.0))
        gap = k + 1
    return pieces


# ------------------------------------------------------------------------- linear correction


def _map_time(ms: int, factor: float, offset: float) -> int:
    return max(0, round(ms * factor + offset))


def apply_linear(cues: Iterable[Cue], factor: float, offset_ms: float) -> tuple[Cue, ...]:
    """Every time t becomes factor * t + offset_ms (rounded; never before 0).

    A cue pushed before the start of the programme carries the flag "clipped".
    """
    out = []
    for cue in cues:
        start = _map_time(cue.start_ms, factor, offset_ms)
        end = max(_map_time(cue.end_ms, factor, offset_ms), start)
        clipped = cue.start_ms * factor + offset_ms < 0
        flags = (*cue.flags, "clipped") if clipped and "clipped" not in cue.flags else cue.flags
        out.append(replace(cue, start_ms=start, end_ms=end, flags=flags))
    return tuple(out)


def shift(cues: Iterable[Cue], offset_ms: int) -> tuple[Cue, ...]:
    """Every cue moved by offset_ms (later when positive)."""
    return apply_linear(cues, 1.0, offset_ms)


def stretch(cues: Iterable[Cue], factor: float, anchor_ms: int = 0) -> tuple[Cue, ...]:
    """Every time scaled by `factor` around anchor_ms (which stays where it is)."""
    return apply_linear(cues, factor, anchor_ms * (1 - factor))


def fit_linear(
    pairs: Sequence[tuple[float, float]], tolerance_ms: float = FIT_TOLERANCE_MS
) -> tuple[float, float]:
    """(factor, offset) with new ≈ factor * old + offset, for (old, new) pairs, robustly.

    Starts from the Theil–Sen line (median of pairwise slopes), then refits by least squares
    on the pairs within max(tolerance_ms, 3 robust standard deviations) of the line until the
    set of inliers stops changing, so a few mis-placed cues do not bend it.
    """
    factor, offset, _ = _robust_fit(pairs, tolerance_ms)
    return factor, offset


def _robust_fit(
    pairs: Sequence[tuple[float, float]], tolerance_ms: float
) -> tuple[float, float, list[bool]]:
    if not pairs:
        raise ValueError("fit_linear needs at least one (old, new) pair")
    xs = [x for x, _ in pairs]
    if len(pairs) == 1 or max(xs) - min(xs) < 1e-9:
        offset = statistics.median(y - x for x, y in pairs)
        return 1.0, offset, [abs(y - x - offset) <= tolerance_ms for x, y in pairs]
    factor = _theil_sen(pairs)
    offset = statistics.median(y - factor * x for x, y in pairs)
    inliers: list[bool] = []
    for _ in range(20):
        residuals = [abs(y - (factor * x + offset)) for x, y in pairs]
        spread = 1.4826 * statistics.median(residuals)
        limit = max(tolerance_ms, 3 * spread)
        now = [r <= limit for r in residuals]
        if now == inliers:
            break
        inliers = now
        chosen = [p for p, keep in zip(pairs, inliers, strict=True) if keep]
        if len(chosen) < 2 or max(x for x, _ in chosen) - min(x for x, _ in chosen) < 1e-9:
            break
        factor, offset = _least_squares(chosen)
    return factor, offset, inliers


def _theil_sen(pairs: Sequence[tuple[float, float]]) -> float:
    """Median slope over pairs of points (at most ~200 points, evenly spread, for speed)."""
    pts = sorted(pairs)
    step = max(1, len(pts) // 200)
    pts = pts[::step]
    slopes = [
        (y2 - y1) / (x2 - x1)
        for n, (x1, y1) in enumerate(pts)
        for x2, y2 in pts[n + 1 :]
        if x2 - x1 > 1e-9
    ]
    return statistics.median(slopes) if slopes else 1.0


def _least_squares(pairs: Sequence[tuple[float, float]]) -> tuple[float, float]:
    n = len(pairs)
    mx = sum(x for x, _ in pairs) / n
    my = sum(y for _, y in pairs) / n
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    sxy = sum((x - mx) * (y - my) for x, y in pairs)
    factor = sxy / sxx
    return factor, my - factor * mx


def retime_linear(
    cues: Sequence[Cue],
    chars: Sequence[TimedChar],
    tolerance_ms: float = FIT_TOLERANCE_MS,
    *,
    read: Reader | None = None,
    level: Sequence[float] = (),
) -> LinearAlignment:
    """Fit one offset and factor from the cues found in the speech; apply it to all cues.

    The fit uses each placed cue's old start against the start of its spoken text (its
    Chinese lines) in the speech. When the fitted line does not bring the starts clearly
    closer (LINEAR_GAIN_MS, median error) than leaving them, the cues keep their times
    (`kept`): a file that is already right is never moved by the recogniser's noise.
    ValueError when no cue could be placed.
    """
    units = [spoken_text(c.lines) for c in cues]
    placements = tuple(align_script(units, chars, read=read, level=level))
    pairs = [
        (float(c.start_ms), float(p.start_ms))
        for c, p in zip(cues, placements, strict=True)
        if p.placed
    ]
    if not pairs:
        raise ValueError("no cue's text was found in the speech")
    factor, offset, inliers = _robust_fit(pairs, tolerance_ms)
    fit_error = statistics.median(abs(factor * x + offset - y) for x, y in pairs)
    unchanged_error = statistics.median(abs(x - y) for x, y in pairs)
    kept = fit_error + LINEAR_GAIN_MS > unchanged_error
    if kept:
        factor, offset = 1.0, 0.0
    corrected = tuple(cues) if kept else apply_linear(cues, factor, offset)
    residuals: list[int | None] = []
    for cue, p in zip(corrected, placements, strict=True):
        residuals.append(cue.start_ms - p.start_ms if p.placed else None)
    return LinearAlignment(
        placements=placements,
        cues=corrected,
        factor=factor,
        offset_ms=offset,
        used=sum(inliers),
        residuals_ms=tuple(residuals),
        kept=kept,
        fit_error_ms=fit_error,
        unchanged_error_ms=unchanged_error,
    )
