"""Multifrontal LU of a grid operator on a geometric nested-dissection tree.

Each node of the tree is a rectangle of the pixel grid: a leaf eliminates all its unknowns, any
other node splits its rectangle by one row or column (a separator of the 8-neighbour stencil) and
eliminates that line after both halves. A node's *front* holds its own unknowns ``E`` and the
unknowns ``R`` on the one-pixel ring around its rectangle (the only pixels its rectangle couples
to, all on separators of its ancestors). Assembled from the operator's entries and its children's
update matrices, the front ``[F11 F12; F21 F22]`` is reduced with dense BLAS-3 kernels:
``G = F11⁻¹`` and the update ``F22 − F21 G F12`` passed to the parent. Solves walk the tree up
(``b_R −= F21 G b_E``) and down (``x_E = G (b_E − F12 x_R)``).

Why not a general sparse LU: on the same ordering SuperLU factors a 1 MP Levin system at about
6 GFlop/s (35 GFlop in 5.5 s on the reference machine); most of the flops sit in the large fronts
near the root, which dense matrix products run at over 100 GFlop/s on one core.

No pivoting is done: the systems here are M-matrices with dominant diagonals, whose Schur
complements keep that property, so elimination in the tree's order is stable; each dense ``F11``
is inverted by LAPACK with partial pivoting.
"""

from __future__ import annotations

import ctypes
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba.extending import get_cython_function_address

from .denormals import flushed_denormals

__all__ = ["Dissection", "MultifrontalLU", "nested_dissection"]


@numba.njit(cache=True)
def _cheapest_line(free, width, r0, r1, c0, c1, rows):
    """The row (``rows``) or column through the block's middle third with the fewest free pixels:
    cue patches are holes in the system, so a line through them is a shorter separator. A line
    off the middle must save a tenth of the block's width, so that the halves stay balanced where
    the counts differ by noise (a third-to-two-thirds split costs 1.5× the time on the larger
    side)."""
    lo, hi = (r0, r1) if rows else (c0, c1)
    middle = (lo + hi) // 2
    reach = (hi - lo) // 6
    saving = ((c1 - c0) if rows else (r1 - r0)) // 10
    best, best_count = middle, -1
    for step in range(2 * reach + 1):
        line = middle + (step + 1) // 2 * (1 if step % 2 else -1)  # middle, +1, -1, +2, ...
        count = 0
        if rows:
            for j in range(c0, c1):
                if free[line * width + j]:
                    count += 1
        else:
            for i in range(r0, r1):
                if free[i * width + line]:
                    count += 1
        if best_count < 0 or count < best_count - saving:
            best, best_count = line, count
    return best


@numba.njit(cache=True)
def _free_pixels(free, width, block, out, filled=0):
    """Count the free pixels of ``block`` (r0, r1, c0, c1), writing them to ``out`` from
    ``filled`` on unless ``out`` is None; returns the new fill."""
    r0, r1, c0, c1 = block
    for i in range(r0, r1):
        for j in range(c0, c1):
            if free[i * width + j]:
                if out is not None:
                    out[filled] = i * width + j
                filled += 1
    return filled


@numba.njit(cache=True)
def _ring(free, height, width, block, out):
    """The free pixels on the one-pixel ring around ``block`` (see :func:`_free_pixels`)."""
    r0, r1, c0, c1 = block
    left, right = max(c0 - 1, 0), min(c1 + 1, width)
    filled = 0
    if r0 > 0:
        filled = _free_pixels(free, width, (r0 - 1, r0, left, right), out, filled)
    if c0 > 0:
        filled = _free_pixels(free, width, (r0, r1, c0 - 1, c0), out, filled)
    if c1 < width:
        filled = _free_pixels(free, width, (r0, r1, c1, c1 + 1), out, filled)
    if r1 < height:
        filled = _free_pixels(free, width, (r1, r1 + 1, left, right), out, filled)
    return filled


