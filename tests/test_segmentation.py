from __future__ import annotations

from dataclasses import replace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dubkit.profiles import Profile
from dubkit.records import Cue, Segment, Word
from dubkit.subtitles.segmentation import MAX_LATE_MS, segment_cues
from dubkit.timecode import frame_to_ms, ms_to_frame_floor

PROFILE = Profile(name="test")

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
PUNCT = st.sampled_from(list("，。？！、"))
WORD_TEXT = st.one_of(
    st.text(CJK, min_size=1, max_size=4),
    st.tuples(st.text(CJK, min_size=1, max_size=3), PUNCT).map("".join),
    st.text(CJK, min_size=17, max_size=40),  # longer than a line: must be split
    st.sampled_from([" CPEC", " PTV", " 2025年", "OK"]),
)


# The strategies transcripts() draws from, built once (not again for every word of every
# example: a quarter of the generation's time went on building them).
WORD_COUNT = st.integers(min_value=0, max_value=60)
FIRST_START = st.integers(min_value=0, max_value=5000)
PAUSE = st.sampled_from([0, 0, 0, 20, 80, 300, 800, 2500])
WORD_LENGTH = st.integers(min_value=0, max_value=1500)
ONE_IN_31 = st.integers(0, 30)
PROBABILITY = st.floats(0, 1)
ONE_IN_7 = st.integers(0, 6)


@st.composite
def transcripts(draw: st.DrawFn) -> tuple[Segment, ...]:
    n = draw(WORD_COUNT)
    t = draw(FIRST_START)
    words = []
    for _ in range(n):
        t += draw(PAUSE)
        length = draw(WORD_LENGTH)
        if draw(ONE_IN_31) == 0:
            length = 9000  # a stuck word longer than a cue may last
        words.append(Word(draw(WORD_TEXT), t, t + length, draw(PROBABILITY)))
        t += length
    segments, current = [], []
    for w in words:
        current.append(w)
        if draw(ONE_IN_7) == 0:
            segments.append(current)
            current = []
    if current:
        segments.append(current)
    return tuple(
        Segment("".join(w.text for w in ws), ws[0].start_ms, ws[-1].end_ms, tuple(ws))
        for ws in segments
    )


PROFILES = st.builds(
    Profile,
    name=st.just("generated"),
    max_chars_per_line=st.integers(4, 20),
    max_lines=st.integers(1, 3),
    min_duration_ms=st.sampled_from([0, 500, 833, 1000]),
    max_duration_ms=st.sampled_from([3000, 7000, 10000]),
    min_gap_frames=st.integers(0, 3),
    fps=st.sampled_from([25.0, 24.0, 29.97]),
    pause_split_ms=st.sampled_from([300, 700, 1500]),
)


def _squash(text: str) -> str:
    return "".join(text.split())


def check_profile(cues: tuple[Cue, ...], profile: Profile, strict: bool = False) -> None:
    """Every limit holds, or (unless strict) the cue carries a flag saying which does not."""
    fps = profile.fps
    for k, cue in enumerate(cues):
        assert cue.index == k + 1
        for t in (cue.start_ms, cue.end_ms):
            assert frame_to_ms(ms_to_frame_floor(t, fps), fps) == t, "time off a frame boundary"
        assert len(cue.lines) <= profile.max_lines
        assert all(0 < len(line) <= profile.max_chars_per_line for line in cue.lines)
        assert all(line == line.strip() for line in cue.lines)
        if "short" not in cue.flags:
            assert cue.duration_ms >= profile.min_duration_ms - 1
        else:
            assert not strict, f"cue {cue.index} flagged short: {cue}"
        assert cue.duration_ms <= profile.max_duration_ms
        if k:
            prev = cues[k - 1]
            gap = ms_to_frame_floor(cue.start_ms, fps) - ms_to_frame_floor(prev.end_ms, fps)
            assert gap >= profile.min_gap_frames, "cues too close or overlapping"


@settings(max_examples=100, deadline=None)
@given(segments=transcripts(), profile=PROFILES)
def test_cues_keep_text_and_honour_profile(segments: tuple[Segment, ...], profile: Profile) -> None:
    cues = segment_cues(segments, profile)
    words = [w for s in segments for w in s.words]
    assert _squash("".join(c.text for c in cues)) == _squash("".join(w.text for w in words))
    check_profile(cues, profile)
    assert [c.start_ms for c in cues] == sorted(c.start_ms for c in cues)


def _said_at_once(text: str, at: int, end: int) -> Segment:
    return Segment(text, at, end, (Word(text, at, end, 0.0),), 0.0, 0.0, ())


