"""Image-sized arrays used again: an edit's result written into the memory of an earlier one that
nothing refers to any more, not into fresh memory.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

__all__ = ["Spares"]


def _references(held: list[np.ndarray]) -> list[int]:
    """Each held array's reference count, as this very loop sees it."""
    return [sys.getrefcount(array) for array in held]


#: The count :func:`_references` gives an array that only the list holds: counted, not assumed,
#: since interpreters differ in the references they take.
_OWN_REFERENCES = _references([np.empty(0)])[0]


class Spares:
    """Arrays handed out, and used again once nothing else refers to them (no result, view or name of a
    caller's): up to ``keep`` held."""

    def __init__(self, keep: int = 2):
        self.keep = keep
        self._held: list[np.ndarray] = []
        self._making: list[tuple[threading.Thread, list, tuple]] = []  # arrays made ahead, not yet held

    def copy_of(self, array: np.ndarray) -> np.ndarray:
        """A copy of ``array`` (C order), in a held array of its shape and type that nothing else
        refers to, or in a new one (held for later, the oldest held let go past ``keep``).

        Parameters
        ----------
        array : ndarray
            The array to copy.
        """
        out = self.empty(array.shape, array.dtype)
        np.copyto(out, array)
        return out

    def empty(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An array of ``shape`` and ``dtype`` (C order, its values left as they were): a held one that
        nothing else refers to, or a new one, held for later (the oldest held let go past ``keep``).

        Parameters
        ----------
        shape : tuple of int
            The array's shape.
        dtype : numpy dtype
            Its type.
        """
        self._wait()
        out = self._free(tuple(shape), np.dtype(dtype))
        if out is None:
            out = np.empty(shape, dtype)
            self._hold(out)
        return out

    def prepare(self, shape: tuple[int, ...], dtype, most: int | None = None) -> None:
        """Make an array of ``shape`` and ``dtype`` ahead, in a thread: its pages mapped (written once),
        then held, for a later :meth:`empty` or :meth:`copy_of` to find (which wait for it)."""
        shape, dtype = tuple(shape), np.dtype(dtype)
        if self._free(shape, dtype) is not None:
            return
        # (counted, not listed: a list would hold references to them, and none would look free)
        kind = sum(held.shape == shape and held.dtype == dtype for held in self._held)
        making = sum(spec == (shape, dtype) for _, _, spec in self._making)
        if not self.keep or kind + making >= (self.keep if most is None else most):
            return
        made: list[np.ndarray] = []

        def make() -> None:
            try:
                array = np.empty(shape, dtype)
                array.fill(0)  # every page written now, not in the edit that needs it
            except MemoryError:  # the edit makes its own, or says why not
                return
            made.append(array)

        thread = threading.Thread(target=make, name="varcolor-spares", daemon=True)
        self._making.append((thread, made, (shape, dtype)))
        thread.start()

    def _free(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
        """A held array of ``shape`` and ``dtype`` that nothing else refers to, or None."""
        for held, count in zip(self._held, _references(self._held)):
            if held.shape == shape and held.dtype == dtype and count <= _OWN_REFERENCES:
                return held
        return None

    def _wait(self) -> None:
        """Hold the arrays made ahead, once made (the thread writes only its own list)."""
        for thread, made, _ in self._making:
            thread.join()
            for array in made:  # none where making it failed (no memory): the edit makes its own
                self._hold(array)
        self._making = []

    def _hold(self, array: np.ndarray) -> None:
        self._held = [*self._held, array][-self.keep :] if self.keep else []

    def clear(self) -> None:
        """Let go of every held array."""
        self._wait()
        self._held = []
