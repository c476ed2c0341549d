"""Nine-point operators on the pixel grid, the form every energy's system takes here."""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from ..common.kernels import small_system
from ..common.neighbours import EDGE_OFFSETS, STENCIL_OFFSETS, at_neighbour, inside, padded

__all__ = ["stencil_neighbours", "GridOperator", "graph_laplacian"]


def stencil_neighbours(pixels: np.ndarray, shape: tuple[int, int]):
    """For each stencil entry ``k`` (:data:`STENCIL_OFFSETS` order), of the raster indices ``pixels`` of an
    image of ``shape``: ``k``, whether each pixel's neighbour there lies inside the image.

    Parameters
    ----------
    pixels : ndarray of int
        Raster indices of pixels of the image.
    shape : tuple of int
        The image's ``(H, W)``.

    Examples
    --------
    >>> [(k, inside.tolist()) for k, inside, _, _ in stencil_neighbours(np.array([0]), (2, 2))][3:6]
    [(3, [False]), (4, [True]), (5, [True])]
    """
    height, width = shape
    rows, columns = np.divmod(pixels, width)
    for k, (dy, dx) in enumerate(STENCIL_OFFSETS):
        i, j = rows + dy, columns + dx
        inside = (i >= 0) & (i < height) & (j >= 0) & (j < width)
        yield k, inside, np.clip(i, 0, height - 1), np.clip(j, 0, width - 1)


