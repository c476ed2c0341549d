"""An aggregation multigrid on a pixel grid, built and applied on a device: a preconditioner for
the Krylov solvers of :mod:`varcolor.solvers.krylov` written against an
:class:`~varcolor.solvers.device.ArrayBackend` (CuPy on a GPU, SciPy and NumPy on the CPU).

Each level's cells are aggregated two by two in each direction (the prolongation ``P`` is
piecewise constant over a block of 2×2 cells, its restriction ``Pᵀ``), the coarser operator is
Galerkin's ``Pᵀ A P`` (two sparse products, on the device: no set-up on one CPU core, as pyamg's
was for ``amg``), down to at most :data:`COARSEST` cells, whose inverse is held dense. One
V-cycle: a damped Jacobi step, the coarse correction scaled by :data:`OVERCORRECTION` (a
piecewise-constant prolongation's corrections come out too small), a damped Jacobi step.

Why: Levin's rows have 1 on the diagonal, so Jacobi's preconditioner alone is no preconditioner:
BiCGSTAB with it takes about ten times the iterations it takes with this V-cycle, more as the
grid grows (benchmarks/results/gpu_coarse_solver.md).
"""

from __future__ import annotations

from typing import Any

from .device import ArrayBackend, to_host

__all__ = ["COARSEST", "SMOOTHING", "OVERCORRECTION", "AggregationMultigrid"]

#: The coarsest level has at most this many cells: its inverse is held dense (8 MB at 1,024).
COARSEST = 1024
#: The Jacobi steps' damping.
SMOOTHING = 0.7
#: The coarse correction's scale, fewer iterations than 1 or 2 (benchmarks/results/gpu_coarse_solver.md).
OVERCORRECTION = 1.5


class AggregationMultigrid:
    """The V-cycle of a grid operator's aggregation hierarchy, as a preconditioner (a fixed linear
    map of ``N×C`` arrays: BiCGSTAB and GMRES take it).

    Parameters
    ----------
    matrix : scipy.sparse matrix
        The operator on an ``h×w`` grid, rows and columns in raster order (on the host).
    shape : tuple of int
        ``(h, w)``.
    device : ArrayBackend
        Where the hierarchy is built and applied.

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
