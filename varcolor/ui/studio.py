"""The studio's session, apart from HTTP: the open image, its document history (edits, undo,
redo) and the state the page shows. It composes the parts that do the work: the live solve
(:mod:`varcolor.ui.live`), the autosave (:mod:`varcolor.ui.autosave`), the view at full
resolution (:mod:`varcolor.ui.view`) and saving (:mod:`varcolor.ui.saving`).

Everything that colours pixels is :mod:`varcolor`'s own (:class:`varcolor.Colorizer`,
:func:`varcolor.colorize`); this module only turns edits into documents.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import os
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..api import check_fits
from ..color import lab_to_rgb, lightness_of_gray, rgb_to_lab, to_gray
from ..common.memory import give_back_free_memory
from ..common.threads import lowest_priority, shared_pool
from ..errors import InputError, OutputError, VarcolorError
from ..io import (
    IMAGE_EXTENSIONS,
    MAX_PIXELS,
    atomic_path,
    check_transparency,
    file_sha256,
    image_bits,
    inside,
    levels_to_float,
    read_image,
)
from ..io.layers import LAYERED_EXTENSIONS, is_layered, open_stack, pick_layers
from ..methods.levin_multiscale import unrestrained_because
from ..options import DEFAULT_METHOD, Options
from . import saving
from .autosave import Autosave
from .document import (
    DEFAULT_PRESET,
    NEUTRAL_RGB,
    PRESETS,
    SECONDS_PER_MEGAPIXEL,
    Document,
    History,
    cues_from_mask,
    draw,
    kept_suggestions,
    layer_strokes,
    parse_session,
    rasterize,
    session_dict,
)
from .live import LiveSolver, reduce, working_shape
from .refphoto import match_suggestions, reference_colours
from .view import TILE, View, full_gray, full_tiles_of, lifted, png

if TYPE_CHECKING:  # PyTorch: imported when the network is first asked
    from ..neural.siggraph17 import SIGGRAPH17

__all__ = ["Studio", "default_data_dir", "PREVIEW_PIXELS"]

log = logging.getLogger("varcolor.ui")

#: The live view works on a copy of at most this many pixels (saving always solves the full image).
PREVIEW_PIXELS = 1_500_000
#: A method change expected to take longer than this (seconds) asks first.
ASK_SECONDS = 5.0
#: A photo of this many pixels or more is saved by a child started ahead (:class:`saving.Spare`),
#: this many seconds after an edit (not while the edit's own result is solved: two cores).
SPARE_PIXELS = 4_000_000
SPARE_DELAY = 3.0
#: Rows of the live result compared with the original at a time (:meth:`Studio.metrics`).
METRICS_ROWS = 64
#: The most seconds the metrics wait for the work the page waits for to end (:meth:`Studio.metrics`).
METRICS_PATIENCE = 5.0
#: A reference photo is shown beside the photo at most this many pixels, and its colours are
#: counted (suggested swatches) on at most this many.
SHOWN_PIXELS = 1_000_000
PALETTE_PIXELS = 60_000
#: Suggestions within this share of the photo's shorter side of a chosen place are its swatches first.
NEAR_SHARE = 0.1


def default_data_dir() -> Path:
    """Where autosaved sessions and uploaded photos are kept: ``$VARCOLOR_DATA``, else
    ``$XDG_DATA_HOME/varcolor/studio`` (``~/.local/share/varcolor/studio``)."""
    if os.environ.get("VARCOLOR_DATA"):
        return Path(os.environ["VARCOLOR_DATA"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "varcolor" / "studio"


def _low_priority() -> ThreadPoolExecutor:
    """One thread of the lowest priority (nice 19, where the system has it), for work the page
    asks for beside the strokes' solves; the threads it starts (PyTorch's) inherit its priority."""
    return shared_pool("low", 1, lowest_priority)


def _metrics_pool() -> ThreadPoolExecutor:
    """The metrics' own thread of the lowest priority: they wait there for the studio's work to
    end (:meth:`Studio.metrics`), which must not hold up the suggestions in :func:`_low_priority`'s."""
    return shared_pool("metrics", 1, lowest_priority)


#: The most tiles a page's view names (:meth:`Studio.set_view`): a 4K screen at 1:1 shows about 150.
_VIEW_TILES = 1024


