"""Decoded pixels kept for the one later read that wants them again (a chain's photo, read to rank
it and again by its job; a pool photo described at planning and matched by a job): taken once,
while the file is unchanged, within :data:`KEPT_BYTES` (the oldest go first). A read nobody
announced keeps nothing, so a lone scan's pixels go before its solve as they always did."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path

import numpy as np

from .atomic import file_state

__all__ = ["KEPT_BYTES", "keep", "take", "forget"]

#: The most bytes of decoded pixels kept at once; a larger photo is decoded again by its next read.
KEPT_BYTES = 1 << 30

_KEPT: OrderedDict[tuple, np.ndarray] = OrderedDict()
_LOCK = threading.Lock()


def _key(path: str | os.PathLike, how: Hashable) -> tuple | None:
    state = file_state(Path(path))
    return None if state is None else (str(Path(path).resolve()), state, how)


def keep(path: str | os.PathLike, how: Hashable, pixels: np.ndarray) -> None:
    """Keep ``pixels``, decoded from ``path`` as ``how`` says, for the next :func:`take` of them."""
    key = _key(path, how)
    if key is None or pixels.nbytes > KEPT_BYTES:
        return
    with _LOCK:
        _KEPT[key] = pixels
        _KEPT.move_to_end(key)
        while sum(kept.nbytes for kept in _KEPT.values()) > KEPT_BYTES:
            _KEPT.popitem(last=False)


def take(path: str | os.PathLike, how: Hashable) -> np.ndarray | None:
    """The pixels kept of ``path`` read as ``how`` says, given up (None: none kept, or the file
    changed since)."""
    key = _key(path, how)
    with _LOCK:
        return None if key is None else _KEPT.pop(key, None)


def forget() -> None:
    """Drop every kept decode (a run's end)."""
    with _LOCK:
        _KEPT.clear()
