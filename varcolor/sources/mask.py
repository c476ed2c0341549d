"""The source ``mask``: colour strokes on black or on transparency, ``X_mask.png`` beside ``X.png``
or ``--mask``; read by :meth:`varcolor.Cues.from_mask`."""

from __future__ import annotations

import numpy as np

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
