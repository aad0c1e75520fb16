"""`dubkit preview`: real ffmpeg and libass burn Urdu subtitles into frames and clips.

Frames are compared with the same frame rendered without subtitles: inside a cue the bottom
third changes and nothing else does; outside a cue the frame is untouched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dubkit.cli import app
from dubkit.text.urdu import normalise
from tests.conftest import _missing, frame_rgb, one_error_line, run_ffmpeg

runner = CliRunner()

NASTALIQ, NASKH = "Noto Nastaliq Urdu", "Noto Naskh Arabic"
# Cue 1 at 1-2 s, cue 2 (two lines) at 3-4 s; the LRM marks around CPEC and 2025 come from
# dubkit.text.urdu.normalise, as in dubkit's own output.
LINE_1 = normalise("چین پاکستان اقتصادی راہداری (CPEC) کے تحت")
LINE_2 = normalise("گوادر بندرگاہ 2025 میں مکمل ہوئی۔")
SRT = (
    f"1\n00:00:01,000 --> 00:00:02,000\n{LINE_1}\n\n"
    f"2\n00:00:03,000 --> 00:00:04,000\n{LINE_1}\n{LINE_2}\n"
)
VTT = (
    f"WEBVTT\n\n00:01.000 --> 00:02.000\n{LINE_1}\n\n00:03.000 --> 00:04.000\n{LINE_1}\n{LINE_2}\n"
)
INSIDE, OUTSIDE = (1.5, 3.5), (0.5, 2.5, 5.0)
# A folder name with everything ffmpeg's filter graph treats specially.
ODD = "odd dir, it's [1]; a=b:c"


@pytest.fixture(scope="module")
def programme(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 6 s test-card video (10 fps) with sound, a 6 s recording, and Urdu subtitles for
    both."""
    from dubkit.adapters.render import FontMissing, font_file

    for font in (NASTALIQ, NASKH):
        try:
            font_file(font)
        except FontMissing:
            _missing(f"{font} not installed (scripts/bootstrap.sh installs fonts-noto-core)")
    folder = tmp_path_factory.mktemp("preview") / ODD
    folder.mkdir()
    video, wav = folder / "news, take 1.mp4", folder / "news 'radio'.wav"
    # One ffmpeg for both files. The fastest x264 preset with a keyframe a second: the
    # frames are only ever compared with frames of the same file, and each seek decodes at
    # most a second of pictures. 10 frames a second: every time looked at (cue edges, INSIDE,
    # OUTSIDE, clip starts) is a frame's, and each picture rendered or decoded costs less.
    run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", "testsrc=size=640x360:rate=10",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "6",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-pix_fmt", "yuv420p",
        "-c:a", "aac", video.as_posix(), "-map", "1:a", "-t", "6", wav.as_posix(),
    )  # fmt: skip
    srt = folder / "news, take 1.ur.srt"
    srt.write_text(SRT, encoding="utf-8")
    vtt = folder / "news.ur.vtt"
    vtt.write_text(VTT, encoding="utf-8")
    ass = folder / "news.ur.ass"  # ffmpeg's conversion: style Default in Arial
    run_ffmpeg(ffmpeg, "-i", srt.as_posix(), ass.as_posix())
    return {"video": video, "wav": wav, "srt": srt, "vtt": vtt, "ass": ass, "folder": folder}


def _preview(*args: str | Path) -> Any:
    return runner.invoke(app, ["preview", *map(str, args)])


