"""A clip's confidence maps (``varcolor colorize CLIP --confidence-map DIR``): one 8-bit gray PNG
per frame in the folder ``DIR``, named by the frame's index in the clip as a folder of frames is
(``frame_000000.png``: :func:`varcolor.video.io.frame_name`), its levels ``round(confidence ×
255)`` of :attr:`varcolor.video.VideoFrame.confidence`.

Each map is published atomically (a temporary file beside it, renamed: :mod:`varcolor.io.atomic`),
a streamed run's as its frame is solved, a chunked run's when the chunks are joined (each chunk
keeps its frames' maps in the work folder, so an interrupted run leaves none in ``DIR``, and
``--resume`` redoes a chunk whose maps are gone). A run that fails takes back the maps it added;
a killed run's temporary files are never named as maps, and the next run into the folder sweeps
them. The folder is checked before any work (:func:`check_map_folder`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import InputError, OutputError
from ..io import (
    IMAGE_EXTENSIONS,
    check_writable,
    identity,
    inside,
    publish,
    remove_stale_temporaries,
    same_file,
    write_image,
)
from ..methods.levin_multiscale import check_confidence_map
from ..options import Options
from .io import Clip, frame_name

__all__ = ["MAP_FILE", "check_restrained", "check_map_folder", "write_map", "MapFolder"]

#: A map's name in its folder (and any file named like one: an earlier run's map, or in the way).
MAP_FILE = re.compile(r"^frame_(\d+)\.png$")
_FLAG = "--confidence-map"


def check_restrained(options: Options) -> None:
    """Refuse maps of a clip that has no confidence: one colorized unrestrained.

    Examples
    --------
    >>> check_restrained(Options())  # the defaults: restrained
    >>> check_restrained(Options(method="levin"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    varcolor.errors.InputError: --confidence-map: a clip colorized unrestrained (--method levin) has no confidence; ...
    """
    check_confidence_map(options, "a clip")


def check_map_folder(
    folder: str | os.PathLike,
    clip: Clip,
    output: str | os.PathLike,
    *,
    work: str | os.PathLike | None = None,
    inputs: Iterable[str | os.PathLike] = (),
    overwrite: bool = False,
) -> None:
    """Refuse, before any work, a folder that a clip's maps cannot go into: the input clip, the
    output (or a folder inside an output folder of frames, which is replaced whole), a chunked
    run's work folder (removed at the join), a file, a name that is no folder's (``map.png``); one
    that holds an input of the run under a map's name; and, without ``overwrite``, one that
    holds maps already (files named like them: they are kept); and, whatever ``overwrite``, one that
    holds maps past the clip's last frame (a longer clip's, or files of the user's own: never
    deleted, as replacing them alone would leave a folder of two runs' maps)."""
    folder = Path(folder)
    if same_file(folder, clip.path):
        raise InputError(f"{folder}: {_FLAG} is the input clip; give another folder")
    if same_file(folder, output) or inside(folder, output):  # a folder of frames is replaced whole
        raise InputError(f"{folder}: {_FLAG} is the output, or inside it; give another folder")
    if work is not None and (same_file(folder, work) or inside(folder, work)):
        raise InputError(f"{folder}: {_FLAG} is in the chunks' work folder, removed when they are joined")
    if os.path.lexists(folder) and not folder.is_dir():
        raise InputError(f"{folder}: is a file; {_FLAG} of a clip is a folder (a PNG per frame)")
    if folder.suffix.lower() in IMAGE_EXTENSIONS and not folder.exists():  # a photo's habit: one file named
        raise InputError(f"{folder}: {_FLAG} of a clip is a folder (a PNG per frame), not an image; name a folder")
    # a folder no map can be written into: now, not once the clip's frames are being solved
    try:
        check_writable(folder / "frame_000000.png", image=False)
    except OutputError as exc:
        raise InputError(f"{_FLAG} {exc}") from None
    if not folder.exists():
        return
    own = {identity(path) for path in [clip.path, *clip._files, *inputs]}
    try:
        with os.scandir(folder) as entries:
            named = sorted((entry.name, entry.is_dir()) for entry in entries if MAP_FILE.match(entry.name))
    except OSError as exc:
        raise InputError(f"{folder}: {_FLAG} cannot be read ({exc.strerror or exc})") from None
    files = []
    for name, is_folder in named:
        path = folder / name
        if identity(path) in own:
            raise InputError(f"{path}: an input of this run, where {_FLAG} would write a map; give another folder")
        index = int(MAP_FILE.match(name).group(1))  # type: ignore[union-attr]  # matched above
        if is_folder and index < clip.frame_count:
            raise InputError(f"{path}: a folder where a map is to go; move it, or give {_FLAG} another folder")
        if not is_folder:
            files.append((name, index))
    # First what no flag replaces: said before --overwrite is asked for, which would not help.
    for name, index in files:
        if index >= clip.frame_count and name == frame_name(index):  # (a name varcolor writes)
            raise InputError(
                f"{folder / name}: past this clip's last frame ({clip.frame_count} frames), kept: another "
                f"run's or your own, not this run's to replace or delete; move it, or give {_FLAG} another folder"
            )
    if files and not overwrite:
        raise InputError(
            f"{folder}: holds maps already ({files[0][0]}); kept (use --overwrite to replace them, or give "
            f"{_FLAG} another folder)"
        )


def write_map(path: str | os.PathLike, confidence: np.ndarray | None, *, overwrite: bool = True) -> None:
    """Write one frame's confidence map (8-bit gray PNG), atomically."""
    if confidence is None:
        raise InputError(f"{path}: the frame has no confidence (the clip is unrestrained)")
    write_image(path, confidence, bits=8, overwrite=overwrite)


class MapFolder:
    """Publishes a clip's maps into ``folder`` (checked by :func:`check_map_folder`), each frame's
    by its index; a run that fails calls :meth:`take_back` (the maps it added go: a rerun is not
    refused for them)."""

    def __init__(
        self,
        folder: str | os.PathLike,
        *,
        overwrite: bool = False,
        keep: Iterable[str | os.PathLike] = (),
    ):
        self.folder, self.overwrite = Path(folder), overwrite
        self.added: list[Path] = []
        remove_stale_temporaries(self.folder, older_than=0, keep=keep)  # a killed run's (a live one holds its lock)

    def write(self, index: int, confidence: np.ndarray | None) -> None:
        """Publish frame ``index``'s map."""
        path = self.folder / frame_name(index)
        fresh = not os.path.lexists(path)  # an earlier run's map, replaced, is not this run's to take back
        write_map(path, confidence, overwrite=self.overwrite)
        if fresh:
            self.added.append(path)

    def copy(self, index: int, source: Path) -> None:
        """Publish frame ``index``'s map from a file made earlier (a chunk's, in the work folder)."""
        path = self.folder / frame_name(index)
        fresh = not os.path.lexists(path)
        publish([(path, source)], overwrite=self.overwrite)
        if fresh:
            self.added.append(path)

    def take_back(self) -> None:
        """Remove the maps this run added (it failed)."""
        for path in self.added:
            path.unlink(missing_ok=True)
        self.added = []
