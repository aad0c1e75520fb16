"""`dubkit burn`: real ffmpeg and libass burn Urdu subtitles into a whole programme.

The programme is a generated test card with sound and two Chinese lines burned in by libass
(Noto Sans CJK SC) at a place measured here; its ocr.json is written by hand with that
geometry, in the schema of the OCR stage. Covering is checked by reading the frames with
RapidOCR: the Chinese reads in the input and not in the output at the same time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dubkit.cli import app
from dubkit.text.urdu import normalise
from tests.conftest import _missing, frame_rgb, one_error_line, probe_av, run_ffmpeg

runner = CliRunner()

SECONDS = 2
# 10 frames a second for 2 s: every time the tests look at (the cues' edges, INSIDE, BETWEEN,
# 0.8 s) is a frame's time, and each burn encodes 20 frames where 4 s at 25 fps made it encode
# 100.
FPS = 10
SIZE = (640, 360)
ZH = ("中巴经济走廊建设", "瓜达尔港已经完工")
ZH_SPANS = ((200, 900), (1200, 1800))  # ms; the Urdu cues have the same times
INSIDE = (0.5, 1.5)  # seconds: one frame inside each cue
BETWEEN = 1.0  # seconds: a frame between the cues
LINE_1 = normalise("چین پاکستان اقتصادی راہداری")
LINE_2 = normalise("گوادر بندرگاہ 2025 میں مکمل ہوئی۔")
PAD = 6  # pixels around the measured text, as the OCR stage pads its boxes
BAND = (290, 350)
ZH_ASS = """[Script Info]
ScriptType: v4.00+
PlayResX: 640
PlayResY: 360

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, \
Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Zh,Noto Sans CJK SC,28,&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,0,0,0,0,100,100,\
0,0,1,2,0,2,10,10,20,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.20,0:00:00.90,Zh,,0,0,0,,{zh1}
Dialogue: 0,0:00:01.20,0:00:01.80,Zh,,0,0,0,,{zh2}
"""


def _srt(*cues: tuple[int, int, str]) -> str:
    from dubkit.timecode import clock

    return "\n".join(
        f"{n}\n{clock(start)} --> {clock(end)}\n{text}\n"
        for n, (start, end, text) in enumerate(cues, start=1)
    )


@pytest.fixture(scope="module")
def programme(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 2 s 640x360 test card (10 fps) with a sine tone and two burned Chinese lines; Urdu
    subtitles for it; the measured boxes of the Chinese; a folder where STEM.ocr.json sits
    beside a copy of the subtitles."""
    import numpy as np

    from dubkit.adapters.render import FontMissing, filter_value, font_file

    for font in ("Noto Nastaliq Urdu", "Noto Sans CJK SC"):
        try:
            font_file(font)
        except FontMissing:
            _missing(f"{font} not installed (Debian fonts-noto-core and fonts-noto-cjk)")
    folder = tmp_path_factory.mktemp("burn")
    script = folder / "zh.ass"
    script.write_text(ZH_ASS.replace("{zh1}", ZH[0]).replace("{zh2}", ZH[1]), encoding="utf-8")
    burned = f"ass=filename={filter_value(str(script))}"
    video = folder / "news.mp4"
    run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", f"testsrc2=size={SIZE[0]}x{SIZE[1]}:rate={FPS}",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(SECONDS),
        "-vf", burned, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18",
        "-pix_fmt", "yuv420p", "-c:a", "aac", video.as_posix(),
    )  # fmt: skip
    # The Chinese alone, on black, at each INSIDE time (zh-1.png, zh-2.png, one ffmpeg): its
    # bright pixels are its box.
    frames = "+".join(f"eq(n,{round(at * FPS)})" for at in INSIDE)
    run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", f"color=black:s={SIZE[0]}x{SIZE[1]}:r={FPS}:d={SECONDS}",
        "-vf", f"select='{frames}',{burned}", "-fps_mode", "passthrough",
        (folder / "zh-%d.png").as_posix(),
    )  # fmt: skip
    boxes = []
    for still in (folder / f"zh-{k}.png" for k in range(1, len(INSIDE) + 1)):
        ys, xs = np.nonzero(frame_rgb(still).max(axis=2) > 60)
        assert len(xs) > 500, "the Chinese line was not drawn"
        boxes.append(
            [int(xs.min()) - PAD, int(ys.min()) - PAD, int(xs.max()) + PAD, int(ys.max()) + PAD]
        )
    srt = folder / "news.ur.srt"
    srt.write_text(
        _srt((*ZH_SPANS[0], LINE_1), (*ZH_SPANS[1], LINE_2)), encoding="utf-8"
    )  # fmt: skip
    with_ocr = folder / "with-ocr"
    with_ocr.mkdir()
    (with_ocr / srt.name).write_bytes(srt.read_bytes())
    geometry = {
        "media": str(video), "fps": float(FPS), "frame_size": list(SIZE),
        "band": {"y0": BAND[0], "y1": BAND[1]},
        "cues": [
            {"index": n, "start_ms": start, "end_ms": end, "zh": zh, "en": "",
             "confidence": 0.98, "cover": box, "flags": [], "readings": []}
            for n, ((start, end), zh, box)
            in enumerate(zip(ZH_SPANS, ZH, boxes, strict=True), start=1)
        ],
    }  # fmt: skip
    (with_ocr / "news.ocr.json").write_text(json.dumps(geometry, ensure_ascii=False))
    return {"video": video, "srt": srt, "boxes": boxes, "with_ocr": with_ocr, "folder": folder}


