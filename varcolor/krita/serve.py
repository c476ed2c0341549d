"""Live colour for Krita: one long-lived worker per document (``varcolor krita serve``) that keeps
the photo's :class:`varcolor.Colorizer` and answers each new state of the strokes layer with the
incremental engine (a new cue set reached from the last solve, not solved afresh).

The plug-in writes an exchange folder (:mod:`varcolor.krita.protocol`) once, with the photo, and
then ``strokes.raw`` after each finished stroke; it asks with one line on the worker's stdin, the
JSON ``{"folder": "…"}`` (with ``"whole": true`` where it has no result layer to update), and the
worker answers with one line on stdout: ``{"ok": true, "seconds": …, "update": …, "box": [top,
left, height, width]}``, ``box`` holding every pixel that changed since the last reply (the whole
canvas at the first, or when asked) and ``colorized.raw`` in the folder holding that box's pixels in
the document's layout; or ``{"ok": false, "error": one line}``. A bad request is such a line, and
the worker goes on. It ends when its stdin closes (the plug-in stopped it, or Krita ended, however
it ended).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import warnings
from typing import IO

import numpy as np

from ..api import Colorizer
from ..common.kernels import warm_while_running
from ..cues import Cues
from ..errors import InputError, VarcolorError
from ..io import safe_json
from ..options import Options
from ..solvers.blas import keep_one_blas_thread
from .exchange import (
    DTYPES,
    channel_order,
    check_strokes,
    encode_layer,
    gray_of,
    read_folder_layer,
    read_strokes,
    reply_for,
    write_result,
)
from .plugin.varcolor_krita import protocol

__all__ = ["Worker", "serve", "MAX_LINE"]

#: The longest request line read (a request names a folder: far less).
MAX_LINE = 1 << 16


class Worker:
    """What ``varcolor krita serve`` keeps between requests: the photo's colorizer (made again when
    the photo, the canvas or an option changes) and the document's result in its own layout."""

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.colorizer: Colorizer | None = None
        self.layer: np.ndarray | None = None  # the last result as the document's raw pixels (levels)
        self.rgb: np.ndarray | None = None  # the last result's colours

    def handle(self, line: str) -> dict:
        """The reply to one request line (never raises for bad input: an error reply)."""
        start = time.perf_counter()
        try:
            folder, whole = _read_line(line)
            try:
                request = protocol.read_request(folder)
            except protocol.ProtocolError as exc:
                raise InputError(str(exc)) from None
            reply = self._colorize(folder, request, whole)
            return {**reply, "seconds": round(time.perf_counter() - start, 3)}
        except (VarcolorError, MemoryError) as exc:
            return reply_for(exc)
        except Exception as exc:  # a defect of ours: this request fails, the worker goes on for the next
            traceback.print_exc(file=sys.stderr)
            said = " ".join(str(exc).split())[:200]
            return {"ok": False, "error": f"varcolor failed on this request ({type(exc).__name__}: {said})"}

    def _colorize(self, folder: str, request: dict, whole: bool) -> dict:
        key = self._key(folder, request)
        if key != self.key:
            self.key, self.colorizer, self.layer, self.rgb = None, None, None, None  # the old one's memory first
            gray = gray_of(read_folder_layer(folder, request, "photo"))
            levels = _levels(request["result"])
            self.colorizer = Colorizer(gray, Options(method=request["method"], prior=request["prior"]), bits=levels)
            self.key = key
        strokes, channels = read_strokes(folder, request)
        assert self.colorizer is not None  # made for this key, now or before
        if strokes.dtype.kind == "u":  # sRGB levels: read as they lie, no float layer made
            cues = Cues.from_layer(strokes, edges=request["edges"], channels=channels)
        else:
            cues = Cues.from_mask(strokes, self.colorizer.gray.shape[:2], edges=request["edges"])
        check_strokes(cues, request["prior"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the docker shows one line: the result or the error
            result = self.colorizer.solve(cues)  # reaches the new cue set from the last solve
        box = _changed_box(None if whole else self.rgb, result.rgb)
        self.rgb = result.rgb  # a new array each time: the last one is not changed after
        self._encode(result.rgb, request["result"], box)
        top, left, height, width = box
        assert self.layer is not None  # made by _encode
        # Rows of the whole width are one piece of the layer's memory, written as they lie.
        write_result(folder, np.ascontiguousarray(self.layer[top : top + height, left : left + width]).data)
        return {"ok": True, "update": result.info.get("update", "solve"), "box": box}

    def _encode(self, rgb: np.ndarray, found: dict, box: list[int]) -> None:
        """The result in the document's layout: integer levels copied into it where they changed
        (encoding a large layer whole for each stroke costs as much as the update)."""
        if rgb.dtype.kind == "f":  # a profile to convert to, or a floating-point document
            self.layer = np.frombuffer(encode_layer(rgb, found), DTYPES[found["depth"]]).reshape(rgb.shape[:2] + (4,))
            return
        if self.layer is None:
            self.layer = np.empty(rgb.shape[:2] + (4,), rgb.dtype)
            self.layer[..., channel_order(found)[3]] = np.iinfo(rgb.dtype).max
        top, left, height, width = box
        rows, columns = slice(top, top + height), slice(left, left + width)
        for channel, at in enumerate(channel_order(found)[:3]):
            self.layer[rows, columns, at] = rgb[rows, columns, channel]

    @staticmethod
    def _key(folder: str, request: dict) -> tuple:
        """What the colorizer depends on: the photo file as it is now, the canvas and the options."""
        try:
            found = os.stat(os.path.join(folder, protocol.PHOTO))
        except OSError as exc:
            raise InputError(f"cannot read the photo layer: {exc.strerror}") from None
        photo = (os.path.abspath(folder), found.st_ino, found.st_size, found.st_mtime_ns)
        options = json.dumps({k: request[k] for k in ("width", "height", "photo", "result", "method", "prior")})
        return photo, options


#: Rows or columns compared at a time by :func:`_changed_box`, from each side inwards.
_BOX_STEP = 32


def _changed_box(last: np.ndarray | None, now: np.ndarray) -> list[int]:
    """The smallest box (top, left, height, width) that holds every pixel where ``now`` differs
    from ``last`` (the whole image without a last one; an empty box where nothing changed).

    Its edges are found from each side inwards, :data:`_BOX_STEP` rows or columns at a time: a
    stroke's update changes pixels up to the canvas's edges, found in the first rows and columns
    (comparing the whole result was a share of each large Live stroke)."""
    if last is None or last.shape != now.shape:
        return [0, 0, *now.shape[:2]]
    height, width = now.shape[:2]

    def first(count: int, differs, backwards: bool) -> int | None:
        """The first (or last) index below ``count`` whose rows or columns differ, or None."""
        for done in range(0, count, _BOX_STEP):
            low, high = (
                (max(count - done - _BOX_STEP, 0), count - done) if backwards else (done, min(done + _BOX_STEP, count))
            )
            hits = np.flatnonzero(differs(slice(low, high)))
            if hits.size:
                return low + int(hits[-1] if backwards else hits[0])
        return None

    def rows_differ(rows: slice) -> np.ndarray:
        return (last[rows] != now[rows]).reshape(rows.stop - rows.start, -1).any(axis=1)

    top = first(height, rows_differ, False)
    if top is None:
        return [0, 0, 0, 0]
    bottom = first(height, rows_differ, True)
    assert bottom is not None  # a row differs
    band = slice(top, bottom + 1)

    def columns_differ(columns: slice) -> np.ndarray:
        return (last[band, columns] != now[band, columns]).any(axis=(0, 2))

    left, right = first(width, columns_differ, False), first(width, columns_differ, True)
    assert left is not None and right is not None
    return [top, left, bottom - top + 1, right - left + 1]


def _levels(found: dict) -> int | None:
    """Paint results straight into 8- or 16-bit levels where the document holds sRGB levels."""
    if found["profile_file"] is None and found["depth"] in ("U8", "U16"):
        return 8 if found["depth"] == "U8" else 16
    return None


def _read_line(line: str) -> tuple[str, bool]:
    """A request line's exchange folder, and whether it asks for the whole layer (not the box)."""
    request = safe_json.loads(line, "the request line")  # a 5000-digit number, 60,000 brackets: one line
    folder = request.get("folder") if isinstance(request, dict) else None
    if not isinstance(folder, str) or not os.path.isdir(folder):
        raise InputError(f"the request names no exchange folder: {line.strip()[:200]!r}")
    whole = request.get("whole", False)
    if not isinstance(whole, bool):
        raise InputError(f"the request's whole is {whole!r}, not true or false")
    return folder, whole


def serve(requests: IO[str], replies: IO[str]) -> int:
    """Answer request lines from ``requests`` with reply lines on ``replies`` until ``requests``
    ends (or ``replies`` is closed). Returns 0."""
    worker = Worker()
    while True:
        line = requests.readline(MAX_LINE)
        if not line:
            return 0  # stdin closed: the plug-in (or Krita) is gone
        if not line.endswith("\n") and len(line) >= MAX_LINE:
            while line and not line.endswith("\n"):  # the rest of an overlong line is not a request
                line = requests.readline(MAX_LINE)
            reply = {"ok": False, "error": f"the request line is longer than {MAX_LINE} characters"}
        elif not line.strip():
            continue
        else:
            reply = worker.handle(line)
        try:
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
        except (BrokenPipeError, ValueError):  # nobody reads the replies any more
            return 0


def main() -> int:
    """``varcolor krita serve`` on the process's stdin and stdout; anything else printed goes to
    stderr so that stdout holds only reply lines."""
    replies = sys.stdout
    sys.stdout = sys.stderr
    warm_while_running()  # a worker lives as long as its document's Live: kernels compiled meanwhile
    keep_one_blas_thread()  # its kernels take every core; OpenBLAS's threads beside them slowed a stroke
    try:
        return serve(sys.stdin, replies)
    except KeyboardInterrupt:
        return 0
