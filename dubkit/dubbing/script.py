"""The dubbing script: one line per Urdu subtitle, as a studio dialogue list has it, with the
Chinese and English it renders, the glossary terms in it, and whether the Urdu fits its slot.

Pure: cues in, records out. dubkit.dubbing.files writes and reads the Excel, CSV and HTML."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from dubkit.glossary.terms import TermSet, find_terms
from dubkit.records import Cue
from dubkit.text.lines import join_lines
from dubkit.text.urdu import normalise_letters, strip_bidi

# Conversational Urdu runs at about 5 to 6 syllables a second (Hindi-Urdu speech-rate
# studies report ~5.5 for read news, more for conversation); dubbed lines must also stay
# intelligible, so 5.0 is the default budget. Belongs next to UR_MAX_CPS in constants.py.
UR_SYLLABLES_PER_SECOND = 5.0


@dataclass(frozen=True, slots=True)
class ScriptLine:
    """One line of the dubbing script: the Urdu to record between `start_ms` and `end_ms`."""

    number: int
    start_ms: int
    end_ms: int
    character: str = ""
    zh: str = ""
    en: str = ""
    ur: str = ""
    terms: tuple[str, ...] = ()  # approved Urdu renderings of the glossary terms in the zh
    notes: str = ""
    clip: str = ""  # the reference clip's file name (NNNN.wav)

    def __post_init__(self) -> None:
        if self.number < 1:
            raise ValueError(f"ScriptLine number must be 1 or more, got {self.number}")
        if not 0 <= self.start_ms <= self.end_ms:
            raise ValueError(
                f"ScriptLine needs 0 <= start_ms <= end_ms, got {self.start_ms}..{self.end_ms}"
            )

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


# ----------------------------------------------------------------------- speaking time

# The syllable model. Urdu script writes long vowels and diphthongs with letters (ا آ و ی ے)
# and leaves short vowels unwritten, so a word's syllables are estimated as:
#   - one per run of vowel letters (اور aur, ای in ایسا ai-saa); word-initial و and ی are the
#     consonants w and y, and so is a و or ی standing before another vowel letter
#     (آیا aa-yaa, لیے li-ye); a word-final ہ after a consonant is the vowel -a (منصوبہ);
#     hamza (ء ئ ؤ) separates two vowels (آئے aa-e), do-chashmi ھ is part of the consonant
#     before it, and short-vowel marks (zer, zabar, pesh) are ignored;
#   - plus the short vowels hidden in consonant runs: a run of k consonants hides k // 2 of
#     them at the start or end of a word (کتاب ki-taab, حکومت hu-koo-mat) and (k - 1) // 2
#     between two vowels (پاکستان paa-kis-taan);
#   - at least one per word.
# Latin words: runs of vowels (y included), a final silent e not counted; an all-capitals
# word without vowels is spelled out (PTV: 3). Numbers are read out as words: about 1.5
# syllables per digit (2025, do hazaar pachchees: 5; the model says 6). Chinese characters
# left in a line are one syllable each. Punctuation and pauses are not counted.
# Checked against hand counts in tests/test_dubscript.py; wrong by a syllable on some words
# (دوست dost counts 2, بہت ba-hut 1), right on average for running text.
_VOWEL_LETTERS = frozenset("اآوۏیےۓيى")
_GLIDES = frozenset("وۏیيى")  # consonants w, y where a vowel letter follows or the word starts
_FINAL_A = frozenset("ہۃە")
_SKIPPED = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed\u0640ھ]")  # marks, tatweel, ھ
_TOKEN = re.compile(
    r"(?P<digits>[0-9\u0660-\u0669\u06f0-\u06f9]+)"
    r"|(?P<latin>[A-Za-z\u00c0-\u024f]+)"
    r"|(?P<han>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])"
    r"|(?P<urdu>[\u0621-\u065f\u066e-\u06d3\u06d5-\u06ed\u06fa-\u06ff\u0750-\u077f]+)"
)
_LATIN_VOWELS = re.compile(r"[aeiouyàâäéèêëîïôöùûü]+", re.IGNORECASE)


def urdu_word_syllables(word: str) -> int:
    """Estimated syllables of one Urdu word (the model described above)."""
    letters = _SKIPPED.sub("", word)
    if not letters:
        return 0
    kinds: list[bool] = []  # True for a vowel letter
    for i, ch in enumerate(letters):
        vowel = ch in _VOWEL_LETTERS
        if vowel and ch in _GLIDES:
            after = letters[i + 1 : i + 2]
            if i == 0 or (after and after in _VOWEL_LETTERS and after not in _GLIDES):
                vowel = False
        if ch in _FINAL_A and i == len(letters) - 1 and i > 0 and not kinds[-1]:
            vowel = True
        kinds.append(vowel)
    runs: list[tuple[bool, int]] = []  # (vowel?, length)
    for vowel in kinds:
        if runs and runs[-1][0] == vowel:
            runs[-1] = (vowel, runs[-1][1] + 1)
        else:
            runs.append((vowel, 1))
    count = 0
    for n, (vowel, length) in enumerate(runs):
        if vowel:
            count += 1
        elif n in (0, len(runs) - 1):
            count += length // 2
        else:
            count += (length - 1) // 2
    return max(1, count)


def _latin_word_syllables(word: str) -> int:
    if word.isupper() and not _LATIN_VOWELS.search(word):
        return len(word)  # spelled out: PTV, CCTV
    groups = len(_LATIN_VOWELS.findall(word))
    if groups > 1 and word.lower().endswith("e") and not word.lower().endswith(("le", "ee")):
        groups -= 1
    return max(1, groups)


def count_syllables(text: str) -> int:
    """Estimated spoken syllables of an Urdu line (the model described above)."""
    total = 0
    for m in _TOKEN.finditer(normalise_letters(strip_bidi(text))):
        if m.group("digits"):
            total += math.ceil(1.5 * len(m.group("digits")))
        elif m.group("latin"):
            total += _latin_word_syllables(m.group("latin"))
        elif m.group("han"):
            total += 1
        else:
            total += urdu_word_syllables(m.group("urdu"))
    return total


def speaking_ms(ur_text: str, syllables_per_second: float = UR_SYLLABLES_PER_SECOND) -> int:
    """Estimated time to say `ur_text` at `syllables_per_second`, in whole milliseconds."""
    if syllables_per_second <= 0:
        raise ValueError(f"speaking rate must be positive, got {syllables_per_second}")
    return round(count_syllables(ur_text) * 1000 / syllables_per_second)


def overrun_percent(
    line: ScriptLine, syllables_per_second: float = UR_SYLLABLES_PER_SECOND
) -> float | None:
    """How much longer the Urdu takes to say than its slot, in percent of the slot (negative:
    time to spare). None for a slot of no time."""
    if line.duration_ms <= 0:
        return None
    spoken = speaking_ms(line.ur, syllables_per_second)
    return (spoken - line.duration_ms) * 100 / line.duration_ms


# ---------------------------------------------------------------------------- building


def build_script(
    ur_cues: Sequence[Cue],
    zh_cues: Sequence[Cue],
    en_cues: Sequence[Cue] | None,
    terms: TermSet | None,
    *,
    clips_dir_name: str | None = None,
    characters: Mapping[int, str] | None = None,
) -> list[ScriptLine]:
    """One line per Urdu cue (what is recorded), numbered from 1 in time order.

    Each Chinese cue goes to exactly one line, taken in order of their midpoints: the line
    whose time holds its midpoint, else the one it overlaps most, else the nearest (never
    an earlier line than the Chinese cue before it, nor a later one than the next). English
    pivot cues are placed the same way. Terms are the approved Urdu renderings of the
    glossary terms in the line's Chinese. `characters` maps line numbers to speakers where
    the turns are known. Urdu is kept without bidi marks: the sheet's cells are right to
    left, and import puts the marks back."""
    ordered = sorted(ur_cues, key=lambda c: (c.start_ms, c.end_ms, c.index))
    zh_of = _assign(ordered, zh_cues)
    en_of = _assign(ordered, en_cues or ())
    characters = characters or {}
    lines = []
    for n, cue in enumerate(ordered, start=1):
        zh = join_lines(join_lines(c.lines) for c in zh_of[n - 1])
        en = join_lines((join_lines(c.lines, "en") for c in en_of[n - 1]), "en")
        found = find_terms(zh, terms) if terms is not None and zh else []
        renderings = tuple(dict.fromkeys(m.term.rendering("ur") for m in found))
        clip = f"{n:04d}.wav"
        lines.append(
            ScriptLine(
                number=n,
                start_ms=cue.start_ms,
                end_ms=cue.end_ms,
                character=characters.get(n, ""),
                zh=zh,
                en=en,
                ur="\n".join(strip_bidi(line) for line in cue.lines),
                terms=renderings,
                clip=f"{clips_dir_name}/{clip}" if clips_dir_name else clip,
            )
        )
    return lines


def _assign(targets: Sequence[Cue], cues: Sequence[Cue]) -> list[list[Cue]]:
    """For each target (time-ordered, not overlapping), the cues placed on it: every cue
    once, in order of their midpoints, a line never before the previous cue's line."""
    placed: list[list[Cue]] = [[] for _ in targets]
    if not targets:
        return placed
    ordered = sorted(cues, key=lambda c: (c.start_ms + c.end_ms, c.start_ms, c.index))
    # First the cues whose midpoint lies in a target's time: those are certain.
    chosen: list[int | None] = [_holding_midpoint(targets, c) for c in ordered]
    # Then each other cue: the target it overlaps most (else the nearest), between the
    # targets of the cues around it so that the order is kept.
    low = 0
    for i, cue in enumerate(ordered):
        found = chosen[i]
        if found is None:
            high = next((t for t in chosen[i + 1 :] if t is not None), len(targets) - 1)
            found = _closest(targets, cue, low, max(low, high))
            chosen[i] = found
        low = max(low, found)
        placed[low].append(cue)
    return placed


