"""`dubkit align`: the aligner on synthetic timed characters (exact, edited, missing lines,
properties), linear corrections, the command without audio, and with the real whisper:base
model on real recordings: a shifted SRT and hand-typed scripts are retimed."""

from __future__ import annotations

import itertools
import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dubkit.align.alignment import (
    FALLBACK_CHAR_MS,
    TimedChar,
    align_characters,
    align_script,
    fit_linear,
    layout_cues,
    match_text,
    retime_linear,
    retime_text,
    shift,
    spoken_text,
    stretch,
    timed_characters,
)
from dubkit.align.onsets import speech_end, speech_start
from dubkit.cli import app
from dubkit.profiles import BUILTIN_PROFILES, Profile
from dubkit.records import Cue, Segment, Transcript, Word
from dubkit.subtitles.writers import render_srt
from dubkit.timecode import frame_to_ms, ms_to_frame_floor

runner = CliRunner()
PROFILE = BUILTIN_PROFILES["zh-broadcast"]
GAP_MS = frame_to_ms(PROFILE.min_gap_frames, PROFILE.fps)
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x4E60)  # few: repeats are common


def speak(
    units: list[str], char_ms: int = 250, pause_ms: int = 400, t0: int = 1000
) -> tuple[list[TimedChar], list[tuple[int, int]]]:
    """Timed characters for units said one after another, and each unit's true span."""
    chars: list[TimedChar] = []
    spans = []
    t = t0
    for unit in units:
        start = t
        for c in match_text(unit):
            chars.append(TimedChar(c, t, t + char_ms - 10))
            t += char_ms
        spans.append((start, t - 10))
        t += pause_ms
    return chars, spans


LINES = [
    "各位观众晚上好，",
    "欢迎收看今天的新闻联播。",
    "中巴经济走廊建设取得新进展，",
    "瓜达尔港迎来了第一批货轮。",
    "两国领导人通电话，",
    "就双边关系交换了意见。",
    "下面请看详细报道。",
]


# --------------------------------------------------------------------------- characters


def test_timed_characters_spread_each_word_over_its_characters() -> None:
    words = (
        Word("大大", 1000, 1400, 0.9),
        Word("，", 1400, 1400),
        Word(" ＡＩ", 1500, 1700, 0.5),
        Word("降低", 1700, 1700),
    )
    transcript = Transcript((Segment("大大，AI降低", 1000, 1700, words),), "zh", 1.0, 2000)
    assert timed_characters(transcript) == [
        TimedChar("大", 1000, 1200, 0.9, 0),
        TimedChar("大", 1200, 1400, 0.9, 0),
        TimedChar("a", 1500, 1600, 0.5, 2),
        TimedChar("i", 1600, 1700, 0.5, 2),
        TimedChar("降", 1700, 1700, 1.0, 3),
        TimedChar("低", 1700, 1700, 1.0, 3),
    ]


def test_match_text_drops_punctuation_and_spaces_and_folds_width_and_case() -> None:
    assert match_text("CPEC 项目，２０２５年！") == "cpec项目2025年"


# ------------------------------------------------------------------------------ aligner


def test_exact_script_is_placed_at_the_spoken_times() -> None:
    chars, spans = speak(LINES)
    placements = align_script(LINES, chars)
    assert [(p.start_ms, p.end_ms) for p in placements] == spans
    assert all(p.placed and p.confidence == 1.0 for p in placements)


def test_insertions_deletions_and_substitutions_lower_confidence_not_timing() -> None:
    chars, spans = speak(LINES)
    typed = list(LINES)
    typed[1] = "欢迎收看今天的新闻节目。"  # 联播 → 节目: substituted
    typed[2] = "中巴经济走廊建设取得了重要新进展，"  # 了, 重要 inserted
    typed[3] = "瓜达尔港迎来第一批货轮。"  # 了 deleted
    placements = align_script(typed, chars)
    assert all(p.placed for p in placements)
    assert placements[0].confidence == 1.0
    assert placements[1].confidence == pytest.approx(9 / 11)
    assert placements[2].confidence == pytest.approx(13 / 16)
    assert placements[3].confidence == 1.0
    for p, (start, end) in zip(placements, spans, strict=True):
        assert abs(p.start_ms - start) <= 250 and abs(p.end_ms - end) <= 250
    # the substituted characters at the end still time the line's end
    assert placements[1].end_ms == spans[1][1]


def test_a_line_not_in_the_speech_is_unplaced_and_timed_between_its_neighbours() -> None:
    chars, spans = speak(LINES)
    typed = [*LINES[:3], "今晚的天气预报由中央气象台提供", *LINES[3:]]
    placements = align_script(typed, chars)
    assert [p.placed for p in placements] == [True] * 3 + [False] + [True] * 4
    extra = placements[3]
    assert extra.confidence < 0.4
    assert spans[2][1] <= extra.start_ms <= extra.end_ms <= spans[3][0]
    result = retime_text(typed, chars, PROFILE)
    flagged = [c for c in result.cues if "unplaced" in c.flags]
    assert [c.text for c in flagged] == ["今晚的天气预报由中央气象台提供"]


def test_an_unplaced_line_does_not_take_its_neighbours_characters() -> None:
    # The extra line shares 我们 with the start of the next one: the next line keeps it.
    units = ["好的", "我们今天不去公园了", "我们要学会换位思考"]
    chars, spans = speak(["好的", "我们要学会换位思考"])
    placements = align_script(units, chars)
    assert [p.placed for p in placements] == [True, False, True]
    assert placements[2].start_ms == spans[1][0]
    assert placements[2].confidence == 1.0


