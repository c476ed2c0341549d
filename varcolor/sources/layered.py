"""The source ``layered``: a layered file's (``.ora``, ``.psd``) stroke layer, painted colours on
transparency above its photo layer; read as a stroke mask with alpha is (:mod:`~varcolor.sources.mask`).
The layered file is the input itself: it is found by no name and has no flag (``--layer`` and
``--strokes-layer`` choose its layers)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..cues import Cues
from ..errors import InputError
from ..io.layers import is_layered, open_stack, pick_layers
from .base import EDGES_DEFAULT, CueSource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .base import ReadContext
from .mask import Mask

__all__ = ["Layered"]


class Layered(CueSource):
    """The stroke layer of a layered file."""

    name = "layered"
    summary = "a layered file's (.ora, .psd) stroke layer: painted colours on transparency above the photo"
    edges = True
    all_cues_hint = Mask.all_cues_hint

    @classmethod
    def check(cls, path: Path, image: Path, shape: tuple[int, int] | None, max_pixels: int | None) -> None:
        """Refuse a file that is no layered file (by its name; its layers are checked as they are
        picked, from the headers).

        Parameters
        ----------
        path, image, shape, max_pixels
            As :meth:`~varcolor.sources.base.CueSource.check` takes them.
        """
        if not is_layered(path):
            raise InputError(f"{path}: not a layered file (.ora, .psd)")

    @classmethod
    def read(cls, path: Path, gray: np.ndarray, **context: Unpack[ReadContext]) -> Cues:
        """The cues of the stroke layer ``cue_image`` (``H×W×4``; None: the file's, the visible
        layer above the photo), its colours where it is painted.

        Parameters
        ----------
        path, gray, **context
            As :meth:`~varcolor.sources.base.CueSource.read` takes them.
        """
        cue_image = context.get("cue_image")
        if cue_image is None:
            stack = open_stack(path, max_pixels=context.get("max_pixels"))
            _, marks = pick_layers(stack.entries, path, None, None)
            if marks is None:
                raise InputError(f"{path}: no stroke layer above the photo")
            cue_image = stack.layer(marks).pixels
        return Mask.cues_of(None, cue_image, context.get("edges", EDGES_DEFAULT))
