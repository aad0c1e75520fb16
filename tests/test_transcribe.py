"""Real whisper:base on real recordings, and every kind of bad input, end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pysrt
import pytest
from typer.testing import CliRunner

from dubkit.cli import app
from tests.conftest import run_ffmpeg
from tests.scoring import char_errors

pytestmark = pytest.mark.model
runner = CliRunner()
SPEECH = "欢迎大家来体验达摩院推出的语音识别模型"  # speech_wav's reference


def _srt_text(path: Path) -> str:
    return "".join(item.text for item in pysrt.open(str(path), encoding="utf-8"))


def _transcribe(tmp: Path, *args: str) -> tuple[object, str]:
    result = runner.invoke(app, ["transcribe", *args, "-o", str(tmp), "--json"])
    return result, result.stderr


def test_every_container_ffmpeg_reads(
    ffmpeg: str, speech_wav: Path, media_dir: Path, tmp_path: Path
) -> None:
    made = []
    for suffix, extra in [
        (".mp3", ["-c:a", "libmp3lame"]),
        (".m4a", ["-c:a", "aac"]),
        (".mkv", ["-c:a", "libopus"]),
    ]:
        out = media_dir / f"speech-{suffix[1:]}{suffix}"
        run_ffmpeg(ffmpeg, "-i", speech_wav.as_posix(), *extra, out.as_posix())
        made.append(out)
    video = media_dir / "news clip.mp4"
    run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", "color=c=blue:size=160x120:rate=25", "-i",
        speech_wav.as_posix(), "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p",
        "-c:a", "aac", video.as_posix(),
    )  # fmt: skip
    made.append(video)
    result, stderr = _transcribe(tmp_path, *(str(m) for m in made))
    assert result.exit_code == 0, stderr  # type: ignore[attr-defined]
    summary = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert len(summary["files"]) == 4
    for entry in summary["files"]:
        text = _srt_text(Path(entry["srt"]))
        assert char_errors(SPEECH, text).cer < 0.35, (entry["media"], text)
        assert Path(entry["asr_json"]).is_file()
    assert (tmp_path / "news clip.zh.srt").is_file()


def test_asr_json_records_the_run(speech_wav: Path, tmp_path: Path) -> None:
    result, stderr = _transcribe(
        tmp_path, str(speech_wav), "--hotword", "达摩院", "--beam-size", "3"
    )
    assert result.exit_code == 0, stderr  # type: ignore[attr-defined]
    doc = json.loads((tmp_path / f"{speech_wav.stem}.asr.json").read_text(encoding="utf-8"))
    assert doc["dubkit_version"]
    assert doc["model"]["name"] == "whisper:base"
    assert doc["model"]["device"] == "cpu"
    assert doc["options"]["beam_size"] == 3
    assert doc["options"]["batch_size"] is None  # not given: the device's default, used:
    assert doc["recognition"]["batch_size"] == 4
    assert doc["options"]["hotwords"] == ["达摩院"]
    assert doc["profile"]["max_chars_per_line"] == 16
    assert doc["detected_language"] == "zh"
    assert 0.5 < doc["detected_language_probability"] <= 1.0
    words = [w for s in doc["segments"] for w in s["words"]]
    assert words
    assert all(isinstance(w["start_ms"], int) and w["start_ms"] <= w["end_ms"] for w in words)
    starts = [w["start_ms"] for w in words]
    assert starts == sorted(starts)
    assert not list(tmp_path.glob(".*.tmp"))


def test_sequential_and_no_vad_modes(speech_wav: Path, tmp_path: Path) -> None:
    for flags in (["--batch-size", "0"], ["--no-vad"], ["--batch-size", "0", "--no-vad"]):
        result, stderr = _transcribe(tmp_path, str(speech_wav), *flags)
        assert result.exit_code == 0, (flags, stderr)  # type: ignore[attr-defined]
        text = _srt_text(tmp_path / f"{speech_wav.stem}.zh.srt")
        assert char_errors(SPEECH, text).cer < 0.35, (flags, text)


def test_silence_gives_empty_srt_and_notice(silence_wav: Path, tmp_path: Path) -> None:
    result, stderr = _transcribe(tmp_path, str(silence_wav))
    assert result.exit_code == 0, stderr  # type: ignore[attr-defined]
    assert "no speech found" in stderr
    srt = tmp_path / "silence.zh.srt"
    assert srt.read_text(encoding="utf-8") == ""
    assert len(pysrt.open(str(srt))) == 0


def test_english_speech_warns(english_wav: Path, tmp_path: Path) -> None:
    result, stderr = _transcribe(tmp_path, str(english_wav))
    assert result.exit_code == 0, stderr  # type: ignore[attr-defined]
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, stderr
    assert "sounds like English (en" in warnings[0]
    assert str(english_wav) in warnings[0]
    assert (tmp_path / "english.zh.srt").is_file()


def test_language_auto_names_the_output_by_language(english_wav: Path, tmp_path: Path) -> None:
    result, stderr = _transcribe(tmp_path, str(english_wav), "--language", "auto")
    assert result.exit_code == 0, stderr  # type: ignore[attr-defined]
    assert "warning:" not in stderr
    (entry,) = json.loads(result.stdout)["files"]  # type: ignore[attr-defined]
    assert (entry["language"], entry["detected_language"]) == ("en", "en")
    assert entry["srt"] == str(tmp_path / "english.en.srt")
    assert "weather" in _srt_text(tmp_path / "english.en.srt").lower()


@pytest.mark.parametrize("suffix", [".wav", ".m4a"])
def test_truncated_media_warns_and_keeps_what_is_there(
    ffmpeg: str, assets: Path, media_dir: Path, tmp_path: Path, suffix: str
) -> None:
    source = assets / "zh-speech" / "cosyvoice_pr1212_laoxu.wav"
    full = media_dir / f"lecture{suffix}"
    run_ffmpeg(ffmpeg, "-i", source.as_posix(), "-movflags", "+faststart", full.as_posix())
    cut = media_dir / f"lecture cut{suffix}"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the header still declares the full length
    result, stderr = _transcribe(tmp_path, str(cut))
    assert result.exit_code == 0, stderr  # type: ignore[attr-defined]
    assert f"{cut}: looks truncated: decoded 7." in stderr
    assert "of the 15.6 s it declares" in stderr
    assert _srt_text(tmp_path / "lecture cut.zh.srt")


@pytest.mark.parametrize(
    ("fixture", "needle"),
    [
        ("corrupt_file", "cannot read as media"),
        ("video_only", "has no audio stream"),
        ("zero_length_wav", "no samples"),
    ],
)
def test_bad_media_one_line_exit_1_no_output(
    request: pytest.FixtureRequest, fixture: str, needle: str, tmp_path: Path, base_model_dir: Path
) -> None:
    media: Path = request.getfixturevalue(fixture)
    result, stderr = _transcribe(tmp_path, str(media))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("notice:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert needle in lines[0] and str(media) in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_zero_byte_file(tmp_path: Path, base_model_dir: Path) -> None:
    empty = tmp_path / "empty.mkv"
    empty.write_bytes(b"")
    out = tmp_path / "out"
    result, stderr = _transcribe(out, str(empty))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "file is empty (0 bytes)" in stderr
    assert list(out.iterdir()) == []


def test_cuda_requested_without_cuda(
    speech_wav: Path, tmp_path: Path, base_model_dir: Path
) -> None:
    from dubkit.adapters.ct2 import cuda_device_count

    if cuda_device_count() > 0:
        pytest.skip("this machine has a CUDA device")
    result, stderr = _transcribe(tmp_path, str(speech_wav), "--device", "cuda")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "--device cuda: ctranslate2 sees no CUDA device" in stderr
    assert "--device cpu" in stderr


def test_device_auto_falls_back_with_notice(speech_wav: Path, tmp_path: Path) -> None:
    from dubkit.adapters.ct2 import cuda_device_count

    if cuda_device_count() > 0:
        pytest.skip("this machine has a CUDA device")
    result, stderr = _transcribe(tmp_path, str(speech_wav), "--device", "auto")
    assert result.exit_code == 0, stderr  # type: ignore[attr-defined]
    assert "notice: no CUDA device visible to ctranslate2; running on CPU" in stderr


def test_progress_bar_only_on_a_terminal(
    speech_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    import dubkit.cli.transcribe

    plain, _ = _transcribe(tmp_path, str(speech_wav))
    assert "━" not in plain.stderr and "\x1b[" not in plain.stderr  # type: ignore[attr-defined]

    def terminal() -> Console:
        return Console(stderr=True, force_terminal=True, width=120, soft_wrap=True)

    monkeypatch.setattr(dubkit.cli.transcribe, "make_console", terminal)
    result, stderr = _transcribe(tmp_path, str(speech_wav))
    assert result.exit_code == 0, stderr  # type: ignore[attr-defined]
    assert "━" in stderr
    assert re.search(r"\b0/6 s\b", stderr), stderr  # audio seconds done of total
    assert json.loads(result.stdout)["files"][0]["cues"] >= 1  # type: ignore[attr-defined]


def test_unknown_language_fails_before_loading(speech_wav: Path, tmp_path: Path) -> None:
    result, stderr = _transcribe(tmp_path, str(speech_wav), "--language", "xx")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert stderr.strip() == (
        "error: --language xx: not a Whisper language code; use e.g. zh, yue, en, ur, or auto"
    )