def test_a_mis_heard_line_is_timed_by_the_characters_it_lines_up_with() -> None:
    heard, spans = speak(["这个也能理解", "因为气流病菌", "确实国内最早做云存储的公司"])
    script = ["这个也能理解", "因为七牛毕竟", "确实国内最早做云存储的公司"]
    placements = align_script(script, heard)
    assert not placements[1].placed  # 2 of 6 characters: too few to trust as a placement
    assert (placements[1].start_ms, placements[1].end_ms) == spans[1]


def test_units_before_the_first_and_after_the_last_placed_one() -> None:
    chars, spans = speak(LINES[1:3], t0=5000)
    units = ["片头音乐", *LINES[1:3], "谢谢收看"]
    placements = align_script(units, chars)
    assert [p.placed for p in placements] == [False, True, True, False]
    assert placements[0].end_ms <= spans[0][0]
    assert placements[0].end_ms - placements[0].start_ms == 4 * FALLBACK_CHAR_MS
    assert placements[3].start_ms >= spans[1][1]


def test_nothing_in_common_places_nothing_but_keeps_every_unit_in_order() -> None:
    chars, _ = speak(["完全不同的内容"])
    result = retime_text(LINES, chars, PROFILE)
    assert not any(p.placed for p in result.placements)
    assert len(result.cues) == len(LINES)
    assert all("unplaced" in c.flags for c in result.cues)
    _check_cues(result.cues, PROFILE)


def test_srt_hints_time_unplaced_cues_when_the_speech_gives_nothing() -> None:
    # The cue 瓜达尔港... replaced by words that are not spoken; its old times, shifted by the
    # same 3 s as the rest, still say where it goes.
    units = [*LINES[:3], "片尾", *LINES[4:]]
    spoken_minus_one = [*LINES[:3], *LINES[4:]]
    chars, spans = speak(spoken_minus_one)
    hints = [(s - 3000, e - 3000) for s, e in spans]
    hints.insert(3, (spans[2][1] - 3000 + 300, spans[2][1] - 3000 + 350))
    placements = align_script(units, chars, hints)
    assert not placements[3].placed
    assert (placements[3].start_ms, placements[3].end_ms) == (spans[2][1] + 300, spans[2][1] + 350)


def test_long_unit_is_split_at_punctuation_and_timed_by_its_characters() -> None:
    paragraph = "".join(LINES)  # 75 characters: more than one cue holds
    chars, spans = speak(LINES, pause_ms=0)
    result = retime_text([paragraph], chars, PROFILE)
    assert len(result.cues) > 2
    assert set(result.cue_units) == {0}
    assert "".join(c.text.replace("\n", "") for c in result.cues) == paragraph
    for cue in result.cues:
        assert len(cue.lines) <= PROFILE.max_lines
        assert all(len(line) <= PROFILE.max_chars_per_line for line in cue.lines)
        assert cue.text.replace("\n", "")[-1] in "，。"  # cut after punctuation
    # the second cue starts where its first character was said (to the frame)
    first = result.cues[1].text[0]
    said = next(s for s, (line) in zip(spans, LINES, strict=True) if line.startswith(first))
    assert abs(result.cues[1].start_ms - said[0]) <= 40


def test_an_srt_cues_own_line_breaks_are_kept() -> None:
    chars, _ = speak(["中巴经济走廊建设取得新进展瓜达尔港迎来了第一批货轮"])
    result = retime_text(["中巴经济走廊建设取得新进展\n瓜达尔港迎来了第一批货轮"], chars, PROFILE)
    assert result.cues[0].lines == ("中巴经济走廊建设取得新进展", "瓜达尔港迎来了第一批货轮")


