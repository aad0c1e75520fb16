"""How recognition is scored, for the tests and bench/quality.py alike: character errors split
into substitutions, deletions and insertions (jiwer), loops, and glossary term recall."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_DROP = re.compile(r"[\s\W_]+", re.UNICODE)  # punctuation and spaces, nothing else
SCORED = {"gold", "gold-unchecked", "semigold"}  # silver is a model's output: never scored


@dataclass(frozen=True)
class Clip:
    folder: str
    file: str
    reference: str
    purpose: str  # speech, terms, singing, long (no reference)

    def path(self, assets: Path) -> Path:
        return assets / self.folder / self.file


def clips(assets: Path, folders: Iterable[str] = ("zh-speech", "zh-dev")) -> list[Clip]:
    """The scored clips of the shared assets, in file order."""
    out = []
    for folder in folders:
        with (assets / folder / "references.tsv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row["grade"] in SCORED:
                    purpose = row.get("purpose") or "speech"
                    out.append(Clip(folder, row["file"], row["reference_zh"], purpose))
    return out


@dataclass(frozen=True)
class Errors:
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    reference_chars: int = 0

    def __add__(self, other: Errors) -> Errors:
        return Errors(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.reference_chars + other.reference_chars,
        )

    @property
    def cer(self) -> float:
        total = self.substitutions + self.deletions + self.insertions
        return total / self.reference_chars if self.reference_chars else 0.0

    @property
    def correct(self) -> int:
        """Reference characters written as said: the speech kept. (Deletions alone reward
        invention: text made up where speech was dropped counts as substitutions.)"""
        return self.reference_chars - self.substitutions - self.deletions

    @property
    def deletion_rate(self) -> float:
        return self.deletions / self.reference_chars if self.reference_chars else 0.0

    @property
    def insertion_rate(self) -> float:
        return self.insertions / self.reference_chars if self.reference_chars else 0.0


def plain(text: str) -> str:
    return _DROP.sub("", text)


def char_errors(reference: str, hypothesis: str) -> Errors:
    """Character edit operations from reference to hypothesis, punctuation and spaces
    removed (the hypothesis should already be Simplified)."""
    import jiwer

    ref, hyp = plain(reference), plain(hypothesis)
    if not ref:
        return Errors(0, 0, len(hyp), 0)
    out = jiwer.process_characters(ref, hyp)
    return Errors(out.substitutions, out.deletions, out.insertions, len(ref))


def pooled(pairs: Iterable[tuple[str, str]]) -> Errors:
    total = Errors()
    for reference, hypothesis in pairs:
        total = total + char_errors(reference, hypothesis)
    return total


def loop_count(text: str) -> int:
    """Runs of a 1-8 character unit said 4 or more times in a row."""
    from dubkit.asr.guard import find_loops

    return len(find_loops(text))


def term_recall(reference: str, hypothesis: str, terms: Sequence[str]) -> tuple[int, int]:
    """(terms of the reference found in the hypothesis, terms in the reference)."""
    wanted = [t for t in terms if t in reference]
    return sum(1 for t in wanted if t in hypothesis), len(wanted)
