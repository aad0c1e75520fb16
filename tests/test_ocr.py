"""`dubkit ocr`: subtitles burned by libass into generated video (moving background, outline
and box styles, with and without an English line, gaps) read back and timed by frame; the
pure logic of `dubkit.burned` on plain data."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dubkit.burned.band import find_band, parse_band, sample_times
from dubkit.burned.cues import (
    LOW_CONFIDENCE_FLAG,
    build_cues,
    change_index,
    looks_truncated,
    mask_distance,
    spread,
    vote,
)
from dubkit.burned.lines import read_frame, script_of
from dubkit.burned.records import Band, Box, BurnedCue, Reading, Shot
from dubkit.cli.root import app
from dubkit.errors import ConfigError
from tests.conftest import run_ffmpeg
from tests.scoring import char_errors

runner = CliRunner()
FPS = 25
MAX_CER = 0.02
MAX_FRAMES_OFF = 2

_HEADER = """[Script Info]
ScriptType: v4.00+
PlayResX: {w}
PlayResY: {h}
WrapStyle: 2
ScaledBorderAndShadow: yes

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, \
Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Outline,Noto Sans CJK SC,{fs},&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,0,0,0,0,100,\
100,0,0,1,{bord},0,2,10,10,{mv},1
Style: Box,Noto Sans CJK SC,{fs},&H00FFFFFF,&H00FFFFFF,&H80000000,&H80000000,0,0,0,0,100,100,0,\
0,3,{bord},0,2,10,10,{mv},1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
"""


class Burned:
    """One burned subtitle: seconds, style, Chinese, English ('' for none), ASS tags."""

    def __init__(
        self, start: float, end: float, style: str, zh: str, en: str = "", tags: str = ""
    ) -> None:
        self.start, self.end, self.style, self.zh, self.en, self.tags = (
            start, end, style, zh, en, tags,
        )  # fmt: skip

    def line(self) -> str:
        text = self.zh + (rf"\N{self.en}" if self.en else "")
        tags = "{" + self.tags + "}" if self.tags else ""
        return (
            f"Dialogue: 0,{_ass_time(self.start)},{_ass_time(self.end)},{self.style},,0,0,0,,"
            f"{tags}{text}\n"
        )

    @property
    def first_ms(self) -> int:
        """The time of the first frame libass shows it on (start <= t)."""
        return math.ceil(round(self.start * FPS, 6)) * 1000 // FPS

    @property
    def after_ms(self) -> int:
        return math.ceil(round(self.end * FPS, 6)) * 1000 // FPS


def _ass_time(seconds: float) -> str:
    cs = round(seconds * 100)
    return f"0:{cs // 6000:02d}:{cs % 6000 // 100:02d}.{cs % 100:02d}"


def _burn(
    ffmpeg: str, folder: Path, name: str, size: tuple[int, int], seconds: float,
    events: Sequence[Burned],
) -> Path:  # fmt: skip
    w, h = size
    scale = h / 360
    ass = folder / f"{name}.ass"
    ass.write_text(
        _HEADER.format(w=w, h=h, fs=round(26 * scale), bord=round(2 * scale), mv=round(16 * scale))
        + "".join(e.line() for e in events),
        encoding="utf-8",
    )
    out = folder / f"{name}.mp4"
    run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate={FPS}", "-t", str(seconds),
        "-vf", f"ass={ass.name}", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20",
        "-pix_fmt", "yuv420p", out.name,
    )  # fmt: skip
    return out


def _in(folder: Path, fn: Any) -> Any:
    import os

    old = os.getcwd()
    os.chdir(folder)  # the ass filter's path stays free of ffmpeg filter escaping
    try:
        return fn()
    finally:
        os.chdir(old)


CLIPPED = r"\clip(0,0,640,332)"  # the lower part of the glyphs cut off: a hard read
EVENTS_640 = (
    Burned(0.40, 2.00, "Outline", "中巴经济走廊", "China-Pakistan Economic Corridor"),
    Burned(2.00, 3.20, "Outline", "瓜达尔港建设顺利推进"),
    # 3.20-4.00: the band is empty
    Burned(4.00, 5.60, "Box", "两国人民友谊源远流长", "Friendship between the two peoples"),
    # 5.60-6.20: empty
    Burned(6.20, 7.40, "Outline", "瓜达尔港建设顺利推进", tags=CLIPPED),
)
EVENTS_1080 = (
    Burned(0.52, 2.04, "Box", "新时代中国特色社会主义", "Socialism with Chinese characteristics"),
    Burned(2.04, 3.48, "Outline", "共建一带一路合作倡议"),
)


def _ocr(media: Path, outdir: Path, *extra: str) -> tuple[Any, dict[str, Any]]:
    result = runner.invoke(app, ["ocr", str(media), "-o", str(outdir), *extra])
    assert result.exit_code == 0, result.output
    doc = json.loads((outdir / f"{media.stem}.ocr.json").read_text(encoding="utf-8"))
    return result, doc


def _burn_and_read(
    ffmpeg: str, folder: Path, name: str, size: tuple[int, int], seconds: float,
    events: Sequence[Burned],
) -> tuple[Path, dict[str, Any]]:  # fmt: skip
    """Burn `events` into a generated video, read it with `dubkit ocr`: the output folder and
    STEM.ocr.json."""
    media = _in(folder, lambda: _burn(ffmpeg, folder, name, size, seconds, events))
    _result, doc = _ocr(media, folder / "out")
    return folder / "out", doc


@pytest.fixture(scope="module")
def read_640(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("ocr640")
    return _burn_and_read(ffmpeg, folder, "news", (640, 360), 8.0, EVENTS_640)


@pytest.fixture(scope="module")
def read_1080(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("ocr1080")
    return _burn_and_read(ffmpeg, folder, "hd", (1920, 1080), 4.0, EVENTS_1080)


def _check_read(doc: dict[str, Any], events: Sequence[Burned]) -> list[tuple[str, float, int]]:
    """Each burned subtitle read back as one cue: CER and frames off; returns them."""
    cues = doc["cues"]
    assert len(cues) == len(events), [c["zh"] for c in cues]
    measured = []
    for event, cue in zip(events, cues, strict=True):
        off = max(abs(cue["start_ms"] - event.first_ms), abs(cue["end_ms"] - event.after_ms))
        frames = round(off * FPS / 1000)
        assert frames <= MAX_FRAMES_OFF, (event.zh, cue["start_ms"], cue["end_ms"])
        if event.tags == CLIPPED:
            assert LOW_CONFIDENCE_FLAG in cue["flags"], cue
            continue
        assert cue["flags"] == [], cue
        cer = char_errors(event.zh, cue["zh"]).cer
        assert cer <= MAX_CER, (event.zh, cue["zh"])
        en_cer = char_errors(event.en, cue["en"]).cer if event.en else float(bool(cue["en"]))
        assert en_cer <= MAX_CER, (event.en, cue["en"])
        measured.append((event.zh, cer, frames))
    return measured


@pytest.mark.slow
def test_reads_640_outline_and_box_with_gaps(read_640: tuple[Path, dict[str, Any]]) -> None:
    _out, doc = read_640
    measured = _check_read(doc, EVENTS_640)
    assert len(measured) == 3
    assert doc["fps"] == FPS and doc["frame_size"] == [640, 360]
    assert 360 * 0.6 <= doc["band"]["y0"] < doc["band"]["y1"] <= 360
    y0, y1 = (int(v) for v in BAND_640.split(":"))  # the band the other 640 tests give
    assert y0 <= doc["band"]["y0"] and doc["band"]["y1"] <= y1


@pytest.mark.slow
def test_reads_1080(read_1080: tuple[Path, dict[str, Any]]) -> None:
    _out, doc = read_1080
    _check_read(doc, EVENTS_1080)
    assert doc["frame_size"] == [1920, 1080]
    assert 1080 * 0.6 <= doc["band"]["y0"] < doc["band"]["y1"] <= 1080


@pytest.mark.slow
def test_empty_band_gives_no_cue(read_640: tuple[Path, dict[str, Any]]) -> None:
    _out, doc = read_640
    for gap in ((3200, 4000), (5600, 6200), (0, 400), (7400, 8000)):
        for cue in doc["cues"]:
            overlap = min(gap[1], cue["end_ms"]) - max(gap[0], cue["start_ms"])
            assert overlap <= MAX_FRAMES_OFF * 1000 // FPS, (gap, cue["zh"])


@pytest.mark.slow
def test_english_goes_to_its_own_srt(read_640: tuple[Path, dict[str, Any]]) -> None:
    out, doc = read_640
    zh = (out / "news.zh.srt").read_text(encoding="utf-8")
    en = (out / "news.en.srt").read_text(encoding="utf-8")
    assert "China-Pakistan Economic Corridor" in en and "Friendship" in en
    assert "中巴经济走廊" in zh and "China" not in zh
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en)
    with_en = [c for c in doc["cues"] if c["en"]]
    assert len(with_en) == 2
    stamps = [ln for ln in en.splitlines() if "-->" in ln]
    assert len(stamps) == 2 and all(s in zh for s in stamps)  # the same cue timing


@pytest.mark.slow
def test_json_schema(read_640: tuple[Path, dict[str, Any]]) -> None:
    _out, doc = read_640
    assert set(doc) == {"media", "fps", "frame_size", "band", "warnings", "cues", "written"}
    assert sorted(doc["written"]) == ["news.en.srt", "news.zh.srt"]  # their sha256s
    assert doc["warnings"] == []
    assert doc["media"].endswith("news.mp4")
    assert set(doc["band"]) == {"y0", "y1"}
    for n, cue in enumerate(doc["cues"], start=1):
        assert set(cue) == {
            "index", "start_ms", "end_ms", "zh", "en", "confidence", "cover", "flags", "readings",
        }  # fmt: skip
        assert cue["index"] == n
        x0, y0, x1, y1 = cue["cover"]
        assert 0 <= x0 < x1 <= 640 and doc["band"]["y0"] - 8 <= y0 < y1 <= 360
        assert cue["readings"] and all(
            set(r) == {"at_ms", "zh", "en", "score"}
            and cue["start_ms"] <= r["at_ms"] < cue["end_ms"]
            for r in cue["readings"]
        )


def _one_error_line(result: Any) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_bad_inputs_are_one_line(tmp_path: Path, ffmpeg: str, silence_wav: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n", encoding="utf-8")
    cases = {
        tmp_path / "nope.mp4": "no such file",
        tmp_path: "is a folder",
        text: "cannot read as media",
        silence_wav: "no video picture",
    }
    for path, reason in cases.items():
        result = runner.invoke(app, ["ocr", str(path), "-o", str(tmp_path / "out")])
        assert result.exit_code == 1, result.output
        line = _one_error_line(result)
        assert reason in line and str(path) in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_bad_band_option(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ocr", "x.mp4", "--band", "300:200", "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert "--band" in _one_error_line(result)


def test_help() -> None:
    result = runner.invoke(app, ["ocr", "--help"])
    assert result.exit_code == 0 and "--band" in result.output


# ----------------------------------------------------------------------- pure logic


def test_find_band_prefers_recurring_centred_text_low_in_the_frame() -> None:
    sub = [Box(260, 300, 380, 325, "字"), Box(170, 327, 470, 345, "E")]
    clock = Box(0, 0, 100, 20, "00:00")  # top left, in every frame
    logo = Box(560, 300, 630, 330, "CCTV")  # low but in the corner
    frames = [[clock, logo, *sub], [clock, logo, sub[0]], [clock, logo], [clock]]
    band = find_band(frames, 640, 360)
    assert band is not None and band.y0 <= 300 and band.y1 >= 345 and band.y0 > 270
    assert find_band([[clock, logo]], 640, 360) is None


def test_a_band_seen_with_one_line_has_room_for_a_line_above_it() -> None:
    """Every sample on a one-line subtitle: the band still holds the first line of a
    two-line subtitle (English under the Chinese), which sits a line higher."""
    one_line = [[Box(540, 640, 740, 688, "字")] for _ in range(8)]
    band = find_band(one_line, 1280, 720)
    assert band is not None and band.y1 >= 688
    two_line_chinese = Box(540, 582, 740, 632, "字")  # measured at 720p: 582-638 over 640-688
    assert band.y0 <= two_line_chinese.y0


def test_band_samples_do_not_keep_the_phase_of_a_regular_rhythm() -> None:
    """Subtitles 2.4 s on, 0.6 s off, English on every other one of five: samples spaced
    exactly 50 s apart over 10 minutes all fell on one-line subtitles or gaps."""
    times = sample_times(600, 12)
    assert all(50 * k <= t < 50 * (k + 1) for k, t in enumerate(times))
    on = [t for t in times if (t - 0.5) % 3 < 2.4]
    with_english = [t for t in on if math.floor((t - 0.5) / 3) % 5 in (0, 2, 4)]
    assert len(on) >= 8 and len(with_english) >= 2, [round(t, 1) for t in times]
    assert len({round(t % 50) for t in times}) >= 6  # not one phase of the spacing


def test_parse_band() -> None:
    assert parse_band("270:350") == Band(270, 350)
    for bad in ("350:270", "x", "1:2:3", "-1:20"):
        with pytest.raises(ConfigError):
            parse_band(bad)


def test_change_index_finds_the_first_new_frame() -> None:
    assert change_index([0.0, 0.1, 0.9, 1.0], [1.0, 0.9, 0.1, 0.0]) == 2
    assert change_index([0.9, 1.0], [0.0, 0.0]) == 0
    assert change_index([0.0, 0.0, 1.0], [1.0, 1.0, 0.0]) == 2


def test_mask_distance() -> None:
    assert mask_distance(0, 3, 0) == 0.0  # both below the text minimum: both empty
    assert mask_distance(0, 500, 0) == 1.0
    assert mask_distance(500, 500, 500) == 0.0
    assert 0.6 < mask_distance(500, 500, 100) < 0.9


def test_spread_leaves_out_the_edges() -> None:
    assert spread(2) == [0, 1]
    assert spread(10) == [2, 5, 8]


def test_read_frame_separates_scripts_and_orders_lines() -> None:
    boxes = [
        Box(170, 330, 470, 348, "China-Pakistan", 0.9),
        Box(360, 300, 380, 325, "走廊", 0.98),
        Box(260, 301, 350, 326, "中巴經濟", 0.96),
    ]
    reading = read_frame(1000, boxes, lambda t: t.replace("經濟", "经济"))
    assert reading.zh == "中巴经济走廊" and reading.en == "China-Pakistan"
    assert reading.score == pytest.approx((0.9 + 0.98 + 0.96) / 3, abs=1e-3)
    assert script_of("2024") == "zh" and script_of("CCTV 4") == "en"


def test_vote_and_low_confidence() -> None:
    box = Box(10, 10, 50, 30, "x")
    good = [Reading(t, "走廊", "", 0.99, (box,)) for t in (100, 200)]
    odd = Reading(300, "走郎", "", 0.6, (Box(8, 9, 60, 31, "y"),))
    assert vote([*good, odd])[:3] == ("走廊", "", 0.99)
    shots = [
        Shot(0, 400, ()),
        Shot(400, 1000, (good[0], odd)),
        Shot(1000, 1040, (good[1],)),  # the same text after a background change: merged
        Shot(1040, 2000, (Reading(1500, "坏", "", 0.5, (box,)),)),
    ]
    cues = build_cues(shots, 640, 360)
    assert [(c.start_ms, c.end_ms, c.zh) for c in cues] == [(400, 1040, "走廊"), (1040, 2000, "坏")]
    assert cues[0].flags == () and cues[1].flags == (LOW_CONFIDENCE_FLAG,)
    assert cues[0].cover == (4, 5, 64, 35)


# ----------------------------------------------------------------------- hostile inputs


def _ffmpeg_in(ffmpeg: str, folder: Path, *args: str) -> None:
    _in(folder, lambda: run_ffmpeg(ffmpeg, *args))


def _subtitles(folder: Path, name: str, events: Sequence[Burned]) -> str:
    (folder / f"{name}.ass").write_text(
        _HEADER.format(w=640, h=360, fs=26, bord=2, mv=16) + "".join(e.line() for e in events),
        encoding="utf-8",
    )
    return f"{name}.ass"


EVENTS_VFR = (
    Burned(0.50, 1.50, "Outline", "中巴经济走廊"),
    Burned(2.00, 2.80, "Outline", "两国人民友谊"),
    Burned(3.50, 4.50, "Outline", "瓜达尔港建设"),
    Burned(5.25, 6.25, "Outline", "共同发展繁荣"),
)
BAND_640 = "270:360"  # where _subtitles' lines sit in a 640x360 picture (test_reads_640 finds it)


@pytest.mark.slow
def test_variable_frame_rate_is_sampled_by_time(ffmpeg: str, tmp_path: Path) -> None:
    """60 fps for 3 s, then a frame every 0.25 s: every subtitle is found, timed to its
    frame (sampling by frame count skipped or merged those after 3 s)."""
    ass = _subtitles(tmp_path, "vfr", EVENTS_VFR)
    _ffmpeg_in(
        ffmpeg, tmp_path, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=60", "-t", "7",
        "-vf", rf"ass={ass},select='lt(t\,3)+not(mod(n\,15))'", "-fps_mode", "vfr",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p", "vfr.mp4",
    )  # fmt: skip
    _result, doc = _ocr(tmp_path / "vfr.mp4", tmp_path / "out", "--band", BAND_640)
    cues = doc["cues"]
    assert [c["zh"] for c in cues] == [e.zh for e in EVENTS_VFR]
    for event, cue in zip(EVENTS_VFR, cues, strict=True):
        grid = 1000 / 60 if event.start < 3 else 250  # the frames there
        assert abs(cue["start_ms"] - event.start * 1000) <= grid + 1, (event.zh, cue)
        assert abs(cue["end_ms"] - event.end * 1000) <= grid + 1, (event.zh, cue)


def test_resolution_change_is_one_line(ffmpeg: str, tmp_path: Path) -> None:
    for name, size in (("a", "640x360"), ("b", "320x180")):
        _ffmpeg_in(
            ffmpeg, tmp_path, "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25", "-t", "1",
            "-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts", f"{name}.ts",
        )  # fmt: skip
    media = tmp_path / "reschange.ts"
    media.write_bytes((tmp_path / "a.ts").read_bytes() + (tmp_path / "b.ts").read_bytes())
    # the band given: finding it (OCR of 12 samples) is not the point, and the scan says
    result = runner.invoke(
        app, ["ocr", str(media), "-o", str(tmp_path / "out"), "--band", BAND_640]
    )
    assert result.exit_code == 1, result.output
    line = _one_error_line(result)
    assert "changes size at 1.0 s (640x360 → 320x180)" in line and str(media) in line, line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_truncated_video_is_warned_and_recorded(ffmpeg: str, tmp_path: Path) -> None:
    _ffmpeg_in(
        ffmpeg, tmp_path, "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "6",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-movflags", "+faststart",
        "whole.mp4",
    )  # fmt: skip
    whole = (tmp_path / "whole.mp4").read_bytes()
    media = tmp_path / "trunc.mp4"
    media.write_bytes(whole[: len(whole) // 2])
    result, doc = _ocr(media, tmp_path / "out", "--band", "130:180")
    warnings = [ln for ln in result.stderr.splitlines() if ln.startswith("warning: ")]
    assert len(warnings) == 1 and "looks truncated" in warnings[0], result.stderr
    assert "of 6.0 s" in warnings[0]
    assert len(doc["warnings"]) == 1 and "looks truncated" in doc["warnings"][0]


@pytest.mark.slow
def test_last_subtitle_ends_on_its_frame(ffmpeg: str, tmp_path: Path) -> None:
    """A subtitle that goes within the last sampling step ends where it goes, not at the
    end of the file."""
    event = Burned(1.00, 2.92, "Outline", "中巴经济走廊")
    ass = _subtitles(tmp_path, "tail", (event,))
    _ffmpeg_in(
        ffmpeg, tmp_path, "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={FPS}", "-t", "3",
        "-vf", f"ass={ass}", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20",
        "-pix_fmt", "yuv420p", "tail.mp4",
    )  # fmt: skip
    _result, doc = _ocr(tmp_path / "tail.mp4", tmp_path / "out", "--band", BAND_640)
    assert [c["zh"] for c in doc["cues"]] == [event.zh]
    cue = doc["cues"][0]
    assert abs(cue["end_ms"] - event.after_ms) <= 1000 // FPS, cue
    assert abs(cue["start_ms"] - event.first_ms) <= 1000 // FPS, cue


def test_no_subtitles_is_a_notice_and_no_srt(ffmpeg: str, tmp_path: Path) -> None:
    _ffmpeg_in(
        ffmpeg, tmp_path, "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "2",
        "-c:v", "libx264", "-preset", "ultrafast", "plain.mp4",
    )  # fmt: skip
    result, doc = _ocr(tmp_path / "plain.mp4", tmp_path / "out", "--band", "135:180")
    assert "no burned subtitles found" in result.stderr, result.stderr
    assert doc["cues"] == [] and doc["warnings"] == []
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["plain.ocr.json"]


def test_mixed_lines_split_by_script() -> None:
    two_boxes = [Box(100, 300, 200, 325, "瓜达尔港"), Box(210, 302, 400, 324, "Gwadar Port")]
    one_box = [Box(100, 300, 400, 325, "瓜达尔港Gwadar Port")]
    for boxes in (two_boxes, one_box):
        reading = read_frame(0, boxes)
        assert (reading.zh, reading.en) == ("瓜达尔港", "Gwadar Port"), reading
    acronym = [Box(100, 300, 160, 325, "CPEC"), Box(170, 300, 400, 325, "项目顺利推进")]
    for boxes in (acronym, [Box(100, 300, 400, 325, "CPEC 项目顺利推进")]):
        reading = read_frame(0, boxes)
        assert (reading.zh, reading.en) == ("CPEC 项目顺利推进", ""), reading
    assert script_of("CPEC 项目顺利推进") == "zh" and script_of("瓜达尔港 Gwadar Port") == "en"
    assert script_of("2024年") == "zh" and script_of("CCTV 4") == "en"


def test_looks_truncated() -> None:
    assert looks_truncated(3200, 6000, 40)
    assert not looks_truncated(5960, 6000, 40)  # the probe rounds a frame
    assert looks_truncated(3_000_000, 3_600_000, 40)  # more than a second short
    assert not looks_truncated(1900, 2000, 40)  # under two frames... and 5 %


@pytest.fixture(scope="module")
def ramp(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 s at 5 fps, each frame's luma 20 + 5 x its time in seconds, keyframes 4.6 s apart
    (made once: the tests only read it)."""
    folder = tmp_path_factory.mktemp("ramp")
    _ffmpeg_in(
        ffmpeg, folder, "-f", "lavfi", "-i", "color=c=black:size=64x48:rate=5", "-t", "40",
        "-vf", "geq=lum='20+5*T':cb=128:cr=128", "-c:v", "libx264", "-preset", "ultrafast",
        "-g", "23", "-pix_fmt", "yuv420p", "ramp.mp4",
    )  # fmt: skip
    return folder / "ramp.mp4"