def _burn(*args: str | Path) -> Any:
    return runner.invoke(app, ["burn", *map(str, args)])


def _changed(a: Any, b: Any) -> Any:
    """Mask of pixels that differ clearly (more than coding noise) between two frames."""
    import numpy as np

    return np.abs(a - b).max(axis=2) > 40


# Encoding the test card again at the default quality moves its sharp edges by more than the
# threshold here and there: the tests that compare pixels encode losslessly (--crf 0), where
# nothing but the subtitles changes.


@pytest.mark.slow
def test_burn_keeps_the_frames_and_the_sound_and_centres_the_urdu(
    programme: dict[str, Any], ffmpeg: str, tmp_path: Path
) -> None:
    import numpy as np

    out = tmp_path / "deliver" / "news.ur.mp4"
    result = _burn(programme["video"], programme["srt"], "-o", out, "--crf", "0")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    assert "━" not in result.stderr and "\x1b[" not in result.stderr  # no bar off a terminal
    assert os.listdir(out.parent) == [out.name], "no temporary file left"
    frames, duration, sound = probe_av(ffmpeg, out)
    source_frames, source_duration, source_sound = probe_av(ffmpeg, programme["video"])
    assert frames == source_frames == SECONDS * FPS
    assert abs(duration - source_duration) < 0.05
    assert sound == source_sound and sound.startswith("MD5="), "the sound is copied untouched"
    for at in INSIDE:
        changed = _changed(frame_rgb(out, at), frame_rgb(programme["video"], at))
        third = SIZE[1] * 2 // 3
        assert changed[third:].sum() > 300, f"no Urdu at {at} s"
        assert changed[:third].sum() == 0, "nothing drawn above the bottom third"
        # bottom-centre (ASS alignment 2): the Urdu's columns are centred on the frame
        xs = np.nonzero(changed.any(axis=0))[0]
        assert abs((xs.min() + xs.max()) / 2 - SIZE[0] / 2) < 4, (xs.min(), xs.max())
    assert _changed(frame_rgb(out, BETWEEN), frame_rgb(programme["video"], BETWEEN)).sum() == 0, (
        "between cues"
    )


