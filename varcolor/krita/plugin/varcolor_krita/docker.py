"""The varcolor docker: the options, the layers, a Colorize and a Cancel button, the Live switch,
and one line of what happened (the runs themselves are the Colorize action's and Live's, off the UI
thread)."""

from krita import DockWidget
from PyQt5.QtWidgets import QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from . import extension, protocol, settings
from .live import SESSIONS

DOCKER_ID = "varcolor_colorize_docker"


class ColorizeDocker(DockWidget):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("varcolor")
        saved = settings.read()
        body = QWidget(self)
        form = QFormLayout(body)
        self.method = QComboBox(body)
        self.method.addItems(protocol.METHODS)
        self.method.setCurrentText(saved["method"])
        self.prior = QCheckBox("ideepcolor network where there are no strokes", body)
        self.prior.setChecked(saved["prior"] == "ideepcolor")
        self.edges = QComboBox(body)
        self.edges.addItems(protocol.EDGES)
        self.edges.setCurrentText(saved["edges"])
        self.photo = QLineEdit(saved["photo"], body)
        self.photo.setPlaceholderText("the bottom paint layer")
        self.strokes = QLineEdit(saved["strokes"], body)
        self.strokes.setPlaceholderText("the selected paint layer")
        self.program = QLineEdit(saved["varcolor"], body)
        self.program.setPlaceholderText("the varcolor that installed the plug-in")
        form.addRow("Method", self.method)
        form.addRow("Prior", self.prior)
        form.addRow("Stroke edges", self.edges)
        form.addRow("Photo layer", self.photo)
        form.addRow("Strokes layer", self.strokes)
        form.addRow("varcolor", self.program)
        buttons = QHBoxLayout()
        self.run = QPushButton("Colorize", body)
        self.stop = QPushButton("Cancel", body)
        self.stop.setEnabled(False)
        buttons.addWidget(self.run)
        buttons.addWidget(self.stop)
        form.addRow(buttons)
        self.live = QCheckBox("Live: colour again after each stroke", body)
        form.addRow(self.live)
        self.confidence = QCheckBox("Add a hidden layer of where the colour is guessed (black)", body)
        self.confidence.setChecked(saved.get("confidence") == "1")
        form.addRow(self.confidence)
        self.status = QLabel("Paint colours on a layer above the photo, then Colorize.", body)
        self.status.setWordWrap(True)
        form.addRow(self.status)
        self.setWidget(body)
        self.run.clicked.connect(self.colorize)
        self.live.toggled.connect(self._live)
        SESSIONS.said.connect(self._said)
        SESSIONS.ended.connect(self._live_ended)
        self.stop.clicked.connect(extension.cancel)
        extension.RUNS.started.connect(self._started)
        extension.RUNS.finished.connect(self._finished)

    def colorize(self):
        self._save()
        extension.colorize()

    def _live(self, on):
        if on:
            self._save()
            SESSIONS.start(None, settings.read())
        else:
            SESSIONS.stop_all()

    def _said(self, ok, message):
        self.status.setText(message if ok else f"failed: {message}")

    def _live_ended(self):
        self.live.blockSignals(True)
        self.live.setChecked(False)
        self.live.blockSignals(False)

    def _save(self):
        settings.write(
            {
                "method": self.method.currentText(),
                "prior": "ideepcolor" if self.prior.isChecked() else "",
                "edges": self.edges.currentText(),
                "photo": self.photo.text().strip(),
                "strokes": self.strokes.text().strip(),
                "varcolor": self.program.text().strip(),
                "confidence": "1" if self.confidence.isChecked() else "",
            }
        )

    def _started(self, job):
        self.run.setEnabled(False)
        self.stop.setEnabled(True)
        self.status.setText("colorizing…")

    def _finished(self, ok, message):
        self.run.setEnabled(True)
        self.stop.setEnabled(False)
        self.status.setText(message if ok else f"failed: {message}")

    def canvasChanged(self, canvas):
        """Krita's hook for a change of the active canvas: nothing to do (a run takes the document
        active when it starts)."""
        pass
