"""Algebraic multigrid (pyamg's AIR hierarchy) preconditioning GMRES, on the CPU or a GPU; and the
symmetric (Ruge–Stüben) cycle the ``cg`` solver uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import ClassVar

import numpy as np

from ..errors import InputError
from .base import TOL, SolveInfo, not_symmetric, report
from .cg import pcg
from .device import ArrayBackend, backend
from .krylov import gmres
from .stencil import GridOperator

# Fast AIR setup: distance-1 restriction with a stricter strength threshold
# (benchmarks/results/solvers_measured.md, "Measurements behind the solvers' settings").
_AIR_OPTIONS = {
    "strength": ("classical", {"theta": 0.5, "norm": "min"}),
    "restrict": ("air", {"theta": 0.05, "degree": 1}),
}
_RESTART = 20
_F_SWEEPS = 2
_C_SWEEPS = 1
# Damped Jacobi of the symmetric cycle: sweeps before (and as many after) each coarse correction.
_JACOBI_WEIGHT = 2.0 / 3.0
_JACOBI_SWEEPS = 1
# Double precision throughout: a single-precision cycle makes GMRES stall on smooth photos
# (benchmarks/results/solvers_measured.md, "Measurements behind the solvers' settings").
_CYCLE_DTYPE = np.float64


def _inverse_diagonal(matrix) -> np.ndarray:
    diagonal = matrix.diagonal()
    return np.where(diagonal != 0, 1.0 / np.where(diagonal != 0, diagonal, 1.0), 0.0)


class DeviceHierarchy:
    """The levels of a pyamg hierarchy (built on the CPU) moved to a device; the coarsest level (≤
    ``max_coarse`` unknowns) is solved with a dense pseudo-inverse.
    """

    def __init__(self, multilevel, device: str | ArrayBackend = "cpu"):
        self.backend = device if isinstance(device, ArrayBackend) else backend(device)
        be = self.backend
        self.levels = []
        for level in multilevel.levels[:-1]:
            self.levels.append(
                {
                    "A": be.csr(level.A, _CYCLE_DTYPE),
                    "P": be.csr(level.P, _CYCLE_DTYPE),
                    "R": be.csr(level.R, _CYCLE_DTYPE),
                    "splitting": getattr(level, "splitting", None),
                }
            )
            self.levels[-1].update(self._smoother(_inverse_diagonal(level.A), self.levels[-1]["splitting"]))
        coarsest = multilevel.levels[-1].A.toarray()
        self.coarse_inverse = be.asarray(np.linalg.pinv(coarsest), _CYCLE_DTYPE)
        self.complexity = multilevel.operator_complexity()

    def _smoother(self, inverse_diagonal: np.ndarray, splitting) -> dict:
        """The device arrays the cycle's smoother needs on a level."""
        raise NotImplementedError

    def replace_finest(self, matrix) -> None:
        """Use a new finest-level matrix (e.g. after cues changed) with the old coarse levels.

        Parameters
        ----------
        matrix : scipy.sparse matrix
            The new finest-level matrix, the same size as the old one (on the host).
        """
        first = self.levels[0]
        first["A"] = self.backend.csr(matrix, _CYCLE_DTYPE)
        first.update(self._smoother(_inverse_diagonal(matrix), first["splitting"]))

    def precondition(self, b):
        """One V-cycle for ``A x = b`` in the cycle's precision, returned in ``b``'s precision.

        Parameters
        ----------
        b : ndarray, ``N×C``
            The right-hand sides, on the hierarchy's device.
        """
        return self.vcycle(b.astype(_CYCLE_DTYPE)).astype(b.dtype)

    def vcycle(self, b, level: int = 0):
        """One V-cycle from a zero guess for ``A x = b`` (``b``: ``N×C``).

        Parameters
        ----------
        b : ndarray, ``N×C``
            The right-hand sides on ``level``, on the hierarchy's device.
        level : int, optional
            The level the cycle starts on (0, the finest, by default; the cycle calls itself on the next).
        """
        raise NotImplementedError


