"""The recognition core without a model: loop detector, pinyin matcher, windows, word
re-segmentation, the biasing verdict, and the orchestrator driven by a scripted decoder."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from dubkit import constants as C
from dubkit.adapters.chinese import (
    pinyin_alternatives,
    pinyin_readings,
    split_dictionary_words,
    split_words,
)
from dubkit.asr import guard
from dubkit.asr.biasing import BiasTerms, Confirmed, candidates, confirmed_in, judge
from dubkit.asr.pinyin import find_by_sound as _find_by_sound
from dubkit.asr.pinyin import min_score
from dubkit.asr.pinyin import syllables as _syllables
from dubkit.asr.recognise import DecodeRequest, RecogniseSettings, recognise
from dubkit.asr.windows import SpeechMap, plan_windows, uncovered
from dubkit.asr.words import resegment
from dubkit.records import Cue, Segment, Word
from tests.conftest import CPEC, DEV_TERMS

ROOT = Path(__file__).resolve().parent.parent


def find_by_sound(text: str, forms: Sequence[str]) -> list[Any]:
    return _find_by_sound(text, forms, pinyin_readings)


def syllables(text: str) -> Any:
    return _syllables(text, pinyin_readings)


def bias_of(pairs: Sequence[tuple[str, str]]) -> BiasTerms:
    return BiasTerms.from_pairs(
        pairs, pinyin_readings, split_dictionary_words, alternatives=pinyin_alternatives
    )


GLOSSARIES = [CPEC, DEV_TERMS]
NTREX_ZH = ROOT.parent / "shared" / "assets" / "ntrex128" / "newstest2019-ref.zho-CN.txt"

# Han characters with unrelated sounds, and no two alike: text made of them never loops.
HAN = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学"
    "对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头"
    "面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向"
    "情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信"
    "北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难"
    "神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物"
    "台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指"
    "思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步"
    "完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双"
    "历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞"
    "观争究包组造落视济喜离虽坐集编宝谈府拉黑且随格尽剑讲布杀微怕母调局根曾准团段终乐切级克精哪"
    "官示冷域票"
)


def han_text(min_size: int = 0, max_size: int = 30) -> st.SearchStrategy[str]:
    return st.text(alphabet=HAN, min_size=min_size, max_size=max_size)


@functools.cache
def _forms() -> list[str]:
    """Every glossary form that biases recognition (Chinese, two characters or more); built
    when a test first draws one, not when the module is collected (pypinyin's dictionaries
    take half a second to load, in every worker)."""
    from dubkit.glossary.files import load_terms

    return sorted(BiasTerms.from_glossary(load_terms(GLOSSARIES), pinyin_readings).forms)


FORMS = st.deferred(lambda: st.sampled_from(_forms()))
LONG_FORMS = st.deferred(lambda: st.sampled_from([f for f in _forms() if len(f) >= 3]))


# ------------------------------------------------------------------------------ loops


@given(
    unit=st.text(alphabet=HAN + string.ascii_letters, min_size=1, max_size=C.LOOP_MAX_UNIT),
    count=st.integers(min_value=C.LOOP_MIN_REPEATS_ONE_CHAR, max_value=30),
    sep=st.sampled_from(["", " ", "，", "、 "]),
    before=han_text(),
    after=han_text(),
)
def test_a_unit_said_four_times_or_more_is_a_loop(
    unit: str, count: int, sep: str, before: str, after: str
) -> None:
    text = before + sep.join([unit] * count) + after
    loops = guard.find_loops(text)
    start = len(before)
    end = len(text) - len(after)
    assert any(lp.start < end and start < lp.end for lp in loops)
    collapsed = guard.collapse_loops(text)
    assert not guard.find_loops(collapsed)
    assert guard.collapse_loops(collapsed) == collapsed
    assert len(collapsed) < len(text)


@given(st.lists(st.sampled_from(HAN), unique=True, max_size=len(HAN)).map("".join))
def test_text_without_repeats_has_no_loop(text: str) -> None:
    assert guard.find_loops(text) == []
    assert guard.collapse_loops(text) == text


def test_a_loop_across_spaces_keeps_its_first_unit() -> None:
    text = "我们说中国 中国 中国 中国 中国，然后"
    [loop] = guard.find_loops(text)
    assert (loop.unit, loop.count) == ("中国", 5)
    assert guard.collapse_loops(text) == "我们说中国，然后"


def test_numbers_and_three_repeats_are_not_loops() -> None:
    assert guard.find_loops("有超过820,000人，增加了1000000元") == []
    assert guard.find_loops("这个这个这个会之后") == []  # three times: a speaker's habit


@pytest.mark.assets
def test_real_news_sentences_never_look_like_loops(assets: Path) -> None:
    lines = NTREX_ZH.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1997
    assert [line for line in lines if guard.find_loops(line)] == []
    assert max(guard.compression_ratio(line) for line in lines) < C.ASR_MAX_COMPRESSION_RATIO


def _seg(text: str, start: int, end: int, **kw: object) -> Segment:
    return Segment(text, start, end, _words(text, start, end), **kw)  # type: ignore[arg-type]


def _words(text: str, start: int, end: int) -> tuple[Word, ...]:
    """One word a character, evenly timed (as Whisper's Chinese words often are)."""
    step = (end - start) / max(len(text), 1)
    return tuple(
        Word(ch, start + round(k * step), start + round((k + 1) * step))
        for k, ch in enumerate(text)
    )


def test_window_problems_name_what_went_wrong() -> None:
    loop = _seg("中国" * 25, 0, 20_000)
    [problem] = [
        p for p in guard.window_problems([loop], 20_000, [0.9]) if p.kind == guard.REPETITION
    ]
    assert problem.detail == "'中国' ×25"
    fast = _seg("今天的天气很好我们去公园散步吧朋友们一起来", 0, 500)
    kinds = {p.kind for p in guard.window_problems([fast], 500, [0.9])}
    assert kinds == {guard.TOO_LONG}
    silent = _seg("请不吝点赞订阅转发", 0, 3000)
    kinds = {p.kind for p in guard.window_problems([silent], 3000, [0.05])}
    assert kinds == {guard.NO_SPEECH}
    normal = _seg("欢迎大家来体验达摩院推出的语音识别模型", 0, 4500)
    assert guard.window_problems([normal], 4500, [0.8]) == []


# ----------------------------------------------------------------------------- pinyin


@settings(max_examples=200, deadline=None)
@given(form=FORMS, before=han_text(max_size=12), after=han_text(max_size=12))
def test_a_term_always_matches_itself(form: str, before: str, after: str) -> None:
    matches = find_by_sound(before + form + after, [form])
    here = [m for m in matches if m.start == len(before) and m.end == len(before) + len(form)]
    assert here and here[0].score == 1.0 and here[0].exact


@functools.cache
def _pool_by_sound() -> dict[object, list[str]]:
    """The pool's characters by their reading on their own (the candidates to try in context)."""
    found: dict[object, list[str]] = {}
    for ch in HAN:
        found.setdefault(syllables(ch)[0].sound, []).append(ch)
    return found


@functools.cache  # the same (form, k) comes up again and again; each look-up reads the pool
def _homophone(form: str, k: int, before: str, after: str) -> str | None:
    """`form` with its k-th character replaced by another one of the pool that is read, in
    the sentence, exactly as the original is read in the term (tone included)."""
    wanted = syllables(form)[k].sound
    for other in _pool_by_sound().get(wanted, ()):
        heard = form[:k] + other + form[k + 1 :]
        if other != form[k] and syllables(before + heard + after)[len(before) + k].sound == wanted:
            return heard
    return None


@settings(max_examples=200, deadline=None)
@given(form=FORMS, data=st.data())
def test_a_term_matches_its_homophones(form: str, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=0, max_value=len(form) - 1))
    heard = _homophone(form, k, "据报道", "今天")
    assume(heard is not None)
    assert heard is not None
    matches = find_by_sound("据报道" + heard + "今天", [form])
    here = [m for m in matches if m.heard == heard]
    assert here and here[0].exact and here[0].score >= min_score(len(form))


