"""Which solver solves a system of a given size, the memory it is expected to need, and building it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..common.kernels import SYMMETRIC_KIND, array_code, small_system
from ..common.memory import _gb, memory_budget
from ..errors import InputError
from .aggregation import AggregationSolver
from .amg import AmgSolver, CgSolver
from .base import TOL, LinearSystem, Solver, not_symmetric
from .device import DEVICES, backend
from .direct import DirectSolver
from .multigrid import MultigridSolver
from .stencil import GridOperator
from .tiled import TiledSolver

__all__ = [
    "SOLVERS",
    "SYMMETRIC_ONLY",
    "TILES_FROM",
    "SolverPlan",
    "estimate_bytes",
    "plan_solver",
    "make_solver",
]

#: Solver names accepted by ``varcolor.colorize(..., solver=...)``; ``"auto"`` picks one of them.
SOLVERS = {
    "direct": DirectSolver,
    "tiles": TiledSolver,
    "amg": AmgSolver,
    "multigrid": MultigridSolver,
    "cg": CgSolver,
    "aggregation": AggregationSolver,
}
#: Solvers for symmetric positive definite systems only.
SYMMETRIC_ONLY = ("multigrid", "cg")
#: Solvers that run on the CPU only.
CPU_ONLY = ("direct", "tiles")
#: Solvers built from the method's system (:class:`~varcolor.solvers.base.LinearSystem`), which
#: they assemble piece by piece, rather than from the assembled operator.
FROM_SYSTEM = ("tiles",)
#: From this size on (pixels), ``auto`` solves Levin's exact system by tiles even where the LU fits:
#: no slower, in a fraction of its memory (benchmarks/results/bigscan.md; docs/big-scans.md, "Measurements").
TILES_FROM = 12_000_000


@dataclass(frozen=True)
class SolverPlan:
    """The solve of one image, decided before anything is allocated (:func:`plan_solver`;
    :func:`varcolor.check_fits` returns a method's, :func:`varcolor.colorize` and
    :class:`varcolor.Colorizer` take it as ``plan=``).

    Attributes
    ----------
    solver : str or None
        The solver (``"auto"`` resolved); None for a method that solves no linear system.
    bytes : int
        Peak memory the solve is expected to need.
    budget : int
        The memory budget it was checked against (bytes).
    reason : str
        Why this solver, in words.
    shape : (int, int)
        The image's height and width.
    requested, device, symmetric, tol, maxiter, max_memory
        What it was planned from: the solver asked for (``"auto"`` or a name), the device,
        whether the system is symmetric positive definite, the iterative solvers' tolerance and
        iteration limit, the memory budget given (None: the default share of what is available).
    method : str or None
        The method planned for (set by :meth:`varcolor.methods.Method.plan`).

    Examples
    --------
    >>> plan = plan_solver("auto", (600, 800), max_memory=8e9)
    >>> plan.solver, plan.bytes < plan.budget, plan.from_system
    ('direct', True, False)
    >>> plan.reason
    'auto: the exact LU, about 0.4 GB, fits the budget of 8.0 GB (the budget given as max_memory)'
    """

    solver: str | None
    bytes: int
    budget: int
    reason: str
    shape: tuple[int, int]
    requested: str = "auto"
    device: str = "cpu"
    symmetric: bool | None = False
    tol: float = TOL
    maxiter: int = 300
    max_memory: float | None = None
    method: str | None = None

    @property
    def from_system(self) -> bool:
        """The solver assembles the method's system itself (``tiles``): :func:`make_solver` takes
        the :class:`~varcolor.solvers.base.LinearSystem`, not its operator."""
        return self.solver in FROM_SYSTEM

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def estimate_bytes(solver: str, pixels: int) -> int:
    """Rough peak memory of a solve of ``pixels`` unknowns, two channels (fitted on photos).

    Parameters
    ----------
    solver : str
        The solver's name (not ``"auto"``): ``"direct"``, ``"tiles"``, ``"multigrid"``, ``"cg"``,
        ``"aggregation"``; any other is counted as ``"amg"``.
    pixels : int
        The system's unknowns (the image's pixels).
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
    if solver == "aggregation":  # its levels, BiCGSTAB's vectors (benchmarks/results/aggregation_iterations.md)
        return int(520 * pixels + 50e6)
    return int(1250 * pixels + 50e6)


