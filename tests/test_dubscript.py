"""The dubbing script: the syllable model, building lines from cues, the Excel/CSV/HTML
files, reading an edited workbook back (every malformed case), and `dubkit dubscript`."""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dubkit import constants as C
from dubkit.cli import app
from dubkit.dubbing.files import (
    HEADERS,
    ScriptError,
    read_script,
    read_xlsx,
    render_csv,
    render_html,
    render_xlsx,
    write_script_files,
)
from dubkit.dubbing.script import (
    UR_SYLLABLES_PER_SECOND,
    ScriptLine,
    build_script,
    count_syllables,
    overrun_percent,
    speaking_ms,
    urdu_word_syllables,
)
from dubkit.glossary.terms import Term, TermSet
from dubkit.records import Cue
from dubkit.subtitles.writers import render_srt
from dubkit.text.urdu import LRM, normalise
from dubkit.timecode import frame_to_ms, smpte_frames_per_day
from dubkit.translate.memory import SqliteMemory

runner = CliRunner()

# ------------------------------------------------------------------------ syllable model

# Hand counts (standard Urdu pronunciation, syllables separated by '-').
HAND_COUNTED = [
    ("پاکستان", 3),  # paa-kis-taan
    ("کتاب", 2),  # ki-taab
    ("میں", 1),  # mein
    ("ہے", 1),  # hai
    ("اور", 1),  # aur
    ("بات", 1),  # baat
    ("کہا", 2),  # ka-haa
    ("حکومت", 3),  # hu-koo-mat
    ("آیا", 2),  # aa-yaa
    ("لیے", 2),  # li-ye
    ("منصوبہ", 3),  # man-soo-ba
    ("آئے", 2),  # aa-e
    ("ہندوستان", 3),  # hin-dus-taan
    ("اسلام", 2),  # is-laam
    ("ساتھ", 1),  # saath (ھ is part of the t)
    ("وقت", 1),  # waqt
    ("یہ", 1),  # ye
]


@pytest.mark.parametrize(("word", "syllables"), HAND_COUNTED)
def test_urdu_words_match_hand_counts(word: str, syllables: int) -> None:
    assert urdu_word_syllables(word) == syllables


def test_sentences_match_hand_counts() -> None:
    # chiin(1) paa-kis-taan(3) iq-ti-saa-dii(4) raah-daa-rii(3) ke(1) taht(1) = 13
    assert count_syllables("چین پاکستان اقتصادی راہداری کے تحت") == 13
    # aaj(1) mau-sam(2) ba-hut(2) ach-chhaa(2) hai(1) = 8; the model misses the u of bahut
    assert count_syllables("آج موسم بہت اچھا ہے۔") in (7, 8)
    # Latin words by vowel groups, letters of an acronym, 1.5 syllables a digit, Han 1 each
    assert count_syllables("hello") == 2
    assert count_syllables("PTV") == 3
    assert count_syllables("2025") == 6
    assert count_syllables("巴基斯坦") == 4
    assert count_syllables("") == 0
    assert count_syllables("۔،؟ !") == 0


def test_bidi_marks_and_lookalikes_do_not_count() -> None:
    plain = "گوادر بندرگاہ 2025 میں مکمل ہوئی۔"
    assert count_syllables(normalise(plain)) == count_syllables(plain)
    assert LRM in normalise(plain)
    assert count_syllables("كتاب") == count_syllables("کتاب")  # Arabic kaf


URDU_WORDS = st.sampled_from([w for w, _ in HAND_COUNTED] + ["CPEC", "2025", "news"])


@given(words=st.lists(URDU_WORDS, min_size=1, max_size=12), more=st.lists(URDU_WORDS, min_size=1))
def test_a_longer_line_takes_longer(words: list[str], more: list[str]) -> None:
    short, long = " ".join(words), " ".join(words + more)
    assert speaking_ms(long) > speaking_ms(short)


@given(words=st.lists(URDU_WORDS, min_size=1, max_size=12),
       rate=st.floats(min_value=1.0, max_value=12.0))  # fmt: skip
def test_doubling_the_rate_halves_the_time(words: list[str], rate: float) -> None:
    text = " ".join(words)
    assert abs(speaking_ms(text, rate * 2) - speaking_ms(text, rate) / 2) <= 1