def test_known_mishearings_match_by_sound() -> None:
    def score(form: str, heard: str) -> float:
        [match] = find_by_sound(heard, [form])
        return match.score

    assert score("犹地亚王", "邮地亚王") == 1.0  # same syllables and tones
    assert score("三磷酸腺苷", "三零酸,现干") >= 0.9  # lin/ling folded, one tone differs
    assert score("挥发性物质", "回发信物质") >= 0.9  # xing/xin folded
    assert score("大希律王", "大师律王") == 0.875  # one initial differs
    assert find_by_sound("比上天地深", ["肾小球囊"]) == []


def _all_readings(ch: str) -> set[tuple[str, str]]:
    """(initial, final) of every reading of a character, folded as the matcher folds them."""
    from pypinyin import Style, pinyin

    from dubkit.asr.pinyin import split_reading

    return {split_reading(r)[:2] for r in pinyin(ch, style=Style.NORMAL, heteronym=True)[0]}


@functools.cache  # read when a test first needs it, not in every worker's collection
def _pool_readings() -> dict[str, set[tuple[str, str]]]:
    return {ch: _all_readings(ch) for ch in HAN}


@functools.cache  # a term's character comes up again and again; each look-up reads the pool
def _unrelated(ch: str) -> st.SearchStrategy[str]:
    """The pool's characters sharing neither initial nor final with `ch`, in any reading."""
    wanted = _all_readings(ch)
    readings = _pool_readings()
    pool = [c for c in HAN if all(i != wi and f != wf for i, f in readings[c] for wi, wf in wanted)]
    return st.sampled_from(pool)


@settings(deadline=None)
@given(form=LONG_FORMS, data=st.data())
def test_unrelated_text_of_the_same_length_does_not_match(form: str, data: st.DataObject) -> None:
    """Characters sharing neither initial nor final with the term's, in any reading."""
    heard = "".join(data.draw(_unrelated(ch)) for ch in form)
    assert find_by_sound(heard, [form]) == []


@pytest.mark.assets
def test_news_text_rarely_sounds_like_a_glossary_term(assets: Path) -> None:
    """Real Chinese news (NTREX, 85k characters) against every glossary form: a sound match
    that is not the term itself would cost a window a second decode; measured 24."""
    bias = bias_of([(f, f) for f in _forms()])
    text = NTREX_ZH.read_text(encoding="utf-8")
    found = [c for line in text.splitlines() for c in candidates(line, bias)]
    assert len(found) <= len(text) / 2000, [(c.form, c.heard) for c in found]
    # and not one of them would be written in without the audio being heard again
    assert [(c.form, c.heard) for c in found if c.substitutable] == []


# ---------------------------------------------------------------------------- windows


