"""Levin, Lischinski & Weiss (2004) colorization: the exact form and a symmetric variant."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

from ..common.affinity import check_guide, edge_weights, fill_levin_weights, window_scale
from ..common.kernels import SYMMETRIC_KIND, array_code, small_system
from ..solvers.stencil import STENCIL_OFFSETS, GridOperator, graph_laplacian, stencil_neighbours

__all__ = ["exact_operator", "exact_system", "exact_rhs", "exact_residual_squares", "symmetric_system", "rows_of"]

#: Pixels of the bands :func:`exact_residual_squares` makes the rows of at once as array code:
#: its memory bounded whatever the image's size (larger bands raised a scan's peak).
RESIDUAL_BAND_PIXELS = 1 << 16
#: The bands numba's kernel takes at a time: float32 cues and chroma are copied to float64 a band
#: at a time (no whole copies), and each call's threads start and meet once (smaller bands were slower).
RESIDUAL_KERNEL_BAND_PIXELS = 1 << 18


@numba.njit(cache=True, nogil=True)
def _exact_row(guide, i, j, marked, prior_weight, scaled, row, out):
    """Write pixel (i, j)'s row of the exact system into the 9 entries ``out`` (``row``: scratch)."""
    if marked:
        for k in range(9):
            out[k] = 0.0
        out[4] = 1.0
        return
    scale = fill_levin_weights(guide, i, j, row)
    if not scaled:
        scale = 1.0
    for k in range(9):
        out[k] = -scale * row[k]
    out[4] = scale * (1.0 + prior_weight)


@numba.njit(cache=True, parallel=True)
def _exact_stencil(guide, mask, prior_weight, out, scaled):
    height, width = guide.shape
    for row_index in numba.prange(height):
        # The same integer type as outside the parallel loop (whose index is unsigned): otherwise
        # numba compiles _exact_row and the weights' functions twice, a second on a first run.
        i = np.int64(row_index)
        row = np.empty(9)
        for j in range(width):
            _exact_row(guide, i, j, mask[i, j], prior_weight[i, j], scaled, row, out[i, j])


@numba.njit(cache=True)
def _exact_stencil_at(guide, mask, prior_weight, out, scaled, pixels):
    width = guide.shape[1]
    row = np.empty(9)
    for p in pixels:
        i, j = p // width, p % width
        _exact_row(guide, i, j, mask[i, j], prior_weight[i, j], scaled, row, out[i, j])