def _holding_midpoint(targets: Sequence[Cue], cue: Cue) -> int | None:
    mid2 = cue.start_ms + cue.end_ms  # twice the midpoint: whole numbers
    for i, t in enumerate(targets):
        if 2 * t.start_ms <= mid2 < 2 * t.end_ms:
            return i
    return None


def _closest(targets: Sequence[Cue], cue: Cue, low: int, high: int) -> int:
    """Among targets low..high: the most overlap, else the nearest; ties to the earlier."""

    def key(i: int) -> tuple[int, int, int]:
        t = targets[i]
        overlap = min(t.end_ms, cue.end_ms) - max(t.start_ms, cue.start_ms)
        distance = max(t.start_ms - cue.end_ms, cue.start_ms - t.end_ms, 0)
        return (-max(overlap, 0), distance, i)

    return min(range(low, high + 1), key=key)


# ------------------------------------------------------------------------------ import


def ur_plain(text: str) -> str:
    """An Urdu cell as one line of text, for the translation memory and comparisons: bidi
    marks removed, line breaks and runs of spaces as one space."""
    return " ".join(strip_bidi(text).split())


def line_cues(lines: Sequence[ScriptLine], render: Callable[[str], str] | None = None) -> list[Cue]:
    """Subtitle cues for the lines that have Urdu, in time order, numbered from 1; each
    line of the cell a subtitle line (blank ones dropped). `render` (a str → str function,
    e.g. dubkit.text.urdu.normalise) is applied to the cell's text first."""
    cues: list[Cue] = []
    for line in sorted(lines, key=lambda s: (s.start_ms, s.end_ms, s.number)):
        text = render(line.ur) if render is not None else line.ur
        parts = tuple(p for p in text.split("\n") if strip_bidi(p).strip())
        if parts:
            cues.append(Cue(len(cues) + 1, line.start_ms, line.end_ms, parts))
    return cues


