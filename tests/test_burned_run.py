"""A programme with subtitles burned into its picture through `transcribe`, `run`, `batch` and
`burn`: the English read with the Chinese (STEM.en.srt), the Urdu ASS placed over the burned
Chinese by `run --cover-burned` and burned as it is, `--source ocr` with no Whisper model and
no sound, and, end to end, the issue's Done-when on a generated programme.

The fast tests give the picture's reading (read_picture replaced: CUES on a 160x120 test
card) and translate with a dictionary route; the last test reads a real picture with the
real models and OCRs the delivered frames."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from dubkit.burned.records import BurnedCue
from dubkit.cli.root import app
from dubkit.episode.pipeline import DubSettings, TranslateSettings
from dubkit.profiles import BUILTIN_PROFILES
from dubkit.subtitles.parse import parse_srt
from tests.conftest import frame_rgb, one_error_line, probe_av, run_ffmpeg
from tests.scoring import char_errors
from tests.test_translation import FakeStep

runner = CliRunner()
SIZE = (160, 120)  # the `video_only` fixture: a 2 s test card with no sound
PROFILE = BUILTIN_PROFILES["zh-broadcast"]
CUES = (
    BurnedCue(1, 200, 800, "中巴经济走廊", "China-Pakistan Economic Corridor", 0.97,
              (30, 88, 130, 118), (), ()),
    BurnedCue(2, 800, 1300, "瓜达尔港建设", "", 0.96, (40, 92, 120, 110), (), ()),
    BurnedCue(3, 1500, 1900, "", "Friendship between the two peoples", 0.95,
              (20, 100, 140, 116), (), ()),
)  # fmt: skip
# The ASS is 1920x1080: the picture's pixels times these
SX, SY = 1920 / SIZE[0], 1080 / SIZE[1]


@pytest.fixture
def picture(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Whatever the media, its picture reads as CUES (band rows 84-120); the media read."""
    from dubkit.adapters.ocr import VideoInfo
    from dubkit.burned.records import Band
    from dubkit.episode import pipeline

    asked: list[Path] = []

    def read(media: Path, source: str) -> tuple[Any, str | None]:
        asked.append(media)
        info = VideoInfo(media, 25.0, *SIZE, 2000)
        return pipeline.Picture(info, Band(84, 120), CUES), None

    monkeypatch.setattr(pipeline, "read_picture", read)
    return asked


class Heard:
    """A recogniser that hears 中巴经济走廊 from 0.15 to 0.85 s, and nothing else."""

    name, path = "canned", Path("canned")
    device = SimpleNamespace(device="cpu", compute_type="int8", notice=None)

    def transcribe(self, audio: Any, options: Any, progress: Any = None, bias: Any = None) -> Any:
        from dubkit.records import Segment, Transcript, Word

        words = (Word("中巴", 150, 500), Word("经济走廊", 500, 850))
        return Transcript((Segment("中巴经济走廊", 150, 850, words),), "zh", 1.0, 2000)


class Step(FakeStep):
    """A dictionary route step, described as the engine's run.json wants."""

    @property
    def description(self) -> str:
        return f"{self.source}→{self.target} (dictionary)"


def _engine(
    source: str, cover: bool = False, transcriber: Any = None, dub: Any = None, **settings: Any
) -> Any:
    """An engine with the dictionary route zh→en→ur and `transcriber` (None: none loaded);
    `settings`: TranslateSettings fields besides these (layout cue by default)."""
    from dubkit.episode.engine import Engine, EngineSpec, RecognitionSpec, TranslationSpec
    from dubkit.ports import MTOptions, TranscribeOptions

    rec = RecognitionSpec(
        "whisper:base", None, "cpu", None, 0, TranscribeOptions(), PROFILE, None, source
    )
    route = SimpleNamespace(description="zh→en→ur (dictionary)", stages=(), kind="pivot")
    settings = TranslateSettings(**{"layout": "cue", "cover_burned": cover, **settings})
    spec = EngineSpec(
        rec,
        TranslationSpec(route, MTOptions(device="cpu"), settings),
        dub or DubSettings(script=False, clips=False),
    )
    steps = [Step("zh", "en", "E"), Step("en", "ur", "U")]
    return Engine(spec, transcriber, steps, None)


def _srt(path: Path) -> list[tuple[int, int, str]]:
    return [(c.start_ms, c.end_ms, c.text) for c in parse_srt(path.read_text("utf-8")).cues]


_POS = re.compile(r"\\an(\d)\\pos\(([\d.]+),([\d.]+)\)")


def _lines(ass: str) -> list[tuple[str, str]]:
    """(start, text) of each Dialogue line of an ASS script."""
    found = []
    for line in ass.splitlines():
        if line.startswith("Dialogue:"):
            parts = line.split(",", 9)
            found.append((parts[1], parts[9]))
    return found


def _placed(ass: str) -> list[tuple[int, float, float]]:
    """(\\an, x, y) of each line that is text (not a cover box), in file order."""
    out = []
    for _, text in _lines(ass):
        m = _POS.search(text)
        if m is not None and "\\p3" not in text:
            out.append((int(m.group(1)), float(m.group(2)), float(m.group(3))))
    return out


def _covers(ass: str) -> list[str]:
    return [text for _, text in _lines(ass) if "\\p3}m 0 0 l" in text]


# --------------------------------------------------------------- the picture's English


