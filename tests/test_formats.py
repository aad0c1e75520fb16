"""Subtitle formats: SRT, WebVTT, ASS and bilingual SRT writers against golden files; readers
that round-trip every writer, repair and report damage (lenient) or name its line (strict).

Golden files live in tests/golden/formats/ (see tests/golden/README.md); regenerate them with
DUBKIT_REGEN_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path

import pysubs2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dubkit.constants import URDU_FONT
from dubkit.errors import SubtitleParseError
from dubkit.records import Cue
from dubkit.subtitles.formats import (
    CHINESE_FONT,
    ass_header,
    read_subtitles,
    render_ass,
    render_bilingual_srt,
    render_vtt,
    subtitle_kind,
    write_subtitles,
)
from dubkit.subtitles.parse import parse_srt
from dubkit.subtitles.writers import render_srt

GOLDEN = Path(__file__).resolve().parent / "golden" / "formats"
REGEN = os.environ.get("DUBKIT_REGEN_GOLDEN") == "1"
LRM, RLM = "\u200e", "\u200f"

# Urdu as dubkit.text.urdu.mark_bidi leaves it: LRM around Latin and digit runs, RLM first on a line
# that starts with Latin. Cue 4 is Chinese; cue 2 ends off the centisecond grid (ASS rounds
# it) and cue 5 is past the first hour (ASS writes one-digit hours).
UR_LINES = (
    (f"چین پاکستان اقتصادی راہداری {LRM}CPEC{LRM}", "کا نیا مرحلہ شروع ہو گیا۔"),
    (f"گوادر بندرگاہ میں {LRM}2025{LRM} تک {LRM}60{LRM} ارب ڈالر۔",),
    (f"تحقیق {LRM}R&D{LRM} اور <نئی> ٹیکنالوجی۔",),
    ("پاک چین دوستی زندہ باد!",),
    (f"{RLM}{LRM}CCTV{LRM} اور {LRM}PTV{LRM} کی مشترکہ نشریات۔",),
)
ZH_LINES = (
    ("中巴经济走廊", "进入新阶段。"),
    ("到2025年，瓜达尔港投资600亿美元。",),
    ("研发（R&D）与<新>技术合作。",),
    ("中巴友谊万岁！",),
    ("CCTV与PTV联合播出。",),
)
TIMES = ((1000, 3500), (3600, 6255), (6500, 9000), (9200, 11000), (3_661_000, 3_664_480))
UR_CUES = [
    Cue(n, s, e, t) for n, ((s, e), t) in enumerate(zip(TIMES, UR_LINES, strict=True), start=1)
]
ZH_CUES = [
    Cue(n, s, e, t) for n, ((s, e), t) in enumerate(zip(TIMES, ZH_LINES, strict=True), start=1)
]
# The writers' fixture: Urdu with one Chinese cue among them.
CUES = [*UR_CUES[:3], ZH_CUES[3], UR_CUES[4]]

GOLDEN_CASES: dict[str, Callable[[], str]] = {
    "cues.srt": lambda: render_srt(CUES),
    "cues.vtt": lambda: render_vtt(CUES),
    "cues.ass": lambda: render_ass(CUES),
    "cues.zh.ass": lambda: render_ass(ZH_CUES, language="zh"),
    "bilingual.srt": lambda: render_bilingual_srt(ZH_CUES, UR_CUES),
}


def _centiseconds(cues: list[Cue]) -> list[Cue]:
    return [
        Cue(c.index, (c.start_ms + 5) // 10 * 10, (c.end_ms + 5) // 10 * 10, c.lines) for c in cues
    ]


# --------------------------------------------------------------------------- golden files


@pytest.mark.parametrize("filename", sorted(GOLDEN_CASES))
def test_golden(filename: str) -> None:
    actual = GOLDEN_CASES[filename]()
    path = GOLDEN / filename
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert path.read_bytes().decode("utf-8") == actual


def test_golden_folder_holds_exactly_the_cases() -> None:
    assert {p.name for p in GOLDEN.iterdir()} == set(GOLDEN_CASES)


@pytest.mark.parametrize("filename", sorted(GOLDEN_CASES))
def test_golden_files_read_back_strictly(filename: str) -> None:
    text = (GOLDEN / filename).read_bytes().decode("utf-8")
    parsed = read_subtitles(text, filename, strict=True)
    expected = {
        "cues.srt": CUES,
        "cues.vtt": CUES,
        "cues.ass": _centiseconds(CUES),
        "cues.zh.ass": _centiseconds(ZH_CUES),
        "bilingual.srt": [
            Cue(z.index, z.start_ms, z.end_ms, z.lines + u.lines)
            for z, u in zip(ZH_CUES, UR_CUES, strict=True)
        ],
    }[filename]
    assert list(parsed.cues) == expected
    assert parsed.repairs == ()


def test_vtt_right_aligns_urdu_escapes_markup_and_keeps_bidi_marks() -> None:
    text = render_vtt(CUES)
    assert text.startswith("WEBVTT\n\n1\n00:00:01.000 --> 00:00:03.500 align:right\n")
    blocks = text.split("\n\n")
    assert blocks[3] == "3\n00:00:06.500 --> 00:00:09.000 align:right\n" + (
        f"تحقیق {LRM}R&amp;D{LRM} اور &lt;نئی&gt; ٹیکنالوجی۔"
    )
    assert blocks[4] == "4\n00:00:09.200 --> 00:00:11.000\n中巴友谊万岁！"  # not Urdu: default
    assert blocks[5].startswith("5\n01:01:01.000 --> 01:01:04.480 align:right\n" + RLM + LRM)


def test_ass_parses_with_pysubs2_and_has_the_urdu_style() -> None:
    subs = pysubs2.SSAFile.from_string(render_ass(CUES))
    assert set(subs.styles) == {"Urdu"}
    style = subs.styles["Urdu"]
    assert style.fontname == URDU_FONT == "Noto Nastaliq Urdu"
    assert style.alignment == pysubs2.Alignment.BOTTOM_CENTER
    assert (style.fontsize, style.outline, style.shadow) == (64, 3, 1)
    assert (style.marginl, style.marginr, style.marginv) == (96, 96, 54)
    assert style.primarycolor == pysubs2.Color(255, 255, 255, 0)
    assert style.outlinecolor == pysubs2.Color(0, 0, 0, 0)
    # libass takes a line's direction from its first strong character only with Encoding -1;
    # with any charset number it lays Urdu with Latin words out left to right.
    assert style.encoding == -1
    assert subs.info["ScriptType"] == "v4.00+"
    assert (subs.info["PlayResX"], subs.info["PlayResY"]) == ("1920", "1080")
    assert [e.style for e in subs.events] == ["Urdu"] * len(CUES)
    assert subs.events[0].text == r"\N".join(CUES[0].lines)
    assert subs.events[1].end == 6260  # centiseconds, rounded half up


def test_the_preview_header_is_the_shipped_style() -> None:
    shipped = render_ass(CUES).split("[Events]")[0]
    header = ass_header(style="Default")
    assert header == shipped.replace("Style: Urdu,", "Style: Default,")
    assert ass_header(font="Noto Naskh Arabic", style="Urdu") == shipped.replace(
        URDU_FONT, "Noto Naskh Arabic"
    )


def test_ass_options_right_alignment_resolution_and_chinese_style() -> None:
    right = pysubs2.SSAFile.from_string(render_ass(CUES, align="right", play_res=(1280, 720)))
    style = right.styles["Urdu"]
    assert style.alignment == pysubs2.Alignment.BOTTOM_RIGHT
    assert (style.fontsize, style.marginl, style.marginv) == (43, 64, 36)
    assert right.info["PlayResY"] == "720"
    zh = pysubs2.SSAFile.from_string(render_ass(ZH_CUES, language="zh"))
    assert set(zh.styles) == {"Chinese"}
    assert (zh.styles["Chinese"].fontname, zh.styles["Chinese"].encoding) == (CHINESE_FONT, 1)
    other = pysubs2.SSAFile.from_string(render_ass(CUES, font="Noto Naskh Arabic"))
    assert other.styles["Urdu"].fontname == "Noto Naskh Arabic"
    with pytest.raises(ValueError, match="language must be one of ur, zh"):
        render_ass(CUES, language="en")
    with pytest.raises(ValueError, match=r"ASS times stop at 9:59:59\.99"):
        render_ass([Cue(1, 0, 36_000_000, ("x",))])


def test_ass_escapes_braces_and_backslashes_as_libass_reads_them() -> None:
    cue = Cue(1, 0, 1000, (r"{\i1}not a tag}", r"C:\new \h \\N"))
    text = render_ass([cue]).splitlines()[-1]
    assert text.endswith("\\{\\i1\\}not a tag\\}\\NC:\\\u2060new \\\u2060h \\\\\u2060N")
    assert read_subtitles(render_ass([cue]), "a.ass").cues == (cue,)


def test_bilingual_srt_needs_the_same_cues() -> None:
    text = render_bilingual_srt(ZH_CUES[:1], UR_CUES[:1])
    assert text.splitlines()[2:6] == ["中巴经济走廊", "进入新阶段。", *UR_LINES[0]]
    with pytest.raises(ValueError, match="5 zh, 4 ur"):
        render_bilingual_srt(ZH_CUES, UR_CUES[:4])
    moved = [UR_CUES[0], Cue(2, 3600, 6300, UR_LINES[1]), *UR_CUES[2:]]
    with pytest.raises(ValueError, match=r"cue 2: zh 00:00:03,600 --> 00:00:06,255 but ur"):
        render_bilingual_srt(ZH_CUES, moved)


def test_write_and_read_refuse_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="one of srt, vtt, ass"):
        write_subtitles(CUES, "sub")
    with pytest.raises(ValueError, match="one of srt, vtt, ass"):
        read_subtitles("", "a.sub", kind="sub")


def test_sniffing() -> None:
    assert subtitle_kind("a.srt", render_vtt(CUES)) == "vtt"  # the header wins over the name
    assert subtitle_kind("", "\ufeff\r\nWEBVTT - title\r\n") == "vtt"
    assert subtitle_kind("a.srt", render_ass(CUES)) == "ass"
    assert subtitle_kind("", "\ufeff[script info]\n") == "ass"
    assert subtitle_kind("a.vtt", render_srt(CUES)) == "vtt"  # no header: the suffix says
    assert subtitle_kind("A.SSA") == "ass"
    assert subtitle_kind("a.srt", "WEBVTTX\n") == "srt"
    assert subtitle_kind("a.txt", render_srt(CUES)) == "srt"  # no suffix: its timing lines
    assert subtitle_kind("a.txt", "\ufeff我们的节目\n00:01 --> 00:02 is not said\n") is None
    assert subtitle_kind("a.txt", "台词\n" * 10 + "00:00:01,000 --> 00:00:02,000\n") is None
    assert subtitle_kind("a.txt") is None
    assert subtitle_kind(Path("ep1.ur.vtt")) == "vtt"


def test_a_webvtt_file_without_its_header_is_read_by_its_name() -> None:
    text = "00:00:01.000 --> 00:00:02.000\nhello\n"
    parsed = read_subtitles(text, "ep1.vtt")
    assert [c.text for c in parsed.cues] == ["hello"]
    assert any("no WEBVTT header" in r for r in parsed.repairs)


# ----------------------------------------------------------------------------- round trips

# Text a subtitle line may hold: Chinese, Urdu with bidi marks, Latin, digits, the markup
# characters of every format (escaped by the writers), arrows, commas and no-break spaces.
_COMMON = "中国巴基斯坦，。？ پاکستان،۔؟ABCxyz019\u200e\u200f\u00a0-,"
_ALPHABETS = {
    "srt": _COMMON + "<i>->&",  # no ':' either: "0:0,0->" would be a damaged timing line
    "vtt": _COMMON + ":<>&;amp/v.c-->NOTE",
    "ass": _COMMON + ":{}\\Nnh\u2060;[]",
}


@functools.cache  # built once for each format: cue_lists() asks for it for every cue
def _lines(kind: str) -> st.SearchStrategy[str]:
    line = st.text(alphabet=st.sampled_from(_ALPHABETS[kind]), min_size=1, max_size=20)
    line = line.map(str.strip).filter(bool)
    if kind == "srt":
        # SubRip has no escapes: a line of digits above a timing line, or an arrow, is markup.
        line = line.filter(lambda s: "-->" not in s and not s.isdigit())
    return line


@st.composite
def cue_lists(draw: st.DrawFn, kind: str) -> list[Cue]:
    """Non-overlapping cues in time order, on a 10 ms grid for ASS (centiseconds)."""
    step = 10 if kind == "ass" else 1
    cues, t = [], 0
    for i in range(draw(st.integers(0, 8))):
        start = t + step * draw(st.integers(0, 500))
        end = start + step * draw(st.integers(0, 800))
        cues.append(
            Cue(i + 1, start, end, tuple(draw(st.lists(_lines(kind), min_size=1, max_size=3))))
        )
        t = end
    return cues


@pytest.mark.parametrize("kind", ["srt", "vtt", "ass"])
def test_read_write_round_trip(kind: str) -> None:
    @given(cue_lists(kind))
    def round_trip(cues: list[Cue]) -> None:
        text = write_subtitles(cues, kind)
        parsed = read_subtitles(text, f"a.{kind}", kind=kind, strict=True)
        assert list(parsed.cues) == cues
        assert parsed.repairs == ()
        if cues:  # an empty SRT or ASS file has nothing to sniff
            assert read_subtitles(text, f"a.{kind}").cues == parsed.cues

    round_trip()


# ------------------------------------------------------------------------- SRT: repairs


DAMAGED_SRT = (
    "\ufeff1\r\n0:00:01,000 --> 00:00:02,500\r\n你好\r\n\r\n"
    "x\r\n00:00:03.000 --> 00:00:04,000\r\n再见\r\n\r\n"
    "7\r\n00:00:05,000 --> 00:00:06,000\r\n\r\n"
    "4\r\n00:00:09,000 --> 00:00:10,000\r\n第四\r\n\r\n"
    "5\r\n00:00:07,000 --> 00:00:09,500\r\n第五\r\n\r\n"
    "6\r\n00:00:12,000 --> 00:00:11,000\r\n倒了\r\n"
)


def test_srt_lenient_repairs_and_reports() -> None:
    parsed = read_subtitles(DAMAGED_SRT, "a.srt")
    assert [(c.index, c.start_ms, c.end_ms, c.lines) for c in parsed.cues] == [
        (1, 1000, 2500, ("你好",)),
        (2, 3000, 4000, ("再见",)),
        (3, 7000, 9000, ("第五",)),  # moved before 第四 and trimmed to its start
        (4, 9000, 10000, ("第四",)),
    ]
    assert parsed.repairs == (
        "a.srt:1: byte-order mark removed",
        "a.srt:1: CRLF line ends read as LF",
        "a.srt:2: one-digit hours; read as HH",
        "a.srt:5: index 'x' is not a number; renumbered",
        "a.srt:6: '.' before milliseconds; read as ','",
        "a.srt:9: index 7 out of sequence; renumbered 3",
        "a.srt:10: empty cue; dropped",
        "a.srt:21: cue ends before it starts (00:00:12,000 --> 00:00:11,000); dropped",
        "a.srt:17: cue starts at 00:00:07,000, before the cue above it (line 13); moved into "
        "time order",
        "a.srt:17: cue ends at 00:00:09,500, after the next cue starts (line 13); end trimmed "
        "to 00:00:09,000",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1\n0:00:01,000 --> 00:00:02,000\nx\n", "a.srt:2: one-digit hours; SubRip writes"),
        ("1\n00:00:01.000 --> 00:00:02,000\nx\n", "a.srt:2: '.' before milliseconds; SubRip"),
        ("1\n00:00:01,0 --> 00:00:02,000\nx\n", r"a.srt:2: timing '00:00:01,0 --> 00:00:02,000'"),
        ("2\n00:00:01,000 --> 00:00:02,000\nx\n", "a.srt:1: index 2 out of sequence; number"),
        ("one\n00:00:01,000 --> 00:00:02,000\nx\n", "a.srt:1: index 'one' is not a number"),
        ("00:00:01,000 --> 00:00:02,000\nx\n", r"a.srt:1: cue without an index line; put its"),
        ("1\n00:00:01,000 --> 00:00:02,000\n\n", "a.srt:2: empty cue; delete it or give it"),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nx\n2\n00:00:03,000 --> 00:00:04,000\ny\n",
            "a.srt:4: no blank line before this cue; put a blank line",
        ),
        ("1\n00:00:01,000 --> 00:00:02,000\nx\n\ny\n", "a.srt:5: blank line inside a cue; a"),
        (
            "1\n00:00:05,000 --> 00:00:06,000\nx\n\n2\n00:00:01,000 --> 00:00:02,000\ny\n",
            r"a.srt:6: cue starts at 00:00:01,000, before the cue above it \(line 2, "
            r"00:00:05,000\); put the cues in time order",
        ),
        (
            "1\n00:00:01,000 --> 00:00:03,000\nx\n\n2\n00:00:02,000 --> 00:00:04,000\ny\n",
            r"a.srt:6: cue starts at 00:00:02,000, before the cue above it ends \(line 2, "
            r"00:00:03,000\); end that cue earlier",
        ),
        ("1\n00:00:03,000 --> 00:00:02,000\nx\n", "a.srt:2: cue ends before it starts"),
    ],
)
def test_srt_strict_names_the_line(text: str, message: str) -> None:
    with pytest.raises(SubtitleParseError, match=message):
        read_subtitles(text, "a.srt", strict=True)
    lenient = read_subtitles(text, "a.srt")  # the same text is repaired leniently
    assert lenient.repairs


def test_srt_strict_accepts_bom_and_crlf() -> None:
    text = "\ufeff" + render_srt(CUES).replace("\n", "\r\n")
    parsed = read_subtitles(text, "a.srt", strict=True)
    assert list(parsed.cues) == CUES
    assert parsed.repairs == ()


def test_parse_srt_keeps_refusing_an_inverted_cue_unless_told_to_drop_it() -> None:
    text = "1\n00:00:03,000 --> 00:00:02,000\nx\n\n2\n00:00:04,000 --> 00:00:05,000\ny\n"
    with pytest.raises(SubtitleParseError, match=r"a\.srt:2: cue ends before it starts"):
        parse_srt(text, "a.srt")
    parsed = parse_srt(text, "a.srt", drop_inverted=True)
    assert [c.lines for c in parsed.cues] == [("y",)]
    assert parsed.cues[0].index == 1


def test_failures_that_no_mode_repairs() -> None:
    for strict in (False, True):
        with pytest.raises(SubtitleParseError, match=r"a\.srt:2: unreadable timing line"):
            read_subtitles("1\n00:00:01,000 --> 00:0x:02,000\nx\n", "a.srt", strict=strict)
        with pytest.raises(SubtitleParseError, match=r"a\.vtt:3: unreadable timing line"):
            read_subtitles("WEBVTT\n\n00:01.000 --> soon\nx\n", "a.vtt", strict=strict)
        with pytest.raises(SubtitleParseError, match=r"a\.ass:4: unreadable End time 'soon'"):
            read_subtitles(
                "[Script Info]\n[Events]\nFormat: Start, End, Text\nDialogue: 0:00:01.00,soon,x\n",
                "a.ass",
                strict=strict,
            )


# ------------------------------------------------------------------------ WebVTT: reading

VTT = """WEBVTT - a programme
Kind: captions