def test_speaking_time_and_overrun() -> None:
    text = "چین پاکستان اقتصادی راہداری کے تحت"  # 13 syllables
    assert speaking_ms(text) == round(13 / UR_SYLLABLES_PER_SECOND * 1000)
    assert speaking_ms(text, 6.5) == 2000
    line = ScriptLine(1, 0, 1000, ur=text)
    assert overrun_percent(line, 6.5) == pytest.approx(100.0)
    assert overrun_percent(ScriptLine(1, 0, 4000, ur=text), 6.5) == pytest.approx(-50.0)
    assert overrun_percent(ScriptLine(1, 500, 500, ur=text)) is None
    with pytest.raises(ValueError, match="positive"):
        speaking_ms(text, 0)


def test_script_line_checks_its_span() -> None:
    with pytest.raises(ValueError):
        ScriptLine(1, 2000, 1000)
    with pytest.raises(ValueError):
        ScriptLine(0, 0, 1000)
    assert ScriptLine(3, 1000, 2500).duration_ms == 1500


# ------------------------------------------------------------------------- build_script


def _term(zh: str, ur: str) -> TermSet:
    term = Term(zh=zh, ur=ur)
    return TermSet((term,), {zh: term})


def test_build_script_places_chinese_english_and_terms() -> None:
    ur = [Cue(1, 1000, 3000, ("سلام دوستو",)),
          Cue(2, 3000, 6000, ("پاکستان سے", f"{LRM}CPEC{LRM} کی خبر"))]  # fmt: skip
    zh = [Cue(1, 900, 2000, ("你好",)), Cue(2, 2000, 2900, ("朋友们",)),
          Cue(3, 3100, 5000, ("来自巴基斯坦",)), Cue(4, 5000, 6200, ("CPEC", "新闻"))]  # fmt: skip
    en = [Cue(1, 1000, 3000, ("Hello", "friends")), Cue(2, 3000, 6000, ("News from Pakistan",))]
    lines = build_script(ur, zh, en, _term("巴基斯坦", "پاکستان"), characters={2: "Anchor"})
    assert [(s.number, s.start_ms, s.end_ms) for s in lines] == [(1, 1000, 3000), (2, 3000, 6000)]
    assert [s.zh for s in lines] == ["你好朋友们", "来自巴基斯坦CPEC新闻"]
    assert [s.en for s in lines] == ["Hello friends", "News from Pakistan"]
    assert lines[1].ur == "پاکستان سے\nCPEC کی خبر"  # bidi marks removed for the sheet
    assert [s.terms for s in lines] == [(), ("پاکستان",)]
    assert [s.character for s in lines] == ["", "Anchor"]
    assert [s.clip for s in lines] == ["0001.wav", "0002.wav"]
    named = build_script(ur, zh, None, None, clips_dir_name="clips")
    assert [s.clip for s in named] == ["clips/0001.wav", "clips/0002.wav"]
    assert [s.en for s in named] == ["", ""]


def test_chinese_without_overlap_goes_to_the_nearest_line() -> None:
    ur = [Cue(1, 1000, 2000, ("a",)), Cue(2, 5000, 6000, ("b",))]
    zh = [Cue(1, 0, 500, ("早",)), Cue(2, 2100, 2600, ("中",)), Cue(3, 4000, 4800, ("晚",)),
          Cue(4, 7000, 8000, ("夜",))]  # fmt: skip
    assert [s.zh for s in build_script(ur, zh, None, None)] == ["早中", "晚夜"]
    assert build_script([], zh, None, None) == []


@st.composite
def _spans(draw: st.DrawFn, overlap: bool) -> list[tuple[int, int]]:
    """Time-ordered spans with gaps, and with overlap=True overlapping ones."""
    spans, t = [], draw(st.integers(0, 2000))
    for _ in range(draw(st.integers(0, 12))):
        start = max(0, t + draw(st.integers(-500 if overlap else 0, 2000)))
        end = start + draw(st.integers(0, 3000))
        spans.append((start, end))
        t = end
    return spans


@given(ur_spans=_spans(overlap=False), zh_spans=_spans(overlap=True))
def test_every_chinese_cue_is_used_once_in_order(
    ur_spans: list[tuple[int, int]], zh_spans: list[tuple[int, int]]
) -> None:
    ur = [Cue(n, a, b, ("ا",)) for n, (a, b) in enumerate(ur_spans, 1)]
    zh = [Cue(n, a, b, (f"〔{n}〕",)) for n, (a, b) in enumerate(zh_spans, 1)]
    lines = build_script(ur, zh, None, None)
    assert len(lines) == len(ur)
    if ur:
        in_order = sorted(zh, key=lambda c: (c.start_ms + c.end_ms, c.start_ms, c.index))
        assert "".join(s.zh for s in lines) == "".join(c.text for c in in_order)
    for line in lines:  # a cue whose midpoint lies in a line's time belongs to that line
        for cue in zh:
            if line.start_ms * 2 <= cue.start_ms + cue.end_ms < line.end_ms * 2:
                assert cue.text in line.zh


