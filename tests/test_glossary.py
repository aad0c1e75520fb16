"""Glossary core: matching, protection through translation, restoration, verification,
recognition bias; with a misbehaving fake translator and with the tiny real packages."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from dubkit.cli import app
from dubkit.glossary.terms import (
    Glossary,
    Term,
    TermSet,
    canonical_transcript,
    check_output,
    combine,
    find_terms,
    protect,
    restore,
)
from dubkit.records import Cue, Segment, Transcript, Word
from dubkit.subtitles.parse import parse_srt
from dubkit.text.urdu import UrduStyle
from dubkit.translate.steps import translate_texts, translated_cues
from tests.conftest import CPEC

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _set(*terms: Term, scope: str = "global") -> TermSet:
    return combine([Glossary("t", "1", scope, terms, file="t.yaml")])[0]


CORRIDOR = Term(
    zh="中巴经济走廊", ur="چین پاکستان اقتصادی راہداری", en="CPEC", variants=("中巴走廊",)
)
ECONOMY = Term(zh="经济", ur="معیشت", en="economy")
BELT = Term(zh="一带一路", ur="بیلٹ اینڈ روڈ", en="Belt and Road", forbidden=("ون بیلٹ ون روڈ",))
CCTV = Term(zh="CCTV", ur="", do_not_translate=True, type="organisation")
TERMS = _set(CORRIDOR, ECONOMY, BELT, CCTV)


def test_longest_match_wins_and_matches_do_not_overlap() -> None:
    text = "中巴经济走廊的经济，一带一路一带一路CCTV"
    found = [(m.start, m.form) for m in find_terms(text, TERMS)]
    assert found == [
        (0, "中巴经济走廊"),
        (7, "经济"),
        (10, "一带一路"),
        (14, "一带一路"),
        (18, "CCTV"),
    ]
    assert [m.form for m in find_terms("中巴走廊", TERMS)] == ["中巴走廊"]
    assert find_terms("", TERMS) == []


filler = st.text(alphabet="的了是在和有我们他这个中国巴基斯坦，。！ 0123abc", max_size=12)
pieces = st.lists(
    st.one_of(filler, st.sampled_from(["中巴经济走廊", "中巴走廊", "经济", "一带一路", "CCTV"])),
    max_size=8,
)


@given(pieces)
def test_protect_then_restore_is_lossless(parts: list[str]) -> None:
    """Whatever surrounds the terms, restoring the untouched protected text gives the source
    back (spaces around placeholders aside) and every occurrence gets a slot."""
    text = "".join(parts)
    guarded = protect(text, TERMS)
    assert not any(form in guarded.text for form in ("中巴经济走廊", "一带一路", "CCTV"))
    assert len(guarded.slots) == len(find_terms(text, TERMS))
    back = restore(guarded.text, guarded.slots, "zh")
    canonical = text.replace("中巴走廊", "中巴经济走廊")
    assert re.sub(r"\s", "", back.text) == re.sub(r"\s", "", canonical)
    assert back.restored == back.removed == ()


@given(pieces)
def test_matches_are_ordered_disjoint_and_maximal(parts: list[str]) -> None:
    text = "".join(parts)
    matches = find_terms(text, TERMS)
    for a, b in itertools.pairwise(matches):
        assert a.end <= b.start
    for m in matches:
        assert text[m.start : m.end] == m.form
        longer = [f for f in TERMS.by_form if len(f) > len(m.form) and text.startswith(f, m.start)]
        assert longer == []


class Unruly:
    """A deterministic translator that mangles placeholders: drops the first, duplicates the
    second, reorders the rest, and writes one with Urdu digits."""

    def __init__(self, source: str, target: str) -> None:
        self.source, self.target = source, target

    @property
    def key(self) -> str:
        return f"unruly-{self.source}-{self.target}"

    def translate(self, texts: Sequence[str]) -> list[str]:
        out = []
        for text in texts:
            found = re.findall(r"ZQ\d+", text)
            words = [f"w{len(t)}" for t in re.split(r"ZQ\d+", text)]
            if found:
                found = found[1:] + found[1:2]  # drop the first, repeat the second
                found.reverse()
                if found:
                    found[0] = found[0].replace("1", "۱").replace("2", "۲").replace("3", "۳")
            out.append(" ".join(words + found))
        return out


def _seeded_cues() -> list[Cue]:
    lines = [
        "据CCTV报道，中巴经济走廊进展顺利",
        "一带一路和中巴走廊促进经济发展",
        "谢谢大家",
        "中巴经济走廊中巴经济走廊",
    ]
    return [Cue(i + 1, i * 2000, i * 2000 + 1500, (t,)) for i, t in enumerate(lines)]


def test_restore_path_reaches_full_adherence_with_an_unruly_translator() -> None:
    cues = _seeded_cues()
    texts = [c.lines[0] for c in cues]
    steps = [Unruly("zh", "en"), Unruly("en", "ur")]
    result = translate_texts(texts, steps, None, TERMS)
    out = translated_cues(cues, result.final, "ur", UrduStyle())
    checks = [
        c for cue, o in zip(cues, out, strict=True) for c in check_output(cue.text, o.text, TERMS)
    ]
    assert len(checks) == 7 and all(c.found for c in checks)
    assert any(n.startswith("term-restored:") for n in result.notes[0])
    # a duplicated placeholder is removed once, not rendered twice
    assert out[3].text.count("چین پاکستان اقتصادی راہداری") == 2
    assert any(n.startswith("placeholder-removed:") for notes in result.notes for n in notes)
    # the pivot got the English renderings, the lost CCTV back where it sat (the start)
    assert result.outputs[0][0].startswith("CCTV") and "CPEC" in result.outputs[0][0]


def test_forbidden_renderings_are_replaced_and_flagged() -> None:
    guarded = protect("一带一路很好", TERMS)
    fixed = restore("ZQ1 ون بیلٹ ون روڈ اچھا ہے", guarded.slots, "ur")
    assert "ون بیلٹ ون روڈ" not in fixed.text
    assert fixed.forbidden == ("ون بیلٹ ون روڈ",)


def test_verification_reads_through_bidi_marks_and_short_forms() -> None:
    checks = check_output("中巴经济走廊", "\u200fسی پیک اچھا ہے", _set(
        Term(zh="中巴经济走廊", ur="چین پاکستان اقتصادی راہداری", short="سی پیک")
    ))  # fmt: skip
    assert [c.found for c in checks] == [True]
    assert [c.found for c in check_output("一带一路", "کچھ اور", TERMS)] == [False]


def test_scopes_narrowest_wins_and_conflicts_are_reported() -> None:
    wide = Glossary("g", "1", "global", (Term(zh="总台", ur="چائنا میڈیا گروپ", file="g", line=3),))
    local = Term(zh="总台", ur="سی ایم جی", scope="episode", file="e", line=5)
    narrow = Glossary("e", "1", "episode", (local,))
    terms, issues = combine([wide, narrow])
    assert terms.by_form["总台"].ur == "سی ایم جی"
    assert [i.code for i in issues] == ["override"]
    clash = Glossary("h", "1", "global", (Term(zh="总台", ur="مختلف", file="h", line=7),))
    _, issues = combine([wide, clash])
    assert [i.code for i in issues] == ["conflict"] and issues[0].severity == "error"


def test_variants_become_one_canonical_word_in_the_transcript() -> None:
    words = (
        Word("中巴", 0, 300),
        Word("走", 300, 500),
        Word("廊很", 500, 800),
        Word("好", 800, 900),
    )
    seg = Segment("中巴走廊很好", 0, 900, words)
    heard = Transcript((seg,), "zh", 1.0, 900)
    fixed, count = canonical_transcript(heard, TERMS)
    assert count == 1
    assert [(w.text, w.start_ms, w.end_ms) for w in fixed.segments[0].words] == [
        ("中巴经济走廊很", 0, 800), ("好", 800, 900)
    ]  # fmt: skip
    assert fixed.segments[0].text == "中巴经济走廊很好"


def test_bias_terms_are_canonical_forms_and_variants_never_mishearings() -> None:
    from dubkit.adapters.chinese import pinyin_readings
    from dubkit.asr.biasing import BiasTerms

    port = Term(zh="瓜达尔港", ur="گوادر بندرگاہ", scope="episode", misheard=("瓜达儿港",))
    episode = Glossary("e", "1", "episode", (port,))
    wide = Glossary("g", "1", "global", (CORRIDOR, BELT, CCTV))
    bias = BiasTerms.from_glossary(combine([wide, episode])[0], pinyin_readings)
    assert bias.forms["瓜达尔港"] == "瓜达尔港"
    assert bias.forms["中巴走廊"] == "中巴经济走廊"  # a variant biases towards the canonical form
    assert "CCTV" not in bias.forms  # Latin forms need no bias: Whisper writes them unaided
    assert "瓜达儿港" not in bias.forms  # a mis-hearing would bias towards the error…
    assert "瓜达儿港" in bias.literal  # …but where it is written, the term is already there


def test_fit_words_keeps_whole_words_in_order_within_budget() -> None:
    from dubkit.asr.recognise import fit_words

    chosen, left = fit_words(["瓜达尔港", "中巴经济走廊", "一带一路", "CPEC"], len, 13)
    assert chosen == ["瓜达尔港", "中巴经济走廊"]  # 11 characters with the space
    assert left == ["一带一路", "CPEC"]


@pytest.mark.model
def test_prompt_budget_counts_whispers_own_tokens(transcriber: object) -> None:
    from dubkit.adapters.chinese import to_simplified
    from dubkit.asr.recognise import fit_words
    from dubkit.constants import HOTWORD_TOKEN_BUDGET
    from dubkit.glossary.files import load_terms

    forms = [t.zh for t in load_terms([CPEC], to_simplified).terms]
    count = transcriber.count_tokens  # type: ignore[attr-defined]
    chosen, left = fit_words(forms, count, HOTWORD_TOKEN_BUDGET)
    assert 0 < count(" ".join(chosen)) <= HOTWORD_TOKEN_BUDGET
    assert chosen + left == list(dict.fromkeys(forms)) and left  # 48 terms do not all fit
    assert count(" ".join([*chosen, left[0]])) > HOTWORD_TOKEN_BUDGET


# ----------------------------------------------------------------- through dubkit translate


def _srt_with_terms(folder: Path) -> Path:
    lines = [
        "巴基斯坦信息和广播部长阿陶拉·塔拉尔会见曹淑敏。",
        "中巴经济走廊是一带一路倡议的旗舰项目。",
        "巴基斯坦国家电视台和中央电视台开展内容交流。",
        "双方将联合制作纪录片，打击虚假信息和假新闻。",
        "新华社和巴基斯坦联合通讯社报道。",
        "今天天气很好。",
    ]
    path = folder / "ep7.zh.srt"
    path.write_text(
        "".join(
            f"{i}\n00:00:{2 * i:02d},000 --> 00:00:{2 * i + 1:02d},500\n{t}\n\n"
            for i, t in enumerate(lines, start=1)
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.usefixtures("pivot_route", "no_network")
def test_translate_with_the_shipped_glossary_reaches_full_adherence(tmp_path: Path) -> None:
    srt = _srt_with_terms(tmp_path)
    memory = str(tmp_path / "m.sqlite")
    args = ["translate", str(srt), "-o", str(tmp_path / "out"), "-g", str(CPEC), "--memory", memory]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "glossary adherence 100.0%" in result.output
    qa = json.loads((tmp_path / "out" / "ep7.qa.json").read_text(encoding="utf-8"))
    assert qa["adherence"]["rate"] == 1.0 and qa["adherence"]["terms"] >= 12
    assert qa["glossaries"][0]["name"] == "cpec-media"
    urdu = parse_srt((tmp_path / "out" / "ep7.ur.srt").read_text(encoding="utf-8")).cues
    joined = " ".join(c.text for c in urdu)
    for wanted in ("چین پاکستان اقتصادی راہداری", "عطاء اللہ تارڑ", "وزیر اطلاعات و نشریات"):
        assert wanted in joined.replace("\n", " ")
    assert qa["units"] == "sentences" and len(qa["cues"]) == 6  # each line ends a sentence
    assert qa["cues"][5]["terms"] == []  # the sentence without terms


@pytest.mark.usefixtures("pivot_route")
def test_an_edited_glossary_never_serves_stale_lines(tmp_path: Path) -> None:
    srt = _srt_with_terms(tmp_path)
    glossary = tmp_path / "g.yaml"
    glossary.write_text(CPEC.read_text(encoding="utf-8"), encoding="utf-8")
    memory = str(tmp_path / "m.sqlite")
    base = ["translate", str(srt), "-g", str(glossary), "--memory", memory, "--json"]

    def memory_hits(out: str) -> int:
        result = runner.invoke(app, [*base, "-o", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
        return int(json.loads(result.stdout)["files"][0]["memory_hits"])

    assert memory_hits("a") == 0
    assert memory_hits("b") > 0
    edited = glossary.read_text(encoding="utf-8").replace('version: "2026.11.1"', 'version: "2"')
    glossary.write_text(edited, encoding="utf-8")
    assert memory_hits("c") == 0
