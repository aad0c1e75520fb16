"""`dubkit qa`: each rule on hand-built cues, clean generated programmes, the command as a gate,
the HTML report (well-formed, escaped, self-contained) and its rendering in headless Chromium."""

from __future__ import annotations

import functools
import json
import math
import shutil
import subprocess
from collections import Counter
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dubkit.cli import app
from dubkit.profiles import BUILTIN_PROFILES, Profile
from dubkit.qa.html import OVER, render_html
from dubkit.qa.rules import (
    CODES,
    CueReport,
    Flag,
    check_cues,
    qa_report,
    summarise,
    with_glossary,
)
from dubkit.records import Cue
from dubkit.text.reading import count_chars
from dubkit.text.urdu import LRM, mark_bidi, normalise
from dubkit.timecode import clock, frame_rate, frame_to_ms, ms_to_frames
from tests.conftest import CPEC, _missing

ROOT = Path(__file__).resolve().parent.parent
UR = BUILTIN_PROFILES["ur-broadcast"]
ZH = BUILTIN_PROFILES["zh-broadcast"]
runner = CliRunner()

# Urdu letters only: no Arabic look-alikes (ي ك ه ة), no punctuation.
URDU_LETTERS = "ابپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمنوہھیےں"
SENTENCE = "آج ہم پاکستان کی بات کریں گے"  # 28 characters


def _cue(index: int, start: int, end: int, *lines: str) -> Cue:
    return Cue(index, start, end, tuple(lines))


def _flags(cues: list[Cue], profile: Profile = UR) -> list[list[Flag]]:
    return [list(r.flags) for r in check_cues(cues, profile)]


def _only(cue: Cue, code: str, profile: Profile = UR) -> str:
    """The reason of the single flag `code` on a lone cue (and no other flag)."""
    flags = _flags([cue], profile)[0]
    assert [f.code for f in flags] == [code], flags
    return flags[0].reason


# ----------------------------------------------------------------------------- the rules


def test_a_clean_cue_has_no_flags_and_its_speed() -> None:
    report = check_cues([_cue(1, 1000, 3000, SENTENCE)], UR)[0]
    assert report.flags == () and report.clean
    assert report.chars == 28 and report.cps == 14.0


def test_counting_includes_spaces_and_breaks_but_not_bidi_marks_or_tags() -> None:
    assert count_chars(["ab cd", "ef"]) == 8  # 5 + 2 + the break
    assert count_chars([f"یہ {LRM}CPEC{LRM} ہے"]) == len("یہ CPEC ہے")
    assert count_chars(["<i>ab</i> {\\an8}cd"]) == 5
    assert count_chars([]) == 0


def test_line_too_long_names_the_line_and_the_count() -> None:
    line = "ا" * 20 + " " + "ب" * 22  # 43 characters
    assert _only(_cue(1, 0, 5000, SENTENCE, line), "line-too-long") == "line 2: 43 characters > 42"
    marked = mark_bidi("ا" * 30 + " CPEC 2025", rtl=True)  # 40 visible + 4 marks
    assert _flags([_cue(1, 0, 4000, marked)]) == [[]]


def test_too_many_lines() -> None:
    assert _only(_cue(1, 0, 5000, "الف", "بے", "پے"), "too-many-lines") == "3 lines > 2"


def test_reading_speed_gives_cps_and_limit() -> None:
    text = "ا" * 19 + " " + "ب" * 19  # 39 characters in 2 s
    reason = _only(_cue(1, 0, 2000, text), "reading-speed")
    assert reason.startswith("19.5 cps > 17 ")
    assert "39 characters in 2.00 s" in reason
    # Exactly at the limit passes: 34 characters in 2 s is 17 cps.
    assert _flags([_cue(1, 0, 2000, "ا" * 34)]) == [[]]
    # Chinese profiles have no reading-speed limit.
    assert _flags([_cue(1, 0, 1000, "今天天气很好我们出去走")], ZH) == [[]]


def test_a_zero_length_cue_is_too_short_and_unreadable() -> None:
    flags = _flags([_cue(1, 1000, 1000, "الف")])[0]
    assert [f.code for f in flags] == ["reading-speed", "too-short"]
    assert flags[0].reason == "3 characters in 0 ms"
    assert check_cues([_cue(1, 1000, 1000, "الف")], UR)[0].cps is None


