"""Glossary files on disk: loading with includes, checking, safe fixes and additions that
leave every other byte of the file as it was (comments, order, quoting, layout).

Glossaries also come from outside translators. Only regular files of at most
MAX_GLOSSARY_BYTES are read (a FIFO would hang, /dev/zero fill memory); an include must
stay inside the including glossary's folder, links resolved, or under a folder listed in
DUBKIT_GLOSSARY_ROOTS (separated by os.pathsep, e.g. /srv/glossaries:/home/me/shared).
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dubkit import constants as C
from dubkit.errors import GlossaryError, OutputError
from dubkit.fsutil import NotReadable, atomic_write_all, check_readable, display_path, read_limited
from dubkit.glossary.terms import (
    Glossary,
    Issue,
    TermSet,
    YamlLimit,
    combine,
    lint,
    parse_glossary,
    quoted,
    yaml_reader,
)

Simplify = Callable[[str], str]
ROOTS_VARIABLE = "DUBKIT_GLOSSARY_ROOTS"  # folders includes may reach besides their own


@dataclass(frozen=True, slots=True)
class LoadedFile:
    path: Path
    text: str
    glossary: Glossary | None
    tree: Any
    issues: tuple[Issue, ...]
    bom: bool = False

    @property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    def write(self, text: str) -> None:
        """Replace the file's text, keeping its byte-order mark."""
        _validate(text, self.path)
        atomic_write_all({self.path: (("\ufeff" if self.bom else "") + text).encode("utf-8")})


def _read_bytes(path: Path) -> bytes:
    """The glossary file's bytes: a regular file of at most MAX_GLOSSARY_BYTES."""
    return read_limited(path, C.MAX_GLOSSARY_BYTES)


def _refusal(exc: NotReadable) -> str:
    if exc.code == "not-a-file":
        return f"{exc.kind}, not a glossary file; name a .yaml file"
    return (
        f"{exc.size:,} bytes, too large for a glossary (at most {C.MAX_GLOSSARY_BYTES:,}); "
        f"split it into smaller files"
    )


def read_file(path: Path) -> LoadedFile:
    name = str(path)
    try:
        data = _read_bytes(path)
        text = data.decode("utf-8-sig")  # CRLF kept as it is
    except FileNotFoundError:
        issue = Issue(name, 1, 1, "error", "missing", "no such glossary file")
        return LoadedFile(path, "", None, None, (issue,))
    except NotReadable as exc:
        issue = Issue(name, 1, 1, "error", exc.code, f"the file is {_refusal(exc)}")
        return LoadedFile(path, "", None, None, (issue,))
    except OSError as exc:
        issue = Issue(name, 1, 1, "error", "unreadable", f"cannot read ({exc.strerror or exc})")
        return LoadedFile(path, "", None, None, (issue,))
    except UnicodeDecodeError as exc:
        issue = Issue(name, 1, 1, "error", "unreadable", f"cannot read ({exc}); save as UTF-8")
        return LoadedFile(path, "", None, None, (issue,))
    glossary, tree, issues = parse_glossary(text, name)
    return LoadedFile(path, text, glossary, tree, tuple(issues), data.startswith(codecs.BOM_UTF8))


def allowed_roots() -> tuple[Path, ...]:
    """The folders named in DUBKIT_GLOSSARY_ROOTS, links resolved: includes may reach
    files under them as well as under the including glossary's own folder."""
    named = os.environ.get(ROOTS_VARIABLE, "").split(os.pathsep)
    roots = [_resolved(Path(p.strip()).expanduser()) for p in named if p.strip()]
    return tuple(root for root in roots if root is not None)


def _include_problem(target: Path, written: str, roots: Sequence[Path]) -> tuple[str, str] | None:
    """Why an include cannot be read, as (code, message); None when it can. Where it leads
    is checked first, so nothing outside the allowed folders is opened or even probed."""
    shown = quoted(written)
    real = _resolved(target)
    if real is None:
        return "include-missing", f"includes {shown}, which does not exist (a loop of links)"
    if not any(real.is_relative_to(root) for root in roots):
        return "include-outside", (
            f"includes {shown}, which is outside this glossary's folder; copy it into the "
            f"folder or add its folder to {ROOTS_VARIABLE}"
        )
    try:
        check_readable(os.stat(real), C.MAX_GLOSSARY_BYTES)
    except FileNotFoundError:
        return "include-missing", f"includes {shown}, which does not exist"
    except NotReadable as exc:
        return f"include-{exc.code}", f"includes {shown}, which is {_refusal(exc)}"
    except OSError as exc:
        return "include-unreadable", f"includes {shown}, which cannot be read ({exc.strerror})"
    return None


