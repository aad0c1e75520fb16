"""Glossaries exchanged with people and tools outside dubkit: CSV for spreadsheets (both ways)
and TBX-Basic (ISO 30042:2019, DCA style) for CAT tools and termbases (export only).

Pure: functions take and return text or bytes; glossary_files.py reads and writes the files.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from dubkit import constants as C
from dubkit.errors import GlossaryError
from dubkit.glossary.terms import TYPES, Term
from dubkit.text.interchange import neutralise_formula, restore_formula, xml_text

CSV_COLUMNS = (
    "zh", "variants", "misheard", "en", "ur", "short", "type", "do_not_translate", "forbidden",
    "note", "source", "approved", "glossary", "scope",
)  # fmt: skip
LIST_COLUMNS = ("variants", "misheard", "forbidden")
LIST_SEPARATOR = " | "  # a pipe never occurs in Chinese or Urdu terms; spaces keep it readable
# The YAML keys of an entry, in the order glossaries write them; glossary and scope columns
# say where a term came from: exported for reading, never imported.
_ENTRY_KEYS = (
    "zh", "ur", "en", "variants", "misheard", "short", "type", "do_not_translate", "forbidden",
    "note", "source", "approved",
)  # fmt: skip
MAX_CSV_BYTES = C.MAX_CSV_BYTES  # a bigger file is not a glossary, refused before it is read
_BOOLEANS = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False}

TBX_NAMESPACE = "urn:iso:std:iso:30042:ed-2"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Where TBX-Basic's own schemas live, so validating editors (Oxygen, Xerces) find them.
_SCHEMAS = "https://raw.githubusercontent.com/LTAC-Global/TBX-Basic_dialect/master/DCA/"
_XML_MODEL = (
    f'<?xml-model href="{_SCHEMAS}TBXcoreStructV03_TBX-Basic_integrated.rng" '
    'type="application/xml" schematypens="http://relaxng.org/ns/structure/1.0"?>\n'
    f'<?xml-model href="{_SCHEMAS}TBX-Basic_DCA.sch" '
    'type="application/xml" schematypens="http://purl.oclc.org/dsdl/schematron"?>\n'
)
# TBX-Basic requires a part of speech on every term, and its picklist is adjective, adverb,
# noun, verb and other (no properNoun): names of people, places and programmes are nouns too.
_PART_OF_SPEECH = "noun"


# -------------------------------------------------------------------------------------- CSV


def render_csv(terms: Sequence[Term]) -> str:
    """Terms as CSV text with a header row (RFC 4180, CRLF): lists joined by " | ",
    booleans as yes/no, a cell a spreadsheet would run as a formula after an apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for term in terms:
        row = []
        for column in CSV_COLUMNS:
            value = getattr(term, column)
            if column in LIST_COLUMNS:
                bad = [v for v in value if "|" in v]
                if bad:
                    where = f"{term.file}:{term.line}" if term.file else f"term {term.zh!r}"
                    raise GlossaryError(
                        f"{where}: {column} item {bad[0]!r} contains '|', the CSV list "
                        f"separator; remove it or export as TBX",
                        path=term.file or None,
                    )
                value = LIST_SEPARATOR.join(value)
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            row.append(neutralise_formula(value))
        writer.writerow(row)
    return out.getvalue()


