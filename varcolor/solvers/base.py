"""What every solver reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ConvergenceError

#: Default relative residual of the iterative solvers. Levin's systems are ill-conditioned where
#: cues are sparse: 1e-6 left solutions visibly off the exact one, 1e-8 keeps them within the
#: 0.05 ab that "exact" allows (docs/guide/solvers.md, "Measurements behind the solvers' settings").
TOL = 1e-8


@dataclass(frozen=True)
class SolveInfo:
    """Report of one solve: solver name, iterations (0 for a direct solve), the final relative
    residual ``max_c ‖b_c - A x_c‖ / ‖b_c‖`` over the right-hand sides, and wall time in seconds."""

    solver: str
    iterations: int
    residual: float
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def relative_norm(r: np.ndarray, b: np.ndarray) -> float:
    """``max_c ‖r_c‖ / ‖b_c‖`` over the columns (``‖r_c‖`` where ``b_c`` is 0)."""
    r, scale = (np.sqrt(np.einsum("ij,ij->j", v, v)) for v in (r, b))  # linalg.norm(axis=0) is much slower
    return float(np.max(np.where(scale > 0, r / np.where(scale > 0, scale, 1.0), r), initial=0.0))


def not_symmetric(solver: str) -> str:
    """The one-line refusal of a solver that needs a symmetric system."""
    return (
        f"solver '{solver}' needs a symmetric system (method 'levin-symmetric'); "
        "use solver 'direct' or 'amg' for method 'levin'"
    )


def report(name: str, iterations: int, residual: np.ndarray, tol: float, seconds: float) -> SolveInfo:
    """The :class:`SolveInfo` of an iterative solve (``residual``: per right-hand side).

    A solve that stopped above ``tol`` raises :class:`~varcolor.errors.ConvergenceError` naming the
    residual reached: its last iterate can be far from the solution (``amg`` on a 5000×2 strip
    stops at relative residual 2e-5 and is 9.5 ab off), so it is never returned as a result.

    >>> report("amg", 300, np.array([2e-5, 1e-9]), 1e-8, 1.0)
    Traceback (most recent call last):
    varcolor.errors.ConvergenceError: amg solver stopped after 300 iterations at relative residual 2.0e-05, ...
    """
    worst = float(np.max(residual, initial=0.0))
    if not worst <= tol:  # NaN too
        raise ConvergenceError(
            f"{name} solver stopped after {iterations} iterations at relative residual {worst:.1e}, "
            f"above its tolerance {tol:.0e}: no result (try solver 'direct', or a larger maxiter)"
        )
    return SolveInfo(name, iterations, worst, seconds)
