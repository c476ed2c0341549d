"""Live: while on, each finished stroke on the strokes layer re-colours the ``colorized`` layer.

One Live worker (``varcolor krita serve``) per document, in a QProcess started when Live is switched
on for it: the plug-in writes the photo once into an exchange folder, then on a timer reads the
strokes layer, and a finished stroke (:mod:`.watch`) is written there and asked for with one line;
the worker's reply line names the box that changed, whose pixels it wrote, and they are copied
into the ``colorized`` layer.
The worker stops when Live is switched off, the document closes or Krita quits (its stdin closes:
it also ends if Krita dies).
"""

import json
import os
import shutil
import time

from krita import Krita
from PyQt5.QtCore import QObject, QProcess, QTimer, pyqtSignal

from . import protocol
from .job import exchange_request, is_open, place, result_layer
from .watch import TICK_MS, StrokeWatch, interval_after


class LiveSession(QObject):
    """Live on one document. ``said(ok, message)``: each result or failure, in one line;
    ``ended``: the session stopped (by itself: the document closed, the worker failed)."""

    said = pyqtSignal(bool, str)
    ended = pyqtSignal()

    def __init__(self, document, settings, parent=None):
        super().__init__(parent)
        self.document, self.settings = document, settings
        self.folder = self.process = None
        self.watch = StrokeWatch()
        self.busy = False
        self.stopped = False
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def start(self):
        """Write the photo and start the worker; a bad choice stops at once, in one line."""
        try:
            request, self.photo, self.strokes = exchange_request(self.document, self.settings)
            self.size = (self.document.width(), self.document.height())
            command = protocol.serve_command(self.settings.get("varcolor", ""))
            self.folder = protocol.exchange_folder(needed=protocol.exchanged_bytes(request))
            with open(os.path.join(self.folder, protocol.PHOTO), "wb") as file:
                file.write(bytes(self.photo.pixelData(0, 0, *self.size)))
            protocol.write_json(os.path.join(self.folder, protocol.REQUEST), request)
        except (protocol.ProtocolError, OSError) as exc:
            self._fail(str(exc))
            return
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.SeparateChannels)
        self.process.readyReadStandardOutput.connect(self._replied)
        self.process.finished.connect(self._worker_ended)
        self.process.errorOccurred.connect(self._failed_to_start)
        self.process.start(command[0], command[1:])
        self.timer.start()
        self.said.emit(True, "Live: paint on the strokes layer")

    def _tick(self):
        if self.busy or self.stopped:
            return
        if not is_open(self.document):
            self.stop()
            return
        if (self.document.width(), self.document.height()) != self.size or self.strokes.parentNode() is None:
            self._fail("the image or its strokes layer changed: switch Live off and on again")
            return
        start = time.perf_counter()
        pixels = bytes(self.strokes.pixelData(0, 0, *self.size))
        self.timer.setInterval(interval_after(time.perf_counter() - start))  # the UI thread's share kept
        if not self.watch.tick(pixels):
            return
        try:
            path = os.path.join(self.folder, protocol.STROKES)
            with open(path + ".part", "wb") as file:
                file.write(pixels)
            os.replace(path + ".part", path)
        except OSError as exc:
            self.watch.forget()
            self.said.emit(False, f"cannot write the strokes for varcolor: {exc.strerror}")
            return
        self.busy = True
        ask = {"folder": self.folder, "whole": len(result_layer(self.document)) != 1}
        self.process.write((json.dumps(ask) + "\n").encode("utf-8"))

    def _replied(self):
        while self.process is not None and self.process.canReadLine():
            line = bytes(self.process.readLine()).decode("utf-8", "replace")
            self.busy = False
            try:
                reply = json.loads(line)
            except ValueError:
                continue  # not a reply line
            if not reply.get("ok"):
                self.said.emit(False, str(reply.get("error") or "varcolor failed"))
                continue
            try:
                with open(os.path.join(self.folder, protocol.RESULT), "rb") as file:
                    pixels = file.read()
                place(self.document, self.photo, pixels, self.size, reply.get("box"))
            except OSError as exc:
                self.said.emit(False, f"cannot read varcolor's result: {exc.strerror}")
                continue
            except protocol.ProtocolError as exc:
                self._fail(str(exc))
                return
            self.said.emit(True, f"Live: coloured in {reply.get('seconds', 0):.1f} s")

    def _failed_to_start(self, error):
        if error == QProcess.FailedToStart:
            self._fail(f"cannot start varcolor ({self.process.program()})")

    def _worker_ended(self, code, status):
        if self.stopped:
            return
        said = bytes(self.process.readAllStandardError()).decode("utf-8", "replace").strip().splitlines()
        self._fail(f"varcolor's Live worker ended: {said[-1] if said else f'exit code {code}'}")

    def _fail(self, message):
        self.said.emit(False, message)
        self.stop()

    def stop(self):
        """Stop the worker (its stdin closed, then killed if it does not end) and forget the folder."""
        if self.stopped:
            return
        self.stopped = True
        self.timer.stop()
        if self.process is not None and self.process.state() != QProcess.NotRunning:
            self.process.closeWriteChannel()  # the worker ends when its stdin closes
            if not self.process.waitForFinished(3000):
                self.process.kill()
                self.process.waitForFinished(1000)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.ended.emit()


class _Sessions(QObject):
    """Every document's Live session; ``said`` and ``ended`` relay theirs (for the docker)."""

    said = pyqtSignal(bool, str)
    ended = pyqtSignal()

    def __init__(self):
        super().__init__()
        self.running = []
        self.connected = False

    def start(self, document, settings):
        """Live on ``document`` (the active one), unless it is on already."""
        if not self.connected:  # stop every worker when Krita quits (after the plug-in loaded)
            Krita.instance().notifier().applicationClosing.connect(self.stop_all)
            self.connected = True
        document = document or Krita.instance().activeDocument()
        if document is None:
            self.said.emit(False, "open a document first")
            self.ended.emit()
            return
        if any(session.document == document for session in self.running):
            return
        session = LiveSession(document, settings)
        self.running.append(session)
        session.said.connect(self.said)
        session.ended.connect(lambda: self._ended(session))
        session.start()

    def _ended(self, session):
        if session in self.running:
            self.running.remove(session)
        if not self.running:
            self.ended.emit()

    def stop_all(self):
        for session in list(self.running):
            session.stop()


SESSIONS = _Sessions()
