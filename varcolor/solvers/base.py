"""What every solver is (:class:`Solver`), what it reports (:class:`SolveInfo`), and the linear
system a method hands to solvers that assemble it themselves (:class:`LinearSystem`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

import numpy as np

from ..errors import ConvergenceError

if TYPE_CHECKING:
    from .stencil import GridOperator

__all__ = ["TOL", "SolveInfo", "Solver", "RebindableSolver", "LinearSystem"]

#: Default relative residual of the iterative solvers: within what "exact" allows where cues are
#: sparse (benchmarks/results/solvers_measured.md, "Measurements behind the solvers' settings").
TOL = 1e-8


@dataclass(frozen=True)
class SolveInfo:
    """Report of one solve: solver name, iterations (0 for a direct solve), the final relative
    residual ``max_c ‖b_c - A x_c‖ / ‖b_c‖`` over the right-hand sides, wall time in seconds, and
    for an iterative solve its convergence history: ``residuals[i]``, the worst relative residual
    after iteration ``i + 1`` (the last one is ``residual``)."""

    solver: str
    iterations: int
    residual: float
    seconds: float
    residuals: tuple[float, ...] | None = None

    def as_dict(self) -> dict:
        """The report as a dict (``residuals`` as a list, left out where there is none)."""
        out = asdict(self)
        if self.residuals is None:
            del out["residuals"]
        else:
            out["residuals"] = list(self.residuals)
        return out


@runtime_checkable
class Solver(Protocol):
    """A solver built once for one system, applied to many right-hand sides.

    ``solve(rhs, x0)`` solves for ``rhs`` (``H×W×C``, each channel a right-hand side) from the
    initial guess ``x0`` (iterative solvers; the others ignore it) and returns the solution and its
    :class:`SolveInfo`; a solve that cannot reach the solver's tolerance raises
    :class:`~varcolor.errors.ConvergenceError`. ``supports_rebind`` says whether the solver is a
    :class:`RebindableSolver` (one that can take a changed operator of the same size cheaply).
    :func:`varcolor.solvers.make_solver` builds every solver from a
    :class:`~varcolor.solvers.SolverPlan`.
    """

    name: ClassVar[str]
    supports_rebind: ClassVar[bool]

    def solve(self, rhs: np.ndarray, x0: np.ndarray | None = None) -> tuple[np.ndarray, SolveInfo]:
        """Solve the system for ``rhs``.

        Parameters
        ----------
        rhs : ndarray, ``H×W×C``
            The right-hand sides, one a channel.
        x0 : ndarray, ``H×W×C``, optional
            The initial guess of an iterative solver (zeros where None); the others ignore it.

        Returns
        -------
        x : ndarray, ``H×W×C``
            The solution.
        info : SolveInfo
            The solve's report.
        """
        ...


@runtime_checkable
class RebindableSolver(Solver, Protocol):
    """A :class:`Solver` (``supports_rebind`` True) that solves a changed operator of the same size
    reusing what it built for the old one (AMG's coarse levels): ``rebind(operator)`` returns the
    solver for the new operator."""

    def rebind(self, operator: GridOperator) -> RebindableSolver:
        """The solver for a changed ``operator``, reusing what was built for the old one.

        Parameters
        ----------
        operator : GridOperator
            The changed system, the same size as the old one.
        """
        ...


@dataclass(frozen=True, eq=False)
class LinearSystem:
    """A method's linear system, given by what assembles it rather than assembled: the tiled solver
    builds it tile by tile and on coarser images (a big scan's whole operator would not fit).

    ``build(guide, fixed, values, prior, weight) → (GridOperator, rhs)`` is the method's system on
    any gray ``guide`` (the image, a window of it, or a coarser copy) with the pixels ``fixed``
    held at ``values`` (``H×W×C``) and, where ``prior`` is not None, its prior term of weight
    ``weight``. A held pixel's row is the identity with its value on the right. A row reads the
    guide at most two pixels away, so the system on a window has the whole image's rows two pixels
    in from the sides cut from the image, except next to the pixels held there (whose coupling a
    symmetric system moves to the right-hand side). The other fields are the problem on the whole
    image.

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.energies.levin import exact_operator, exact_rhs
    >>> build = lambda guide, fixed, values, prior, weight: (exact_operator(guide, fixed), exact_rhs(fixed, values))
    >>> mask = np.zeros((4, 6), bool); mask[:, 0] = True
    >>> system = LinearSystem(build, np.full((4, 6), 0.5), mask, np.ones((4, 6, 1)))
    >>> operator, rhs = system.assemble()
    >>> operator.shape, float(rhs[0, 0, 0]), float(rhs[0, 1, 0])
    ((4, 6), 1.0, 0.0)
    """

    build: Callable[..., tuple[GridOperator, np.ndarray]]
    guide: np.ndarray
    mask: np.ndarray
    targets: np.ndarray
    prior: np.ndarray | None = None
    weight: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.guide.shape

    def assemble(self) -> tuple[GridOperator, np.ndarray]:
        """The whole image's operator and right-hand side."""
        return self.build(self.guide, self.mask, self.targets, self.prior, self.weight)

    def window(self, window: tuple[slice, slice], fixed: np.ndarray, values: np.ndarray):
        """The system on the pixels ``window`` (a pair of slices) with ``fixed`` (window-sized) held
        at ``values``, the prior term cut to the window.

        Parameters
        ----------
        window : tuple of slice
            The window's rows and columns in the image.
        fixed : ndarray of bool
            The window's pixels held (window-sized).
        values : ndarray, ``h×w×C``
            What they are held at (window-sized).

        Returns
        -------
        operator : GridOperator
            The window's operator.
        rhs : ndarray, ``h×w×C``
            Its right-hand side.
        """
        return self.build(self.guide[window], fixed, values, *self._prior_on(window))

    def _prior_on(self, window) -> tuple[np.ndarray | None, np.ndarray | None]:
        return (
            None if self.prior is None else self.prior[window],
            None if self.weight is None else self.weight[window],
        )


def relative_norm(r: np.ndarray, b: np.ndarray) -> float:
    """``max_c ‖r_c‖ / ‖b_c‖`` over the columns (``‖r_c‖`` where ``b_c`` is 0).

    Parameters
    ----------
    r : ndarray, ``N×C``
        The residuals, one column a right-hand side.
    b : ndarray, ``N×C``
        The right-hand sides.
    """
    r, scale = (np.sqrt(np.einsum("ij,ij->j", v, v)) for v in (r, b))  # linalg.norm(axis=0) is much slower
    return float(np.max(np.where(scale > 0, r / np.where(scale > 0, scale, 1.0), r), initial=0.0))


def not_symmetric(solver: str) -> str:
    """The one-line refusal of a solver that needs a symmetric system.

    Parameters
    ----------
    solver : str
        The solver's name.
    """
    return (
        f"solver '{solver}' needs a symmetric system, which only method 'levin-symmetric' has; "
        "leave solver out (auto), or use 'direct' or 'amg'"
    )


def report(
    name: str, iterations: int, residual: np.ndarray, tol: float, seconds: float, history: list | None = None
) -> SolveInfo:
    """The :class:`SolveInfo` of an iterative solve (``residual``: per right-hand side; ``history``:
    the worst relative residual after each iteration)."""
    worst = float(np.max(residual, initial=0.0))
    if not worst <= tol:  # NaN too
        raise ConvergenceError(
            f"{name} solver stopped after {iterations} iterations at relative residual {worst:.1e}, "
            f"above its tolerance {tol:.0e}: no result (try solver 'direct', or a larger maxiter)"
        )
    return SolveInfo(name, iterations, worst, seconds, None if history is None else tuple(map(float, history)))
