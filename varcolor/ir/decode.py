"""IR payload → cues (and, through :func:`varcolor.colorize`, back to colour)."""

from __future__ import annotations

import numpy as np

from ..color import to_gray
from ..cues import Cues
from ..errors import InputError, tell
from .format import IRFormatError, Payload, gray_checksum


def payload_cues(payload: Payload, shape: tuple[int, int] | None = None, *, gray: np.ndarray | None = None) -> Cues:
    """The cues of a payload: each point colours a square of side ``2·patch + 1`` around the
    centre of its grid cell (later points win where squares overlap).

    Parameters
    ----------
    payload : Payload
        The IR's cues (:func:`~varcolor.ir.format.read_payload`, :func:`~varcolor.ir.files.read_ir`).
    shape : tuple of int, optional
        The gray image's ``(height, width)``; default the payload's own.
    gray : ndarray, optional
        The gray image (``H×W`` in [0, 1]), checked against the payload's checksum.
    """
    if gray is not None:
        gray = to_gray(gray)
        shape = gray.shape
    if shape is not None and tuple(shape) != (payload.height, payload.width):
        raise IRFormatError(
            f"the payload is for a {payload.width}×{payload.height} image but the gray image is {shape[1]}×{shape[0]}"
        )
    if gray is not None and payload.checksum is None:
        # (an IR made before format version 3, or written without its gray: decoded, with a word)
        tell(
            "the payload records no checksum of its gray image (an IR made before format version 3): it cannot be "
            "checked to be this image's; a payload decoded with another gray image of its size gives wrong colours",
            stacklevel=2,
        )
    if gray is not None and payload.checksum is not None:
        found = gray_checksum(gray)
        if found != payload.checksum:
            raise InputError(
                f"the payload belongs to another gray image (checksum {found:08x} of this one, "
                f"{payload.checksum:08x} expected): decode it with the gray image it was encoded with"
            )
    labels = payload_labels(payload)
    mask = labels >= 0
    ab = np.zeros(labels.shape + (2,))
    ab[mask] = payload.ab.astype(np.float64)[labels[mask]]
    return Cues(mask, ab)


def payload_labels(payload: Payload) -> np.ndarray:
    """Which point colours each pixel: an ``H×W`` array of indices into ``payload.points``, −1
    where no point reaches (squares of radius ``patch``; later points win where they overlap).

    Parameters
    ----------
    payload : Payload
        The cues: their pixel positions, the image's size and the radius ``patch``.
    """
    # "The latest point whose square covers a pixel" is a maximum filter of the points' indices:
    # O(pixels + points) whatever r, so a hostile payload cannot make it slow.
    seeds = np.full((payload.height, payload.width), -1, np.int64)
    positions = payload.pixel_positions()
    np.maximum.at(seeds, (positions[:, 0], positions[:, 1]), np.arange(len(positions), dtype=np.int64))
    if payload.patch == 0:
        return seeds
    from scipy.ndimage import maximum_filter  # the image stack loads where used, not at start-up

    return maximum_filter(seeds, size=2 * payload.patch + 1, mode="constant", cval=-1)