# ----------------------------------------------------------------------------- the files

UR_TEXTS = [
    normalise("خواتین و حضرات، السلام علیکم۔"),
    normalise("گوادر بندرگاہ 2025 میں مکمل ہوئی۔"),
    normalise("چین پاکستان اقتصادی راہداری (CPEC) کے تحت\nنئے منصوبے شروع ہوئے۔"),
]
ZH_TEXTS = [
    "女士们，先生们，大家好。",
    "瓜达尔港于2025年建成。",
    "在中巴经济走廊框架下启动了新项目。",
]
EN_TEXTS = ["Ladies and gentlemen, hello.", "Gwadar port was completed in 2025.",
            "New projects started under CPEC."]  # fmt: skip


def _cues(texts: list[str], lines_of: Callable[[str], tuple[str, ...]]) -> list[Cue]:
    return [Cue(n, n * 3000, n * 3000 + 2480, lines_of(t)) for n, t in enumerate(texts, start=1)]


def _programme() -> tuple[list[Cue], list[ScriptLine]]:
    ur = _cues(UR_TEXTS, lambda t: tuple(t.split("\n")))
    zh = _cues(ZH_TEXTS, lambda t: (t,))
    en = _cues(EN_TEXTS, lambda t: (t,))
    return ur, build_script(ur, zh, en, _term("中巴经济走廊", "چین پاکستان اقتصادی راہداری"))


def _sheet(data: bytes) -> Any:
    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_matches_the_cues() -> None:
    ur, lines = _programme()
    data = render_xlsx(lines, fps=25, title="news")
    wb = _sheet(data)
    assert wb.sheetnames == ["Script", "About"]
    ws = wb["Script"]
    assert [c.value for c in ws[1]] == list(HEADERS)
    assert ws.freeze_panes == "A2"
    assert all(c.font.bold for c in ws[1])
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(ur)
    col = {h: HEADERS.index(h) for h in HEADERS}
    for row, cue in zip(rows, ur, strict=True):
        assert row[col["No"]] == cue.index
        assert row[col["In"]] == f"00:00:{cue.start_ms // 1000:02d}:00"
        assert row[col["Out"]] == f"00:00:{cue.end_ms // 1000:02d}:{cue.end_ms % 1000 // 40:02d}"
        assert row[col["Duration"]] == "02:12"  # 2,480 ms = 2 s 12 frames at 25 fps
        assert row[col["Urdu"]] == cue.text.replace(LRM, "")
        assert row[col["Budget s"]] == 2.48
        assert row[col["Clip"]] == f"{cue.index:04d}.wav"
    assert rows[2][col["Terms"]] == "چین پاکستان اقتصادی راہداری"
    assert rows[2][col["Chinese"]] == ZH_TEXTS[2]
    assert rows[2][col["English"]] == EN_TEXTS[2]
    urdu = ws.cell(row=2, column=col["Urdu"] + 1)
    assert urdu.alignment.readingOrder == 2
    assert urdu.alignment.horizontal == "right"
    assert urdu.alignment.wrap_text
    chinese = ws.cell(row=2, column=col["Chinese"] + 1)
    assert chinese.alignment.horizontal == "left"
    assert ws.column_dimensions["H"].width == 40  # Urdu
    about = dict(wb["About"].iter_rows(max_col=2, values_only=True))
    assert about["Programme"] == "news"
    assert about["Frame rate (fps)"] == "25"
    assert about["Timecode"] == "non-drop-frame"
    assert "dubkit dubscript import" in about["Re-import"]


def test_xlsx_is_reproducible_and_drop_frame_at_2997() -> None:
    _, lines = _programme()
    assert render_xlsx(lines, fps=25, title="news") == render_xlsx(lines, fps=25, title="news")
    ntsc = render_xlsx(lines, fps=29.97, title="news")
    ws = _sheet(ntsc)["Script"]
    assert ws.cell(row=2, column=2).value == "00:00:03;00"  # frame 90 (89.91 rounded)
    assert ws.cell(row=2, column=3).value == "00:00:05;14"  # 5,480 ms: frame 164.2
    assert read_script(ntsc, "x").drop_frame


def test_text_that_looks_like_a_formula_stays_text() -> None:
    line = ScriptLine(1, 0, 1000, ur="=SUM(A1)", notes="+1", zh="-x", en="@me")
    data = render_xlsx([line], fps=25, title="t")
    ws = _sheet(data)["Script"]
    assert ws.cell(row=2, column=8).value == "=SUM(A1)"
    assert ws.cell(row=2, column=8).data_type == "s"
    assert read_xlsx(data, "t") == [line]


