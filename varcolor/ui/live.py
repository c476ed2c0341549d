"""The live view: one worker thread that colorizes the document's latest version with
:class:`varcolor.Colorizer`, newest edit first, and keeps the result as an RGBA picture.

Edits arrive faster than solves; a solve always takes the newest version waiting and the
versions in between are never solved (latest wins). Each published result has a serial number
and the box of pixels that changed since the one before, so a page that shows serial ``s`` can
fetch just the pixels that changed since (:meth:`LiveSolver.patch`).
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field

import cv2
import numba
import numpy as np

from .. import methods
from ..api import Colorizer
from ..color import chroma_to_rgb, lightness_of_gray, to_gray
from ..common.memory import give_back_free_memory
from ..cues import Cues
from ..errors import InputError, Note, VarcolorError, listening, messages
from ..restraint import Restraint
from .document import DEFAULT_PRESET, PRESETS, Document, cues_from_mask, draw, rasterize, strokes_box
from .hints import FLOOD_SHARE, flood_share

log = logging.getLogger("varcolor.ui")

#: A refinable method's live preview (bilaplacian-gtv's ADMM) stops at this tolerance; an idle
#: moment refines it to the method's final one.
PREVIEW_TOL = 1e-2
#: The live copy's edits are corrected from held factors to this relative residual, not to the
#: library's 1e-8: far fewer mat-vecs, still close to the exact answer (benchmarks/results/engine.md,
#: engine `bounded`). A save solves the full photo afresh with the library's defaults.
LIVE_TOL = 1e-5
_BOXES_KEPT = 256
#: Re-solve in the background once updates hold this many pixels, after this many idle seconds:
#: not sooner, since an update that comes while a re-solve factorizes waits for all of it
#: (benchmarks/results/studio_notes.md, "Measurements behind the studio's settings").
REBASE_HELD = 1000
REBASE_IDLE = 2.0
#: The longest a result published unpainted waits for its picture (:attr:`LiveSolver.paint_later`).
PAINT_WAIT = 2.0
#: A fresh solve of a live copy of this many pixels or more shows a preview first: the document
#: solved on the copy reduced PREVIEW_SCALE times a side, not final.
PREVIEW_PIXELS = 600_000
PREVIEW_SCALE = 2


class _Stopped(Exception):
    """Raised from a solve's progress report when the live view is closed."""


@dataclass
class Published:
    """One result the page may show."""

    serial: int
    version: int
    final: bool = True
    error: str | None = None
    warning: str | None = None
    timing: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    #: False: the picture is the last one painted; this result's comes after it (:attr:`LiveSolver.paint_later`).
    painted: bool = True
    #: This publication brings the picture of the result before it, and nothing else.
    picture: bool = False


