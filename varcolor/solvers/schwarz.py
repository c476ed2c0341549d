"""One multiplicative Schwarz sweep over square tiles, and how a device solves it in few pieces
with the same answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["COUPLING", "tile_overlap", "sweep_tiles", "sweep_waves"]

#: How far (pixels, in rows and columns) a row of the stencil reads its neighbours: two unknowns
#: this far apart or nearer are coupled.
COUPLING = 1


def tile_overlap(margin: int) -> int:
    """How far each tile's window reaches past its tile (pixels), for a correction ``margin``
    around the cues: half of it, at least 4, so that a tile's edge does not cut the band.

    Parameters
    ----------
    margin : int
        The correction's band around the cues (pixels).
    """
    return max(margin // 2, 4)


def sweep_tiles(
    shape: tuple[int, int], side: int, margin: int
) -> Iterator[tuple[tuple[int, int], tuple[slice, slice]]]:
    """The tiles of an ``H×W`` image in the order the sweep solves them, raster order: each tile's key (its
    top-left corner) and window (the tile and :func:`tile_overlap` more, within the image)."""
    height, width = shape
    reach = tile_overlap(margin)
    for top in range(0, height, side):
        for left in range(0, width, side):
            window = (
                slice(max(top - reach, 0), min(top + side + reach, height)),
                slice(max(left - reach, 0), min(left + side + reach, width)),
            )
            yield (top, left), window


def sweep_waves(units: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """The wave of each of a sweep's steps (``units``: the pixels each step reads and writes, raster
    indices, in the sweep's order).

    Parameters
    ----------
    units : sequence of int ndarray
        Each step's pixels (raster indices of an ``H×W`` image), in order.
    shape : tuple of int
        The image's ``(H, W)``.
    """
    width = shape[1]
    waves = np.full(len(units), -1, np.int64)
    boxes = np.empty((len(units), 4), np.int64)  # first and last row, first and last column
    for number, unit in enumerate(units):
        if not unit.size:
            continue
        rows, columns = np.divmod(unit, width)
        top, bottom, left, right = boxes[number] = rows.min(), rows.max(), columns.min(), columns.max()
        before, placed = boxes[:number], waves[:number] >= 0
        near = placed & (
            (before[:, 0] <= bottom + COUPLING)
            & (top <= before[:, 1] + COUPLING)
            & (before[:, 2] <= right + COUPLING)
            & (left <= before[:, 3] + COUPLING)
        )
        waves[number] = waves[:number][near].max() + 1 if near.any() else 0
    return waves