def test_csv_cells_a_spreadsheet_would_run_start_with_an_apostrophe() -> None:
    """OWASP's CSV injection starts: =, +, -, @, tab and CR; a plain number runs nothing and
    stays a number (Overrun % is negative when the Urdu has time to spare)."""
    line = ScriptLine(1, 0, 9000, ur='=HYPERLINK("http://x","y")', notes="+1+cmd|' /C calc'!A0",
                      zh="-2+3", en="@SUM(1)", character="\t=1", clip="\r=1")  # fmt: skip
    plain = ScriptLine(2, 9000, 9500, ur="ٹھیک", notes="-5", zh="'=x", en="'tis")
    rows = list(csv.reader(io.StringIO(render_csv([line, plain], 25).decode("utf-8-sig"))))
    cell = dict(zip(HEADERS, rows[1], strict=True))
    assert cell["Urdu"] == '\'=HYPERLINK("http://x","y")'
    assert cell["Notes"] == "'+1+cmd|' /C calc'!A0"
    assert (cell["Chinese"], cell["English"]) == ("'-2+3", "'@SUM(1)")
    assert (cell["Character"], cell["Clip"]) == ("'\t=1", "'\r=1")
    assert cell["Overrun %"].startswith("-")  # a number: 9 s slot, short Urdu
    assert int(cell["Overrun %"]) < 0
    other = dict(zip(HEADERS, rows[2], strict=True))
    assert other["Notes"] == "-5"
    assert (other["Chinese"], other["English"]) == ("''=x", "'tis")  # one more, read back


def test_csv_and_html() -> None:
    _, lines = _programme()
    data = render_csv(lines, 25)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(HEADERS)
    assert [r[HEADERS.index("Urdu")] for r in rows[1:]] == [s.ur for s in lines]
    assert rows[1][HEADERS.index("In")] == "00:00:03:00"
    odd = ScriptLine(4, 20000, 21000, ur="<b>&</b>", notes='"x"')
    page = render_html([*lines, odd], 25, "t")
    assert "size: A4 landscape" in page
    assert '<td class="ur" dir="rtl" lang="ur">' in page
    assert "Noto Nastaliq Urdu" in page
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in page and "<b>&" not in page
    assert "00:00:20:00" in page


def test_write_script_files(tmp_path: Path) -> None:
    _, lines = _programme()
    paths = write_script_files(lines, tmp_path, "news", 25)
    assert sorted(p.name for p in paths.values()) == [
        "news.dubscript.csv", "news.dubscript.html", "news.dubscript.xlsx",
    ]  # fmt: skip
    assert read_xlsx(paths["xlsx"].read_bytes(), "news.dubscript.xlsx") == lines
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())


# ------------------------------------------------------------------ export then import

# Text a cell holds: anything but control characters (Excel cannot store them; CR is
# stored as LF) and non-characters, with line breaks, commas and quotes made likely.
CELL_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc", "Cn")),
        st.sampled_from(["\n", ",", '"', "'", "=", " ", "،", "۔", "你", "ی"]),
    ),
    max_size=40,
)
TERM = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn")), min_size=1, max_size=12
)


@st.composite
def _scripts(draw: st.DrawFn) -> tuple[float, list[ScriptLine]]:
    fps = draw(st.sampled_from([25.0, 29.97]))
    count = draw(st.integers(0, 8))
    numbers = sorted(draw(st.sets(st.integers(1, 10_000), min_size=count, max_size=count)))
    # anywhere in a programme of under 10 hours (ASS time ends at 9:59:59.99), 8 lines of at
    # most 500 frames each
    last = min(smpte_frames_per_day(fps) // 2, int(C.MAX_PROGRAMME_MS / 1000 * fps) - 8 * 500)
    frame = draw(st.integers(0, last))
    lines = []
    for number in numbers:
        start = frame + draw(st.integers(0, 200))
        end = start + draw(st.integers(0, 300))
        frame = end
        lines.append(
            ScriptLine(
                number=number,
                start_ms=frame_to_ms(start, fps),
                end_ms=frame_to_ms(end, fps),
                character=draw(st.sampled_from(["", "Anchor", "راوی", "张伟"])),
                zh=draw(CELL_TEXT),
                en=draw(CELL_TEXT),
                ur=draw(CELL_TEXT),
                terms=tuple(draw(st.lists(TERM, max_size=3))),
                notes=draw(st.one_of(st.just(""), CELL_TEXT)),
                clip=draw(st.sampled_from(["", f"{number:04d}.wav", "clips/x, y.wav"])),
            )
        )
    return fps, lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=_scripts())
