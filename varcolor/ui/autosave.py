"""The studio's autosave: each photo's session kept in the data folder
(``<data_dir>/<sha256 prefix>/autosave.json``), written by a thread off the edit's path, offered
back when the photo is opened again, and set aside (``autosave.json.bad``) when it cannot be read.

An autosave that was offered and neither restored nor dismissed is kept as
``autosave.previous.json`` before the next one replaces it: a session is never lost to a click
on the photo made before answering the offer.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError, OutputError
from ..io import atomic_path
from .document import Document, parse_session

__all__ = ["Autosave", "write_json", "set_aside"]

log = logging.getLogger("varcolor.ui")

AUTOSAVE = "autosave.json"
PREVIOUS = "autosave.previous.json"


def write_json(path: Path, data) -> None:
    """Write JSON atomically (a reader or a crash never sees half a file)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")


def set_aside(path: Path) -> Path:
    """Rename an unreadable file to ``NAME.bad`` (``NAME.bad2``, ... if taken): kept for a look,
    and out of the way of the next autosave, which would replace it."""
    for n in range(1, 1000):
        aside = path.with_name(path.name + (".bad" if n == 1 else f".bad{n}"))
        if not aside.exists():
            os.replace(path, aside)
            return aside
    raise OutputError(f"{path}: unreadable, and too many older copies set aside beside it")


class Autosave:
    """The autosaves of a data folder, and the thread that writes them."""

    def __init__(self, data_dir: Path, on_error: Callable[[str], None]):
        self.data_dir = Path(data_dir)
        self.on_error = on_error
        self._wake = threading.Condition()
        self._job: tuple[Path, dict, bool] | None = None
        self._busy = False
        self._thread: threading.Thread | None = None
        self._closed = False

    def path(self, sha256: str) -> Path:
        """The autosave of the photo whose content has the digest ``sha256`` (hex)."""
        return self.data_dir / sha256[:16] / AUTOSAVE

    def offer(self, sha256: str) -> tuple[Document | None, str | None, str | None]:
        """What the photo ``sha256``'s autosave holds, to offer on opening it: its document (None
        if there is none or it is empty), when it was saved (local time, to the minute), and a line
        saying that an unreadable one was set aside (then the first two are None)."""
        path = self.path(sha256)
        if not path.is_file():
            return None, None, None
        try:
            doc, _ = parse_session(path.read_bytes(), str(path))
            saved = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
        except (InputError, OSError) as exc:  # said on the page too; the file is kept aside for a look
            kept = set_aside(path)
            return None, None, f"ignoring an unreadable autosave (kept as {kept.name}): {exc}"
        return (None if doc.empty else doc), saved, None

    def read(self, sha256: str) -> Document:
        """The document of the photo ``sha256``'s autosave (restoring it)."""
        path = self.path(sha256)
        doc, _ = parse_session(path.read_text(encoding="utf-8"), str(path))
        return doc

    def keep_previous(self, sha256: str) -> None:
        """Move the photo ``sha256``'s autosave aside as ``autosave.previous.json`` (the page
        started afresh instead of restoring it)."""
        path = self.path(sha256)
        try:
            os.replace(path, path.with_name(PREVIOUS))
        except OSError as exc:
            log.warning("could not keep the previous autosave: %s", exc)

    def write(self, sha256: str, session: dict, keep_previous: bool) -> None:
        """Have ``session`` (a session file's content) written, atomically, as the photo
        ``sha256``'s autosave by the autosave thread, off the edit's path (its fsync can take tens
        of milliseconds); ``keep_previous``: the autosave there is moved aside first. A newer
        session waiting replaces an older one not yet written."""
        with self._wake:
            self._job = (self.path(sha256), session, keep_previous)
            self._wake.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="varcolor-autosave", daemon=True)
            self._thread.start()

    def flush(self) -> None:
        """Wait until the latest autosave is on disk."""
        with self._wake:
            while self._job is not None or self._busy:
                self._wake.wait(1.0)

    def close(self) -> None:
        """Write the pending autosave and stop the thread."""
        if self._thread is not None:
            self.flush()
        with self._wake:
            self._closed = True
            self._wake.notify_all()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while self._job is None and not self._closed:
                    self._wake.wait()
                job, self._job = self._job, None
                if job is None:
                    return
                self._busy = True
            try:
                self._write(*job)
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def _write(self, path: Path, data: dict, keep_previous: bool) -> None:
        try:
            if keep_previous and path.is_file():
                os.replace(path, path.with_name(PREVIOUS))
            write_json(path, data)
        except (OSError, OutputError) as exc:  # the edit stands; the page shows the warning
            message = f"autosave failed: {exc}"
            log.warning("%s", message)
            self.on_error(message)
