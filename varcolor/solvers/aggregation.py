"""An aggregation multigrid on a pixel grid, built and applied on a device: a preconditioner for
the Krylov solvers of :mod:`varcolor.solvers.krylov` written against an
:class:`~varcolor.solvers.device.ArrayBackend` (CuPy on a GPU, SciPy and NumPy on the CPU).

Levin's rows have 1 on the diagonal, so Jacobi alone is no preconditioner
(benchmarks/results/gpu_coarse_solver.md).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .amg import AmgSolver
from .base import TOL
from .device import ArrayBackend, backend, to_host
from .krylov import bicgstab

if TYPE_CHECKING:
    from collections.abc import Callable

    from .stencil import GridOperator

__all__ = ["COARSEST", "SMOOTHING", "OVERCORRECTION", "AggregationMultigrid", "AggregationSolver"]

#: The coarsest level has at most this many cells: its inverse is held dense (small enough to hold).
COARSEST = 1024
#: The Jacobi steps' damping.
SMOOTHING = 0.7
#: The coarse correction's scale, fewer iterations than 1 or 2 (benchmarks/results/gpu_coarse_solver.md).
OVERCORRECTION = 1.5


class AggregationMultigrid:
    """The V-cycle of a grid operator's aggregation hierarchy, as a preconditioner (a fixed linear
    map of ``N×C`` arrays: BiCGSTAB and GMRES take it).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from varcolor.solvers.device import backend
    >>> n = 40
    >>> line = sp.diags([-1.0, 2.05, -1.0], [-1, 0, 1], shape=(n, n))
    >>> matrix = (sp.kron(sp.eye(n), line) + sp.kron(line, sp.eye(n))).tocsr()
    >>> cycle = AggregationMultigrid(matrix, (n, n), backend("cpu", kernels=False))
    >>> len(cycle.levels), cycle.coarsest
    (1, 400)
    """

    def __init__(self, matrix, shape: tuple[int, int], device: ArrayBackend):
        xp = device.xp
        self.xp = xp
        operator = device.sparse.csr_matrix(matrix)
        levels: list[tuple[Any, Any, Any, Any]] = []
        while operator.shape[0] > COARSEST and min(shape) > 1:
            prolongation, shape = _aggregation(shape, device)
            restriction = prolongation.T.tocsr()
            inverse_diagonal = (1.0 / operator.diagonal())[:, None]
            levels.append((operator, inverse_diagonal, prolongation, restriction))
            operator = (restriction @ (operator @ prolongation)).tocsr()
        self.levels = levels
        self.coarsest = int(operator.shape[0])
        dense = operator.toarray()
        inverse = xp.linalg.inv(dense)
        if not bool(to_host(xp.isfinite(inverse).all(), xp)):  # singular at the coarsest: least squares
            inverse = xp.linalg.pinv(dense)
        self.inverse = inverse

    def __call__(self, b):
        """One V-cycle from zero for the right-hand sides ``b`` (``N×C``, on the device)."""
        return self._cycle(b, 0)

    def _cycle(self, b, level: int):
        if level == len(self.levels):
            return self.inverse @ b
        operator, inverse_diagonal, prolongation, restriction = self.levels[level]
        x = SMOOTHING * inverse_diagonal * b
        coarse = self._cycle(restriction @ (b - operator @ x), level + 1)
        x += OVERCORRECTION * (prolongation @ coarse)
        x += SMOOTHING * inverse_diagonal * (b - operator @ x)
        return x


def _aggregation(shape: tuple[int, int], device: ArrayBackend) -> tuple[Any, tuple[int, int]]:
    """The piecewise-constant prolongation from the grid of 2×2 blocks of an ``h×w`` grid (a
    partial block at the bottom and right is a block), made on the device, and that grid's shape."""
    xp = device.xp
    height, width = shape
    coarse = (-(-height // 2), -(-width // 2))
    rows, columns = xp.divmod(xp.arange(height * width), width)
    indices = ((rows // 2) * coarse[1] + columns // 2).astype(xp.int32)
    indptr = xp.arange(height * width + 1, dtype=xp.int32)
    data = xp.ones(height * width)
    matrix = device.sparse.csr_matrix((data, indices, indptr), shape=(height * width, coarse[0] * coarse[1]))
    return matrix, coarse


class AggregationSolver(AmgSolver):
    """BiCGSTAB on a method's system, preconditioned by one :class:`AggregationMultigrid` V-cycle per
    application, hierarchy built and applied on ``device``."""

    name: ClassVar[str] = "aggregation"
    supports_rebind: ClassVar[bool] = True
    _krylov_method = staticmethod(bicgstab)

    def __init__(
        self, operator: GridOperator, tol: float = TOL, maxiter: int = 300, device: str | ArrayBackend = "cpu"
    ):
        start = time.perf_counter()
        self.tol, self.maxiter = tol, maxiter
        self.shape = operator.shape
        if isinstance(device, ArrayBackend):
            self.backend = device
        else:
            self.backend = backend(device, kernels=False) if device == "cpu" else backend(device)
        matrix = operator.to_csr().astype(np.float64)
        self.cycle = AggregationMultigrid(matrix, self.shape, self.backend)
        self.matrix = self.cycle.levels[0][0] if self.cycle.levels else self.backend.sparse.csr_matrix(matrix)
        self.setup_seconds = time.perf_counter() - start

    def rebind(self, operator: GridOperator) -> AggregationSolver:
        """Solve with a changed operator (same size), keeping the coarse levels, as
        :meth:`~varcolor.solvers.amg.AmgSolver.rebind` does (and as cheaply).

        Parameters
        ----------
        operator : GridOperator
            As :meth:`~varcolor.solvers.base.RebindableSolver.rebind` takes it.
        """
        if not self.cycle.levels:
            return AggregationSolver(operator, self.tol, self.maxiter, self.backend)
        start = time.perf_counter()
        matrix = self.backend.sparse.csr_matrix(operator.to_csr().astype(np.float64))
        _, _, prolongation, restriction = self.cycle.levels[0]
        self.cycle.levels[0] = (matrix, (1.0 / matrix.diagonal())[:, None], prolongation, restriction)
        self.matrix = matrix
        self.setup_seconds = time.perf_counter() - start
        return self

    def _preconditioner(self) -> Callable:
        """The aggregation V-cycle: this solver builds no AIR hierarchy."""
        return self.cycle
