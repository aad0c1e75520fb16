"""`--source auto|asr|ocr` (burned subtitles fused with recognised speech) and `--pivot-from
burned` (the English burned into the picture stands in for the zh→en step): the fusion rule
on plain data, the pivot through the test Argos packages, and one generated video whose
audio is a shared recording and whose picture carries its reference text."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dubkit.burned.cues import LOW_CONFIDENCE_FLAG
from dubkit.burned.fuse import ASR, NO_SPEECH_FLAG, OCR, fuse, picture_cues
from dubkit.burned.records import BurnedCue
from dubkit.cli.root import app
from dubkit.errors import MediaError
from dubkit.records import Cue
from tests.conftest import run_ffmpeg
from tests.scoring import char_errors
from tests.test_ocr import _HEADER, FPS, MAX_CER, MAX_FRAMES_OFF, Burned, _in

runner = CliRunner()


def _pic(start: int, end: int, zh: str, en: str = "", low: bool = False) -> BurnedCue:
    flags = (LOW_CONFIDENCE_FLAG,) if low else ()
    return BurnedCue(0, start, end, zh, en, 0.6 if low else 0.97, (0, 0, 0, 0), flags, ())


def _heard(start: int, end: int, text: str, flags: tuple[str, ...] = ()) -> Cue:
    return Cue(0, start, end, (text,), flags)


# ----------------------------------------------------------------------- the fusion rule


def test_confident_picture_cues_keep_their_timing_and_text() -> None:
    burned = [_pic(1000, 3040, "中巴经济走廊", "China-Pakistan Economic Corridor")]
    heard = [_heard(900, 3200, "中巴经济走廊啊")]  # the speech says it too, timed looser
    (only,) = fuse(burned, heard)
    assert (only.cue.start_ms, only.cue.end_ms, only.cue.text) == (1000, 3040, "中巴经济走廊")
    assert only.source == OCR and only.en == "China-Pakistan Economic Corridor"
    assert only.cue.flags == () and only.cue.index == 1


def test_empty_band_is_filled_from_the_speech() -> None:
    burned = [_pic(0, 2000, "第一句"), _pic(5000, 7000, "第三句")]
    heard = [
        _heard(100, 1900, "第一句"),
        _heard(2400, 4600, "第二句"),
        _heard(5100, 6900, "第三句"),
    ]
    fused = fuse(burned, heard)
    assert [(f.source, f.cue.text) for f in fused] == [
        (OCR, "第一句"), (ASR, "第二句"), (OCR, "第三句"),
    ]  # fmt: skip
    assert [f.cue.index for f in fused] == [1, 2, 3]
    assert (fused[1].cue.start_ms, fused[1].cue.end_ms) == (2400, 4600)


def test_speech_overhanging_a_subtitle_is_cut_to_the_free_time() -> None:
    burned = [_pic(2000, 3000, "字幕")]
    heard = [_heard(1000, 2600, "前面的话")]  # 600 of its 1600 ms under the subtitle
    fused = fuse(burned, heard)
    assert [(f.source, f.cue.start_ms, f.cue.end_ms) for f in fused] == [
        (ASR, 1000, 2000), (OCR, 2000, 3000),
    ]  # fmt: skip


def test_low_confidence_reading_gives_way_to_the_speech() -> None:
    burned = [_pic(0, 2000, "好好"), _pic(2000, 4000, "瓜达尔港", low=True)]
    heard = [_heard(0, 1900, "好好"), _heard(2100, 3900, "瓜达尔港建设", ("asr-repetition",))]
    fused = fuse(burned, heard)
    assert [(f.source, f.cue.text) for f in fused] == [(OCR, "好好"), (ASR, "瓜达尔港建设")]
    assert fused[1].cue.flags == ("asr-repetition",)  # the recogniser's flags travel


def test_low_confidence_reading_with_no_speech_is_kept_flagged() -> None:
    (only,) = fuse([_pic(0, 2000, "模糊", low=True)], [])
    assert only.source == OCR and only.cue.flags == (LOW_CONFIDENCE_FLAG, NO_SPEECH_FLAG)


def test_a_subtitle_with_no_speech_under_it_is_flagged() -> None:
    burned = [_pic(0, 2000, "有人说话"), _pic(3000, 5000, "片头字幕")]
    heard = [_heard(100, 1900, "有人说话"), _heard(4900, 6000, "下一句")]  # 100 ms under
    fused = fuse(burned, heard)
    assert [f.cue.flags for f in fused if f.source == OCR] == [(), (NO_SPEECH_FLAG,)]
    assert fused[-1].source == ASR and (fused[-1].cue.start_ms, fused[-1].cue.end_ms) == (
        5000,
        6000,
    )


def test_fused_cues_never_overlap_and_keep_every_subtitle() -> None:
    burned = [_pic(s, s + 900, f"字{s}") for s in range(0, 10000, 1500)]
    heard = [_heard(s, s + 1300, f"话{s}") for s in range(200, 10000, 1100)]
    fused = fuse(burned, heard)
    assert {f.cue.text for f in fused if f.source == OCR} == {b.zh for b in burned}
    for a, b in itertools.pairwise(fused):
        assert a.cue.end_ms <= b.cue.start_ms


def test_picture_only_drops_english_only_cues() -> None:
    cues = picture_cues([_pic(0, 1000, "", "Title"), _pic(1000, 2000, "中文\n第二行", "Hi")])
    assert [(f.cue.index, f.cue.lines, f.en, f.source) for f in cues] == [
        (1, ("中文", "第二行"), "Hi", OCR)
    ]


# ------------------------------------------------------------------------ options, errors


def test_bad_source_and_pivot_from_are_one_line_errors(tmp_path: Path) -> None:
    for args in (["transcribe", "x.wav", "--source", "eyes"], ["run", "x.wav", "--source", "x"]):
        result = runner.invoke(app, [*args, "-o", str(tmp_path)])
        assert result.exit_code == 1 and "--source x" in result.stderr.replace("eyes", "x")
    result = runner.invoke(app, ["run", "x.wav", "--pivot-from", "web", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "--pivot-from web: choose mt or burned" in result.stderr


def test_help_shows_the_options() -> None:
    for command in ("transcribe", "run", "batch"):
        out = runner.invoke(app, [command, "--help"], terminal_width=200).output
        assert "--source" in out
    assert "--pivot-from" in runner.invoke(app, ["run", "--help"], terminal_width=200).output


def test_no_picture_is_an_error_for_ocr_and_a_note_for_auto(silence_wav: Path) -> None:
    from dubkit.episode.pipeline import read_picture

    with pytest.raises(MediaError, match="no video picture"):
        read_picture(silence_wav, "ocr")
    picture, note = read_picture(silence_wav, "auto")
    assert picture is None and note is not None and "transcribed the speech only" in note


@pytest.mark.slow
def test_no_subtitle_band_is_an_error_for_ocr(ffmpeg: str, tmp_path: Path) -> None:
    from dubkit.episode.pipeline import read_picture

    plain = tmp_path / "plain.mp4"
    run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", "color=c=0x336699:size=320x180:rate=25", "-t", "2",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(plain),
    )  # fmt: skip
    with pytest.raises(MediaError, match=r"no burned subtitles found.*--source asr"):
        read_picture(plain, "ocr")
    assert read_picture(plain, "auto")[0] is None


# ------------------------------------------------------------------- --pivot-from burned


class Counting:
    """A route step that records what it was asked to translate."""

    def __init__(self, step: Any) -> None:
        self.step, self.source, self.target = step, step.source, step.target
        self.asked: list[str] = []

    @property
    def key(self) -> str:
        return str(self.step.key)

    def translate(self, texts: Sequence[str]) -> list[str]:
        self.asked += texts
        return list(self.step.translate(texts))


@pytest.fixture
def pivot_steps(pivot_route: Path) -> list[Any]:
    from dubkit.adapters.argos import load_route
    from dubkit.models.packages import find_route, installed_packages
    from dubkit.ports import MTOptions

    route = find_route("zh", "ur", installed_packages(), "pivot")
    assert route is not None
    return [Counting(s) for s in load_route(route.stages, MTOptions(device="cpu"))]


ZH = ("中巴经济走廊。", "瓜达尔港建设顺利推进。", "两国人民友谊源远流长。")
EN = ("China-Pakistan Economic Corridor", "", "Friendship between the two peoples")


def _zh_cues() -> tuple[Cue, ...]:
    return tuple(Cue(n, n * 3000, n * 3000 + 2000, (zh,)) for n, zh in enumerate(ZH, start=1))


def test_burned_english_replaces_the_en_step(pivot_steps: list[Any], tmp_path: Path) -> None:
    from dubkit.episode.pipeline import TranslateSettings, translate_cues

    for layout in ("cue", "sentence"):
        for s in pivot_steps:
            s.asked.clear()
        settings = TranslateSettings(layout=layout, pivot_from="burned", formats=(), pivot_srt=True)
        done = translate_cues(_zh_cues(), "ep", tmp_path, pivot_steps, None, settings, None, EN)
        assert pivot_steps[0].asked == [ZH[1]], layout  # only the cue with no English
        assert set(pivot_steps[1].asked) >= {EN[0], EN[2]}
        qa = json.loads((tmp_path / "ep.qa.json").read_text(encoding="utf-8"))
        assert qa["pivot"] == {"from": "burned", "units": 2, "of": 3}
        assert [c.get("pivot") for c in qa["cues"]] == ["burned", None, "burned"]
        assert done.result.steps[0].texts == 1
        # STEM.en.srt is the picture's English: the pivot goes beside it
        assert done.paths["en"].name == "ep.en.pivot.srt"
        pivot_srt = (tmp_path / "ep.en.pivot.srt").read_text(encoding="utf-8")
        assert EN[0] in pivot_srt and EN[2] in pivot_srt


def test_burned_english_keeps_glossary_terms(pivot_steps: list[Any], tmp_path: Path) -> None:
    from dubkit.glossary.terms import PLACEHOLDER, protect
    from dubkit.translate.steps import protect_rendered

    terms = _terms(tmp_path)
    slots = protect(ZH[0], terms).slots
    assert protect_rendered("The china-pakistan economic corridor", slots, "en") == (
        f"The {PLACEHOLDER.format(n=1)}"
    )
    from dubkit.episode.pipeline import TranslateSettings, translate_cues

    settings = TranslateSettings(layout="cue", pivot_from="burned", formats=())
    done = translate_cues(_zh_cues(), "ep", tmp_path, pivot_steps, None, settings, terms, EN)
    assert pivot_steps[1].asked[0].startswith("ZQ1")  # the term protected in the English
    assert "سی پیک" in done.cues[0].text  # the approved Urdu rendering


def _terms(folder: Path) -> Any:
    from dubkit.adapters.chinese import to_simplified
    from dubkit.glossary.files import load_terms

    path = folder / "g.yaml"
    path.write_text(
        "name: t\nversion: 1\nterms:\n  - zh: 中巴经济走廊\n"
        "    en: China-Pakistan Economic Corridor\n    ur: سی پیک\n",
        encoding="utf-8",
    )
    return load_terms([path], to_simplified)


def test_no_english_or_direct_route_is_said_and_translated_as_usual(
    pivot_steps: list[Any], tmp_path: Path
) -> None:
    from dubkit.episode.pipeline import TranslateSettings, translate_cues

    settings = TranslateSettings(layout="cue", pivot_from="burned", formats=())
    translate_cues(_zh_cues(), "ep", tmp_path, pivot_steps, None, settings, None, None)
    qa = json.loads((tmp_path / "ep.qa.json").read_text(encoding="utf-8"))
    assert qa["pivot"]["from"] == "mt" and "no English" in qa["pivot"]["note"]
    assert pivot_steps[0].asked == list(ZH)
    translate_cues(_zh_cues(), "ep", tmp_path, pivot_steps[:1], None, settings, None, EN)
    qa = json.loads((tmp_path / "ep.qa.json").read_text(encoding="utf-8"))
    assert "has no English step" in qa["pivot"]["note"]


def test_burned_english_is_read_back_from_asr_json(tmp_path: Path) -> None:
    from dubkit.episode.pipeline import burned_english

    cues = _zh_cues()
    entries = [
        {"start_ms": c.start_ms, "end_ms": c.end_ms, "text": c.text, "source": "ocr", "en": e}
        for c, e in zip(cues, EN, strict=True)
        if e
    ]
    (tmp_path / "ep.asr.json").write_text(json.dumps({"cues": entries}), encoding="utf-8")
    edited = (cues[0], cues[1], Cue(3, cues[2].start_ms, cues[2].end_ms, ("改过的",)))
    assert burned_english(edited, tmp_path / "ep.asr.json") == (EN[0], "", "")
    assert burned_english(cues, tmp_path / "missing.asr.json") is None


# ------------------------------------------------------------- a programme, end to end

SPEECH = "funasr_asr_example.wav"


def _reference(assets: Path, name: str) -> str:
    with (assets / "zh-speech" / "references.tsv").open(encoding="utf-8") as f:
        rows = {r["file"]: r["reference_zh"] for r in csv.DictReader(f, delimiter="\t")}
    return rows[name].rstrip("。")


EN_LINE = "Welcome to the speech recognition model"


def _events(reference: str) -> tuple[Burned, ...]:
    return (
        Burned(0.40, 5.40, "Outline", reference, EN_LINE),  # over the speech
        Burned(6.20, 7.60, "Box", "片尾字幕"),  # over silence: no speech under it
    )


def _letters(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def programme(ffmpeg: str, assets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s of moving picture: the shared recording's reference text burned over its speech
    (with an English line), a closing caption over the silence after it."""
    folder = tmp_path_factory.mktemp("fusion")
    ass = folder / "subs.ass"
    ass.write_text(
        _HEADER.format(w=640, h=360, fs=26, bord=2, mv=16)
        + "".join(e.line() for e in _events(_reference(assets, SPEECH))),
        encoding="utf-8",
    )
    media = folder / "programme.mp4"
    _in(
        folder,
        lambda: run_ffmpeg(
            ffmpeg, "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={FPS}",
            "-i", str(assets / "zh-speech" / SPEECH), "-t", "8", "-af", "apad",
            "-vf", f"ass={ass.name}", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20",
            "-pix_fmt", "yuv420p", "-c:a", "aac", media.name,
        ),
    )  # fmt: skip
    return media