@st.composite
def speech_maps(draw: st.DrawFn, probabilities: bool = True) -> SpeechMap:
    """Speech chunks with gaps and, unless `probabilities` is False (for what reads only the
    chunks), a speech probability for every frame."""
    chunks, at = [], 0
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        at += draw(st.integers(min_value=0, max_value=5000))
        length = draw(st.integers(min_value=1, max_value=70_000))
        chunks.append((at, at + length))
        at += length
    if not probabilities:
        return SpeechMap(tuple(chunks))
    total = sum(b - a for a, b in chunks)
    frames = -(-total // 32)
    probs = draw(
        st.lists(st.floats(min_value=0, max_value=1), min_size=frames, max_size=frames)
        if frames < 500
        else st.just([0.9] * frames)
    )
    return SpeechMap(tuple(chunks), tuple(probs), 32.0)


@given(speech_maps())
# found by hypothesis: the cut range [29985, 30000] holds no 32 ms frame start, and the
# balanced point 30142 was taken, a first window over 30 s
@example(SpeechMap(((0, 1), (1, 60_285)), (0.9,) * 1884, 32.0))
def test_windows_cover_the_speech_in_the_fewest_whisper_sized_pieces(speech: SpeechMap) -> None:
    windows = plan_windows(speech)
    total = speech.duration_ms
    if total == 0:
        assert windows == ()
        return
    assert windows[0][0] == 0 and windows[-1][1] == total
    ends = {*speech.joins, total}
    for (_, b), (c, _) in itertools.pairwise(windows):
        assert b == c  # contiguous
    for a, b in windows:
        assert b > a
        assert b - a <= C.WINDOW_MAX_MS or (
            b in ends and b - a <= C.WINDOW_MAX_MS + C.WINDOW_TRIM_MS
        )
    assert len(windows) == max(1, -(-(total - C.WINDOW_TRIM_MS) // C.WINDOW_MAX_MS))
    if len(windows) > 1:  # no scrap: every window holds a fair share of the speech
        assert min(b - a for a, b in windows) >= min(C.WINDOW_MIN_MS, C.WINDOW_MAX_MS // 2)


def test_windows_cut_at_pauses_and_spare_the_padding() -> None:
    assert plan_windows(SpeechMap(((780, 30_796),))) == ((0, 30_016),)  # padding, not a window
    three = plan_windows(SpeechMap(((0, 20_000), (25_000, 45_000), (50_000, 60_200))))
    assert three == ((0, 20_000), (20_000, 50_200))  # at the pause, not mid-speech
    quiet = [0.9] * 1000
    quiet[600:605] = [0.01] * 5  # a breath at 19.2 s
    assert plan_windows(SpeechMap(((0, 32_000),), tuple(quiet), 32.0))[0][1] == 19_232


@given(speech_maps(probabilities=False), st.integers(min_value=0, max_value=400_000))
def test_speech_time_maps_back_into_its_chunk(speech: SpeechMap, t: int) -> None:
    assume(speech.chunks)
    t = min(t, speech.duration_ms)
    start, end = speech.to_original(t), speech.to_original(t, end=True)
    assert any(a <= start <= b for a, b in speech.chunks)
    assert any(a <= end <= b for a, b in speech.chunks)
    assert speech.to_original(0) == speech.chunks[0][0]
    assert speech.to_original(speech.duration_ms, end=True) == speech.chunks[-1][1]


def test_speech_nobody_recognised_is_found() -> None:
    speech = SpeechMap(((0, 10_000),), tuple([0.9] * 313), 32.0)
    words = [(0, 2000), (2100, 4000)]  # the decoder stopped at 4 s
    [gap] = uncovered(speech, (0, 10_000), words)
    assert 4000 + C.UNCOVERED_NEAR_MS - 32 <= gap[0] <= 4000 + C.UNCOVERED_NEAR_MS + 32
    assert gap[1] == 10_000
    assert uncovered(speech, (0, 10_000), [(0, 9800)]) == []
    silent = SpeechMap(((0, 10_000),), tuple([0.1] * 313), 32.0)
    assert uncovered(silent, (0, 10_000), words) == []


# ------------------------------------------------------------------------------ words


def _split_every(n: int) -> Callable[[str], list[str]]:
    return lambda text: [text[i : i + n] for i in range(0, len(text), n)]


@given(
    text=st.text(alphabet=HAN + " ，。", min_size=1, max_size=40),
    n=st.integers(min_value=1, max_value=5),
    protect=st.sampled_from(["", "中国", "国家"]),
)
def test_resegmenting_keeps_every_character_and_its_time(text: str, n: int, protect: str) -> None:
    assume(text.strip())
    seg = Segment(
        text.strip(), 1000, 1000 + 100 * len(text), _words(text, 1000, 1000 + 100 * len(text))
    )
    out = resegment(seg, _split_every(n), [protect] if protect else [])
    assert "".join(w.text for w in out.words).replace(" ", "") == text.replace(" ", "")
    for a, b in zip(out.words, out.words[1:], strict=False):
        assert a.end_ms <= b.start_ms  # in time order, never overlapping
        assert a.start_ms <= a.end_ms
    assert out.words[0].start_ms >= 1000 and out.words[-1].end_ms <= seg.end_ms
    if protect:
        joined = "".join(w.text for w in out.words)
        at = 0
        for w in out.words:  # no word boundary inside a protected form
            at += len(w.text)
            k = joined.find(protect)
            while k >= 0:
                assert not k < at < k + len(protect)
                k = joined.find(protect, k + 1)


def test_resegmenting_with_jieba_breaks_only_between_words() -> None:

    seg = Segment("我们今天降低活动的成本", 0, 2200, _words("我们今天降低活动的成本", 0, 2200))
    out = resegment(seg, split_words)
    assert [w.text for w in out.words] == ["我们", "今天", "降低", "活动", "的", "成本"]
    assert [(w.start_ms, w.end_ms) for w in out.words][2] == (800, 1200)


# ---------------------------------------------------------------------------- biasing


BIAS = bias_of([("犹地亚王", "犹地亚王"), ("大希律王", "大希律王"), ("中国", "中国")])


def test_candidates_are_heard_terms_not_written_ones() -> None:
    found = candidates("由罗马皇帝钦点的邮地亚王大师律王统治期间，中国", BIAS)
    assert [(c.zh, c.heard, c.substitutable) for c in found] == [
        ("犹地亚王", "邮地亚王", True),  # same syllables and tones, whole words
        ("大希律王", "大师律王", False),  # 希 xi / 师 shi: decoded again, never written in
    ]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("这是一家新闻网站", "假新闻"),  # 一家|新闻: 家 belongs to another word
        ("我昨天在家，新闻里说明天下雨", "假新闻"),  # a comma between
        ("过年和过节都要回家", "联合国"),
        ("人民必须遵守法律", "人民币"),
        ("他十五年没回来", "食物链"),  # another tone
        ("他擅长社交，媒体也很喜欢他", "社交媒体"),  # two words and a clause break
        ("我喜欢北京，大学生活很丰富", "北京大学"),
    ],
)
def test_a_term_is_never_written_over_other_words(text: str, term: str) -> None:
    """Measured by the review on the shipped glossary: 一家新闻电视台 became 一假新闻电视台."""
    bias = bias_of([(term, term)])
    assert not [c for c in candidates(text, bias) if c.substitutable]
    decoder = ScriptedDecoder(_speech(5), lambda r, w: text)
    heard = recognise(decoder, RecogniseSettings(batch_size=8, recover=False), bias=bias)
    assert "".join(s.text for s in heard.segments) == text
    assert "substituted" not in heard.report["windows"][0]


FIRST = "由罗马皇帝钦点的邮地亚王大师律王统治期间细胞膜孔隙并不是很小"


BOTH = FIRST.replace("邮地亚王大师律王", "犹地亚王大希律王")  # both terms gained
ONE = FIRST.replace("大师律王", "大希律王")  # 大希律王 gained
TOO_MANY = (
    "changed 3 characters outside the terms, more than 2; "
    "among them it changed what was said ('由' → '那')"
)


@pytest.mark.parametrize(
    ("second", "keep", "why", "confirms"),
    [
        (BOTH, True, "gained", False),
        (BOTH.replace("孔隙", "中国皇帝"), False, "where '孔隙'", False),
        (BOTH.replace("皇帝", "黄地"), False, "lost 罗马皇帝", False),
        (BOTH.replace("并不", "并"), False, "dropped", True),
        (BOTH[:20], False, "dropped", False),  # 由罗马皇帝钦点的犹地亚王大希律王统治期间
        (BOTH + "说了很多话", False, "added", False),
        (BOTH.replace("大希律王", "大希律王大希律王"), False, "where", False),
        (FIRST + "大希律王" * 5, False, "loops", False),
        (FIRST.replace("很小", "很少"), False, "no term", False),
        (ONE.replace("由", "那"), False, "what was said", True),
        (ONE.replace("由", "那").replace("很小", "很少"), False, "what was said", True),
        (ONE.replace("由", "那").replace("很小", "很少了"), False, TOO_MANY, False),
        (ONE.replace("膜孔", "摸孔"), True, "gained", False),  # 膜/摸: the same sound
        (ONE.replace("统治期间", "桶治其间").replace("很小", "很晓"), False, "more than 2", False),
    ],
)
def test_a_biased_pass_may_change_nothing_but_the_terms(
    second: str, keep: bool, why: str, confirms: bool
) -> None:
    """A pass refused for changes outside its terms still confirms them (its terms are
    written into the first pass's text) where those changes are few (at most 2 characters
    here); never where it planted a term, wrote one twice, lost one or looped."""
    bias = bias_of([("犹地亚王", "犹地亚王"), ("大希律王", "大希律王"), ("罗马皇帝", "罗马皇帝"),
                    ("中国皇帝", "中国皇帝")])  # fmt: skip
    verdict = judge(FIRST, second, bias)
    assert verdict.keep is keep and why in verdict.reason, verdict
    assert verdict.confirmed == tuple(c for c in HEARD if confirms and c.form in second)


# where FIRST heard each term, in its spoken characters
HEARD = (Confirmed("犹地亚王", 8, 12, "邮地亚王"), Confirmed("大希律王", 12, 16, "大师律王"))
DA_XI_LU_WANG = HEARD[1:]


def test_a_term_written_twice_where_it_was_heard_once_is_planted() -> None:
    verdict = judge("他说邮递讶亡统治期间大师律王", "他说犹地亚王犹地亚王统治期间大希律王", BIAS)
    assert not verdict.keep and "犹地亚王 twice" in verdict.reason and not verdict.confirmed


def test_confirmed_terms_are_placed_in_the_segment_that_heard_them() -> None:
    [confirmed] = DA_XI_LU_WANG
    texts = ["由罗马皇帝，钦点的", "邮地亚王 大师律王统治期间"]  # offsets skip 、，and spaces
    assert [[(c.zh, c.start, c.heard) for c in found] for found in confirmed_in(
        texts, DA_XI_LU_WANG, BIAS)] == [[], [("大希律王", 5, "大师律王")]]  # fmt: skip
    # heard across two segments, or somewhere else than confirmed: not written
    assert confirmed_in(["由罗马皇帝钦点的邮地亚王大师", "律王统治期间"], [confirmed], BIAS) == [
        [],
        [],
    ]
    moved = dataclasses.replace(confirmed, start=13, end=17)
    assert confirmed_in([FIRST], [moved], BIAS) == [[]]


# ------------------------------------------------------------------ the orchestrator


@dataclass
class ScriptedDecoder:
    """A WindowDecoder whose answers are written by the test: `answer(request, window)` gives
    the text (or segments) for each window; every request is recorded."""

    speech: SpeechMap
    answer: Callable[[DecodeRequest, tuple[int, int]], str | Sequence[Segment]]
    requests: list[DecodeRequest] = field(default_factory=list)

    def decode(self, request: DecodeRequest) -> list[tuple[Segment, ...]]:
        self.requests.append(request)
        out = []
        for window in request.windows:
            said = self.answer(request, window)
            if isinstance(said, str):
                said = (_seg(said, window[0], window[1]),) if said else ()
            out.append(tuple(said))
        return out

    def count_tokens(self, text: str) -> int:
        return len(text.replace(" ", "")) + text.count(" ")


def _speech(seconds: int, probability: float = 0.9) -> SpeechMap:
    return SpeechMap(((0, seconds * 1000),), tuple([probability] * (seconds * 1000 // 32)), 32.0)


def test_a_looping_window_is_decoded_again_and_the_clean_text_kept() -> None:
    def answer(request: DecodeRequest, window: tuple[int, int]) -> str:
        if request.batched:
            return "中国" * 25
        assert request.temperatures == C.ASR_FALLBACK_TEMPERATURES and not request.hotwords
        return "欢迎大家来体验达摩院推出的语音识别模型"

    decoder = ScriptedDecoder(_speech(5), answer)
    heard = recognise(decoder, RecogniseSettings(batch_size=8, bias=False, recover=False))
    assert "".join(s.text for s in heard.segments) == "欢迎大家来体验达摩院推出的语音识别模型"
    [window] = heard.report["windows"]
    assert window["problems"] == ["asr-repetition: '中国' ×25"]
    assert window["guard"].endswith("clean")
    assert not any(s.flags for s in heard.segments)


def test_a_loop_that_stays_is_collapsed_flagged_and_not_counted_as_a_term() -> None:
    from dubkit.glossary.terms import Term, TermSet
    from dubkit.profiles import BUILTIN_PROFILES
    from dubkit.qa.adherence import glossary_report
    from dubkit.subtitles.segmentation import segment_cues

    decoder = ScriptedDecoder(_speech(20), lambda r, w: "今天我们说中国" + "中国" * 30)
    heard = recognise(decoder, RecogniseSettings(batch_size=8, bias=False))
    text = "".join(s.text for s in heard.segments)
    assert text == "今天我们说中国" and not guard.find_loops(text)
    assert all(guard.REPETITION in s.flags for s in heard.segments)
    cues = segment_cues(heard.segments, BUILTIN_PROFILES["zh-broadcast"])
    assert all(guard.REPETITION in c.flags for c in cues)
    china = Term(zh="中国", ur="چین", en="China")
    terms = TermSet((china,), {"中国": china})
    out = [Cue(c.index, c.start_ms, c.end_ms, ("چین",)) for c in cues]
    report = glossary_report(cues, out, [c.text for c in cues], terms)
    assert report["adherence"]["terms"] == 0 and report["adherence"]["rate"] is None
    assert report["adherence"]["unverified"] == [
        {"cue": cues[0].index, "zh": "中国", "why": guard.REPETITION}
    ]


def _biased(first: str, second: str, bias: BiasTerms = BIAS) -> tuple[Any, ScriptedDecoder]:
    """Recognition of 8 s whose first pass hears `first` and whose biased pass (any decode
    with hotwords) hears `second`."""
    decoder = ScriptedDecoder(_speech(8), lambda r, w: second if r.hotwords else first)
    return recognise(decoder, RecogniseSettings(batch_size=8), bias=bias), decoder


def test_biasing_writes_exact_terms_and_decodes_near_ones_again() -> None:
    heard, decoder = _biased(
        "由罗马皇帝钦点的邮地亚王大师律王统治期间", "由罗马皇帝钦点的犹地亚王大希律王统治期间"
    )
    assert "".join(s.text for s in heard.segments) == "由罗马皇帝钦点的犹地亚王大希律王统治期间"
    [window] = heard.report["windows"]
    assert window["biasing"]["kept"] and window["biasing"]["gained"] == ["犹地亚王", "大希律王"]
    assert window["biasing"]["hotwords"].split() == ["犹地亚王", "大希律王"]
    [first, biased] = decoder.requests
    assert first.hotwords == "" and first.batched  # the first pass has no glossary in it
    assert biased.hotwords.split() == ["犹地亚王", "大希律王"]


def test_only_an_exact_match_is_written_in_without_decoding_again() -> None:
    decoder = ScriptedDecoder(_speech(8), lambda r, w: "由罗马皇帝钦点的邮地亚王统治期间")
    heard = recognise(decoder, RecogniseSettings(batch_size=8), bias=BIAS)
    assert "".join(s.text for s in heard.segments) == "由罗马皇帝钦点的犹地亚王统治期间"
    assert len(decoder.requests) == 1
    assert heard.report["windows"][0]["substituted"] == [
        {"term": "犹地亚王", "form": "犹地亚王", "heard": "邮地亚王", "score": 1.0}
    ]
    merged = [w for s in heard.segments for w in s.words if "犹地亚王" in w.text]
    assert len(merged) == 1  # the term is one word: no line break inside it


def test_a_biased_pass_refused_for_other_changes_still_writes_its_terms() -> None:
    """Measured on the history clip on an AMD EPYC without AVX2: the biased pass wrote
    大希律王 where the first pass heard 大师律王, and 期间 → 期皆 at the end (another
    sound, so refused). On an Intel Xeon it wrote 期间 and was kept. The terms with their
    evidence are written either way; the first pass's text is kept around them."""

    heard, _ = _biased(
        "由罗马皇帝钦点的邮地亚王大师律王统治期间", "由罗马皇帝钦点的犹地亚王大希律王统治期皆"
    )
    assert "".join(s.text for s in heard.segments) == "由罗马皇帝钦点的犹地亚王大希律王统治期间"
    [window] = heard.report["windows"]
    biasing = window["biasing"]
    assert not biasing["kept"] and "('间' → '皆')" in biasing["why"]
    assert [c["term"] for c in biasing["confirmed"]] == ["犹地亚王", "大希律王"]
    assert [w.text for s in heard.segments for w in s.words].count("大希律王") == 1  # one word


def test_confirmed_terms_are_written_from_the_right_whatever_their_length() -> None:
    """Two terms confirmed in one segment, the first written longer than it was heard (a
    variant form with a longer canonical term): each lands where it was heard."""

    def answer(request: DecodeRequest, window: tuple[int, int]) -> str:
        return (
            "罗马皇帝钦点的大希律王统治期皆"
            if request.hotwords
            else "罗马皇李钦点的大师律王统治期间"
        )

    bias = bias_of([("罗马皇帝", "罗马帝国皇帝"), ("大希律王", "大希律王")])
    heard = recognise(ScriptedDecoder(_speech(8), answer), RecogniseSettings(), bias=bias)
    assert "".join(s.text for s in heard.segments) == "罗马帝国皇帝钦点的大希律王统治期间"
    assert heard.report["summary"]["biased_confirmed_terms"] == 2


def test_a_biased_pass_that_went_wrong_confirms_nothing() -> None:
    """Refused for 间 → 皆, but also far too fast for its time (20 characters in 0.5 s):
    the guard's verdict on it stands, and none of its terms are written."""

    def answer(request: DecodeRequest, window: tuple[int, int]) -> Sequence[Segment]:
        if request.hotwords:
            return (_seg("由罗马皇帝钦点的犹地亚王大希律王统治期皆", 0, 500),)
        return (_seg("由罗马皇帝钦点的邮地亚王大师律王统治期间", 0, 8000),)

    heard = recognise(ScriptedDecoder(_speech(8), answer), RecogniseSettings(), bias=BIAS)
    assert "".join(s.text for s in heard.segments) == "由罗马皇帝钦点的犹地亚王大师律王统治期间"
    biasing = heard.report["windows"][0]["biasing"]
    assert biasing["why"] == "the biased pass went wrong" and biasing["confirmed"] == []


def test_a_biased_pass_that_plants_a_term_is_rejected() -> None:
    def answer(request: DecodeRequest, window: tuple[int, int]) -> str:
        if request.hotwords:
            return "中国皇帝钦点的邮地亚王大希律王统治期间"
        return "罗马皇帝钦点的邮地亚王大师律王统治期间"

    decoder = ScriptedDecoder(_speech(8), answer)
    bias = bias_of([("大希律王", "大希律王"), ("中国皇帝", "中国皇帝")])
    heard = recognise(decoder, RecogniseSettings(batch_size=8), bias=bias)
    assert "".join(s.text for s in heard.segments) == "罗马皇帝钦点的邮地亚王大师律王统治期间"
    biasing = heard.report["windows"][0]["biasing"]
    assert not biasing["kept"] and not biasing["confirmed"]  # 大希律王 too: nothing it says


def test_skipped_speech_is_decoded_again_and_merged_in_order() -> None:
    def answer(request: DecodeRequest, window: tuple[int, int]) -> str | Sequence[Segment]:
        if request.batched or window == (0, 10_000):  # the decoder jumped to the end after
            return (_seg("广州市房地产中介协会分析", 0, 3000),)  # 3 s (alone too: no refill)
        return (_seg("甚至出现交易几乎停滞的情况", window[0] + 300, window[1] - 200),)

    decoder = ScriptedDecoder(_speech(10), answer)
    heard = recognise(decoder, RecogniseSettings(batch_size=8, bias=False))
    assert (
        "".join(s.text for s in heard.segments)
        == "广州市房地产中介协会分析甚至出现交易几乎停滞的情况"
    )
    [entry] = heard.report["windows"][0]["recovered"]
    assert entry["text"] == "甚至出现交易几乎停滞的情况"
    assert heard.report["summary"]["recovered_characters"] == 13


def test_batched_decodes_wait_for_twice_the_beams_hypotheses() -> None:
    """The first pass and the glossary-biased pass, batched, ask for patience 2 (a batch
    cannot carry on in a window the model stopped early); recovery's decodes, alone with
    temperature fallback, faster-whisper's own 1. asr.json says which."""

    def answer(request: DecodeRequest, window: tuple[int, int]) -> Sequence[Segment]:
        if request.first_pass or window == (0, 10_000):  # a near match of 大希律王, then
            return (_seg("罗马皇帝钦点的邮地亚王大师律王统治期间", 0, 3000),)  # nothing after 3 s
        return (_seg("甚至出现交易几乎停滞的情况", window[0] + 300, window[1] - 200),)

    decoder = ScriptedDecoder(_speech(10), answer)
    heard = recognise(
        decoder, RecogniseSettings(batch_size=8), bias=bias_of([("大希律王", "大希律王")])
    )
    [window] = heard.report["windows"]
    assert window["biasing"]["hotwords"] and window["recovered"]
    asked = {(r.first_pass, r.batched, r.patience) for r in decoder.requests}
    assert asked == {
        (True, True, C.BATCHED_PATIENCE),
        (False, True, C.BATCHED_PATIENCE),
        (False, False, 1.0),
    }
    assert C.BATCHED_PATIENCE == 2.0 and heard.report["patience"] == 2.0
    sequential = recognise(ScriptedDecoder(_speech(10), answer), RecogniseSettings(batch_size=0))
    assert sequential.report["patience"] is None  # no batched decode: nothing to say


def test_sequential_prompts_never_overflow_and_say_what_was_left_out() -> None:
    many = tuple(f"术语{k:03d}号" for k in range(200))  # far beyond the prompt budget

    def answer(request: DecodeRequest, window: tuple[int, int]) -> str:
        assert decoder.count_tokens(request.hotwords) <= C.USER_HOTWORD_TOKEN_BUDGET
        return "今天天气很好我们去公园散步然后一起吃午饭晚上再看一场电影"

    decoder = ScriptedDecoder(_speech(70), answer)
    heard = recognise(decoder, RecogniseSettings(batch_size=0, hotwords=many, bias=False))
    assert len(decoder.requests) == 3  # one window at a time, with fallback
    assert all(r.temperatures == C.ASR_FALLBACK_TEMPERATURES for r in decoder.requests)
    used, left = heard.report["hotwords"], heard.report["hotwords_left_out"]
    assert used == list(many[: len(used)]) and left == list(many[len(used) :]) and left
    assert "did not fit" in heard.warnings[0]


def test_replacement_characters_never_reach_the_text() -> None:
    decoder = ScriptedDecoder(_speech(4), lambda r, w: "欢迎\ufffd大家")
    heard = recognise(decoder, RecogniseSettings(batch_size=8))
    assert "".join(s.text for s in heard.segments) == "欢迎大家"
    assert heard.report["summary"]["replacement_characters_removed"] == 1


def test_progress_moves_batch_by_batch() -> None:
    seen: list[tuple[int, int]] = []
    decoder = ScriptedDecoder(_speech(100), lambda r, w: "今天天气很好我们去公园散步")
    recognise(
        decoder,
        RecogniseSettings(batch_size=2, bias=False),
        progress=lambda d, t: seen.append((d, t)),
    )
    totals = {t for _, t in seen}
    assert totals == {100_000}
    inside = [d for d, t in seen if 0 < d < t]
    assert inside and inside == sorted(inside)  # four windows in two batches: one step between


def test_silence_gives_nothing_and_no_decode() -> None:
    decoder = ScriptedDecoder(SpeechMap(()), lambda r, w: "字幕由Amara.org社区提供")
    heard = recognise(decoder, RecogniseSettings())
    assert heard.segments == () and decoder.requests == []


def test_translate_reads_the_recognisers_flags_back_unless_the_cue_was_edited(
    tmp_path: Path,
) -> None:
    import json

    from dubkit.episode.pipeline import with_recognition_flags

    cues = (
        Cue(1, 0, 2000, ("今天我们说中国",)),
        Cue(2, 2100, 4000, ("中国人民",)),  # edited since: the loop was fixed by hand
        Cue(3, 4100, 6000, ("很好",)),
    )
    asr = tmp_path / "ep.asr.json"
    asr.write_text(
        json.dumps(
            {
                "flagged_cues": [
                    {
                        "start_ms": 0,
                        "end_ms": 2000,
                        "text": "今天我们说中国",
                        "flags": [guard.REPETITION],
                    },
                    {
                        "start_ms": 2100,
                        "end_ms": 4000,
                        "text": "中国中国",
                        "flags": [guard.REPETITION],
                    },
                ]
            }
        ),
        encoding="utf-8",
    )
    flagged = with_recognition_flags(cues, asr)
    assert [c.flags for c in flagged] == [(guard.REPETITION,), (), ()]
    assert with_recognition_flags(cues, tmp_path / "missing.asr.json") == cues
    asr.write_text("{not json", encoding="utf-8")
    assert with_recognition_flags(cues, asr) == cues


def test_an_asr_json_is_parsed_once_however_many_stages_ask_and_again_once_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch episode's stages ask the asr.json (megabytes for an hour) six questions: the
    file is parsed once, and again when its content changes, even to the same size."""
    import json

    from dubkit.episode import pipeline as P

    parsed: list[bytes] = []
    real = P.parse_json
    monkeypatch.setattr(P, "parse_json", lambda data: parsed.append(data) or real(data))
    asr = tmp_path / "ep.asr.json"
    doc = {
        "media": str(tmp_path),  # this test's own content (records are kept per content)
        "language": "zh",
        "source": "auto",
        "english_srt": "ep.en.srt",
        "english_srt_sha256": "ab12",
        "profile": {"fps": 25},
        "flagged_cues": [
            {"start_ms": 0, "end_ms": 2000, "text": "中国中国", "flags": [guard.REPETITION]}
        ],
    }
    asr.write_text(json.dumps(doc), encoding="utf-8")
    cues = (Cue(1, 0, 2000, ("中国中国",)), Cue(2, 2100, 4000, ("很好",)))
    assert P.heard_language(asr) == "zh"
    assert P.read_from_picture(asr)
    assert P.english_srt(asr) == tmp_path / "ep.en.srt"
    assert P.picture_records(tmp_path, "ep") == {"ep.en.srt": {"ab12"}}
    assert P.cue_rate(asr) == 25.0
    assert [c.flags for c in P.with_recognition_flags(cues, asr)] == [(guard.REPETITION,), ()]
    assert len(parsed) == 1
    # the same size, written at once: the content tells the versions apart
    asr.write_text(json.dumps({**doc, "language": "en"}), encoding="utf-8")
    assert P.heard_language(asr) == "en"
    assert len(parsed) == 2
    asr.unlink()
    assert P.heard_language(asr) is None
    assert P.with_recognition_flags(cues, asr) == cues
    # a rate no float holds says nothing, and stops nothing
    asr.write_text(json.dumps({**doc, "profile": {"fps": 10**400}}), encoding="utf-8")
    assert P.cue_rate(asr) is None
    assert P.heard_language(asr) == "zh"


# ------------------------------------------------------- found by review, kept as tests


def test_a_sentence_said_again_is_a_loop_and_speech_habits_are_not() -> None:
    said_again = "今天天气很好" + "我们下期节目再见了朋友们" * 3
    [loop] = guard.find_loops(said_again)
    assert loop.unit == "我们下期节目再见了朋友们" and loop.count == 3
    for speech in ("对对对对，就是这样", "谢谢谢谢大家", "好好好好", "这个这个这个会之后"):
        assert guard.find_loops(speech) == [], speech
    assert (
        guard.collapse_loops("哈哈哈哈哈哈哈，太好笑了") == "哈哈，太好笑了"
    )  # as Chinese doubles


def test_latin_text_is_never_too_long_for_its_time() -> None:
    said = (
        "The China Pakistan Economic Corridor and the Belt and Road Initiative "
        "were discussed at length by the ministers in Islamabad today"
    )
    english = _seg(said, 0, 10_600)
    assert [
        p for p in guard.window_problems([english], 10_600, [0.9]) if p.kind == guard.TOO_LONG
    ] == []


def test_a_collapsed_loop_is_not_decoded_back_in_by_recovery() -> None:
    def answer(request: DecodeRequest, window: tuple[int, int]) -> str | Sequence[Segment]:
        if request.windows[0] != (0, 10_000):  # a recovery decode inside the window
            return (_seg("中国中国中国", request.windows[0][0], request.windows[0][1]),)
        return (_seg("今天我们说" + "中国" * 10, 0, 9500),)

    decoder = ScriptedDecoder(_speech(10), answer)
    heard = recognise(decoder, RecogniseSettings(batch_size=8, bias=False))
    text = "".join(s.text for s in heard.segments)
    assert text == "今天我们说中国" and not guard.find_loops(text)
    assert all(s.flags for s in heard.segments if "中国" in s.text)
    assert "recovered" not in heard.report["windows"][0]


def test_a_skipped_stretch_with_pauses_between_words_is_recovered_whole() -> None:
    probs = [0.1] * 313
    probs[120:146] = [0.9] * 26  # 0.83 s of speech ...
    probs[152:171] = [0.9] * 19  # ... a 0.2 s pause, 0.6 s more (as measured by the review)
    speech = SpeechMap(((0, 10_000),), tuple(probs), 32.0)
    [gap] = uncovered(speech, (0, 10_000), [(0, 3000)])
    assert gap[0] <= 120 * 32 + 32 and gap[1] >= 171 * 32 - 32


def test_recovered_speech_inside_a_segment_keeps_its_place() -> None:
    words = _words("今天天气很好", 0, 3000) + _words("我们去公园吧", 7000, 10_000)
    segment = Segment("今天天气很好我们去公园吧", 0, 10_000, words)
    speech = SpeechMap(((0, 10_000),), tuple([0.9] * 313), 32.0)

    def answer(request: DecodeRequest, window: tuple[int, int]) -> str | Sequence[Segment]:
        if request.batched:
            return (segment,)
        return (_seg("然后吃了午饭", 3400, 6400),)

    decoder = ScriptedDecoder(speech, answer)
    heard = recognise(decoder, RecogniseSettings(batch_size=8, bias=False))
    assert [s.text for s in heard.segments] == ["今天天气很好", "然后吃了午饭", "我们去公园吧"]
    starts = [s.start_ms for s in heard.segments]
    assert starts == sorted(starts)


def test_a_clean_re_decode_that_lost_the_speech_around_a_loop_is_not_taken() -> None:
    said = "欢迎大家来体验达摩院推出的语音识别模型今天我们来介绍它的用法"

    def answer(request: DecodeRequest, window: tuple[int, int]) -> str:
        return said + "谢" * 12 if request.batched else "今天天气很好"

    decoder = ScriptedDecoder(_speech(12), answer)
    heard = recognise(decoder, RecogniseSettings(batch_size=8, bias=False, recover=False))
    assert "".join(s.text for s in heard.segments) == said + "谢谢"
    assert all(guard.REPETITION in s.flags for s in heard.segments)
    assert "kept 6 of" in heard.report["windows"][0]["guard_rejected"]


def test_the_speech_probability_does_not_drift_across_chunks() -> None:
    import numpy as np

    from dubkit.adapters.whisper import _on_speech_timeline

    frame = 512
    probs = np.arange(20_000, dtype=float)  # each frame's value is its own index
    chunks, at = [], 0
    for k in range(200):  # 200 chunks of odd lengths, as the VAD cuts them
        length = 5_000 + 37 * k
        chunks.append((at, at + length))
        at += length + 20_000
    timeline = _on_speech_timeline(probs, chunks, frame)
    total = sum(b - a for a, b in chunks)
    assert len(timeline) == -(-total // frame)
    offsets = np.cumsum([0] + [b - a for a, b in chunks[:-1]])
    for k in (0, 57, 199):  # the first frame of chunk k reads the frame it really is
        speech_frame = -(-offsets[k] // frame)
        centre = speech_frame * frame + frame // 2
        original = chunks[k][0] + (centre - offsets[k])
        assert timeline[speech_frame] == original // frame


def test_a_written_in_term_may_cross_a_comma_only_inside_a_mishearing() -> None:
    bias = bias_of([("三磷酸腺苷", "三磷酸腺苷")])
    [heard] = candidates("利用三零酸,现干的水解", bias)  # 三/零/酸 , 现/干: no words at all
    assert heard.substitutable


def test_recovered_text_the_decoder_was_not_sure_of_is_not_taken() -> None:
    def answer(request: DecodeRequest, window: tuple[int, int]) -> str | Sequence[Segment]:
        if request.batched:
            return (_seg("欢迎大家来体验达摩院推出的语音识别模型", 0, 3000),)
        babble = _seg("你妈的声音它的差点知道你妈糊", window[0] + 300, window[1] - 300)
        return (dataclasses.replace(babble, avg_logprob=-3.94),)

    decoder = ScriptedDecoder(_speech(12), answer)
    heard = recognise(decoder, RecogniseSettings(batch_size=8, bias=False))
    assert "".join(s.text for s in heard.segments) == "欢迎大家来体验达摩院推出的语音识别模型"
    [window] = heard.report["windows"]
    assert "kept" not in window["refilled"]  # the whole window decoded alone: babble too
    [entry] = window["recovered"]
    assert entry["text"] == "" and heard.report["summary"]["recovered_characters"] == 0
    assert heard.report["summary"]["refilled_windows"] == 0


def test_speech_the_vad_is_less_sure_of_is_still_recovered() -> None:
    probs = [0.1] * 313
    probs[100:160] = [0.43, 0.77] * 30  # hovering around 0.5, as under a loud voice
    speech = SpeechMap(((0, 10_000),), tuple(probs), 32.0)
    [gap] = uncovered(speech, (0, 10_000), [(0, 2000)])
    assert gap[0] <= 100 * 32 and gap[1] >= 159 * 32


def test_a_repetition_that_could_be_speech_is_kept_and_flagged() -> None:
    chant = "中国加油" * 4  # four sayings over four seconds, where the VAD hears speech
    decoder = ScriptedDecoder(_speech(5), lambda r, w: (_seg(chant, 500, 4500),))
    heard = recognise(decoder, RecogniseSettings(batch_size=8, bias=False))
    assert "".join(s.text for s in heard.segments) == chant
    assert all(guard.REPETITION in s.flags for s in heard.segments)
    squeezed = ScriptedDecoder(_speech(5), lambda r, w: (_seg(chant, 500, 1000),))
    heard = recognise(squeezed, RecogniseSettings(batch_size=8, bias=False, recover=False))
    assert "".join(s.text for s in heard.segments) == "中国加油"  # 32 a second: a loop


def test_without_the_guard_a_loop_is_still_flagged_but_nothing_is_cut() -> None:
    decoder = ScriptedDecoder(_speech(20), lambda r, w: "今天我们说" + "中国" * 30)
    heard = recognise(decoder, RecogniseSettings(batch_size=8, guard=False, bias=False))
    assert "".join(s.text for s in heard.segments) == "今天我们说" + "中国" * 30
    assert all(guard.REPETITION in s.flags for s in heard.segments)
    assert len(decoder.requests) == 1


def test_digit_runs_long_enough_are_loops() -> None:
    assert guard.find_loops("4-" * 20) and guard.find_loops("0" * 30)
    assert guard.find_loops("10:00 " * 8)
    assert guard.find_loops("有超过820,000人") == [] and guard.find_loops("10000000元") == []


def test_a_loop_cut_in_two_by_a_window_boundary_is_flagged() -> None:
    speech = _speech(60)
    windows = plan_windows(speech)
    assert len(windows) == 2

    def answer(request: DecodeRequest, window: tuple[int, int]) -> str | Sequence[Segment]:
        if window == windows[0]:
            return (_seg("今天天气很好我们去公园", window[0], window[1] - 2000),
                    _seg("中国中国中国", window[1] - 1500, window[1]))  # fmt: skip
        return (_seg("中国中国中国", window[0], window[0] + 1500),
                _seg("然后一起吃午饭晚上再看一场电影", window[0] + 2000, window[1]))  # fmt: skip

    heard = recognise(ScriptedDecoder(speech, answer), RecogniseSettings(bias=False, recover=False))
    flagged = [s.text for s in heard.segments if guard.REPETITION in s.flags]
    assert flagged == ["中国中国中国", "中国中国中国"]


def test_a_word_ending_a_window_at_a_pause_stays_before_the_pause() -> None:
    speech = SpeechMap(((0, 10_000), (15_000, 25_000)), tuple([0.9] * 625), 32.0)
    words = (Word("今天天气很好", 8000, 9500), Word("了", 10_000, 10_000))
    first = Segment("今天天气很好了", 8000, 10_000, words)
    second = _seg("我们去公园散步", 11_000, 14_000)

    def answer(request: DecodeRequest, window: tuple[int, int]) -> Sequence[Segment]:
        return (first, second)

    heard = recognise(ScriptedDecoder(speech, answer), RecogniseSettings(bias=False, recover=False))
    [one, two] = heard.segments
    assert one.words[-1].start_ms == one.words[-1].end_ms == 10_000  # not 15,000
    assert one.end_ms <= two.start_ms == 16_000


def test_recovered_words_past_the_gap_are_not_taken_twice() -> None:
    words = _words("今天天气很好", 0, 3000) + _words("我们去公园吧", 7000, 10_000)
    segment = Segment("今天天气很好我们去公园吧", 0, 10_000, words)

    def answer(request: DecodeRequest, window: tuple[int, int]) -> Sequence[Segment]:
        if request.batched:
            return (segment,)
        lo, hi = window  # the recovery decode hears the gap and the first word after it
        return (_seg("然后吃了午饭我们", lo + 300, hi),)

    heard = recognise(ScriptedDecoder(_speech(10), answer), RecogniseSettings(bias=False))
    text = "".join(s.text for s in heard.segments)
    assert text.count("我们") == 1, text


def test_a_character_may_be_replaced_by_one_that_any_of_its_readings_sounds_like() -> None:
    """The medical clip: whisper:base wrote 圣藏 (sheng cang) for 肾脏; with the terms as
    hotwords it wrote 胜脏. 藏 is also read zang (西藏), so that is no change of sound."""
    bias = bias_of([("肾小球囊", "肾小球囊"), ("孔隙", "孔隙")])
    verdict = judge("圣藏中 圣小球拿上的细胞膜 恐戏很小", "胜脏中 肾小球囊上的细胞膜孔隙很小", bias)
    assert verdict.keep and set(verdict.gained) == {"肾小球囊", "孔隙"}


VERSE = "黑的白的红的粉的紫的绿的蓝的灰的你的我的他的她的大的小的圆的扁的"


def _skipped_verse(request: DecodeRequest, window: tuple[int, int]) -> Sequence[Segment]:
    """A batch jumps over most of a sung window (3 s of words in 20 s of voice); the same
    window alone, with temperature fallback, hears the verse up to 16.8 s; the last 3 s
    decoded alone (recovery) hear the last line again."""
    if request.batched:
        return (_seg("好的坏的美的", 17_000, 20_000),)
    if window == (0, 20_000):
        assert request.temperatures == C.ASR_FALLBACK_TEMPERATURES and not request.batched
        return (_seg(VERSE, 200, 16_800),)
    return (_seg("好的坏的美的", 17_000, 20_000),) if window[0] >= 16_000 else ()


def test_a_window_the_batch_jumped_over_is_decoded_again_alone() -> None:
    decoder = ScriptedDecoder(_speech(20), _skipped_verse)
    heard = recognise(decoder, RecogniseSettings(batch_size=8, bias=False))
    assert "".join(s.text for s in heard.segments) == VERSE + "好的坏的美的"  # both, in order
    [window] = heard.report["windows"]
    refill = window["refilled"]
    assert refill["kept"] and refill["missing_ms"] >= 0.5 * refill["voiced_ms"]
    assert refill["again_missing_ms"] == 0  # the last line: the first pass's, where it was
    assert heard.report["summary"]["refilled_windows"] == 1
    assert heard.report["summary"]["refills_decoded"] == 1
    assert "recovered" not in window  # nothing left to decode again
    assert not any(s.flags for s in heard.segments)


def test_a_refill_is_only_made_where_a_batch_left_half_the_speech() -> None:
    whole = recognise(
        ScriptedDecoder(_speech(20), _skipped_verse), RecogniseSettings(batch_size=0, bias=False)
    )  # one window at a time: the first pass already was the decode alone
    assert "refilled" not in whole.report["windows"][0]
    off = recognise(
        ScriptedDecoder(_speech(20), _skipped_verse),
        RecogniseSettings(batch_size=8, bias=False, recover=False),
    )
    assert "refilled" not in off.report["windows"][0]  # --no-recover: the first pass as heard
    assert "".join(s.text for s in off.segments) == "好的坏的美的"

    def most(request: DecodeRequest, window: tuple[int, int]) -> Sequence[Segment]:
        if request.batched:  # 12 s of 20 heard: recovery's work, not a refill's
            return (_seg(VERSE[:24], 0, 12_000),)
        assert window != (0, 20_000), "no refill"
        return ()

    heard = recognise(
        ScriptedDecoder(_speech(20), most), RecogniseSettings(batch_size=8, bias=False)
    )
    assert "refilled" not in heard.report["windows"][0] and heard.report["windows"][0]["recovered"]


def test_a_refill_that_loops_or_is_unsure_is_not_taken() -> None:
    def looping(request: DecodeRequest, window: tuple[int, int]) -> str | Sequence[Segment]:
        if request.batched:
            return (_seg("好的坏的美的", 17_000, 20_000),)
        return "随它而去" * 12 if window == (0, 20_000) else ()

    heard = recognise(
        ScriptedDecoder(_speech(20), looping), RecogniseSettings(batch_size=8, bias=False)
    )
    [window] = heard.report["windows"]
    assert "kept" not in window["refilled"] and window["refilled"]["problems"]
    assert "".join(s.text for s in heard.segments) == "好的坏的美的"
    assert not any(s.flags for s in heard.segments)  # the first pass, as it was

    def unsure(request: DecodeRequest, window: tuple[int, int]) -> Sequence[Segment]:
        if request.batched:
            return (_seg("好的坏的美的", 17_000, 20_000),)
        if window == (0, 20_000):
            return (dataclasses.replace(_seg(VERSE, 200, 16_800), avg_logprob=-2.5),)
        return ()

    heard = recognise(
        ScriptedDecoder(_speech(20), unsure), RecogniseSettings(batch_size=8, bias=False)
    )
    assert "kept" not in heard.report["windows"][0]["refilled"]
    assert "".join(s.text for s in heard.segments) == "好的坏的美的"


def test_a_refill_flags_text_in_silence_and_keeps_the_first_pass_where_it_heard_none() -> None:
    probs = [0.9] * 625
    probs[200:250] = [0.02] * 50  # 6.4-8 s: the VAD hears no voice (music alone, say)

    def answer(request: DecodeRequest, window: tuple[int, int]) -> Sequence[Segment]:
        if request.batched:
            return (_seg("好的坏的美的", 17_000, 20_000),)
        if window == (0, 20_000):  # the verse, a line in the silence, and nothing after 16 s
            return (
                _seg(VERSE[:12], 200, 6_000),
                _seg("让我选择", 6_500, 7_900),
                _seg(VERSE[12:], 8_200, 15_800),
            )
        raise AssertionError(f"no recovery in a window with flagged text: {window}")

    speech = SpeechMap(((0, 20_000),), tuple(probs), 32.0)
    heard = recognise(ScriptedDecoder(speech, answer), RecogniseSettings(batch_size=8, bias=False))
    text = "".join(s.text for s in heard.segments)  # the last line: the first pass's
    assert text == VERSE[:12] + "让我选择" + VERSE[12:] + "好的坏的美的"
    [flagged] = [s for s in heard.segments if s.flags]
    assert flagged.text == "让我选择" and flagged.flags == (guard.NO_SPEECH,)
    [window] = heard.report["windows"]
    assert window["refilled"]["kept"] and window["flagged"] == [guard.NO_SPEECH]


def test_a_line_the_batch_timed_at_the_windows_end_is_not_written_twice() -> None:
    def answer(request: DecodeRequest, window: tuple[int, int]) -> Sequence[Segment]:
        if request.batched:  # the verse's first line, timed at the window's end
            return (_seg("黑的白的红的粉的", 17_000, 20_000),)
        if window == (0, 20_000):
            return (_seg(VERSE, 200, 16_800),)
        return ()

    heard = recognise(
        ScriptedDecoder(_speech(20), answer), RecogniseSettings(batch_size=8, bias=False)
    )
    assert "".join(s.text for s in heard.segments) == VERSE
    starts = [s.start_ms for s in heard.segments]
    assert starts == sorted(starts)


def test_a_refill_that_leaves_more_than_half_is_not_taken_nor_loses_the_first_pass() -> None:
    def answer(request: DecodeRequest, window: tuple[int, int]) -> Sequence[Segment]:
        if request.batched:  # a sentence heard right, then a jump over 24 s of voice
            return (_seg("欢迎大家来体验达摩院推出的语音识别模型", 0, 6_000),)
        if window == (0, 30_000):  # alone: the start unsure, only 9 s of the verse sure
            unsure = dataclasses.replace(_seg("欢迎大家来体验", 0, 6_000), avg_logprob=-1.2)
            return (unsure, _seg(VERSE[:18], 6_000, 15_000))
        return ()

    heard = recognise(
        ScriptedDecoder(_speech(30), answer), RecogniseSettings(batch_size=8, bias=False)
    )
    [window] = heard.report["windows"]
    refill = window["refilled"]  # 9 s of the first pass's 24 s left without a word: 15 s
    assert refill["again_missing_ms"] > 0.5 * refill["missing_ms"] and "kept" not in refill
    assert "".join(s.text for s in heard.segments) == "欢迎大家来体验达摩院推出的语音识别模型"

    def sure_rest(request: DecodeRequest, window: tuple[int, int]) -> Sequence[Segment]:
        if not request.batched and window == (0, 30_000):  # the rest sure: taken ...
            return (*answer(request, window), _seg(VERSE[18:] * 2, 15_000, 29_800))
        return answer(request, window)

    heard = recognise(
        ScriptedDecoder(_speech(30), sure_rest), RecogniseSettings(batch_size=8, bias=False)
    )
    assert heard.report["windows"][0]["refilled"]["kept"]  # ... with the first pass's sentence
    text = "".join(s.text for s in heard.segments)  # where it alone heard one
    assert text == "欢迎大家来体验达摩院推出的语音识别模型" + VERSE[:18] + VERSE[18:] * 2