def test_duration_limits() -> None:
    assert _only(_cue(1, 0, 800, "الف"), "too-short") == "800 ms < 833 ms"
    assert _only(_cue(1, 0, 7040, SENTENCE), "too-long") == "7040 ms > 7000 ms"
    assert _flags([_cue(1, 0, 840, "الف"), _cue(2, 2000, 9000, SENTENCE)]) == [[], []]


def test_gap_overlap_and_order_against_the_previous_cue() -> None:
    first = _cue(1, 1000, 3000, SENTENCE)
    close = _flags([first, _cue(2, 3040, 5000, SENTENCE)])[1]
    assert [(f.code, f.reason) for f in close] == [
        ("gap", "1 frame after cue 1 < 2 (40 ms at 25 fps)")
    ]
    assert _flags([first, _cue(2, 3080, 5000, SENTENCE)])[1] == []  # 2 frames
    touching = _flags([first, _cue(2, 3000, 5000, SENTENCE)])[1]
    assert touching[0].reason.startswith("0 frames after cue 1 < 2")
    overlap = _flags([first, _cue(2, 2600, 5000, SENTENCE)])[1]
    assert [(f.code, f.reason) for f in overlap] == [("overlap", "overlaps cue 1 by 400 ms")]
    late = _flags([first, _cue(2, 400, 2400, SENTENCE)])[1]
    assert [f.code for f in late] == ["out-of-order"]
    assert late[0].reason == "starts at 00:00:00,400, before cue 1 (00:00:01,000)"


def test_times_must_sit_on_frame_boundaries() -> None:
    reason = _only(_cue(1, 1010, 3000, SENTENCE), "off-frame")
    assert reason == "start 00:00:01,010 is 10 ms off the 25 fps frame grid (nearest 00:00:01,000)"
    flags = _flags([_cue(1, 1000, 3020, SENTENCE)])[0]
    assert [f.reason.split(" is ")[0] for f in flags] == ["end 00:00:03,020"]
    # NTSC frames are fractional milliseconds: rounded (42) and truncated (41) both pass.
    ntsc = Profile("ntsc", fps=23.976, max_chars_per_line=42)
    for start in (41, 42, frame_to_ms(1000, 23.976)):
        assert _flags([_cue(1, start, start + 2002, "ab")], ntsc) == [[]], start
    assert _flags([_cue(1, 60, 2062, "ab")], ntsc)[0][0].code == "off-frame"


def test_empty_cues() -> None:
    assert _only(_cue(1, 0, 2000), "empty") == "no text"
    assert _only(_cue(1, 0, 2000, LRM, " "), "empty") == "no text"


def test_arabic_lookalike_letters() -> None:
    reason = _only(_cue(1, 0, 2000, "كيا بات ہے"), "lookalike")
    assert reason == "2 Arabic letters: ك U+0643 (use ک U+06A9), ي U+064A (use ی U+06CC)"


def test_one_digit_system_per_file() -> None:
    latin = [_cue(k, 2000 * k, 2000 * k + 1600, normalise(f"سال {k} میں")) for k in (1, 2)]
    urdu = _cue(3, 6000, 7600, mark_bidi("قیمت ۱۲ روپے"))
    flags = _flags([*latin, urdu])
    assert flags[:2] == [[], []]
    assert [(f.code, f.reason) for f in flags[2]] == [
        ("digits-mixed", "Urdu digits ۱۲ in a file that writes Latin digits")
    ]
    # In a file that writes Urdu digits the Latin number is the odd one; COVID-19 is a word.
    urdu_file = [_cue(k, 2000 * k, 2000 * k + 1600, mark_bidi("قیمت ۱۲ روپے")) for k in (1, 2)]
    odd = _cue(3, 6000, 7600, normalise("سال 2025 میں COVID-19"))
    reasons = [f.reason for f in _flags([*urdu_file, odd])[2]]
    assert reasons == ["Latin digits 2025 in a file that writes Urdu digits"]
    arabic = _only(_cue(1, 0, 2000, "سال ٢٠٢٥ میں"), "digits-mixed")
    assert arabic.startswith("Arabic-Indic digits ٢٠٢٥ are not Urdu")


