"""The README's and docs' examples are real: every `dubkit ...` line in their bash blocks
parses against the command line as it is (commands, sub-commands, option names, choices and
value types), so the documentation cannot drift from the tool. The README's worked episode is
also run, command by command, in tests/test_readme_episode.py."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from dubkit.cli import app

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "glossaries" / "README.md",
]
SHELL = {">", ">>", "2>", "|", "&&", ";"}  # what follows is the shell's, not dubkit's


def _examples() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.strip()
                if line.startswith(("dubkit ", ".venv/bin/dubkit ")):
                    found.append((f"{page.relative_to(ROOT)}: {line}", line))
    # and the README's examples written in its prose (the docs' prose holds synopses with
    # placeholders, checked in their bash blocks)
    for span in prose_examples((ROOT / "README.md").read_text(encoding="utf-8")):
        found.append((f"README.md (prose): {span}", span))
    return found


def prose_examples(text: str) -> list[str]:
    """The `dubkit ...` commands `text` writes in its prose, outside its code blocks: spans
    that name a file or folder (a span naming only a command is a mention), in order."""
    prose = " ".join(re.sub(r"```.*?```", "", text, flags=re.S).split())
    return [
        span
        for span in re.findall(r"`(dubkit [^`]+)`", prose)
        if any("/" in word or "." in word for word in span.split()[1:])
    ]


EXAMPLES = _examples()


def test_the_pages_have_examples() -> None:
    pages = {label.split(":")[0] for label, _ in EXAMPLES}
    assert {"README.md", "docs/commands.md"} <= pages
    assert len(EXAMPLES) >= 40


@pytest.mark.parametrize("line", [line for _, line in EXAMPLES], ids=[k for k, _ in EXAMPLES])
def test_example_parses(line: str) -> None:
    words = shlex.split(line, comments=True)[1:]  # without the program name
    words = words[: next((i for i, w in enumerate(words) if w in SHELL), len(words))]
    command: Any = typer.main.get_command(app)
    ctx = command.make_context("dubkit", words)
    # down the groups as the command line goes, parsing each level's options for real
    while hasattr(command, "resolve_command"):
        rest = [*ctx._protected_args, *ctx.args]
        assert rest, f"{line}: no command"
        name, command, rest = command.resolve_command(ctx, rest)
        ctx = command.make_context(name or "", list(rest), parent=ctx)