def test_export_then_import_is_the_identity(script: tuple[float, list[ScriptLine]]) -> None:
    fps, lines = script
    data = render_xlsx(lines, fps=fps, title="p")
    assert read_xlsx(data, "p.dubscript.xlsx") == lines  # the rate comes from About
    assert read_xlsx(data, "p.dubscript.xlsx", fps=fps) == lines


# ------------------------------------------------------------------------ malformed sheets


@functools.cache
def _programme_xlsx() -> bytes:
    """The programme's workbook (render_xlsx is reproducible: rendered once, then edited)."""
    return render_xlsx(_programme()[1], fps=25, title="ep")


def _edited(edit: Callable[[Any], None], lines: list[ScriptLine] | None = None) -> bytes:
    import openpyxl

    data = _programme_xlsx() if lines is None else render_xlsx(lines, fps=25, title="ep")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    edit(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _set(cell: str, value: Any) -> Callable[[Any], None]:
    def edit(wb: Any) -> None:
        wb["Script"][cell].value = value

    return edit


def _problem(data: bytes) -> str:
    with pytest.raises(ScriptError) as caught:
        read_xlsx(data, "ep.dubscript.xlsx")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("ep.dubscript.xlsx: ")
    return message


@pytest.mark.parametrize(
    ("edit", "where", "what"),
    [
        (_set("B3", "00:00:0x:00"), "row 3, column B (In)", "not SMPTE timecode"),
        (_set("C2", "00:00:01:30"), "row 2, column C (Out)", "out of range"),
        (_set("B4", None), "row 4, column B (In)", "empty timecode"),
        (_set("B2", 0.5), "row 2, column B (In)", "not timecode"),
        (_set("C3", "00:00:05:00"), "row 3, column C (Out)", "is before In"),
        (_set("B3", "00:00:05:00"), "row 3, column B (In)", "before line 1 (row 2) ends"),
        (_set("A3", "two"), "row 3, column A (No)", "not a whole number"),
        (_set("A3", None), "row 3, column A (No)", "empty"),
        (_set("A3", 0), "row 3, column A (No)", "below 1"),
        (_set("A4", 1), "row 4, column A (No)", "also used in row 2"),
        (_set("M1", "Comments"), "row 1, column M (Notes)", "no 'Notes' column"),
        (_set("H1", None), "row 1, column H (Urdu)", "no 'Urdu' column"),
        (_set("N1", "Notes"), "row 1, column N (Notes)", "a second 'Notes' column"),
    ],
)
def test_malformed_sheets_name_sheet_row_and_column(
    edit: Callable[[Any], None], where: str, what: str
) -> None:
    message = _problem(_edited(edit))
    assert f"sheet Script, {where}: " in message
    assert what in message
    assert "; " in message.split(where, 1)[1]  # and says how to fix it


def test_drop_frame_label_that_does_not_exist() -> None:
    import openpyxl

    lines = [ScriptLine(1, 0, 1001), ScriptLine(2, 60_000, 61_000)]
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(lines, fps=29.97, title="ep")))
    wb["Script"]["B3"].value = "00:01:00;00"
    out = io.BytesIO()
    wb.save(out)
    message = _problem(out.getvalue())
    assert "sheet Script, row 3, column B (In): bad timecode" in message
    assert "00:01:00;02" in message


def test_missing_sheet_and_not_a_workbook() -> None:
    def rename(wb: Any) -> None:
        wb["Script"].title = "Sheet1"

    assert "no sheet 'Script' (sheets: Sheet1, About)" in _problem(_edited(rename))
    assert "not an Excel workbook" in _problem(b"No,In,Out\n1,2,3\n")


def test_every_problem_is_listed() -> None:
    def two(wb: Any) -> None:
        wb["Script"]["A2"].value = "x"
        wb["Script"]["C4"].value = "bad"

    with pytest.raises(ScriptError) as caught:
        read_xlsx(_edited(two), "ep.dubscript.xlsx")
    assert len(caught.value.problems) == 2
    assert "row 2, column A (No)" in caught.value.problems[0]
    assert "row 4, column C (Out)" in caught.value.problems[1]
    assert "(and 1 more problem(s))" in str(caught.value)


