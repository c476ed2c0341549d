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
        raise IRFormatError(f"the payload is for a {payload.width}×{payload.height} image but the gray image "
                            f"is {shape[1]}×{shape[0]}")
    height, width = payload.height, payload.width
    mask = np.zeros((height, width), bool)
    ab = np.zeros((height, width, 2))
    r = payload.patch
    for (y, x), chroma in zip(payload.pixel_positions(), payload.ab.astype(np.float64)):
        block = (slice(max(y - r, 0), y + r + 1), slice(max(x - r, 0), x + r + 1))
        mask[block] = True
        ab[block] = chroma
    return Cues(mask, ab)
