"""`dubkit qa`: check finished subtitles against a profile, the Urdu conventions and the
glossary; a table of flagged cues, an HTML report, JSON on request; exit 1 as a gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dubkit.cli.options import (
    CheckProfileOpt,
    ConfigOpt,
    EncodingOpt,
    GlossaryOpt,
    JsonOpt,
    OutDirBeside,
    SourceSrtOpt,
)

# The options only `qa` has; the shared ones come from dubkit.cli.options.
SubsArg = Annotated[
    Path, typer.Argument(help="Subtitles to check (STEM.ur.srt; .vtt and .ass where supported).")
]
HtmlOpt = Annotated[
    Path | None, typer.Option("--html", help="Write the HTML report here (default STEM.qa.html).")
]
NoHtmlOpt = Annotated[bool, typer.Option("--no-html", help="Write no HTML report.")]
WarnOnlyOpt = Annotated[
    bool, typer.Option("--warn-only", help="Report problems but exit 0 (not a gate).")
]


def qa(
    subs: SubsArg,
    profile: CheckProfileOpt = None,
    config: ConfigOpt = None,
    glossary: GlossaryOpt = None,
    source: SourceSrtOpt = None,
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
    no_html: NoHtmlOpt = False,
    outdir: OutDirBeside = None,
    warn_only: WarnOnlyOpt = False,
    encoding: EncodingOpt = None,
) -> None:
    """Check subtitles: line length and count, reading speed, duration, gaps, overlaps, order,
    frame boundaries, empty cues, Arabic look-alike letters, mixed digits, missing bidi marks,
    Latin punctuation after Urdu, and with --source (the Chinese SRT) and a glossary
    (--glossary, glossary.files of dubkit.toml) the approved terms. Prints the flagged
    cues, writes STEM.qa.html (a reading-speed chart and every cue) unless --no-html, and
    the whole report as JSON with --json. A gate: exit 1 when any cue breaks a rule,
    when the file had to be repaired to be read (overlapping, unordered or empty cues, bad
    indices) or cannot be read at all; 0 when everything passes. --warn-only exits 0 unless
    the file cannot be read.
    """
    from dubkit.cli.console import fail, make_console
    from dubkit.config import load_config
    from dubkit.episode.check import check_subtitles

    console = make_console()
    if html is not None and no_html:
        fail(console, "--html and --no-html contradict each other; choose one")
    if glossary and source is None:
        fail(console, "--glossary needs --source ZH.srt, the Chinese cues the subtitles render")
    cfg = load_config(config)
    report, html_path = check_subtitles(
        subs, profile, cfg, glossary, source, html, no_html, outdir, encoding
    )
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_table(report)
    for repair in report["repairs"]:
        console.print(f"repaired: {repair}", markup=False)
    if report["structure_error"]:
        console.print(f"file: {report['structure_error']}", markup=False)
    console.print(_summary_line(report, html_path), markup=False)
    if not report["passed"] and not warn_only:
        raise typer.Exit(1)


def _print_table(report: dict[str, Any]) -> None:
    """The flagged cues, one row each, on stdout."""
    from dubkit.cli.console import Table, print_table
    from dubkit.cli.console import plain as Text
    from dubkit.text.reading import visible
    from dubkit.timecode import clock

    flagged = [c for c in report["cues"] if c["flags"]]
    if not flagged:
        return
    table = Table(title=f"{report['file']}: flagged cues")
    for column, justify in (("#", "right"), ("in", "left"), ("out", "left"), ("cps", "right")):
        table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("text", max_width=32)
    table.add_column("flags")
    for c in flagged:
        text = " / ".join(visible(line) for line in c["lines"])
        table.add_row(
            str(c["index"]),
            clock(c["start_ms"]),
            clock(c["end_ms"]),
            "–" if c["cps"] is None else f"{c['cps']:.1f}",
            Text(text if len(text) <= 60 else text[:59] + "…"),
            Text("\n".join(f"{f['code']}: {f['reason']}" for f in c["flags"])),
        )
    print_table(table)


def _summary_line(report: dict[str, Any], html_path: Path | None) -> str:
    from dubkit.fsutil import display_path

    s = report["summary"]
    parts = [f"{s['cues']} cues, {s['clean']} clean ({s['clean_percent']}%)"]
    if report["structure_error"]:
        parts.append(f"{len(report['repairs'])} repairs needed to read it")
    if s["worst_cue"] is not None:
        speed = "a 0 ms cue" if s["worst_cps"] is None else f"{s['worst_cps']} cps"
        parts.append(f"fastest {speed} (cue {s['worst_cue']})")
    if s["counts"]:
        parts.append(", ".join(f"{code} {n}" for code, n in s["counts"].items()))
    rate = ((report.get("glossary") or {}).get("adherence") or {}).get("rate")
    if report.get("glossary") is not None:
        adherence = report["glossary"]["adherence"]
        parts.append(
            "glossary: no terms"
            if rate is None
            else f"glossary {100 * rate:.1f}% ({adherence['found']}/{adherence['terms']})"
        )
    if html_path is not None:
        parts.append(f"report {display_path(html_path)}")
    verdict = "PASS" if report["passed"] else "FAIL"
    return f"{verdict} {report['file']}: " + "; ".join(parts)