@numba.njit(cache=True)
def _dissect(height, width, leaf, free):
    # Pre-order pass: a node's rectangle, its own line (r0, r1, c0, c1 of the eliminated pixels)
    # and its children. Children are pushed first-then-second, so the pre-order visits the second
    # subtree first and its reverse is a post-order with the first subtree first.
    rect = [(0, height, 0, width)]
    own = [(0, height, 0, width)]
    first = [-1]
    second = [-1]
    preorder = []
    stack = [0]
    while stack:
        n = stack.pop()
        preorder.append(n)
        r0, r1, c0, c1 = rect[n]
        if (r1 - r0) * (c1 - c0) <= leaf:
            continue
        if r1 - r0 >= c1 - c0:
            line = _cheapest_line(free, width, r0, r1, c0, c1, True)
            own[n] = (line, line + 1, c0, c1)
            halves = ((r0, line, c0, c1), (line + 1, r1, c0, c1))
        else:
            line = _cheapest_line(free, width, r0, r1, c0, c1, False)
            own[n] = (r0, r1, line, line + 1)
            halves = ((r0, r1, c0, line), (r0, r1, line + 1, c1))
        for k in range(2):
            h0, h1, w0, w1 = halves[k]
            if h1 <= h0 or w1 <= w0:
                continue
            child = len(rect)
            rect.append(halves[k])
            own.append(halves[k])
            first.append(-1)
            second.append(-1)
            if k == 0:
                first[n] = child
            else:
                second[n] = child
            stack.append(child)
    count = len(preorder)
    post = np.empty(count, np.int64)  # pre-order id -> post-order id
    for k in range(count):
        post[preorder[count - 1 - k]] = k
    children = np.full((count, 2), -1, np.int64)
    e_ptr = np.zeros(count + 1, np.int64)
    r_ptr = np.zeros(count + 1, np.int64)
    for k in range(count):
        n = preorder[count - 1 - k]
        if first[n] >= 0:
            children[k, 0] = post[first[n]]
        if second[n] >= 0:
            children[k, 1] = post[second[n]]
        e_ptr[k + 1] = e_ptr[k] + _free_pixels(free, width, own[n], None)
        r_ptr[k + 1] = r_ptr[k] + _ring(free, height, width, rect[n], None)
    e_pix = np.empty(e_ptr[-1], np.int64)
    r_pix = np.empty(r_ptr[-1], np.int64)
    for k in range(count):
        n = preorder[count - 1 - k]
        _free_pixels(free, width, own[n], e_pix[e_ptr[k]:e_ptr[k + 1]])
        _ring(free, height, width, rect[n], r_pix[r_ptr[k]:r_ptr[k + 1]])
    return children, e_ptr, e_pix, r_ptr, r_pix


@numba.njit(cache=True)
def _subtree_sizes(children):
    sizes = np.ones(len(children), np.int64)
    for node in range(len(children)):
        for child in children[node]:
            if child >= 0:
                sizes[node] += sizes[child]
    return sizes


class Dissection:
    """The nested-dissection tree of an ``H×W`` grid whose unknowns are the ``free`` pixels, in
    post-order (children before parents; the root last).

    ``children`` (``n×2``, −1 where none), and for node ``k`` its own unknowns
    ``e_pix[e_ptr[k]:e_ptr[k+1]]`` and its ring's ``r_pix[r_ptr[k]:r_ptr[k+1]]`` (raster indices).
    """

    def __init__(self, shape: tuple[int, int], free: np.ndarray | None = None, leaf: int = 32):
        free = np.ones(shape, np.bool_) if free is None else np.asarray(free, np.bool_)
        self.shape = (int(shape[0]), int(shape[1]))
        self.children, self.e_ptr, self.e_pix, self.r_ptr, self.r_pix = _dissect(
            self.shape[0], self.shape[1], int(leaf), free.ravel())
        self.subtree_sizes = _subtree_sizes(self.children)

    @property
    def order(self) -> np.ndarray:
        """The elimination order of the unknowns (raster indices)."""
        return self.e_pix


