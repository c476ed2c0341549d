"""The view at full resolution: tiles of the photo's gray and of the result at the photo's own
pixels, for a page zoomed in past its live copy.

Tiles are :data:`TILE` pixels square at level ``L`` of a pyramid (level 0: the photo's pixels;
level ``L``: blocks of ``2^L × 2^L`` averaged). A result tile's chroma is, at level 0 once the live
result is final, a *full* tile (:meth:`View.full_chroma`: the engine's lift and correction, as a
save makes them, each tile on its own so tiles meet without seams; made ahead in blocks by
:meth:`View.ahead`); else the live result's chroma, interpolated (bilinear).
>>> gray = np.linspace(0, 1, 600 * 500, dtype=np.float32).reshape(600, 500)
>>> view = View(gray)
>>> view.gray_tile(0, 0, 1).shape, view.gray_tile(1, 1, 0).shape, view.levels
((256, 244), (44, 250), 3)
"""

from __future__ import annotations

import json
import logging
import math
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import numba
import numpy as np
from scipy.ndimage import map_coordinates

from ..color import chroma_to_rgb_of_gray, gray_by_bands
from ..common.memory import give_back_free_memory
from ..common.threads import shared_pool
from ..cues import Cues
from ..errors import InputError
from ..methods import build_options
from ..methods.base import Problem
from ..methods.levin_multiscale import LevinMultiscale, auto_factor
from ..solvers.multiscale import coarse_shape
from .document import DEFAULT_PRESET, PRESETS, Document, cues_from_mask, draw, strokes_in
from .live import LiveSolver, Published, refinable

__all__ = ["View", "png", "full_gray", "TILE"]

log = logging.getLogger(__name__)

TILE = 256
#: Pixels around a full tile in the window it is made in (:meth:`View.full_chroma`): how far the
#: lift looks, the correction's band across the tile's edge and a closed region's span past it.
PAD = 64
#: Full tiles kept for the newest document version (a 1:1 view shows a few dozen), as PNG bytes.
KEPT_TILES = 256
#: Windows whose gray's flat parts and cues are kept (:meth:`View._kept_for`): a 1:1 view's blocks,
#: and some of the view before.
KEPT_WINDOWS = 32


@dataclass
class _Kept:
    """What a view keeps of a window for the next stroke's tiles there: the gray's flat parts
    (the closed regions', by correction tile: :class:`LevinMultiscale`'s ``interiors``), and the
    cues last drawn there (what was drawn, as JSON; the cue pixels' raster indices; their ab)."""

    interiors: dict = field(default_factory=dict)
    cues: tuple[str, np.ndarray, np.ndarray] | None = None


#: Threads that make the full tiles (:meth:`View.full_tile`, :meth:`View.ahead`), a core each.
TILE_THREADS = max(1, min(4, os.cpu_count() or 1))


def _tile_pool() -> ThreadPoolExecutor:
    """The threads that make full tiles, for every view (made at the first); each thread's kernels
    on one core (numba's thread count is a thread's own)."""
    return shared_pool("tiles", TILE_THREADS, numba.set_num_threads, (1,))


def full_gray(pixels: np.ndarray, colour: bool) -> np.ndarray:
    """The photo's gray at full resolution in single precision, as :func:`varcolor.color.to_gray`
    makes it, by bands (:func:`varcolor.color.gray_by_bands`): whole, it was the studio's peak."""
    return gray_by_bands(pixels, np.float32, colour=colour)


