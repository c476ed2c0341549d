"""The studio's HTTP layer (Starlette on uvicorn): routes that call :class:`~varcolor.ui.studio.Studio`,
and the guard every request passes.

Security model: the server binds loopback unless told otherwise; every request must carry the
per-launch token (``?token=`` or the ``X-Varcolor-Token`` header), compared in constant time;
requests another site's page makes (an ``Origin`` that is not this server's, ``Sec-Fetch-Site``
``cross-site`` or ``same-site``) and requests for a host name not this server's (DNS rebinding)
are refused with 403 before any route runs.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import InputError, OutputError, VarcolorError
from ..io import safe_json
from ..io.safe_json import TooLarge
from .studio import Studio

log = logging.getLogger("varcolor.ui")

STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
#: Largest upload accepted (bytes): room for a large 16-bit TIFF.
MAX_UPLOAD = 512 * 1024 * 1024
#: The largest JSON request body: an edit, a save (the longest stroke is well under).
MAX_BODY = 16 * 1024 * 1024
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")
_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'",
    ),
]


class Guard:
    """ASGI middleware: refuse (403) a request without the token, from another origin, or for a
    host name that is not this server's; add no-store and a strict content policy to every answer."""

    def __init__(self, app, token: str, hosts: tuple[str, ...] | None):
        self.app, self.token, self.hosts = app, token, hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        reason = self.refusal(scope)
        if reason:
            log.warning("refused %s %s: %s", scope["method"], scope["path"], reason)
            response = JSONResponse({"error": reason}, status_code=403)
            return await response(scope, receive, send)

        async def secure_send(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + _HEADERS
            await send(message)

        await self.app(scope, receive, secure_send)

    def refusal(self, scope) -> str | None:
        """Why a request is refused (a foreign host or origin, a cross-site request, a missing or wrong
        token), or None."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.hosts is not None:
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.hosts:
                return f"host {host!r} is not this server"
        origin = headers.get("origin")
        if origin is not None and origin != f"http://{host}":
            return "cross-origin request refused"
        if headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return "cross-site request refused"
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = headers.get("x-varcolor-token") or (query.get("token") or [""])[0]
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return "missing or wrong token"
        return None


class _Bell:
    """Wakes the requests waiting for a result when the solver thread publishes one."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.event: asyncio.Event | None = None

    def bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            self.loop, self.event = loop, asyncio.Event()

    def ring(self) -> None:  # from any thread
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._ring)

    def _ring(self) -> None:
        event, self.event = self.event, asyncio.Event()
        assert event is not None  # rung only once bound to a loop
        event.set()

    async def wait(self, timeout: float) -> None:
        assert self.event is not None  # bind() first
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            pass


def _error(exc: BaseException) -> JSONResponse:
    if isinstance(exc, TooLarge):
        return JSONResponse({"error": str(exc)}, status_code=413)
    if isinstance(exc, FileExistsError):
        return JSONResponse({"error": "files exist", "exists": exc.args[0] if exc.args else []}, status_code=409)
    if isinstance(exc, PermissionError):
        return JSONResponse({"error": str(exc)}, status_code=403)
    if isinstance(exc, (InputError, OutputError, VarcolorError)):
        log.warning("%s", exc)
        return JSONResponse({"error": str(exc)}, status_code=400)
    log.exception("internal error")
    return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)


async def _answer(studio: Studio, make, function, *args):
    """``make(function(*args))`` run in a thread; a failure is one line on the page."""
    try:
        return make(await run_in_threadpool(function, *args))
    except asyncio.CancelledError:
        if studio.stopping:  # Ctrl-C while a request works: an answer, not a traceback
            return JSONResponse({"error": "the studio is stopping"}, status_code=503)
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line on the page
        return _error(exc)


async def _call(studio: Studio, function, *args):
    return await _answer(studio, JSONResponse, function, *args)


async def _picture(studio: Studio, function, *args):
    return await _answer(studio, lambda data: Response(data, media_type="image/png"), function, *args)


async def _json_body(request: Request):
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:  # refused before it is read
        raise TooLarge(f"request body too large ({int(length):,} bytes; at most {MAX_BODY:,})")
    chunks, size = [], 0
    async for chunk in request.stream():  # counted as it comes: a chunked body says no length
        size += len(chunk)
        if size > MAX_BODY:
            raise TooLarge(f"request body too large (over {MAX_BODY:,} bytes)")
        chunks.append(chunk)
    return safe_json.loads(b"".join(chunks) or b"{}", "request body", max_bytes=MAX_BODY)


