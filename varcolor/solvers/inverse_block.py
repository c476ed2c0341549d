"""The block of the inverse of a factored grid operator at a growing set of pixels, from the
multifrontal LU's factors: what the low-rank updates (:mod:`varcolor.solvers.lowrank`) solve
their small system with."""

from __future__ import annotations

import numpy as np

from .dissection import Dissection
from .multifrontal import MultifrontalLU, scatter_add

__all__ = ["InverseBlock"]


# Below this, a forward-pass value is left out of the inverse's entries (which are O(1) or more).
_NEGLIGIBLE = 1e-18


class _Rows:
    """Rows appended in chunks to a node's kept vectors (their pixels' indices, ``L⁻¹ P e_j`` and ``U⁻ᵀ
    e_j`` at the node's own unknowns), in arrays grown by half."""

    def __init__(self, width: int, dtype) -> None:
        self.count = 0
        self._index: np.ndarray = np.zeros(0, np.int64)
        self._lower: np.ndarray = np.zeros((0, width), dtype)
        self._upper: np.ndarray = np.zeros((0, width), dtype)

    def append(self, index: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        end = self.count + len(index)
        if end > len(self._index):
            size = max(end, len(self._index) * 3 // 2)
            grown = [np.zeros((size,) + a.shape[1:], a.dtype) for a in (self._index, self._lower, self._upper)]
            for new, old in zip(grown, (self._index, self._lower, self._upper)):
                new[: self.count] = old[: self.count]
            self._index, self._lower, self._upper = grown
        self._index[self.count : end], self._lower[self.count : end], self._upper[self.count : end] = (
            index,
            lower,
            upper,
        )
        self.count = end

    @property
    def index(self) -> np.ndarray:
        return self._index[: self.count]

    @property
    def lower(self) -> np.ndarray:
        return self._lower[: self.count]

    @property
    def upper(self) -> np.ndarray:
        return self._upper[: self.count]


def _below(tree: Dissection, pixels: np.ndarray):
    """(node, pixel) for every node on each pixel's path, grouped by node: the nodes of the paths (in
    post-order), where each one's pixels start and end, and the pixels."""
    below_nodes: list[np.ndarray] = []
    below_pixels: list[np.ndarray] = []
    node, index = tree.owner[pixels], np.arange(len(pixels))
    while len(node):
        below_nodes.append(node)
        below_pixels.append(index)
        up = tree.parent[node]
        node, index = up[up >= 0], index[up >= 0]
    below_node, below_pixel = np.concatenate(below_nodes), np.concatenate(below_pixels)
    order = np.argsort(below_node, kind="stable")
    below_node, below_pixel = below_node[order], below_pixel[order]
    starts = np.flatnonzero(np.r_[True, below_node[1:] != below_node[:-1]])
    ends = np.r_[starts[1:], len(below_node)]
    return below_node[starts], starts, ends, below_pixel


class InverseBlock:
    """The block of ``A_ff⁻¹`` at a growing set of pixels, from the factors of ``lu``, and
    ``A_ff⁻¹ b`` there for a right-hand side ``b`` changed piece by piece."""

    def __init__(self, lu: MultifrontalLU, channels: int = 1):
        self.lu = lu
        self.pixels = np.zeros(0, np.int64)
        self._storage = np.zeros((0, 0), lu.dtype)  # the block in its top-left corner, grown by half
        self._vectors: dict[int, _Rows] = {}  # node -> the kept vectors of the pixels below it
        self.solution = np.zeros((0, channels))  # A⁻¹ b at ``pixels``
        self._b_forward: np.ndarray | None = None  # L⁻¹ P b (channels × every pixel), once b is not 0

    def add(self, pixels: np.ndarray) -> None:
        """Extend the block by ``pixels`` (raster indices of unknowns, none already in it).

        Parameters
        ----------
        pixels : ndarray of int
            The pixels to add, raster indices of free pixels not yet in the block.
        """
        pixels = np.asarray(pixels, np.int64)
        if not len(pixels):
            return
        lu, t = self.lu, self.lu.tree
        old, k = len(self.pixels), len(self.pixels) + len(pixels)
        nodes, starts, ends, below_pixel = _below(t, pixels)
        offsets, own, position = t.space(nodes)
        unit = np.zeros((len(pixels), len(own)), lu.dtype)
        unit[np.arange(len(pixels)), position[pixels]] = 1.0
        lower = self._forward(unit.copy(), nodes, position, False)  # rows L⁻¹ P e_j
        upper = self._forward(unit, nodes, position, True)  # rows U⁻ᵀ e_j
        if k > len(self._storage):
            storage = np.zeros((max(k, len(self._storage) * 3 // 2),) * 2, lu.dtype)
            storage[:old, :old] = self.block
            self._storage = storage
        block = self._storage[:k, :k]
        solution = np.zeros((len(pixels), self.solution.shape[1]))
        for s, (node, first, last) in enumerate(zip(nodes, starts, ends)):
            columns = slice(offsets[s], offsets[s + 1])
            if columns.start == columns.stop:
                continue
            rows = below_pixel[first:last]
            new_lower, new_upper = lower[rows, columns], upper[rows, columns]
            block[np.ix_(rows + old, rows + old)] += new_upper @ new_lower.T
            if self._b_forward is not None:
                solution[rows] += new_upper @ self._b_forward[:, own[columns]].T
            kept = self._vectors.setdefault(int(node), _Rows(columns.stop - columns.start, lu.dtype))
            if kept.count:
                block[np.ix_(kept.index, rows + old)] += kept.upper @ new_lower.T
                block[np.ix_(rows + old, kept.index)] += new_upper @ kept.lower.T
            kept.append(rows + old, new_lower, new_upper)
        self.pixels = np.concatenate([self.pixels, pixels])
        self.solution = np.concatenate([self.solution, solution])

    def cost(self, pixels: np.ndarray) -> float:
        """The floating-point operations :meth:`add` would spend on ``pixels`` (none in the block): two
        forward passes of every new pixel over the union of their paths.

        Parameters
        ----------
        pixels : ndarray of int
            The pixels that would be added, raster indices of free pixels not yet in the block.
        """
        pixels = np.asarray(pixels, np.int64)
        if not len(pixels):
            return 0.0
        t = self.lu.tree
        nodes, starts, ends, _ = _below(t, pixels)
        ne = np.diff(t.e_ptr)[nodes].astype(np.float64)
        nr = np.diff(t.r_ptr)[nodes].astype(np.float64)
        new = (ends - starts).astype(np.float64)
        kept = np.array([self._vectors[n].count if n in self._vectors else 0 for n in nodes.tolist()], np.float64)
        forward = 2.0 * len(pixels) * np.sum(ne * ne + 2.0 * ne * nr)
        return float(forward + np.sum(2.0 * ne * new * (new + 2.0 * kept)))

    def values_at(self, forward: np.ndarray) -> np.ndarray:
        """``A_ff⁻¹ b`` at the block's pixels (rows in their order, channels as columns) from ``forward`` =
        ``L⁻¹ P b`` (channels × every pixel, a forward pass's result).

        Parameters
        ----------
        forward : ndarray, ``C×N``
            ``L⁻¹ P b``, one row a channel, over every pixel (raster indices).
        """
        t = self.lu.tree
        out = np.zeros((len(self.pixels), forward.shape[0]))
        for node, kept in self._vectors.items():
            if kept.count:
                out[kept.index] += kept.upper @ forward[:, t.e_pix[t.e_ptr[node] : t.e_ptr[node + 1]]].T
        return out

    def add_to_rhs(self, pixels: np.ndarray, values: np.ndarray) -> None:
        """Add ``values`` (``len(pixels) × channels``; a pixel listed twice adds up) to ``b`` at the free
        ``pixels``, and their solution to :attr:`solution`: one forward pass from ``pixels``.

        Parameters
        ----------
        pixels : ndarray of int
            Raster indices of free pixels (any, in the block or not).
        values : ndarray, ``k×C``
            What is added at each of them, one column a channel.
        """
        pixels = np.asarray(pixels, np.int64)
        if not len(pixels):
            return
        t = self.lu.tree
        nodes = t.paths(pixels)
        offsets, own, position = t.space(nodes)
        forward = np.zeros((self.solution.shape[1], len(own)), self.lu.dtype)
        scatter_add(forward, position[pixels], np.asarray(values, self.lu.dtype))
        forward = self._forward(forward, nodes, position, False)
        if self._b_forward is None:
            self._b_forward = np.zeros((forward.shape[0], len(t.owner)), self.lu.dtype)
        self._b_forward[:, own] += forward
        for s, node in enumerate(nodes):
            if node in self._vectors:
                kept = self._vectors[node]
                self.solution[kept.index] += kept.upper @ forward[:, offsets[s] : offsets[s + 1]].T

    def _forward(self, x: np.ndarray, nodes: np.ndarray, position: np.ndarray, transpose: bool) -> np.ndarray:
        """The forward pass over ``nodes`` on ``x`` (rows: right-hand sides, in ``position``'s numbering),
        values too small to matter set to 0: Green's functions decay."""
        x = self.lu.up(x, nodes, position, transpose)
        x[np.abs(x) < _NEGLIGIBLE] = 0.0
        return x

    @property
    def block(self) -> np.ndarray:
        """``A_ff⁻¹`` at ``pixels`` (rows and columns in their order; a view, changed by :meth:`add`)."""
        k = len(self.pixels)
        return self._storage[:k, :k]
