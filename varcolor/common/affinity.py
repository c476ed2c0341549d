"""Luminance-guided weights between each pixel and its 8 neighbours (numba kernels).

One definition for every energy. The local scale ``csig`` follows Levin et al.'s ``getColorExact.m``:
``0.6·variance`` of the 3×3 window (centre included), floored at ``-min_s (Y_s - Y_r)² / ln 0.01``
(the most similar neighbour keeps a weight of at least 0.01 before normalisation) and at 2e-6.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from .neighbours import CENTRE, EDGE_OFFSETS, STENCIL_OFFSETS, at_neighbour, edge_slices, inside, padded

__all__ = [
    "local_scale",
    "window_scale",
    "scale_at",
    "levin_weights",
    "fill_levin_weights",
    "edge_weights",
]

#: The least ``csig`` (a flat window's), and the log of the least weight of a pixel's closest
#: neighbour (:func:`_csig_at`; :func:`varcolor.energies.levin.exact_operator`'s array code reads them too).
CSIG_FLOOR = 2e-6
MIN_NEIGHBOUR_WEIGHT_LOG = math.log(0.01)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _csig_at(guide, i, j):
    height, width = guide.shape
    centre = guide[i, j]
    total = 0.0
    count = 0
    closest = np.inf
    for di in range(-1, 2):
        for dj in range(-1, 2):
            ii = i + di
            jj = j + dj
            if 0 <= ii < height and 0 <= jj < width:
                value = guide[ii, jj]
                total += value
                count += 1
                if di != 0 or dj != 0:
                    closest = min(closest, (value - centre) ** 2)
    mean = total / count
    spread = 0.0
    for di in range(-1, 2):
        for dj in range(-1, 2):
            ii = i + di
            jj = j + dj
            if 0 <= ii < height and 0 <= jj < width:
                spread += (guide[ii, jj] - mean) ** 2
    csig = 0.6 * spread / count
    csig = max(csig, -closest / MIN_NEIGHBOUR_WEIGHT_LOG)
    return max(csig, CSIG_FLOOR)


#: Pixel (i, j)'s ``csig`` (a numba function): the space-time system (:mod:`varcolor.video`) weights a
#: pixel's neighbours in the adjacent frames with its own scale, as the spatial ones.
scale_at = _csig_at


@numba.njit(cache=True, nogil=True, fastmath=True)
def fill_levin_weights(guide, i, j, row):
    """Write pixel (i, j)'s normalised neighbour weights into the 9-entry ``row`` (row[4] = 0);
    return the sum of the weights before normalisation."""
    height, width = guide.shape
    csig = _csig_at(guide, i, j)
    centre = guide[i, j]
    total = 0.0
    for k in range(9):
        ii = i + k // 3 - 1
        jj = j + k % 3 - 1
        w = 0.0
        if k != 4 and 0 <= ii < height and 0 <= jj < width:
            w = math.exp(-((guide[ii, jj] - centre) ** 2) / csig)
        row[k] = w
        total += w
    for k in range(9):
        row[k] /= total
    return total


@numba.njit(cache=True, parallel=True)
def _local_scale(guide, out):
    height, width = guide.shape
    for row in numba.prange(height):
        i = np.int64(row)  # signed, as outside a parallel loop: _csig_at compiles once
        for j in range(width):
            out[i, j] = _csig_at(guide, i, j)


@numba.njit(cache=True, parallel=True)
def _levin_weights(guide, out):
    height, width = guide.shape
    for row in numba.prange(height):
        i = np.int64(row)  # as in _local_scale
        for j in range(width):
            fill_levin_weights(guide, i, j, out[i, j])


def check_guide(guide: np.ndarray) -> np.ndarray:
    """The guide as a C-contiguous float64 ``H×W`` array (H, W ≥ 2).

    Parameters
    ----------
    guide : ndarray
        The luminance guide; a ValueError where it is not ``H×W`` with H, W ≥ 2.
    """
    guide = np.ascontiguousarray(guide, dtype=np.float64)
    if guide.ndim != 2 or min(guide.shape) < 2:
        raise ValueError(f"the guide must be an H×W image with H, W >= 2, got shape {guide.shape}")
    return guide


def window_scale(values: np.ndarray, inside: np.ndarray, xp: Any = np) -> np.ndarray:
    """:func:`_csig_at` as array code: the ``csig`` of pixels given their 3×3 windows' guide ``values``.

    Parameters
    ----------
    values : ndarray, ``9×…``
        The guide's values in each pixel's 3×3 window, in stencil order.
    inside : ndarray of bool, ``9×…``
        Whether each of those window entries lies inside the image.
    xp : module, optional
        The arrays' module: NumPy (default) or CuPy.
    """
    count = inside.sum(axis=0)
    mean = (values * inside).sum(axis=0) / count
    csig = 0.6 * (((values - mean) ** 2) * inside).sum(axis=0) / count
    neighbours = inside.copy()
    neighbours[CENTRE] = False
    closest = xp.where(neighbours, (values - values[CENTRE]) ** 2, xp.inf).min(axis=0)
    return xp.maximum(xp.maximum(csig, -closest / MIN_NEIGHBOUR_WEIGHT_LOG), CSIG_FLOOR)


def local_scale(guide: np.ndarray, array: bool = False) -> np.ndarray:
    """Levin's per-pixel scale ``csig`` of an ``H×W`` guide image (see the module docstring); by
    array code (:func:`window_scale`) where ``array``, else by the numba kernel.

    Parameters
    ----------
    guide : ndarray, ``H×W``
        The luminance guide ``Y`` in [0, 1].
    array : bool, optional
        By array code rather than the numba kernel (default False); the same scale to rounding.
    """
    guide = check_guide(guide)
    if array:
        bordered = padded(guide)
        values = np.stack([at_neighbour(bordered, dy, dx, guide.shape) for dy, dx in STENCIL_OFFSETS])
        return window_scale(values, np.stack([inside(dy, dx, guide.shape) for dy, dx in STENCIL_OFFSETS]))
    out = np.empty_like(guide)
    _local_scale(guide, out)
    return out


def levin_weights(guide: np.ndarray) -> np.ndarray:
    """Normalised weights ``w_rs ∝ exp(-(Y_r - Y_s)² / csig_r)`` of each pixel's 8 neighbours.

    Parameters
    ----------
    guide : ndarray, ``H×W``
        The luminance guide ``Y`` in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.common.neighbours import CENTRE
    >>> w = levin_weights(np.zeros((3, 3)))
    >>> float(w[1, 1].sum()), float(w[0, 0, 0]), float(w[1, 1, CENTRE])
    (1.0, 0.0, 0.0)
    """
    guide = check_guide(guide)
    out = np.empty(guide.shape + (9,))
    _levin_weights(guide, out)
    return out


@numba.njit(cache=True, parallel=True)
def _edge_weights(guide, scale, sharpness, out):
    height, width = guide.shape
    for i in numba.prange(height):
        for j in range(width):
            for e in range(4):
                ii, jj = i + EDGE_OFFSETS[e, 0], j + EDGE_OFFSETS[e, 1]
                out[i, j, e] = 0.0
                if 0 <= ii < height and 0 <= jj < width:
                    sigma2 = 0.5 * (scale[i, j] + scale[ii, jj]) / sharpness
                    out[i, j, e] = math.exp(-((guide[i, j] - guide[ii, jj]) ** 2) / (2.0 * sigma2))


def edge_weights(guide: np.ndarray, sharpness: float = 1.0, array: bool = False) -> np.ndarray:
    """Symmetric weights ``w_rs = exp(−(Y_r − Y_s)² / (2σ²_rs))`` of the undirected 8-neighbour edges,
    ``σ²_rs`` the mean of the two pixels' :func:`local_scale` over ``sharpness``."""
    guide = check_guide(guide)
    scale = local_scale(guide, array)
    if array:
        out = np.zeros(guide.shape + (4,))
        for e, r, s in edge_slices(*guide.shape):
            sigma2 = 0.5 * (scale[r] + scale[s]) / sharpness
            out[r + (e,)] = np.exp(-((guide[r] - guide[s]) ** 2) / (2.0 * sigma2))
        return out
    out = np.empty(guide.shape + (4,))
    _edge_weights(guide, scale, float(sharpness), out)
    return out
