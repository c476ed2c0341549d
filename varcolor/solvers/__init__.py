"""Linear solvers for the energies' systems: built once for an operator, applied to many right-hand sides.

Every solver takes a :class:`~varcolor.solvers.stencil.GridOperator`, solves for ``H×W×C``
right-hand sides and returns the solution with a :class:`SolveInfo` (iterations, relative
residual, seconds).
"""

from __future__ import annotations

from ..errors import InputError
from .base import SolveInfo
from .direct import DirectSolver
from .stencil import GridOperator

__all__ = ["SolveInfo", "DirectSolver", "GridOperator", "SOLVERS", "make_solver"]

#: Solver names accepted by ``varcolor.colorize(..., solver=...)``; ``"auto"`` picks one of them.
SOLVERS = {"direct": DirectSolver}


def make_solver(name: str, operator: GridOperator, **options):
    """Build the solver ``name`` (or the best available one for ``"auto"``) for ``operator``."""
    if name == "auto":
        name = "direct"
    if name not in SOLVERS:
        raise InputError(f"unknown solver {name!r}; available: auto, {', '.join(SOLVERS)}")
    return SOLVERS[name](operator, **options)
