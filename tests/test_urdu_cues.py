"""Urdu cues from translated sentences: properties over real Urdu sentences (NTREX-128) and
generated timings, and the timing rules one by one."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dubkit.profiles import BUILTIN_PROFILES
from dubkit.records import Cue
from dubkit.text.urdu import UrduStyle, normalise_letters, strip_bidi
from dubkit.timecode import frame_to_ms, ms_to_frame_floor
from dubkit.translate.layout import distribute, group_sentences, layout, units_of

UR = BUILTIN_PROFILES["ur-broadcast"]
PROTECTED = ["چین پاکستان اقتصادی راہداری", "ریڈیو پاکستان", "بیلٹ اینڈ روڈ"]
A_PROTECTED_PHRASE = st.sampled_from(PROTECTED)


@pytest.fixture(scope="module")
def urdu_sentences(assets: Path) -> list[str]:
    text = (assets / "ntrex128" / "newstest2019-ref.urd.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


@st.composite
def programmes(draw: st.DrawFn, sentence: st.SearchStrategy[str]) -> tuple[list[Cue], list[str]]:
    """Chinese-like cues on 25 fps frames with gaps, and one Urdu translation per sentence
    (each `sentence`, or two with a protected phrase between them)."""
    n = draw(st.integers(1, 12))
    cues, t = [], draw(st.integers(0, 5000))
    for i in range(n):
        start = t + draw(st.integers(80, 2500))
        dur = draw(st.integers(840, 6000))
        s, e = (frame_to_ms(ms_to_frame_floor(x, 25), 25) for x in (start, start + dur))
        chars = draw(st.integers(2, 30))
        end_mark = draw(st.sampled_from(["", "", "。"]))
        cues.append(Cue(i + 1, s, e, ("字" * chars + end_mark,)))
        t = e
    texts = [c.text for c in cues]
    sentences = group_sentences(cues, texts, UR.pause_split_ms)
    translations = []
    for _ in sentences:
        text = draw(sentence)
        if draw(st.booleans()):
            text = f"{text} {draw(A_PROTECTED_PHRASE)} {draw(sentence)}"
        translations.append(text)
    return cues, translations


def _check(cues: list[Cue], translations: list[str]) -> None:
    sentences = group_sentences(cues, [c.text for c in cues], UR.pause_split_ms)
    out = layout(cues, sentences, translations, UR, PROTECTED, UrduStyle())
    # all text kept, in order, once
    said = [w for c in out for line in c.lines for w in strip_bidi(line).split()]
    wanted = [w for t in translations for w in normalise_letters(t).split()]
    assert said == wanted
    # monotonic, no overlap, frame boundaries, at least the gap
    for a, b in itertools.pairwise(out):
        assert a.end_ms + 80 <= b.start_ms  # 2 frames at 25 fps
    for c in out:
        assert c.start_ms < c.end_ms
        assert c.start_ms % 40 == 0 and c.end_ms % 40 == 0
        # limits honoured or flagged
        plain = [strip_bidi(line) for line in c.lines]
        if len(plain) > UR.max_lines or any(len(x) > UR.max_chars_per_line for x in plain):
            assert "long" in c.flags, c
        cps = len(strip_bidi(" ".join(c.lines))) / (c.end_ms - c.start_ms) * 1000
        if cps > UR.max_cps + 1e-6:
            assert "reading-speed" in c.flags, (c, cps)
        if c.end_ms - c.start_ms < UR.min_duration_ms:
            assert "short" in c.flags, c
        # a protected phrase never broken across lines
        for phrase in PROTECTED:
            for first, second in itertools.pairwise(plain):
                joined = f"{first}\n{second}"
                assert (
                    phrase not in joined.replace("\n", " ") or phrase in first or phrase in second
                )


@pytest.mark.assets
def test_layout_properties_on_real_urdu(urdu_sentences: list[str]) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    # one strategy over the 1,997 sentences: st.sampled_from copies its list each time it is
    # built, and programmes() draws a sentence for every sentence of every example
    @given(programmes(st.sampled_from(urdu_sentences)))
    def run(programme: tuple[list[Cue], list[str]]) -> None:
        _check(*programme)

    run()


def test_sentences_group_until_a_stop_or_a_pause() -> None:
    cues = [
        Cue(1, 0, 1000, ("中国和巴基斯坦",)),
        Cue(2, 1100, 2000, ("的合作。",)),
        Cue(3, 2100, 3000, ("谢谢",)),
        Cue(4, 5000, 6000, ("再见",)),
    ]
    groups = group_sentences(cues, [c.text for c in cues], 700)
    assert [(g.first, g.last, g.text) for g in groups] == [
        (0, 2, "中国和巴基斯坦的合作。"), (2, 3, "谢谢"), (3, 4, "再见")
    ]  # fmt: skip


def test_distribution_follows_the_source_and_keeps_phrases_whole() -> None:
    units = units_of("یہ چین پاکستان اقتصادی راہداری کا منصوبہ ہے", PROTECTED)
    assert "چین پاکستان اقتصادی راہداری" in units
    parts = distribute(units, [1, 3])
    assert [u for p in parts for u in p] == units and all(parts)
    assert len(" ".join(parts[0])) < len(" ".join(parts[1]))


def test_a_fast_cue_borrows_from_the_gap_then_flags() -> None:
    cues = [Cue(1, 1000, 2000, ("字字字",)), Cue(2, 6000, 7000, ("字字",))]
    text = "یہ ایک بہت لمبا جملہ ہے جو پڑھنے میں وقت لیتا ہے"  # 47 chars: 2.8 s at 17 cps
    sentences = group_sentences(cues, ["字字字。", "字字。"], 700)
    out = layout(cues, sentences, [text, "ٹھیک ہے"], UR, (), UrduStyle())
    assert out[0].start_ms >= 1000 - 400 and out[0].end_ms > 2000  # extended into the gap
    assert "reading-speed" not in out[0].flags
    squeezed = [Cue(1, 1000, 2000, ("字字字",)), Cue(2, 2080, 3000, ("字字",))]
    out = layout(squeezed, sentences, [text, "ٹھیک ہے"], UR, (), UrduStyle())
    assert "reading-speed" in out[0].flags  # no room: flagged for the adapter to condense


def test_a_fast_last_cue_merges_with_the_one_before_it() -> None:
    """The sentence's last cue reads too fast and nothing follows in the sentence: it joins
    the cue before it when the two fit one cue."""
    cues = [
        Cue(1, 0, 3000, ("嗯，",)),
        Cue(2, 3080, 4000, ("中巴经济走廊建设取得了重大进展。",)),
        Cue(3, 4080, 6000, ("谢谢。",)),  # the next sentence leaves no gap to borrow
    ]
    sentences = group_sentences(cues, [c.text for c in cues], 700)
    text = "جی ہاں، چین پاکستان اقتصادی راہداری میں بڑی پیش رفت"
    out = layout(cues, sentences, [text, "شکریہ۔"], UR, (), UrduStyle(), weights=[1, 9, 1])
    assert [c.start_ms for c in out] == [0, 4080]
    assert "reading-speed" not in out[0].flags
