"""The command line: typer commands, each a few lines around one library call."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # `from dubkit.cli import app, main` without importing every command module when only
    # one submodule (dubkit.cli.console, ...) is wanted.
    if name in ("app", "main"):
        from dubkit.cli import root as module

        return getattr(module, name)
    raise AttributeError(name)
