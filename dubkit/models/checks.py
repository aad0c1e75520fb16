"""What the model store asks of the heavy libraries, given to it by its callers.

Before it installs anything the store checks that CTranslate2 loads the model and SentencePiece
the tokenizer, and it downloads Whisper through faster-whisper's own function. Those libraries
are imported in `dubkit.adapters` only (an import contract), and `dubkit.models` sits below the
adapters, so the entry points that install take the calls as a required `checks` argument:
`dubkit.adapters.modelfiles.MODEL_FILES` is the real one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class LoadChecks(Protocol):
    """Loading checks, each raising ModelUnavailable with the fix, and the Whisper download."""

    def whisper_loads(self, folder: Path) -> None:
        """ModelUnavailable unless CTranslate2 loads `folder` (files present) as Whisper."""

    def translator_loads(self, model_dir: Path, origin: Path | str) -> None:
        """ModelUnavailable unless CTranslate2 loads `model_dir` as a translation model;
        `origin` (the archive) names the package in the message."""

    def tokenizer_loads(self, path: Path, origin: Path | str) -> None:
        """ModelUnavailable unless the package's tokenizer at `path` can be used."""

    def download_whisper(self, repo: str, output_dir: Path, revision: str) -> None:
        """Download the CTranslate2 Whisper model `repo` at `revision` from the Hugging Face
        Hub into `output_dir`."""
