"""Glossary YAML read by libyaml, PyYAML's C parser: the same tree ruamel's round-trip reader
builds, for every command that reads a glossary. A glossary is read 8-10x sooner than through
ruamel alone (the shipped one: 9 ms against 88 ms; 5,000 terms: 1.8 s against 15 s;
bench/glossary_read.py).

The tree is ruamel's own mappings and lists (CommentedMap, CommentedSeq) with the line and
column of every key, value and item, and the flow or block style of each collection, as
ruamel's round-trip constructor sets them; the values are what it constructs, resolved by
YAML 1.2 as it resolves them: text (dates stay text, as glossaries keep them), true/false and
null. Comments are not kept: dubkit edits a glossary as text, never by dumping a tree.

Where the two readers could part, libyaml answers nothing (None) and ruamel reads the file as
it always has, with its messages and positions:
- anything libyaml refuses (ruamel then says what is wrong, and where);
- what a glossary never needs: anchors and aliases (ruamel's reader refuses them), tags,
  directives, numbers, merge keys, keys that are not text, a key twice, nesting deeper than
  8 levels (a glossary needs 5), a mapping inside a [flow list], more than one document or
  a `...` line, a file that is not a mapping or a list, an empty value left blank (the two
  place it differently);
- a block value (| or >) whose header holds more than its indicators, or whose first line
  is blank: ruamel refuses some of these (`|#c`, a blank first line shorter than the text)
  and reads others differently;
- characters where the two scanners disagree: tabs (ruamel refuses one inside a plain
  value), NEL and the Unicode line and paragraph separators (YAML 1.1 line breaks, not 1.2
  ones), a byte order mark inside the text, lone surrogates.

One kind of file libyaml reads where ruamel cannot: a comment between a key and its value on
the next line, or on a block value's header line after a blank line, sets off bugs in
ruamel's comment handling (NotImplementedError, AssertionError). libyaml's tree is then the
file's values, and `parse_glossary` turns ruamel's failure, where it is the reader, into
one error line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from dubkit import constants as C

_DEPTH = 8  # nesting libyaml reads: a glossary needs 5 (file, terms, entry, field, list item)
_ODD = frozenset("\t\x85\u2028\u2029\ufeff")
_DOCUMENT_END = re.compile(r"(?:\A|[\r\n])\.\.\.")
_BLOCK_HEADER = re.compile(r"[|>](?:[-+][1-9]?|[1-9][-+]?)? *")  # nothing after but spaces
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TEXT_TAG = "tag:yaml.org,2002:str"
_TEXT = frozenset({_TEXT_TAG, "tag:yaml.org,2002:timestamp"})


class _Ruamel(Exception):
    """What only ruamel's reader may answer."""


def read_tree(text: str) -> Any | None:
    """The round-trip tree of `text` read by libyaml, or None where ruamel must read it (see
    the module docstring); None also where PyYAML has no libyaml."""
    if not _ODD.isdisjoint(text) or _DOCUMENT_END.search(text):
        return None
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return None
    try:
        return _Reader(yaml, text, iter(yaml.parse(text, Loader=loader))).document()
    except (_Ruamel, yaml.YAMLError, UnicodeError):
        return None


