"""Glossaries: terms read from YAML with their positions, checked, combined, matched in
Chinese text, protected through machine translation and verified in the output.

Pure: functions take text and return records; reading and writing files is glossary_files.py.
Glossaries also come from outside translators: YAML anchors and aliases are refused (they
expand exponentially), nesting is bounded, and messages quote content only as short excerpts.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dubkit import constants as C
from dubkit.escape import one_line
from dubkit.glossary.fastyaml import read_tree
from dubkit.records import Transcript, Word
from dubkit.text.urdu import LOOKALIKES, has_urdu, normalise_letters, strip_bidi

SCOPES = ("global", "series", "episode")  # narrowest last: it wins
TYPES = ("person", "organisation", "place", "programme", "term")
PLACEHOLDER = "ZQ{n}"  # Latin letters and digits: MT copies them; rare in real text
_PLACEHOLDER_FOUND = re.compile(r"[Zz]\s?[Qq]\s?([0-9۰-۹]{1,3})")


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding of `glossary check`: where, how bad, what, and whether --fix mends it."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    severity: str  # "error" or "warning"
    code: str
    message: str
    fix: tuple[str, str] | None = None  # (old scalar text, new scalar text)

    def __str__(self) -> str:
        """One line, control characters escaped (file names and values come from outside)."""
        where = f"{one_line(self.file)}:{self.line}:{self.column}"
        return f"{where}: {self.severity}: {one_line(self.message)} [{self.code}]"


@dataclass(frozen=True, slots=True)
class Term:
    """One approved term."""

    zh: str
    ur: str
    en: str = ""
    variants: tuple[str, ...] = ()  # other correct Chinese forms
    misheard: tuple[str, ...] = ()  # ASR mis-hearings: normalised, never used as hotwords
    short: str = ""
    type: str = "term"
    do_not_translate: bool = False
    forbidden: tuple[str, ...] = ()
    note: str = ""
    source: str = ""
    approved: str = ""
    glossary: str = ""
    scope: str = "global"
    file: str = ""
    line: int = 0
    where: tuple[tuple[str, int, int], ...] = field(default=(), compare=False)  # form, line, col

    def position_of(self, form: str) -> tuple[int, int]:
        """Line and column of one of this term's Chinese forms in its file."""
        return next(((ln, col) for f, ln, col in self.where if f == form), (self.line, 1))

    @property
    def forms(self) -> tuple[str, ...]:
        """Every Chinese spelling that means this term (canonical first)."""
        return tuple(dict.fromkeys((self.zh, *self.variants, *self.misheard)))

    def rendering(self, language: str) -> str:
        """The approved text in `language`: the source form itself when not translated."""
        if self.do_not_translate or language == "zh":
            return self.zh
        return self.ur if language == "ur" else self.en or self.zh


@dataclass(frozen=True, slots=True)
class Glossary:
    name: str
    version: str
    scope: str
    terms: tuple[Term, ...]
    includes: tuple[str, ...] = ()
    file: str = ""
    digest: str = ""  # content hash: part of the translation-memory key


# ------------------------------------------------------------------------------- messages


def quoted(value: str) -> str:
    """`value` quoted for a message: escaped as a Python literal and cut after
    GLOSSARY_EXCERPT_CHARS, so a long line (a secret in a file included by mistake) is never
    echoed whole."""
    cut = value[: C.GLOSSARY_EXCERPT_CHARS]
    return repr(cut) + ("…" if len(value) > len(cut) else "")


def excerpt(text: str, limit: int = C.GLOSSARY_EXCERPT_CHARS) -> str:
    """`text` unquoted for a message: control characters escaped, cut after `limit`."""
    return one_line(text[:limit]) + ("…" if len(text) > limit else "")


def _parser_says(text: str) -> str:
    """The YAML parser's words: the content it quotes cut to excerpts, the whole bounded."""
    text = " ".join(str(text).split())
    text = re.sub(r"'([^']*)'|\"([^\"]*)\"", lambda m: quoted(m[1] or m[2] or ""), text)
    return excerpt(text, 3 * C.GLOSSARY_EXCERPT_CHARS)


# ---------------------------------------------------------------------------------- parsing


