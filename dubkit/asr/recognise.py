"""One programme through the recogniser, window by window, every decision recorded.

1. Windows of at most 30 s over the whole programme's speech (`windows.plan_windows`), taken
   in blocks of a batch (a few minutes of speech; `_blocks`): each block goes through every
   step below before the next is decoded, so only its sound is needed at a time.
2. First pass, without glossary hotwords (the user's own `--hotword`s only): the block's
   windows as one batch, or one after the other with temperature fallback (`batch_size` 0
   or 1).
3. Guard (`guard.window_problems`): a window that loops, runs on or writes text where there is
   no speech is decoded again without any prompt (not even the user's hotwords) and with
   temperature fallback; what still loops is collapsed and flagged.
4. Refill: a batched first pass that left half of its window's speech without a word (it
   jumped over a verse of a song) is decoded again alone with temperature fallback, as
   faster-whisper's sequential decoder hears it; what that is sure of, with the first pass
   where it heard nothing, is kept if it neither loops nor runs on and leaves at most half
   as much speech without a word.
5. Glossary biasing (`biasing`): a window whose text sounds like glossary terms it does not
   write is decoded again with only those terms as hotwords and kept if `biasing.judge` says so.
6. Recovery (`windows.uncovered`): speech the decoder still skipped is decoded again on its own.
7. Terms heard with exactly their syllables are written in (`biasing.candidates`).

Pure: decoding goes through the `WindowDecoder` port; times come back on the speech timeline
and are mapped to the programme at the end.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dubkit import constants as C
from dubkit.asr import guard
from dubkit.asr.biasing import BiasTerms, Candidate, candidates, confirmed_in, judge
from dubkit.asr.windows import Span, SpeechMap, plan_windows, uncovered
from dubkit.records import Segment, Word
from dubkit.text.lines import join_lines

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class DecodeRequest:
    """Decode these speech-timeline windows, each independently."""

    windows: tuple[Span, ...]
    hotwords: str = ""
    temperatures: tuple[float, ...] = (0.0,)
    batched: bool = False
    first_pass: bool = False  # the windows' first hearing (a recogniser may learn from it)

    @property
    def patience(self) -> float:
        """Beam search ends when patience x beam_size hypotheses have ended: C.BATCHED_PATIENCE
        for a batched decode (it cannot carry on in a window the model stopped early),
        faster-whisper's own 1 for a window decoded alone."""
        return C.BATCHED_PATIENCE if self.batched else 1.0


class WindowDecoder(Protocol):
    """A recogniser bound to one programme's speech."""

    @property
    def speech(self) -> SpeechMap: ...

    def decode(self, request: DecodeRequest) -> list[tuple[Segment, ...]]:
        """Segments per window, timed on the speech timeline."""
        ...

    def count_tokens(self, text: str) -> int: ...


@dataclass(frozen=True, slots=True)
class RecogniseSettings:
    batch_size: int = C.BATCH_SIZE_CPU  # 0 or 1: one window at a time
    hotwords: tuple[str, ...] = ()  # the user's own: in every window's prompt
    guard: bool = True
    recover: bool = True
    bias: bool = True
    prompt_budget: int = C.HOTWORD_TOKEN_BUDGET


@dataclass(frozen=True, slots=True)
class Recognition:
    segments: tuple[Segment, ...]  # programme times, Simplified where `normalise` says so
    report: dict[str, Any] = field(default_factory=dict)  # for asr.json
    warnings: tuple[str, ...] = ()


def fit_words(
    words: Sequence[str], count_tokens: Callable[[str], int], budget: int
) -> tuple[list[str], list[str]]:
    """As many whole words as fit `budget` prompt tokens (in order), and those left out."""
    chosen: list[str] = []
    left: list[str] = []
    for word in dict.fromkeys(w for w in words if w.strip()):
        if count_tokens(" ".join([*chosen, word])) <= budget:
            chosen.append(word)
        else:
            left.append(word)
    return chosen, left


def _text(segments: Sequence[Segment]) -> str:
    """Segments' text joined as Chinese is written: directly, a space between Latin words."""
    return join_lines(seg.text for seg in segments)


