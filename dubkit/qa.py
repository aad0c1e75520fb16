"""Checks on finished subtitles, written as STEM.qa.json. Pure: returns data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dubkit.glossary import TermSet, check_output
from dubkit.records import Cue


def glossary_report(
    sources: Sequence[Cue],
    outputs: Sequence[Cue],
    source_texts: Sequence[str],
    terms: TermSet | None,
    language: str = "ur",
) -> dict[str, Any]:
    """Per cue, the glossary terms in the source and whether the approved rendering is in the
    output; the programme's adherence rate (None when no term occurs) and its misses."""
    cues = []
    total = found = 0
    misses = []
    for cue, out, text in zip(sources, outputs, source_texts, strict=True):
        checks = check_output(text, out.text, terms, language) if terms else []
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
                "terms": [{"zh": c.zh, "approved": c.approved, "found": c.found} for c in checks],
                "flags": list(out.flags),
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
        },
        "cues": cues,
    }
