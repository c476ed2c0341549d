"""Walking folders of images."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .atomic import identity
from .formats import IMAGE_EXTENSIONS, LAYERED_EXTENSIONS

__all__ = ["walk_images", "Unwalked", "name_key", "named"]


def name_key(name: str) -> str:
    """A file name as runs compare names: Unicode NFC (a name copied from macOS comes decomposed,
    NFD) and case-folded (``B.JPG`` is ``b.jpg``): how an image's extension is told, and how a
    reference is paired with its image.

    Parameters
    ----------
    name : str
        A file's name.

    Examples
    --------
    >>> name_key("Cafe\u0301.JPG") == name_key("café.jpg")
    True
    """
    return unicodedata.normalize("NFC", name).casefold()


def named(folder: str | os.PathLike, names: Iterable[str], cache: dict | None = None) -> list[Path]:
    """The files in ``folder`` named as one of ``names`` by :func:`name_key` (sorted; none where
    the folder cannot be listed): ``refs/b.JPG`` and an NFD ``refs/café.png`` for ``b.jpg`` and
    an NFC ``café.png``.

    Parameters
    ----------
    folder : path-like
        The folder looked in (not below it).
    names : iterable of str
        The names looked for.
    cache : dict, optional
        Keeps each folder's listing for the next call (a folder run pairs every image with a
        file of one folder: listed once, not once an image).
    """
    folder = Path(folder)
    listing = None if cache is None else cache.get(folder)
    if listing is None:
        listing = {}
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    listing.setdefault(name_key(entry.name), []).append(folder / entry.name)
        except OSError:  # no such folder, or one that cannot be listed: nothing named so there
            pass
        if cache is not None:
            cache[folder] = listing
    found = {path for name in names for path in listing.get(name_key(name), [])}
    return sorted(path for path in found if path.is_file())


@dataclass(frozen=True)
class Unwalked:
    """A folder below a walk's root that the walk did not enter, and why: one that cannot be
    listed (``error``: a run reports it as a failure), or a link to a folder (not followed: it may
    lead out of the tree or around in a loop; a run reports it as skipped)."""

    path: Path
    reason: str
    error: bool


#: A folder holding this file holds a folder run's confidence maps: never walked for photos.
MAPS_MARKER = ".varcolor-maps"


def walk_images(
    root: str | os.PathLike,
    *,
    skip: Iterable[str | os.PathLike] = (),
    unwalked: list[Unwalked] | None = None,
    layered: bool = False,
) -> Iterator[Path]:
    """Yield the image files below ``root`` as paths relative to it, recursively, sorted by path.

    Hidden files and folders (names starting with '.') are skipped, and so are a folder run's
    confidence maps (a folder holding :data:`MAPS_MARKER`) and the folders that ``skip`` names
    (compared by identity, however they are spelled; ``root`` itself is never skipped): a run's
    output folder inside its input folder, whose files are its outputs, never its inputs. Links
    to folders are not followed, and folders that cannot be listed are not entered: each is
    appended to ``unwalked`` (an :class:`Unwalked`) for the caller to report.

    Parameters
    ----------
    root : path-like
        The folder walked; one that cannot be listed is an :class:`~varcolor.errors.InputError`.
    skip : iterable of path-like
        Folders not entered.
    unwalked : list, optional
        Told of every folder not entered but for hidden and ``skip`` ones.
    layered : bool
        Layered files (``.ora``, ``.psd``) too, for the runs that take them (``varcolor colorize``
        of a folder).

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
    found, missed = [], []

    def unlisted(exc: OSError) -> None:
        folder = Path(exc.filename) if exc.filename else root
        reason = f"cannot list the folder ({exc.strerror or exc}); its images were not read"
        if folder == root:
            raise InputError(f"{root}: {reason}")
        missed.append(Unwalked(folder.relative_to(root), reason, error=True))

    for folder, dirs, files in os.walk(root, onerror=unlisted):
        kept = []
        for name in dirs:
            path = Path(folder) / name
            if name.startswith(".") or identity(path) in skipped or (path / MAPS_MARKER).is_file():
                continue
            if path.is_symlink():
                missed.append(Unwalked(path.relative_to(root), "a link to a folder, not followed", error=False))
                continue
            kept.append(name)
        dirs[:] = kept
        found += [
            (Path(folder) / name).relative_to(root)
            for name in files
            if not name.startswith(".") and name_key(Path(name).suffix) in extensions
        ]
    if unwalked is not None:
        unwalked += sorted(missed, key=lambda entry: entry.path.as_posix())
    yield from sorted(found, key=lambda p: p.as_posix())
