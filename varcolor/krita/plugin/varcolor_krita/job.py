"""One Colorize in Krita: the photo and strokes layers written to an exchange folder, the user's
varcolor run on it in a QProcess (the UI stays live; Cancel kills it), and its result made the
``colorized`` layer above the photo (one undo step on the first run), replacing the one made before."""

import os
import shutil

from krita import Krita
from PyQt5.QtCore import QObject, QProcess, QStandardPaths, pyqtSignal

from . import protocol


def _layout(node, data_dirs):
    channels = sorted(node.channels(), key=lambda channel: channel.position())
    profile = node.colorProfile()
    found = protocol.layout(node.colorModel(), node.colorDepth(), profile, [c.name() for c in channels])
    found["profile_file"] = protocol.find_profile(profile, data_dirs)
    return found


def _document_layout(document, data_dirs):
    # The new layer is made in the document's colour space.
    model, depth, profile = document.colorModel(), document.colorDepth(), document.colorProfile()
    found = protocol.layout(model, depth, profile, protocol.document_channels(model, depth))
    found["profile_file"] = protocol.find_profile(profile, data_dirs)
    return found


def exchange_request(document, settings):
    """The request for ``document`` with ``settings`` (checked), its photo node and its strokes node."""
    nodes = document.rootNode().childNodes()
    active = document.activeNode()
    active_index = next((i for i, node in enumerate(nodes) if active is not None and node == active), None)
    photo, strokes = protocol.pick_layers(
        [node.name() for node in nodes],
        [node.type() for node in nodes],
        active_index,
        settings.get("photo", ""),
        settings.get("strokes", ""),
    )
    photo, strokes = nodes[photo], nodes[strokes]
    data_dirs = QStandardPaths.standardLocations(QStandardPaths.GenericDataLocation)
    request = protocol.make_request(
        document.width(),
        document.height(),
        _layout(photo, data_dirs),
        _layout(strokes, data_dirs),
        _document_layout(document, data_dirs),
        settings.get("method", protocol.METHODS[0]),
        settings.get("prior") or None,
        settings.get("edges", protocol.EDGES[0]),
        bool(settings.get("confidence")),
    )
    return request, photo, strokes


def is_open(document):
    """Whether ``document`` is still open in Krita."""
    return any(open_document == document for open_document in Krita.instance().documents())


def result_layer(document, name=protocol.RESULT_LAYER):
    """The ``colorized`` (or ``name``) layers at the top level of ``document``."""
    root = document.rootNode()
    return [node for node in root.childNodes() if node.name() == name and node.type() == "paintlayer"]


def place(document, photo, pixels, size, box=None, confidence=None):
    """``pixels`` (the document's layout) as the ``colorized`` layer right above ``photo``. Without
    ``box``: the whole canvas of ``size``, a new layer (one undo step) replacing the one made
    before, and ``confidence`` (where given) as the hidden ``confidence`` layer above it (a second
    step); an old map goes with the old result (Live's first result too replaces it). With ``box``
    (top, left, height, width): that box of the one ``colorized`` layer rewritten (Live). A
    closed, resized or changed document is an error."""
    if not is_open(document):
        raise protocol.ProtocolError("the document was closed while varcolor worked")
    width, height = document.width(), document.height()
    if (width, height) != size or photo.parentNode() is None:
        raise protocol.ProtocolError("the image or its photo layer changed while varcolor worked: colorize again")
    old = result_layer(document)
    if box is not None and list(box) != [0, 0, height, width]:
        if len(old) != 1:
            raise protocol.ProtocolError("the colorized layer was removed or doubled: switch Live off and on again")
        top, left, rows, columns = box
        if rows and columns:
            old[0].setPixelData(pixels, left, top, columns, rows)
    else:
        layer = document.createNode(protocol.RESULT_LAYER, "paintlayer")
        layer.setPixelData(pixels, 0, 0, width, height)  # before it is in the image: no undo step of its own
        root = document.rootNode()
        stale = old + result_layer(document, protocol.CONFIDENCE_LAYER)  # an old map goes with the old result
        root.addChildNode(layer, photo)
        if confidence is not None:  # a second undo step (Krita's scripting has no way to join them)
            known = document.createNode(protocol.CONFIDENCE_LAYER, "paintlayer")
            known.setPixelData(confidence, 0, 0, width, height)
            known.setVisible(False)  # a map to look at on request: the picture stays the result
            root.addChildNode(known, layer)
        for node in stale:
            node.remove()
    document.refreshProjection()


class ColorizeJob(QObject):
    """Colorize ``document`` once. ``finished(ok, message)`` is emitted exactly once."""

    finished = pyqtSignal(bool, str)

    def __init__(self, document, settings, parent=None):
        super().__init__(parent)
        self.document = document
        self.settings = settings  # method, prior, edges, photo, strokes, varcolor
        self.folder = None
        self.process = None
        self.photo = None
        self.size = None
        self.done = False

    def start(self):
        """Write the exchange folder and start varcolor; a bad choice finishes at once, in one line."""
        try:
            self._start()
        except (protocol.ProtocolError, OSError) as exc:
            self._finish(False, str(exc))

    def _start(self):
        document = self.document
        request, self.photo, strokes_node = exchange_request(document, self.settings)
        width, height = self.size = document.width(), document.height()
        self.folder = protocol.exchange_folder(needed=protocol.exchanged_bytes(request))
        command = protocol.colorize_command(self.settings.get("varcolor", ""), self.folder)
        for name, node in ((protocol.PHOTO, self.photo), (protocol.STROKES, strokes_node)):
            with open(os.path.join(self.folder, name), "wb") as file:
                file.write(bytes(node.pixelData(0, 0, width, height)))
        protocol.write_json(os.path.join(self.folder, protocol.REQUEST), request)
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.MergedChannels)
        self.process.finished.connect(self._ended)
        self.process.errorOccurred.connect(self._failed_to_start)
        self.process.start(command[0], command[1:])

    def cancel(self):
        if self.process is not None and self.process.state() != QProcess.NotRunning:
            self.process.kill()
        self._finish(False, "cancelled")

    def _failed_to_start(self, error):
        if error == QProcess.FailedToStart:
            self._finish(False, f"cannot start varcolor ({self.process.program()})")

    def _ended(self, code, status):
        if self.done:
            return
        reply = protocol.read_reply(self.folder)
        if not reply["ok"]:
            said = bytes(self.process.readAll()).decode("utf-8", "replace").strip().splitlines()
            error = reply["error"] if reply["error"] != "varcolor wrote no reply" or not said else said[-1]
            self._finish(False, error)
            return
        try:
            with open(os.path.join(self.folder, protocol.RESULT), "rb") as file:
                pixels = file.read()
            known = os.path.join(self.folder, protocol.CONFIDENCE)
            confidence = None
            if os.path.isfile(known):
                with open(known, "rb") as file:
                    confidence = file.read()
            place(self.document, self.photo, pixels, self.size, confidence=confidence)
        except OSError as exc:
            self._finish(False, f"cannot read varcolor's result: {exc.strerror}")
            return
        except protocol.ProtocolError as exc:
            self._finish(False, str(exc))
            return
        self._finish(True, f"colorized in {reply['seconds']:.1f} s")

    def _finish(self, ok, message):
        if self.done:
            return
        self.done = True
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.finished.emit(ok, message)
