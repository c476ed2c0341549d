"""Levin, Lischinski & Weiss (2004) colorization, exact form (their ``getColorExact.m``).

For each unmarked pixel r: ``u(r) - Σ_{s∈N8(r)} w_rs u(s) = 0`` with the normalised weights of
:func:`varcolor.affinity.levin_weights`; for each marked pixel: ``u(r) = cue``. One sparse,
non-symmetric operator; every chroma channel is a right-hand side.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from ..affinity import check_guide, fill_levin_weights
from ..solvers.stencil import GridOperator

__all__ = ["exact_operator", "exact_system", "exact_rhs"]


@numba.njit(cache=True, parallel=True)
def _exact_stencil(guide, mask, prior_weight, out, scaled):
    height, width = guide.shape
    for i in numba.prange(height):
        row = np.empty(9)
        for j in range(width):
            if mask[i, j]:
                for k in range(9):
                    out[i, j, k] = 0.0
                out[i, j, 4] = 1.0
            else:
                scale = fill_levin_weights(guide, i, j, row)
                if not scaled:
                    scale = 1.0
                for k in range(9):
                    out[i, j, k] = -scale * row[k]
                out[i, j, 4] = scale * (1.0 + prior_weight[i, j])


def exact_operator(guide: np.ndarray, mask: np.ndarray, dtype=np.float64,
                   row_scaled: bool = False, prior_weight: np.ndarray | None = None) -> GridOperator:
    """Levin's exact system as a 9-point :class:`~varcolor.solvers.stencil.GridOperator`.

    Parameters
    ----------
    guide : ndarray, ``H×W``
        Luminance guide ``Y`` in [0, 1].
    mask : ndarray of bool, ``H×W``
        True where a cue fixes the chroma (the row becomes ``u(r) = cue``).
    dtype : float32 or float64
        Type of the stored coefficients.
    row_scaled : bool
        Multiply each unmarked row by its weight sum before normalisation, ``d_r = Σ_s exp(...)``.
        Same solution (the right-hand side is 0 on those rows), but the operator is then nearly
        symmetric (``-exp(-(Y_r - Y_s)²/csig_r)`` off the diagonal), which multigrid's Galerkin
        coarsening needs: with normalised rows, pixels at edges (small ``d_r``) dominate it.
    prior_weight : ndarray, ``H×W``, optional
        ``β·c`` of a prior term (DESIGN §4): each unmarked row becomes
        ``(1 + β c_r) u(r) − Σ w_rs u(s) = β c_r p(r)`` (right-hand side from :func:`exact_rhs`).

    Examples
    --------
    >>> import numpy as np
    >>> op = exact_operator(np.random.default_rng(0).random((4, 5)), np.zeros((4, 5), bool))
    >>> np.allclose(op.apply(np.ones((4, 5, 1))), 0)   # constant chroma solves every unmarked row
    True
    """
    guide = check_guide(guide)
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    if mask.shape != guide.shape:
        raise ValueError(f"mask shape {mask.shape} differs from guide shape {guide.shape}")
    weight = np.zeros(guide.shape) if prior_weight is None else np.ascontiguousarray(prior_weight, dtype=np.float64)
    if weight.shape != guide.shape or not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise ValueError("prior_weight must be a finite, non-negative H×W array")
    stencil = np.empty(guide.shape + (9,), dtype=dtype)
    _exact_stencil(guide, mask, weight, stencil, row_scaled)
    return GridOperator(stencil)


def exact_system(guide: np.ndarray, mask: np.ndarray) -> sp.csr_matrix:
    """Levin's exact system as a sparse matrix, rows and columns in raster (C) order."""
    return exact_operator(guide, mask).to_csr()


def exact_rhs(mask: np.ndarray, values: np.ndarray, prior: np.ndarray | None = None,
              prior_weight: np.ndarray | None = None) -> np.ndarray:
    """Right-hand sides ``H×W×C``: the cue values at marked pixels; elsewhere 0, or ``β c p`` with a prior."""
    values = np.asarray(values, dtype=np.float64)
    rest = 0.0 if prior is None else np.asarray(prior_weight)[..., None] * prior
    return np.where(mask[..., None], values, rest)
