"""`dubkit run`: recognition and translation in one process, on the 70 s shared recording,
with the real whisper:base model and tiny translation packages installed from files."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dubkit.asr.guard import find_loops
from dubkit.cli import app
from dubkit.subtitles.parse import parse_srt
from tests.conftest import CPEC, install_pivot, isolate_packages

runner = CliRunner()
pytestmark = [pytest.mark.model, pytest.mark.assets, pytest.mark.slow]


@pytest.fixture(scope="module")
def seminar(assets: Path) -> Path:
    return assets / "zh-long" / "funasr_vad_example_70s.wav"


@pytest.fixture(scope="module")
def sentence_run(
    seminar: Path,
    base_model_dir: Path,
    argos_files: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """One `dubkit run` of the seminar in the default sentence layout under ur-broadcast,
    with the shipped glossary, the guide track and 200 ms handles, in its own package store:
    its output folder, which the tests below read (none writes in it)."""
    root = tmp_path_factory.mktemp("sentence-run")
    out = root / "out"
    args = ["run", str(seminar), "-o", str(out), "--device", "cpu", "--no-cache", "-g", str(CPEC)]
    args += ["--guide-track", "--handles", "200"]
    with pytest.MonkeyPatch.context() as patch:
        isolate_packages(patch, root)
        install_pivot(argos_files)
        result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def _spans(path: Path) -> list[tuple[int, int, int]]:
    cues = parse_srt(path.read_text(encoding="utf-8")).cues
    return [(c.index, c.start_ms, c.end_ms) for c in cues]


@pytest.mark.usefixtures("pivot_route", "no_network")
def test_run_writes_zh_and_ur_with_identical_timing_then_serves_from_memory(
    seminar: Path, tmp_path: Path, base_model_dir: Path
) -> None:
    memory = str(tmp_path / "memory.sqlite")
    out = tmp_path / "out"
    args = ["run", str(seminar), "-o", str(out), "--device", "cpu", "--memory", memory]
    args += ["--glossary", str(CPEC), "--layout", "cue"]  # cue by cue: the Chinese timing
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    stem = seminar.stem
    zh, ur = out / f"{stem}.zh.srt", out / f"{stem}.ur.srt"
    assert len(_spans(zh)) >= 10
    assert _spans(zh) == _spans(ur)
    assert all(c.lines for c in parse_srt(ur.read_text(encoding="utf-8")).cues)
    doc = json.loads((out / f"{stem}.run.json").read_text(encoding="utf-8"))
    assert doc["status"] == "complete"
    assert doc["translation"]["route"] == "zh→en→ur"
    assert doc["versions"]["ctranslate2"] and doc["versions"]["dubkit"]
    translate = doc["stages"]["translate"]
    assert translate["cues"] == len(_spans(zh))
    assert translate["memory_hits"] == 0 and translate["translated"] > 0
    assert doc["stages"]["transcribe"]["cues"] == translate["cues"]
    assert "dubkit run" in first.output  # the summary table
    qa = json.loads((out / f"{stem}.qa.json").read_text(encoding="utf-8"))
    assert qa["glossaries"][0]["name"] == "cpec-media"
    assert len(qa["cues"]) == translate["cues"]
    assert translate["adherence"] == qa["adherence"]
    asr = json.loads((out / f"{stem}.asr.json").read_text(encoding="utf-8"))
    assert asr["glossary"]["terms"].startswith("cpec-media ")
    # The glossary never goes into every window's prompt (that made Whisper loop on 中国):
    # only windows whose first pass sounds like a term are decoded again with it.
    assert asr["options"]["hotwords"] == [] and asr["recognition"]["hotwords"] == []
    assert asr["recognition"]["summary"]["windows"] == len(asr["recognition"]["windows"]) >= 2
    assert not find_loops(zh.read_text(encoding="utf-8"))
    before = ur.read_bytes()
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    again = json.loads((out / f"{stem}.run.json").read_text(encoding="utf-8"))
    assert again["stages"]["translate"]["translated"] == 0
    assert again["stages"]["translate"]["memory_hits"] == translate["translated"]
    assert ur.read_bytes() == before


def test_run_without_route_keeps_chinese_outputs_and_fails(
    speech_wav: Path, tmp_path: Path, base_model_dir: Path
) -> None:
    """A short recording will do: what this checks comes after recognition."""
    stale = tmp_path / f"{speech_wav.stem}.ur.srt"
    stale.write_text("1\n00:00:01,000 --> 00:00:02,000\nپرانا\n", encoding="utf-8")
    result = runner.invoke(app, ["run", str(speech_wav), "-o", str(tmp_path), "--device", "cpu"])
    assert result.exit_code == 1
    assert "dubkit models pull argos:zh-ur" in result.output
    assert "dubkit models install FILE.argosmodel" in result.output
    assert (tmp_path / f"{speech_wav.stem}.zh.srt").is_file()
    assert not stale.exists()  # an earlier run's Urdu no longer matches: set aside, kept
    assert "پرانا" in (tmp_path / f"{speech_wav.stem}.ur.stale.srt").read_text(encoding="utf-8")
    assert "renamed" in result.output
    doc = json.loads((tmp_path / f"{speech_wav.stem}.run.json").read_text(encoding="utf-8"))
    assert doc["status"] == "no-translation-route"


def test_network_guard_can_fail(no_network: None) -> None:
    """The guard the offline tests rely on really stops a connection."""
    with pytest.raises(ConnectionRefusedError, match="must stay offline"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)


def test_run_urdu_subtitles_pass_qa_or_carry_a_flag(seminar: Path, sentence_run: Path) -> None:
    """Sentence layout under ur-broadcast: SRT, VTT and ASS written; every cue `dubkit qa`
    flags was flagged by generation too (with a reason), and the three formats agree."""
    out = sentence_run
    stem = seminar.stem
    generated = json.loads((out / f"{stem}.qa.json").read_text(encoding="utf-8"))
    flagged_by_run = {c["index"]: c["flags"] for c in generated["target_cues"]}
    reports = {}
    for ext in ("srt", "vtt", "ass"):
        path = out / f"{stem}.ur.{ext}"
        assert path.is_file()
        check = runner.invoke(app, ["qa", str(path), "--json", "--warn-only", "--no-html"])
        assert check.exit_code == 0, check.output
        reports[ext] = json.loads(check.stdout)
    cues = reports["srt"]["cues"]
    assert len(cues) == len(flagged_by_run) > 0
    for cue in cues:
        if cue["flags"]:
            assert flagged_by_run[cue["index"]], cue  # qa's complaint was already flagged
    # the same cues whatever the format (ASS keeps centiseconds)
    assert [c["index"] for c in reports["vtt"]["cues"]] == [c["index"] for c in cues]
    assert len(reports["ass"]["cues"]) == len(cues)
    bilingual = (out / f"{stem}.zh-ur.srt").read_text(encoding="utf-8")
    assert bilingual.count("-->") == len(cues)


def test_run_writes_the_dubbing_script_clips_and_guide_track(
    seminar: Path, sentence_run: Path, tmp_path: Path
) -> None:
    """Issue 6's 'done when': the Excel rows match the Urdu cues, one clip per row of the
    cue's length plus handles, a guide track of the programme's length at -23 LUFS
    (measured), and one edited Urdu cell changes exactly that cue of the ur SRT."""
    import openpyxl

    from dubkit.text.urdu import strip_bidi
    from tests.test_dubaudio import lufs, read_wav

    out = tmp_path / "out"  # a copy: the import below rewrites the Urdu SRT
    shutil.copytree(sentence_run, out)
    stem = seminar.stem
    urdu = parse_srt((out / f"{stem}.ur.srt").read_text(encoding="utf-8")).cues
    sheet = openpyxl.load_workbook(out / f"{stem}.dubscript.xlsx")["Script"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(2)]
    assert [r["No"] for r in rows] == [c.index for c in urdu]
    assert [r["Urdu"] for r in rows] == [strip_bidi(c.text) for c in urdu]
    clips = sorted((out / "clips" / stem).iterdir())
    assert [p.name for p in clips] == [f"{c.index:04d}.wav" for c in urdu]
    programme, rate = read_wav(seminar)
    for clip, cue in zip(clips, urdu, strict=True):
        samples, clip_rate = read_wav(clip)
        start = max(0, cue.start_ms - 200)
        end = min(round(len(programme) / rate * 1000), cue.end_ms + 200)
        assert abs(len(samples) / clip_rate * 1000 - (end - start)) <= 1
    guide, guide_rate = read_wav(out / f"{stem}.guide.wav")
    assert len(guide) == len(programme) and guide_rate == rate
    assert abs(lufs(guide, guide_rate) + 23.0) < 1.0
    doc = json.loads((out / f"{stem}.run.json").read_text(encoding="utf-8"))
    assert abs(doc["stages"]["dubbing"]["guide"]["loudness_lufs"] + 23.0) < 1.0

    workbook = openpyxl.load_workbook(out / f"{stem}.dubscript.xlsx")
    workbook["Script"].cell(row=3, column=header.index("Urdu") + 1).value = "یہ سطر بدلی گئی ہے۔"
    workbook.save(out / f"{stem}.dubscript.xlsx")
    before = (out / f"{stem}.ur.srt").read_text(encoding="utf-8")
    imported = runner.invoke(
        app, ["dubscript", "import", str(out / f"{stem}.dubscript.xlsx"), "--no-memory"]
    )
    assert imported.exit_code == 0, imported.output
    after = parse_srt((out / f"{stem}.ur.srt").read_text(encoding="utf-8")).cues
    changed = [a.index for a, b in zip(parse_srt(before).cues, after, strict=True) if a != b]
    assert changed == [2]
    assert strip_bidi(after[1].text) == "یہ سطر بدلی گئی ہے۔"
