"""The review page's draft: the Urdu cues as the operator is editing them, checked against the
profile and the glossary as `dubkit qa` checks them, and the edits the page offers (split,
merge, an in or out time moved by frames). Pure: records in, records and JSON-ready data out.

The page holds the draft and sends it whole; every rule (characters, reading speed, frames,
glossary adherence, Urdu normalisation) is applied here, by the library's own functions, so
the page never has a second copy of one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dubkit import constants as C
from dubkit.dubbing.script import build_script
from dubkit.errors import DubkitError
from dubkit.glossary.terms import TermSet, check_output
from dubkit.profiles import Profile
from dubkit.qa.adherence import glossary_report, recognition_flags
from dubkit.qa.rules import qa_report
from dubkit.records import Cue
from dubkit.text.lines import join_lines, wrap_words
from dubkit.text.reading import visible
from dubkit.text.urdu import UrduStyle, normalise, strip_bidi
from dubkit.timecode import clock, frame_to_ms, ms_to_frame_floor, snap_ms

EDGES = ("start", "end")


class DraftError(DubkitError):
    """An edit or a draft the page sent cannot be applied; the message says what to do."""


@dataclass(frozen=True, slots=True)
class DraftCue:
    """One cue of the page's draft. `key` names the cue of the Urdu SRT it was loaded as
    ("c5": the fifth), "" for a cue the page made (a split or a merge); `ur` is its Urdu
    without bidi marks, a line per subtitle line; `approved`: the operator approved it, so its
    Chinese → Urdu pair goes into the translation memory on save, edited or not."""

    key: str
    start_ms: int
    end_ms: int
    ur: str
    approved: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.start_ms <= self.end_ms:
            raise ValueError(f"DraftCue needs 0 <= start_ms <= end_ms, got {self}")


@dataclass(frozen=True, slots=True)
class Basis:
    """What a draft is checked and written against: the Urdu cues as loaded (by key), the
    programme's Chinese (with the recogniser's flags) and English pivot, the glossary, the
    profile at the programme's frame rate, and the Urdu style the translation was made with."""

    loaded: Mapping[str, Cue]
    zh: tuple[Cue, ...]
    en: tuple[Cue, ...] | None
    terms: TermSet | None
    profile: Profile
    style: UrduStyle
    name: str = "ur.srt"


def key_of(cue: Cue) -> str:
    return f"c{cue.index}"


def shown_urdu(cue: Cue) -> str:
    """A cue's Urdu as the page edits it: its lines without bidi marks (save puts them back)."""
    return "\n".join(strip_bidi(line) for line in cue.lines)


def draft_of(cues: Sequence[Cue]) -> list[DraftCue]:
    return [DraftCue(key_of(c), c.start_ms, c.end_ms, shown_urdu(c)) for c in cues]


def loaded_cue(cue: DraftCue, basis: Basis) -> Cue | None:
    """The cue as loaded when the draft still has its Urdu (times may have moved)."""
    found = basis.loaded.get(cue.key)
    return found if found is not None and shown_urdu(found) == cue.ur else None


def edited(cue: DraftCue, basis: Basis) -> bool:
    """Whether the operator changed the cue's Urdu (a split or merged cue always counts)."""
    return loaded_cue(cue, basis) is None


def materialise(draft: Sequence[DraftCue], basis: Basis) -> list[Cue]:
    """The draft as subtitle cues, numbered in draft order. A cue whose Urdu is as loaded keeps
    its lines byte for byte (and its flags while its times are the same); an edited one is
    normalised as translation writes Urdu (letters, punctuation, digits, bidi marks) and
    carries the recogniser's flags of the Chinese under it."""
    cues = []
    for n, d in enumerate(draft, start=1):
        old = loaded_cue(d, basis)
        if old is not None:
            same_time = (old.start_ms, old.end_ms) == (d.start_ms, d.end_ms)
            flags = old.flags if same_time else recognition_flags(old.flags)
            cues.append(Cue(n, d.start_ms, d.end_ms, old.lines, flags))
            continue
        text = normalise(d.ur, basis.style)
        lines = tuple(p for p in text.split("\n") if strip_bidi(p).strip())
        cues.append(Cue(n, d.start_ms, d.end_ms, lines, _heard(d.start_ms, d.end_ms, basis.zh)))
    return cues


