"""Multifrontal LU of a grid operator on a geometric nested-dissection tree
(:class:`~varcolor.solvers.dissection.Dissection`).

Each node's dense front is partially factored by LAPACK and BLAS-3 and its update passed to the
parent; most flops sit in the large fronts near the root, where dense products beat a general
sparse LU (benchmarks/results/solvers_measured.md). Pivots stay within each front: the systems are
M-matrices with dominant diagonals.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numba
import numpy as np
from numba.extending import get_cython_function_address

from ..common.threads import shared_pool
from .blas import one_blas_thread
from .denormals import flushed_denormals
from .dissection import Dissection

__all__ = ["MultifrontalLU"]


def _pool() -> ThreadPoolExecutor:
    """Two worker threads (:func:`varcolor.common.threads.shared_pool`)."""
    return shared_pool("lu", 2)


_Part = TypeVar("_Part")
_Out = TypeVar("_Out")


def _map(function: Callable[[_Part], _Out], parts: Iterable[_Part]) -> Iterator[_Out]:
    """``map(function, parts)`` on the two worker threads, or in this thread where its solve runs on
    one thread (:func:`varcolor.common.kernels.threads_for`: ``threads=1``, or the other cores busy)."""
    return map(function, parts) if numba.get_num_threads() == 1 else _pool().map(function, parts)


def _lapack(dtype) -> tuple[Callable[..., None], Callable[..., None], Callable[..., None]]:
    """LAPACK ``getrf`` and BLAS ``trsm`` and ``gemm`` for ``dtype`` (scipy's, as function pointers
    numba calls without the GIL; passed as arguments so that cached kernels hold no address)."""
    prefix = "s" if np.dtype(dtype) == np.float32 else "d"
    pointer = ctypes.c_void_p

    def function(module: str, name: str, arguments: int):
        address = get_cython_function_address(f"scipy.linalg.cython_{module}", prefix + name)
        return ctypes.CFUNCTYPE(None, *[pointer] * arguments)(address)

    return function("lapack", "getrf", 6), function("blas", "trsm", 11), function("blas", "gemm", 13)


@numba.njit(cache=True)
def _reduce_front(front, n, ne, ipiv, getrf, trsm, gemm):
    """Partial LU of the column-major ``n×n`` front: ``F11 = Pᵀ L U`` (row pivots ``ipiv``), ``U12 = L⁻¹ P
    F12``, ``L21 = F21 U⁻¹`` in place, and ``F22 −= L21 U12``."""
    nr = n - ne
    # Arrays filled element by element, characters as their codes: np.array of a list and ord()
    # each pull a generic implementation into the compile (about a second, on a first run).
    ints = np.empty(3, np.int32)
    ints[0], ints[1], ints[2] = ne, nr, n
    scalars = np.empty(2, front.dtype)
    scalars[0], scalars[1] = 1.0, -1.0
    info = np.zeros(1, np.int32)
    flags = np.empty(4, np.uint8)
    flags[0], flags[1], flags[2], flags[3] = 76, 82, 85, 78  # "L", "R", "U", "N"
    char_l, char_r, char_u, char_n = flags[0:].ctypes, flags[1:].ctypes, flags[2:].ctypes, flags[3:].ctypes
    getrf(ints[0:].ctypes, ints[0:].ctypes, front.ctypes, ints[2:].ctypes, ipiv.ctypes, info.ctypes)
    if info[0] != 0 or nr == 0:
        return info[0]
    for k in range(ne):  # P F12
        p = ipiv[k] - 1
        if p != k:
            for j in range(ne, n):
                front[k + j * n], front[p + j * n] = front[p + j * n], front[k + j * n]
    f12, f21 = front[ne * n :], front[ne:]
    trsm(
        char_l,
        char_l,
        char_n,
        char_u,
        ints[0:].ctypes,
        ints[1:].ctypes,
        scalars[0:].ctypes,
        front.ctypes,
        ints[2:].ctypes,
        f12.ctypes,
        ints[2:].ctypes,
    )  # left side, lower, no transpose, unit: U12
    trsm(
        char_r,
        char_u,
        char_n,
        char_n,
        ints[1:].ctypes,
        ints[0:].ctypes,
        scalars[0:].ctypes,
        front.ctypes,
        ints[2:].ctypes,
        f21.ctypes,
        ints[2:].ctypes,
    )  # right side, upper, non-unit: L21
    gemm(
        char_n,
        char_n,
        ints[1:].ctypes,
        ints[1:].ctypes,
        ints[0:].ctypes,
        scalars[1:].ctypes,
        f21.ctypes,
        ints[2:].ctypes,
        f12.ctypes,
        ints[2:].ctypes,
        scalars[0:].ctypes,
        front[ne + ne * n :].ctypes,
        ints[2:].ctypes,
    )
    return 0


def _workspace(children, e_ptr, r_ptr, lo, hi, depth):
    """Numbers of the update stack at its fullest while nodes ``lo`` to ``hi − 1`` are factored on top of
    ``depth`` numbers, with a front being assembled on top (array code: one kernel fewer to compile)."""
    if hi <= lo:
        return depth
    sizes = np.diff(r_ptr) ** 2  # each node's update, nr²
    fronts = (np.diff(e_ptr) + np.diff(r_ptr))[lo:hi] ** 2
    children = children[lo:hi]
    popped = np.where(children >= 0, sizes[children], 0).sum(axis=1)  # its children's updates
    # The stack under each node's front: its earlier siblings' and cousins' updates.
    below = depth + np.concatenate(([0], np.cumsum(sizes[lo:hi] - popped)[:-1]))
    return int(max(depth, (below + fronts).max()))


@numba.njit(cache=True, nogil=True)
def _factor(
    stencil,
    children,
    e_ptr,
    e_pix,
    r_ptr,
    r_pix,
    l_ptr,
    u_ptr,
    lower,
    upper,
    pivots,
    getrf,
    trsm,
    gemm,
    lo,
    hi,
    stack,
    top,
):
    """Factor the nodes ``lo`` to ``hi − 1`` (in post-order)."""
    height, width = stencil.shape[:2]
    # Loops where array code would do: numba compiles a whole slice assignment's shape check
    # and error message (string formatting) for each, seconds of a first run's compile.
    slot = np.empty(height * width, np.int64)
    for p in range(height * width):
        slot[p] = -1
    target = np.empty(0, np.int64)  # a child's ring's slots, grown as needed
    for node in range(lo, hi):
        e0, q0 = e_ptr[node], r_ptr[node]
        ne, nr = e_ptr[node + 1] - e0, r_ptr[node + 1] - q0
        n = ne + nr
        for a in range(ne):
            slot[e_pix[e0 + a]] = a
        for a in range(nr):
            slot[r_pix[q0 + a]] = ne + a
        front = stack[top : top + n * n]
        for a in range(n * n):
            front[a] = 0
        # The operator's entries with an own unknown in their row or column; entries reaching a
        # pixel with no slot belong to a descendant's front (or to a cue, not an unknown).
        for a in range(ne):
            i = e_pix[e0 + a] // width
            j = e_pix[e0 + a] - i * width
            for k in range(9):
                ii, jj = i + k // 3 - 1, j + k % 3 - 1
                if not (0 <= ii < height and 0 <= jj < width):
                    continue
                s = slot[ii * width + jj]
                if s < 0:
                    continue
                front[a + s * n] += stencil[i, j, k]
                if s >= ne:
                    front[s + a * n] += stencil[ii, jj, 8 - k]
        # The children's updates lie just below the front, the second child's on top.
        below = top
        for side in range(1, -1, -1):
            child = children[node, side]
            if child < 0:
                continue
            ring = r_pix[r_ptr[child] : r_ptr[child + 1]]
            size = len(ring)
            below -= size * size
            update = stack[below : below + size * size]
            if len(target) < size:
                target = np.empty(size, np.int64)
            for a in range(size):
                target[a] = slot[ring[a]]
            for b in range(size):
                column = target[b] * n
                for a in range(size):
                    front[target[a] + column] += update[a + b * size]
        if ne:
            if _reduce_front(front, n, ne, pivots[e0:], getrf, trsm, gemm):
                return node
            l0, u0 = l_ptr[node], u_ptr[node]
            for a in range(ne * n):
                lower[l0 + a] = front[a]
            for b in range(nr):
                for a in range(ne):
                    upper[u0 + b * ne + a] = front[(ne + b) * n + a]
        for b in range(nr):  # the update replaces the children's (a forward copy never overtakes)
            for a in range(nr):
                stack[below + b * nr + a] = front[ne + a + (ne + b) * n]
        top = below + nr * nr
        for a in range(ne):
            slot[e_pix[e0 + a]] = -1
        for a in range(nr):
            slot[r_pix[q0 + a]] = -1
    return -1


@numba.njit(cache=True)
def scatter_add(x, columns, values):
    """``x[:, columns] += values.T``, a column listed twice adding up.

    Parameters
    ----------
    x : ndarray, ``C×N``
        What is added to, in place (one row a channel).
    columns : ndarray of int
        The columns of ``x`` to add to.
    values : ndarray, ``k×C``
        What is added at each of them.
    """
    for i in range(len(columns)):
        for c in range(x.shape[0]):
            x[c, columns[i]] += values[i, c]


@numba.njit(cache=True, nogil=True)
def _gather(x, pixels, position):
    """A new ``x[:, at]`` (channels × len(pixels)), where ``at`` is ``pixels`` (``position`` empty) or
    ``position[pixels]``; and ``at``. By loops: numba compiles fancy indexing for seconds on a first run."""
    count = len(pixels)
    at = np.empty(count, np.int64)
    for k in range(count):
        at[k] = pixels[k] if len(position) == 0 else position[pixels[k]]
    values = np.empty((x.shape[0], count), x.dtype)
    for c in range(x.shape[0]):
        for k in range(count):
            values[c, k] = x[c, at[k]]
    return values, at


@numba.njit(cache=True, nogil=True)
def _scatter(x, at, values):
    """``x[:, at] = values``."""
    for c in range(x.shape[0]):
        for k in range(len(at)):
            x[c, at[k]] = values[c, k]


# Right-hand sides from which a node's triangular solves go to BLAS: below, the call overhead
# dominates the small fronts (benchmarks/results/solvers_measured.md).
_BLAS_CHANNELS = 8

#: Unknowns from which the root's two subtrees are factored and solved on two threads: below, the
#: hand-offs cost more than the second thread saves (benchmarks/results/code_notes.md).
TWO_THREADS_FROM = 4096
#: ``position`` for a solve in every pixel's own numbering (see :func:`_gather`).
_EVERY_PIXEL = np.zeros(0, np.int64)
#: The bounding box's start before any pixel is in it.
_NO_PIXEL = np.iinfo(np.int64).max


@numba.njit(cache=True, nogil=True)
def _blas_node(half, f, n, ne, nr, own, ring, u12, trsm, gemm):
    """One node's half of a solve by BLAS (row pivots left to the caller), ``half`` 0 to 3: up, up
    transposed, down, down transposed."""
    ints = np.empty(4, np.int32)
    ints[0], ints[1], ints[2], ints[3] = ne, nr, n, own.shape[0]
    scalars = np.empty(2, f.dtype)
    scalars[0], scalars[1] = 1.0, -1.0
    flags = np.empty(4, np.uint8)
    flags[0], flags[1], flags[2], flags[3] = 76, 85, 78, 84  # "L", "U", "N", "T" (see _reduce_front)
    char_l, char_u, char_n, char_t = flags[0:].ctypes, flags[1:].ctypes, flags[2:].ctypes, flags[3:].ctypes
    ne_, nr_, n_, k_ = ints[0:].ctypes, ints[1:].ctypes, ints[2:].ctypes, ints[3:].ctypes
    one, minus = scalars[0:].ctypes, scalars[1:].ctypes
    if half == 0:  # up: own ← L⁻¹ own; ring −= L21 own
        trsm(char_l, char_l, char_n, char_u, ne_, k_, one, f.ctypes, n_, own.ctypes, ne_)
        if nr:
            gemm(char_n, char_n, nr_, k_, ne_, minus, f[ne:].ctypes, n_, own.ctypes, ne_, one, ring.ctypes, nr_)
    elif half == 1:  # up, transposed: own ← U⁻ᵀ own; ring −= U12ᵀ own
        trsm(char_l, char_u, char_t, char_n, ne_, k_, one, f.ctypes, n_, own.ctypes, ne_)
        if nr:
            gemm(char_t, char_n, nr_, k_, ne_, minus, u12.ctypes, ne_, own.ctypes, ne_, one, ring.ctypes, nr_)
    elif half == 2:  # down: own ← U⁻¹ (own − U12 ring)
        if nr:
            gemm(char_n, char_n, ne_, k_, nr_, minus, u12.ctypes, ne_, ring.ctypes, nr_, one, own.ctypes, ne_)
        trsm(char_l, char_u, char_n, char_n, ne_, k_, one, f.ctypes, n_, own.ctypes, ne_)
    else:  # down, transposed: own ← L⁻ᵀ (own − L21ᵀ ring)
        if nr:
            gemm(char_t, char_n, ne_, k_, nr_, minus, f[ne:].ctypes, n_, ring.ctypes, nr_, one, own.ctypes, ne_)
        trsm(char_l, char_l, char_t, char_u, ne_, k_, one, f.ctypes, n_, own.ctypes, ne_)


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _solve_up(
    x, transpose, nodes, position, e_ptr, e_pix, r_ptr, r_pix, l_ptr, u_ptr, lower, upper, pivots, trsm, gemm
):
    """The forward half of a solve over ``nodes`` (in post-order), on ``x`` (channels × pixels, or ×
    ``position[pixel]``): per node ``F11 = Pᵀ L U``, ``F21 = L21 U``, ``F12 = Pᵀ L U12``."""
    channels = x.shape[0]
    for node in nodes:
        e0, q0 = e_ptr[node], r_ptr[node]
        ne, nr = e_ptr[node + 1] - e0, r_ptr[node + 1] - q0
        if ne == 0:
            continue
        n = ne + nr
        f = lower[l_ptr[node] : l_ptr[node + 1]]
        own, own_at = _gather(x, e_pix[e0 : e0 + ne], position)
        ring, ring_at = _gather(x, r_pix[q0 : q0 + nr], position)
        if not transpose:
            for k in range(ne):
                p = pivots[e0 + k] - 1
                if p != k:
                    for c in range(channels):
                        own[c, k], own[c, p] = own[c, p], own[c, k]
        if trsm is not None:  # many channels; with None (few) this branch is not even compiled
            _blas_node(int(transpose), f, n, ne, nr, own, ring, upper[u_ptr[node] : u_ptr[node + 1]], trsm, gemm)
        elif transpose:
            for j in range(ne):
                column = f[j * n : j * n + j + 1]
                for c in range(channels):
                    total = own[c, j]
                    for i in range(j):
                        total -= column[i] * own[c, i]
                    own[c, j] = total / column[j]
            u12 = upper[u_ptr[node] : u_ptr[node + 1]]
            for b in range(nr):
                column = u12[b * ne : (b + 1) * ne]
                for c in range(channels):
                    total = 0.0
                    for i in range(ne):
                        total += column[i] * own[c, i]
                    ring[c, b] -= total
        else:
            for j in range(ne):
                column = f[j * n : (j + 1) * n]
                for c in range(channels):
                    value = own[c, j]
                    for i in range(j + 1, ne):
                        own[c, i] -= column[i] * value
                    for a in range(nr):
                        ring[c, a] -= column[ne + a] * value
        _scatter(x, own_at, own)
        _scatter(x, ring_at, ring)


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _solve_down(
    x,
    transpose,
    nodes,
    parent,
    kept,
    tiny,
    boxed,
    width,
    e_ptr,
    e_pix,
    r_ptr,
    r_pix,
    l_ptr,
    u_ptr,
    lower,
    upper,
    pivots,
    trsm,
    gemm,
):
    """The backward half over ``nodes`` (parents before children): ``x_E ← U⁻¹ (x_E − U12 x_R)``
    (transposed: ``x_E ← Pᵀ L⁻ᵀ (x_E − L21ᵀ x_R)``)."""
    channels = x.shape[0]
    skipped = np.zeros(len(parent), np.bool_)
    solved = 0
    box = np.empty(4, np.int64)
    box[0], box[1], box[2], box[3] = _NO_PIXEL, -1, _NO_PIXEL, -1
    for node in nodes:
        e0, q0 = e_ptr[node], r_ptr[node]
        ne, nr = e_ptr[node + 1] - e0, r_ptr[node + 1] - q0
        if parent[node] >= 0 and skipped[parent[node]]:
            skipped[node] = True
            continue
        ring, _ = _gather(x, r_pix[q0 : q0 + nr], r_pix[:0])  # every pixel in its own place
        if tiny > 0 and not kept[node]:
            small = True
            for c in range(channels):
                for a in range(nr):
                    small &= abs(ring[c, a]) < tiny
            if small:
                skipped[node] = True
                continue
        solved += 1
        if ne == 0:
            continue
        n = ne + nr
        f = lower[l_ptr[node] : l_ptr[node + 1]]
        own, own_at = _gather(x, e_pix[e0 : e0 + ne], e_pix[:0])
        if trsm is not None:  # as in _solve_up
            _blas_node(2 + int(transpose), f, n, ne, nr, own, ring, upper[u_ptr[node] : u_ptr[node + 1]], trsm, gemm)
        elif transpose:
            for j in range(ne):
                column = f[j * n + ne : (j + 1) * n]
                for c in range(channels):
                    total = 0.0
                    for a in range(nr):
                        total += column[a] * ring[c, a]
                    own[c, j] -= total
            for j in range(ne - 1, -1, -1):
                column = f[j * n : j * n + ne]
                for c in range(channels):
                    total = own[c, j]
                    for i in range(j + 1, ne):
                        total -= column[i] * own[c, i]
                    own[c, j] = total
        else:
            u12 = upper[u_ptr[node] : u_ptr[node + 1]]
            for b in range(nr):
                column = u12[b * ne : (b + 1) * ne]
                for c in range(channels):
                    value = ring[c, b]
                    for i in range(ne):
                        own[c, i] -= column[i] * value
            for j in range(ne - 1, -1, -1):
                column = f[j * n : j * n + j + 1]
                for c in range(channels):
                    own[c, j] /= column[j]
                    value = own[c, j]
                    for i in range(j):
                        own[c, i] -= column[i] * value
        if transpose:
            for k in range(ne - 1, -1, -1):
                p = pivots[e0 + k] - 1
                if p != k:
                    for c in range(channels):
                        own[c, k], own[c, p] = own[c, p], own[c, k]
        _scatter(x, own_at, own)
        for a in range(ne if boxed else 0):
            large = False
            for c in range(channels):
                large |= abs(own[c, a]) >= tiny
            if large:
                i = e_pix[e0 + a] // width
                j = e_pix[e0 + a] - i * width
                box[0], box[1], box[2], box[3] = min(box[0], i), max(box[1], i + 1), min(box[2], j), max(box[3], j + 1)
    return solved, box


class MultifrontalLU:
    """LU factors of a grid operator restricted to its ``free`` pixels."""

    def __init__(self, stencil: np.ndarray, free: np.ndarray, dtype=np.float32, leaf: int = 32, threads: int = 2):
        self.tree = t = Dissection(stencil.shape[:2], free, leaf)
        self.dtype = np.dtype(dtype)
        ne, nr = np.diff(t.e_ptr), np.diff(t.r_ptr)
        self._l_ptr = np.concatenate(([0], np.cumsum(ne * (ne + nr))))
        self._u_ptr = np.concatenate(([0], np.cumsum(ne * nr)))
        self._factors = (
            np.empty(self._l_ptr[-1], dtype),
            np.empty(self._u_ptr[-1], dtype),
            np.empty(t.e_ptr[-1], np.int32),
        )
        stencil = np.ascontiguousarray(stencil, np.float64)
        self._lapack = lapack = _lapack(dtype)

        def factor(lo: int, hi: int, below: list[np.ndarray]) -> tuple[int, np.ndarray]:
            depth = sum(len(update) for update in below)
            stack = np.empty(_workspace(t.children, t.e_ptr, t.r_ptr, lo, hi, depth), dtype)
            stack[:depth] = np.concatenate(below) if below else stack[:0]
            with flushed_denormals():  # per thread: the flag is a thread's own
                failed = _factor(
                    stencil,
                    t.children,
                    t.e_ptr,
                    t.e_pix,
                    t.r_ptr,
                    t.r_pix,
                    self._l_ptr,
                    self._u_ptr,
                    *self._factors,
                    *lapack,
                    lo,
                    hi,
                    stack,
                    depth,
                )
            return failed, stack[: nr[hi - 1] ** 2]

        # The root's subtrees share nothing but the root: one thread each, then the root.
        root = len(ne) - 1
        parts = [(child - t.subtree_sizes[child] + 1, child + 1) for child in t.children[root] if child >= 0]
        self._parts = parts if threads > 1 and len(parts) == 2 and t.e_ptr[-1] >= TWO_THREADS_FROM else []
        with one_blas_thread():
            if self._parts:
                done = list(_map(lambda part: factor(*part, []), parts))
                failed = min((f for f, _ in done if f >= 0), default=-1)
                if failed < 0:
                    failed, _ = factor(root, root + 1, [update for _, update in done])
            else:
                failed, _ = factor(0, root + 1, [])
        if failed >= 0:
            raise ZeroDivisionError("a zero pivot: the operator restricted to the free pixels is singular")

    @property
    def nbytes(self) -> int:
        """The bytes the factors and their tree hold."""
        tree = sum(value.nbytes for value in vars(self.tree).values() if isinstance(value, np.ndarray))
        return tree + sum(part.nbytes for part in self._factors) + self._l_ptr.nbytes + self._u_ptr.nbytes

    def flops(self) -> tuple[float, float]:
        """Floating-point operations of the factorisation and of one solve (both passes) per
        right-hand side: what an edit's predicted cost is weighed against."""
        t = self.tree
        ne, nr = np.diff(t.e_ptr).astype(np.float64), np.diff(t.r_ptr).astype(np.float64)
        factor = np.sum(4.0 / 3.0 * ne**3 + 3.0 * ne**2 * nr + 2.0 * ne * nr**2)
        return float(factor), float(2.0 * np.sum(ne * ne + 2.0 * ne * nr))

    def up(self, x: np.ndarray, nodes: np.ndarray, position=None, transpose: bool = False) -> np.ndarray:
        """The forward pass over ``nodes`` on ``x`` (rows: right-hand sides; columns: every pixel, or
        ``position``'s numbering), in place: ``L⁻¹ P x``, or ``U⁻ᵀ x`` with ``transpose``."""
        t = self.tree
        # Every pixel is an empty numbering, not None: one compiled version serves a whole solve
        # and an update's block of the inverse (None would compile _solve_up twice, a slow compile).
        position = _EVERY_PIXEL if position is None else position
        with flushed_denormals(), one_blas_thread():
            _solve_up(
                x,
                transpose,
                np.ascontiguousarray(nodes, np.int64),
                np.ascontiguousarray(position, np.int64),
                t.e_ptr,
                t.e_pix,
                t.r_ptr,
                t.r_pix,
                self._l_ptr,
                self._u_ptr,
                *self._factors,
                *self._blas(x),
            )
        return x

    def _blas(self, x: np.ndarray) -> tuple:
        """BLAS ``trsm`` and ``gemm`` for a solve pass on ``x``'s rows if there are enough of them
        (:data:`_BLAS_CHANNELS`), else None twice: the passes' loops alone."""
        return self._lapack[1:] if x.shape[0] >= _BLAS_CHANNELS else (None, None)

    def _down(
        self,
        x: np.ndarray,
        nodes: np.ndarray,
        transpose: bool = False,
        kept: np.ndarray | None = None,
        tiny: float = 0.0,
    ) -> tuple[int, np.ndarray]:
        t = self.tree
        boxed = kept is not None  # a local solve's box; a full solve needs none
        kept = np.ones(len(t.parent), np.bool_) if kept is None else kept
        with flushed_denormals(), one_blas_thread():
            return _solve_down(
                x,
                transpose,
                np.ascontiguousarray(nodes[::-1], np.int64),  # a reversed view would compile again
                t.parent,
                kept,
                float(tiny),
                boxed,
                t.shape[1],
                t.e_ptr,
                t.e_pix,
                t.r_ptr,
                t.r_pix,
                self._l_ptr,
                self._u_ptr,
                *self._factors,
                *self._blas(x),
            )

    def solve(self, b: np.ndarray, transpose: bool = False) -> np.ndarray:
        """``x`` (pixels × channels) with ``A_ff x_f = b_f`` (``A_ffᵀ x_f = b_f`` with ``transpose``) at the
        free pixels; rows of ``b`` at the other pixels are returned as they are.

        Parameters
        ----------
        b : ndarray, ``N×C``
            The right-hand sides at every pixel (raster order), one column a channel.
        transpose : bool, optional
            Solve with the transposed factors.
        """
        x = np.array(np.asarray(b).T, self.dtype, order="C")
        root = np.array([len(self.tree.parent) - 1])
        if self._parts:
            # Up: each subtree on its own copy (both add into the root's separator), summed; down:
            # after the root, each subtree writes only its own pixels.
            parts = [np.arange(lo, hi) for lo, hi in self._parts]
            first, second = _map(lambda nodes: self.up(x.copy(), nodes, transpose=transpose), parts)
            x = first + second - x
            self.up(x, root, transpose=transpose)
            self._down(x, root, transpose=transpose)
            list(_map(lambda nodes: self._down(x, nodes, transpose=transpose), parts))
        else:
            everything = np.arange(len(self.tree.parent))
            self.up(x, everything, transpose=transpose)
            self._down(x, everything, transpose=transpose)
        return x.T.copy()

    def solve_local(
        self, pixels: np.ndarray, values: np.ndarray, tiny: float, between: Callable | None = None
    ) -> tuple[np.ndarray, int, tuple]:
        """``x`` (channels × pixels) with ``A_ff x_f = b_f`` for ``b`` zero but at the free ``pixels``,
        where it is ``values`` (``k×C``; a pixel listed twice adds up); the number of tree nodes solved."""
        pixels = np.asarray(pixels, np.int64)
        t = self.tree
        nodes = t.paths(pixels)
        kept = np.zeros(len(t.parent), np.bool_)
        kept[nodes] = True
        x = np.zeros((np.shape(values)[1], len(t.owner)), self.dtype)
        scatter_add(x, pixels, np.asarray(values, self.dtype))
        self.up(x, nodes)
        if between is not None:
            more, more_values = between(x)
            more = np.asarray(more, np.int64)
            if len(more):
                more_nodes = t.paths(more)
                y = np.zeros_like(x)
                scatter_add(y, more, np.asarray(more_values, self.dtype))
                x += self.up(y, more_nodes)
                kept[more_nodes] = True
        root = len(t.parent) - 1
        if self._parts:  # the root, then its two subtrees on two threads (they share nothing else)
            parts = [self._down(x, np.array([root]), kept=kept, tiny=tiny)]
            parts += _map(lambda part: self._down(x, np.arange(*part), kept=kept, tiny=tiny), self._parts)
        else:
            parts = [self._down(x, np.arange(root + 1), kept=kept, tiny=tiny)]
        boxes = np.array([box for _, box in parts])
        box = (boxes[:, 0].min(), boxes[:, 1].max(), boxes[:, 2].min(), boxes[:, 3].max())
        return x, sum(solved for solved, _ in parts), tuple(int(v) for v in box)
