"""What a recogniser's output looks like when it went wrong: loops (中国 中国 中国 …), text that
compresses too well, text far too long for its time, text where the VAD heard no speech.

Pure. Confidence alone does not show these: a looping window measured here had an average
log-probability of -0.04 and a no-speech probability of 0.07.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from dubkit import constants as C
from dubkit.asr.pinyin import is_han
from dubkit.records import Segment

REPETITION = "asr-repetition"
NO_SPEECH = "asr-no-speech"
TOO_LONG = "asr-too-long"
FLAGS = (REPETITION, NO_SPEECH, TOO_LONG)

# Spaces and punctuation between repeats do not break a loop (中国 中国, 作曲，作曲). How many
# sayings make a loop depends on the unit: one character must come 6 times (对对对对 and
# 哈哈哈哈 are speech), 2-8 characters 4 times, 9-30 characters (a sentence said again: the
# commonest hallucination) 3 times.
_SKIP = re.compile(r"[\s\W_]", re.UNICODE)
_LOOPS = (
    re.compile(rf"(.)\1{{{C.LOOP_MIN_REPEATS_ONE_CHAR - 1},}}", re.DOTALL),
    re.compile(rf"(.{{2,{C.LOOP_MAX_UNIT}}}?)\1{{{C.LOOP_MIN_REPEATS - 1},}}", re.DOTALL),
    re.compile(
        rf"(.{{{C.LOOP_MAX_UNIT + 1},{C.LOOP_LONG_UNIT}}}?)\1{{{C.LOOP_LONG_MIN_REPEATS - 1},}}",
        re.DOTALL,
    ),
)


@dataclass(frozen=True, slots=True)
class Loop:
    """text[start:end] is `unit` said `count` times in a row (spaces and punctuation aside);
    what a collapse keeps ends at `keep_end` (one saying; two for a single character, as
    Chinese doubles them: 谢谢, 哈哈)."""

    start: int
    end: int
    unit: str
    count: int
    keep_end: int


def _core(text: str) -> tuple[str, list[int]]:
    """The text without spaces and punctuation, and where each kept character came from."""
    keep = [i for i, ch in enumerate(text) if not _SKIP.match(ch)]
    return "".join(text[i] for i in keep), keep


def find_loops(text: str) -> list[Loop]:
    """Every run of a unit said too many times in a row (see _LOOPS; a run of digits only
    from LOOP_MIN_DIGITS on: 820,000 is a number), in text order; where runs overlap the
    longer one."""
    core, where = _core(text)
    found: list[tuple[int, int, str]] = []
    for pattern in _LOOPS:
        for m in pattern.finditer(core):
            if not m.group(1).isdigit() or m.end() - m.start() >= C.LOOP_MIN_DIGITS:
                found.append((m.start(), m.end(), m.group(1)))
    chosen: list[tuple[int, int, str]] = []
    for start, end, unit in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
        if all(end <= a or b <= start for a, b, _ in chosen):
            chosen.append((start, end, unit))
    loops = []
    for start, end, unit in sorted(chosen):
        keep = len(unit) * (2 if len(unit) == 1 else 1)
        loops.append(
            Loop(where[start], where[end - 1] + 1, unit, (end - start) // len(unit),
                 where[start + keep - 1] + 1)
        )  # fmt: skip
    return loops


def collapse_loops(text: str) -> str:
    """Each loop cut to its first saying (中国 中国 中国 中国 → 中国; 哈哈哈哈哈哈 → 哈哈)."""
    out, last = [], 0
    for loop in find_loops(text):
        out.append(text[last : loop.keep_end])
        last = loop.end
    out.append(text[last:])
    return "".join(out)


def compression_ratio(text: str) -> float:
    """Bytes over zlib-compressed bytes, as Whisper measures repetitiveness."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def spoken_chars(text: str) -> int:
    """Characters that take time to say (no spaces or punctuation)."""
    return len(_core(text)[0])


def han_chars(text: str) -> int:
    """Chinese characters: the unit of the speaking-rate rules (a Latin letter is not a
    syllable, so English text is never too long by this count)."""
    return sum(1 for ch in text if is_han(ch))


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # one of FLAGS
    detail: str


def window_problems(
    segments: Sequence[Segment], speech_ms: int, speech_probability: Sequence[float]
) -> list[Problem]:
    """What is wrong with one window's text: `speech_ms` is how much speech the window holds,
    `speech_probability` the VAD's mean probability under each segment."""
    text = "".join(s.text for s in segments)
    problems = []
    loops = find_loops(text)
    if loops:
        worst = max(loops, key=lambda lp: lp.count * len(lp.unit))
        problems.append(Problem(REPETITION, f"{worst.unit!r} ×{worst.count}"))
    elif (ratio := compression_ratio(text)) > C.ASR_MAX_COMPRESSION_RATIO:
        problems.append(Problem(REPETITION, f"compression ratio {ratio:.2f}"))
    chars = han_chars(text)
    if speech_ms > 0 and chars / (speech_ms / 1000) > C.ASR_MAX_CPS:
        problems.append(
            Problem(TOO_LONG, f"{chars} characters in {speech_ms / 1000:.1f} s of speech")
        )
    else:
        for seg in segments:
            n, span = han_chars(seg.text), max(seg.end_ms - seg.start_ms, 1)
            if n >= C.ASR_FAST_SEGMENT_CHARS and n / (span / 1000) > C.ASR_MAX_SEGMENT_CPS:
                problems.append(
                    Problem(TOO_LONG, f"{n} characters in {span / 1000:.2f} s ({seg.text[:12]}…)")
                )
                break
    for seg, prob in zip(segments, speech_probability, strict=True):
        if unheard(seg, prob):
            problems.append(
                Problem(NO_SPEECH, f"{seg.text[:12]!r} where the VAD heard speech {prob:.0%}")
            )
            break
    return problems


def unheard(segment: Segment, speech_probability: float) -> bool:
    """Text where the VAD heard no speech: for half a second or more, under a mean speech
    probability (`speech_probability`) below 0.15."""
    return bool(
        spoken_chars(segment.text)
        and segment.end_ms - segment.start_ms >= C.ASR_NO_SPEECH_MIN_MS
        and speech_probability < C.ASR_SILENT_VAD_PROBABILITY
    )


def whisper_silence(segment: Segment) -> bool:
    """Whisper's own rule for a segment that is not speech (faster-whisper's sequential decoder
    drops these; its batched one does not)."""
    return (
        segment.no_speech_prob > C.ASR_NO_SPEECH_PROBABILITY
        and segment.avg_logprob < C.ASR_LOGPROB_THRESHOLD
    )
