"""How a folder run goes: one frozen, checked value (:class:`RunOptions`), made with the same
machinery as :class:`~varcolor.options.Options` (:class:`~varcolor.common.fields.OptionValues`); its
fields' metadata are the command line's flags too (help, metavar, choices: written once, here)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..batch import MANIFEST, SCHEDULER_VARIABLE
from ..common.fields import OptionValues, option
from ..cues import EDGES, EDGES_DEFAULT
from ..errors import InputError
from ..io import MAX_PIXELS, WRITE_EXTENSIONS
from ..io.profiles import output_profile

__all__ = ["RunOptions"]


def _workers(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{name} must be at least 1, got {value}")


def _max_pixels(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{name} must be >= 0 (0: no limit), got {value}")


def _ext(name: str, value) -> None:
    if value not in WRITE_EXTENSIONS:
        raise InputError(f"{name} must be {', '.join(WRITE_EXTENSIONS[:-1])} or {WRITE_EXTENSIONS[-1]}, not {value}")


def _bits(name: str, value) -> None:
    if value not in (None, 8, 16):
        raise InputError(f"{name} must be 8 or 16, got {value}")


def _edges(name: str, value) -> None:
    if value not in EDGES:
        raise InputError(f"{name} must be {' or '.join(EDGES)}, got {value!r}")


def is_path(value) -> bool:
    """Whether ``value`` names a file: a non-empty string or path (a dict, bytes or '' do not)."""
    return isinstance(value, (str, os.PathLike)) and bool(os.fspath(value))


def _path(name: str, value) -> None:
    if value is not None and not is_path(value):
        raise InputError(f"{name} must be a path (a non-empty string), got {value!r}")


def _profile(name: str, value) -> None:
    if value in (None, "srgb", "input"):
        return
    output_profile(value, None)  # a file that is no RGB profile: one line naming it, before any work


@dataclass(frozen=True)
class RunOptions(OptionValues):
    """How a folder run goes (where it runs, what it keeps, what it says), and the format of what it
    writes: checked when made, one line naming the option.

    Attributes
    ----------
    overwrite : bool
        Replace existing outputs (inputs are never replaced).
    resume : bool
        Skip the images the output folder's manifest records as done and unchanged since.
    workers : int
        Local worker processes (a Dask LocalCluster; 1: this process).
    scheduler : str or None
        An existing Dask scheduler's address (None: ``$VARCOLOR_SCHEDULER`` if set).
    max_pixels : int or None
        Refuse images of more pixels, from their header (0 or None: no limit).
    quiet : bool
        No progress bar, notes (what was done: a reference's share of the cues) or summary.
    bits : int or None
        Bits per sample of the images written (8 or 16); None: the input's (16 from 16-bit or
        floating-point files, else 8).
    layer, strokes_layer : str or None
        A layered input's (``.ora``, ``.psd``) photo layer and stroke layer, by name; None: the
        bottom visible layer, and the visible layer above it.
    edges : {"unmix", "exact"}
        How marked images and stroke masks are read at the strokes' edges: ``unmix``.
    profile : str or None
        The colour space of the images written, as an embedded ICC profile: None or ``"srgb"``
        (sRGB), ``"input"`` (the input's RGB profile; sRGB for a gray input) or an ICC file.
    ext : str
        The extension of the outputs of a folder run (:data:`WRITE_EXTENSIONS`).
    confidence_map : str or None
        Where each result's confidence map is written (:attr:`varcolor.Result.confidence`, a 16-bit
        gray PNG): a file for one input, a folder for a folder input (``X_confidence.png``).

    Examples
    --------
    >>> RunOptions(workers=2, max_pixels=0).max_pixels is None
    True
    >>> RunOptions(workers=0)
    Traceback (most recent call last):
    varcolor.errors.InputError: workers must be at least 1, got 0
    """

    overwrite: bool = option(False, "replace existing outputs (inputs are never replaced)")
    resume: bool = option(
        False,
        f"skip the images that this folder's manifest ({MANIFEST}) records as done from the same files, with the "
        "same options, their outputs unchanged since; the others are done again (their existing outputs kept "
        "unless --overwrite)",
    )
    workers: int = option(
        1,
        "images processed in parallel by N local worker processes, at most one a core (a Dask LocalCluster; "
        "default: 1, in this process)",
        check=_workers,
        metavar="N",
    )
    scheduler: str | None = option(
        None,
        f"run on an existing Dask cluster, e.g. tcp://host:8786 (default: ${SCHEDULER_VARIABLE} if set); every "
        "worker must see the input and output paths",
        metavar="ADDRESS",
    )
    max_pixels: int | None = option(
        MAX_PIXELS,
        "refuse images of more pixels than this, from their header, before reading them (0: no limit; default: "
        "%(default)s)",
        check=_max_pixels,
        metavar="N",
    )
    quiet: bool = option(False, "no progress bar, notes or summary", short="-q")
    bits: int | None = option(
        None, "bits per sample of the output (default: the input's)", check=_bits, choices=(8, 16)
    )
    profile: str | None = option(
        None,
        "colour space of the output, embedded as its ICC profile: srgb (default), input (the input's RGB profile), "
        "or an ICC file",
        check=_profile,
        metavar="srgb|input|ICC",
    )
    edges: str = option(
        EDGES_DEFAULT,
        "how the strokes' edges are read: unmix (default: antialiased and soft edges as partial paint, so brush "
        "shapes are not burned into the photo) or exact (every marked pixel a cue in its own colour, for hard-edged "
        "marks); for --marked, --mask, a layered input's strokes and a clip's keyframe images, not --points",
        check=_edges,
        choices=EDGES,
    )
    ext: str = option(".png", "output extension in folder mode (default: %(default)s)", check=_ext)
    confidence_map: str | None = option(
        None,
        "also write where the colour is known: each pixel's confidence (how firmly its cues fix its colour; 1 on the "
        "cues, 0 where it is guessed) as a 16-bit gray PNG, to this file (for a folder input: this folder, as "
        "X_confidence.png; for a clip: this folder, an 8-bit frame_000000.png per frame)",
        check=_path,
        metavar="PATH",
    )
    layer: str | None = option(
        None, "a layered input's (.ora, .psd) photo layer (default: the bottom visible layer)", metavar="NAME"
    )
    strokes_layer: str | None = option(
        None,
        "a layered input's stroke layer: painted colours on transparency (default: the visible layer above the photo)",
        metavar="NAME",
    )

    def __post_init__(self) -> None:
        self._check_fields()
        if self.max_pixels == 0:
            object.__setattr__(self, "max_pixels", None)
