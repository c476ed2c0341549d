"""IR payload → cues (and, through :func:`varcolor.colorize`, back to colour)."""

from __future__ import annotations

import numpy as np

from ..cues import Cues
from .format import IRFormatError, Payload


def payload_cues(payload: Payload, shape: tuple[int, int] | None = None) -> Cues:
    """The cues of a payload: each point colours a square of side ``2·patch + 1`` around the
    centre of its grid cell (later points win where squares overlap).

    ``shape`` is the gray image's ``(H, W)``; it must match the payload's image size.

    Examples
    --------
    >>> from varcolor.ir.format import Payload
    >>> p = Payload(8, 6, 4, 3, points=[[1, 2]], ab=[[20, -10]], patch=1)
    >>> payload_cues(p).count
    9
    """
    if shape is not None and tuple(shape) != (payload.height, payload.width):
        raise IRFormatError(
            f"the payload is for a {payload.width}×{payload.height} image but the gray image is {shape[1]}×{shape[0]}"
        )
    labels = payload_labels(payload)
    mask = labels >= 0
    ab = np.zeros(labels.shape + (2,))
    ab[mask] = payload.ab.astype(np.float64)[labels[mask]]
    return Cues(mask, ab)


def payload_labels(payload: Payload) -> np.ndarray:
    """Which point colours each pixel: an ``H×W`` array of indices into ``payload.points``, −1
    where no point reaches (squares of radius ``patch``; later points win where they overlap).

    Examples
    --------
    >>> from varcolor.ir.format import Payload
    >>> payload_labels(Payload(4, 1, 4, 1, points=[[0, 0], [0, 1]], ab=[[1, 1], [2, 2]], patch=1)).tolist()
    [[1, 1, 1, -1]]
    """
    labels = np.full((payload.height, payload.width), -1, np.int64)
    r = payload.patch
    for k, (y, x) in enumerate(payload.pixel_positions()):
        labels[max(y - r, 0) : y + r + 1, max(x - r, 0) : x + r + 1] = k
    return labels
