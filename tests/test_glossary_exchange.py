"""Glossary exchange: CSV round trips (a property over generated terms), every CSV error names
FILE:LINE and the column, and the TBX export keeps to TBX-Basic's structure and picklists."""

from __future__ import annotations

import csv
import datetime
import functools
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubkit.errors import GlossaryError
from dubkit.glossary.exchange import CSV_COLUMNS, parse_csv, render_csv, render_tbx
from dubkit.glossary.terms import SCOPES, TYPES, Term, parse_glossary
from dubkit.text.interchange import neutralise_formula, restore_formula

CHINESE = "中国电视台新闻北京上海长江李明华央视"
URDU = "ابپتٹجچدڈرڑزسشکگلمنوہھیے"
LATIN = "abcXYZ019"
PUNCTUATION = " ,\"'،-"


@functools.cache  # built once: terms() asks for these on every draw
def _stripped(alphabet: str, min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    """Cell text as a person leaves it: no spaces at the edges (parse_csv trims them)."""
    return st.text(alphabet, max_size=max_size).map(str.strip).filter(lambda s: len(s) >= min_size)


ITEM = _stripped(CHINESE + URDU + LATIN + PUNCTUATION, min_size=1)  # never '|', the separator
NOTE = _stripped(CHINESE + URDU + LATIN + PUNCTUATION + "\n\r|;", max_size=40)
DATE = st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)).map(datetime.date.isoformat)


@st.composite
def terms(draw: st.DrawFn) -> Term:
    dnt = draw(st.booleans())
    return Term(
        zh=draw(_stripped(CHINESE + LATIN, min_size=1, max_size=8)),
        ur=draw(_stripped(URDU + PUNCTUATION, min_size=0 if dnt else 1)),
        en=draw(_stripped(LATIN + PUNCTUATION)),
        variants=tuple(draw(st.lists(ITEM, max_size=3))),
        misheard=tuple(draw(st.lists(ITEM, max_size=3))),
        short=draw(_stripped(URDU + " ")),
        type=draw(st.sampled_from(TYPES)),
        do_not_translate=dnt,
        forbidden=tuple(draw(st.lists(ITEM, max_size=3))),
        note=draw(NOTE),
        source=draw(_stripped(LATIN + PUNCTUATION + ":/.")),
        approved=draw(st.one_of(st.just(""), DATE)),
        glossary=draw(_stripped(LATIN)),
        scope=draw(st.sampled_from(SCOPES)),
    )


GLOSSARIES = st.lists(terms(), max_size=6, unique_by=lambda t: t.zh)


def entry_of(term: Term) -> dict[str, Any]:
    """The YAML entry a Term came from: every field but zh left out when empty."""
    entry = {
        "zh": term.zh, "ur": term.ur, "en": term.en, "variants": list(term.variants),
        "misheard": list(term.misheard), "short": term.short, "type": term.type,
        "do_not_translate": term.do_not_translate, "forbidden": list(term.forbidden),
        "note": term.note, "source": term.source, "approved": term.approved,
    }  # fmt: skip
    return {k: v for k, v in entry.items() if v or k == "zh"}


# ---------------------------------------------------------------------------- CSV round trip


@given(GLOSSARIES)
def test_csv_round_trip(glossary: list[Term]) -> None:
    text = render_csv(glossary)
    assert parse_csv(text, "g.csv") == [entry_of(t) for t in glossary]


@settings(max_examples=25, deadline=None)
@given(GLOSSARIES)
def test_csv_entries_load_as_the_same_terms(glossary: list[Term]) -> None:
    """The parsed entries are valid glossary YAML (JSON is YAML) and give back the Terms."""
    entries = parse_csv(render_csv(glossary), "g.csv")
    doc = json.dumps({"name": "g", "version": "1", "terms": entries}, ensure_ascii=False)
    loaded, _, issues = parse_glossary(doc, "g.yaml")
    assert loaded is not None, issues
    assert [i for i in issues if i.severity == "error"] == []
    fields = ("zh", "ur", "en", "variants", "misheard", "short", "type", "do_not_translate",
              "forbidden", "note", "source", "approved")  # fmt: skip
    assert [[getattr(t, f) for f in fields] for t in loaded.terms] == [
        [getattr(t, f) for f in fields] for t in glossary
    ]


