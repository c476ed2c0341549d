"""The headless check (``varcolor krita check``): when Krita starts with ``VARCOLOR_KRITA_CHECK``
naming a plan, this runs the Colorize action on the opened document as a user would, undoes once,
switches Live on and paints one stroke (the plan's box) on the strokes layer, saves the document,
writes a report and quits Krita. Without that variable it does nothing."""

import functools
import json
import os
import time
import traceback

from krita import Extension, InfoObject, Krita
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QDockWidget

from . import extension, protocol, settings
from .docker import DOCKER_ID
from .live import SESSIONS

VARIABLE = "VARCOLOR_KRITA_CHECK"


def _reported(step):
    """A step of the check whose exception ends the check with its last line in the report (Krita
    would show it in a dialog, which nobody closes on a virtual screen)."""

    @functools.wraps(step)
    def run(self, *args):
        try:
            return step(self, *args)
        except Exception:  # noqa: BLE001 - any failure is the check's result
            return self._end(traceback.format_exc().strip().splitlines()[-1])

    return run


class Check(Extension):
    def setup(self):
        path = os.environ.get(VARIABLE)
        if not path:
            return
        with open(path, encoding="utf-8") as file:
            self.plan = json.load(file)
        if self.plan.get("started"):  # Krita's Python runs and the plug-in loaded: the check waits on
            protocol.write_json(self.plan["started"], {"pid": os.getpid()})
        self.report = {"runs": [], "error": None}
        self.waited = 0
        Krita.instance().setBatchmode(True)
        Krita.instance().notifier().windowCreated.connect(lambda: QTimer.singleShot(500, self._wait_for_document))

    def createActions(self, window):
        """Krita's hook for a new window's actions: the check adds none."""
        pass

    @_reported
    def _wait_for_document(self):
        documents = Krita.instance().documents()
        if not documents:
            self.waited += 1
            if self.waited > 240:
                return self._end("no document opened")
            return QTimer.singleShot(250, self._wait_for_document)
        self.document = documents[0]
        self.document.waitForDone()
        selected = self.plan.get("select")
        if selected:
            node = self.document.nodeByName(selected)
            self.document.setActiveNode(node)
        settings.write(self.plan.get("settings", {}))
        extension.RUNS.started.connect(self._started)
        extension.RUNS.finished.connect(self._finished)
        self.cancelling = bool(self.plan.get("cancel_first"))
        window = Krita.instance().activeWindow().qwindow()
        if self.plan.get("linger"):  # a screenshot will be taken: the whole screen
            window.showMaximized()
            # A virtual screen has no window manager to maximize it: the window kept its own size
            # and place, and the docker's last row (Live) fell off the screen's bottom edge.
            window.setGeometry(QApplication.primaryScreen().availableGeometry())
        for dock in window.findChildren(QDockWidget):
            if dock.objectName() == DOCKER_ID:
                dock.show()
                dock.raise_()
        self._run()

    @_reported
    def _run(self):
        self.started = time.perf_counter()
        Krita.instance().action(extension.ACTION).trigger()

    def _started(self, job):
        if self.cancelling:  # the first run is cancelled as soon as varcolor started
            QTimer.singleShot(300, extension.cancel)

    @_reported
    def _finished(self, ok, message):
        seconds = time.perf_counter() - self.started
        if self.cancelling:
            self.cancelling = False
            self.report["cancelled"] = {"message": message, "layers": self._layers()}
            return QTimer.singleShot(100, self._run)
        self.report["runs"].append({"ok": ok, "message": message, "seconds": round(seconds, 3)})
        if not ok:
            return self._end(None)
        if len(self.report["runs"]) == 1:  # the first run is one undo step (two with its map): undone, redone
            steps = 2 if settings.read().get("confidence") == "1" else 1
            self.document.waitForDone()
            for action in ["edit_undo"] * steps + ["edit_redo"] * steps:
                Krita.instance().action(action).trigger()
                self.document.waitForDone()
                if action == "edit_undo":
                    self.report["layers_after_undo"] = self._layers()
        if len(self.report["runs"]) < self.plan.get("runs", 1):
            return QTimer.singleShot(100, self._run)
        if self.plan.get("runs_output"):  # the document as the Colorize runs left it, before Live
            self.document.waitForDone()
            self.report["layers_after_runs"] = self._layers()
            self.document.setBatchmode(True)
            self.report["saved_after_runs"] = bool(self.document.exportImage(self.plan["runs_output"], InfoObject()))
        if self.plan.get("live_stroke"):
            return QTimer.singleShot(100, self._live)
        QTimer.singleShot(100, self._save)

    @_reported
    def _live(self):
        """Live on; at its first result, one stroke painted; at the next, Live off and the save."""
        self.report["live"] = []
        SESSIONS.said.connect(self._live_said)
        self.live_started = time.perf_counter()
        SESSIONS.start(self.document, settings.read())

    @_reported
    def _live_said(self, ok, message):
        if not ok:
            SESSIONS.stop_all()
            return self._end(f"Live: {message}")
        if not message.startswith("Live: coloured"):
            return None
        seconds = time.perf_counter() - self.live_started
        self.report["live"].append({"message": message, "seconds": round(seconds, 3)})
        if len(self.report["live"]) == 1:
            QTimer.singleShot(100, self._stroke)
            return None
        SESSIONS.said.disconnect(self._live_said)
        SESSIONS.stop_all()
        QTimer.singleShot(100, self._save)
        return None

    @_reported
    def _stroke(self):
        """The plan's stroke (top, left, height, width and an 8-bit RGB colour) painted on the
        strokes layer, as a brush would leave it."""
        top, left, height, width, red, green, blue = self.plan["live_stroke"]
        node = self.document.nodeByName("strokes")
        pixels = bytes(node.pixelData(left, top, width, height))
        step = len(pixels) // (width * height)
        pixel = bytes([blue, green, red, 255]) if step == 4 else None
        if pixel is None:
            raise RuntimeError(f"the strokes layer is not 8-bit RGBA ({step} bytes a pixel)")
        node.setPixelData(pixel * (width * height), left, top, width, height)
        self.live_started = time.perf_counter()

    def _layers(self):
        return [node.name() for node in self.document.rootNode().childNodes()]

    @_reported
    def _save(self):
        document = self.document
        document.waitForDone()
        self.report["layers"] = self._layers()
        document.setBatchmode(True)
        self.report["saved"] = bool(document.exportImage(self.plan["output"], InfoObject()))
        self._end(None)

    def _end(self, error):
        # The report first, then a pause (a screenshot is taken meanwhile), then Krita quits.
        self.report["error"] = error
        protocol.write_json(self.plan["report"], self.report)
        QTimer.singleShot(int(1000 * self.plan.get("linger", 0)), self._quit)

    def _quit(self):
        for document in Krita.instance().documents():
            document.setModified(False)
        QTimer.singleShot(0, Krita.instance().action("file_quit").trigger)