def test_large_script_aligns_with_edits_and_extra_lines() -> None:
    """20,000 characters against a recognition with 15% errors: every spoken line placed."""
    rnd = random.Random(5)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 2500)]
    units = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(8, 30))) for _ in range(1050)]
    total = sum(len(u) for u in units)
    assert total >= 20_000
    extra = set(rnd.sample(range(len(units)), 40))
    heard, first_said, t = [], {}, 0
    for n, unit in enumerate(units):
        t += 300
        if n in extra:
            continue
        for c in unit:
            r = rnd.random()
            if r < 0.05:
                continue
            heard.append(TimedChar(rnd.choice(alphabet) if r < 0.10 else c, t, t + 200))
            first_said.setdefault(n, t)
            t += 250
            if r > 0.95:
                heard.append(TimedChar(rnd.choice(alphabet), t, t + 200))
                t += 250
    placements = align_script(units, heard)
    assert all(placements[n].placed for n in first_said)
    assert not any(placements[n].placed for n in extra)
    errors = sorted(abs(placements[n].start_ms - t) for n, t in first_said.items())
    assert errors[len(errors) // 2] == 0
    assert errors[int(len(errors) * 0.99)] <= 500


def test_align_characters_is_monotonic_and_pairs_equal_characters() -> None:
    pairs = align_characters("甲乙丙丁戊己", "乙丙X丁己庚")
    assert pairs == sorted(pairs)
    assert len({i for i, _ in pairs}) == len(pairs) == len({j for _, j in pairs})
    matched = [("甲乙丙丁戊己"[i], "乙丙X丁己庚"[j]) for i, j in pairs]
    assert [a for a, b in matched if a == b] == list("乙丙丁己")


def test_align_characters_without_anything_in_common() -> None:
    assert align_characters("甲" * 3000, "乙" * 3000) == []
    assert align_characters("", "甲乙") == align_characters("甲乙", "") == []


# --------------------------------------------------------------------------- properties


def _check_cues(cues: tuple[Cue, ...], profile: Profile) -> None:
    gap = frame_to_ms(profile.min_gap_frames, profile.fps)
    for a, b in itertools.pairwise(cues):
        assert a.end_ms + gap <= b.start_ms + 1, (a, b)
    for cue in cues:
        assert cue.start_ms < cue.end_ms
        assert frame_to_ms(ms_to_frame_floor(cue.start_ms, profile.fps), profile.fps) == (
            cue.start_ms
        )


# What scripts_and_speech() draws from, built once (not again for every unit and character).
UNITS = st.lists(
    st.tuples(st.text(CJK, min_size=0, max_size=40), st.sampled_from(["", "，", "。"])).map(
        "".join
    ),
    min_size=1,
    max_size=25,
)
FIRST_START = st.integers(0, 5000)
ONE_IN_6 = st.integers(0, 5)
PAUSE = st.sampled_from([0, 40, 300, 1500])
EDIT = st.integers(0, 9)
CHAR_LENGTH = st.sampled_from([0, 80, 250, 600])


@st.composite
def scripts_and_speech(draw: st.DrawFn) -> tuple[list[str], list[TimedChar]]:
    units = draw(UNITS)
    heard: list[TimedChar] = []
    t = draw(FIRST_START)
    for unit in units:
        if draw(ONE_IN_6) == 0:
            continue  # not said
        t += draw(PAUSE)
        for c in match_text(unit):
            edit = draw(EDIT)
            if edit == 0:
                continue
            length = draw(CHAR_LENGTH)
            heard.append(TimedChar(c if edit > 1 else "丁", t, t + length))
            t += length
    return units, heard


LAYOUT_PROFILES = st.sampled_from(
    [
        PROFILE,
        BUILTIN_PROFILES["zh-web"],  # one line, 23.976 fps
        Profile(name="tight", max_chars_per_line=6, max_duration_ms=2000, min_gap_frames=0),
    ]
)


@settings(max_examples=150, deadline=None)
@given(scripts_and_speech(), LAYOUT_PROFILES)
def test_cues_are_ordered_non_overlapping_and_keep_every_character(
    case: tuple[list[str], list[TimedChar]], profile: Profile
) -> None:
    units, heard = case
    result = retime_text(units, heard, profile)
    _check_cues(result.cues, profile)
    for cue in result.cues:
        assert 1 <= len(cue.lines) <= profile.max_lines
        assert all(len(line) <= profile.max_chars_per_line for line in cue.lines)
        assert cue.duration_ms <= profile.max_duration_ms
    assert list(result.cue_units) == sorted(result.cue_units)
    assert "".join(match_text(c.text) for c in result.cues) == "".join(map(match_text, units))
    placed = [p for p in result.placements if p.placed]
    for a, b in itertools.pairwise(placed):
        assert a.start_ms <= a.end_ms <= b.start_ms
    for p in result.placements:
        assert 0.0 <= p.confidence <= 1.0
        assert p.placed == (p.chars > 0 and p.confidence >= 0.4)


# ------------------------------------------------------------------- linear corrections

cue_lists = st.lists(
    st.tuples(st.integers(0, 3_600_000), st.integers(0, 10_000)), min_size=1, max_size=30
).map(
    lambda spans: tuple(
        Cue(n, s, s + d, (f"第{n}句",)) for n, (s, d) in enumerate(sorted(spans), start=1)
    )
)


@given(cue_lists, st.integers(-100_000, 100_000))
def test_shift_round_trip(cues: tuple[Cue, ...], offset: int) -> None:
    moved = shift(cues, offset)
    if all(c.start_ms + offset >= 0 for c in cues):
        assert shift(moved, -offset) == cues
    else:
        assert any("clipped" in c.flags for c in moved)
        assert all(c.start_ms >= 0 for c in moved)


@given(cue_lists, st.floats(0.8, 1.25), st.integers(0, 100_000))
def test_stretch_round_trip(cues: tuple[Cue, ...], factor: float, anchor: int) -> None:
    moved = stretch(cues, factor, anchor)
    assert stretch([Cue(1, anchor, anchor, ("x",))], factor, anchor)[0].start_ms == anchor
    if not any("clipped" in c.flags for c in moved):
        back = stretch(moved, 1 / factor, anchor)
        for a, b in zip(back, cues, strict=True):
            assert abs(a.start_ms - b.start_ms) <= 1 and abs(a.end_ms - b.end_ms) <= 1


@given(
    st.lists(st.integers(0, 3_600_000), min_size=2, max_size=60, unique=True),
    st.floats(0.9, 1.1),
    st.floats(-60_000, 60_000),
)
def test_fit_linear_recovers_a_known_line(xs: list[int], factor: float, offset: float) -> None:
    pairs = [(float(x), x * factor + offset) for x in xs]
    f, o = fit_linear(pairs)
    for x in xs:
        assert abs((f * x + o) - (x * factor + offset)) < 1.0


def test_fit_linear_ignores_outliers() -> None:
    rnd = random.Random(2)
    pairs = [(float(x), x / 1.02 - 2500 + rnd.uniform(-40, 40)) for x in range(0, 600_000, 6000)]
    pairs[10] = (pairs[10][0], pairs[10][1] + 9000)
    pairs[50] = (pairs[50][0], pairs[50][1] - 4000)
    pairs[70] = (pairs[70][0], 0.0)
    f, o = fit_linear(pairs)
    assert f == pytest.approx(1 / 1.02, abs=2e-4)
    assert o == pytest.approx(-2500, abs=40)


def test_fit_linear_from_one_pair_is_an_offset_and_none_is_an_error() -> None:
    assert fit_linear([(1000.0, 3500.0)]) == (1.0, 2500.0)
    with pytest.raises(ValueError, match="at least one"):
        fit_linear([])


def test_retime_linear_undoes_a_shift_and_stretch_and_keeps_cues() -> None:
    chars, spans = speak(LINES * 3)
    cues = tuple(
        Cue(n, s, e + 300, (text,))
        for n, ((s, e), text) in enumerate(zip(spans, LINES * 3, strict=True), start=1)
    )
    broken = list(stretch(shift(cues, 2500), 1.02))
    broken[4] = Cue(5, broken[4].start_ms, broken[4].end_ms, ("完全不同的内容",))
    result = retime_linear(broken, chars)
    assert result.factor == pytest.approx(1 / 1.02, abs=1e-4)
    assert result.offset_ms == pytest.approx(-2500, abs=5)
    assert result.residuals_ms[4] is None and not result.placements[4].placed
    for fixed, original in zip(result.cues, cues, strict=True):
        assert abs(fixed.start_ms - original.start_ms) <= 2
        assert abs(fixed.end_ms - original.end_ms) <= 2
        assert fixed.lines == original.lines or fixed.index == 5


def test_retime_linear_with_nothing_found_is_an_error() -> None:
    chars, _ = speak(["完全不同"])
    with pytest.raises(ValueError, match="no cue"):
        retime_linear([Cue(1, 0, 1000, ("各位观众",))], chars)


def test_retime_linear_keeps_a_file_that_is_already_right() -> None:
    chars, spans = speak(LINES * 2)
    cues = tuple(
        Cue(n, s + 60 * (n % 3) - 60, e, (text,))  # the recogniser's noise, not a shift
        for n, ((s, e), text) in enumerate(zip(spans, LINES * 2, strict=True), start=1)
    )
    result = retime_linear(cues, chars)
    assert result.kept and result.cues == cues
    assert (result.factor, result.offset_ms) == (1.0, 0.0)


def test_bilingual_cues_are_aligned_on_their_chinese_and_keep_every_line() -> None:
    english = ["Good evening,", "welcome to the news.", "The corridor is progressing,"]
    lines = [(zh, en) for zh, en in zip(LINES[:3], english, strict=True)]
    assert spoken_text(lines[0]) == LINES[0] and spoken_text(("OK", "fine")) == "OK\nfine"
    chars, spans = speak(LINES[:3])
    units = [spoken_text(pair) for pair in lines]
    result = retime_text(units, chars, PROFILE, lines=lines)
    assert [c.lines for c in result.cues] == lines
    assert all(p.placed and p.confidence == 1.0 for p in result.placements)
    assert all(abs(c.start_ms - s) <= 40 for c, (s, _) in zip(result.cues, spans, strict=True))


def test_units_after_the_speech_never_run_past_the_programme() -> None:
    chars, spans = speak(LINES[:2])
    end = spans[-1][1] + 500
    units = [*LINES[:2], "The End of an English credit roll that goes on and on", "谢谢收看再见"]
    result = retime_text(units, chars, PROFILE, end_ms=end)
    assert [p.placed for p in result.placements] == [True, True, False, False]
    assert all(c.end_ms <= end for c in result.cues)


def test_a_start_in_a_pause_moves_to_the_sound() -> None:
    level = [-90.0] * 100 + [-20.0] * 100  # a pause, then speech from 1000 ms
    assert speech_start(level, 600, 1500) == 1000  # the recogniser's start, 400 ms early
    assert speech_start(level, 1100, 1500) == 1000  # inside the sound that began at 1000
    assert speech_start([-20.0] * 200, 600, 1500) == 600  # no pause near: unchanged
    assert speech_end([-20.0] * 100 + [-90.0] * 100, 1400, 500) == 1000


def test_layout_of_no_units_is_empty() -> None:
    assert layout_cues([], PROFILE) == ((), ())


# ------------------------------------------------------------------------ the command


def _srt(path: Path, cues: tuple[Cue, ...] | list[Cue]) -> Path:
    path.write_text(render_srt(cues), encoding="utf-8")
    return path


def _times(path: Path) -> list[tuple[int, int]]:
    from dubkit.subtitles.files import read_srt

    return [(c.start_ms, c.end_ms) for c in read_srt(path).cues]


def test_help() -> None:
    result = runner.invoke(app, ["align", "--help"])
    assert result.exit_code == 0
    assert "--mode" in result.output and "--offset" in result.output


def test_known_offset_and_factor_need_no_audio(tmp_path: Path) -> None:
    src = _srt(
        tmp_path / "ep1.zh.srt",
        [Cue(1, 1000, 2000, ("各位觀眾",)), Cue(2, 60_000, 61_500, ("晚上好",))],
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["align", str(src), "--offset", "-1500", "--factor", "1.002", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert _times(out / "ep1.zh.srt") == [(0, 504), (58620, 60123)]
    assert "各位观众" in (out / "ep1.zh.srt").read_text(encoding="utf-8")  # Simplified
    doc = json.loads((out / "ep1.align.json").read_text(encoding="utf-8"))
    assert doc["mode"] == "offset" and doc["units_simplified"] == 1
    assert doc["summary"] == {"units": 2, "cues": 2, "factor": 1.002, "offset_ms": -1500.0}
    assert doc["cues"][0]["flags"] == ["clipped"]
    assert "converted to Simplified" in result.stderr


@pytest.mark.parametrize("name", ["ep1.zh.vtt", "ep1.zh.txt"])
def test_a_webvtt_script_or_an_srt_named_txt_is_retimed_as_its_cues(
    tmp_path: Path, name: str
) -> None:
    from dubkit.subtitles.formats import render_vtt

    cues = [Cue(1, 1000, 2000, ("各位观众",)), Cue(2, 60_000, 61_500, ("晚上好",))]
    src = tmp_path / name
    if name.endswith(".vtt"):
        src.write_text(render_vtt(cues), encoding="utf-8")
    else:
        _srt(src, cues)
    out = tmp_path / "out"
    result = runner.invoke(app, ["align", str(src), "--offset", "-1500", "-o", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(next(out.glob("*.align.json")).read_text(encoding="utf-8"))
    assert doc["mode"] == "offset" and doc["summary"]["cues"] == 2


def _never(*args: object) -> None:
    raise AssertionError("the model was loaded for a script that cannot be aligned")


def _tone(path: Path) -> None:
    """One second of a quiet tone: a media file check_media accepts."""
    import math
    import struct
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(
            b"".join(struct.pack("<h", int(3000 * math.sin(n / 10))) for n in range(16000))
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["script.txt", "--offset", "100"], "needs an SRT"),
        (["script.txt"], "name the MEDIA"),
        (["subs.srt", "media.wav", "--offset", "100"], "need no audio"),
        (["subs.srt", "--offset", "100", "--mode", "linear"], "one or the other"),
        (["subs.srt", "--factor", "0"], "--factor 0.0"),
        (["script.txt", "media.wav", "--mode", "words"], "choose text or linear"),
        (["script.txt", "media.wav", "--mode", "linear"], "needs an SRT"),
        (["missing.txt", "media.wav"], "no such file"),
        (["empty.txt", "media.wav"], "no text to align"),
        (["script.txt", "missing.wav"], "missing.wav: no such file"),
        (["english.srt", "tone.wav"], "only 0 of 2 cues hold Chinese"),
        (["english.srt", "tone.wav", "--mode", "linear"], "only 0 of 2 cues hold Chinese"),
        (["punctuation.txt", "tone.wav"], "only 0 of 1 lines hold Chinese"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("script.txt").write_text("各位观众晚上好\n", encoding="utf-8")
    Path("empty.txt").write_text("\n  \n", encoding="utf-8")
    _srt(Path("subs.srt"), [Cue(1, 0, 1000, ("晚上好",))])
    Path("media.wav").write_bytes(b"RIFF")  # never opened: the options fail first
    _srt(Path("english.srt"), [Cue(1, 0, 1000, ("Good evening",)), Cue(2, 1500, 2500, ("Hello",))])
    Path("punctuation.txt").write_text("……！\n", encoding="utf-8")
    _tone(Path("tone.wav"))
    # refused before any model loads: the model is never asked for
    monkeypatch.setattr("dubkit.cli.common.load_transcriber", _never)
    result = runner.invoke(app, ["align", *args, "-o", "out"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


def test_a_programme_past_the_longest_is_refused_before_align_hears_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dubkit align` reads the programme as `transcribe` does, and refuses one over 10 hours
    as its sound passes them (lowered to half a second here, for the 1 s tone)."""
    from dubkit import constants as C
    from dubkit.episode.alignment import recognise_words
    from dubkit.errors import MediaError
    from dubkit.ports import TranscribeOptions

    monkeypatch.setattr(C, "MAX_PROGRAMME_MS", 500)
    _tone(tmp_path / "tone.wav")
    with pytest.raises(MediaError, match=r"tone\.wav: 00:00:00,5\d\d long or more.*split"):
        recognise_words(_never, tmp_path / "tone.wav", TranscribeOptions(), None)  # type: ignore[arg-type]


def test_an_srt_saved_as_text_is_read_as_an_srt(tmp_path: Path) -> None:
    src = _srt(tmp_path / "subs.txt", [Cue(1, 1000, 2000, ("晚上好",))])
    result = runner.invoke(app, ["align", str(src), "--offset", "250", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert _times(tmp_path / "subs.zh.srt") == [(1250, 2250)]


def test_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    src = _srt(tmp_path / "ep1.zh.srt", [Cue(1, 0, 1000, ("晚上好",))])
    before = src.read_bytes()
    result = runner.invoke(app, ["align", str(src), "--offset", "40", "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert "would overwrite" in result.stderr
    assert src.read_bytes() == before


# ------------------------------------------------------------- real model, real speech

LONG = "zh-long/funasr_vad_example_70s.wav"
LAOXU = "zh-speech/cosyvoice_pr1212_laoxu.wav"


@pytest.fixture(scope="module")
def long_transcript(assets: Path, transcriber: object) -> Transcript:
    from dubkit.adapters.audio import decode_audio
    from dubkit.adapters.chinese import simplify_transcript
    from dubkit.ports import TranscribeOptions

    audio = decode_audio(assets / LONG)
    return simplify_transcript(transcriber.transcribe(audio, TranscribeOptions()))  # type: ignore[attr-defined]


@pytest.mark.model
@pytest.mark.assets
def test_real_shifted_srt_is_recovered_by_a_linear_fit(long_transcript: Transcript) -> None:
    from dubkit.subtitles.segmentation import segment_cues

    cues = segment_cues(long_transcript.segments, PROFILE)
    shifted = stretch(shift(cues, 2500), 1.02)
    result = retime_linear(shifted, timed_characters(long_transcript))
    errors = [
        max(abs(a.start_ms - b.start_ms), abs(a.end_ms - b.end_ms))
        for a, b in zip(result.cues, cues, strict=True)
    ]
    print(
        f"linear: factor {result.factor:.5f} offset {result.offset_ms:.0f} ms, "
        f"max error {max(errors)} ms over {len(cues)} cues"
    )
    assert max(errors) <= 100
    assert result.used == len(cues)
    assert [c.lines for c in result.cues] == [c.lines for c in cues]
    # text mode re-places the same cues just as well
    text = retime_text([c.text for c in shifted], timed_characters(long_transcript), PROFILE)
    assert max(abs(a.start_ms - b.start_ms) for a, b in zip(text.cues, cues, strict=True)) <= 100


@pytest.mark.model
@pytest.mark.assets
def test_real_hand_typed_script_is_placed_in_order(long_transcript: Transcript) -> None:
    """The recording's own words, cut into lines elsewhere than the recogniser's segments,
    with typing slips and a line that was never said."""
    rnd = random.Random(11)
    words = [w for w in long_transcript.words if match_text(w.text)]
    lines: list[tuple[str, int]] = []  # (typed line, when its first word was said)
    current, start, target = "", 0, rnd.randint(6, 18)
    for word in words:
        if not current:
            start = word.start_ms
        current += word.text.strip()
        if len(current) >= target:
            lines.append((current, start))
            current, target = "", rnd.randint(6, 18)
    if current:
        lines.append((current, start))
    typed = []
    for text, _ in lines:
        chars = list(text)
        for k in range(len(chars)):
            if rnd.random() < 0.08:
                chars[k] = rnd.choice("的了在是我有和就不人都")  # a slip of the IME
        typed.append("".join(chars))
    extra = "今晚的天气预报由中央气象台提供"
    middle = len(typed) // 2
    typed.insert(middle, extra)
    result = retime_text(typed, timed_characters(long_transcript), PROFILE)
    placements = list(result.placements)
    assert not placements.pop(middle).placed
    errors = [abs(p.start_ms - said) for p, (_, said) in zip(placements, lines, strict=True)]
    confident = [p for p in placements if p.confidence >= 0.6]
    print(
        f"hand-typed: {len(confident)}/{len(lines)} lines with confidence >= 0.6; start "
        f"errors: median {sorted(errors)[len(errors) // 2]} ms, max {max(errors)} ms"
    )
    assert len(confident) >= 0.9 * len(lines)
    assert all(p.placed for p in confident)
    assert max(errors) <= 500
    assert next(c for c in result.cues if "unplaced" in c.flags).text == extra
    _check_cues(result.cues, PROFILE)


# The gold (unchecked) transcript of the recording, as a person typed it, cut at its commas;
# a line the speaker never said is added. whisper:base hears 七牛毕竟 as 气流病菌 and
# 知无不言，言无不尽 as 自舞步演 也舞不进: compared by sound (qi-niu ~ qi-liu, zhi-wu-bu-yan ~
# zi-wu-bu-yan) those lines are found too.
def _word_ends(text: str) -> set[int]:
    from dubkit.adapters.chinese import split_words

    ends, at = set(), 0
    for word in split_words(text):
        at += len(word)
        ends.add(at)
    return ends


LAOXU_LINES = [
    "啊这个也能理解啊，",
    "因为七牛毕竟，",
    "是国内最早做云存储的公司。",
    "今晚的天气预报由中央气象台提供。",
    "所以我想，",
    "就是和云存储相关的交流，",
    "可以在这个这个会之后自由讨论的时候，",
    "我们只管沟通啊。",
    "知无不言，",
    "言无不尽。",
]
# When each confidently placed line starts: the start of its first word in whisper:base's
# recognition of the recording (the segment starts 0, 5.42, 9.82 and 13.54 s agree).
LAOXU_STARTS = {0: 0, 1: 1000, 2: 2440, 4: 5420, 5: 6140, 6: 8080, 7: 11840, 8: 13540, 9: 14460}


@pytest.mark.model
@pytest.mark.assets
def test_cli_retimes_a_hand_typed_script(assets: Path, tmp_path: Path) -> None:
    script = tmp_path / "laoxu.txt"
    script.write_text("\n".join(LAOXU_LINES) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["align", str(script), str(assets / LAOXU), "-o", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc == json.loads((tmp_path / "laoxu.align.json").read_text(encoding="utf-8"))
    rows = doc["cues"]
    assert [r["text"].replace("\n", "") for r in rows] == LAOXU_LINES
    for row in rows:  # a line breaks between words (会|之后, never 之|后)
        if "\n" in row["text"]:
            top, bottom = row["text"].split("\n")
            assert len(top) in _word_ends(top + bottom), row["text"]
    assert [r["unit"] for r in rows] == [f"line {n}" for n in range(1, 11)]
    errors = {}
    for n, row in enumerate(rows):
        if row["confidence"] >= 0.6:
            errors[n] = row["start_ms"] - LAOXU_STARTS[n]
    print(f"laoxu: start errors (ms) of confident lines: {errors}")
    assert set(errors) == set(LAOXU_STARTS)
    assert all(abs(e) <= 500 for e in errors.values())
    assert [r["start_ms"] for r in rows] == sorted(r["start_ms"] for r in rows)
    unplaced = [u["unit"] for u in doc["unplaced"]]
    assert "line 4" in unplaced
    assert f"unplaced: line 4: {LAOXU_LINES[3]}" in result.stderr
    assert re.search(r"laoxu\.txt: \d+ of 10 lines found in the speech", result.stderr)
    srt = (tmp_path / "laoxu.zh.srt").read_text(encoding="utf-8")
    assert srt.count("-->") == 10


@pytest.mark.model
@pytest.mark.assets
def test_cli_linear_mode_recovers_a_shifted_srt(
    assets: Path, transcriber: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SRT dubkit wrote for the recording, shifted by 2.5 s and stretched by 2%: the
    command (with the session's model; the test above loads its own) puts it back."""
    from dubkit.episode.pipeline import transcribe_file
    from dubkit.ports import TranscribeOptions

    first = transcribe_file(assets / LAOXU, tmp_path, transcriber, TranscribeOptions(), PROFILE, {})
    original = first.cue_records
    shifted = _srt(tmp_path / "laoxu.shifted.srt", stretch(shift(original, 2500), 1.02))
    out = tmp_path / "out"
    monkeypatch.setattr("dubkit.cli.common.load_transcriber", lambda *args: transcriber)
    result = runner.invoke(
        app, ["align", str(shifted), str(assets / LAOXU), "--mode", "linear", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    fixed = _times(out / "laoxu.shifted.zh.srt")
    errors = [
        max(abs(a - c.start_ms), abs(b - c.end_ms))
        for (a, b), c in zip(fixed, original, strict=True)
    ]
    print(f"CLI linear: errors {errors} ms")
    # The reference is Whisper's own cue timing, which leans early after a pause by up to the
    # VAD's 400 ms padding; the command fits to where the sound starts (onsets), so on three
    # cues it lands within that bias of the reference, not on it. Its accuracy against known
    # starts is measured on the generated programme below (test_linear_mode_keeps_...).
    assert max(errors) <= 450
    doc = json.loads((out / "laoxu.shifted.align.json").read_text(encoding="utf-8"))
    assert not doc["summary"]["kept"]
    assert doc["summary"]["offset_ms"] == pytest.approx(-2500, abs=450)
    assert re.search(r"factor 0\.9\d+, offset -2\d\d\d ms", result.stderr)


# ------------------------------------------- generated programme with known line starts
# Real recordings (their leading and trailing silence cut by ffmpeg) laid end to end with
# known pauses: each reference sentence starts exactly where its clip was put. The subtitle
# files are the references with wrong timing, in Chinese only and bilingual.

GENERATED = [
    ("zh-speech", "aishell1_BAC009S0724W0121.wav", "Analysis by the Guangzhou estate agents"),
    ("zh-speech", "cosyvoice_zero_shot_prompt.wav", "I hope you will do even better than me."),
    ("zh-speech", "paddlespeech_zh.wav", "For me, running above all brings good health"),
    ("zh-speech", "aishell1_BAC009S0764W0121.wav", "Trading has even come almost to a standstill"),
    ("zh-speech", "funasr_asr_example.wav", "Welcome to try DAMO Academy's speech model"),
    ("zh-dev", "funasrnano_rag_math.wav", "Integrating differential forms is a basic concept"),
    ("zh-dev", "funasrnano_rag_medical.wav", "The pores of the glomerular capsule are small"),
    ("zh-dev", "funasrnano_rag_chemistry.wav", "Esters were then thought to be oxysalts"),
    ("zh-dev", "funasrnano_rag_history.wav", "Under Herod, king of Judea, named by Rome"),
    ("zh-dev", "funasrnano_rag_physics.wav", "Lunar samples lack volatiles, collision theory says"),
]
PAUSES_MS = (700, 1200, 500, 1500, 900)
_TRIM = "silenceremove=start_periods=1:start_threshold=-40dB:detection=peak"


class Programme:
    """The generated programme: its file, each sentence's reference text and true start."""

    def __init__(self, wav: Path, texts: list[str], starts: list[int], duration_ms: int) -> None:
        self.wav, self.texts, self.starts, self.duration_ms = wav, texts, starts, duration_ms

    def srt(self, path: Path, factor: float, offset: int, english: bool) -> Path:
        """The references as an SRT, timed factor * true + offset (250 ms a character)."""
        cues = []
        for n, (text, start) in enumerate(zip(self.texts, self.starts, strict=True)):
            end = start + 250 * len(text)
            lines = (text, GENERATED[n][2]) if english else (text,)
            at = max(0, round(start * factor + offset))  # an early file clipped at 0
            cues.append(Cue(n + 1, at, max(at, round(end * factor + offset)), lines))
        return _srt(path, cues)


@pytest.fixture(scope="module")
def programme(assets: Path, ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Programme:
    import csv
    import wave

    from tests.conftest import run_ffmpeg

    out = tmp_path_factory.mktemp("generated")
    refs: dict[str, str] = {}
    for folder in {folder for folder, _, _ in GENERATED}:
        with (assets / folder / "references.tsv").open(encoding="utf-8") as handle:
            refs |= {r["file"]: r["reference_zh"] for r in csv.DictReader(handle, delimiter="\t")}
    pcm, starts = b"\0\0" * 800 * 16, []
    for n, (folder, name, _) in enumerate(GENERATED):
        clip = out / f"clip{n}.wav"
        run_ffmpeg(
            ffmpeg, "-i", str(assets / folder / name), "-ac", "1", "-ar", "16000",
            "-af", f"{_TRIM},areverse,{_TRIM},areverse", "-c:a", "pcm_s16le", str(clip),
        )  # fmt: skip
        with wave.open(str(clip)) as handle:
            starts.append(len(pcm) // 32)
            pcm += handle.readframes(handle.getnframes())
        pcm += b"\0\0" * 16 * PAUSES_MS[n % len(PAUSES_MS)]
    wav = out / "programme.wav"
    with wave.open(str(wav), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(pcm)
    return Programme(wav, [refs[name] for _, name, _ in GENERATED], starts, len(pcm) // 32)


@pytest.fixture(scope="module")
def heard(programme: Programme, transcriber: object) -> object:
    """The programme recognised once, as `dubkit align` recognises it."""
    from dubkit.episode.alignment import recognise_words
    from dubkit.ports import TranscribeOptions

    return recognise_words(transcriber, programme.wav, TranscribeOptions(language="zh"), None)  # type: ignore[arg-type]


@pytest.fixture
def align_cli(heard: object, transcriber: object, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The command with the module's model and recognition (the same every call)."""
    monkeypatch.setattr("dubkit.cli.common.load_transcriber", lambda *args: transcriber)
    monkeypatch.setattr("dubkit.episode.alignment.recognise_words", lambda *args: heard)
    return runner


def _cues(path: Path) -> list[Cue]:
    from dubkit.subtitles.files import read_srt

    return list(read_srt(path).cues)


VARIANTS = {
    "zh-late-slow": (1.04, 1500, False),
    "bilingual-late-slow": (1.04, 1500, True),
    "zh-early-fast": (0.97, -900, False),
    "bilingual-right": (1.0, 0, True),
}


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_generated_srt_is_retimed_to_the_known_starts(
    programme: Programme, align_cli: CliRunner, tmp_path: Path, variant: str
) -> None:
    factor, offset, english = VARIANTS[variant]
    src = programme.srt(tmp_path / f"{variant}.srt", factor, offset, english)
    result = align_cli.invoke(app, ["align", str(src), str(programme.wav), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads((tmp_path / f"{variant}.align.json").read_text(encoding="utf-8"))
    cues, before = _cues(tmp_path / f"{variant}.zh.srt"), _cues(src)
    errors = [c.start_ms - start for c, start in zip(cues, programme.starts, strict=True)]
    mean = sum(map(abs, errors)) / len(errors)
    print(f"{variant}: placed {doc['summary']['placed']}/{len(cues)}, start errors {errors} ms")
    assert doc["summary"]["placed"] == len(cues) == len(programme.starts)
    assert mean <= 80 and max(map(abs, errors)) <= 200
    assert all(c.end_ms <= programme.duration_ms for c in cues)
    assert [c.lines for c in cues] == [c.lines for c in before]  # English too, as it was
    if english:
        typed = src.read_text(encoding="utf-8").splitlines()
        written = (tmp_path / f"{variant}.zh.srt").read_text(encoding="utf-8").splitlines()
        assert [ln for ln in written if ln.isascii() and any(map(str.isalpha, ln))] == [
            ln for ln in typed if ln.isascii() and any(map(str.isalpha, ln))
        ]
    assert re.search(r"10 of 10 cues found .*mean correction [+-]\d+ ms", result.stderr)


@pytest.mark.slow
def test_linear_mode_keeps_a_right_file_and_fixes_a_shifted_one(
    programme: Programme, align_cli: CliRunner, tmp_path: Path
) -> None:
    right = programme.srt(tmp_path / "right.srt", 1.0, 0, True)
    args = ["--mode", "linear", "-o", str(tmp_path)]
    result = align_cli.invoke(app, ["align", str(right), str(programme.wav), *args])
    assert result.exit_code == 0, result.stderr
    assert _cues(tmp_path / "right.zh.srt") == _cues(right)
    assert "timing kept" in result.stderr
    shifted = programme.srt(tmp_path / "shifted.srt", 1.04, 1500, True)
    result = align_cli.invoke(app, ["align", str(shifted), str(programme.wav), *args])
    assert result.exit_code == 0, result.stderr
    errors = [
        abs(c.start_ms - start)
        for c, start in zip(_cues(tmp_path / "shifted.zh.srt"), programme.starts, strict=True)
    ]
    print(f"linear on the shifted file: start errors {errors} ms")
    assert sum(errors) / len(errors) <= 80


@pytest.mark.parametrize("mode", ["text", "linear"])
def test_an_srt_of_another_programme_is_refused(
    programme: Programme, align_cli: CliRunner, assets: Path, tmp_path: Path, mode: str
) -> None:
    news = (assets / "ntrex128" / "newstest2019-ref.zho-CN.txt").read_text(encoding="utf-8")
    english = (assets / "ntrex128" / "newstest2019-ref.eng-US.txt").read_text(encoding="utf-8")
    cues = [
        Cue(n + 1, start, start + 3000, (zh[:20], en[:60]))
        for n, (start, zh, en) in enumerate(
            zip(programme.starts, news.splitlines(), english.splitlines(), strict=False)
        )
    ]
    src = _srt(tmp_path / "other.srt", cues)
    out = tmp_path / "out"
    result = align_cli.invoke(
        app, ["align", str(src), str(programme.wav), "--mode", mode, "-o", str(out)]
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert (
        re.search(r"only \d of 10 cues were found", lines[0]) and "nothing was written" in lines[0]
    )
    assert not list(out.glob("*")) if out.exists() else True
