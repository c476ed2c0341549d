"""Decoded pixels kept for the one later read that wants them again (a chain's photo, read to rank
it and again by its job; a result that joins a chain's pool, described and then matched): taken
once, while the file is unchanged, within :data:`KEPT_BYTES` (the oldest go first). A read that
nobody announced keeps nothing, so a lone scan's pixels go before its solve as they always did."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from .atomic import file_state

__all__ = ["KEPT_BYTES", "keep", "take", "forget"]

#: The most bytes of decoded pixels kept at once; a larger photo is decoded again by its next read.
KEPT_BYTES = 1 << 30

_KEPT: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
_LOCK = threading.Lock()


def _key(path: str | os.PathLike, how: Hashable) -> tuple | None:
    state = file_state(path)
    return None if state is None else (str(Path(path).resolve()), state, how)


def keep(path: str | os.PathLike, how: Hashable, value: Any, nbytes: int) -> None:
    """Keep ``value`` (``nbytes`` of pixels, decoded from ``path`` as ``how`` says) for the next
    :func:`take` of them."""
    key = _key(path, how)
    if key is None or nbytes > KEPT_BYTES:
        return
    with _LOCK:
        _KEPT[key] = (value, nbytes)
        _KEPT.move_to_end(key)
        while sum(size for _, size in _KEPT.values()) > KEPT_BYTES:
            _KEPT.popitem(last=False)


def take(path: str | os.PathLike, how: Hashable) -> Any:
    """What was kept of ``path`` read as ``how`` says, given up (None: nothing, or the file
    changed since)."""
    if not _KEPT:  # (most reads: nothing was kept, and the file is not looked at)
        return None
    key = _key(path, how)
    with _LOCK:
        return None if key is None else _KEPT.pop(key, (None, 0))[0]


def forget() -> None:
    """Drop everything kept (a run's end)."""
    with _LOCK:
        _KEPT.clear()
