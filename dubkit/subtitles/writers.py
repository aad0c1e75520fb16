"""Render cues and transcripts to text. Pure: returns strings, never opens files."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from dubkit.escape import render_json
from dubkit.records import Cue, Transcript


def render_srt(cues: Sequence[Cue]) -> str:
    """SubRip text (UTF-8 without BOM, LF line ends); an empty cue list gives an empty file."""
    import pysrt  # light, but only writers need it

    subs = pysrt.SubRipFile(
        items=[
            pysrt.SubRipItem(
                index=cue.index,
                start=pysrt.SubRipTime(milliseconds=cue.start_ms),
                end=pysrt.SubRipTime(milliseconds=cue.end_ms),
                text=cue.text,
            )
            for cue in cues
        ]
    )
    buffer = io.StringIO()
    subs.write_into(buffer, eol="\n")
    return buffer.getvalue()


def transcript_to_dict(transcript: Transcript) -> dict[str, Any]:
    """The recognition result as plain JSON-ready data, times in milliseconds."""
    return {
        "language": transcript.language,
        "language_probability": round(transcript.language_probability, 4),
        "detected_language": transcript.detected_language,
        "detected_language_probability": (
            None
            if transcript.detected_probability is None
            else round(transcript.detected_probability, 4)
        ),
        "duration_ms": transcript.duration_ms,
        "segments": [
            {
                "start_ms": s.start_ms,
                "end_ms": s.end_ms,
                "text": s.text,
                "avg_logprob": round(s.avg_logprob, 4),
                "no_speech_prob": round(s.no_speech_prob, 4),
                "flags": list(s.flags),
                "words": [
                    {
                        "text": w.text,
                        "start_ms": w.start_ms,
                        "end_ms": w.end_ms,
                        "probability": round(w.probability, 4),
                    }
                    for w in s.words
                ],
            }
            for s in transcript.segments
        ],
        "recognition": transcript.report,
    }


def render_asr_json(transcript: Transcript, meta: Mapping[str, Any]) -> str:
    """STEM.asr.json: run metadata (model, options, version) plus the transcript."""
    return render_json({**meta, **transcript_to_dict(transcript)})
