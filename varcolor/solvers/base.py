"""What every solver reports."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ConvergenceWarning

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
    """The :class:`SolveInfo` of an iterative solve (``residual``: per right-hand side); warns,
    naming the residual reached, when it is above ``tol``."""
    worst = float(np.max(residual, initial=0.0))
    if worst > tol:
        warnings.warn(
            f"{name} solver stopped after {iterations} iterations at relative residual {worst:.1e} "
            f"(tol {tol:.0e}); returning the last iterate",
            ConvergenceWarning,
            stacklevel=4,
        )
    return SolveInfo(name, iterations, worst, seconds)
