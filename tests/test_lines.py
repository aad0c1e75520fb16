"""dubkit.text.lines and dubkit.text.reading: the one line-breaking rule, the one way Chinese
lines join, and the one character count layout and QA share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dubkit.text.lines import Piece, balanced_lines, join_lines, wrap_words
from dubkit.text.reading import count_chars, reading_speed, too_fast
from dubkit.text.urdu import LRM


def test_join_lines_spaces_only_where_latin_goes_on() -> None:
    assert join_lines(["中巴经济走廊", "建设"]) == "中巴经济走廊建设"
    assert join_lines(["项目 CPEC", "PTV 报道"]) == "项目 CPEC PTV 报道"
    assert join_lines(["他说 Hello,", "world"]) == "他说 Hello, world"
    assert join_lines(["2025", "年"]) == "2025年"
    assert join_lines(["价格是$", "100"]) == "价格是$100"
    assert join_lines([" 中国 ", "", "  巴基斯坦"]) == "中国巴基斯坦"
    assert join_lines(["one ", "", " two"], "en") == "one two"
    assert join_lines([]) == ""


def test_one_line_when_it_fits() -> None:
    assert wrap_words("ایک دو تین", 42, 2) == ("ایک دو تین",)
    assert wrap_words("  ", 42, 2) == ()


def test_two_lines_balanced_and_bottom_heavy() -> None:
    # 7 + 1 + 7 = 15 > 10: "aaa bbb" / "ccc ddd" is the only even split
    assert wrap_words("aaa bbb ccc ddd", 10, 2) == ("aaa bbb", "ccc ddd")
    # two splits equally uneven: the longer line goes below
    assert wrap_words("aa bbb cc", 6, 2) == ("aa", "bbb cc")


def test_break_after_punctuation_when_nearly_as_balanced() -> None:
    assert wrap_words("یہ بات، اور وہ بات", 12, 2) == ("یہ بات،", "اور وہ بات")
    pieces = [Piece(c) for c in "中巴经济走廊，建设取得新进展"]
    assert balanced_lines(pieces, 8, 2) == ("中巴经济走廊，", "建设取得新进展")


def test_a_space_in_chinese_is_as_good_a_break_as_a_comma() -> None:
    text = "中巴经济走廊 建设取得新进展"  # the space stands for a comma
    pieces = [Piece(c, k > 0 and text[k - 1] == " ") for k, c in enumerate(text) if c != " "]
    assert balanced_lines(pieces, 10, 2) == ("中巴经济走廊", "建设取得新进展")


def test_a_pause_pulls_the_break() -> None:
    pieces = [Piece(c) for c in "一二三四五六七八"]
    plain = balanced_lines(pieces, 5, 2)
    paused = balanced_lines([*pieces[:5], Piece("六", bonus=4.0), *pieces[6:]], 5, 2)
    assert plain == ("一二三四", "五六七八")
    assert paused == ("一二三四五", "六七八")


def test_fewest_lines_first() -> None:
    # three even lines of 5 would be more balanced than 11/5, but two lines are enough
    assert wrap_words("aaaaa bbbbb ccccc", 11, 3) == ("aaaaa", "bbbbb ccccc")


def test_text_that_cannot_fit_is_never_cut() -> None:
    assert wrap_words("abcdefghijkl", 5, 2) == ("abcdefghijkl",)
    lines = wrap_words("aaaa bbbb cccc dddd eeee", 5, 2)
    assert len(lines) == 2 and " ".join(lines) == "aaaa bbbb cccc dddd eeee"


pieces_st = st.lists(
    st.builds(
        Piece,
        st.text(alphabet="中国ab，。", min_size=1, max_size=5),
        st.booleans(),
        st.floats(-3, 8),
    ),
    min_size=1,
    max_size=25,
)


@given(pieces_st, st.integers(3, 20), st.integers(1, 4))
def test_lines_keep_every_piece_in_order_within_the_limits(
    pieces: list[Piece], width: int, max_lines: int
) -> None:
    lines = balanced_lines(pieces, width, max_lines)
    assert 1 <= len(lines) <= max_lines
    assert "".join(lines).replace(" ", "") == "".join(p.text for p in pieces).replace(" ", "")
    # with a space between every two pieces they need at least as many lines as without
    spaced = wrap_words(" ".join(p.text for p in pieces), width, 99)
    if all(len(p.text) <= width for p in pieces) and len(spaced) <= max_lines:
        assert all(len(line) <= width for line in lines)


def test_reading_count_is_one_rule() -> None:
    assert count_chars(["ab cd", "ef"]) == 8  # a line break counts as the space it stands for
    assert count_chars([f"یہ {LRM}CPEC{LRM} ہے"]) == len("یہ CPEC ہے")
    assert count_chars(["<i>ab</i> {\\an8}cd"]) == 5
    assert reading_speed(17, 1000) == 17.0 and reading_speed(1, 0) is None
    assert reading_speed(0, 0) == 0.0
    assert too_fast(17.01, 17.0) and not too_fast(17.0, 17.0)
    assert not too_fast(None, 17.0) and not too_fast(40.0, None)


@pytest.mark.parametrize(("chars", "lines"), [(20_000, 10), (640, 10), (300, 3)])
def test_text_far_too_long_keeps_every_character_in_the_lines_allowed(
    chars: int, lines: int
) -> None:
    # a hostile or broken cue: laid out in one pass, never cut (the search is cubic)
    out = balanced_lines([Piece("字") for _ in range(chars)], 16, lines)
    assert len(out) == lines
    assert "".join(out) == "字" * chars
    assert all(len(line) == 16 for line in out[:-1])
