"""Every resume rule of `dubkit batch`, with a fake engine (no model, milliseconds each).

The engine writes small files the way the real stages do and counts its calls, so each test
shows which stages a change makes run again and which it lets batch skip. The real engine's
own behaviour is tested in test_batch.py (same stages through `run` and `batch`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from dubkit.episode import batch as B
from dubkit.errors import DubkitError
from tests.conftest import DEV_TERMS


class FakeStages:
    """The stages batch drives, writing files from their inputs and counting calls."""

    def __init__(self, keys: dict[str, Any] | None = None) -> None:
        self.keys = keys or {"transcribe": ["model-a"], "translate": ["route-a"], "dub": ["d"]}
        self.calls: list[str] = []
        self.glossary_text: dict[Path | None, str] = {}
        self.approved: dict[str, str] = {}  # the memory's approved lines: source -> target
        self.fail_translate = False
        self.warnings: tuple[str, ...] = ()
        self.rate: float | None = None  # the media's frame rate (an episode's own SRT)
        self.rates: list[float | None] = []  # the rate each translation was given
        self.clips = True  # dubbing cuts reference clips from the media

    def stage_keys(self) -> dict[str, Any]:
        return self.keys

    def close(self) -> None:
        self.calls.append("close")

    def _glossary(self, glossary: Path | None) -> str:
        return glossary.read_text(encoding="utf-8") if glossary else ""

    def glossary_fingerprint(self, glossary: Path | None) -> str | None:
        return self._glossary(glossary) or None

    def approved_fingerprint(self, stem: str, zh_srt: Path, fps: float | None = None) -> str | None:
        # the approved lines whose source the episode's Chinese holds, as the engine does
        said = zh_srt.read_text(encoding="utf-8")
        return "|".join(f"{s}={t}" for s, t in sorted(self.approved.items()) if s in said) or None

    def pivot_fingerprint(self, stem: str, zh_srt: Path) -> str | None:
        # the English burned into the picture that --pivot-from burned translates from
        english = zh_srt.with_name(f"{stem}.en.srt")
        return english.read_text(encoding="utf-8") if english.is_file() else None

    def recognition_fingerprint(self, glossary: Path | None) -> str | None:
        # the Chinese forms: the glossary's lines before " = " (its Urdu after)
        text = self._glossary(glossary)
        return "|".join(line.split(" = ")[0] for line in text.splitlines()) or None

    def transcribe(
        self, media: Path, outdir: Path, progress: Any, glossary: Path | None
    ) -> list[Path]:
        self.calls.append("transcribe")
        srt = outdir / f"{media.stem}.zh.srt"
        srt.write_bytes(media.read_bytes() + b"\n")
        asr = outdir / f"{media.stem}.asr.json"
        asr.write_text("{}", encoding="utf-8")
        # the picture's English: written, not an output whose edit transcribes again
        (outdir / f"{media.stem}.en.srt").write_text("China-Pakistan\n", encoding="utf-8")
        return [srt, asr]

    def frame_rate(self, media: Path) -> float | None:
        return self.rate

    def dub_reads_media(self) -> bool:
        return self.clips

    def translate(
        self, media: Path, zh_srt: Path, outdir: Path, glossary: Path | None,
        fps: float | None = None,
    ) -> Any:  # fmt: skip
        self.calls.append("translate")
        self.rates.append(fps)
        if self.fail_translate:
            raise DubkitError(f"{zh_srt}: the route failed")
        ur = outdir / f"{media.stem}.ur.srt"
        ur.write_bytes(zh_srt.read_bytes() + self._glossary(glossary).encode())
        return [ur], ur

    def dub(
        self, media: Path, outdir: Path, zh_srt: Path, done: Any, glossary: Path | None
    ) -> list[Path]:
        self.calls.append("dub")
        script = outdir / f"{media.stem}.dubscript.csv"
        script.write_bytes(done.read_bytes())
        return [script]

    def report(
        self, media: Path, outdir: Path, stages: dict[str, Any], fps: float | None = None
    ) -> Path:
        # what the real engine writes STEM.run.json from: each stage's record
        run_json = outdir / f"{media.stem}.run.json"
        said = {stage: entry["warnings"] for stage, entry in stages.items()}
        run_json.write_text(json.dumps({"warnings": said, "fps": fps}), encoding="utf-8")
        return run_json


class Loader:
    """What batch calls to get a worker's engine: always this one fake."""

    def __init__(self, stages: FakeStages) -> None:
        self.stages = stages
        self.key = f"fake-{id(stages)}"

    def __call__(self) -> FakeStages:
        return self.stages