class _Reader:
    """One document's events (PyYAML's) into ruamel's round-trip tree."""

    def __init__(self, yaml: Any, text: str, events: Iterator[Any]) -> None:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        self.yaml, self.text, self.events, self.resolvers = yaml, text, events, _resolvers()
        self.lines: list[str] | None = None  # the text's lines, once a block value needs them
        self.mapping, self.seq = CommentedMap, CommentedSeq
        self.depth = min(_DEPTH, C.GLOSSARY_MAX_DEPTH - 1)

    def document(self) -> Any:
        yaml, events = self.yaml, self.events
        if not isinstance(next(events), yaml.StreamStartEvent):
            raise _Ruamel
        begin = next(events)
        if not isinstance(begin, yaml.DocumentStartEvent) or begin.version or begin.tags:
            raise _Ruamel  # (a directive)
        root = self.node(next(events), 1)
        if not isinstance(root, list | dict):
            raise _Ruamel  # (a glossary is a mapping; ruamel reads a lone block value oddly)
        if not isinstance(next(events), yaml.DocumentEndEvent):
            raise _Ruamel
        if not isinstance(next(events), yaml.StreamEndEvent):
            raise _Ruamel  # a second document
        return root

    def node(self, event: Any, depth: int) -> Any:
        yaml = self.yaml
        if depth > self.depth:
            raise _Ruamel
        if isinstance(event, yaml.ScalarEvent):
            return self.scalar(event)
        if getattr(event, "anchor", None) is not None or getattr(event, "tag", None) is not None:
            raise _Ruamel  # (an alias has an anchor too)
        mark = event.start_mark
        if isinstance(event, yaml.SequenceStartEvent):
            seq = self.seq()
            seq._yaml_set_line_col(mark.line, mark.column)
            while not isinstance(item := next(self.events), yaml.SequenceEndEvent):
                if event.flow_style and isinstance(item, yaml.MappingStartEvent):
                    raise _Ruamel  # [a: b], ["a":b]: ruamel refuses some of these
                at = item.start_mark
                seq._yaml_set_idx_line_col(len(seq), [at.line, at.column])
                seq.append(self.node(item, depth + 1))
            _style(seq, event.flow_style)
            return seq
        if isinstance(event, yaml.MappingStartEvent):
            mapping = self.mapping()
            mapping._yaml_set_line_col(mark.line, mark.column)
            while not isinstance(key := next(self.events), yaml.MappingEndEvent):
                name = self.scalar(key) if isinstance(key, yaml.ScalarEvent) else None
                if not isinstance(name, str) or name in mapping:
                    raise _Ruamel  # a key that is not text, or a key twice
                value = next(self.events)
                kat, vat = key.start_mark, value.start_mark
                mapping._yaml_set_kv_line_col(name, [kat.line, kat.column, vat.line, vat.column])
                mapping[name] = self.node(value, depth + 1)
            _style(mapping, event.flow_style)
            return mapping
        raise _Ruamel

    def scalar(self, event: Any) -> Any:
        if event.anchor is not None or event.tag is not None:
            raise _Ruamel
        value = event.value
        if event.style in ("|", ">"):
            self.plain_block(event.start_mark)
        if event.style not in (None, ""):  # quoted, literal or folded: text as written
            return value
        if value == "":
            raise _Ruamel  # a value left blank: ruamel puts it where the next token starts
        tag = _TEXT_TAG  # ruamel's resolve(), as its round-trip reader calls it
        first, generic = self.resolvers
        for suffix, regexp in [*first.get(value[0], ()), *generic]:
            if regexp.match(value):
                tag = suffix
                break
        if tag in _TEXT:
            return value
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return value.lower() == "true"
        raise _Ruamel  # a number, a merge key

    def plain_block(self, mark: Any) -> None:
        """Hand a block value back unless its header line holds only its indicators and its
        first line holds text."""
        if self.lines is None:
            self.lines = _LINE_BREAK.split(self.text)
        header = self.lines[mark.line][mark.column :]
        after = self.lines[mark.line + 1] if mark.line + 1 < len(self.lines) else ""
        if not _BLOCK_HEADER.fullmatch(header) or not after.strip(" "):
            raise _Ruamel


def _style(collection: Any, flow: bool | None) -> None:
    """ruamel's style mark: set on a collection that holds something, left unset on []."""
    if collection:
        if flow:
            collection.fa.set_flow_style()
        else:
            collection.fa.set_block_style()


Resolvers = tuple[dict[str, list[tuple[str, Any]]], list[tuple[str, Any]]]


@functools.cache
def _resolvers() -> Resolvers:
    """The implicit resolvers of ruamel's YAML 1.2 resolver, as its round-trip reader applies
    them to a plain value in a file without a %YAML directive: those for the value's first
    character, then those for any (none in ruamel 0.19)."""
    from ruamel.yaml.resolver import VersionedResolver

    table = VersionedResolver().versioned_resolver
    first = {key: list(found) for key, found in table.items() if key is not None}
    return first, list(table.get(None, []))
