"""The source ``points``: a points file (``X.points.json``, ``X.points.csv`` beside ``X.png``, or
``--points``), read by :meth:`varcolor.Cues.from_points` (:mod:`varcolor.reading.pointfiles`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..cues import Cues
from .base import CueSource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .base import ReadContext

__all__ = ["Points"]


class Points(CueSource):
    """A points file: ``y, x`` and a colour per point."""

    name = "points"
    summary = "a JSON or CSV file of points: y, x and a colour (a, b or r, g, b), a radius"
    suffixes = (".points.json", ".points.csv")
    metavar = "P"
    help = (
        "JSON/CSV of y,x,a,b[,radius] or y,x,r,g,b[,radius] (r,g,b 0-255); "
        "for a folder as with --marked (X.points.json)"
    )

    @classmethod
    def read(cls, path: Path, gray: np.ndarray, **context: Unpack[ReadContext]) -> Cues:
        """The points of ``path`` on the photo of ``gray``'s size (:meth:`~varcolor.Cues.from_points`).

        Parameters
        ----------
        path, gray, **context
            As :meth:`~varcolor.sources.base.CueSource.read` takes them (the points have no edges).
        """
        return Cues.from_points(path, gray.shape[:2])
