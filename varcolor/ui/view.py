"""The view at full resolution: tiles of the photo's gray and of the result, at the photo's own
pixels, for a page zoomed in past its live copy (a scan's live copy is a few times smaller).

Tiles are :data:`TILE` pixels square at level ``L`` of a pyramid (level 0: the photo's pixels;
level ``L``: blocks of ``2^L × 2^L`` averaged). A result tile is the photo's own lightness with a
chroma that is, in order of preference:

- the viewport's full-resolution solve (:meth:`View.solve_viewport`): the document's cues at full
  resolution inside the viewport (and a margin), the live result's chroma held on its border;
- else the live result's chroma, interpolated (bilinear) to the photo's pixels.

The page asks for a viewport's solve only once the live result of the current document is final
(:class:`NotYet` otherwise: the server answers 409 and the page asks again after the next result).

>>> gray = np.linspace(0, 1, 600 * 500, dtype=np.float32).reshape(600, 500)
>>> view = View(gray)
>>> view.gray_tile(0, 0, 1).shape, view.gray_tile(1, 1, 0).shape, view.levels
((256, 244), (44, 250), 3)
"""

from __future__ import annotations

import io
import math
import threading
import time
from collections.abc import Callable

import numba
import numpy as np
from PIL import Image
from scipy.ndimage import map_coordinates

from ..api import Colorizer
from ..color import chroma_to_rgb, lightness_of_gray, same_lightness_gray
from ..cues import Cues
from ..errors import InputError
from ..memory import give_back_free_memory
from .document import DEFAULT_PRESET, PRESETS, Document, cues_from_mask, draw
from .live import LiveSolver, refinable

__all__ = ["View", "NotYet", "png", "full_gray", "TILE", "MAX_VIEWPORT_PIXELS"]

TILE = 256
#: A viewport larger than this (pixels of the photo, margin included) is not solved at full
#: resolution: the page shows it at less than 1:1, where the live result's chroma is what one sees.
MAX_VIEWPORT_PIXELS = 3_000_000
#: Pixels around the viewport solved with it (the border's chroma is the live result's).
MARGIN = 32


#: Rows of a photo made gray at a time (:func:`full_gray`).
GRAY_BAND = 256


def full_gray(pixels: np.ndarray, colour: bool) -> np.ndarray:
    """The photo's gray at full resolution in single precision, as :func:`varcolor.color.to_gray`
    makes it (the same values), a band of :data:`GRAY_BAND` rows at a time.

    Whole, a 40 MP scan's gray took its pixels in double precision and its gray in double (1.3 GB
    above the pixels read: the studio's peak); by bands, 40 MB.

    Parameters
    ----------
    pixels : ndarray
        ``H×W`` or ``H×W×C`` floats in [0, 1].
    colour : bool
        Whether the channels differ somewhere (else the first is the gray, as ``to_gray`` takes it).
    """
    if pixels.ndim == 2 or not colour:
        return np.array(pixels if pixels.ndim == 2 else pixels[..., 0], np.float32)
    out = np.empty(pixels.shape[:2], np.float32)
    for top in range(0, pixels.shape[0], GRAY_BAND):
        out[top : top + GRAY_BAND] = same_lightness_gray(pixels[top : top + GRAY_BAND])
    return out


class NotYet(Exception):
    """Asked too soon (the server answers 409: ask again after the next result)."""