def test_render_csv_writes_the_header_yes_no_and_joined_lists() -> None:
    term = Term("央视", "سی سی ٹی وی", variants=("中央台", "中视"), do_not_translate=False)
    lines = render_csv([term, Term("CCTV", "", do_not_translate=True)]).split("\r\n")
    assert lines[0].split(",") == list(CSV_COLUMNS)
    assert lines[1].startswith("央视,中央台 | 中视,,,سی سی ٹی وی,,term,no,")
    assert ",yes," in lines[2]
    assert lines[3] == ""  # CRLF after the last row too


def test_render_csv_refuses_a_list_item_holding_the_separator() -> None:
    term = Term("央视", "ا", forbidden=("a|b",), file="g.yaml", line=7)
    with pytest.raises(GlossaryError, match=r"^g\.yaml:7: forbidden item 'a\|b' contains '\|'"):
        render_csv([term])


def test_csv_cells_a_spreadsheet_would_run_are_neutralised_and_read_back() -> None:
    term = Term(
        "=cmd|' /C calc'!A0", "-ملک", en="@SUM(1)", source="+1+2", note="-5",
        variants=("=1", "中国"), short="'=x", forbidden=("'tis",),
    )  # fmt: skip
    text = render_csv([term])
    header, row = csv.reader(io.StringIO(text))
    cell = dict(zip(header, row, strict=True))
    assert cell["zh"] == "'=cmd|' /C calc'!A0"
    assert (cell["ur"], cell["en"], cell["source"]) == ("'-ملک", "'@SUM(1)", "'+1+2")
    assert cell["variants"] == "'=1 | 中国"  # the cell's start is what a spreadsheet runs
    assert cell["note"] == "-5"  # a plain number runs nothing and stays a number
    assert (cell["short"], cell["forbidden"]) == ("''=x", "'tis")
    assert parse_csv(text, "g.csv") == [entry_of(term)]
    typed = parse_csv("zh,ur\r\n'=中国,'@چین\r\n'tis,'-5\r\n", "g.csv")  # typed in Excel
    assert typed == [{"zh": "=中国", "ur": "@چین"}, {"zh": "'tis", "ur": "-5"}]


FORMULA_TEXT = st.text(st.sampled_from(list("=+-@'\t\r 05.a中")), max_size=8)


@given(FORMULA_TEXT)
def test_neutralised_cells_never_start_a_formula_and_read_back(text: str) -> None:
    cell = neutralise_formula(text)
    assert restore_formula(cell) == text
    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        assert re.fullmatch(r"[-+][0-9]+(\.[0-9]+)?", cell), cell


def test_parse_csv_accepts_what_spreadsheets_write() -> None:
    """BOM, CRLF, any column order, missing optional columns, loose header spelling, blank
    rows, an unnamed empty trailing column, TRUE/1 booleans and a capitalised type."""
    text = (
        "\ufeffUR,Do not translate,ZH,  Type ,Forbidden,\r\n"
        "چین,no,中国,Place,چائنا|  چینا ,\r\n"
        ",,,,,\r\n"
        ",TRUE,CCTV,,,\r\n"
        ",1,NBA,term,,\r\n"
    )
    assert parse_csv(text, "g.csv") == [
        {"zh": "中国", "ur": "چین", "type": "place", "forbidden": ["چائنا", "چینا"]},
        {"zh": "CCTV", "do_not_translate": True},
        {"zh": "NBA", "type": "term", "do_not_translate": True},
    ]
    assert parse_csv("do-not-translate,zh\nyes,CCTV\n", "g.csv") == [
        {"zh": "CCTV", "do_not_translate": True}
    ]