def working_shape(shape: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """The live view's size: ``shape`` itself, or the same aspect at most ``max_pixels``.

    Examples
    --------
    >>> working_shape((3000, 4000), 1_500_000)
    (1060, 1414)
    """
    height, width = shape
    if height * width <= max_pixels:
        return shape
    factor = math.sqrt(max_pixels / (height * width))
    return max(2, int(height * factor)), max(2, int(width * factor))


def reduce(pixels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``pixels`` (``H×W`` or ``H×W×C``, floats in [0, 1]) reduced to ``shape`` by area averaging.

    Examples
    --------
    >>> reduce(np.arange(16.0).reshape(4, 4) / 15, (2, 2)) * 15
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    return np.clip(cv2.resize(pixels, shape[::-1], interpolation=cv2.INTER_AREA), 0.0, 1.0)


def warm_up() -> float:
    """Run every kernel a live session uses once on a small image, so that the first stroke on
    a photo does not wait for them to compile or load (seconds in a fresh process)."""
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    gray = np.clip(np.tile(np.linspace(0.1, 0.9, 48), (40, 1)) + 0.05 * rng.random((40, 48)), 0, 1)
    colorizer = Colorizer(gray)
    to_gray(rng.random((4, 4, 3)))  # a colour photo's gray, made when it is opened
    mask = np.zeros(gray.shape, bool)
    mask[5:7, 5:20] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        colorizer.solve(Cues(mask, np.where(mask[..., None], (30.0, 10.0), 0.0)))
        for row in (20, 30):
            more = np.zeros(gray.shape, bool)
            more[row : row + 2, 10:40] = True
            result = colorizer.update(Cues(more, np.where(more[..., None], (-20.0, 25.0), 0.0)))
    _to_rgba(result.rgb, np.zeros(gray.shape + (4,), np.uint8), 0, 0, *gray.shape)  # the page's pixels
    return time.perf_counter() - start


_warm_lock = threading.Lock()
_warmed = False


def warm_up_once() -> None:
    """:func:`warm_up` once per process (a second caller waits for the first)."""
    global _warmed
    with _warm_lock:
        if not _warmed:
            try:
                log.info("kernels warmed in %.1f s", warm_up())
            except Exception:  # noqa: BLE001 - a failed warm-up only costs the first stroke its speed
                log.warning("warm-up failed:\n%s", traceback.format_exc())
            _warmed = True


#: How the page shades a guessed pixel (:meth:`LiveSolver.guessed_rgba`): this colour, at this much
#: opacity where nothing of its colour is known.
GUESSED_COLOUR, GUESSED_OPACITY = (200, 40, 200), 0.75


class LiveSolver:
    """Colorize ``gray`` (the working copy, ``H×W``) for each document version submitted."""

    def __init__(self, gray: np.ndarray, full_shape: tuple[int, int], *, warm: bool = True):
        self.gray, self.full_shape = gray, tuple(full_shape)
        height, width = gray.shape
        self.rgba = np.full((height, width, 4), 255, np.uint8)
        self.rgba[..., :3] = np.round(gray * 255)[..., None].astype(np.uint8)
        self.rgb: np.ndarray | None = None
        #: The published result's chroma (Lab ab, ``H×W×2``), for the full-resolution view.
        self.ab = np.zeros(gray.shape + (2,))
        self._cond = threading.Condition()
        self._pending: tuple[int, Document] | None = None
        self._closed = False
        self._warm = warm
        self.published = Published(serial=0, version=0, info={"solver": "none"})
        self._boxes: list[tuple[int, tuple[int, int, int, int]]] = []
        self._colorizer: Colorizer | None = None
        self._method: str | None = None
        # The stroke mask whose cues the colorizer holds (None: nothing solved) and its document.
        self._mask: np.ndarray | None = None
        self._mask_doc: Document | None = None
        # Background re-solves (:meth:`_start_rebase`): wanted, running, finished.
        self._want_rebase = False
        self._rebasing: threading.Thread | None = None
        self._rebased: tuple | None = None
        self._submitted: dict[int, float] = {}
        #: Seconds per pixel of the last fresh solve of each method, to its final result (estimates).
        self.rates: dict[str, float] = {}
        self._fresh: tuple[int, str, float] | None = None  # (version, method, start) of a fresh solve
        self._small: np.ndarray | None = None  # the reduced copy's gray, for previews
        # The restraint of each gray solved (the live copy's, the preview's): :meth:`_new_colorizer`.
        self._restraints: list[tuple[np.ndarray, Restraint]] = []
        self._uncoloured = True  # the gray photo is what is shown: no result's map to show
        self.listeners: list = []
        #: Called with ``(version, ab)`` as a Lab method's chroma for document version ``version`` is
        #: solved, before it is painted and published (:attr:`varcolor.Colorizer.on_chroma`).
        self.chroma_listeners: list = []
        #: While the page's view covers the live copy, a final Lab result is published unpainted and
        #: painted once ``paint_when()`` says so (at most :data:`PAINT_WAIT` seconds) and no edit waits.
        self.paint_later = False
        self.paint_when: Callable[[], bool] = lambda: True
        #: The serial of the result whose picture :attr:`rgb` is.
        self.picture_serial = 0
        self._thread = threading.Thread(target=self._loop, name="varcolor-live", daemon=True)
        self._thread.start()

    # -- the page's side ------------------------------------------------------------------
    def submit(self, version: int, doc: Document) -> None:
        """Ask for ``doc`` (document version ``version``) to be solved; it supersedes any version waiting."""
        with self._cond:
            self._pending = (version, doc)
            self._submitted[version] = time.perf_counter()
            self._cond.notify_all()

    def busy(self) -> bool:
        with self._cond:
            return self._pending is not None or self._solving

    _solving = False

    def latest(self) -> tuple[Published, np.ndarray]:
        """The published result and its chroma (``H×W×2`` at the working size), read together."""
        with self._cond:
            return self.published, self.ab

    def patch(self, have: int) -> tuple[Published, tuple[int, int, int, int], bytes]:
        """The latest result, the box ``(top, left, height, width)`` that changed since serial
        ``have`` (the whole image if ``have`` is unknown), and its RGBA bytes, row-major."""
        with self._cond:
            published = self.published
            height, width = self.gray.shape
            box = (0, 0, height, width)
            if have == published.serial:
                box = (0, 0, 0, 0)
            elif 0 < have < published.serial and self._boxes and self._boxes[0][0] <= have + 1:
                boxes = [b for serial, b in self._boxes if serial > have and b[2] and b[3]]
                if boxes:
                    top = min(b[0] for b in boxes)
                    left = min(b[1] for b in boxes)
                    bottom = max(b[0] + b[2] for b in boxes)
                    right = max(b[1] + b[3] for b in boxes)
                    box = (top, left, bottom - top, right - left)
                else:
                    box = (0, 0, 0, 0)
            top, left, h, w = box
            data = self.rgba[top : top + h, left : left + w].tobytes()
        return published, box, data

    def guessed_rgba(self) -> np.ndarray:
        """Where the colour of the last result is guessed, as an RGBA overlay of the live copy
        (``H×W×4`` uint8): :data:`GUESSED_COLOUR`, as opaque as the colour is unknown (1 − its
        confidence, :attr:`varcolor.Result.confidence`), clear where the cues fix it."""
        colorizer = self._colorizer
        result = None if colorizer is None or self._uncoloured else colorizer.result
        if result is None or result.confidence is None or result.confidence.shape != self.gray.shape:
            raise InputError("no result yet: paint a stroke first")
        overlay = np.empty(self.gray.shape + (4,), np.uint8)
        overlay[..., :3] = GUESSED_COLOUR
        overlay[..., 3] = np.round((1.0 - result.confidence) * (255 * GUESSED_OPACITY)).astype(np.uint8)
        return overlay

    def close(self, wait: float = 0.0) -> None:
        """Stop the worker; with ``wait``, give a solve under way up to that many seconds to end
        (a process must not exit while a thread is inside the compiled solvers: their threads
        abort it). Iterative solves stop at their next iteration."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if wait:
            deadline = time.monotonic() + wait
            for thread in (self._thread, self._rebasing):
                if thread is not None and thread is not threading.current_thread():
                    thread.join(max(deadline - time.monotonic(), 0.0))

    def _progress(self, info: dict) -> None:
        if self._closed:
            raise _Stopped()

    # -- the worker ------------------------------------------------------------------------
    def _loop(self) -> None:
        if self._warm:
            warm_up_once()
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    if self._want_rebase and self._rebasing is None:
                        # Idle for a moment with a worn base: re-solve afresh beside the live path.
                        if not self._cond.wait(REBASE_IDLE) and self._pending is None and not self._closed:
                            self._start_rebase()
                    else:
                        self._cond.wait()
                if self._closed:
                    return
                assert self._pending is not None  # waited for above
                version, doc = self._pending
                self._pending = None
                self._solving = True
                queued = time.perf_counter() - self._submitted.pop(version, time.perf_counter())
                self._submitted = {v: t for v, t in self._submitted.items() if v > version}
            try:
                self._solve(version, doc, queued)
                if self._colorizer is not None and self._method and refinable(self._method) and self._mask is not None:
                    with self._cond:
                        idle = self._pending is None
                    if idle:
                        self._refine(version)
            finally:
                with self._cond:
                    self._solving = False
            if self._colorizer is not None and self._colorizer.unpainted:
                self._paint_late()
            with self._cond:
                idle = self._pending is None
            if idle:
                # The solve's arrays back to the system once the result is out: in the server's
                # threads they stayed resident (under glibc's mmap threshold).
                give_back_free_memory()

    def _paint_late(self) -> None:
        """Paint the last result, published unpainted (:attr:`paint_later`), once ``paint_when()``
        says so or :data:`PAINT_WAIT` has passed, and publish its picture; an edit that comes first
        takes it with its own (painted with it, or left unpainted with it)."""
        assert self._colorizer is not None  # (unpainted: it solved)
        deadline = time.monotonic() + PAINT_WAIT
        while True:
            with self._cond:
                if self._pending is not None or self._closed:
                    return
            if time.monotonic() >= deadline or self.paint_when():
                break
            with self._cond:
                self._cond.wait(0.02)  # (a submit wakes it)
        start = time.perf_counter()
        try:
            result = self._colorizer.paint_now()
        except Exception:  # noqa: BLE001 - the page keeps the last picture; the log says why
            log.error("painting a result failed:\n%s", traceback.format_exc())
            return
        last = self.published
        self._publish(
            last.version,
            (0, 0) + self.gray.shape,
            result.rgb,
            final=last.final,
            warning=last.warning,
            timing={"colour": time.perf_counter() - start},
            info=last.info,
            ab=result.ab,
            picture=True,
        )

    def _start_rebase(self) -> None:
        """Solve the colorizer's current cues afresh in another thread (called holding the lock):
        low-rank updates cost more as held pixels add up, and a fresh solve made while the page is
        idle resets that; the next edit swaps it in (:meth:`_take_rebase`)."""
        self._want_rebase = False
        mask, doc, method = self._mask, self._mask_doc, self._method

        def rebase() -> None:
            try:
                assert mask is not None and method is not None  # a colorizer holding cues is worn
                colorizer = self._new_colorizer(self.gray, method)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    colorizer.solve(cues_from_mask(mask))
                with self._cond:
                    self._rebased = (colorizer, mask, doc, method)
            except _Stopped:
                pass
            except Exception:  # noqa: BLE001 - the live colorizer carries on as it was
                log.warning("re-solving in the background failed:\n%s", traceback.format_exc())
            finally:
                with self._cond:
                    self._rebasing = None

        self._rebasing = threading.Thread(target=rebase, name="varcolor-rebase", daemon=True)
        self._rebasing.start()

    def _take_rebase(self, method: str) -> bool:
        """Swap in a finished background solve (of the same method); whether one was."""
        with self._cond:
            rebased, self._rebased = self._rebased, None
        if rebased is None or rebased[3] != method or self._method != method or self._colorizer is None:
            return False
        self._colorizer, self._mask, self._mask_doc = rebased[0], rebased[1], rebased[2]
        return True

    def _publish(
        self,
        version: int,
        box,
        rgb: np.ndarray | None,
        *,
        final: bool = True,
        error: str | None = None,
        warning: str | None = None,
        timing: dict | None = None,
        info: dict | None = None,
        ab: np.ndarray | None = None,
        painted: bool = True,
        picture: bool = False,
    ) -> None:
        timing = dict(timing or {})
        start = time.perf_counter()
        with self._cond:
            if rgb is not None:
                top, left, h, w = box
                _to_rgba(rgb, self.rgba, top, left, h, w)
                self.rgb = rgb
                self.ab = ab if ab is not None else np.zeros(self.gray.shape + (2,))
            else:
                box = (0, 0, 0, 0)
            timing["encode"] = time.perf_counter() - start
            serial = self.published.serial + 1
            self._boxes.append((serial, (int(box[0]), int(box[1]), int(box[2]), int(box[3]))))
            del self._boxes[:-_BOXES_KEPT]
            self.published = Published(serial, version, final, error, warning, timing, info or {}, painted, picture)
            if rgb is not None:  # the gray photo shown (no cue left): the last result's map is none of it
                self._uncoloured = (info or {}).get("solver") == "none"
            if rgb is not None and painted:
                self.picture_serial = serial
            fresh = self._fresh
            if fresh is not None and fresh[0] == version and (final or error):
                self._fresh = None
                if not error:
                    self.rates[fresh[1]] = (time.perf_counter() - fresh[2]) / self.gray.size
            self._cond.notify_all()
        for listener in list(self.listeners):
            listener()

    def _rasterize(self, doc: Document) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
        """The stroke mask of ``doc`` at the working size, and the box where it can differ from the
        mask the colorizer holds (None: anywhere). A document that only adds strokes to that one
        (the usual edit) is painted there, in the new strokes' box only."""
        old = self._mask_doc
        if (
            self._mask is not None
            and old is not None
            and doc.points == old.points
            and doc.suggestions is None  # a new stroke clears suggestions around it: drawn whole
            and old.suggestions is None
            and len(doc.strokes) > len(old.strokes)
            and all(a is b for a, b in zip(doc.strokes, old.strokes))
        ):
            new = doc.strokes[len(old.strokes) :]
            box = strokes_box(new, self.gray.shape, self.full_shape)
            mask = self._mask.copy()
            # Points win over strokes: repaint those that reach into the box.
            draw(mask, new, doc.points, self.full_shape, box)
            return mask, box
        return rasterize(doc, self.gray.shape, self.full_shape), None

    def _new_colorizer(self, gray: np.ndarray, method: str) -> Colorizer:
        """A colorizer of ``gray`` (the live copy, or the preview's reduced copy) for ``method``,
        sharing that gray's restraint: its things are factored once a photo, not once a colorizer."""
        restraint = next((held for of, held in self._restraints if of is gray), None)
        if restraint is None:
            restraint = Restraint(gray)
            # The live copy's kept, and the newest preview's (a preview of another size makes another).
            self._restraints = [pair for pair in self._restraints if pair[0] is self.gray] + [(gray, restraint)]
        return Colorizer(gray, progress=self._progress, tol=LIVE_TOL, restrained_by=restraint, **PRESETS[method])

    def _colorizer_for(self, method: str) -> Colorizer:
        """The live colorizer of ``method``: the one held, else a new one holding no cues."""
        if method != self._method or self._colorizer is None:
            self._colorizer, self._method, self._mask = (
                self._new_colorizer(self.gray, method),
                method,
                None,
            )
        return self._colorizer

    def _solve(self, version: int, doc: Document, queued: float) -> None:
        height, width = self.gray.shape
        timing = {"queue": queued}
        try:
            start = time.perf_counter()
            method = doc.settings.get("method", DEFAULT_PRESET)
            rebased = self._take_rebase(method)
            mask, box = self._rasterize(doc)
            if self._mask is None and not PRESETS[method].get("prior") and not mask.any():
                # Nothing to solve (a photo just opened): its gray at once, the colorizer made after it.
                self._mask_doc = None
                timing["cues"] = time.perf_counter() - start
                rgb = np.repeat(self.gray[..., None], 3, axis=2)
                self._publish(version, (0, 0, height, width), rgb, timing=timing, info={"solver": "none", "cues": 0})
                self._colorizer_for(method)
                return
            colorizer = self._colorizer_for(method)
            delta = self._delta(mask, box)  # the cues to add to the colorizer's (None: solve afresh)
            cues = cues_from_mask(mask) if delta is None else None
            timing["cues"] = time.perf_counter() - start
            with listening() as heard:
                result = self._solve_cues(version, doc, method, colorizer, cues, delta, timing, start)
            if result is None:
                return
            self._mask, self._mask_doc = mask, doc
            self._publish_solved(version, method, colorizer, mask, result, heard, timing, rebased)
        except _Stopped:
            return
        except VarcolorError as exc:
            log.warning("solve of version %d refused: %s", version, exc)
            self._mask, self._mask_doc = None, None
            self._publish(version, None, None, error=str(exc), timing=timing)
        except Exception as exc:  # noqa: BLE001 - the server must keep running; the log has the details
            if self._closed:  # the process is ending under it (its solver pools shut down): nothing to say
                return
            log.error("solve of version %d failed:\n%s", version, traceback.format_exc())
            self._mask, self._mask_doc, self._colorizer = None, None, None
            self._publish(
                version, None, None, error=f"internal error while solving: {type(exc).__name__}: {exc}", timing=timing
            )

    def _delta(self, mask: np.ndarray, box: tuple[int, int, int, int] | None) -> Cues | None:
        """The cues ``mask`` adds to those the colorizer holds (changed in ``box``), or None where
        it holds none or some were removed: solved afresh."""
        if self._mask is None:
            return None
        height, width = self.gray.shape
        top, left, h, w = box or (0, 0, height, width)
        new, old = mask[top : top + h, left : left + w], self._mask[top : top + h, left : left + w]
        differs = (new[..., 0] != old[..., 0]) | (new[..., 1] != old[..., 1]) | (new[..., 2] != old[..., 2])
        black = (new[..., 0] | new[..., 1] | new[..., 2]) == 0
        if (differs & black).any():
            return None
        changed = np.zeros((height, width), bool)
        changed[top : top + h, left : left + w] = differs
        return cues_from_mask(
            np.where(changed[..., None], mask, np.uint8(0)) if box is None else _boxed(mask, changed, box), box
        )

    def _solve_cues(
        self,
        version: int,
        doc: Document,
        method: str,
        colorizer: Colorizer,
        cues: Cues | None,
        delta: Cues | None,
        timing: dict,
        start: float,
    ):
        """The colorizer's result for ``cues`` (afresh) or ``delta`` (added); None where the answer
        is published here (no cue left, or none changed)."""
        height, width = self.gray.shape
        if cues is not None and cues.count == 0 and colorizer.prior is None:
            self._mask, self._mask_doc = None, None
            rgb = np.repeat(self.gray[..., None], 3, axis=2)
            self._publish(version, (0, 0, height, width), rgb, timing=timing, info={"solver": "none", "cues": 0})
            return None
        if delta is not None and delta.count == 0:
            self._mask_doc = doc
            self._publish(
                version,
                (0, 0, 0, 0),
                self.rgb,
                timing=timing,
                info={"solver": "unchanged"},
                ab=self.ab,
                painted=not colorizer.unpainted,
            )
            return None
        solve_start = time.perf_counter()
        if delta is None and self._mask is None:
            # Nothing solved yet: a fresh solve (its rate estimates a save's). Cues removed since the
            # last solve are reached from it (a low-rank edit) while the page shows its result.
            self._fresh = (version, method, start)
            if self.gray.size >= PREVIEW_PIXELS and not refinable(method) and colorizer.prior is None:
                self._preview(version, doc, method, dict(timing))
        if self.chroma_listeners and colorizer.options.space == "lab":
            colorizer.on_chroma = functools.partial(self._solved, version)
        colorizer.paint_later = self.paint_later and not refinable(method)
        try:
            with colorizer.engine.tolerance(PREVIEW_TOL) if refinable(method) else nullcontext():
                if cues is not None:
                    result = colorizer.solve(cues)
                else:
                    assert delta is not None  # the cues to add, where not solved afresh
                    result = colorizer.update(delta)
        finally:
            colorizer.on_chroma = None
            colorizer.paint_later = False
        timing["solve"] = time.perf_counter() - solve_start
        return result

    def _publish_solved(
        self,
        version: int,
        method: str,
        colorizer: Colorizer,
        mask: np.ndarray,
        result,
        heard: list[Note],
        timing: dict,
        rebased: bool,
    ) -> None:
        """Publish a solve's ``result``, with what it told (``heard``) while it ran."""
        height, width = self.gray.shape
        info = result.info
        paint = float(info.get("paint_seconds", 0.0))
        timing["solve"] -= paint
        timing["colour"] = paint
        window = info.get("window")
        changed_box = tuple(window) if window and "update" in info and not rebased else (0, 0, height, width)
        # An interactive update after which updates cost more and more: re-solve when the page idles.
        self._want_rebase = (info.get("update") == "window" or info.get("held", 0) >= REBASE_HELD) and (
            colorizer.updates is not None and colorizer.prior is None
        )
        warning = "; ".join(messages(heard)) or None
        painted = not colorizer.unpainted
        self._publish(
            version,
            changed_box if painted else (0, 0, 0, 0),  # (its picture comes after: _paint_late)
            result.rgb,
            final=not refinable(method),
            warning=warning,
            timing=timing,
            info={**_summary(info), **self._flood(mask, result.ab)},
            ab=result.ab,
            painted=painted,
        )

    def _solved(self, version: int, ab: np.ndarray) -> None:
        for listener in list(self.chroma_listeners):
            listener(version, ab)

    def _flood(self, mask: np.ndarray | None, ab: np.ndarray) -> dict:
        """``{"flood": share}`` of the result (:func:`~varcolor.ui.hints.flood_share`: the page's
        hint for colour that flooded light areas no stroke touched); {} without cues."""
        if mask is None:
            return {}
        share = flood_share(self.gray, ab, (mask[..., 0] | mask[..., 1] | mask[..., 2]) != 0)
        return {"flood": round(share, 4), "flooded": share >= FLOOD_SHARE}

    def _preview(self, version: int, doc: Document, method: str, timing: dict) -> None:
        """Publish ``doc`` solved on the live copy reduced :data:`PREVIEW_SCALE` times a side, its
        chroma interpolated to the copy's size (not final): a fresh solve's first colours sooner."""
        height, width = self.gray.shape
        shape = (max(2, height // PREVIEW_SCALE), max(2, width // PREVIEW_SCALE))
        start = time.perf_counter()
        if self._small is None or self._small.shape != shape:
            self._small = reduce(self.gray, shape)
        cues = cues_from_mask(rasterize(doc, shape, self.full_shape))
        if cues.count == 0:  # strokes too thin to survive the reduction: no preview
            return
        try:
            result = self._new_colorizer(self._small, method).solve(cues)
        except VarcolorError as exc:  # the live copy's own solve says what is wrong, if anything
            log.info("no preview of version %d: %s", version, exc)
            return
        ab = cv2.resize(result.ab, (width, height), interpolation=cv2.INTER_LINEAR)
        rgb = chroma_to_rgb(lightness_of_gray(self.gray), ab)
        timing["solve"] = time.perf_counter() - start
        info = {**_summary(result.info), "solver": "preview"}
        self._publish(version, (0, 0, height, width), rgb, final=False, timing=timing, info=info, ab=ab)

    def _refine(self, version: int) -> None:
        """Carry a refinable method's preview on to its final tolerance (while no edit waits)."""
        height, width = self.gray.shape
        try:
            start = time.perf_counter()
            assert self._colorizer is not None  # run() refines only the colorizer it holds
            result = self._colorizer.refine()
            timing = {"solve": time.perf_counter() - start}
            self._publish(
                version,
                (0, 0, height, width),
                result.rgb,
                final=True,
                timing=timing,
                info={**_summary(result.info), **self._flood(self._mask, result.ab)},
                ab=result.ab,
            )
        except _Stopped:
            return
        except Exception as exc:  # noqa: BLE001
            log.error("refine of version %d failed:\n%s", version, traceback.format_exc())
            self._publish(version, None, None, error=f"refining failed: {exc}")


def refinable(method: str) -> bool:
    """Whether the studio method ``method``'s solves can be carried on to a tighter tolerance
    (what its :class:`~varcolor.methods.base.Method` declares): the live view previews, then refines."""
    return methods.get(PRESETS[method]["method"]).refines()


@numba.njit(cache=True, parallel=True)
def _to_rgba(rgb, rgba, top, left, height, width):
    """Write ``rgb`` (floats in [0, 1]) as 8-bit into ``rgba``'s colour channels in a box, without
    NumPy's temporaries (benchmarks/results/studio_notes.md)."""
    for i in numba.prange(top, top + height):
        for j in range(left, left + width):
            for c in range(3):
                v = rgb[i, j, c] * 255.0 + 0.5
                rgba[i, j, c] = 0 if v < 0.0 else (255 if v >= 255.0 else np.uint8(v))


def _boxed(mask: np.ndarray, changed: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """``mask`` where ``changed``, black elsewhere (only ``box`` can hold changes)."""
    top, left, h, w = box
    out = np.zeros_like(mask)
    region = (slice(top, top + h), slice(left, left + w))
    out[region] = np.where(changed[region][..., None], mask[region], np.uint8(0))
    return out


def _summary(info: Mapping[str, object]) -> dict:
    keys = ("method", "solver", "update", "iterations", "residual", "cues", "seconds", "prior")
    return {k: info[k] for k in keys if k in info and isinstance(info[k], (int, float, str, type(None)))}
