"""The review page's local web server: a Starlette application served by uvicorn.

Safety, in the order a request meets it:
- it listens on 127.0.0.1 unless the operator names another address (--host);
- a request body over C.MAX_REVIEW_BODY_BYTES is refused (413) before it is read whole;
- every request carries the run's secret token (the X-Dubkit-Token header, or `token` in the
  query for what the browser fetches by itself: the page, its script, the media); a request
  without it, or with another, gets 403 and nothing else;
- on the loopback address the Host header must name it (a page of another site that points
  its own name at 127.0.0.1 cannot read through the browser); a write must come as JSON
  (`Content-Type: application/json`, which no cross-site form can send) and, when the
  browser says where from (Origin), from this page's own address;
- only the programme's own files are served, by name, from its folder: no path, no link
  that leads out of the folder;
- the page builds its text with textContent, never HTML, and its Content-Security-Policy
  runs no script but its own: Urdu, Chinese and file names are always text.
"""

from __future__ import annotations

import functools
import hmac
import html
import os
import re
import socket
import string
from collections.abc import Awaitable, Callable, MutableMapping
from importlib import resources
from pathlib import Path
from typing import Any, cast

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from dubkit import constants as C
from dubkit.errors import DubkitError, MediaError
from dubkit.escape import display_text
from dubkit.fsutil import parse_json
from dubkit.review.draft import DraftCue, DraftError
from dubkit.review.programme import Conflict, Review, ReviewError

