"""Sparse direct solve: one LU factorisation, every right-hand side solved against it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..common.kernels import small_system
from ..common.neighbours import CENTRE, STENCIL_OFFSETS
from ..errors import InputError
from .base import SolveInfo, relative_norm
from .multifrontal import MultifrontalLU
from .stencil import GridOperator
from .superlu import SuperLUFactors


def _diagonal_only_rows(stencil: np.ndarray) -> np.ndarray:
    """Raster flags of the rows whose only nonzero entry is the diagonal (array code, an
    ``H×W`` flag at a time: one kernel fewer to compile)."""
    others = np.zeros(stencil.shape[:2], np.bool_)
    for k in range(9):
        if k != CENTRE:
            others |= stencil[..., k] != 0
    return ((stencil[..., CENTRE] != 0) & ~others).ravel()


class DirectSolver:
    """Factor the operator once, then solve for any number of right-hand sides.

    The factors are a multifrontal LU on a nested dissection of the pixel grid
    (:class:`~varcolor.solvers.multifrontal.MultifrontalLU`): dense fronts reduced by BLAS-3
    kernels, the root's two halves on two threads. They are kept in single precision (half the
    memory and time) and each solve is brought to double-precision accuracy by iterative
    refinement: residuals in float64, corrections from the single-precision factors, until the
    relative residual is at most ``tol`` (one correction on photos at the default). Should
    refinement stall, the operator is refactored in double precision, so the answer is always
    exact. For a small system (:func:`~varcolor.common.kernels.small_system`) the factors are
    SuperLU's instead, in double precision (:mod:`varcolor.solvers.superlu`: no kernel to
    compile); low-rank edits read the multifrontal LU, made when they first ask
    (:meth:`multifrontal`).

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.solvers.stencil import GridOperator
    >>> s = np.zeros((1, 2, 9)); s[..., 4] = (2.0, 4.0)
    >>> x, info = DirectSolver(GridOperator(s)).solve(np.full((1, 2, 1), 2.0))
    >>> x.ravel().tolist(), info.iterations
    ([1.0, 0.5], 0)
    """

    name: ClassVar[str] = "direct"
    supports_rebind: ClassVar[bool] = False
    #: Refinement steps before falling back to double-precision factors.
    max_corrections = 6

    def __init__(self, operator: GridOperator, tol: float = 1e-8):
        start = time.perf_counter()
        self.operator = GridOperator(operator.stencil.astype(np.float64, copy=False))
        self._transposed: GridOperator | None = None
        self.tol = tol
        # Rows with only a diagonal entry (pixels under a cue) are solved in closed form and left
        # out of the factorisation: under dense cue patches that is a tenth of the unknowns.
        fixed = _diagonal_only_rows(self.operator.stencil)
        self._free_mask: np.ndarray = ~fixed.reshape(operator.shape)
        self._fixed = np.flatnonzero(fixed)
        self._fixed_diagonal = self.operator.stencil[..., CENTRE].ravel()[self._fixed][:, None]
        self._multifrontal: MultifrontalLU | None = None
        self._lu = self._factor(np.float32)
        self._cue_couplings = list(self._couplings(self._fixed))  # used by every solve
        self._exact = False
        self.setup_seconds = time.perf_counter() - start
        # Measured by the last solve (what predicting an edit's cost against a fresh solve needs):
        # its seconds past the factorisation, and one pass through the factors (the fastest).
        self.solve_seconds: float | None = None
        self.inverse_seconds: float | None = None

    def _factor(self, dtype, multifrontal: bool = False) -> MultifrontalLU | SuperLUFactors | None:
        """The factors of the free block: SuperLU's for a small one (always in double
        precision) unless ``multifrontal``, else the multifrontal LU in ``dtype``."""
        unknowns = int(np.count_nonzero(self._free_mask))
        if not unknowns:
            return None
        start = time.perf_counter()
        try:
            if small_system(unknowns) and not multifrontal:
                return SuperLUFactors(self.operator.stencil, self._free_mask)
            factors = MultifrontalLU(self.operator.stencil, self._free_mask, dtype)
            # What the multifrontal factorisation took: low-rank edits price their dense work by it.
            self.factor_seconds = time.perf_counter() - start
            return factors
        except ZeroDivisionError:
            raise InputError(
                "the system is singular (a zero pivot): part of the image is cut off from every cue; add a cue there"
            ) from None

    def multifrontal(self) -> MultifrontalLU | None:
        """The factors as the multifrontal LU, which low-rank edits read
        (:class:`~varcolor.solvers.lowrank.LowRankUpdater`): the solve's own, or, where SuperLU
        factored a small system, the multifrontal LU made now (once); None without unknowns."""
        if self._lu is None or isinstance(self._lu, MultifrontalLU):
            return self._lu
        if self._multifrontal is None:
            factors = self._factor(np.float64 if self._exact else np.float32, multifrontal=True)
            assert not isinstance(factors, SuperLUFactors)  # multifrontal=True: never SuperLU's
            self._multifrontal = factors
        return self._multifrontal

    def _product(self, x: np.ndarray, transpose: bool) -> np.ndarray:
        """``A x`` (``Aᵀ x``) for ``x`` of shape ``N×C``."""
        if transpose and self._transposed is None:
            self._transposed = self.operator.transposed()
        operator = self._transposed if transpose else self.operator
        assert operator is not None  # made above
        return operator.apply(x.reshape(self.operator.shape + x.shape[-1:])).reshape(x.shape)

    def _couplings(self, cue_pixels: np.ndarray):
        """For each of the 8 neighbour directions: the cue pixels with a free neighbour there, that
        neighbour, and ``A[neighbour, cue pixel]``."""
        height, width = self.operator.shape
        rows, cols = np.divmod(cue_pixels, width)
        stencil = self.operator.stencil.reshape(-1, 9)
        for k, (dy, dx) in enumerate(STENCIL_OFFSETS):
            if k == CENTRE:
                continue
            i, j = rows + dy, cols + dx
            index = np.flatnonzero((i >= 0) & (i < height) & (j >= 0) & (j < width))
            neighbour = i[index] * width + j[index]
            keep = self._free_mask.ravel()[neighbour]
            index, neighbour = index[keep], neighbour[keep]
            yield index, neighbour, stencil[neighbour, 8 - k][:, None]

    def _apply_inverse(self, b: np.ndarray, transpose: bool) -> np.ndarray:
        fixed = b[self._fixed] / self._fixed_diagonal
        if self._lu is None:
            if transpose:
                return b / self.operator.stencil[..., CENTRE].reshape(-1, 1)
            x = np.zeros_like(b)
            x[self._fixed] = fixed
            return x
        # [A_ff A_fc; 0 D] x = b: the cue pixels first, their coupling moved to the free block's
        # right-hand side. Transposed, [A_ffᵀ 0; A_fcᵀ D]: the free block first, then the cue pixels.
        if transpose:
            x = self._lu.solve(b, True).astype(np.float64)
            x[self._fixed] = fixed
            for index, neighbour, coupling in self._cue_couplings:
                x[self._fixed[index]] -= coupling * x[neighbour] / self._fixed_diagonal[index]
        else:
            rhs = b.copy()
            for index, neighbour, coupling in self._cue_couplings:
                rhs[neighbour] -= coupling * fixed[index]  # one cue pixel per neighbour and direction
            x = self._lu.solve(rhs).astype(np.float64)
            x[self._fixed] = fixed
        return x

    def solve(
        self, rhs: np.ndarray, x0: np.ndarray | None = None, transpose: bool = False
    ) -> tuple[np.ndarray, SolveInfo]:
        """Solve ``A X = rhs`` (``Aᵀ X = rhs`` with ``transpose``) for ``rhs`` of shape ``H×W×C``
        (``x0`` is not needed and ignored).

        Parameters
        ----------
        rhs : ndarray, ``H×W×C``
            The right-hand sides, one a channel.
        x0 : ndarray, optional
            Ignored (a direct solve needs no initial guess).
        transpose : bool, optional
            Solve the transposed system ``Aᵀ X = rhs`` instead.

        Returns
        -------
        x : ndarray, ``H×W×C``
            The solution.
        info : SolveInfo
            The solve's report (no iterations; the relative residual after refinement).
        """
        start = time.perf_counter()
        b = np.asarray(rhs, dtype=np.float64).reshape(-1, rhs.shape[-1])
        x, info = self._refine(b, transpose, start)
        return x.reshape(rhs.shape), info

    def _refine(self, b: np.ndarray, transpose: bool, start: float) -> tuple[np.ndarray, SolveInfo]:
        """``x`` from the factors, refined until its relative residual against ``b`` is at most
        :attr:`tol` (the factors refactored in double precision should that stall)."""
        x = self._apply_inverse(b, transpose)
        self.inverse_seconds = time.perf_counter() - start
        for step in range(self.max_corrections + 1):
            r = b - self._product(x, transpose)
            residual = relative_norm(r, b)
            if residual <= self.tol or self._exact:
                break
            if step == self.max_corrections:  # refinement stalled: the single-precision factors are too coarse
                self._lu, self._exact = self._factor(np.float64), True
                x = self._apply_inverse(b, transpose)
                residual = relative_norm(b - self._product(x, transpose), b)
                break
            x += self._apply_inverse(r, transpose)
        self.solve_seconds = time.perf_counter() - start
        return x, SolveInfo(self.name, 0, residual, self.solve_seconds + self.setup_seconds)


@dataclass(frozen=True)
class Factors:
    """A :class:`DirichletSolver`'s factors, to make another for the same rows without factoring:
    ``lu`` (None without unknowns) and whether it is in double precision (``exact``)."""

    lu: MultifrontalLU | SuperLUFactors | None
    exact: bool

    @property
    def nbytes(self) -> int:
        return 0 if self.lu is None else self.lu.nbytes


class DirichletSolver(DirectSolver):
    """The rows of a grid operator at its ``free`` pixels solved for those pixels, every other
    pixel a known value (Dirichlet data): ``A_ff x_f = b_f − A_fh x_h``."""

    def __init__(self, operator: GridOperator, free: np.ndarray, tol: float = 1e-8, factors: Factors | None = None):
        start = time.perf_counter()
        self.operator = GridOperator(operator.stencil.astype(np.float64, copy=False))
        self._transposed = None
        self.tol = tol
        self._free_mask = np.asarray(free, bool)
        self._rows = np.flatnonzero(self._free_mask)
        self._multifrontal = None
        if factors is None:
            self._lu, self._exact = self._factor(np.float32), False
        else:
            self._lu, self._exact = factors.lu, factors.exact
        self.setup_seconds = time.perf_counter() - start
        self.solve_seconds = self.inverse_seconds = None
        self._known: np.ndarray | None = None
        self._held: np.ndarray | None = None

    @property
    def factors(self) -> Factors:
        """The factors as they are now (in double precision where a refinement stalled)."""
        return Factors(self._lu, self._exact)

    def _apply_inverse(self, b: np.ndarray, transpose: bool) -> np.ndarray:
        full = np.zeros((self._free_mask.size, b.shape[1]))
        full[self._rows] = b
        assert self._lu is not None  # solve() returns before refining without unknowns
        return self._lu.solve(full)[self._rows].astype(np.float64)

    def _product(self, x: np.ndarray, transpose: bool) -> np.ndarray:
        """``A_ff x`` for ``x`` of shape ``k×C`` (the free pixels' values, in raster order)."""
        assert self._known is not None and self._held is not None  # set by solve()
        self._known.reshape(-1, x.shape[1])[self._rows] = x
        return self.operator.apply_rows(self._known, self._rows) - self._held

    # Its second argument is the known values, not DirectSolver's x0: the factors and refinement are
    # shared, the use is not (a DirichletSolver is never passed where a Solver is wanted).
    def solve(self, rhs: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, SolveInfo]:  # type: ignore[override]
        """``x_f`` (``k×C``, the free pixels in raster order) and how it was solved.

        Parameters
        ----------
        rhs : ndarray, ``k×C``
            ``b_f``: the right-hand side at the free pixels, in raster order.
        known : ndarray, ``H×W×C``
            The other pixels' values (those at the free pixels are not read).
        """
        start = time.perf_counter()
        if not len(self._rows):
            return np.zeros((0, known.shape[-1])), SolveInfo(self.name, 0, 0.0, 0.0)
        self._known = np.array(known, np.float64)
        self._known.reshape(-1, known.shape[-1])[self._rows] = 0.0
        self._held = self.operator.apply_rows(self._known, self._rows)  # A_fh x_h
        b = np.asarray(rhs, np.float64) - self._held
        try:
            return self._refine(b, False, start)
        finally:
            self._known = self._held = None
