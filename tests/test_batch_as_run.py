"""`batch` gives what `run` gives, through the real engine with no model: a canned recogniser,
a dictionary route zh→en→ur and generated media (milliseconds to a second each).

The frame rate of an episode that brings its own Chinese SRT, `STEM.run.json` (and `dubkit
review` reading it), and speech in another language than the route's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dubkit.episode import batch as B
from dubkit.episode.engine import Engine, EngineSpec, RecognitionSpec, TranslationSpec
from dubkit.episode.pipeline import DubSettings, TranslateSettings
from dubkit.episode.stages import BatchStages
from dubkit.fsutil import display_path
from dubkit.ports import MTOptions, TranscribeOptions
from dubkit.profiles import BUILTIN_PROFILES
from dubkit.records import Segment, Transcript, Word
from dubkit.text.urdu import UrduStyle
from tests.conftest import CPEC, run_ffmpeg
from tests.test_translation import FakeStep

PROFILE = BUILTIN_PROFILES["zh-broadcast"]


class Heard:
    """A recogniser that hears 中巴经济走廊 from 0.15 to 0.85 s and 瓜达尔港 from 1.1 to 1.7 s."""

    name, path = "canned", Path("canned")
    device = SimpleNamespace(device="cpu", compute_type="int8", notice=None)
    language = "zh"

    def transcribe(self, audio: Any, options: Any, progress: Any = None, bias: Any = None) -> Any:
        said = (("中巴", "经济走廊", 150, 500, 850), ("瓜达尔", "港", 1100, 1500, 1700))
        segments = tuple(
            Segment(a + b, start, end, (Word(a, start, mid), Word(b, mid, end)))
            for a, b, start, mid, end in said
        )
        return Transcript(segments, self.language, 1.0, 2000)


class HeardEnglish(Heard):
    language = "en"


class Step(FakeStep):
    """A dictionary route step, described as run.json records it."""

    @property
    def description(self) -> str:
        return f"{self.source}→{self.target} (dictionary)"


def _engine(
    transcriber: Any = None, fps: float | None = None, memory: Any = None, **settings: Any
) -> Engine:
    rec = RecognitionSpec(
        "whisper:base", None, "cpu", None, 0, TranscribeOptions(), PROFILE, fps, "asr"
    )
    route = SimpleNamespace(description="zh→en→ur (dictionary)", stages=(), kind="pivot")
    spec = EngineSpec(
        rec,
        TranslationSpec(route, MTOptions(device="cpu"), TranslateSettings(**settings)),
        DubSettings(script=True, clips=False),
    )
    return Engine(spec, transcriber, [Step("zh", "en", "E"), Step("en", "ur", "U")], memory)


def _batch(engine: Engine, episode: B.Episode, out: Path) -> B.EpisodeOutcome:
    class Loader:
        key = f"as-run-{id(engine)}"

        def __call__(self) -> BatchStages:
            return BatchStages(engine)

    B._ENGINES.clear()
    with B.engines_for_one_batch():
        outcome = B.process_episode(Loader(), episode, str(out))
    assert outcome.status == "done", outcome.error
    return outcome


@pytest.fixture(scope="module")
def ntsc(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s of 29.97 fps (NTSC) picture with a tone."""
    out = tmp_path_factory.mktemp("ntsc") / "ntsc.mp4"
    run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=30000/1001",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "2",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", out.as_posix(),
    )  # fmt: skip
    return out


def _own_srt(ran: Path, tmp_path: Path) -> Path:
    """The Chinese SRT `run` wrote, brought as an episode's own."""
    srt = tmp_path / "in" / "ntsc.zh.srt"
    srt.parent.mkdir()
    shutil.copy(ran / "ntsc.zh.srt", srt)
    return srt


# ---------------------------------------------------------------- an episode's own SRT


def test_an_episodes_own_srt_is_timed_at_the_medias_frame_rate_as_run_times_its_cues(
    ntsc: Path, tmp_path: Path
) -> None:
    """`run` snaps an NTSC programme's cues to 29.97 fps and writes drop-frame timecode;
    batch, given that Chinese as the episode's own SRT (no recognition), times the Urdu and
    the dubbing script the same, and `dubkit review` saves at that rate too."""
    from dubkit.review.programme import find_programme, load_programme

    ran = tmp_path / "run"
    ran.mkdir()
    _engine(Heard()).run(ntsc, ran)
    assert "29.97 fps, drop-frame timecode" in (ran / "ntsc.dubscript.html").read_text("utf-8")
    out = tmp_path / "out"
    _batch(_engine(), B.Episode("ep", ntsc, _own_srt(ran, tmp_path)), out)
    for name in ("ntsc.ur.srt", "ntsc.zh-ur.srt", "ntsc.dubscript.csv"):
        assert (out / "ep" / name).read_bytes() == (ran / name).read_bytes(), name
    run_json = json.loads((out / "ep" / "ntsc.run.json").read_text("utf-8"))
    assert run_json["stages"]["transcribe"]["fps"] == 29.97
    assert load_programme(find_programme(out / "ep")).basis.profile.fps == 29.97


