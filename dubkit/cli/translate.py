"""`dubkit translate`: Chinese SRT to Urdu subtitles through the installed route."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dubkit import __version__
from dubkit.cli.common import (
    check_subtitle_files,
    ensure_writable,
    load_steps,
    report_adherence,
    step_summary,
)
from dubkit.cli.console import (
    fail,
    make_console,
    notice,
    status_spinner,
)
from dubkit.cli.options import (
    PICTURE,
    BatchTokensOpt,
    BidiOpt,
    BomOpt,
    CacheOpt,
    ComputeOpt,
    ConfigOpt,
    DeviceOpt,
    DigitsOpt,
    EncodingOpt,
    GlossaryOpt,
    JsonOpt,
    LayoutOpt,
    MemoryOpt,
    MtBeamOpt,
    OutDir,
    PackagesOpt,
    PivotOpt,
    PivotSrtOpt,
    RouteOpt,
    ThreadsOpt,
    UrProfileOpt,
    with_options,
)
from dubkit.errors import DubkitError
from dubkit.escape import display_text, render_json
from dubkit.fsutil import display_path


@with_options(PICTURE)
def translate(
    srt: Annotated[list[Path], typer.Argument(help="Chinese subtitle files (STEM.zh.srt).")],
    outdir: OutDir = Path("."),
    pivot_srt: PivotSrtOpt = False,
    route: RouteOpt = None,
    pivot: PivotOpt = None,
    packages: PackagesOpt = None,
    device: DeviceOpt = None,
    compute_type: ComputeOpt = None,
    beam_size: MtBeamOpt = None,
    batch_tokens: BatchTokensOpt = None,
    threads: ThreadsOpt = 0,
    cache: CacheOpt = None,
    memory: MemoryOpt = None,
    bom: BomOpt = None,
    bidi: BidiOpt = None,
    digits: DigitsOpt = None,
    encoding: EncodingOpt = None,
    glossary: GlossaryOpt = None,
    layout: LayoutOpt = None,
    ur_profile: UrProfileOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    **options: Any,
) -> None:
    """Translate Chinese SRT files into STEM.ur.srt (sentence by sentence, re-timed under the
    Urdu profile; `--layout cue` keeps the Chinese cues and timing). Beside a programme
    whose picture was read (--source ocr|auto, `dubkit ocr`), `--pivot-from burned`
    translates from its English (STEM.en.srt, as corrected) and STEM.ur.ass is placed as
    `run` places it (`--cover-burned`: over the burned Chinese)."""
    from dubkit.episode.pipeline import translate_file
    from dubkit.episode.setup import Translation, load_glossaries

    console = make_console()
    from dubkit.config import load_config

    cfg = load_config(config)
    mt = Translation(
        cfg,
        {
            "route": route, "pivot": pivot, "device": device, "compute_type": compute_type,
            "beam_size": beam_size, "max_batch_tokens": batch_tokens, "cache": cache,
            "memory": str(memory) if memory else None, "bom": bom, "bidi_marks": bidi,
            "digits": digits, "layout": layout, "profile": ur_profile,
        },
        packages,
        threads=threads,
        pivot_srt=pivot_srt,
        encoding=encoding,
        pivot_from=options["pivot_from"],
        cover_burned=options["cover_burned"],
    )  # fmt: skip
    ensure_writable(outdir)
    terms = load_glossaries(cfg, glossary)
    found = mt.route()
    if found is None:
        fail(console, mt.no_route())
    srt, failures = check_subtitle_files(console, srt, encoding)
    if not srt:
        raise typer.Exit(1)
    steps = load_steps(console, found, mt.options)
    tm = mt.memory()
    if pivot_srt and found.kind == "direct":
        notice(console, f"--pivot-srt: the route {found.description} has no pivot language")
    results: list[Any] = []
    for path in srt:
        try:
            with status_spinner(console)(f"translating {display_text(path.name)}…"):
                result = translate_file(path, outdir, steps, tm, mt.settings, terms)
        except DubkitError as exc:
            console.print(f"error: {exc}", markup=False)
            failures.append((path, str(exc)))
            continue
        results.append(result)
        for repair in result.repairs:
            console.print(f"repaired: {repair}", markup=False)
        for note in result.notes:
            console.print(f"warning: {note}", markup=False)
        outs = ", ".join(display_path(p) for p in result.outputs.values())
        console.print(
            f"{display_path(path)}: {result.cues} cues ({step_summary(result)}) via "
            f"{found.description} in {result.seconds:.1f} s → {outs}",
            markup=False,
        )
        report_adherence(console, path, result.adherence, terms)
    if tm is not None:
        tm.close()
    if as_json:
        summary = {
            "dubkit_version": __version__,
            "route": found.description,
            "steps": [s.description for s in steps],
            "files": [r.to_dict() for r in results]
            + [{"source": display_path(p), "error": e} for p, e in failures],
        }
        typer.echo(render_json(summary), nl=False)
    if failures:
        raise typer.Exit(1)
