"""Sparse direct solve: one LU factorisation (SuperLU), every right-hand side solved against it."""

from __future__ import annotations

import time

import numba
import numpy as np
from scipy.sparse.linalg import splu

from ..errors import InputError
from .base import SolveInfo, relative_residual
from .stencil import GridOperator


@numba.njit(cache=True)
def _nested_dissection(height, width, leaf):
    order = np.empty(height * width, np.int64)
    filled = 0
    # Explicit stack of (emit, r0, r1, c0, c1): emit=1 writes the block in raster order; emit=0
    # splits it across its longer side and schedules both halves, then the separator line.
    stack = [(0, 0, height, 0, width)]
    while stack:
        emit, r0, r1, c0, c1 = stack.pop()
        if r1 <= r0 or c1 <= c0:
            continue
        if emit or (r1 - r0) * (c1 - c0) <= leaf:
            for i in range(r0, r1):
                for j in range(c0, c1):
                    order[filled] = i * width + j
                    filled += 1
        elif r1 - r0 >= c1 - c0:
            middle = (r0 + r1) // 2
            stack.append((1, middle, middle + 1, c0, c1))
            stack.append((0, middle + 1, r1, c0, c1))
            stack.append((0, r0, middle, c0, c1))
        else:
            middle = (c0 + c1) // 2
            stack.append((1, r0, r1, middle, middle + 1))
            stack.append((0, r0, r1, middle + 1, c1))
            stack.append((0, r0, r1, c0, middle))
    return order


def nested_dissection(shape: tuple[int, int], leaf: int = 32) -> np.ndarray:
    """Geometric nested-dissection ordering of an ``H×W`` pixel grid (raster indices).

    Each block is split by its middle row or column (a separator for the 8-neighbour stencil:
    no stencil entry reaches across a full line); both halves come first, the separator last,
    down to blocks of ``leaf`` pixels. On the grid systems here SuperLU factors 2–3× faster
    than with minimum degree (MMD on ``Aᵀ + A``), with less fill.

    Examples
    --------
    >>> nested_dissection((3, 3), leaf=3).tolist()   # top row, bottom row, then the middle row
    [0, 1, 2, 6, 7, 8, 3, 4, 5]
    """
    return _nested_dissection(int(shape[0]), int(shape[1]), int(leaf))


class DirectSolver:
    """Factor the operator once with SuperLU, then solve for any number of right-hand sides.

    The grid systems here have a symmetric pattern and a dominant diagonal, so a fill-reducing
    ordering of the grid (:func:`nested_dissection`) with (nearly) diagonal pivoting keeps the
    fill low; SuperLU's default partial pivoting destroys any ordering and runs 100× slower at
    0.4 megapixels.

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.solvers.stencil import GridOperator
    >>> s = np.zeros((1, 2, 9)); s[..., 4] = (2.0, 4.0)
    >>> x, info = DirectSolver(GridOperator(s)).solve(np.full((1, 2, 1), 2.0))
    >>> x.ravel().tolist(), info.iterations
    ([1.0, 0.5], 0)
    """

    name = "direct"

    def __init__(self, operator: GridOperator):
        start = time.perf_counter()
        self.operator = operator
        self.matrix = operator.to_csr().astype(np.float64)
        self._order = nested_dissection(operator.shape)
        try:
            self._lu = splu(self.matrix[self._order][:, self._order].tocsc(), permc_spec="NATURAL",
                            diag_pivot_thresh=0.1, options={"SymmetricMode": True})
        except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
            raise InputError(f"the system is singular ({exc}): part of the image is cut off from every cue; "
                             "add a cue there") from None
        self.setup_seconds = time.perf_counter() - start

    def solve(self, rhs: np.ndarray, x0: np.ndarray | None = None,
              transpose: bool = False) -> tuple[np.ndarray, SolveInfo]:
        """Solve ``A X = rhs`` (``Aᵀ X = rhs`` with ``transpose``) for ``rhs`` of shape ``H×W×C``
        (``x0`` is not needed and ignored)."""
        start = time.perf_counter()
        b = np.asarray(rhs, dtype=np.float64).reshape(-1, rhs.shape[-1])
        x = np.empty_like(b)
        x[self._order] = self._lu.solve(b[self._order], trans="T" if transpose else "N")
        matrix = self.matrix.T if transpose else self.matrix
        info = SolveInfo(self.name, 0, relative_residual(matrix, x, b),
                         time.perf_counter() - start + self.setup_seconds)
        return x.reshape(rhs.shape), info