def test_parse_csv_ignores_glossary_and_scope_and_empty_files_rows() -> None:
    text = "zh,ur,glossary,scope\r\n中国,چین,news,episode\r\n"
    assert parse_csv(text, "g.csv") == [{"zh": "中国", "ur": "چین"}]
    assert parse_csv("zh,ur\r\n", "g.csv") == []


# ------------------------------------------------------------------------------ CSV errors

HEAD = "zh,ur,type,do_not_translate,approved,note\r\n"
GOOD = "中国,چین,place,no,2024-03-15,\r\n"
TWO_LINE_NOTE = '长江,دریا,place,no,,"one\r\ntwo"\r\n'  # the next row starts on line 4


@pytest.mark.parametrize(
    ("text", "where", "column"),
    [
        ("zh,ur,colour\r\n中国,چین,red\r\n", "g.csv:1", "'colour'"),
        ("ur,en\r\nچین,China\r\n", "g.csv:1", "'zh'"),
        (HEAD + GOOD + "长江,دریا,river,no,,\r\n", "g.csv:3", "'type'"),
        (HEAD + "长江,دریا,place,no,15/03/2024,\r\n", "g.csv:2", "'approved'"),
        (HEAD + "长江,دریا,place,no,2024-02-30,\r\n", "g.csv:2", "'approved'"),
        (HEAD + GOOD + "北京,بیجنگ,place,no,,\r\n" + GOOD, "g.csv:4", "'zh'"),
        (HEAD + "长江,دریا,place,maybe,,\r\n", "g.csv:2", "'do_not_translate'"),
        (HEAD + ",دریا,place,no,,\r\n", "g.csv:2", "'zh'"),
        (HEAD + "长江,,place,no,,\r\n", "g.csv:2", "'ur'"),
        ("zh,ur,Do not translate\r\n长江,,perhaps\r\n", "g.csv:2", "'Do not translate'"),
        (HEAD + TWO_LINE_NOTE + "北京,بیجنگ,city,no,,\r\n", "g.csv:4", "'type'"),
    ],
)
def test_parse_csv_errors_name_the_line_and_column(text: str, where: str, column: str) -> None:
    with pytest.raises(GlossaryError) as caught:
        parse_csv(text, "g.csv")
    message = str(caught.value)
    assert message.startswith(f"{where}: "), message
    assert column in message, message
    assert "\n" not in message


def test_parse_csv_duplicate_names_the_first_line() -> None:
    with pytest.raises(GlossaryError, match=r"^g\.csv:3: column 'zh': '中国' is already on line 2"):
        parse_csv("zh,ur\r\n中国,چین\r\n中国,چائنا\r\n", "g.csv")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "g.csv:1: no header row"),
        ("zh,ur,ZH\r\n", "g.csv:1: column 'ZH' appears twice"),
        ('zh,ur\r\n中国,"چین\r\n', "g.csv:2: not valid CSV"),
        ("zh,ur\r\n中国,چین,extra\r\n", "g.csv:2: cell 3 has a value but no column name"),
    ],
)
def test_parse_csv_malformed_files(text: str, where: str) -> None:
    with pytest.raises(GlossaryError) as caught:
        parse_csv(text, "g.csv")
    assert str(caught.value).startswith(where), str(caught.value)


# -------------------------------------------------------------------------------------- TBX

NS = "{urn:iso:std:iso:30042:ed-2}"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# TBX-Basic's DCA schema (RELAX NG) and Schematron rules: term note types and picklists.
PICKLISTS = {
    "partOfSpeech": {"adjective", "noun", "other", "verb", "adverb"},
    "administrativeStatus": {
        "preferredTerm-admn-sts", "admittedTerm-admn-sts", "deprecatedTerm-admn-sts",
        "supersededTerm-admn-sts",
    },
    "termType": {"fullForm", "acronym", "abbreviation", "shortForm", "variant", "phrase"},
}  # fmt: skip

SAMPLE = [
    Term(
        "李明华", "لی منگ ہوا", en="Li Minghua", variants=("李明化",), misheard=("李明花",),
        short="لی", type="person", forbidden=("لی مینگ", "لیمنگ"), note='anchor, "News 30\'"',
        source="style guide", approved="2024-03-15",
    ),
    Term("长江", "دریائے یانگسی", type="place"),
    Term("CCTV", "", en="CCTV", do_not_translate=True, type="organisation"),
]  # fmt: skip