STYLE
::cue { color: yellow }

REGION
id:fred

NOTE a comment
that goes on

intro
00:01.000 --> 00:02.500 align:right line:90%
<v Anchor>&lrm;CPEC&lrm; کا <i>نیا</i> مرحلہ</v>
<c.yellow>A &amp; B &lt;3&gt;</c>&nbsp;x

00:00:03.000 --> 00:00:04.000
<ruby>漢<rt>kan</rt></ruby>字 <00:00:03.500>走廊

NOTE
00:00:05.000 --> 00:00:06.000 is not a cue
"""


def test_vtt_reads_ids_settings_tags_and_entities_and_skips_blocks() -> None:
    parsed = read_subtitles(VTT, "a.vtt", strict=True)
    assert parsed.cues == (
        Cue(1, 1000, 2500, (f"{LRM}CPEC{LRM} کا نیا مرحلہ", "A & B <3>\u00a0x")),
        Cue(2, 3000, 4000, ("漢字 走廊",)),
    )
    assert parsed.repairs == ()


DAMAGED_VTT = (
    "\ufeffWEBVTT\r\n\r\n"
    "1\r\n0:00:01.000 --> 0:00:02.000\r\na\r\n\r\n"
    "00:00:03,000 --> 00:00:05,000\r\nb\r\n"
    "00:00:04.000 --> 00:00:06.000\r\nc\r\n\r\n"
    "00:00:00.500 --> 00:00:00.900\r\n<i></i>\r\n\r\n"
    "stray text\r\n\r\n"
    "00:00:08.000 --> 00:00:07.000\r\nd\r\n"
)


def test_vtt_lenient_repairs_and_reports() -> None:
    parsed = read_subtitles(DAMAGED_VTT, "a.vtt")
    assert [(c.start_ms, c.end_ms, c.lines) for c in parsed.cues] == [
        (1000, 2000, ("a",)),
        (3000, 4000, ("b",)),
        (4000, 6000, ("c",)),
    ]
    assert parsed.repairs == (
        "a.vtt:1: byte-order mark removed",
        "a.vtt:1: CRLF line ends read as LF",
        "a.vtt:4: one-digit hours; read as HH",
        "a.vtt:7: ',' before milliseconds; read as '.'",
        "a.vtt:9: no blank line before this cue; read as a new cue",
        "a.vtt:12: empty cue; dropped",
        "a.vtt:15: text 'stray text' outside a cue; dropped",
        "a.vtt:17: cue ends before it starts (00:00:08.000 --> 00:00:07.000); dropped",
        "a.vtt:7: cue ends at 00:00:05.000, after the next cue starts (line 9); end trimmed to "
        "00:00:04.000",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("00:01.000 --> 00:02.000\nx\n", "a.vtt:1: no WEBVTT header; a WebVTT file starts"),
        ("WEBVTT\n00:01.000 --> 00:02.000\nx\n", "a.vtt:2: no blank line after the WEBVTT"),
        ("\n\nWEBVTT\n\n00:01.000 --> 00:02.000\nx\n", "a.vtt:1: blank lines before the WEBVTT"),
        ("WEBVTT\n\n1:00:01.000 --> 1:00:02.000\nx\n", "a.vtt:3: one-digit hours; WebVTT"),
        ("WEBVTT\n\n00:01,000 --> 00:02.000\nx\n", "a.vtt:3: ',' before milliseconds"),
        ("WEBVTT\n\n0:1.5 --> 00:02.000\nx\n", r"a.vtt:3: timing '0:1.5 --> 00:02.000' is not"),
        ("WEBVTT\n\nhello\n\n00:01.000 --> 00:02.000\nx\n", "a.vtt:3: text 'hello' outside"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\n<b> </b>\n", "a.vtt:3: empty cue"),
        ("WEBVTT\n\n00:03.000 --> 00:02.000\nx\n", "a.vtt:3: cue ends before it starts"),
        (
            "WEBVTT\n\n00:01.000 --> 00:03.000\nx\n\n00:02.000 --> 00:04.000\ny\n",
            r"a.vtt:6: cue starts at 00:00:02.000, before the cue above it ends \(line 3",
        ),
        (
            "WEBVTT\n\n00:05.000 --> 00:06.000\nx\n\n00:02.000 --> 00:04.000\ny\n",
            r"a.vtt:6: cue starts at 00:00:02.000, before the cue above it \(line 3",
        ),
    ],
)
def test_vtt_strict_names_the_line(text: str, message: str) -> None:
    with pytest.raises(SubtitleParseError, match=message):
        read_subtitles(text, "a.vtt", strict=True, kind="vtt")
    assert read_subtitles(text, "a.vtt", kind="vtt").repairs


# --------------------------------------------------------------------------- ASS: reading

ASS = "\n".join(
    [
        "[Script Info]",
        "ScriptType: v4.00+",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize",
        "Style: Default,Arial,20",
        "",
        "[Events]",
        "; the Format puts Text last but orders the rest its own way",
        "Format: Start, End, Layer, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        "Comment: 0:00:00.00,0:00:09.00,0,Default,,0,0,0,,a note for the editor",
        r"Dialogue: 0:00:01.00,0:00:02.50,1,Default,Anchor,0,0,0,,"
        r"{\an8\fnNoto Nastaliq Urdu}چین، پاکستان\Nsecond, line{\i1}!{\i0}",
        r"Dialogue: 0:00:03.05,0:00:04.1,0,Default,,0,0,0,Scroll up;20;120,"
        r"a\nb\hc {\p1}m 0 0 l 100 0 100 100{\p0}d",
        "",
    ]
)


def test_ass_reads_text_in_the_format_order_without_override_tags() -> None:
    parsed = read_subtitles(ASS, "a.ass", strict=True)
    assert parsed.cues == (
        Cue(1, 1000, 2500, ("چین، پاکستان", "second, line!")),
        Cue(2, 3050, 4100, ("a", "b\u00a0c d")),
    )
    assert parsed.repairs == ()


DAMAGED_ASS = (
    "\ufeff[Script Info]\r\n\r\n[Events]\r\n"
    "Dialogue: 0,0:00:05.00,0:00:07.00,Urdu,,0,0,0,,b\r\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\r\n"
    "Dialogue: 0,0:00:01.00,0:00:06.00,Urdu,,0,0,0,,a\r\n"
    "Dialogue: 0,0:00:08.00,0:00:09.00,Urdu,,0,0,0,,{\\i1}{\\i0}\r\n"
    "Dialogue: 0,0:00:10.00,0:00:09.00,Urdu,,0,0,0,,c\r\n"
    "Banner: x\r\n"
)


def test_ass_lenient_repairs_and_reports() -> None:
    parsed = read_subtitles(DAMAGED_ASS, "a.ass")
    assert [(c.start_ms, c.end_ms, c.lines) for c in parsed.cues] == [
        (1000, 5000, ("a",)),
        (5000, 7000, ("b",)),
    ]
    assert parsed.repairs == (
        "a.ass:1: byte-order mark removed",
        "a.ass:1: CRLF line ends read as LF",
        "a.ass:4: Dialogue before the [Events] Format line; read with the standard ASS fields",
        "a.ass:7: empty cue; dropped",
        "a.ass:8: cue ends before it starts (0:00:10.00 --> 0:00:09.00); dropped",
        "a.ass:9: 'Banner: x' is not an [Events] line; skipped",
        "a.ass:6: cue starts at 0:00:01.00, before the cue above it (line 4); moved into time "
        "order",
        "a.ass:6: cue ends at 0:00:06.00, after the next cue starts (line 4); end trimmed to "
        "0:00:05.00",
    )


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ("Dialogue: 0,0:00:01.00,0:00:02.00,,,0,0,0,,x", "a.ass:3: Dialogue before the"),
        ("Format: Start, End, Text\nBanner: x", "a.ass:4: 'Banner: x' is not an"),
        ("Format: Start, End, Text\nDialogue: 0:00:01.00,0:00:02.00,", "a.ass:4: empty cue"),
        (
            "Format: Start, End, Text\nDialogue: 0:00:01.00,0:00:03.00,x\n"
            "Dialogue: 0:00:02.00,0:00:04.00,y",
            r"a.ass:5: cue starts at 0:00:02.00, before the cue above it ends \(line 4",
        ),
        ("Format: Start, End, Text\nDialogue: 0:00:03.00,0:00:02.00,x", "a.ass:4: cue ends"),
    ],
)
def test_ass_strict_names_the_line(events: str, message: str) -> None:
    text = f"[Script Info]\n[Events]\n{events}\n"
    with pytest.raises(SubtitleParseError, match=message):
        read_subtitles(text, "a.ass", strict=True)
    assert read_subtitles(text, "a.ass").repairs


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ("Format: Start, Text, End", r"a.ass:3: \[Events\] Format 'Start, Text, End' needs"),
        ("Format: Start, End, Text\nDialogue: 0:00:01.00", "a.ass:4: Dialogue has 1 fields"),
    ],
)
def test_ass_unreadable_events_fail_in_both_modes(events: str, message: str) -> None:
    for strict in (False, True):
        with pytest.raises(SubtitleParseError, match=message):
            read_subtitles(f"[Script Info]\n[Events]\n{events}\n", "a.ass", strict=strict)


def test_every_message_is_one_line_with_name_and_line() -> None:
    for text, name in ((DAMAGED_SRT, "a.srt"), (DAMAGED_VTT, "a.vtt"), (DAMAGED_ASS, "a.ass")):
        for repair in read_subtitles(text, name).repairs:
            assert re.fullmatch(rf"{re.escape(name)}:\d+: [^\n]+", repair), repair
