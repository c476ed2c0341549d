"""Restarted GMRES for several right-hand sides at once, written against an array backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .device import to_host


def gmres(
    apply_a: Callable,
    b,
    apply_m: Callable,
    xp,
    x0=None,
    tol: float = 1e-6,
    restart: int = 30,
    maxiter: int = 300,
    history: list | None = None,
) -> tuple[object, int, np.ndarray]:
    """Solve ``A x = b`` for an ``N×C`` array ``b``."""
    n, channels = b.shape
    b_norm = xp.linalg.norm(b, axis=0)
    b_norm = xp.where(b_norm > 0, b_norm, 1.0)
    host_b_norm = to_host(b_norm, xp)
    x = xp.zeros_like(b) if x0 is None else x0.copy()
    r = b - apply_a(x)
    beta = to_host(xp.linalg.norm(r, axis=0), xp)
    iterations = 0
    # Channel-major Krylov bases, so each channel's Gram–Schmidt is two matrix–vector products.
    basis = xp.empty((channels, restart + 1, n), dtype=b.dtype)
    directions = xp.empty((restart, n, channels), dtype=b.dtype)
    while iterations < maxiter and np.any(beta / host_b_norm > tol):
        hessenberg = np.zeros((channels, restart + 1, restart))
        g = np.zeros((channels, restart + 1))
        g[:, 0] = beta
        basis[:, 0] = (r / xp.asarray(np.where(beta > 0, beta, 1.0))).T
        steps = 0
        for j in range(min(restart, maxiter - iterations)):
            directions[j] = apply_m(xp.ascontiguousarray(basis[:, j].T))
            w = xp.ascontiguousarray(apply_a(directions[j]).T)
            for c in range(channels):
                span = basis[c, : j + 1]
                h = span @ w[c]
                w[c] -= h @ span
                again = span @ w[c]  # classical Gram–Schmidt, twice: stable and BLAS-friendly
                w[c] -= again @ span
                hessenberg[c, : j + 1, j] = to_host(h + again, xp)
            norm = to_host(xp.linalg.norm(w, axis=1), xp)
            hessenberg[:, j + 1, j] = norm
            basis[:, j + 1] = w / xp.asarray(np.where(norm > 0, norm, 1.0))[:, None]
            steps = j + 1
            iterations += 1
            estimate = _least_squares_residual(hessenberg[:, : steps + 1, :steps], g[:, : steps + 1])
            if history is not None:
                history.append(float(np.max(estimate / host_b_norm)))
            if np.all(estimate / host_b_norm <= tol * 0.5):
                break
        for c in range(channels):
            y = np.linalg.lstsq(hessenberg[c, : steps + 1, :steps], g[c, : steps + 1], rcond=None)[0]
            x[:, c] += xp.asarray(y) @ directions[:steps, :, c]
        r = b - apply_a(x)
        beta = to_host(xp.linalg.norm(r, axis=0), xp)
        if history is not None and steps:
            history[-1] = float(np.max(beta / host_b_norm))  # the cycle's end: the true residual
    return x, iterations, beta / host_b_norm


def _least_squares_residual(hessenberg: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Residual norm of each channel's small least-squares problem ``min ‖g - H y‖``."""
    out = np.empty(g.shape[0])
    for c in range(g.shape[0]):
        y = np.linalg.lstsq(hessenberg[c], g[c], rcond=None)[0]
        out[c] = np.linalg.norm(g[c] - hessenberg[c] @ y)
    return out


def bicgstab(
    apply_a: Callable,
    b,
    apply_m: Callable,
    xp,
    x0=None,
    tol: float = 1e-6,
    maxiter: int = 1000,
    history: list | None = None,
) -> tuple[Any, int, np.ndarray]:  # x is an ``xp`` array: NumPy's, or CuPy's (which has no types)
    """Solve ``A x = b`` for an ``N×C`` array ``b`` by BiCGSTAB (van der Vorst, 1992), each column its own
    recurrence, the columns sharing every operator and preconditioner application."""
    b_norm = xp.linalg.norm(b, axis=0)
    b_norm = xp.where(b_norm > 0, b_norm, 1.0)
    x = xp.zeros_like(b) if x0 is None else xp.array(x0, dtype=b.dtype)
    r = b - apply_a(x)
    shadow = r.copy()
    p, v = xp.zeros_like(b), xp.zeros_like(b)
    channels = b.shape[1]
    rho = alpha = omega = xp.ones(channels, dtype=b.dtype)
    active = to_host(xp.linalg.norm(r, axis=0) / b_norm, xp) > tol
    iterations = 0
    while iterations < maxiter and active.any():
        on = xp.asarray(active.astype(b.dtype))  # a column that converged or broke down stays put
        rho_next = xp.sum(shadow * r, axis=0)
        beta = _ratio(rho_next, rho, xp) * _ratio(alpha, omega, xp)
        p = r + beta * (p - omega * v)
        y = apply_m(p)
        v = apply_a(y)
        alpha = _ratio(rho_next, xp.sum(shadow * v, axis=0), xp) * on
        s = r - alpha * v
        z = apply_m(s)
        t = apply_a(z)
        omega = _ratio(xp.sum(t * s, axis=0), xp.sum(t * t, axis=0), xp) * on
        x += alpha * y + omega * z
        r = s - omega * t
        rho = rho_next
        iterations += 1
        residual = to_host(xp.linalg.norm(r, axis=0) / b_norm, xp)
        if history is not None:
            history.append(float(residual.max()))
        # zero steps: the recurrence broke down (or stagnated exactly); the column stops there
        stalled = to_host((alpha == 0) & (omega == 0), xp) | ~np.isfinite(residual)
        active &= (residual > tol) & ~stalled
    residual = to_host(xp.linalg.norm(b - apply_a(x), axis=0) / b_norm, xp)
    return x, iterations, residual


def _ratio(top, bottom, xp):
    """``top / bottom`` element-wise, 0 where ``bottom`` is 0."""
    return xp.where(bottom != 0, top / xp.where(bottom != 0, bottom, 1.0), 0.0)