def _lang(entry: ET.Element, lang: str) -> ET.Element | None:
    return next((s for s in entry.iter(f"{NS}langSec") if s.get(LANG) == lang), None)


def _terms(lang_sec: ET.Element | None) -> dict[str, dict[str, str]]:
    """Each term in a langSec with its term notes {type: value}."""
    assert lang_sec is not None
    return {
        sec.findtext(f"{NS}term", ""): {
            n.get("type", ""): n.text or "" for n in sec.iter(f"{NS}termNote")
        }
        for sec in lang_sec.iter(f"{NS}termSec")
    }


def check_tbx_basic(data: bytes, count: int) -> ET.Element:
    """The rules a TBX-Basic DCA validator applies that ElementTree can check."""
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(data)
    assert root.tag == f"{NS}tbx"
    assert (root.get("type"), root.get("style"), root.get(LANG)) == ("TBX-Basic", "dca", "en")
    assert b'xmlns="urn:iso:std:iso:30042:ed-2"' in data  # the default namespace, no prefix
    assert [child.tag for child in root] == [f"{NS}tbxHeader", f"{NS}text"]
    assert root.findtext(f"{NS}tbxHeader/{NS}fileDesc/{NS}sourceDesc/{NS}p")
    entries = root.findall(f"{NS}text/{NS}body/{NS}conceptEntry")
    assert len(entries) == count
    ids = [e.get("id", "") for e in entries]
    assert len(set(ids)) == count
    assert all(re.fullmatch(r"[A-Za-z_][\w.-]*", i) for i in ids)  # xsd:ID (an NCName)
    for entry in entries:
        lang_secs = entry.findall(f"{NS}langSec")
        assert lang_secs, "a conceptEntry holds at least one langSec"
        assert all(child.tag != f"{NS}termSec" for child in entry)
        for lang_sec in lang_secs:
            secs = lang_sec.findall(f"{NS}termSec")
            assert secs, "a langSec holds at least one termSec"
            for sec in secs:
                assert len(sec.findall(f"{NS}term")) == 1
                assert sec[0].tag == f"{NS}term" and sec[0].text
                notes = {n.get("type"): n.text for n in sec.findall(f"{NS}termNote")}
                assert notes.get("partOfSpeech") in PICKLISTS["partOfSpeech"]
                for kind, value in notes.items():
                    assert kind in PICKLISTS, kind
                    assert value in PICKLISTS[kind], value
    for date in root.iter(f"{NS}date"):
        datetime.date.fromisoformat(date.text or "")
    return root


def test_tbx_document_structure() -> None:
    data = render_tbx(SAMPLE, "News glossary 2024")
    root = check_tbx_basic(data, len(SAMPLE))
    title = root.findtext(f"{NS}tbxHeader/{NS}fileDesc/{NS}titleStmt/{NS}title")
    assert title == "News glossary 2024"
    assert "<?xml-model" in data.decode()
    assert "李明华" in data.decode("utf-8") and "دریائے یانگسی" in data.decode("utf-8")


