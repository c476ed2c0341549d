"""Array modules per device: NumPy/SciPy on the CPU, CuPy on a CUDA GPU."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numba
import numpy as np
import scipy.sparse

from ..errors import InputError

DEVICES = ("cpu", "cuda")
# Below this many rows a threaded product costs more to start than it saves.
_PARALLEL_ROWS = 20_000


@numba.njit(cache=True, parallel=True, fastmath=True)
def _csr_matmul2(indptr, indices, data, x, out):
    # Two right-hand sides (the chroma channels), accumulated in registers.
    for i in numba.prange(out.shape[0]):
        first = 0.0
        second = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            value = data[p]
            col = indices[p]
            first += value * x[col, 0]
            second += value * x[col, 1]
        out[i, 0] = first
        out[i, 1] = second


class ParallelCSR:
    """A CSR matrix whose product with an ``N×C`` array runs on every core (SciPy's uses one)."""

    def __init__(self, matrix: scipy.sparse.csr_matrix, dtype=np.float64):
        matrix = scipy.sparse.csr_matrix(matrix, dtype=dtype)
        self.shape = matrix.shape
        self.dtype = matrix.dtype
        self.matrix = matrix
        self.indptr = matrix.indptr.astype(np.int32)
        self.indices = matrix.indices.astype(np.int32)
        self.data = matrix.data

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != 2 or self.shape[0] < _PARALLEL_ROWS:
            return self.matrix @ x
        out = np.empty((self.shape[0], 2), dtype=self.dtype)
        _csr_matmul2(self.indptr, self.indices, self.data, x, out)
        return out


@dataclass(frozen=True)
class ArrayBackend:
    """``xp`` (the NumPy-like module) and ``sparse`` (the SciPy-like sparse module) of a device; on the CPU,
    ``kernels``: whether sparse products run the parallel numba kernel (:class:`ParallelCSR`) or SciPy's.
    """

    name: str
    xp: ModuleType
    sparse: ModuleType
    kernels: bool = True

    def asarray(self, array: np.ndarray, dtype=None):
        """``array`` as this device's array (a copy on a GPU).

        Parameters
        ----------
        array : ndarray
            A host array.
        dtype : numpy dtype, optional
            The type to cast to; None keeps the array's.
        """
        return self.xp.asarray(array, dtype=dtype)

    def csr(self, matrix, dtype=np.float64) -> object:
        """A CSR matrix on this device whose ``@`` takes ``N×C`` arrays of ``dtype``.

        Parameters
        ----------
        matrix : scipy.sparse matrix
            The matrix, on the host.
        dtype : numpy dtype, optional
            The type of its values (float64 by default).
        """
        if self.name == "cpu":
            return ParallelCSR(matrix, dtype) if self.kernels else scipy.sparse.csr_matrix(matrix, dtype=dtype)
        return self.sparse.csr_matrix(scipy.sparse.csr_matrix(matrix, dtype=dtype))

    def to_host(self, array) -> np.ndarray:
        """This device's ``array`` as a NumPy array (:func:`to_host`).

        Parameters
        ----------
        array : ndarray
            An array of this backend's ``xp``.
        """
        return to_host(array, self.xp)


def to_host(array, xp) -> np.ndarray:
    """``array`` of array module ``xp`` (NumPy or CuPy) as a NumPy array.

    Parameters
    ----------
    array : ndarray
        An array of ``xp``.
    xp : module
        Its array module: NumPy (the array is returned as it is) or CuPy (copied to the host).
    """
    return getattr(xp, "asnumpy", np.asarray)(array)


def backend(device: str, kernels: bool = True) -> ArrayBackend:
    """The array backend of ``device`` ("cpu" or "cuda"); a clear error when CUDA is unavailable.
    ``kernels``: see :class:`ArrayBackend` (the CPU's alone).

    Parameters
    ----------
    device : str
        ``"cpu"`` or ``"cuda"``; another name, or CUDA without CuPy or a GPU, raises
        :class:`~varcolor.errors.InputError`.
    kernels : bool, optional
        On the CPU, whether sparse products run the parallel numba kernel (default True).
    """
    if device == "cpu":
        return ArrayBackend("cpu", np, scipy.sparse, kernels)
    if device != "cuda":
        raise InputError(f"unknown device {device!r}; available: {', '.join(DEVICES)}")
    try:
        import cupy
        import cupyx.scipy.sparse as cupy_sparse
    except ImportError:
        raise InputError("device='cuda' needs CuPy (pip install 'varcolor[gpu]') and a CUDA GPU") from None
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no device")
    except Exception:
        raise InputError("device='cuda': CuPy is installed but no CUDA GPU is available") from None
    return ArrayBackend("cuda", cupy, cupy_sparse)