@pytest.mark.slow
def test_auto_takes_text_and_timing_from_the_picture(
    programme: Path, assets: Path, transcriber: Any, tmp_path: Path
) -> None:
    from dubkit.episode.pipeline import transcribe_file
    from dubkit.ports import TranscribeOptions
    from dubkit.profiles import BUILTIN_PROFILES

    reference = _reference(assets, SPEECH)
    events = _events(reference)
    media = programme
    out = tmp_path / "out"
    out.mkdir()
    profile = BUILTIN_PROFILES["zh-broadcast"]
    result = transcribe_file(
        media, out, transcriber, TranscribeOptions(), profile, {}, source="auto"
    )
    doc = json.loads(result.asr_json.read_text(encoding="utf-8"))
    assert doc["source"] == "auto" and result.source == "auto"
    assert all(c["source"] in (OCR, ASR) for c in doc["cues"]) and doc["cues"]
    from_picture = [c for c in doc["cues"] if c["source"] == OCR]
    assert [c["text"] for c in from_picture][1:] == ["片尾字幕"]
    said, closing = from_picture
    cer = char_errors(reference, said["text"]).cer
    assert cer <= MAX_CER, (reference, said["text"])
    frames_off = []
    for event, cue in zip(events, from_picture, strict=True):
        off = max(abs(cue["start_ms"] - event.first_ms), abs(cue["end_ms"] - event.after_ms))
        frames_off.append(round(off * FPS / 1000))
        assert frames_off[-1] <= MAX_FRAMES_OFF, (event.zh, cue)
    assert said["flags"] == [] and closing["flags"] == [NO_SPEECH_FLAG]
    assert (out / "programme.ocr.json").is_file()
    assert reference in result.srt.read_text(encoding="utf-8")
    assert _letters(said.get("en", "")) == _letters(EN_LINE)  # OCR may lose a space
    print(f"CER {cer:.4f}, frames off {frames_off}, sources {[c['source'] for c in doc['cues']]}")


@pytest.mark.slow
def test_run_translates_from_the_burned_english(
    programme: Path, base_model_dir: Path, pivot_route: Path, tmp_path: Path
) -> None:
    """`run --source auto --pivot-from burned`: the subtitle with an English line skips the
    zh→en step (the English SRT carries the picture's line), qa.json marks it."""
    out = tmp_path / "out"
    args = ["run", str(programme), "-o", str(out), "--source", "auto", "--pivot-from", "burned"]
    result = runner.invoke(
        app, [*args, "--layout", "cue", "--pivot-srt", "--no-dubscript", "--no-clips"]
    )
    assert result.exit_code == 0, result.output
    qa = json.loads((out / "programme.qa.json").read_text(encoding="utf-8"))
    assert qa["pivot"]["from"] == "burned" and qa["pivot"]["units"] == 1
    marked = [c for c in qa["cues"] if c.get("pivot") == "burned"]
    assert len(marked) == 1 and marked[0]["start_ms"] == 400
    assert _letters(EN_LINE) in _letters((out / "programme.en.srt").read_text(encoding="utf-8"))
    run = json.loads((out / "programme.run.json").read_text(encoding="utf-8"))
    assert run["stages"]["transcribe"]["source"] == "auto"