@pytest.fixture
def episode(tmp_path: Path) -> B.Episode:
    media = tmp_path / "in" / "ep.wav"
    media.parent.mkdir()
    media.write_bytes(b"speech one")
    glossary = tmp_path / "in" / "terms.txt"
    glossary.write_text("中巴 = چین پاکستان\n", encoding="utf-8")
    return B.Episode("ep", media, None, glossary)


def run(stages: FakeStages, episode: B.Episode, out: Path, force: bool = False) -> dict[str, str]:
    B._ENGINES.clear()
    outcome = B.process_episode(Loader(stages), episode, str(out), force)
    assert outcome.status == "done", outcome.error
    stages.calls.clear()
    return outcome.stages


ALL_RAN = {"transcribe": "ran", "translate": "ran", "dub": "ran"}
ALL_SKIPPED = {"transcribe": "skipped", "translate": "skipped", "dub": "skipped"}
TRANSLATE_AGAIN = {"transcribe": "skipped", "translate": "ran", "dub": "ran"}


def test_first_run_runs_every_stage_and_a_second_skips_them(
    episode: B.Episode, tmp_path: Path
) -> None:
    stages = FakeStages()
    out = tmp_path / "out"
    assert run(stages, episode, out) == ALL_RAN
    assert run(stages, episode, out) == ALL_SKIPPED
    manifest = json.loads((out / "ep" / ".dubkit" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["stages"]) == {"transcribe", "translate", "dub"}


def test_force_runs_every_stage(episode: B.Episode, tmp_path: Path) -> None:
    stages = FakeStages()
    run(stages, episode, tmp_path / "out")
    assert run(stages, episode, tmp_path / "out", force=True) == ALL_RAN


def test_new_media_content_runs_everything(episode: B.Episode, tmp_path: Path) -> None:
    stages = FakeStages()
    run(stages, episode, tmp_path / "out")
    episode.media.write_bytes(b"speech two")
    assert run(stages, episode, tmp_path / "out") == ALL_RAN


def test_an_edited_urdu_rendering_translates_again_without_transcribing(
    episode: B.Episode, tmp_path: Path
) -> None:
    stages = FakeStages()
    run(stages, episode, tmp_path / "out")
    assert episode.glossary is not None
    episode.glossary.write_text("中巴 = پاک چین\n", encoding="utf-8")
    assert run(stages, episode, tmp_path / "out") == TRANSLATE_AGAIN


def test_a_new_chinese_form_transcribes_again(episode: B.Episode, tmp_path: Path) -> None:
    stages = FakeStages()
    run(stages, episode, tmp_path / "out")
    assert episode.glossary is not None
    episode.glossary.write_text("中巴 = چین پاکستان\n瓜达尔 = گوادر\n", encoding="utf-8")
    assert run(stages, episode, tmp_path / "out") == ALL_RAN


def test_a_line_approved_translates_again_only_the_episodes_that_say_it(
    episode: B.Episode, tmp_path: Path
) -> None:
    other = tmp_path / "in" / "other.wav"
    other.write_bytes(b"speech two")
    second = B.Episode("other", other, None, episode.glossary)
    stages, out = FakeStages(), tmp_path / "out"
    run(stages, episode, out)
    run(stages, second, out)
    stages.approved = {"one": "ایک"}
    assert run(stages, episode, out) == TRANSLATE_AGAIN
    assert run(stages, second, out) == ALL_SKIPPED
    assert run(stages, episode, out) == ALL_SKIPPED


def test_the_engine_keys_an_episode_by_the_approved_lines_of_what_it_translates(
    tmp_path: Path,
) -> None:
    """Approving a line changes the key of the episodes whose Chinese (as the route gets it:
    sentences under the sentence layout) is that line, and no other episode's."""
    from types import SimpleNamespace

    from dubkit.episode.engine import Engine, EngineSpec, RecognitionSpec, TranslationSpec
    from dubkit.episode.pipeline import TranslateSettings
    from dubkit.ports import MTOptions, TranscribeOptions
    from dubkit.profiles import Profile
    from dubkit.records import Cue
    from dubkit.translate.memory import SqliteMemory

    memory = SqliteMemory(tmp_path / "memory.sqlite")
    recognition = RecognitionSpec(
        "whisper:base", tmp_path, "cpu", None, 1, TranscribeOptions(), Profile(name="zh")
    )
    keys = {}
    for layout in ("cue", "sentence"):
        settings = TranslateSettings(layout=layout)
        spec = EngineSpec(recognition, TranslationSpec(None, MTOptions(), settings))
        device = SimpleNamespace(device="cpu", compute_type="int8")
        unloaded = SimpleNamespace(name="whisper:base", path=tmp_path, device=device)
        engine = Engine(spec, unloaded, None, memory)
        said = [Cue(1, 0, 1000, ("我们今天",)), Cue(2, 1100, 2000, ("去北京。",))]
        other = [Cue(1, 0, 1000, ("谢谢。",))]
        before = engine.approved_fingerprint(said), engine.approved_fingerprint(other)
        source = "我们今天" if layout == "cue" else "我们今天去北京。"
        memory.approve("zh", "ur", {source: f"آج ہم ({layout})"}, note="test")
        after = engine.approved_fingerprint(said), engine.approved_fingerprint(other)
        assert after[0] != before[0] and after[1] == before[1], layout
        keys[layout] = after[0]
    # the cue layout's approval is not a sentence the sentence layout sends, and vice versa
    assert keys["cue"] != keys["sentence"]


def test_corrected_burned_english_translates_again_without_transcribing(
    episode: B.Episode, tmp_path: Path
) -> None:
    """`--pivot-from burned` translates from STEM.en.srt, the English read from the picture:
    a person correcting it there has the episode translated again, the picture not read
    again (which would undo the correction)."""
    stages = FakeStages()
    out = tmp_path / "out"
    run(stages, episode, out)
    english = out / "ep" / "ep.en.srt"
    english.write_text("China-Pakistan Economic Corridor\n", encoding="utf-8")
    assert run(stages, episode, out) == TRANSLATE_AGAIN
    assert english.read_text(encoding="utf-8") == "China-Pakistan Economic Corridor\n"
    assert run(stages, episode, out) == ALL_SKIPPED


@pytest.mark.parametrize(
    ("stage", "expected"),
    [("transcribe", ALL_RAN), ("translate", TRANSLATE_AGAIN), ("dub", TRANSLATE_AGAIN)],
)
def test_a_changed_setting_reruns_its_stage_and_what_follows(
    episode: B.Episode, tmp_path: Path, stage: str, expected: dict[str, str]
) -> None:
    stages = FakeStages()
    run(stages, episode, tmp_path / "out")
    stages.keys = {**stages.keys, stage: ["changed"]}
    # dub needs the translation in memory, so a stale dub translates again too
    assert run(stages, episode, tmp_path / "out") == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ep.zh.srt", ALL_RAN),
        ("ep.ur.srt", TRANSLATE_AGAIN),
        ("ep.dubscript.csv", TRANSLATE_AGAIN),
        ("ep.run.json", TRANSLATE_AGAIN),
    ],
)
@pytest.mark.parametrize("change", ["edited", "deleted"])
def test_an_output_edited_or_deleted_is_made_again(
    episode: B.Episode, tmp_path: Path, name: str, expected: dict[str, str], change: str
) -> None:
    stages = FakeStages()
    out = tmp_path / "out"
    run(stages, episode, out)
    path = out / "ep" / name
    if change == "edited":
        path.write_bytes(path.read_bytes() + b"edited by hand")
    else:
        path.unlink()
    assert run(stages, episode, out) == expected
    assert path.is_file()


