"""Urdu cues from translated sentences: the Chinese cues that form one sentence are translated
together, and the Urdu sentence is laid back over the sentence's time span at word boundaries,
in proportion to the Chinese text each cue carried; then broadcast timing rules are applied.

Pure: cues and text in, cues out. Invariants (tested as properties): every word of every
sentence appears once and in order; times are monotonic, on frame boundaries and never
overlap; whatever still breaks a rule carries a flag.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dubkit.profiles import Profile
from dubkit.records import Cue
from dubkit.text.lines import SENTENCE_END, Piece, balanced_lines, join_lines
from dubkit.text.reading import count_chars, reading_speed, too_fast
from dubkit.text.urdu import UrduStyle, has_urdu, mark_bidi, normalise_letters, strip_bidi
from dubkit.timecode import frame_to_ms, ms_to_frame_ceil, ms_to_frame_floor

MAX_SENTENCE_CUES = 6  # a longer run without a full stop is translated in parts
MAX_SENTENCE_MS = 20_000
_NBSP = "\u00a0"  # joins the words of a protected phrase while the text is cut into units
MAX_LEAD_MS = 400  # a cue may appear this much before its speech to gain reading time


@dataclass(frozen=True, slots=True)
class Sentence:
    """Consecutive source cues [first, last) translated as one text."""

    first: int
    last: int
    text: str
    start_ms: int
    end_ms: int


def group_sentences(cues: Sequence[Cue], texts: Sequence[str], pause_ms: int) -> list[Sentence]:
    """Cues join until one ends a sentence (。？！…), a pause of `pause_ms` follows, or the
    group reaches MAX_SENTENCE_CUES cues or MAX_SENTENCE_MS."""
    groups: list[Sentence] = []
    first = 0
    for i, cue in enumerate(cues):
        text = texts[i].rstrip()
        last = i + 1 == len(cues)
        ends = bool(text) and text[-1] in SENTENCE_END
        pause = not last and cues[i + 1].start_ms - cue.end_ms >= pause_ms
        full = (
            i + 1 - first >= MAX_SENTENCE_CUES
            or cue.end_ms - cues[first].start_ms >= MAX_SENTENCE_MS
        )
        if last or ends or pause or full:
            joined = join_lines(texts[first : i + 1])
            groups.append(Sentence(first, i + 1, joined, cues[first].start_ms, cue.end_ms))
            first = i + 1
    return groups


def units_of(text: str, protected: Sequence[str]) -> list[str]:
    """The words of `text`; each occurrence of a protected phrase (a glossary rendering, a
    name) is one unit, so no line or cue break falls inside it."""
    for phrase in sorted({p for p in protected if " " in p.strip()}, key=len, reverse=True):
        text = text.replace(phrase, phrase.replace(" ", _NBSP))
    return [u.replace(_NBSP, " ") for u in re.split(r"[ \t\r\n]+", text.strip()) if u]


def distribute(units: Sequence[str], weights: Sequence[float]) -> list[list[str]]:
    """Cut `units` into len(weights) consecutive parts whose character shares follow the
    weights (each part non-empty while there are units enough). Nothing is lost or moved."""
    n = len(weights)
    if n == 0:
        return []
    total = sum(max(w, 0.0) for w in weights) or float(n)
    sizes = [len(u) + 1 for u in units]
    all_chars = sum(sizes)
    cuts: list[int] = []
    acc_w = 0.0
    start = 0
    for k in range(n - 1):
        acc_w += max(weights[k], 0.0) if total else 1.0
        target = acc_w / total * all_chars
        remaining_parts = n - 1 - k
        lo = start + (1 if start < len(units) - remaining_parts else 0)
        hi = max(lo, len(units) - remaining_parts)
        best, best_d = lo, math.inf
        acc = sum(sizes[:lo])
        for j in range(lo, hi + 1):
            d = abs(acc - target)
            if d < best_d:
                best, best_d = j, d
            if j < len(sizes):
                acc += sizes[j]
        best = min(max(best, start), len(units))
        cuts.append(best)
        start = best
    bounds = [0, *cuts, len(units)]
    return [list(units[bounds[i] : bounds[i + 1]]) for i in range(n)]


@dataclass(frozen=True, slots=True)
class _Draft:
    start_f: int
    end_f: int
    units: tuple[str, ...]
    sentence: int
    flags: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(self.units)


def layout(
    source: Sequence[Cue],
    sentences: Sequence[Sentence],
    translations: Sequence[str],
    profile: Profile,
    protected: Sequence[str] = (),
    style: UrduStyle | None = None,
    weights: Sequence[float] | None = None,
    notes: Sequence[Sequence[str]] = (),
) -> tuple[Cue, ...]:
    """Urdu (or any target-language) cues for translated sentences, under `profile`."""
    return layout_sentences(
        source, sentences, translations, profile, protected, style, weights, notes
    )[0]


def layout_sentences(
    source: Sequence[Cue],
    sentences: Sequence[Sentence],
    translations: Sequence[str],
    profile: Profile,
    protected: Sequence[str] = (),
    style: UrduStyle | None = None,
    weights: Sequence[float] | None = None,
    notes: Sequence[Sequence[str]] = (),
    cue_flags: Sequence[Sequence[str]] = (),
) -> tuple[tuple[Cue, ...], tuple[int, ...]]:
    """Urdu (or any target-language) cues for translated sentences, under `profile`, and the
    sentence each cue belongs to.

    `weights[i]` is how much of its sentence source cue i carried (default: its characters);
    `notes[n]` (term repairs) become flags of sentence n's first cue; `cue_flags[i]` (what
    the recogniser said of source cue i: no speech under it, a loop) become flags of the
    cue of its sentence shown over most of its time, so that they stay on that time.
    """
    fps = profile.fps
    # phrases are matched in the text as it will be written (letters, digits normalised)
    guarded = [normalise_letters(p, style.digits) for p in protected] if style else protected
    drafts: list[_Draft] = []
    for n, (sentence, translated) in enumerate(zip(sentences, translations, strict=True)):
        text = normalise_letters(translated, style.digits) if style else translated
        units = units_of(text, guarded)
        members = source[sentence.first : sentence.last]
        w = [
            float(weights[sentence.first + k] if weights else len(strip_bidi(c.text)) or 1)
            for k, c in enumerate(members)
        ]
        slots = _slots([(c.start_ms, c.end_ms) for c in members], w, profile.min_duration_ms)
        mine: list[_Draft] = []
        for (start_ms, end_ms), part in zip(
            [s for s, _ in slots], distribute(units, [x for _, x in slots]), strict=True
        ):
            first, last = ms_to_frame_floor(start_ms, fps), ms_to_frame_ceil(end_ms, fps)
            mine.append(_Draft(first, max(last, first + 1), tuple(part), n))
        folded = _fold_empty(mine, n)
        for k, cue in enumerate(members, start=sentence.first):
            said = cue_flags[k] if k < len(cue_flags) else ()
            if said:
                span = (ms_to_frame_floor(cue.start_ms, fps), ms_to_frame_ceil(cue.end_ms, fps))
                j = _over_most(folded, span)
                d = folded[j]
                merged = tuple(dict.fromkeys((*d.flags, *said)))
                folded[j] = _Draft(d.start_f, d.end_f, d.units, n, merged)
        drafts += folded
        if n < len(notes) and notes[n]:
            k = next(i for i, d in enumerate(drafts) if d.sentence == n)
            d = drafts[k]
            drafts[k] = _Draft(d.start_f, d.end_f, d.units, n, (*d.flags, *notes[n]))
    drafts = _fit(drafts, profile)
    max_f = math.floor(profile.max_duration_ms * fps / 1000)
    drafts = [  # what could not be split (one word, one phrase) is shown no longer than allowed
        _Draft(d.start_f, min(d.end_f, d.start_f + max_f), d.units, d.sentence, d.flags)
        for d in drafts
    ]
    out = []
    for i, d in enumerate(drafts, start=1):
        lines = _unbreakable_lines(d.units, profile)
        flags = list(d.flags)
        if (
            any(len(line) > profile.max_chars_per_line for line in lines)
            or len(lines) > profile.max_lines
        ):
            flags.append("long")
        if style is not None and style.bidi_marks:
            rtl = has_urdu(d.text)
            lines = tuple(mark_bidi(line, rtl=rtl) for line in lines)
        start, end = frame_to_ms(d.start_f, fps), frame_to_ms(d.end_f, fps)
        if too_fast(reading_speed(count_chars(lines), end - start), profile.max_cps):
            flags.append("reading-speed")
        if end - start < profile.min_duration_ms:
            flags.append("short")
        out.append(Cue(i, start, end, lines, tuple(dict.fromkeys(flags))))
    return tuple(out), tuple(d.sentence for d in drafts)


def _over_most(drafts: Sequence[_Draft], span: tuple[int, int]) -> int:
    """The index of the draft shown over most of `span` (frames); of those overlapping it
    none, the nearest in time (the first of equals)."""

    def score(i: int) -> tuple[int, float, int]:
        d = drafts[i]
        shared = min(d.end_f, span[1]) - max(d.start_f, span[0])
        apart = abs((d.start_f + d.end_f) - (span[0] + span[1])) / 2
        return max(shared, 0), -apart, -i

    return max(range(len(drafts)), key=score)


def _fold_empty(drafts: list[_Draft], n: int) -> list[_Draft]:
    """A slot that got no words gives its time to the next worded cue of the sentence (or
    the previous one at the end); a sentence with no words at all stays one flagged cue."""
    worded = [d for d in drafts if d.units]
    if not worded:
        return [_Draft(drafts[0].start_f, drafts[-1].end_f, (), n, ("untranslated",))]
    out: list[_Draft] = []
    pending: int | None = None  # start of empty slots waiting for the next worded one
    for d in drafts:
        if not d.units:
            if out:
                out[-1] = _Draft(out[-1].start_f, d.end_f, out[-1].units, n, out[-1].flags)
            elif pending is None:
                pending = d.start_f
            continue
        start = pending if pending is not None else d.start_f
        out.append(_Draft(start, d.end_f, d.units, n, d.flags))
        pending = None
    return out


def _slots(
    spans: Sequence[tuple[int, int]], weights: Sequence[float], min_ms: int
) -> list[tuple[tuple[int, int], float]]:
    """The source cues of a sentence as time slots for the translation; a cue too short to
    show a subtitle of its own (dense speech) joins its neighbour, time and weight."""
    slots = [(span, w) for span, w in zip(spans, weights, strict=True)]
    i = 0
    while len(slots) > 1 and i < len(slots):
        if _len(slots[i]) >= min_ms:
            i += 1
            continue
        j = (
            i - 1
            if i > 0 and (i + 1 == len(slots) or _len(slots[i - 1]) <= _len(slots[i + 1]))
            else i + 1
        )
        lo, hi = sorted((i, j))
        (s0, _), w0 = slots[lo]
        (_, e1), w1 = slots[hi]
        slots[lo : hi + 1] = [((s0, e1), w0 + w1)]
        i = max(0, lo - 1)
    return slots


def _len(slot: tuple[tuple[int, int], float]) -> int:
    return slot[0][1] - slot[0][0]


def _unbreakable_lines(units: Sequence[str], profile: Profile) -> tuple[str, ...]:
    """Balanced lines at unit boundaries (a protected phrase is one unit)."""
    pieces = [Piece(u, space_before=True) for u in units]
    return balanced_lines(pieces, profile.max_chars_per_line, profile.max_lines)


def _need_frames(text: str, profile: Profile) -> int:
    """Frames the text needs: the reading speed's, at least the minimum duration's."""
    fps = profile.fps
    need = math.ceil(profile.min_duration_ms * fps / 1000)
    if profile.max_cps:
        need = max(need, math.ceil(count_chars([text]) / profile.max_cps * fps))
    return need


def _fits(units: Sequence[str], profile: Profile) -> bool:
    lines = _unbreakable_lines(units, profile)
    return len(lines) <= profile.max_lines and all(
        len(line) <= profile.max_chars_per_line for line in lines
    )


def _fit(drafts: list[_Draft], profile: Profile) -> list[_Draft]:
    """Timing rules in frames: split cues over the maximum duration or the lines; give a
    cue that reads too fast time from the gaps around it; merge it with its neighbour in the
    same sentence when the result fits; keep gaps and order."""
    fps, gap = profile.fps, profile.min_gap_frames
    max_f = math.floor(profile.max_duration_ms * fps / 1000)
    lead_f = math.floor(MAX_LEAD_MS * fps / 1000)
    # 1. split what is too long to show or too much for the lines
    split: list[_Draft] = []
    for d in drafts:
        split += _split(d, profile, max_f)
    # 2. no overlaps, gaps kept (source cues already have them; splits keep them)
    fixed: list[_Draft] = []
    for d in split:
        start = d.start_f
        if fixed:
            start = max(start, fixed[-1].end_f + gap)
        fixed.append(_Draft(start, max(d.end_f, start + 1), d.units, d.sentence, d.flags))
    # 3. reading speed: borrow from the gaps, then merge within the sentence
    i = 0
    while i < len(fixed):
        d = fixed[i]
        need = _need_frames(d.text, profile)
        if d.end_f - d.start_f < need:
            limit = fixed[i + 1].start_f - gap if i + 1 < len(fixed) else d.start_f + need
            end = min(max(d.end_f, d.start_f + need), max(d.end_f, limit), d.start_f + max_f)
            floor = max(fixed[i - 1].end_f + gap if i else 0, d.start_f - lead_f)
            start = max(floor, min(d.start_f, end - need))
            fixed[i] = d = _Draft(start, end, d.units, d.sentence, d.flags)
        if d.end_f - d.start_f < need and i + 1 < len(fixed):
            nxt = fixed[i + 1]
            merged = (*d.units, *nxt.units)
            if (
                nxt.sentence == d.sentence
                and nxt.end_f - d.start_f <= max_f
                and _fits(merged, profile)
            ):
                fixed[i : i + 2] = [_Draft(d.start_f, nxt.end_f, merged, d.sentence, d.flags)]
                continue  # look at the merged cue again
        if d.end_f - d.start_f < need and i > 0:
            prev = fixed[i - 1]
            merged = (*prev.units, *d.units)
            if (
                prev.sentence == d.sentence
                and d.end_f - prev.start_f <= max_f
                and _fits(merged, profile)
            ):
                flags = (*prev.flags, *d.flags)
                fixed[i - 1 : i + 1] = [_Draft(prev.start_f, d.end_f, merged, d.sentence, flags)]
                i -= 1
                continue  # the merged cue may still need time
        i += 1
    return fixed


def _split(d: _Draft, profile: Profile, max_f: int) -> list[_Draft]:
    """Parts of at most max_f frames and of text that fits the lines, cut at unit
    boundaries in proportion to their characters."""
    if len(d.units) < 2 or (d.end_f - d.start_f <= max_f and _fits(d.units, profile)):
        return [d]
    by_time = math.ceil((d.end_f - d.start_f) / max_f)
    chars = len(d.text)
    by_text = math.ceil(chars / (profile.max_chars_per_line * profile.max_lines))
    min_f = math.ceil(profile.min_duration_ms * profile.fps / 1000)
    room = max(1, (d.end_f - d.start_f) // max(1, min_f))  # no part shorter than the minimum
    parts_n = min(len(d.units), max(2, by_time, by_text), max(by_time, room))
    if parts_n < 2:
        return [d]  # too much text for the time: one cue, flagged for the adapter
    parts = [p for p in distribute(d.units, [1.0] * parts_n) if p]
    total = sum(len(" ".join(p)) for p in parts) or 1
    out, start = [], d.start_f
    gap = profile.min_gap_frames
    span = d.end_f - d.start_f
    for k, part in enumerate(parts):
        share = len(" ".join(part)) / total
        end = d.end_f if k == len(parts) - 1 else max(start + 1, start + round(span * share) - gap)
        out.append(_Draft(start, end, tuple(part), d.sentence, d.flags))
        start = end + gap
    return out if all(p.end_f > p.start_f for p in out) else [d]