class _Context:
    """What every step needs: the decoder, settings, text normalisation, the report."""

    def __init__(
        self,
        decoder: WindowDecoder,
        settings: RecogniseSettings,
        normalise: Callable[[str], str],
        bias: BiasTerms | None,
    ) -> None:
        self.decoder = decoder
        self.speech = decoder.speech
        self.settings = settings
        self.normalise = normalise
        self.bias = bias if bias is not None and bias.forms and settings.bias else None
        self.replacement_chars = 0
        self.user_words, self.user_left = fit_words(
            settings.hotwords,
            decoder.count_tokens,
            min(C.USER_HOTWORD_TOKEN_BUDGET, settings.prompt_budget),
        )
        self.user_hotwords = " ".join(self.user_words)
        self.bias_left: set[str] = set()
        self.batched_patience: float | None = None  # of a batched decode made, for asr.json

    def decode(self, request: DecodeRequest) -> list[tuple[Segment, ...]]:
        if request.batched:
            self.batched_patience = request.patience
        return [self.clean(segs) for segs in self.decoder.decode(request)]

    def clean(self, segments: Sequence[Segment]) -> tuple[Segment, ...]:
        """Simplified characters, no U+FFFD (a character cut between two tokens), no segment
        Whisper itself calls silence, no empty segment."""
        out = []
        for seg in segments:
            if guard.whisper_silence(seg):
                continue
            words = []
            for w, text in zip(seg.words, self._normalise_words(seg.words), strict=True):
                if "\ufffd" in text:
                    self.replacement_chars += text.count("\ufffd")
                    text = text.replace("\ufffd", "")
                if text.strip():
                    words.append(dataclasses.replace(w, text=text))
            if seg.words:
                text = "".join(w.text for w in words).strip()
            else:
                text = self.normalise(seg.text)
                self.replacement_chars += text.count("\ufffd")
                text = text.replace("\ufffd", "").strip()
            if text:
                out.append(dataclasses.replace(seg, text=text, words=tuple(words)))
        return tuple(out)

    def _normalise_words(self, words: Sequence[Word]) -> list[str]:
        """The words' texts normalised together (OpenCC converts by phrase: 著 alone stays,
        in 跟著 it becomes 着), cut back at the words' own lengths; word by word only if
        the conversion changed the length."""
        joined = "".join(w.text for w in words)
        converted = self.normalise(joined)
        if len(converted) != len(joined):
            return [self.normalise(w.text) for w in words]
        out, at = [], 0
        for w in words:
            out.append(converted[at : at + len(w.text)])
            at += len(w.text)
        return out

    def problems(self, window: Span, segments: Sequence[Segment]) -> list[guard.Problem]:
        probs = [self.speech.mean_probability(s.start_ms, s.end_ms) for s in segments]
        return guard.window_problems(segments, window[1] - window[0], probs)


def recognise(
    decoder: WindowDecoder,
    settings: RecogniseSettings,
    normalise: Callable[[str], str] = lambda text: text,
    bias: BiasTerms | None = None,
    progress: ProgressFn | None = None,
) -> Recognition:
    """Recognise the decoder's programme (see the module docstring for the steps)."""
    ctx = _Context(decoder, settings, normalise, bias)
    speech = decoder.speech
    windows = plan_windows(speech)
    total = speech.chunks[-1][1] if speech.chunks else 0
    if progress is not None:
        progress(0, total)
    reports: list[dict[str, Any]] = []
    segments: list[Segment] = []
    for block in _blocks(windows, settings.batch_size):
        # Block by block: its first pass, then every later decision on its windows, so that
        # its sound is read once and let go before the next block's.
        first = _first_pass(ctx, block)
        for window, decoded in zip(block, first, strict=True):
            report: dict[str, Any] = {
                "window": len(reports),
                "start_ms": speech.to_original(window[0]),
                "end_ms": speech.to_original(window[1], end=True),
                "speech_ms": window[1] - window[0],
            }
            segments += [_to_original(speech, s) for s in _decided(ctx, window, decoded, report)]
            reports.append(report)
        if progress is not None:
            progress(speech.to_original(block[-1][1], end=True), total)
    segments = _flag_loops_across_windows(segments)
    warnings = []
    if ctx.user_left:
        warnings.append(
            f"--hotword: {len(ctx.user_left)} word(s) did not fit the "
            f"{min(C.USER_HOTWORD_TOKEN_BUDGET, settings.prompt_budget)}-token budget and were "
            f"not used (a long list makes Whisper invent them): {' '.join(ctx.user_left)}"
        )
    if ctx.bias_left:
        warnings.append(
            f"glossary terms heard but left out of a window's prompt (no room): "
            f"{' '.join(sorted(ctx.bias_left))}"
        )
    summary = _summary(reports, segments, ctx)
    if progress is not None and not windows:
        progress(total, total)  # (else the last block said so)
    return Recognition(
        segments=tuple(segments),
        report={
            "mode": "batched" if settings.batch_size > 1 else "sequential",
            "batch_size": settings.batch_size,  # options' null: the device's default, this
            # the batched decodes' beam patience; null when none was made (sequential, no glossary)
            "patience": ctx.batched_patience,
            "hotwords": ctx.user_words,
            "hotwords_left_out": ctx.user_left,
            "summary": summary,
            "windows": reports,
        },
        warnings=tuple(warnings),
    )


