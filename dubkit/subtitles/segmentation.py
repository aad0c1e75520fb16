"""Build subtitle cues from timed words: split at pauses and punctuation, within a profile.

Pure: no I/O. Cue boundaries are chosen by dynamic programming over word boundaries (cheapest
set of cues that obeys every hard limit), then times are laid on frame boundaries.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dubkit.profiles import Profile
from dubkit.records import Cue, Segment, Word
from dubkit.text.lines import CLAUSE_END, SENTENCE_END, Piece, balanced_lines
from dubkit.timecode import frame_to_ms, ms_to_frame_ceil, ms_to_frame_floor, ms_to_frames

# Costs of the dynamic programme; only their order matters much.
_CUE_COST = 1.0  # every cue costs something, so natural long cues beat fragments
_SENTENCE_BREAK = 0.0
_CLAUSE_BREAK = 0.5
_SEGMENT_BREAK = 0.8  # the recogniser ended a segment here
_MID_PHRASE_BREAK = 3.5  # no pause, no punctuation: avoid
_EXTRA_LINE = 1.0  # one line reads faster than two: prefer it where a fair break exists
_SHORT_CUE = 2.0  # scaled by how far the words' span falls short of the minimum
MAX_LATE_MS = 240  # a short cue may delay the next one by this much (6 frames at 25 fps)


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start_ms: int
    end_ms: int
    space_before: bool
    segment_end: bool
    flags: tuple[str, ...] = ()  # the recogniser's flags on the segment it came from


def segment_cues(segments: Sequence[Segment], profile: Profile) -> tuple[Cue, ...]:
    """Cues for a transcript's segments; every non-space character is kept, in order. A cue
    carries the recogniser's flags of every segment it shows text from."""
    tokens = _tokens(segments, profile)
    if not tokens:
        return ()
    groups = _choose_groups(tokens, profile)
    frames = frame_times([(tokens[i].start_ms, tokens[j - 1].end_ms) for i, j in groups], profile)
    return tuple(
        Cue(
            index=n,
            start_ms=frame_to_ms(s, profile.fps),
            end_ms=frame_to_ms(e, profile.fps),
            lines=break_lines(tokens[i:j], profile),
            flags=tuple(dict.fromkeys((*(f for t in tokens[i:j] for f in t.flags), *flags))),
        )
        for n, ((i, j), (s, e, flags)) in enumerate(zip(groups, frames, strict=True), start=1)
    )


def _tokens(segments: Sequence[Segment], profile: Profile) -> list[_Token]:
    """Flatten words into monotonic tokens no longer than a line or a cue."""
    frame_ms = math.ceil(1000 / profile.fps)
    longest = max(profile.max_duration_ms - 2 * frame_ms, 1)
    tokens: list[_Token] = []
    for seg in segments:
        words = seg.words or (Word(seg.text, seg.start_ms, seg.end_ms),)
        last = len(words) - 1
        for k, word in enumerate(words):
            text = word.text.strip()
            if not text:
                continue
            prev_start = tokens[-1].start_ms if tokens else 0
            start = max(word.start_ms, prev_start)
            end = min(max(word.end_ms, start), start + longest)
            space = word.text[:1].isspace() and bool(tokens)
            pieces = _split_long(text, start, end, space, k == last, profile)
            tokens.extend(replace(t, flags=seg.flags) for t in pieces)
    return tokens


def _split_long(
    text: str, start: int, end: int, space: bool, seg_end: bool, profile: Profile
) -> list[_Token]:
    """A word longer than a line becomes line-sized pieces with interpolated times."""
    size = profile.max_chars_per_line
    if len(text) <= size:
        return [_Token(text, start, end, space, seg_end)]
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    span = end - start
    out: list[_Token] = []
    done = 0
    for n, piece in enumerate(pieces):
        t0 = start + span * done // len(text)
        done += len(piece)
        t1 = start + span * done // len(text)
        last = n == len(pieces) - 1
        out.append(_Token(piece, t0, t1, space and n == 0, seg_end and last))
    return out


def _line_count(tokens: Sequence[_Token], width: int) -> int:
    """Lines needed when filling greedily (minimal for word-wrapping)."""
    lines, used = 1, 0
    for tok in tokens:
        add = len(tok.text) + (1 if tok.space_before and used else 0)
        if used and used + add > width:
            lines, used = lines + 1, len(tok.text)
        else:
            used += add
    return lines