@pytest.mark.slow
def test_cover_burned_hides_the_chinese_and_puts_the_urdu_in_its_place(
    programme: dict[str, Any], ffmpeg: str, tmp_path: Path
) -> None:
    import numpy as np

    from dubkit.adapters.ocr import _engine

    ocr = _engine()  # the reader `dubkit ocr` uses (once per process: its set-up takes a second)
    out = tmp_path / "covered.mp4"
    subs = programme["with_ocr"] / "news.ur.srt"  # news.ocr.json beside it, found by default
    result = _burn(programme["video"], subs, "-o", out, "--cover-burned", "--crf", "0")
    assert result.exit_code == 0, result.output
    assert "2 burned cue(s) covered" in result.stderr

    def read(rgb: Any) -> str:  # the lowest 120 rows, as the OCR takes them (bgr bytes)
        return "".join(ocr(np.ascontiguousarray(rgb[-120:, :, ::-1], np.uint8)).txts or ())

    for at, zh, (x0, y0, x1, y1) in zip(INSIDE, ZH, programme["boxes"], strict=True):
        frame, source = frame_rgb(out, at), frame_rgb(programme["video"], at)
        read_before, read_after = read(source), read(frame)
        assert sum(c in read_before for c in zh) >= len(zh) - 1, read_before
        assert not any("\u4e00" <= c <= "\u9fff" for c in read_after), read_after
        box = np.zeros(frame.shape[:2], bool)
        box[y0 : y1 + 1, x0 : x1 + 1] = True
        # Nastaliq is taller than Chinese: the Urdu's outline may reach a little past a tight box
        near = np.zeros_like(box)
        near[y0 - 8 : y1 + 9, x0 - 8 : x1 + 9] = True
        assert _changed(frame, source)[~near].sum() == 0, "away from the cover nothing changed"
        inside = frame[box].reshape(-1, 3)
        text = inside.min(axis=1) > 120  # the white Urdu on the black box
        dark = inside.max(axis=1) < 40
        assert text.sum() > 60, f"no Urdu inside the cover at {at} s"
        assert dark.sum() > 0.5 * len(inside), "the cover is opaque"
        ys, xs = np.nonzero(box & (frame.min(axis=2) > 120))
        assert abs(xs.mean() - (x0 + x1) / 2) < 12 and abs(ys.mean() - (y0 + y1) / 2) < 8


@pytest.mark.slow
def test_an_urdu_line_wider_than_the_cover_sits_on_its_own_box(
    programme: dict[str, Any], tmp_path: Path
) -> None:
    """A line placed on a cover keeps an opaque box behind its own text: where it runs past
    the burned text's box, the picture is hidden there too, never drawn over."""
    import shutil

    folder = tmp_path / "wide"
    folder.mkdir()
    shutil.copy(programme["with_ocr"] / "news.ocr.json", folder / "news.ocr.json")
    long_line = normalise(
        "چین پاکستان اقتصادی راہداری کے تحت گوادر بندرگاہ اور شاہراہوں کے نئے منصوبے"
    )
    (folder / "news.ur.srt").write_text(_srt((*ZH_SPANS[0], long_line)), encoding="utf-8")
    out = tmp_path / "wide.mp4"
    result = _burn(programme["video"], folder / "news.ur.srt", "-o", out, "--cover-burned")
    assert result.exit_code == 0, result.output
    x0, y0, x1, y1 = programme["boxes"][0]
    frame, source = frame_rgb(out, INSIDE[0]), frame_rgb(programme["video"], INSIDE[0])
    middle = (y0 + y1) // 2
    for columns in (slice(x0 - 24, x0 - 6), slice(x1 + 6, x1 + 24)):  # beside the cover
        shown, was = (
            frame[middle - 2 : middle + 3, columns],
            source[middle - 2 : middle + 3, columns],
        )
        assert (was.max(axis=2) - was.min(axis=2) > 100).mean() > 0.9  # colour bars there
        # the black box or the white text (grey at its edges): no colour of the card left
        covered = shown.max(axis=2) - shown.min(axis=2) < 60
        assert covered.mean() > 0.95, "the Urdu ran over the picture"