def _blocks(windows: Sequence[Span], batch_size: int) -> list[tuple[Span, ...]]:
    """The windows in blocks: a batch each (at most half the windows, so that progress
    moves during a short programme too: a 70 s one is 3 windows, 2 then 1; long ones keep
    full batches of `batch_size`: 4 windows, 2 minutes of speech, on CPU), or one at a time
    when decoding sequentially. Blocks end where windows end, at a pause between chunks or
    the quietest moment near it, never elsewhere."""
    size = 1
    if batch_size > 1:
        size = min(batch_size, max(1, -(-len(windows) // 2)))
    return [tuple(windows[k : k + size]) for k in range(0, len(windows), size)]


def _first_pass(ctx: _Context, block: tuple[Span, ...]) -> list[tuple[Segment, ...]]:
    if ctx.settings.batch_size > 1:
        return ctx.decode(DecodeRequest(block, ctx.user_hotwords, batched=True, first_pass=True))
    # One window at a time, each on its own, with Whisper's temperature fallback and its
    # continuation of a window it stopped early. Not with the previous window's text as
    # prompt, as faster-whisper's sequential decoder does: measured here, that made
    # whisper:base loop on the 70 s seminar's second window even with 32 tokens of it (317
    # characters, 9 s to decode) and raised the dense clip's CER from 0.224 to 0.257.
    return [
        ctx.decode(
            DecodeRequest(
                (window,), ctx.user_hotwords, C.ASR_FALLBACK_TEMPERATURES, first_pass=True
            )
        )[0]
        for window in block
    ]


def _decided(
    ctx: _Context, window: Span, decoded: tuple[Segment, ...], report: dict[str, Any]
) -> tuple[Segment, ...]:
    """One window's first pass through the guard, biasing, recovery and substitution."""
    kept = _guarded(ctx, window, decoded, report)
    if (
        ctx.settings.recover
        and ctx.settings.batch_size > 1
        and "problems" not in report  # (the guard's re-decode was already one alone)
    ):
        kept = _refilled(ctx, window, kept, report)
    if ctx.bias is not None and not any(s.flags for s in kept):
        kept = _biased(ctx, window, kept, report)
    if ctx.settings.recover and not any(s.flags for s in kept):
        # (a window the guard had to contain is not trusted to say where speech is
        # missing: the span of a collapsed loop would be decoded into the loop again, a line
        # flagged where the VAD heard no voice would be heard again where it was said)
        kept = _recovered(ctx, window, kept, report)
    if ctx.bias is not None:
        kept = _substituted(ctx, kept, report)
    return kept


def _again(ctx: _Context, window: Span, hotwords: str = "") -> tuple[Segment, ...]:
    """One window decoded again alone, with temperature fallback."""
    request = DecodeRequest((window,), hotwords, C.ASR_FALLBACK_TEMPERATURES, batched=False)
    return ctx.decode(request)[0]


def _severity(problems: Sequence[guard.Problem], segments: Sequence[Segment]) -> tuple[int, int]:
    text = _text(segments)
    looped = sum(len(lp.unit) * (lp.count - 1) for lp in guard.find_loops(text))
    return len(problems), looped


def _guarded(
    ctx: _Context, window: Span, segments: tuple[Segment, ...], report: dict[str, Any]
) -> tuple[Segment, ...]:
    problems = ctx.problems(window, segments)
    report["first_pass"] = {"characters": guard.spoken_chars(_text(segments))}
    if not problems:
        return segments
    if not ctx.settings.guard:  # nothing decoded again, nothing cut, but nothing unflagged
        report["problems"] = [f"{p.kind}: {p.detail}" for p in problems]
        contained = _contain(ctx, window, segments, problems, cut=False)
        report["flagged"] = sorted({f for s in contained for f in s.flags})
        return contained
    report["problems"] = [f"{p.kind}: {p.detail}" for p in problems]
    report["first_pass"]["text"] = _text(segments)[: C.ASR_REPORT_TEXT_CHARS]
    again = _again(ctx, window)
    later = ctx.problems(window, again)
    trusted = _trusted_chars(ctx, segments, problems)
    kept = guard.spoken_chars(_text(again))
    if not later and kept >= C.GUARD_MIN_KEPT * trusted:
        report["guard"] = "decoded again without prompt, with temperature fallback: clean"
        return again
    if not later:  # clean, but it lost what the first pass heard around the loop
        report["guard_rejected"] = (
            f"the clean re-decode kept {kept} of the first pass's {trusted} characters "
            f"outside its loops: {_text(again)[: C.ASR_REPORT_TEXT_CHARS]}"
        )
    elif _severity(later, again) <= _severity(problems, segments):
        segments, problems = again, later
    contained = _contain(ctx, window, segments, problems)
    report["guard"] = "still wrong after decoding again: " + "; ".join(
        f"{p.kind}: {p.detail}" for p in problems
    )
    report["flagged"] = sorted({f for s in contained for f in s.flags})
    return contained


def _trusted_chars(
    ctx: _Context, segments: Sequence[Segment], problems: Sequence[guard.Problem]
) -> int:
    """How much of a first pass that only looped is probably speech: its characters outside
    the loops, in segments where the VAD heard speech (0 when it ran on: none is trusted)."""
    if any(p.kind == guard.TOO_LONG for p in problems):
        return 0
    heard = [
        s
        for s in segments
        if ctx.speech.mean_probability(s.start_ms, s.end_ms) >= C.ASR_SILENT_VAD_PROBABILITY
    ]
    return guard.spoken_chars(guard.collapse_loops(_text(heard)))


def _contain(
    ctx: _Context,
    window: Span,
    segments: Sequence[Segment],
    problems: Sequence[guard.Problem],
    cut: bool = True,
) -> tuple[Segment, ...]:
    """Flag what is still wrong; with `cut`, collapse the loops that cannot be speech
    (across segments too, see _collapse)."""
    out: list[Segment] = []
    for seg in segments:
        if cut and out and seg.text == out[-1].text and not _plausible_span(ctx, [out[-1], seg]):
            out[-1] = _flag(out[-1], guard.REPETITION)  # a whole segment said again at once
            continue
        out.append(seg)
    out = _collapse(ctx, out, cut)
    for problem in ctx.problems(window, out):
        if problem.kind == guard.NO_SPEECH:
            out = [
                _flag(s, guard.NO_SPEECH)
                if ctx.speech.mean_probability(s.start_ms, s.end_ms) < C.ASR_SILENT_VAD_PROBABILITY
                else s
                for s in out
            ]
        elif problem.kind == guard.REPETITION and guard.find_loops(_text(out)):
            continue  # _collapse flagged the segments the loops touch
        else:  # runs on, or repeats too long a stretch to point at: the whole window
            out = [_flag(s, problem.kind) for s in out]
    return tuple(out)


def _flag(seg: Segment, flag: str) -> Segment:
    return dataclasses.replace(seg, flags=tuple(dict.fromkeys((*seg.flags, flag))))


def _collapse(ctx: _Context, segments: Sequence[Segment], cut: bool = True) -> list[Segment]:
    """Each loop of the window's text, wherever segments and words divide it: flagged, and
    with `cut` reduced to its first saying (the words, or parts of words, after it go), unless
    it could be speech: a chant, a slogan, a line said three times (加油加油加油加油) takes
    its time, a loop does not (at most 8 sayings, at most 12 characters a second, where the
    VAD hears speech)."""
    units = [
        (k, w)
        for k, seg in enumerate(segments)
        for w in (seg.words or (Word(seg.text, seg.start_ms, seg.end_ms),))
    ]
    text = "".join(w.text for _, w in units)
    loops = guard.find_loops(text)
    if not loops:
        return list(segments)
    owner: list[int] = []  # which unit each character of `text` belongs to
    for n, (_, w) in enumerate(units):
        owner += [n] * len(w.text)
    drop = [False] * len(text)
    inside = [False] * len(text)
    for loop in loops:
        inside[loop.start : loop.end] = [True] * (loop.end - loop.start)
        said = [units[n][1] for n in sorted(set(owner[loop.start : loop.end]))]
        if cut and not _plausible(ctx, loop, said):
            drop[loop.keep_end : loop.end] = [True] * (loop.end - loop.keep_end)
    kept: dict[int, list[Word]] = {}
    touched: set[int] = set()
    at = 0
    for k, word in units:
        span = range(at, at + len(word.text))
        at += len(word.text)
        if any(inside[i] for i in span):
            touched.add(k)
        rest = "".join(text[i] for i in span if not drop[i])
        if rest.strip():
            kept.setdefault(k, []).append(dataclasses.replace(word, text=rest))
    out = []
    for k, seg in enumerate(segments):
        words = kept.get(k)
        if not words:
            continue
        if seg.words:
            seg = _with_words(seg, words)
        else:
            seg = dataclasses.replace(seg, text="".join(w.text for w in words).strip())
        out.append(_flag(seg, guard.REPETITION) if k in touched else seg)
    return out


def _flag_loops_across_windows(segments: Sequence[Segment]) -> list[Segment]:
    """A loop that a window boundary cut in two (中国 ×3 at the end of one window, ×3 at the
    start of the next) is a loop in neither window: found over the whole programme, its
    segments are flagged."""
    text = ""
    owner: list[int] = []
    for k, seg in enumerate(segments):
        text += seg.text
        owner += [k] * len(seg.text)
    touched = {owner[i] for loop in guard.find_loops(text) for i in range(loop.start, loop.end)}
    return [_flag(s, guard.REPETITION) if k in touched else s for k, s in enumerate(segments)]


def _plausible(ctx: _Context, loop: guard.Loop, words: Sequence[Word]) -> bool:
    """Whether a repetition could have been said: few sayings, at a speaking pace, where
    the VAD hears speech."""
    if loop.count > C.LOOP_PLAUSIBLE_REPEATS or not words:
        return False
    start, end = words[0].start_ms, max(w.end_ms for w in words)
    chars = guard.han_chars(loop.unit) * loop.count or len(loop.unit) * loop.count
    return (
        end > start
        and chars / ((end - start) / 1000) <= C.ASR_MAX_CPS
        and ctx.speech.mean_probability(start, end) >= C.UNCOVERED_PROBABILITY
    )


def _plausible_span(ctx: _Context, segments: Sequence[Segment]) -> bool:
    """Whether segments said one after the other could be speech (see _plausible)."""
    words = [w for s in segments for w in (s.words or (Word(s.text, s.start_ms, s.end_ms),))]
    text = "".join(s.text for s in segments)
    loop = guard.Loop(0, len(text), text, 1, len(text))
    return _plausible(ctx, loop, words)


def _fit_bias(ctx: _Context, proposed: Sequence[Candidate]) -> str:
    used = ctx.decoder.count_tokens(ctx.user_hotwords) if ctx.user_hotwords else 0
    forms = [c.form for c in sorted(proposed, key=lambda c: -c.score)]
    chosen, left = fit_words(forms, ctx.decoder.count_tokens, ctx.settings.prompt_budget - used)
    ctx.bias_left.update(left)
    return " ".join([*ctx.user_words, *chosen])


def _biased(
    ctx: _Context, window: Span, segments: tuple[Segment, ...], report: dict[str, Any]
) -> tuple[Segment, ...]:
    assert ctx.bias is not None
    text = _text(segments)
    proposed = candidates(text, ctx.bias)
    if not any(not c.substitutable for c in proposed):
        return segments  # nothing, or only terms heard exactly: written in later
    hotwords = _fit_bias(ctx, proposed)
    # One generate call over the window, as the batched first pass makes: the sequential
    # decoder's continuation past the speech is where hotwords get invented (孔隙 肾小球囊
    # 肾小球囊 … after the sentence, measured on the medical clip).
    request = DecodeRequest((window,), hotwords, temperatures=(0.0,), batched=True)
    second = ctx.decode(request)[0]
    verdict = judge(text, _text(second), ctx.bias)
    if (verdict.keep or verdict.confirmed) and ctx.problems(window, second):
        verdict = dataclasses.replace(
            verdict, keep=False, reason="the biased pass went wrong", confirmed=()
        )
    report["biasing"] = {
        "candidates": [c.to_dict() for c in proposed],
        "hotwords": hotwords,
        "kept": verdict.keep,
        "why": verdict.reason,
        "gained": list(verdict.gained),
    }
    if verdict.keep:
        return second
    report["biasing"]["biased_text"] = _text(second)[: C.ASR_REPORT_TEXT_CHARS]
    # The terms the biased pass confirmed where it is refused only for its other changes
    # are written into the first pass's text, which is otherwise kept as it was.
    writes = confirmed_in([seg.text for seg in segments], verdict.confirmed, ctx.bias)
    report["biasing"]["confirmed"] = [c.to_dict() for found in writes for c in found]
    return tuple(
        functools.reduce(_replace, reversed(found), seg)
        for seg, found in zip(segments, writes, strict=True)
    )


def _word_spans(segments: Sequence[Segment]) -> list[Span]:
    return [(w.start_ms, w.end_ms) for s in segments for w in s.words] or [
        (s.start_ms, s.end_ms) for s in segments
    ]


def _missing_ms(ctx: _Context, window: Span, segments: Sequence[Segment]) -> int:
    """How much of the window's speech has no recognised word near it (`uncovered`)."""
    return sum(b - a for a, b in uncovered(ctx.speech, window, _word_spans(segments)))


def _refilled(
    ctx: _Context, window: Span, segments: tuple[Segment, ...], report: dict[str, Any]
) -> tuple[Segment, ...]:
    """A batched first pass that left most of the window's speech without a word (it jumped
    over a verse, or timed the verse's first line at the window's end): the window decoded
    again alone with temperature fallback, as faster-whisper's sequential decoder hears it;
    its segments the decoder was sure of, with the first pass's segments where they leave
    speech without a word, replace the first pass if they neither loop nor run on and leave
    at most half as much speech without a word. Recovery then decodes what is still left,
    unless text was flagged."""
    voiced_ms = sum(
        ctx.speech.frame_ms for p in ctx.speech.frames(*window) if p >= C.UNCOVERED_PROBABILITY
    )
    missing = _missing_ms(ctx, window, segments)
    if not voiced_ms or missing < C.REFILL_MISSING_SHARE * voiced_ms:
        return segments
    # Only what the decoder was sure of, as recovery takes it (babble and music decode to
    # text far below Whisper's own -1); and the first pass's segments that lie wholly where
    # that leaves speech without a word, unless it wrote their text elsewhere (their times
    # are what failed: the verse's first line timed at the window's end).
    again = _outside(_again(ctx, window, ctx.user_hotwords), (), window)
    said = _text(again)
    gaps = uncovered(ctx.speech, window, _word_spans(again))
    back = [
        seg
        for seg in segments
        if seg.text not in said
        and any(
            a - C.UNCOVERED_NEAR_MS <= seg.start_ms and seg.end_ms <= b + C.UNCOVERED_NEAR_MS
            for a, b in gaps
        )
    ]
    again = tuple(_merge(again, back))
    still = _missing_ms(ctx, window, again)
    entry: dict[str, Any] = {
        "missing_ms": missing,
        "voiced_ms": round(voiced_ms),
        "again_missing_ms": still,
    }
    report["refilled"] = entry
    problems = ctx.problems(window, again)
    if any(p.kind != guard.NO_SPEECH for p in problems) or still > missing * C.REFILL_MAX_LEFT:
        entry["rejected"] = _text(again)[: C.ASR_REPORT_TEXT_CHARS]
        if problems:
            entry["problems"] = [f"{p.kind}: {p.detail}" for p in problems]
        return segments
    entry["kept"] = True
    # Text where the VAD heard no voice (it often misses singing) is kept and flagged, as the
    # guard flags it; nothing is cut.
    out = tuple(
        _flag(seg, guard.NO_SPEECH)
        if guard.unheard(seg, ctx.speech.mean_probability(seg.start_ms, seg.end_ms))
        else seg
        for seg in again
    )
    if any(seg.flags for seg in out):
        report["flagged"] = [guard.NO_SPEECH]
    return out


def _recovered(
    ctx: _Context, window: Span, segments: tuple[Segment, ...], report: dict[str, Any]
) -> tuple[Segment, ...]:
    spans = _word_spans(segments)
    out = list(segments)
    for gap in uncovered(ctx.speech, window, spans):
        lo = max(window[0], gap[0] - C.RECOVER_PAD_BEFORE_MS)
        hi = min(window[1], gap[1] + C.RECOVER_PAD_AFTER_MS)
        heard = _again(ctx, (lo, hi), ctx.user_hotwords)
        fresh = _outside(heard, spans, gap)
        entry: dict[str, Any] = {"start_ms": ctx.speech.to_original(gap[0])}
        entry["end_ms"] = ctx.speech.to_original(gap[1], end=True)
        merged = _merge(out, fresh)
        if not fresh:
            entry["text"] = ""
        elif ctx.problems((lo, hi), fresh) or len(guard.find_loops(_text(merged))) > len(
            guard.find_loops(_text(out))
        ):
            entry["rejected"] = _text(fresh)[: C.ASR_REPORT_TEXT_CHARS]
        else:
            entry["text"] = _text(fresh)
            out = merged
            spans += [(w.start_ms, w.end_ms) for s in fresh for w in s.words]
        report.setdefault("recovered", []).append(entry)
    return tuple(out)


def _merge(segments: Sequence[Segment], fresh: Sequence[Segment]) -> list[Segment]:
    """Recovered segments put in time order; a segment whose words surround one of them is
    split there, so the text stays in the order it was said."""
    out = list(segments)
    for new in fresh:
        split: list[Segment] = []
        for seg in out:
            before = tuple(w for w in seg.words if (w.start_ms + w.end_ms) // 2 < new.start_ms)
            after = seg.words[len(before) :]
            if before and after:
                split += [_with_words(seg, before), _with_words(seg, after)]
            else:
                split.append(seg)
        out = [*split, new]
    return sorted(out, key=lambda s: (s.start_ms, s.end_ms))


def _with_words(seg: Segment, words: Sequence[Word]) -> Segment:
    start = words[0].start_ms
    return dataclasses.replace(
        seg,
        text="".join(w.text for w in words).strip(),
        words=tuple(words),
        start_ms=start,
        end_ms=max(start, words[-1].end_ms),
    )


def _outside(segments: Sequence[Segment], taken: Sequence[Span], gap: Span) -> tuple[Segment, ...]:
    """The words of a recovery decode that lie in the gap (give or take UNCOVERED_NEAR_MS)
    and touch no word already recognised, from segments the decoder was sure of (average
    log-probability at least Whisper's own -1: babble and music give invented text far
    below that); as segments."""
    out = []
    for seg in segments:
        if seg.avg_logprob < C.ASR_LOGPROB_THRESHOLD:
            continue
        words = tuple(
            w
            for w in seg.words
            if w.start_ms >= gap[0] - C.UNCOVERED_NEAR_MS
            and w.end_ms <= gap[1] + C.UNCOVERED_NEAR_MS
            and not any(a < max(w.end_ms, w.start_ms + 1) and w.start_ms < b for a, b in taken)
        )
        text = "".join(w.text for w in words).strip()
        if words and guard.spoken_chars(text):
            out.append(
                dataclasses.replace(
                    seg, text=text, words=words, start_ms=words[0].start_ms, end_ms=words[-1].end_ms
                )
            )
    return tuple(out)


def _substituted(
    ctx: _Context, segments: tuple[Segment, ...], report: dict[str, Any]
) -> tuple[Segment, ...]:
    """Terms heard with exactly their syllables written in, segment by segment."""
    assert ctx.bias is not None
    out = []
    done = []
    for seg in segments:
        if seg.flags:
            out.append(seg)
            continue
        for cand in reversed([c for c in candidates(seg.text, ctx.bias) if c.substitutable]):
            seg = _replace(seg, cand)
            done.append(cand.to_dict())
        out.append(seg)
    if done:
        report["substituted"] = done
    return tuple(out)


def _replace(seg: Segment, cand: Candidate) -> Segment:
    """seg.text[start:end] becomes the canonical term; the words it spans become one word."""
    text = seg.text[: cand.start] + cand.zh + seg.text[cand.end :]
    if not seg.words:
        return dataclasses.replace(seg, text=text)
    # character offsets of each word inside seg.text (words may carry leading spaces)
    lead = len(seg.text) - len(seg.text.lstrip())
    joined = "".join(w.text for w in seg.words)
    shift = len(joined) - len(joined.lstrip()) - lead
    owner: list[int] = []
    for i, w in enumerate(seg.words):
        owner += [i] * len(w.text)
    owner = owner[shift:]
    if cand.end > len(owner):
        return dataclasses.replace(seg, text=text)
    first, last = owner[cand.start], owner[cand.end - 1]
    span = seg.words[first : last + 1]
    before = sum(len(w.text) for w in seg.words[:first]) - shift
    merged_text = "".join(w.text for w in span)
    merged_text = merged_text[: cand.start - before] + cand.zh + merged_text[cand.end - before :]
    merged = Word(merged_text, span[0].start_ms, span[-1].end_ms, min(w.probability for w in span))
    words = (*seg.words[:first], merged, *seg.words[last + 1 :])
    return dataclasses.replace(seg, text="".join(w.text for w in words).strip(), words=words)


def _to_original(speech: SpeechMap, seg: Segment) -> Segment:
    """Speech-timeline times mapped to the programme. Something that starts where it ends,
    at a join between chunks, stays with the chunk before (where the text before it was)."""

    def span(start: int, end: int) -> tuple[int, int]:
        first = speech.to_original(start, end=end <= start)
        return first, max(first, speech.to_original(end, end=True))

    words = tuple(
        dataclasses.replace(w, start_ms=a, end_ms=b)
        for w in seg.words
        for a, b in [span(w.start_ms, w.end_ms)]
    )
    start, end = span(seg.start_ms, seg.end_ms)
    if words:
        start, end = min(start, words[0].start_ms), max(end, words[-1].end_ms)
    return dataclasses.replace(seg, start_ms=start, end_ms=end, words=words)


def _summary(
    reports: Sequence[dict[str, Any]], segments: Sequence[Segment], ctx: _Context
) -> dict[str, Any]:
    flags: dict[str, int] = {}
    for seg in segments:
        for flag in seg.flags:
            flags[flag] = flags.get(flag, 0) + 1
    biased = [r["biasing"] for r in reports if "biasing" in r]
    recovered = [e for r in reports for e in r.get("recovered", ()) if e.get("text")]
    return {
        "windows": len(reports),
        "guard_redecoded": sum(1 for r in reports if "guard" in r),
        "flagged_segments": flags,
        "refills_decoded": sum(1 for r in reports if "refilled" in r),
        "refilled_windows": sum(1 for r in reports if r.get("refilled", {}).get("kept")),
        "biased_windows": len(biased),
        "biased_kept": sum(1 for b in biased if b["kept"]),
        "biased_confirmed_terms": sum(len(b.get("confirmed", ())) for b in biased),
        "substituted_terms": sum(len(r.get("substituted", ())) for r in reports),
        "recovered_stretches": len(recovered),
        "recovered_characters": sum(guard.spoken_chars(e["text"]) for e in recovered),
        "replacement_characters_removed": ctx.replacement_chars,
    }