def nested_dissection(shape: tuple[int, int], leaf: int = 32, free: np.ndarray | None = None) -> np.ndarray:
    """Geometric nested-dissection ordering of an ``H×W`` pixel grid (raster indices).

    Each block is split by a row or column across its longer side (a separator for the
    8-neighbour stencil: no stencil entry reaches across a full line); both halves come first,
    the separator last, down to blocks of ``leaf`` pixels. The line is the middle one, or, with
    ``free`` (H×W bool, False where a pixel is not an unknown), the one within the middle third
    with the fewest unknowns; only free pixels are ordered then.

    Examples
    --------
    >>> nested_dissection((3, 3), leaf=3).tolist()   # top row, bottom row, then the middle row
    [0, 1, 2, 6, 7, 8, 3, 4, 5]
    """
    return Dissection(shape, free, leaf).order


_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor:
    """Two worker threads, started once (a thread start costs about a millisecond here)."""
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(2, thread_name_prefix="varcolor-lu"))
    return _POOL[0]


def _lapack(dtype) -> tuple:
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
    """Partial LU of the column-major ``n×n`` front: ``F11 = Pᵀ L U`` (row pivots ``ipiv``),
    ``U12 = L⁻¹ P F12``, ``L21 = F21 U⁻¹`` in place, and ``F22 −= L21 U12``. Returns LAPACK's
    ``info`` (> 0: a zero pivot)."""
    nr = n - ne
    ints = np.array([ne, nr, n], np.int32)
    scalars = np.array([1.0, -1.0], front.dtype)
    info = np.zeros(1, np.int32)
    flags = np.array([ord("L"), ord("R"), ord("U"), ord("N")], np.uint8)
    left, right, upper, no = flags[0:].ctypes, flags[1:].ctypes, flags[2:].ctypes, flags[3:].ctypes
    getrf(ints[0:].ctypes, ints[0:].ctypes, front.ctypes, ints[2:].ctypes, ipiv.ctypes, info.ctypes)
    if info[0] != 0 or nr == 0:
        return info[0]
    for k in range(ne):  # P F12
        p = ipiv[k] - 1
        if p != k:
            for j in range(ne, n):
                front[k + j * n], front[p + j * n] = front[p + j * n], front[k + j * n]
    f12, f21 = front[ne * n:], front[ne:]
    trsm(left, left, no, upper, ints[0:].ctypes, ints[1:].ctypes, scalars[0:].ctypes, front.ctypes,
         ints[2:].ctypes, f12.ctypes, ints[2:].ctypes)  # left, lower, unit: U12
    trsm(right, upper, no, no, ints[1:].ctypes, ints[0:].ctypes, scalars[0:].ctypes, front.ctypes,
         ints[2:].ctypes, f21.ctypes, ints[2:].ctypes)  # right, upper, non-unit: L21
    gemm(no, no, ints[1:].ctypes, ints[1:].ctypes, ints[0:].ctypes, scalars[1:].ctypes, f21.ctypes,
         ints[2:].ctypes, f12.ctypes, ints[2:].ctypes, scalars[0:].ctypes, front[ne + ne * n:].ctypes,
         ints[2:].ctypes)
    return 0


@numba.njit(cache=True)
def _workspace(children, e_ptr, r_ptr, lo, hi, depth):
    """Numbers of the update stack at its fullest while nodes ``lo`` to ``hi − 1`` are factored
    on top of ``depth`` numbers, with a front being assembled on top."""
    sizes = np.zeros(len(e_ptr), np.int64)  # each node's update, nr²
    for node in range(lo):
        sizes[node] = (r_ptr[node + 1] - r_ptr[node]) ** 2
    peak = depth
    for node in range(lo, hi):
        n = e_ptr[node + 1] - e_ptr[node] + r_ptr[node + 1] - r_ptr[node]
        peak = max(peak, depth + n * n)
        for child in children[node]:
            if child >= 0:
                depth -= sizes[child]
        sizes[node] = (r_ptr[node + 1] - r_ptr[node]) ** 2
        depth += sizes[node]
    return peak


