"""`dubkit transcribe` as a command, where what is checked comes after recognition: several
files in one call, the same name twice, the programme's own frame rate, a streamed WAV. The
recogniser is canned and the media silent (tests/canned.py): no model loads and no shared
recording is read. Recognition itself, with the real whisper:base, is judged in
test_transcribe and test_recognition."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pysrt
import pytest
from typer.testing import CliRunner

from dubkit.cli import app
from tests.canned import HEARD, said, silent_wav
from tests.conftest import run_ffmpeg

runner = CliRunner()


@pytest.fixture(autouse=True)
def _heard(canned: Callable[[tuple[Any, ...]], None]) -> None:
    """Every file is heard to say HEARD: two segments between 0.5 and 3.5 s."""
    canned(HEARD)


@pytest.fixture
def sound(tmp_path: Path) -> Path:
    """4 s of silence in a WAV (the canned recogniser hears HEARD in it)."""
    (tmp_path / "in").mkdir()
    return silent_wav(tmp_path / "in" / "programme.wav")


def _transcribe(tmp: Path, *args: str) -> tuple[Any, str]:
    result = runner.invoke(app, ["transcribe", *args, "-o", str(tmp), "--json"])
    return result, result.stderr


def test_one_bad_file_does_not_stop_the_rest(
    corrupt_file: Path, sound: Path, tmp_path: Path
) -> None:
    result, _ = _transcribe(tmp_path, str(corrupt_file), str(sound))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert (tmp_path / f"{sound.stem}.zh.srt").is_file()
    summary = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert [("error" in f) for f in summary["files"]] == [False, True]


def test_same_stem_twice_is_refused(sound: Path, tmp_path: Path, ffmpeg: str) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    twin = other / sound.name
    twin.write_bytes(sound.read_bytes())
    out = tmp_path / "out"
    result, stderr = _transcribe(out, str(sound), str(twin))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert f"error: {twin}: has the same name as {sound}" in stderr
    assert sorted(p.name for p in out.iterdir()) == [
        f"{sound.stem}.asr.json",
        f"{sound.stem}.zh.srt",
    ]


def test_streamed_wav_is_not_called_truncated(ffmpeg: str, sound: Path, tmp_path: Path) -> None:
    import subprocess

    from dubkit.adapters.audio import decode_audio

    piped = tmp_path / "piped.wav"
    with piped.open("wb") as out:
        subprocess.run(
            [ffmpeg, "-loglevel", "error", "-i", str(sound), "-f", "wav", "-"],
            stdout=out, check=True,
        )  # fmt: skip
    audio = decode_audio(piped)
    assert audio.warnings == ()
    assert audio.duration_ms == pytest.approx(4000, abs=60)


def _picture_over(ffmpeg: str, sound: Path, video: Path, rate: str) -> Path:
    """A test picture at `rate` frames a second over the sound, as long as the sound."""
    run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", f"testsrc=size=160x120:rate={rate}", "-i",
        sound.as_posix(), "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p",
        video.as_posix(),
    )  # fmt: skip
    return video


def test_cues_snap_to_the_programmes_own_frame_rate_unless_fps_is_given(
    ffmpeg: str,
    sound: Path,
    tmp_path: Path,
    canned: Callable[[tuple[Any, ...]], None],
) -> None:
    """Heard between frames of both rates (each time 2 ms or more from a boundary of 29.97
    and of 25 fps), every cue time lands on the rate's frames."""
    from fractions import Fraction

    canned((said("你好世界", 517, 1843), said("谢谢大家", 2271, 3509)))
    video = _picture_over(ffmpeg, sound, tmp_path / "ntsc.mp4", "30000/1001")
    frame = Fraction(1001, 30)  # ms per frame at 29.97 fps
    for args, fps in (([], 29.97), (["--fps", "25"], 25.0)):
        out = tmp_path / f"out{len(args)}"
        result, stderr = _transcribe(out, str(video), *args)
        assert result.exit_code == 0, stderr  # type: ignore[attr-defined]
        asr = json.loads((out / "ntsc.asr.json").read_text(encoding="utf-8"))
        assert asr["profile"]["fps"] == fps
        subs = pysrt.open(str(out / "ntsc.zh.srt"), encoding="utf-8")
        assert len(subs) >= 1
        step = frame if fps != 25.0 else Fraction(40)
        for sub in subs:
            for t in (sub.start.ordinal, sub.end.ordinal):
                # on a frame boundary, to the millisecond the SRT keeps
                assert abs(t - round(round(t / step) * step)) <= 1, (fps, t)


def test_a_rate_that_is_no_broadcast_rate_keeps_the_profiles_and_a_bad_fps_is_one_line(
    ffmpeg: str, sound: Path, tmp_path: Path
) -> None:
    # a slideshow or a still under a radio programme: 1 fps is no frame grid for subtitles
    video = _picture_over(ffmpeg, sound, tmp_path / "slides.mp4", "1")
    result, stderr = _transcribe(tmp_path / "out", str(video))
    assert result.exit_code == 0, stderr  # type: ignore[attr-defined]
    asr = json.loads((tmp_path / "out" / "slides.asr.json").read_text(encoding="utf-8"))
    assert asr["profile"]["fps"] == 25.0
    bad, stderr = _transcribe(tmp_path / "bad", str(video), "--fps", "27.3")
    assert bad.exit_code == 1  # type: ignore[attr-defined]
    assert stderr.strip().splitlines() == [
        "error: --fps 27.3: dubbing timecode needs a whole or NTSC frame rate "
        "(23.976, 25, 29.97, 59.94...)"
    ]
