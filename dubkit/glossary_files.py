"""Glossary files on disk: loading with includes, checking, safe fixes and additions that
leave every other byte of the file as it was (comments, order, quoting, layout)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dubkit.errors import GlossaryError
from dubkit.fsutil import atomic_write_all
from dubkit.glossary import Glossary, Issue, TermSet, combine, lint, parse_glossary

Simplify = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class LoadedFile:
    path: Path
    text: str
    glossary: Glossary | None
    tree: Any
    issues: tuple[Issue, ...]


def read_file(path: Path) -> LoadedFile:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        issue = Issue(name, 1, 1, "error", "missing", "no such glossary file")
        return LoadedFile(path, "", None, None, (issue,))
    except (OSError, UnicodeDecodeError) as exc:
        issue = Issue(name, 1, 1, "error", "unreadable", f"cannot read ({exc}); save as UTF-8")
        return LoadedFile(path, "", None, None, (issue,))
    glossary, tree, issues = parse_glossary(text, name)
    return LoadedFile(path, text, glossary, tree, tuple(issues))


def read_with_includes(paths: Sequence[Path]) -> list[LoadedFile]:
    """The files and, depth first, the files they include (each once; cycles reported)."""
    loaded: dict[Path, LoadedFile] = {}
    out: list[LoadedFile] = []

    def visit(path: Path, chain: tuple[Path, ...]) -> None:
        key = path.resolve()
        if key in chain:
            loop = " → ".join(p.name for p in chain)
            issue = Issue(str(path), 1, 1, "error", "include-cycle", f"includes itself: {loop}")
            out.append(LoadedFile(path, "", None, None, (issue,)))
            return
        if key in loaded:
            return
        file = read_file(path)
        loaded[key] = file
        out.append(file)
        if file.glossary is not None:
            for rel in file.glossary.includes:
                visit((path.parent / rel), (*chain, key))

    for path in paths:
        visit(path, ())
    return out


def check_files(
    paths: Sequence[Path], to_simplified: Simplify | None = None
) -> tuple[list[LoadedFile], list[Issue]]:
    """Every problem in the files: YAML and schema errors, orthography, duplicates and
    conflicts across files."""
    files = read_with_includes(paths)
    issues: list[Issue] = []
    for file in files:
        issues += file.issues
        if file.glossary is not None:
            issues += lint(file.glossary, file.tree, to_simplified)
    glossaries = [f.glossary for f in files if f.glossary is not None]
    issues += combine(glossaries)[1]
    return files, sorted(set(issues), key=lambda i: (i.file, i.line, i.column, i.code))


def load_terms(paths: Sequence[Path], to_simplified: Simplify | None = None) -> TermSet:
    """The combined terms for translation; GlossaryError (first error, how many more, and
    the command that lists them) when any file has errors."""
    files, issues = check_files(paths, to_simplified)
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise GlossaryError(
            f"{errors[0]}{more}; run `dubkit glossary check {' '.join(map(str, paths))}`",
            path=errors[0].file,
        )
    return combine([f.glossary for f in files if f.glossary is not None])[0]


# ------------------------------------------------------------------------------------ fixes


def apply_fixes(file: LoadedFile, issues: Sequence[Issue]) -> int:
    """Apply the safe fixes of `issues` to the file's text in place, each at the line and
    column the parser reported; the rest of the file is untouched. Returns fixes applied."""
    lines = file.text.splitlines(keepends=True)
    done = 0
    for issue in issues:
        if issue.fix is None or issue.file != str(file.path):
            continue
        old, new = issue.fix
        row = issue.line - 1
        if not 0 <= row < len(lines):
            continue
        start = lines[row].find(old, max(0, issue.column - 1))
        if start < 0 or "\n" in old:
            continue  # written in a form we cannot rewrite safely (escapes, block scalar)
        lines[row] = lines[row][:start] + new + lines[row][start + len(old) :]
        done += 1
    if done:
        text = "".join(lines)
        _validate(text, file.path)
        atomic_write_all({file.path: text.encode("utf-8")})
    return done


def _validate(text: str, path: Path) -> None:
    glossary, _tree, issues = parse_glossary(text, str(path))
    if glossary is None:
        raise GlossaryError(
            f"{path}: the change would make the file invalid ({issues[0]}); nothing was written"
        )


# -------------------------------------------------------------------------------------- add

_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^#]*")
_KEYWORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"}


def _scalar(value: Any) -> str:
    """A YAML scalar: plain when it reads back as the same text, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if (
        _PLAIN.fullmatch(text)
        and text == text.strip()
        and ": " not in text
        and not text.endswith(":")
        and text.lower() not in _KEYWORDS
        and not re.fullmatch(r"[-+.0-9eE:_]+", text)
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


ENTRY_ORDER = (
    "zh", "variants", "misheard", "en", "ur", "short", "type", "do_not_translate",
    "forbidden", "note", "source", "approved",
)  # fmt: skip


def render_entry(entry: Mapping[str, Any], indent: int, offset: int) -> str:
    """One `- zh: ...` block, lists in flow style, keys in the documented order."""
    lines = []
    pad, inner = " " * offset, " " * (offset + indent)
    first = True
    for key in ENTRY_ORDER:
        if key not in entry or entry[key] in ("", [], None, False):
            continue
        value = entry[key]
        text = (
            "[" + ", ".join(_scalar(v) for v in value) + "]"
            if isinstance(value, list | tuple)
            else _scalar(value)
        )
        lines.append(f"{pad}- {key}: {text}" if first else f"{inner}{key}: {text}")
        first = False
    return "\n".join(lines) + "\n"


def add_entry(path: Path, entry: Mapping[str, Any]) -> None:
    """Append an entry to the file's `terms` list by inserting text: comments, order and
    layout of everything else stay byte for byte. Refuses a Chinese form already there."""
    file = read_file(path)
    if file.glossary is None:
        raise GlossaryError(f"{file.issues[0]}; fix the file first (`dubkit glossary check`)")
    taken = {form for t in file.glossary.terms for form in t.forms}
    forms = [entry["zh"], *entry.get("variants", []), *entry.get("misheard", [])]
    clash = [f for f in forms if f in taken]
    if clash:
        raise GlossaryError(f"{path}: {clash[0]!r} is already in this glossary; edit that entry")
    text = file.text if file.text.endswith("\n") or not file.text else file.text + "\n"
    tree = file.tree
    items = tree.get("terms") if isinstance(tree, Mapping) else None
    if items:  # a block list: copy the layout of the first entry
        line, col = items.lc.item(0)
        dash = text.splitlines()[line].index("-")
        block = render_entry(entry, col - dash, dash)
        keys = list(tree.keys())
        after = keys[keys.index("terms") + 1 :]
        if after:
            at = tree.lc.key(after[0])[0]
            lines = text.splitlines(keepends=True)
            while at > 0 and lines[at - 1].lstrip().startswith("#"):
                at -= 1  # keep the next key's comment with it
            text = "".join(lines[:at]) + block + "".join(lines[at:])
        else:
            text += block
    else:
        text = re.sub(r"(?m)^terms:\s*(\[\s*\])?\s*$\n?", "", text)
        text += "terms:\n" + render_entry(entry, 2, 2)
    _validate(text, path)
    atomic_write_all({path: text.encode("utf-8")})