def _heard(start_ms: int, end_ms: int, zh: Sequence[Cue]) -> tuple[str, ...]:
    """The recogniser's flags on the Chinese cues that overlap a span."""
    found = [f for c in zh if c.start_ms < end_ms and start_ms < c.end_ms for f in c.flags]
    return recognition_flags(tuple(dict.fromkeys(found)))


# ------------------------------------------------------------------------------- checks


def check_draft(draft: Sequence[DraftCue], basis: Basis) -> dict[str, Any]:
    """Each cue of the draft (in draft order) with its times as clocks, the Chinese and English
    under it, the glossary terms of that Chinese and whether their approved Urdu is there,
    characters per line, reading speed and every QA flag; and the programme's summary."""
    cues = materialise(draft, basis)
    order = sorted(range(len(cues)), key=lambda i: (cues[i].start_ms, cues[i].end_ms, i))
    ordered = [replace(cues[i], index=k + 1) for k, i in enumerate(order)]
    lines = build_script(ordered, basis.zh, basis.en, basis.terms)
    sources = [
        Cue(c.index, c.start_ms, c.end_ms, (line.zh,), _heard(c.start_ms, c.end_ms, basis.zh))
        for c, line in zip(ordered, lines, strict=True)
    ]
    glossary = None
    if basis.terms is not None:
        texts = [line.zh for line in lines]
        glossary = glossary_report(sources, ordered, texts, basis.terms, "ur")
    heard = [replace(c, flags=s.flags) for c, s in zip(ordered, sources, strict=True)]
    report = qa_report(basis.name, heard, basis.profile, glossary)
    out: list[dict[str, Any]] = [{} for _ in draft]
    for k, i in enumerate(order):
        d, line, checked = draft[i], lines[k], report["cues"][k]
        terms = (
            check_output(line.zh, ordered[k].text, basis.terms, "ur")
            if basis.terms is not None and line.zh
            else []
        )
        out[i] = {
            **wire(d),
            "in": clock(d.start_ms),
            "out": clock(d.end_ms),
            "zh": line.zh,
            "en": line.en,
            "terms": [{"zh": t.zh, "approved": t.approved, "found": t.found} for t in terms],
            "chars": checked["chars"],
            "cps": checked["cps"],
            "line_chars": [len(visible(x)) for x in ordered[k].lines],
            "flags": checked["flags"],
            "edited": edited(d, basis),
        }
    return {"cues": out, "summary": report["summary"]}


def wire(cue: DraftCue) -> dict[str, Any]:
    """A draft cue as the page sends it back."""
    return {
        "key": cue.key,
        "start_ms": cue.start_ms,
        "end_ms": cue.end_ms,
        "ur": cue.ur,
        "approved": cue.approved,
    }


def check_order(draft: Sequence[DraftCue]) -> None:
    """DraftError naming the first cue that does not end after it starts, or that starts
    before the one above it ends: subtitles are written in time order without overlaps, as
    `run` writes them."""
    for n, cue in enumerate(draft, start=1):
        if cue.end_ms <= cue.start_ms:
            raise DraftError(
                f"cue {n} ends at {clock(cue.end_ms)}, not after it starts at "
                f"{clock(cue.start_ms)}; move its out time later or merge it away, then save"
            )
    for n in range(1, len(draft)):
        a, b = draft[n - 1], draft[n]
        if b.start_ms < a.end_ms:
            raise DraftError(
                f"cue {n + 1} starts at {clock(b.start_ms)}, before cue {n} ends at "
                f"{clock(a.end_ms)}; move its in time or cue {n}'s out time, then save"
            )


# -------------------------------------------------------------------------------- edits


def _at(draft: Sequence[DraftCue], index: int) -> DraftCue:
    if not 0 <= index < len(draft):
        raise DraftError(f"no cue {index + 1}: the draft has {len(draft)}; reload the page")
    return draft[index]


