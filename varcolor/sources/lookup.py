"""What is asked of the registry of cue sources (:data:`~varcolor.sources.base.REGISTRY`, made
beside :class:`~varcolor.sources.base.CueSource`, where a plan finds its source): a source by
name, those found by name beside a photo, the kind of a file, reading one
(:mod:`varcolor.sources` registers the built-in sources in it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cues import Cues
from ..errors import InputError
from .base import EDGES_DEFAULT, REGISTRY, CueSource

__all__ = ["REGISTRY", "register", "unregister", "get", "names", "registered", "file_sources", "kind_of", "load"]

#: The registry's own: add a source (a decorator), remove one, one by name, every one, their names.
register, unregister, get = REGISTRY.register, REGISTRY.unregister, REGISTRY.get
registered, names = REGISTRY.registered, REGISTRY.names


def file_sources() -> tuple[type[CueSource], ...]:
    """The sources whose files are found beside a photo by name (those with ``suffixes``), in the
    order a folder run tries them: one kind of these is a run's cue files."""
    return tuple(source for source in registered() if source.suffixes)


def kind_of(path: str | Path) -> str | None:
    """The name of the source whose file ``path`` is named as (None: none).

    Parameters
    ----------
    path : path
        A file's path.

    Examples
    --------
    >>> kind_of("a_marked.png"), kind_of("a.points.csv"), kind_of("a.png")
    ('marked', 'points', None)
    """
    return next((source.name for source in file_sources() if source.names_file(Path(path))), None)


def load(
    path: str | Path,
    gray: np.ndarray,
    kind: str | None = None,
    *,
    edges: str = EDGES_DEFAULT,
    max_pixels: int | None = None,
) -> Cues:
    """The cues of the file ``path`` for the photo whose gray is ``gray``, read by the source
    ``kind`` (None: the one ``path`` is named for, :func:`kind_of`), checked first
    (:meth:`CueSource.load`).

    Parameters
    ----------
    path : path
        The cue file.
    gray : ndarray
        The photo's gray, ``H×W`` in [0, 1].
    kind : str, optional
        The source's name.
    edges : str
        How strokes' edges are read (:data:`~varcolor.cues.EDGES`).
    max_pixels : int, optional
        The largest image read.
    """
    kind = kind if kind is not None else kind_of(path)
    if kind is None:
        raise InputError(f"{path}: not named as a cue file ({', '.join(s.suffixes[0] for s in file_sources())})")
    return get(kind).load(Path(path), np.asarray(gray), edges=edges, max_pixels=max_pixels)
