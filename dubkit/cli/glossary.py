"""`dubkit glossary`: check, add, show, measure, export and import glossary terms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dubkit.cli.console import (
    fail,
    make_console,
)
from dubkit.cli.options import (
    ConfigOpt,
    CsvBomOpt,
    EncodingOpt,
    GlossaryOpt,
    JsonOpt,
    RenderingSourceOpt,
)
from dubkit.errors import DubkitError

glossary_app = typer.Typer(
    help="Check, edit, search and exchange terminology glossaries (YAML).", no_args_is_help=True
)

GlossaryFiles = Annotated[list[Path], typer.Argument(help="Glossary YAML files.")]


@glossary_app.command("check")
def glossary_check(
    files: GlossaryFiles,
    fix: Annotated[
        bool, typer.Option("--fix", help="Apply the safe fixes in place (comments kept).")
    ] = False,
) -> None:
    """Every YAML, schema and orthography problem as FILE:LINE:COL; exit 1 on errors."""
    from dubkit.adapters.chinese import to_simplified
    from dubkit.glossary.files import apply_fixes, check_files

    console = make_console()
    loaded, issues = check_files(files, to_simplified)
    fixed = 0
    if fix:
        for file in loaded:
            fixed += apply_fixes(file, issues)
        if fixed:
            loaded, issues = check_files(files, to_simplified)
    for issue in issues:
        typer.echo(str(issue))
    errors = sum(i.severity == "error" for i in issues)
    warnings = len(issues) - errors
    terms = sum(len(f.glossary.terms) for f in loaded if f.glossary is not None)
    summary = f"{len(loaded)} file(s), {terms} terms: {errors} error(s), {warnings} warning(s)"
    if fix:
        summary += f", {fixed} fixed"
    fixable = sum(i.fix is not None for i in issues)
    if fixable and not fix:
        summary += f"; {fixable} can be fixed with --fix"
    console.print(summary, markup=False)
    if errors:
        raise typer.Exit(1)


@glossary_app.command("add")
def glossary_add(
    file: Annotated[Path, typer.Argument(help="Glossary YAML to add the term to.")],
    zh: Annotated[str, typer.Option(help="Chinese (Simplified) form.")],
    ur: Annotated[str | None, typer.Option(help="Approved Urdu rendering.")] = None,
    en: Annotated[str | None, typer.Option(help="English (pivot) rendering.")] = None,
    variant: Annotated[list[str] | None, typer.Option(help="Another Chinese form.")] = None,
    misheard: Annotated[list[str] | None, typer.Option(help="A common mis-hearing.")] = None,
    short: Annotated[str | None, typer.Option(help="Short Urdu form.")] = None,
    type_: Annotated[str, typer.Option("--type", help="person, organisation, place, ...")] = "term",
    do_not_translate: Annotated[bool, typer.Option(help="Keep the source form.")] = False,
    forbidden: Annotated[list[str] | None, typer.Option(help="A rendering not to use.")] = None,
    note: Annotated[str | None, typer.Option(help="A note for translators.")] = None,
    source: RenderingSourceOpt = None,
    approved: Annotated[str | None, typer.Option(help="Approval date YYYY-MM-DD.")] = None,
) -> None:
    """Add a term at the end of the file's list; the rest of the file stays as it is."""
    from dubkit.glossary.files import add_entry

    console = make_console()
    entry = {
        "zh": zh, "ur": ur, "en": en, "variants": variant or [], "misheard": misheard or [],
        "short": short, "type": type_, "do_not_translate": do_not_translate,
        "forbidden": forbidden or [], "note": note, "source": source, "approved": approved,
    }  # fmt: skip
    from dubkit.adapters.chinese import to_simplified

    add_entry(file, {k: v for k, v in entry.items() if v not in (None, "", [])}, to_simplified)
    console.print(f"{file}: added {zh}", markup=False)