@pytest.mark.slow
def test_known_geometry_puts_the_urdu_above_the_burned_band(
    programme: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "above.mp4"
    subs = programme["with_ocr"] / "news.ur.srt"
    result = _burn(programme["video"], subs, "-o", out, "--crf", "0")
    assert result.exit_code == 0, result.output
    for at in INSIDE:
        changed = _changed(frame_rgb(out, at), frame_rgb(programme["video"], at))
        assert changed.sum() > 300, f"no Urdu at {at} s"
        assert changed[BAND[0] :].sum() == 0, "nothing drawn on the burned band"


@pytest.mark.slow
def test_a_symlink_planted_at_the_output_is_replaced_not_followed(
    programme: dict[str, Any], tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "out.mp4"
    out.symlink_to(victim)
    result = _burn(programme["video"], programme["srt"], "-o", out, "--crf", "35")
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "keep me\n"
    assert not out.is_symlink() and out.stat().st_size > 1000
    assert sorted(os.listdir(tmp_path)) == ["out.mp4", "victim.txt"]


@pytest.mark.slow
def test_progress_bar_of_frames_only_on_a_terminal(
    programme: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    import dubkit.cli.console

    def terminal(stderr: bool = True) -> Console:
        return Console(stderr=stderr, force_terminal=True, width=120, soft_wrap=True)

    monkeypatch.setattr(dubkit.cli.console, "make_console", terminal)
    result = _burn(programme["video"], programme["srt"], "-o", tmp_path / "bar.mp4")
    assert result.exit_code == 0, result.output
    assert "━" in result.stderr
    assert f"{SECONDS * FPS}/{SECONDS * FPS} frames" in result.stderr, result.stderr


def test_subtitles_past_the_end_are_refused_and_nothing_is_written(
    programme: dict[str, Any], tmp_path: Path
) -> None:
    other = tmp_path / "other.ur.srt"
    other.write_text(_srt((1000, 2000, LINE_1), (9000, 10000, LINE_2)), encoding="utf-8")
    out = tmp_path / "out" / "x.mp4"
    line = one_error_line(_burn(programme["video"], other, "-o", out))
    assert "cue 2 starts at 9 s, past the end of" in line
    assert "choose the subtitles of this programme" in line
    assert not out.parent.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--crf", "52"], "--crf 52: choose 0 (lossless) to 51 (worst)"),
        (["--crf", "-1"], "--crf -1: choose 0 (lossless) to 51 (worst)"),
        (["--cover-burned"], "not found — run `dubkit ocr "),
        (["--ocr", "missing.ocr.json"], "missing.ocr.json: no such file"),
        (["--ocr", "bad.ocr.json"], "bad.ocr.json: cues[0].cover: expected [x0, y0, x1, y1]"),
        (["--ocr", "band.ocr.json"], "band.ocr.json: band: expected"),
        (["--ocr", "text.ocr.json"], "text.ocr.json: not JSON"),
        (["--font", "No Such Font"], "font 'No Such Font' is not installed"),
    ],
)
def test_bad_options_are_one_line_and_write_nothing(
    programme: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    message: str,
) -> None:
    good = json.loads((programme["with_ocr"] / "news.ocr.json").read_text())
    bad = {**good, "cues": [{**good["cues"][0], "cover": [10, 20, 5]}]}
    (tmp_path / "bad.ocr.json").write_text(json.dumps(bad))
    (tmp_path / "band.ocr.json").write_text(json.dumps({**good, "band": {"y0": 300, "y1": 900}}))
    (tmp_path / "text.ocr.json").write_text("not json")
    monkeypatch.chdir(tmp_path)
    result = _burn(programme["video"], programme["srt"], "-o", tmp_path / "o.mp4", *extra)
    line = one_error_line(result)
    assert message in line
    assert not (tmp_path / "o.mp4").exists()


def test_a_recording_has_no_picture_to_burn_into(
    programme: dict[str, Any], ffmpeg: str, tmp_path: Path
) -> None:
    wav = tmp_path / "news.wav"
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", "sine=sample_rate=16000", "-t", "2", str(wav))
    line = one_error_line(_burn(wav, programme["srt"], "-o", tmp_path / "o.mp4"))
    assert "news.wav: has no picture to burn subtitles into" in line


def test_help() -> None:
    result = runner.invoke(app, ["burn", "--help"])
    assert result.exit_code == 0
    for option in ("--crf", "--cover-burned", "--ocr", "--output"):
        assert option in result.output


@pytest.mark.parametrize("target", ["copy", "hard link", "--ocr", "default ocr"])
def test_an_output_naming_the_subtitles_or_the_ocr_file_is_refused(
    programme: dict[str, Any], tmp_path: Path, target: str
) -> None:
    import shutil

    subs, ocr = tmp_path / "news.ur.srt", tmp_path / "news.ocr.json"
    shutil.copy(programme["srt"], subs)
    shutil.copy(programme["with_ocr"] / "news.ocr.json", ocr)
    out, extra = {
        "copy": (subs, []),
        "hard link": (tmp_path / "linked.srt", []),
        "--ocr": (ocr, ["--ocr", str(ocr)]),
        "default ocr": (ocr, []),
    }[target]
    if target == "hard link":
        os.link(subs, out)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    line = one_error_line(_burn(programme["video"], subs, "-o", out, *extra))
    assert f"-o {out}: is the" in line and "choose another output file" in line
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before, "nothing written"


@pytest.fixture(scope="module")
def long_programme(ffmpeg: str, programme: dict[str, Any]) -> Path:
    """10 s of 1280x720 at 25 fps: a lossless burn of it takes over 3 s, so it is still
    encoding when stopped. One second encoded, then copied ten times over (the burn decodes
    and encodes all 250 frames all the same)."""
    second, video = programme["folder"] / "second.mp4", programme["folder"] / "long.mp4"
    run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-t", "1",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-pix_fmt", "yuv420p",
        second.as_posix(),
    )  # fmt: skip
    run_ffmpeg(ffmpeg, "-stream_loop", "9", "-i", second.as_posix(), "-c", "copy", str(video))
    return video


