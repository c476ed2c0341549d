"""Preconditioned conjugate gradients for several right-hand sides at once, against an array backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .device import to_host


def pcg(
    apply_a: Callable,
    b,
    apply_m: Callable,
    xp,
    x0=None,
    tol: float = 1e-6,
    maxiter: int = 300,
    history: list | None = None,
) -> tuple[Any, int, np.ndarray]:  # x is an ``xp`` array: NumPy's, or CuPy's (which has no types)
    """Solve ``A x = b`` for an ``N×C`` array ``b``, ``A`` and the preconditioner ``M`` SPD."""
    b_norm = to_host(xp.sqrt(_dot(b, b, xp)), xp)
    scale = np.where(b_norm > 0, b_norm, 1.0)
    x = xp.zeros_like(b) if x0 is None else x0.copy()
    r = b - apply_a(x) if x0 is not None else b.copy()
    residual = to_host(xp.sqrt(_dot(r, r, xp)), xp) / scale
    iterations = 0
    if np.all(residual <= tol):
        return x, iterations, residual
    z = apply_m(r)
    p = z.copy()
    step = xp.empty_like(p)  # one scratch array: the updates below run in place
    rz = _dot(r, z, xp)
    while iterations < maxiter:
        q = apply_a(p)
        curvature = _dot(p, q, xp)
        # A converged column (zero residual) has zero curvature: it takes no step.
        alpha = xp.where(curvature > 0, rz / xp.where(curvature > 0, curvature, 1.0), 0.0)
        x += xp.multiply(p, alpha, out=step)
        r -= xp.multiply(q, alpha, out=step)
        iterations += 1
        residual = to_host(xp.sqrt(_dot(r, r, xp)), xp) / scale
        if history is not None:
            history.append(float(np.max(residual)))
        if np.all(residual <= tol):
            break
        z = apply_m(r)
        rz_new = _dot(r, z, xp)
        p *= xp.where(rz != 0, rz_new / xp.where(rz != 0, rz, 1.0), 0.0)
        p += z
        rz = rz_new
    return x, iterations, residual


def _dot(u, v, xp):
    """Column-wise dot products (einsum: no N×C temporary)."""
    return xp.einsum("ij,ij->j", u, v)