def test_rows_moved_deleted_columns_moved_extra_columns_blank_rows() -> None:
    import openpyxl

    lines = _programme()[1]
    rows = list(_sheet(_programme_xlsx())["Script"].values)
    header, line_1, line_2 = rows[0], rows[1], rows[2]  # line 3 is deleted
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Script"
    order = list(reversed(range(len(header))))  # every column moved
    ws.append(["Take", *(header[i] for i in order)])  # an operator's own column first
    ws.append(["2", *(line_2[i] for i in order)])
    ws.append([])  # a blank row
    ws.append([None] * (len(header) + 1))  # another
    ws.append(["1", *(line_1[i] for i in order)])  # rows out of order
    ws.cell(row=5, column=1 + len(header) - HEADERS.index("Character")).value = 17
    out = io.BytesIO()
    wb.save(out)

    got = read_xlsx(out.getvalue(), "ep.dubscript.xlsx")

    assert [s.number for s in got] == [1, 2]
    assert got[0].character == "17"  # typed as a number, read as text
    assert got[0] == replace(lines[0], character="17")
    assert got[1] == lines[1]


def test_rate_comes_from_the_about_sheet_unless_given() -> None:
    lines = [ScriptLine(1, 0, 1001), ScriptLine(2, 60_060, 61_061)]
    data = render_xlsx(lines, fps=29.97, title="ep")
    sheet = read_script(data, "ep")
    assert (sheet.fps, sheet.drop_frame, sheet.title) == (29.97, True, "ep")
    assert list(sheet.lines) == lines
    at_25 = read_script(data, "ep", fps=25)  # the operator's --fps wins; ';' still reads
    assert (at_25.fps, at_25.drop_frame) == (25, False)
    assert [s.start_ms for s in at_25.lines] == [0, 60_080]  # 00:01:00;02 at 25 fps
    with pytest.raises(ScriptError, match="drop-frame timecode exists only"):
        read_script(data, "ep", fps=25, drop_frame=True)

    def no_about(wb: Any) -> None:
        del wb["About"]

    assert read_script(_edited(no_about), "ep").fps == 25.0


def test_many_problems_are_capped() -> None:
    lines = [ScriptLine(n, n * 1000, n * 1000 + 500) for n in range(1, 80)]

    def spoil(wb: Any) -> None:
        for row in range(2, 81):
            wb["Script"].cell(row=row, column=2).value = "later"

    with pytest.raises(ScriptError) as caught:
        read_xlsx(_edited(spoil, lines), "ep")
    assert len(caught.value.problems) == 51
    assert caught.value.problems[-1] == "ep: 29 more problem(s) not shown"


def test_empty_urdu_is_kept() -> None:
    got = read_xlsx(_edited(_set("H3", None)), "ep.dubscript.xlsx")
    assert [s.ur for s in got][1] == ""
    assert len(got) == 3


# ---------------------------------------------------------------------------------- CLI


def _blocks(srt: str) -> list[str]:
    return srt.strip("\n").split("\n\n")


def _write_programme(folder: Path) -> tuple[Path, Path, list[ScriptLine]]:
    ur, lines = _programme()
    srt = folder / "news.ur.srt"
    srt.write_text(render_srt(ur), encoding="utf-8")
    (folder / "news.zh.srt").write_text(render_srt(_cues(ZH_TEXTS, lambda t: (t,))), "utf-8")
    paths = write_script_files(lines, folder, "news", 25)
    return paths["xlsx"], srt, lines


def test_editing_one_line_changes_exactly_that_subtitle(tmp_path: Path) -> None:
    import openpyxl

    xlsx, srt, _ = _write_programme(tmp_path)
    before = srt.read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(xlsx)
    ws = wb["Script"]
    ws["H3"] = "گوادر کی بندرگاہ 2025 میں مکمل ہوئی۔"  # line 2's Urdu
    ws["E2"] = "Anchor"
    ws["M4"] = "breathe before 'CPEC'"
    wb.save(xlsx)
    edited = xlsx.read_bytes()
    memory = tmp_path / "memory.sqlite"

    result = runner.invoke(app, ["dubscript", "import", str(xlsx), "--memory", str(memory)])

    assert result.exit_code == 0, result.output
    assert "3 cues from 3 lines; 1 changed line(s) approved" in result.stderr
    after = srt.read_text(encoding="utf-8")
    old, new = _blocks(before), _blocks(after)
    assert len(old) == len(new) == 3
    assert [n for n in range(3) if old[n] != new[n]] == [1]
    assert new[1].split("\n")[:2] == old[1].split("\n")[:2]  # index and timing unchanged
    assert new[1].split("\n")[2] == normalise("گوادر کی بندرگاہ 2025 میں مکمل ہوئی۔")
    with SqliteMemory(memory) as tm:
        approved = tm.approved("zh", "ur", [ZH_TEXTS[1], ZH_TEXTS[0]])
    assert approved == {ZH_TEXTS[1]: "گوادر کی بندرگاہ 2025 میں مکمل ہوئی۔"}
    doc = json.loads((tmp_path / "news.dubscript.json").read_text(encoding="utf-8"))
    assert [line["character"] for line in doc["lines"]] == ["Anchor", "", ""]
    assert doc["lines"][2]["notes"] == "breathe before 'CPEC'"
    assert doc["changed"] == [2]
    assert (tmp_path / "news.ur.vtt").is_file() and (tmp_path / "news.ur.ass").is_file()
    assert xlsx.read_bytes() == edited  # the workbook is left as the operator saved it

    again = runner.invoke(app, ["dubscript", "import", str(xlsx), "--memory", str(memory)])
    assert again.exit_code == 0, again.output
    assert srt.read_text(encoding="utf-8") == after
    assert "0 changed line(s) approved" in again.stderr


