"""Image-sized arrays used again: an edit's result written into the memory of an earlier one that
nothing refers to any more, not into fresh memory.

Why: a fresh array is mapped page by page as it is first written. At 12 MP a result's float64
colours are 0.29 GB: copied into fresh memory 0.33–0.53 s on a loaded 2-core machine (4 kB pages),
into memory already mapped 0.06–0.09 s. An edit makes a new result each time (the last one is
never changed after it is returned), so the result before last is usually garbage by then.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["Spares"]


def _references(held: list[np.ndarray]) -> list[int]:
    """Each held array's reference count, as this very loop sees it."""
    return [sys.getrefcount(array) for array in held]


#: The count :func:`_references` gives an array that only the list holds (the list's entry, the
#: loop's name, the call's argument: 3 on CPython 3.11; measured, not assumed, since interpreters
#: differ in the references they take).
_OWN_REFERENCES = _references([np.empty(0)])[0]


class Spares:
    """Arrays handed out, and used again once nothing else refers to them (no result, view or
    name of a caller's): up to ``keep`` held. A reused array is overwritten whole, so nothing a
    caller did to it before dropping it shows.

    Parameters
    ----------
    keep : int
        How many arrays are held (each as large as the ones handed out).

    Examples
    --------
    >>> spares = Spares()
    >>> first = spares.copy_of(np.zeros((2, 2)))
    >>> address = first.__array_interface__["data"][0]
    >>> del first  # the caller dropped it: its memory holds the next copy
    >>> second = spares.copy_of(np.ones((2, 2)))
    >>> second.__array_interface__["data"][0] == address, second.tolist()
    (True, [[1.0, 1.0], [1.0, 1.0]])
    """

    def __init__(self, keep: int = 2):
        self.keep = keep
        self._held: list[np.ndarray] = []

    def copy_of(self, array: np.ndarray) -> np.ndarray:
        """A copy of ``array`` (C order), in a held array of its shape and type that nothing else
        refers to, or in a new one (held for later, the oldest held let go past ``keep``)."""
        for held, count in zip(self._held, _references(self._held)):
            if held.shape == array.shape and held.dtype == array.dtype and count <= _OWN_REFERENCES:
                np.copyto(held, array)
                return held
        out = np.empty(array.shape, array.dtype)
        np.copyto(out, array)
        self._held = [*self._held, out][-self.keep :] if self.keep else []
        return out

    def clear(self) -> None:
        """Let go of every held array."""
        self._held = []