TOKEN_HEADER = "x-dubkit-token"
# What a cue's Urdu may not hold: control characters but line break and tab (NUL, ESC, CR
# and the C1 ones included), and lone surrogates, which no UTF-8 file can hold.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
STATIC = ("review.js", "review.css")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_FILE_TYPES = {".vtt": "text/vtt; charset=utf-8", ".html": "text/plain; charset=utf-8",
               ".xlsx": "application/octet-stream"}  # fmt: skip
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_HEADERS = [
    (b"content-security-policy", _CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def loopback_hosts(port: int) -> frozenset[str]:
    """The Host headers a browser sends to the loopback address on `port`."""
    return frozenset(f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]"))


class _Guard:
    """The token, the Host and the write rules (module docstring) on every request, and
    the security headers on every response."""

    def __init__(self, app: Any, token: str, hosts: frozenset[str] | None) -> None:
        self.app, self.token, self.hosts = app, token, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        refusal = self._refusal(Request(scope))
        if refusal is not None:
            await refusal(scope, receive, secured)
            return
        await self.app(scope, receive, secured)

    def _refusal(self, request: Request) -> Response | None:
        host = request.headers.get("host", "")
        if self.hosts is not None and host not in self.hosts:
            return _error(403, f"Host {host!r} is not this server's address; open the address "
                               f"`dubkit review` printed")  # fmt: skip
        given = request.headers.get(TOKEN_HEADER) or request.query_params.get("token") or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return _error(403, "missing or wrong token; open the address `dubkit review` "
                               "printed, with its ?token=")  # fmt: skip
        if request.method == "POST":
            origin = request.headers.get("origin")
            if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
                return _error(403, f"a write from {origin!r}: only the review page itself "
                                   f"may save")  # fmt: skip
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "application/json":
                return _error(415, "send the draft as application/json")
        return None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


@functools.cache
def _models() -> Any:
    """The request bodies, validated as they enter (pydantic, imported when first needed)."""
    from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

    class WireCue(BaseModel):
        model_config = ConfigDict(extra="ignore", strict=True)
        key: str = Field(default="", max_length=32)
        start_ms: int = Field(ge=0, le=C.MAX_PROGRAMME_MS)
        end_ms: int = Field(ge=0, le=C.MAX_PROGRAMME_MS)
        ur: str = Field(max_length=C.MAX_REVIEW_CUE_CHARS)
        approved: bool = False

        @model_validator(mode="after")
        def _span(self) -> WireCue:
            if self.end_ms < self.start_ms:
                raise ValueError("end_ms is before start_ms")
            return self

        @field_validator("ur")
        @classmethod
        def _text(cls, text: str) -> str:
            found = _CONTROL.search(text)
            if found is not None:
                raise ValueError(
                    f"control character U+{ord(found.group()):04X} in the Urdu; type text only"
                )
            return text

    class Body(BaseModel):
        model_config = ConfigDict(extra="ignore", strict=True)
        version: str = Field(default="", max_length=128)
        cues: list[WireCue] = Field(max_length=C.MAX_REVIEW_CUES)
        op: str = Field(default="", max_length=16)
        index: int = Field(default=-1, ge=-1, le=C.MAX_REVIEW_CUES)
        edge: str = Field(default="", max_length=8)
        frames: int = Field(default=0, ge=-10_000, le=10_000)
        at_char: int | None = Field(default=None, ge=0, le=C.MAX_REVIEW_CUE_CHARS)
        at_ms: int | None = Field(default=None, ge=0, le=C.MAX_PROGRAMME_MS)

    return Body


async def _body(request: Request) -> Any:
    """The request's JSON body, validated; HTTPException 422 saying what is wrong."""
    from pydantic import ValidationError

    try:
        doc = parse_json(await request.body())
        return _models().model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise HTTPException(422, f"{where}: {first.get('msg')}; reload the page") from exc
    except ValueError as exc:  # not UTF-8 JSON
        raise HTTPException(422, f"the body is not JSON ({exc}); reload the page") from exc


def _draft(body: Any) -> list[DraftCue]:
    return [DraftCue(c.key, c.start_ms, c.end_ms, c.ur, c.approved) for c in body.cues]


def create_app(review: Review, token: str, hosts: frozenset[str] | None = None) -> Starlette:
    """The application for one programme. `hosts`: the Host headers accepted (None: any,
    when the operator chose the address with --host)."""
    page = string.Template(_static("index.html"))

    async def index(request: Request) -> Response:
        body = page.safe_substitute(
            token=html.escape(token), title=html.escape(display_text(review.files.stem))
        )
        return Response(body, media_type="text/html; charset=utf-8")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return _error(404, f"no {display_text(name)!r} here")
        return Response(_static(name), media_type=_TYPES[Path(name).suffix])

    async def media(request: Request) -> Response:
        if review.media is None:
            return _error(404, "no media: start `dubkit review` with --media FILE")
        return FileResponse(review.media, content_disposition_type="inline")

    async def files(request: Request) -> Response:
        name = request.path_params["name"]
        data = await _work(_served, review, name)  # opened once: no swap between check and read
        if data is None:
            return _error(404, f"{display_text(name)!r} is not one of this programme's files")
        kind = _FILE_TYPES.get(os.path.splitext(name)[1], "text/plain; charset=utf-8")
        return Response(data, media_type=kind, headers={"Content-Disposition": "inline"})

    async def programme(request: Request) -> Response:
        return JSONResponse(await _work(review.page))

    waveform_cache: dict[str, Any] = {}

    async def waveform(request: Request) -> Response:
        if review.media is None:
            return _error(404, "no media: start `dubkit review` with --media FILE")
        if "levels" not in waveform_cache:
            waveform_cache["levels"] = await _work(_levels, review.media)
        return JSONResponse(
            {"step_ms": C.REVIEW_WAVEFORM_STEP_MS, "levels": waveform_cache["levels"]}
        )

    async def check(request: Request) -> Response:
        body = await _body(request)
        return JSONResponse(await _work(review.check, _draft(body)))

    async def edit(request: Request) -> Response:
        body = await _body(request)
        op = {"op": body.op, "index": body.index, "edge": body.edge, "frames": body.frames,
              "at_char": body.at_char, "at_ms": body.at_ms}  # fmt: skip
        return JSONResponse(await _work(review.edit, _draft(body), op))

    async def save(request: Request) -> Response:
        body = await _body(request)
        result = await _work(review.save, body.version, _draft(body))
        return JSONResponse(
            {
                "saved": [display_text(p.name) for p in result.written],
                "cues": result.cues,
                "changed": result.changed,
                "approved": result.approved,
                "not_approved": result.not_approved,
                "notes": list(result.notes),
            }
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        error = cast(HTTPException, exc)  # registered for HTTPException alone
        return _error(error.status_code, error.detail)

    routes = [
        Route("/", index),
        Route("/static/{name}", static),
        Route("/media", media),
        Route("/files/{name:path}", files),
        Route("/api/programme", programme),
        Route("/api/waveform", waveform),
        Route("/api/check", check, methods=["POST"]),
        Route("/api/edit", edit, methods=["POST"]),
        Route("/api/save", save, methods=["POST"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(_Guard, token=token, hosts=hosts)],
        exception_handlers={HTTPException: http_error},
        max_body_size=C.MAX_REVIEW_BODY_BYTES,
    )


async def _work(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` on a worker thread (files, checks, SQLite); a DubkitError becomes
    the JSON error the page shows: 409 for a conflict, 422 for a refused edit or draft."""
    try:
        return await run_in_threadpool(function, *args)
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    except (DraftError, ReviewError, MediaError) as exc:
        raise HTTPException(422, str(exc)) from exc
    except DubkitError as exc:
        raise HTTPException(500, str(exc)) from exc


def _served(review: Review, name: str) -> bytes | None:
    """The bytes of the programme's file /files/NAME names (SERVED), opened once, without
    following a link swapped in after the check; None for any other name, a missing file, a
    link out of the folder, or anything that is not a regular file."""
    kind = review.files.kind_of(name)
    if kind is None:
        return None
    try:
        return review.files.read_own(kind)
    except (OSError, ReviewError):
        return None


def _levels(media: Path) -> list[float]:
    """The sound's level per C.REVIEW_WAVEFORM_STEP_MS, in dB (-100 for silence)."""
    from dubkit.adapters.audio import sound_levels, spool_audio

    with spool_audio(media) as audio:  # an hour is 115 MB on disk, not 230 MB in memory
        return [round(x, 1) for x in sound_levels(audio, C.REVIEW_WAVEFORM_STEP_MS)]


@functools.cache
def _static(name: str) -> str:
    return (resources.files("dubkit.review") / "static" / name).read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ serving


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one); ReviewError saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ReviewError(
            f"{host}:{port}: cannot listen there ({exc.strerror or exc}); choose another "
            f"--port, or leave it out for a free one"
        ) from exc
    return sock


def serve(app: Starlette, sock: socket.socket) -> None:
    """Serve `app` on `sock` until Ctrl+C (uvicorn, quiet but for its warnings)."""
    import uvicorn

    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
    )
    uvicorn.Server(config).run(sockets=[sock])