async def _uploaded(request: Request, filename: str, max_upload: int) -> bytes | JSONResponse:
    """The request's body, or the 413 answer when it is larger than ``max_upload``."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_upload:
        log.warning("refused an upload of %s bytes (%s)", length, filename)
        return JSONResponse(
            {
                "error": f"{filename}: too large to upload ({int(length) / 1e6:.0f} MB; "
                f"the limit is {max_upload / 1e6:.0f} MB)"
            },
            status_code=413,
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_upload:
            return JSONResponse(
                {"error": f"{filename}: too large to upload (over {max_upload / 1e6:.0f} MB)"}, status_code=413
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _simple(studio: Studio, function):
    async def endpoint(request: Request):
        return await _call(studio, function)

    return endpoint


def _with_object(studio: Studio, what: str, function, arguments):
    """An endpoint calling ``function`` with ``arguments(body)`` of a request whose JSON body
    is an object (``what``: the error where it is not)."""

    async def endpoint(request: Request):
        try:
            body = await _json_body(request)
        except InputError as exc:
            return _error(exc)
        if not isinstance(body, dict):
            return _error(InputError(what))
        return await _call(studio, function, *arguments(body))

    return endpoint


def _page_routes(app: Starlette, token: str) -> None:
    """The page and its static files, the token filled in."""

    async def index(request: Request):
        html = (STATIC / "index.html").read_text(encoding="utf-8").replace("{{TOKEN}}", token)
        return Response(html, media_type=STATIC_TYPES[".html"])

    async def static(request: Request):
        name = request.path_params["name"]
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file() or path.suffix not in STATIC_TYPES:
            return JSONResponse({"error": "not found"}, status_code=404)
        data = path.read_bytes()
        if path.suffix == ".js":
            # A module's import carries no query of the page's: each names the token as {{TOKEN}}.
            data = data.replace(b"{{TOKEN}}", token.encode())
        return Response(data, media_type=STATIC_TYPES[path.suffix])

    app.router.routes.extend([Route("/", index), Route("/static/{name}", static)])


def _document_routes(app: Starlette, studio: Studio, max_upload: int) -> None:
    """Opening, editing, undoing, restoring and saving the document."""

    async def state(request: Request):
        return await _call(studio, studio.state)

    async def open_upload(request: Request):
        filename = unquote(request.headers.get("x-filename", "upload"))
        data = await _uploaded(request, filename, max_upload)
        if isinstance(data, Response):
            return data
        if filename.lower().endswith(".json"):  # a session file
            return await _call(studio, studio.open_session_text, data, filename)
        return await _call(studio, studio.open_upload, data, filename)

    async def edit(request: Request):
        try:
            op = await _json_body(request)
        except InputError as exc:
            return _error(exc)
        return await _call(studio, studio.edit, op)

    save = _with_object(
        studio,
        "save expects an object",
        studio.start_save,
        lambda body: (body.get("name"), body.get("format", "png"), bool(body.get("overwrite"))),
    )
    app.router.routes.extend(
        [
            Route("/api/state", state),
            Route("/api/open", open_upload, methods=["POST"]),
            Route("/api/edit", edit, methods=["POST"]),
            Route("/api/undo", _simple(studio, studio.undo), methods=["POST"]),
            Route("/api/redo", _simple(studio, studio.redo), methods=["POST"]),
            Route("/api/restore", _simple(studio, studio.restore), methods=["POST"]),
            Route("/api/dismiss-restore", _simple(studio, studio.dismiss_restore), methods=["POST"]),
            Route("/api/save", save, methods=["POST"]),
            Route("/api/save-status", _simple(studio, studio.save_status)),
            Route("/api/save-cancel", _simple(studio, studio.cancel_save), methods=["POST"]),
        ]
    )


def _result_route(app: Starlette, studio: Studio, bell: _Bell) -> None:
    """The long poll for the live result."""

    async def result(request: Request):
        """The newest result for document version ``version`` or later that the page (showing
        serial ``have``) has not got: the RGBA pixels of the box that changed, the rest in headers.
        Waits up to ``wait`` seconds for it (204 if none came)."""
        bell.bind()
        try:
            version = int(request.query_params.get("version", "0"))
            have = int(request.query_params.get("have", "0"))
            wait = float(request.query_params.get("wait", "25"))
            if not 0 <= wait <= 60:  # NaN and infinities too: a deadline that never comes
                raise ValueError(wait)
        except ValueError:
            return _error(InputError("version and have must be integers, wait a number of seconds from 0 to 60"))
        live = studio.live
        if live is None:
            return _error(InputError("no image is open"))
        deadline = time.monotonic() + wait
        start = time.perf_counter()
        while True:
            published = live.published
            if published.serial != have and published.version >= version:
                break
            if studio.live is not live:
                return JSONResponse({"error": "another image was opened"}, status_code=409)
            left = deadline - time.monotonic()
            # A long poll must not hold the shutdown (Ctrl-C) or outlive the page.
            if left <= 0 or studio.stopping or await request.is_disconnected():
                return Response(status_code=204)
            await bell.wait(min(left, 1.0))
        waited = time.perf_counter() - start
        copy_start = time.perf_counter()
        published, box, data = live.patch(have)
        meta = {
            "serial": published.serial,
            "version": published.version,
            "final": published.final,
            "box": list(box),
            "error": published.error,
            "warning": published.warning,
            "timing": {**published.timing, "copy": time.perf_counter() - copy_start, "waited": waited},
            "info": published.info,
            "busy": live.busy(),
            "painted": published.painted,
            "picture": published.picture,
        }
        return Response(
            data, media_type="application/octet-stream", headers={"x-result": json.dumps(meta, ensure_ascii=True)}
        )

    app.router.routes.append(Route("/api/result", result))


def _picture_routes(app: Starlette, studio: Studio, max_upload: int) -> None:
    """The pictures the page shows (gray, overlays, tiles, the reference photo) and the suggestions."""

    def png(function):
        async def endpoint(request: Request):
            return await _picture(studio, function)

        return endpoint

    async def reference_open(request: Request):
        """A reference photo: uploaded (its bytes, named by ``X-Filename``), or ``{"path": ...}``
        (JSON) naming a file inside the data folder. Its matching runs in a thread of its own."""
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = await _json_body(request)
            except InputError as exc:
                return _error(exc)
            if not isinstance(body, dict):
                return _error(InputError('a reference by path expects an object {"path": ...}'))
            return await _call(studio, studio.open_reference_path, body.get("path"))
        filename = unquote(request.headers.get("x-filename", "upload"))
        data = await _uploaded(request, filename, max_upload)
        if isinstance(data, Response):
            return data
        return await _call(studio, studio.open_reference_upload, data, filename)

    async def tile(request: Request):
        try:
            query = request.query_params
            args = (query.get("layer", ""), int(query["level"]), int(query["row"]), int(query["col"]))
            full = query.get("full", "0")
            if full not in ("0", "1"):
                raise ValueError(full)
        except (KeyError, ValueError):
            return _error(InputError("a tile needs integers level, row and col (and full 0 or 1)"))
        return await _picture(studio, studio.tile_png, *args, full == "1")

    async def suggest(request: Request):
        try:
            x, y = float(request.query_params["x"]), float(request.query_params["y"])
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError
        except (KeyError, ValueError):
            return _error(InputError("suggest needs finite numbers x and y"))
        return await _call(studio, studio.suggest, x, y)

    async def estimate(request: Request):
        return await _call(studio, studio.estimate, request.query_params.get("method", ""))

    view = _with_object(
        studio,
        'a view expects an object {"tiles": [[row, col], ...]}',
        studio.set_view,
        lambda body: (body.get("tiles"),),
    )
    app.router.routes.extend(
        [
            Route("/api/gray.png", png(studio.gray_png)),
            Route("/api/guessed.png", png(studio.guessed_png)),  # where the colour is guessed
            Route("/api/reference.png", png(studio.original_png)),  # the colour original
            Route("/api/reference-photo", reference_open, methods=["POST"]),
            Route("/api/reference-photo.png", png(studio.reference_photo_png)),
            Route("/api/suggestions", _simple(studio, studio.suggestions)),
            Route("/api/metrics", _simple(studio, studio.metrics)),
            Route("/api/suggest", suggest),
            Route("/api/estimate", estimate),
            Route("/api/tile", tile),
            Route("/api/view", view, methods=["POST"]),
        ]
    )


def create_app(
    studio: Studio, token: str, *, hosts: tuple[str, ...] | None = LOOPBACK, max_upload: int = MAX_UPLOAD
) -> Guard:
    """The studio's ASGI application for ``studio``, guarded by ``token``."""
    bell = _Bell()
    studio.listeners.append(bell.ring)
    studio.stop_listeners.append(bell.ring)
    if studio.live is not None:
        studio.live.listeners.append(bell.ring)
    app = Starlette()
    _page_routes(app, token)
    _document_routes(app, studio, max_upload)
    _result_route(app, studio, bell)
    _picture_routes(app, studio, max_upload)
    return Guard(app, token, hosts)


def new_token() -> str:
    """A random per-launch token (192 bits)."""
    return secrets.token_urlsafe(24)
