"""A studio save's child process: ``python -m varcolor.ui.save_child STUDIO LEASE [--spare [PHOTO]]``.

It reads one save's request (JSON: :func:`varcolor.ui.saving.save_request`) from its stdin and
runs it through the application layer (:func:`varcolor.app.run_request`), as the printed command
would. A spare child (``--spare``) works ahead while it waits: it loads the kernels, then reads the
photo and makes its gray, the save's own first step (benchmarks/results/code_notes.md).

A nice value did not keep it off the strokes (its own session is scheduled as a group beside the
studio's), so the studio writes ``busy`` and ``idle`` lines and the work ahead waits between its
steps while busy, for ``LEASE`` seconds at most since the last ``busy``; the save itself never
waits. Either child ends as soon as the studio (process ``STUDIO``) is gone, so it never finishes
a save no one publishes. Only the standard library is imported before the work needs more.
studio's spare must cost it nothing while it waits.
"""

from __future__ import annotations

import json
import os
import select
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["main"]

#: The two words the studio writes before a request (each on a line of its own).
BUSY, IDLE = b"busy", b"idle"


class Pacer:
    """Whether the studio is busy, as its last ``busy`` or ``idle`` line said: ``busy`` holds the
    work ahead for ``lease`` seconds at most (the studio says it again while it stays busy: a lost
    ``idle`` costs a pause, never a save)."""

    def __init__(self, lease: float):
        self.lease = lease
        self._turn = threading.Condition()
        self._paused_until = 0.0

    def hear(self, word: bytes) -> None:
        """Take the studio's word (``busy`` or ``idle``)."""
        with self._turn:
            self._paused_until = time.monotonic() + self.lease if word == BUSY else 0.0
            self._turn.notify_all()

    def between(self) -> None:
        """Wait while the studio is busy (called between the work ahead's steps)."""
        with self._turn:
            while (left := self._paused_until - time.monotonic()) > 0:
                self._turn.wait(left)


class Lines:
    """The lines of a file descriptor (the child's stdin), read as they come."""

    def __init__(self, fd: int = 0):
        self.fd = fd
        self._pending = b""

    def read(self, wait: bool) -> Iterator[bytes | None]:
        """The next lines: all that can be read now (``wait`` False), or until the end (True). The
        end of the input is said by one ``None``."""
        while wait or select.select([self.fd], [], [], 0)[0]:
            chunk = os.read(self.fd, 65536)
            self._pending += chunk
            while b"\n" in self._pending:
                line, self._pending = self._pending.split(b"\n", 1)
                yield line
            if not chunk:
                if self._pending:
                    yield self._pending
                yield None
                return


def _watch(studio: int) -> None:
    """End this process as soon as the studio (its parent, ``studio``) is gone."""
    while os.getppid() == studio:
        time.sleep(0.25)
    os._exit(1)


def _ahead(pacer: Pacer, photo: Path | None) -> None:
    """A spare's work ahead: the imports and the kernels, then ``photo``'s gray, in steps that
    wait while the studio is busy. Waiting while the studio is busy, on every core otherwise (a
    stroke that comes waits for one band of the gray, a few milliseconds). Not at nice 19: in a
    session of its own, a thread of low priority, and the numba threads it starts, lost to every
    other process of a busy machine once the save waited for them."""
    try:
        pacer.between()
        import numba  # noqa: F401 - the imports and the kernels (a second of a core) in steps too

        pacer.between()
        import scipy.ndimage  # noqa: F401
        import scipy.sparse  # noqa: F401

        pacer.between()
        from varcolor.app.solve import prepare

        pacer.between()
        from varcolor.ui.live import warm_up

        pacer.between()
        warm_up()
        if photo is not None:
            prepare(photo, between=pacer.between)
    except Exception:  # noqa: BLE001 - the save reads the photo itself, and says what is wrong with it
        pass


def main(argv: list[str]) -> int | str:
    """Run one save's child (``argv``: ``STUDIO LEASE [--spare [PHOTO]]``): 0 when the save is
    written or no request came, else the line that says why it failed."""
    studio, lease, rest = int(argv[0]), float(argv[1]), argv[2:]
    threading.Thread(target=_watch, args=(studio,), daemon=True).start()
    pacer, lines = Pacer(lease), Lines(0)
    early = b""
    for line in lines.read(False):  # what the studio said before this process started: a busy one waits
        if line in (BUSY, IDLE):
            pacer.hear(line)
        else:
            early = line or b""
            break
    preparing = None
    if rest[:1] == ["--spare"]:
        photo = Path(rest[1]) if rest[1:] else None
        preparing = threading.Thread(target=_ahead, args=(pacer, photo))
        preparing.start()
    request_line: bytes | None = early
    if early == b"":
        for request_line in lines.read(True):
            if request_line in (BUSY, IDLE):
                pacer.hear(request_line)
            else:
                break
    if not request_line:
        os._exit(0)  # the studio closed its spare: no save, and the work ahead is not waited for
    pacer.hear(IDLE)  # the save: nothing more is read, nothing waits again
    if preparing is not None:
        preparing.join()
    from varcolor.app import run_request
    from varcolor.errors import VarcolorError

    request = json.loads(request_line)
    drawing = request.pop("draw_mask", None)
    if drawing is not None:
        from varcolor.ui.saving import draw_mask

        draw_mask(drawing, Path(drawing["path"]))
    try:
        failed = run_request(request, warn=lambda text: print(f"varcolor: warning: {text}", file=sys.stderr))
    except VarcolorError as exc:
        failed = str(exc)
    return f"varcolor: error: {failed}" if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