def png(pixels: np.ndarray, compress: bool = True) -> bytes:
    """``pixels`` (8-bit gray or RGB) as PNG bytes, compressed little (speed first): PNG's filter
    "Sub" and deflate level 1 matching runs only; or, not ``compress``, stored (for a page on the
    same computer). Written here because Pillow's and OpenCV's encoders are slower at this
    (benchmarks/results/code_notes.md).

    >>> import io
    >>> from PIL import Image
    >>> rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    >>> np.array_equal(np.asarray(Image.open(io.BytesIO(png(rgb)))), rgb)
    True
    >>> np.array_equal(np.asarray(Image.open(io.BytesIO(png(rgb, compress=False)))), rgb)
    True
    >>> rgba = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    >>> np.array_equal(np.asarray(Image.open(io.BytesIO(png(rgba)))), rgba)
    True"""
    if pixels.dtype != np.uint8 or not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (3, 4))):
        raise ValueError(f"a page's picture is H×W, H×W×3 or H×W×4 uint8, not {pixels.shape} {pixels.dtype}")
    height, width = pixels.shape[:2]
    step = 1 if pixels.ndim == 2 else pixels.shape[2]  # bytes a pixel: "Sub" takes the byte one pixel left
    rows = np.ascontiguousarray(pixels).reshape(height, width * step)
    filtered = np.empty((height, width * step + 1), np.uint8)
    if compress:
        filtered[:, 0] = 1  # each row's filter: Sub
        filtered[:, 1 : step + 1] = rows[:, :step]
        np.subtract(rows[:, step:], rows[:, :-step], out=filtered[:, step + 1 :])  # modulo 256, as PNG's
        deflate = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    else:
        filtered[:, 0] = 0  # each row's filter: None
        filtered[:, 1:] = rows
        deflate = zlib.compressobj(0)
    data = deflate.compress(filtered.data) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, {1: 0, 3: 2, 4: 6}[step], 0, 0, 0)
    chunks = [_chunk(b"IHDR", header)]
    chunks += [_chunk(b"IDAT", data[k : k + _IDAT]) for k in range(0, len(data), _IDAT)]
    return b"".join([b"\x89PNG\r\n\x1a\n", *chunks, _chunk(b"IEND", b"")])


#: The most bytes of an IDAT chunk :func:`png` writes (a chunk's length is below 2**31).
_IDAT = 1 << 28


def _chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: its length, type, data and CRC (of its type and data)."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