@numba.njit(cache=True, parallel=True, fastmath=True)
def _apply(stencil, x, out):
    height, width, channels = x.shape
    for i in numba.prange(height):
        for j in range(width):
            for c in range(channels):
                out[i, j, c] = 0.0
            for k in range(9):
                # Out-of-image coefficients are 0, so a clamped index reads a harmless pixel.
                ii = min(max(i + k // 3 - 1, 0), height - 1)
                jj = min(max(j + k % 3 - 1, 0), width - 1)
                coefficient = stencil[i, j, k]
                for c in range(channels):
                    out[i, j, c] += coefficient * x[ii, jj, c]


@numba.njit(cache=True)
def _apply_rows(stencil, rows, x, out):
    height, width = stencil.shape[:2]
    channels = x.shape[2]
    for n in range(len(rows)):
        i, j = rows[n] // width, rows[n] % width
        for c in range(channels):
            out[n, c] = 0.0
        for k in range(9):
            ii, jj = i + k // 3 - 1, j + k % 3 - 1
            if 0 <= ii < height and 0 <= jj < width:
                coefficient = stencil[i, j, k]
                for c in range(channels):
                    out[n, c] += coefficient * x[ii, jj, c]


@numba.njit(cache=True, parallel=True)
def _transpose(stencil, out):
    height, width = stencil.shape[:2]
    for i in numba.prange(height):
        for j in range(width):
            for k in range(9):
                ii = i + k // 3 - 1
                jj = j + k % 3 - 1
                inside = 0 <= ii < height and 0 <= jj < width
                out[i, j, k] = stencil[ii, jj, 8 - k] if inside else 0.0


@numba.njit(cache=True)
def _is_symmetric(stencil, rtol):
    height, width = stencil.shape[:2]
    for i in range(height):
        for j in range(width):
            for k in range(4):  # the other half of the stencil is the mirror's
                ii = i + k // 3 - 1
                jj = j + k % 3 - 1
                inside = 0 <= ii < height and 0 <= jj < width
                a = stencil[i, j, k]
                b = stencil[ii, jj, 8 - k] if inside else 0.0
                if abs(a - b) > rtol * abs(b):
                    return False
                if stencil[i, j, 8 - k] != 0.0 and not (0 <= i - k // 3 + 1 < height and 0 <= j - k % 3 + 1 < width):
                    return False
    return True


@numba.njit(cache=True, parallel=True)
def _identity_rows(stencil, out):
    height, width = stencil.shape[:2]
    for i in numba.prange(height):
        for j in range(width):
            identity = stencil[i, j, 4] == 1.0
            for k in range(9):
                identity = identity and (k == 4 or stencil[i, j, k] == 0.0)
            out[i, j] = identity


@numba.njit(cache=True)
def _csr(stencil):
    height, width = stencil.shape[:2]
    n = height * width
    indptr = np.empty(n + 1, np.int64)
    indices = np.empty(9 * n, np.int64)
    data = np.empty(9 * n, stencil.dtype)
    nnz = 0
    for i in range(height):
        for j in range(width):
            indptr[i * width + j] = nnz
            for k in range(9):
                ii = i + k // 3 - 1
                jj = j + k % 3 - 1
                if 0 <= ii < height and 0 <= jj < width and (stencil[i, j, k] != 0.0 or k == 4):
                    indices[nnz] = ii * width + jj
                    data[nnz] = stencil[i, j, k]
                    nnz += 1
    indptr[n] = nnz
    return indptr, indices[:nnz], data[:nnz]


def _is_symmetric_array(stencil: np.ndarray, rtol: float) -> bool:
    """:func:`_is_symmetric` as array code: the same comparisons, all at once."""
    shape = stencil.shape[:2]
    bordered = padded(stencil)
    for k in range(4):  # the other half of the stencil is the mirror's
        dy, dx = (int(d) for d in STENCIL_OFFSETS[k])
        a, b = stencil[..., k], at_neighbour(bordered, dy, dx, shape)[..., 8 - k]
        if np.any(np.abs(a - b) > rtol * np.abs(b)):
            return False
        if np.any(stencil[..., 8 - k][~inside(-dy, -dx, shape)] != 0.0):
            return False
    return True


def _transpose_array(stencil: np.ndarray, out: np.ndarray) -> None:
    """:func:`_transpose` as array code."""
    shape = stencil.shape[:2]
    bordered = padded(stencil)  # outside: 0
    for k, (dy, dx) in enumerate(STENCIL_OFFSETS):
        out[..., k] = at_neighbour(bordered, int(dy), int(dx), shape)[..., 8 - k]


def _csr_array(stencil: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_csr` as array code: the same entries in the same order (a row's in stencil order,
    which is its columns' order), the centre kept even where it is 0."""
    height, width = shape = stencil.shape[:2]
    pixel = np.arange(height * width).reshape(shape)
    keep = np.empty(stencil.shape, bool)
    columns = np.empty(stencil.shape, np.int64)
    for k, (dy, dx) in enumerate(STENCIL_OFFSETS):
        keep[..., k] = inside(int(dy), int(dx), shape) & ((stencil[..., k] != 0.0) | (k == 4))
        columns[..., k] = pixel + dy * width + dx
    indptr = np.zeros(height * width + 1, np.int64)
    np.cumsum(keep.sum(axis=2).ravel(), out=indptr[1:])
    return indptr, columns[keep], stencil[keep]


class GridOperator:
    """A linear operator on ``H×W`` images given by a 9-point stencil per pixel.

    Parameters
    ----------
    stencil : ndarray, ``H×W×9``
        ``stencil[i, j, k]`` multiplies ``x[i + dy_k, j + dx_k]`` in row ``(i, j)``.
    array : bool
        Its sparse matrix and symmetry check by array code rather than the numba kernels: an
        operator built by array code for want of compiled kernels (:func:`graph_laplacian`), whose
        solvers would otherwise compile two more in the user's face.

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.common.neighbours import CENTRE
    >>> s = np.zeros((3, 4, 9)); s[..., CENTRE] = 2.0
    >>> op = GridOperator(s)
    >>> float(op.apply(np.ones((3, 4, 1)))[0, 0, 0]), op.to_csr().shape
    (2.0, (12, 12))
    >>> s = np.random.default_rng(0).random((3, 4, 9)); s[0, :, :3] = s[-1, :, 6:] = s[:, 0, ::3] = s[:, -1, 2::3] = 0
    >>> bool(np.allclose(GridOperator(s).transposed().to_csr().toarray(), GridOperator(s).to_csr().toarray().T))
    True
    """

    def __init__(self, stencil: np.ndarray, array: bool = False):
        stencil = np.ascontiguousarray(stencil)
        if stencil.ndim != 3 or stencil.shape[2] != 9:
            raise ValueError(f"a grid stencil must be H×W×9, got {stencil.shape}")
        self.stencil = stencil
        self.array = array

    @property
    def shape(self) -> tuple[int, int]:
        return self.stencil.shape[:2]

    @property
    def dtype(self) -> np.dtype:
        return self.stencil.dtype

    def apply(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``A x`` for ``x`` of shape ``H×W×C`` (array code on a small grid:
        :func:`varcolor.common.kernels.small_system`).

        Parameters
        ----------
        x : ndarray, ``H×W×C``
            What the operator is applied to, one channel at a time.
        out : ndarray, ``H×W×C``, optional
            Where the result is written; a new array where None.
        """
        if out is None:
            out = np.empty(x.shape, np.result_type(self.stencil.dtype, x.dtype))
        if not small_system(self.stencil.shape[0] * self.stencil.shape[1]):
            _apply(self.stencil, x, out)
            return out
        bordered = padded(x)  # out-of-image coefficients are 0
        out[...] = 0.0
        for k, (dy, dx) in enumerate(STENCIL_OFFSETS):
            out += self.stencil[..., k, None] * at_neighbour(bordered, dy, dx, self.shape)
        return out

    def apply_rows(self, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``(A x)`` at the ``rows`` alone (raster indices), as a ``k×C`` array, for ``x`` of shape
        ``H×W×C``: in time proportional to their number, not to the image's.

        Parameters
        ----------
        x : ndarray, ``H×W×C``
        rows : ndarray of int
            Raster indices of the rows wanted.
        """
        rows = np.asarray(rows, np.int64)
        out = np.empty((len(rows), x.shape[-1]), np.result_type(self.stencil.dtype, x.dtype))
        if not small_system(len(rows)):
            _apply_rows(self.stencil, rows, x, out)
            return out
        coefficients = self.stencil[np.divmod(rows, self.shape[1])]
        out[...] = 0.0
        for k, _, i, j in stencil_neighbours(rows, self.shape):
            out += coefficients[:, k, None] * x[i, j]
        return out

    def transposed(self) -> GridOperator:
        """The operator ``Aᵀ``, again a 9-point stencil (entry k of row r is entry 8 − k of row r + offset k);
        by array code on a small grid (:func:`varcolor.common.kernels.small_system`), as :meth:`apply`."""
        out = np.empty_like(self.stencil)
        small = self.array or small_system(self.shape[0] * self.shape[1])
        (_transpose_array if small else _transpose)(self.stencil, out)
        return GridOperator(out, self.array)

    def is_symmetric(self, rtol: float = 1e-12) -> bool:
        """Whether ``A = Aᵀ`` to relative tolerance ``rtol`` (a single pass, stopping at the first mismatch).

        Parameters
        ----------
        rtol : float, optional
            The largest difference of two mirrored entries, relative to the second one.
        """
        if self.array:
            return _is_symmetric_array(self.stencil, rtol)
        return bool(_is_symmetric(self.stencil, rtol))

    def identity_rows(self) -> np.ndarray:
        """``H×W`` bool: the rows that are rows of the identity (e.g. eliminated cues)."""
        out = np.empty(self.shape, np.bool_)
        _identity_rows(self.stencil, out)
        return out

    def to_csr(self) -> sp.csr_matrix:
        """The same operator as a sparse matrix, rows and columns in raster order."""
        indptr, indices, data = (_csr_array if self.array else _csr)(self.stencil)
        n = self.shape[0] * self.shape[1]
        return sp.csr_matrix((data, indices, indptr), shape=(n, n))


@numba.njit(cache=True, parallel=True)
def _graph_laplacian(weights, fixed, values, diagonal, source, stencil, rhs):
    height, width, channels = rhs.shape
    for i in numba.prange(height):
        for j in range(width):
            for k in range(9):
                stencil[i, j, k] = 0.0
            if fixed[i, j]:
                stencil[i, j, 4] = 1.0
                for c in range(channels):
                    rhs[i, j, c] = values[i, j, c]
                continue
            stencil[i, j, 4] = diagonal[i, j]
            for c in range(channels):
                rhs[i, j, c] = source[i, j, c]
            for e in range(4):
                for direction in (1, -1):  # the edge leaving (i, j), and the one arriving
                    dy, dx = direction * EDGE_OFFSETS[e, 0], direction * EDGE_OFFSETS[e, 1]
                    ii, jj = i + dy, j + dx
                    if not (0 <= ii < height and 0 <= jj < width):
                        continue
                    w = weights[i, j, e] if direction == 1 else weights[ii, jj, e]
                    stencil[i, j, 4] += w
                    if fixed[ii, jj]:  # eliminated: its value moves to the right-hand side
                        for c in range(channels):
                            rhs[i, j, c] += w * values[ii, jj, c]
                    else:
                        stencil[i, j, 3 * (dy + 1) + dx + 1] = -w


def _graph_laplacian_array(weights, fixed, values, diagonal, source, stencil, rhs) -> None:
    """:func:`_graph_laplacian` as array code: each of the 8 neighbours' couplings at once for every
    pixel, added in the kernel's order (the same sums)."""
    shape = fixed.shape
    edges, neighbour_fixed, neighbour_values = padded(weights), padded(fixed), padded(values)
    stencil[...] = 0.0
    centre = diagonal.copy()
    rhs[...] = source
    for e, (ey, ex) in enumerate(EDGE_OFFSETS):
        for direction in (1, -1):  # the edge leaving each pixel, and the one arriving
            dy, dx = direction * int(ey), direction * int(ex)
            if direction == 1:  # an edge leaving the image is ignored
                w = np.where(inside(dy, dx, shape), weights[..., e], 0.0)
            else:  # the neighbour's own edge; 0 (the padding) where it is outside
                w = at_neighbour(edges, dy, dx, shape)[..., e]
            centre += w
            held = at_neighbour(neighbour_fixed, dy, dx, shape)
            rhs += np.where(held, w, 0.0)[..., None] * at_neighbour(neighbour_values, dy, dx, shape)
            stencil[..., 3 * (dy + 1) + dx + 1] = np.where(held, 0.0, -w)
    stencil[..., 4] = centre
    stencil[fixed] = 0.0
    stencil[fixed, 4] = 1.0
    rhs[fixed] = values[fixed]


def graph_laplacian(
    weights: np.ndarray,
    fixed: np.ndarray,
    values: np.ndarray,
    diagonal: np.ndarray,
    source: np.ndarray,
    array: bool = False,
) -> tuple[GridOperator, np.ndarray]:
    """The system ``Σ_s w_rs (u_r − u_s) + d_r u_r = g_r`` of a weighted 8-neighbour graph, with the
    ``fixed`` pixels held at ``values`` and eliminated: SPD on the other pixels."""
    shape = fixed.shape
    stencil = np.empty(shape + (9,))
    rhs = np.empty(values.shape)
    (_graph_laplacian_array if array else _graph_laplacian)(
        np.ascontiguousarray(weights, dtype=np.float64),
        np.ascontiguousarray(fixed, dtype=np.bool_),
        np.ascontiguousarray(values, dtype=np.float64),
        np.ascontiguousarray(diagonal, dtype=np.float64),
        np.ascontiguousarray(source, dtype=np.float64),
        stencil,
        rhs,
    )
    return GridOperator(stencil, array), rhs