def _with_own_srt(episode: B.Episode, tmp_path: Path) -> tuple[B.Episode, Path]:
    """The episode with its own Chinese SRT (one cue, 中巴) in tmp_path/in, and that SRT."""
    srt = tmp_path / "in" / "ep.zh.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\n中巴\n", encoding="utf-8")
    return B.Episode("ep", episode.media, srt, episode.glossary), srt


def test_the_episodes_own_srt_replaces_transcription_and_is_keyed_by_content(
    episode: B.Episode, tmp_path: Path
) -> None:
    with_srt, srt = _with_own_srt(episode, tmp_path)
    stages = FakeStages()
    out = tmp_path / "out"
    assert run(stages, with_srt, out) == ALL_RAN
    assert (out / "ep" / "ep.zh.srt").read_bytes() == srt.read_bytes()
    assert run(stages, with_srt, out) == ALL_SKIPPED
    # the SRT, not the media, is what is translated; dubbing cuts its clips from the media
    episode.media.write_bytes(b"other speech")
    assert run(stages, with_srt, out) == TRANSLATE_AGAIN
    assert run(stages, with_srt, out) == ALL_SKIPPED
    stages.clips = False  # (--no-clips, no guide track: the media is not read)
    assert run(stages, with_srt, out) == TRANSLATE_AGAIN  # the key changes once
    episode.media.write_bytes(b"third speech")
    assert run(stages, with_srt, out) == ALL_SKIPPED
    stages.keys = {**stages.keys, "transcribe": ["another recogniser"]}  # unused by a copy
    assert run(stages, with_srt, out) == ALL_SKIPPED
    assert episode.glossary is not None  # a new Chinese form biases recognition, not a copy
    episode.glossary.write_text("中巴 = چین پاکستان\n瓜达尔 = گوادر\n", encoding="utf-8")
    assert run(stages, with_srt, out)["transcribe"] == "skipped"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\n瓜达尔\n", encoding="utf-8")
    assert run(stages, with_srt, out) == ALL_RAN


