"""Issue 13: hostile and unlucky inputs. Cues after 9:59:59.99 (the last time ASS holds),
damaged and hostile workbooks given to `dubscript import`, file names that are not UTF-8, and
standard output that cannot be written. Each must end in exit 1 and one line (what, where,
how to fix), never a traceback, in bounded time and memory, and lose nothing."""

from __future__ import annotations

import functools
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from dubkit import constants as C
from dubkit.cli import app
from dubkit.dubbing.files import render_xlsx
from dubkit.dubbing.script import ScriptLine
from dubkit.errors import SubtitleParseError
from dubkit.records import Segment
from dubkit.subtitles.files import read_srt
from dubkit.subtitles.parse import parse_srt
from tests.canned import HEARD, CannedTranscriber, said, silent_wav
from tests.conftest import capped_dubkit

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


def _one_error_line(result: Result, notices: bool = False) -> str:
    """The single line a failed command printed on stderr (besides `notices` of the models
    it loaded, such as a CPU fallback, when allowed)."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if notices:
        lines = [line for line in lines if not line.startswith("notice: ")]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


def _bounded(args: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m dubkit ARGS` with its address space capped at 1 GiB and a time limit: a
    command that grows without bound fails here instead of taking the machine."""
    env = {**os.environ, "DUBKIT_HOME": str(cwd / "home")}
    return capped_dubkit(*args, cwd=cwd, timeout=timeout, env=env)


