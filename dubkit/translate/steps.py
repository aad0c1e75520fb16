"""Cues through a translation route, with the memory in front of every step. Pure logic over
the Translator and Memory ports: no model, file or database is touched here."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from dubkit import constants as C
from dubkit.glossary.terms import PLACEHOLDER, Protected, Slot, TermSet, protect, restore
from dubkit.ports import Memory, Translator
from dubkit.records import Cue
from dubkit.text.lines import wrap_words
from dubkit.text.urdu import UrduStyle, has_urdu, mark_bidi, normalise_letters


@dataclass(frozen=True, slots=True)
class StepStats:
    """What one step (one package) did."""

    source: str
    target: str
    texts: int  # distinct texts sent to the step
    memory_hits: int
    translated: int  # texts the model translated
    seconds: float


@dataclass(frozen=True, slots=True)
class TranslationResult:
    """Per-step outputs for each input text, and what it cost."""

    outputs: tuple[tuple[str, ...], ...]  # outputs[step][i] for texts[i], terms restored
    approved: int  # texts served by an approved (human) translation
    steps: tuple[StepStats, ...] = field(default=())
    notes: tuple[tuple[str, ...], ...] = field(default=())  # notes[i]: term repairs in text i

    @property
    def final(self) -> tuple[str, ...]:
        return self.outputs[-1] if self.outputs else ()


def translate_texts(
    texts: Sequence[str],
    steps: Sequence[Translator],
    memory: Memory | None = None,
    terms: TermSet | None = None,
    pivots: Sequence[str | None] | None = None,
) -> TranslationResult:
    """Run `texts` through `steps` in order; each step is one batched call for the texts the
    memory does not already hold. Approved translations of the whole route win over the model.
    Order and count are preserved; empty texts stay empty.

    With `terms`, every glossary term becomes a placeholder before the first step and each
    step's output gets the approved rendering in that step's language; a placeholder the
    model lost is re-inserted and noted. The glossary's fingerprint joins each step's memory
    key, so an edited glossary never serves a stale line.

    `pivots[i]`, when given (the English burned into the picture with text i), is the first
    step's output for text i: that step is not asked for it, and its glossary terms are
    protected in it by their renderings in the first step's language (a term the pivot
    words otherwise is re-inserted, and noted, as a lost placeholder is).
    """
    if not steps:
        raise ValueError("a route needs at least one step")
    unique = [t for t in dict.fromkeys(texts) if t.strip()]
    source, target = steps[0].source, steps[-1].target
    approved = memory.approved(source, target, unique) if memory else {}
    guarded = {t: protect(t, terms) if terms else Protected(t, ()) for t in unique}
    suffix = f"|glossary:{terms.fingerprint}" if terms else ""
    values = {t: guarded[t].text for t in unique}  # what the next step reads
    per_step: list[dict[str, str]] = []
    notes: dict[str, list[str]] = {t: [] for t in unique}
    stats = []
    given: dict[str, str] = {}
    if pivots is not None and len(steps) > 1:
        for t, pivot in zip(texts, pivots, strict=True):
            if pivot and pivot.strip() and t in guarded:
                given.setdefault(t, pivot)
    for n, step in enumerate(steps):
        last = n == len(steps) - 1
        wanted = [t for t in unique if not (last and t in approved) and not (n == 0 and t in given)]
        inputs = list(dict.fromkeys(values[t] for t in wanted if values[t].strip()))
        started = time.perf_counter()
        key = step.key + suffix
        hits = memory.lookup(key, inputs) if memory else {}
        misses = [x for x in inputs if x not in hits]
        fresh = dict(zip(misses, step.translate(misses), strict=True)) if misses else {}
        if memory and fresh:
            memory.remember(key, fresh)
        done = {**hits, **fresh}
        shown = {}
        for t in unique:
            if last and t in approved:
                values[t] = shown[t] = approved[t]
                continue
            if n == 0 and t in given:
                values[t] = protect_rendered(given[t], guarded[t].slots, step.target)
            else:
                values[t] = done.get(values[t], "")
            fixed = restore(values[t], guarded[t].slots, step.target)
            shown[t] = fixed.text
            if last:
                notes[t] += [f"term-restored:{r}" for r in fixed.restored]
                notes[t] += [f"placeholder-removed:{r}" for r in fixed.removed]
                notes[t] += [f"forbidden-replaced:{r}" for r in fixed.forbidden]
        per_step.append(shown)
        stats.append(
            StepStats(
                step.source,
                step.target,
                len(inputs),
                len(hits),
                len(misses),
                time.perf_counter() - started,
            )
        )
    final = per_step[-1]
    if memory:
        memory.record(source, target, {t: final[t] for t in unique if t not in approved})
    outputs = tuple(tuple(step_values.get(t, "") for t in texts) for step_values in per_step)
    return TranslationResult(
        outputs,
        sum(1 for t in unique if t in approved),
        tuple(stats),
        tuple(tuple(notes.get(t, ())) for t in texts),
    )


def protect_rendered(text: str, slots: Sequence[Slot], language: str) -> str:
    """`text` (a translation given, not made) with each slot's term, written as its rendering
    in `language`, replaced by the slot's placeholder, as `protect` does in the source."""
    for slot in slots:
        rendering = slot.term.rendering(language)
        if not rendering:
            continue
        found = re.search(re.escape(rendering), text, flags=re.IGNORECASE)
        if found is not None:
            mark = f" {PLACEHOLDER.format(n=slot.n)} "
            text = text[: found.start()] + mark + text[found.end() :]
    return " ".join(text.split())


def translated_cues(
    cues: Sequence[Cue],
    texts: Sequence[str],
    language: str,
    style: UrduStyle | None = None,
    max_chars: int = C.UR_MAX_CHARS_PER_LINE,
    max_lines: int = C.UR_MAX_LINES,
) -> tuple[Cue, ...]:
    """The same cues with translated text: same count, order and timing. Urdu text is
    normalised (letters, punctuation, digits, bidi marks); lines are wrapped at spaces.
    Flags: 'untranslated' for a cue with source text but no output, 'long' when the text does
    not fit the lines."""
    out = []
    for cue, raw in zip(cues, texts, strict=True):
        urdu = language == "ur" and style is not None
        # Letters, digits and punctuation on the whole text (a clause can span the wrap),
        # then lines, then bidi marks line by line in the cue's direction.
        text = normalise_letters(raw, style.digits) if urdu and style else raw
        lines = wrap_words(text, max_chars, max_lines)
        flags = list(cue.flags)
        if not lines and cue.lines:
            flags.append("untranslated")
        if any(len(line) > max_chars for line in lines):
            flags.append("long")
        if urdu and style and style.bidi_marks:
            rtl = has_urdu(text)
            lines = tuple(mark_bidi(line, rtl=rtl) for line in lines)
        out.append(replace(cue, lines=lines, flags=tuple(dict.fromkeys(flags))))
    return tuple(out)
