"""The source ``mask``: colour strokes on black or on transparency, ``X_mask.png`` beside ``X.png``
or ``--mask``; read by :meth:`varcolor.Cues.from_mask`."""

from __future__ import annotations

import numpy as np

from ..color import rgb_to_lab
from ..cues import Cues
from .base import ImageSource

__all__ = ["Mask"]


class Mask(ImageSource):
    """Colour strokes alone, on black or on a transparent background."""

    name = "mask"
    summary = "colour strokes on black or on transparency"
    suffixes = ("_mask.png", "_mask.bmp", "_mask.tif")
    metavar = "M"
    help = "colour strokes on black/transparent; for a folder as with --marked (X_mask.png)"
    # the command line says "--marked" for "marked cues" (flag_words)
    all_cues_hint = " (is this a marked image, the gray one with scribbles? use marked cues)"

    @classmethod
    def cues_of(cls, gray: np.ndarray | None, pixels: np.ndarray, edges: str) -> Cues:
        """The strokes of the mask's ``pixels``, scaled to ``gray``'s size
        (:meth:`~varcolor.Cues.from_mask`).

        Parameters
        ----------
        gray, pixels, edges
            As :meth:`~varcolor.sources.base.ImageSource.cues_of` takes them.
        """
        return Cues.from_mask(pixels, pixels.shape[:2] if gray is None else gray.shape[:2], edges=edges)

    @classmethod
    def cues_of_picture(cls, mask: np.ndarray, box: tuple[int, int, int, int] | None = None) -> Cues:
        """The cues of a stroke-mask picture in memory (uint8, the studio's live view).

        Parameters
        ----------
        mask : ndarray
            The stroke-mask picture, ``H×W×3`` uint8.
        box : tuple, optional
            ``(top, left, height, width)``, outside which the mask is black.
        """
        shape = mask.shape[:2]
        top, left, height, width = (0, 0) + shape if box is None else box
        region = (slice(top, top + height), slice(left, left + width))
        part = mask[region]
        marked = np.zeros(shape, bool)
        marked[region] = (part[..., 0] | part[..., 1] | part[..., 2]) != 0  # a tenth of max(axis=2)'s time
        ab = np.zeros(shape + (2,))
        inside = marked[region]
        if inside.any():
            ab[region][inside] = rgb_to_lab((part[inside].astype(np.float64) / 255.0)[None])[0, :, 1:]
        return Cues(marked, ab, copy=False)