class AirHierarchy(DeviceHierarchy):
    """pyamg's AIR hierarchy; smoothing is AIR's F–F–C Jacobi after each coarse correction (no
    pre-smoothing)."""

    def __init__(self, matrix, device: str = "cpu", max_coarse: int = 400):
        import pyamg  # here, not at import: every command imports the solvers, few build a hierarchy

        super().__init__(pyamg.air_solver(matrix.tocsr(), max_coarse=max_coarse, **_AIR_OPTIONS), device)

    def _smoother(self, inverse_diagonal, splitting) -> dict:
        fine = splitting == 0
        return {
            "f_scale": self.backend.asarray((inverse_diagonal * fine)[:, None], _CYCLE_DTYPE),
            "c_scale": self.backend.asarray((inverse_diagonal * ~fine)[:, None], _CYCLE_DTYPE),
        }

    def vcycle(self, b, level: int = 0):
        """One V-cycle from a zero guess for ``A x = b``: the coarse correction, then F–F–C Jacobi."""
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


class SymmetricHierarchy(DeviceHierarchy):
    """pyamg's Ruge–Stüben hierarchy (``R = Pᵀ``) with damped Jacobi before and after each coarse
    correction: a symmetric positive definite preconditioner for SPD systems, with no sequential sweep.
    """

    def __init__(self, matrix, device: str | ArrayBackend = "cpu", max_coarse: int = 400):
        import pyamg  # as in the AIR hierarchy

        super().__init__(pyamg.ruge_stuben_solver(matrix.tocsr(), max_coarse=max_coarse), device)

    def _smoother(self, inverse_diagonal, splitting) -> dict:
        return {"scale": self.backend.asarray((_JACOBI_WEIGHT * inverse_diagonal)[:, None], _CYCLE_DTYPE)}

    def vcycle(self, b, level: int = 0):
        """One V-cycle from a zero guess for ``A x = b``: Jacobi, the coarse correction, Jacobi."""
        if level == len(self.levels):
            return self.coarse_inverse @ b
        current = self.levels[level]
        a, scale = current["A"], current["scale"]
        x = scale * b
        for _ in range(_JACOBI_SWEEPS - 1):
            x += scale * (b - a @ x)
        x += current["P"] @ self.vcycle(current["R"] @ (b - a @ x), level + 1)
        for _ in range(_JACOBI_SWEEPS):
            x += scale * (b - a @ x)
        return x


