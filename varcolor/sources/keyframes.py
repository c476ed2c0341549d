"""The source ``keyframes``: a clip's cue files, a folder of them named by frame index (``--cues DIR``).

``0000_mask.png`` (colour strokes on black), ``0000_marked.png`` (the frame with scribbles, as
its gray version), ``0000.points.json`` / ``.csv`` (points), and any registered source's file
named so (``0000`` then its suffix; images lossless: PNG): any zero padding (``12_mask.png`` and
``00012_mask.png`` are both frame 12), frames counted from 0.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cues import Cues, check_edges
from ..errors import InputError
from ..io import image_shape
from .base import EDGES_DEFAULT, CueSource, ImageSource

__all__ = ["Keyframes", "KeyframeCue", "read_cue_folder", "keyframe_kinds"]


class Keyframes(CueSource):
    """A clip's keyframe cue files: a folder of files named by frame index."""

    name = "keyframes"
    summary = "a clip's keyframe cue files: a folder of them named by frame index (0000_mask.png, 0000.points.json)"
    metavar = "DIR"
    help = "folder of keyframe cue files named by frame index: 0000_mask.png, 0000_marked.png, 0000.points.json"
    edges = True


def keyframe_kinds() -> dict[str, str]:
    """How a keyframe's cue file is named after its frame index, suffix → source: every source
    found by name, its image files PNG alone (lossless)."""
    from .lookup import file_sources

    return {
        suffix: source.name
        for source in file_sources()
        for suffix in source.suffixes
        if not issubclass(source, ImageSource) or suffix.endswith(".png")
    }


@dataclass(frozen=True)
class KeyframeCue:
    """One keyframe's cue file; call it with the frame's gray pixels to get its :class:`Cues`."""

    index: int
    kind: str
    path: Path
    edges: str = EDGES_DEFAULT

    def __call__(self, gray: np.ndarray) -> Cues:
        from .lookup import get

        source = get(self.kind)
        if source.sized:  # the frames' size exactly (read_cue_folder checked the header)
            height, width = image_shape(self.path)
            if (height, width) != gray.shape[:2]:
                raise InputError(f"{self.path}: is {width}×{height} but the frames are {gray.shape[1]}×{gray.shape[0]}")
        return source.load(self.path, gray, edges=self.edges, checked=True)


def read_cue_folder(
    folder: str | os.PathLike, frame_count: int, shape: tuple[int, int], *, edges: str = EDGES_DEFAULT
) -> dict[int, Callable[[np.ndarray], Cues]]:
    """The keyframe cues in ``folder``, checked from names and headers before any frame is read;
    the strokes' edges of its masks and marked frames read as ``edges`` says.

    Parameters
    ----------
    folder : path
        The folder of cue files, each named by its frame index and its kind's suffix
        (``0000_mask.png``, ``0000_marked.png``, ``0000.points.json``).
    frame_count : int
        The clip's number of frames: a file for a later frame is refused.
    shape : tuple of int
        The frames' ``(H, W)``, which a cue image must have.
    edges : {"unmix", "exact"}
        How the strokes' edges of masks and marked frames are read (:meth:`varcolor.Cues.from_marked`).

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
    from .lookup import get

    check_edges(edges)
    kinds = keyframe_kinds()
    pattern = re.compile(rf"^(\d+)({'|'.join(map(re.escape, kinds))})$", re.IGNORECASE)
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder (--cues takes a folder of cue files named by frame index)")
    found: dict[int, KeyframeCue] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        match = pattern.match(entry.name)
        if match is None:
            if re.match(r"^\d+(_mask|_marked)\.", entry.name, re.IGNORECASE):
                raise InputError(f"{entry}: cue images must be PNG (lossless), named like 0000_mask.png")
            continue
        index, kind = int(match.group(1)), kinds[match.group(2).lower()]
        if index in found:
            raise InputError(f"{entry}: a second cue file for frame {index} (the other is {found[index].path.name})")
        if index >= frame_count:
            raise InputError(
                f"{entry}: cues for frame {index}, but the clip has {frame_count} frames (0–{frame_count - 1})"
            )
        if get(kind).sized:
            height, width = image_shape(entry)
            if (height, width) != tuple(shape):
                raise InputError(f"{entry}: is {width}×{height} but the frames are {shape[1]}×{shape[0]}")
        found[index] = KeyframeCue(index, kind, entry, edges)
    if not found:
        raise InputError(
            f"{folder}: no cue files (name them by frame index: 0000_mask.png, 0000_marked.png, 0000.points.json)"
        )
    return dict(sorted(found.items()))