class OpenImage:
    """A photo open in the studio: its full-resolution pixels, its working copy and identity."""

    def __init__(
        self, path: Path, name: str, *, preview_pixels: int, method: str = DEFAULT_PRESET, compress: bool = True
    ):
        self.path, self.name = path, name
        # Single precision: the live copy and the view's gray need no more.
        #: A layered file's strokes layer as the document's strokes (None: not layered, or none).
        self.layer_strokes: tuple | None = None
        if is_layered(path):  # the photo layer is the photo, its strokes layer editable strokes
            pixels = levels = self._layers(path, name)
        else:
            # An 8- or 16-bit photo's levels are kept as read until its full gray is made (smaller
            # than a float copy, held through the first strokes: the studio's peak).
            levels = read_image(path, np.float32, levels=True)
            check_transparency(name, levels)  # (all transparent: refused as it opens, not at its save)
            pixels = levels if levels.dtype.kind == "f" else levels_to_float(levels, np.float32)
            self.bits = image_bits(path)
        self.sha256 = file_sha256(path)
        self._stat = _stat(path)
        #: The working copy's L* at the network's size, for the suggestions (made at the first).
        self.network_plane: np.ndarray | None = None
        self.shape = pixels.shape[:2]
        check_size = self.shape
        if min(check_size) < 2:
            raise InputError(f"{name}: the image must be at least 2×2 pixels, got {check_size[1]}×{check_size[0]}")
        work = working_shape(self.shape, preview_pixels)
        # The live copy's solve must fit in memory now; the full photo's is checked again at a save.
        try:
            check_fits(work, **PRESETS[method])
        except InputError as exc:
            raise InputError(f"{name}: {exc}") from None
        self.warning = None
        try:
            check_fits(self.shape, **PRESETS[method])
        except InputError as exc:
            self.warning = f"{name}: saving solves the full photo, which will not fit in memory now: {exc}"
            log.warning("%s", self.warning)
        rgb = pixels[..., :3] if pixels.ndim == 3 else None
        self.colour = rgb is not None and not (
            np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])
        )
        # The live copy's gray: the photo's own at full size; else the photo reduced by area
        # averaging (OpenCV's INTER_AREA, much quicker than scikit-image's).
        small = pixels if work == self.shape else reduce(pixels, work)
        self.gray = to_gray(small)
        self.original = small[..., :3] if self.colour else None  # the colour original, for metrics
        # The full photo is not kept (saving reads the file again): only its gray, for the view.
        if work == self.shape:
            self.view = View(self.gray.astype(np.float32), compress=compress)
        else:
            colour = self.colour
            self.view = View(lambda: full_gray(levels, colour), self.shape, compress=compress)

    def _layers(self, path: Path, name: str) -> np.ndarray:
        """A layered file's photo layer (as the command line picks it: what a save colorizes),
        keeping its strokes layer's strokes and the two layers' bits."""
        stack = open_stack(path)
        photo, strokes = pick_layers(stack.entries, name)
        self.bits = stack.bits([photo] + ([strokes] if strokes is not None else []))
        if strokes is not None:
            self.layer_strokes = layer_strokes(stack.layer(strokes).pixels, name)
        return stack.layer(photo).pixels[..., :3].astype(np.float32)

    def changed(self) -> bool:
        """Whether the photo's file is no longer the one opened (its content, if its size or time changed)."""
        if _stat(self.path) == self._stat:
            return False
        try:
            return file_sha256(self.path) != self.sha256
        except OSError:
            return True

    def record(self) -> dict:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "width": self.shape[1],
            "height": self.shape[0],
            "name": self.name,
        }


class ReferenceView:
    """A reference photo read by the studio: its identity, the copy the page shows, its colours
    reduced (for suggested swatches) and, until matched, its pixels."""

    def __init__(self, path: Path, name: str, pixels: np.ndarray, sha256: str):
        self.path, self.name, self.sha256 = path, name, sha256
        self.pixels: np.ndarray | None = pixels
        self.height, self.width = pixels.shape[:2]
        shown = (
            pixels
            if pixels.shape[0] * pixels.shape[1] <= SHOWN_PIXELS
            else reduce(pixels, working_shape(pixels.shape[:2], SHOWN_PIXELS))
        )
        self.png = png(np.round(np.clip(shown, 0, 1) * 255).astype(np.uint8))
        small = (
            reduce(pixels, working_shape(pixels.shape[:2], PALETTE_PIXELS))
            if pixels.size > 3 * PALETTE_PIXELS
            else pixels
        )
        self.lab = rgb_to_lab(np.clip(small, 0, 1).astype(np.float64))

    @classmethod
    def read(cls, path: Path, name: str) -> ReferenceView:
        """Read ``path``; what can be no reference (not an image, too many pixels, smaller than
        16 px a side, gray) is one line naming ``name``."""
        from ..app.reference import read_reference

        try:
            pixels = read_reference(path, MAX_PIXELS)
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), name)) from None
        return cls(path, name, pixels, file_sha256(path))

    def record(self) -> dict:
        """The session's record of it."""
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "name": self.name,
            "width": self.width,
            "height": self.height,
        }