def test_import_without_an_srt_approves_every_line(tmp_path: Path) -> None:
    _, lines = _programme()
    xlsx = write_script_files(lines, tmp_path, "ep", 25)["xlsx"]
    (tmp_path / "ep.zh.srt").write_text(render_srt(_cues(ZH_TEXTS, lambda t: (t,))), "utf-8")
    out = tmp_path / "out"
    memory = tmp_path / "memory.sqlite"
    args = ["dubscript", "import", str(xlsx), "-o", str(out), "--memory", str(memory), "--bom"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "ep.ur.srt").read_bytes().startswith(b"\xef\xbb\xbf1\n00:00:03,000 --> ")
    with SqliteMemory(memory) as tm:
        assert len(tm.approved("zh", "ur", ZH_TEXTS)) == 3
    assert not (out / "memory.sqlite").exists()


def test_import_approves_only_lines_with_the_programmes_chinese(tmp_path: Path) -> None:
    """An edited Chinese cell must not plant an approved pair in the memory that serves
    every later programme: only lines whose Chinese is what news.zh.srt has at their time
    are approved, and the others are named in one warning line."""
    import openpyxl

    xlsx, srt, _ = _write_programme(tmp_path)
    wb = openpyxl.load_workbook(xlsx)
    ws = wb["Script"]
    ws["F2"], ws["H2"] = "台湾是一个国家。", "جھوٹا ترجمہ"  # line 1: Chinese replaced
    ws["F3"], ws["H3"] = ZH_TEXTS[2], "غلط جوڑی"  # line 2: line 3's Chinese
    ws["H4"] = "نئے منصوبے شروع ہوئے۔"  # line 3: a real correction
    wb.save(xlsx)
    memory = tmp_path / "memory.sqlite"

    result = runner.invoke(app, ["dubscript", "import", str(xlsx), "--memory", str(memory)])

    assert result.exit_code == 0, result.output
    assert "3 cues from 3 lines; 1 changed line(s) approved" in result.stderr
    warning = [ln for ln in result.stderr.splitlines() if ln.startswith("warning: ")]
    assert warning == [
        "warning: 2 changed line(s) not approved in the translation memory (lines 1, 2): "
        "their Chinese is not what news.zh.srt has at their time; correct the Urdu only, "
        "or import a TMX with `dubkit memory import`"
    ]
    with SqliteMemory(memory) as tm:
        assert [(s, t) for s, t, _, _ in tm.pairs("zh", "ur")] == [
            (ZH_TEXTS[2], "نئے منصوبے شروع ہوئے۔")
        ]
    assert len(_blocks(srt.read_text(encoding="utf-8"))) == 3  # the subtitles take every line