def test_qa_and_the_dubbing_script_keep_to_the_rate_of_an_episodes_own_srt(
    ntsc: Path, tmp_path: Path
) -> None:
    """Run again from a batch folder's files, `qa` checks and `dubscript export` counts at
    the rate STEM.run.json records (there is no asr.json), as they do on `run`'s folder."""
    from typer.testing import CliRunner

    from dubkit.cli import app

    ran = tmp_path / "run"
    ran.mkdir()
    _engine(Heard()).run(ntsc, ran)
    out = tmp_path / "out"
    _batch(_engine(), B.Episode("ep", ntsc, _own_srt(ran, tmp_path)), out)
    assert not (out / "ep" / "ntsc.asr.json").exists()
    for folder in (ran, out / "ep"):
        checked = CliRunner().invoke(app, ["qa", str(folder / "ntsc.ur.srt"), "--no-html"])
        assert checked.exit_code == 0 and "off-frame" not in checked.output, checked.output
        script = tmp_path / f"script-{folder.name}"
        made = CliRunner().invoke(
            app, ["dubscript", "export", str(folder / "ntsc.ur.srt"), "-o", str(script)]
        )
        assert made.exit_code == 0, made.output
        html = (script / "ntsc.dubscript.html").read_text("utf-8")
        assert "29.97 fps, drop-frame timecode" in html, folder


def test_fps_sets_the_rate_of_an_episodes_own_srt_over_the_medias(
    ntsc: Path, tmp_path: Path
) -> None:
    ran = tmp_path / "run"
    ran.mkdir()
    _engine(Heard()).run(ntsc, ran)
    out, own = tmp_path / "out", _own_srt(ran, tmp_path)
    _batch(_engine(), B.Episode("ep", ntsc, own), out)  # the media's 29.97 first
    _batch(_engine(fps=25.0), B.Episode("ep", ntsc, own), out)  # then --fps 25, resumed
    html = (out / "ep" / "ntsc.dubscript.html").read_text("utf-8")
    assert "25 fps, non-drop-frame timecode" in html  # not the rate the last run.json said
    run_json = json.loads((out / "ep" / "ntsc.run.json").read_text("utf-8"))
    assert run_json["stages"]["transcribe"]["fps"] == 25.0


def test_a_run_json_says_nothing_about_an_srt_it_did_not_time(ntsc: Path, tmp_path: Path) -> None:
    """A hand-made Chinese SRT (25 fps cues) beside a run.json an NTSC batch left: qa
    checks it at the profile's 25 fps, not the run.json's 29.97."""
    from typer.testing import CliRunner

    from dubkit.cli import app

    ran = tmp_path / "run"
    ran.mkdir()
    _engine(Heard()).run(ntsc, ran)
    out = tmp_path / "out"
    _batch(_engine(), B.Episode("ep", ntsc, _own_srt(ran, tmp_path)), out)
    srt = out / "ep" / "ntsc.zh.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,040\n中巴经济走廊\n", encoding="utf-8")
    checked = CliRunner().invoke(app, ["qa", str(srt), "--no-html"])
    assert checked.exit_code == 0 and "off-frame" not in checked.output, checked.output


# ------------------------------------------------------------------------ STEM.run.json