@settings(max_examples=100, deadline=None)
@given(segments=transcripts())
@example(  # found under -n 4: 67 characters said in 1 ms stack up, each cue a gap after the last
    segments=(
        _said_at_once("一", 0, 9000),
        _said_at_once("一" * 17, 9000, 9000),
        _said_at_once("一" * 33, 9000, 9000),
        _said_at_once("一" * 17, 9000, 9001),
    )
)
def test_cues_start_near_their_speech(segments: tuple[Segment, ...]) -> None:
    """Every cue starts within its first character's word, or a little later, or as soon as
    the cue before it lets it (one gap after it ends): no drift. Text said faster than it can
    be read (words with no duration) stacks up in cues one gap apart."""
    cues = segment_cues(segments, PROFILE)
    spans = _char_spans(segments)
    frame = 1000 / PROFILE.fps
    pos = 0
    after_previous = 0.0  # the earliest a cue may start after the one before it, and a frame
    for cue in cues:
        start, end = spans[pos]
        pos += len(_squash(cue.text))
        assert cue.start_ms <= max(end + MAX_LATE_MS + 200, after_previous), (cue, start, end)
        assert cue.start_ms >= start - frame
        after_previous = cue.end_ms + (PROFILE.min_gap_frames + 1) * frame


def _char_spans(segments: tuple[Segment, ...]) -> list[tuple[int, int]]:
    """(start, end) of the word each non-space character belongs to (a long word is split
    into pieces with interpolated times, so a piece starts somewhere in its word's span)."""
    out: list[tuple[int, int]] = []
    prev = 0
    for seg in segments:
        for w in seg.words:
            if not w.text.strip():
                continue
            prev = max(w.start_ms, prev)
            out += [(prev, max(prev, w.end_ms))] * len(_squash(w.text))
    return out


def test_dense_short_utterances_do_not_drift() -> None:
    """100 one-word lines, 0.8 s apart: none may start late or end up flagged wrongly."""
    words = tuple(Word("好。", t, t + 100) for t in range(0, 80_000, 800))
    cues = segment_cues((Segment("", 0, 80_000, words),), PROFILE)
    check_profile(cues, PROFILE)
    text = [w.start_ms for w in words]
    pos = 0
    for cue in cues:
        assert cue.start_ms - text[pos] <= MAX_LATE_MS
        pos += cue.text.count("好")
    assert pos == 100


def _words(*spec: tuple[str, int, int]) -> tuple[Segment, ...]:
    words = tuple(Word(t, a, b) for t, a, b in spec)
    return (Segment("".join(w.text for w in words), words[0].start_ms, words[-1].end_ms, words),)


def test_empty_transcript_gives_no_cues() -> None:
    assert segment_cues((), PROFILE) == ()


def test_long_pause_splits_cue() -> None:
    segs = _words(("大家", 0, 400), ("好", 400, 700), ("今天", 2000, 2400), ("开会", 2400, 2900))
    cues = segment_cues(segs, PROFILE)
    assert [c.text for c in cues] == ["大家好", "今天开会"]


def test_sentence_punctuation_is_preferred_break() -> None:
    words = [("我们", 0, 300), ("来了。", 300, 700), ("他们", 760, 1000)]
    words += [(w, 1000 + i * 250, 1250 + i * 250) for i, w in enumerate("也来了吗")]
    cues = segment_cues(_words(*words), replace(PROFILE, max_chars_per_line=6, max_lines=1))
    assert cues[0].text == "我们来了。"


def test_two_lines_are_balanced_and_short_enough() -> None:
    text = "中国和巴基斯坦的媒体合作越来越紧密了"
    words = tuple((ch, i * 200, i * 200 + 200) for i, ch in enumerate(text))
    cues = segment_cues(_words(*words), PROFILE)
    assert len(cues) == 1
    top, bottom = cues[0].lines
    assert abs(len(top) - len(bottom)) <= 1
    assert top + bottom == text


def test_minimum_duration_and_gap_at_25fps() -> None:
    segs = _words(("好", 1000, 1100), ("谢谢", 1150, 1200))
    (cue,) = segment_cues(segs, PROFILE)
    assert cue.start_ms == 1000
    assert cue.duration_ms >= 833
    assert cue.end_ms % 40 == 0
    # Two phrases 1.3 s apart: the first is stretched to the minimum, then 2 frames of gap.
    segs = _words(("好", 1000, 1100), ("谢谢大家", 2300, 3000))
    first, second = segment_cues(segs, PROFILE)
    assert (first.start_ms, first.end_ms) == (1000, 1840)
    assert second.start_ms == 2280 >= first.end_ms + 80
    assert not first.flags and not second.flags


def test_latin_words_keep_their_spaces() -> None:
    segs = _words(("中巴经济走廊", 0, 800), (" CPEC", 800, 1200), (" project", 1200, 1600))
    (cue,) = segment_cues(segs, replace(PROFILE, max_chars_per_line=30))
    assert cue.text == "中巴经济走廊 CPEC project"
