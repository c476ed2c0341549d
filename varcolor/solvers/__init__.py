"""Linear solvers for the energies' systems: built once for a matrix, applied to many right-hand sides.

Every solver returns the solution and a :class:`SolveInfo` (iterations, relative residual, seconds).
"""

from __future__ import annotations

import scipy.sparse as sp

from ..errors import InputError
from .base import SolveInfo
from .direct import DirectSolver

__all__ = ["SolveInfo", "DirectSolver", "SOLVERS", "make_solver"]

#: Solver names accepted by ``varcolor.colorize(..., solver=...)``; ``"auto"`` picks one of them.
SOLVERS = {"direct": DirectSolver}


def make_solver(name: str, matrix: sp.spmatrix):
    """Build the solver ``name`` (or the best available one for ``"auto"``) for ``matrix``."""
    if name == "auto":
        name = "direct"
    if name not in SOLVERS:
        raise InputError(f"unknown solver {name!r}; available: auto, {', '.join(SOLVERS)}")
    return SOLVERS[name](matrix)