def decode_csv(data: bytes, name: str) -> str:
    """The text of a CSV file's bytes (UTF-8, BOM optional); one line for what is not one:
    over MAX_CSV_BYTES, UTF-16, a NUL byte (a binary file), bytes that are not UTF-8."""
    if len(data) > MAX_CSV_BYTES:
        raise GlossaryError(
            f"{name}: larger than {MAX_CSV_BYTES} bytes, too big for a glossary CSV; "
            f"split it, or check that it is the right file",
            path=name,
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise GlossaryError(
            f"{name}:1: UTF-16 text; save it as CSV UTF-8 (Excel: CSV UTF-8 (Comma delimited))",
            path=name,
        )
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        raise GlossaryError(
            f"{name}:{line}: a NUL byte: not a text file; export the glossary as CSV UTF-8",
            path=name,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GlossaryError(
            f"{name}:{line}: not UTF-8 (byte {exc.start + 1}); save it as CSV UTF-8",
            path=name,
        ) from None


def _column_key(header: str) -> str:
    """'Do not translate', 'do-not-translate' and 'DO_NOT_TRANSLATE' are one column."""
    return re.sub(r"[\s_-]+", "_", header.strip().lower())


def _records(text: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line each starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise GlossaryError(
            f"{name}:{line}: not valid CSV ({exc}); put a cell holding commas, quotes or line "
            f'breaks in double quotes, with its own quotes doubled ("")',
            path=name,
        ) from None


def parse_csv(text: str, name: str) -> list[dict[str, Any]]:
    """CSV rows (as render_csv writes them, or edited in a spreadsheet) as term entries in the
    glossary YAML schema, empty optional fields left out; `name` is used in error messages. A
    cell's apostrophe before a formula start (=, +, -, @) is taken off, as render_csv adds it."""
    records = _records(text, name)
    _, header = next(records, (1, []))
    if not any(cell.strip() for cell in header):
        raise GlossaryError(
            f"{name}:1: no header row; the first line names the columns, e.g. zh,ur,en", path=name
        )
    columns: dict[int, str] = {}  # cell index -> canonical column
    shown: dict[str, str] = {}  # canonical column -> header as written, for messages
    for i, cell in enumerate(header):
        key = _column_key(cell)
        if not key:
            continue  # spreadsheets add unnamed trailing columns; their cells must stay empty
        if key not in CSV_COLUMNS:
            raise GlossaryError(
                f"{name}:1: unknown column {cell!r}; columns are {', '.join(CSV_COLUMNS)}",
                path=name,
            )
        if key in shown:
            raise GlossaryError(f"{name}:1: column {cell!r} appears twice; keep one", path=name)
        columns[i] = key
        shown[key] = cell.strip()
    if "zh" not in shown:
        raise GlossaryError(
            f"{name}:1: column 'zh' is missing; add a zh column with the Chinese term", path=name
        )
    entries: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for row, cells in records:
        if not any(c.strip() for c in cells):
            continue
        values: dict[str, str] = {}
        for i, cell in enumerate(cells):
            if i in columns:
                values[columns[i]] = restore_formula(cell.strip()).strip()
            elif cell.strip():
                raise GlossaryError(
                    f"{name}:{row}: cell {i + 1} has a value but no column name; name the "
                    f"column in the header, or quote cells that contain commas",
                    path=name,
                )
        entry = _entry(values, f"{name}:{row}", shown, name)
        prior = first_line.setdefault(entry["zh"], row)
        if prior != row:
            raise GlossaryError(
                f"{name}:{row}: column {shown['zh']!r}: {entry['zh']!r} is already on line "
                f"{prior}; merge the two rows",
                path=name,
            )
        entries.append(entry)
    return entries


def _entry(
    values: Mapping[str, str], where: str, shown: Mapping[str, str], name: str
) -> dict[str, Any]:
    """One row's cells checked and shaped as a YAML term entry; `where` is FILE:LINE and
    `shown` the column headers as the file writes them."""

    def fail(column: str, problem: str) -> GlossaryError:
        return GlossaryError(f"{where}: column {shown.get(column, column)!r}: {problem}", path=name)

    zh = values.get("zh", "")
    if not zh:
        raise fail("zh", "empty; every row needs the Chinese term")
    flag = values.get("do_not_translate", "")
    if (flag.lower() or "no") not in _BOOLEANS:
        raise fail("do_not_translate", f"{flag!r} is not yes or no; write yes, no or leave empty")
    kind = values.get("type", "").lower()
    if kind and kind not in TYPES:
        raise fail("type", f"{kind!r} is not a type; use one of {', '.join(TYPES)}")
    approved = values.get("approved", "")
    if approved and not _is_date(approved):
        raise fail("approved", f"{approved!r} is not a date; write it as YYYY-MM-DD (as text)")
    dnt = _BOOLEANS[flag.lower() or "no"]
    if not dnt and not values.get("ur"):
        raise fail("ur", "empty; give the Urdu rendering, or set do_not_translate to yes")
    entry: dict[str, Any] = {}
    for key in _ENTRY_KEYS:
        if key == "do_not_translate":
            if dnt:
                entry[key] = True
        elif key in LIST_COLUMNS:
            items = [v.strip() for v in values.get(key, "").split("|") if v.strip()]
            if items:
                entry[key] = items
        elif key == "type":
            if kind:
                entry[key] = kind
        elif values.get(key):
            entry[key] = values[key]
    return entry


def _is_date(text: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


# -------------------------------------------------------------------------------------- TBX


def _sub(parent: ET.Element, tag: str, text: str = "", **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text:
        element.text = xml_text(text)
    return element


def _term_sec(lang_sec: ET.Element, text: str, **notes: str) -> None:
    """One termSec: the term, its part of speech, then the other term notes."""
    sec = _sub(lang_sec, "termSec")
    _sub(sec, "term", text)
    _sub(sec, "termNote", _PART_OF_SPEECH, type="partOfSpeech")
    for kind, value in notes.items():
        _sub(sec, "termNote", value, type=kind)


def render_tbx(terms: Sequence[Term], title: str) -> bytes:
    """Terms as a TBX-Basic document (TBX v3, DCA style), UTF-8 with an XML declaration.

    Chinese: canonical form preferred, variants admitted; mis-hearings are ASR artefacts, not
    terms, and are left out. Urdu: the rendering preferred (the Chinese form itself when not
    translated), the short form as shortForm, forbidden renderings deprecated.
    """
    if not terms:
        raise GlossaryError("no terms to export: a TBX file holds at least one concept entry")
    root = ET.Element(
        "tbx", {"type": "TBX-Basic", "style": "dca", _XML_LANG: "en", "xmlns": TBX_NAMESPACE}
    )
    file_desc = _sub(_sub(root, "tbxHeader"), "fileDesc")
    _sub(_sub(file_desc, "titleStmt"), "title", title)
    _sub(_sub(file_desc, "sourceDesc"), "p", "dubkit glossary export")
    body = _sub(_sub(root, "text"), "body")
    preferred, admitted = "preferredTerm-admn-sts", "admittedTerm-admn-sts"
    for n, term in enumerate(terms, start=1):
        entry = _sub(body, "conceptEntry", id=f"c{n}")
        if term.approved and _is_date(term.approved):
            grp = _sub(entry, "transacGrp")
            _sub(grp, "transac", "modification", type="transactionType")
            _sub(grp, "date", term.approved)
        if term.source:
            _sub(entry, "admin", term.source, type="source")
        if term.note:
            _sub(entry, "note", term.note)
        zh = _sub(entry, "langSec", **{_XML_LANG: "zh"})
        _term_sec(zh, term.zh, administrativeStatus=preferred)
        for variant in dict.fromkeys(term.variants):
            if variant != term.zh:
                _term_sec(zh, variant, administrativeStatus=admitted)
        if term.en:
            en = _sub(entry, "langSec", **{_XML_LANG: "en"})
            _term_sec(en, term.en, administrativeStatus=preferred)
        ur = ET.Element("langSec", {_XML_LANG: "ur"})
        if term.do_not_translate:
            _sub(ur, "note", "do not translate")
        rendering = term.rendering("ur")
        if rendering:
            _term_sec(ur, rendering, administrativeStatus=preferred)
        if term.short and term.short != rendering:
            _term_sec(ur, term.short, termType="shortForm")
        for bad in dict.fromkeys(term.forbidden):
            if bad and bad not in (rendering, term.short):
                _term_sec(ur, bad, administrativeStatus="deprecatedTerm-admn-sts")
        if ur.find("termSec") is not None:  # a langSec holds at least one term
            entry.append(ur)
    ET.indent(root)
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    return (declaration + _XML_MODEL + ET.tostring(root, encoding="unicode") + "\n").encode()