def _resolved(path: Path) -> Path | None:
    """`path` with every link resolved; None for a loop of links."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # a loop; a NUL or lone surrogate in the name
        return None


def read_with_includes(paths: Sequence[Path]) -> list[LoadedFile]:
    """The files and, depth first, the files they include (each once; cycles reported).
    An include that leads outside the including file's folder and DUBKIT_GLOSSARY_ROOTS, or
    to anything but a regular file of at most MAX_GLOSSARY_BYTES, is an error at its line
    in the including file, and is not read."""
    roots = allowed_roots()
    loaded: set[Path] = set()
    out: list[LoadedFile] = []

    def refuse(at: int, n: int, code: str, message: str) -> None:
        origin = out[at]
        line, col = _item_position(origin.tree, "includes", n)
        issue = Issue(str(origin.path), line, col, "error", code, message)
        out[at] = dataclasses.replace(origin, issues=(*origin.issues, issue))

    def visit(path: Path, chain: tuple[Path, ...]) -> None:
        key = _resolved(path) or path.absolute()  # a loop of links: read_file says so
        if key in chain:
            loop = " → ".join(p.name for p in chain)
            issue = Issue(str(path), 1, 1, "error", "include-cycle", f"includes itself: {loop}")
            out.append(LoadedFile(path, "", None, None, (issue,)))
            return
        if key in loaded:
            return
        file = read_file(path)
        loaded.add(key)
        out.append(file)
        at = len(out) - 1
        for n, written in enumerate(file.glossary.includes if file.glossary else ()):
            target = path.parent / written
            problem = _include_problem(target, written, (path.parent.resolve(), *roots))
            if problem is None:
                visit(target, (*chain, key))
            else:
                refuse(at, n, *problem)

    for path in paths:
        visit(path, ())
    return out


def _item_position(tree: Any, key: str, n: int) -> tuple[int, int]:
    try:
        line, col = tree[key].lc.item(n)
        return int(line) + 1, int(col) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 1, 1


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
        first = errors[0]
        raise GlossaryError(
            f"{first.file}:{first.line}:{first.column}: {first.message}{more}; run "
            f"`dubkit glossary check {' '.join(map(str, paths))}`",
            path=first.file,
        )
    return combine([f.glossary for f in files if f.glossary is not None])[0]


EXPORT_SUFFIXES = (".csv", ".tbx")


def export_terms(terms: TermSet, path: Path, *, bom: bool = True) -> int:
    """Write the terms to `path`, as its suffix says: CSV for spreadsheets (with a UTF-8 BOM
    unless `bom` is False: Excel reads UTF-8 only after one) or TBX-Basic for CAT tools;
    written whole or not at all. The number of terms written; OutputError for a name that
    is neither."""
    from dubkit.glossary.exchange import render_csv, render_tbx

    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise OutputError(
            f"{display_path(path)}: choose a .csv or .tbx file name (CSV for spreadsheets, "
            f"TBX for CAT tools)",
            path=path,
        )
    listed = list(terms.terms)
    if suffix == ".tbx":
        data = render_tbx(listed, terms.label)
    else:
        data = (("\ufeff" if bom else "") + render_csv(listed)).encode("utf-8")
    atomic_write_all({path: data})
    return len(listed)


# ------------------------------------------------------------------------------------ fixes


def apply_fixes(file: LoadedFile, issues: Sequence[Issue]) -> int:
    """Apply the safe fixes of `issues` to the file's text in place, each at the line and
    column the parser reported; the rest of the file is untouched. Several fixes of one value
    compose (old → new → newer). Returns the fixes applied."""
    chains: dict[tuple[int, int], dict[str, str]] = {}
    for issue in issues:
        if issue.fix is not None and issue.file == str(file.path):
            chains.setdefault((issue.line, issue.column), {})[issue.fix[0]] = issue.fix[1]
    lines = file.text.splitlines(keepends=True)
    done = 0
    for (line, column), steps in chains.items():
        roots = [old for old in steps if old not in steps.values()]
        if len(roots) != 1:
            continue
        old = new = roots[0]
        count = 0
        while new in steps and count <= len(steps):
            new, count = steps[new], count + 1
        row = line - 1
        if not 0 <= row < len(lines) or "\n" in old:
            continue
        start = lines[row].find(old, max(0, column - 1))
        if start < 0:
            continue  # written in a form we cannot rewrite safely (escapes, block scalar)
        lines[row] = lines[row][:start] + new + lines[row][start + len(old) :]
        done += count
    if done:
        file.write("".join(lines))
    return done


def _validate(text: str, path: Path) -> None:
    glossary, _tree, issues = parse_glossary(text, str(path))
    if glossary is None:
        raise GlossaryError(
            f"{path}: the change would make the file invalid ({issues[0]}); nothing was written"
        )


# -------------------------------------------------------------------------------------- add


def _scalar(value: Any, flow: bool = False) -> str:
    """A YAML scalar: plain when any YAML reader gives back the same text (and, inside a
    [flow, list], it has no comma or bracket), else double-quoted (JSON strings are YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text and "\n" not in text and not (flow and re.search(r"[,\[\]{}]", text)):
        from ruamel.yaml.error import YAMLError

        try:
            back = yaml_reader("safe").load(f"k: {text}\n")
        except (YAMLError, YamlLimit):  # an alias or deep nesting: quote it
            back = None
        if back == {"k": text} and text == text.strip() and not text.startswith(("'", '"')):
            return text
    return json.dumps(text, ensure_ascii=False)


ENTRY_ORDER = (
    "zh", "variants", "misheard", "en", "ur", "short", "type", "do_not_translate",
    "forbidden", "note", "source", "approved",
)  # fmt: skip


def render_entry(entry: Mapping[str, Any], indent: int, offset: int, newline: str = "\n") -> str:
    """One `- zh: ...` block, lists in flow style, keys in the documented order; `offset`
    spaces before the dash, the keys `indent` columns right of it."""
    lines = []
    pad, inner = " " * offset, " " * (offset + indent)
    first = True
    for key in ENTRY_ORDER:
        if key not in entry or entry[key] in ("", [], None, False):
            continue
        value = entry[key]
        text = (
            "[" + ", ".join(_scalar(v, flow=True) for v in value) + "]"
            if isinstance(value, list | tuple)
            else _scalar(value)
        )
        lines.append(
            f"{pad}-{' ' * max(1, indent - 1)}{key}: {text}" if first else f"{inner}{key}: {text}"
        )
        first = False
    return newline.join(lines) + newline


def add_entry(path: Path, entry: Mapping[str, Any], to_simplified: Simplify | None = None) -> None:
    """Append an entry to the file's `terms` list by inserting text: comments, order and
    layout of everything else stay byte for byte. Refused (nothing written): a Chinese form
    already there, or an entry that `check` would report as an error."""
    file = read_file(path)
    if file.glossary is None:
        raise GlossaryError(f"{file.issues[0]}; fix the file first (`dubkit glossary check`)")
    taken = {form for t in file.glossary.terms for form in t.forms}
    forms = [entry["zh"], *entry.get("variants", []), *entry.get("misheard", [])]
    clash = [f for f in forms if f in taken]
    if clash:
        raise GlossaryError(
            f"{path}: {quoted(clash[0])} is already in this glossary; edit that entry"
        )
    nl = file.newline
    text = file.text if file.text.endswith(("\n", "\r")) or not file.text else file.text + nl
    tree = file.tree
    items = tree.get("terms") if isinstance(tree, Mapping) else None
    if items and getattr(items, "fa", None) is not None and items.fa.flow_style():
        raise GlossaryError(
            f"{path}: its terms are written as a [flow, list] on one line; rewrite them as a "
            f"block list (one '- zh:' per entry, see glossaries/README.md) and add again"
        )
    if items:  # a block list: copy the layout of the first entry
        line, col = items.lc.item(0)
        row = text.splitlines()[line]
        dash = row.rindex("-", 0, col)
        block = render_entry(entry, col - dash, dash, nl)
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
        empty = re.compile(r"(?m)^terms:[ \t]*(\[[ \t]*\])?[ \t]*(#[^\r\n]*)?$")
        block = "terms:" + nl + render_entry(entry, 2, 2, nl)
        if empty.search(text):
            text = empty.sub(lambda m: block.rstrip("\r\n"), text, count=1)
        else:
            text += block
    new_errors = _new_errors(file, text, to_simplified)
    if new_errors:
        first = new_errors[0]
        raise GlossaryError(
            f"{path}: not added, {first.message} [{first.code}]; nothing was written"
        )
    file.write(text)


def _new_errors(file: LoadedFile, text: str, to_simplified: Simplify | None) -> list[Issue]:
    """Errors `check` would report in `text` that the file does not have already."""

    def errors(source: str) -> set[tuple[str, str]]:
        glossary, tree, issues = parse_glossary(source, str(file.path))
        if glossary is not None:
            issues += lint(glossary, tree, to_simplified) + combine([glossary])[1]
        return {(i.code, i.message) for i in issues if i.severity == "error"}

    before = errors(file.text)
    glossary, tree, issues = parse_glossary(text, str(file.path))
    if glossary is not None:
        issues += lint(glossary, tree, to_simplified) + combine([glossary])[1]
    return [i for i in issues if i.severity == "error" and (i.code, i.message) not in before]