def _break_cost(tokens: Sequence[_Token], j: int, profile: Profile) -> float:
    """Cost of ending a cue after token j-1."""
    if j >= len(tokens):
        return _SENTENCE_BREAK
    last = tokens[j - 1]
    if last.text[-1] in SENTENCE_END:
        return _SENTENCE_BREAK
    if last.text[-1] in CLAUSE_END:
        return _CLAUSE_BREAK
    if last.segment_end:
        return _SEGMENT_BREAK
    pause = tokens[j].start_ms - last.end_ms
    return _CLAUSE_BREAK + (_MID_PHRASE_BREAK - _CLAUSE_BREAK) * max(
        0.0, 1 - pause / max(profile.pause_split_ms, 1)
    )


def _choose_groups(tokens: Sequence[_Token], profile: Profile) -> list[tuple[int, int]]:
    """Cheapest split of tokens into cues [i, j) that obey the hard limits."""
    n = len(tokens)
    frame_ms = math.ceil(1000 / profile.fps)
    max_span = profile.max_duration_ms - 2 * frame_ms  # room for rounding to frames
    max_chars = profile.max_chars_per_line * profile.max_lines
    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        end_cost = _break_cost(tokens, j, profile)
        chars = 0
        for i in range(j - 1, -1, -1):
            chars += len(tokens[i].text)
            if i < j - 1:
                pause = tokens[i + 1].start_ms - tokens[i].end_ms
                span = tokens[j - 1].end_ms - tokens[i].start_ms
                if chars > max_chars or pause >= profile.pause_split_ms or span > max_span:
                    break
            lines = _line_count(tokens[i:j], profile.max_chars_per_line)
            if lines > profile.max_lines:
                if i < j - 1:
                    break
                lines = profile.max_lines  # a single token always fits: _split_long made sure
            span = tokens[j - 1].end_ms - tokens[i].start_ms
            short = max(0, profile.min_duration_ms - span) / max(profile.min_duration_ms, 1)
            cost = best[i] + _CUE_COST + end_cost + _EXTRA_LINE * (lines - 1) + _SHORT_CUE * short
            if cost < best[j]:
                best[j], back[j] = cost, i
    groups: list[tuple[int, int]] = []
    j = n
    while j > 0:
        groups.append((back[j], j))
        j = back[j]
    groups.reverse()
    return groups


def break_lines(tokens: Sequence[_Token], profile: Profile) -> tuple[str, ...]:
    """Lay a cue's tokens out in balanced lines (dubkit.text.lines). A break where the speaker
    paused keeps words together: Whisper's Chinese words are often single characters, so
    token boundaries alone fall inside words."""
    pieces = [Piece(tokens[0].text)]
    for prev, tok in itertools.pairwise(tokens):
        pause = min(tok.start_ms - prev.end_ms, 400) / 50
        pieces.append(Piece(tok.text, tok.space_before, pause))
    return balanced_lines(pieces, profile.max_chars_per_line, profile.max_lines)


def frame_times(
    spans: Sequence[tuple[int, int]], profile: Profile
) -> list[tuple[int, int, tuple[str, ...]]]:
    """Frame-exact (start, end, flags) per cue: minimum duration, maximum duration, gap.

    A cue too short to read borrows time from the following gap, and may delay the next cue
    by up to MAX_LATE_MS; it never delays it further, so timing cannot drift. A cue that still
    falls short carries the flag "short".
    """
    fps = profile.fps
    gap = profile.min_gap_frames
    min_f = ms_to_frames(profile.min_duration_ms, fps)
    max_f = math.floor(profile.max_duration_ms * fps / 1000)
    late_f = math.floor(MAX_LATE_MS * fps / 1000)
    raw = [(ms_to_frame_floor(a, fps), ms_to_frame_ceil(b, fps)) for a, b in spans]
    out: list[tuple[int, int, tuple[str, ...]]] = []
    for k, (fs, fe) in enumerate(raw):
        s = max(fs, out[-1][1] + gap) if out else fs
        e = min(max(fe, s + min_f), s + max_f)
        if k + 1 < len(raw) and e > raw[k + 1][0] - gap:
            next_start = raw[k + 1][0]
            wanted = max(s + min_f, next_start - gap)
            e = max(min(wanted, next_start + late_f - gap), s + 1)
        out.append((s, e, ("short",) if e - s < min_f else ()))
    return out