@glossary_app.command("show")
def glossary_show(
    files: GlossaryFiles,
    query: Annotated[
        str, typer.Option("--query", "-q", help="Text to look for in any field.")
    ] = "",
) -> None:
    """Entries whose Chinese, Urdu, English or note contains QUERY (all when empty)."""
    from dubkit.cli.console import Table, print_table

    terms = _named_terms(files)
    needle = query.casefold()
    table = Table(title=f"terms matching {query!r}" if query else "terms")
    for column in ("zh", "ur", "en", "type", "glossary"):
        table.add_column(column)
    shown = 0
    for t in terms.terms:
        fields = (t.zh, t.ur, t.en, t.short, t.note, *t.variants, *t.misheard)
        if needle and not any(needle in f.casefold() for f in fields):
            continue
        forms = " / ".join((t.zh, *t.variants))
        table.add_row(forms, t.rendering("ur"), t.en, t.type, f"{t.file}:{t.line}")
        shown += 1
    print_table(table)
    if not shown:
        raise typer.Exit(1)


@glossary_app.command("coverage")
def glossary_coverage(
    episode: Annotated[Path, typer.Argument(help="STEM.zh.srt (.vtt, .ass) or STEM.asr.json.")],
    glossary: GlossaryOpt = None,
    config: ConfigOpt = None,
    encoding: EncodingOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Which glossary terms occur in an episode's Chinese, and in which cues or segments."""
    from dubkit.config import load_config
    from dubkit.episode.setup import load_glossaries
    from dubkit.glossary.coverage import episode_coverage

    console = make_console()
    terms = load_glossaries(load_config(config), glossary)
    if terms is None:
        why = "name at least one glossary: --glossary FILE, or [glossary] files in dubkit.toml"
        fail(console, why)
    found = episode_coverage(episode, terms, encoding)
    used = [r for r in found.rows if r["count"]]
    if as_json:
        typer.echo(json.dumps({"episode": str(episode), "terms": found.rows}, ensure_ascii=False))
        return
    for r in used:
        typer.echo(f"{r['zh']}\t{r['ur']}\t{r['count']}\t{','.join(map(str, r['units']))}")
    console.print(
        f"{episode}: {len(used)} of {len(found.rows)} terms occur "
        f"({sum(r['count'] for r in used)} times in {found.units} {found.unit})",
        markup=False,
    )


def _named_terms(files: list[Path]) -> Any:
    """The combined terms of the files named: what `show` and `export` work on, whatever
    [glossary] files dubkit.toml lists."""
    from dubkit.adapters.chinese import to_simplified
    from dubkit.glossary.files import load_terms

    return load_terms(files, to_simplified)


@glossary_app.command("export")
def glossary_export(
    files: GlossaryFiles,
    output: Annotated[Path, typer.Option("-o", "--output", help="terms.csv or terms.tbx")],
    bom: CsvBomOpt = True,
) -> None:
    """Export the combined terms as CSV (spreadsheets) or TBX (ISO 30042, CAT tools)."""
    from dubkit.glossary.files import export_terms

    count = export_terms(_named_terms(files), output, bom=bom)
    make_console().print(f"{output}: {count} terms", markup=False)


@glossary_app.command("import")
def glossary_import(
    csv_file: Annotated[Path, typer.Argument(help="CSV with a zh column (as export writes).")],
    into: Annotated[Path, typer.Option("--into", help="Glossary YAML to add the terms to.")],
) -> None:
    """Add the CSV's terms to a glossary (those already in it are reported, not changed)."""
    from dubkit.adapters.chinese import to_simplified
    from dubkit.fsutil import NotReadable, display_path, read_limited
    from dubkit.glossary.exchange import MAX_CSV_BYTES, decode_csv, parse_csv
    from dubkit.glossary.files import add_entry

    console = make_console()
    shown = display_path(csv_file)
    try:
        data = read_limited(csv_file, MAX_CSV_BYTES)
        entries = parse_csv(decode_csv(data, shown), shown)
    except NotReadable as exc:
        what = exc.kind or f"{exc.size:,} bytes, more than {MAX_CSV_BYTES:,}"
        fail(console, f"{shown}: is {what}; give a CSV file as `glossary export` writes")
    except OSError as exc:
        fail(console, f"{shown}: cannot read ({exc.strerror or exc})")
    added, skipped = 0, 0
    for entry in entries:
        try:
            add_entry(into, entry, to_simplified)
            added += 1
        except DubkitError as exc:
            console.print(f"skipped: {exc}", markup=False)
            skipped += 1
    console.print(f"{into}: {added} added, {skipped} skipped", markup=False)
    if skipped and not added:
        raise typer.Exit(1)
