"""The source ``marked``: a scribbled copy of the gray photo (Levin's convention), ``X_marked.png``
beside ``X.png`` or ``--marked``; read by :meth:`varcolor.Cues.from_marked`."""

from __future__ import annotations

import numpy as np

from ..cues import Cues
from .base import ImageSource

__all__ = ["Marked"]


class Marked(ImageSource):
    """A copy of the gray photo with colour strokes painted on it."""

    name = "marked"
    summary = "a copy of the gray photo with colour strokes on it (Levin's convention)"
    suffixes = ("_marked.png", "_marked.bmp", "_marked.tif", "_marked.jpg")
    metavar = "M"
    help = (
        "scribbled copy of the gray image (Levin's convention); for a folder input: a folder holding "
        "X_marked.png for each X.png at the same relative path, or no value to find X_marked.png beside each photo"
    )
    holds_photo = True
    all_cues_hint = " (is it the colour original rather than a scribbled copy?)"

    @classmethod
    def cues_of(cls, gray: np.ndarray | None, pixels: np.ndarray, edges: str) -> Cues:
        """The strokes of the marked ``pixels`` over ``gray`` (:meth:`~varcolor.Cues.from_marked`).

        Parameters
        ----------
        gray, pixels, edges
            As :meth:`~varcolor.sources.base.ImageSource.cues_of` takes them.
        """
        if gray is None:
            raise ValueError("a marked image is read against its photo's gray")
        return Cues.from_marked(gray, pixels, edges=edges)
