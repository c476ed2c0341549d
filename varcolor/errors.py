"""Exceptions that varcolor raises for bad input, or for an output it cannot write.

The command line prints these as one line and exits with code 2; anything else is a bug.
:func:`check_image_size` is here because decoding and encoding must refuse the same images.
"""

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np


class VarcolorError(Exception):
    """Base class of every error caused by the caller's input rather than by varcolor."""


class InputError(VarcolorError, ValueError):
    """An argument, file or image that varcolor cannot use (wrong size, unreadable, out of range)."""


class OutputError(VarcolorError, OSError):
    """A result that could not be written: its folder cannot be made, the disk is full, no permission."""


class OutputExists(OutputError, FileExistsError):
    """An output that exists (or appeared while it was being written) and is kept, not replaced."""


class ConvergenceError(VarcolorError, ArithmeticError):
    """A solve that stopped before its residual reached the tolerance: its answer can be far from
    the system's solution, so there is no result (use another solver, or raise ``maxiter``)."""


def real_array(value, name: str) -> np.ndarray:
    """``value`` as an array of real numbers (bool, integer or float); anything else (objects,
    strings, complex numbers, ragged lists) is refused with one line naming ``name``.

    Parameters
    ----------
    value : array_like
        What to read as an array.
    name : str
        What the value is, for the message that refuses it.

    Examples
    --------
    >>> real_array([0.5, 1], "gray").dtype
    dtype('float64')
    >>> real_array(np.zeros(2, complex), "gray")
    Traceback (most recent call last):
    varcolor.errors.InputError: gray: must hold real numbers, got an array of complex128
    """
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise InputError(f"{name}: not an array of numbers ({exc})") from None
    if array.dtype.kind not in "biuf":
        raise InputError(f"{name}: must hold real numbers, got an array of {array.dtype}")
    return array


def check_unit_range(array: np.ndarray, name: str, use: str = "") -> None:
    """Refuse, in one line naming ``name``, an image that is not finite or not within [0, 1] (the
    range of every image varcolor takes as floats); ``use`` ends the message.

    Parameters
    ----------
    array : ndarray
        The image's values.
    name : str
        What the image is, for the message that refuses it.
    use : str, optional
        What ends the message (what to do), unless the values look like 8-bit levels.

    Examples
    --------
    >>> check_unit_range(np.full((2, 2), 200.0), "gray")
    Traceback (most recent call last):
    varcolor.errors.InputError: gray must hold values in [0, 1], got [200, 200] (8-bit levels? divide by 255)
    """
    if array.size == 0:
        return
    low, high = float(array.min()), float(array.max())  # NaN and infinities fail the test below too
    if 0.0 <= low <= high <= 1.0:
        return
    if not np.all(np.isfinite(array)):
        raise InputError(f"{name} has non-finite values (NaN or infinite)")
    levels = " (8-bit levels? divide by 255)" if 1 < high <= 255 and low >= 0 else ""
    raise InputError(f"{name} must hold values in [0, 1], got [{low:.4g}, {high:.4g}]{levels or use}")


class MethodError(InputError):
    """A colorization method (a plug-in's, say) that returned what cannot be a result: not an
    ``H×W×2`` array of finite numbers and a report."""


#: Images larger than this many pixels are refused on reading, before any pixel is decoded
#: (a few hundred bytes of PNG can declare gigapixels). ``max_pixels=None`` lifts the limit.
MAX_PIXELS = 250_000_000


#: How a message ends that compares the sizes of arrays given in Python: messages write an image's
#: size as width×height (as image programs and files do), docstrings an array's shape as H×W.
SIZES = "(sizes as width×height; an H×W array is W×H here)"


def image_size(shape: tuple) -> str:
    """An image's size for a message, width×height, from an array ``shape`` (``(H, W, …)``).

    Parameters
    ----------
    shape : tuple
        The array's shape, rows first.

    Examples
    --------
    >>> image_size((128, 160, 3))
    '160×128'
    """
    return f"{shape[1]}×{shape[0]}"


def check_image_size(shape: tuple) -> None:
    """Refuse an image with fewer than two rows or columns (``shape`` = ``(H, W, …)``): the
    luminance weights (:mod:`varcolor.common.affinity`) need both. Encoding checks it too.

    Parameters
    ----------
    shape : tuple
        The image array's shape, rows first.
    """
    if min(shape[:2]) < 2:
        raise InputError(f"the image must be at least 2×2 pixels, got {shape[1]}×{shape[0]}")


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at its iteration limit before reaching the tolerance."""


class ClippedSamples(UserWarning):
    """A file's floating-point samples outside [0, 1], clipped as they were read."""


@dataclass(frozen=True)
class Note:
    """What a run tells its user beside its result (a profile converted, marks left out): its
    text, the warning category it is raised as where nobody listens, and the warning itself where
    one was told (:class:`~varcolor.video.colorize.LeftGray` carries its frames)."""

    message: str
    category: type[Warning] = UserWarning
    warning: Warning | None = None

    def __str__(self) -> str:
        return self.message


_HEARD: ContextVar[list[Note] | None] = ContextVar("varcolor_heard", default=None)


def tell(what: str | Warning, category: type[Warning] = UserWarning, stacklevel: int = 1) -> None:
    """Tell the user ``what``: kept as a :class:`Note` by the run that listens (:func:`listening`,
    in this thread), else raised as a warning (of ``category``, for a message; ``stacklevel`` as
    :func:`warnings.warn` counts it from the caller)."""
    heard = _HEARD.get()
    if heard is None:
        warnings.warn(what, category, stacklevel=stacklevel + 1)
    elif isinstance(what, Warning):
        heard.append(Note(str(what), type(what), what))
    else:
        heard.append(Note(what, category))


def retell(notes: Iterable[Note], stacklevel: int = 1) -> None:
    """Tell ``notes`` again (:func:`tell`): what a kept read said, said for the read that takes it."""
    for note in notes:
        tell(note.warning or note.message, note.category, stacklevel=stacklevel + 1)


def messages(notes: Iterable[Note]) -> list[str]:
    """The messages of ``notes`` meant for the user (warnings of :class:`UserWarning`'s kind)."""
    return [note.message for note in notes if issubclass(note.category, UserWarning)]


@contextmanager
def listening() -> Iterator[list[Note]]:
    """Collect what the work inside tells (:func:`tell`) as notes, in order, instead of warnings:
    the channel a run's notes travel by to its report and manifest."""
    heard: list[Note] = []
    token = _HEARD.set(heard)
    try:
        yield heard
    finally:
        _HEARD.reset(token)
