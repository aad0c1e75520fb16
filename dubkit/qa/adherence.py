"""Checks on finished subtitles, written as STEM.qa.json. Pure: returns data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dubkit import constants as C
from dubkit.asr.guard import FLAGS as GUARD_FLAGS
from dubkit.glossary.terms import TermSet, check_output
from dubkit.records import Cue

# The flags transcription puts on a Chinese cue that QA carries to the Urdu made from it: the
# recogniser's guard's (asr-repetition, asr-no-speech, ...) and the fusion's (a burned
# subtitle with no speech under it).
RECOGNITION_FLAGS = (*GUARD_FLAGS, C.NO_SPEECH_UNDER_SUBTITLE)


def recognition_flags(flags: Sequence[str]) -> tuple[str, ...]:
    """The flags transcription put on a cue that QA reports (RECOGNITION_FLAGS)."""
    return tuple(f for f in flags if f in RECOGNITION_FLAGS)


def unverified_reason(flags: Sequence[str]) -> str | None:
    """Why a source cue's terms cannot count as spoken: the recogniser's guard flagged its
    text (a subtitle with no speech under it was written by people: its terms count)."""
    return ", ".join(f for f in flags if f in GUARD_FLAGS) or None


def glossary_report(
    sources: Sequence[Cue],
    outputs: Sequence[Cue],
    source_texts: Sequence[str],
    terms: TermSet | None,
    language: str = "ur",
) -> dict[str, Any]:
    """Per cue, the glossary terms in the source and whether the approved rendering is in the
    output; the programme's adherence rate (None when no term occurs) and its misses.

    A term counts only where it was spoken: in a source cue the recogniser flagged (a loop,
    text where there was no speech) it is listed as unverified and left out of the rate,
    rendered or not, so a hallucinated term can never raise adherence.
    """
    cues = []
    total = found = 0
    misses = []
    unverified = []
    for cue, out, text in zip(sources, outputs, source_texts, strict=True):
        checks = check_output(text, out.text, terms, language) if terms else []
        reason = unverified_reason(cue.flags)
        if reason is not None:
            unverified += [{"cue": cue.index, "zh": c.zh, "why": reason} for c in checks]
        else:
            total += len(checks)
            found += sum(c.found for c in checks)
            for c in checks:
                if not c.found:
                    misses.append({"cue": cue.index, "zh": c.zh, "approved": c.approved})
        cues.append(
            {
                "index": cue.index,
                "start_ms": cue.start_ms,
                "end_ms": cue.end_ms,
                "source": text,
                "output": out.text,
                "terms": [
                    {"zh": c.zh, "approved": c.approved, "found": c.found, "counted": not reason}
                    for c in checks
                ],
                "flags": list(
                    dict.fromkeys((*out.flags, *(f for f in cue.flags if f in RECOGNITION_FLAGS)))
                ),
            }
        )
    return {
        "glossaries": [
            {"name": g.name, "version": g.version, "scope": g.scope, "file": g.file}
            for g in (terms.glossaries if terms else ())
        ],
        "adherence": {
            "terms": total,
            "found": found,
            "rate": round(found / total, 4) if total else None,
            "misses": misses,
            "unverified": unverified,
        },
        "cues": cues,
    }
