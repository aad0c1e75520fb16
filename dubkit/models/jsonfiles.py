"""JSON that the model store reads from outside (package metadata, manifests, Argos's
settings, the package index): bounded in size, and never a RecursionError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dubkit import constants as C
from dubkit import fsutil


def read_json(path: Path) -> Any:
    """A small JSON file of the model store: fsutil.read_json at MAX_PACKAGE_JSON_BYTES."""
    return fsutil.read_json(path, C.MAX_PACKAGE_JSON_BYTES)


def reason(exc: ValueError) -> str:
    """Why JSON was refused, on one line and at most 200 characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"
