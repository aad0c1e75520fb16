"""The dubbing script as files: an Excel workbook operators edit, a CSV, a printable HTML
dialogue list, and reading the edited workbook back (`dubkit dubscript import`).

Columns, in this order (import finds them by header, so operators may move them):

    No          line number; identifies the line (rows may be reordered or deleted)
    In, Out     SMPTE timecode HH:MM:SS:FF at the programme's rate (HH:MM:SS;FF drop-frame)
    Duration    frames from In to Out as SS:FF (seconds and frames)       derived, not read
    Character   who speaks (filled when speaker turns are known)          editable
    Chinese     the original, English the pivot translation               read back as is
    Urdu        the line to record; one cell line per subtitle line       editable
    Terms       approved Urdu renderings of the glossary terms in the line, one a cell line
    Budget s    the slot's length in seconds (2 decimals)                 derived, not read
    Speaking s  estimated time to say the Urdu (dubkit.dubbing.script model)   derived, not read
    Overrun %   how much longer the Urdu takes than its slot (negative: time to spare)
    Notes       anything the operator writes                              editable
    Clip        the reference clip's file name (NNNN.wav)

Derived columns are recomputed by dubkit, never read. Text cells keep what is typed, except
that CR LF and CR become LF (Excel stores LF) and control characters Excel cannot hold are
dropped on export. The CSV is for reading and other tools (Excel opens it through its BOM);
only the .xlsx is imported.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

from dubkit import __version__
from dubkit import constants as C
from dubkit.dubbing.script import (
    UR_SYLLABLES_PER_SECOND,
    ScriptLine,
    build_script,
    changed_lines,
    keep_existing_times,
    line_cues,
    overrun_percent,
    speaking_ms,
    ur_plain,
)
from dubkit.errors import DubkitError
from dubkit.escape import display_text, render_json
from dubkit.records import Cue
from dubkit.text.interchange import neutralise_formula
from dubkit.text.urdu import UrduStyle, normalise
from dubkit.timecode import (
    frames_to_smpte,
    is_drop_frame_rate,
    ms_to_frame_floor,
    ms_to_smpte,
    nominal_fps,
    smpte_to_ms,
    snap_ms,
    usable_rate,
)

SHEET = "Script"
ABOUT_SHEET = "About"
# (header, width in characters): widths fit a timecode, a name, and two or three lines of
# dialogue in a landscape page's width.
COLUMNS = (
    ("No", 6), ("In", 13), ("Out", 13), ("Duration", 9), ("Character", 14), ("Chinese", 28),
    ("English", 34), ("Urdu", 40), ("Terms", 18), ("Budget s", 9), ("Speaking s", 10),
    ("Overrun %", 10), ("Notes", 28), ("Clip", 12),
)  # fmt: skip
HEADERS = tuple(h for h, _ in COLUMNS)
# What import reads: every column that holds the operator's or the programme's text. A
# missing or renamed one is an error, so that nothing typed in it is silently dropped.
READ_COLUMNS = ("No", "In", "Out", "Character", "Chinese", "English", "Urdu", "Terms", "Notes",
                "Clip")  # fmt: skip
# A fixed document date, so that the same script gives the same bytes.
FIXED_CREATED = datetime(2000, 1, 1)
_ABOUT_FPS = "Frame rate (fps)"
_ABOUT_TIMECODE = "Timecode"
_ABOUT_RATE = "Speaking rate (syllables/s)"
_ABOUT_PROGRAMME = "Programme"
_MAX_PROBLEMS = 50
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what openpyxl refuses in a cell


class ScriptError(DubkitError):
    """An edited dubbing script cannot be read; `problems` lists every one, a line each."""

    def __init__(self, problems: Sequence[str], *, path: Path | str | None = None) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(first + more, path=path)
        self.problems = tuple(problems)


# -------------------------------------------------------------------------------- rows


def _fps_label(fps: float) -> str:
    return f"{fps:g}"


def _duration_label(line: ScriptLine, fps: float) -> str:
    frames = ms_to_frame_floor(snap_ms(line.end_ms, fps), fps) - ms_to_frame_floor(
        snap_ms(line.start_ms, fps), fps
    )
    per_second = nominal_fps(fps)
    return f"{frames // per_second:02d}:{frames % per_second:02d}"


def _row(line: ScriptLine, fps: float, drop: bool, rate: float) -> dict[str, Any]:
    """The values of one script row, by header (numbers as numbers, None for no value)."""
    over = overrun_percent(line, rate)
    return {
        "No": line.number,
        "In": ms_to_smpte(line.start_ms, fps, drop),
        "Out": ms_to_smpte(line.end_ms, fps, drop),
        "Duration": _duration_label(line, fps),
        "Character": line.character,
        "Chinese": line.zh,
        "English": line.en,
        "Urdu": line.ur,
        "Terms": "\n".join(line.terms),
        "Budget s": round(line.duration_ms / 1000, 2),
        "Speaking s": round(speaking_ms(line.ur, rate) / 1000, 2),
        "Overrun %": None if over is None else round(over),
        "Notes": line.notes,
        "Clip": line.clip,
    }


def _drop(fps: float, drop_frame: bool | None) -> bool:
    return is_drop_frame_rate(fps) if drop_frame is None else drop_frame


def _cell_text(text: str) -> str:
    # display_text: a title or clip path made from a file name that is not UTF-8 (XML, CSV
    # and HTML are UTF-8) keeps its undecodable bytes as \xNN, as names are shown.
    return _ILLEGAL.sub("", display_text(text).replace("\r\n", "\n").replace("\r", "\n"))


# ------------------------------------------------------------------------------- Excel


def render_xlsx(
    lines: Sequence[ScriptLine],
    *,
    fps: float = C.DEFAULT_FPS,
    title: str,
    drop_frame: bool | None = None,
    syllables_per_second: float = UR_SYLLABLES_PER_SECOND,
) -> bytes:
    """The workbook: sheet "Script" (frozen header, filter, widths, wrapped text, Urdu right
    to left) and sheet "About" (programme, rate, how to edit and re-import). Same lines,
    same bytes."""
    from openpyxl import Workbook
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    drop = _drop(fps, drop_frame)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    letter = {h: get_column_letter(n) for n, h in enumerate(HEADERS, start=1)}
    header_fill = PatternFill("solid", start_color="FFD9D9D9", end_color="FFD9D9D9")
    for n, (header, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=n, value=header)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[letter[header]].width = width
    aligns = {
        "Urdu": Alignment(horizontal="right", vertical="top", wrap_text=True, readingOrder=2),
        "Terms": Alignment(horizontal="right", vertical="top", wrap_text=True, readingOrder=2),
        "Chinese": Alignment(horizontal="left", vertical="top", wrap_text=True, readingOrder=1),
        "English": Alignment(horizontal="left", vertical="top", wrap_text=True, readingOrder=1),
    }
    plain = Alignment(vertical="top", wrap_text=True)
    for r, line in enumerate(lines, start=2):
        for n, (header, value) in enumerate(
            _row(line, fps, drop, syllables_per_second).items(), start=1
        ):
            cell = ws.cell(row=r, column=n)
            if isinstance(value, str):
                cell.value = _cell_text(value)
                cell.data_type = "s"  # text starting with '=' stays text, not a formula
                cell.number_format = "@"  # what the operator types stays text too
            else:
                cell.value = value
                if header in ("Budget s", "Speaking s"):
                    cell.number_format = "0.00"
            cell.alignment = aligns.get(header, plain)
    last = max(2, len(lines) + 1)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{letter['Clip']}{last}"
    over = f"{letter['Overrun %']}2:{letter['Overrun %']}{last}"
    ws.conditional_formatting.add(
        over,
        CellIsRule(
            operator="greaterThan",
            formula=["0"],
            fill=PatternFill("solid", start_color="FFF4CCCC", end_color="FFF4CCCC"),
        ),
    )
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    _about(wb.create_sheet(ABOUT_SHEET), title, fps, drop, syllables_per_second)
    wb.properties.creator = f"dubkit {__version__}"
    wb.properties.title = _cell_text(title)
    wb.properties.created = FIXED_CREATED
    buffer = io.BytesIO()
    wb.save(buffer)
    return _reproducible(buffer.getvalue())


def _about(ws: Any, title: str, fps: float, drop: bool, rate: float) -> None:
    from openpyxl.styles import Alignment, Font

    rows: list[tuple[str, Any]] = [
        (_ABOUT_PROGRAMME, title),
        (_ABOUT_FPS, _fps_label(fps)),
        (_ABOUT_TIMECODE, "drop-frame" if drop else "non-drop-frame"),
        (_ABOUT_RATE, rate),
        ("dubkit", __version__),
        ("", ""),
        ("How to edit", "Change the Urdu, Character and Notes cells, and In/Out timecodes "
                        "(HH:MM:SS:FF, text). Keep the header row and each line's No."),
        ("", "A cell line in Urdu is a subtitle line. Duration, Budget s, Speaking s and "
             "Overrun % are recomputed by dubkit; editing them does nothing."),
        ("", "Rows may be sorted or deleted (a deleted row drops that line). A new line "
             "takes an unused No; lines must not overlap in time."),
        ("", "Extra columns are ignored; do not rename or delete the existing ones."),
        ("Re-import", "dubkit dubscript import STEM.dubscript.xlsx (this file) writes "
                      "STEM.ur.srt, .ur.vtt, .ur.ass and STEM.dubscript.json beside it, and "
                      "approves the changed Urdu lines in the translation memory."),
    ]  # fmt: skip
    for r, (key, value) in enumerate(rows, start=1):
        ws.cell(row=r, column=1, value=key).font = Font(bold=True)
        cell = ws.cell(
            row=r, column=2, value=_cell_text(value) if isinstance(value, str) else value
        )
        if isinstance(value, str):
            cell.data_type = "s"
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 100


def _reproducible(data: bytes) -> bytes:
    """The workbook with fixed zip times and a fixed modified date (openpyxl stamps both
    with the time of saving)."""
    stamp = FIXED_CREATED.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    body,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, body)
    return out.getvalue()


# --------------------------------------------------------------------------------- CSV


def render_csv(
    lines: Sequence[ScriptLine],
    fps: float = C.DEFAULT_FPS,
    *,
    drop_frame: bool | None = None,
    syllables_per_second: float = UR_SYLLABLES_PER_SECOND,
) -> bytes:
    """The script's columns as CSV: UTF-8 with a BOM (so Excel reads the Urdu and Chinese),
    CRLF rows, cells with line breaks quoted, text a spreadsheet would run as a formula after
    an apostrophe (the workbook keeps such text as it is, in cells typed as text)."""
    drop = _drop(fps, drop_frame)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for line in lines:
        row = _row(line, fps, drop, syllables_per_second)
        writer.writerow([_csv_cell(v) for v in row.values()])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return neutralise_formula(display_text(str(value)))


# -------------------------------------------------------------------------------- HTML

_HTML_STYLE = """
@page { size: A4 landscape; margin: 10mm; }
body { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; font-size: 9pt; margin: 0; }
h1 { font-size: 13pt; margin: 0 0 2mm; }
p.meta { margin: 0 0 3mm; color: #444; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
th, td { border: 0.5pt solid #999; padding: 1mm 1.2mm; vertical-align: top;
         white-space: pre-wrap; overflow-wrap: anywhere; }
th { background: #d9d9d9; font-weight: bold; text-align: center; }
td.num, td.tc { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.ur, td.terms { direction: rtl; text-align: right; font-size: 11pt; line-height: 1.9;
  font-family: "Noto Nastaliq Urdu", "Jameel Noori Nastaleeq", "Noto Naskh Arabic",
  "Urdu Typesetting", "Noto Sans Arabic", serif; }
td.zh { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei",
  "PingFang SC", sans-serif; }
td.over { background: #f4cccc; }
col.no { width: 3%; } col.tc { width: 7%; } col.dur { width: 4%; } col.who { width: 6%; }
col.zh { width: 12%; } col.en { width: 14%; } col.ur { width: 17%; } col.terms { width: 7%; }
col.s { width: 4%; } col.notes { width: 8%; } col.clip { width: 5%; }
@media print { body { font-size: 8pt; } td.ur { font-size: 10pt; } }
"""
_HTML_CLASSES = {
    "No": "num", "In": "tc", "Out": "tc", "Duration": "tc", "Character": "who", "Chinese": "zh",
    "English": "en", "Urdu": "ur", "Terms": "terms", "Budget s": "num", "Speaking s": "num",
    "Overrun %": "num", "Notes": "notes", "Clip": "clip",
}  # fmt: skip
_HTML_COLS = ("no", "tc", "tc", "dur", "who", "zh", "en", "ur", "terms", "s", "s", "s", "notes",
              "clip")  # fmt: skip
_HTML_LANG = {"Chinese": ' lang="zh-Hans"', "English": ' lang="en"',
              "Urdu": ' dir="rtl" lang="ur"', "Terms": ' dir="rtl" lang="ur"'}  # fmt: skip


def render_html(
    lines: Sequence[ScriptLine],
    fps: float = C.DEFAULT_FPS,
    title: str = "",
    *,
    drop_frame: bool | None = None,
    syllables_per_second: float = UR_SYLLABLES_PER_SECOND,
) -> str:
    """A printable dialogue list: one table, A4 landscape, the header repeated on each page,
    Urdu right to left in a Nastaliq (or Naskh) font, lines that overrun their slot shaded."""
    drop = _drop(fps, drop_frame)

    def e(text: str) -> str:
        return html.escape(display_text(text))

    over_count = 0
    body = []
    for line in lines:
        row = _row(line, fps, drop, syllables_per_second)
        cells = []
        for header, value in row.items():
            css = _HTML_CLASSES[header]
            if header == "Overrun %" and value is not None and value > 0:
                css += " over"
                over_count += 1
            shown = "" if value is None else f"{value:.2f}" if isinstance(value, float) else value
            cells.append(f'<td class="{css}"{_HTML_LANG.get(header, "")}>{e(str(shown))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    cols = "".join(f'<col class="{c}">' for c in _HTML_COLS)
    head = "".join(f"<th>{e(h)}</th>" for h in HEADERS)
    mode = "drop-frame" if drop else "non-drop-frame"
    meta = (
        f"{len(lines)} lines · {_fps_label(fps)} fps, {mode} timecode · speaking time at "
        f"{syllables_per_second:g} syllables/s · {over_count} line(s) longer than their slot · "
        f"dubkit {__version__}"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)} — dubbing script</title>\n<style>{_HTML_STYLE}</style>\n"
        "</head>\n<body>\n"
        f'<h1>{e(title)} — dubbing script</h1>\n<p class="meta">{e(meta)}</p>\n'
        f"<table>\n<colgroup>{cols}</colgroup>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody>\n</table>\n</body>\n</html>\n"
    )


# ------------------------------------------------------------------------------ files


def script_stem(path: Path) -> str:
    """'ep1.dubscript.xlsx' → 'ep1'; 'ep1.xlsx' → 'ep1'."""
    name = path.name
    for suffix in (".dubscript.xlsx", ".xlsx"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def write_script_files(
    lines: Sequence[ScriptLine],
    outdir: Path,
    stem: str,
    fps: float = C.DEFAULT_FPS,
    *,
    title: str | None = None,
    drop_frame: bool | None = None,
    syllables_per_second: float = UR_SYLLABLES_PER_SECOND,
) -> dict[str, Path]:
    """STEM.dubscript.xlsx, .csv and .html in `outdir`, all or none."""
    from dubkit.fsutil import atomic_write_all

    shown = title if title is not None else stem
    options: dict[str, Any] = {"drop_frame": drop_frame,
                               "syllables_per_second": syllables_per_second}  # fmt: skip
    paths = {kind: outdir / f"{stem}.dubscript.{kind}" for kind in ("xlsx", "csv", "html")}
    atomic_write_all(
        {
            paths["xlsx"]: render_xlsx(lines, fps=fps, title=shown, **options),
            paths["csv"]: render_csv(lines, fps, **options),
            paths["html"]: render_html(lines, fps, shown, **options).encode("utf-8"),
        }
    )
    return paths


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True, slots=True)
class ScriptSheet:
    """What an edited workbook holds: its lines (by number) and the rate they are timed at."""

    lines: tuple[ScriptLine, ...]
    fps: float
    drop_frame: bool
    title: str


class _Problems:
    def __init__(self, name: str) -> None:
        self.name = name
        self.found: list[str] = []

    def at(self, sheet: str, row: int, column: str, header: str, what: str, fix: str) -> None:
        self.found.append(
            f"{self.name}: sheet {sheet}, row {row}, column {column} ({header}): {what}; {fix}"
        )

    def check(self) -> None:
        if len(self.found) > _MAX_PROBLEMS:
            hidden = len(self.found) - _MAX_PROBLEMS
            self.found[_MAX_PROBLEMS:] = [f"{self.name}: {hidden} more problem(s) not shown"]
        if self.found:
            raise ScriptError(self.found)


def read_xlsx(
    data: bytes, name: str, fps: float | None = None, drop_frame: bool | None = None
) -> list[ScriptLine]:
    """The lines of an edited script workbook, ordered by number (see read_script)."""
    return list(read_script(data, name, fps, drop_frame).lines)


def read_script(
    data: bytes, name: str, fps: float | None = None, drop_frame: bool | None = None
) -> ScriptSheet:
    """Read and check an edited workbook; ScriptError lists every problem, each as
    "NAME: sheet Script, row R, column C (Header): what; fix".

    Columns are found by their header in row 1 (case and spaces ignored), so they may be
    moved; extra columns are ignored; blank rows are skipped. Rows may be sorted or deleted:
    lines are identified by No and returned in number order; they must not overlap in time.
    An empty Urdu cell is kept (the line has nothing to record; import leaves it out of the
    subtitles and reports it). `fps` and `drop_frame` default to what the About sheet says,
    else 25 fps.

    Workbooks come back from outside, so what would take the machine's memory or time is
    refused in one line before it can: a zip whose directory says it unpacks to more than
    C.MAX_SCRIPT_UNPACKED_BYTES (before openpyxl opens it), a sheet whose size or rows reach
    past C.MAX_SCRIPT_ROWS rows or C.MAX_SCRIPT_COLUMNS columns (sheets are read row by
    row, never as a grid), XML that does not parse, a frame rate outside C.MIN_FPS to
    C.MAX_FPS, times after C.MAX_PROGRAMME_MS. Cells are quoted at most
    C.CELL_EXCERPT_CHARS long."""
    _check_archive(data, name)
    with warnings.catch_warnings():
        # Workbooks saved by Excel carry extensions openpyxl does not read (data validation
        # lists, slicers) and says so, at load or (read-only) as it reads a sheet; the cells
        # are what dubkit reads.
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        wb = _load(data, name)
        try:
            return _read_sheets(wb, name, fps, drop_frame)
        finally:
            wb.close()


def _read_sheets(wb: Any, name: str, fps: float | None, drop_frame: bool | None) -> ScriptSheet:
    problems = _Problems(name)
    if SHEET not in wb.sheetnames:
        sheets = ", ".join(_excerpt(display_text(n)) for n in wb.sheetnames[:10])
        raise ScriptError(
            [
                f"{name}: no sheet {SHEET!r} (sheets: {sheets}); rename the dialogue sheet "
                f"back to {SHEET!r}"
            ]
        )
    about = _read_about(wb, name, problems, fps is None)
    problems.check()
    rate = fps if fps is not None else about.get("fps", C.DEFAULT_FPS)
    try:
        if not C.MIN_FPS <= rate <= C.MAX_FPS:  # also nan
            raise ValueError(f"frame rate {rate:g} is outside {C.MIN_FPS:g}-{C.MAX_FPS:g} fps")
        nominal_fps(rate)
        if drop_frame is None and is_drop_frame_rate(rate):
            drop_frame = about.get("drop")  # the sheet's own choice, where the rate allows one
        drop = _drop(rate, drop_frame)
        if drop and not is_drop_frame_rate(rate):
            raise ValueError(f"drop-frame timecode exists only at 29.97 and 59.94 fps, not {rate}")
    except ValueError as exc:
        raise ScriptError([f"{name}: {exc}; pass --fps 25 or the programme's rate"]) from exc
    rows = _sheet_rows(wb, SHEET, name)
    columns = _header(next(rows, (1, ()))[1], problems)
    problems.check()
    found = _rows(rows, columns, rate, drop, problems)
    _check_numbers_and_overlaps(found, columns, rate, drop, problems)
    problems.check()
    lines = tuple(sorted((line for _, line in found), key=lambda s: s.number))
    return ScriptSheet(lines, rate, drop, str(about.get("title", "")))


# What openpyxl raises, at load or as it reads a sheet, for a damaged workbook: XML that does
# not parse (a SyntaxError), a missing part, a bad reference or number, a zip member cut short.
_DAMAGED = (
    SyntaxError, LookupError, ValueError, TypeError, AttributeError, ArithmeticError,
    EOFError, OSError, zipfile.BadZipFile, zlib.error,
)  # fmt: skip


def _damaged(name: str, where: str, exc: BaseException) -> ScriptError:
    reason = _excerpt(display_text(" ".join(str(exc).split())) or type(exc).__name__, 120)
    return ScriptError(
        [
            f"{name}: {where}damaged workbook ({reason}); open it in Excel and save it again "
            f"as .xlsx, or export the script again with `dubkit dubscript export`"
        ]
    )


def _check_archive(data: bytes, name: str) -> None:
    """ScriptError for what is no zip, or whose zip directory says it unpacks to more than
    C.MAX_SCRIPT_UNPACKED_BYTES: zipfile never unpacks a member past the size the directory
    gives it, so those sizes bound what openpyxl can read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ScriptError(
            [f"{name}: not an Excel workbook ({exc}); save it as .xlsx (Excel Workbook)"]
        ) from exc
    if unpacked > C.MAX_SCRIPT_UNPACKED_BYTES:
        raise ScriptError(
            [
                f"{name}: unpacks to {unpacked / 2**20:,.0f} MiB, more than the "
                f"{C.MAX_SCRIPT_UNPACKED_BYTES // 2**20} MiB a dubbing script may (a damaged "
                f"or hostile file); export the script again with `dubkit dubscript export`"
            ]
        )


def _load(data: bytes, name: str) -> Any:
    """The workbook, read-only: its sheets are parsed row by row as they are read."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except InvalidFileException as exc:
        raise ScriptError(
            [f"{name}: not an Excel workbook ({exc}); save it as .xlsx (Excel Workbook)"]
        ) from exc
    except _DAMAGED as exc:
        raise _damaged(name, "", exc) from exc


def _sheet_rows(
    wb: Any, sheet: str, name: str, columns: int = C.MAX_SCRIPT_COLUMNS
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, values of its first `columns` cells) for each row of a sheet from row 1,
    read as the XML streams by. A sheet whose <dimension> reaches past C.MAX_SCRIPT_ROWS
    rows or C.MAX_SCRIPT_COLUMNS columns is refused before a row is read; one that says it
    is smaller than it is is read to its real end (nothing below a wrong dimension is
    dropped), and refused at its first row past the cap."""
    ws = wb[sheet]
    rows, width = ws.max_row or 0, ws.max_column or 0
    where = f"sheet {sheet}"
    if rows > C.MAX_SCRIPT_ROWS or width > C.MAX_SCRIPT_COLUMNS:
        raise ScriptError(
            [
                f"{name}: {where} spans {_span(ws)} ({rows:,} rows, {width:,} "
                f"columns); a dubbing script has at most {C.MAX_SCRIPT_ROWS:,} rows and "
                f"{C.MAX_SCRIPT_COLUMNS:,} columns: delete the cells beyond its lines (Ctrl+End "
                f"finds the last one) and save it again"
            ]
        )
    ws.reset_dimensions()  # read to the sheet's real end, not to what it says it holds
    values = ws.iter_rows(min_row=1, max_col=columns, values_only=True)
    for r in itertools.count(1):
        try:
            row = next(values)
        except StopIteration:
            return
        except _DAMAGED as exc:
            raise _damaged(name, f"{where}: ", exc) from exc
        if r > C.MAX_SCRIPT_ROWS:
            raise ScriptError(
                [
                    f"{name}: {where}, row {r}: a dubbing script has at most "
                    f"{C.MAX_SCRIPT_ROWS:,} rows; delete the rows below its lines and save it "
                    f"again"
                ]
            )
        yield r, row


def _span(ws: Any) -> str:
    """The cells a sheet says it spans (its <dimension>), as Excel writes them: A1:XFD1048576."""
    from openpyxl.utils import get_column_letter

    first = f"{get_column_letter(ws.min_column or 1)}{ws.min_row or 1}"
    last = f"{get_column_letter(ws.max_column)}" if ws.max_column else ""
    return f"{first}:{last}{ws.max_row or ''}"


def _about_rate(value: Any) -> float | None:
    """The frame rate an About cell gives, when timecode can count it (None otherwise)."""
    try:
        rate = float(_text(value).strip())
    except ValueError:
        return None
    return rate if usable_rate(rate) else None


def _read_about(wb: Any, name: str, problems: _Problems, want_fps: bool) -> dict[str, Any]:
    """fps, drop and title as the About sheet records them (nothing when it is gone); its
    frame rate is checked only when it is the one used (`want_fps`: no --fps)."""
    found: dict[str, Any] = {}
    if ABOUT_SHEET not in wb.sheetnames:
        return found
    for r, (key, value, *_) in _sheet_rows(wb, ABOUT_SHEET, name, columns=2):
        if key == _ABOUT_PROGRAMME and value is not None:
            found["title"] = _text(value)
        elif key == _ABOUT_FPS and value not in (None, "") and want_fps:
            rate = _about_rate(value)
            if rate is None:
                problems.at(ABOUT_SHEET, r, "B", key,
                            f"{_excerpt(_text(value))!r} is not a frame rate",
                            f"write 25, 29.97 or another whole or NTSC rate from {C.MIN_FPS:g} "
                            f"to {C.MAX_FPS:g}, or pass --fps")  # fmt: skip
            else:
                found["fps"] = rate
        elif key == _ABOUT_TIMECODE and value in ("drop-frame", "non-drop-frame"):
            found["drop"] = value == "drop-frame"
    return found


def _header(first_row: tuple[Any, ...], problems: _Problems) -> dict[str, int]:
    """Column number (1-based) of each known header in the first row."""
    from openpyxl.utils import get_column_letter

    seen: dict[str, int] = {}
    wanted = {h.casefold(): h for h in HEADERS}
    for n, value in enumerate(first_row, start=1):
        key = " ".join(_text(value).split()).casefold()
        header = wanted.get(key)
        if header is None:
            continue
        if header in seen:
            problems.at(SHEET, 1, get_column_letter(n), header,
                        f"a second {header!r} column (the first is column "
                        f"{get_column_letter(seen[header])})",
                        "delete or rename one of them")  # fmt: skip
            continue
        seen[header] = n
    for header in READ_COLUMNS:
        if header not in seen:
            n = HEADERS.index(header) + 1
            there = _excerpt(_text(first_row[n - 1])) if n <= len(first_row) else ""
            what = f"no {header!r} column" + (f" (found {there!r} here)" if there else "")
            problems.at(SHEET, 1, get_column_letter(n), header, what,
                        f"name the column's header {header!r} again; dubkit reads columns by "
                        "their header")  # fmt: skip
    return seen


def _rows(
    rows: Iterable[tuple[int, tuple[Any, ...]]],
    columns: Mapping[str, int],
    fps: float,
    drop: bool,
    problems: _Problems,
) -> list[tuple[int, ScriptLine]]:
    from openpyxl.utils import get_column_letter

    letters = {h: get_column_letter(n) for h, n in columns.items()}
    found = []
    for r, values in rows:

        def get(header: str, values: tuple[Any, ...] = values) -> Any:
            n = columns[header]
            return values[n - 1] if n <= len(values) else None

        if all(_text(get(h)).strip() == "" for h in READ_COLUMNS):
            continue  # a blank row

        def bad(header: str, what: str, fix: str, r: int = r) -> None:
            problems.at(SHEET, r, letters[header], header, what, fix)

        number = _number(get("No"), lambda what, fix: bad("No", what, fix))
        start = _time(get("In"), fps, drop, lambda what, fix: bad("In", what, fix))
        end = _time(get("Out"), fps, drop, lambda what, fix: bad("Out", what, fix))
        if start is not None and end is not None and end < start:
            bad("Out", f"Out {_text(get('Out')).strip()} is before In "
                       f"{_text(get('In')).strip()}",
                "make Out the end of the line, after In")  # fmt: skip
            continue
        if number is None or start is None or end is None:
            continue
        terms = tuple(t for t in _text(get("Terms")).split("\n") if t)
        found.append(
            (
                r,
                ScriptLine(
                    number=number,
                    start_ms=start,
                    end_ms=end,
                    character=_text(get("Character")),
                    zh=_text(get("Chinese")),
                    en=_text(get("English")),
                    ur=_text(get("Urdu")),
                    terms=terms,
                    notes=_text(get("Notes")),
                    clip=_text(get("Clip")),
                ),
            )
        )
    return found


def _check_numbers_and_overlaps(
    rows: list[tuple[int, ScriptLine]],
    columns: Mapping[str, int],
    fps: float,
    drop: bool,
    problems: _Problems,
) -> None:
    from openpyxl.utils import get_column_letter

    row_of: dict[int, int] = {}
    for r, line in rows:
        if line.number in row_of:
            problems.at(SHEET, r, get_column_letter(columns["No"]), "No",
                        f"line number {line.number} is also used in row {row_of[line.number]}",
                        "give each line its own number")  # fmt: skip
        else:
            row_of[line.number] = r
    timed = sorted(rows, key=lambda rl: (rl[1].start_ms, rl[1].end_ms, rl[1].number))
    for (_, a), (r, b) in pairwise(timed):
        if b.start_ms < a.end_ms:
            problems.at(SHEET, r, get_column_letter(columns["In"]), "In",
                        f"line {b.number} starts at {ms_to_smpte(b.start_ms, fps, drop)}, "
                        f"before line {a.number} (row {row_of.get(a.number, '?')}) ends at "
                        f"{ms_to_smpte(a.end_ms, fps, drop)}",
                        "move one of them so that the lines do not overlap")  # fmt: skip


def _text(value: Any) -> str:
    """A cell as text: numbers as typed (2.0 → '2'), dates in ISO form, CR LF as LF."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


def _excerpt(text: str, limit: int = C.CELL_EXCERPT_CHARS) -> str:
    """`text` as a message quotes it: at most `limit` characters."""
    return text if len(text) <= limit else text[:limit] + "…"


_NUMBER_DIGITS = len(str(C.MAX_SCRIPT_LINE_NUMBER))


def _number(value: Any, bad: Callable[[str, str], None]) -> int | None:
    shown = _excerpt(_text(value).strip())
    fix = "number the line (a new line takes a number not used yet)"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        digits = value.strip().lstrip("0") or "0"
        # int() refuses thousands of digits itself; more digits than the cap is too large
        value = int(digits) if len(digits) <= _NUMBER_DIGITS else C.MAX_SCRIPT_LINE_NUMBER + 1
    if isinstance(value, bool) or not isinstance(value, int):
        bad(f"line number is {'empty' if shown == '' else repr(shown)}, not a whole number", fix)
        return None
    if value < 1:
        bad(f"line number {shown} is below 1", "number lines from 1")
        return None
    if value > C.MAX_SCRIPT_LINE_NUMBER:
        bad(f"line number {shown} is above {C.MAX_SCRIPT_LINE_NUMBER:,}", fix)
        return None
    return value


def _time(value: Any, fps: float, drop: bool, bad: Callable[[str, str], None]) -> int | None:
    text = _text(value).strip()
    example = "00:01:05;00" if drop else "00:01:05:00"
    if not isinstance(value, str) or not text:
        what = (
            "empty timecode"
            if not text
            else f"{_excerpt(text)!r} is a number or date, not timecode"
        )
        bad(what, f"write HH:MM:SS:FF as text at {_fps_label(fps)} fps, e.g. {example}")
        return None
    try:
        ms = smpte_to_ms(text, fps, drop)
    except ValueError as exc:
        bad(f"bad timecode: {exc}", f"write HH:MM:SS:FF at {_fps_label(fps)} fps, e.g. {example}")
        return None
    if ms > C.MAX_PROGRAMME_MS:
        last = frames_to_smpte(ms_to_frame_floor(C.MAX_PROGRAMME_MS, fps), fps, drop)
        bad(f"{text} is after {last}, the last time ASS subtitles can hold",
            "dubkit takes programmes under 10 hours: split this one into parts")  # fmt: skip
        return None
    return ms


# ------------------------------------------------------------------------------ import


@dataclass(frozen=True, slots=True)
class ImportResult:
    source: Path
    outputs: dict[str, Path]
    lines: int
    cues: int
    without_urdu: tuple[int, ...]  # line numbers with an empty Urdu cell
    changed: tuple[int, ...]  # line numbers whose Urdu differs from the SRT it replaced
    approved: int  # pairs approved in the translation memory
    # Changed lines with Chinese and Urdu left out of the memory: their Chinese is not the
    # programme's at their time, or there was no Chinese SRT (chinese None) to check it.
    not_approved: tuple[int, ...] = ()
    chinese: Path | None = None  # the programme's Chinese SRT the lines were checked against
    placement: str | None = None  # how STEM.ur.ass was placed again, as the one it replaced


# How import places the new Urdu ASS as the one it replaces was placed (over or above the
# subtitles burned into the picture): (the new script, the ASS files it replaces, first
# found first) → (the script placed, a line saying how, or None when nothing was placed).
# Placement is the episode layer's (episode.burn.place_as_before): the CLI passes it in.
PlaceAss = Callable[[str, Sequence[Path]], tuple[str, str | None]]


class Approver(Protocol):
    """What import needs of the translation memory (dubkit.translate.memory.SqliteMemory)."""

    def approve(self, source: str, target: str, pairs: Mapping[str, str], note: str) -> int: ...


def import_script(
    xlsx: Path,
    outdir: Path | None = None,
    *,
    fps: float | None = None,
    drop_frame: bool | None = None,
    memory: Approver | None = None,
    style: UrduStyle | None = None,
    bom: bool = False,
    zh: Path | None = None,
    place: PlaceAss | None = None,
) -> ImportResult:
    """An edited STEM.dubscript.xlsx → STEM.ur.srt, .ur.vtt, .ur.ass (Urdu normalised with
    `style`, the sheet's timings) and STEM.dubscript.json (every line with its character
    and notes, so nothing typed is lost); the workbook is left untouched.

    Lines whose Urdu changed against the STEM.ur.srt being replaced (matched by time), or
    every line when there is none, are approved in `memory` (a SqliteMemory, or None) as
    Chinese → Urdu pairs, but only where the Chinese cell is what the programme's Chinese
    SRT (`zh`, default STEM.zh.srt in `outdir`, else beside the workbook) has at the line's
    time, as export placed it: an edited Chinese cell never plants a pair in the memory that
    serves later programmes. Unchanged lines whose In/Out still name the frames of the old
    subtitle keep its exact milliseconds, so their SRT entries stay byte for byte.

    `place`: how the new STEM.ur.ass is placed as the one it replaces was (run's
    `--cover-burned` boxes over the burned Chinese, or its lines above them); None: as
    styled. It may refuse (a DubkitError) before anything is written."""
    from dubkit.fsutil import atomic_write_all, display_path, ensure_writable_dir
    from dubkit.subtitles.formats import render_ass, render_vtt
    from dubkit.subtitles.writers import render_srt

    name = display_path(xlsx)
    data = _workbook_bytes(xlsx, name)
    sheet = read_script(data, name, fps, drop_frame)
    stem = script_stem(xlsx)
    folder = ensure_writable_dir(outdir if outdir is not None else xlsx.parent)
    paths = {
        "ur": folder / f"{stem}.ur.srt",
        "ur.vtt": folder / f"{stem}.ur.vtt",
        "ur.ass": folder / f"{stem}.ur.ass",
        "json": folder / f"{stem}.dubscript.json",
    }
    existing = _existing_cues(paths["ur"])
    # the output folder's first: a sheet sent back with a Chinese SRT of its own beside it
    # must not choose what its edited lines are checked against
    chinese = _chinese_srt(zh, [folder / f"{stem}.zh.srt", xlsx.parent / f"{stem}.zh.srt"])
    zh_cues = _chinese_cues(chinese) if memory is not None and chinese is not None else None
    # Read before anything is written: a Chinese SRT that cannot be read stops the import.
    timed = list(sheet.lines)
    if existing is not None:
        timed = keep_existing_times(timed, existing, sheet.fps, sheet.drop_frame)
    chosen = style or UrduStyle()
    cues = line_cues(timed, lambda text: normalise(text, chosen))
    changed = changed_lines(sheet.lines, existing)
    pairs, not_approved = ({}, ()) if memory is None else _approvable(changed, timed, zh_cues)
    without = tuple(line.number for line in sheet.lines if not ur_plain(line.ur))
    doc = _sidecar(name, sheet, timed, without, [line.number for line in changed])
    ass, placed = render_ass(cues, language="ur"), None
    if place is not None:
        ass, placed = place(ass, [paths["ur.ass"], xlsx.parent / f"{stem}.ur.ass"])
    atomic_write_all(
        {
            paths["ur"]: (("\ufeff" if bom else "") + render_srt(cues)).encode("utf-8"),
            paths["ur.vtt"]: render_vtt(cues).encode("utf-8"),
            paths["ur.ass"]: ass.encode("utf-8"),
            paths["json"]: render_json(doc).encode("utf-8"),
        }
    )
    approved = 0
    if memory is not None and pairs:
        approved = memory.approve("zh", "ur", pairs, note=f"dubscript:{display_text(xlsx.name)}")
    return ImportResult(
        source=xlsx,
        outputs=paths,
        lines=len(sheet.lines),
        cues=len(cues),
        without_urdu=without,
        changed=tuple(line.number for line in changed),
        approved=approved,
        not_approved=not_approved,
        chinese=chinese,
        placement=placed,
    )


def _workbook_bytes(xlsx: Path, name: str) -> bytes:
    """The workbook file's bytes. What is no regular file (a FIFO would hang the read, a
    device fill memory) or larger than C.MAX_SCRIPT_XLSX_BYTES is refused unread."""
    from dubkit.fsutil import NotReadable, read_limited

    cap = C.MAX_SCRIPT_XLSX_BYTES
    try:
        return read_limited(xlsx, cap)
    except FileNotFoundError as exc:
        raise ScriptError([f"{name}: no such file"], path=xlsx) from exc
    except NotReadable as exc:
        if exc.code == "not-a-file":
            raise ScriptError([f"{name}: not a file; give the edited .xlsx"], path=xlsx) from exc
        raise ScriptError(
            [
                f"{name}: {exc.size / 2**20:,.0f} MiB, more than the {cap // 2**20} MiB a "
                f"dubbing script may; give the STEM.dubscript.xlsx that `dubkit dubscript "
                f"export` wrote, edited"
            ],
            path=xlsx,
        ) from exc
    except OSError as exc:
        raise ScriptError([f"{name}: cannot read ({exc.strerror or exc})"], path=xlsx) from exc


def _chinese_srt(given: Path | None, beside: Sequence[Path]) -> Path | None:
    """The programme's Chinese SRT: the one given, else the first of `beside` there is."""
    if given is not None:
        return given
    return next((path for path in beside if path.is_file()), None)


def _chinese_cues(path: Path) -> list[Cue]:
    from dubkit.subtitles.files import read_srt

    return list(read_srt(path).cues)


def _approvable(
    changed: Sequence[ScriptLine], timed: Sequence[ScriptLine], zh_cues: Sequence[Cue] | None
) -> tuple[dict[str, str], tuple[int, ...]]:
    """Chinese → Urdu pairs of the changed lines whose Chinese is the programme's at their
    time, and the numbers of the other changed lines (all of them without `zh_cues`)."""
    source = _source_chinese(timed, zh_cues) if zh_cues is not None else {}
    pairs: dict[str, str] = {}
    skipped: list[int] = []
    for line in changed:
        zh, ur = line.zh.strip(), ur_plain(line.ur)
        if not zh or not ur:
            continue  # nothing to pair
        if source.get(line.number) == zh:
            pairs[zh] = ur
        else:
            skipped.append(line.number)
    return pairs, tuple(skipped)


def _source_chinese(lines: Sequence[ScriptLine], zh_cues: Sequence[Cue]) -> dict[int, str]:
    """Line number → the Chinese export puts on a line at that time (build_script's rule),
    as a cell holds it."""
    ordered = sorted(lines, key=lambda s: (s.start_ms, s.end_ms, s.number))
    targets = [Cue(s.number, s.start_ms, s.end_ms, ()) for s in ordered]
    placed = build_script(targets, zh_cues, None, None)
    return {s.number: _cell_text(p.zh).strip() for s, p in zip(ordered, placed, strict=True)}


def _existing_cues(path: Path) -> list[Cue] | None:
    """The cues of the SRT about to be replaced (None when there is none or it is unreadable:
    then every line counts as changed)."""
    from dubkit.subtitles.files import read_srt

    if not path.is_file():
        return None
    try:
        return list(read_srt(path).cues)
    except DubkitError:
        return None


def _sidecar(
    name: str,
    sheet: ScriptSheet,
    timed: Sequence[ScriptLine],
    without: Sequence[int],
    changed: Sequence[int],
) -> dict[str, Any]:
    """STEM.dubscript.json: every line as imported, with the operator's characters and notes."""
    drop = sheet.drop_frame
    return {
        "dubkit_version": __version__,
        "source": name,
        "programme": sheet.title,
        "fps": sheet.fps,
        "drop_frame": drop,
        "lines": [
            {
                "number": line.number,
                "in": ms_to_smpte(line.start_ms, sheet.fps, drop),
                "out": ms_to_smpte(line.end_ms, sheet.fps, drop),
                "start_ms": line.start_ms,
                "end_ms": line.end_ms,
                "character": line.character,
                "zh": line.zh,
                "en": line.en,
                "ur": line.ur,
                "terms": list(line.terms),
                "notes": line.notes,
                "clip": line.clip,
            }
            for line in sorted(timed, key=lambda s: s.number)
        ],
        "without_urdu": list(without),
        "changed": list(changed),
    }