@numba.njit(cache=True, parallel=True)
def _exact_residual_rows(guide, mask, top, first, targets, u, prior, prior_weight, weighted, mode, out):
    """The sums of squares of the exact system's residual at ``u`` on image rows ``top`` to ``top + len(out)
    − 1``, its rows made and applied in one pass (no stencil stored)."""
    height, width = guide.shape
    channels = u.shape[2]
    for n in numba.prange(out.shape[0]):
        i = np.int64(top + n)  # signed, as in _exact_stencil: _exact_row compiles once
        scratch = np.empty(9)
        coefficients = np.empty(9)
        for c in range(channels):
            out[n, 0, c] = 0.0
            out[n, 1, c] = 0.0
        for j in range(width):
            marked = mask[i, j]
            weight = prior_weight[n, j] if weighted else 0.0
            _exact_row(guide, i, j, marked, weight, False, scratch, coefficients)
            for c in range(channels):
                product = 0.0
                spread = 0.0
                for k in range(9):
                    # Out-of-image coefficients are 0, so a clamped index reads a harmless pixel.
                    ii = min(max(i + k // 3 - 1, 0), height - 1) - first
                    jj = min(max(j + k % 3 - 1, 0), width - 1)
                    product += coefficients[k] * u[ii, jj, c]
                    if mode == 2:
                        spread += coefficients[k] * prior[ii, jj, c]
                if marked:
                    b = targets[n, j, c]
                elif mode == 1:
                    b = weight * prior[i - first, j, c]
                elif mode == 2:
                    b = spread
                else:
                    b = 0.0
                out[n, 0, c] += (product - b) ** 2
                out[n, 1, c] += b * b


def exact_residual_squares(
    guide: np.ndarray,
    mask: np.ndarray,
    targets: np.ndarray,
    u: np.ndarray,
    prior: np.ndarray | None = None,
    prior_weight: np.ndarray | None = None,
    spread: bool = False,
) -> np.ndarray:
    """The sums of squares of the exact system's residual at ``u`` and of its right-hand side, ``[[Σ (A u −
    b)_c²], [Σ b_c²]]`` (``2×C``), its rows made and applied in one pass of numba's kernel.

    Examples
    --------
    >>> import numpy as np
    >>> guide = np.random.default_rng(0).random((5, 6))
    >>> mask = np.zeros((5, 6), bool); mask[0, 0] = True
    >>> targets = np.full((5, 6, 1), 2.0)
    >>> squares = exact_residual_squares(guide, mask, targets, np.full((5, 6, 1), 2.0))  # a solution
    >>> bool(squares[0, 0] < 1e-20), float(squares[1, 0])
    (True, 4.0)
    """
    guide = check_guide(guide)
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    channels = u.shape[2]
    weighted = prior_weight is not None
    mode = 0 if prior is None else 2 if spread else 1
    if array_code(guide.size):  # no kernel compiled for an image whose steps run as array code
        weight = np.asarray(prior_weight) if weighted else np.zeros((1, 1))
        p = np.zeros((1, 1, channels)) if prior is None else np.asarray(prior)
        return _residual_squares_in_bands(guide, mask, targets, u, p, weight, weighted, mode)
    # A band at a time, each array in float64 (a view where it is, else the band's copy: float32
    # cues and chroma are not copied whole, and the kernel is compiled for float64 alone).
    height, width = guide.shape
    squares = np.zeros((2, channels))
    rows = max(1, -(-RESIDUAL_KERNEL_BAND_PIXELS // width))
    nothing = np.zeros((1, 1, channels)), np.zeros((1, 1))
    for top in range(0, height, rows):
        bottom = min(top + rows, height)
        first, last = max(top - 1, 0), min(bottom + 1, height)
        band = np.empty((bottom - top, 2, channels))
        _exact_residual_rows(
            guide,
            mask,
            top,
            first,
            np.ascontiguousarray(targets[top:bottom], np.float64),
            np.ascontiguousarray(u[first:last], np.float64),
            nothing[0] if prior is None else np.ascontiguousarray(prior[first:last], np.float64),
            nothing[1] if prior_weight is None else np.ascontiguousarray(prior_weight[top:bottom], np.float64),
            weighted,
            mode,
            band,
        )
        squares += band.sum(axis=0)
    return squares


def _residual_squares_in_bands(guide, mask, targets, u, prior, prior_weight, weighted, mode) -> np.ndarray:
    """:func:`_exact_residual_rows`'s sums, summed, as array code: a band of :data:`RESIDUAL_BAND_PIXELS` at
    a time, each neighbour's values a slice of the band and the rows beside it."""
    height, width = guide.shape
    channels = u.shape[2]
    squares = np.zeros((2, channels))
    rows = max(1, -(-RESIDUAL_BAND_PIXELS // width))
    for top in range(0, height, rows):
        bottom = min(top + rows, height)
        # The band and a row and a column of neighbours all round, edge values outside the image
        # (their coefficients are 0), and where the image is.
        near = slice(max(top - 1, 0), min(bottom + 1, height))
        pad = ((1 - (top - near.start), 1 - (near.stop - bottom)), (1, 1))
        g = np.pad(guide[near], pad, mode="edge")
        within = np.pad(np.ones((near.stop - near.start, width), bool), pad)
        x = np.pad(u[near], pad + ((0, 0),), mode="edge")
        count = (bottom - top) * width
        values, inside = np.empty((9, count)), np.empty((9, count), bool)
        shifted = np.empty((9, count, channels))
        for k, (dy, dx) in enumerate(STENCIL_OFFSETS):
            at = (slice(1 + dy, 1 + dy + bottom - top), slice(1 + dx, 1 + dx + width))
            values[k], inside[k] = g[at].ravel(), within[at].ravel()
            shifted[k] = x[at].reshape(count, channels)
        weight = prior_weight[top:bottom].ravel() if weighted else 0.0
        marked = mask[top:bottom].ravel()
        coefficients = rows_of(values, inside, weight, marked, False)
        product = np.einsum("kn,knc->nc", coefficients, shifted)
        rest: np.ndarray | float = 0.0  # b off the cues
        if mode == 1:
            rest = np.asarray(weight)[..., None] * np.asarray(prior[top:bottom], np.float64).reshape(count, channels)
        elif mode == 2:
            q = np.pad(prior[near], pad + ((0, 0),), mode="edge")
            for k, (dy, dx) in enumerate(STENCIL_OFFSETS):
                shifted[k] = q[1 + dy : 1 + dy + bottom - top, 1 + dx : 1 + dx + width].reshape(count, channels)
            rest = np.einsum("kn,knc->nc", coefficients, shifted)
        b = np.where(marked[:, None], np.asarray(targets[top:bottom], np.float64).reshape(count, channels), rest)
        squares[0] += np.einsum("nc,nc->c", product - b, product - b)
        squares[1] += np.einsum("nc,nc->c", b, b)
    return squares


def _exact_rows(guide, mask, prior_weight, scaled, pixels) -> np.ndarray:
    """The rows of the exact system at the raster indices ``pixels`` (``k×9``): :func:`_exact_row`
    as array code (:func:`rows_of`), for a small system (:func:`varcolor.common.kernels.small_system`)."""
    # Entry k of every row at once (9 × k arrays: each operation runs along contiguous memory).
    values = np.empty((9, len(pixels)))
    inside = np.empty((9, len(pixels)), bool)
    for k, within, i, j in stencil_neighbours(pixels, guide.shape):
        inside[k], values[k] = within, guide[i, j]
    i, j = np.divmod(pixels, guide.shape[1])
    return rows_of(values, inside, prior_weight[i, j], mask[i, j], scaled).T


def rows_of(values, inside, prior_weight, marked, scaled: bool = False, xp: Any = np) -> np.ndarray:
    """The exact system's rows (``9×k``) of ``k`` pixels from their 3×3 neighbourhoods' guide ``values`` and
    whether each neighbour is ``inside`` the image (``9×k``, the pixel itself 4th)."""
    csig = window_scale(values, inside, xp)
    inside[4] = False  # from here, the neighbours
    weights = xp.exp(-((values - values[4]) ** 2) / csig) * inside
    total = weights.sum(axis=0)
    scale = total if scaled else 1.0
    rows = weights * (-scale / total)
    rows[4] = scale * (1.0 + prior_weight)
    rows[:, marked] = 0.0
    rows[4, marked] = 1.0
    return rows


def exact_operator(
    guide: np.ndarray,
    mask: np.ndarray,
    dtype=np.float64,
    row_scaled: bool = False,
    prior_weight: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> GridOperator:
    """Levin's exact system as a 9-point :class:`~varcolor.solvers.stencil.GridOperator`."""
    guide = check_guide(guide)
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    if mask.shape != guide.shape:
        raise ValueError(f"mask shape {mask.shape} differs from guide shape {guide.shape}")
    weight = np.zeros(guide.shape) if prior_weight is None else np.ascontiguousarray(prior_weight, dtype=np.float64)
    if weight.shape != guide.shape or not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise ValueError("prior_weight must be a finite, non-negative H×W array")
    if small_system(guide.size if rows is None else len(rows)):
        pixels = np.arange(guide.size) if rows is None else np.asarray(rows, np.int64)
        stencil = np.zeros(guide.shape + (9,), dtype=dtype)
        stencil.reshape(-1, 9)[pixels] = _exact_rows(guide, mask, weight, row_scaled, pixels)
    elif rows is None:
        stencil = np.empty(guide.shape + (9,), dtype=dtype)
        _exact_stencil(guide, mask, weight, stencil, row_scaled)
    else:  # zeros: pages no row is written to are never touched
        stencil = np.zeros(guide.shape + (9,), dtype=dtype)
        _exact_stencil_at(guide, mask, weight, stencil, row_scaled, np.asarray(rows, np.int64))
    return GridOperator(stencil)


def exact_system(guide: np.ndarray, mask: np.ndarray) -> sp.csr_matrix:
    """Levin's exact system as a sparse matrix, rows and columns in raster (C) order.

    Parameters
    ----------
    guide : ndarray, ``H×W``
        Luminance guide ``Y`` in [0, 1].
    mask : ndarray of bool, ``H×W``
        True where a cue fixes the chroma, as :func:`exact_operator` takes it.
    """
    return exact_operator(guide, mask).to_csr()


def exact_rhs(
    mask: np.ndarray, values: np.ndarray, prior: np.ndarray | None = None, prior_weight: np.ndarray | None = None
) -> np.ndarray:
    """Right-hand sides ``H×W×C``: the cue values at marked pixels; elsewhere 0, or ``β c p`` with a prior."""
    values = np.asarray(values, dtype=np.float64)
    rest = 0.0 if prior is None else np.asarray(prior_weight)[..., None] * prior
    return np.where(mask[..., None], values, rest)


def symmetric_system(
    guide: np.ndarray,
    mask: np.ndarray,
    values: np.ndarray,
    prior: np.ndarray | None = None,
    prior_weight: np.ndarray | None = None,
) -> tuple[GridOperator, np.ndarray]:
    """The symmetric variant's system ``A u = b``, cue pixels eliminated: SPD on the other pixels."""
    guide = check_guide(guide)
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    values = np.ascontiguousarray(values, dtype=np.float64)
    if mask.shape != guide.shape or values.shape[:2] != guide.shape:
        raise ValueError(f"mask {mask.shape} and values {values.shape[:2]} must match the guide {guide.shape}")
    weight = np.zeros(guide.shape) if prior_weight is None else np.ascontiguousarray(prior_weight, dtype=np.float64)
    guess = np.zeros(values.shape) if prior is None else np.ascontiguousarray(prior, dtype=np.float64)
    # A small photo whose symmetric kernels are not compiled: array code (else a tiny photo's first
    # run compiled them all, the grid multigrid's included: benchmarks/results/code_notes.md).
    array = array_code(guide.size, SYMMETRIC_KIND)
    return graph_laplacian(edge_weights(guide, array=array), mask, values, weight, weight[..., None] * guess, array)