def _one_line_of(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


# ------------------------------------------------------------------ 1. after 9:59:59.99

LATE_SRT = (
    "1\n09:59:50,000 --> 09:59:52,000\n你好\n\n"
    "2\n09:59:58,000 --> 10:00:02,000\n世界\n\n"
    "3\n10:00:03,000 --> 10:00:05,000\n谢谢\n"
)


def test_read_srt_refuses_a_cue_after_ass_time_ends_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "late.zh.srt"
    path.write_text(LATE_SRT, encoding="utf-8")
    with pytest.raises(SubtitleParseError) as caught:
        read_srt(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:6: cue ends at 10:00:02,000")  # its timing line
    assert "9:59:59.99" in message
    assert "split" in message  # the fix
    assert "\n" not in message


def test_the_srt_parser_itself_reads_what_subrip_holds() -> None:
    """SubRip and WebVTT hold times to 99:59:59.999: the format-level parser keeps them; only
    read_srt, through which dubkit's stages read a programme, holds them to the ASS limit."""
    parsed = parse_srt(LATE_SRT.replace("10:00:03,000 --> 10:00:05,000", "99:59:58,000 --> "
                                        "99:59:59,999"))  # fmt: skip
    assert [c.end_ms for c in parsed.cues] == [35_992_000, 36_002_000, 359_999_999]


@pytest.mark.usefixtures("pivot_route")
def test_translate_refuses_a_late_cue_before_any_model_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dubkit.adapters import argos

    loaded: list[object] = []
    real = argos.load_route

    def spy(*args: Any, **kwargs: Any) -> Any:
        loaded.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(argos, "load_route", spy)
    srt = tmp_path / "late.zh.srt"
    srt.write_text(LATE_SRT, encoding="utf-8")
    out = tmp_path / "out"
    line = _one_error_line(runner.invoke(app, ["translate", str(srt), "-o", str(out)]))
    assert f"{srt}:6: cue ends at 10:00:02,000" in line
    assert loaded == []  # refused before the route loaded, so no translation was lost
    assert list(out.iterdir()) == []


@pytest.mark.usefixtures("pivot_route")
def test_a_last_cue_lengthened_for_reading_time_ends_where_ass_time_ends(tmp_path: Path) -> None:
    """Sentence layout gives the last cue its minimum duration, which here runs past
    9:59:59.99: every format ends it there, instead of the ASS writer failing after the
    translation was done."""
    srt = tmp_path / "end.zh.srt"
    srt.write_text("1\n09:59:59,600 --> 09:59:59,900\n再见\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(srt), "-o", str(out)])
    assert result.exit_code == 0, (result.output, result.exception)
    ass = (out / "end.ur.ass").read_text(encoding="utf-8")
    assert ass.splitlines()[-1].startswith("Dialogue: 0,9:59:59.60,9:59:59.99,Urdu,")
    urdu = read_srt(out / "end.ur.srt").cues
    assert [(c.start_ms, c.end_ms) for c in urdu] == [(35_999_600, C.MAX_PROGRAMME_MS)]


@functools.cache
def _script_xlsx() -> bytes:
    """A two-line dubbing script (render_xlsx is reproducible: rendered once, then edited)."""
    lines = [
        ScriptLine(1, 1000, 2000, zh="你好", ur="سلام"),
        ScriptLine(2, 3000, 4000, zh="谢谢", ur="شکریہ"),
    ]
    return render_xlsx(lines, fps=25, title="ep")


def _script(folder: Path, edit: Callable[[Any], None] | None = None) -> Path:
    import openpyxl

    data = _script_xlsx()
    if edit is not None:
        wb = openpyxl.load_workbook(io.BytesIO(data))
        edit(wb)
        buffer = io.BytesIO()
        wb.save(buffer)
        data = buffer.getvalue()
    path = folder / "ep.dubscript.xlsx"
    path.write_bytes(data)
    return path


def _import(xlsx: Path) -> Result:
    return runner.invoke(app, ["dubscript", "import", str(xlsx), "--no-memory"])


def _nothing_written(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == ["ep.dubscript.xlsx"]


def test_dubscript_import_refuses_a_time_after_ass_time_ends(tmp_path: Path) -> None:
    def late(wb: Any) -> None:
        wb["Script"]["C3"].value = "10:00:01:00"

    line = _one_error_line(_import(_script(tmp_path, late)))
    assert "sheet Script, row 3, column C (Out): 10:00:01:00 is after 09:59:59:24" in line
    _nothing_written(tmp_path)


# ------------------------------------------------------------------- 2. bad workbooks


def _rezip(data: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    out = io.BytesIO()
    # deflate's fastest level: zeros still shrink about 230 times (level 6: 3 s for 600 MiB)
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info, change(body) if info.filename == member else body)
    return out.getvalue()


@pytest.mark.parametrize(
    "member",
    [
        "xl/worksheets/sheet1.xml",
        "xl/worksheets/sheet2.xml",
        "xl/workbook.xml",
        "xl/styles.xml",
        "[Content_Types].xml",
    ],
)
def test_a_workbook_with_broken_xml_inside_is_one_line(tmp_path: Path, member: str) -> None:
    path = _script(tmp_path)
    path.write_bytes(_rezip(path.read_bytes(), member, lambda body: body[: len(body) // 2]))
    line = _one_error_line(_import(path))
    assert f"{path}: " in line
    assert "save it again" in line
    _nothing_written(tmp_path)


@pytest.mark.parametrize("rate", ["inf", "-inf", "nan", "-25", "0", "1e308", "1e-308", "fast"])
def test_a_frame_rate_cell_that_is_no_rate_is_one_line(tmp_path: Path, rate: str) -> None:
    def edit(wb: Any) -> None:
        wb["About"]["B2"].value = rate

    line = _one_error_line(_import(_script(tmp_path, edit)))
    assert "sheet About, row 2, column B (Frame rate (fps)): " in line
    assert "is not a frame rate" in line
    _nothing_written(tmp_path)


def test_a_frame_rate_cell_is_not_read_when_fps_is_given(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["About"]["B2"].value = "inf"

    path = _script(tmp_path, edit)
    result = runner.invoke(app, ["dubscript", "import", str(path), "--no-memory", "--fps", "25"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ep.ur.srt").is_file()


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("B3", 1e308),
        ("B3", "9" * 5000),
        ("C3", "99999999999:00:00:00"),
        ("A3", "9" * 5000),
        ("A3", 1e308),
    ],
)
def test_huge_numbers_in_time_and_number_cells_are_one_short_line(
    tmp_path: Path, cell: str, value: Any
) -> None:
    def edit(wb: Any) -> None:
        wb["Script"][cell].value = value

    line = _one_error_line(_import(_script(tmp_path, edit)))
    column = {"A": "A (No)", "B": "B (In)", "C": "C (Out)"}[cell[0]]
    assert f"sheet Script, row 3, column {column}: " in line
    assert len(line) < len(str(tmp_path)) + 250  # the cell is quoted, not copied whole
    _nothing_written(tmp_path)


@pytest.mark.parametrize("sheet", ["Script", "About"])
def test_a_sheet_spanning_the_whole_grid_is_refused_before_it_is_read(
    tmp_path: Path, sheet: str
) -> None:
    def far(wb: Any) -> None:
        wb[sheet]["XFD1048576"].value = "x"

    path = _script(tmp_path, far)
    assert path.stat().st_size < 16_000
    started = time.monotonic()
    line = _one_line_of(_bounded(["dubscript", "import", path.name, "--no-memory"], tmp_path))
    assert time.monotonic() - started < 30
    assert f"sheet {sheet} spans A1:XFD1048576" in line
    assert f"{C.MAX_SCRIPT_ROWS:,} rows" in line
    _nothing_written(tmp_path)


def test_rows_beyond_the_cap_are_refused_even_when_the_sheet_hides_its_size(
    tmp_path: Path,
) -> None:
    """A sheet whose <dimension> claims less than it holds is still read to its end, and a
    row past the cap is refused: nothing below a wrong dimension is silently dropped."""
    row = C.MAX_SCRIPT_ROWS + 5

    def far(wb: Any) -> None:
        wb["Script"].cell(row=row, column=8, value="سلام")

    path = _script(tmp_path, far)
    path.write_bytes(
        _rezip(
            path.read_bytes(),
            "xl/worksheets/sheet1.xml",
            lambda body: body.replace(f'ref="A1:N{row}"'.encode(), b'ref="A1:N3"'),
        )
    )
    line = _one_error_line(_import(path))
    assert f"sheet Script, row {C.MAX_SCRIPT_ROWS + 1}: " in line
    _nothing_written(tmp_path)


def _bomb(data: bytes, member: str, zeros: int) -> bytes:
    """The workbook with `member` replaced by `zeros` bytes of '0' inside a cell: about a
    MB of zip that unpacks to hundreds of MB."""
    out = io.BytesIO()
    # deflate's fastest level: zeros still shrink about 230 times (level 6: 3 s for 600 MiB)
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info.filename))
                continue
            with dst.open(member, "w", force_zip64=True) as body:  # the level applies by name
                body.write(
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                    b'main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
                )
                chunk = b"0" * 2**20
                for _ in range(zeros // len(chunk)):
                    body.write(chunk)
                body.write(b"</t></is></c></row></sheetData></worksheet>")
    return out.getvalue()


def test_a_zip_bomb_workbook_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    path = _script(tmp_path)
    zeros = C.MAX_SCRIPT_UNPACKED_BYTES + 64 * 2**20  # past the cap on what a workbook unpacks to
    path.write_bytes(_bomb(path.read_bytes(), "xl/worksheets/sheet1.xml", zeros))
    assert path.stat().st_size < 2 * 2**20
    started = time.monotonic()
    line = _one_line_of(_bounded(["dubscript", "import", path.name, "--no-memory"], tmp_path))
    assert time.monotonic() - started < 30
    assert "unpacks to 320 MiB" in line
    _nothing_written(tmp_path)


def test_a_workbook_larger_than_the_cap_is_refused_unread(tmp_path: Path) -> None:
    path = _script(tmp_path)
    with path.open("ab") as handle:
        handle.truncate(C.MAX_SCRIPT_XLSX_BYTES + 1)  # sparse: no disk used
    line = _one_error_line(_import(path))
    assert f"{path}: " in line and "MiB" in line
    _nothing_written(tmp_path)


# ------------------------------------------------------------- 3. names that are not UTF-8

UNDECODABLE = os.fsdecode(b"ep\xff")  # 'ep\udcff': a Latin-1 name on a UTF-8 system
SHOWN = "ep\\xff"  # how dubkit writes it (dubkit.fsutil.display_path)

ZH_SRT = "1\n00:00:01,000 --> 00:00:02,000\n你好世界\n\n2\n00:00:03,000 --> 00:00:05,000\n谢谢\n"


def _complete_texts(folder: Path) -> list[Path]:
    """Every file under `folder`, each checked whole: text decodes as UTF-8, JSON parses."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:
        if path.suffix in (".srt", ".vtt", ".ass", ".csv", ".html", ".json"):
            text = path.read_bytes().decode("utf-8")  # strict: raises on a bad byte
            if path.suffix == ".json":
                json.loads(text)
        assert not path.name.endswith(".tmp"), path
    return files


@pytest.mark.usefixtures("pivot_route")
def test_translate_writes_undecodable_names_escaped_in_json(tmp_path: Path) -> None:
    good = tmp_path / f"{UNDECODABLE}.zh.srt"
    good.write_text(ZH_SRT, encoding="utf-8")
    bad = tmp_path / os.fsdecode(b"bad\xfe.zh.srt")
    bad.write_text("garbage\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(good), str(bad), "-o", str(out), "--json"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    summary = json.loads(result.stdout)
    sources = [f["source"] for f in summary["files"]]
    assert sources == [f"{tmp_path}/{SHOWN}.zh.srt", f"{tmp_path}/bad\\xfe.zh.srt"]
    assert summary["files"][0]["outputs"]["ur"] == f"{out}/{SHOWN}.ur.srt"
    names = [p.name for p in _complete_texts(out)]
    assert sorted(names) == sorted(
        f"{UNDECODABLE}.{ext}" for ext in ("ur.srt", "ur.vtt", "ur.ass", "zh-ur.srt", "qa.json")
    )


def test_dubscript_import_of_an_undecodable_name_writes_and_approves(tmp_path: Path) -> None:
    """The workbook's name goes into the sidecar JSON and the memory's note of who approved
    a line: both take it escaped, after the subtitles were written."""
    from dubkit.translate.memory import SqliteMemory

    xlsx = _script(tmp_path).rename(tmp_path / f"{UNDECODABLE}.dubscript.xlsx")
    (tmp_path / f"{UNDECODABLE}.zh.srt").write_text(
        "1\n00:00:01,000 --> 00:00:02,000\n你好\n\n2\n00:00:03,000 --> 00:00:04,000\n谢谢\n",
        encoding="utf-8",
    )
    memory = tmp_path / "memory.sqlite"
    result = runner.invoke(app, ["dubscript", "import", str(xlsx), "--memory", str(memory)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "2 changed line(s) approved" in result.stderr
    doc = json.loads((tmp_path / f"{UNDECODABLE}.dubscript.json").read_text(encoding="utf-8"))
    assert doc["source"] == f"{tmp_path}/{SHOWN}.dubscript.xlsx"
    _complete_texts(tmp_path)
    with SqliteMemory(memory) as tm:
        assert dict((s, t) for s, t, _, _ in tm.pairs("zh", "ur", approved_only=True)) == {
            "你好": "سلام",
            "谢谢": "شکریہ",
        }


@pytest.mark.usefixtures("pivot_route")
@pytest.mark.parametrize("segments", [HEARD, ()], ids=["speech", "no speech"])
def test_run_with_an_undecodable_media_name_writes_every_output_whole(
    tmp_path: Path, canned: Callable[[tuple[Segment, ...]], None], segments: tuple[Segment, ...]
) -> None:
    canned(segments)
    media = silent_wav(tmp_path / f"{UNDECODABLE}.wav")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(media), "-o", str(out), "--json", "--no-cache"])
    assert result.exit_code == 0, (result.output, result.exception)
    summary = json.loads(result.stdout)
    doc = json.loads((out / f"{UNDECODABLE}.run.json").read_text(encoding="utf-8"))
    assert summary["files"] == [doc]
    assert doc["media"] == f"{tmp_path}/{SHOWN}.wav"
    assert doc["status"] == "complete"
    names = {p.relative_to(out).as_posix() for p in _complete_texts(out)}
    expected = {
        f"{UNDECODABLE}.{ext}"
        for ext in ("zh.srt", "asr.json", "ur.srt", "ur.vtt", "ur.ass", "zh-ur.srt", "qa.json",
                    "dubscript.xlsx", "dubscript.csv", "dubscript.html", "run.json")
    }  # fmt: skip
    assert expected <= names
    if segments:
        csv_text = (out / f"{UNDECODABLE}.dubscript.csv").read_text(encoding="utf-8-sig")
        assert f"clips/{SHOWN}/0001.wav" in csv_text
        assert (out / "clips" / UNDECODABLE / "0001.wav").is_file()
    else:
        asr = json.loads((out / f"{UNDECODABLE}.asr.json").read_text(encoding="utf-8"))
        assert asr["warnings"] == [f"{tmp_path}/{SHOWN}.wav: no speech found; wrote an empty "
                                   "subtitle file"]  # fmt: skip


def test_transcribe_with_an_undecodable_media_name_writes_its_outputs_whole(
    tmp_path: Path, canned: Callable[[tuple[Segment, ...]], None]
) -> None:
    canned(())  # no speech: the warning names the file, in asr.json and the summary
    media = silent_wav(tmp_path / f"{UNDECODABLE}.wav")
    out = tmp_path / "out"
    result = runner.invoke(app, ["transcribe", str(media), "-o", str(out), "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    warning = f"{tmp_path}/{SHOWN}.wav: no speech found; wrote an empty subtitle file"
    assert json.loads(result.stdout)["files"][0]["warnings"] == [warning]
    assert [p.name for p in _complete_texts(out)] == [
        f"{UNDECODABLE}.asr.json",
        f"{UNDECODABLE}.zh.srt",
    ]


@pytest.mark.usefixtures("pivot_route")
def test_run_refuses_cues_after_ass_time_ends_before_translating(
    tmp_path: Path, canned: Callable[[tuple[Segment, ...]], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recognition that runs past 9:59:59.99 stops the run with one line before any
    translation work, and keeps the Chinese it heard."""
    from dubkit.episode import pipeline

    canned((said("你好世界", 500, 1800), said("谢谢大家", 35_999_000, 36_001_500)))
    translated: list[object] = []
    real = pipeline.translate_texts
    monkeypatch.setattr(
        pipeline, "translate_texts", lambda *a, **k: translated.append(a) or real(*a, **k)
    )
    media = silent_wav(tmp_path / "long.wav")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(media), "-o", str(out), "--no-cache"])
    line = _one_error_line(result, notices=True)
    assert f"{out}/long.zh.srt: cue 2 ends at 10:00:01," in line and "9:59:59.99" in line
    assert translated == []
    assert sorted(p.name for p in out.iterdir()) == ["long.asr.json", "long.zh.srt"]


@pytest.mark.usefixtures("pivot_route")
def test_run_refuses_a_recording_longer_than_ass_time_before_recognition(
    tmp_path: Path, canned: Callable[[tuple[Segment, ...]], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The longest is lowered to 1 s here: the 4 s recording stands for one over 10 hours."""
    canned(HEARD)
    listened: list[object] = []
    monkeypatch.setattr(CannedTranscriber, "transcribe", lambda self, *a, **k: listened.append(a))
    monkeypatch.setattr(C, "MAX_PROGRAMME_MS", 1_000)
    media = silent_wav(tmp_path / "long.wav")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(media), "-o", str(out)])
    line = _one_error_line(result, notices=True)
    said = f"{media}: 00:00:01,0"  # as soon as the spooled sound passes the longest
    assert said in line and "long or more, longer than 9:59:59.99" in line
    assert "split" in line
    assert listened == []  # refused before recognition
    assert list(out.iterdir()) == []


# ------------------------------------------------------------- 4. stdout that cannot write


def _dubkit(args: list[str], stdout: Any, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DUBKIT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "dubkit", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("args", [["models", "list"], ["models", "list", "--json"], ["--version"]])
def test_stdout_on_a_full_device_is_one_line(tmp_path: Path, args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = _dubkit(args, full, tmp_path)
    line = _one_line_of(done)
    assert line.startswith("error: cannot write to standard output (No space left on device)")
    assert "; " in line  # and how to fix it


@pytest.mark.parametrize("args", [["models", "list"], ["models", "list", "--json"], ["--version"]])
def test_a_reader_that_went_away_is_a_quiet_exit(tmp_path: Path, args: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # `dubkit models list | head -0`: nobody reads
    try:
        done = _dubkit(args, write, tmp_path)
    finally:
        os.close(write)
    assert done.returncode == 1
    assert done.stderr == ""
