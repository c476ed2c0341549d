"""The bundled example, reachable from any folder (as ``skimage.data``): scikit-image's ``chelsea``
photo as varcolor's input, made by ``examples/make_example.py`` (``examples/data/`` links to
these files: one copy in the repository).

- ``chelsea.png``: the same-lightness gray image (what varcolor colorizes);
- ``chelsea_marked.png``: the gray image with 14 colour scribbles (Levin's convention);
- ``chelsea.points.json``: the same cues as a points file;
- ``chelsea_original.png``: the colour original, for scoring.

>>> import varcolor
>>> varcolor.data.chelsea().shape, varcolor.data.path("chelsea_marked.png").name
((300, 451), 'chelsea_marked.png')
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import read_image

__all__ = ["FILES", "path", "chelsea", "chelsea_marked", "chelsea_original"]

#: The bundled files.
FILES = ("chelsea.png", "chelsea_marked.png", "chelsea.points.json", "chelsea_original.png")


def path(name: str) -> Path:
    """Where the bundled file ``name`` (one of :data:`FILES`) is.

    Parameters
    ----------
    name : str
        The file's name, e.g. ``"chelsea_marked.png"``.
    """
    if name not in FILES:
        raise InputError(f"no bundled file {name!r}; available: {', '.join(FILES)}")
    return Path(str(files(__name__) / name))


def chelsea() -> np.ndarray:
    """The example's gray image, ``H×W`` floats in [0, 1]."""
    return _read("chelsea.png")


def chelsea_marked() -> np.ndarray:
    """The gray image with colour scribbles, ``H×W×3`` floats in [0, 1] (for :meth:`Cues.from_marked`)."""
    return _read("chelsea_marked.png")


def chelsea_original() -> np.ndarray:
    """The colour original, ``H×W×3`` floats in [0, 1]."""
    return _read("chelsea_original.png")


def _read(name: str) -> np.ndarray:
    return read_image(path(name))
