"""Restraint: how far each cue's colour reaches, and how firmly each pixel's colour is known.

Levin's rows make every unmarked pixel an average of its neighbours, so a region no cue lies on
still takes the colour of the nearest cues: a few strokes on the colourful things flood the
white, gray and unknown ones.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .common.raster import gather
from .solvers.multiscale import block_mean

if TYPE_CHECKING:
    from .solvers.superlu import ThreadLU

__all__ = [
    "GRID_SIDE",
    "DECAY",
    "EDGE",
    "LIKENESS",
    "TEXTURE",
    "UNLIKE",
    "THING_SPAN",
    "FULL_SHARE",
    "SOURCES",
    "GROUPS",
    "GROUP_BIN",
    "GROUP_HUE",
    "GROUP_OVERLAP",
    "PendingReach",
    "Reach",
    "Restraint",
    "grid_factor",
    "colour_groups",
    "follow_edges",
]

#: Cells a side (the geometric mean of height and width) of the grid the reach is solved on.
GRID_SIDE = 100
#: How far a cue's colour reaches over flat gray, as a share of the photo's side: the walk's chance
#: of dying at each step is ``8 / (DECAY² · cells)`` of its steps' weight ...
DECAY = 2.0
#: ... and ``EDGE × Σ (ΔY)²`` more at a cell whose gray differs from its four neighbours' by ΔY
#: (gray in [0, 1]): colour fades across the gray's edges and texture, not along a flat thing.
EDGE = 0.2
#: A pixel's likeness is ``exp(−(|Y − Ŷ| / (s + LIKENESS))²)``, ``Ŷ`` and ``s`` the mean and spread
#: of the cues' gray that reach it (gray in [0, 1]).
LIKENESS = 0.12
#: The likeness counts as ``(1 − share) ** LIKENESS_POWER``: less the nearer a pixel is to its cues.
LIKENESS_POWER = 0.5
#: The share of a pixel's colour its cues must fix for it to keep all of it.
FULL_SHARE = 0.7
#: What decided each pixel's colour (:meth:`Reach.source`): its index is the pixel's code.
SOURCES = ("none", "stroke", "reference", "prior")
#: A pixel whose reach is below this took its colour from no cue: ``none``, or ``prior`` where a
#: prior gave it.
GUESSED_BELOW = 0.25
#: Cues of one colour are one thing to the likeness: their ab binned this wide (Lab units) ...
GROUP_BIN = 12.0
#: ... and at most this many colours, the fullest bins (each cue the nearest of them).
GROUPS = 6
#: The colours are found among at most about this many of the cues (every k-th).
GROUP_SAMPLE = 65536
#: Two colours whose hues lie within this many degrees (neither near neutral) are one thing's shades
#: where their cues' gray ranges meet: means within this many times the sum of their spreads.
GROUP_HUE = 30.0
GROUP_OVERLAP = 2.0
#: A cell's texture is ``log(σ + TEXTURE_FLOOR)``, σ the spread of its pixels' gray; the walk
#: compares it with each colour's cues as it does the gray, with this tolerance (0: not compared).
TEXTURE = 1.0
TEXTURE_FLOOR = 0.01
#: The walk dies this much more at a cell unlike every colour's cues in gray and texture: colour
#: does not cross a thing no stroke is like to flood the one behind.
UNLIKE = 0.004
#: Things: the reach averaged over the grid along its gray and texture (a screened Laplacian whose
#: edges weigh ``exp(−ΔY² / 2 THING_GRAY² − Δt² / 2 THING_TEXTURE²)``, spanning ``THING_SPAN`` of
#: the grid's side; 0: the reach as solved) ...
THING_SPAN = 0.05
THING_GRAY = 0.04
THING_TEXTURE = 0.5
#: ... a cell where the cue cells' average reaches ``THING_HELD`` lies on a stroked thing and keeps
#: at least the thing's average reach (the colour covers it whole); elsewhere at most
#: ``min(1, average / THING_FULL) ** THING_POWER`` (colour that crossed into a thing fades).
THING_HELD = 0.02
THING_FULL = 0.7
THING_POWER = 2.5
#: Among many strokes: a cell with strokes of at least ``AMONG_COLOURS`` colours (ab more than
#: ``COLOUR_APART`` apart) within ``AMONG_SPAN`` of the grid's side, in ``AMONG_SECTORS[0]`` of the
#: 8 directions around it, keeps its colour in part, wholly in ``AMONG_SECTORS[1]``: there the
#: restorer strokes everything, and Levin's colour between the strokes is the guess to keep.
AMONG_COLOURS = 8
COLOUR_APART = 3.0
AMONG_SPAN = 0.5
AMONG_SECTORS = (3, 6)
#: Relative residual the grid's solve is taken to.
TOL = 1e-5


def grid_factor(shape: tuple[int, int]) -> int:
    """The block side of the grid the reach of a photo of ``shape`` is solved on: about
    :data:`GRID_SIDE` cells a side.

    Parameters
    ----------
    shape : tuple of int
        The photo's ``(H, W)``.

    Examples
    --------
    >>> grid_factor((321, 481)), grid_factor((1284, 1924)), grid_factor((5000, 8000)), grid_factor((3, 50000))
    (4, 16, 63, 1)
    """
    factor = int(round(np.sqrt(float(shape[0]) * float(shape[1])) / GRID_SIDE))
    return max(1, min(factor, min(shape) // 2))  # the grid at least 2 cells a side (a 2×12000 strip)


@dataclass
class Reach:
    """The reach of a cue set on its grid: what :meth:`Restraint.reach` solved.

    Attributes
    ----------
    strokes, references : ndarray
        ``h×w``: each cell's share of colour from stroke cues and from reference cues.
    likeness : ndarray
        ``h×w`` in [0, 1]: how alike the cell's gray is to the gray of the cues that reach it.
    shape : tuple of int
        The photo's ``(H, W)``.
    mask : ndarray or None
        The cue pixels (``H×W``): their confidence is 1.
    points : ndarray or None
        ``h×w``: each cell's share of colour from point cues (:attr:`varcolor.Cues.points`),
        unrestrained; None without any.
    referenced : ndarray or None
        The reference cues' pixels (``H×W``, cues of less than full weight): their source is
        ``reference``, the other cues' ``stroke``; None: no reference cue.
    guide : Restraint or None
        What solved it, without its factors (:meth:`Restraint.guide`): the gray the reach follows
        where it is resampled finer than its grid (:func:`follow_edges`); None: resampled bilinearly.
    things : ndarray or None
        ``h×w×2``: each cell's average reach over its thing and the average of the cue cells there
        (:meth:`Restraint.things`): the reach made whole over things (:meth:`scale`); None: as solved.
    """

    strokes: np.ndarray
    references: np.ndarray
    likeness: np.ndarray
    shape: tuple[int, int]
    mask: np.ndarray | None = None
    points: np.ndarray | None = None
    referenced: np.ndarray | None = None
    guide: Restraint | None = field(default=None, repr=False, compare=False)
    things: np.ndarray | None = field(default=None, repr=False, compare=False)
    among: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def share(self) -> np.ndarray:
        """Each cell's share of colour from any cue (``h×w``)."""
        return self.strokes + self.references

    def scale(self) -> np.ndarray:
        """The reach on the grid: ``min(1, share / FULL_SHARE) × likeness ** √(1 − share)``, made whole
        over things, at least :attr:`among` (a cell among many strokes), or the point cues'
        ``min(1, points / FULL_SHARE)`` where larger (``h×w``)."""
        share = np.clip(self.share, 0.0, 1.0)
        out = np.minimum(1.0, share / FULL_SHARE) * self.likeness ** ((1.0 - share) ** LIKENESS_POWER)
        if self.things is not None:
            out = whole_things(out, self.things)
        if self.among is not None:
            out = np.maximum(out, self.among)
        if self.points is not None:
            out = np.maximum(out, np.minimum(1.0, self.points / FULL_SHARE))
        return out

    def at(self, shape: tuple[int, int], block: int = 1) -> np.ndarray:
        """The reach resampled (bilinear) to ``shape``: the engine's coarse grid, or the photo.

        Parameters
        ----------
        shape : tuple of int
            ``(h, w)`` to resample to.
        block : int
            The side in pixels of a cell of ``shape`` (the engine's block; 1: the photo's pixels).
        """
        factor = grid_factor(self.shape)
        if self.guide is None or factor <= block:
            return self._resampled(self.scale(), shape, block)
        # The edges followed at most UPSAMPLE_PIXELS cells; a photo's pixels past that, bilinearly
        # from them (cells of a few pixels: no blocks at 1:1, at a tenth of the cost at 40 MP).
        step = block
        if block == 1 and shape[0] * shape[1] > UPSAMPLE_PIXELS:
            step = min(factor, int(np.ceil(np.sqrt(shape[0] * shape[1] / UPSAMPLE_PIXELS))))
        fine = self.guide.levels(step)
        followed = follow_edges(self.scale(), self.guide.grid, fine, factor / step)
        if step == block:
            return followed.astype(np.float64)
        return _resampled(followed, shape, step / block)

    def _resampled(self, grid: np.ndarray, shape: tuple[int, int], block: int = 1) -> np.ndarray:
        """``grid`` (this reach's cells) resampled to cells of ``block`` pixels, ``shape`` of
        them: each read at its centre, where it lies in the photo."""
        return _resampled(grid, shape, grid_factor(self.shape) / block)

    def confidence(self) -> np.ndarray:
        """How firmly each pixel's colour is fixed by its cues, ``H×W`` float32 in [0, 1]: the
        reach at full resolution (:meth:`at`), 1 on the cues."""
        out = self.at(self.shape).astype(np.float32)
        if self.mask is not None:
            out[self.mask] = 1.0
        return out

    def source(self, prior: np.ndarray | None = None, confidence: np.ndarray | None = None) -> np.ndarray:
        """What decided each pixel's colour, ``H×W`` uint8 codes of :data:`SOURCES`: the cue kind
        with the larger share where the reach is at least :data:`GUESSED_BELOW`, else
        ``prior`` where ``prior`` (``H×W``, its confidence) is at least that, else ``none``.

        Parameters
        ----------
        prior : ndarray, optional
            The prior's confidence (``H×W`` in [0, 1]); None: no prior gave colour.
        confidence : ndarray, optional
            This reach's :meth:`confidence`, where it was already made (not made again); None:
            the reach at the photo's pixels is made here.
        """
        reach = self.at(self.shape) if confidence is None else confidence
        strokes = self._resampled(self.strokes, self.shape) >= self._resampled(self.references, self.shape)
        codes = np.where(reach >= GUESSED_BELOW, np.where(strokes, 1, 2), 0).astype(np.uint8)
        if prior is not None:
            codes[(codes == 0) & (prior >= GUESSED_BELOW)] = 3
        if self.mask is not None:
            codes[self.mask] = 1
        if self.referenced is not None:
            codes[self.referenced] = 2
        return codes


