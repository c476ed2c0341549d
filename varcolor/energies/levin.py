"""Levin, Lischinski & Weiss (2004) colorization, exact form (their ``getColorExact.m``).

For each unmarked pixel r: ``u(r) - Σ_{s∈N8(r)} w_rs u(s) = 0`` with the normalised weights of
:func:`varcolor.affinity.levin_weights`; for each marked pixel: ``u(r) = cue``. One sparse,
non-symmetric matrix; every chroma channel is a right-hand side.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from ..affinity import NEIGHBOUR_OFFSETS, levin_weights

__all__ = ["exact_system", "exact_rhs"]


@numba.njit(cache=True)
def _exact_csr(weights, mask, offsets):
    height, width = mask.shape
    n = height * width
    indptr = np.empty(n + 1, np.int64)
    indices = np.empty(9 * n, np.int64)
    data = np.empty(9 * n, np.float64)
    nnz = 0
    for i in range(height):
        for j in range(width):
            r = i * width + j
            indptr[r] = nnz
            if mask[i, j]:
                indices[nnz] = r
                data[nnz] = 1.0
                nnz += 1
                continue
            centre_done = False
            for k in range(8):
                ii = i + offsets[k, 0]
                jj = j + offsets[k, 1]
                s = ii * width + jj
                if not centre_done and s > r:
                    indices[nnz] = r
                    data[nnz] = 1.0
                    nnz += 1
                    centre_done = True
                if 0 <= ii < height and 0 <= jj < width:
                    indices[nnz] = s
                    data[nnz] = -weights[i, j, k]
                    nnz += 1
            if not centre_done:
                indices[nnz] = r
                data[nnz] = 1.0
                nnz += 1
    indptr[n] = nnz
    return indptr, indices[:nnz], data[:nnz]


def exact_system(guide: np.ndarray, mask: np.ndarray) -> sp.csr_matrix:
    """The matrix of Levin's exact system, rows and columns in raster (C) order.

    Parameters
    ----------
    guide : ndarray, ``H×W``
        Luminance guide ``Y`` in [0, 1].
    mask : ndarray of bool, ``H×W``
        True where a cue fixes the chroma.

    Returns
    -------
    A : scipy.sparse.csr_matrix, ``(H·W)×(H·W)``

    Examples
    --------
    >>> import numpy as np
    >>> A = exact_system(np.random.default_rng(0).random((4, 5)), np.zeros((4, 5), bool))
    >>> np.allclose(A @ np.ones(20), 0)     # constant chroma solves every unmarked row
    True
    """
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    weights = levin_weights(guide)
    if mask.shape != weights.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} differs from guide shape {weights.shape[:2]}")
    indptr, indices, data = _exact_csr(weights, mask, NEIGHBOUR_OFFSETS)
    n = mask.size
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))


def exact_rhs(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Right-hand sides ``(H·W)×C``: the cue values at marked pixels, 0 elsewhere."""
    values = np.asarray(values, dtype=np.float64)
    rhs = np.where(mask[..., None], values, 0.0)
    return rhs.reshape(mask.size, values.shape[-1])
