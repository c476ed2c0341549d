"""Cues on keyframes: a folder of cue files named by frame index.

``0000_mask.png`` (colour strokes on black), ``0000_marked.png`` (the frame with scribbles, as
its gray version), ``0000.points.json`` / ``.csv`` (points): any zero padding (``12_mask.png`` and
``00012_mask.png`` are both frame 12), frames counted from 0. Each file becomes
:class:`varcolor.Cues` by the still images' constructors, when its frame's gray pixels are known
(a marked frame needs them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cues import EDGES, Cues
from ..errors import InputError
from ..io import image_shape, read_image

__all__ = ["KeyframeCue", "read_cue_folder", "CUE_PATTERN"]

#: A cue file's name: frame index, then the kind.
CUE_PATTERN = re.compile(r"^(\d+)(_mask\.png|_marked\.png|\.points\.json|\.points\.csv)$", re.IGNORECASE)
_KINDS = {"_mask.png": "mask", "_marked.png": "marked", ".points.json": "points", ".points.csv": "points"}


@dataclass(frozen=True)
class KeyframeCue:
    """One keyframe's cue file; call it with the frame's gray pixels to get its :class:`Cues`
    (a mask's or marked frame's stroke edges read as ``edges`` says: :meth:`Cues.from_marked`)."""

    index: int
    kind: str
    path: Path
    edges: str = "unmix"

    def __call__(self, gray: np.ndarray) -> Cues:
        shape = gray.shape[:2]
        try:
            if self.kind == "points":
                return Cues.from_points(self.path, shape=shape)
            image = read_image(self.path, max_pixels=None)
            if image.shape[:2] != shape:
                raise InputError(f"is {image.shape[1]}×{image.shape[0]} but the frames are {shape[1]}×{shape[0]}")
            if image.ndim == 2:
                raise InputError(f"the {self.kind} image is gray; it must be in colour")
            if self.kind == "marked":
                return Cues.from_marked(gray, image, edges=self.edges)
            return Cues.from_mask(image, edges=self.edges)
        except InputError as exc:
            text = str(exc)
            raise InputError(text if text.startswith(str(self.path)) else f"{self.path}: {text}") from None


def read_cue_folder(
    folder: str | os.PathLike, frame_count: int, shape: tuple[int, int], *, edges: str = "unmix"
) -> dict[int, Callable[[np.ndarray], Cues]]:
    """The keyframe cues in ``folder``, checked from names and headers before any frame is read;
    the strokes' edges of its masks and marked frames read as ``edges`` says (``unmix`` or
    ``exact``: :meth:`varcolor.Cues.from_marked`).

    Refused with one line: a missing folder, no cue file in it, two files for one frame, a file
    for a frame the clip does not have (index ≥ ``frame_count``), a cue image of another size,
    and files whose names look like cue files but are not (``0001_mask.jpg``: strokes must be
    lossless).

    Returns
    -------
    dict
        Frame index → :class:`KeyframeCue` (a callable taking the frame's gray pixels).

    Examples
    --------
    >>> import tempfile, json, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "007.points.json").write_text(json.dumps([{"y": 1, "x": 1, "a": 20, "b": 0}]))
    >>> cues = read_cue_folder(folder, frame_count=10, shape=(4, 4))
    >>> list(cues), cues[7](np.zeros((4, 4))).count
    ([7], 1)
    """
    if edges not in EDGES:
        raise InputError(f"edges must be {' or '.join(EDGES)}, got {edges!r}")
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder (--cues takes a folder of cue files named by frame index)")
    found: dict[int, KeyframeCue] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        match = CUE_PATTERN.match(entry.name)
        if match is None:
            if re.match(r"^\d+(_mask|_marked)\.", entry.name, re.IGNORECASE):
                raise InputError(f"{entry}: cue images must be PNG (lossless), named like 0000_mask.png")
            continue
        index, kind = int(match.group(1)), _KINDS[match.group(2).lower()]
        if index in found:
            raise InputError(f"{entry}: a second cue file for frame {index} (the other is {found[index].path.name})")
        if index >= frame_count:
            raise InputError(
                f"{entry}: cues for frame {index}, but the clip has {frame_count} frames (0–{frame_count - 1})"
            )
        if kind != "points":
            height, width = image_shape(entry)
            if (height, width) != tuple(shape):
                raise InputError(f"{entry}: is {width}×{height} but the frames are {shape[1]}×{shape[0]}")
        found[index] = KeyframeCue(index, kind, entry, edges)
    if not found:
        raise InputError(
            f"{folder}: no cue files (name them by frame index: 0000_mask.png, 0000_marked.png, 0000.points.json)"
        )
    return dict(sorted(found.items()))