class AmgSolver:
    """GMRES on the exact system, preconditioned by one AIR V-cycle per iteration.

    Parameters
    ----------
    operator : GridOperator
    tol : float
        Relative residual ``‖b − A x‖ / ‖b‖`` to reach, per channel.
    maxiter : int
        Iteration limit; stopping there above ``tol`` raises
        :class:`~varcolor.errors.ConvergenceError` (no result).
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

    name: ClassVar[str] = "amg"
    supports_rebind: ClassVar[bool] = True
    hierarchy_class: type[DeviceHierarchy] = AirHierarchy
    #: The Krylov method around the preconditioner (:mod:`varcolor.solvers.krylov`'s signature).
    _krylov_method: Callable[..., tuple] = staticmethod(partial(gmres, restart=_RESTART))

    def __init__(self, operator: GridOperator, tol: float = TOL, maxiter: int = 300, device: str = "cpu"):
        start = time.perf_counter()
        self.tol, self.maxiter = tol, maxiter
        self.shape = operator.shape
        matrix = self._matrix(operator)
        # An operator built by array code for want of compiled kernels: SciPy's products, not the
        # parallel kernel's (compiled in a first run's face otherwise).
        on = backend(device, kernels=False) if device == "cpu" and operator.array else device
        self.hierarchy = self.hierarchy_class(matrix, on)
        self.backend = self.hierarchy.backend
        self.matrix = self.backend.csr(matrix)
        self.setup_seconds = time.perf_counter() - start

    def _matrix(self, operator: GridOperator):
        return operator.to_csr().astype(np.float64)

    def rebind(self, operator: GridOperator) -> AmgSolver:
        """Solve with a changed operator (same size) reusing the coarse levels: cheap, and a good
        preconditioner while the change is small (a few more cue pixels).

        Parameters
        ----------
        operator : GridOperator
            The changed system, the same size as the old one.
        """
        start = time.perf_counter()
        matrix = self._matrix(operator)
        if self.hierarchy.levels:
            self.hierarchy.replace_finest(matrix)
        self.matrix = self.backend.csr(matrix)
        self.setup_seconds = time.perf_counter() - start
        return self

    def solve(self, rhs: np.ndarray, x0: np.ndarray | None = None) -> tuple[np.ndarray, SolveInfo]:
        """Solve ``A X = rhs`` (``H×W×C``) from ``x0`` (default 0).

        Parameters
        ----------
        rhs, x0
            As :meth:`~varcolor.solvers.base.Solver.solve` takes them.

        Returns
        -------
        x, info
            As :meth:`~varcolor.solvers.base.Solver.solve` returns them; a residual above ``tol``
            at ``maxiter`` raises :class:`~varcolor.errors.ConvergenceError` instead.
        """
        start = time.perf_counter()
        be = self.backend
        channels = rhs.shape[-1]
        b = be.asarray(np.asarray(rhs, dtype=np.float64).reshape(-1, channels))
        guess = None if x0 is None else be.asarray(np.asarray(x0, dtype=np.float64).reshape(-1, channels))
        history: list[float] = []
        x, iterations, residual = self._krylov(b, guess, history)
        return be.to_host(x).reshape(rhs.shape), report(
            self.name, iterations, residual, self.tol, time.perf_counter() - start + self.setup_seconds, history
        )

    def _krylov(self, b, guess, history):
        # One call for every subclass: each names only its method (_krylov_method) and its preconditioner.
        return self._krylov_method(
            lambda v: self.matrix @ v,
            b,
            self._preconditioner(),
            self.backend.xp,
            guess,
            self.tol,
            maxiter=self.maxiter,
            history=history,
        )

    def _preconditioner(self) -> Callable:
        """One V-cycle of the hierarchy, the subclasses' too unless they cycle otherwise."""
        return self.hierarchy.precondition


class CgSolver(AmgSolver):
    """Conjugate gradients preconditioned by one symmetric Ruge–Stüben V-cycle per iteration
    (:class:`SymmetricHierarchy`), on the CPU or a GPU.

    For symmetric positive definite systems (``method="levin-symmetric"``); Levin's exact system is
    refused. On the CPU the ``multigrid`` solver is faster (its setup is cheaper); this one is the
    symmetric energies' GPU path. Parameters as :class:`AmgSolver`.

    Examples
    --------
    Two cues, 0 and 1, in opposite corners: the solution stays between them (a graph Laplacian's
    maximum principle); the exact method's system is refused.

    >>> import numpy as np
    >>> from varcolor.energies.levin import exact_operator, symmetric_system
    >>> gray = np.random.default_rng(1).random((30, 40))
    >>> mask = np.zeros((30, 40), bool); mask[0, 0] = mask[-1, -1] = True
    >>> values = np.zeros((30, 40, 1)); values[-1, -1] = 1.0
    >>> operator, rhs = symmetric_system(gray, mask, values)
    >>> x, info = CgSolver(operator).solve(rhs)
    >>> bool(x.min() > -1e-9 and x.max() < 1 + 1e-9), info.solver
    (True, 'cg')
    >>> CgSolver(exact_operator(gray, mask))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    varcolor.errors.InputError: solver 'cg' needs a symmetric system, which only method 'levin-symmetric' has; ...
    """

    name: ClassVar[str] = "cg"
    hierarchy_class = SymmetricHierarchy
    _krylov_method = staticmethod(pcg)

    def _matrix(self, operator: GridOperator):
        if not operator.is_symmetric():
            raise InputError(not_symmetric(self.name))
        return super()._matrix(operator)
