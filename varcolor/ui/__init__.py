"""varcolor studio: colorize a photo in the browser, live (``varcolor ui [IMAGE]``).

A local web app: :mod:`varcolor.ui.server` (Starlette on uvicorn, guarded by a per-launch
token) serves the page in ``static/`` and calls :class:`varcolor.ui.studio.Studio`, which keeps
the document (:mod:`varcolor.ui.document`) and colorizes it with :class:`varcolor.Colorizer` in
a worker thread (:mod:`varcolor.ui.live`). Needs the ``ui`` extra: ``pip install 'varcolor[ui]'``.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import sys
import threading
import webbrowser
from pathlib import Path

from ..errors import InputError, OutputError
from ..io import check_writable

__all__ = ["run", "open_given", "open_in_browser"]


def _check_save_folder(folder: Path, what: str = "save results in") -> None:
    """``--out-dir`` (or ``--data-dir``: ``what`` it is for): a folder, or one its first save can
    make; refused in one line before the studio starts (:func:`~varcolor.io.check_writable`'s rule)."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: not a folder to {what}")
    try:
        check_writable(folder / "result.png", image=False)
    except OutputError as exc:
        raise InputError(f"{folder}: cannot be made to {what} ({exc})") from None


def open_given(studio, image: str | None, session: str | None) -> None:
    """Open the photo or session named on the command line in ``studio`` (a bad file: one line,
    exit 2, before any server starts). Its state goes to no page: a one-time notice (a killed
    save taken back) is kept for the page's first state.

    Parameters
    ----------
    studio : varcolor.ui.studio.Studio
        The studio to open them in.
    image, session : str, optional
        The photo, or the session file.
    """
    if session:
        studio.open_session(Path(session), page=False)
    elif image:
        studio.open_path(Path(image), page=False)


#: Where the studio saves without ``out_dir``: a folder in the current one. Not the photo's folder,
#: which may be a source tree (the bundled example's data) or a read-only archive of scans.
SAVE_FOLDER = "colorized"
#: Host names that are this computer alone: a studio listening there serves a page on it.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def open_in_browser(url: str, delay: float = 0.5) -> None:
    """Open ``url`` in the user's browser after ``delay`` seconds (the server is up by then), or say
    on stderr in one line that no browser was opened: on Linux without a display (no ``DISPLAY``
    nor ``WAYLAND_DISPLAY``: a server over SSH, where Python's :mod:`webbrowser` would start a
    text browser in the terminal, or nothing) it is not tried; elsewhere, where no browser is
    found. The address printed before it is the way in then.

    Parameters
    ----------
    url : str
        The studio's address, its token in it.
    delay : float
        Seconds to wait first.
    """
    said = "varcolor studio: no browser opened ({}); open the address above in a browser"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print(said.format("no display"), file=sys.stderr, flush=True)
        return

    def open_it() -> None:
        if not webbrowser.open(url):
            print(said.format("none found"), file=sys.stderr, flush=True)

    threading.Timer(delay, open_it).start()


def run(
    image: str | None = None,
    *,
    session: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    open_browser: bool = True,
    data_dir: str | None = None,
    out_dir: str | None = None,
    preview_megapixels: float | None = None,
) -> int:
    """Start the studio server and serve until Ctrl-C.

    Parameters
    ----------
    image, session : str, optional
        A photo to open, or a session file (``NAME.studio.json``) to reopen.
    host, port : str, int
        Where to listen (port 0: a free one). Only loopback unless ``host`` says otherwise.
    open_browser : bool
        Open the default browser on the page (else print its address only).
    data_dir, out_dir : str, optional
        Autosaves and uploads (default :func:`~varcolor.ui.studio.default_data_dir`); the folder
        results are saved in (default :data:`SAVE_FOLDER` in the current folder, made at the first save).
    preview_megapixels : float, optional
        Largest live working copy (default 1.5 MP); saving always solves the full image.
    """
    try:
        import uvicorn

        from ..common.kernels import warm_while_running
        from ..solvers.blas import keep_one_blas_thread
        from .server import create_app, new_token
        from .studio import PREVIEW_PIXELS, Studio, default_data_dir
    except ImportError as exc:
        raise InputError(f"the studio needs its extra ({exc.name} is missing): pip install 'varcolor[ui]'") from None
    if "NUMPY_MADVISE_HUGEPAGE" not in os.environ:
        # Transparent huge pages make the first touch of each new large array wait for memory
        # compaction after a factorisation: updates that copy the last result slow down by half.
        try:
            # private to NumPy, so not in its stubs
            from numpy._core.multiarray import _set_madvise_hugepage  # type: ignore[attr-defined]

            _set_madvise_hugepage(False)
        except ImportError:
            pass
    # The solver thread holds the GIL through much of a solve; a shorter switch interval lets the
    # server answer the page meanwhile (the default slices made each request wait several of them;
    # benchmarks/results/studio_notes.md, "Measurements behind the studio's settings").
    sys.setswitchinterval(0.0005)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s varcolor ui: %(message)s", datefmt="%H:%M:%S")
    if image and session:
        raise InputError("give an image or --session, not both")
    if out_dir is None:
        out_dir = SAVE_FOLDER  # made by the first save
    else:  # made by the first save, as the default folder is: what must hold now is that it can be
        _check_save_folder(Path(out_dir))
    if data_dir is not None:
        _check_save_folder(Path(data_dir), "keep autosaves and uploads in")
    if preview_megapixels is not None and not (math.isfinite(preview_megapixels) and preview_megapixels >= 0.01):
        raise InputError(f"--preview-megapixels must be a number of at least 0.01, got {preview_megapixels}")
    pixels = PREVIEW_PIXELS if preview_megapixels is None else int(preview_megapixels * 1e6)
    # The address first: a port that cannot be had is one line before the photo is opened.
    if not (isinstance(port, int) and 0 <= port <= 65535):
        raise InputError(f"--port must be a port number from 0 to 65535, got {port}")
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        # Listening now: the address printed below takes connections at once (they wait in the
        # backlog until the server accepts); a bound socket alone refused them until then.
        sock.listen()
    except (OSError, OverflowError) as exc:
        raise InputError(f"cannot listen on {host}:{port} ({getattr(exc, 'strerror', None) or exc})") from None
    studio = Studio(
        data_dir=Path(data_dir) if data_dir else default_data_dir(),
        out_dir=Path(out_dir),
        preview_pixels=pixels,
        local=host in LOCAL_HOSTS,
    )
    open_given(studio, image, session)
    if not image and not session:  # warm the kernels while the user picks a photo (opening one warms them itself)
        from .live import warm_up_once

        threading.Thread(target=warm_up_once, name="varcolor-warm-up", daemon=True).start()
    bound = sock.getsockname()[1]
    token = new_token()
    hosts = None if host in ("0.0.0.0", "::") else tuple({host, "127.0.0.1", "localhost", "[::1]", "::1"})
    app = create_app(studio, token, hosts=hosts)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}/?token={token}"
    if host not in LOCAL_HOSTS:
        print(
            f"varcolor ui: listening on {host} (not only this computer); anyone with the address below can use it",
            file=sys.stderr,
        )
    print(f"varcolor studio: {url}", flush=True)
    print("Ctrl-C stops it.", file=sys.stderr, flush=True)

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            # Ctrl-C (or SIGTERM) stops the server gracefully and the command returns 0; uvicorn's
            # own handler would raise the signal again once it has shut down.
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True
            studio.stop()

    warm_while_running()  # a studio lives for hours: kernels it lacks compiled meanwhile, not at its end
    keep_one_blas_thread()  # its kernels take every core; OpenBLAS's threads beside them slowed a stroke
    server = Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2, lifespan="off"))
    if open_browser:
        open_in_browser(url)
    try:
        server.run(sockets=[sock])
    finally:
        studio.close()
        print("varcolor studio: stopped", file=sys.stderr)
    return 0
