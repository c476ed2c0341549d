"""A small system's LU by SuperLU (scipy), on a geometric nested-dissection order of its unknowns:
the direct solver's factors for a small system (:func:`varcolor.common.kernels.small_system`), where the
multifrontal LU (:mod:`varcolor.solvers.multifrontal`) would first have numba compile its kernels.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..common.raster import coordinates
from .stencil import stencil_neighbours

__all__ = ["SuperLUFactors", "ThreadLU", "dissection_order", "factor", "release", "wake_with"]

#: Factors dropped on a thread other than their maker's, by the maker's thread id: each thread frees
#: its own at its next :func:`factor` (or :func:`release`).
_ORPHANS: dict[int, list] = {}
_ORPHANS_LOCK = threading.RLock()  # (re-entered where the collector runs a __del__ inside it)
#: How to have a thread call :func:`release` soon, by thread id (:func:`wake_with`).
_WAKERS: dict[int, Callable[[], object]] = {}


def wake_with(waker: Callable[[], object]) -> None:
    """Have ``waker()`` called each time another thread drops factors this thread made: it should have this
    thread call :func:`release` soon.
    """
    with _ORPHANS_LOCK:
        _WAKERS[threading.get_ident()] = waker


class ThreadLU:
    """SuperLU's factors (scipy's ``SuperLU``: its ``solve`` and ``nnz``), freed in the thread
    that made them: dropped on another thread, they wait for their maker's next :func:`factor`."""

    __slots__ = ("_lu", "_thread")

    def __init__(self, lu) -> None:
        self._lu = lu
        self._thread = threading.get_ident()

    def solve(self, rhs: np.ndarray, trans: str = "N") -> np.ndarray:
        """``A x = rhs`` (``trans="T"``: ``Aᵀ x = rhs``), as ``SuperLU.solve``.

        Parameters
        ----------
        rhs : ndarray
            One right-hand side a column.
        trans : str
            ``"N"`` or ``"T"``.
        """
        return self._lu.solve(rhs, trans=trans)

    @property
    def nnz(self) -> int:
        """The entries of L and U."""
        return int(self._lu.nnz)

    def __del__(self) -> None:
        try:
            if threading.get_ident() != self._thread:
                with _ORPHANS_LOCK:
                    _ORPHANS.setdefault(self._thread, []).append(self._lu)
                    waker = _WAKERS.get(self._thread)
                if waker is not None:
                    waker()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to free for
            pass


def release() -> None:
    """Free the factors this thread made that other threads dropped (:class:`ThreadLU`); forget
    those of threads that have ended (their allocations' record went with them)."""
    with _ORPHANS_LOCK:
        mine = _ORPHANS.pop(threading.get_ident(), None)
        if _ORPHANS:
            alive = {thread.ident for thread in threading.enumerate()}
            for ident in list(_ORPHANS):
                if ident not in alive:
                    _ORPHANS.pop(ident, None)
                    _WAKERS.pop(ident, None)
    del mine  # freed here, in their maker's thread, outside the lock


def factor(matrix: sp.spmatrix, **options) -> ThreadLU:
    """SuperLU's LU of ``matrix`` (``scipy.sparse.linalg.splu``, ``options`` passed to it), freed
    in this thread whichever thread drops it (:class:`ThreadLU`).

    Parameters
    ----------
    matrix : scipy.sparse matrix
        Square, CSC.
    **options
        ``splu``'s keywords (``permc_spec``, ``diag_pivot_thresh``, ``options``, ...).
    """
    release()
    return ThreadLU(spla.splu(matrix, **options))


#: SuperLU keeps a pivot on the diagonal while it is at least this share of its column's largest
#: entry (the systems have dominant diagonals: the dissection's order is kept).
_DIAGONAL_PIVOT = 0.01


def dissection_order(free: np.ndarray, leaf: int = 64) -> np.ndarray:
    """The raster indices of the ``free`` pixels in a nested-dissection order: the box around a set of
    pixels split by its middle row or column (across its longer side), each half first, then that line.

    Parameters
    ----------
    free : bool ndarray, ``H×W``
        The unknowns.
    leaf : int
        Sets of at most this many pixels are kept in raster order (64: the order's Python steps
        quicker than at 32, the factorisation as fast).
    """
    rows, columns = coordinates(free)
    index = rows * free.shape[1] + columns
    parts: list[np.ndarray] = []

    def split(rows: np.ndarray, columns: np.ndarray, index: np.ndarray) -> None:
        if len(index) <= leaf:
            parts.append(index)
            return
        tall = rows.max() - rows.min() >= columns.max() - columns.min()
        along = rows if tall else columns
        middle = (along.min() + along.max()) // 2
        for half in (along < middle, along > middle):
            if half.any():
                split(rows[half], columns[half], index[half])
        parts.append(index[along == middle])

    if len(index):
        split(rows, columns, index)
    return np.concatenate(parts) if parts else index


def _block(stencil: np.ndarray, order: np.ndarray) -> sp.csc_matrix:
    """The operator's rows and columns at the raster indices ``order``, in that order."""
    height, width = stencil.shape[:2]
    position = np.full((height, width), -1, np.int64)
    position.ravel()[order] = np.arange(len(order))
    coefficients = stencil[np.divmod(order, width)]
    rows, columns, values = [], [], []
    for k, inside, i, j in stencil_neighbours(order, (height, width)):
        column = np.where(inside, position[i, j], -1)
        value = coefficients[:, k]
        keep = (column >= 0) & (value != 0)
        rows.append(np.flatnonzero(keep))
        columns.append(column[keep])
        values.append(value[keep])
    n = len(order)
    return sp.csc_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))), shape=(n, n), dtype=np.float64
    )


class SuperLUFactors:
    """The LU of a grid operator's rows and columns at the ``free`` pixels, by SuperLU on
    :func:`dissection_order`, in double precision; :meth:`solve` as the multifrontal LU's."""

    dtype = np.dtype(np.float64)

    def __init__(self, stencil: np.ndarray, free: np.ndarray):
        self.order = dissection_order(np.asarray(free, bool))
        matrix = _block(np.asarray(stencil, np.float64), self.order)
        try:
            # The order is ours (NATURAL); SymmetricMode keeps it for the rows too.
            self._lu = factor(
                matrix, permc_spec="NATURAL", diag_pivot_thresh=_DIAGONAL_PIVOT, options={"SymmetricMode": True}
            )
        except RuntimeError as error:  # "Factor is exactly singular"
            raise ZeroDivisionError(str(error)) from None

    @property
    def nbytes(self) -> int:
        """The bytes the factors hold (SuperLU's entries with their row indices, and the order)."""
        return int(self._lu.nnz) * 12 + self.order.nbytes

    def solve(self, b: np.ndarray, transpose: bool = False) -> np.ndarray:
        """``x`` as :meth:`varcolor.solvers.multifrontal.MultifrontalLU.solve` gives it, from SuperLU's
        factors.

        Parameters
        ----------
        b, transpose
            As :meth:`varcolor.solvers.multifrontal.MultifrontalLU.solve` takes them.
        """
        x = np.array(b, np.float64)
        x[self.order] = self._lu.solve(np.ascontiguousarray(x[self.order]), trans="T" if transpose else "N")
        return x
