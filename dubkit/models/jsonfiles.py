"""JSON that the model store reads from outside (package metadata, manifests, Argos's
settings, the package index): bounded in size, and never a RecursionError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dubkit import constants as C
from dubkit.fsutil import read_limited


def parse_json(data: bytes) -> Any:
    """The value `data` holds; ValueError when it is not UTF-8 JSON, nesting too deep for
    Python's parser included ('[' * 100000 exhausts the recursion limit)."""
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def read_json(path: Path) -> Any:
    """A small JSON file: OSError, or ValueError (fsutil.NotReadable for a FIFO, a device or
    a file over MAX_PACKAGE_JSON_BYTES, which is never read) when it cannot be used."""
    return parse_json(read_limited(path, C.MAX_PACKAGE_JSON_BYTES))


def reason(exc: ValueError) -> str:
    """Why JSON was refused, on one line and at most 200 characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"