def _written(result: Any) -> list[Path]:
    assert result.exit_code == 0, result.output
    return [Path(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def plain(
    programme: dict[str, Path], ffmpeg: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[float, Any]:
    """The video's frame at each time the tests look at, straight from ffmpeg without any
    subtitles: `-ss AT -i VIDEO -frames:v 1 OUT.png` for every time, in one ffmpeg."""
    times = sorted({*INSIDE, *OUTSIDE})
    folder = tmp_path_factory.mktemp("plain")
    inputs = [a for at in times for a in ("-ss", f"{at:.3f}", "-i", programme["video"].as_posix())]
    outputs = [
        a
        for n, at in enumerate(times)
        for a in ("-map", f"{n}:v:0", "-frames:v", "1", (folder / f"plain-{at}.png").as_posix())
    ]
    run_ffmpeg(ffmpeg, *inputs, *outputs)
    return {at: frame_rgb(folder / f"plain-{at}.png") for at in times}


@pytest.fixture(scope="module")
def recording_frames(programme: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`dubkit preview RECORDING SUBTITLES` with no options (a frame at the middle of each
    cue) for the SRT, WebVTT or ASS subtitles: rendered once for the module, on first use."""
    done: dict[str, list[Path]] = {}

    def frames(kind: str) -> list[Path]:
        if kind not in done:
            out = tmp_path_factory.mktemp(f"recording-{kind}")
            done[kind] = _written(_preview(programme["wav"], programme[kind], "-o", out))
        return done[kind]

    return frames


def _frames_at(path: Path, times: list[float]) -> list[Any]:
    """frame_rgb(path, at) for each of `times` (ascending), decoding the video once."""
    import av

    found: list[Any] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            while len(found) < len(times) and frame.time >= times[len(found)]:
                found.append(frame.to_ndarray(format="rgb24").astype(int))
            if len(found) == len(times):
                return found
    raise AssertionError(f"{path}: no frame at {times[len(found)]}")


def _changed(a: Any, b: Any) -> Any:
    """Mask of pixels that differ clearly (more than video noise) between two frames."""
    import numpy as np

    return np.abs(a - b).max(axis=2) > 40


def _text_pixels(frame: Any) -> int:
    """Near-white pixels: the subtitle text (white, outlined) on the dark background."""
    return int((frame.min(axis=2) > 200).sum())


def test_frames_change_in_the_subtitle_area_only_inside_cues(
    programme: dict[str, Path], plain: dict[float, Any]
) -> None:
    times = [*INSIDE, *OUTSIDE]
    out = programme["folder"] / "out, 1"
    result = _preview(
        programme["video"], programme["srt"], "-o", out, *[a for t in times for a in ("--at", t)]
    )
    files = _written(result)
    assert [f.name for f in files] == [f"news, take 1.preview.{n:04d}.png" for n in range(1, 6)]
    for at, file in zip(times, files, strict=True):
        frame = frame_rgb(file)
        assert frame.shape == plain[at].shape == (360, 640, 3)
        changed = _changed(frame, plain[at])
        third = frame.shape[0] * 2 // 3
        if at in INSIDE:
            assert changed[third:].sum() > 500, f"no subtitle at {at} s"
            assert changed[:third].sum() == 0, f"pixels above the bottom third changed at {at} s"
        else:
            assert abs(frame - plain[at]).max() <= 2, f"frame at {at} s is not the plain frame"
    assert sorted(p.name for p in out.iterdir()) == sorted(f.name for f in files)


def test_default_frames_are_at_the_middle_of_each_cue(
    programme: dict[str, Path], plain: dict[float, Any], tmp_path: Path
) -> None:
    files = _written(_preview(programme["video"], programme["srt"], "-o", tmp_path / "out"))
    assert [f.name for f in files] == [
        "news, take 1.preview.0001.png",
        "news, take 1.preview.0002.png",
    ]
    for at, file in zip(INSIDE, files, strict=True):
        assert _changed(frame_rgb(file), plain[at])[240:].sum() > 500
    one = _written(
        _preview(programme["video"], programme["srt"], "-o", tmp_path / "one", "--count", "1")
    )
    assert [f.name for f in one] == ["news, take 1.preview.0001.png"]


def test_a_recording_gets_a_dark_background_with_the_text(
    programme: dict[str, Path], recording_frames: Any, tmp_path: Path
) -> None:
    files = _written(_preview(programme["wav"], programme["srt"], "-o", tmp_path, "--at", "2.5"))
    # the frame at 1.5 s, inside cue 1: the first of the frames at the middle of each cue
    inside, outside = frame_rgb(recording_frames("srt")[0]), frame_rgb(files[0])
    assert inside.shape == (720, 1280, 3)
    assert (outside == 0x20).all(), "the background outside cues is plain 0x202020"
    assert (inside[:480] == 0x20).all(), "nothing drawn above the bottom third"
    assert _text_pixels(inside[480:]) > 500  # one line in the shipped style: about 900
    # bottom-centre (ASS alignment 2): the line's ink is centred on the frame
    columns = (inside != 0x20).any(axis=2).any(axis=0).nonzero()[0]
    assert abs((columns.min() + columns.max()) / 2 - 640) < 4, (columns.min(), columns.max())
    small = _written(
        _preview(
            programme["wav"],
            programme["srt"],
            "-o",
            tmp_path / "small",
            "--at",
            "3.5",
            "--size",
            "640x360",
        )
    )
    frame = frame_rgb(small[0])
    assert frame.shape == (360, 640, 3)
    assert _text_pixels(frame[240:]) > 100  # two lines of 21 px Nastaliq: about 170


def test_the_font_asked_for_is_the_one_drawn(
    programme: dict[str, Path], recording_frames: Any, tmp_path: Path
) -> None:
    """Nastaliq and Naskh give different pictures: the font is honoured, not a fallback."""
    frames = {}
    for font in (NASTALIQ, NASKH):
        files = _written(
            _preview(
                programme["wav"],
                programme["srt"],
                "-o",
                tmp_path / font,
                "--at",
                "3.5",
                "--font",
                font,
            )
        )
        frames[font] = frame_rgb(files[0])
        assert _text_pixels(frames[font][480:]) > 1000
    assert _changed(frames[NASTALIQ], frames[NASKH]).sum() > 2000
    default = recording_frames("srt")[1]  # no --font; at 3.5 s, the middle of cue 2
    assert (frame_rgb(default) == frames[NASTALIQ]).all(), "Nastaliq is the default"


def test_clip_keeps_the_programme_time(programme: dict[str, Path], tmp_path: Path) -> None:
    """A clip from 0.5 s: cue 1 (1-2 s) shows 0.5-1.5 s into the clip, and only then."""
    import av

    files = _written(
        _preview(programme["wav"], programme["srt"], "-o", tmp_path, "--clip", "0.5:2")
    )
    assert [f.name for f in files] == ["news 'radio'.preview.mp4"]
    with av.open(str(files[0])) as container:
        assert container.streams.audio, "the recording's sound is in the clip"
        assert container.duration is not None
        assert abs(container.duration / 1_000_000 - 2.0) < 0.15
    before, during, after = _frames_at(files[0], [0.2, 1.0, 1.8])
    assert _text_pixels(during[480:]) > 500  # one line
    assert _text_pixels(before) == 0
    assert _text_pixels(after) == 0

    # a still and a clip from one call; half a second of clip shows its size and sound
    both = _written(
        _preview(
            programme["video"],
            programme["srt"],
            "-o",
            tmp_path / "v",
            "--clip",
            "3:0.5",
            "--at",
            "3.5",
        )
    )
    assert [f.name for f in both] == ["news, take 1.preview.0001.png", "news, take 1.preview.mp4"]
    with av.open(str(both[1])) as container:
        assert container.streams.video[0].codec_context.width == 640
        assert container.streams.audio


@pytest.mark.parametrize("kind", ["vtt", "ass"])
def test_webvtt_and_ass_subtitles(recording_frames: Any, kind: str) -> None:
    files = recording_frames(kind)
    assert len(files) == 2, "a frame at the middle of each of the two cues"
    for file in files:
        assert _text_pixels(frame_rgb(file)[480:]) > 300
    srt_frames = recording_frames("srt")
    same_style = (frame_rgb(files[0]) == frame_rgb(srt_frames[0])).all()
    # WebVTT gets dubkit's style like SRT; an ASS script keeps its own (Arial, small).
    assert same_style if kind == "vtt" else not same_style


def test_ass_font_is_replaced_when_asked(
    programme: dict[str, Path], recording_frames: Any, tmp_path: Path
) -> None:
    own = recording_frames("ass")
    args: list[str | Path] = ["-o", tmp_path / "forced", "--font", NASKH, "--count", "1"]
    forced = _written(_preview(programme["wav"], programme["ass"], *args))
    assert len(forced) == 1  # the frame at the middle of cue 1, the one compared
    assert _changed(frame_rgb(own[0]), frame_rgb(forced[0])).sum() > 500


@pytest.mark.parametrize(
    ("media", "subtitles", "extra", "message"),
    [
        ("video", "missing.srt", [], "missing.srt: no such file"),
        ("video", "empty.srt", [], "empty.srt: no cues"),
        ("video", "blank.srt", [], "blank.srt: no cues"),
        ("video", "damaged.srt", [], "damaged.srt:2: unreadable timing line"),
        ("video", "bad.vtt", [], "bad.vtt: no cues"),
        ("video", "notes.txt", [], "notes.txt: not a subtitle file"),
        ("corrupt.mp4", "srt", [], "corrupt.mp4: cannot read as media"),
        ("missing.mp4", "srt", [], "missing.mp4: no such file"),
        ("video", "srt", ["--font", "No Such Font"], "font 'No Such Font' is not installed"),
        ("video", "srt", ["--font", "Noto, Sans"], "--font 'Noto, Sans': name a font family"),
        ("video", "srt", ["--at", "7"], "--at 7 s is past the end of"),
        ("video", "srt", ["--clip", "6.5:2"], "--clip start 6.5 s is past the end"),
        ("video", "srt", ["--clip", "1"], "--clip '1': write START:DURATION"),
        ("video", "srt", ["--clip", "1:0"], "the duration must be more than 0"),
        ("video", "srt", ["--size", "big"], "--size 'big': write WIDTHxHEIGHT"),
        ("video", "srt", ["--size", "641x360"], "sides must be even numbers"),
        ("video", "srt", ["--cover-burned"], "first, or name the file with --ocr"),
        ("wav", "srt", ["--cover-burned"], "has no picture with subtitles to cover"),
        ("video", "srt", ["--ocr", "no.ocr.json"], "no.ocr.json: no such file"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    programme: dict[str, Path],
    tmp_path: Path,
    media: str,
    subtitles: str,
    extra: list[str],
    message: str,
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "empty.srt").write_bytes(b"")
    (inputs / "blank.srt").write_text("\ufeff\n\n  \n", encoding="utf-8")
    (inputs / "damaged.srt").write_text("1\n00:00:01,000 -> 0:0\nسلام\n", encoding="utf-8")
    (inputs / "bad.vtt").write_text("not a WebVTT file\n", encoding="utf-8")
    (inputs / "notes.txt").write_text(SRT, encoding="utf-8")
    (inputs / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 16)
    media_path = programme.get(media, inputs / media)
    subs_path = programme.get(subtitles, inputs / subtitles)
    out = tmp_path / "out"
    line = one_error_line(_preview(media_path, subs_path, "-o", out, *extra))
    assert message in line
    assert not out.exists()


def _geometry(folder: Path, box: list[int], band: tuple[int, int] = (280, 350)) -> Path:
    """An ocr.json as the OCR stage writes it: one burned cue, at 1-2 s, in `box`."""
    cue = {"index": 1, "start_ms": 1000, "end_ms": 2000, "zh": "中巴经济走廊", "en": "",
           "confidence": 0.98, "cover": box, "flags": [], "readings": []}  # fmt: skip
    doc = {"media": "x.mp4", "fps": 25.0, "frame_size": [640, 360],
           "band": {"y0": band[0], "y1": band[1]}, "cues": [cue]}  # fmt: skip
    path = folder / "burned.ocr.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("size", [None, "1280x720"])
def test_cover_burned_draws_an_opaque_box_with_the_urdu_in_it(
    programme: dict[str, Path], plain: dict[float, Any], tmp_path: Path, size: str | None
) -> None:
    """The burned cue's box (scaled to the frame) is covered at 1-2 s with the Urdu centred
    in it; at 3-4 s no burned cue is on screen: no box, and the Urdu sits above the band."""
    import numpy as np

    scale = 2 if size else 1
    ocr = _geometry(tmp_path, [200, 290, 440, 340])
    args = ["--at", "1.5", "--at", "3.5", "--cover-burned", "--ocr", str(ocr)]
    args += ["--size", size] if size else []
    files = _written(_preview(programme["video"], programme["srt"], "-o", tmp_path / "o", *args))
    frame = frame_rgb(files[0])
    x0, y0, x1, y1 = (v * scale for v in (200, 290, 440, 340))
    box = np.zeros(frame.shape[:2], bool)
    box[y0:y1, x0:x1] = True
    inside = frame[box]
    assert (inside.max(axis=1) < 40).mean() > 0.7, "the box is opaque and dark"
    assert (inside.min(axis=1) > 180).sum() > 40 * scale, "the Urdu is drawn in the box"
    ys, xs = np.nonzero(box & (frame.min(axis=2) > 180))
    assert abs(xs.mean() - (x0 + x1) / 2) < 15 * scale
    assert abs(ys.mean() - (y0 + y1) / 2) < 8 * scale
    if size is None:  # the frame's own size: compare with the plain frames
        assert _changed(frame, plain[1.5])[~box].sum() == 0, "nothing changed outside the box"
        later = frame_rgb(files[1])
        changed = _changed(later, plain[3.5])
        assert changed.sum() > 300 and changed[280:].sum() == 0, "above the band, no box"


def test_known_geometry_keeps_the_urdu_above_the_band(
    programme: dict[str, Path], plain: dict[float, Any], tmp_path: Path
) -> None:
    ocr = _geometry(tmp_path, [200, 290, 440, 340], band=(250, 350))
    args = ["--at", "3.5", "--ocr", str(ocr)]
    files = _written(_preview(programme["video"], programme["srt"], "-o", tmp_path / "o", *args))
    changed = _changed(frame_rgb(files[0]), plain[3.5])
    assert changed.sum() > 500, "two lines of Urdu"
    assert changed[250:].sum() == 0, "nothing on the burned band"


def test_nothing_is_left_when_rendering_fails_part_way(
    programme: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dubkit.adapters import render

    real_run, calls = render._run, []

    def second_fails(*args: Any) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise render.RenderError("ffmpeg could not render the frame: simulated")
        real_run(*args)

    monkeypatch.setattr(render, "_run", second_fails)
    line = one_error_line(
        _preview(programme["wav"], programme["srt"], "-o", tmp_path, "--at", "1.5", "--at", "3.5")
    )
    assert "simulated" in line
    assert list(tmp_path.iterdir()) == [], "no frame and no temporary folder left behind"


def test_missing_ffmpeg_names_the_fix(
    programme: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dubkit.adapters import render

    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    line = one_error_line(_preview(programme["wav"], programme["srt"], "-o", tmp_path / "out"))
    assert line == "error: ffmpeg not found; run scripts/bootstrap.sh or apt-get install ffmpeg"


def test_filter_values_survive_both_escaping_levels() -> None:
    from dubkit.adapters.render import filter_value

    assert filter_value("/tmp/a b/c.ass") == "/tmp/a b/c.ass"
    assert filter_value("/x/a, it's [1]; b:c\\d") == (
        "/x/a\\, it\\\\\\'s \\[1\\]\\; b\\\\:c\\\\\\\\d"
    )


def test_ffmpeg_errors_keep_the_line_that_says_why() -> None:
    from dubkit.adapters.render import _reason

    stderr = (
        b"[Parsed_ass_0 @ 0x56139e320940] Could not create a libass track when reading file "
        b"'/nope.ass'\n"
        b"[AVFilterGraph @ 0x56139e31fe40] Error initializing filter 'ass' with args 'x'\n"
        b"Error reinitializing filters!\n"
        b"Failed to inject frame into filter network: Invalid argument\n"
        b"Error while processing the decoded data for stream #0:0\n"
        b"Conversion failed!\n"
    )
    assert _reason(stderr) == "Could not create a libass track when reading file '/nope.ass'"
    assert _reason(b"[image2 @ 0x5] Could not open file : /x.png\n"
                   b"av_interleaved_write_frame(): Input/output error\n") == (
        "Could not open file : /x.png"
    )  # fmt: skip
    assert _reason(b"Conversion failed!\n") == "Conversion failed!"
    assert _reason(b"") == "no message"


def test_font_replacement() -> None:
    from dubkit.adapters.render import set_style_font

    script = (
        "[V4+ Styles]\nFormat: Name, Fontname, Fontsize\nStyle: Default,Arial,16\n"
        "Style: Sign,Arial,12\n\n[Events]\nFormat: Layer, Start, End, Style, Text\n"
        "Dialogue: 0,0:00:01.00,0:00:02.50,Default,سلام, دنیا\n"
        "Comment: 0,0:00:03.00,0:00:04.00,Default,not shown\n"
        "Dialogue: 0,1:02:03.04,1:02:04.00,Default,{\\an8}ٹی وی\n"
    )
    replaced = set_style_font(script, NASKH)
    assert "Style: Default,Noto Naskh Arabic,16" in replaced
    assert "Style: Sign,Noto Naskh Arabic,12" in replaced
    assert "Dialogue: 0,0:00:01.00,0:00:02.50,Default,سلام, دنیا" in replaced


def test_help() -> None:
    result = runner.invoke(app, ["preview", "--help"])
    assert result.exit_code == 0
    assert "--clip" in result.output and "--font" in result.output
