"""Painting a colorization: chroma in a method's colour space → the result's RGB with the gray
image's lightness, and the cues' values in that space (what the method holds).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

from .color import (
    _lab_to_srgb_array,
    chroma_to_rgb,
    chroma_to_rgb_of_gray,
    lab_to_rgb,
    lightness_of_gray,
    lightness_of_gray_on,
    rgb_to_lab,
    rgb_to_yiq,
    yiq_to_rgb,
)
from .common.buffers import Spares
from .common.threads import shared_pool
from .cues import Cues
from .io import to_levels

__all__ = ["Painter", "HOLD_LIGHTNESS", "WHOLE_PAINT_SHARE", "covers_most"]

#: Up to this many pixels a colorizer holds the gray image's lightness (8 bytes a pixel) for the
#: repaints after edits; a bigger scan, colorized once, computes it as it paints.
HOLD_LIGHTNESS = 16_000_000
#: Windows of an update that cover at least this share of the image (by their areas summed) are
#: painted as one whole image.
WHOLE_PAINT_SHARE = 0.6


class Painter:
    """Paints chroma of ``space`` (``lab`` or ``yiq``) on the gray image ``gray`` (``H×W`` in [0, 1]).

    Parameters
    ----------
    gray : ndarray
        The gray image, ``H×W`` in [0, 1].
    space : {"lab", "yiq"}
        The colour space of the chroma a method propagates.
    gamut : str
        How colours outside sRGB are brought in (:func:`varcolor.color.lab_to_rgb`).
    bits : {None, 8, 16}
        None: RGB as floats in [0, 1]; 8 or 16: as the levels of an 8- or 16-bit file.
    device : ArrayBackend, optional
        Where a whole image's Lab paint runs (CuPy's backend on a GPU: the array code of
        :func:`varcolor.color.chroma_to_rgb` there, the colours copied back); None: the CPU.
    """

    def __init__(self, gray: np.ndarray, space: str, gamut: str, bits: int | None = None, device=None):
        self.gray, self.space, self.gamut = gray, space, gamut
        self.device = device
        self._device_lightness = None  # the gray's lightness on the device, made at its first paint
        # The colours as levels, painted band by band straight into them: never a float image.
        self.rgb_type = {None: np.float64, 8: np.uint8, 16: np.uint16}[bits]
        # Held for repaints up to HOLD_LIGHTNESS pixels; a bigger scan's is computed band by band.
        self.held = lightness_of_gray(gray) if gray.size <= HOLD_LIGHTNESS else None
        # The last two results' arrays (RGB, and in YIQ the Lab chroma) for the repaints' copies: the
        # one before last is free again when its caller let go of it. A scan colorized once keeps none.
        self.spares = Spares(keep=(2 if space == "lab" else 4) if self.held is not None else 0)

    @property
    def lightness(self) -> np.ndarray:
        """The gray image's CIE lightness (``H×W``)."""
        return lightness_of_gray(self.gray) if self.held is None else self.held

    def targets(self, cues: Cues) -> np.ndarray:
        """The cues' values in the painter's space (``H×W×2``): ab, or I, Q.

        Parameters
        ----------
        cues : Cues
            The cues, on the gray image's grid.
        """
        return cues.ab if self.space == "lab" else _cue_iq(cues.ab, cues.lightness, self.lightness)

    def targets_at(self, cues: Cues, pixels: np.ndarray) -> np.ndarray:
        """The cue values at ``pixels`` (raster indices): ab, or I, Q."""
        ab = cues.ab.reshape(-1, 2)[pixels]
        if self.space == "lab":
            return ab
        lightness = None if cues.lightness is None else cues.lightness.ravel()[pixels]
        own = lightness_of_gray(self.gray.ravel()[pixels]) if self.held is None else self.held.ravel()[pixels]
        return _cue_iq(ab, lightness, own)

    def paint(self, chroma: np.ndarray, where=None, last: tuple[np.ndarray, np.ndarray] | None = None):
        """The result's ``(rgb, ab)`` for ``chroma``; with ``where`` (a pair of slices or of
        index arrays, or a list of pairs of slices) and ``last``."""
        lab = self.space == "lab"
        if where is None or covers_most(where, chroma.shape[:2]):
            where = [(slice(None), slice(None))]  # every pixel painted: nothing of the last result to copy
            # Held where edits may follow: an edit's copy goes into its memory once let go.
            rgb = self.spares.empty(self.gray.shape + (3,), self.rgb_type)
            ab = chroma if lab else self.spares.empty(chroma.shape, chroma.dtype)
            if lab and self.device is not None:
                return self._paint_on_device(chroma, rgb), ab
        else:
            # In Lab the result's ab is the chroma itself (every update makes a new chroma array).
            assert last is not None  # where given: the last result, to copy the rest from
            rgb, ab = self.spares.copy_of(last[0]), chroma if lab else self.spares.copy_of(last[1])
        for window in where if isinstance(where, list) else [where]:
            self._paint(chroma, window, rgb, ab)
        return rgb, ab

    def paint_ahead(self, chroma: np.ndarray) -> Future:
        """:meth:`paint` of the whole ``chroma`` started in a thread of its own: the future of
        its ``(rgb, ab)``.

        Parameters
        ----------
        chroma : ndarray
            ``H×W×2``: the draft chroma, in the painter's space.
        """
        return shared_pool("paint-ahead", 1).submit(self.paint, chroma)

    def repaint(self, chroma: np.ndarray, windows: list, rgb: np.ndarray, ab: np.ndarray) -> None:
        """Paint ``windows`` (pairs of slices) of ``chroma`` again, into ``rgb`` and ``ab`` (a
        result of :meth:`paint_ahead`)."""
        for window in windows:
            self._paint(chroma, window, rgb, ab)

    def prepare(self, chroma: np.ndarray) -> None:
        """Edits follow a result of ``chroma``'s shape and type: the arrays the first one paints
        into made ahead, in a thread (:meth:`varcolor.common.buffers.Spares.prepare`).

        Parameters
        ----------
        chroma : ndarray
            The chroma of the last result (its shape and dtype are read).
        """
        # Two of each kind: the last result's, and the one the next edit writes.
        self.spares.prepare(self.gray.shape + (3,), self.rgb_type, most=2)
        if self.space != "lab":
            self.spares.prepare(chroma.shape, chroma.dtype, most=2)

    def _paint_on_device(self, chroma: np.ndarray, rgb: np.ndarray) -> np.ndarray:
        """The whole image's RGB of ``chroma`` (Lab) painted on :attr:`device`, into ``rgb``:
        floats, or levels by :func:`varcolor.io.to_levels`' rule."""
        device = self.device
        xp = device.xp
        if self._device_lightness is None:  # the gray's lightness, kept there for the next paints
            self._device_lightness = lightness_of_gray_on(xp.asarray(self.gray), xp)
        out = xp.empty(self.gray.shape + (3,))
        chroma_d = xp.asarray(np.asarray(chroma, np.float64))
        _lab_to_srgb_array(self._device_lightness, chroma_d, self.gamut == "chroma", out, xp)
        if rgb.dtype.kind != "f":  # to_levels' rule, there: the levels copied back, not floats
            out = xp.round(xp.clip(out, 0.0, 1.0) * float(np.iinfo(rgb.dtype).max)).astype(rgb.dtype)
        rgb[...] = device.to_host(out)
        return rgb

    def _paint(self, chroma: np.ndarray, where, rgb: np.ndarray, ab: np.ndarray) -> None:
        """Write the RGB of ``chroma`` at ``where`` into ``rgb`` (and, in YIQ, its Lab chroma into ``ab``)."""
        paint: Callable[..., np.ndarray]  # (lightness or gray, chroma, gamut, out=)
        if self.space == "lab":
            if self.held is None:  # a scan: its lightness a band at a time
                paint, values = chroma_to_rgb_of_gray, self.gray
            else:
                paint, values = chroma_to_rgb, self.held
            # Kernel or array code as for the whole image (the kernel its first paint compiled).
            size = self.gray.size
            if isinstance(where[0], slice):  # a window: written in place
                paint(values[where], chroma[where], self.gamut, out=rgb[where], image_pixels=size)
            else:
                out = np.empty(values[where].shape + (3,), rgb.dtype)
                rgb[where] = paint(values[where], chroma[where], self.gamut, out=out, image_pixels=size)
            return
        colours = yiq_to_rgb(np.concatenate([self.gray[where][..., None], chroma[where]], axis=-1))
        ab[where] = rgb_to_lab(colours.reshape(1, -1, 3))[..., 1:].reshape(colours.shape[:-1] + (2,))
        rgb[where] = colours if rgb.dtype.kind == "f" else to_levels(colours, np.empty(colours.shape, rgb.dtype))


