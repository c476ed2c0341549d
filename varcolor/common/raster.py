"""Where a boolean image holds: its pixels' rows and columns, and the values there; each
channel's extremes.
"""

from __future__ import annotations

from types import EllipsisType, ModuleType

import numpy as np

__all__ = ["coordinates", "gather", "channel_extremes", "changed_pixels", "box_of", "dilated", "one_value"]


def coordinates(mask, xp: ModuleType = np):
    """The rows and columns of the True pixels of the 2-d ``mask``, in raster order: what
    ``xp.nonzero(mask)`` gives.

    Parameters
    ----------
    mask : ndarray, ``H×W``
        Boolean (or any values: nonzero ones count).
    xp : module
        The array module of ``mask`` (NumPy or CuPy).

    Examples
    --------
    >>> mask = np.zeros((2, 3), bool); mask[0, 2] = mask[1, 0] = True
    >>> [part.tolist() for part in coordinates(mask)]
    [[0, 1], [2, 0]]
    """
    if mask.ndim != 2:
        raise ValueError(f"coordinates of a 2-d mask, got {mask.ndim} dimensions")
    return xp.divmod(xp.flatnonzero(mask), mask.shape[1])


def gather(values: np.ndarray, mask: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """``values[mask]`` (``values`` ``H×W`` or ``H×W×C``, ``mask`` ``H×W`` bool), by the mask's
    flat indices (``at``: those indices, where found already).

    Parameters
    ----------
    values : ndarray, ``H×W`` or ``H×W×C``
    mask : bool ndarray, ``H×W``
    at : ndarray of int, optional
        ``np.flatnonzero(mask)``.

    Examples
    --------
    >>> values = np.arange(12.0).reshape(2, 3, 2); mask = np.array([[True, False, False], [False, False, True]])
    >>> gather(values, mask).tolist()
    [[0.0, 1.0], [10.0, 11.0]]
    """
    if not values.flags.c_contiguous:
        return values[mask]
    flat = values.reshape((mask.size,) + values.shape[2:])
    return flat[np.flatnonzero(mask) if at is None else at]


#: Pixels a block of :func:`channel_extremes` reduces at once, element by element across blocks.
_EXTREMES_BLOCK = 4096


def channel_extremes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's least and greatest value of ``values`` (``...×C``, C-contiguous): what
    ``values[..., c].min()`` and ``.max()`` give for each ``c``.

    Parameters
    ----------
    values : ndarray of float
        Any shape, the channels last (``...×C``); copied first where not C-contiguous.

    Returns
    -------
    low, high : ndarray
        ``C``: each channel's least and greatest value.

    Examples
    --------
    >>> channel_extremes(np.array([[[1.0, -2.0], [3.0, 0.5]]]))
    (array([ 1., -2.]), array([3. , 0.5]))
    """
    channels = values.shape[-1]
    flat = np.ascontiguousarray(values).reshape(-1, channels)
    whole = len(flat) - len(flat) % _EXTREMES_BLOCK
    low, high = np.full(channels, np.inf, values.dtype), np.full(channels, -np.inf, values.dtype)
    if whole:
        body = flat[:whole].reshape(-1, _EXTREMES_BLOCK * channels)
        low = np.minimum(low, body.min(axis=0).reshape(_EXTREMES_BLOCK, channels).min(axis=0))
        high = np.maximum(high, body.max(axis=0).reshape(_EXTREMES_BLOCK, channels).max(axis=0))
    if whole < len(flat):
        low = np.minimum(low, flat[whole:].min(axis=0))
        high = np.maximum(high, flat[whole:].max(axis=0))
    return low, high


def changed_pixels(last: tuple, now: tuple, shape: tuple[int, int]) -> np.ndarray:
    """The pixels (``H×W`` bool) whose cue was added, removed or recoloured between two cue sets,
    each given as (raster indices, sorted and unique; values, ``n×C``).

    Parameters
    ----------
    last, now : tuple of ndarray
        The two cue sets.
    shape : tuple of int
        The image's ``(H, W)``.

    Examples
    --------
    >>> last = (np.array([0, 3]), np.array([[1.0], [2.0]]))
    >>> now = (np.array([3, 5]), np.array([[9.0], [1.0]]))
    >>> np.flatnonzero(changed_pixels(last, now, (2, 3))).tolist()
    [0, 3, 5]
    """
    changed = np.zeros(shape[0] * shape[1], bool)
    changed[np.setxor1d(last[0], now[0], assume_unique=True)] = True
    common, in_last, in_now = np.intersect1d(last[0], now[0], assume_unique=True, return_indices=True)
    changed[common[np.any(last[1][in_last] != now[1][in_now], axis=1)]] = True
    return changed.reshape(shape)


def box_of(mask: np.ndarray, pad: int) -> tuple[slice, slice] | None:
    """The box of ``mask``'s True pixels grown by ``pad`` (within the image); None: none.

    Parameters
    ----------
    mask : bool ndarray, ``H×W``
    pad : int
        Pixels the box grows by on each side.

    Examples
    --------
    >>> mask = np.zeros((5, 6), bool); mask[2, 3] = True
    >>> box_of(mask, 1)
    (slice(1, 4, None), slice(2, 5, None))
    """
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    return (
        slice(max(int(rows[0]) - pad, 0), min(int(rows[-1]) + pad + 1, mask.shape[0])),
        slice(max(int(columns[0]) - pad, 0), min(int(columns[-1]) + pad + 1, mask.shape[1])),
    )


def dilated(mask: np.ndarray, radius: int, window: tuple[slice, slice] | None | EllipsisType = ...) -> np.ndarray:
    """``mask`` grown by ``radius`` pixels (a square), inside ``window`` alone (the rest False;
    None: nothing grown; left out: the whole image).

    Parameters
    ----------
    mask : bool ndarray, ``H×W``
    radius : int
        Pixels grown by.
    window : pair of slices, None or ``...``, optional
        Where to grow it (``box_of(mask, radius)`` holds all of it).

    Examples
    --------
    >>> mask = np.zeros((5, 6), bool); mask[2, 3] = True
    >>> int(dilated(mask, 1).sum()), int(dilated(mask, 1, box_of(mask, 1)).sum()), int(dilated(mask, 1, None).sum())
    (9, 9, 0)
    """
    from scipy import ndimage

    if window is ...:
        return ndimage.maximum_filter(mask.view(np.uint8), size=2 * radius + 1).view(bool)
    grown = np.zeros(mask.shape, bool)
    if window is not None:
        grown[window] = ndimage.maximum_filter(mask[window].view(np.uint8), size=2 * radius + 1).view(bool)
    return grown


def one_value(values: np.ndarray) -> np.ndarray | None:
    """The one row every row of ``values`` (``N×C``) holds, or None where they hold several (or
    there are none): cues of one colour, whose propagation is that colour everywhere.

    Parameters
    ----------
    values : ndarray, ``N×C``

    Examples
    --------
    >>> one_value(np.array([[1.0, 2.0], [1.0, 2.0]])).tolist(), one_value(np.array([[1.0, 2.0], [0.0, 2.0]]))
    ([1.0, 2.0], None)
    """
    if not len(values) or not np.all(values == values[0]):
        return None
    return values[0]
