"""Reading SubRip robustly: what players forgive is repaired and reported; the rest names
its line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dubkit.errors import SubtitleParseError
from dubkit.records import Cue
from dubkit.subtitles.parse import decode_subtitle_bytes, parse_srt
from dubkit.subtitles.writers import render_srt


def test_bom_crlf_missing_blank_lines_and_bad_indices() -> None:
    text = (
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n你好\r\n世界\r\n"
        "7\r\n0:00:03.000 --> 00:00:04,000\r\n再见\r\n\r\n\r\n"
        "x\r\n00:00:05,000 --> 00:00:06,000 X1:10 X2:20\r\n第三\r\n"
        "00:00:07,000 --> 00:00:08,000\r\n第四\r\n"
    )
    parsed = parse_srt(text, "a.srt")
    assert [(c.index, c.start_ms, c.end_ms, c.lines) for c in parsed.cues] == [
        (1, 1000, 2500, ("你好", "世界")),
        (2, 3000, 4000, ("再见",)),
        (3, 5000, 6000, ("第三",)),
        (4, 7000, 8000, ("第四",)),
    ]
    report = "\n".join(parsed.repairs)
    assert "a.srt:5: no blank line before this cue" in report
    assert "a.srt:5: index 7 out of sequence" in report
    assert "a.srt:6: '.' before milliseconds" in report
    assert "a.srt:10: index 'x' is not a number" in report
    assert "a.srt:13: cue without an index line" in report


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "hello\n\n1\n00:00:01,000 --> 00:00:02,000\nx\n",
            "a.srt:1: text 'hello' before the first",
        ),
        ("1\n00:00:01,000 --> 00:0x:02,000\nx\n", "a.srt:2: unreadable timing line"),
        ("1\n00:00:03,000 --> 00:00:02,000\nx\n", "a.srt:2: cue ends before it starts"),
    ],
)
def test_unreadable_input_names_the_line(text: str, message: str) -> None:
    with pytest.raises(SubtitleParseError, match=message):
        parse_srt(text, "a.srt")


def test_encodings() -> None:
    srt = "1\n00:00:01,000 --> 00:00:02,000\n中国\n"
    assert decode_subtitle_bytes(srt.encode("utf-16"), "a.srt") == srt
    assert decode_subtitle_bytes(srt.encode("gb18030"), "a.srt", "gb18030") == srt
    with pytest.raises(SubtitleParseError, match=r"a.srt:3: not UTF-8.*--encoding gb18030"):
        decode_subtitle_bytes(srt.encode("gb18030"), "a.srt")


line = (
    st.text(
        alphabet=st.sampled_from("中国巴基斯坦合作，。？ABCxyz019-> پاکستان،۔؟\u200e<i>"),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(lambda s: s != "" and "-->" not in s and not s.isdigit())
)


@st.composite
def cue_lists(draw: st.DrawFn) -> list[Cue]:
    n = draw(st.integers(0, 8))
    cues, t = [], 0
    for i in range(n):
        start = t + draw(st.integers(0, 5000))
        end = start + draw(st.integers(0, 8000))
        lines = tuple(draw(st.lists(line, min_size=1, max_size=3)))
        cues.append(Cue(i + 1, start, end, lines))
        t = end
    return cues


@given(cue_lists())
def test_parse_render_round_trip(cues: list[Cue]) -> None:
    parsed = parse_srt(render_srt(cues))
    assert list(parsed.cues) == cues
    assert parsed.repairs == ()


def test_dialogue_that_looks_like_indices_or_arrows_is_kept() -> None:
    text = (
        "1\n00:00:01,000 --> 00:00:02,000\n2024\nA -> B\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\n会议 10:30 -> 11:00\n\n"
        "²\n00:00:05,000 --> 00:00:06,000\nx\n"
    )
    parsed = parse_srt(text, "x.srt")
    assert [c.lines for c in parsed.cues] == [("2024", "A -> B"), ("会议 10:30 -> 11:00",), ("x",)]
    assert parsed.repairs == ("x.srt:10: index '²' is not a number; renumbered",)


def test_damaged_utf16_is_one_clear_error() -> None:
    with pytest.raises(SubtitleParseError, match=r"a\.srt: damaged UTF-16"):
        decode_subtitle_bytes(b"\xff\xfe1\x00\n", "a.srt")