def _run_json(folder: Path, stem: str) -> dict[str, Any]:
    """STEM.run.json with what differs between any two runs taken out: when it was written
    and how long each stage took, and the output folder (each command wrote its own)."""
    text = (folder / f"{stem}.run.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text.replace(json.dumps(display_path(folder))[1:-1], "OUT"))
    del doc["created"], doc["seconds"]
    for stage in ("transcribe", "translate"):
        if doc["stages"][stage] is not None:
            del doc["stages"][stage]["seconds"]
    for step in (doc["stages"]["translate"] or {}).get("steps", []):
        del step["seconds"]
    return doc


def test_batch_writes_the_run_json_run_writes_and_review_reads_its_settings_and_media(
    ntsc: Path, tmp_path: Path
) -> None:
    """Same options, same run.json (the cover note included: it is a translation warning);
    and `dubkit review` on the batch's folder finds the media and saves with the digits, BOM
    and --cover-burned the batch ran with."""
    from dubkit.review.programme import find_programme, load_programme, programme_media

    settings: dict[str, Any] = {
        "bom": True, "style": UrduStyle(digits="urdu"), "cover_burned": True
    }  # fmt: skip
    ran, out = tmp_path / "run", tmp_path / "out"
    ran.mkdir()
    _engine(Heard(), **settings).run(ntsc, ran)
    outcome = _batch(_engine(Heard(), **settings), B.Episode("ep", ntsc), out)
    from_run, from_batch = _run_json(ran, "ntsc"), _run_json(out / "ep", "ntsc")
    assert from_batch == from_run
    assert from_run["status"] == "complete" and from_run["model"]["name"] == "canned"
    assert from_run["stages"]["transcribe"]["warnings"] == outcome.warnings
    assert [w for w in outcome.warnings if "--cover-burned" in w], outcome.warnings

    files = find_programme(out / "ep")
    assert programme_media(files, None) == (ntsc, None)
    recorded = load_programme(files).settings
    assert (recorded.bom, recorded.style.digits, recorded.cover_burned) == (True, "urdu", True)


def test_a_resumed_batch_writes_the_run_json_of_the_stages_it_skipped_too(
    ntsc: Path, tmp_path: Path
) -> None:
    """Translation runs again (a new setting), transcription is skipped: run.json still
    holds the transcription, the recogniser that made it and its warnings."""
    out = tmp_path / "out"
    _batch(_engine(Heard()), B.Episode("ep", ntsc), out)
    first = _run_json(out / "ep", "ntsc")
    # no recogniser loaded now: it is not needed
    outcome = _batch(_engine(None, bom=True), B.Episode("ep", ntsc), out)
    assert outcome.stages == {"transcribe": "skipped", "translate": "ran", "dub": "ran"}
    again = _run_json(out / "ep", "ntsc")
    assert again["translate_settings"]["bom"] is True
    assert (again["model"], again["stages"]["transcribe"]) == (
        first["model"], first["stages"]["transcribe"]
    )  # fmt: skip


def test_a_glossary_edit_transcribes_again_only_when_its_chinese_forms_change(
    ntsc: Path, tmp_path: Path
) -> None:
    """The episode's glossary through the real batch stages: a comment added, or an Urdu
    rendering edited, translates and dubs again without transcribing; a new Chinese variant
    transcribes again too, as recognition is biased by the Chinese forms."""
    glossary = tmp_path / "terms.yaml"
    shutil.copy(CPEC, glossary)
    text = glossary.read_text(encoding="utf-8")
    episode, out = B.Episode("ep", ntsc, None, glossary), tmp_path / "out"
    everything = {"transcribe": "ran", "translate": "ran", "dub": "ran"}
    assert _batch(_engine(Heard()), episode, out).stages == everything
    glossary.write_text(text + "\n# edited\n", encoding="utf-8")
    commented = _batch(_engine(Heard()), episode, out).stages
    assert commented == {**everything, "transcribe": "skipped"}
    assert text.count("ur: ریڈیو پاکستان\n") == 1
    glossary.write_text(text.replace("ur: ریڈیو پاکستان\n", "ur: ریڈیو پاکستان سروس\n"), "utf-8")
    rendered = _batch(_engine(Heard()), episode, out).stages
    assert rendered == {**everything, "transcribe": "skipped"}
    variant = text.replace("variants: [巴基斯坦电台]", "variants: [巴基斯坦电台, 巴基斯坦之声]")
    assert variant != text
    glossary.write_text(variant, encoding="utf-8")
    assert _batch(_engine(Heard()), episode, out).stages == everything


# -------------------------------------------------- speech in another language than the route's


def test_speech_in_another_language_is_warned_of_and_not_translated_by_run_and_batch(
    ntsc: Path, tmp_path: Path
) -> None:
    """docs/ocr.md: nothing translated (speech in another language than the route's), the
    earlier translation outputs set aside; `run` warns and carries on (exit 0), and so does
    batch: the episode is done, with the same warnings and the same run.json."""
    from dubkit.translate.memory import SqliteMemory

    ran, out = tmp_path / "run", tmp_path / "out"
    for folder in (ran, out / "ep"):
        folder.mkdir(parents=True)
        (folder / "ntsc.ur.srt").write_text("from an earlier run\n", encoding="utf-8")
        # an earlier translation's qa.json and its machine pivot, under the name the
        # English transcript takes
        (folder / "ntsc.qa.json").write_text("{}", encoding="utf-8")
        (folder / "ntsc.en.srt").write_text("the earlier pivot\n", encoding="utf-8")
    result = _engine(HeardEnglish()).run(ntsc, ran)
    with SqliteMemory(tmp_path / "memory.sqlite") as memory:
        outcome = _batch(_engine(HeardEnglish(), memory=memory), B.Episode("ep", ntsc), out)
    said = [w.replace(display_path(ran), "OUT") for w in result.transcription.warnings]
    assert [w.replace(display_path(out / "ep"), "OUT") for w in outcome.warnings] == said
    assert [w for w in said if "transcribed as en" in w and "not translated" in w], said
    for folder in (ran, out / "ep"):
        assert not (folder / "ntsc.ur.srt").exists()
        assert (folder / "ntsc.ur.stale.srt").is_file()
        heard = (folder / "ntsc.en.srt").read_text("utf-8")  # the English heard, kept
        assert "-->" in heard and "earlier pivot" not in heard, folder
        assert not (folder / "ntsc.en.stale.srt").exists()
        assert (folder / "ntsc.qa.stale.json").is_file()
    assert _run_json(out / "ep", "ntsc") == _run_json(ran, "ntsc")
    assert _run_json(ran, "ntsc")["status"] == "not-translated"
    assert outcome.stages == {"transcribe": "ran", "translate": "ran", "dub": "ran"}
    again = _batch(_engine(HeardEnglish()), B.Episode("ep", ntsc), out)
    assert set(again.stages.values()) == {"skipped"}