@pytest.mark.parametrize("count", [8, 2])  # 5 s apart: decoded on; 20 s apart: sought
def test_band_samples_are_the_frames_at_their_times(ramp: Path, count: int) -> None:
    """Each frame's luma is 20 + 5 x its time in seconds: the samples spread over the
    programme are the frames at their times, whether decoded to or sought (keyframes 4.6 s
    apart)."""
    from dubkit.adapters.ocr import _spread_frames, probe_video
    from dubkit.burned.band import sample_times

    media = ramp
    info = probe_video(media)
    frames = _spread_frames(media, info, count, 0)
    targets = sample_times(40, count)
    seen = [(float(f.mean()) * 219 / 255 + 16 - 20) / 5 for f in frames]  # rgb back to luma
    assert len(seen) == count
    for target, at in zip(targets, seen, strict=True):
        assert abs(at - target) <= 0.5, (targets, seen)


# ------------------------------------------------- reading again: a person's correction is kept

PICTURE = (160, 120)
READ = (
    BurnedCue(1, 200, 800, "中巴经济走廊", "China-Pakistan Economic Corridor", 0.97,
              (30, 88, 130, 118), (), ()),
    BurnedCue(2, 800, 1300, "瓜达尔港建设", "Gwadar Port", 0.96, (40, 92, 120, 110), (), ()),
)  # fmt: skip
READ_AGAIN = (  # a later reading (another --fps, say): other times and lines
    BurnedCue(1, 240, 800, "中巴经济走廊", "China–Pakistan Economic Corridor", 0.97,
              (30, 88, 130, 118), (), ()),
)  # fmt: skip


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """The OCR adapter's reading replaced: `reader["media"]` (a file of a few bytes) has a
    160x120 picture in which `reader["cues"]` are read, in rows 84-120."""
    from dubkit.adapters import ocr

    said: dict[str, Any] = {"cues": READ, "media": tmp_path / "ep1.mp4"}
    said["media"].write_bytes(b"not decoded")
    info = lambda media: ocr.VideoInfo(media, 25.0, *PICTURE, 2000)  # noqa: E731
    monkeypatch.setattr(ocr, "probe_video", info)
    monkeypatch.setattr(ocr, "locate_band", lambda media, info: Band(84, 120))
    monkeypatch.setattr(ocr, "read_burned", lambda *args, **kwargs: (said["cues"], 1))
    return said


