"""Geometric nested dissection of a pixel grid: the tree that the multifrontal LU
(:mod:`varcolor.solvers.multifrontal`) factors node by node, and the ordering it gives.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["Dissection", "nested_dissection"]


# One kernel of plain loops over flat integer arrays, so numba compiles little; nogil, so the
# studio's background refactorisation does not hold up its server (benchmarks/results/code_notes.md).


@numba.njit(cache=True, nogil=True)
def _cheapest_line(free, width, r0, r1, c0, c1, rows):
    """The row (``rows``) or column through the block's middle third with the fewest free pixels: cue
    patches are holes in the system, so a line through them is a shorter separator."""
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


@numba.njit(cache=True, nogil=True)
def _free_pixels(free, width, r0, r1, c0, c1, out, filled):
    """Count the free pixels of the block ``r0:r1, c0:c1``, writing them to ``out`` from
    ``filled`` on unless ``out`` is empty; returns the new fill."""
    write = len(out) > 0
    for i in range(r0, r1):
        for j in range(c0, c1):
            if free[i * width + j]:
                if write:
                    out[filled] = i * width + j
                filled += 1
    return filled


@numba.njit(cache=True, nogil=True)
def _ring(free, height, width, r0, r1, c0, c1, out, filled):
    """The free pixels on the one-pixel ring around the block (see :func:`_free_pixels`)."""
    left, right = max(c0 - 1, 0), min(c1 + 1, width)
    if r0 > 0:
        filled = _free_pixels(free, width, r0 - 1, r0, left, right, out, filled)
    if c0 > 0:
        filled = _free_pixels(free, width, r0, r1, c0 - 1, c0, out, filled)
    if c1 < width:
        filled = _free_pixels(free, width, r0, r1, c1, c1 + 1, out, filled)
    if r1 < height:
        filled = _free_pixels(free, width, r1, r1 + 1, left, right, out, filled)
    return filled


# Columns of the per-node table that _dissect grows: its rectangle, its own line (r0, r1, c0, c1
# of the eliminated pixels), its children (pre-order ids), and two lists kept beside them: the
# pre-order (row k: the k-th node visited) and the stack of nodes to visit.
_RECT, _OWN, _FIRST, _SECOND, _PREORDER, _STACK, _COLUMNS = 0, 4, 8, 9, 10, 11, 12


@numba.njit(cache=True, nogil=True)
def _dissect(height, width, leaf, free):
    # The summed-area table of ``free``: any block's count of free pixels in four reads.
    counts = np.zeros((height + 1, width + 1), np.int64)
    for i in range(height):
        for j in range(width):
            counts[i + 1, j + 1] = counts[i, j + 1] + counts[i + 1, j] - counts[i, j] + free[i * width + j]
    # Pre-order pass: children are pushed first-then-second, so the pre-order visits the second
    # subtree first and its reverse is a post-order with the first subtree first.
    table = np.empty((16 + height * width // (4 * max(leaf, 1)), _COLUMNS), np.int64)
    table[0, _RECT], table[0, _RECT + 1], table[0, _RECT + 2], table[0, _RECT + 3] = 0, height, 0, width
    for b in range(4):
        table[0, _OWN + b] = table[0, _RECT + b]
    table[0, _FIRST] = table[0, _SECOND] = -1
    table[0, _STACK] = 0
    nodes, visited, stacked = 1, 0, 1
    while stacked:
        stacked -= 1
        n = table[stacked, _STACK]
        table[visited, _PREORDER] = n
        visited += 1
        r0, r1, c0, c1 = table[n, _RECT], table[n, _RECT + 1], table[n, _RECT + 2], table[n, _RECT + 3]
        if (r1 - r0) * (c1 - c0) <= leaf:
            continue
        # A block without unknowns is not split: its subtree would only pass zeros up (a window
        # whose unknowns are a few bands around strokes is mostly such blocks).
        if counts[r1, c1] - counts[r0, c1] - counts[r1, c0] + counts[r0, c0] == 0:
            continue
        rows = r1 - r0 >= c1 - c0
        line = _cheapest_line(free, width, r0, r1, c0, c1, rows)
        if nodes + 2 > len(table):  # room for two children (a table twice as long, copied by loops)
            bigger = np.empty((2 * len(table), _COLUMNS), np.int64)
            for a in range(nodes):
                for b in range(_COLUMNS):
                    bigger[a, b] = table[a, b]
            table = bigger
        for k in range(2):
            if rows:
                own = (line, line + 1, c0, c1)
                half = (r0, line, c0, c1) if k == 0 else (line + 1, r1, c0, c1)
            else:
                own = (r0, r1, line, line + 1)
                half = (r0, r1, c0, line) if k == 0 else (r0, r1, line + 1, c1)
            for b in range(4):
                table[n, _OWN + b] = own[b]
            if half[1] <= half[0] or half[3] <= half[2]:
                continue
            for b in range(4):
                table[nodes, _RECT + b] = table[nodes, _OWN + b] = half[b]
            table[nodes, _FIRST] = table[nodes, _SECOND] = -1
            table[n, _FIRST + k] = nodes
            table[stacked, _STACK] = nodes
            nodes += 1
            stacked += 1
    count = visited
    post = np.empty(count, np.int64)  # pre-order id -> post-order id
    for k in range(count):
        post[table[count - 1 - k, _PREORDER]] = k
    children = np.empty((count, 2), np.int64)
    parent = np.empty(count, np.int64)
    sizes = np.empty(count, np.int64)  # each node's subtree, itself included
    e_ptr = np.zeros(count + 1, np.int64)
    r_ptr = np.zeros(count + 1, np.int64)
    for k in range(count):
        n = table[count - 1 - k, _PREORDER]
        parent[k] = -1
        sizes[k] = 1
        for side in range(2):
            child = table[n, _FIRST + side]
            children[k, side] = post[child] if child >= 0 else -1
            if child >= 0:
                parent[post[child]] = k
                sizes[k] += sizes[post[child]]
        o0, o1, o2, o3 = table[n, _OWN], table[n, _OWN + 1], table[n, _OWN + 2], table[n, _OWN + 3]
        q0, q1, q2, q3 = table[n, _RECT], table[n, _RECT + 1], table[n, _RECT + 2], table[n, _RECT + 3]
        e_ptr[k + 1] = _free_pixels(free, width, o0, o1, o2, o3, e_ptr[:0], e_ptr[k])
        r_ptr[k + 1] = _ring(free, height, width, q0, q1, q2, q3, r_ptr[:0], r_ptr[k])
    e_pix = np.empty(e_ptr[-1], np.int64)
    r_pix = np.empty(r_ptr[-1], np.int64)
    owner = np.empty(height * width, np.int64)
    for p in range(height * width):
        owner[p] = -1
    for k in range(count):
        n = table[count - 1 - k, _PREORDER]
        o0, o1, o2, o3 = table[n, _OWN], table[n, _OWN + 1], table[n, _OWN + 2], table[n, _OWN + 3]
        q0, q1, q2, q3 = table[n, _RECT], table[n, _RECT + 1], table[n, _RECT + 2], table[n, _RECT + 3]
        _free_pixels(free, width, o0, o1, o2, o3, e_pix, e_ptr[k])
        _ring(free, height, width, q0, q1, q2, q3, r_pix, r_ptr[k])
        for a in range(e_ptr[k], e_ptr[k + 1]):
            owner[e_pix[a]] = k
    return children, e_ptr, e_pix, r_ptr, r_pix, parent, owner, sizes


class Dissection:
    """The nested-dissection tree of an ``H×W`` grid whose unknowns are the ``free`` pixels, in
    post-order (children before parents; the root last).
    """

    def __init__(self, shape: tuple[int, int], free: np.ndarray | None = None, leaf: int = 32):
        free = np.ones(shape, np.bool_) if free is None else np.asarray(free, np.bool_)
        self.shape = (int(shape[0]), int(shape[1]))
        tree = _dissect(self.shape[0], self.shape[1], int(leaf), free.ravel())
        self.children, self.e_ptr, self.e_pix, self.r_ptr, self.r_pix = tree[:5]
        self.parent, self.owner, self.subtree_sizes = tree[5:]

    def paths(self, pixels: np.ndarray) -> np.ndarray:
        """The nodes that eliminate ``pixels`` (raster indices of unknowns) and all their
        ancestors, in post-order.

        Parameters
        ----------
        pixels : ndarray of int
            Raster indices of unknowns (free pixels).
        """
        on_path = np.zeros(len(self.parent), bool)
        frontier = np.unique(self.owner[pixels])
        while len(frontier):
            frontier = frontier[~on_path[frontier]]
            on_path[frontier] = True
            frontier = np.unique(self.parent[frontier])
            frontier = frontier[frontier >= 0]
        return np.flatnonzero(on_path)

    def space(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A compact numbering of the own unknowns of ``nodes``, node after node: each node's first number
        (and the total last), the unknowns in that order (raster indices), and every pixel's number.

        Parameters
        ----------
        nodes : ndarray of int
            The nodes (post-order ids), in the order their unknowns are numbered.
        """
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

    Parameters
    ----------
    shape : tuple of int
        The grid's ``(H, W)``.
    leaf : int, optional
        The most pixels of a block that is not split.
    free : ndarray of bool, ``H×W``, optional
        False where a pixel is not an unknown; None: every pixel is one.
    """
    return Dissection(shape, free, leaf).order