def test_import_without_the_chinese_srt_approves_nothing(tmp_path: Path) -> None:
    _, lines = _programme()
    xlsx = write_script_files(lines, tmp_path, "ep", 25)["xlsx"]
    memory = tmp_path / "memory.sqlite"
    args = ["dubscript", "import", str(xlsx), "--memory", str(memory)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "0 changed line(s) approved" in result.stderr
    assert (
        "warning: 3 changed line(s) not approved in the translation memory (lines 1, 2, 3): "
        "no ep.zh.srt beside ep.dubscript.xlsx to check their Chinese against; pass --zh "
        "with the programme's Chinese SRT" in result.stderr.splitlines()
    )
    with SqliteMemory(memory) as tm:
        assert tm.pairs("zh", "ur") == []
    zh = tmp_path / "source" / "chinese.srt"
    zh.parent.mkdir()
    zh.write_text(render_srt(_cues(ZH_TEXTS, lambda t: (t,))), encoding="utf-8")
    (tmp_path / "ep.ur.srt").unlink()  # every line counts as changed again
    given = runner.invoke(app, [*args, "--zh", str(zh)])
    assert given.exit_code == 0, given.output
    assert "3 changed line(s) approved" in given.stderr
    assert "warning" not in given.stderr


def test_import_reports_empty_urdu_and_no_memory(tmp_path: Path) -> None:
    import openpyxl

    xlsx, srt, _ = _write_programme(tmp_path)
    wb = openpyxl.load_workbook(xlsx)
    wb["Script"]["H2"] = None
    wb.save(xlsx)
    result = runner.invoke(app, ["dubscript", "import", str(xlsx), "--no-memory"])
    assert result.exit_code == 0, result.output
    assert "line(s) 1 have no Urdu" in result.stderr
    assert "memory not updated" in result.stderr
    assert len(_blocks(srt.read_text(encoding="utf-8"))) == 2


def test_import_of_a_malformed_sheet_fails_with_the_problems(tmp_path: Path) -> None:
    bad = tmp_path / "ep.dubscript.xlsx"
    bad.write_bytes(_edited(_set("B3", "soon")))
    result = runner.invoke(app, ["dubscript", "import", str(bad), "--no-memory"])
    assert result.exit_code == 1
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "ep.dubscript.xlsx: sheet Script, row 3, column B (In): " in lines[0]
    assert not (tmp_path / "ep.ur.srt").exists()
    missing = runner.invoke(app, ["dubscript", "import", str(tmp_path / "no.xlsx")])
    assert missing.exit_code == 1
    assert "no such file" in missing.stderr
    digits = runner.invoke(app, ["dubscript", "import", str(bad), "--digits", "roman"])
    assert digits.exit_code == 1
    assert "choose latin or urdu" in digits.stderr


def test_export_command(tmp_path: Path) -> None:
    ur = _cues(UR_TEXTS, lambda t: tuple(t.split("\n")))
    (tmp_path / "ep.ur.srt").write_text(render_srt(ur), encoding="utf-8")
    zh = _cues(ZH_TEXTS, lambda t: (t,))
    (tmp_path / "ep.zh.srt").write_text(render_srt(zh), encoding="utf-8")
    result = runner.invoke(app, ["dubscript", "export", str(tmp_path / "ep.ur.srt")])
    assert result.exit_code == 0, result.output
    lines = read_xlsx((tmp_path / "ep.dubscript.xlsx").read_bytes(), "ep.dubscript.xlsx")
    assert [s.zh for s in lines] == ZH_TEXTS
    assert (tmp_path / "ep.dubscript.csv").is_file()
    assert (tmp_path / "ep.dubscript.html").is_file()


def test_export_refuses_a_rate_timecode_cannot_count(tmp_path: Path) -> None:
    (tmp_path / "ep.ur.srt").write_text(render_srt(_cues(UR_TEXTS, lambda t: (t,))), "utf-8")
    result = runner.invoke(app, ["dubscript", "export", str(tmp_path / "ep.ur.srt"),
                                 "--fps", "12.5"])  # fmt: skip
    assert result.exit_code == 1
    assert "whole or NTSC frame rate" in result.stderr
    assert not list(tmp_path.glob("*.dubscript.*"))


@pytest.mark.parametrize("args", [["dubscript"], ["dubscript", "import"], ["dubscript", "export"]])
def test_help(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_a_chinese_srt_sent_back_beside_the_sheet_does_not_decide_approvals(
    tmp_path: Path,
) -> None:
    """The studio returns the sheet with a forged news.zh.srt beside it: the programme's own
    news.zh.srt in the output folder is what edited lines are checked against."""
    import shutil

    import openpyxl

    work = tmp_path / "work"
    work.mkdir()
    xlsx, _, _ = _write_programme(work)
    returned = tmp_path / "returned"
    returned.mkdir()
    sent = returned / xlsx.name
    shutil.copy(xlsx, sent)
    wb = openpyxl.load_workbook(sent)
    wb["Script"]["F2"], wb["Script"]["H2"] = "台湾是一个国家。", "جھوٹا ترجمہ"
    wb.save(sent)
    forged = [ZH_TEXTS[0], *ZH_TEXTS[1:]]
    forged[0] = "台湾是一个国家。"
    (returned / "news.zh.srt").write_text(render_srt(_cues(forged, lambda t: (t,))), "utf-8")
    memory = tmp_path / "memory.sqlite"
    args = ["dubscript", "import", str(sent), "-o", str(work), "--memory", str(memory)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with SqliteMemory(memory) as tm:
        assert ("台湾是一个国家。", "جھوٹا ترجمہ") not in [
            (s, t) for s, t, _, _ in tm.pairs("zh", "ur")
        ]
    assert "0 changed line(s) approved" in result.stderr