def test_an_episodes_own_srt_removes_an_asr_json_left_by_an_earlier_recognition(
    episode: B.Episode, tmp_path: Path
) -> None:
    """The asr.json describes the recognised cues (their rate, the guard's flags): beside the
    episode's own SRT it would time and flag cues it never described."""
    stages, out = FakeStages(), tmp_path / "out"
    run(stages, episode, out)
    asr_json = out / "ep" / "ep.asr.json"
    assert asr_json.is_file()
    with_srt, srt = _with_own_srt(episode, tmp_path)
    assert run(stages, with_srt, out) == ALL_RAN
    assert not asr_json.exists()
    assert (out / "ep" / "ep.zh.srt").read_bytes() == srt.read_bytes()


def test_an_episodes_own_srt_is_translated_at_the_medias_frame_rate_and_again_when_it_changes(
    episode: B.Episode, tmp_path: Path
) -> None:
    with_srt, _ = _with_own_srt(episode, tmp_path)
    stages, out = FakeStages(), tmp_path / "out"
    stages.rate = 29.97
    B._ENGINES.clear()
    assert B.process_episode(Loader(stages), with_srt, str(out)).status == "done"
    assert stages.rates == [29.97]
    assert json.loads((out / "ep" / "ep.run.json").read_text(encoding="utf-8"))["fps"] == 29.97
    assert run(stages, with_srt, out) == ALL_SKIPPED
    stages.rate = 25.0  # another recording at another rate, or --fps
    assert run(stages, with_srt, out) == ALL_RAN


def test_each_stages_warnings_are_kept_for_the_run_json_of_a_later_run(
    episode: B.Episode, tmp_path: Path
) -> None:
    """STEM.run.json holds every stage's warnings, as `run` prints them, also when batch
    skipped the stage that gave them and ran the later ones again."""
    stages, out = FakeStages(), tmp_path / "out"
    stages.warnings = ("ep.wav: looks truncated",)
    run(stages, episode, out)
    assert episode.glossary is not None
    episode.glossary.write_text("中巴 = پاک چین\n", encoding="utf-8")
    stages.warnings = ()
    assert run(stages, episode, out) == TRANSLATE_AGAIN
    said = json.loads((out / "ep" / "ep.run.json").read_text(encoding="utf-8"))["warnings"]
    assert said == {"transcribe": ["ep.wav: looks truncated"], "translate": [], "dub": []}


