"""How much memory there is, and refusing work that would not fit before it starts."""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os

import numpy as np

from ..errors import InputError

__all__ = [
    "available_bytes",
    "memory_budget",
    "check_memory",
    "give_back_free_memory",
    "malloc_in_use",
    "sparse_zeros",
    "BUDGET_FRACTION",
]

#: The share of the available memory one job may plan to use unless told otherwise (``max_memory``):
#: the rest is the system's, other processes' and our estimates' margin.
BUDGET_FRACTION = 0.8


def available_bytes() -> int:
    """Memory the system can give now (MemAvailable), or physical memory where that is unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def give_back_free_memory() -> bool:
    """Return the memory freed inside this process to the system (glibc's ``malloc_trim``); whether
    it could (False where the C library is not glibc).
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False
    trim(0)
    return True


def malloc_in_use(*, mapped: bool = False) -> int | None:
    """Bytes glibc's malloc has handed out in this process and not had back (``mallinfo2``'s ``uordblks``),
    with ``mapped`` its blocks mapped apart too (``hblkhd``: large arrays).

    Parameters
    ----------
    mapped : bool
        Count the large blocks malloc maps one by one as well.
    """

    class Info(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
        ]

    try:
        read = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    read.restype = Info
    info = read()
    return int(info.uordblks + (info.hblkhd if mapped else 0))


def sparse_zeros(shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
    """Zeros whose memory the system supplies only where they are written, a page at a time:
    for a big array that holds values at a few places (the cues' colours at their strokes).

    Parameters
    ----------
    shape, dtype
        As :func:`numpy.zeros` takes them.
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size < SPARSE_ABOVE or not hasattr(mmap, "MAP_PRIVATE"):
        return np.zeros(shape, dtype)
    pages = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_NOHUGEPAGE"):  # else the system's own default (huge pages only when asked)
        pages.madvise(mmap.MADV_NOHUGEPAGE)
    return np.frombuffer(pages, dtype).reshape(shape)  # the array keeps the mapping alive


#: Below this many bytes :func:`sparse_zeros` gives plain zeros (a mapping of its own costs a system call).
SPARSE_ABOVE = 4 << 20


def _gb(size: float) -> str:
    """Bytes in GB for a message: one decimal, more where that would read 0.0."""
    return f"{size / 1e9:.1f} GB" if size >= 0.1e9 else f"{size / 1e9:.2g} GB"


def memory_budget(max_memory: float | None = None) -> tuple[int, str]:
    """The memory budget of a job (bytes) and how it was set, in words for a message:
    ``max_memory`` (bytes) where given, else :data:`BUDGET_FRACTION` of what is available.

    Parameters
    ----------
    max_memory : float, optional
        The budget in bytes, a positive number; None for :data:`BUDGET_FRACTION` of the available memory.

    Returns
    -------
    budget : int
        The budget in bytes.
    how : str
        How it was set, for a message.
    """
    if max_memory is not None:
        number = not isinstance(max_memory, bool) and isinstance(max_memory, (int, float, np.number))
        if not (number and np.isfinite(max_memory) and max_memory > 0):
            raise InputError(f"max_memory must be a positive number of bytes, got {max_memory}")
        return int(max_memory), "the budget given as max_memory"
    have = available_bytes()
    return int(BUDGET_FRACTION * have), (
        f"{BUDGET_FRACTION:.0%} of the {_gb(have)} available; set it with max_memory (--max-memory)"
    )


def check_memory(need: int, what: str, max_memory: float | None = None) -> None:
    """Refuse ``what`` (a phrase naming the work) when it needs more than the memory budget
    (:func:`memory_budget`).

    Parameters
    ----------
    need : int
        The bytes the work needs.
    what : str
        A phrase naming the work, for the message that refuses it.
    max_memory : float, optional
        The budget in bytes, as :func:`memory_budget` takes it.

    Examples
    --------
    >>> check_memory(1, "a tiny job")
    >>> check_memory(1 << 62, "a huge job")
    Traceback (most recent call last):
    ...
    varcolor.errors.InputError: a huge job needs about 4611686018.4 GB of memory, ...
    """
    budget, how = memory_budget(max_memory)
    if need > budget:
        raise InputError(f"{what} needs about {_gb(need)} of memory, more than the budget of {_gb(budget)} ({how})")