def match_existing(lines: Sequence[ScriptLine], existing: Sequence[Cue]) -> list[Cue | None]:
    """For each line, the existing subtitle it most likely came from: the cue it overlaps
    most in time (None when it overlaps none)."""
    found: list[Cue | None] = []
    for line in lines:
        best, most = None, 0
        for cue in existing:
            common = min(cue.end_ms, line.end_ms) - max(cue.start_ms, line.start_ms)
            same_span = (cue.start_ms, cue.end_ms) == (line.start_ms, line.end_ms)
            if common > most or (same_span and best is None):
                best, most = cue, common
        found.append(best)
    return found


def changed_lines(lines: Sequence[ScriptLine], existing: Sequence[Cue] | None) -> list[ScriptLine]:
    """The lines whose Urdu differs from the existing subtitle they came from (compared
    as ur_plain text with Urdu letters normalised); every line when there is none."""
    if existing is None:
        return list(lines)
    changed = []
    for line, cue in zip(lines, match_existing(lines, existing), strict=True):
        if cue is None or not _same_urdu(line.ur, cue.text):
            changed.append(line)
    return changed


def _same_urdu(a: str, b: str) -> bool:
    return ur_plain(normalise_letters(strip_bidi(a))) == ur_plain(normalise_letters(strip_bidi(b)))


def keep_existing_times(lines: Sequence[ScriptLine], existing: Sequence[Cue], fps: float,
                        drop_frame: bool | None = None) -> list[ScriptLine]:  # fmt: skip
    """Lines whose In and Out still name the frames of the subtitle they came from keep
    that subtitle's exact milliseconds (an SRT not on frame boundaries stays as it was)."""
    from dubkit.timecode import ms_to_smpte

    def same_frame(a: int, b: int) -> bool:
        try:
            return ms_to_smpte(a, fps, drop_frame) == ms_to_smpte(b, fps, drop_frame)
        except ValueError:  # past 24 hours: no timecode to compare
            return False

    kept = []
    for line, cue in zip(lines, match_existing(lines, existing), strict=True):
        if (
            cue is not None
            and same_frame(line.start_ms, cue.start_ms)
            and same_frame(line.end_ms, cue.end_ms)
        ):
            line = replace(line, start_ms=cue.start_ms, end_ms=cue.end_ms)
        kept.append(line)
    return kept