def test_tbx_statuses_and_languages() -> None:
    person, river, _ = check_tbx_basic(render_tbx(SAMPLE, "t"), 3).iter(f"{NS}conceptEntry")
    assert [s.get(LANG) for s in person.findall(f"{NS}langSec")] == ["zh", "en", "ur"]
    assert [s.get(LANG) for s in river.findall(f"{NS}langSec")] == ["zh", "ur"]
    zh = _terms(_lang(person, "zh"))
    assert zh["李明华"]["administrativeStatus"] == "preferredTerm-admn-sts"
    assert zh["李明化"]["administrativeStatus"] == "admittedTerm-admn-sts"
    assert "李明花" not in zh  # mis-hearings are ASR artefacts, not terms
    assert _terms(_lang(person, "en")) == {
        "Li Minghua": {"partOfSpeech": "noun", "administrativeStatus": "preferredTerm-admn-sts"}
    }
    ur = _terms(_lang(person, "ur"))
    assert ur["لی منگ ہوا"]["administrativeStatus"] == "preferredTerm-admn-sts"
    assert ur["لی"] == {"partOfSpeech": "noun", "termType": "shortForm"}
    for bad in ("لی مینگ", "لیمنگ"):
        assert ur[bad]["administrativeStatus"] == "deprecatedTerm-admn-sts"
    assert person.findtext(f"{NS}note") == 'anchor, "News 30\'"'
    assert person.findtext(f"{NS}admin[@type='source']") == "style guide"
    assert person.findtext(f"{NS}transacGrp/{NS}date") == "2024-03-15"
    assert river.find(f"{NS}note") is None and river.find(f"{NS}transacGrp") is None


def test_tbx_do_not_translate_keeps_the_source_form() -> None:
    entry = check_tbx_basic(render_tbx(SAMPLE, "t"), 3).findall(f".//{NS}conceptEntry")[2]
    ur = _lang(entry, "ur")
    assert ur is not None
    assert ur.findtext(f"{NS}note") == "do not translate"
    assert _terms(ur) == {
        "CCTV": {"partOfSpeech": "noun", "administrativeStatus": "preferredTerm-admn-sts"}
    }


def test_tbx_drops_characters_xml_cannot_hold() -> None:
    data = render_tbx([Term("长江", "دریا", note="bell\x07 here\x00\ud800")], "t\x1b")
    root = check_tbx_basic(data, 1)
    assert root.findtext(f".//{NS}conceptEntry/{NS}note") == "bell here"


def test_tbx_needs_a_term() -> None:
    with pytest.raises(GlossaryError, match="at least one"):
        render_tbx([], "t")


@settings(max_examples=50)
@given(GLOSSARIES.filter(bool), st.text(CHINESE + LATIN + "<&>\"'", max_size=20))
def test_tbx_is_well_formed_for_any_glossary(glossary: list[Term], title: str) -> None:
    root = check_tbx_basic(render_tbx(glossary, title), len(glossary))
    assert (root.findtext(f".//{NS}title") or "") == title
    for term, entry in zip(glossary, root.iter(f"{NS}conceptEntry"), strict=True):
        zh = _terms(_lang(entry, "zh"))
        assert zh[term.zh]["administrativeStatus"] == "preferredTerm-admn-sts"
        ur = _terms(_lang(entry, "ur"))
        assert ur[term.rendering("ur")]["administrativeStatus"] == "preferredTerm-admn-sts"
        assert (_lang(entry, "en") is not None) == bool(term.en)


# ------------------------------------------------------------------------- export to a file


def test_export_terms_writes_the_format_the_name_says(tmp_path: Path) -> None:
    """dubkit.glossary.files.export_terms, what `glossary export` calls: CSV (BOM for Excel
    unless told), TBX, whole or not at all; any other name refused, naming it."""
    from dubkit.errors import OutputError
    from dubkit.glossary.files import export_terms
    from dubkit.glossary.terms import TermSet

    terms = TermSet(tuple(SAMPLE), {t.zh: t for t in SAMPLE})
    assert export_terms(terms, tmp_path / "t.csv") == len(SAMPLE)
    with_bom = (tmp_path / "t.csv").read_bytes()
    assert with_bom == b"\xef\xbb\xbf" + render_csv(SAMPLE).encode("utf-8")
    assert export_terms(terms, tmp_path / "plain.CSV", bom=False) == len(SAMPLE)
    assert (tmp_path / "plain.CSV").read_bytes() == with_bom[3:]
    export_terms(terms, tmp_path / "t.tbx")
    assert (tmp_path / "t.tbx").read_bytes() == render_tbx(SAMPLE, terms.label)
    with pytest.raises(OutputError, match=r"terms\.xlsx: choose a \.csv or \.tbx file name"):
        export_terms(terms, tmp_path / "terms.xlsx")
    assert not (tmp_path / "terms.xlsx").exists()
