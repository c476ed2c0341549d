"""Bilaplacian + graph total variation: piecewise-smooth chroma that does not bleed across edges."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..common.affinity import check_guide, edge_weights
from ..common.neighbours import edge_slices
from ..errors import InputError
from ..solvers import admm
from ..solvers.admm import AdmmState

__all__ = ["Parameters", "AdmmState", "solve", "energy", "gradient_operator", "edge_operator"]


@dataclass(frozen=True)
class Parameters:
    """Weights of the energy. Defaults were chosen on Kodak with the ideepcolor hint protocol."""

    # Bilaplacian smoothness: weak, or it smears colour across the edges the GTV allows
    # (docs/guide/methods.md, "bilaplacian-gtv in detail", "Bilaplacian weight").
    lam: float = 1e-3
    mu: float = 1.0  # graph total variation
    gamma: float = np.inf  # data term (inf: hard cues)
    rho: float = 1.0  # ADMM penalty
    # Relative primal/dual residual (docs/guide/methods.md, "bilaplacian-gtv in detail", "Stopping";
    # benchmarks/results/gtv_tolerance.md).
    tol: float = 1e-3
    # Photos at 768×512 with 50 hints reach tol within this limit (docs/guide/methods.md,
    # "bilaplacian-gtv in detail", "Stopping").
    maxiter: int = 1000
    # Edge-weight sharpness: σ²_rs is the symmetric variant's (docs/design.md) over this
    # (docs/guide/methods.md, "bilaplacian-gtv in detail", "Edge sharpness").
    sharpness: float = 8.0

    def __post_init__(self) -> None:
        for name in ("lam", "mu", "gamma", "rho", "tol", "sharpness"):
            value = getattr(self, name)
            positive = name in ("rho", "tol", "sharpness")
            if (
                not isinstance(value, (int, float))
                or np.isnan(value)
                or value < 0
                or (positive and value == 0)
                or (np.isinf(value) and name != "gamma")
            ):
                rule = (
                    "a number >= 0 (inf: hard cues)"
                    if name == "gamma"
                    else f"a finite number {'> 0' if positive else '>= 0'}"
                )
                raise InputError(f"{name} must be {rule}, got {value}")
        if self.maxiter < 1:
            raise InputError(f"maxiter must be at least 1, got {self.maxiter}")


def _index(shape):
    return np.arange(shape[0] * shape[1]).reshape(shape)


def gradient_operator(shape: tuple[int, int]) -> sp.csr_matrix:
    """Forward differences along rows and columns (4-neighbour grid); ``GᵀG`` is −Δ with Neumann ends.

    Parameters
    ----------
    shape : tuple of int
        The image's ``(H, W)``; the matrix acts on its pixels in raster order.
    """
    index = _index(shape)
    blocks = []
    for a, b in ((index[:, :-1], index[:, 1:]), (index[:-1, :], index[1:, :])):
        a, b = a.ravel(), b.ravel()
        rows = np.arange(len(a))
        blocks.append(
            sp.csr_matrix(
                (np.r_[-np.ones(len(a)), np.ones(len(a))], (np.r_[rows, rows], np.r_[a, b])), shape=(len(a), index.size)
            )
        )
    return sp.vstack(blocks).tocsr()


def edge_operator(guide: np.ndarray, sharpness: float = Parameters.sharpness) -> tuple[sp.csr_matrix, np.ndarray]:
    """(D, w): D maps u to u_s − u_r on every 8-neighbour edge, w this energy's luminance weight of
    each edge (the sparse form of its :func:`varcolor.common.affinity.edge_weights`, grouped by direction).

    Parameters
    ----------
    guide : ndarray, ``H×W``
        The luminance guide ``Y`` in [0, 1].
    sharpness : float, optional
        The edge weights' sharpness, as :func:`varcolor.common.affinity.edge_weights` takes it.
    """
    weights = edge_weights(guide, sharpness)
    index = _index(guide.shape)
    height, width = index.shape
    rows, cols, values, kept = [], [], [], []
    count = 0
    for e, first, second in edge_slices(height, width):
        r, s = index[first].ravel(), index[second].ravel()
        kept.append(weights[first + (e,)].ravel())
        edge = np.arange(count, count + len(r))
        rows += [edge, edge]
        cols += [r, s]
        values += [-np.ones(len(r)), np.ones(len(r))]
        count += len(r)
    d = sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(count, index.size))
    return d, np.concatenate(kept)


def energy(
    u: np.ndarray,
    guide: np.ndarray,
    mask: np.ndarray,
    targets: np.ndarray,
    params: Parameters,
    prior: np.ndarray | None = None,
    prior_weight: np.ndarray | None = None,
) -> float:
    """The energy of ``u`` (``H×W×2``); the data term is left out for hard cues. By array code
    where a solve of this image would run it (:func:`varcolor.solvers.admm.runs_array_code`)."""
    u = np.ascontiguousarray(u, dtype=np.float64)
    array = admm.runs_array_code("cpu", u.shape[:2])
    weights = edge_weights(guide, params.sharpness, array)
    if array:
        grid = admm.array_grid()
        channels = grid.asarray(u)
        laplacian = grid.laplacian(channels)
        lengths = np.sqrt(np.sum(grid.differences(channels) ** 2, axis=1))  # 4×H×W
        gtv = float(np.sum(np.moveaxis(weights, -1, 0) * lengths))
    else:
        laplacian = np.empty_like(u)
        admm.laplacian(u, laplacian)
        differences = np.empty(u.shape[:2] + (4, 2))
        admm.differences(u, differences)
        gtv = float(np.sum(weights * np.sqrt(np.sum(differences**2, axis=3))))
    value = 0.5 * params.lam * float(np.sum(laplacian**2)) + params.mu * gtv
    if np.isfinite(params.gamma):
        value += 0.5 * params.gamma * float(np.sum(mask[..., None] * (u - targets) ** 2))
    if prior is not None:
        assert prior_weight is not None  # given with the prior
        value += 0.5 * float(np.sum(prior_weight[..., None] * (u - prior) ** 2))
    return value


def solve(
    guide: np.ndarray,
    mask: np.ndarray,
    targets: np.ndarray,
    params: Parameters = Parameters(),
    prior: np.ndarray | None = None,
    prior_weight: np.ndarray | None = None,
    x0: np.ndarray | None = None,
    device: str = "cpu",
    progress: Callable[[dict], None] | None = None,
    state: AdmmState | None = None,
    *,
    warn: bool = True,
) -> tuple[np.ndarray, dict]:
    """Minimise the energy for chroma ``targets`` (``H×W×2``) at the ``mask`` pixels."""
    start = time.perf_counter()
    guide = check_guide(guide)
    shape = guide.shape
    mask = np.asarray(mask, bool)
    f = np.asarray(targets, dtype=np.float64)
    if not mask.any() and prior is None:
        raise InputError("nothing fixes the colours: give cues or a prior")
    c = np.zeros(shape) if prior is None or prior_weight is None else np.asarray(prior_weight, np.float64)
    p = None if prior is None else np.asarray(prior, dtype=np.float64)
    hard = not np.isfinite(params.gamma)
    diagonal = c if hard else c + params.gamma * mask
    rhs_fixed = np.zeros(shape + (2,)) if p is None else c[..., None] * p
    if not hard:
        rhs_fixed += params.gamma * mask[..., None] * f
    fixed = mask if hard else np.zeros(shape, bool)
    u = np.zeros(shape + (2,)) if x0 is None else np.array(x0, dtype=np.float64)
    u[fixed] = f[fixed]
    info = {"iterations": 0, "primal_residual": 0.0, "dual_residual": 0.0, "converged": True}
    if fixed.all():  # every pixel a hard cue: nothing to minimise (its hierarchy would not coarsen)
        pass
    elif params.mu == 0:  # no GTV: the quadratic alone, solved directly (ADMM would only crawl to it)
        u = _quadratic_direct(params.lam, diagonal, fixed, rhs_fixed, u)
    else:
        weights = edge_weights(guide, params.sharpness, admm.runs_array_code(device, shape))
        u = admm.minimize(device, u, weights, params, diagonal, fixed, rhs_fixed, info, progress, state, warn=warn)
    info["energy"] = energy(u, guide, mask, f, params, p, c if p is not None else None)
    info["seconds"] = time.perf_counter() - start
    return u, info


def _quadratic_direct(lam, diagonal, fixed, rhs, u):
    """Minimise ``(λ/2)‖Δu‖² + ½ Σ diag u² − rhs·u`` with ``u`` fixed on ``fixed``: one sparse LU."""
    # here: scipy.sparse.linalg loads scipy.linalg, a tenth of every command's start-up
    from ..solvers.superlu import factor

    grad = gradient_operator(diagonal.shape)
    laplacian = grad.T @ grad
    system = (lam * (laplacian.T @ laplacian) + sp.diags(diagonal.ravel())).tocsr()
    free, known = ~fixed.ravel(), fixed.ravel()
    flat = u.reshape(-1, 2).copy()
    lu = factor(
        system[free][:, free].tocsc(),
        permc_spec="MMD_AT_PLUS_A",
        diag_pivot_thresh=0.0,
        options={"SymmetricMode": True},
    )
    flat[free] = lu.solve(rhs.reshape(-1, 2)[free] - system[free][:, known] @ flat[known])
    return flat.reshape(u.shape)
