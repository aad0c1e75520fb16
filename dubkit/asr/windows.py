"""Where the speech is, and the 30 s windows the recogniser hears it in.

The VAD's speech chunks are laid end to end (the "speech timeline", as faster-whisper's
sequential decoder does), windows of at most 30 s are cut at the quietest points of it, and
every time the recogniser returns on that timeline is mapped back to the programme. Pure.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from dubkit import constants as C

Span = tuple[int, int]  # start_ms, end_ms


@dataclass(frozen=True, slots=True)
class SpeechMap:
    """Speech chunks of a programme (original milliseconds) and the VAD's speech probability
    along the speech timeline, one value per frame of `frame_ms`."""

    chunks: tuple[Span, ...]
    probability: tuple[float, ...] = ()
    frame_ms: float = 32.0

    def __post_init__(self) -> None:
        last = 0
        for start, end in self.chunks:
            if not last <= start <= end:
                raise ValueError(f"speech chunks must be ordered and disjoint, got {self.chunks}")
            last = end
        if self.frame_ms <= 0:
            raise ValueError(f"frame_ms must be positive, got {self.frame_ms}")

    @property
    def offsets(self) -> tuple[int, ...]:
        """Where each chunk starts on the speech timeline."""
        out, at = [], 0
        for start, end in self.chunks:
            out.append(at)
            at += end - start
        return tuple(out)

    @property
    def duration_ms(self) -> int:
        return sum(end - start for start, end in self.chunks)

    @property
    def joins(self) -> tuple[int, ...]:
        """Speech-timeline times where one chunk ends and the next begins (a real pause)."""
        return self.offsets[1:]

    def to_original(self, t_ms: int, *, end: bool = False) -> int:
        """A speech-timeline time in the programme. At a join a start belongs to the chunk
        after it and an end to the chunk before it."""
        if not self.chunks:
            return t_ms
        offsets = self.offsets
        k = (bisect.bisect_left if end else bisect.bisect_right)(offsets, t_ms) - 1
        k = min(max(k, 0), len(self.chunks) - 1)
        start, stop = self.chunks[k]
        return min(max(start + t_ms - offsets[k], start), stop)

    def frames(self, start_ms: int, end_ms: int) -> Sequence[float]:
        first = max(0, int(start_ms // self.frame_ms))
        last = max(first, math.ceil(end_ms / self.frame_ms))
        return self.probability[first:last]

    def mean_probability(self, start_ms: int, end_ms: int) -> float:
        """Mean speech probability over a stretch of the speech timeline (1.0 when unknown)."""
        values = self.frames(start_ms, end_ms)
        return sum(values) / len(values) if values else 1.0


def speech_chunks(
    probability: Sequence[float],
    samples: int,
    threshold: float = C.VAD_THRESHOLD,
    neg_threshold: float = C.VAD_NEG_THRESHOLD,
    min_silence_ms: int = C.VAD_MIN_SILENCE_MS,
    pad_ms: int = C.VAD_PAD_MS,
    frame: int = C.VAD_FRAME_SAMPLES,
) -> list[Span]:
    """Speech chunks (start, end sample) of a programme of `samples` samples from the VAD's
    speech probability of each `frame`-sample frame, as faster-whisper's VAD filter finds
    them with its default options (one pass over the probabilities, so the programme's sound
    need not be in memory): a run starts at the first frame at `threshold` or above and ends
    where `min_silence_ms` of frames below `neg_threshold` begin, uninterrupted by a frame at
    `threshold`; a run still open at the end ends with the programme. Each chunk then takes
    `pad_ms` of the silence on either side, or half of a shorter silence it shares."""
    min_silence = C.SAMPLE_RATE * min_silence_ms / 1000
    runs: list[list[int]] = []
    start: int | None = None
    quiet_from = 0  # where the frames below neg_threshold began (0: none yet)
    for k, p in enumerate(probability):
        at = frame * k
        if p >= threshold:
            quiet_from = 0
            if start is None:
                start = at
            continue
        if start is None or p >= neg_threshold:
            continue
        if not quiet_from:
            quiet_from = at
        if at - quiet_from >= min_silence:
            runs.append([start, quiet_from])
            start, quiet_from = None, 0
    if start is not None and samples > start:
        runs.append([start, samples])
    pad = C.SAMPLE_RATE * pad_ms // 1000
    for k, run in enumerate(runs):
        if k == 0:
            run[0] = max(0, run[0] - pad)
        if k == len(runs) - 1:
            run[1] = min(samples, run[1] + pad)
            continue
        following = runs[k + 1]
        silence = following[0] - run[1]
        if silence < 2 * pad:
            run[1] += silence // 2
            following[0] = max(0, following[0] - silence // 2)
        else:
            run[1] = min(samples, run[1] + pad)
            following[0] = max(0, following[0] - pad)
    return [(a, b) for a, b in runs]


def plan_windows(
    speech: SpeechMap,
    max_ms: int = C.WINDOW_MAX_MS,
    min_ms: int = C.WINDOW_MIN_MS,
    slack_ms: int = C.WINDOW_CUT_SLACK_MS,
    trim_ms: int = C.WINDOW_TRIM_MS,
) -> tuple[Span, ...]:
    """Windows over the speech timeline, each at most `max_ms` of speech, in order.

    Where the speech is longer than one window, it is cut into the fewest windows: at the
    pause between chunks nearest the balanced cut point that keeps that number, else at the
    quietest moment within `slack_ms` of the balanced point (so no window is a scrap). The
    VAD pads every chunk with silence, so a window ending at a chunk's end may be up to
    `trim_ms` longer than `max_ms` rather than spill a scrap of padding into a window of its
    own: Whisper hears the first 30 s of it, the rest giving the last frames their context.
    """
    total = speech.duration_ms
    if total <= 0:
        return ()
    ends = {*speech.joins, total}  # chunk ends, padded with silence
    windows: list[Span] = []
    start = 0
    while True:
        left = total - start
        if left <= max_ms + trim_ms:  # the programme's end is a chunk's padded end
            windows.append((start, total))
            return tuple(windows)
        count = math.ceil((left - trim_ms) / max_ms)
        target = start + left / count
        shortest = min(min_ms, max_ms // 2)
        # the rest must still fit the windows left (the last may take the trim): cut no
        # earlier than that
        earliest = max(start + shortest, total - (count - 1) * max_ms - trim_ms)
        lo = max(earliest, target - slack_ms)
        hi = min(start + max_ms, target + slack_ms)
        # A pause between chunks anywhere the rest still fits the same number of windows,
        # leaving no scrap on either side, beats the quietest moment near the balanced point.
        joins = [
            j
            for j in ends
            if start + shortest <= j <= start + max_ms + trim_ms
            and total - j <= (count - 1) * max_ms + trim_ms
            and total - j >= shortest
        ]
        if joins:
            cut = min(joins, key=lambda j: (abs(j - target), j))
        else:
            cut = _quietest(speech, int(lo), int(max(lo, hi)), target)
        cut = max(cut, start + 1)
        windows.append((start, cut))
        start = cut


def _quietest(speech: SpeechMap, lo: int, hi: int, target: float) -> int:
    """The time in [lo, hi] where speech is least likely (over about 100 ms), nearest the
    target among equals; the time in [lo, hi] nearest the target when nothing is known (no
    probabilities, or no frame starts in so narrow a range)."""
    step = speech.frame_ms
    first, last = math.ceil(lo / step), int(hi // step)
    probs = speech.probability
    if not probs or first > last:
        return int(min(max(target, lo), hi))
    best: tuple[float, float, int] | None = None
    for k in range(first, last + 1):
        near = probs[max(0, k - 1) : k + 2]
        if not near:
            continue
        key = (round(sum(near) / len(near), 3), abs(k * step - target), k)
        if best is None or key < best:
            best = key
    return int(best[2] * step) if best is not None else int(target)


def uncovered(
    speech: SpeechMap,
    window: Span,
    words: Sequence[Span],
    min_ms: int = C.UNCOVERED_MIN_MS,
    near_ms: int = C.UNCOVERED_NEAR_MS,
    threshold: float = C.UNCOVERED_PROBABILITY,
    bridge_ms: int = C.UNCOVERED_BRIDGE_MS,
) -> list[Span]:
    """Stretches of `window` where the VAD is sure of speech but no recognised word (of
    `words`, speech-timeline spans) lies within `near_ms`: speech the decoder skipped."""
    step = speech.frame_ms
    first = int(window[0] // step)
    last = min(len(speech.probability), math.ceil(window[1] / step))
    if last <= first:
        return []
    covered = [False] * (last - first)
    for start, end in words:
        a = max(first, int((start - near_ms) // step))
        b = min(last, math.ceil((end + near_ms) / step))
        for k in range(a, b):
            covered[k - first] = True
    missing = [
        speech.probability[k] >= threshold and not covered[k - first] for k in range(first, last)
    ]
    bridge = max(1, round(bridge_ms / step))
    runs: list[Span] = []
    k = 0
    while k < len(missing):
        if not missing[k]:
            k += 1
            continue
        j = k
        # a pause between words (up to `bridge_ms`) does not end a skipped stretch
        while j < len(missing) and (missing[j] or any(missing[j + 1 : j + 1 + bridge])):
            j += 1
        start, end = int((first + k) * step), int((first + j) * step)
        start, end = max(start, window[0]), min(end, window[1])
        if end - start >= min_ms:
            runs.append((start, end))
        k = j
    return runs