def whole_things(reach: np.ndarray, things: np.ndarray) -> np.ndarray:
    """``reach`` (``h×w``) made whole over things: ``things`` (``h×w×2``) holds each cell's average
    reach over its thing and the average of the cue cells there (:meth:`Restraint.things`)."""
    mean, held = things[..., 0], np.clip(things[..., 1] / THING_HELD, 0.0, 1.0)
    filled = np.maximum(reach, held * mean)
    faded = np.minimum(filled, np.minimum(1.0, mean / THING_FULL) ** THING_POWER)
    return held * filled + (1.0 - held) * faded


#: The reach resampled to a finer grid follows the gray there: a fine cell takes the reach of the
#: grid cells around it.
UPSAMPLE_RANGE = 0.05
UPSAMPLE_CELLS = 1.5
#: The most cells the edges are followed on; a larger photo's map is resampled from such cells.
UPSAMPLE_PIXELS = 1 << 21


def follow_edges(grid: np.ndarray, grid_gray: np.ndarray, gray: np.ndarray, ratio: float) -> np.ndarray:
    """``grid`` (a reach, ``h×w``) resampled to the cells of ``gray`` (``H×W``), each grid cell
    spanning ``ratio`` of them, by joint bilateral upsampling (Kopf et al. 2007): the grid
    cells around a fine cell weighted by distance and by how alike their gray.

    Examples
    --------
    >>> gray = np.zeros((8, 40)); gray[:, 21:] = 1.0             # an edge at column 21
    >>> grid_gray = gray[::4, ::4] * 1.0; grid_gray[:, 5] = 0.25   # its grid: 4-pixel cells
    >>> grid = np.where(grid_gray < 0.5, 1.0, 0.0)               # the reach stops at the edge
    >>> out = follow_edges(grid, grid_gray, gray, 4)
    >>> out[0, 18:24].round(2).tolist()
    [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    """
    height, width = gray.shape
    rows, columns = grid.shape

    def taps(count: int, cells: int) -> list[tuple[np.ndarray, np.ndarray]]:
        at = (np.arange(count) + 0.5) / ratio - 0.5  # each fine cell's place on the grid
        nearest = np.floor(at + 0.5).astype(np.intp)
        spread = int(np.ceil(UPSAMPLE_CELLS + 0.5)) - 1  # (the cells further off weigh nothing)
        out = []
        for offset in range(-spread, spread + 1):
            cell = nearest + offset
            weight = np.maximum(0.0, 1.0 - np.abs(at - cell) / UPSAMPLE_CELLS)
            weight[(cell < 0) | (cell >= cells)] = 0.0
            out.append((np.clip(cell, 0, cells - 1), weight.astype(np.float32)))
        return out

    across = taps(width, columns)
    down = taps(height, rows)
    values = grid.astype(np.float32)
    level = grid_gray.astype(np.float32)
    scale = np.float32(-1.0 / (2 * UPSAMPLE_RANGE**2))
    spatial_rows, spatial_columns = (np.sum([w for _, w in side], axis=0) for side in (down, across))
    out = np.empty((height, width), np.float32)
    step = max(1, (1 << 20) // max(width, 1))
    for top in range(0, height, step):
        band = slice(top, min(top + step, height))
        fine = np.asarray(gray[band], np.float32)
        total = np.zeros(fine.shape, np.float32)
        acc = np.zeros(fine.shape, np.float32)
        for cell_y, weight_y in down:
            cy, wy = cell_y[band], weight_y[band]
            level_rows, value_rows = level[cy], values[cy]
            for cell_x, weight_x in across:
                w = fine - level_rows[:, cell_x]
                w *= w
                w *= scale
                np.exp(w, out=w)
                w *= wy[:, None] * weight_x[None, :]
                acc += w * value_rows[:, cell_x]
                total += w
        plain_total = spatial_rows[band, None] * spatial_columns[None, :]  # (the taps' plain weights' sum)
        lonely = total < 1e-4 * plain_total
        out[band] = acc / np.maximum(total, 1e-30)
        if lonely.any():  # (rare: no grid cell near its gray) the grid's plain bilinear average
            plain = np.zeros(fine.shape, np.float32)
            for cell_y, weight_y in down:
                cy, wy = cell_y[band], weight_y[band]
                for cell_x, weight_x in across:
                    plain += wy[:, None] * weight_x[None, :] * values[cy][:, cell_x]
            out[band][lonely] = (plain / np.maximum(plain_total, 1e-12))[lonely]
    return out


class PendingReach:
    """A reach being solved (a future of a :class:`Reach`): what a method reads of it waits for it.

    Parameters
    ----------
    future : concurrent.futures.Future
        Its solve.
    """

    def __init__(self, future) -> None:
        self._future = future

    def result(self) -> Reach:
        """The reach, once solved (its solve's error raised here)."""
        return self._future.result()

    def at(self, shape: tuple[int, int], block: int = 1) -> np.ndarray:
        """:meth:`Reach.at` of the reach, once solved.

        Parameters
        ----------
        shape : tuple of int
            As :meth:`Reach.at` takes it.
        block : int
            As :meth:`Reach.at` takes it.
        """
        return self.result().at(shape, block)


def _resampled(grid: np.ndarray, shape: tuple[int, int], ratio: float) -> np.ndarray:
    """``grid`` resampled (bilinear) to ``shape`` where a cell of ``grid`` spans ``ratio`` cells
    of ``shape`` (both grids starting at the photo's corner)."""
    import cv2  # (opencv: a dependency; its resize is the fastest bilinear at hand)

    if grid.shape == tuple(shape) and ratio == 1:
        return grid.astype(np.float64, copy=True)
    whole = int(round(ratio))
    if abs(ratio - whole) < 1e-9:  # (the photo's pixels: an exact scaling, then the cells it has)
        size = (grid.shape[1] * whole, grid.shape[0] * whole)
        out = cv2.resize(np.ascontiguousarray(grid, np.float32), size, interpolation=cv2.INTER_LINEAR)
        return out[: shape[0], : shape[1]].astype(np.float64)
    out = np.asarray(grid, np.float64)  # (an engine's coarse grid: small, by rows then columns)
    for axis, count in enumerate(shape):
        at = np.clip((np.arange(count) + 0.5) / ratio - 0.5, 0.0, out.shape[axis] - 1)
        low = np.floor(at).astype(np.intp)
        high = np.minimum(low + 1, out.shape[axis] - 1)
        weight = np.expand_dims(at - low, 1 - axis)
        out = np.take(out, low, axis=axis) * (1.0 - weight) + np.take(out, high, axis=axis) * weight
    return out


class Restraint:
    """The reach of cue sets on one gray image: its grid made once, each cue set solved on it.

    Parameters
    ----------
    gray : ndarray
        ``H×W`` gray image in [0, 1].

    Examples
    --------
    >>> gray = np.full((60, 90), 0.5); gray[:, 45:] = 0.9   # two things: a step in lightness
    >>> mask = np.zeros(gray.shape, bool); mask[28:32, 5:40] = True
    >>> reach = Restraint(gray).reach(mask)
    >>> confidence = reach.confidence()
    >>> bool(confidence[30, 30] > 0.9 > 0.2 > confidence[30, 80])
    True
    """

    def __init__(self, gray: np.ndarray):
        self.gray = gray  # (held, not copied: the reach follows its edges where resampled finer)
        self._levels: dict[int, np.ndarray] = {}
        self._things: ThreadLU | None = None  # (the things' factors, made once)
        self._things_lock = threading.Lock()
        self._guide: Restraint | None = None
        self._among_spectra: tuple | None = None  # (:meth:`_among_kernels`', made once)
        self.shape = (int(gray.shape[0]), int(gray.shape[1]))
        self.factor = grid_factor(self.shape)
        self.grid = np.ascontiguousarray(block_mean(np.asarray(gray, np.float64), self.factor), np.float64)
        # how much the gray changes at each cell (squared differences with its four neighbours)
        grid = self.grid
        edges = np.zeros(grid.shape)
        for axis in (0, 1):
            step = np.diff(grid, axis=axis) ** 2
            if axis == 0:
                edges[1:] += step
                edges[:-1] += step
            else:
                edges[:, 1:] += step
                edges[:, :-1] += step
        self.edges = edges
        spread = _texture_spread(gray, self.factor, grid)
        self.texture = np.log(np.sqrt(np.maximum(spread, 0.0)) + TEXTURE_FLOOR)

    def __getstate__(self) -> dict:
        # Pickled (a result sent from a worker): the factors and the lock stay behind, made again if need be.
        state = self.__dict__.copy()
        state["_things"] = state["_guide"] = None
        del state["_things_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._things_lock = threading.Lock()

    def guide(self) -> Restraint:
        """This restraint without its things' factors (its arrays shared): what a reach keeps to
        follow the gray's edges, so that a result kept for long does not hold them; the restraint
        itself keeps them for the next edit's reach while its colorizer lives."""
        if self._guide is None:
            self._guide = copy.copy(self)  # (by __getstate__: the factors and the lock stay behind)
        return self._guide

    def levels(self, block: int) -> np.ndarray:
        """The gray over blocks of ``block`` pixels (1: the photo's own), what :func:`follow_edges`
        reads, made once a block size."""
        if block not in self._levels:
            self._levels[block] = self.gray if block == 1 else block_mean(np.asarray(self.gray, np.float64), block)
        return self._levels[block]

    def reach(
        self,
        mask: np.ndarray,
        weight: np.ndarray | None = None,
        ab: np.ndarray | None = None,
        points: np.ndarray | None = None,
    ) -> Reach:
        """The reach of the cues at ``mask`` (``H×W`` bool); ``weight`` (``H×W``, optional): the cues'
        weights, a cue of full weight (a user's mark) a stroke, one of less (a matched reference's
        confidence) a reference cue.

        Parameters
        ----------
        mask : ndarray of bool
            The cue pixels.
        weight : ndarray, optional
            The cues' weights (:attr:`varcolor.Cues.weight`).
        ab : ndarray, optional
            The cues' colours (``H×W×2``, :attr:`varcolor.Cues.ab`): cues of one colour
            (:func:`colour_groups`) are one thing.
        points : ndarray of bool, optional
            The cues that are point hints (:attr:`varcolor.Cues.points`): their colour fills, as
            Levin's does, what no stroke's colour reaches (:attr:`Reach.points`).
        """

        grid = self.grid
        if not mask.any():
            empty = np.zeros(grid.shape)
            return Reach(empty, empty.copy(), np.ones(grid.shape), self.shape, mask, guide=self.guide())
        # Counted on the grid's cells (bincounts): a scan's millions of cue pixels are read once.
        flat = np.flatnonzero(mask)
        rows, columns = np.divmod(flat, self.shape[1])
        cells = (rows // self.factor) * grid.shape[1] + columns // self.factor
        del rows, columns
        groups = (
            np.zeros(flat.size, np.intp)
            if ab is None
            else colour_groups(gather(np.asarray(ab), mask, flat), grid.ravel()[cells])
        )
        count = int(groups.max()) + 1
        per_group = np.bincount(cells * count + groups, minlength=grid.size * count).reshape(grid.shape + (count,))
        cues = per_group.sum(axis=-1)
        held, total = cues > 0, np.maximum(cues, 1)
        share = per_group / total[..., None]

        def fraction(which: np.ndarray | None) -> np.ndarray:
            if which is None:
                return np.zeros(grid.shape)
            return np.bincount(cells, weights=which, minlength=grid.size).reshape(grid.shape) / total

        partial = None if weight is None else gather(np.asarray(weight), mask, flat) < 1.0
        reference = fraction(partial)
        referenced = None
        if partial is not None and partial.any():
            referenced = np.zeros(self.shape, bool)
            referenced.ravel()[flat[partial]] = True
        dot = fraction(None if points is None else gather(np.asarray(points), mask, flat))
        # The walk's chance of dying at each step, of its steps' weight (about 8 at a flat cell).
        dying = np.where(held, 0.0, 8.0 / (DECAY**2 * grid.size) + EDGE * self.edges)
        strokes, references, shares, likeness = self._walks(held, share, reference, dying, per_group)
        strokes, references = np.clip(strokes, 0.0, 1.0), np.clip(references, 0.0, 1.0)
        likeness /= np.maximum(shares, 1e-9)
        likeness[held] = 1.0
        dots = held & (dot > 0.5)  # cells whose cues are mostly points
        points_share = self._points(held, dots) if dots.any() else None
        reach = Reach(strokes, references, likeness, self.shape, mask, points_share, referenced, self.guide())
        if ab is not None:  # the strokes alone: a reference's cues and points are read apart
            strokes_held = held & (reference < 0.5) & ~dots
            reach.among = self._among(strokes_held, _cell_means(np.asarray(ab), mask, flat, cells, grid.shape, cues))
        if THING_SPAN > 0:
            reach.things = self.things(np.stack([reach.scale(), held.astype(np.float64)], axis=-1))
        return reach

    def _among(self, held: np.ndarray, ab: np.ndarray) -> np.ndarray | None:
        """How far each cell lies among many strokes (:data:`AMONG_COLOURS`) on ``held`` cells of
        mean colour ``ab`` (``h×w×2``): 0 to 1; None where the photo has too few colours of strokes."""
        from scipy import fft, ndimage

        parts, count = ndimage.label(held, structure=np.ones((3, 3), bool))
        if count < AMONG_COLOURS:
            return None  # (a restorer's few strokes: nothing more to read)
        index = np.arange(1, count + 1)
        means = np.stack([ndimage.mean(ab[..., k], parts, index) for k in range(2)], axis=-1)
        colour = _colours_apart(means, COLOUR_APART)
        if colour.max() + 1 < AMONG_COLOURS:
            return None
        sectors, shape = self._among_kernels()
        height, width = held.shape
        around = fft.irfft2(fft.rfft2(held.astype(np.float32), shape) * sectors, shape)[:, :height, :width]
        low, high = AMONG_SECTORS
        out = np.clip(((around > 0.5).sum(axis=0) - low) / (high - low), 0.0, 1.0)
        radius = AMONG_SPAN * np.sqrt(self.grid.size)
        seen = np.zeros(held.shape, np.intp)
        colour_of = np.concatenate([[-1], colour])[parts]
        for k in range(int(colour.max()) + 1):
            seen += ndimage.distance_transform_edt(colour_of != k) <= radius
        out[seen < AMONG_COLOURS] = 0.0
        return out if out.any() else None

    def _among_kernels(self) -> tuple[np.ndarray, tuple[int, int]]:
        """:meth:`_among`'s kernels on this grid, made once: the spectra of the 8 directions' sectors
        within :data:`AMONG_SPAN` (each correlated at a cell) and their padded shape."""
        key = (AMONG_SPAN, self.grid.shape)
        if self._among_spectra is None or self._among_spectra[0] != key:
            from scipy import fft

            radius = AMONG_SPAN * np.sqrt(self.grid.size)
            reach = int(np.ceil(radius))
            dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
            inside = (dy**2 + dx**2 <= radius**2) & ((dy != 0) | (dx != 0))
            sector = np.floor((np.arctan2(dy, dx) + np.pi) / (np.pi / 4)).astype(int) % 8
            kernels = np.stack([inside & (sector == k) for k in range(8)]).astype(np.float32)
            shape = (
                fft.next_fast_len(self.grid.shape[0] + 2 * reach),
                fft.next_fast_len(self.grid.shape[1] + 2 * reach),
            )
            # (flipped, and rolled so that a cell's own sum lands on it: a correlation)
            flipped = np.zeros((8,) + shape, np.float32)
            flipped[:, : 2 * reach + 1, : 2 * reach + 1] = kernels[:, ::-1, ::-1]
            spectra = fft.rfft2(np.roll(flipped, (-reach, -reach), axis=(1, 2)), shape)
            self._among_spectra = (key, (spectra, shape))
        return self._among_spectra[1]

    def _walks(self, held: np.ndarray, share: np.ndarray, reference: np.ndarray, dying: np.ndarray, cues: np.ndarray):
        """The colours' walks from their cues (``share``: each colour's part of a cell's cues,
        ``cues``: its cue count a cell), dying also where a cell is unlike every colour's cues
        (:data:`UNLIKE`): the shares from strokes and from references, the colours' share, and
        that share times how alike each cell's gray is to the cues' that reach it."""
        from .energies.levin import symmetric_system

        features = ((self.grid, LIKENESS), (self.texture, TEXTURE))
        count = share.shape[-1]
        unlike = np.ones(self.grid.shape)
        for group in range(count):  # each colour's cues: their gray and texture over the photo
            weights = cues[..., group] / max(float(cues[..., group].sum()), 1.0)
            unlike = np.minimum(unlike, 1.0 - _alike(features, [_spread(weights, f) for f, _ in features]))
        held_share = np.where(held[..., None], share, 0.0)
        gray = self.grid[..., None]
        values = np.concatenate(
            [np.stack([1.0 - reference, reference], axis=-1), held_share, held_share * gray, held_share * gray * gray],
            axis=-1,
        )
        dies = np.where(held, 0.0, dying + UNLIKE * unlike)
        operator, rhs = symmetric_system(self.grid, held, values, np.zeros(values.shape), dies)
        x = self._solve(operator, rhs, held)
        reached = np.maximum(x[..., 2 : 2 + count], 0.0)
        at = np.maximum(reached, 1e-9)
        mean, square = x[..., 2 + count : 2 + 2 * count] / at, x[..., 2 + 2 * count :] / at
        alike = _alike(((gray, LIKENESS),), [_spread(None, mean, square)])
        return x[..., 0], x[..., 1], reached.sum(-1), (reached * alike).sum(-1)

    def things(self, values: np.ndarray) -> np.ndarray:
        """``values`` (``h×w×k``) averaged over the grid's things: ``(L + λ) u = λ v``, ``L`` the
        Laplacian of the grid's 4-neighbour edges weighed by their gray and texture (:data:`THING_GRAY`,
        :data:`THING_TEXTURE`), ``λ`` from :data:`THING_SPAN`; factored once a photo.

        Parameters
        ----------
        values : ndarray
            ``h×w×k``, on this restraint's grid: what to average (a reach, the cue cells).

        Returns
        -------
        ndarray
            ``h×w×k``: each cell's average over the cells its thing joins it to, nearer ones more.
        """
        screen = 1.0 / (THING_SPAN * np.sqrt(self.grid.size)) ** 2
        with self._things_lock:  # (a studio's reaches may be solved from two threads)
            if self._things is None:  # the grid's own: made once, each reach a solve
                self._things = self._factors(self._things_operator(screen))
            flat = np.ascontiguousarray(values.reshape(self.grid.size, -1) * screen)
            return self._things.solve(flat).reshape(values.shape)

    def _things_operator(self, screen: float):
        """:meth:`things`' ``L + λ``: the grid's graph Laplacian on its 4-neighbour edges (no diagonal ones)."""
        from .common.kernels import SYMMETRIC_KIND, array_code
        from .common.neighbours import edge_slices
        from .solvers.stencil import graph_laplacian

        grid, texture = self.grid, self.texture
        weights = np.zeros(grid.shape + (4,))
        for edge, here, there in edge_slices(*grid.shape):
            if edge < 2:  # right and down
                gray = (grid[here] - grid[there]) ** 2 / (2 * THING_GRAY**2)
                grain = (texture[here] - texture[there]) ** 2 / (2 * THING_TEXTURE**2)
                weights[here + (edge,)] = np.exp(-gray - grain)
        none = np.zeros(grid.shape + (1,))
        array = array_code(grid.size, SYMMETRIC_KIND)  # (the walks' own choice: the same kernel)
        fixed = np.zeros(grid.shape, bool)
        return graph_laplacian(weights, fixed, none, np.full(grid.shape, screen), none, array)[0]

    def _points(self, held: np.ndarray, dots: np.ndarray) -> np.ndarray:
        """Each cell's share of colour from the point cues at ``dots``, unrestrained: the walk
        dies only with distance (:data:`DECAY`), not at the gray's edges, and every cue absorbs it."""
        from .energies.levin import symmetric_system

        grid = self.grid
        dying = np.where(held, 0.0, 8.0 / (DECAY**2 * grid.size))
        values = dots[..., None].astype(np.float64)
        operator, rhs = symmetric_system(grid, held, values, np.zeros(values.shape), dying)
        return np.clip(self._solve(operator, rhs, held)[..., 0], 0.0, 1.0)

    def _solve(self, operator, rhs: np.ndarray, held: np.ndarray) -> np.ndarray:
        """The grid's SPD system for every right-hand side."""
        return self._factors(operator).solve(rhs.reshape(-1, rhs.shape[-1])).reshape(rhs.shape)

    @staticmethod
    def _factors(operator):
        """A grid operator's sparse LU (SuperLU, minimum degree on the symmetric pattern): the grid is small."""
        from .solvers.superlu import factor

        return factor(
            operator.to_csr().tocsc(),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )


def _cell_means(ab: np.ndarray, mask: np.ndarray, flat: np.ndarray, cells: np.ndarray, shape, cues) -> np.ndarray:
    """The mean colour of each grid cell's cues (``h×w×2``; 0 where none): ``flat``, ``cells`` the
    cue pixels' flat indices and cells, ``cues`` each cell's count."""
    colours = gather(ab, mask, flat)
    size = shape[0] * shape[1]
    sums = [np.bincount(cells, weights=colours[:, k], minlength=size) for k in range(2)]
    return np.stack(sums, axis=-1).reshape(tuple(shape) + (2,)) / np.maximum(cues, 1)[..., None]


def _colours_apart(means: np.ndarray, apart: float) -> np.ndarray:
    """Each of ``means`` (``n×2`` ab) as one of the colours found in order: the first whose ab lies
    within ``apart`` of it, or a new one."""
    centres: list[np.ndarray] = []
    out = np.empty(len(means), np.intp)
    for index, mean in enumerate(means):
        distance = np.hypot(*(np.asarray(centres) - mean).T) if centres else np.empty(0)
        near = np.flatnonzero(distance < apart)
        if near.size:
            out[index] = near[0]
        else:
            out[index] = len(centres)
            centres.append(mean)
    return out


#: Texture is read at this many pixels a cell side (the photo resampled so): the same thing has
#: the same texture in a small copy and in the scan.
TEXTURE_PIXELS = 4


def _texture_spread(gray: np.ndarray, factor: int, grid: np.ndarray) -> np.ndarray:
    """The gray's variance within each cell of ``grid`` (the gray's block means), read on the photo
    resampled to :data:`TEXTURE_PIXELS` pixels a cell side (the photo itself when its cells are smaller)."""
    import cv2  # (opencv: a dependency; its area resize is the fastest at hand)

    if factor <= TEXTURE_PIXELS:
        return _squares_mean(gray, factor) - grid * grid
    size = (grid.shape[1] * TEXTURE_PIXELS, grid.shape[0] * TEXTURE_PIXELS)
    small = cv2.resize(np.ascontiguousarray(gray), size, interpolation=cv2.INTER_AREA)  # (no copy of a scan first)
    return _squares_mean(small, TEXTURE_PIXELS) - block_mean(small, TEXTURE_PIXELS) ** 2


def _squares_mean(gray: np.ndarray, factor: int) -> np.ndarray:
    """The mean of the gray's squares over blocks of ``factor`` pixels, a band of rows at a time (no
    squared copy of a scan)."""
    step = factor * max(1, (1 << 22) // max(1, factor * factor * gray.shape[1]))
    bands = [
        block_mean(np.square(gray[top : top + step], dtype=np.float64), factor) for top in range(0, gray.shape[0], step)
    ]
    return np.concatenate(bands)


def _spread(weights: np.ndarray | None, mean, square=None) -> tuple:
    """``(mean, spread)``: of ``mean`` weighted by ``weights``, or given its ``mean`` and the mean of its ``square``."""
    if weights is not None:
        mean, square = float((weights * mean).sum()), float((weights * mean * mean).sum())
    return mean, np.sqrt(np.maximum(square - mean * mean, 0.0))


def _alike(features, stats) -> np.ndarray:
    """How alike each cell is to cues of the features' ``stats`` (mean, spread): their likenesses' product."""
    out = np.ones(features[0][0].shape)
    for (feature, tolerance), (mean, spread) in zip(features, stats):
        if tolerance > 0:
            out = out * np.exp(-((np.abs(feature - mean) / (spread + tolerance)) ** 2))
    return out


def colour_groups(ab: np.ndarray, gray: np.ndarray | None = None) -> np.ndarray:
    """Which colour each cue is (``n`` ints from 0): the cues' ab binned :data:`GROUP_BIN` wide,
    the fullest bins first taken as colours unless within :data:`GROUP_BIN` of one taken (at
    most :data:`GROUPS`), every cue the nearest of them; with ``gray``.

    Parameters
    ----------
    ab : ndarray
        ``n×2``: the cues' colours (Lab a, b).
    gray : ndarray, optional
        ``n``: the gray under each cue (in [0, 1]).

    Examples
    --------
    >>> colour_groups(np.array([[40.0, 10.0], [41.0, 12.0], [40.0, 11.0], [-30.0, 5.0], [0.0, 0.0]])).tolist()
    [0, 0, 0, 1, 2]
    >>> shades = np.array([[20.0, 40.0], [20.0, 41.0], [10.0, 22.0], [10.0, 21.0]])
    >>> colour_groups(shades).tolist(), colour_groups(shades, np.array([0.5, 0.6, 0.55, 0.65])).tolist()
    ([1, 1, 0, 0], [0, 0, 0, 0])
    >>> colour_groups(shades, np.array([0.2, 0.21, 0.8, 0.81])).tolist()  # a dark and a pale thing
    [1, 1, 0, 0]
    """
    ab = np.asarray(ab)
    if len(ab) == 0:
        return np.zeros(0, np.intp)
    sample = np.asarray(ab[:: max(1, len(ab) // GROUP_SAMPLE)], np.float64)  # the colours, from a share
    bins = np.floor(sample / GROUP_BIN).astype(np.int64) + 1024  # (ab within ±AB_LIMIT: bins ≥ 0)
    # one key a bin, in the rows' order (a 1-D unique: the 2-D one sorts rows, far slower)
    _, which, counts = np.unique(bins[:, 0] * 4096 + bins[:, 1], return_inverse=True, return_counts=True)
    which = which.ravel()
    centres: list[np.ndarray] = []
    for k in np.argsort(-counts, kind="stable"):
        centre = sample[which == k].mean(axis=0)
        if all(np.hypot(*(centre - c)) > GROUP_BIN for c in centres):
            centres.append(centre)
            if len(centres) == GROUPS:
                break
    groups = np.zeros(len(ab), np.intp)
    nearest = None
    for index, (a, b) in enumerate(np.asarray(centres, np.float32)):  # (float32: a scan's cues, few passes)
        distance = (ab[:, 0] - a) ** 2 + (ab[:, 1] - b) ** 2
        if nearest is not None:
            closer = distance < nearest
            groups[closer], distance = index, np.minimum(distance, nearest)
        nearest = distance
    if gray is None or len(centres) < 2:
        return groups
    return _shades_joined(groups, np.asarray(centres), np.asarray(gray, np.float64))


def _shades_joined(groups: np.ndarray, centres: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """``groups`` with colours of one hue whose cues' gray ranges meet made one (:func:`colour_groups`)."""
    count = len(centres)
    size = np.maximum(np.bincount(groups, minlength=count), 1)
    mean = np.bincount(groups, weights=gray, minlength=count) / size
    spread = np.sqrt(np.maximum(np.bincount(groups, weights=gray * gray, minlength=count) / size - mean**2, 0.0))
    hue = np.degrees(np.arctan2(centres[:, 1], centres[:, 0]))
    coloured = np.hypot(centres[:, 0], centres[:, 1]) >= GROUP_BIN / 2
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(count):
        for j in range(i + 1, count):
            turn = abs((hue[i] - hue[j] + 180.0) % 360.0 - 180.0)
            meet = abs(mean[i] - mean[j]) <= GROUP_OVERLAP * (spread[i] + spread[j])
            if coloured[i] and coloured[j] and turn <= GROUP_HUE and meet:
                parent[root(j)] = root(i)
    _, joined = np.unique([root(i) for i in range(count)], return_inverse=True)
    return joined.ravel()[groups]
