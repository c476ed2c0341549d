"""Linear solvers for the energies' systems: built once for an operator, applied to many right-hand sides."""

from __future__ import annotations

from ..common.memory import BUDGET_FRACTION, available_bytes, memory_budget  # noqa: F401 (available_bytes: re-exported)
from .amg import AmgSolver, CgSolver
from .base import TOL, LinearSystem, RebindableSolver, SolveInfo, Solver
from .choice import (
    SOLVERS,
    SYMMETRIC_ONLY,
    TILES_FROM,
    SolverPlan,
    make_solver,
    plan_solver,
)
from .device import DEVICES, backend
from .direct import DirectSolver
from .multigrid import MultigridSolver
from .stencil import GridOperator
from .tiled import TiledSolver

__all__ = [
    "TOL",
    "SolveInfo",
    "Solver",
    "RebindableSolver",
    "LinearSystem",
    "SolverPlan",
    "plan_solver",
    "DirectSolver",
    "AmgSolver",
    "CgSolver",
    "MultigridSolver",
    "TiledSolver",
    "GridOperator",
    "SOLVERS",
    "DEVICES",
    "backend",
    "make_solver",
    "memory_budget",
    "BUDGET_FRACTION",
    "SYMMETRIC_ONLY",
    "TILES_FROM",
]
