"""Linear solvers for the energies' systems: built once for an operator, applied to many right-hand sides.

Every solver takes a :class:`~varcolor.solvers.stencil.GridOperator`, solves for ``H×W×C``
right-hand sides from an optional initial guess, and returns the solution with a
:class:`SolveInfo` (iterations, relative residual, seconds).
"""

from __future__ import annotations

from ..errors import InputError
from ..memory import available_bytes
from .amg import AmgSolver, CgSolver
from .base import TOL, SolveInfo, not_symmetric
from .device import DEVICES, backend
from .direct import DirectSolver
from .multigrid import MultigridSolver
from .stencil import GridOperator

__all__ = ["TOL", "SolveInfo", "DirectSolver", "AmgSolver", "CgSolver", "MultigridSolver", "GridOperator", "SOLVERS",
           "DEVICES", "choose_solver", "make_solver", "estimate_bytes"]

#: Solver names accepted by ``varcolor.colorize(..., solver=...)``; ``"auto"`` picks one of them.
SOLVERS = {"direct": DirectSolver, "amg": AmgSolver, "multigrid": MultigridSolver, "cg": CgSolver}
#: Solvers for symmetric positive definite systems only.
SYMMETRIC_ONLY = ("multigrid", "cg")


def estimate_bytes(solver: str, pixels: int) -> int:
    """Rough peak memory of a solve of ``pixels`` unknowns, two channels (fitted on photos).

    LU fill grows a little faster than the image (the multifrontal factors in single precision:
    0.63 GB at 1 MP, 2.6 GB at 4 MP, benchmarks/speed.py; a third more here); AMG + GMRES(20) is
    linear: operator, single-precision hierarchy, pyamg's setup temporaries and the Krylov bases;
    so are the grid multigrid (operator, single-precision levels and six CG vectors) and ``cg``.
    """
    megapixels = pixels / 1e6
    if solver == "direct":
        return int(0.85e9 * max(megapixels, 1e-3) ** 1.1)
    if solver == "multigrid":
        return int(400 * pixels + 50e6)
    if solver == "cg":  # measured 0.43 GB at 1 MP and 1.77 GB at 4 MP (Ruge–Stüben levels, CG vectors)
        return int(600 * pixels + 50e6)
    return int(1250 * pixels + 50e6)


def choose_solver(name: str, shape: tuple[int, int], device: str = "cpu", symmetric: bool = False) -> str:
    """Resolve ``"auto"`` and refuse, before allocating, a solve that would not fit in memory
    (``symmetric``: the system is SPD, as the symmetric energies' are)."""
    if name != "auto" and name not in SOLVERS:
        raise InputError(f"unknown solver {name!r}; available: auto, {', '.join(SOLVERS)}")
    if device not in DEVICES:
        raise InputError(f"unknown device {device!r}; available: {', '.join(DEVICES)}")
    if name in SYMMETRIC_ONLY and not symmetric:
        raise InputError(not_symmetric(name))
    pixels = shape[0] * shape[1]
    if name == "auto" and symmetric:
        # Linear in the pixels, a few tens of V-cycles (benchmarks/speed.py); the grid multigrid's
        # Gauss–Seidel runs on the CPU, the Ruge–Stüben cycle of 'cg' on either device.
        name = "multigrid" if device == "cpu" else "cg"
    if name == "auto":
        # The LU is exact, never fails to converge (AMG stalls on sparse scribbles at 1 MP) and is
        # faster than AMG and smaller than its hierarchy (benchmarks/speed.py): the choice on the
        # CPU wherever it fits in memory.
        fits = estimate_bytes("direct", pixels) <= 0.9 * available_bytes()
        name = "direct" if device == "cpu" and fits else "amg"
    if name == "direct" and device != "cpu":
        raise InputError("solver 'direct' runs on the CPU only; with device='cuda' use solver='amg' "
                         "(or 'cg' for a symmetric method)")
    need, have = estimate_bytes(name, pixels), available_bytes()
    if need > 0.9 * have:
        fits = [other for other in SOLVERS if other != name and (symmetric or other not in SYMMETRIC_ONLY)
                and estimate_bytes(other, pixels) <= 0.9 * have]
        hint = f"; solver '{fits[0]}' needs about {estimate_bytes(fits[0], pixels) / 1e9:.1f} GB" if fits else ""
        raise InputError(f"a {shape[1]}×{shape[0]} image ({pixels / 1e6:.1f} MP) needs about {need / 1e9:.1f} GB "
                         f"with solver '{name}' but {have / 1e9:.1f} GB are available{hint}")
    return name


def make_solver(name: str, operator: GridOperator, tol: float = TOL, maxiter: int = 300, device: str = "cpu",
                symmetric: bool = False):
    """Build solver ``name`` (``"auto"`` allowed) for ``operator``."""
    name = choose_solver(name, operator.shape, device, symmetric)
    if name == "direct":
        return DirectSolver(operator)
    return SOLVERS[name](operator, tol=tol, maxiter=maxiter, device=device)