def test_source_ocr_writes_the_pictures_english_timed_as_its_chinese(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    """As `dubkit ocr`: STEM.en.srt holds every English line the picture has, each cue with
    Chinese at the times of its cue in STEM.zh.srt; asr.json names the file."""
    from dubkit.episode.pipeline import transcribe_file
    from dubkit.ports import TranscribeOptions

    opts = TranscribeOptions()
    result = transcribe_file(video_only, tmp_path, None, opts, PROFILE, {}, source="ocr")
    assert result.en_srt == tmp_path / "picture only.en.srt"
    assert result.ocr_json == tmp_path / "picture only.ocr.json"
    assert _srt(result.en_srt) == [(200, 800, CUES[0].en), (1500, 1900, CUES[2].en)]
    assert _srt(result.srt)[0] == (200, 800, CUES[0].zh)
    doc = json.loads(result.asr_json.read_text(encoding="utf-8"))
    assert doc["english_srt"] == "picture only.en.srt"


def test_source_auto_writes_the_english_and_flags_a_subtitle_with_no_speech(
    picture: list[Path], silence_wav: Path, tmp_path: Path
) -> None:
    from dubkit.episode.pipeline import transcribe_file
    from dubkit.ports import TranscribeOptions

    opts = TranscribeOptions()
    result = transcribe_file(silence_wav, tmp_path, Heard(), opts, PROFILE, {}, source="auto")
    assert result.en_srt is not None
    assert _srt(result.en_srt) == [(200, 800, CUES[0].en), (1500, 1900, CUES[2].en)]
    doc = json.loads(result.asr_json.read_text(encoding="utf-8"))
    # 瓜达尔港建设 is on screen with no speech under it: QA must hear of it (test_qa)
    assert doc["flagged_cues"] == [
        {"start_ms": 800, "end_ms": 1300, "text": "瓜达尔港建设", "flags": ["no-speech"]}
    ]


# ---------------------------------------------------- --source ocr: no model, no sound


def test_source_ocr_needs_neither_the_model_nor_sound(
    picture: list[Path], video_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBKIT_HOME", str(tmp_path / "empty"))  # no Whisper model there
    out = tmp_path / "out"
    result = runner.invoke(app, ["transcribe", str(video_only), "--source", "ocr", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "picture only.zh.srt").is_file() and (out / "picture only.en.srt").is_file()
    # the speech needs both: the model is looked up first, and named in the error
    result = runner.invoke(app, ["transcribe", str(video_only), "-o", str(out)])
    assert "not installed" in one_error_line(result)


def test_run_source_ocr_without_sound_skips_the_clips_and_guide_with_a_notice(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    dub = DubSettings(script=False, clips=True, guide=True)
    engine = _engine("ocr", dub=dub)
    result = engine.run(video_only, tmp_path)
    assert engine.meta["model"] is None  # no recogniser was loaded
    said = [w for w in result.transcription.warnings if "no sound" in w]
    assert len(said) == 1 and "\n" not in said[0], result.transcription.warnings
    assert not (tmp_path / "clips").exists() and not (tmp_path / "picture only.guide.wav").exists()
    assert (tmp_path / "picture only.ur.srt").is_file()


# ------------------------------------------------------------- run --cover-burned


def test_run_cover_burned_puts_the_urdu_over_the_burned_chinese_in_the_ass(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    """STEM.ur.ass alone is the deliverable: a box over each burned cue while it is on
    screen, each Urdu line centred on the box of the cue it translates."""
    result = _engine("ocr", cover=True).run(video_only, tmp_path)
    ass = (tmp_path / "picture only.ur.ass").read_text(encoding="utf-8")
    assert len(_covers(ass)) == len(CUES)
    for (align, x, y), cue in zip(_placed(ass), CUES[:2], strict=True):
        x0, y0, x1, y1 = cue.cover
        assert (align, x, y) == (5, (x0 + x1) / 2 * SX, (y0 + y1) / 2 * SY)
    qa = json.loads((tmp_path / "picture only.qa.json").read_text(encoding="utf-8"))
    assert qa["placement"] == {"ass": "cover", "covered": 3, "geometry": "picture only.ocr.json"}
    assert not [w for w in result.transcription.warnings if "cover" in w]
    # read back, the ASS is its Urdu cues: the boxes are shapes, not cues
    from dubkit.subtitles.formats import read_subtitles

    read = read_subtitles(ass, "picture only.ur.ass")
    assert [(c.start_ms, c.end_ms) for c in read.cues] == [(200, 800), (800, 1300)]
    assert read.repairs == ()


def test_run_without_cover_puts_the_urdu_above_the_burned_band(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    _engine("ocr").run(video_only, tmp_path)
    ass = (tmp_path / "picture only.ur.ass").read_text(encoding="utf-8")
    assert _covers(ass) == []
    from dubkit.episode.burn import ABOVE_BAND_GAP

    above = 84 * SY - ABOVE_BAND_GAP * 1080
    assert {(a, x, round(y, 2)) for a, x, y in _placed(ass)} == {(2, 960.0, round(above, 2))}


def test_burn_takes_the_placed_ass_as_it_is_and_places_the_srt_the_same_way(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    """`burn VIDEO STEM.ur.ass` (with or without --cover-burned) burns run's placement, its
    boxes once; `burn VIDEO STEM.ur.srt --cover-burned` places the same boxes and lines."""
    from dubkit.episode.burn import plan_burn

    _engine("ocr", cover=True).run(video_only, tmp_path)
    ass_path, srt = tmp_path / "picture only.ur.ass", tmp_path / "picture only.ur.srt"
    ass = ass_path.read_text(encoding="utf-8")
    out = tmp_path / "x.mp4"
    for cover in (False, True):
        plan = plan_burn(video_only, ass_path, out, 20, None, cover, None)
        assert plan.subtitles.ass == ass and plan.covered == 3, cover
    plan = plan_burn(video_only, srt, out, 20, None, True, None)
    assert sorted(_covers(plan.subtitles.ass)) == sorted(_covers(ass))
    assert _placed(plan.subtitles.ass) == _placed(ass)
    # an ASS placed above the band gets its boxes (once) when --cover-burned asks for them
    _engine("ocr").run(video_only, tmp_path)
    plan = plan_burn(video_only, ass_path, out, 20, None, True, None)
    assert len(_covers(plan.subtitles.ass)) == 3 and plan.covered == 3
    assert [a for a, _, _ in _placed(plan.subtitles.ass)] == [5, 5]


def test_cover_burned_without_a_band_in_the_picture_says_so(
    silence_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--source auto` on a programme whose picture turns out to have no subtitle band: the
    speech is transcribed, and the Urdu ASS sits as usual, with a notice."""
    from dubkit.episode import pipeline

    monkeypatch.setattr(pipeline, "read_picture", lambda media, source: (None, "no band"))
    result = _engine("auto", cover=True, transcriber=Heard()).run(silence_wav, tmp_path)
    said = [w for w in result.transcription.warnings if "--cover-burned" in w]
    assert len(said) == 1 and "no burned subtitles found" in said[0], said
    assert said[0].startswith(str(silence_wav))
    ass = (tmp_path / "silence.ur.ass").read_text(encoding="utf-8")
    assert _covers(ass) == [] and _placed(ass) == []


@pytest.mark.parametrize("command", ["run", "batch"])
def test_cover_burned_of_the_speech_is_one_line_before_any_model(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dubkit.adapters import whisper

    def no_load(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(whisper.WhisperTranscriber, "load", no_load)
    missing = tmp_path / "nowhere.mp4"  # refused before the media are even looked at
    result = runner.invoke(app, [command, str(missing), "--cover-burned", "-o", str(tmp_path)])
    line = one_error_line(result)
    assert "--cover-burned" in line and "--source auto" in line, line


def test_run_and_batch_take_cover_burned() -> None:
    for command in ("run", "batch"):
        shown = runner.invoke(app, [command, "--help"], terminal_width=200).output
        assert "--cover-burned" in shown, command


def test_batch_keys_translation_by_the_english_the_picture_gave(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    """The real stages' key for `--pivot-from burned`: the English of STEM.en.srt, which a
    person may correct (test_batch_resume shows a batch translating again for it)."""
    from dataclasses import replace

    from dubkit.episode.stages import BatchStages

    engine = _engine("ocr")
    stages = BatchStages(engine)
    heard = engine.transcribe(video_only, tmp_path, None, None)
    assert stages.pivot_fingerprint("picture only", heard.srt) is None  # --pivot-from mt
    mt = engine.spec.translation
    burned = replace(mt, settings=replace(mt.settings, pivot_from="burned"))
    engine.spec = replace(engine.spec, translation=burned)
    before = stages.pivot_fingerprint("picture only", heard.srt)
    assert heard.en_srt is not None and before is not None
    text = heard.en_srt.read_text(encoding="utf-8")
    heard.en_srt.write_text(text.replace("Corridor", "corridor"), encoding="utf-8")
    assert stages.pivot_fingerprint("picture only", heard.srt) not in (None, before)
    english = engine.burned_english(stages._chinese("picture only", heard.srt)[0], "picture only",
                                    tmp_path)  # fmt: skip
    assert english == ("China-Pakistan Economic corridor", "")


# ------------------------------------------------------------------ the Done-when, end to end

SPEECH = "funasr_csharp_example_1_lecture.wav"  # 13 s of lecture: speech under every cue


def _done_events() -> tuple[Any, ...]:
    from tests.test_ocr import Burned

    return (
        Burned(0.40, 2.40, "Outline", "中巴经济走廊", "China-Pakistan Economic Corridor"),
        Burned(2.40, 3.80, "Outline", "瓜达尔港建设顺利推进"),
        # 3.80-4.60: the band is empty (the speech goes on)
        Burned(4.60, 6.60, "Box", "两国人民友谊源远流长", "Friendship between the two peoples"),
        Burned(6.60, 7.60, "Outline", "合作共赢共同发展"),
    )


def _programme(ffmpeg: str, assets: Path, folder: Path) -> Path:
    """8 s of 640x360 moving test card with _done_events burned in by libass, a shared
    recording as its sound."""
    from tests.test_ocr import _HEADER, FPS, _in

    (folder / "subs.ass").write_text(
        _HEADER.format(w=640, h=360, fs=26, bord=2, mv=16)
        + "".join(e.line() for e in _done_events()),
        encoding="utf-8",
    )
    _in(folder, lambda: run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={FPS}", "-t", "8",
        "-vf", "ass=subs.ass", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20",
        "-pix_fmt", "yuv420p", "picture.mp4",
    ))  # fmt: skip
    media = folder / "programme.mp4"
    run_ffmpeg(
        ffmpeg, "-i", str(folder / "picture.mp4"), "-i", str(assets / "zh-speech" / SPEECH),
        "-c:v", "copy", "-c:a", "aac", "-shortest", str(media),
    )  # fmt: skip
    return media


def _han(text: str) -> str:
    """The Chinese characters of `text`."""
    return "".join(c for c in text if "\u4e00" <= c <= "\u9fff")


def _read_back(srt: Path, events: Any, language: str) -> list[tuple[float, int]]:
    """Each event's `language` text found as one cue of `srt`, its CER and frames off."""
    from tests.test_ocr import FPS, MAX_CER, MAX_FRAMES_OFF

    cues = parse_srt(srt.read_text(encoding="utf-8")).cues
    measured = []
    for event in events:
        said = event.zh if language == "zh" else event.en
        cue = max(
            cues, key=lambda c: min(c.end_ms, event.after_ms) - max(c.start_ms, event.first_ms)
        )
        cer = char_errors(said, "".join(cue.lines)).cer
        off = max(abs(cue.start_ms - event.first_ms), abs(cue.end_ms - event.after_ms))
        frames = round(off * FPS / 1000)
        assert cer <= MAX_CER and frames <= MAX_FRAMES_OFF, (said, cue)
        measured.append((cer, frames))
    return measured


@pytest.mark.model
@pytest.mark.assets
@pytest.mark.slow
@pytest.mark.usefixtures("pivot_route")
def test_run_auto_cover_burned_then_burn_shows_the_urdu_where_the_chinese_was(
    ffmpeg: str, assets: Path, base_model_dir: Path, tmp_path: Path
) -> None:
    """The issue's Done-when: `run --source auto --cover-burned` on a generated programme
    with burned Chinese and English writes both read from the picture, and the Urdu; `burn`
    of its STEM.ur.ass (or of STEM.ur.srt with --cover-burned) gives frames where no Chinese
    can be read and the Urdu sits on the box over it, every frame and the sound kept."""
    import numpy as np

    from dubkit.adapters.ocr import _engine

    events = _done_events()
    media = _programme(ffmpeg, assets, tmp_path)
    out = tmp_path / "out"
    args = ["run", str(media), "-o", str(out), "--source", "auto", "--cover-burned"]
    result = runner.invoke(app, [*args, "--device", "cpu"])
    assert result.exit_code == 0, result.output
    zh = _read_back(out / "programme.zh.srt", events, "zh")
    en = _read_back(out / "programme.en.srt", [e for e in events if e.en], "en")
    assert len(parse_srt((out / "programme.en.srt").read_text("utf-8")).cues) == 2
    asr = json.loads((out / "programme.asr.json").read_text(encoding="utf-8"))
    assert [c["text"] for c in asr["cues"] if c["source"] == "ocr"] == [e.zh for e in events]
    assert (out / "programme.ur.srt").stat().st_size > 0
    qa = json.loads((out / "programme.qa.json").read_text(encoding="utf-8"))
    assert qa["placement"]["ass"] == "cover" and qa["placement"]["covered"] == len(events)

    delivered = tmp_path / "programme.ur.mp4"
    result = runner.invoke(app, ["burn", str(media), str(out / "programme.ur.ass"), "-o",
                                 str(delivered)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"{len(events)} burned cue(s) covered" in result.stderr
    frames, duration, sound = probe_av(ffmpeg, delivered)
    assert (frames, sound) == probe_av(ffmpeg, media)[::2] and sound.startswith("MD5=")
    assert abs(duration - probe_av(ffmpeg, media)[1]) < 0.05

    ocr = _engine()
    boxes = [
        c["cover"] for c in json.loads((out / "programme.ocr.json").read_text("utf-8"))["cues"]
    ]

    def read(rgb: Any) -> str:  # the lowest third, as bgr bytes
        return "".join(ocr(np.ascontiguousarray(rgb[-120:, :, ::-1], np.uint8)).txts or ())

    for event, (x0, y0, x1, y1) in zip(events, boxes, strict=True):
        at = (event.start + event.end) / 2
        frame, source = frame_rgb(delivered, at), frame_rgb(media, at)
        before, after = _han(read(source)), _han(read(frame))
        assert char_errors(event.zh, before).cer <= 0.2, before  # there to be hidden
        assert after == "", (at, after)
        inside = frame[y0:y1, x0:x1].reshape(-1, 3)
        assert (inside.max(axis=1) < 40).mean() > 0.5, f"no box over the Chinese at {at} s"
        assert (inside.min(axis=1) > 120).sum() > 40, f"no Urdu on the box at {at} s"

    # the SRT with --cover-burned: the same picture (boxes and lines placed alike)
    again = tmp_path / "from-srt.mp4"
    args = ["burn", str(media), str(out / "programme.ur.srt"), "-o", str(again), "--cover-burned"]
    assert runner.invoke(app, args).exit_code == 0
    for event in events:
        at = (event.start + event.end) / 2
        differ = np.abs(frame_rgb(again, at) - frame_rgb(delivered, at)).max(axis=2) > 60
        assert differ.mean() < 0.002, (at, differ.sum())
    print(f"zh (CER, frames off) {zh}; en {en}")


def test_run_source_ocr_on_a_programme_without_sound_and_without_the_model(
    picture: list[Path], video_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No translation route installed here: run writes the Chinese outputs and fails for
    that reason alone (the dubbing stage without sound: the test above)."""
    monkeypatch.setenv("DUBKIT_HOME", str(tmp_path / "empty"))  # no Whisper model there
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(video_only), "--source", "ocr", "-o", str(out)])
    assert result.exit_code == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and "translation route" in errors[0], result.stderr
    assert (out / "picture only.zh.srt").is_file() and (out / "picture only.en.srt").is_file()
    assert json.loads((out / "picture only.run.json").read_text("utf-8"))["model"] is None


# ------------------------------------------------------------------ the review of run/batch


@pytest.fixture
def reading(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The OCR adapter's reading replaced, read_picture itself running: every media has a
    SIZE picture with a band at rows 84-120 where `reading["cues"]` are read, and
    `reading["warnings"]` are said on the way."""
    from dubkit.adapters import ocr
    from dubkit.burned.records import Band

    said: dict[str, Any] = {"cues": CUES, "warnings": []}

    def read(media: Path, info: Any, band: Any, *args: Any, **kwargs: Any) -> Any:
        warnings = kwargs.get("warnings", args[2] if len(args) > 2 else None)
        if warnings is not None:
            warnings.extend(said["warnings"])
        return said["cues"], 1

    monkeypatch.setattr(ocr, "probe_video", lambda media: ocr.VideoInfo(media, 25.0, *SIZE, 2000))
    monkeypatch.setattr(ocr, "find_subtitle_band", lambda media, info: Band(84, 120))
    monkeypatch.setattr(ocr, "read_burned", read)
    return said


def _no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """No model may load; `run` finds a (dictionary) route, so it says nothing of one."""
    from dubkit.adapters import whisper
    from dubkit.episode import setup

    def no_load(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(whisper.WhisperTranscriber, "load", no_load)
    route = SimpleNamespace(description="zh→en→ur (dictionary)", kind="pivot", stages=())
    monkeypatch.setattr(setup.Translation, "route", lambda self: route)


def _flagged(report: dict[str, Any]) -> list[int]:
    """The cues `dubkit qa` gives a recognition flag (the recogniser's, or no-speech)."""
    return [
        c["index"] for c in report["cues"] if any(f["code"] == "recognition" for f in c["flags"])
    ]


# 1. dubscript import keeps the placement run gave the Urdu ASS


def test_dubscript_import_places_the_urdu_ass_as_run_did(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    """The edited script imported again: STEM.ur.ass has the same boxes and the same line
    positions as the one run wrote (over the burned Chinese, or above the band)."""
    dub = DubSettings(script=True, clips=False)
    for cover, boxes in ((True, 3), (False, 0)):
        out = tmp_path / f"cover-{cover}"
        out.mkdir()
        _engine("ocr", cover=cover, dub=dub).run(video_only, out)
        ass = out / "picture only.ur.ass"
        before = ass.read_text(encoding="utf-8")
        xlsx = out / "picture only.dubscript.xlsx"
        result = runner.invoke(app, ["dubscript", "import", str(xlsx), "--no-memory"])
        assert result.exit_code == 0, result.output
        after = ass.read_text(encoding="utf-8")
        assert len(_covers(after)) == boxes, cover
        assert sorted(_covers(after)) == sorted(_covers(before))
        assert _placed(after) == _placed(before) and len(_placed(after)) == 2
    # the places gone: refused in one line, nothing rewritten
    (out / "picture only.ocr.json").unlink()
    result = runner.invoke(app, ["dubscript", "import", str(xlsx), "--no-memory"])
    line = one_error_line(result)
    assert "picture only.ocr.json" in line and "above" in line, line
    assert ass.read_text(encoding="utf-8") == after


# 2. the English of the picture, corrected by a person, is never lost


def test_a_corrected_english_is_set_aside_when_the_picture_is_read_again(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    engine = _engine("ocr", pivot_from="burned")
    engine.run(video_only, tmp_path)
    english = tmp_path / "picture only.en.srt"
    read = english.read_text(encoding="utf-8")
    again = engine.run(video_only, tmp_path)  # unchanged: nothing to set aside
    assert not [w for w in again.transcription.warnings if "en.srt" in w]
    fixed = read.replace("Corridor", "corridor")
    english.write_text(fixed, encoding="utf-8")
    result = engine.run(video_only, tmp_path)
    assert english.read_text(encoding="utf-8") == read
    kept = tmp_path / "picture only.en.edited.srt"
    assert kept.read_text(encoding="utf-8") == fixed
    said = [w for w in result.transcription.warnings if kept.name in w]
    assert len(said) == 1 and "\n" not in said[0], result.transcription.warnings
    assert "dubkit translate" in said[0]
    # a second correction never takes the first one's place
    english.write_text(read.replace("Friendship", "friendship"), encoding="utf-8")
    engine.run(video_only, tmp_path)
    assert kept.read_text(encoding="utf-8") == fixed
    assert "friendship" in (tmp_path / "picture only.en.edited.2.srt").read_text(encoding="utf-8")


def test_batch_transcribing_again_sets_a_corrected_english_aside(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    from dubkit.episode.stages import BatchStages

    stages = BatchStages(_engine("ocr"))
    stages.transcribe(video_only, tmp_path, None, None)
    english = tmp_path / "picture only.en.srt"
    fixed = english.read_text(encoding="utf-8").replace("Corridor", "corridor")
    english.write_text(fixed, encoding="utf-8")
    stages.transcribe(video_only, tmp_path, None, None)
    assert (tmp_path / "picture only.en.edited.srt").read_text(encoding="utf-8") == fixed
    assert [w for w in stages.warnings if "picture only.en.edited.srt" in w]


def test_the_machine_pivot_never_takes_the_name_of_the_pictures_english(
    picture: list[Path], silence_wav: Path, tmp_path: Path
) -> None:
    _engine("auto", transcriber=Heard()).run(silence_wav, tmp_path)
    english = tmp_path / "silence.en.srt"
    read = english.read_bytes()
    done = _engine("asr", transcriber=Heard(), pivot_srt=True).run(silence_wav, tmp_path)
    assert english.read_bytes() == read
    assert done.translation is not None
    assert done.translation.outputs["en"] == tmp_path / "silence.en.pivot.srt"
    assert (tmp_path / "silence.en.pivot.srt").is_file()
    # in a fresh folder the machine pivot is STEM.en.srt, and it replaces its own
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for _ in range(2):
        done = _engine("asr", transcriber=Heard(), pivot_srt=True).run(silence_wav, fresh)
        assert done.translation is not None
        assert done.translation.outputs["en"] == fresh / "silence.en.srt"


def test_translate_pivot_from_burned_translates_from_the_corrected_english(
    picture: list[Path], video_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dubkit translate --pivot-from burned` reads STEM.en.srt beside the Chinese SRT, and
    places the Urdu ASS as run did (from STEM.ocr.json)."""
    from dubkit.cli import translate as translate_cli
    from dubkit.episode import setup
    from dubkit.text.urdu import strip_bidi

    _engine("ocr").run(video_only, tmp_path)
    placed = _placed((tmp_path / "picture only.ur.ass").read_text(encoding="utf-8"))
    english = tmp_path / "picture only.en.srt"
    english.write_text(english.read_text("utf-8").replace("Corridor", "corridor"), "utf-8")
    route = SimpleNamespace(description="zh→en→ur (dictionary)", kind="pivot", stages=())
    monkeypatch.setattr(setup.Translation, "route", lambda self: route)
    steps = [Step("zh", "en", "E"), Step("en", "ur", "U")]
    monkeypatch.setattr(translate_cli, "load_steps", lambda console, found, options: steps)
    zh = tmp_path / "picture only.zh.srt"
    args = ["translate", str(zh), "-o", str(tmp_path), "--layout", "cue", "--no-cache"]
    result = runner.invoke(app, [*args, "--pivot-from", "burned"])
    assert result.exit_code == 0, result.output
    first = strip_bidi(_srt(tmp_path / "picture only.ur.srt")[0][2])
    assert first == "U(China-Pakistan Economic corridor)", first
    ass = (tmp_path / "picture only.ur.ass").read_text(encoding="utf-8")
    assert _placed(ass) == placed and _covers(ass) == []
    result = runner.invoke(app, [*args, "--cover-burned"])
    assert result.exit_code == 0, result.output
    assert len(_covers((tmp_path / "picture only.ur.ass").read_text(encoding="utf-8"))) == 3


def test_translate_takes_the_pictures_options() -> None:
    shown = runner.invoke(app, ["translate", "--help"], terminal_width=200).output
    assert "--pivot-from" in shown and "--cover-burned" in shown


# 3. the speech's SRT and the picture's English never share a name


class HeardEnglish(Heard):
    """A recogniser that hears English."""

    def transcribe(self, audio: Any, options: Any, progress: Any = None, bias: Any = None) -> Any:
        from dubkit.records import Segment, Transcript, Word

        words = (Word("hello", 150, 500), Word("world", 500, 850))
        return Transcript((Segment("hello world", 150, 850, words),), "en", 0.99, 2000, "en", 0.99)


def test_source_auto_hearing_english_keeps_the_pictures_files_apart(
    picture: list[Path], silence_wav: Path, tmp_path: Path
) -> None:
    from dubkit.episode.pipeline import transcribe_file
    from dubkit.ports import TranscribeOptions

    opts = TranscribeOptions(language="auto")
    result = transcribe_file(
        silence_wav, tmp_path, HeardEnglish(), opts, PROFILE, {}, source="auto"
    )
    assert result.srt == tmp_path / "silence.zh.srt"
    assert [t for _, _, t in _srt(result.srt)] == [CUES[0].zh, CUES[1].zh]
    assert _srt(tmp_path / "silence.en.srt") == [(200, 800, CUES[0].en), (1500, 1900, CUES[2].en)]
    said = [w for w in result.warnings if "English" in w]
    assert len(said) == 1 and "--source ocr" in said[0], result.warnings


@pytest.mark.parametrize("command", ["transcribe", "run"])
def test_source_auto_with_a_language_other_than_chinese_is_one_line_before_any_model(
    command: str, video_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_model(monkeypatch)
    args = [command, str(video_only), "--source", "auto", "--language", "en", "-o", str(tmp_path)]
    line = one_error_line(runner.invoke(app, args))
    assert "--language en" in line and "--source asr" in line, line


# 4. a band with nothing read in it is no burned subtitles


def test_source_ocr_with_no_subtitle_read_is_one_error_line(
    reading: dict[str, Any], video_only: Path, tmp_path: Path
) -> None:
    reading["cues"] = ()
    args = ["transcribe", str(video_only), "--source", "ocr", "-o", str(tmp_path)]
    line = one_error_line(runner.invoke(app, args))
    assert "no burned subtitles" in line and "--source asr" in line, line
    assert not (tmp_path / "picture only.zh.srt").exists()


def test_cover_burned_with_a_band_but_no_subtitle_read_stays_bottom_centre_with_a_notice(
    reading: dict[str, Any], silence_wav: Path, tmp_path: Path
) -> None:
    reading["cues"] = ()
    result = _engine("auto", cover=True, transcriber=Heard()).run(silence_wav, tmp_path)
    said = [w for w in result.transcription.warnings if "--cover-burned" in w]
    assert len(said) == 1 and "no burned subtitles" in said[0], result.transcription.warnings
    ass = (tmp_path / "silence.ur.ass").read_text(encoding="utf-8")
    assert _covers(ass) == [] and _placed(ass) == []
    qa = json.loads((tmp_path / "silence.qa.json").read_text(encoding="utf-8"))
    assert qa["placement"]["ass"] == "styled"


def test_burn_with_an_ocr_json_that_read_no_subtitles_leaves_the_urdu_as_styled(
    video_only: Path, tmp_path: Path
) -> None:
    from dubkit.episode.burn import plan_burn

    doc = {"frame_size": list(SIZE), "band": {"y0": 84, "y1": 120}, "cues": []}
    (tmp_path / "picture only.ocr.json").write_text(json.dumps(doc), encoding="utf-8")
    srt = tmp_path / "picture only.ur.srt"
    srt.write_text("1\n00:00:00,200 --> 00:00:00,800\nایک\n", encoding="utf-8")
    for cover in (False, True):
        plan = plan_burn(video_only, srt, tmp_path / "x.mp4", 20, None, cover, None)
        assert _placed(plan.subtitles.ass) == [] and plan.covered == 0, cover


# 5. a style number that is not finite


_STYLED = """[Script Info]
ScriptType: v4.00+
PlayResX: 1920
PlayResY: 1080

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, \
Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Noto Nastaliq Urdu,{size},&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,0,0,0,0,\
100,100,0,0,1,{outline},0,2,10,10,16,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.20,0:00:01.00,Default,,0,0,0,,ایک
Dialogue: 0,0:00:00.50,0:00:01.50,Default,,0,0,0,,دو
"""
_GEOMETRY = {
    "frame_size": list(SIZE),
    "band": {"y0": 84, "y1": 120},
    "cues": [{"start_ms": 200, "end_ms": 800, "cover": [30, 88, 130, 118]}],
}


@pytest.mark.parametrize(
    ("size", "outline", "field"),
    [("nan", "2", "Fontsize"), ("48", "inf", "Outline"), ("-Infinity", "2", "Fontsize")],
)
def test_burn_and_preview_refuse_a_style_number_that_is_not_finite_in_one_line(
    size: str, outline: str, field: str, video_only: Path, tmp_path: Path
) -> None:
    from dubkit.episode.preview import plan_preview
    from dubkit.errors import DubkitError

    (tmp_path / "picture only.ocr.json").write_text(json.dumps(_GEOMETRY), encoding="utf-8")
    ass = tmp_path / "styled.ass"
    ass.write_text(_STYLED.format(size=size, outline=outline), encoding="utf-8")
    args = ["burn", str(video_only), str(ass), "-o", str(tmp_path / "x.mp4")]
    line = one_error_line(runner.invoke(app, args))
    assert "styled.ass" in line and field in line, line
    with pytest.raises(DubkitError, match=field):
        plan_preview(video_only, ass, tmp_path, None, 1, None, None, None)


def test_stacking_never_fails_on_heights_that_are_not_numbers() -> None:
    import math

    from dubkit.episode.burn import _stack

    lifts = _stack([(0, 1000), (500, 1500)], [(2, 960.0, 900.0)] * 2, [math.nan, math.inf])
    assert len(lifts) == 2 and all(math.isfinite(lift) for lift in lifts)


# 6. no-speech on the cue that has no speech


class Spaced(Step):
    """A dictionary step whose output is one word per character (so a sentence's words can
    be laid over its cues)."""

    def translate(self, texts: Any) -> list[str]:
        self.calls.append(list(texts))
        return [" ".join(f"{self.tag}{t}") for t in texts]


def test_no_speech_is_flagged_on_the_urdu_of_the_silent_cue_only(
    silence_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One sentence over two burned cues, speech under the first only: the Urdu over the
    second carries `no-speech`, the Urdu over the first does not; `dubkit qa` agrees on
    both files."""
    from dubkit.adapters.ocr import VideoInfo
    from dubkit.burned.records import Band
    from dubkit.config import Config
    from dubkit.episode import pipeline
    from dubkit.episode.check import check_subtitles

    cues = (
        BurnedCue(1, 0, 2400, "中巴经济走廊", "", 0.97, (30, 88, 130, 118), (), ()),
        BurnedCue(2, 2400, 4800, "瓜达尔港建设", "", 0.96, (40, 92, 120, 110), (), ()),
    )
    info = VideoInfo(silence_wav, 25.0, *SIZE, 8000)
    monkeypatch.setattr(
        pipeline,
        "read_picture",
        lambda media, source: (pipeline.Picture(info, Band(84, 120), cues), None),
    )
    engine = _engine("auto", transcriber=Heard(), layout="sentence")
    engine.steps = [Step("zh", "en", "E"), Spaced("en", "ur", "U")]
    engine.run(silence_wav, tmp_path)
    qa = json.loads((tmp_path / "silence.qa.json").read_text(encoding="utf-8"))
    assert len(qa["target_cues"]) >= 2

    def over(t: dict[str, Any], a: int, b: int) -> int:
        return min(t["end_ms"], b) - max(t["start_ms"], a)

    for t in qa["target_cues"]:
        silent = over(t, 2400, 4800) > over(t, 0, 2400)
        assert ("no-speech" in t["flags"]) == silent, qa["target_cues"]
    cfg = Config()
    ur, _ = check_subtitles(
        tmp_path / "silence.ur.srt", None, cfg, None, None, None, True, None, None
    )
    assert _flagged(ur) == [t["index"] for t in qa["target_cues"] if "no-speech" in t["flags"]]
    zh, _ = check_subtitles(
        tmp_path / "silence.zh.srt", None, cfg, None, None, None, True, None, None
    )
    assert _flagged(zh) == [2]


def test_qa_of_the_chinese_takes_no_flag_from_the_urdu_beside_it(tmp_path: Path) -> None:
    """qa.json's flags are the Urdu cues': an Urdu cue at the time of an unflagged Chinese
    cue never flags the Chinese one."""
    from dubkit.config import Config
    from dubkit.episode.check import check_subtitles

    zh = tmp_path / "ep.zh.srt"
    zh.write_text(
        "1\n00:00:00,000 --> 00:00:02,000\n中巴经济走廊\n\n"
        "2\n00:00:02,000 --> 00:00:04,000\n瓜达尔港建设\n",
        encoding="utf-8",
    )
    flagged = {"start_ms": 2000, "end_ms": 4000, "text": "瓜达尔港建设", "flags": ["no-speech"]}
    (tmp_path / "ep.asr.json").write_text(json.dumps({"flagged_cues": [flagged]}), "utf-8")
    urdu = [{"index": 1, "start_ms": 0, "end_ms": 2000, "flags": ["no-speech"]}]
    (tmp_path / "ep.qa.json").write_text(json.dumps({"target_cues": urdu}), "utf-8")
    report, _ = check_subtitles(zh, None, Config(), None, None, None, True, None, None)
    assert _flagged(report) == [2]


# 7. a run that translates nothing sets every earlier translation output aside


def test_a_run_that_translates_nothing_sets_every_translation_output_aside(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    from dataclasses import replace

    from dubkit.episode.engine import Engine

    translated = _engine("ocr", cover=True, pivot_srt=True)
    translated.run(video_only, tmp_path)
    outputs = ("ur.srt", "ur.vtt", "ur.ass", "zh-ur.srt", "qa.json", "en.pivot.srt")
    before = {o: (tmp_path / f"picture only.{o}").read_bytes() for o in outputs}
    untranslated = Engine(replace(translated.spec, translation=None), None, None, None)
    result = untranslated.run(video_only, tmp_path)
    said = result.transcription.warnings
    for name, data in before.items():
        first, _, suffix = name.rpartition(".")
        aside = tmp_path / f"picture only.{first}.stale.{suffix}"
        assert not (tmp_path / f"picture only.{name}").exists(), name
        assert aside.read_bytes() == data, name
        assert len([w for w in said if aside.name in w]) == 1, (name, said)
    assert (tmp_path / "picture only.en.srt").is_file()  # the picture's English: just read


# 8. the truncated picture's warning


def test_a_truncated_picture_is_warned_of_in_asr_json_ocr_json_and_the_console(
    reading: dict[str, Any], video_only: Path, tmp_path: Path
) -> None:
    said = "picture only.mp4: decoded only to 1.0 s of 2.0 s; the file looks truncated"
    reading["warnings"] = [said]
    args = ["transcribe", str(video_only), "--source", "ocr", "-o", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"warning: {said}" in result.output
    for name in ("asr", "ocr"):
        doc = json.loads((tmp_path / f"picture only.{name}.json").read_text(encoding="utf-8"))
        assert said in doc["warnings"], name


# 9. a placed ASS needs no geometry


def test_burn_and_preview_take_a_placed_ass_with_no_ocr_json_beside_it(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    import shutil

    from dubkit.episode.burn import plan_burn
    from dubkit.episode.preview import plan_preview
    from dubkit.errors import ConfigError

    elsewhere = tmp_path / "delivery"
    elsewhere.mkdir()
    placed = elsewhere / "picture only.ur.ass"
    _engine("ocr", cover=True).run(video_only, tmp_path)
    shutil.copy(tmp_path / "picture only.ur.ass", placed)
    ass = placed.read_text(encoding="utf-8")
    plan = plan_burn(video_only, placed, tmp_path / "x.mp4", 20, None, True, None)
    assert plan.subtitles.ass == ass and plan.covered == 3
    shown = plan_preview(video_only, placed, tmp_path, None, 1, None, None, None, True)
    assert shown.subtitles.ass == ass
    # placed above the band: its boxes need the burned subtitles' places
    _engine("ocr").run(video_only, tmp_path)
    shutil.copy(tmp_path / "picture only.ur.ass", placed)
    with pytest.raises(ConfigError, match=r"ocr\.json"):
        plan_burn(video_only, placed, tmp_path / "x.mp4", 20, None, True, None)


# 10. batch reports what run prints


class _Loader:
    def __init__(self, stages: Any) -> None:
        self.stages, self.key = stages, f"review-{id(stages)}"

    def __call__(self) -> Any:
        return self.stages


def _one_episode(stages: Any, media: Path, out: Path) -> Any:
    from dubkit.episode import batch as B

    B._ENGINES.clear()
    with B.engines_for_one_batch():
        outcome = B.process_episode(_Loader(stages), B.Episode(media.stem, media), str(out))
    assert outcome.status == "done", outcome.error
    return outcome


def test_batch_reports_the_notes_run_prints_and_loads_no_whisper_under_ocr(
    picture: list[Path], video_only: Path, tmp_path: Path
) -> None:
    from dubkit.episode.batch import BatchReport
    from dubkit.episode.stages import BatchStages

    dub = DubSettings(script=False, clips=True)
    outcome = _one_episode(BatchStages(_engine("ocr", dub=dub)), video_only, tmp_path)
    assert [w for w in outcome.warnings if "has no sound" in w], outcome.warnings
    report = BatchReport(tmp_path, "local", 1, outcomes=[outcome]).to_dict()
    assert report["recogniser_loads"] == 0 and report["model_loads"] == 1


def test_batch_reports_the_cover_and_pivot_notes(
    silence_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dubkit.episode import pipeline
    from dubkit.episode.batch import BatchReport
    from dubkit.episode.stages import BatchStages

    monkeypatch.setattr(pipeline, "read_picture", lambda media, source: (None, "no band"))
    engine = _engine("auto", cover=True, transcriber=Heard(), pivot_from="burned")
    outcome = _one_episode(BatchStages(engine), silence_wav, tmp_path)
    for note in ("--cover-burned", "--pivot-from burned", "no band"):
        assert len([w for w in outcome.warnings if note in w]) == 1, (note, outcome.warnings)
    report = BatchReport(tmp_path, "local", 1, outcomes=[outcome]).to_dict()
    assert report["recogniser_loads"] == 1


# 11. messages


@pytest.mark.parametrize("command", ["transcribe", "run"])
def test_source_auto_on_media_without_sound_suggests_source_ocr(
    command: str, video_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_model(monkeypatch)
    args = [command, str(video_only), "--source", "auto", "-o", str(tmp_path)]
    line = one_error_line(runner.invoke(app, args))
    assert "no sound" in line and "--source ocr" in line, line


def test_batch_source_auto_on_media_without_sound_suggests_source_ocr(
    video_only: Path, tmp_path: Path
) -> None:
    from dubkit.episode.stages import BatchStages
    from dubkit.errors import MediaError

    with pytest.raises(MediaError, match="--source ocr"):
        BatchStages(_engine("auto")).transcribe(video_only, tmp_path, None, None)


def test_pivot_srt_help_names_the_pivot_beside_the_pictures_english() -> None:
    for command in ("run", "batch", "translate"):
        shown = runner.invoke(app, [command, "--help"], env={"COLUMNS": "400"}).output
        assert "STEM.en.pivot.srt" in shown, command
