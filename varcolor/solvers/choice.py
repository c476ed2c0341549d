"""Which solver solves a system of a given size, and the memory it is expected to need.

Like pyamg's ``blackbox.py``: :func:`choose_solver` resolves ``"auto"`` from the system's size,
symmetry, device and the memory budget, and refuses, before anything is allocated, a solve that
would not fit; :func:`make_solver` builds the chosen solver for an operator.
"""

from __future__ import annotations

from ..errors import InputError
from ..memory import _gb, memory_budget
from .amg import AmgSolver, CgSolver
from .base import TOL, not_symmetric
from .device import DEVICES
from .direct import DirectSolver
from .multigrid import MultigridSolver
from .stencil import GridOperator
from .tiled import TiledSolver

__all__ = ["SOLVERS", "SYMMETRIC_ONLY", "EXACT_ONLY", "TILES_FROM", "estimate_bytes", "choose_solver", "make_solver"]

#: Solver names accepted by ``varcolor.colorize(..., solver=...)``; ``"auto"`` picks one of them.
SOLVERS = {"direct": DirectSolver, "tiles": TiledSolver, "amg": AmgSolver, "multigrid": MultigridSolver, "cg": CgSolver}
#: Solvers for symmetric positive definite systems only.
SYMMETRIC_ONLY = ("multigrid", "cg")
#: Solvers for Levin's exact system only (built from the problem, not from an assembled operator).
EXACT_ONLY = ("tiles",)
#: From this size on (pixels), ``auto`` solves Levin's exact system by tiles even where the LU
#: fits: at 16 MP they are no slower than the LU in a fraction of its memory, while at 4 MP the LU
#: is faster (benchmarks/results/bigscan.md; docs/big-scans.md, "Measurements").
TILES_FROM = 12_000_000


def estimate_bytes(solver: str, pixels: int) -> int:
    """Rough peak memory of a solve of ``pixels`` unknowns, two channels (fitted on photos).

    LU fill grows a little faster than the image (the multifrontal factors in single precision;
    fitted to the peak memory in benchmarks/results/speed.md, with a third more); AMG + GMRES(20) is
    linear: operator, single-precision hierarchy, pyamg's setup temporaries and the Krylov bases;
    so are the grid multigrid (operator, single-precision levels and six CG vectors) and ``cg``.
    """
    megapixels = pixels / 1e6
    if solver == "tiles":  # fitted to the peak memory, inputs included, in benchmarks/results/bigscan.md
        return int(min(estimate_bytes("direct", TiledSolver.largest_lu(pixels)), 1.6e9) + 1.0e9 + 90 * pixels)
    if solver == "direct":
        return int(0.85e9 * max(megapixels, 1e-3) ** 1.1)
    if solver == "multigrid":
        return int(400 * pixels + 50e6)
    if solver == "cg":  # Ruge–Stüben levels, CG vectors (benchmarks/results/speed_symmetric_cg.md)
        return int(600 * pixels + 50e6)
    return int(1250 * pixels + 50e6)


def choose_solver(
    name: str, shape: tuple[int, int], device: str = "cpu", symmetric: bool = False, max_memory: float | None = None
) -> str:
    """Resolve ``"auto"`` and refuse, before allocating, a solve that would not fit in the memory
    budget (``max_memory`` bytes; default :func:`memory_budget`'s); ``symmetric``: the system is
    SPD, as the symmetric energies' are."""
    if name != "auto" and name not in SOLVERS:
        raise InputError(f"unknown solver {name!r}; available: auto, {', '.join(SOLVERS)}")
    if device not in DEVICES:
        raise InputError(f"unknown device {device!r}; available: {', '.join(DEVICES)}")
    if name in SYMMETRIC_ONLY and not symmetric:
        raise InputError(not_symmetric(name))
    if name in EXACT_ONLY and symmetric:
        raise InputError(
            f"solver {name!r} solves method 'levin' only; use solver 'multigrid' or 'cg' for a symmetric method"
        )
    if name in ("direct", "tiles") and device != "cpu":
        raise InputError(
            f"solver {name!r} runs on the CPU only; with device='cuda' use solver='amg' "
            "(or 'cg' for a symmetric method)"
        )
    pixels = shape[0] * shape[1]
    budget, how = memory_budget(max_memory)
    if name == "auto" and symmetric:
        # Linear in the pixels, a few tens of V-cycles (benchmarks/results/speed_symmetric.md); the
        # grid multigrid's Gauss–Seidel runs on the CPU, the Ruge–Stüben cycle of 'cg' on either
        # device.
        name = "multigrid" if device == "cpu" else "cg"
    if name == "auto":
        # The LU is exact, never fails to converge (AMG stalls on sparse scribbles at 1 MP) and is
        # faster than AMG and smaller than its hierarchy (benchmarks/results/speed.md): the choice
        # on the CPU wherever it fits and is not slower than the tiles (from about 12 MP on).
        if device != "cpu":
            name = "amg"
        elif pixels < TILES_FROM and estimate_bytes("direct", pixels) <= budget:
            name = "direct"
        else:
            name = "tiles"
    need = estimate_bytes(name, pixels)
    if need > budget:
        usable = [
            other
            for other in SOLVERS
            if other != name
            and (symmetric or other not in SYMMETRIC_ONLY)
            and not (symmetric and other in EXACT_ONLY)
            and not (device != "cpu" and other in ("direct", "tiles"))
        ]
        fits = [other for other in usable if estimate_bytes(other, pixels) <= budget]
        smallest = min(usable, key=lambda other: estimate_bytes(other, pixels))
        hint = (
            f"; solver '{fits[0]}' would fit (about {_gb(estimate_bytes(fits[0], pixels))})"
            if fits
            else f"; no solver fits (the smallest, '{smallest}', needs about {_gb(estimate_bytes(smallest, pixels))})"
        )
        raise InputError(
            f"a {shape[1]}×{shape[0]} image ({pixels / 1e6:.1f} MP) needs about {_gb(need)} "
            f"with solver '{name}', over the memory budget of {_gb(budget)} ({how}){hint}"
        )
    return name


def make_solver(
    name: str,
    operator: GridOperator,
    tol: float = TOL,
    maxiter: int = 300,
    device: str = "cpu",
    symmetric: bool = False,
    max_memory: float | None = None,
):
    """Build solver ``name`` (``"auto"`` allowed) for ``operator`` (not ``"tiles"``, which is built
    from the problem: :class:`TiledSolver`)."""
    name = choose_solver(name, operator.shape, device, symmetric, max_memory)
    if name in EXACT_ONLY:
        raise ValueError(f"solver {name!r} is built from the problem, not from an assembled operator")
    if name == "direct":
        return DirectSolver(operator)
    return SOLVERS[name](operator, tol=tol, maxiter=maxiter, device=device)