@numba.njit(cache=True, nogil=True)
def _factor(stencil, children, e_ptr, e_pix, r_ptr, r_pix, l_ptr, u_ptr, lower, upper, pivots,
            getrf, trsm, gemm, lo, hi, stack, top):
    """Factor the nodes ``lo`` to ``hi − 1`` (in post-order). Each node's update (``nr×nr``,
    column-major) is pushed on ``stack`` and popped by its parent; updates of children before
    ``lo`` must lie on the stack below ``top``, in post-order. Returns −1, or the first node with
    a zero pivot."""
    height, width = stencil.shape[:2]
    slot = np.full(height * width, -1, np.int64)
    for node in range(lo, hi):
        e0, q0 = e_ptr[node], r_ptr[node]
        ne, nr = e_ptr[node + 1] - e0, r_ptr[node + 1] - q0
        n = ne + nr
        for a in range(ne):
            slot[e_pix[e0 + a]] = a
        for a in range(nr):
            slot[r_pix[q0 + a]] = ne + a
        front = stack[top:top + n * n]
        front[:] = 0
        # The operator's entries with an own unknown in their row or column; entries reaching a
        # pixel with no slot belong to a descendant's front (or to a cue, not an unknown).
        for a in range(ne):
            i, j = divmod(e_pix[e0 + a], width)
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
            ring = r_pix[r_ptr[child]:r_ptr[child + 1]]
            size = len(ring)
            below -= size * size
            update = stack[below:below + size * size]
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
            lower[l_ptr[node]:l_ptr[node + 1]] = front[:ne * n]
            u = upper[u_ptr[node]:u_ptr[node + 1]]
            for b in range(nr):
                u[b * ne:(b + 1) * ne] = front[(ne + b) * n:(ne + b) * n + ne]
        for b in range(nr):  # the update replaces the children's (a forward copy never overtakes)
            stack[below + b * nr:below + (b + 1) * nr] = front[ne + (ne + b) * n:n + (ne + b) * n]
        top = below + nr * nr
        for a in range(ne):
            slot[e_pix[e0 + a]] = -1
        for a in range(nr):
            slot[r_pix[q0 + a]] = -1
    return -1


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _solve_up(x, transpose, lo, hi, e_ptr, e_pix, r_ptr, r_pix, l_ptr, u_ptr, lower, upper, pivots):
    """The forward half of a solve over nodes ``lo`` to ``hi − 1``, on ``x`` (channels × pixels):
    per node ``F11 = Pᵀ L U``, ``F21 = L21 U``, ``F12 = Pᵀ L U12``, and ``x_E ← L⁻¹ P x_E``,
    ``x_R −= L21 x_E`` (transposed: ``x_E ← U⁻ᵀ x_E``, ``x_R −= U12ᵀ x_E``)."""
    channels = x.shape[0]
    for node in range(lo, hi):
        e0, q0 = e_ptr[node], r_ptr[node]
        ne, nr = e_ptr[node + 1] - e0, r_ptr[node + 1] - q0
        if ne == 0:
            continue
        n = ne + nr
        f = lower[l_ptr[node]:l_ptr[node + 1]]
        own = x[:, e_pix[e0:e0 + ne]]
        ring = x[:, r_pix[q0:q0 + nr]]
        if transpose:
            for j in range(ne):
                column = f[j * n:j * n + j + 1]
                for c in range(channels):
                    total = own[c, j]
                    for i in range(j):
                        total -= column[i] * own[c, i]
                    own[c, j] = total / column[j]
            u12 = upper[u_ptr[node]:u_ptr[node + 1]]
            for b in range(nr):
                column = u12[b * ne:(b + 1) * ne]
                for c in range(channels):
                    total = 0.0
                    for i in range(ne):
                        total += column[i] * own[c, i]
                    ring[c, b] -= total
        else:
            for k in range(ne):
                p = pivots[e0 + k] - 1
                if p != k:
                    for c in range(channels):
                        own[c, k], own[c, p] = own[c, p], own[c, k]
            for j in range(ne):
                column = f[j * n:(j + 1) * n]
                for c in range(channels):
                    value = own[c, j]
                    for i in range(j + 1, ne):
                        own[c, i] -= column[i] * value
                    for a in range(nr):
                        ring[c, a] -= column[ne + a] * value
        x[:, e_pix[e0:e0 + ne]] = own
        x[:, r_pix[q0:q0 + nr]] = ring


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _solve_down(x, transpose, lo, hi, e_ptr, e_pix, r_ptr, r_pix, l_ptr, u_ptr, lower, upper, pivots):
    """The backward half over nodes ``hi − 1`` down to ``lo``: ``x_E ← U⁻¹ (x_E − U12 x_R)``
    (transposed: ``x_E ← Pᵀ L⁻ᵀ (x_E − L21ᵀ x_R)``)."""
    channels = x.shape[0]
    for node in range(hi - 1, lo - 1, -1):
        e0, q0 = e_ptr[node], r_ptr[node]
        ne, nr = e_ptr[node + 1] - e0, r_ptr[node + 1] - q0
        if ne == 0:
            continue
        n = ne + nr
        f = lower[l_ptr[node]:l_ptr[node + 1]]
        own = x[:, e_pix[e0:e0 + ne]]
        ring = x[:, r_pix[q0:q0 + nr]]
        if transpose:
            for j in range(ne):
                column = f[j * n + ne:(j + 1) * n]
                for c in range(channels):
                    total = 0.0
                    for a in range(nr):
                        total += column[a] * ring[c, a]
                    own[c, j] -= total
            for j in range(ne - 1, -1, -1):
                column = f[j * n:j * n + ne]
                for c in range(channels):
                    total = own[c, j]
                    for i in range(j + 1, ne):
                        total -= column[i] * own[c, i]
                    own[c, j] = total
            for k in range(ne - 1, -1, -1):
                p = pivots[e0 + k] - 1
                if p != k:
                    for c in range(channels):
                        own[c, k], own[c, p] = own[c, p], own[c, k]
        else:
            u12 = upper[u_ptr[node]:u_ptr[node + 1]]
            for b in range(nr):
                column = u12[b * ne:(b + 1) * ne]
                for c in range(channels):
                    value = ring[c, b]
                    for i in range(ne):
                        own[c, i] -= column[i] * value
            for j in range(ne - 1, -1, -1):
                column = f[j * n:j * n + j + 1]
                for c in range(channels):
                    own[c, j] /= column[j]
                    value = own[c, j]
                    for i in range(j):
                        own[c, i] -= column[i] * value
        x[:, e_pix[e0:e0 + ne]] = own


