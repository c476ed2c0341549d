"""A method's linear system on images too large for one LU (Levin's exact system on big scans):
exact solves on overlapping tiles whose borders are held at a coarse solution.

The image is solved first on a coarser grid and lifted; then each tile, grown by a margin, is
solved exactly by the multifrontal LU with its outer pixels held at the current estimate (one pass
of multiplicative Schwarz). The answer is within a stated tolerance of the exact solve's
(docs/big-scans.md; the designs tried: benchmarks/results/bigscan_tiles_design.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

import numba
import numpy as np

from .base import LinearSystem, SolveInfo
from .direct import DirectSolver
from .stencil import GridOperator
from .window import BORDER, held_border

__all__ = ["TiledSolver", "coarsen", "coarsen_prior", "lift"]

#: Largest image (pixels) solved by one LU at the bottom of the recursion
#: (benchmarks/results/bigscan_tiles_design.md, "Where the time goes, and what was changed").
DIRECT_PIXELS = 2_400_000
#: Each coarse level is this many times smaller in each direction
#: (benchmarks/results/bigscan_tiles_design.md, "Where the time goes, and what was changed").
FACTOR = 3
#: Tile core side and the margin solved around it (pixels): 64 px of margin keep the cores close
#: to the exact solve on average (mean |Δab| in benchmarks/results/bigscan.md).
CORE, MARGIN = 1024, 64
# Relative residual of each tile's solve: the single-precision factors reach it in one correction.
_TILE_TOL = 1e-5
# Rows per band when the final residual is computed (bounds the memory of the band's operator).
_BAND = 256


def coarsen(
    guide: np.ndarray, mask: np.ndarray, rhs: np.ndarray, prior_weight: np.ndarray | None = None, factor: int = 2
):
    """The system's inputs on blocks of ``factor × factor`` pixels (the last ones padded by repeating the
    edge): mean guide; a block is a cue where any of its pixels is, with their mean value."""
    height, width = guide.shape
    rows, columns = -(-height // factor), -(-width // factor)
    has_weight = prior_weight is not None
    coarse_guide = np.empty((rows, columns))
    coarse_mask = np.empty((rows, columns), np.bool_)
    coarse_rhs = np.empty((rows, columns, rhs.shape[-1]))
    weight = np.empty((rows, columns)) if has_weight else np.empty((0, 0))
    _block_means(
        np.ascontiguousarray(guide, dtype=np.float64),
        np.ascontiguousarray(mask, dtype=np.bool_),
        np.ascontiguousarray(rhs, dtype=np.float64),
        np.ascontiguousarray(prior_weight, dtype=np.float64) if has_weight else np.empty((0, 0)),
        factor,
        coarse_guide,
        coarse_mask,
        coarse_rhs,
        weight,
    )
    return coarse_guide, coarse_mask, coarse_rhs, weight if has_weight else None


def coarsen_prior(guide: np.ndarray, prior: np.ndarray, weight: np.ndarray, factor: int = 2) -> np.ndarray:
    """The prior on blocks of ``factor × factor`` pixels, each its pixels' mean weighted by the prior's
    ``weight`` (their plain mean where the weight is 0): with :func:`coarsen`'s mean weight.

    Examples
    --------
    >>> import numpy as np
    >>> prior = np.array([[[1.0], [3.0]]]); weight = np.array([[1.0, 3.0]])
    >>> coarsen_prior(np.zeros((1, 2)), prior, weight)[..., 0].tolist()
    [[2.5]]
    """
    none = np.zeros(guide.shape, np.bool_)
    if weight is None:
        return coarsen(guide, none, prior, None, factor)[2]
    _, _, term, mean_weight = coarsen(guide, none, weight[..., None] * prior, weight, factor)
    _, _, plain, _ = coarsen(guide, none, prior, None, factor)
    positive = mean_weight[..., None] > 0
    return np.where(positive, term / np.where(positive, mean_weight[..., None], 1.0), plain)


@numba.njit(cache=True, parallel=True)
def _block_means(guide, mask, rhs, prior_weight, factor, coarse_guide, coarse_mask, coarse_rhs, weight):
    """:func:`coarsen`'s block means, the last blocks padded by repeating the edge (an index past
    the end reads the last row or column)."""
    height, width = guide.shape
    channels = rhs.shape[2]
    has_weight = weight.shape[0] > 0
    area = factor * factor
    for ci in numba.prange(coarse_guide.shape[0]):
        cue = np.empty(channels)
        rest = np.empty(channels)
        for cj in range(coarse_guide.shape[1]):
            g = w = 0.0
            count = 0
            cue[:] = 0.0
            rest[:] = 0.0
            for di in range(factor):
                i = min(ci * factor + di, height - 1)
                for dj in range(factor):
                    j = min(cj * factor + dj, width - 1)
                    g += guide[i, j]
                    if has_weight:
                        w += prior_weight[i, j]
                    for c in range(channels):
                        rest[c] += rhs[i, j, c]
                    if mask[i, j]:
                        count += 1
                        for c in range(channels):
                            cue[c] += rhs[i, j, c]
            coarse_guide[ci, cj] = g / area
            coarse_mask[ci, cj] = count > 0
            for c in range(channels):
                coarse_rhs[ci, cj, c] = cue[c] / count if count > 0 else rest[c] / area
            if has_weight:
                weight[ci, cj] = w / area


def lift(coarse: np.ndarray, shape: tuple[int, int], factor: int = 2, out: np.ndarray | None = None) -> np.ndarray:
    """Bilinear interpolation of ``coarse`` (``h×w×C``, values at the centres of ``factor × factor`` blocks)
    to ``shape``, into ``out`` (new if None); rows in parallel, with no more memory than the result."""
    height, width = shape
    out = np.empty(shape + coarse.shape[2:]) if out is None else out

    def positions(n, limit):
        t = np.clip((np.arange(n) + 0.5) / factor - 0.5, 0, limit - 1)
        low = np.minimum(t.astype(np.int64), max(limit - 2, 0))
        return low, np.minimum(low + 1, limit - 1), t - low

    r0, r1, fr = positions(height, coarse.shape[0])
    c0, c1, fc = positions(width, coarse.shape[1])
    flat = np.ascontiguousarray(coarse, dtype=np.float64).reshape(coarse.shape[:2] + (-1,))
    _bilinear(flat, r0, r1, fr, c0, c1, fc, out.reshape(shape + (-1,)))
    return out


@numba.njit(cache=True, parallel=True)
def _bilinear(coarse, r0, r1, fr, c0, c1, fc, out):
    for i in numba.prange(out.shape[0]):
        a, b, s = r0[i], r1[i], fr[i]
        for j in range(out.shape[1]):
            p, q, t = c0[j], c1[j], fc[j]
            for c in range(out.shape[2]):
                top = coarse[a, p, c] * (1 - t) + coarse[a, q, c] * t
                bottom = coarse[b, p, c] * (1 - t) + coarse[b, q, c] * t
                out[i, j, c] = top * (1 - s) + bottom * s


class TiledSolver:
    """A method's linear system (:class:`~varcolor.solvers.base.LinearSystem`) solved on
    overlapping tiles held at a coarse solution; see the module's description.

    Unlike the other solvers it is built from the problem, not from an assembled operator (nine
    doubles a pixel): it assembles the system itself, a tile at a time.

    Parameters
    ----------
    system : LinearSystem
        The method's system: what assembles it on any gray image, and the problem (guide, cue
        mask, cue values, prior and its weight).
    core, margin : int
        Tile side kept, and pixels solved around it on each side.
    direct_pixels : int
        Images up to this size are solved by one LU (the bottom of the recursion).
    factor : int
        Each coarse level is this many times smaller in each direction. A larger factor leaves out
        levels of tiles but holds the borders less well (2, 3 and 4 compared in
        benchmarks/results/bigscan_tiles_design.md, "Where the time goes, and what was changed").
    progress : callable, optional
        Called before the first tile and after each (over every level) with
        ``{"tiles": done, "tile_count": total}``.

    Examples
    --------
    A flat image with two cue columns: the exact answer is linear between them; the tiles (here
    16-pixel cores on a 9× coarser solve) are within 0.7 of it, the coarse solve's error on
    their borders.

    >>> import numpy as np
    >>> from varcolor.energies.levin import exact_operator, exact_rhs
    >>> from varcolor.solvers.base import LinearSystem
    >>> def levin(guide, fixed, values, prior, weight):
    ...     return exact_operator(guide, fixed), exact_rhs(fixed, values)
    >>> mask = np.zeros((40, 60), bool); mask[:, 0] = mask[:, -1] = True
    >>> rhs = np.zeros((40, 60, 1)); rhs[:, -1] = 59.0
    >>> system = LinearSystem(levin, np.full((40, 60), 0.5), mask, rhs)
    >>> x, info = TiledSolver(system, core=16, margin=8, direct_pixels=200).solve(rhs)
    >>> bool(np.abs(x[..., 0] - np.arange(60)).max() < 0.7), info.solver
    (True, 'tiles')
    """

    name: ClassVar[str] = "tiles"
    supports_rebind: ClassVar[bool] = False

    def __init__(
        self,
        system: LinearSystem,
        *,
        core: int = CORE,
        margin: int = MARGIN,
        direct_pixels: int = DIRECT_PIXELS,
        factor: int = FACTOR,
        progress: Callable[[dict], None] | None = None,
    ):
        self.system = system
        self.build = system.build
        self.guide = np.ascontiguousarray(system.guide, dtype=np.float64)
        self.mask = np.ascontiguousarray(system.mask, dtype=np.bool_)
        self.prior, self.prior_weight = system.prior, system.weight
        self.core, self.margin, self.direct_pixels, self.factor = (
            int(core),
            int(margin),
            int(direct_pixels),
            int(factor),
        )
        self.progress = progress
        self.tiles = self._total = 0

    @staticmethod
    def largest_lu(
        pixels: int, core: int = CORE, margin: int = MARGIN, direct_pixels: int = DIRECT_PIXELS, factor: int = FACTOR
    ) -> int:
        """Unknowns of the largest LU held at once for an image of ``pixels``: the bottom of the
        recursion's, or a tile's.

        Parameters
        ----------
        pixels : int
            The image's size in pixels.
        core, margin, direct_pixels, factor : int, optional
            As the solver takes them.
        """
        if pixels <= direct_pixels:
            return pixels
        while pixels > direct_pixels:
            pixels = -(-pixels // factor**2)
        return max(pixels, (core + 2 * margin) ** 2)

    def solve(self, rhs: np.ndarray, x0: np.ndarray | None = None) -> tuple[np.ndarray, SolveInfo]:
        """Solve the system for ``rhs`` (``H×W×C``; ``x0`` is not needed and ignored). Only its
        values at the held pixels (the cues) are read: the rest of the right-hand side is the
        system's own, assembled tile by tile with the operator (so the system's ``targets`` do as
        well as its whole right-hand side). The info's residual is the answer's true relative
        residual on the full-resolution system.

        Parameters
        ----------
        rhs : ndarray, ``H×W×C``
            The right-hand side; only its values at the cue pixels are read.
        x0 : ndarray, optional
            Ignored.

        Returns
        -------
        x : ndarray, ``H×W×C``
            The answer.
        info : SolveInfo
            The solve's report: the tiles solved as its iterations, the true relative residual.
        """
        start = time.perf_counter()
        values = np.asarray(rhs, dtype=np.float64)
        # The system's right-hand side, written core by core as the tiles assemble it.
        rhs = np.empty_like(values)
        self.tiles, self._total = 0, self.tile_count(self.guide.shape)
        if self.progress is not None and self._total:
            self.progress({"tiles": 0, "tile_count": self._total})
        # The residual's squares are summed as the tiles go, on each core's pixels whose neighbours
        # are final; the seams left (each core's last row and column) are added at the end.
        self._squares = np.zeros(rhs.shape[-1]) if self.margin >= BORDER else None
        x = self._solve(self.guide, self.mask, values, self.prior, self.prior_weight, rhs=rhs)
        residual = self.residual(x, rhs) if self._squares is None or self.tiles == 0 else self._seams(x, rhs)
        return x, SolveInfo(self.name, self.tiles, residual, time.perf_counter() - start)

    def tile_count(self, shape: tuple[int, int]) -> int:
        """Tiles solved, over every level, for an image of ``shape``.

        Parameters
        ----------
        shape : tuple of int
            The image's ``(H, W)``.
        """
        height, width = shape
        if height * width <= self.direct_pixels or min(height, width) < 4:
            return 0
        here = -(-height // self.core) * -(-width // self.core)
        return here + self.tile_count((-(-height // self.factor), -(-width // self.factor)))

    def _solve(self, guide, mask, values, prior, weight, rhs=None) -> np.ndarray:
        """The solution on ``guide`` with ``mask`` held at ``values``; at the top level, the
        system's right-hand side is written into ``rhs`` as it is assembled."""
        height, width = guide.shape
        if height * width <= self.direct_pixels or min(height, width) < 4:
            operator, own = self.build(guide, mask, values, prior, weight)
            if rhs is not None:
                rhs[...] = own
            return DirectSolver(operator).solve(own)[0]
        coarse_guide, coarse_mask, coarse_values, coarse_weight = coarsen(guide, mask, values, weight, self.factor)
        coarse_prior = None if prior is None else coarsen_prior(guide, prior, weight, self.factor)
        coarse = self._solve(coarse_guide, coarse_mask, coarse_values, coarse_prior, coarse_weight)
        del coarse_guide, coarse_mask, coarse_values, coarse_prior, coarse_weight
        x = lift(coarse, guide.shape, self.factor)
        del coarse
        x[mask] = values[mask]
        self._tiles(guide, mask, values, prior, weight, x, rhs, None if rhs is None else self._squares)
        return x

    def _tiles(self, guide, mask, values, prior, weight, x, rhs=None, squares=None) -> None:
        """One pass over the tiles, in raster order, each core written into ``x`` in place; with ``rhs``,
        the core's right-hand side into it (the tile's rows at its core are the whole system's)."""
        height, width = guide.shape
        core, margin = self.core, self.margin
        starts = [(i, j) for i in range(0, height, core) for j in range(0, width, core)]
        for i0, j0 in starts:
            i1, j1 = min(i0 + core, height), min(j0 + core, width)
            top, left = max(i0 - margin, 0), max(j0 - margin, 0)
            bottom, right = min(i1 + margin, height), min(j1 + margin, width)
            window = (slice(top, bottom), slice(left, right))
            held = held_border(window, (height, width))
            fixed = mask[window] | held
            # Cue pixels keep their value; held ones take the current estimate.
            tile_values = np.where(held[..., None] & ~mask[window][..., None], x[window], values[window])
            operator, tile_rhs = self.build(
                guide[window],
                fixed,
                tile_values,
                None if prior is None else prior[window],
                None if weight is None else weight[window],
            )
            solution, _ = DirectSolver(operator, tol=_TILE_TOL).solve(tile_rhs)
            x[i0:i1, j0:j1] = solution[i0 - top : i1 - top, j0 - left : j1 - left]
            if rhs is not None:
                rhs[i0:i1, j0:j1] = tile_rhs[i0 - top : i1 - top, j0 - left : j1 - left]
            if squares is not None:
                # The tile's rows at its core are the full system's (the core is never held, and
                # a row reads the guide at most two pixels around it): no operator to build again.
                last_row, last_column = i1 - (i1 < height), j1 - (j1 < width)
                rows = slice(max(i0 - 1, top) - top, min(last_row + 1, bottom) - top)
                columns = slice(max(j0 - 1, left) - left, min(last_column + 1, right) - left)
                near = (slice(rows.start + top, rows.stop + top), slice(columns.start + left, columns.stop + left))
                product = GridOperator(operator.stencil[rows, columns]).apply(x[near])
                kept = (
                    slice(i0 - near[0].start, last_row - near[0].start),
                    slice(j0 - near[1].start, last_column - near[1].start),
                )
                r = rhs[near][kept] - product[kept]
                squares += np.einsum("ijc,ijc->c", r, r)
            self.tiles += 1
            if self.progress is not None:
                self.progress({"tiles": self.tiles, "tile_count": self._total})

    def _operator(self, band, rhs: np.ndarray) -> GridOperator:
        """The system's operator on the pixels ``band`` (a pair of slices), cut from the image."""
        return self.system.window(band, self.mask[band], rhs[band])[0]

    def _seams(self, x: np.ndarray, rhs: np.ndarray) -> float:
        """The relative residual from the squares summed over the tiles and those of the rows and columns
        they left out (each core's last, inside the image), each on a band with two pixels of halo."""
        height, width = self.guide.shape
        assert self._squares is not None  # summed by the tiles (solve calls this only then)
        squares = self._squares.copy()
        seam_rows = list(range(self.core - 1, height - 1, self.core))
        seam_columns = list(range(self.core - 1, width - 1, self.core))
        others = np.ones(height, bool)
        others[seam_rows] = False  # a crossing is counted with its row
        for line, along in [(i, 0) for i in seam_rows] + [(j, 1) for j in seam_columns]:
            lo, hi = max(line - BORDER, 0), min(line + BORDER + 1, (height, width)[along])
            band = (slice(lo, hi), slice(None)) if along == 0 else (slice(None), slice(lo, hi))
            product = self._operator(band, rhs).apply(x[band])
            r = (rhs[band] - product)[
                (slice(line - lo, line - lo + 1), slice(None))
                if along == 0
                else (others, slice(line - lo, line - lo + 1))
            ]
            squares += np.einsum("ijc,ijc->c", r, r)
        scale = np.sqrt(np.einsum("ijc,ijc->c", rhs, rhs))
        return float(np.max(np.sqrt(squares) / np.where(scale > 0, scale, 1.0), initial=0.0))

    def residual(self, x: np.ndarray, rhs: np.ndarray) -> float:
        """``max_c ‖b_c − A x_c‖ / ‖b_c‖`` on the full-resolution system, the operator assembled a
        band of rows at a time.

        Parameters
        ----------
        x : ndarray, ``H×W×C``
            The answer whose residual is wanted.
        rhs : ndarray, ``H×W×C``
            The system's whole right-hand side ``b``.
        """
        height = self.guide.shape[0]
        squares = np.zeros(rhs.shape[-1])
        for top in range(0, height, _BAND):
            bottom = min(top + _BAND, height)
            lo, hi = max(top - 2, 0), min(bottom + 2, height)  # rows read by the band's weights
            band = (slice(lo, hi), slice(None))
            # Rows of the halo are cut off from the pixels beyond it, but only the band's own rows are kept.
            product = self._operator(band, rhs).apply(x[band])
            r = (rhs[band] - product)[top - lo : bottom - lo]
            squares += np.einsum("ijc,ijc->c", r, r)
        scale = np.sqrt(np.einsum("ijc,ijc->c", rhs, rhs))
        return float(np.max(np.sqrt(squares) / np.where(scale > 0, scale, 1.0), initial=0.0))
