"""One error tree: each error says what failed, where, and how to fix it, in one line."""

from __future__ import annotations

from pathlib import Path


class DubkitError(Exception):
    """Base of every error the CLI turns into a one-line message and exit code 1."""

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None

    def __str__(self) -> str:
        # Keep messages on one line whatever the library below us said.
        return " ".join(str(self.args[0]).split())


class ConfigError(DubkitError):
    """dubkit.toml, a profile or a command-line option is invalid."""


class MediaError(DubkitError):
    """A media file is missing, unreadable or has no usable audio."""


class ModelUnavailable(DubkitError):
    """A model is not installed, cannot be downloaded, or failed verification."""


class DeviceError(DubkitError):
    """The requested compute device cannot run (missing CUDA libraries, no GPU)."""


class OutputError(DubkitError):
    """An output folder or file cannot be written."""


class SubtitleParseError(DubkitError):
    """A subtitle file cannot be read."""


class TranslationMemoryError(DubkitError):
    """The translation memory file cannot be opened or written."""


class GlossaryError(DubkitError):
    """A glossary file cannot be read, is invalid, or an edit to it was refused."""