class MultifrontalLU:
    """LU factors of a grid operator restricted to its ``free`` pixels.

    Parameters
    ----------
    stencil : ndarray, ``H×W×9``
        The operator (:class:`~varcolor.solvers.stencil.GridOperator` layout).
    free : bool ndarray, ``H×W``
        The unknowns; the factors are those of the operator's rows and columns at these pixels.
    dtype : numpy dtype
        Precision of the factors (float32 or float64).
    leaf : int
        Blocks of at most this many pixels are eliminated whole.

    Raises
    ------
    ZeroDivisionError
        When a pivot is exactly zero (the restricted operator is singular).

    Examples
    --------
    >>> import numpy as np
    >>> s = np.zeros((1, 3, 9)); s[..., 4] = 2.0; s[0, 1, 3] = s[0, 1, 5] = -1.0
    >>> lu = MultifrontalLU(s, np.ones((1, 3), bool), np.float64)
    >>> lu.solve(np.array([[2.0], [0.0], [4.0]])).ravel().tolist()   # x1 = (x0 + x2) / 2
    [1.0, 1.5, 2.0]
    """

    def __init__(self, stencil: np.ndarray, free: np.ndarray, dtype=np.float32, leaf: int = 32,
                 threads: int = 2):
        self.tree = t = Dissection(stencil.shape[:2], free, leaf)
        self.dtype = np.dtype(dtype)
        ne, nr = np.diff(t.e_ptr), np.diff(t.r_ptr)
        self._l_ptr = np.concatenate(([0], np.cumsum(ne * (ne + nr))))
        self._u_ptr = np.concatenate(([0], np.cumsum(ne * nr)))
        self._factors = (np.empty(self._l_ptr[-1], dtype), np.empty(self._u_ptr[-1], dtype),
                         np.empty(t.e_ptr[-1], np.int32))
        stencil = np.ascontiguousarray(stencil, np.float64)
        lapack = _lapack(dtype)

        def factor(lo: int, hi: int, below: list[np.ndarray]) -> tuple[int, np.ndarray]:
            depth = sum(len(update) for update in below)
            stack = np.empty(_workspace(t.children, t.e_ptr, t.r_ptr, lo, hi, depth), dtype)
            stack[:depth] = np.concatenate(below) if below else stack[:0]
            with flushed_denormals():  # per thread: the flag is a thread's own
                failed = _factor(stencil, t.children, t.e_ptr, t.e_pix, t.r_ptr, t.r_pix, self._l_ptr,
                                 self._u_ptr, *self._factors, *lapack, lo, hi, stack, depth)
            return failed, stack[:nr[hi - 1] ** 2]

        # The root's subtrees share nothing but the root: one thread each, then the root.
        root = len(ne) - 1
        parts = [(child - t.subtree_sizes[child] + 1, child + 1) for child in t.children[root] if child >= 0]
        self._parts = parts if threads > 1 and len(parts) == 2 else []
        if self._parts:
            done = list(_pool().map(lambda part: factor(*part, []), parts))
            failed = min((f for f, _ in done if f >= 0), default=-1)
            if failed < 0:
                failed, _ = factor(root, root + 1, [update for _, update in done])
        else:
            failed, _ = factor(0, root + 1, [])
        if failed >= 0:
            raise ZeroDivisionError("a zero pivot: the operator restricted to the free pixels is singular")

    @property
    def nbytes(self) -> int:
        return sum(array.nbytes for array in self._factors)

    def solve(self, b: np.ndarray, transpose: bool = False) -> np.ndarray:
        """``x`` (pixels × channels) with ``A_ff x_f = b_f`` (``A_ffᵀ x_f = b_f`` with
        ``transpose``) at the free pixels; rows of ``b`` at the other pixels are returned as
        they are."""
        t = self.tree
        x = np.array(np.asarray(b).T, self.dtype, order="C")
        arguments = (t.e_ptr, t.e_pix, t.r_ptr, t.r_pix, self._l_ptr, self._u_ptr, *self._factors)

        def run(half, x: np.ndarray, lo: int, hi: int) -> np.ndarray:
            with flushed_denormals():
                half(x, transpose, lo, hi, *arguments)
            return x

        root = len(t.e_ptr) - 2
        if len(self._parts) == 2:
            # Up: each subtree on its own copy (both add into the root's separator), summed; down:
            # after the root, each subtree writes only its own pixels.
            first, second = _pool().map(lambda part: run(_solve_up, x.copy(), *part), self._parts)
            x = first + second - x
            run(_solve_up, x, root, root + 1)
            run(_solve_down, x, root, root + 1)
            list(_pool().map(lambda part: run(_solve_down, x, *part), self._parts))
        else:
            run(_solve_up, x, 0, root + 1)
            run(_solve_down, x, 0, root + 1)
        return x.T.copy()