class Studio:
    """One studio session (one image at a time)."""

    def __init__(
        self,
        *,
        data_dir: Path,
        out_dir: Path,
        preview_pixels: int = PREVIEW_PIXELS,
        warm: bool = True,
        local: bool = True,
    ):
        self.data_dir, self.out_dir = Path(data_dir), Path(out_dir).resolve()
        self.preview_pixels, self.warm, self.local = preview_pixels, warm, local
        self.image: OpenImage | None = None
        self.history: History | None = None
        self.live: LiveSolver | None = None
        self.version = 0
        self.restorable: dict | None = None
        self.lock = threading.RLock()
        self.listeners: list = []
        #: Set when the server begins to stop (Ctrl-C): long polls answer at once.
        self.stopping = False
        self.stop_listeners: list = []
        self._prior_net: SIGGRAPH17 | None = None
        self._suggest_cache: tuple[int, np.ndarray] | None = None
        #: Reference photos read this session, by SHA-256: their shown copy and reduced Lab.
        self._references: dict[str, ReferenceView] = {}
        self._references_missing: set[str] = set()  # looked for, not found: not looked for at each state
        #: The reference being matched (its thread) or the last one that failed: what the page shows.
        self.reference_job: dict | None = None
        self._reference_serial = 0
        self._metrics_lock = threading.Lock()
        self._metrics: tuple[LiveSolver, dict] | None = None  # the last answer, for the live solve it was of
        self.message: str | None = None  # shown with every state (a failing autosave)
        self.notice: str | None = None  # shown once
        self.autosave = Autosave(self.data_dir, on_error=self._autosave_failed)
        self.saves = saving.Saves(self.data_dir, self.out_dir)
        # A spare save child's work ahead waits while the page's work runs (two cores).
        self.saves.spare.busy = self._working
        self._tiles_made = 0  # tile requests under way
        #: The level-0 tiles the page shows at 1:1 (nearest the view's centre first; :meth:`set_view`),
        #: made full as soon as a result is final.
        self._view_tiles: tuple[tuple[int, int], ...] = ()
        self._spare_timer: threading.Timer | None = None
        self._closed = False
        # What killed saves left: their unfinished units and temporaries.
        taken_back = saving.recover(self.data_dir / "saving")
        # Said with the first state the page gets, whether or not a photo is opened first.
        self._startup_notice = "; ".join(taken_back) or None
        self.notice = self._startup_notice

    # -- opening -----------------------------------------------------------------------------
    def open_path(
        self,
        path: Path,
        name: str | None = None,
        doc: Document | None = None,
        *,
        page: bool = True,
        folder: Path | None = None,
    ) -> dict:
        """Open an image file (``doc``: a session's document to start from, its reference photo
        looked for also in ``folder``; ``page``: the state returned goes to the page, which says
        its one-time notice; else the notice is kept for the page's first state call)."""
        method = (doc.settings if doc is not None else {}).get("method", DEFAULT_PRESET)
        image = OpenImage(
            Path(path),
            name or Path(path).name,
            preview_pixels=self.preview_pixels,
            method=method,
            compress=not self.local,
        )
        missing = None
        if doc is not None and doc.reference is not None and self._reference_view(doc.reference, folder) is None:
            missing = f"the reference photo {doc.reference['path']} is not found (or changed): its suggestions are kept"
        with self.lock:
            self.message, self.notice, self._startup_notice = None, self._startup_notice, None
            self._reference_serial += 1  # a reference still being matched was for the last photo
            self.reference_job = None
            if missing is not None:
                self.notice = "; ".join(filter(None, (self.notice, missing)))
            if self.live is not None:
                self.live.close()
            self.image = image
            start = doc or Document(strokes=image.layer_strokes or ())
            self.history = History(start)
            self.version += 1
            self.live = LiveSolver(image.gray, image.shape, warm=self.warm)
            self.live.listeners.extend(self.listeners)
            # The full tiles in view start as a stroke's chroma is solved (the live copy's paint
            # then goes on beside them); after a publish, any not started then.
            self.live.chroma_listeners.append(
                lambda version, ab, live=self.live: self._full_tiles_ahead(live, version, ab)
            )
            self.live.listeners.append(lambda live=self.live: self._full_tiles_ahead(live))
            # Its picture, while the page's view covers it, after the view's tiles (set_view).
            self.live.paint_when = functools.partial(self._view_settled, image.view)
            self._view_tiles = ()
            self._suggest_cache = None
            self.restorable = None
            self.flush()  # the last image's autosave, which may be this one's
            if doc is None:
                old, saved, said = self.autosave.offer(image.sha256)
                if old is not None:
                    self.restorable = {**counts(old), "saved": saved}
                if said:
                    self.notice = "; ".join(filter(None, (self.notice, said)))
                    log.warning("%s", self.notice)
            self.live.submit(self.version, start)
            if doc is not None:
                self._autosave()
            # Strokes that come with the photo (a session's), or that could (an autosave's), are
            # said on the page and in the log: a photo must never be coloured by strokes unseen.
            held = ""
            if not start.empty:
                held = f"; with the {'session' if doc is not None else 'strokes layer'}'s {counts(start)['text']}"
                self.notice = "; ".join(filter(None, [self.notice, f"opened {image.name}{held[1:]}"]))
            elif self.restorable is not None:
                held = f"; an autosave of it holds {self.restorable['text']}: restore it on the page or start afresh"
            log.info(
                "opened %s (%d×%d, working copy %d×%d)%s",
                image.name,
                image.shape[1],
                image.shape[0],
                image.gray.shape[1],
                image.gray.shape[0],
                held,
            )
            return self.state(page=page)

    def open_upload(self, data: bytes, filename: str) -> dict:
        """Open an uploaded photo: it is kept in the data folder (the session refers to it there)."""
        readable = IMAGE_EXTENSIONS + LAYERED_EXTENSIONS
        return self._open_stored(data, filename, "image", readable, "an image file this studio reads", self.open_path)

    def open_session(self, path: Path, *, page: bool = True) -> dict:
        """Reopen a saved session file (its image is found by path, else beside the session file;
        ``page`` as for :meth:`open_path`)."""
        path = Path(path)
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read session ({exc.strerror or exc})") from None
        return self.open_session_text(text, str(path), path.parent, page=page)

    def open_session_text(self, text: str | bytes, name: str, folder: Path | None = None, *, page: bool = True) -> dict:
        """Reopen a session from its content (a file given on the page): its photo is looked for
        at the path it names, beside it in ``folder``, and among the photos opened from the page."""
        doc, record = parse_session(text, name)
        candidates = []
        if isinstance(record.get("path"), str):
            candidates.append(Path(record["path"]))
            if folder is not None:
                candidates.append(folder / Path(record["path"]).name)
        candidates += sorted((self.data_dir / record["sha256"][:16]).glob("image.*"))
        for candidate in candidates:
            if candidate.is_file() and file_sha256(candidate) == record["sha256"]:
                return self.open_path(
                    candidate, record.get("name") or candidate.name, doc=doc, page=page, folder=folder
                )
        raise InputError(
            f"{name}: the photo this session was drawn on ({record.get('path')!r}) is not found, or its content changed"
        )

    # -- editing -----------------------------------------------------------------------------
    def _need_image(self) -> None:
        if self.image is None:
            raise InputError("no image is open")

    def edit(self, op: dict) -> dict:
        """Apply one edit (``op``: ``stroke``, ``point``, ``point-change``, ``point-delete``,
        ``clear``, ``settings``, ``reference-remove``) and start solving it."""
        with self.lock:
            self._need_image()
            assert self.image is not None and self.history is not None and self.live is not None  # opened together
            doc, shape = self.history.current, self.image.shape
            kind = op.get("op") if isinstance(op, dict) else None
            if kind == "stroke":
                new = doc.with_stroke(op.get("stroke"), shape)
            elif kind == "point":
                new = doc.with_point(op.get("point"), shape)
            elif kind == "point-change":
                new = doc.with_point_changed(_int(op.get("id")), op.get("point") or {}, shape)
            elif kind == "point-delete":
                new = doc.without_point(_int(op.get("id")))
            elif kind == "clear":
                new = doc.cleared()
            elif kind == "settings":
                new = doc.with_settings(op.get("settings") or {})
                self._check_method(new.settings["method"])
            elif kind == "reference-remove":
                if doc.reference is None:
                    raise InputError("no reference photo is open")
                new = doc.with_reference(None, None)
            else:
                raise InputError(f"unknown edit {kind!r}")
            self.history.push(new)
            return self._changed()

    def _check_method(self, method: str) -> None:
        """Refuse a method this studio cannot run on the live copy now (its extra missing, or its
        solve not fitting in memory), with one line."""
        assert self.image is not None  # called with a photo open
        options = PRESETS[method]
        if options.get("prior") and not neural_available():
            raise InputError("the network prior needs PyTorch: pip install 'varcolor[neural]'")
        try:
            check_fits(self.image.gray.shape, **options)
        except InputError as exc:
            raise InputError(f"{self.image.name}: method {method}: {exc}") from None

    def estimate(self, method: str) -> dict:
        """What switching the live view to ``method`` costs: seconds (this session's own measure
        where it has one, else :data:`SECONDS_PER_MEGAPIXEL`) and bytes (the library's estimate),
        and whether the page should ask first (over :data:`ASK_SECONDS`)."""
        if method not in PRESETS:
            raise InputError(f"unknown studio preset {method!r}; available: {', '.join(PRESETS)}")
        with self.lock:
            self._need_image()
            assert self.image is not None and self.history is not None and self.live is not None
            self._check_method(method)
            shape, live = self.image.gray.shape, self.live
        pixels = shape[0] * shape[1]
        rate = live.rates.get(method) if live is not None else None
        seconds = rate * pixels if rate else SECONDS_PER_MEGAPIXEL[method] * pixels / 1e6
        need = check_fits(shape, **PRESETS[method]).bytes
        ask = seconds > ASK_SECONDS
        text = (
            f"{METHOD_NAMES[method]} re-solves the whole {shape[1]}×{shape[0]} live copy: about {seconds:.0f} s"
            f" and {need / 1e9:.1f} GB. Switch?"
        )
        return {"method": method, "seconds": seconds, "bytes": need, "ask": ask, "text": text, "measured": bool(rate)}

    def undo(self) -> dict:
        return self._step("undo")

    def redo(self) -> dict:
        return self._step("redo")

    def _step(self, way: str) -> dict:
        """Undo or redo (``way``) where the history can; the state either way."""
        with self.lock:
            self._need_image()
            assert self.image is not None and self.history is not None and self.live is not None
            if getattr(self.history, f"can_{way}"):
                getattr(self.history, way)()
                return self._changed()
            return self.state()

    def restore(self) -> dict:
        """Start from the autosaved session of this image (offered when it was opened)."""
        with self.lock:
            self._need_image()
            assert self.image is not None and self.history is not None and self.live is not None
            if self.restorable is None:
                raise InputError("there is no autosaved session to restore")
            doc = self.autosave.read(self.image.sha256)
            self.restorable = None
            self.history.push(doc)
            self.notice = f"restored the autosave: {counts(doc)['text']} (undo takes it back)"
            log.info("%s: %s", self.image.name, self.notice)
            return self._changed()

    def dismiss_restore(self) -> dict:
        """Start afresh: the autosave offered is kept as ``autosave.previous.json``."""
        with self.lock:
            self._need_image()
            assert self.image is not None and self.history is not None and self.live is not None
            if self.restorable is not None:
                self.autosave.keep_previous(self.image.sha256)
            self.restorable = None
            return self.state()

    def _changed(self) -> dict:
        assert self.image is not None and self.history is not None and self.live is not None
        self.version += 1
        self.live.submit(self.version, self.history.current)
        self.saves.spare.poke()  # busy now: the work ahead waits from its next step
        self._autosave()
        self._prepare_save()
        return self.state()

    def _prepare_save(self) -> None:
        """Have a spare child ready for a scan's save, a moment from now (called holding the lock)."""
        assert self.image is not None  # after an edit of the open photo
        height, width = self.image.shape
        if height * width >= SPARE_PIXELS and self._spare_timer is None and not self._closed:
            self._spare_timer = threading.Timer(SPARE_DELAY, self._start_spare)
            self._spare_timer.daemon = True
            self._spare_timer.start()

    def _start_spare(self) -> None:
        with self.lock:
            self._spare_timer = None
            if self._closed or self.stopping:
                return
            if self.live is not None and self.live.busy():  # an edit is being solved: after it
                self._prepare_save()
                return
            assert self.image is not None  # a spare is started for the open photo
            self.saves.spare.start(None if is_layered(self.image.path) else self.image.path)

    # -- autosave ----------------------------------------------------------------------------
    def autosave_path(self) -> Path:
        """The open photo's autosave."""
        self._need_image()
        assert self.image is not None and self.history is not None and self.live is not None
        return self.autosave.path(self.image.sha256)

    def _autosave(self) -> None:
        """Have the session autosaved (:meth:`Autosave.write`); an autosave offered and not yet
        restored or dismissed is kept aside as ``autosave.previous.json`` before it is replaced."""
        assert self.image is not None and self.history is not None
        keep_previous = self.restorable is not None
        self.restorable = None
        self.autosave.write(self.image.sha256, session_dict(self.history.current, self.image.record()), keep_previous)

    def _autosave_failed(self, message: str) -> None:
        self.message = message

    def flush(self) -> None:
        """Wait until the latest autosave is on disk."""
        self.autosave.flush()

    # -- state -------------------------------------------------------------------------------
    def state(self, page: bool = True) -> dict:
        """What the page shows; ``page``: it goes to the page, which says the one-time notice
        (else the notice stays for the next state)."""
        if self.image is None:
            notice, self.notice, self._startup_notice = self.notice, None, None
            return {
                "image": None,
                "version": self.version,
                "neural": neural_available(),
                "message": self.message or notice,
            }
        assert self.history is not None  # opened with the image
        doc = self.history.current
        image = self.image
        notice = self.notice
        if page:
            self.notice = None
        return {
            "image": {
                "name": image.name,
                "width": image.shape[1],
                "height": image.shape[0],
                "work_width": image.gray.shape[1],
                "work_height": image.gray.shape[0],
                "colour": image.colour,
                "bits": image.bits,
                "sha256": image.sha256,
                "levels": image.view.levels,
                "tile": TILE,
            },
            "version": self.version,
            "doc": doc.as_dict(),
            "can_undo": self.history.can_undo,
            "can_redo": self.history.can_redo,
            "restorable": self.restorable,
            "neural": neural_available(),
            "methods": list(PRESETS),
            # the presets that keep a stroke's colour to its thing (the page's first-stroke hint)
            "restrained": [name for name, preset in PRESETS.items() if unrestrained_because(Options(**preset)) is None],
            "out_dir": str(self.out_dir),
            "message": self.message or notice or image.warning,
            "autosave": str(self.autosave_path()),
            "reference_job": self.reference_job,
            "reference_shown": self._reference_view(doc.reference) is not None,
            "neutral_rgb": list(NEUTRAL_RGB),
        }

    def gray_png(self) -> bytes:
        self._need_image()
        assert self.image is not None and self.history is not None and self.live is not None
        return png(np.round(self.image.gray * 255).astype(np.uint8))

    def tile_png(self, layer: str, level: int, row: int, col: int, full: bool = False) -> bytes:
        """A tile of the photo's gray or of the latest result at full resolution; ``full``: a
        level-0 result tile made as a save makes the result, once the current document's live
        result is final (:mod:`varcolor.ui.view`)."""
        self._need_image()
        assert self.image is not None and self.history is not None and self.live is not None
        with self.lock:
            image, live, current = self.image, self.live, (self.version, self.history.current)
            self._tiles_made += 1
        try:
            return image.view.tile_png(layer, level, row, col, live, current if full else None)
        finally:
            with self.lock:
                self._tiles_made -= 1

    def set_view(self, tiles: object) -> dict:
        """The level-0 tiles the page shows at 1:1 or closer (``tiles``: ``[[row, col], ...]``,
        nearest the view's centre first; empty further out): after each final result, the studio
        makes their full tiles before the page asks (:meth:`varcolor.ui.view.View.ahead`). While
        they cover the live copy, its picture is painted after them
        (:attr:`varcolor.ui.live.LiveSolver.paint_later`)."""
        self._need_image()
        assert self.image is not None  # checked
        if not isinstance(tiles, list) or len(tiles) > _VIEW_TILES:
            raise InputError(f"view tiles must be a list of at most {_VIEW_TILES} [row, col] pairs")
        view, keys = self.image.view, []
        for pair in tiles:
            if not (
                isinstance(pair, list) and len(pair) == 2 and all(type(n) is int for n in pair)  # not bools
            ):
                raise InputError("each view tile must be a pair of integers [row, col]")
            view.tile_box(0, pair[0], pair[1])  # inside the photo, or the error saying so
            keys.append((pair[0], pair[1]))
        with self.lock:
            if self.image is not None and self.image.view is view:
                self._view_tiles = tuple(keys)
                # Its full tiles cover the live copy: the live copy's picture is painted after them.
                if self.live is not None:
                    self.live.paint_later = bool(keys)
        return {"tiles": len(keys)}

    def _full_tiles_ahead(self, live: LiveSolver, version: int | None = None, ab: np.ndarray | None = None) -> None:
        """Where the page shows tiles at 1:1, start making their full tiles (in threads; this returns
        at once): of the current document's chroma ``ab`` just solved by ``live`` (``version``, its
        document version), or else of ``live``'s result just published where it is final."""
        with self.lock:
            if live is not self.live or self.image is None or self.history is None or not self._view_tiles:
                return
            current, doc, view, tiles = self.version, self.history.current, self.image.view, self._view_tiles
        if ab is None:
            published, ab = live.latest()
            if not full_tiles_of(published, current, doc):
                return
        elif version != current or not lifted(doc):
            return
        view.ahead(current, doc, ab, tiles, lambda: self.version == current and self.live is live)

    def _view_settled(self, view: View) -> bool:
        """Whether no full tile of ``view`` is being made (ahead of the page, or for its request)."""
        return not (view.busy() or self._tiles_made)

    def _working(self) -> bool:
        """Whether a stroke is being solved or painted, a tile of the view made, or a save made (the
        next save's child, started meanwhile, took seconds of a core from a large save)."""
        live, image = self.live, self.image
        return (
            self._tiles_made > 0
            or self.saves.running
            or (live is not None and live.busy())
            or (image is not None and image.view.busy())
        )

    def guessed_png(self) -> bytes:
        """Where the live result's colour is guessed, as an RGBA overlay of the live copy (the
        page's "Where the colour is guessed": :meth:`LiveSolver.guessed_rgba`)."""
        self._need_image()
        assert self.image is not None and self.history is not None and self.live is not None
        return png(self.live.guessed_rgba())

    def original_png(self) -> bytes:
        self._need_image()
        assert self.image is not None and self.history is not None and self.live is not None
        if self.image.original is None:
            raise InputError("the photo is gray: there is no colour original to compare with")
        return png(np.round(self.image.original * 255).astype(np.uint8))

    def metrics(self) -> dict:
        """PSNR and mean CIEDE2000 of the live result against a colour original (working size):
        one at a time for the newest result, a band of rows at a time (whole, quick strokes' requests
        stacked up in memory), at the lowest priority."""
        from ..metrics import ciede2000, psnr

        self._need_image()
        assert self.image is not None and self.history is not None and self.live is not None
        with self._metrics_lock:
            live, original = self.live, self.image.original
            if original is None or live.rgb is None:
                return {}
            serial, rgb = live.picture_serial, live.rgb  # (a result published unpainted: the picture before it)
            kept = self._metrics
            if kept is not None and kept[0] is live and kept[1]["serial"] == serial:
                return kept[1]
            rows = METRICS_ROWS

            def measured() -> dict:
                # Each band after the work the page waits for, waited for METRICS_PATIENCE at most.
                until = time.monotonic() + METRICS_PATIENCE
                difference = 0.0
                for k in range(0, rgb.shape[0], rows):
                    while self._working() and time.monotonic() < until:
                        time.sleep(0.02)
                    difference += ciede2000(rgb[k : k + rows], original[k : k + rows]) * len(rgb[k : k + rows])
                return {"serial": serial, "psnr": psnr(rgb, original), "ciede2000": difference / rgb.shape[0]}

            answer = _metrics_pool().submit(measured).result()
            self._metrics = (live, answer)
            return answer

    # -- suggestions from the network's class head ---------------------------------------------
    def suggest(self, x: float, y: float, k: int = 6) -> dict:
        """The most likely distinct colours at full-resolution pixel ``(x, y)``: the reference
        photo's when one is open, else the network's."""
        self._need_image()
        assert self.image is not None and self.history is not None and self.live is not None
        with self.lock:
            doc, image = self.history.current, self.image
        if doc.reference is not None:  # the colours of the scene's own photo, not the network's guess
            return self._reference_suggest(doc, image, x, y, k)
        if not neural_available():
            return {"colours": [], "available": False}
        from .suggest import top_colours

        with self.lock:
            version, doc = self.version, self.history.current
            image = self.image
        cache = self._suggest_cache
        if cache is None or cache[0] < version:
            # At low priority: a stroke's solve follows at once and must not wait for the network.
            cache = _low_priority().submit(self._class_probabilities, version, doc, image).result()
        height, width = image.shape
        fy, fx = min(max(y + 0.5, 0.0), height - 0.5) / height, min(max(x + 0.5, 0.0), width - 0.5) / width
        work = image.gray.shape
        lightness = float(lightness_of_gray(image.gray[int(fy * work[0]), int(fx * work[1])]))
        colours = top_colours(cache[1], fy, fx, k)
        out = []
        for a, b, p in colours:
            rgb = lab_to_rgb(np.array([[[lightness, a, b]]]))[0, 0]
            out.append({"rgb": [int(round(v * 255)) for v in rgb], "a": a, "b": b, "p": p})
        return {"colours": out, "available": True, "lightness": lightness}

    def _class_probabilities(self, version: int, doc: Document, image: OpenImage) -> tuple[int, np.ndarray]:
        """``(version, the network's colour classes over the live copy)`` of the document's newest
        version, kept: the network runs once for the requests queued while it ran."""
        from ..neural.hints import lightness_plane
        from .suggest import class_probabilities

        with self.lock:
            if self.image is image and self.history is not None and self.version > version:
                version, doc = self.version, self.history.current
        cache = self._suggest_cache
        if cache is not None and cache[0] >= version:  # (versions only grow, the cache is reset at an open)
            return cache
        if self._prior_net is None:
            from ..neural.weights import DEFAULT_WEIGHTS, load

            self._prior_net = load(DEFAULT_WEIGHTS)
        if image.network_plane is None:  # the gray's part of the input, the same for every version
            image.network_plane = lightness_plane(image.gray)
        # Hard strokes (each stroke pixel its own colour), from the mask's levels: no float copy of it.
        cues = cues_from_mask(rasterize(doc, image.gray.shape, image.shape))
        try:
            probabilities = class_probabilities(self._prior_net, image.gray, cues, plane=image.network_plane)
            self._suggest_cache = (version, probabilities)
            return self._suggest_cache
        finally:
            give_back_free_memory()  # the network's activations, held by this thread's heap

    # -- a reference photo beside the photo -------------------------------------------------------
    def open_reference_upload(self, data: bytes, filename: str) -> dict:
        """Open an uploaded reference photo: it is kept in the data folder (the session refers to it
        there) and matched in the background (:meth:`_open_reference`)."""
        self._need_image()
        assert self.image is not None and self.history is not None and self.live is not None
        what = "an image file a reference can be"
        return self._open_stored(data, filename, "reference", IMAGE_EXTENSIONS, what, self._open_reference)

    def _open_stored(self, data: bytes, filename: str, stem: str, readable, what: str, opener) -> dict:
        """Keep an upload in the data folder under its content's hash (``stem`` + its suffix) and
        open it with ``opener(stored, name)``; a file that cannot be opened leaves nothing of ours
        behind (our copy and the folder made for it), its error naming the user's file."""
        suffix = Path(filename).suffix.lower()
        if suffix not in readable:
            raise InputError(f"{filename}: not {what} ({', '.join(readable)})")
        digest = hashlib.sha256(data).hexdigest()
        stored = self.data_dir / digest[:16] / f"{stem}{suffix}"
        existed = stored.is_file()
        if not existed:
            with atomic_path(stored) as tmp:
                tmp.write_bytes(data)
        try:
            return opener(stored, Path(filename).name)
        except InputError as exc:
            if not existed:
                stored.unlink(missing_ok=True)
                try:
                    stored.parent.rmdir()
                except OSError:  # it holds an autosave or another upload: kept
                    pass
            raise InputError(str(exc).replace(str(stored), Path(filename).name)) from None

    def open_reference_path(self, path) -> dict:
        """Open a reference photo by its path, which must lie inside the data folder (relative
        paths are taken from there); anywhere else is refused (``PermissionError``)."""
        self._need_image()
        assert self.image is not None and self.history is not None and self.live is not None
        if not isinstance(path, str) or not path.strip() or "\x00" in path:
            raise InputError("give the reference photo's path (a file inside the studio's data folder)")
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, as JSON can carry: no reply could even name it
            raise InputError("the reference photo's path is not text (a lone surrogate in it)") from None
        root = self.data_dir.resolve()
        try:
            resolved = (root / Path(path)).resolve()  # an absolute path stays itself; links are followed
            if not inside(resolved, root):
                raise PermissionError(f"{path[:200]}: a reference path must lie inside {root}; upload other files")
            found = resolved.is_file()
        except PermissionError:
            raise
        except (OSError, RuntimeError) as exc:  # a link loop, a name longer than the file system allows
            reason = "a loop of links" if isinstance(exc, RuntimeError) else (exc.strerror or type(exc).__name__)
            raise InputError(f"{path[:200]}: cannot be opened ({reason})") from None
        if not found:
            raise InputError(f"{path}: no such file in {root}")
        return self._open_reference(resolved, resolved.name)

    def _open_reference(self, path: Path, name: str) -> dict:
        """Read the reference (a bad one: one line, now) and match it in a thread of its own, off
        the request's: the document takes its suggestions when the match is done (a new version,
        solved as an edit is), unless another photo or reference was opened meanwhile."""
        view = ReferenceView.read(path, name)
        with self.lock:
            self._need_image()
            assert self.image is not None and self.history is not None and self.live is not None
            self._references[view.sha256] = view
            self._references_missing.discard(view.sha256)
            self._reference_serial += 1
            serial, image = self._reference_serial, self.image
            self.reference_job = {"state": "matching", "name": name, "serial": serial}
        log.info("matching the reference %s (%d×%d) with %s", name, view.width, view.height, image.name)
        threading.Thread(
            target=self._match_reference, args=(serial, image, view), name="varcolor-reference", daemon=True
        ).start()
        return self.state()

    def _match_reference(self, serial: int, image: OpenImage, view: ReferenceView) -> None:
        start = time.perf_counter()
        error, suggestions = None, None
        assert view.pixels is not None  # read by _open_reference, let go of below
        try:
            suggestions = match_suggestions(image.gray, image.shape, view.pixels, view.name)
            if suggestions.count == 0:
                error = f"{view.name}: matches too little of {image.name} to suggest colours (another scene?)"
        except VarcolorError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one line on the page; the log has the details
            log.error("matching %s failed:\n%s", view.name, traceback.format_exc())
            error = f"internal error while matching {view.name}: {type(exc).__name__}: {exc}"
        view.pixels = None  # matched: only the shown copy and the colours are kept
        with self.lock:
            if serial != self._reference_serial or self.image is not image or self._closed:
                return
            if error is not None:
                self.reference_job = {"state": "failed", "name": view.name, "serial": serial, "error": error}
                log.warning("%s", error)
                return
            self.reference_job = {"state": "done", "name": view.name, "serial": serial}
            assert self.history is not None and suggestions is not None  # its image still open; matched
            self.history.push(self.history.current.with_reference(view.record(), suggestions))
            log.info("%s: %d suggested cue pixels in %.1f s", view.name, suggestions.count, time.perf_counter() - start)
            self._changed()

    def _reference_view(self, record: dict | None, folder: Path | None = None) -> ReferenceView | None:
        """The reference photo of a document's ``record``, read once a session: at the path it
        names, beside the session file (``folder``), or among the references uploaded to the data
        folder, where its content is still the one recorded; None if it is nowhere."""
        if record is None:
            return None
        view = self._references.get(record["sha256"])
        if view is not None or (folder is None and record["sha256"] in self._references_missing):
            return view
        candidates = [Path(record["path"])]
        if folder is not None:
            candidates.append(folder / Path(record["path"]).name)
        candidates += sorted((self.data_dir / record["sha256"][:16]).glob("reference.*"))
        for candidate in candidates:
            try:
                if candidate.is_file() and file_sha256(candidate) == record["sha256"]:
                    view = ReferenceView.read(candidate, record.get("name") or candidate.name)
                    view.pixels = None
                    self._references[view.sha256] = view
                    return view
            except (OSError, InputError):
                continue
        self._references_missing.add(record["sha256"])
        return None

    def reference_photo_png(self) -> bytes:
        """The open reference photo as shown beside the photo (at most :data:`SHOWN_PIXELS`)."""
        with self.lock:
            self._need_image()
            assert self.image is not None and self.history is not None and self.live is not None
            record = self.history.current.reference
        view = self._reference_view(record)
        if view is None:
            raise InputError("no reference photo is open" if record is None else f"{record['name']}: not found")
        return view.png

    def suggestions(self) -> dict:
        """The open reference's suggestions that the live view uses (those no stroke cleared and
        no eraser removed, at the live copy's size), ``[x, y, r, g, b]`` rows, for the overlay."""
        with self.lock:
            self._need_image()
            assert self.image is not None and self.history is not None and self.live is not None
            doc, image, version = self.history.current, self.image, self.version
        if doc.suggestions is None:
            return {"rows": [], "sha256": None, "version": version}
        shape = image.gray.shape
        mask = np.zeros(shape + (3,), np.uint8)
        draw(mask, doc.strokes, doc.points, image.shape, (0, 0) + shape)
        keep = kept_suggestions(mask, doc.suggestions, doc.strokes, image.shape)[2]
        found = doc.suggestions
        rows = np.column_stack([found.xs[keep], found.ys[keep], found.rgb[keep].astype(np.int64)]).tolist()
        assert doc.reference is not None  # suggestions come with their reference
        return {"rows": rows, "sha256": doc.reference["sha256"], "version": version}

    def _reference_suggest(self, doc: Document, image: OpenImage, x: float, y: float, k: int) -> dict:
        """Suggested colours at ``(x, y)`` from the reference photo: its suggestions nearest the
        place, then its commonest colours of the place's lightness (:func:`reference_colours`)."""
        height, width = image.shape
        px, py = min(max(round(x), 0), width - 1), min(max(round(y), 0), height - 1)
        work = image.gray.shape
        lightness = float(lightness_of_gray(image.gray[py * work[0] // height, px * work[1] // width]))
        near = np.zeros((0, 2))
        if doc.suggestions is not None and doc.suggestions.count:
            found = doc.suggestions
            distance = np.hypot(found.xs - px, found.ys - py)
            reach = NEAR_SHARE * min(height, width)
            order = [i for i in np.argsort(distance, kind="stable")[:64] if distance[i] <= reach]
            if order:
                near = rgb_to_lab(found.rgb[order][None] / 255.0)[0, :, 1:]
        view = self._reference_view(doc.reference)
        colours = reference_colours(None if view is None else view.lab, lightness, near, k)
        out = []
        for a, b, p in colours:
            rgb = lab_to_rgb(np.array([[[lightness, a, b]]]))[0, 0]
            out.append({"rgb": [int(round(v * 255)) for v in rgb], "a": a, "b": b, "p": p})
        return {"colours": out, "available": True, "lightness": lightness, "source": "reference"}

    # -- saving ------------------------------------------------------------------------------
    def start_save(self, name: str, fmt: str = "png", overwrite: bool = False) -> dict:
        """Start saving the document at full resolution, inside ``out_dir``, as one unit
        (:meth:`varcolor.ui.saving.Saves.start`: the printed command's own solve);
        :meth:`save_status` follows it. Refuses at once (one line) what that refuses, and a save
        while one is under way."""
        with self.lock:
            self._need_image()
            assert self.image is not None and self.history is not None and self.live is not None
            doc, image = self.history.current, self.image
        live_rates = dict(self.live.rates) if self.live is not None else {}
        return self.saves.start(image, doc, name, fmt, overwrite, live_rates)

    def save_status(self) -> dict:
        """The last save's progress (``state``: solving, publishing, done, failed, cancelled)."""
        return self.saves.status()

    def cancel_save(self) -> dict:
        self.saves.cancel()
        return self.save_status()

    def save(self, name: str, fmt: str = "png", overwrite: bool = False) -> dict:
        """:meth:`start_save` and wait for it: its final status; a failed save raises its line."""
        self.start_save(name, fmt, overwrite)
        assert self.saves.job is not None  # started
        self.saves.job.wait()
        status = self.save_status()
        if status["state"] != "done":
            raise OutputError(status["error"] or f"not saved ({status['state']})")
        return status

    def stop(self) -> None:
        """The server is stopping: a save under way is cancelled (nothing of it is kept); every
        long poll is woken (they answer at once from now on)."""
        self.stopping = True
        self.saves.cancel(wait=None)
        self.saves.spare.close()
        for listener in list(self.stop_listeners):
            listener()

    def close(self) -> None:
        """Write the pending autosave, stop a save under way, the spare child and the worker threads."""
        with self.lock:
            self._closed = True
            if self._spare_timer is not None:
                self._spare_timer.cancel()
        self.saves.cancel()
        self.saves.spare.close()
        self.autosave.close()
        if self.live is not None:
            self.live.close(wait=30.0)


METHOD_NAMES = {
    DEFAULT_METHOD: "Levin (multi-scale)",
    "levin": "Levin (exact)",
    "levin+ideepcolor": "Levin + network prior",
    "bilaplacian-gtv": "Bilaplacian-GTV",
}


def counts(doc: Document) -> dict:
    """What a document holds, for the restore banner: brush strokes, eraser passes, points, and
    a line saying so ("2 strokes, 1 eraser pass, 1 point").

    Examples
    --------
    >>> doc = Document().with_stroke({"tool": "eraser", "width": 3, "path": [[1, 1]]})
    >>> counts(doc.with_point({"x": 1, "y": 1, "rgb": [9, 9, 9], "size": 1}))["text"]
    '0 strokes, 1 eraser pass, 1 point'
    """
    erasers = sum(1 for stroke in doc.strokes if stroke["tool"] == "eraser")
    strokes, points = len(doc.strokes) - erasers, len(doc.points)

    def n(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    parts = [n(strokes, "stroke", "strokes")] + ([n(erasers, "eraser pass", "eraser passes")] if erasers else [])
    parts.append(n(points, "point", "points"))
    if doc.reference is not None:
        parts.append(f"{doc.reference['name']}'s {n(doc.suggested, 'suggestion', 'suggestions')}")
    text = ", ".join(parts)
    return {"strokes": strokes, "erasers": erasers, "points": points, "text": text}


def _stat(path: Path) -> tuple | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ino


def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"expected an integer id, got {value!r}")
    return value


def neural_available() -> bool:
    """Whether the network's packages are installed: found, not imported (importing PyTorch took
    seconds of the first state of a session, which the page waits for)."""
    return all(importlib.util.find_spec(name) is not None for name in ("safetensors", "torch"))
