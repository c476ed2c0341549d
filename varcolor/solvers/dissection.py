"""Geometric nested dissection of a pixel grid: the tree that the multifrontal LU
(:mod:`varcolor.solvers.multifrontal`) factors node by node, and the ordering it gives.

Each node of the tree is a rectangle of the pixel grid: a leaf holds all its unknowns, any other
node splits its rectangle by one row or column (a separator of the 8-neighbour stencil), which is
its own unknowns. The tree is kept as flat arrays (per-node offsets into pixel buffers), laid out
for the factorisation's numba kernels.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["Dissection", "nested_dissection"]


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
def _free_counts(free, height, width):
    """The summed-area table of ``free`` (``(H+1)×(W+1)``): any block's count of free pixels in
    four reads."""
    counts = np.zeros((height + 1, width + 1), np.int64)
    for i in range(height):
        for j in range(width):
            counts[i + 1, j + 1] = counts[i, j + 1] + counts[i + 1, j] - counts[i, j] + free[i * width + j]
    return counts


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
    counts = _free_counts(free, height, width)
    while stack:
        n = stack.pop()
        preorder.append(n)
        r0, r1, c0, c1 = rect[n]
        if (r1 - r0) * (c1 - c0) <= leaf:
            continue
        # A block without unknowns is not split: its subtree would only pass zeros up (a window
        # whose unknowns are a few bands around strokes is mostly such blocks).
        if counts[r1, c1] - counts[r0, c1] - counts[r1, c0] + counts[r0, c0] == 0:
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
        _free_pixels(free, width, own[n], e_pix[e_ptr[k] : e_ptr[k + 1]])
        _ring(free, height, width, rect[n], r_pix[r_ptr[k] : r_ptr[k + 1]])
    return children, e_ptr, e_pix, r_ptr, r_pix


@numba.njit(cache=True)
def _parents_and_owners(children, e_ptr, e_pix, pixels):
    parent = np.full(len(children), -1, np.int64)
    owner = np.full(pixels, -1, np.int64)
    for node in range(len(children)):
        for child in children[node]:
            if child >= 0:
                parent[child] = node
        owner[e_pix[e_ptr[node] : e_ptr[node + 1]]] = node
    return parent, owner


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
            self.shape[0], self.shape[1], int(leaf), free.ravel()
        )
        self.subtree_sizes = _subtree_sizes(self.children)
        self.parent, self.owner = _parents_and_owners(self.children, self.e_ptr, self.e_pix, free.size)

    def paths(self, pixels: np.ndarray) -> np.ndarray:
        """The nodes that eliminate ``pixels`` (raster indices of unknowns) and all their
        ancestors, in post-order."""
        on_path = np.zeros(len(self.parent), bool)
        frontier = np.unique(self.owner[pixels])
        while len(frontier):
            frontier = frontier[~on_path[frontier]]
            on_path[frontier] = True
            frontier = np.unique(self.parent[frontier])
            frontier = frontier[frontier >= 0]
        return np.flatnonzero(on_path)

    def space(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A compact numbering of the own unknowns of ``nodes``, node after node: each node's
        first number (and the total last), the unknowns in that order (raster indices), and
        every pixel's number (−1 off those nodes)."""
        own = np.concatenate([np.zeros(0, np.int64)] + [self.e_pix[self.e_ptr[n] : self.e_ptr[n + 1]] for n in nodes])
        position = np.full(len(self.owner), -1, np.int64)
        position[own] = np.arange(len(own))
        return np.concatenate(([0], np.cumsum(self.e_ptr[nodes + 1] - self.e_ptr[nodes]))), own, position

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