def test_latin_and_digits_in_urdu_lines_need_lrm() -> None:
    reason = _only(_cue(1, 0, 3000, "یہ CPEC منصوبہ 2025 میں"), "bidi-missing")
    assert reason == "2 left-to-right runs without LRM: 'CPEC', '2025'"
    for marked in (
        normalise("یہ CPEC منصوبہ 2025 میں"),
        normalise("CPEC کا نام"),  # starts with Latin: RLM first
        normalise("کہا: Hello, how are you? ٹھیک"),
        "یہ \u2066CPEC\u2069 ہے",  # isolates are fine too
        f"نام {LRM}CPEC{LRM}.",  # the run's own full stop outside the mark
    ):
        assert _flags([_cue(1, 0, 3000, marked)]) == [[]], repr(marked)
    half = _only(_cue(1, 0, 3000, f"یہ {LRM}CPEC ہے"), "bidi-missing")
    assert half.endswith("'CPEC'")
    # A line without Urdu letters (English, Chinese) is not an Urdu line.
    assert _flags([_cue(1, 0, 3000, "CPEC 2025")]) == [[]]


def test_latin_punctuation_after_urdu_words() -> None:
    reason = _only(_cue(1, 0, 3000, "کیا ہے? ہاں, ٹھیک ; اچھا."), "latin-punctuation")
    assert reason == (
        "4 after an Urdu word: '?' (use '؟'), ',' (use '،'), ';' (use '؛'), '.' (use '۔')"
    )
    for fine in ("اچھا... ٹھیک ہے۔", "قیمت \u200e3.5\u200e روپے", normalise("کہا: Hello, you?")):
        assert _flags([_cue(1, 0, 3000, fine)]) == [[]], fine


def test_chinese_cues_under_the_chinese_profile() -> None:
    flags = _flags([_cue(1, 0, 3000, "一" * 17), _cue(2, 3080, 5000, "今天天气很好。")], ZH)
    assert [[f.reason for f in fl] for fl in flags] == [["line 1: 17 characters > 16"], []]


def test_flags_follow_the_code_order_and_codes_are_documented() -> None:
    flags = _flags([_cue(1, 10, 500, "كيا ہے?", "ب", "پ")])[0]
    codes = [f.code for f in flags]
    assert codes == sorted(codes, key=list(CODES).index)
    assert set(codes) <= set(CODES)


def test_summary_counts_cues_per_code_and_the_fastest_cue() -> None:
    cues = [
        _cue(1, 0, 2000, "ا" * 39),  # 19.5 cps
        _cue(2, 2080, 4000, SENTENCE),  # 14.58 cps
        _cue(3, 4040, 8000, "الف", "بے", "پے"),  # 1 frame gap, 3 lines
    ]
    summary = summarise(check_cues(cues, UR))
    assert summary.counts == {"too-many-lines": 1, "reading-speed": 1, "gap": 1}
    assert summary.worst_cps == 19.5 and summary.worst_cue == 1
    assert summary.clean == 1 and summary.clean_percent == 33.3
    assert not summary.passed and summary.duration_ms == 8000
    empty = summarise([])
    assert empty.passed and empty.clean_percent == 100.0 and empty.worst_cue is None


def test_glossary_misses_become_flags() -> None:
    reports = [CueReport(1, 0, 2000, ("x",), 1, 0.5), CueReport(2, 2080, 4000, ("y",), 1, 0.5)]
    glossary = {"adherence": {"misses": [{"cue": 2, "zh": "中巴经济走廊", "approved": "سی"}]}}
    out = with_glossary(reports, glossary)
    assert out[0].flags == ()
    assert out[1].flags == (Flag("glossary", "approved rendering missing: 中巴经济走廊 → 'سی'"),)


# ---------------------------------------------------------------- generated clean programmes