def png(pixels: np.ndarray) -> bytes:
    """``pixels`` (8-bit gray or RGB) as PNG bytes, compressed little (the page's pictures: speed first).

    Parameters
    ----------
    pixels : ndarray
        ``H×W`` or ``H×W×3`` uint8.
    """
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class View:
    """Tiles of the photo ``gray`` (``H×W`` float in [0, 1], full resolution) and of its result.

    Parameters
    ----------
    gray : ndarray or callable
        The photo's gray; or a function that makes it, run in a thread of its own (the page shows
        the live copy meanwhile: a 12 MP photo's gray took 1 to 2.5 s), with ``shape`` its shape.
        Whatever needs the gray waits for it; an error making it is raised there.
    shape : tuple, optional
        ``(H, W)``, when ``gray`` is a function.
    """

    def __init__(self, gray: np.ndarray | Callable[[], np.ndarray], shape: tuple[int, int] | None = None):
        self._gray, self._error = None, None
        self._made = threading.Event()
        if callable(gray):
            self.shape = tuple(shape)
            threading.Thread(target=self._make, args=(gray,), name="varcolor-view-gray", daemon=True).start()
        else:
            self._gray = gray
            self._made.set()
            self.shape = gray.shape
        self.levels = max(1, math.ceil(math.log2(max(max(self.shape) / TILE, 1.0))) + 1)
        self._lock = threading.Lock()
        self._solve_lock = threading.Lock()
        #: The last viewport solve: (version, box (top, left, height, width), ab of the box).
        self.detail: tuple[int, tuple[int, int, int, int], np.ndarray] | None = None
        self._live_ab: tuple[int, np.ndarray] | None = None

    def _make(self, make: Callable[[], np.ndarray]) -> None:
        # On one core (numba's thread count is this thread's own): the other stays with the first
        # stroke's solve, which comes while the gray is made.
        numba.set_num_threads(1)
        try:
            self._gray = make()
            give_back_free_memory()  # the photo's pixels read to make it
        except BaseException as exc:  # noqa: BLE001 - raised again where the gray is needed
            self._error = exc
        finally:
            self._made.set()

    @property
    def gray(self) -> np.ndarray:
        """The photo's gray at full resolution (waiting for it while it is made)."""
        self._made.wait()
        if self._error is not None:
            raise self._error
        return self._gray

    def tile_box(self, level: int, row: int, col: int) -> tuple[int, int, int, int]:
        """The box ``(top, left, height, width)`` of tile ``(row, col)`` in level ``level``'s pixels."""
        if not (isinstance(level, int) and 0 <= level < self.levels):
            raise InputError(f"tile level must be 0 to {self.levels - 1}")
        height, width = (math.ceil(n / 2**level) for n in self.shape)
        top, left = row * TILE, col * TILE
        if not (0 <= top < height and 0 <= left < width):
            raise InputError(f"no tile ({row}, {col}) at level {level}")
        return top, left, min(TILE, height - top), min(TILE, width - left)

    def _pixels(self, level: int, row: int, col: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The tile's gray (block means), and its pixels' centres in the photo's coordinates."""
        top, left, h, w = self.tile_box(level, row, col)
        f = 2**level
        block = self.gray[top * f : (top + h) * f, left * f : (left + w) * f]
        if f > 1:  # partial blocks at the edges: repeat the last row and column
            block = np.pad(block, ((0, h * f - block.shape[0]), (0, w * f - block.shape[1])), mode="edge")
            block = block.reshape(h, f, w, f).mean(axis=(1, 3))
        ys = (top + np.arange(h) + 0.5) * f - 0.5
        xs = (left + np.arange(w) + 0.5) * f - 0.5
        return block, ys, xs

    def gray_tile(self, level: int, row: int, col: int) -> np.ndarray:
        """The gray tile as 8-bit."""
        block, _, _ = self._pixels(level, row, col)
        return np.round(np.clip(block, 0, 1) * 255).astype(np.uint8)

    def result_tile(self, level: int, row: int, col: int, version: int, live_ab: np.ndarray) -> np.ndarray:
        """The result tile (8-bit RGB) of document version ``version``: the photo's lightness with
        the viewport solve's chroma where it covers the tile, the live result's (``live_ab``) elsewhere."""
        block, ys, xs = self._pixels(level, row, col)
        ab = self._live_chroma(live_ab, ys, xs)
        detail = self.detail
        if detail is not None and detail[0] == version and level == 0:
            _, (top, left, h, w), detail_ab = detail
            top_left = (int(ys[0]), int(xs[0]))
            rows = slice(max(top - top_left[0], 0), max(min(top + h - top_left[0], len(ys)), 0))
            cols = slice(max(left - top_left[1], 0), max(min(left + w - top_left[1], len(xs)), 0))
            if rows.start < rows.stop and cols.start < cols.stop:
                ab[rows, cols] = detail_ab[
                    top_left[0] + rows.start - top : top_left[0] + rows.stop - top,
                    top_left[1] + cols.start - left : top_left[1] + cols.stop - left,
                ]
        rgb = chroma_to_rgb(lightness_of_gray(block), ab)
        return np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)

    def tile_png(self, layer: str, level: int, row: int, col: int, live: LiveSolver) -> bytes:
        """Tile ``(row, col)`` of level ``level`` as PNG: of the photo's gray (``layer`` "gray") or of
        ``live``'s latest result (``layer`` "result").

        Parameters
        ----------
        layer : str
            ``gray`` or ``result``.
        level, row, col : int
            The tile (level 0: the photo's pixels).
        live : LiveSolver
            The live solve whose latest result a result tile shows.
        """
        if layer == "gray":
            return png(self.gray_tile(level, row, col))
        if layer == "result":
            published, ab = live.latest()
            return png(self.result_tile(level, row, col, published.version, ab))
        raise InputError(f"unknown tile layer {layer!r}: gray or result")

    def viewport(self, box, version: int, doc: Document, live: LiveSolver) -> dict:
        """Solve the part of the photo the page shows at full resolution, for the result tiles
        (:meth:`solve_viewport`); needs ``live``'s result of document version ``version``, final
        (:class:`NotYet` otherwise).

        Parameters
        ----------
        box : list
            ``[top, left, height, width]`` in the photo's pixels (checked here: it comes from the page).
        version : int
            The document's version.
        doc : Document
            The document of that version.
        live : LiveSolver
            The live solve (its chroma holds the viewport's border).
        """
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, int) and v >= 0 for v in box)):
            raise InputError("viewport: give [top, left, height, width] in whole pixels")
        method = doc.settings.get("method", DEFAULT_PRESET)
        options = PRESETS[method]
        if options.get("prior") or refinable(method):
            raise InputError(f"method {method}: the full-resolution view shows the live result's colours")
        published, ab = live.latest()
        if published.version != version or not published.final or published.error:
            raise NotYet("the result of the latest edit is not final yet")
        return self.solve_viewport(tuple(box), version, doc, ab, options)

    def _live_chroma(self, live_ab: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """The live result's chroma (at the working size) at photo pixels ``ys × xs`` (bilinear)."""
        work = live_ab.shape[:2]
        wy = np.clip((ys + 0.5) * work[0] / self.shape[0] - 0.5, 0, work[0] - 1)
        wx = np.clip((xs + 0.5) * work[1] / self.shape[1] - 0.5, 0, work[1] - 1)
        grid = np.meshgrid(wy, wx, indexing="ij")
        return np.stack([map_coordinates(live_ab[..., c], grid, order=1) for c in range(2)], axis=-1)

    def solve_viewport(
        self, box: tuple[int, int, int, int], version: int, doc: Document, live_ab: np.ndarray, options: dict
    ) -> dict:
        """Solve the photo inside ``box`` (``top, left, height, width`` in its pixels) and a margin
        at full resolution: the document's cues there, the live result's chroma held on the border.
        Kept for the result tiles (until a newer one). Returns the box solved and the seconds."""
        top, left, height, width = box
        top, left = max(top - MARGIN, 0), max(left - MARGIN, 0)
        bottom = min(box[0] + height + MARGIN, self.shape[0])
        right = min(box[1] + width + MARGIN, self.shape[1])
        if bottom - top < 3 or right - left < 3:
            raise InputError("the viewport is outside the photo")
        if (bottom - top) * (right - left) > MAX_VIEWPORT_PIXELS:
            raise InputError("the viewport is too large to solve at full resolution: zoom in")
        start = time.perf_counter()
        with self._solve_lock:
            region = (top, left, bottom - top, right - left)
            mask = np.zeros(self.shape + (3,), np.uint8)
            draw(mask, doc.strokes, doc.points, self.shape, region)
            cues = cues_from_mask(mask[top:bottom, left:right])
            del mask
            # The border: the live result's chroma, where no cue of the document is.
            ring = np.zeros(cues.mask.shape, bool)
            ring[[0, -1], :] = True
            ring[:, [0, -1]] = True
            ring &= ~cues.mask
            ys, xs = np.arange(top, bottom, dtype=float), np.arange(left, right, dtype=float)
            border = self._live_chroma(live_ab, ys, xs)
            ab = np.where(ring[..., None], border, cues.ab)
            colorizer = Colorizer(self.gray[top:bottom, left:right].astype(np.float64), **options)
            result = colorizer.solve(Cues(cues.mask | ring, ab))
            self.detail = (version, region, result.ab.astype(np.float32))
            del colorizer, result
        give_back_free_memory()  # the solve's factorization, freed in a request's thread
        return {"version": version, "box": list(region), "seconds": time.perf_counter() - start}