def test_a_manifest_written_before_batch_wrote_run_json_runs_its_stages_again(
    episode: B.Episode, tmp_path: Path
) -> None:
    """Its stages kept no record to write STEM.run.json from."""
    stages, out = FakeStages(), tmp_path / "out"
    run(stages, episode, out)
    path = out / "ep" / ".dubkit" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for entry in manifest["stages"].values():
        del entry["result"], entry["warnings"], entry["seconds"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert run(stages, episode, out) == ALL_RAN
    assert run(stages, episode, out) == ALL_SKIPPED


def test_a_failed_translation_keeps_the_transcription_for_the_next_run(
    episode: B.Episode, tmp_path: Path
) -> None:
    stages = FakeStages()
    stages.fail_translate = True
    out = tmp_path / "out"
    B._ENGINES.clear()
    failed = B.process_episode(Loader(stages), episode, str(out))
    assert failed.status == "failed" and "the route failed" in (failed.error or "")
    assert failed.stages == {"transcribe": "ran"}
    stages.fail_translate = False
    assert run(stages, episode, out) == TRANSLATE_AGAIN


def test_each_inline_batch_counts_its_own_model_load_and_closes_its_engine(
    episode: B.Episode, tmp_path: Path
) -> None:
    """Batches run one after another in one process (a library caller, the test suite): each
    reports the one load it made, and no engine outlives its batch."""
    for n in range(2):
        stages, out = FakeStages(), tmp_path / f"out{n}"
        out.mkdir()
        report = B.run_batch([episode], out, Loader(stages))
        assert report.model_loads() == 1
        assert stages.calls[-1] == "close"
        assert B._ENGINES == {}


def test_an_episodes_chinese_is_read_once_for_its_keys_and_translation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The approved-lines key, the pivot key and translation take the same cues: read once,
    and read again when the SRT is replaced."""
    from types import SimpleNamespace

    from dubkit.episode.stages import BatchStages
    from dubkit.subtitles import files

    reads: list[Path] = []
    real = files.read_srt
    monkeypatch.setattr(files, "read_srt", lambda path, *a: reads.append(path) or real(path, *a))
    spec = SimpleNamespace(recognition=SimpleNamespace(fps=25.0))
    stages = BatchStages(SimpleNamespace(spec=spec))  # type: ignore[arg-type]
    srt = tmp_path / "ep.zh.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\n你好\n", encoding="utf-8")
    first = stages._chinese("ep", srt, 25.0)
    assert stages._chinese("ep", srt, 25.0) == first and len(reads) == 1
    assert [c.text for c in first[0]] == ["你好"] and first[1] == 25.0
    new = tmp_path / "new.srt"
    new.write_text("1\n00:00:01,000 --> 00:00:02,000\n再见\n", encoding="utf-8")
    new.replace(srt)  # as atomic writes replace it
    assert [c.text for c in stages._chinese("ep", srt, 25.0)[0]] == ["再见"] and len(reads) == 2
    assert stages._chinese("ep", srt, 30.0)[1] == 30.0 and len(reads) == 2  # the rate given
    stat = srt.stat()
    srt.write_text(srt.read_text(encoding="utf-8").replace("再见", "您好"), encoding="utf-8")
    os.utime(srt, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, time set back
    assert [c.text for c in stages._chinese("ep", srt, 25.0)[0]] == ["您好"] and len(reads) == 3


@pytest.mark.parametrize("bias", [True, False])
def test_a_change_of_the_biasing_rules_transcribes_again_only_what_was_biased(
    bias: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transcription key of an episode with a glossary carries the biasing rules'
    revision where recognition biases by the glossary; without a glossary, or with
    --no-glossary-bias, there is no biased pass to redo."""
    from types import SimpleNamespace

    from dubkit import constants as C
    from dubkit.episode.stages import BatchStages

    glossary = DEV_TERMS
    options = SimpleNamespace(bias=bias)
    engine = SimpleNamespace(spec=SimpleNamespace(recognition=SimpleNamespace(options=options)))
    stages = BatchStages(engine)  # type: ignore[arg-type]
    now = stages.recognition_fingerprint(glossary)
    assert now is not None and stages.recognition_fingerprint(None) is None
    monkeypatch.setattr(C, "BIASING_REVISION", C.BIASING_REVISION + 1)
    assert (stages.recognition_fingerprint(glossary) != now) is bias