def covers_most(where, shape: tuple[int, int]) -> bool:
    """Whether the windows ``where`` cover :data:`WHOLE_PAINT_SHARE` of an image of ``shape`` or
    more: painted whole, the pixels outside them come out as they were.

    Parameters
    ----------
    where : pair of slices, list of pairs of slices, or pair of index arrays
        The windows (index arrays: a few pixels, never most).
    shape : (int, int)
        The image's ``(H, W)``.
    """
    windows = where if isinstance(where, list) else [where]
    if not all(isinstance(window, tuple) and isinstance(window[0], slice) for window in windows):
        return False  # pixels by index: a few
    area = 0
    for rows, columns in windows:
        area += len(range(*rows.indices(shape[0]))) * len(range(*columns.indices(shape[1])))
    return area >= WHOLE_PAINT_SHARE * shape[0] * shape[1]


def _cue_iq(ab: np.ndarray, cue_lightness: np.ndarray | None, gray_lightness: np.ndarray) -> np.ndarray:
    """The I, Q of each cue's own colour (``ab`` at its lightness where known, else the gray's);
    any leading shape."""
    lightness = (
        gray_lightness if cue_lightness is None else np.where(np.isfinite(cue_lightness), cue_lightness, gray_lightness)
    )
    lab = np.concatenate([lightness[..., None], ab], axis=-1)
    rgb = lab_to_rgb(lab, gamut="clip").reshape(1, -1, 3)
    return rgb_to_yiq(rgb)[..., 1:].reshape(ab.shape)
