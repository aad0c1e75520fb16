"""`dubkit review`: a local web page to watch a programme with its Urdu subtitles, check every
cue and correct it; the server and the page are dubkit.review's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# Declared here, not imported from dubkit.cli: cli imports this module while it loads.
GlossaryOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--glossary", "-g",
        help="Glossary YAML (repeatable; default: the files qa.json names, else the terms it "
        "recorded).",
    ),
]  # fmt: skip


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
    memory: Annotated[
        Path | None,
        typer.Option(help="Translation memory file (default DUBKIT_HOME/memory.sqlite)."),
    ] = None,
    no_memory: Annotated[
        bool, typer.Option("--no-memory", help="Do not approve saved lines in the memory.")
    ] = False,
) -> None:
    """Serve a page where the programme plays with its Urdu subtitles over it, beside every
    cue's Chinese, English, Urdu, glossary terms and QA flags; edit the Urdu, move in and out
    times by frames, split and merge cues, and save: STEM.ur.srt, .ur.vtt, .ur.ass,
    .zh-ur.srt and .qa.json are written as `run` writes them, and the changed or approved
    lines are approved in the translation memory. Prints the page's address with its secret
    token; Ctrl+C stops."""
    import secrets
    import webbrowser

    from dubkit.cli.console import make_console
    from dubkit.config import Config
    from dubkit.episode.setup import load_glossaries
    from dubkit.escape import one_line
    from dubkit.fsutil import display_path
    from dubkit.review.programme import Review, find_programme, programme_media
    from dubkit.review.server import bind, create_app, loopback_hosts, serve

    console = make_console()
    files = find_programme(programme)
    found, note = programme_media(files, media)
    terms = load_glossaries(Config(), glossary) if glossary else None
    session = Review(files, found, terms, memory, not no_memory, (note,) if note else ())
    session.load()  # a file that cannot be read stops here, with its line, before serving
    if note:
        console.print(f"notice: {one_line(note)}", markup=False)
    address = host or "127.0.0.1"
    if host is not None:
        console.print(
            f"warning: --host {one_line(host)}: the page can be reached from other machines "
            f"through this address; anyone with the address and its token can read and change "
            f"the programme's subtitles",
            markup=False,
        )
    sock = bind(address, port)
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    app = create_app(session, token, None if host is not None else loopback_hosts(port))
    shown = f"[{address}]" if ":" in address else address
    url = f"http://{shown}:{port}/?token={token}"
    console.print(
        f"reviewing {display_path(files.path('ur.srt'))}: open the address below (Ctrl+C stops)",
        markup=False,
    )
    typer.echo(url)
    if open_page:
        webbrowser.open(url)
    with sock:
        serve(app, sock)