class View:
    """Tiles of the photo ``gray`` (``H×W`` float in [0, 1], full resolution) and of its result."""

    def __init__(
        self,
        gray: np.ndarray | Callable[[], np.ndarray],
        shape: tuple[int, int] | None = None,
        *,
        compress: bool = True,
    ):
        self.compress = compress
        self._gray: np.ndarray | None = None
        self._error: BaseException | None = None
        self._made = threading.Event()
        if callable(gray):
            if shape is None:
                raise TypeError("a gray made by a function needs its shape")
            self.shape: tuple[int, ...] = tuple(shape)
            threading.Thread(target=self._make, args=(gray,), name="varcolor-view-gray", daemon=True).start()
        else:
            self._gray = gray
            self._made.set()
            self.shape = gray.shape
        self.levels = max(1, math.ceil(math.log2(max(max(self.shape) / TILE, 1.0))) + 1)
        self._lock = threading.Lock()
        #: The full tiles (PNG) made for the newest document version asked for, and those being made.
        self._full_version: int | None = None
        self._full: dict[tuple[int, int], bytes] = {}
        self._making: dict[tuple[int, int], threading.Event] = {}
        self._ahead = 0  # threads making full tiles ahead of the page
        self._windows: dict[tuple[int, int, int, int], _Kept] = {}  # (_kept_for)

    def _make(self, make: Callable[[], np.ndarray]) -> None:
        # On one core: the other stays with the first stroke's solve, which comes meanwhile.
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
        assert self._gray is not None  # made, or the error raised
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

    def tile_png(
        self, layer: str, level: int, row: int, col: int, live: LiveSolver, full: tuple[int, Document] | None = None
    ) -> bytes:
        """Tile ``(row, col)`` of level ``level`` as PNG: of the photo's gray (``layer`` "gray") or of
        ``live``'s latest result (``layer`` "result")."""
        if layer == "gray":
            return png(self.gray_tile(level, row, col), self.compress)
        if layer == "result":
            published, ab = live.latest()
            if full is not None and level == 0 and full_tiles_of(published, *full):
                return self.full_tile(row, col, full[0], full[1], ab)
            block, ys, xs = self._pixels(level, row, col)
            return self._painted(block, self._live_chroma(ab, ys, xs))
        raise InputError(f"unknown tile layer {layer!r}: gray or result")

    def _painted(self, block: np.ndarray, chroma: np.ndarray) -> bytes:
        """The tile of gray ``block`` and ``chroma`` as PNG: 8-bit levels made by the paint kernel
        the photo's own paint compiled (as array code, judged by a tile's size, a tile was slow)."""
        rgb = np.empty(block.shape + (3,), np.uint8)
        chroma_to_rgb_of_gray(block, chroma, out=rgb, image_pixels=math.prod(self.shape))
        return png(rgb, self.compress)

    def full_tile(self, row: int, col: int, version: int, doc: Document, live_ab: np.ndarray) -> bytes:
        """Full tile ``(row, col)`` (:meth:`full_chroma`) of document version ``version`` as PNG,
        kept for the newest version asked for (:data:`KEPT_TILES` tiles). One being made, or
        claimed by :meth:`ahead`, is waited for, not made twice."""
        key = (row, col)
        while True:
            with self._lock:
                self._newest(version)
                newest = version == self._full_version  # an older version's tile is made, not kept
                kept = self._full.get(key) if newest else None
                if kept is not None:
                    return kept
                making = self._making.get(key) if newest else None
                if making is None:
                    mine = threading.Event()
                    if newest:
                        self._making[key] = mine
                    break
            making.wait()  # then kept; or, where its maker failed or gave it up, made here
        return _tile_pool().submit(self._make_full, key, version, doc, live_ab, mine).result()

    def _newest(self, version: int) -> None:
        """Keep tiles for ``version`` from now on, if it is newer than theirs (under the lock)."""
        if self._full_version is None or version > self._full_version:
            self._full_version, self._full, self._making = version, {}, {}

    def _make_full(self, key: tuple[int, int], version: int, doc: Document, live_ab: np.ndarray, mine: threading.Event):
        """Make full tile ``key`` (claimed by ``mine``), keep it, and let those waiting for it go."""
        try:
            block, _, _ = self._pixels(0, *key)
            data = self._painted(block, self.full_chroma(key[0], key[1], doc, live_ab))
            self._keep(key, version, data)
            return data
        finally:
            self._release(key, mine)

    def _keep(self, key: tuple[int, int], version: int, data: bytes) -> None:
        """Keep full tile ``key`` of ``version`` (PNG ``data``) if that version's are still kept."""
        with self._lock:
            if self._full_version == version and len(self._full) < KEPT_TILES:
                self._full[key] = data

    def _release(self, key: tuple[int, int], mine: threading.Event) -> None:
        with self._lock:
            if self._making.get(key) is mine:
                del self._making[key]
        mine.set()

    def ahead(
        self,
        version: int,
        doc: Document,
        live_ab: np.ndarray,
        tiles: Iterable[tuple[int, int]],
        still: Callable[[], bool],
    ) -> None:
        """Make full tiles ``tiles`` of version ``version`` (:meth:`full_tile`) before the page asks
        for them: claimed at once (the page's requests for them wait), made in that order in blocks
        (:func:`blocks`) while ``still()``, the rest given up. Returns at once
        (benchmarks/results/code_notes.md)."""
        claimed: list[tuple[tuple[int, int], threading.Event]] = []
        with self._lock:
            self._newest(version)
            if version == self._full_version:
                for key in tiles:
                    if len(self._full) + len(claimed) >= KEPT_TILES:  # more would be made and dropped
                        break
                    if key not in self._full and key not in self._making:
                        self._making[key] = threading.Event()
                        claimed.append((key, self._making[key]))
            self._ahead += len(claimed)
        events = dict(claimed)
        for block in blocks([key for key, _ in claimed]):
            mine = {key: events[key] for key in block.keys}
            _tile_pool().submit(self._ahead_block, block, mine, version, doc, live_ab, still)

    def _ahead_block(self, block: Block, mine: dict, version: int, doc: Document, live_ab, still) -> None:
        """One block of :meth:`ahead`'s tiles: made in one window, each tile kept and let go as it
        is painted; or given up (a request waiting for one of them then makes it)."""
        try:
            if still():
                chroma = self.full_chroma(block.row, block.col, doc, live_ab, block.rows, block.cols)
                for key in block.keys:
                    top = (key[0] - block.row) * TILE
                    left = (key[1] - block.col) * TILE
                    part = chroma[top : top + TILE, left : left + TILE]
                    self._keep(key, version, self._painted(self._pixels(0, *key)[0], part))
                    self._release(key, mine[key])
        except Exception:  # noqa: BLE001 - the page's request for a tile says what went wrong
            log.debug("full tiles made ahead failed", exc_info=True)
        finally:
            with self._lock:
                self._ahead -= len(block.keys)
            for key in block.keys:
                self._release(key, mine[key])  # (those let go already: nothing more)

    def busy(self) -> bool:
        """Whether full tiles are being made ahead of the page (:meth:`ahead`)."""
        with self._lock:
            return self._ahead > 0

    def _live_chroma(self, live_ab: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """The live result's chroma (at the working size) at photo pixels ``ys × xs`` (bilinear)."""
        work = live_ab.shape[:2]
        wy = np.clip((ys + 0.5) * work[0] / self.shape[0] - 0.5, 0, work[0] - 1)
        wx = np.clip((xs + 0.5) * work[1] / self.shape[1] - 0.5, 0, work[1] - 1)
        grid = np.meshgrid(wy, wx, indexing="ij")
        return np.stack([map_coordinates(live_ab[..., c], grid, order=1) for c in range(2)], axis=-1)

    def full_chroma(
        self, row: int, col: int, doc: Document, live_ab: np.ndarray, rows: int = 1, cols: int = 1
    ) -> np.ndarray:
        """The chroma of level-0 tile ``(row, col)`` at full resolution (``h×w×2`` float32, Lab ab),
        or of the ``rows × cols`` tiles from it, for the document ``doc`` whose final live chroma is
        ``live_ab``: sampled on the engine's coarse grid of the whole photo, then lifted, cues held
        and corrected in one piece on a window :data:`PAD` pixels larger, so that tiles made apart
        meet without seams."""
        box = self._block_box(row, col, rows, cols)
        window = self._window(box)
        kept = self._kept_for(window)
        cues = self._window_cues(window, doc, kept)
        factor = auto_factor((self.shape[0], self.shape[1]))
        rows, cols = coarse_shape(_size(window), factor)
        coarse = self._live_chroma(
            live_ab,
            np.minimum(window[0].start + factor * (np.arange(rows) + 0.5) - 0.5, self.shape[0] - 1),
            np.minimum(window[1].start + factor * (np.arange(cols) + 0.5) - 0.5, self.shape[1] - 1),
        )
        options = build_options(method=LevinMultiscale.name, factor=factor)
        engine = LevinMultiscale(self.gray[window].astype(np.float64), options, once=True, interiors=kept.interiors)
        chroma, _ = engine.from_coarse(coarse, Problem(cues.mask, cues.ab, None, None), whole=True)
        top, left = box[0] - window[0].start, box[1] - window[1].start
        return np.asarray(chroma[top : top + box[2], left : left + box[3]], np.float32)

    def _kept_for(self, window: tuple[slice, slice]) -> _Kept:
        """What the view keeps of ``window`` for the next stroke's tiles there (a view's block
        windows are the same every stroke): the :data:`KEPT_WINDOWS` most recent windows'."""
        key = (window[0].start, window[0].stop, window[1].start, window[1].stop)
        with self._lock:
            kept = self._windows.pop(key, None) or _Kept()
            self._windows[key] = kept  # the newest last
            while len(self._windows) > KEPT_WINDOWS:
                del self._windows[next(iter(self._windows))]
        return kept

    def _window_cues(self, window: tuple[slice, slice], doc: Document, kept: _Kept) -> Cues:
        """The cues of ``doc`` in ``window``: drawn, or as ``kept`` has them where the strokes that
        paint in the window and the points are the same (a stroke elsewhere)."""
        box = (window[0].start, window[1].start) + _size(window)
        painting = [stroke for stroke, _, _ in strokes_in(doc.strokes, self.shape, self.shape, box)]
        said = json.dumps([painting, list(doc.points)], sort_keys=True)
        held = kept.cues
        if held is not None and held[0] == said:
            marked = np.zeros(_size(window), bool)
            marked.reshape(-1)[held[1]] = True
            ab = np.zeros(_size(window) + (2,))
            ab.reshape(-1, 2)[held[1]] = held[2]
            return Cues(marked, ab, copy=False)
        mask = np.zeros(self.shape + (3,), np.uint8)
        draw(mask, doc.strokes, doc.points, self.shape, box)
        cues = cues_from_mask(mask[window])
        at = np.flatnonzero(cues.mask)
        kept.cues = (said, at.astype(np.int32), cues.ab.reshape(-1, 2)[at])
        return cues

    def _block_box(self, row: int, col: int, rows: int, cols: int) -> tuple[int, int, int, int]:
        """The box (top, left, height, width) of the ``rows × cols`` level-0 tiles from ``(row, col)``."""
        top, left, _, _ = self.tile_box(0, row, col)
        last = self.tile_box(0, row + rows - 1, col + cols - 1)
        return top, left, last[0] + last[2] - top, last[1] + last[3] - left

    def _window(self, box: tuple[int, int, int, int]) -> tuple[slice, slice]:
        """The box (top, left, height, width) and :data:`PAD` pixels around it, inside the photo."""
        top, left, height, width = box
        return (
            slice(max(top - PAD, 0), min(top + height + PAD, self.shape[0])),
            slice(max(left - PAD, 0), min(left + width + PAD, self.shape[1])),
        )


class Block(NamedTuple):
    """Level-0 tiles made in one window (:meth:`View.full_chroma`): ``rows × cols`` tiles from
    ``(row, col)``, all of them ``keys`` (in the order asked)."""

    row: int
    col: int
    rows: int
    cols: int
    keys: tuple[tuple[int, int], ...]


#: The blocks :func:`blocks` makes, largest first: larger ones saved little time for more memory
#: in each tile thread, and the studio's peak is at the 1:1 view.
BLOCKS = ((2, 2), (1, 2), (2, 1))


def blocks(keys: Iterable[tuple[int, int]]) -> list[Block]:
    """``keys`` (level-0 tiles, nearest the view's centre first) as blocks of tiles made together:
    in the tiles' order, each tile not yet in a block starts the largest of :data:`BLOCKS` whose
    tiles are all among those left, else is a block of its own.

    Examples
    --------
    >>> [b[:4] for b in blocks([(1, 1), (1, 2), (2, 1), (2, 2), (0, 1), (3, 3)])]
    [(1, 1, 2, 2), (0, 1, 1, 1), (3, 3, 1, 1)]
    """
    order = list(dict.fromkeys(keys))
    left = set(order)
    made: list[Block] = []
    for key in order:
        if key in left:
            made.append(_block_from(key, left, order))
            left.difference_update(made[-1].keys)
    return made


def _block_from(key: tuple[int, int], left: set, order: list) -> Block:
    """The largest of :data:`BLOCKS` holding tile ``key`` whose tiles are all in ``left``."""
    row, col = key
    for rows, cols in BLOCKS:
        for top in range(row - rows + 1, row + 1):
            for first in range(col - cols + 1, col + 1):
                tiles = {(r, c) for r in range(top, top + rows) for c in range(first, first + cols)}
                if tiles <= left:
                    return Block(top, first, rows, cols, tuple(k for k in order if k in tiles))
    return Block(row, col, 1, 1, (key,))


def full_tiles_of(published: Published, version: int, doc: Document) -> bool:
    """Whether the live result ``published`` makes full tiles (:meth:`View.full_tile`) of document
    version ``version`` (``doc``): it is that version's, final, without error, and of a method
    whose answer the engine's lift makes (:func:`lifted`)."""
    return published.final and not published.error and published.version == version and lifted(doc)


def lifted(doc: Document) -> bool:
    """Whether ``doc``'s method's answer is one the engine's lift makes at full resolution (not a
    prior's, nor a refinable one's): what full tiles are made of."""
    method = doc.settings.get("method", DEFAULT_PRESET)
    return not (PRESETS[method].get("prior") or refinable(method))


def _size(window: tuple[slice, slice]) -> tuple[int, int]:
    return window[0].stop - window[0].start, window[1].stop - window[1].start