def _warnings(result: Any) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.startswith("warning: ")]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_ocr_again_sets_a_corrected_srt_aside(
    reader: dict[str, Any], tmp_path: Path, language: str
) -> None:
    out = tmp_path / "out"
    _ocr(reader["media"], out)
    srt = out / f"ep1.{language}.srt"
    read = srt.read_bytes()
    corrected = read.replace(b"00:00:00,200", b"00:00:00,160")
    srt.write_bytes(corrected)
    result, _doc = _ocr(reader["media"], out)
    aside = out / f"ep1.{language}.edited.srt"
    assert aside.read_bytes() == corrected
    assert srt.read_bytes() == read  # the new reading in its place
    [warning] = _warnings(result)
    assert f"ep1.{language}.edited.srt" in warning and str(srt) in warning, warning
    other = "en" if language == "zh" else "zh"
    assert not (out / f"ep1.{other}.edited.srt").exists()
    srt.write_bytes(corrected + b"\n")  # corrected again: the first correction stays
    result, _doc = _ocr(reader["media"], out)
    assert aside.read_bytes() == corrected
    assert (out / f"ep1.{language}.edited.2.srt").read_bytes() == corrected + b"\n"
    assert len(_warnings(result)) == 1 and srt.read_bytes() == read


def test_ocr_again_replaces_what_it_wrote_and_sets_aside_srts_it_did_not(
    reader: dict[str, Any], tmp_path: Path
) -> None:
    import hashlib

    out = tmp_path / "out"
    out.mkdir()
    theirs = b"1\n00:00:01,000 --> 00:00:02,000\nsomeone else's\n"
    (out / "ep1.zh.srt").write_bytes(theirs)  # no record: not dubkit's
    result, doc = _ocr(reader["media"], out)
    assert (out / "ep1.zh.edited.srt").read_bytes() == theirs
    assert len(_warnings(result)) == 1 and "ep1.zh.edited.srt" in _warnings(result)[0]
    zh, en = (out / "ep1.zh.srt").read_bytes(), (out / "ep1.en.srt").read_bytes()
    assert doc["written"] == {
        "ep1.zh.srt": hashlib.sha256(zh).hexdigest(),
        "ep1.en.srt": hashlib.sha256(en).hexdigest(),
    }
    reader["cues"] = READ_AGAIN  # read again, nothing corrected: simply replaced
    result, doc = _ocr(reader["media"], out)
    assert _warnings(result) == [], result.stderr
    assert (out / "ep1.zh.srt").read_bytes() != zh and (out / "ep1.en.srt").read_bytes() != en
    assert "–" in (out / "ep1.en.srt").read_text(encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == [
        "ep1.en.srt", "ep1.ocr.json", "ep1.zh.edited.srt", "ep1.zh.srt",
    ]  # fmt: skip
    now = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.glob("ep1.??.srt")}
    assert doc["written"] == now


def test_ocr_replaces_the_english_transcribe_wrote(reader: dict[str, Any], tmp_path: Path) -> None:
    """STEM.en.srt last written by `transcribe --source ocr` (its sha256 in asr.json, not in
    ocr.json) is dubkit's: `dubkit ocr` replaces it without a word."""
    import hashlib

    out = tmp_path / "out"
    out.mkdir()
    earlier = b"1\n00:00:00,200 --> 00:00:00,800\nChina Pakistan\n"
    (out / "ep1.en.srt").write_bytes(earlier)
    (out / "ep1.asr.json").write_text(
        json.dumps(
            {"english_srt": "ep1.en.srt",
             "english_srt_sha256": hashlib.sha256(earlier).hexdigest()}
        ),
        encoding="utf-8",
    )  # fmt: skip
    result, _doc = _ocr(reader["media"], out)
    assert _warnings(result) == [], result.stderr
    assert not (out / "ep1.en.edited.srt").exists()
    assert b"China-Pakistan Economic Corridor" in (out / "ep1.en.srt").read_bytes()
