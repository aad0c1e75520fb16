"""Translation through routes and the memory: the core with a fake step (logic), the real
CTranslate2 adapter with tiny packages, and `dubkit translate` end to end."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from dubkit.cli import app
from dubkit.records import Cue
from dubkit.subtitles.parse import parse_srt
from dubkit.text.lines import join_lines, wrap_words
from dubkit.text.urdu import LRM, UrduStyle, lookalikes_in
from dubkit.translate.memory import SqliteMemory, parse_tmx, render_tmx
from dubkit.translate.steps import translate_texts, translated_cues

runner = CliRunner()


class FakeStep:
    """A dictionary translator that records every call (to test batching and the memory)."""

    def __init__(self, source: str, target: str, tag: str, key: str = "fake-v1") -> None:
        self.source, self.target, self.tag, self._key = source, target, tag, key
        self.calls: list[list[str]] = []

    @property
    def key(self) -> str:
        return self._key

    def translate(self, texts: Sequence[str]) -> list[str]:
        self.calls.append(list(texts))
        return [f"{self.tag}({t})" for t in texts]


def test_one_batched_call_per_step_and_order_kept() -> None:
    first, second = FakeStep("zh", "en", "E"), FakeStep("en", "ur", "U")
    texts = ["甲", "乙", "", "甲", "丙"]
    result = translate_texts(texts, [first, second])
    assert len(first.calls) == len(second.calls) == 1
    assert first.calls[0] == ["甲", "乙", "丙"]  # each distinct text once
    assert result.outputs[0] == ("E(甲)", "E(乙)", "", "E(甲)", "E(丙)")
    assert result.final == ("U(E(甲))", "U(E(乙))", "", "U(E(甲))", "U(E(丙))")


def test_memory_serves_repeats_and_separates_engines(tmp_path: Path) -> None:
    memory = SqliteMemory(tmp_path / "tm.sqlite")
    steps = [FakeStep("zh", "en", "E"), FakeStep("en", "ur", "U")]
    first = translate_texts(["片头", "新闻"], steps, memory)
    again_steps = [FakeStep("zh", "en", "E"), FakeStep("en", "ur", "U")]
    second = translate_texts(["片头", "新闻", "片尾"], again_steps, memory)
    assert again_steps[0].calls == [["片尾"]] and again_steps[1].calls == [["E(片尾)"]]
    assert second.final[:2] == first.final
    assert [s.memory_hits for s in second.steps] == [2, 2]
    # another engine key (another package or option) never sees those lines
    other = [FakeStep("zh", "en", "E", key="fake-v2"), FakeStep("en", "ur", "U")]
    translate_texts(["片头"], other, memory)
    assert other[0].calls == [["片头"]]
    memory.close()


def test_approved_lines_override_machine_translation(tmp_path: Path) -> None:
    memory = SqliteMemory(tmp_path / "tm.sqlite")
    steps = [FakeStep("zh", "en", "E"), FakeStep("en", "ur", "U")]
    translate_texts(["中巴经济走廊"], steps, memory)
    memory.approve("zh", "ur", {"中巴经济走廊": "چین پاکستان اقتصادی راہداری"}, note="test")
    steps = [FakeStep("zh", "en", "E"), FakeStep("en", "ur", "U")]
    result = translate_texts(["中巴经济走廊", "其他"], steps, memory)
    assert result.final == ("چین پاکستان اقتصادی راہداری", "U(E(其他))")
    assert result.approved == 1
    assert steps[1].calls == [["E(其他)"]]  # the approved line skips the last step
    # machine results never overwrite an approved pair
    memory.record("zh", "ur", {"中巴经济走廊": "machine"})
    assert memory.approved("zh", "ur", ["中巴经济走廊"]) == {
        "中巴经济走廊": "چین پاکستان اقتصادی راہداری"
    }
    memory.close()


def test_tmx_round_trip_and_refusals() -> None:
    rows = [("你好", "ہیلو", "approved", "2026-11-26T05:00:00+00:00")]
    data = render_tmx(rows, "zh", "ur")
    assert b'<tuv xml:lang="ur">' in data
    assert parse_tmx(data, "x.tmx", "zh", "ur") == {"你好": "ہیلو"}
    regional = data.replace(b'xml:lang="ur"', b'xml:lang="ur-PK"')
    assert parse_tmx(regional, "x.tmx", "zh", "ur") == {"你好": "ہیلو"}
    from dubkit.errors import ConfigError

    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><tmx><body/></tmx>'
    with pytest.raises(ConfigError, match="DOCTYPE or entities is refused"):
        parse_tmx(bomb, "x.tmx", "zh", "ur")
    with pytest.raises(ConfigError, match=r"x\.tmx:1: not valid TMX"):
        parse_tmx(b"<tmx><body><tu>", "x.tmx", "zh", "ur")


# What XML 1.0 cannot carry at all, even escaped: C0 controls but tab, LF and CR; lone
# surrogates; U+FFFE and U+FFFF (https://www.w3.org/TR/xml/#charsets).
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Any text, with the characters XML treats specially (forbidden, CR, markup) made likely.
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(["\x01", "\x0b", "\x1f", "\ufffe", "\uffff", "\ud800", "\udfff",
                         "\r", "\n", "\t", " ", "<", "&", "]", ">", "\x85", "\u2028"]),
    ),
    max_size=20,
)  # fmt: skip


@given(st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=6))
def test_tmx_round_trip_keeps_everything_xml_allows(pairs: list[tuple[str, str]]) -> None:
    """Export then import gives back every pair, less the characters XML 1.0 forbids (a
    unit left blank on either side is not a pair)."""
    rows = [(s, t, "approved", "2026-11-26T05:00:00+00:00") for s, t in pairs]
    got = parse_tmx(render_tmx(rows, "zh", "ur"), "x.tmx", "zh", "ur")
    kept = [(XML_FORBIDDEN.sub("", s), XML_FORBIDDEN.sub("", t)) for s, t in pairs]
    assert got == {s: t for s, t in kept if s.strip() and t.strip()}


def test_memory_export_of_control_characters_imports_back(tmp_path: Path) -> None:
    memory, again = str(tmp_path / "m.sqlite"), str(tmp_path / "again.sqlite")
    with SqliteMemory(Path(memory)) as tm:
        tm.approve("zh", "ur", {"你\x01好": "ہی\x0bلو\ufffe", " 谢谢\r\n": "شکریہ\t"}, "t")
    tmx = tmp_path / "m.tmx"
    result = runner.invoke(app, ["memory", "export", str(tmx), "--memory", memory])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["memory", "import", str(tmx), "--memory", again])
    assert result.exit_code == 0, result.output
    with SqliteMemory(Path(again)) as tm:
        assert tm.approved("zh", "ur", ["你好", " 谢谢\r\n"]) == {
            "你好": "ہیلو",
            " 谢谢\r\n": "شکریہ\t",
        }


def test_tmx_import_takes_every_character_xml_allows() -> None:
    """What other tools write: references, CDATA, and every range XML 1.0 allows."""
    allowed = "\t\x7f\x85\xa0\u2028\ud7ff\ue000\ufdd0\ufffd\U00010000\U0010ffff"
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4"><header/><body><tu>'
        f'<tuv xml:lang="zh-CN"><seg>a&#13;&#x9;&lt;&amp;{allowed}</seg></tuv>'
        '<tuv lang="UR"><seg><![CDATA[<b>&]]>\u06cc</seg></tuv></tu></body></tmx>'
    ).encode()
    assert parse_tmx(data, "x.tmx", "zh", "ur") == {f"a\r\t<&{allowed}": "<b>&\u06cc"}


def test_join_lines_joins_chinese_lines() -> None:
    assert join_lines(("中国和巴基斯坦", "的合作"), "zh") == "中国和巴基斯坦的合作"
    assert join_lines(("项目 CPEC", "PTV 报道"), "zh") == "项目 CPEC PTV 报道"
    assert join_lines(("one", "two"), "en") == "one two"


words = st.lists(st.text(alphabet="ابپتکگہیے", min_size=1, max_size=12), max_size=20)


@given(words, st.integers(10, 50), st.integers(1, 3))
def test_wrap_keeps_every_word_in_order(ws: list[str], max_chars: int, max_lines: int) -> None:
    text = " ".join(ws)
    lines = wrap_words(text, max_chars, max_lines)
    assert " ".join(lines).split() == ws
    assert len(lines) <= max(1, max_lines)
    if len(text) <= max_chars:
        assert len(lines) <= 1


def test_translated_cues_keep_timing_and_flag() -> None:
    cues = [Cue(1, 0, 1000, ("甲",)), Cue(2, 1200, 2000, ("乙",)), Cue(3, 2100, 3000, ("丙",))]
    out = translated_cues(cues, ["پاكستان CPEC", "", "ی " * 60], "ur", UrduStyle())
    spans = [(c.index, c.start_ms, c.end_ms) for c in out]
    assert spans == [(1, 0, 1000), (2, 1200, 2000), (3, 2100, 3000)]
    assert out[0].lines == (f"پاکستان {LRM}CPEC{LRM}",)
    assert out[1].flags == ("untranslated",)
    assert "long" in out[2].flags
    # punctuation is Urdu across the wrap; a Latin-only line of an Urdu cue stays RTL
    (cue,) = translated_cues(
        cues[:1], ["انہوں نے بتایا کہ ریڈیو Radio Pakistan News at 9 pm, Islamabad?"], "ur",
        UrduStyle(),
    )  # fmt: skip
    assert len(cue.lines) == 2 and cue.lines[1].startswith("\u200f")


# ------------------------------------------------------------------ real adapter, tiny models


def _srt(tmp_path: Path, name: str = "ep1.zh.srt") -> Path:
    path = tmp_path / name
    path.write_text(
        "1\n00:00:01,000 --> 00:00:02,500\n中国和巴基斯坦的合作\n\n"
        "2\n00:00:03,000 --> 00:00:05,000\nCPEC项目在2025年\n进展顺利\n\n"
        "3\n00:00:05,200 --> 00:00:06,000\n谢谢\n\n"
        "4\n00:00:06,500 --> 00:00:08,000\n中国和巴基斯坦的合作\n",
        encoding="utf-8",
    )
    return path


def _translate(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["translate", *args])
    return result.exit_code, result.output


@pytest.mark.usefixtures("pivot_route", "no_network")
def test_translate_keeps_cues_and_timing_offline(tmp_path: Path) -> None:
    srt = _srt(tmp_path)
    out = tmp_path / "out"
    memory = str(tmp_path / "m.sqlite")
    args = ["-o", str(out), "--pivot-srt", "--memory", memory, "--json", "--layout", "cue"]
    code, output = _translate(str(srt), *args)
    assert code == 0, output
    source = parse_srt(srt.read_text()).cues
    urdu = parse_srt((out / "ep1.ur.srt").read_text(encoding="utf-8")).cues
    english = parse_srt((out / "ep1.en.srt").read_text(encoding="utf-8")).cues
    for target in (urdu, english):
        assert [(c.index, c.start_ms, c.end_ms) for c in target] == [
            (c.index, c.start_ms, c.end_ms) for c in source
        ]
        assert all(c.lines for c in target)
    assert urdu[0].lines == urdu[3].lines  # same source line, same translation
    for cue in urdu:
        assert lookalikes_in(cue.text) == []
    summary = json.loads(output[output.index("{") :])
    assert summary["route"] == "zh→en→ur"
    assert summary["files"][0]["translated"] == 6  # 3 distinct lines × 2 steps


@pytest.mark.usefixtures("pivot_route")
def test_translate_is_deterministic_and_second_run_uses_memory(tmp_path: Path) -> None:
    srt = _srt(tmp_path)
    memory = str(tmp_path / "m.sqlite")
    code, _ = _translate(str(srt), "-o", str(tmp_path / "a"), "--no-cache")
    assert code == 0
    code, _ = _translate(str(srt), "-o", str(tmp_path / "b"), "--memory", memory)
    assert code == 0
    code, output = _translate(str(srt), "-o", str(tmp_path / "c"), "--memory", memory)
    assert code == 0
    assert re.search(r"[1-9]\d* from memory, 0 translated", output), output
    texts = {d: (tmp_path / d / "ep1.ur.srt").read_bytes() for d in "abc"}
    assert texts["a"] == texts["b"] == texts["c"]


@pytest.mark.usefixtures("pivot_route")
def test_operator_corrections_from_tmx_win(tmp_path: Path) -> None:
    srt = _srt(tmp_path)
    memory = str(tmp_path / "m.sqlite")
    cue = ["--layout", "cue"]
    assert _translate(str(srt), "-o", str(tmp_path / "a"), "--memory", memory, *cue)[0] == 0
    tmx = tmp_path / "export.tmx"
    result = runner.invoke(app, ["memory", "export", str(tmx), "--memory", memory])
    assert result.exit_code == 0 and "3 translation units" in result.output
    corrected = tmx.read_text(encoding="utf-8").replace(
        parse_tmx(tmx.read_bytes(), "t", "zh", "ur")["谢谢"], "شکریہ"
    )
    tmx.write_text(corrected, encoding="utf-8")
    result = runner.invoke(app, ["memory", "import", str(tmx), "--memory", memory])
    assert result.exit_code == 0, result.output
    assert _translate(str(srt), "-o", str(tmp_path / "b"), "--memory", memory, *cue)[0] == 0
    cues = parse_srt((tmp_path / "b" / "ep1.ur.srt").read_text(encoding="utf-8")).cues
    assert cues[2].text == "شکریہ"


@pytest.mark.usefixtures("pivot_route")
def test_bom_bidi_and_digit_switches(tmp_path: Path) -> None:
    srt = _srt(tmp_path)
    switches = ["--bom", "--no-bidi", "--digits", "urdu", "--no-cache"]
    code, _ = _translate(str(srt), "-o", str(tmp_path / "x"), *switches)
    assert code == 0
    data = (tmp_path / "x" / "ep1.ur.srt").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    body = "".join(c.text for c in parse_srt(data.decode("utf-8-sig")).cues)
    assert LRM not in body


def test_direct_package_is_used_when_installed(
    argos_files: dict[str, Path], tmp_path: Path
) -> None:
    from dubkit.adapters.modelfiles import MODEL_FILES
    from dubkit.models.packages import install_archive

    for pair in ("zh-en", "en-ur", "zh-ur"):
        install_archive(argos_files[pair], checks=MODEL_FILES)
    code, output = _translate(str(_srt(tmp_path)), "-o", str(tmp_path), "--no-cache")
    assert code == 0, output
    assert "via zh→ur" in output
    args = [str(_srt(tmp_path)), "-o", str(tmp_path), "--no-cache", "--route", "pivot"]
    code, output = _translate(*args)
    assert "via zh→en→ur" in output


def test_no_route_says_which_command(tmp_path: Path) -> None:
    code, output = _translate(str(_srt(tmp_path)), "-o", str(tmp_path))
    assert code == 1
    assert "no zh→ur translation route installed" in output
    assert "dubkit models pull argos:zh-ur" in output
    assert not (tmp_path / "ep1.ur.srt").exists()


@pytest.mark.usefixtures("pivot_route")
def test_bad_input_srt_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zh.srt"
    bad.write_text("1\n00:00:01,000 --> 00:00:0x,000\n你好\n", encoding="utf-8")
    code, output = _translate(str(bad), "-o", str(tmp_path))
    assert code == 1
    assert f"{bad}:2: unreadable timing line" in output
    assert len(output.strip().splitlines()) == 1
    assert not (tmp_path / "bad.ur.srt").exists()
    code, output = _translate(str(tmp_path / "missing.zh.srt"))
    assert code == 1 and "no such file" in output


@pytest.mark.usefixtures("pivot_route")
def test_real_adapter_batches_and_keys(tmp_path: Path) -> None:
    from dubkit.adapters.argos import load_route
    from dubkit.models.packages import find_route, installed_packages
    from dubkit.ports import MTOptions

    route = find_route("zh", "ur", installed_packages())
    assert route is not None
    steps = load_route(route.stages, MTOptions(device="cpu"))
    calls: list[int] = []
    real = steps[0].translator.translate_batch

    def spy(batch: list[list[str]], **kw: object) -> object:
        calls.append(len(batch))
        return real(batch, **kw)

    steps[0].translator = type("T", (), {"translate_batch": staticmethod(spy)})()
    lines = [f"第{i}条新闻" for i in range(40)]
    out = steps[0].translate([*lines, ""])
    assert calls == [40]  # one call for the whole programme; CTranslate2 batches by tokens
    assert len(out) == 41 and out[-1] == "" and all(out[:-1])
    assert steps[0].key != steps[1].key
    slower = load_route(route.stages, MTOptions(device="cpu", beam_size=2))
    assert slower[0].key != steps[0].key  # options are part of the memory key


def test_bpe_packages_are_read_like_argos(tmp_path: Path) -> None:
    """Older Argos packages carry bpe.model (Moses tokens + subword-nmt) instead of
    SentencePiece."""
    from dubkit.adapters.argos import load_route
    from dubkit.adapters.modelfiles import MODEL_FILES
    from dubkit.models.packages import install_archive
    from dubkit.ports import MTOptions
    from tests.argos_factory import build_package, training_lines

    package = install_archive(
        build_package(tmp_path, "en", "ur", seed=4, tokenizer="bpe"), checks=MODEL_FILES
    )
    assert package.tokenizer == "bpe.model"
    (step,) = load_route([package], MTOptions(device="cpu"))
    lines = training_lines("en", 20, seed=9)
    tokens = step.tokenizer.encode(lines[0])
    assert any(t.endswith("@@") for t in tokens)  # words really split into subwords
    out = step.translate(lines)
    assert len(out) == 20 and all(out)
    assert step.translate(lines) == out


@pytest.mark.usefixtures("pivot_route")
def test_bad_or_clashing_inputs_are_reported_and_the_rest_translated(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = _srt(tmp_path / "a"), _srt(tmp_path / "b")
    bad = tmp_path / "bad.zh.srt"
    bad.write_text("junk before any cue\n", encoding="utf-8")
    args = [str(first), str(bad), str(second), "-o", str(tmp_path / "out"), "--layout", "cue"]
    code, output = _translate(*args)
    assert code == 1
    assert "same name" in output and "bad.zh.srt:1: text 'junk" in output
    # the good file is still translated; the clash did not overwrite it
    cues = parse_srt((tmp_path / "out" / "ep1.ur.srt").read_text(encoding="utf-8")).cues
    assert len(cues) == 4


def test_pivot_srt_follows_the_route(argos_files: dict[str, Path], tmp_path: Path) -> None:
    from dubkit.adapters.modelfiles import MODEL_FILES
    from dubkit.models.packages import install_archive

    install_archive(argos_files["zh-ur"], checks=MODEL_FILES)
    stale = tmp_path / "ep1.en.srt"
    stale.write_text("keep me", encoding="utf-8")
    code, output = _translate(str(_srt(tmp_path)), "-o", str(tmp_path), "--pivot-srt")
    assert code == 0, output
    assert "notice: --pivot-srt: the route zh→ur has no pivot language" in output
    assert stale.read_text(encoding="utf-8") == "keep me"


@pytest.mark.usefixtures("pivot_route")
def test_no_cache_still_applies_approved_lines(tmp_path: Path) -> None:
    memory = SqliteMemory(tmp_path / "m.sqlite")
    memory.approve("zh", "ur", {"谢谢": "شکریہ"}, note="test")
    memory.close()
    args = ["-o", str(tmp_path / "o"), "--no-cache", "--memory", str(tmp_path / "m.sqlite")]
    args += ["--layout", "cue"]
    code, output = _translate(str(_srt(tmp_path)), *args, "--json")
    assert code == 0, output
    cues = parse_srt((tmp_path / "o" / "ep1.ur.srt").read_text(encoding="utf-8")).cues
    assert cues[2].text == "شکریہ"
    summary = json.loads(output[output.index("{") :])
    assert summary["files"][0]["memory_hits"] == 0
    assert [s["device"] for s in summary["steps"]] == ["cpu", "cpu"]  # what ran
    assert SqliteMemory(tmp_path / "m.sqlite").stats().mt_entries == 0  # nothing cached


def test_no_cache_memory_lists_only_approved_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dubkit.episode.engine import open_memory

    path = tmp_path / "tm.sqlite"
    with SqliteMemory(path) as memory:
        memory.approve("zh", "ur", {"谢谢": "شکریہ"}, note="test")
        memory.record("zh", "ur", {"你好": "machine"})
    monkeypatch.setenv("HOME", str(tmp_path))
    approved_only = open_memory(Path("~/tm.sqlite"), cache=False)  # ~ is the user's home
    assert approved_only is not None
    assert [(s, t) for s, t, _, _ in approved_only.pairs("zh", "ur")] == [("谢谢", "شکریہ")]
    approved_only.close()
