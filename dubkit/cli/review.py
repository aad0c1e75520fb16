"""`dubkit review`: a local web page to watch a programme with its Urdu subtitles, check every
cue and correct it; the server and the page are dubkit.review's."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Annotated

import typer

from dubkit.cli.options import CacheOpt, ConfigOpt, GlossaryOpt, MemoryOpt, NoMemoryOpt


def review(
    programme: Annotated[
        Path,
        typer.Argument(help="The folder `dubkit run` wrote (-o OUTDIR), or OUTDIR/STEM."),
    ],
    media: Annotated[
        Path | None,
        typer.Option(help="The programme's video or sound (default: the one run.json names)."),
    ] = None,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on (default: a free one).")
    ] = 0,
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default 127.0.0.1: this machine only)."),
    ] = None,
    open_page: Annotated[
        bool, typer.Option("--open", help="Open the page in the web browser.")
    ] = False,
    glossary: GlossaryOpt = None,
    memory: MemoryOpt = None,
    cache: CacheOpt = None,
    no_memory: NoMemoryOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Serve a page where the programme plays with its Urdu subtitles over it, beside every
    cue's Chinese, English, Urdu, glossary terms and QA flags; edit the Urdu, move in and out
    times by frames, split and merge cues, and save: STEM.ur.srt, .ur.vtt, .ur.ass,
    .zh-ur.srt and .qa.json are written as `run` writes them, and the changed or approved
    lines are approved in the translation memory (--no-cache, or translate.cache = false in
    dubkit.toml: none are, and a notice says so). The glossary is the one the run used: the
    files qa.json names, else the terms it recorded (where it names and recorded none,
    glossary.files of dubkit.toml); --glossary replaces it (with glossary.files of
    dubkit.toml, as `run` combines them). The memory is
    --memory, else translate.memory of dubkit.toml, as for `run`. Prints the page's
    address with its secret token; Ctrl+C stops."""
    import secrets
    import webbrowser

    from dubkit.cli.console import make_console
    from dubkit.config import load_config
    from dubkit.episode.setup import Translation, load_glossaries
    from dubkit.escape import one_line
    from dubkit.fsutil import display_path
    from dubkit.review.programme import Review, find_programme, programme_media
    from dubkit.review.server import bind, create_app, loopback_hosts, serve

    console = make_console()
    files = find_programme(programme)
    found, note = programme_media(files, media)
    cfg = load_config(config)
    # without --glossary, the glossary the run used (qa.json names it); dubkit.toml's files
    # only where it names none (they may not be the ones the run combined)
    terms = load_glossaries(cfg, glossary) if glossary else None
    project = None if glossary else functools.partial(load_glossaries, cfg, None)
    given = {"memory": str(memory) if memory else None, "cache": False if no_memory else cache}
    mt = Translation(cfg, given, None)  # flags over dubkit.toml, as `run`
    notes = (note,) if note else ()
    session = Review(files, found, terms, mt.memory_path, mt.cache, notes, project)
    session.load()  # a file that cannot be read stops here, with its line, before serving
    if note:
        console.print(f"notice: {one_line(note)}", markup=False)
    if not mt.cache:
        why = (
            "--no-cache"
            if no_memory or cache is False
            else "translate.cache = false in dubkit.toml"
        )
        console.print(
            f"notice: saved lines are not approved in the translation memory ({why})",
            markup=False,
        )
    loopback = host is None or host in ("127.0.0.1", "localhost", "::1", "[::1]")
    address = "127.0.0.1" if host is None else host.strip("[]")
    if not loopback:
        console.print(
            f"warning: --host {one_line(address)}: the page can be reached from other machines "
            f"through this address; anyone with the address and its token can read and change "
            f"the programme's subtitles",
            markup=False,
        )
    sock = bind(address, port)
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    app = create_app(session, token, loopback_hosts(port) if loopback else None)
    shown = f"[{address}]" if ":" in address else address
    url = f"http://{shown}:{port}/?token={token}"
    console.print(
        f"reviewing {display_path(files.path('ur.srt'))}: open the address below (Ctrl+C stops)",
        markup=False,
    )
    typer.echo(url)
    opener = _redirect_page(url) if open_page else None
    try:
        if opener is not None:
            webbrowser.open(opener.as_uri())
        with sock:
            serve(app, sock)
    finally:
        if opener is not None:
            shutil.rmtree(opener.parent, ignore_errors=True)


def _redirect_page(url: str) -> Path:
    """A page only this user can read, in a private temporary folder, that leads the browser
    to `url`: opened instead of `url`, so that the token is never on the browser's command
    line, where other users of the machine could read it (as Jupyter does)."""
    import html
    import os
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="dubkit-review-"))  # 0700
    page = folder / "open.html"
    shown = html.escape(url)
    text = (
        f'<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={shown}">'
        f'<title>dubkit review</title><p><a href="{shown}">Open the review page</a></p>\n'
    )
    fd = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return page