@functools.cache  # (built once: 17 ms a glossary parse otherwise)
def _schema() -> Any:
    from pydantic import BaseModel, ConfigDict, Field, field_validator

    class _Strict(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

    class TermModel(_Strict):
        zh: str = Field(min_length=1)
        ur: str = ""
        en: str = ""
        variants: list[str] = Field(default_factory=list)
        misheard: list[str] = Field(default_factory=list)
        short: str = ""
        type: str = "term"
        do_not_translate: bool = False
        forbidden: list[str] = Field(default_factory=list)
        note: str = ""
        source: str = ""
        approved: str = ""

        @field_validator("type")
        @classmethod
        def _type(cls, value: str) -> str:
            if value not in TYPES:
                raise ValueError(f"type must be one of {', '.join(TYPES)}")
            return value

        @field_validator("approved")
        @classmethod
        def _date(cls, value: str) -> str:
            import datetime

            real = bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                real = False
            if value and not real:
                raise ValueError(
                    f"approved must be a real date written YYYY-MM-DD, not {quoted(value)}"
                )
            return value

    class GlossaryModel(_Strict):
        name: str = Field(min_length=1)
        version: str = Field(min_length=1)

        @field_validator("version", mode="before")
        @classmethod
        def _version(cls, value: Any) -> Any:
            if isinstance(value, bool | float):
                raise ValueError(f'write the version in quotes, e.g. version: "{value}"')
            return str(value) if isinstance(value, int) else value

        scope: str = "global"
        description: str = ""
        includes: list[str] = Field(default_factory=list)
        terms: list[TermModel] = Field(default_factory=list)

        @field_validator("scope")
        @classmethod
        def _scope(cls, value: str) -> str:
            if value not in SCOPES:
                raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
            return value

    return GlossaryModel


class YamlLimit(Exception):
    """YAML a glossary may not use: an anchor or alias, or nesting too deep."""

    def __init__(self, code: str, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.code, self.message, self.line, self.column = code, message, line, column


@functools.cache
def _limited_composer() -> Any:
    """ruamel's composer, refusing anchors and aliases (nothing shipped uses them; nine
    levels of nine aliases expand to 387 million values) and nesting deeper than
    GLOSSARY_MAX_DEPTH (composing recurses: 10,000 '[' exhaust Python's stack)."""
    from ruamel.yaml.composer import Composer

    class Limited(Composer):
        def __init__(self, loader: Any = None) -> None:
            super().__init__(loader)
            self.level = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.parser.peek_event()
            mark = event.start_mark
            if getattr(event, "anchor", None) is not None:
                kind = "alias *" if type(event).__name__ == "AliasEvent" else "anchor &"
                raise YamlLimit(
                    "yaml-alias",
                    f"{kind}{excerpt(str(event.anchor))}: glossaries do not use YAML anchors "
                    f"or aliases (&name, *name, <<: *name); write each value out in full",
                    mark.line + 1, mark.column + 1,
                )  # fmt: skip
            if self.level >= C.GLOSSARY_MAX_DEPTH:
                raise YamlLimit(
                    "yaml-depth",
                    f"nested more than {C.GLOSSARY_MAX_DEPTH} levels deep, where a glossary "
                    f"needs 5 (file, terms, entry, field, list item); look for an unclosed [ or {{",
                    mark.line + 1, mark.column + 1,
                )  # fmt: skip
            self.level += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.level -= 1

    return Limited


def yaml_reader(typ: str = "rt") -> Any:
    """A ruamel YAML with the glossary limits (no anchors or aliases, bounded nesting; a
    breach raises YamlLimit). Round trip ("rt") keeps dates as text: an impossible date is
    then a schema message with its position, not a crash in the parser."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import RoundTripConstructor

    yaml = YAML(typ=typ, pure=True)
    yaml.Composer = _limited_composer()
    if typ == "rt":

        class TextDates(RoundTripConstructor):
            pass

        TextDates.add_constructor("tag:yaml.org,2002:timestamp", TextDates.construct_yaml_str)
        yaml.Constructor = TextDates
        yaml.allow_duplicate_keys = False
    return yaml


def _plain(node: Any) -> Any:
    """ruamel's round-trip nodes as plain data; dates stay text (YYYY-MM-DD)."""
    import datetime

    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, datetime.date):
        return node.isoformat()
    if node is None or isinstance(node, bool | int | float):
        return node
    return str(node)


_UNWRITABLE = re.compile("[\x00\ud800-\udfff]")


def _unwritable(node: Any, loc: list[Any]) -> list[Any] | None:
    """Where the first key or value holding a NUL or a lone surrogate (YAML's "\\ud800"
    escape makes one) is: such text cannot be written to a CSV, a TMX or a terminal."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if _UNWRITABLE.search(key):
                return [*loc, key]
            found = _unwritable(value, [*loc, key])
            if found is not None:
                return found
    elif isinstance(node, list):
        for n, value in enumerate(node):
            found = _unwritable(value, [*loc, n])
            if found is not None:
                return found
    elif isinstance(node, str) and _UNWRITABLE.search(node):
        return loc
    return None


def _position(tree: Any, loc: Sequence[Any]) -> tuple[int, int]:
    """1-based line and column of the node at `loc` in a ruamel tree: a scalar's value, a
    collection's key or item; the nearest parent's when the node is missing."""
    lc = getattr(tree, "lc", None)
    line, col = (lc.line, lc.col) if lc is not None else (0, 0)
    node = tree
    for key in loc:
        lc = getattr(node, "lc", None)
        if isinstance(node, Mapping) and key in node:
            child = node[key]
            if lc is not None:
                scalar = not isinstance(child, Mapping | list)
                line, col = lc.value(key) if scalar else lc.key(key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            child = node[key]
            if lc is not None:
                line, col = lc.item(key)
        else:
            break
        node = child
    return line + 1, col + 1


def _say(err: Any) -> str:
    """pydantic's message in a maintainer's words."""
    kind, msg = err["type"], str(err["msg"])
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be a set of fields (zh:, ur:, ...), not a single value"
    if kind == "extra_forbidden":
        return "unknown field; see glossaries/README.md for the field names"
    if kind == "missing":
        return "required field is missing"
    return msg.removeprefix("Value error, ")


def parse_glossary(text: str, file: str) -> tuple[Glossary | None, Any, list[Issue]]:
    """Read one glossary: the record, the round-trip tree (for positions and fixes), and
    every YAML or schema error as an Issue with the parser's line and column."""
    from pydantic import ValidationError
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    tree = read_tree(text)  # libyaml, or None where only ruamel may answer (fastyaml.py)
    try:
        if tree is None:
            tree = yaml_reader().load(text)
    except YamlLimit as exc:
        return None, None, [Issue(file, exc.line, exc.column, "error", exc.code, exc.message)]
    except MarkedYAMLError as exc:
        return None, None, [_yaml_issue(exc, file)]
    except YAMLError as exc:
        issue = Issue(file, 1, 1, "error", "yaml", f"invalid YAML: {_parser_says(str(exc))}")
        return None, None, [issue]
    except (NotImplementedError, AssertionError):  # ruamel's comment handling, not the YAML
        return None, None, [
            Issue(file, 1, 1, "error", "yaml", "the YAML reader could not place a comment in "
                  "this file; move each comment between a key and its value, or on a | or > "
                  "line, onto a line of its own above the key")
        ]  # fmt: skip
    if not isinstance(tree, Mapping):
        return None, tree, [
            Issue(file, 1, 1, "error", "schema", "a glossary is a mapping with name, version "
                  "and terms (see glossaries/README.md)")
        ]  # fmt: skip
    plain = _plain(tree)
    bad = _unwritable(plain, [])
    if bad is not None:
        line, col = _position(tree, bad)
        where = ".".join(excerpt(str(p)) for p in bad)
        return None, tree, [
            Issue(file, line, col, "error", "text", f"{where}: holds a NUL or a lone surrogate "
                  f"(\\u0000, \\ud800-\\udfff), which no text file can carry; remove it")
        ]  # fmt: skip
    try:
        model = _schema().model_validate(plain)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function"))]
            line, col = _position(tree, loc)
            where = ".".join(excerpt(str(p)) for p in loc)
            issues.append(Issue(file, line, col, "error", "schema", f"{where}: {_say(err)}"))
        return None, tree, issues
    terms = []
    for i, t in enumerate(model.terms):
        line = _position(tree, ["terms", i])[0]
        places = [(t.zh, *_position(tree, ["terms", i, "zh"]))]
        for key in ("variants", "misheard"):
            places += [
                (f, *_position(tree, ["terms", i, key, n])) for n, f in enumerate(getattr(t, key))
            ]
        terms.append(
            Term(
                zh=t.zh, ur=t.ur, en=t.en, variants=tuple(t.variants), misheard=tuple(t.misheard),
                short=t.short, type=t.type, do_not_translate=t.do_not_translate,
                forbidden=tuple(t.forbidden), note=t.note, source=t.source, approved=t.approved,
                glossary=model.name, scope=model.scope, file=file, line=line,
                where=tuple(places),
            )
        )  # fmt: skip
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    glossary = Glossary(
        model.name, model.version, model.scope, tuple(terms), tuple(model.includes), file, digest
    )
    return glossary, tree, _entry_errors(glossary, tree)


def _yaml_issue(exc: Any, file: str) -> Issue:
    """The parser's complaint at its position, quoting the file only in excerpts."""
    from ruamel.yaml.constructor import DuplicateKeyError

    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    twice = re.match(r'found duplicate key "(.*?)" with value', str(exc.problem), re.S)
    if isinstance(exc, DuplicateKeyError) and twice:
        what = f"the key {quoted(twice[1])} appears twice in one mapping; keep one"
        return Issue(file, line, col, "error", "yaml", what)
    what = _parser_says(exc.problem or exc.context or "invalid YAML")
    if exc.problem and exc.context and exc.context_mark:
        start = exc.context_mark
        what += f" ({_parser_says(exc.context)} that starts at {start.line + 1}:{start.column + 1})"
    return Issue(file, line, col, "error", "yaml", f"invalid YAML: {what}")


def _entry_errors(glossary: Glossary, tree: Any) -> list[Issue]:
    issues = []
    for i, term in enumerate(glossary.terms):
        if not term.do_not_translate and not term.ur.strip():
            line, col = _position(tree, ["terms", i])
            issues.append(
                Issue(glossary.file, line, col, "error", "missing-ur",
                      f"term {quoted(term.zh)} has no ur rendering (or set do_not_translate: true)")
            )  # fmt: skip
    return issues


# ------------------------------------------------------------------------------------ lint

_ZW = "\u200c\u200d"  # ZWNJ, ZWJ
_ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
_ARABIC_LETTER = re.compile(r"[\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff]")


def lint(glossary: Glossary, tree: Any, to_simplified: Any = None) -> list[Issue]:
    """Orthography checks on every Urdu and Chinese value, with safe fixes where one exists.

    `to_simplified` converts Traditional to Simplified Chinese (OpenCC); None skips that check.
    """
    issues: list[Issue] = []
    for i, term in enumerate(glossary.terms):
        for key in ("ur", "short"):
            value = getattr(term, key)
            if value:
                issues += _lint_urdu(glossary.file, tree, ["terms", i, key], value, term)
        for n, value in enumerate(term.forbidden):
            issues += _lint_spaces(glossary.file, tree, ["terms", i, "forbidden", n], value)
        for key, values in (("zh", [term.zh]), ("variants", term.variants)):
            for n, value in enumerate(values):
                loc: list[Any] = ["terms", i, key] if key == "zh" else ["terms", i, key, n]
                issues += _lint_spaces(glossary.file, tree, loc, value)
                spaced = " ".join(value.split())  # the Traditional fix follows the spaces fix
                if to_simplified is not None:
                    simple = to_simplified(spaced)
                    if simple != spaced:
                        line, col = _position(tree, loc)
                        issues.append(
                            Issue(glossary.file, line, col, "error", "traditional",
                                  f"{quoted(value)} has Traditional characters; "
                                  f"Simplified: {quoted(simple)}",
                                  (spaced, simple))
                        )  # fmt: skip
    return issues


def _lint_spaces(file: str, tree: Any, loc: list[Any], value: str) -> list[Issue]:
    fixed = " ".join(value.split())
    if fixed == value:
        return []
    line, col = _position(tree, loc)
    return [
        Issue(file, line, col, "warning", "spaces",
              f"{quoted(value)} has doubled or edge spaces", (value, fixed))
    ]  # fmt: skip


def _lint_urdu(file: str, tree: Any, loc: list[Any], value: str, term: Term) -> list[Issue]:
    line, col = _position(tree, loc)
    issues = []
    fixed = value
    found = sorted({c for c in value if c in LOOKALIKES})
    if found:
        names = ", ".join(f"{c} U+{ord(c):04X} → {LOOKALIKES[c]}" for c in found)
        fixed = fixed.translate(str.maketrans(LOOKALIKES))
        issues.append(
            Issue(file, line, col, "error", "lookalike",
                  f"{quoted(value)}: Arabic letters where Urdu ones belong ({names})",
                  (value, fixed))
        )  # fmt: skip
    if any(c in _ARABIC_INDIC for c in value):
        digits = fixed.translate(str.maketrans(_ARABIC_INDIC, "۰۱۲۳۴۵۶۷۸۹"))
        issues.append(
            Issue(file, line, col, "warning", "digits",
                  f"{quoted(value)}: Arabic-Indic digits (٠-٩); Urdu writes ۰-۹ or 0-9",
                  (fixed, digits))
        )  # fmt: skip
        fixed = digits
    if re.search(r"[A-Za-z]", value) and not term.do_not_translate:
        issues.append(
            Issue(file, line, col, "warning", "latin",
                  f"{quoted(value)}: Latin letters in an Urdu rendering (set do_not_translate: "
                  f"true if the term is kept as it is)")
        )  # fmt: skip
    if " ".join(value.split()) != value:
        spaced = " ".join(fixed.split())
        issues.append(
            Issue(file, line, col, "warning", "spaces",
                  f"{quoted(value)} has doubled or edge spaces", (fixed, spaced))
        )  # fmt: skip
        fixed = spaced
    if any(c in _ZW for c in value):
        bad = [
            i for i, c in enumerate(fixed) if c in _ZW and not (
                0 < i < len(fixed) - 1
                and _ARABIC_LETTER.match(fixed[i - 1]) and _ARABIC_LETTER.match(fixed[i + 1])
            )
        ]  # fmt: skip
        if bad:
            kept = "".join(c for i, c in enumerate(fixed) if i not in bad)
            issues.append(
                Issue(file, line, col, "warning", "zero-width",
                      f"{quoted(value)}: zero-width joiner or non-joiner not between two "
                      f"Urdu letters",
                      (fixed, kept))
            )  # fmt: skip
    return issues


# -------------------------------------------------------------------------------- combining


@dataclass(frozen=True, slots=True)
class TermSet:
    """Several glossaries combined: one term per Chinese form, the narrowest scope winning."""

    terms: tuple[Term, ...]
    by_form: Mapping[str, Term]
    glossaries: tuple[Glossary, ...] = field(default=())

    @property
    def fingerprint(self) -> str:
        """Names, versions and content of every glossary: part of the memory key."""
        doc = [(g.name, g.version, g.digest) for g in self.glossaries]
        return hashlib.sha256(json.dumps(doc).encode()).hexdigest()[:16]

    @property
    def recognition_fingerprint(self) -> str:
        """What recognition takes from the glossaries (every Chinese form and its canonical
        term): editing an Urdu rendering or a note leaves it, and the transcript, unchanged."""
        doc = sorted(
            (kind, form, t.zh)
            for t in self.terms
            for kind, forms in (("zh", (t.zh,)), ("variant", t.variants), ("misheard", t.misheard))
            for form in forms
        )
        return hashlib.sha256(json.dumps(doc, ensure_ascii=False).encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        return ", ".join(f"{g.name} {g.version}" for g in self.glossaries)


def _difference(term: Term, prior: Term) -> tuple[str, object, object]:
    """The first field two entries disagree on: (name, this entry's, the other's)."""
    for key in ("ur", "en", "do_not_translate"):
        mine, theirs = getattr(term, key), getattr(prior, key)
        if mine != theirs:
            return key, mine, theirs
    return "ur", term.ur, prior.ur


def _shown(value: object) -> str:
    return quoted(value) if isinstance(value, str) else repr(value)


def combine(glossaries: Sequence[Glossary]) -> tuple[TermSet, list[Issue]]:
    """One TermSet; duplicates within a scope are errors when they disagree, warnings when
    they repeat; a narrower scope overriding a wider one is reported as a warning."""
    issues: list[Issue] = []
    chosen: dict[str, Term] = {}
    for term in sorted(
        (t for g in glossaries for t in g.terms), key=lambda t: SCOPES.index(t.scope)
    ):
        for form in term.forms:
            prior = chosen.get(form)
            if prior is None:
                chosen[form] = term
                continue
            same = (prior.ur, prior.en, prior.do_not_translate) == (
                term.ur, term.en, term.do_not_translate,
            )  # fmt: skip
            line, col = term.position_of(form)
            where = f"{prior.file}:{prior.position_of(form)[0]}"
            if prior.scope == term.scope:
                if same:
                    issues.append(
                        Issue(term.file, line, col, "warning", "duplicate",
                              f"{quoted(form)} is already defined at {where}")
                    )  # fmt: skip
                else:
                    key, mine, theirs = _difference(term, prior)
                    issues.append(
                        Issue(term.file, line, col, "error", "conflict",
                              f"{quoted(form)} has {key} {_shown(mine)} here but "
                              f"{_shown(theirs)} at {where} (same scope: {term.scope}); "
                              f"make them agree")
                    )  # fmt: skip
                continue
            if not same:
                key, mine, theirs = _difference(term, prior)
                issues.append(
                    Issue(term.file, line, col, "warning", "override",
                          f"{quoted(form)}: this {term.scope} glossary's {key} {_shown(mine)} "
                          f"overrides {_shown(theirs)} from the {prior.scope} glossary at {where}")
                )  # fmt: skip
            chosen[form] = term
    terms = tuple(dict.fromkeys(chosen.values()))
    return TermSet(terms, chosen, tuple(glossaries)), issues


# -------------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    form: str
    term: Term


def find_terms(text: str, terms: TermSet) -> list[Match]:
    """Leftmost-longest, non-overlapping occurrences of every Chinese form in `text`."""
    if not terms.by_form:
        return []
    by_first: dict[str, list[str]] = {}
    for form in sorted(terms.by_form, key=len, reverse=True):
        by_first.setdefault(form[0], []).append(form)
    found = []
    i = 0
    while i < len(text):
        for form in by_first.get(text[i], ()):
            if text.startswith(form, i):
                found.append(Match(i, i + len(form), form, terms.by_form[form]))
                i += len(form)
                break
        else:
            i += 1
    return found


def canonical_text(text: str, terms: TermSet) -> tuple[str, list[Match]]:
    """Variants and mis-hearings replaced by the canonical Chinese form."""
    matches = [m for m in find_terms(text, terms) if m.form != m.term.zh]
    for m in reversed(matches):
        text = text[: m.start] + m.term.zh + text[m.end :]
    return text, matches


# ------------------------------------------------------------------- protect and restore


@dataclass(frozen=True, slots=True)
class Slot:
    """One protected term in one text: its placeholder number and where it sat."""

    n: int
    term: Term
    position: float  # where the term started, as a fraction of the source text


@dataclass(frozen=True, slots=True)
class Protected:
    text: str
    slots: tuple[Slot, ...]


def protect(text: str, terms: TermSet) -> Protected:
    """Each glossary term becomes a placeholder (ZQ1, ZQ2, ...) that MT copies through."""
    matches = find_terms(text, terms)
    if not matches:
        return Protected(text, ())
    out, slots, last = [], [], 0
    for n, m in enumerate(matches, start=1):
        before = text[last : m.start]
        out.append(before)
        # spaces keep the placeholder a separate token for the tokenizer
        out.append(f" {PLACEHOLDER.format(n=n)} ")
        slots.append(Slot(n, m.term, m.start / max(1, len(text))))
        last = m.end
    out.append(text[last:])
    return Protected(" ".join("".join(out).split()), tuple(slots))


@dataclass(frozen=True, slots=True)
class Restored:
    text: str
    restored: tuple[str, ...] = ()  # renderings re-inserted because the model lost them
    removed: tuple[str, ...] = ()  # duplicated or unknown placeholders removed
    forbidden: tuple[str, ...] = ()  # forbidden renderings found (and replaced)


def restore(output: str, slots: Sequence[Slot], language: str) -> Restored:
    """Placeholders back to approved renderings. A lost one is re-inserted where its term sat
    in the source (by proportion), a duplicated or unknown one removed: never dropped
    silently, every repair reported."""
    by_n = {s.n: s for s in slots}
    seen: set[int] = set()
    removed: list[str] = []

    def put(m: re.Match[str]) -> str:
        n = int(m.group(1).translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))
        if n not in by_n or n in seen:
            removed.append(m.group(0))
            return ""
        seen.add(n)
        return f"\0{n}\0"

    text = _PLACEHOLDER_FOUND.sub(put, output)
    restored = []
    for slot in slots:
        if slot.n not in seen:
            words = text.split(" ")
            at = round(slot.position * len(words))
            words.insert(at, f"\0{slot.n}\0")
            text = " ".join(words)
            restored.append(slot.term.rendering(language))
    text = re.sub(r"\0(\d+)\0", lambda m: by_n[int(m.group(1))].term.rendering(language), text)
    forbidden = []
    for slot in slots:
        for bad in slot.term.forbidden:
            if bad and bad in text:
                forbidden.append(bad)
                text = text.replace(bad, slot.term.rendering(language))
    return Restored(" ".join(text.split()), tuple(restored), tuple(removed), tuple(forbidden))


# ---------------------------------------------------------------------------- verification


@dataclass(frozen=True, slots=True)
class TermCheck:
    zh: str
    approved: str
    found: bool


def check_output(source: str, output: str, terms: TermSet, language: str = "ur") -> list[TermCheck]:
    """For every term in the Chinese `source`: is its approved rendering (or short form) in
    `output`? Compared without bidi marks and with Urdu letters normalised."""
    plain = " ".join(normalise_letters(strip_bidi(output)).split()) if has_urdu(output) else output
    plain = " ".join(strip_bidi(plain).split())
    checks = []
    for m in find_terms(source, terms):
        wanted = m.term.rendering(language)
        options = [wanted] + ([m.term.short] if m.term.short and language == "ur" else [])
        found = any(" ".join(normalise_letters(o).split()) in plain for o in options if o)
        checks.append(TermCheck(m.term.zh, wanted, found))
    return checks


def iter_forms(terms: Iterable[Term]) -> Iterable[tuple[str, Term]]:
    for term in terms:
        for form in term.forms:
            yield form, term


def canonical_transcript(transcript: Transcript, terms: TermSet) -> tuple[Transcript, int]:
    """Variants and mis-hearings replaced by the canonical term in segments and words. The
    words a term spans become one word (so no line break falls inside it); timing is kept.
    Returns the transcript and how many variants were replaced."""
    replaced = 0
    segments = []
    for seg in transcript.segments:
        words = list(seg.words)
        joined = "".join(w.text for w in words)
        owner = [i for i, w in enumerate(words) for _ in w.text]
        merged: list[Word] = []
        i = 0
        for m in find_terms(joined, terms):
            first, last = owner[m.start], owner[m.end - 1]
            if first < i:
                continue
            merged += words[i:first]
            span = words[first : last + 1]
            text = "".join(w.text for w in span)
            offset = sum(len(w.text) for w in words[:first])
            text = text[: m.start - offset] + m.term.zh + text[m.end - offset :]
            merged.append(
                Word(text, span[0].start_ms, span[-1].end_ms, min(w.probability for w in span))
            )
            replaced += m.form != m.term.zh
            i = last + 1
        merged += words[i:]
        segments.append(
            dataclasses.replace(seg, text=canonical_text(seg.text, terms)[0], words=tuple(merged))
        )
    return dataclasses.replace(transcript, segments=tuple(segments)), replaced
