"""The layout of a pixel's 8-neighbourhood, which the weights and the solvers share.

A stencil's 9 entries (the pixel and its 8 neighbours) in raster order, and the 4 edge
directions that list each undirected 8-neighbour edge once. Below both :mod:`varcolor.common.affinity`
(the weights, written in this layout) and :mod:`varcolor.solvers` (the systems built of them):
neither imports the other for it.

>>> [tuple(int(v) for v in offset) for offset in STENCIL_OFFSETS[CENTRE - 1 : CENTRE + 2]]
[(0, -1), (0, 0), (0, 1)]
>>> image = np.arange(6).reshape(2, 3)
>>> [(e, image[r].tolist(), image[s].tolist()) for e, r, s in edge_slices(2, 3)][0]  # each pixel, its right neighbour
(0, [[0, 1], [3, 4]], [[1, 2], [4, 5]])
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["STENCIL_OFFSETS", "CENTRE", "EDGE_OFFSETS", "edge_slices", "padded", "at_neighbour", "inside"]

#: (dy, dx) of the 9 stencil entries in raster order; entry ``CENTRE`` is the pixel itself.
STENCIL_OFFSETS = np.array([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
CENTRE = 4
#: (dy, dx) of the four edge directions that list each undirected 8-neighbour edge once:
#: right, down, down-right, down-left.
EDGE_OFFSETS = np.array([(0, 1), (1, 0), (1, 1), (1, -1)])


def edge_slices(height: int, width: int) -> Iterator[tuple[int, tuple[slice, slice], tuple[slice, slice]]]:
    """(direction, pixels r, their neighbours s) for the four edge directions, as pairs of slices.

    Parameters
    ----------
    height, width : int
        The image's size.
    """
    for e, (dy, dx) in enumerate(EDGE_OFFSETS):
        columns = slice(max(0, -dx), width - max(0, dx))
        yield e, (slice(0, height - dy), columns), (slice(dy, height), slice(columns.start + dx, columns.stop + dx))


def padded(array: np.ndarray) -> np.ndarray:
    """``array`` with a border of one zero pixel on each side of its first two axes: what
    :func:`at_neighbour` reads where a neighbour lies outside the image.

    Parameters
    ----------
    array : ndarray
        An image-shaped array (``H×W`` or ``H×W×…``).
    """
    return np.pad(array, ((1, 1), (1, 1)) + ((0, 0),) * (array.ndim - 2))


def at_neighbour(bordered: np.ndarray, dy: int, dx: int, shape: tuple[int, int]) -> np.ndarray:
    """A view of ``bordered`` (:func:`padded`) at each pixel's neighbour ``(dy, dx)`` of an image of
    ``shape``: its values there, the border's zeros where that neighbour is outside.

    Parameters
    ----------
    bordered : ndarray
        The image with its border of zeros, as :func:`padded` gives it.
    dy, dx : int
        The neighbour's offset in rows and columns, each -1, 0 or 1.
    shape : tuple of int
        The image's ``(H, W)``, without the border.

    Examples
    --------
    >>> at_neighbour(padded(np.arange(6).reshape(2, 3)), 0, 1, (2, 3)).tolist()  # each pixel's right neighbour
    [[1, 2, 0], [4, 5, 0]]
    """
    height, width = shape
    return bordered[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]


def inside(dy: int, dx: int, shape: tuple[int, int]) -> np.ndarray:
    """Whether each pixel's neighbour ``(dy, dx)`` lies inside an image of ``shape``.

    Parameters
    ----------
    dy, dx : int
        The neighbour's offset in rows and columns, each -1, 0 or 1.
    shape : tuple of int
        The image's ``(H, W)``.
    """
    return at_neighbour(padded(np.ones(shape, bool)), dy, dx, shape)