CLEAN_PROFILES = st.one_of(
    st.sampled_from(list(BUILTIN_PROFILES.values())),
    st.builds(
        Profile,
        name=st.just("generated"),
        max_chars_per_line=st.integers(8, 50),
        max_lines=st.integers(1, 3),
        min_duration_ms=st.sampled_from([0, 500, 833, 1000]),
        max_duration_ms=st.sampled_from([3000, 7000, 10000]),
        min_gap_frames=st.integers(0, 4),
        fps=st.sampled_from([25.0, 24.0, 23.976, 29.97, 50.0]),
        max_cps=st.one_of(st.none(), st.floats(12, 25)),
        language=st.sampled_from(["ur", "zh"]),
    ),
)
URDU_WORD = st.one_of(
    st.text(URDU_LETTERS, min_size=1, max_size=7),
    st.sampled_from(["CPEC", "2025", "PTV", "COVID-19", "3.5"]),
)
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


@functools.cache  # one strategy for each language and width, not one for every line drawn
@st.composite
def _line(draw: st.DrawFn, language: str, width: int) -> str:
    if language == "zh":
        return draw(st.text(CJK, min_size=1, max_size=width))
    words = draw(st.lists(URDU_WORD, min_size=1, max_size=12))
    return " ".join(words)[:width].strip() or "ا"


@st.composite
def clean_programmes(draw: st.DrawFn) -> tuple[Profile, list[Cue]]:
    """Cues built to every limit of a profile: frame-exact times, durations, gaps, line
    widths and counts, reading speed; Urdu with Urdu letters, Latin digits and LRM marks."""
    profile = draw(CLEAN_PROFILES)
    fps = profile.fps
    shortest = ms_to_frames(profile.min_duration_ms, fps)
    longest = math.floor(Fraction(profile.max_duration_ms) * frame_rate(fps) / 1000)
    if profile.max_cps is not None:  # long enough for one character
        shortest = max(shortest, ms_to_frames(math.ceil(1000 / profile.max_cps) + 1, fps))
    frame = draw(st.integers(0, 3000))
    cues = []
    for index in range(1, draw(st.integers(1, 12)) + 1):
        length = draw(st.integers(max(shortest, 1), longest))
        start, end = frame_to_ms(frame, fps), frame_to_ms(frame + length, fps)
        budget = profile.max_chars_per_line * profile.max_lines + profile.max_lines - 1
        if profile.max_cps is not None:
            budget = min(budget, math.floor(profile.max_cps * (end - start) / 1000))
        lines: list[str] = []
        for _ in range(draw(st.integers(1, profile.max_lines))):
            room = budget - count_chars(lines) - (1 if lines else 0)
            if room < 1:
                break
            lines.append(draw(_line(profile.language, min(room, profile.max_chars_per_line))))
        lines = [mark_bidi(line, rtl=True) if profile.language == "ur" else line for line in lines]
        cues.append(Cue(index, start, end, tuple(lines)))
        frame += length + draw(st.integers(profile.min_gap_frames, profile.min_gap_frames + 60))
    return profile, cues


@settings(max_examples=100, deadline=None)
@given(clean_programmes())
def test_cues_built_to_the_profile_get_no_flags(programme: tuple[Profile, list[Cue]]) -> None:
    profile, cues = programme
    reports = check_cues(cues, profile)
    assert [r.flags for r in reports] == [()] * len(cues), [
        (r.index, r.flags) for r in reports if r.flags
    ]
    if profile.max_cps is not None:
        assert all(r.cps is not None and r.cps <= round(profile.max_cps, 2) for r in reports)


# --------------------------------------------------------------------------------- the CLI


def _srt(path: Path, cues: list[tuple[int, int, str]]) -> Path:
    body = "".join(
        f"{n}\n{clock(a)} --> {clock(b)}\n{text}\n\n"
        for n, (a, b, text) in enumerate(cues, start=1)
    )
    path.write_text(body, encoding="utf-8")
    return path


CLEAN = [
    (1000, 3000, "آج ہم پاکستان کی بات کریں گے۔"),
    (3200, 6000, normalise("سال 2025 میں CPEC منصوبہ مکمل ہوا۔")),
    (6400, 9000, "یہ بہت اچھی خبر ہے،\nاور سب خوش ہیں۔"),
]
BROKEN = [
    (1000, 3000, "یہ پاکستان کا CPEC منصوبہ ہے, جو بہت اہم ہے اور بہت بڑا بھی ہے"),
    (3020, 3500, "كيا آپ نے ٢٠٢٥ میں دیکھا?"),
    (3400, 6000, "سال 2025 میں\nدوسری سطر\nتیسری سطر"),
    (8000, 16000, "بہت لمبا وقفہ <script>alert(1)</script> & <b>"),
]
KEYS = {
    "file", "profile", "passed", "summary", "codes", "structure_error", "repairs", "glossary",
    "cues", "html",
}  # fmt: skip


