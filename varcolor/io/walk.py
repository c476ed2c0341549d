"""Walking folders of images."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .atomic import identity
from .formats import IMAGE_EXTENSIONS, LAYERED_EXTENSIONS

__all__ = ["walk_images"]


def walk_images(
    root: str | os.PathLike, *, skip: Iterable[str | os.PathLike] = (), layered: bool = False
) -> Iterator[Path]:
    """Yield the image files below ``root`` as paths relative to it, recursively, sorted by path.

    Hidden files and folders (names starting with '.') are skipped, and so are folders that
    cannot be listed, and the folders that ``skip`` names (compared by identity, however they
    are spelled; ``root`` itself is never skipped): a run's output folder inside its input folder,
    whose files are its outputs, never its inputs. ``layered``: layered files (``.ora``, ``.psd``)
    too, for the runs that take them (``varcolor colorize`` of a folder).

    Examples
    --------
    >>> import numpy as np, varcolor, tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> varcolor.write_image(root / "a.png", np.zeros((2, 2)))
    >>> varcolor.write_image(root / "out" / "a.png", np.zeros((2, 2)))
    >>> [p.as_posix() for p in walk_images(root, skip=[root / "out"])]
    ['a.png']
    """
    root = Path(root)
    extensions = IMAGE_EXTENSIONS + (LAYERED_EXTENSIONS if layered else ())
    skipped = {identity(folder) for folder in skip}
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and identity(Path(folder) / d) not in skipped]
        found += [
            (Path(folder) / name).relative_to(root)
            for name in files
            if not name.startswith(".") and Path(name).suffix.lower() in extensions
        ]
    yield from sorted(found, key=lambda p: p.as_posix())
