"""The Colorize action (Tools > Scripts > Colorize with varcolor): the active document colorized
with the docker's settings. The docker's button and the headless check run it."""

from krita import Extension, Krita
from PyQt5.QtCore import QObject, pyqtSignal

from . import settings
from .job import ColorizeJob

ACTION = "varcolor_colorize"


class _Runs(QObject):
    """Every run's start and end, for the docker's buttons and the headless check."""

    started = pyqtSignal(object)  # the ColorizeJob
    finished = pyqtSignal(bool, str)


RUNS = _Runs()
_running: list[ColorizeJob] = []


def colorize(document=None):
    """Colorize ``document`` (the active one) with the saved settings; one run at a time."""
    if _running:
        RUNS.finished.emit(False, "a colorize is already running: wait for it or cancel it")
        return
    document = document or Krita.instance().activeDocument()
    if document is None:
        RUNS.finished.emit(False, "open a document first")
        return
    job = ColorizeJob(document, settings.read())
    _running.append(job)
    job.finished.connect(lambda ok, message: _ended(job, ok, message))
    RUNS.started.emit(job)
    job.start()


def cancel():
    for job in list(_running):
        job.cancel()


def _ended(job, ok, message):
    _running.remove(job)
    window = Krita.instance().activeWindow()
    view = window.activeView() if window is not None else None
    if view is not None and not ok:
        view.showFloatingMessage(f"varcolor: {message}", Krita.instance().icon("warning"), 6000, 1)
    RUNS.finished.emit(ok, message)


class ColorizeExtension(Extension):
    def setup(self):
        pass

    def createActions(self, window):
        """The Colorize action, under Tools > Scripts of ``window``."""
        action = window.createAction(ACTION, "Colorize with varcolor", "tools/scripts")
        action.triggered.connect(lambda: colorize())