def nudge(
    draft: Sequence[DraftCue], index: int, edge: str, frames: int, fps: float
) -> list[DraftCue]:
    """Cue `index`'s in (edge "start") or out ("end") time moved by whole frames at `fps`: to
    the frame boundary `frames` away (a time between boundaries counts from the one it is
    past, or the next one), never before 0, past the other edge or after the longest
    programme ASS can hold."""
    if edge not in EDGES:
        raise DraftError(f"edge {edge!r}: choose start or end")
    cue = _at(draft, index)
    ms = cue.start_ms if edge == "start" else cue.end_ms
    frame = ms_to_frame_floor(ms, fps)
    if frames < 0 and frame_to_ms(frame, fps) != ms:
        frame += 1  # between boundaries: one frame back is the boundary it is past
    moved = frame_to_ms(max(0, frame + frames), fps)
    low, high = (0, cue.end_ms) if edge == "start" else (cue.start_ms, C.MAX_PROGRAMME_MS)
    moved = min(max(moved, low), high)
    changed = replace(cue, start_ms=moved) if edge == "start" else replace(cue, end_ms=moved)
    return [*draft[:index], changed, *draft[index + 1 :]]


def split(
    draft: Sequence[DraftCue],
    index: int,
    profile: Profile,
    at_char: int | None = None,
    at_ms: int | None = None,
) -> list[DraftCue]:
    """Cue `index` as two: the Urdu before character `at_char` (default: the space nearest the
    middle) and after it; the time at `at_ms` when it falls inside the cue (the play head),
    else shared in proportion to the text, on a frame boundary, with the profile's gap of
    frames before the second."""
    cue = _at(draft, index)
    text = cue.ur
    if at_char is None or not 0 < at_char < len(text):
        spaces = [i for i, ch in enumerate(text) if ch.isspace()]
        at_char = min(spaces, key=lambda i: abs(i - len(text) / 2)) if spaces else 0
    first, second = _tidy(text[:at_char]), _tidy(text[at_char:])
    if not first or not second:
        raise DraftError(
            f"cue {index + 1}: nothing to split there; put the cursor between two words of its Urdu"
        )
    fps = profile.fps
    if at_ms is None or not cue.start_ms < at_ms < cue.end_ms:
        share = len(first) / (len(first) + len(second))
        at_ms = cue.start_ms + round((cue.end_ms - cue.start_ms) * share)
    cut = snap_ms(at_ms, fps)
    after = frame_to_ms(ms_to_frame_floor(cut, fps) + profile.min_gap_frames, fps)
    if not cue.start_ms < cut < after < cue.end_ms:  # the play head too near an edge
        share = len(first) / (len(first) + len(second))
        cut = snap_ms(cue.start_ms + round((cue.end_ms - cue.start_ms) * share), fps)
        after = frame_to_ms(ms_to_frame_floor(cut, fps) + profile.min_gap_frames, fps)
    if not cue.start_ms < cut < after < cue.end_ms:
        raise DraftError(
            f"cue {index + 1} is too short to split ({cue.end_ms - cue.start_ms} ms at "
            f"{fps:g} fps with a gap of {profile.min_gap_frames} frames); lengthen it first"
        )
    pieces = [DraftCue("", cue.start_ms, cut, first), DraftCue("", after, cue.end_ms, second)]
    return [*draft[:index], *pieces, *draft[index + 1 :]]


def merge(draft: Sequence[DraftCue], index: int, profile: Profile) -> list[DraftCue]:
    """Cue `index` and the next as one, from the first's in time to the second's out time, the
    Urdu of both laid out again in the profile's balanced lines."""
    a, b = _at(draft, index), _at(draft, index + 1) if index + 1 < len(draft) else None
    if b is None:
        raise DraftError(f"cue {index + 1} is the last; merge it with the cue before instead")
    text = join_lines([*a.ur.split("\n"), *b.ur.split("\n")], "ur")
    lines = wrap_words(text, profile.max_chars_per_line, profile.max_lines)
    merged = DraftCue("", min(a.start_ms, b.start_ms), max(a.end_ms, b.end_ms), "\n".join(lines))
    return [*draft[:index], merged, *draft[index + 2 :]]


def _tidy(text: str) -> str:
    """Text as cue lines: each line's spaces collapsed, blank lines dropped."""
    return "\n".join(" ".join(ln.split()) for ln in text.split("\n") if ln.strip())
