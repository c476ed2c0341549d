"""Bilaplacian + graph total variation: piecewise-smooth chroma that does not bleed across edges.

    E(u) = (λ/2) Σ_c ‖Δ u_c‖² + μ Σ_{edges rs} w_rs ‖u_r − u_s‖₂ + (γ/2) Σ_r m_r ‖u_r − f_r‖²
           (+ (β/2) Σ_r c_r ‖u_r − p_r‖², the prior term)

Δ is the 5-point Laplacian with Neumann boundary; the GTV runs over the 8-neighbour grid with the
luminance weights ``w_rs = exp(−(Y_r − Y_s)² / (2 σ²_rs))``, σ²_rs the mean of the two pixels'
Levin scale (:func:`varcolor.affinity.local_scale`), and couples a and b (a group norm per edge).
``gamma=inf`` makes cues hard constraints.

Solved by over-relaxed ADMM on the edge differences z = D u: the u-step is one SPD sparse system
with a constant matrix, factorised once (per penalty); the z-step a group soft-threshold. Stops on the primal and
dual residuals (Boyd et al. 2011, §3.3).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from ..affinity import check_guide, local_scale
from ..errors import ConvergenceWarning, InputError

__all__ = ["Parameters", "solve", "energy", "gradient_operator", "edge_operator"]

# Iterations at which the ADMM penalty may be rebalanced (each change refactorises the u-step).
_BALANCE_AT = frozenset(10 * 2**k for k in range(10))
# Over-relaxation of the z- and y-steps (Boyd et al. 2011, §3.4.3). On a 128×192 Kodak crop with
# 50 cues: 220 iterations without, 197 / 183 / 209 with 1.5 / 1.6 / 1.8, same energy to 5e-5.
_RELAXATION = 1.6
# Each undirected 8-neighbour edge once: right, down, down-right, down-left.
_EDGE_OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1))


@dataclass(frozen=True)
class Parameters:
    """Weights of the energy. Defaults were chosen on Kodak with the ideepcolor hint protocol."""

    lam: float = 1e-3     # bilaplacian smoothness: weak, or it smears colour across every edge
    mu: float = 1.0       # graph total variation
    gamma: float = np.inf  # data term (inf: hard cues)
    rho: float = 1.0      # ADMM penalty
    tol: float = 1e-4     # relative primal/dual residual
    maxiter: int = 500

    def __post_init__(self) -> None:
        for name in ("lam", "mu", "gamma", "rho", "tol"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or np.isnan(value) or value < 0 or (
                    np.isinf(value) and name != "gamma"):
                raise InputError(f"{name} must be a finite number >= 0 (gamma may be inf), got {value}")
        if self.rho <= 0 or self.tol <= 0 or self.maxiter < 1:
            raise InputError("rho and tol must be > 0 and maxiter >= 1")


def _index(shape):
    return np.arange(shape[0] * shape[1]).reshape(shape)


def gradient_operator(shape: tuple[int, int]) -> sp.csr_matrix:
    """Forward differences along rows and columns (4-neighbour grid); ``GᵀG`` is −Δ with Neumann ends."""
    index = _index(shape)
    blocks = []
    for a, b in ((index[:, :-1], index[:, 1:]), (index[:-1, :], index[1:, :])):
        a, b = a.ravel(), b.ravel()
        rows = np.arange(len(a))
        blocks.append(sp.csr_matrix((np.r_[-np.ones(len(a)), np.ones(len(a))], (np.r_[rows, rows], np.r_[a, b])),
                                    shape=(len(a), index.size)))
    return sp.vstack(blocks).tocsr()


def edge_operator(guide: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """(D, w): D maps u to u_s − u_r on every 8-neighbour edge, w the luminance weight of each edge."""
    guide = check_guide(guide)
    scale = local_scale(guide)
    index = _index(guide.shape)
    height, width = guide.shape
    rows, cols, values, weights = [], [], [], []
    count = 0
    for dy, dx in _EDGE_OFFSETS:
        ys = slice(0, height - dy)
        xs = slice(max(0, -dx), width - max(0, dx))
        r = index[ys, xs].ravel()
        s = index[dy:, xs.start + dx: xs.stop + dx].ravel() if dy else index[ys, xs.start + dx: xs.stop + dx].ravel()
        gr, gs = guide.ravel()[r], guide.ravel()[s]
        sigma2 = 0.5 * (scale.ravel()[r] + scale.ravel()[s])
        weights.append(np.exp(-((gr - gs) ** 2) / (2 * sigma2)))
        e = np.arange(count, count + len(r))
        rows += [e, e]
        cols += [r, s]
        values += [-np.ones(len(r)), np.ones(len(r))]
        count += len(r)
    d = sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(count, guide.size))
    return d, np.concatenate(weights)


def energy(u: np.ndarray, guide_shape, grad, d, w, mask, f, params: Parameters, prior=None, prior_weight=None):
    """The energy of ``u`` (N×2); the data term is left out for hard cues."""
    lap = grad.T @ (grad @ u)
    value = 0.5 * params.lam * float(np.sum(lap**2)) + params.mu * float(np.sum(w * np.linalg.norm(d @ u, axis=1)))
    if np.isfinite(params.gamma):
        value += 0.5 * params.gamma * float(np.sum(mask[:, None] * (u - f) ** 2))
    if prior is not None:
        value += 0.5 * float(np.sum(prior_weight[:, None] * (u - prior) ** 2))
    return value


def solve(guide: np.ndarray, mask: np.ndarray, targets: np.ndarray, params: Parameters = Parameters(),
          prior: np.ndarray | None = None, prior_weight: np.ndarray | None = None,
          x0: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Minimise the energy for chroma ``targets`` (``H×W×2``) at the ``mask`` pixels.

    Returns the chroma (``H×W×2``) and an info dict: iterations (outer), primal and dual residual,
    energy, seconds. Reaching ``maxiter`` warns and returns the last iterate.
    """
    start = time.perf_counter()
    guide = check_guide(guide)
    shape, n = guide.shape, guide.size
    mask = np.asarray(mask, bool).ravel()
    f = np.asarray(targets, dtype=np.float64).reshape(n, 2)
    if not mask.any() and prior is None:
        raise InputError("nothing fixes the colours: give cues or a prior")
    grad = gradient_operator(shape)
    d, w = edge_operator(guide)
    laplacian = grad.T @ grad
    p = None if prior is None else np.asarray(prior, dtype=np.float64).reshape(n, 2)
    c = np.zeros(n) if prior_weight is None else np.asarray(prior_weight, dtype=np.float64).ravel()
    quadratic = params.lam * (laplacian.T @ laplacian) + sp.diags(c)
    hard = not np.isfinite(params.gamma)
    rhs_fixed = (c[:, None] * p) if p is not None else np.zeros((n, 2))
    if not hard:
        quadratic = quadratic + sp.diags(params.gamma * mask)
        rhs_fixed = rhs_fixed + params.gamma * mask[:, None] * f
    free = ~mask if hard else np.ones(n, bool)
    u = np.zeros((n, 2)) if x0 is None else np.asarray(x0, dtype=np.float64).reshape(n, 2).copy()
    if hard:
        u[mask] = f[mask]
    edges_squared = (d.T @ d).tocsr()

    def u_step(rho: float):
        """The u-step's solver for penalty ``rho``: the factorised free block (hard cues eliminated)."""
        system = (quadratic + rho * edges_squared).tocsr()
        # SPD: symmetric ordering, no pivoting. (Our grid nested dissection, with two-pixel
        # separators for the bilaplacian's reach, gives 8 % more fill than minimum degree here.)
        factor = splu(system[free][:, free].tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                      options={"SymmetricMode": True})
        coupling = system[free][:, mask] if hard else None

        def apply(rhs):
            if hard:
                out = u.copy()
                out[free] = factor.solve(rhs[free] - coupling @ f[mask])
                return out
            return factor.solve(rhs)
        return apply

    if params.mu == 0:  # no GTV: the quadratic alone, solved directly (ADMM would only crawl to it)
        u = u_step(0.0)(rhs_fixed)
        info = {"iterations": 0, "primal_residual": 0.0, "dual_residual": 0.0}
    else:
        rho = params.rho
        step = u_step(rho)
        z = d @ u
        y = np.zeros_like(z)
        info = {"iterations": 0, "primal_residual": np.inf, "dual_residual": np.inf}
        for iteration in range(1, params.maxiter + 1):
            u = step(rhs_fixed + rho * (d.T @ (z - y)))
            du = d @ u
            z_old = z
            relaxed = _RELAXATION * du + (1.0 - _RELAXATION) * z_old
            v = relaxed + y
            norms = np.linalg.norm(v, axis=1, keepdims=True)
            z = np.maximum(0.0, 1.0 - (params.mu * w / rho)[:, None] / np.maximum(norms, 1e-300)) * v
            y = y + relaxed - z
            primal = float(np.linalg.norm(du - z))
            dual = float(rho * np.linalg.norm(d.T @ (z - z_old)))
            # Relative tolerances with an absolute floor of 1e-3 ab units per entry (Boyd et al. §3.3.1).
            primal_scale = max(float(np.linalg.norm(du)), float(np.linalg.norm(z)), 1e-3 * np.sqrt(z.size))
            dual_scale = max(float(rho * np.linalg.norm(d.T @ y)), 1e-3 * np.sqrt(u.size))
            info.update(iterations=iteration, primal_residual=primal / primal_scale, dual_residual=dual / dual_scale)
            if primal <= params.tol * primal_scale and dual <= params.tol * dual_scale:
                break
            # Residual balancing (Boyd et al. §3.4.1) at iterations 10, 20, 40, 80, …: each change of
            # the penalty costs a new factorisation, so they become rarer as the iterate settles.
            ratio = info["primal_residual"] / max(info["dual_residual"], 1e-300)
            if iteration in _BALANCE_AT and not 0.1 <= ratio <= 10:
                factor = 2.0 if info["primal_residual"] > info["dual_residual"] else 0.5
                rho *= factor
                y /= factor
                step = u_step(rho)
        else:
            warnings.warn(f"bilaplacian-gtv: ADMM stopped after {params.maxiter} iterations at relative residuals "
                          f"{info['primal_residual']:.1e} (primal), {info['dual_residual']:.1e} (dual)",
                          ConvergenceWarning, stacklevel=2)
    info["energy"] = energy(u, shape, grad, d, w, mask, f, params, p, c if p is not None else None)
    info["seconds"] = time.perf_counter() - start
    return u.reshape(shape + (2,)), info
