"""Algebraic multigrid (pyamg's AIR hierarchy) preconditioning GMRES, on the CPU or a GPU.

Levin's exact system is far from symmetric: a pixel in a flat region listens almost only to its
most similar neighbour, while edge pixels listen to both sides. Symmetric multigrids (smoothed
aggregation, Ruge–Stüben, geometric) need 80–300 GMRES iterations on it; AIR (approximate ideal
restriction, built for such directed problems) needs 12–40 on Kodak photos with 1 % random cues.
Hard cases (a smooth 1 MP photo with grid, sparse-random or scribbled cues) need 100–300
iterations, so ``solver="auto"`` prefers the exact LU wherever it fits (benchmarks/results/speed.md). pyamg builds the hierarchy on the CPU;
the cycle below is plain sparse-matrix array code, so the same code runs on NumPy/SciPy or CuPy.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pyamg

from ..errors import ConvergenceWarning
from .base import TOL, SolveInfo
from .device import backend
from .krylov import gmres
from .stencil import GridOperator

# Fast AIR setup: distance-1 restriction with a stricter strength threshold set up 3–4× faster
# than pyamg's defaults and still converges in about 20 iterations on Kodak photos.
_AIR_OPTIONS = {"strength": ("classical", {"theta": 0.5, "norm": "min"}),
                "restrict": ("air", {"theta": 0.05, "degree": 1})}
_F_SWEEPS = 2
_C_SWEEPS = 1
# Double precision throughout: the systems can be so ill-conditioned (a coarsest level of condition
# 1e13 on a smooth 1 MP photo) that a single-precision cycle makes GMRES stall at a residual of 2e-2.
_CYCLE_DTYPE = np.float64


class AirHierarchy:
    """The levels of a pyamg AIR hierarchy moved to a device, and its V-cycle.

    Smoothing is AIR's F–F–C Jacobi after each coarse correction (no pre-smoothing); the coarsest
    level (≤ ``max_coarse`` unknowns) is solved with a dense inverse.
    """

    def __init__(self, matrix, device: str = "cpu", max_coarse: int = 400):
        self.backend = backend(device)
        multilevel = pyamg.air_solver(matrix.tocsr(), max_coarse=max_coarse, **_AIR_OPTIONS)
        be = self.backend
        self.levels = []
        for level in multilevel.levels[:-1]:
            diagonal = level.A.diagonal()
            inverse = np.where(diagonal != 0, 1.0 / np.where(diagonal != 0, diagonal, 1.0), 0.0)
            fine = level.splitting == 0
            self.levels.append({
                "A": be.csr(level.A, _CYCLE_DTYPE), "P": be.csr(level.P, _CYCLE_DTYPE),
                "R": be.csr(level.R, _CYCLE_DTYPE),
                "f_scale": be.asarray((inverse * fine)[:, None], _CYCLE_DTYPE),
                "c_scale": be.asarray((inverse * ~fine)[:, None], _CYCLE_DTYPE),
            })
        coarsest = multilevel.levels[-1].A.toarray()
        self.coarse_inverse = be.asarray(np.linalg.pinv(coarsest), _CYCLE_DTYPE)
        self.complexity = multilevel.operator_complexity()

    def replace_finest(self, matrix) -> None:
        """Use a new finest-level matrix (e.g. after cues changed) with the old coarse levels."""
        diagonal = matrix.diagonal()
        inverse = np.where(diagonal != 0, 1.0 / np.where(diagonal != 0, diagonal, 1.0), 0.0)
        first = self.levels[0]
        fine = self.backend.to_host(first["f_scale"])[:, 0] != 0
        first["A"] = self.backend.csr(matrix, _CYCLE_DTYPE)
        first["f_scale"] = self.backend.asarray((inverse * fine)[:, None], _CYCLE_DTYPE)
        first["c_scale"] = self.backend.asarray((inverse * ~fine)[:, None], _CYCLE_DTYPE)

    def precondition(self, b):
        """One V-cycle for ``A x = b`` in the cycle's precision, returned in ``b``'s precision."""
        return self.vcycle(b.astype(_CYCLE_DTYPE)).astype(b.dtype)

    def vcycle(self, b, level: int = 0):
        """One V-cycle from a zero guess for ``A x = b`` (``b``: ``N×C``)."""
        if level == len(self.levels):
            return self.coarse_inverse @ b
        current = self.levels[level]
        x = current["P"] @ self.vcycle(current["R"] @ b, level + 1)
        a = current["A"]
        for _ in range(_F_SWEEPS):
            x += current["f_scale"] * (b - a @ x)
        for _ in range(_C_SWEEPS):
            x += current["c_scale"] * (b - a @ x)
        return x


class AmgSolver:
    """GMRES on the exact system, preconditioned by one AIR V-cycle per iteration.

    Parameters
    ----------
    operator : GridOperator
    tol : float
        Relative residual ``‖b − A x‖ / ‖b‖`` to reach, per channel.
    maxiter : int
        Iteration limit; reaching it warns (:class:`~varcolor.errors.ConvergenceWarning`) and
        returns the last iterate.
    device : {"cpu", "cuda"}
        Where the cycle runs (the hierarchy is always built on the CPU).

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.energies.levin import exact_operator
    >>> rng = np.random.default_rng(0)
    >>> mask = rng.random((40, 50)) < 0.05
    >>> solver = AmgSolver(exact_operator(rng.random((40, 50)), mask))
    >>> x, info = solver.solve(np.where(mask[..., None], 10.0, 0.0))
    >>> bool(np.allclose(x, 10.0, atol=1e-3)), info.residual <= 1e-6
    (True, True)
    """

    name = "amg"

    def __init__(self, operator: GridOperator, tol: float = TOL, maxiter: int = 300, device: str = "cpu",
                 restart: int = 20):
        start = time.perf_counter()
        self.tol, self.maxiter, self.restart = tol, maxiter, restart
        self.shape = operator.shape
        matrix = operator.to_csr().astype(np.float64)
        self.hierarchy = AirHierarchy(matrix, device)
        self.backend = self.hierarchy.backend
        self.matrix = self.backend.csr(matrix)
        self.setup_seconds = time.perf_counter() - start

    def rebind(self, operator: GridOperator) -> AmgSolver:
        """Solve with a changed operator (same size) reusing the coarse levels: cheap, and a good
        preconditioner while the change is small (a few more cue pixels)."""
        start = time.perf_counter()
        matrix = operator.to_csr().astype(np.float64)
        if self.hierarchy.levels:
            self.hierarchy.replace_finest(matrix)
        self.matrix = self.backend.csr(matrix)
        self.setup_seconds = time.perf_counter() - start
        return self

    def solve(self, rhs: np.ndarray, x0: np.ndarray | None = None) -> tuple[np.ndarray, SolveInfo]:
        """Solve ``A X = rhs`` (``H×W×C``) from ``x0`` (default 0)."""
        start = time.perf_counter()
        be = self.backend
        channels = rhs.shape[-1]
        b = be.asarray(np.asarray(rhs, dtype=np.float64).reshape(-1, channels))
        guess = None if x0 is None else be.asarray(np.asarray(x0, dtype=np.float64).reshape(-1, channels))
        x, iterations, residual = gmres(lambda v: self.matrix @ v, b, self.hierarchy.precondition, be.xp, guess,
                                        self.tol, self.restart, self.maxiter)
        worst = float(residual.max(initial=0.0))
        if worst > self.tol:
            warnings.warn(f"amg solver stopped after {iterations} iterations at relative residual "
                          f"{worst:.1e} (tol {self.tol:.0e}); returning the last iterate",
                          ConvergenceWarning, stacklevel=3)
        info = SolveInfo(self.name, iterations, worst, time.perf_counter() - start + self.setup_seconds)
        return be.to_host(x).reshape(rhs.shape), info