def plan_solver(
    name: str,
    shape: tuple[int, int],
    *,
    device: str = "cpu",
    symmetric: bool = False,
    max_memory: float | None = None,
    tol: float = TOL,
    maxiter: int = 300,
    what: str | None = None,
) -> SolverPlan:
    """The :class:`SolverPlan` for solver ``name`` (``"auto"`` resolved) on an image of ``shape``,
    refusing, before allocating, a solve that would not fit in the memory budget (``max_memory``
    bytes; default :func:`~varcolor.common.memory.memory_budget`'s) or a solver that cannot solve it
    (``symmetric``: the system is SPD, as the symmetric energies' are).

    Parameters
    ----------
    name : str
        The solver asked for: ``"auto"`` or one of :data:`SOLVERS`.
    shape : tuple of int
        The image's ``(H, W)``.
    device : str, optional
        ``"cpu"`` or ``"cuda"``.
    symmetric : bool, optional
        Whether the system is symmetric positive definite.
    max_memory : float, optional
        The memory budget in bytes; None for :func:`~varcolor.common.memory.memory_budget`'s default.
    tol : float, optional
        The iterative solvers' relative residual to reach.
    maxiter : int, optional
        The iterative solvers' iteration limit.
    what : str, optional
        What the system is of, as a refusal names it (default: ``a W×H image``): a method's grid.

    Examples
    --------
    >>> plan_solver("auto", (4000, 5000), max_memory=1e9).solver
    Traceback (most recent call last):
    ...
    varcolor.errors.InputError: a 5000×4000 image (20.0 MP) needs about 4.4 GB with solver 'tiles', ...
    """
    if name != "auto" and name not in SOLVERS:
        raise InputError(f"unknown solver {name!r}; available: auto, {', '.join(SOLVERS)}")
    if device not in DEVICES:
        raise InputError(f"unknown device {device!r}; available: {', '.join(DEVICES)}")
    if name in SYMMETRIC_ONLY and not symmetric:
        raise InputError(not_symmetric(name))
    if name in CPU_ONLY and device != "cpu":
        raise InputError(
            f"solver {name!r} runs on the CPU only; with device='cuda' use solver='aggregation' "
            "(or 'amg', or 'cg' for a symmetric method)"
        )
    backend(device)  # a GPU asked for where CuPy or the GPU is missing: refused here, as the solve would
    shape = (int(shape[0]), int(shape[1]))
    pixels = shape[0] * shape[1]
    budget, how = memory_budget(max_memory)
    requested, reason = name, "asked for"
    if name == "auto" and symmetric:
        # Linear in the pixels (benchmarks/results/speed_symmetric.md); pyamg's set-up runs on one core.
        name = "multigrid" if device == "cpu" else "aggregation"
        reason = f"auto: a symmetric system, linear time and memory on the {device.upper()}"
        if device != "cpu":
            reason += ", the hierarchy built there"
        if device == "cpu" and array_code(pixels, SYMMETRIC_KIND):
            # The multigrid's kernels are not compiled (a first run): a solver that needs none.
            name = "direct" if small_system(pixels) else "cg"
            reason = f"auto: a symmetric system on a small photo whose multigrid kernels are not compiled: {name}"
    if name == "auto":
        # The LU is exact, never fails to converge, and is faster than AMG (benchmarks/results/speed.md):
        # the choice on the CPU wherever it fits and is not slower than the tiles.
        lu = estimate_bytes("direct", pixels)
        if device != "cpu":
            name, reason = "aggregation", "auto: the LU runs on the CPU only; a hierarchy built on the GPU"
        elif pixels < TILES_FROM and lu <= budget:
            name, reason = "direct", f"auto: the exact LU, about {_gb(lu)}, fits the budget of {_gb(budget)} ({how})"
        elif pixels >= TILES_FROM:
            name, reason = "tiles", f"auto: {pixels / 1e6:.1f} MP, where tiles are no slower than one LU"
        else:
            name, reason = "tiles", f"auto: one LU, about {_gb(lu)}, would not fit the budget of {_gb(budget)}"
    need = estimate_bytes(name, pixels)
    if need > budget:
        usable = [
            other
            for other in SOLVERS
            if other != name
            and (symmetric or other not in SYMMETRIC_ONLY)
            and not (device != "cpu" and other in CPU_ONLY)
        ]
        if symmetric:  # the symmetric solvers first: linear time and memory
            usable.sort(key=lambda other: other not in SYMMETRIC_ONLY)
        fits = [other for other in usable if estimate_bytes(other, pixels) <= budget]
        smallest = min(usable, key=lambda other: estimate_bytes(other, pixels))
        hint = (
            f"; solver '{fits[0]}' would fit (about {_gb(estimate_bytes(fits[0], pixels))})"
            if fits
            else f"; no solver fits (the smallest, '{smallest}', needs about {_gb(estimate_bytes(smallest, pixels))})"
        )
        raise InputError(
            f"{what or f'a {shape[1]}×{shape[0]} image'} ({pixels / 1e6:.1f} MP) needs about {_gb(need)} "
            f"with solver '{name}', over the memory budget of {_gb(budget)} ({how}){hint}"
        )
    return SolverPlan(
        name, need, budget, reason, shape, requested, device, bool(symmetric), float(tol), int(maxiter), max_memory
    )