def _processes_naming(text: str) -> list[int]:
    """Ids of the processes whose command line holds `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _encoding(folder: Path, prefix: str) -> bool:
    """Whether an ffmpeg is running with the temporary file `folder/PREFIX*.tmp` as its
    output and has written into it (its first frames are encoded)."""
    for temp in folder.glob(f"{prefix}*.tmp"):
        with contextlib.suppress(OSError):  # renamed or removed meanwhile: not encoding
            if temp.stat().st_size > 0 and _processes_naming(str(temp)):
                return True
    return False


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_stopped_burn_stops_ffmpeg_and_leaves_no_temporary_file(
    programme: dict[str, Any], long_programme: Path, tmp_path: Path, signum: str, code: int
) -> None:
    import signal
    import sys
    import time

    folder = tmp_path / "deliver"
    folder.mkdir()
    args = [sys.executable, "-m", "dubkit", "burn", str(long_programme), str(programme["srt"]),
            "-o", str(folder / "long.ur.mp4"), "--crf", "0"]  # fmt: skip
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the signal goes to dubkit alone, never to its ffmpeg
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while not _encoding(folder, ".long.ur.mp4."):  # ffmpeg writing the temp file
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "ffmpeg never started"
            time.sleep(0.02)
        proc.send_signal(getattr(signal, signum))
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = _processes_naming(str(folder))
    for pid in left:  # not to leave them encoding after a failure
        os.kill(pid, signal.SIGKILL)
    assert proc.returncode == code, stderr
    assert left == [], "ffmpeg left running"
    assert os.listdir(folder) == [], "temporary files left"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("codec", "container", "told", "written"),
    [
        ("pcm_s16le", "mov", "pcm_s16le audio is not stored in MP4: encoded to ALAC (lossless)",
         "alac"),
        ("libvorbis", "mkv", "vorbis audio is not stored in MP4: encoded to AAC 256k", "aac"),
    ],
)  # fmt: skip
def test_sound_mp4_cannot_hold_is_encoded_and_said_so(
    programme: dict[str, Any], ffmpeg: str, tmp_path: Path, codec: str, container: str,
    told: str, written: str,
) -> None:  # fmt: skip
    """Lossless sound (PCM, FLAC) is encoded losslessly, every sample kept; lossy sound MP4
    cannot hold is encoded to AAC, the same length."""
    source = tmp_path / f"in.{container}"
    run_ffmpeg(ffmpeg, "-i", str(programme["video"]), "-c:v", "copy", "-c:a", codec,
               str(source))  # fmt: skip
    out = tmp_path / "b2" / "x.mp4"
    result = _burn(source, programme["srt"], "-o", out, "--crf", "35")
    assert result.exit_code == 0, result.output
    assert told in result.stderr, result.stderr
    ffprobe = str(Path(ffmpeg).with_name("ffprobe"))

    def sound(path: Path) -> tuple[float, str]:
        samples = subprocess.run(
            [ffmpeg, "-v", "error", "-i", str(path), "-map", "0:a", "-ac", "1", "-ar", "48000",
             "-f", "s16le", "-"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        return len(samples) / 2 / 48000, hashlib.md5(samples).hexdigest()

    got = subprocess.run(  # the output's codec (the source's is `codec`)
        [ffprobe, "-v", "error", "-select_streams", "a:0",
         "-show_entries", "stream=codec_name", "-of", "csv=p=0", str(out)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (duration, heard), (length, original) = sound(out), sound(source)
    assert got == written
    assert abs(duration - length) < 0.05, (duration, length)
    if written == "alac":
        assert heard == original, "lossless sound keeps every sample"


def test_what_each_sound_codec_is_encoded_to() -> None:
    from dubkit.adapters.render import audio_encoding

    for codec in ("aac", "mp3", "ac3", "eac3", "opus", "alac"):
        assert audio_encoding(codec) is None, codec  # copied
    for codec in ("flac", "pcm_s16le", "pcm_s24le", "pcm_s32be", "pcm_u8", "pcm_s16le_planar"):
        assert audio_encoding(codec) == "alac", codec  # lossless, every sample kept
    for codec in ("vorbis", "pcm_f32le", "pcm_alaw", "wmav2", "pcm_s16le_x"):
        assert audio_encoding(codec) == "aac", codec


def test_ffmpeg_s_reason_is_the_line_that_gives_the_cause() -> None:
    from dubkit.adapters.render import _reason

    stderr = (
        b"[mp4 @ 0x55f2b5df0f40] Could not find tag for codec pcm_s16le in stream #1, codec "
        b"not currently supported in container\n"
        b"Could not write header for output file #0 (incorrect codec parameters ?): Invalid "
        b"argument\nError initializing output stream 0:1 -- \n"
    )
    assert _reason(stderr).startswith("Could not find tag for codec pcm_s16le in stream #1")


@pytest.mark.slow
def test_overlapping_cues_above_the_band_are_stacked_not_drawn_on_each_other(
    programme: dict[str, Any], tmp_path: Path
) -> None:
    import re
    import shutil

    import numpy as np

    from dubkit.episode.burn import plan_burn

    folder = tmp_path / "overlap"
    folder.mkdir()
    shutil.copy(programme["with_ocr"] / "news.ocr.json", folder / "news.ocr.json")
    subs = folder / "news.ur.srt"
    subs.write_text(_srt((200, 1000, LINE_1), (500, 1300, LINE_2)), encoding="utf-8")
    plan = plan_burn(programme["video"], subs, tmp_path / "p.mp4", 0, None, False, None)
    positions = re.findall(r"\\pos\(([\d.]+),([\d.]+)\)", plan.subtitles.ass)
    assert len(positions) == 2 and positions[0] != positions[1], positions
    assert float(positions[1][1]) < float(positions[0][1]), "the later line goes above"
    # both on the first burned cue's cover: stacked there too
    covered = plan_burn(programme["video"], subs, tmp_path / "p.mp4", 0, None, True, None)
    centred = re.findall(r"\\an5\\pos\(([\d.]+),([\d.]+)\)", covered.subtitles.ass)
    assert len(centred) == 2 and float(centred[1][1]) < float(centred[0][1]), centred
    out = tmp_path / "overlap.mp4"
    result = _burn(programme["video"], subs, "-o", out, "--crf", "0")
    assert result.exit_code == 0, result.output
    rows = np.nonzero(
        _changed(frame_rgb(out, 0.8), frame_rgb(programme["video"], 0.8)).any(axis=1)
    )[0]
    assert rows.max() < BAND[0], "nothing drawn on the burned band"
    # two rows of text: a run of untouched rows between the lines
    gaps = np.diff(rows)
    assert gaps.max() > 1, f"the lines overlap: rows {rows.min()}-{rows.max()} all drawn"
    split = rows[int(np.argmax(gaps))]
    assert (rows <= split).sum() > 5 and (rows > split).sum() > 5, rows


@pytest.mark.parametrize("size", [[640, 480], [480, 480]], ids=["4:3", "square"])
def test_geometry_of_a_picture_of_another_shape_is_refused(
    programme: dict[str, Any], tmp_path: Path, size: list[int]
) -> None:
    """An ocr.json read from another programme (another shape of picture than this 16:9
    one) would put the covers in the wrong places: refused in one line, nothing written."""
    doc = json.loads((programme["with_ocr"] / "news.ocr.json").read_text(encoding="utf-8"))
    other = tmp_path / "other.ocr.json"
    other.write_text(json.dumps({**doc, "frame_size": size}), encoding="utf-8")
    out = tmp_path / "out.mp4"
    args = ["--ocr", other, "--cover-burned", "-o", out]
    result = _burn(programme["video"], programme["with_ocr"] / "news.ur.srt", *args)
    assert f"was read from a {size[0]}x{size[1]} picture" in one_error_line(result)
    assert not out.exists()


def test_geometry_of_the_same_shape_at_another_size_is_scaled(
    programme: dict[str, Any], tmp_path: Path
) -> None:
    doc = json.loads((programme["with_ocr"] / "news.ocr.json").read_text(encoding="utf-8"))
    cues = [{**c, "cover": [2 * v for v in c["cover"]]} for c in doc["cues"]]
    double = {**doc, "frame_size": [1280, 720], "band": {"y0": 580, "y1": 700}, "cues": cues}
    other = tmp_path / "double.ocr.json"
    other.write_text(json.dumps(double), encoding="utf-8")
    out = tmp_path / "out.mp4"
    args = ["--ocr", other, "--cover-burned", "-o", out]
    result = _burn(programme["video"], programme["with_ocr"] / "news.ur.srt", *args)
    assert result.exit_code == 0, result.output
    assert "2 burned cue(s) covered" in result.stderr


def test_placement_is_recorded_and_read_the_same_way_with_a_bom() -> None:
    """placement() reads a script that starts with a BOM: with_placement must write there
    too (it found no [Script Info] behind the BOM and recorded nothing)."""
    from dubkit.adapters.render import placement, with_placement

    for start in ("", "\ufeff"):
        script = f"{start}[Script Info]\r\nTitle: x\r\n\r\n[Events]\r\n"
        placed = with_placement(script, "cover")
        assert placement(placed) == "cover", repr(placed)
        assert placement(with_placement(placed, "above-band")) == "above-band"
        assert placed.count("X-Dubkit-Placement") == 1