def _one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return str(lines[0])


def test_help() -> None:
    result = runner.invoke(app, ["qa", "--help"])
    assert result.exit_code == 0, result.output
    assert "--warn-only" in result.output and "exit 1" in result.output


def test_clean_file_passes_and_writes_the_report_beside_it(tmp_path: Path) -> None:
    srt = _srt(tmp_path / "ep1.ur.srt", CLEAN)
    result = runner.invoke(app, ["qa", str(srt), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == KEYS
    assert report["passed"] is True and report["profile"]["name"] == "ur-broadcast"
    assert report["structure_error"] is None and report["repairs"] == []
    assert report["summary"]["clean"] == 3 and report["summary"]["counts"] == {}
    assert set(report["cues"][0]) == {
        "index", "start_ms", "end_ms", "duration_ms", "lines", "chars", "cps", "flags",
    }  # fmt: skip
    html = tmp_path / "ep1.ur.qa.html"
    assert report["html"] == str(html) and html.is_file()
    assert result.stderr.startswith("PASS ")
    # A BOM and CRLF line ends are legal: noted, not failed.
    srt.write_bytes(b"\xef\xbb\xbf" + srt.read_bytes().replace(b"\n", b"\r\n"))
    result = runner.invoke(app, ["qa", str(srt), "--no-html"])
    assert result.exit_code == 0, result.output
    assert "repaired: " in result.stderr and "PASS " in result.stderr


def test_broken_file_fails_the_gate_unless_warn_only(tmp_path: Path) -> None:
    srt = _srt(tmp_path / "ep2.ur.srt", BROKEN)
    result = runner.invoke(app, ["qa", str(srt), "--no-html"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "reading-speed: 31 cps > 17" in result.stdout
    # The overlap: strict reading refuses the file, lenient reading trims cue 2 to check it.
    assert "repaired: " in result.stderr and "end trimmed to 00:00:03,400" in result.stderr
    assert "file: " in result.stderr and "before the cue above it ends" in result.stderr
    assert "FAIL " in result.stderr and "reading-speed 2" in result.stderr
    assert not list(tmp_path.glob("*.html"))
    warned = runner.invoke(app, ["qa", str(srt), "--no-html", "--warn-only", "--json"])
    assert warned.exit_code == 0
    report = json.loads(warned.stdout)
    assert report["passed"] is False and report["html"] is None
    assert "before the cue above it ends" in report["structure_error"]
    codes = {f["code"] for c in report["cues"] for f in c["flags"]}
    assert codes == {
        "line-too-long", "reading-speed", "too-short", "too-long", "gap", "off-frame",
        "lookalike", "digits-mixed", "bidi-missing", "latin-punctuation", "too-many-lines",
    }  # fmt: skip
    assert report["summary"]["worst_cue"] == 2


def test_outdir_html_path_and_chinese_default_profile(tmp_path: Path) -> None:
    srt = _srt(tmp_path / "ep3.zh.srt", [(1000, 3000, "今天天气很好。")])
    result = runner.invoke(app, ["qa", str(srt), "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["profile"]["name"] == "zh-broadcast"
    assert (tmp_path / "out" / "ep3.zh.qa.html").is_file()
    chosen = tmp_path / "elsewhere" / "r.html"
    args = ["qa", str(srt), "--html", str(chosen), "--profile", "zh-web", "--warn-only"]
    result = runner.invoke(app, args)  # off the 23.976 fps frame grid: flagged, not failed
    assert result.exit_code == 0, result.output
    assert "off-frame" in result.stderr
    assert chosen.is_file() and "zh-web" in chosen.read_text(encoding="utf-8")


def test_a_cue_the_recogniser_flagged_is_never_clean(tmp_path: Path) -> None:
    """The loop is flagged in STEM.asr.json; `dubkit qa` on the Chinese SRT beside it, and on
    the Urdu with --source, must say so (a loop of 中国 once passed as 100% clean)."""
    zh = _srt(tmp_path / "ep4.zh.srt", [(1000, 3000, "今天天气很好。"), (3080, 5000, "中国。")])
    (tmp_path / "ep4.asr.json").write_text(
        json.dumps(
            {"flagged_cues": [
                {"start_ms": 3080, "end_ms": 5000, "text": "中国。", "flags": ["asr-repetition"]}
            ]}
        ),
        encoding="utf-8",
    )  # fmt: skip
    result = runner.invoke(app, ["qa", str(zh), "--no-html", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["clean"] == 1
    assert [f["code"] for f in report["cues"][1]["flags"]] == ["recognition"]
    glossary = tmp_path / "g.yaml"
    glossary.write_text(
        "name: g\nversion: '1'\nscope: global\nterms:\n  - zh: 中国\n    ur: چین\n",
        encoding="utf-8",
    )
    ur = _srt(tmp_path / "ep4.ur.srt", [(1000, 3000, "آج موسم اچھا ہے۔"), (3080, 5000, "چین۔")])
    args = ["qa", str(ur), "--no-html", "--json", "-g", str(glossary), "--source", str(zh)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    adherence = report["glossary"]["adherence"]
    assert adherence["terms"] == 0 and adherence["unverified"][0]["zh"] == "中国"
    assert "recognition" in [f["code"] for f in report["cues"][1]["flags"]]


def test_a_subtitle_with_no_speech_under_it_is_flagged_through_to_the_urdu(
    tmp_path: Path,
) -> None:
    """`--source auto` flags a burned subtitle with no speech under it `no-speech` in
    STEM.asr.json; QA carries it as the recogniser's flags: on the Chinese SRT, into the
    qa.json translation writes, and on the Urdu. Its glossary terms still count (the text is
    the subtitle's, not a recogniser's invention)."""
    from dubkit.episode.pipeline import TranslateSettings, translate_file
    from dubkit.qa.adherence import unverified_reason
    from tests.test_translation import FakeStep

    zh = _srt(tmp_path / "ep7.zh.srt", [(1000, 3000, "今天天气很好。"), (3080, 5000, "片尾字幕")])
    flagged = {"start_ms": 3080, "end_ms": 5000, "text": "片尾字幕", "flags": ["no-speech"]}
    (tmp_path / "ep7.asr.json").write_text(json.dumps({"flagged_cues": [flagged]}), "utf-8")
    result = runner.invoke(app, ["qa", str(zh), "--no-html", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [f["code"] for f in report["cues"][1]["flags"]] == ["recognition"]
    assert "no-speech" in report["cues"][1]["flags"][0]["reason"]
    assert report["summary"]["counts"]["recognition"] == 1
    steps = [FakeStep("zh", "en", "E"), FakeStep("en", "ur", "U")]
    settings = TranslateSettings(layout="cue", formats=())
    translate_file(zh, tmp_path, steps, None, settings)
    qa = json.loads((tmp_path / "ep7.qa.json").read_text(encoding="utf-8"))
    assert [c["flags"] for c in qa["target_cues"]] == [[], ["no-speech"]]
    assert "no-speech" in qa["cues"][1]["flags"]
    result = runner.invoke(app, ["qa", str(tmp_path / "ep7.ur.srt"), "--no-html", "--json"])
    report = json.loads(result.stdout)
    assert "recognition" in [f["code"] for f in report["cues"][1]["flags"]]
    assert unverified_reason(["no-speech"]) is None


def test_urdu_cues_made_from_flagged_chinese_are_never_clean(tmp_path: Path) -> None:
    """translate records the recogniser's flags on the Urdu cues in STEM.qa.json; `dubkit qa
    STEM.ur.srt` reads them, whatever layout made the cues."""
    ur = _srt(tmp_path / "ep6.ur.srt", [(1000, 3000, "آج موسم اچھا ہے۔"), (3080, 5000, "چین۔")])
    (tmp_path / "ep6.qa.json").write_text(
        json.dumps(
            {"target_cues": [
                {"index": 1, "start_ms": 1000, "end_ms": 3000, "flags": []},
                {"index": 2, "start_ms": 3080, "end_ms": 5000, "flags": ["asr-no-speech"]},
            ]}
        ),
        encoding="utf-8",
    )  # fmt: skip
    result = runner.invoke(app, ["qa", str(ur), "--no-html", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [f["code"] for f in report["cues"][1]["flags"]] == ["recognition"]
    assert "asr-no-speech" in report["cues"][1]["flags"][0]["reason"]


@pytest.mark.parametrize(
    "doc",
    [
        '{"flagged_cues": [{"start_ms": 1e400, "end_ms": 5000, "text": "x", "flags": []}]}',
        "[" * 100_000 + "]" * 100_000,
        '{"flagged_cues": [{"start_ms": 3080, "end_ms": 5000, "text": "中国。", '
        '"flags": "asr-repetition"}]}',
        '{"flagged_cues": "all of them"}',
        "[1, 2, 3]",
        "\u0000 not json",
    ],
)
def test_a_damaged_asr_json_never_stops_qa(tmp_path: Path, doc: str) -> None:
    zh = _srt(tmp_path / "ep7.zh.srt", [(1000, 3000, "今天天气很好。"), (3080, 5000, "中国。")])
    (tmp_path / "ep7.asr.json").write_text(doc, encoding="utf-8")
    result = runner.invoke(app, ["qa", str(zh), "--no-html", "--json"])
    assert result.exit_code == 0, result.output  # the flags are extra; the cues are clean
    assert json.loads(result.stdout)["summary"]["clean"] == 2


def test_webvtt_through_the_formats_reader(tmp_path: Path) -> None:
    pytest.importorskip("dubkit.subtitles.formats")
    vtt = tmp_path / "ep5.ur.vtt"
    vtt.write_text(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:03.000 align:right\nآج ہم پاکستان کی بات کریں گے۔\n\n"
        "2\n00:00:03.040 --> 00:00:05.000\nکيا بات ہے\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["qa", str(vtt), "--json", "--no-html"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["profile"]["name"] == "ur-broadcast" and report["structure_error"] is None
    assert [[f["code"] for f in c["flags"]] for c in report["cues"]] == [[], ["gap", "lookalike"]]


def test_bad_input_is_one_line_and_exit_1(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["qa", str(tmp_path / "none.srt")])
    assert missing.exit_code == 1 and "none.srt: no such file" in _one_error_line(missing)
    damaged = tmp_path / "damaged.srt"
    damaged.write_text("1\n00:00:01,000 --> 00:00:0x,000\ntext\n", encoding="utf-8")
    result = runner.invoke(app, ["qa", str(damaged)])
    assert result.exit_code == 1 and "damaged.srt:2:" in _one_error_line(result)
    empty = tmp_path / "empty.srt"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["qa", str(empty)])
    assert result.exit_code == 1 and "no cues" in _one_error_line(result)
    srt = _srt(tmp_path / "ok.srt", CLEAN)
    for args, words in (
        (["--profile", "nope"], "unknown profile 'nope'"),
        (["--html", "x.html", "--no-html"], "contradict"),
        (["--glossary", str(CPEC)], "--glossary needs --source"),
    ):
        result = runner.invoke(app, ["qa", str(srt), *args])
        assert result.exit_code == 1 and words in _one_error_line(result), args
    assert not list(tmp_path.glob("*.html"))


def test_glossary_adherence_with_the_chinese_source(tmp_path: Path) -> None:
    zh = _srt(
        tmp_path / "ep4.zh.srt",
        [(1000, 4000, "中巴经济走廊很重要。"), (4200, 6000, "中巴经济走廊。")],
    )
    urdu = [(1000, 4000, "چین پاکستان اقتصادی راہداری اہم ہے۔"), (4200, 6000, "یہ منصوبہ اہم ہے۔")]
    ur = _srt(tmp_path / "ep4.ur.srt", urdu)
    args = ["qa", str(ur), "--source", str(zh), "-g", str(CPEC), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    adherence = report["glossary"]["adherence"]
    assert adherence["rate"] == 0.5 and adherence["misses"][0]["cue"] == 2
    assert report["cues"][0]["flags"] == []
    assert [f["code"] for f in report["cues"][1]["flags"]] == ["glossary"]
    assert "glossary 50.0% (1/2)" in result.stderr
    html = (tmp_path / "ep4.ur.qa.html").read_text(encoding="utf-8")
    assert "Glossary adherence" in html and "Adherence 50%" in html
    short = _srt(tmp_path / "short.zh.srt", [(1000, 3000, "中巴经济走廊很重要。")])
    result = runner.invoke(app, ["qa", str(ur), "--source", str(short), "-g", str(CPEC)])
    assert result.exit_code == 1 and "--source has 1 cues" in _one_error_line(result)


# ------------------------------------------------------------------------------ the HTML

_VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


class _Checker(HTMLParser):
    """Every element closed, in order; the tags and attributes seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.attrs: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attrs.append((tag, dict(attrs)))
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attrs.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def _report(cues: list[tuple[int, int, str]]) -> dict[str, object]:
    parsed = [Cue(n, a, b, tuple(t.split("\n"))) for n, (a, b, t) in enumerate(cues, start=1)]
    return qa_report("ep <1>.ur.srt", parsed, UR)


def test_html_is_well_formed_escaped_and_self_contained(tmp_path: Path) -> None:
    page = render_html(_report(BROKEN))
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    assert checker.tags["svg"] == 1 and checker.tags["rect"] >= len(BROKEN)
    assert checker.tags["script"] == 0 and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "ep &lt;1&gt;.ur.srt" in page
    rtl = [a for tag, a in checker.attrs if a.get("dir") == "rtl"]
    assert len(rtl) == len(BROKEN) and all(a.get("lang") == "ur" for a in rtl)
    assert '"Noto Nastaliq Urdu", "Noto Naskh Arabic"' in page
    for external in ("<link", "src=", "@import", "url(", 'href="http'):
        assert external not in page
    assert "characters per second" in page and "programme time" in page  # axis labels
    assert "limit 17 cps" in page and OVER in page
    assert OVER not in render_html(_report(CLEAN))  # red only marks over-limit cues


def test_html_with_glossary_section() -> None:
    report = _report(CLEAN)
    report["glossary"] = {
        "glossaries": [{"name": "cpec-media", "version": "1", "scope": "global", "file": "g"}],
        "adherence": {
            "terms": 2, "found": 1, "rate": 0.5,
            "misses": [{"cue": 2, "zh": "中巴经济走廊", "approved": "چین پاکستان اقتصادی راہداری"}],
        },
        "cues": [],
    }  # fmt: skip
    page = render_html(report)
    assert "Adherence 50%: 1 of 2" in page and 'href="#cue-2"' in page
    assert "cpec-media 1" in page


# ----------------------------------------------------------------- the page in a browser


def _chromium() -> str:
    for name in ("chromium-headless-shell", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    _missing("headless Chromium not installed (scripts/bootstrap.sh installs it)")
    raise AssertionError("unreachable")


def _screenshot(html: Path, png: Path) -> object:
    """Render the page in headless Chromium; the screenshot as an RGB array."""
    import av

    subprocess.run(
        [
            _chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
            f"--user-data-dir={png.parent / 'chromium-profile'}",
            f"--screenshot={png}", "--window-size=1280,2000", html.as_uri(),
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with av.open(str(png)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24")


def _pixels_near(rgb: object, colour: str, tolerance: int = 12) -> int:
    import numpy as np

    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    diff = np.abs(np.asarray(rgb, dtype=np.int16) - target).max(axis=-1)
    return int((diff <= tolerance).sum())


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    import numpy as np

    broken = _srt(tmp_path / "broken.ur.srt", BROKEN)
    clean = _srt(tmp_path / "clean.ur.srt", CLEAN)
    for srt in (broken, clean):
        runner.invoke(app, ["qa", str(srt), "--warn-only"])
    shots = {}
    for name in ("broken", "clean"):
        html = tmp_path / f"{name}.ur.qa.html"
        rgb = np.asarray(_screenshot(html, tmp_path / f"{name}.png"))
        assert rgb.shape == (2000, 1280, 3)
        packed = rgb.astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.uint32)
        colours = len(np.unique(packed))
        assert colours > 50, f"{name}: a blank page ({colours} colours)"
        shots[name] = rgb
    assert _pixels_near(shots["broken"], OVER) > 500  # the over-limit bars
    assert _pixels_near(shots["clean"], OVER) == 0