def make_solver(
    plan: SolverPlan | str,
    source: GridOperator | LinearSystem,
    tol: float = TOL,
    maxiter: int = 300,
    device: str = "cpu",
    symmetric: bool = False,
    max_memory: float | None = None,
    *,
    progress=None,
) -> Solver:
    """Build the solver of ``plan`` (a :class:`SolverPlan`, or a solver name — ``"auto"``
    allowed — planned here from the other arguments) for ``source``: the assembled operator, or
    the method's :class:`~varcolor.solvers.base.LinearSystem` (which every solver takes; ``tiles``
    needs it). ``progress``: the tiles' progress callback.

    Parameters
    ----------
    plan : SolverPlan or str
        The plan, or a solver's name (``"auto"`` allowed) to plan from the arguments below.
    source : GridOperator or LinearSystem
        The system to solve.
    tol, maxiter, device, symmetric, max_memory : optional
        As :func:`plan_solver` takes them; read only where ``plan`` is a name (a plan holds its own).
    progress : callable, optional
        The tiled solver's progress callback.

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.energies.levin import exact_operator
    >>> mask = np.zeros((20, 30), bool); mask[:, 0] = True
    >>> solver = make_solver("amg", exact_operator(np.full((20, 30), 0.5), mask))
    >>> x, info = solver.solve(np.where(mask[..., None], 3.0, 0.0))
    >>> info.solver, bool(np.allclose(x, 3.0)), solver.supports_rebind
    ('amg', True, True)
    """
    if isinstance(plan, str):
        plan = plan_solver(
            plan, source.shape, device=device, symmetric=symmetric, max_memory=max_memory, tol=tol, maxiter=maxiter
        )
    if plan.solver is None:
        raise ValueError(f"method {plan.method!r} solves no linear system: no solver to build")
    if plan.from_system:
        if not isinstance(source, LinearSystem):
            raise TypeError(
                f"solver {plan.solver!r} is built from the method's LinearSystem, not an assembled operator"
            )
        return TiledSolver(source, progress=progress)
    operator = source.assemble()[0] if isinstance(source, LinearSystem) else source
    if plan.solver == "direct":
        return DirectSolver(operator)
    return SOLVERS[plan.solver](operator, tol=plan.tol, maxiter=plan.maxiter, device=plan.device)
