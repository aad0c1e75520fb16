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
import subprocess
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
from tests.conftest import frame_rgb, one_error_line, run_ffmpeg
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


def _engine(source: str, cover: bool = False, transcriber: Any = None, dub: Any = None) -> Any:
    """An engine with the dictionary route zh→en→ur and `transcriber` (None: none loaded)."""
    from dubkit.episode.engine import Engine, EngineSpec, RecognitionSpec, TranslationSpec
    from dubkit.ports import MTOptions, TranscribeOptions

    rec = RecognitionSpec(
        "whisper:base", None, "cpu", None, 0, TranscribeOptions(), PROFILE, None, source
    )
    route = SimpleNamespace(description="zh→en→ur (dictionary)", stages=(), kind="pivot")
    settings = TranslateSettings(layout="cue", cover_burned=cover)
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


def _probe(ffmpeg: str, path: Path) -> tuple[int, float, str]:
    """(frames counted by decoding, duration in seconds, MD5 of the sound's packets)."""
    ffprobe = str(Path(ffmpeg).with_name("ffprobe"))
    frames, duration = subprocess.run(
        [ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames:format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    sound = subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:a",
         "-c", "copy", "-f", "md5", "-"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    return int(frames), float(duration), sound


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
    frames, duration, sound = _probe(ffmpeg, delivered)
    assert (frames, sound) == _probe(ffmpeg, media)[::2] and sound.startswith("MD5=")
    assert abs(duration - _probe(ffmpeg, media)[1]) < 0.05

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
