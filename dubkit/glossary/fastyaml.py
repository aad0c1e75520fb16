"""Glossary YAML read by libyaml, PyYAML's C parser: the same tree ruamel's round-trip reader
builds, about 18 times sooner (the shipped glossary: 8 ms against 140 ms; 3,000 terms: 4.9 s
through ruamel), for every command that reads a glossary.

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
  a glossary's 5 levels, more than one document, an empty value left blank (the two place
  it differently);
- characters where the two scanners disagree: tabs (ruamel refuses one inside a plain
  value), NEL and the Unicode line and paragraph separators (YAML 1.1 line breaks, not 1.2
  ones), a byte order mark inside the text, lone surrogates.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from dubkit import constants as C

_DEPTH = 8  # nesting libyaml reads: a glossary needs 5 (file, terms, entry, field, list item)
_ODD = frozenset("\t\x85\u2028\u2029\ufeff")
_TEXT_TAG = "tag:yaml.org,2002:str"
_TEXT = frozenset({_TEXT_TAG, "tag:yaml.org,2002:timestamp"})


class _Ruamel(Exception):
    """What only ruamel's reader may answer."""


def read_tree(text: str) -> Any | None:
    """The round-trip tree of `text` read by libyaml, or None where ruamel must read it (see
    the module docstring); None also where PyYAML has no libyaml."""
    if not _ODD.isdisjoint(text):
        return None
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return None
    try:
        return _Reader(yaml, iter(yaml.parse(text, Loader=loader))).document()
    except (_Ruamel, yaml.YAMLError, UnicodeError):
        return None


class _Reader:
    """One document's events (PyYAML's) into ruamel's round-trip tree."""

    def __init__(self, yaml: Any, events: Iterator[Any]) -> None:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        self.yaml, self.events, self.resolvers = yaml, events, _resolvers()
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
