"""`dubkit dubscript`: the dubbing script studios edit (Excel, CSV, printable HTML), and
importing the edited workbook back into Urdu subtitles and the translation memory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dubkit.cli.options import (
    BidiOpt,
    BomOpt,
    CacheOpt,
    ConfigOpt,
    DigitsOpt,
    GlossaryOpt,
    MemoryOpt,
    NoMemoryOpt,
    OutDirBeside,
    TimecodeFpsOpt,
)

if TYPE_CHECKING:
    from dubkit.dubbing.files import ImportResult

dub_app = typer.Typer(
    help="Dubbing scripts: write them as Excel, CSV and HTML; import the edited Excel.",
    no_args_is_help=True,
)


@dub_app.command("import")
def import_(
    xlsx: Annotated[Path, typer.Argument(help="The edited STEM.dubscript.xlsx.")],
    outdir: OutDirBeside = None,
    fps: TimecodeFpsOpt = None,
    memory: MemoryOpt = None,
    cache: CacheOpt = None,
    no_memory: NoMemoryOpt = False,
    bom: BomOpt = None,
    digits: DigitsOpt = None,
    bidi: BidiOpt = None,
    zh: Annotated[
        Path | None,
        typer.Option(
            "--zh",
            help="The programme's Chinese SRT (default: STEM.zh.srt in -o, else beside the "
            "workbook).",
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Regenerate STEM.ur.srt, .ur.vtt and .ur.ass from the edited Urdu lines and timings,
    write every line with its character and notes to STEM.dubscript.json, and approve the
    lines whose Urdu changed (against the STEM.ur.srt replaced; all lines when there is none)
    in the translation memory, where their Chinese is the programme's (STEM.zh.srt) at their
    time (--no-cache: none). The workbook itself is not changed. Use the --digits and --bidi
    the translation was made with, so that unchanged lines stay as they were; these, --bom,
    --memory and --cache default to the translate section of dubkit.toml, as for `run`. An
    STEM.ur.ass that `run` placed over (--cover-burned) or above the burned subtitles is
    placed the same way again, from STEM.ocr.json beside it."""
    from dubkit.cli.console import fail, make_console
    from dubkit.config import load_config
    from dubkit.dubbing.files import ScriptError, import_script
    from dubkit.episode.burn import place_as_before
    from dubkit.episode.setup import Translation
    from dubkit.fsutil import display_path

    console = make_console()
    given = {
        "memory": str(memory) if memory else None, "cache": False if no_memory else cache,
        "bom": bom, "digits": digits, "bidi_marks": bidi,
    }  # fmt: skip
    mt = Translation(load_config(config), given, None)  # flags over dubkit.toml, as `run`
    settings = mt.settings
    try:
        # STEM.ur.ass is placed again as run placed the one it replaces (--cover-burned)
        if not mt.cache:
            result = import_script(
                xlsx, outdir, fps=fps, style=settings.style, bom=settings.bom,
                place=place_as_before,
            )  # fmt: skip
        else:
            from dubkit.translate.memory import SqliteMemory

            with SqliteMemory(mt.memory_path) as tm:
                result = import_script(
                    xlsx, outdir, fps=fps, memory=tm, style=settings.style, bom=settings.bom,
                    zh=zh, place=place_as_before,
                )  # fmt: skip
    except ScriptError as exc:
        for problem in exc.problems[:-1]:
            console.print(f"error: {problem}", markup=False)
        fail(console, exc.problems[-1])
    if result.without_urdu:
        numbers = ", ".join(map(str, result.without_urdu))
        console.print(
            f"notice: line(s) {numbers} have no Urdu and are left out of the subtitles",
            markup=False,
        )
    if result.not_approved:
        console.print(_not_approved(result), markup=False)
    if result.placement is not None:
        console.print(f"notice: {result.placement}", markup=False)
    if mt.cache:
        memory_note = f"{result.approved} changed line(s) approved in the translation memory"
    elif cache is False or no_memory:
        memory_note = "memory not updated (--no-cache)"
    else:
        memory_note = "memory not updated ([translate] cache = false in dubkit.toml)"
    console.print(
        f"{display_path(result.outputs['ur'])}: {result.cues} cues from {result.lines} "
        f"lines; {memory_note}",
        markup=False,
    )


def _not_approved(result: ImportResult) -> str:
    """The warning for changed lines left out of the memory, and why."""
    from dubkit.dubbing.files import script_stem
    from dubkit.escape import display_text

    numbers = ", ".join(map(str, result.not_approved[:10]))
    more = f" and {len(result.not_approved) - 10} more" if len(result.not_approved) > 10 else ""
    head = (
        f"warning: {len(result.not_approved)} changed line(s) not approved in the translation "
        f"memory (lines {numbers}{more}): "
    )
    if result.chinese is None:
        stem = script_stem(result.source)
        return (
            f"{head}no {display_text(stem)}.zh.srt beside {display_text(result.source.name)} "
            f"to check their Chinese against; pass --zh with the programme's Chinese SRT"
        )
    return (
        f"{head}their Chinese is not what {display_text(result.chinese.name)} has at their "
        f"time; correct the Urdu only, or import a TMX with `dubkit memory import`"
    )


@dub_app.command("export")
def export(
    ur_srt: Annotated[Path, typer.Argument(help="The Urdu subtitles, STEM.ur.srt.")],
    zh: Annotated[
        Path | None, typer.Option("--zh", help="Chinese SRT (default: STEM.zh.srt beside).")
    ] = None,
    en: Annotated[
        Path | None, typer.Option("--en", help="English pivot SRT (default: STEM.en.srt beside).")
    ] = None,
    glossary: GlossaryOpt = None,
    outdir: OutDirBeside = None,
    fps: TimecodeFpsOpt = None,
    title: Annotated[str | None, typer.Option(help="Programme title (default: STEM).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Write STEM.dubscript.xlsx, .csv and .html: one line per Urdu cue with its timecodes,
    the Chinese and English it renders, the glossary terms, and whether it fits its slot."""
    from dubkit.cli.console import fail, make_console
    from dubkit.config import load_config
    from dubkit.constants import DEFAULT_FPS
    from dubkit.dubbing.files import write_script_files
    from dubkit.dubbing.script import build_script
    from dubkit.episode.pipeline import cue_rate
    from dubkit.episode.setup import load_glossaries
    from dubkit.fsutil import display_path, ensure_writable_dir
    from dubkit.subtitles.files import read_srt, subtitle_stem

    console = make_console()
    terms = load_glossaries(load_config(config), glossary)  # flags over dubkit.toml, as `run`
    stem = subtitle_stem(ur_srt, "ur")
    zh = zh or _beside(ur_srt, stem, "zh")
    en = en or _beside(ur_srt, stem, "en")
    try:
        ur_cues = read_srt(ur_srt).cues
        zh_cues = read_srt(zh).cues if zh else ()
        en_cues = read_srt(en).cues if en else None
        lines = build_script(ur_cues, zh_cues, en_cues, terms)
        folder = ensure_writable_dir(outdir or ur_srt.parent)
        rate = fps or cue_rate(ur_srt.with_name(f"{stem}.asr.json")) or DEFAULT_FPS
        paths = write_script_files(lines, folder, stem, rate, title=title)
    except ValueError as exc:  # a rate SMPTE cannot count, a cue past 24 hours
        fail(console, f"{display_path(ur_srt)}: {exc}; check --fps and the cue times")
    console.print(
        f"{display_path(paths['xlsx'])}: {len(lines)} lines (and .csv, .html)", markup=False
    )


def _beside(ur_srt: Path, stem: str, language: str) -> Path | None:
    path = ur_srt.parent / f"{stem}.{language}.srt"
    return path if path.is_file() else None
