"""Colour cues: which pixels carry a known chroma, and every way to make them.

A :class:`Cues` holds a boolean ``mask`` and the Lab chroma ``ab`` at the masked pixels. Cues come
from a scribbled ("marked") copy of the gray image, a stroke mask, a points file, or a sampler that
reads the true colours of a colour image (for benchmarks and encoders).
"""

from __future__ import annotations

import csv
import os
import warnings
from dataclasses import InitVar, dataclass, field
from pathlib import Path

import numpy as np

from .color import ICC_LUMINANCE, lab_to_rgb, lightness_of_gray, rgb_to_lab, to_gray
from .errors import InputError, check_unit_range, real_array
from .io import safe_json
from .memory import sparse_zeros

__all__ = [
    "Cues",
    "sample_random",
    "sample_grid",
    "sample_ideepcolor",
    "MARKED_THRESHOLD",
    "EDGES",
    "fit_to",
    "same_aspect",
]

#: How many of a mark's pixels read as partial paint (at least, and as a share of them) make the
#: cues' ``note`` say so: the antialiased borders of painted strokes are 15–30 % of their pixels
#: (a 20-px stroke already has 40); a few stray pixels among hard-edged cues are not worth a line.
NOTE_PIXELS, NOTE_SHARE = 16, 0.01

#: Levin's rule: a pixel is marked where ``Σ_c |marked_c - gray_c| > MARKED_THRESHOLD`` (RGB in [0, 1]).
MARKED_THRESHOLD = 0.01
#: ... unless the difference is at most this on every channel (2 levels at 8 bits) and the marked
#: pixel is no more colourful than the "gray" one (its channels no further apart): that is the
#: gray image's own chroma noise, not a stroke (an "RGB gray" with ±1 level of chroma noise,
#: scribbled on a clean copy, made 31 % of its pixels near-gray cues). A truly gray image (one
#: channel, or three equal ones) never has such noise: there Levin's rule alone decides.
MARKED_NOISE = 2.5 / 255
#: A warning names the noise when it is more than this share of the pixels.
NOISE_SHARE = 0.01
#: Gray cues (marked pixels as colourless as the noise) on this share of the pixels, and half of
#: the cues or more: the marked image is not the photo with strokes on it; refused.
NOT_THE_PHOTO, NOT_THE_PHOTO_PIXELS = 0.1, 4096
#: Largest |a| or |b| a cue may carry. sRGB colours lie within about ±110; far larger values are a
#: mistake (units), and beyond ~1e19 they overflow the solvers' single-precision arithmetic.
AB_LIMIT = 1000.0

#: A stroke-mask pixel counts as "not black" above half an 8-bit step.
_BLACK_LEVEL = 0.5 / 255

#: How marked images and stroke masks are read at the strokes' edges: ``unmix`` (paint programs'
#: antialiased and soft edges read as partial paint) or ``exact`` (every pixel that differs is a cue
#: in its own colour, as in Levin's code).
EDGES = ("unmix", "exact")
#: A blended pixel's paint is the most paint-like pixel (furthest from the photo) within this many
#: pixels: an antialiased edge is 1-2 pixels wide, a soft brush's a few more.
PAINT_REACH = 6
#: A blend lies on a ramp: within this window (pixels a side) one neighbour holds more paint and
#: one less. 7: rims up to 3 pixels wide, as strokes upscaled by nearest neighbour (×3) have; at 3,
#: such rims were read in their own pale colour and fenced each stroke in (27.9 ab RMS off the
#: hard-edged strokes' result on a test photo, 0.6 at 7).
RAMP = 7
#: A pixel at least this share of the way from the photo to its paint (in RGB's colour plane) is
#: paint, read as it is (so a hard-edged stroke, every pixel its paint, gives exactly the cues of
#: the ``exact`` rule). 0.96, not 0.9: rims of 90-96 % paint kept in their own colour cost 10 % of
#: a saturated paint's chroma all along each stroke (hand scribbles redrawn antialiased: 1.46 ab
#: near the strokes off their hard-edged twins' result, 0.00 at 0.96); the same share was read in
#: Lab, where blends are not linear.
OPAQUE = 0.96
#: A pixel this near its paint (share of paint, on the line to it) is that paint as laid, no blend
#: of two others.
ITSELF = 0.9
#: A blended pixel with at least this much paint is a cue in the paint's colour; one with less is no
#: cue: the stroke a rasterizer draws with hard edges from the same outline.
HALF_PAINT = 0.5
#: Paint of less chroma (Lab) than this is gray paint: its blends are as gray as it, read as they are.
_MIN_CHROMA = 5.0
#: A pixel is a blend of photo and paint when its chroma lies this near the line from 0 to the
#: paint's (Lab ab units): 8-bit rounding, plus a quarter of the paint it holds (blends made in
#: sRGB shift the hue a little). Not more: a faint mark of its own beside a stroke is no blend.
_BLEND_SLACK = 2.0
_BLEND_SHARE = 0.25
#: ... and its lightness this near the line from the photo to the paint (RGB distance along the
#: gray axis): 8-bit rounding, plus this share of the paint it holds. The share lets translucent
#: paint through (its core holds the photo under it, not the photo here: 0.4 at 60 % opacity);
#: 0.8 took hard strokes painted in a "colour" blend mode (the photo's lightness) for blends.
_RGB_SLACK = 2.0 / 255
_LIGHTNESS_SHARE = 0.6
#: A noisy copy of the gray image under the strokes (:func:`copy_noise`) strays by at most this many
#: 8-bit levels (a JPEG of quality 90 by 4–8), and its knee is where two more levels add fewer than
#: this share of the pixels.
COPY_NOISE_MAX = 8
COPY_NOISE_KNEE = 0.01
#: Marks drawn at another size: their aspect ratio may differ from the photo's by this many pixels
#: (rounding); after scaling, a pixel is a stroke where it differs from the photo by more than this
#: (the scaled photo under the strokes is no longer the gray image exactly) or is more colourful.
SIZE_SLACK = 1.0
SCALED_THRESHOLD = 0.15
#: Cue colours converted to Lab at a time (:meth:`Cues._at_mask`): bounded temporaries.
_LAB_CHUNK = 1 << 18


def _kept_float(array: np.ndarray, copy: bool) -> np.ndarray:
    """``array`` as float32 if it is float32, else as float64: float32 holds a cue's ab and
    lightness to 1e-5 (a 16-bit level moves ab by about 1e-3), in half the memory (the readers of
    marks make their cues so: 0.48 GB less at 40 MP)."""
    return array.astype(array.dtype if array.dtype == np.float32 else np.float64, copy=copy)


def _bands(shape: tuple[int, ...], pixels: int = 1 << 20):
    """Row slices of about ``pixels`` pixels each covering an image of ``shape``."""
    step = max(1, pixels // max(shape[1], 1))
    return [slice(top, top + step) for top in range(0, shape[0], step)]


@dataclass(frozen=True, eq=False)
class Cues:
    """Known chroma at some pixels.

    Parameters
    ----------
    mask : ndarray of bool, ``H×W``
        True where the pixel carries a cue.
    ab : ndarray, ``H×W×2``
        CIE Lab chroma (a, b) of the cues; read only where ``mask`` is True.
    weight : ndarray, ``H×W``, optional
        Confidence scaling soft data terms (default 1 everywhere).
    lightness : ndarray, ``H×W``, optional
        The CIE L the cue colour was given at (e.g. the marked pixel's own lightness; NaN where
        unknown), so the exact cue colour can be rebuilt; ``colorize(..., space="yiq")`` uses it
        to reproduce Levin's code, and the gray image's lightness where it is missing.
    note : str, optional
        What reading the cues did that their user should know (marks scaled, blended edge pixels
        read as partial paint); "" when nothing.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((4, 4), bool); mask[0, 0] = True
    >>> ab = np.zeros((4, 4, 2)); ab[0, 0] = (20.0, -30.0)
    >>> Cues(mask, ab).count
    1
    """

    mask: np.ndarray
    ab: np.ndarray
    weight: np.ndarray | None = None
    lightness: np.ndarray | None = None
    note: str = field(default="", compare=False)
    #: The reference photos these cues were matched from, best first, each with its share of them:
    #: ``(name, share)`` pairs (:meth:`from_reference`, :meth:`from_references`); empty otherwise.
    references: tuple[tuple[str, float], ...] = field(default=(), compare=False)
    #: False: arrays of a kept float type are taken as they are, not copied (a constructor that made
    #: them and keeps no other reference: at 40 MP a copy of ab and lightness is 0.96 GB more at once).
    copy: InitVar[bool] = True

    def __post_init__(self, copy: bool = True) -> None:
        mask = np.asarray(self.mask)
        if mask.ndim != 2 or mask.dtype != np.bool_:
            raise InputError(f"cue mask must be an H×W boolean array, got {mask.dtype} {mask.shape}")
        image_shape_of(mask.shape)  # before any copy of a view as large as no image is
        ab = _kept_float(real_array(self.ab, "cue ab"), copy)
        if ab.shape != mask.shape + (2,):
            raise InputError(f"cue ab must have shape {mask.shape + (2,)}, got {ab.shape}")
        values = ab[mask]  # gathered once: a scan's mask is read once, not per check
        if not np.all(np.isfinite(values)):
            raise InputError("cue ab values must be finite")
        if np.any(np.abs(values) > AB_LIMIT):
            raise InputError(f"cue ab values must lie within ±{AB_LIMIT:g}, got {np.abs(values).max():g}")
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "ab", ab)
        for name in ("weight", "lightness"):
            value = getattr(self, name)
            if value is None:
                continue
            value = _kept_float(real_array(value, f"cue {name}"), copy)
            if value.shape != mask.shape:
                raise InputError(f"cue {name} must have shape {mask.shape}, got {value.shape}")
            object.__setattr__(self, name, value)
        if self.weight is not None and not np.all(np.isfinite(self.weight[mask]) & (self.weight[mask] >= 0)):
            raise InputError("cue weights must be finite and non-negative")
        if self.lightness is not None and np.any(np.isinf(self.lightness[mask])):  # NaN: unknown, allowed
            raise InputError("cue lightness must be finite (or NaN where unknown) at the cue pixels")

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the image the cues belong to."""
        return self.mask.shape

    @property
    def count(self) -> int:
        """Number of cue pixels."""
        return int(self.mask.sum())

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> Cues:
        """No cues at all on an image of ``shape``.

        Parameters
        ----------
        shape : tuple of int
            ``(height, width)`` of the image.
        """
        shape = image_shape_of(shape)
        return cls(np.zeros(shape, bool), np.zeros(shape + (2,)))

    @classmethod
    def from_marked(
        cls,
        gray: np.ndarray,
        marked: np.ndarray,
        threshold: float = MARKED_THRESHOLD,
        *,
        noise: float = MARKED_NOISE,
        edges: str = "unmix",
    ) -> Cues:
        """Cues from a scribbled copy of the gray image (Levin's convention).

        A pixel is a stroke where ``Σ_c |marked_c - gray_c| > threshold`` (RGB in [0, 1]), unless that
        is noise (below). Transparent pixels of an RGBA marked image are never cues. The marked image
        must be lossless: JPEG noise alone makes cues of most pixels.

        Paint programs blend a brush's edge into the photo (antialiasing, soft brushes, an RGBA
        layer's partial alpha). With ``edges="unmix"`` (the default) a stroke pixel blended into the
        gray photo keeps the hue of its paint within :data:`PAINT_REACH` pixels and a share α of it
        (in RGB's colour plane ``m − mean(m) = α·(p − mean(p))``, α by least squares): with ``α ≥``
        :data:`HALF_PAINT` it is a cue in the paint's colour, with less it is no cue (the
        hard-edged stroke of the same outline); pixels at least :data:`OPAQUE` paint, and every
        pixel that is no such blend, keep their own colour, so hard-edged strokes give the same cues
        as ``edges="exact"`` (every stroke pixel a cue in its own colour, Levin's rule). Read in
        their own colour, blended pixels fence each stroke in near-gray cues and the stroke's shape
        shows in the result. A paint is laid paint: a patch of one colour that hides the photo
        changing under it (:func:`_laid_paint`). Where strokes of two colours cross or touch, a rim
        pixel is a blend of both paints: a cue in the paint it holds at least half of, else none.
        Marks copied from a colour original keep the photo's lightness and no colour over a few
        pixels: nothing in them is laid paint, and their pixels keep their own colour. The cues'
        ``note`` says how many pixels were read as partial paint.
        The opacity of translucent paint is not recovered: it is read as the colour it shows.

        Pixels that pass the threshold but differ by at most ``noise`` on every channel, where the
        gray image's channels are at least as far apart as the marked image's, are the gray
        image's chroma noise (a colour file holding the gray image with its channels a level or
        two apart, scribbled on a clean copy), not strokes: they are left out, with a warning when
        they are more than :data:`NOISE_SHARE` of the pixels. With ``edges="unmix"``, a marked image
        that is a noisy copy of the gray one (:func:`copy_noise`) has its faint differences left
        out too, with a warning. ``noise=0`` gives Levin's rule alone. Colourless differences on
        :data:`NOT_THE_PHOTO` of the pixels, half the cues or more, mean the marked image is not the
        photo with strokes on it (resized another way): ``InputError``.

        A marked image of another size with the photo's aspect ratio (within :data:`SIZE_SLACK`
        pixels) is scaled to it smoothly, its strokes then read as above, against the gray image
        scaled to the marks' size and back (as the photo under the strokes was); there a pixel is a
        stroke where it differs from that by more than :data:`SCALED_THRESHOLD` or is more
        colourful than it (the scaled photo is not the gray image exactly, so faint strokes of gray
        paint are missed).

        Parameters
        ----------
        gray : ndarray, ``H×W`` or ``H×W×3``
            The gray image, RGB in [0, 1].
        marked : ndarray, ``h×w×3`` or ``h×w×4``
            The scribbled copy, RGB(A) in [0, 1]; the gray image's size or the same aspect ratio.
        threshold : float
            Levin's difference threshold (sum over the RGB channels).
        noise : float
            Largest per-channel difference taken for the gray image's chroma noise.
        edges : {"unmix", "exact"}
            How blended pixels at the strokes' edges are read (above).

        Examples
        --------
        >>> import numpy as np
        >>> gray = np.full((3, 3), 0.5)
        >>> marked = np.repeat(gray[..., None], 3, axis=2); marked[1, 1] = (0.8, 0.3, 0.3)
        >>> Cues.from_marked(gray, marked).mask.sum()
        np.int64(1)
        """
        gray = _entry_image(gray, "gray")
        marked = _entry_image(marked, "marked")
        _check_edges(edges)
        if marked.ndim != 3 or marked.shape[2] not in (3, 4):
            raise InputError(f"the marked image must be colour (H×W×3), got shape {marked.shape}")
        marked, scaled = fit_to(marked, gray.shape[:2], "the marked image")
        if scaled:
            # The photo under the strokes went through the same sizes: compare with the gray so.
            gray = _resized(_resized(gray, scaled), gray.shape[:2])
            threshold = max(threshold, SCALED_THRESHOLD)
        mask = np.zeros(marked.shape[:2], bool)
        faint_count = copied = gray_cues = 0
        copy = copy_noise(gray, marked) if edges == "unmix" and noise > 0 else 0.0
        # Band by band, a channel at a time: a big scan's temporaries stay a band's, and NumPy's
        # reductions over a last axis of 3 (sum, max, ptp) ran 10× slower than these (issue 37).
        for rows in _bands(marked.shape):
            band = marked[rows].astype(np.float64)
            pixel = [band[..., c] for c in range(3)]
            own = gray[rows].astype(np.float64)
            level = [own] * 3 if gray.ndim == 2 else [own[..., c] for c in range(3)]
            difference = [np.abs(p - g) for p, g in zip(pixel, level)]
            strokes = difference[0] + difference[1] + difference[2] > threshold
            spread_marked = np.maximum(np.maximum(*pixel[:2]), pixel[2]) - np.minimum(np.minimum(*pixel[:2]), pixel[2])
            spread_gray = 0.0 if gray.ndim == 2 else np.ptp(np.stack(level), axis=0)
            if scaled:
                strokes |= spread_marked > spread_gray + 2 * noise
            largest = np.maximum(np.maximum(*difference[:2]), difference[2])
            faint = strokes & (largest <= noise)
            faint &= spread_marked <= spread_gray
            mask[rows] = strokes & ~faint
            faint_count += int(faint.sum())
            if copy:
                noisy = mask[rows] & (largest <= copy)
                mask[rows] &= ~noisy
                copied += int(noisy.sum())
            colourless = mask[rows] & (spread_marked <= noise)
            if marked.shape[2] == 4:  # a transparent pixel is no cue at all
                colourless &= band[..., 3] > 0
            gray_cues += int(np.count_nonzero(colourless))
        cues = int(np.count_nonzero(mask))
        if gray_cues >= max(NOT_THE_PHOTO * mask.size, NOT_THE_PHOTO_PIXELS) and gray_cues >= 0.5 * cues:
            # Strokes are few and mostly coloured; a quarter of the photo turned into gray cues is a
            # marked image that is not the photo under it (resized another way, edited, another scan).
            raise InputError(
                f"{100 * gray_cues / mask.size:.0f} % of the pixels differ from the gray image without any colour: "
                "the marked image is not this photo with strokes on it (resized or edited another way?); "
                "paint the strokes on a copy of this very image (or resize both the same way), "
                "or give the strokes alone as a mask"
            )
        if faint_count / mask.size > NOISE_SHARE:
            warnings.warn(
                f"{faint_count} pixels ({100 * faint_count / mask.size:.0f} %) differ from the gray image by at most "
                f"{noise * 255:.1f} levels per channel: taken as noise, not strokes (is the gray image a "
                "colour file whose channels differ slightly, scribbled on a clean copy?)",
                stacklevel=2,
            )
        if copied:
            warnings.warn(
                f"{copied:,} pixels ({100 * copied / mask.size:.0f} %) differ from the gray image by at most "
                f"{copy * 255:.1f} levels per channel, as most of the photo does: the marked image is no exact "
                "copy of the gray one (saved as JPEG or colour-converted on the way?); taken as noise, not strokes",
                stacklevel=2,
            )
        return cls._painted(mask, marked, gray, edges, scaled)

    @classmethod
    def _painted(
        cls, mask: np.ndarray, rgb: np.ndarray, under: np.ndarray | None, edges: str, scaled: tuple | None
    ) -> Cues:
        """Cues of the strokes ``mask`` of ``rgb`` painted over ``under`` (the gray photo; None:
        black), their blended edges read as ``edges`` says; ``scaled``: the size the marks were
        drawn at, when not the photo's."""
        notes = [f"drawn at {scaled[1]}×{scaled[0]}, scaled to {mask.shape[1]}×{mask.shape[0]}"] if scaled else []
        if rgb.shape[2] == 4:  # an RGBA layer: its alpha is the paint's opacity
            mask &= rgb[..., 3] >= HALF_PAINT if edges == "unmix" else rgb[..., 3] > 0
        paint = None
        if edges == "unmix":
            painted = int(mask.sum())
            mask, paint, blended = _unmix(mask, rgb, under)
            if blended >= max(NOTE_PIXELS, NOTE_SHARE * painted):  # said where it matters, not for a stray pixel
                notes.append(f"{blended:,} blended edge pixels read as partial paint")
        return cls._at_mask(mask, rgb, "; ".join(notes), paint)

    @classmethod
    def _at_mask(cls, mask: np.ndarray, rgb: np.ndarray, note: str = "", paint: tuple | None = None) -> Cues:
        """Cues of ``rgb``'s colours at ``mask`` (Lab computed there only: the rest is never read;
        lightness NaN there, as unknown); ``paint``: raster indices (ascending) of pixels that take
        the colour of others (:func:`_unmix`'s blends read as their paint), and those others'."""
        at = np.flatnonzero(mask)
        to, source = paint if paint is not None else (np.empty(0, np.int64), np.empty(0, np.int64))
        # float32 (:func:`_kept_float`): the cues of a 40 MP scan's marks held in 0.48 GB, not 0.96.
        ab = sparse_zeros(mask.shape + (2,), np.float32)  # written at the strokes alone
        lightness = np.full(mask.shape, np.nan, np.float32)
        pixels = rgb.reshape(-1, rgb.shape[-1])
        # A chunk of cues at a time: Lab's temporaries of 8 M cues (a 40 MP scan's strokes) took 1.2 GB.
        for start in range(0, at.size, _LAB_CHUNK):
            chunk = at[start : start + _LAB_CHUNK]
            colours = pixels[chunk, :3].astype(np.float64)
            if to.size:
                where = np.minimum(np.searchsorted(to, chunk), to.size - 1)
                taken = to[where] == chunk
                colours[taken] = pixels[source[where[taken]], :3]
            lab = rgb_to_lab(colours[None])[0]
            ab.reshape(-1, 2)[chunk] = lab[:, 1:]
            lightness.ravel()[chunk] = lab[:, 0]
        return cls(mask, ab, lightness=lightness, note=note, copy=False)

    @classmethod
    def from_mask(cls, strokes: np.ndarray, shape: tuple[int, int] | None = None, *, edges: str = "unmix") -> Cues:
        """Cues from a stroke mask: every pixel that is not black (nor transparent) carries its colour.

        The mask must be lossless: JPEG ringing around strokes makes cues of near-black pixels. With
        ``edges="unmix"`` antialiased edges, which blend the paint towards black, are read as partial
        paint as :meth:`from_marked` reads them over the photo (``marked = α·paint``).

        Strokes on transparency (RGBA, some pixel's alpha below 1: a paint program's layer) are read
        by their alpha alone: full alpha is paint as drawn (black paint too), partial alpha partial
        paint (a cue where it is at least :data:`HALF_PAINT`, with ``edges="unmix"``; wherever it is
        not 0, with ``"exact"``), each pixel in its stored colour.

        Parameters
        ----------
        strokes : ndarray, ``h×w×3`` or ``h×w×4``
            Colour strokes on black (or on a transparent background).
        shape : (int, int), optional
            The photo's ``(H, W)``: a mask of another size with the same aspect ratio is scaled to
            it smoothly and its strokes read after; default the mask's own size.
        edges : {"unmix", "exact"}
            How blended pixels at the strokes' edges are read (:meth:`from_marked`).
        """
        strokes = _entry_image(strokes, "strokes")
        _check_edges(edges)
        if strokes.ndim != 3 or strokes.shape[2] not in (3, 4):
            raise InputError(f"a stroke mask must be a colour image (H×W×3 or H×W×4), got shape {strokes.shape}")
        strokes, scaled = fit_to(strokes, strokes.shape[:2] if shape is None else tuple(shape), "the stroke mask")
        if strokes.shape[2] == 4 and np.any(strokes[..., 3] < 1):
            return cls._covered(strokes, edges, scaled)
        # Compared, then the channels' answers joined: numpy's max over a last axis of 3 (a reduction
        # striding over each pixel) took 2.6 s of a 40 MP mask, this 0.23 s (load 4), the same mask.
        above = strokes[..., :3] > _BLACK_LEVEL
        mask = above[..., 0] | above[..., 1] | above[..., 2]
        return cls._painted(mask, strokes, None, edges, scaled)

    @classmethod
    def _covered(cls, strokes: np.ndarray, edges: str, scaled: tuple | None) -> Cues:
        """Cues of strokes on transparency (a paint program's layer): the coverage is the alpha, the
        colour is the paint's as stored (straight alpha): full alpha is paint as drawn, black paint
        included; partial alpha is partial paint (at least :data:`HALF_PAINT`: a cue in its colour,
        with ``edges="unmix"``; any: a cue, with ``"exact"``). No colour is unmixed."""
        alpha = strokes[..., 3]
        mask = alpha >= HALF_PAINT if edges == "unmix" else alpha > 0
        notes = [f"drawn at {scaled[1]}×{scaled[0]}, scaled to {mask.shape[1]}×{mask.shape[0]}"] if scaled else []
        partial = int(np.count_nonzero((alpha > 0) & (alpha < 1)))
        if edges == "unmix" and partial >= max(NOTE_PIXELS, NOTE_SHARE * np.count_nonzero(alpha > 0)):
            notes.append(f"{partial:,} partly transparent edge pixels read as partial paint")
        return cls._at_mask(mask, strokes, "; ".join(notes))

    @classmethod
    def from_points(cls, source: str | os.PathLike | list[dict], shape: tuple[int, int]) -> Cues:
        """Cues from a points file (JSON or CSV) or a list of point records.

        Each point has ``y, x`` (pixel row and column; a fractional one is rounded to the nearest
        pixel) and either ``a, b`` (Lab chroma, each within ±:data:`POINT_AB_LIMIT`: sRGB's gamut
        ends inside it) or ``r, g, b`` (8-bit sRGB, 0–255: r, g, b all within 0–1 with a fraction
        among them is refused as the 0–1 scale), and optionally ``radius`` (a disk of that radius in pixels;
        default 0, one pixel). JSON is a list of objects (or ``{"points": [...]}``); CSV has a
        header row naming the columns. Disks are drawn with hard edges: no pixel is half a cue.

        A JSON file ``{"width": w, "height": h, "points": [...]}`` says the size its points were
        placed on: on a photo of another size with the same aspect ratio (within
        :data:`SIZE_SLACK` pixels) their places and radii are scaled to it (the cues' ``note`` says
        so); another aspect ratio is an error naming both sizes.

        Parameters
        ----------
        source : path or list of dict
            A ``.json`` or ``.csv`` points file, or the point records themselves.
        shape : tuple of int
            ``(height, width)`` of the image the points are on; a point outside it is refused.

        Examples
        --------
        >>> Cues.from_points([{"y": 1, "x": 2, "a": 10, "b": -5, "radius": 1}], shape=(4, 4)).count
        5
        """
        name, drawn = "points", None
        shape = image_shape_of(shape)
        if isinstance(source, (str, os.PathLike)):
            name = str(source)
            records, drawn = _read_points_file(Path(source))
        else:
            records = list(source)
        _check_point_scales(records, name)
        if drawn is None or drawn == shape:
            return _points_to_cues(records, shape, name)
        if not same_aspect(drawn, shape):
            raise InputError(
                f"{name}: the points were placed on a {drawn[1]}×{drawn[0]} image but the photo is "
                f"{shape[1]}×{shape[0]}: not the same aspect ratio, so they cannot be scaled to it"
            )
        cues = _points_to_cues([_scaled_point(r, drawn, shape, name) for r in records], shape, name)
        note = f"placed on {drawn[1]}×{drawn[0]}, scaled to {shape[1]}×{shape[0]}"
        return cls(cues.mask, cues.ab, lightness=cues.lightness, note=note)

    @classmethod
    def from_reference(
        cls,
        gray: np.ndarray,
        reference: np.ndarray,
        *,
        strokes: Cues | None = None,
        min_confidence: float | None = None,
        name: str = "reference",
    ) -> Cues:
        """Cues matched from a colour photo of the same scene (:mod:`varcolor.reference`).

        Each cue's ``weight`` is its match's confidence (0–1); where nothing in the reference
        matches there is no cue, and a reference that matches almost nowhere (another scene)
        gives none.

        Parameters
        ----------
        gray : ndarray
            ``H×W`` gray image in [0, 1].
        reference : ndarray
            ``h×w×3`` colour photo in [0, 1], of any size and aspect ratio.
        strokes : Cues, optional
            The user's own cues: they win where they are, and no matched cue stays within
            :data:`~varcolor.reference.CLEARANCE` pixels of them.
        min_confidence : float, optional
            The confidence a match needs to become a cue (default
            :data:`~varcolor.reference.MIN_CONFIDENCE`).
        name : str
            How messages name the reference (its file).

        Examples
        --------
        >>> import numpy as np
        >>> from skimage import data
        >>> photo = data.chelsea()[:, :400] / 255.0
        >>> gray = photo.mean(axis=2)
        >>> cues = Cues.from_reference(gray, data.chelsea()[:, 50:] / 255.0)
        >>> cues.count > 100, float(cues.weight[cues.mask].min()) >= 0.6
        (True, True)
        """
        from .reference import MIN_CONFIDENCE, match_reference, outside

        gray = to_gray(real_array(gray, "gray"))
        threshold = MIN_CONFIDENCE if min_confidence is None else min_confidence
        mask, ab, confidence = match_reference(gray, reference, min_confidence=threshold, name=name)
        if strokes is not None:
            if strokes.shape != mask.shape:
                raise InputError(f"strokes of size {strokes.shape} do not fit an image of size {mask.shape}")
            mask &= outside(strokes.mask)
        matched = cls(mask, ab, weight=confidence, copy=False, references=((name, 1.0),) if mask.any() else ())
        return matched if strokes is None else matched.merged(strokes)

    @classmethod
    def from_references(
        cls,
        gray: np.ndarray,
        references: list[np.ndarray],
        *,
        strokes: Cues | None = None,
        names: list[str] | None = None,
    ) -> Cues:
        """Cues matched from the best of several colour photos (a pool:
        :func:`varcolor.reference.pool_cues`): ranked, verified, the best (up to three) combined
        where they agree; :attr:`references` says which gave which share of the cues.

        Parameters
        ----------
        gray : ndarray
            ``H×W`` gray image in [0, 1].
        references : list of ndarray
            ``h×w×3`` colour photos in [0, 1] (or callables returning one, read only if matched).
        strokes : Cues, optional
            The user's own cues: they win where they are (as :meth:`from_reference`).
        names : list of str, optional
            How messages and :attr:`references` name the photos (default "reference 1", …).
        """
        from .reference import pool_cues

        return pool_cues(to_gray(real_array(gray, "gray")), references, strokes=strokes, names=names)

    def merged(self, other: Cues, out: np.ndarray | None = None) -> Cues:
        """These cues with ``other`` added; where both mark a pixel, ``other`` wins.

        Parameters
        ----------
        other : Cues
            The cues added.
        out : ndarray, optional
            Where the merged ``ab`` is written: an array of this set's ``ab`` shape and type that
            nothing else refers to (memory made ready ahead: at 12 MP a fresh ``ab``'s pages took
            0.1-0.3 s to map); a new array without it.
        """
        if other.shape != self.shape:
            raise InputError(f"cannot merge cues of size {other.shape} into cues of size {self.shape}")
        if out is not None and (out.shape != self.ab.shape or out.dtype != self.ab.dtype or out is self.ab):
            raise ValueError(f"out must be a new {self.ab.dtype} array of shape {self.ab.shape}")
        mask = self.mask | other.mask
        ab = self.ab.copy() if out is None else out  # a copy and a scatter: a stroke marks few pixels
        if out is not None:
            np.copyto(ab, self.ab)
        box = _box_of(other.mask)
        if box is not None:  # the scatter inside the stroke's box: two reads of a 12 MP mask were 47 ms
            ab[box][other.mask[box]] = other.ab[box][other.mask[box]]
        # Every array here is new, and made of two checked cue sets' values (ab: in this set's
        # float type): taken as they are, not checked again (at 12 MP, 34 ms an edit).
        merged = object.__new__(Cues)
        for name, value in (
            ("mask", mask),
            ("ab", ab),
            ("weight", _overlay_field(self, other, "weight", 1.0)),
            ("lightness", _overlay_field(self, other, "lightness", np.nan)),
            ("note", ""),
            ("references", self.references + other.references),
        ):
            object.__setattr__(merged, name, value)
        return merged

    def overlay(self, gray: np.ndarray) -> np.ndarray:
        """An RGB picture of the cues drawn over the gray image (for figures and ``--plot``)."""
        gray = to_gray(gray)
        lightness = lightness_of_gray(gray)
        if self.lightness is not None:
            lightness = np.where(self.mask & np.isfinite(self.lightness), self.lightness, lightness)
        lab = np.concatenate([lightness[..., None], np.where(self.mask[..., None], self.ab, 0.0)], axis=2)
        return lab_to_rgb(lab)


def _box_of(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The box of ``mask``'s True pixels (None: none), its rows found first and its columns read
    on them alone."""
    rows = np.flatnonzero(mask.any(axis=1))
    if not rows.size:
        return None
    band = slice(rows[0], rows[-1] + 1)
    columns = np.flatnonzero(mask[band].any(axis=0))
    return band, slice(columns[0], columns[-1] + 1)


def _overlay_field(first: Cues, second: Cues, name: str, default: float) -> np.ndarray | None:
    mine, theirs = getattr(first, name), getattr(second, name)
    if mine is None and theirs is None:
        return None
    fill = np.full(first.shape, default)
    return np.where(second.mask, fill if theirs is None else theirs, fill if mine is None else mine)


def _size(image: np.ndarray) -> str:
    return f"{image.shape[1]}×{image.shape[0]}"


def copy_noise(gray: np.ndarray, marked: np.ndarray) -> float:
    """How far (per channel, RGB in [0, 1]) a marked image's photo strays from the gray image when
    it is no exact copy of it: 0 for an exact copy.

    Scribbled on an exact copy, most unpainted pixels equal the gray image (within half an 8-bit
    level). When fewer than half of the pixels within :data:`COPY_NOISE_MAX` levels are equal, the
    copy went through a JPEG or a colour conversion: the level is the knee of the share of pixels
    within ``k`` levels, the first ``k`` past which two more levels add less than
    :data:`COPY_NOISE_KNEE` of the pixels (none: 0, nothing is dropped).

    Parameters
    ----------
    gray : ndarray, ``H×W`` or ``H×W×3``
    marked : ndarray, ``H×W×3`` or ``H×W×4``
    """
    counts = np.zeros(COPY_NOISE_MAX + 3, np.int64)
    for rows in _bands(marked.shape):
        own = gray[rows].astype(np.float64)
        largest = np.zeros(own.shape[:2])
        for c in range(3):
            level = own if gray.ndim == 2 else own[..., c]
            np.maximum(largest, np.abs(marked[rows][..., c] - level), out=largest)
        levels = np.minimum(np.floor(largest * 255 + 0.5), COPY_NOISE_MAX + 2).astype(np.int64)
        counts += np.bincount(levels.ravel(), minlength=COPY_NOISE_MAX + 3)
    share = np.cumsum(counts) / max(counts.sum(), 1)
    if share[0] >= 0.5 * share[COPY_NOISE_MAX]:
        return 0.0
    for k in range(1, COPY_NOISE_MAX + 1):
        if share[k + 2] - share[k] < COPY_NOISE_KNEE:
            return (k + 0.5) / 255
    return 0.0


def _check_edges(edges: str) -> None:
    if edges not in EDGES:
        raise InputError(f"edges must be one of {', '.join(EDGES)}, got {edges!r}")


def same_aspect(drawn: tuple[int, int], shape: tuple[int, int]) -> bool:
    """Whether marks drawn at ``drawn`` = ``(h, w)`` fit a photo of ``shape`` = ``(H, W)`` once
    scaled: the same aspect ratio within :data:`SIZE_SLACK` pixels of rounding.

    >>> same_aspect((201, 161), (402, 322)), same_aspect((200, 200), (402, 322))
    (True, False)
    """
    (h, w), (height, width) = drawn, shape
    if min(h, w, height, width) < 1:
        return False
    return abs(h * width / w - height) <= SIZE_SLACK or abs(w * height / h - width) <= SIZE_SLACK


def fit_to(image: np.ndarray, shape: tuple[int, int], what: str) -> tuple[np.ndarray, tuple[int, int] | None]:
    """``image`` (marks: strokes over the photo or on black) at the photo's ``shape``: as it is
    when it has that size, else scaled smoothly (linear, antialiased when shrinking; an alpha
    channel's colours premultiplied, so transparent pixels' colours do not bleed), with the size
    it had; a different aspect ratio is an error naming both sizes.

    Parameters
    ----------
    image : ndarray, ``h×w×C``
        The marks.
    shape : (int, int)
        The photo's ``(H, W)``.
    what : str
        The marks' name for the error ("the marked image").
    """
    drawn = image.shape[:2]
    if drawn == tuple(shape):
        return image, None
    if not same_aspect(drawn, shape):
        raise InputError(
            f"{what} is {drawn[1]}×{drawn[0]} but the photo is {shape[1]}×{shape[0]}: not the same aspect "
            "ratio, so it cannot be scaled to it"
        )
    pixels = image.astype(np.float64)
    if pixels.shape[2] == 4:
        pixels = np.concatenate([pixels[..., :3] * pixels[..., 3:], pixels[..., 3:]], axis=2)
    scaled = _resized(pixels, shape)
    if scaled.shape[2] == 4:
        alpha = scaled[..., 3:]
        scaled[..., :3] = np.where(alpha > 0, scaled[..., :3] / np.maximum(alpha, 1e-12), 0.0).clip(0.0, 1.0)
    return scaled, drawn


def _resized(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to ``shape`` smoothly: linear, antialiased when shrinking, within [0, 1]."""
    from skimage.transform import resize  # only marks drawn at another size need it

    shrink = shape[0] < image.shape[0] or shape[1] < image.shape[1]
    return np.clip(resize(image, tuple(shape) + image.shape[2:], order=1, anti_aliasing=shrink), 0.0, 1.0)


def _unmix(mask: np.ndarray, rgb: np.ndarray, under: np.ndarray | None) -> tuple[np.ndarray, tuple, int]:
    """Stroke pixels ``mask`` of ``rgb`` with their blended edge pixels read as partial paint:
    ``(mask, (to, source), blended)``, the cue mask without the pixels of less than
    :data:`HALF_PAINT` paint, the raster indices (ascending) of the others and of the pixels whose
    colour (their paint) they take, and how many pixels were blends. The marks are not copied
    (0.48 GB at 40 MP in float32).

    A blend of paint into a gray photo, or into black, keeps the paint's hue and holds a share of
    its chroma: in RGB's colour plane (each pixel less its channels' mean), where sRGB blends are
    linear, ``m − mean(m) = α·(p − mean(p))``. A blend's paint is laid paint
    (:func:`_laid_paint`: one colour over a changing photo), within :data:`PAINT_REACH` pixels:
    the stroke pixel furthest from the photo (RGB), or the nearest laid pixel; where neither
    explains a pixel (strokes of two colours cross: the furthest may be the other stroke's), the
    laid pixels near it and the most colourful in each of :data:`HUES` directions
    (:func:`_paint_of`); of the paints it is a blend of, the one of most colour. A blend is a pixel within
    :data:`PAINT_REACH` of the strokes' outside, on a ramp (a neighbour nearer the photo and one
    further), connected to its paint, on the line to it in the colour plane
    (:data:`_PLANE_SLACK`) and in Lab (:data:`_BLEND_SLACK`: a stroke painted in a "colour" blend
    mode is no blend), at more than 0 and less than :data:`OPAQUE` of the paint, its lightness
    between the photo's and the paint's (:data:`_RGB_SLACK`). Where strokes of two colours cross,
    a rim pixel is a blend of both paints (over the photo): read as the paint it holds most of, if
    that is at least :data:`HALF_PAINT` (of what the paint over it left), else no cue, as the
    hard-edged strokes of the same outlines are. Texture copied from a colour original has no
    laid paint: its pixels are read as they are. Row bands with a margin of the reach keep a big
    scan's temporaries small."""
    from scipy import ndimage  # the image stack loads where used: `varcolor --help` needs none of it

    keep = mask.copy()
    to, source = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    blended = 0
    reach = PAINT_REACH
    for rows in _bands(mask.shape):
        if not mask[rows].any():
            continue
        top, bottom = max(rows.start - reach, 0), min(rows.stop + reach, mask.shape[0])
        inner = slice(rows.start - top, rows.start - top + (min(rows.stop, mask.shape[0]) - rows.start))
        strokes = mask[top:bottom]
        flat = rgb[top:bottom].reshape(-1, rgb.shape[2])
        if under is None:
            photo = np.zeros(strokes.shape, np.float32)
        else:
            photo = under[top:bottom].astype(np.float32)
            photo = photo.mean(axis=2) if photo.ndim == 3 else photo
        at = np.flatnonzero(strokes)
        m = flat[at, :3].astype(np.float64)
        g = np.repeat(photo.ravel()[at, None].astype(np.float64), 3, axis=1)
        distance = np.zeros(strokes.size)
        distance[at] = np.sqrt(np.einsum("nc,nc->n", m - g, m - g))
        # The paint: the stroke pixel furthest from the photo (RGB distance, which grows with the
        # share of paint; Lab chroma need not), as the argmax over each window in one filter: the
        # distance in the high bits, the pixel's index in the low ones.
        key = (np.round(distance * (1 << 20)).astype(np.int64) << 32) | np.arange(strokes.size, dtype=np.int64)
        paint_at = ndimage.maximum_filter(key.reshape(strokes.shape), size=2 * reach + 1, mode="nearest")
        paint_at = paint_at.ravel() & 0xFFFFFFFF
        edge = ndimage.maximum_filter(~strokes, size=2 * reach + 1, mode="constant", cval=False).ravel()
        # A blend lies on a ramp (:data:`RAMP`): a neighbour holds more paint and one less. A stroke
        # of a darker shade beside a brighter one is a plateau: no blend of it.
        plateau = distance.reshape(strokes.shape)
        step = 0.5 / 255  # half an 8-bit level: a plateau's pixels are equal
        ramp = (ndimage.maximum_filter(plateau, size=RAMP, mode="nearest") > plateau + step) & (
            ndimage.minimum_filter(plateau, size=RAMP, mode="nearest") < plateau - step
        )
        # A blend touches its paint: an isolated faint mark beside a stroke is a mark of its own.
        touching = ndimage.label(strokes, structure=np.ones((3, 3), bool))[0].ravel()
        inside = np.zeros(strokes.shape, bool)
        inside[inner] = True
        laid = _laid_paint(flat, photo, strokes)
        if not laid.any():  # nothing laid: texture, or paint too faint to tell; read as it is
            continue
        # A blend of one paint over the photo lies near the strokes' outside; one of two paints
        # (a rim where strokes cross) may lie deeper among the strokes.
        chosen = ((edge & ramp.ravel())[at] | ~laid.ravel()[at]) & inside.ravel()[at]
        at, m, g = at[chosen], m[chosen], g[chosen]
        on_ramp = ramp.ravel()[at] & edge[at]
        if not len(at):
            continue
        theirs_at, alpha, single = _paint_of(at, m, g, flat, strokes, laid, paint_at, touching, reach, on_ramp)
        at, theirs_at, alpha = at[single], theirs_at[single], alpha[single]
        if not len(at):
            continue
        weak, strong = at[alpha < HALF_PAINT], alpha >= HALF_PAINT
        offset = (top - rows.start) * mask.shape[1]  # band-with-margin index -> this band's index
        keep[rows].reshape(-1)[weak + offset] = False
        start = top * mask.shape[1]  # band-with-margin index -> the image's
        to.append(at[strong] + start)
        source.append(theirs_at[strong] + start)
        blended += len(at)
    order = np.argsort(np.concatenate(to), kind="stable")
    return keep, (np.concatenate(to)[order], np.concatenate(source)[order]), blended


#: Where strokes of several colours meet, a blend's paints are looked for as the laid pixels of
#: most colour in this many directions of the colour plane (besides the furthest from the photo
#: and the nearest laid pixel).
HUES = 6


def _paint_of(
    at: np.ndarray,
    m: np.ndarray,
    g: np.ndarray,
    flat: np.ndarray,
    strokes: np.ndarray,
    laid: np.ndarray,
    paint_at: np.ndarray,
    touching: np.ndarray,
    reach: int,
    on_ramp: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The paint the blend candidates ``at`` (band indices; RGB ``m`` over the photo ``g``) are
    read as: ``(paint, share, found)``, the pixel whose colour each takes, its share of paint
    and whether it is a blend at all (:func:`_unmix`). ``on_ramp``: which may be blends of one
    paint over the photo (the others, of two paints only)."""
    from scipy import ndimage

    laid_flat = laid.ravel()
    gap, nearest = ndimage.distance_transform_edt(~laid, return_indices=True)
    nearest = np.ravel_multi_index(tuple(nearest), strokes.shape).ravel()
    # First the paint furthest from the photo and the nearest laid pixel: most rims are read so.
    candidates = [paint_at[at], np.where(gap.ravel()[at] <= reach, nearest[at], paint_at[at])]
    theirs_at, alpha = candidates[0].copy(), np.zeros(len(at))
    most = np.full(len(at), -1.0)  # of the paints a pixel is a blend of, the one of most colour
    itself = np.zeros(len(at), bool)  # paint as laid (or more): read as it is, no blend of two
    lab_m = rgb_to_lab(m[None])[0, :, 1:]
    # A paint's Lab chroma once, not once a candidate (many pixels share a paint pixel).
    lab_paint = np.zeros((laid_flat.size, 2))
    known = np.zeros(laid_flat.size, bool)

    def chroma_of(c: np.ndarray) -> np.ndarray:
        new = np.unique(c[~known[c]])
        lab_paint[new] = rgb_to_lab(flat[new, :3].astype(np.float64)[None])[0, :, 1:]
        known[new] = True
        return lab_paint[c]

    def single(pick: np.ndarray, paints: list[np.ndarray]) -> None:
        """Blends of one paint among ``paints`` (candidate rows) for the pixels ``pick``."""
        for c in paints:
            ok_c = (touching[c] == touching[at[pick]]) & (c != at[pick]) & laid_flat[c]
            p = flat[c, :3].astype(np.float64)
            share, residual, ok = _blend_of(m[pick], g[pick], p, lab_m[pick], chroma_of(c))
            size = _plane_norm(p)
            better = on_ramp[pick] & ok & ok_c & (size > most[pick])
            chosen = pick[better]
            most[chosen], theirs_at[chosen], alpha[chosen] = size[better], c[better], share[better]
            itself[pick] |= ok_c & (share >= ITSELF) & (residual <= _PLANE_SLACK + _PLANE_SHARE * share * size)

    def faint_rims() -> None:
        # A faint rim pixel whose laid paint lies beyond the reach (a soft brush's end: its laid core
        # starts further in), or whose nearest "laid" pixel is a faint rim itself (one colour along a
        # flat photo), is still a blend toward the stroke pixel furthest from the photo, laid or not.
        # That pixel holds at most all of the paint, so the rim's share of it bounds its share of the
        # paint from above: under HALF_PAINT of it is under half paint, no cue, as the hard-edged
        # stroke has none there. Kept in their own colour, such pixels were grayish cues at a stroke's
        # end, and whether a laid pixel fell within the reach turned on one level of the photo (5 such
        # cues: 5.6 ab RMS near soft strokes off their hard-edged twins' result, 2.2 without).
        faint = np.flatnonzero((most < 0) & on_ramp)
        if faint.size:
            c = paint_at[at[faint]]
            p = flat[c, :3].astype(np.float64)
            share, _, ok = _blend_of(m[faint], g[faint], p, lab_m[faint], chroma_of(c))
            ok &= (touching[c] == touching[at[faint]]) & (c != at[faint]) & (share < HALF_PAINT)
            theirs_at[faint[ok]], alpha[faint[ok]], most[faint[ok]] = c[ok], share[ok], 0.0

    everyone = np.arange(len(at))
    single(everyone, candidates)
    # Then, where strokes of several colours meet: the laid pixels nearby (its own paint, the
    # nearest, the nearest of another colour) and the most colourful in each of HUES directions.
    # (A laid pixel the first look leaves is paint as laid: one colour along a rim or a core.)
    rest = np.flatnonzero((most < 0) & ~itself & ~laid_flat[at])
    if not rest.size:
        faint_rims()
        return theirs_at, alpha, most >= 0
    more = _nearby_paint(at[rest], flat, strokes, laid_flat, touching, paint_at[at[rest]])
    more += _hue_paints(at[rest], flat, strokes, laid, paint_at[at[rest]], reach)
    single(rest, more)
    # Not a laid pixel: one colour along a rim over the photo's changes is paint of its own.
    rest_of = (most[rest] < 0) & ~itself[rest] & ~laid_flat[at[rest]]
    two = rest[rest_of]
    if two.size:
        local = [c[rest_of] for c in [candidates[0][rest], candidates[1][rest], *more]]
        best = np.full(two.size, np.inf)
        for i in range(len(local)):
            for j in range(i + 1, len(local)):
                one, other = local[i], local[j]
                pair = (one != other) & laid_flat[one] & laid_flat[other]
                pair &= (touching[one] == touching[at[two]]) & (touching[other] == touching[at[two]])
                if not pair.any():
                    continue
                second_wins, share, off, ok = _two_paints(
                    m[two], g[two], flat[one, :3].astype(np.float64), flat[other, :3].astype(np.float64)
                )
                better = pair & ok & (off < best)
                best[better] = off[better]
                where = two[better]
                theirs_at[where] = np.where(second_wins[better], other[better], one[better])
                alpha[where] = share[better]
        most[two[np.isfinite(best)]] = 0.0
    faint_rims()
    return theirs_at, alpha, most >= 0


def _hue_paints(
    at: np.ndarray, flat: np.ndarray, strokes: np.ndarray, laid: np.ndarray, fallback: np.ndarray, reach: int
) -> list[np.ndarray]:
    """For each pixel ``at``, the laid pixel of most colour in each of :data:`HUES` directions of
    the colour plane within ``reach`` (``fallback`` where none), found over the box around them."""
    from scipy import ndimage

    height, width = strokes.shape
    y, x = np.divmod(at, width)
    top, bottom = max(int(y.min()) - reach, 0), min(int(y.max()) + reach + 1, height)
    left, right = max(int(x.min()) - reach, 0), min(int(x.max()) + reach + 1, width)
    box = laid[top:bottom, left:right]
    lit = np.flatnonzero(box)
    if not lit.size:  # no laid paint near any of them (a grainy scan's lone rims): the fallback
        return [fallback.copy() for _ in range(HUES)]
    ly, lx = np.divmod(lit, right - left)
    index = (ly + top) * width + lx + left  # the band's raster index of each laid pixel
    rgb = flat[index, :3].astype(np.float64)
    colour = rgb - rgb.mean(axis=1, keepdims=True)
    plane = np.stack([colour[:, 0] - colour[:, 1], colour[:, 0] + colour[:, 1] - 2 * colour[:, 2]], axis=1)
    plane /= np.array([np.sqrt(2), np.sqrt(6)])
    inside = (y - top) * (right - left) + x - left
    found = []
    for k in range(HUES):
        angle = 2 * np.pi * k / HUES
        key = np.full(box.size, -1, np.int64)
        toward = plane @ np.array([np.cos(angle), np.sin(angle)]) + 2.0  # > 0
        # 1/65536 of a level's fraction, below 2^53 with the index: exact in the filter's doubles.
        key[lit] = (np.round(toward * (1 << 16)).astype(np.int64) << 32) | np.arange(lit.size, dtype=np.int64)
        most = ndimage.maximum_filter(key.reshape(box.shape), size=2 * reach + 1, mode="nearest").ravel()[inside]
        found.append(np.where(most >= 0, index[np.maximum(most, 0) & 0xFFFFFFFF], fallback))
    return found


#: A blend's own paint is looked for among the laid pixels this near (pixels a side).
NEAR_PAINT = 3


def _nearby_paint(
    at: np.ndarray,
    flat: np.ndarray,
    strokes: np.ndarray,
    laid: np.ndarray,
    touching: np.ndarray,
    fallback: np.ndarray,
) -> list[np.ndarray]:
    """For each blend candidate ``at`` (band indices), laid pixels within :data:`NEAR_PAINT` pixels:
    the one whose colour-plane colour is most nearly a larger copy of its own (its paint, where
    strokes of several colours meet), the nearest, and the nearest of another colour than that
    (the two paints of a rim where strokes cross); ``fallback`` where there is none."""
    height, width = strokes.shape
    y, x = np.divmod(at, width)
    # Two coordinates of RGB's colour plane (its basis (1, -1, 0)/√2, (1, 1, -2)/√6), and the
    # channels, of the pixels and of the laid pixels around them: gathered, not recomputed.
    y0, y1 = max(int(y.min()) - NEAR_PAINT, 0), min(int(y.max()) + NEAR_PAINT + 1, height)
    box = flat.reshape(height, width, -1)[y0:y1, :, :3].astype(np.float32)
    plane = np.stack(
        [(box[..., 0] - box[..., 1]) / np.sqrt(2), (box[..., 0] + box[..., 1] - 2 * box[..., 2]) / np.sqrt(6)], axis=-1
    ).reshape(-1, 2)
    box = box.reshape(-1, 3)
    own = y0 * width
    mine = plane[at - own]
    best = np.full(len(at), np.inf, np.float32)
    parallel, nearest, other = fallback.copy(), fallback.copy(), fallback.copy()
    seen, seen_other = np.zeros(len(at), bool), np.zeros(len(at), bool)
    offsets = [(dy, dx) for dy in range(-NEAR_PAINT, NEAR_PAINT + 1) for dx in range(-NEAR_PAINT, NEAR_PAINT + 1)]
    offsets.sort(key=lambda o: o[0] ** 2 + o[1] ** 2)
    for dy, dx in offsets[1:]:
        yy, xx = y + dy, x + dx
        inside = (yy >= 0) & (yy < height) & (xx >= 0) & (xx < width)
        q = np.where(inside, yy * width + xx, at)
        ok = inside & laid[q] & (touching[q] == touching[at])
        theirs = plane[q - own]
        size2 = np.maximum(theirs[:, 0] ** 2 + theirs[:, 1] ** 2, 1e-12)
        t = (mine[:, 0] * theirs[:, 0] + mine[:, 1] * theirs[:, 1]) / size2
        cross = np.abs(mine[:, 0] * theirs[:, 1] - mine[:, 1] * theirs[:, 0]) / size2  # sine x |mine|/|theirs|
        better = ok & (t > 0) & (t < 1) & (cross < best)
        best[better], parallel[better] = cross[better], q[better]
        first = ok & ~seen
        nearest[first], seen[first] = q[first], True
        found = np.where(seen, nearest, q)  # (the fallback may lie outside the box)
        differs = np.abs(box[q - own] - box[found - own]).max(axis=1) > 4 / 255
        second = ok & seen & ~seen_other & differs
        other[second], seen_other[second] = q[second], True
    return [parallel, nearest, other]


#: A blend's colour lies this near the line from 0 to its paint's in RGB's colour plane (each pixel
#: less its channels' mean; 8-bit levels): rounding, plus this share of the paint it holds (a paint
#: program blending in linear light bends the line by about 4 %). Texture copied from a colour
#: original strays from it.
_PLANE_SLACK = 1.5 / 255
_PLANE_SHARE = 0.08


def _plane_norm(p: np.ndarray) -> np.ndarray:
    """The length of paint ``p``'s colour in RGB's colour plane (rows; the gray ``g`` has none)."""
    colour = p.astype(np.float64) - p.mean(axis=1, keepdims=True)
    return np.sqrt(np.einsum("nc,nc->n", colour, colour))


def _blend_of(
    m: np.ndarray, g: np.ndarray, p: np.ndarray, ab: np.ndarray, paint: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels ``m`` (RGB rows; Lab chroma ``ab``) over the photo ``g`` read as blends of the paint
    ``p`` (Lab chroma ``paint``): their share of paint α (in RGB's colour plane), their distance
    from the line to the paint there, and whether they are such blends (:func:`_unmix`)."""
    contrast2 = np.einsum("nc,nc->n", paint, paint)
    alpha_lab = np.einsum("nc,nc->n", ab, paint) / np.maximum(contrast2, 1e-12)
    off_line = np.hypot(*(ab - alpha_lab[:, None] * paint).T)
    ok = (contrast2 >= _MIN_CHROMA**2) & (alpha_lab > 0) & (alpha_lab < 1)
    ok &= off_line <= _BLEND_SLACK + _BLEND_SHARE * alpha_lab * np.sqrt(contrast2)
    # How much paint, in RGB's colour plane (each pixel less its channels' mean), where blends
    # made in sRGB are exactly linear: mine = α·paint's, whatever the gray or black under it.
    mine = m - g
    theirs = p - g
    mine_mean, theirs_mean = mine.mean(axis=1), theirs.mean(axis=1)
    plane = theirs - theirs_mean[:, None]
    colour = mine - mine_mean[:, None]
    alpha = np.einsum("nc,nc->n", colour, plane) / np.maximum(np.einsum("nc,nc->n", plane, plane), 1e-12)
    away = colour - alpha[:, None] * plane
    residual = np.sqrt(np.einsum("nc,nc->n", away, away))
    ok &= alpha < OPAQUE
    ok &= residual <= _PLANE_SLACK + _PLANE_SHARE * np.abs(alpha) * np.sqrt(np.einsum("nc,nc->n", plane, plane))
    # ... and its lightness between the photo's and the paint's, as a blend's is: a stroke
    # painted in a "colour" blend mode (the photo's lightness, its chroma clipped to the gamut
    # at dark and bright pixels) is not.
    reach_to = np.sqrt(np.einsum("nc,nc->n", theirs, theirs))
    ok &= np.abs(mine_mean - alpha * theirs_mean) * np.sqrt(3) <= (
        _RGB_SLACK + _LIGHTNESS_SHARE * np.abs(alpha) * reach_to
    )
    ok &= _not_clipped(m, g)
    return alpha, residual, ok


def _not_clipped(m: np.ndarray, g: np.ndarray) -> np.ndarray:
    """A channel at 0 (or 1) over a photo that is not: no blend holds less than a tenth of the
    photo, so that is a colour clipped to the gamut, not a blend."""
    ok = ~np.any((m < 0.5 / 255) & (g > 5 / 255), axis=1)
    return ok & ~np.any((m > 1 - 0.5 / 255) & (g < 1 - 5 / 255), axis=1)


def _two_paints(
    m: np.ndarray, g: np.ndarray, first: np.ndarray, second: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixels ``m`` over the photo ``g`` read as blends of two paints (a rim where strokes of two
    colours cross): ``(second_wins, share, off, ok)``, whether the paint they are read as is
    ``second``, its share of the pixel (what :data:`HALF_PAINT` decides on: the paint on top, or
    the paint under it, of what the top left), how far (RGB) the pixel is from the blend of the
    shares, and whether they are such blends: ``m − g = w₁·(first − g) + w₂·(second − g)`` (least
    squares; three equations, two shares), the shares at least 0 and their sum at most 1, the
    pixel within :data:`_RGB_SLACK` and :data:`_PLANE_SHARE` of the paint it holds of the blend."""
    mine, one, two = m - g, first - g, second - g
    aa, bb, ab = (np.einsum("nc,nc->n", x, y) for x, y in ((one, one), (two, two), (one, two)))
    am, bm = np.einsum("nc,nc->n", one, mine), np.einsum("nc,nc->n", two, mine)
    det = aa * bb - ab * ab
    safe = det > 0.04 * aa * bb  # two directions, not one (the sine of their angle over 0.2)
    det = np.where(safe, det, 1.0)
    w1, w2 = (am * bb - bm * ab) / det, (bm * aa - am * ab) / det
    away = mine - w1[:, None] * one - w2[:, None] * two
    off = np.sqrt(np.einsum("nc,nc->n", away, away))
    slack = 0.05
    ok = safe & (w1 > -slack) & (w2 > -slack) & (w1 + w2 < 1 + slack) & (np.maximum(w1, w2) < OPAQUE)
    ok &= off * np.sqrt(3) <= _RGB_SLACK * 3 + _PLANE_SHARE * (np.abs(w1) * np.sqrt(aa) + np.abs(w2) * np.sqrt(bb))
    ok &= _not_clipped(m, g)
    second_wins = w2 >= w1
    most, other = np.maximum(w1, w2), np.minimum(w1, w2)
    # The paint on top holds ``most``; under it, the other holds ``other`` of what the top left.
    under_share = other / np.maximum(1 - most, 1e-12)
    share = np.where(most >= HALF_PAINT, most, np.where(under_share >= HALF_PAINT, under_share, most))
    second_wins = np.where((most < HALF_PAINT) & (under_share >= HALF_PAINT), ~second_wins, second_wins)
    return second_wins, share, off, ok


#: Laid paint: stroke pixels of one colour (their colour-plane colours within a level) whose own
#: lightness follows the photo under them by at most this share (least squares over each such
#: patch; opaque paint 0, 60 % translucent 0.4): paint hides the photo. Texture copied from a
#: colour original keeps the photo's lightness (1) ...
LAID_SHOWS = 0.7
#: ... where the photo under the patch varies by this much (standard deviation, RGB in [0, 1]);
#: over a flatter photo, a patch is paint where its lightness is not the photo's (by this much,
#: CIE L): texture over its own lightness is.
LAID_PHOTO_STEP = 1.5 / 255
LAID_LIGHTNESS = 2.0


def _gray_level(red: np.ndarray, green: np.ndarray, blue: np.ndarray) -> np.ndarray:
    """The sRGB gray level of the same luminance as each pixel (sRGB channels in [0, 1]), the
    luminance varcolor's lightness is made of (:data:`~varcolor.color.ICC_LUMINANCE`)."""

    def linear(c: np.ndarray) -> np.ndarray:
        return np.where(c <= 0.04045, c / 12.92, ((np.maximum(c, 0.04045) + 0.055) / 1.055) ** 2.4)

    weights = ICC_LUMINANCE
    y = weights[0] * linear(red) + weights[1] * linear(green) + weights[2] * linear(blue)
    return np.where(y <= 0.0031308, 12.92 * y, 1.055 * np.maximum(y, 0.0031308) ** (1 / 2.4) - 0.055).astype(np.float32)


def _laid_paint(flat: np.ndarray, photo: np.ndarray, strokes: np.ndarray) -> np.ndarray:
    """Which pixels of ``strokes`` (of ``flat``, RGB(A) rows, over ``photo``, H×W gray) are laid
    paint: patches of one colour (each pixel alike two of its neighbours) that hide the photo
    under them (:data:`LAID_SHOWS`, :data:`LAID_LIGHTNESS`). Worked out inside the strokes' box."""
    from scipy import ndimage

    laid = np.zeros(strokes.shape, bool)
    box = _box_of(strokes)
    if box is None:
        return laid
    rows, cols = box
    inside = strokes[box]
    height, width = inside.shape
    pixels = flat.reshape(strokes.shape + (-1,))[rows, cols]
    channels = [pixels[..., c].astype(np.float32) for c in range(3)]
    under = photo[box]
    mean = (channels[0] + channels[1] + channels[2]) / 3
    colour = [c - mean for c in channels]
    # Each pixel's own lightness as the gray level of its luminance: what a photo's gray keeps of
    # a colour, so texture copied from a colour original follows its photo by it exactly (the RGB
    # mean of a dark saturated red hardly does).
    level = _gray_level(*channels)
    alike_count = np.zeros(inside.shape, np.uint8)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            here = (slice(max(dy, 0), height + min(dy, 0)), slice(max(dx, 0), width + min(dx, 0)))
            there = (slice(max(-dy, 0), height - max(dy, 0)), slice(max(-dx, 0), width - max(dx, 0)))
            alike = inside[here] & inside[there]
            for c in colour:
                alike &= np.abs(c[here] - c[there]) <= 1.0 / 255
            step = np.abs(under[here] - under[there])
            alike &= np.abs(level[here] - level[there]) <= LAID_SHOWS * step + 0.5 / 255
            alike_count[here] += alike
    patches, count = ndimage.label(inside & (alike_count >= 2), structure=np.ones((3, 3), bool))
    if not count:
        return laid
    at = np.flatnonzero(patches)
    which = patches.ravel()[at]
    size = np.bincount(which, minlength=count + 1).astype(np.float64)
    size[0] = 1.0

    def average(values: np.ndarray) -> np.ndarray:
        return np.bincount(which, weights=values, minlength=count + 1) / size

    gray, own = under.ravel()[at].astype(np.float64), level.ravel()[at].astype(np.float64)
    gray_mean, own_mean = average(gray), average(own)
    gray_off = gray - gray_mean[which]
    spread = np.sqrt(average(gray_off**2))
    follow = average(gray_off * (own - own_mean[which])) / np.maximum(spread**2, 1e-12)
    colours = np.stack([average(c.ravel()[at].astype(np.float64)) for c in channels], axis=1)
    lightness = rgb_to_lab(np.stack([colours, np.repeat(gray_mean[:, None], 3, axis=1)]))[..., 0]
    unlike = np.abs(lightness[0] - lightness[1]) >= LAID_LIGHTNESS
    paint = np.where(spread >= LAID_PHOTO_STEP, follow <= LAID_SHOWS, unlike)
    paint[0] = False
    laid[box] = paint[patches]
    return laid


#: What a points file may hold: more points than this (or a larger file) is refused before
#: parsing, not left to run for hours; a million points cover a 50-megapixel scan every 7 pixels.
MAX_POINTS = 1_000_000
MAX_POINTS_FILE_BYTES = 64 << 20


def _scaled_point(record, drawn: tuple[int, int], shape: tuple[int, int], name: str):
    """A point record placed on an image of ``drawn`` size moved onto one of ``shape`` (pixel
    centres onto pixel centres; the radius by the mean scale)."""
    if not isinstance(record, dict):
        return record  # refused by _points_to_cues, with its number
    values = _point_values(record, f"{name}: a point")
    scale = (shape[0] / drawn[0], shape[1] / drawn[1])
    moved = dict(record)
    for key, axis in (("y", 0), ("x", 1)):
        found = next((k for k in record if str(k).strip().lower() == key), None)
        if found is not None:
            moved[found] = (values[key] + 0.5) * scale[axis] - 0.5
    found = next((k for k in record if str(k).strip().lower() == "radius"), None)
    if found is not None:
        moved[found] = values["radius"] * (scale[0] + scale[1]) / 2
    return moved


def _declared_size(data: dict, path: Path) -> tuple[int, int] | None:
    """The ``(height, width)`` a points file declares, or None."""
    if "width" not in data and "height" not in data:
        return None
    width, height = data.get("width"), data.get("height")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (width, height)):
        raise InputError(f"{path}: width and height must both be given, as whole numbers >= 1")
    return height, width


def _read_points_file(path: Path) -> tuple[list[dict], tuple[int, int] | None]:
    try:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path}: cannot read points file ({exc.strerror or exc})") from None
    if size > MAX_POINTS_FILE_BYTES:
        raise InputError(
            f"{path}: a points file of {size / 2**20:.0f} MB; at most {MAX_POINTS_FILE_BYTES >> 20} MB "
            f"({MAX_POINTS:,} points) are read"
        )
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read points file ({exc})") from None
    if suffix == ".json":
        data = safe_json.loads(text, str(path))
        drawn = None
        if isinstance(data, dict):
            drawn = _declared_size(data, path)
            data = data.get("points")
        if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
            raise InputError(f'{path}: expected a list of point objects (or {{"points": [...]}})')
        return data, drawn
    if suffix == ".csv":
        try:
            reader = csv.DictReader(line for line in text.splitlines() if line.strip())
            header = {name.strip().lower() for name in reader.fieldnames or []}
            if not ({"y", "x", "a", "b"} <= header or {"y", "x", "r", "g", "b"} <= header):
                raise InputError(
                    f"{path}: the first line must be a header naming the columns "
                    "(y,x,a,b[,radius] or y,x,r,g,b[,radius])"
                )
            rows = []
            for row in reader:
                if None in row:
                    raise InputError(f"{path}: row {reader.line_num} has more values than the header has columns")
                rows.append({k.strip(): v for k, v in row.items()})
                if len(rows) > MAX_POINTS:
                    break
        except csv.Error as exc:
            raise InputError(f"{path}: not valid CSV ({exc})") from None
        return rows, None
    raise InputError(f"{path}: points files must be .json or .csv")


def image_shape_of(shape) -> tuple[int, int]:
    """``shape`` as ``(H, W)`` of whole pixels that an image can have, or one line: a negative,
    fractional or enormous shape is refused before any array of it is made.

    Parameters
    ----------
    shape : tuple
        ``(H, W)`` given by a caller.
    """
    from .errors import MAX_PIXELS

    try:
        height, width = shape
    except (TypeError, ValueError):
        raise InputError(f"shape must be (height, width), got {shape!r}") from None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (height, width)):
        raise InputError(f"shape must be whole numbers of pixels, got {shape!r}")
    if height < 1 or width < 1 or int(height) * int(width) > MAX_PIXELS:
        raise InputError(f"shape {int(height)}×{int(width)} is no image size (1 to {MAX_PIXELS:,} pixels)")
    return int(height), int(width)


#: The most pixels a points file's disks may paint, in images' worth (their bounding boxes,
#: clipped to the image, after the disks that later disks cover entirely): past it, the points
#: are refused before painting, not painted for minutes.
MAX_PAINTED_IMAGES = 64


def _points_to_cues(records: list[dict], shape: tuple[int, int], name: str) -> Cues:
    """Paint each point's disk (later points win). The points are all checked first; the disks
    before the last one that covers the whole image are never painted (it paints over them);
    the rest cost their bounding boxes clipped to the image, at most :data:`MAX_PAINTED_IMAGES`
    images' worth (else one line, before painting)."""
    height, width = shape
    if len(records) > MAX_POINTS:
        raise InputError(f"{name}: more than {MAX_POINTS:,} points")
    diagonal = float(np.hypot(height, width))
    points = []
    for index, record in enumerate(records):
        where = f"{name}: point {index + 1}"
        if not isinstance(record, dict):
            raise InputError(f"{where}: must be an object with y, x and a, b or r, g, b")
        values = _point_values(record, where)
        keys = set(values)
        if not {"y", "x"} <= keys:
            raise InputError(f"{where}: needs y and x")
        if not (-1 < values["y"] < height and -1 < values["x"] < width):
            raise InputError(f"{where}: (y={values['y']:g}, x={values['x']:g}) is outside the {width}×{height} image")
        y, x = round(values["y"]), round(values["x"])
        if not (0 <= y < height and 0 <= x < width):
            raise InputError(f"{where}: (y={values['y']:g}, x={values['x']:g}) is outside the {width}×{height} image")
        radius = values.get("radius", 0.0)
        if radius < 0:
            raise InputError(f"{where}: radius must be >= 0")
        radius = min(radius, diagonal)  # a larger disk covers the image all the same
        if "a" in keys and ({"r", "g"} & keys):
            raise InputError(f"{where}: has both a (Lab) and r/g (RGB) keys; give a, b or r, g, b")
        if {"r", "g", "b"} <= keys:
            rgb = np.array([values["r"], values["g"], values["b"]]) / 255.0
            if np.any(rgb < 0) or np.any(rgb > 1):
                raise InputError(f"{where}: r, g, b must be in 0..255")
            lab = rgb_to_lab(rgb.reshape(1, 1, 3))[0, 0]
            chroma, light = lab[1:], lab[0]
        elif {"a", "b"} <= keys:
            chroma, light = np.array([values["a"], values["b"]]), np.nan
            if np.any(np.abs(chroma) > AB_LIMIT):
                raise InputError(f"{where}: a, b must lie within ±{AB_LIMIT:g}")
        else:
            raise InputError(f"{where}: needs either a, b or r, g, b")
        points.append((y, x, radius, chroma, light))
    # The farthest pixel from (y, x) is a corner: a disk that reaches all four covers the image.
    covers = (max(y, height - 1 - y) ** 2 + max(x, width - 1 - x) ** 2 <= r * r for y, x, r, _, _ in points)
    first = max((i for i, whole in enumerate(covers) if whole), default=0)
    painted = 0
    for y, x, radius, _, _ in points[first:]:
        reach = int(np.floor(radius))
        painted += (min(y + reach + 1, height) - max(y - reach, 0)) * (min(x + reach + 1, width) - max(x - reach, 0))
    if painted > MAX_PAINTED_IMAGES * height * width:
        raise InputError(
            f"{name}: the points' disks cover the {width}×{height} image {painted / (height * width):.0f} times over "
            f"(at most {MAX_PAINTED_IMAGES}); give smaller radii"
        )
    mask = np.zeros(shape, bool)
    ab = sparse_zeros(shape + (2,))  # written at the points' disks alone
    lightness = np.full(shape, np.nan)
    for y, x, radius, chroma, light in points[first:]:
        reach = int(np.floor(radius))
        top, bottom = max(y - reach, 0), min(y + reach + 1, height)
        left, right = max(x - reach, 0), min(x + reach + 1, width)
        yy, xx = np.ogrid[top:bottom, left:right]
        disk = (yy - y) ** 2 + (xx - x) ** 2 <= radius**2
        box = (slice(top, bottom), slice(left, right))
        mask[box] |= disk
        ab[box][disk] = chroma
        lightness[box][disk] = light
    # Made here, referenced nowhere else: not copied (a copy of a 40 MP scan's ab was 0.64 GB, all resident).
    return Cues(mask, ab, lightness=lightness, copy=False)


#: A point's ``a`` and ``b`` lie within ± this (Lab's 8-bit encoding range, holding sRGB's
#: gamut: its a runs from about -86 to 98, its b from -108 to 95).
POINT_AB_LIMIT = 128.0


def _check_point_scales(records: list, name: str) -> None:
    """Refuse, in one line naming the point, values on the wrong scale (entry checks of
    :meth:`Cues.from_points`; the rest is :func:`_points_to_cues`'): ``a`` or ``b`` beyond
    ±:data:`POINT_AB_LIMIT`, and ``r, g, b`` all within 0–1 with a fraction among them (the 0–1
    scale: as 8-bit levels it is a near-black cue, never meant)."""
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            continue  # refused by _points_to_cues, with its number
        where = f"{name}: point {index + 1}"
        values = _point_values(record, where)
        for key in ("a", "b"):
            if key in values and "r" not in values and abs(values[key]) > POINT_AB_LIMIT:
                raise InputError(
                    f"{where}: {key}={values[key]:g} is beyond Lab's ±{POINT_AB_LIMIT:g} (sRGB's colours lie within it)"
                )
        rgb = [values.get(key) for key in ("r", "g", "b")]
        if None not in rgb and all(0 <= v <= 1 for v in rgb) and any(v != round(v) for v in rgb):
            raise InputError(
                f"{where}: r, g, b are 8-bit levels (0–255), got ({', '.join(f'{v:g}' for v in rgb)}): "
                "on the 0–1 scale? multiply by 255"
            )


def _entry_image(image, name: str) -> np.ndarray:
    """``image`` as real numbers within [0, 1], checked at a reader's entry: anything else (8-bit
    levels, a mask scaled past 1, NaN) is refused in one line naming the argument and the range.
    Integer images are refused as floats are where their values pass 1, as :func:`varcolor.colorize`
    refuses an 8-bit gray image: divide by their maximum (255, 65535) first."""
    image = real_array(image, name)
    if image.size == 0:
        return image
    low, high = float(image.min()), float(image.max())  # NaN fails the test below too
    if 0.0 <= low <= high <= 1.0:
        return image
    if not np.all(np.isfinite(image)):
        raise InputError(f"{name} has non-finite values (NaN or infinite): it must hold values in [0, 1]")
    hint = " (8-bit levels? divide by 255)" if high > 2 and high <= 255 and low >= 0 else ""
    raise InputError(f"{name} must hold values in [0, 1], got [{low:.4g}, {high:.4g}]{hint}")


def _point_values(record: dict, where: str) -> dict[str, float]:
    """A point's fields as finite floats by lower-case name; a field given but empty (JSON null,
    a short CSV row) is an error, not a missing key found later."""
    values = {}
    for key, value in record.items():
        name = str(key).strip().lower()
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in ("y", "x", "a", "b", "r", "g", "radius"):
                raise InputError(f"{where}: {name} has no value")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InputError(f"{where}: values must be numbers ({name} is not)")
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"{where}: values must be numbers ({name}: {str(value)[:40]!r})") from None
        if not np.isfinite(number):
            raise InputError(f"{where}: values must be finite ({name})")
        values[name] = number
    return values


def _true_ab(rgb: np.ndarray) -> np.ndarray:
    rgb = real_array(rgb, "rgb")
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise InputError(f"samplers read a colour image (H×W×3), got shape {rgb.shape}")
    rgb = np.asarray(rgb[..., :3], dtype=np.float64)
    check_unit_range(rgb, "rgb (the colour image the cues are sampled from)", " (use varcolor.read_image)")
    return rgb_to_lab(rgb)[..., 1:]


def _patch_cues(ab_true: np.ndarray, corners: np.ndarray, patch: int) -> Cues:
    """Cues filling each ``patch×patch`` square at ``corners`` (top-left) with its mean true chroma;
    later patches overwrite earlier ones where they overlap."""
    height, width = ab_true.shape[:2]
    if patch < 1 or patch > min(height, width):
        raise InputError(f"patch must be between 1 and {min(height, width)}, got {patch}")
    mask = np.zeros((height, width), bool)
    ab = np.zeros((height, width, 2))
    for y, x in corners:
        block = (slice(y, y + patch), slice(x, x + patch))
        ab[block] = ab_true[block].mean(axis=(0, 1))
        mask[block] = True
    return Cues(mask, ab)


def sample_random(rgb: np.ndarray, n: int, patch: int = 1, rng=None) -> Cues:
    """``n`` cues at uniformly random places: ``patch×patch`` squares of the mean true chroma.

    Examples
    --------
    >>> import numpy as np
    >>> sample_random(np.random.default_rng(0).random((32, 32, 3)), n=5, rng=0).count <= 5
    True
    """
    ab_true = _true_ab(rgb)
    height, width = ab_true.shape[:2]
    if n < 0:
        raise InputError(f"n must be >= 0, got {n}")
    generator = np.random.default_rng(rng)
    corners = np.stack(
        [generator.integers(0, height - patch + 1, n), generator.integers(0, width - patch + 1, n)], axis=1
    )
    return _patch_cues(ab_true, corners, patch)


def sample_grid(rgb: np.ndarray, step: int, offset: int | None = None, patch: int = 1) -> Cues:
    """Cues on a regular grid every ``step`` pixels (first at ``offset``, default ``step // 2``)."""
    ab_true = _true_ab(rgb)
    height, width = ab_true.shape[:2]
    if step < 1:
        raise InputError(f"step must be >= 1, got {step}")
    offset = step // 2 if offset is None else offset
    if not 0 <= offset < step:
        raise InputError(f"offset must be in [0, step), got {offset}")
    ys = np.arange(offset, height - patch + 1, step)
    xs = np.arange(offset, width - patch + 1, step)
    corners = np.stack(np.meshgrid(ys, xs, indexing="ij"), axis=-1).reshape(-1, 2)
    return _patch_cues(ab_true, corners, patch)


def sample_ideepcolor(rgb: np.ndarray, n: int, patch: int = 6, rng=None) -> Cues:
    """Hints drawn as in the published ideepcolor evaluation (Zhang et al. 2017, ``test_sweep.py``).

    Each hint is a ``patch×patch`` square filled with the mean true ab over it; its top-left
    corner is drawn per axis from N((S − P + 1)/2, (S − P + 1)/4), S the image side, and clipped
    to [0, S − P]; row first, then column.

    Parameters
    ----------
    rgb : ndarray
        The colour image the hints are taken from: ``H×W×3`` sRGB floats in [0, 1] (an 8-bit
        image divided by 255, or :func:`varcolor.read_image`'s); values outside it are refused.
    n : int
        Number of hints, 0 to the image's pixels.
    patch : int
        Side of each hint's square (default 6, the protocol's).
    rng : None, int, sequence of int, or numpy.random.Generator
        What :func:`numpy.random.default_rng` takes: None (fresh entropy), a seed (an int, or a
        list of ints such as ``[seed, image_index, n]``, as ``varcolor bench`` seeds each draw),
        or a Generator, which is used and advanced. The same seed gives the same hints on any
        machine.

    Examples
    --------
    >>> import skimage.data
    >>> cues = sample_ideepcolor(skimage.data.astronaut() / 255.0, n=10, rng=0)
    >>> 0 < cues.count <= 10 * 36
    True
    """
    ab_true = _true_ab(rgb)
    height, width = ab_true.shape[:2]
    if not 0 <= n <= height * width:  # more hints than pixels: no sweep means that, and the draw never ends
        raise InputError(f"n must be between 0 and the image's {height * width} pixels, got {n}")
    if patch < 1 or patch > min(height, width):
        raise InputError(f"patch must be between 1 and {min(height, width)}, got {patch}")
    generator = np.random.default_rng(rng)
    corners = np.array(
        [[ideepcolor_offset(generator, side, patch) for side in (height, width)] for _ in range(n)], dtype=np.int64
    ).reshape(n, 2)
    return _patch_cues(ab_true, corners, patch)


def ideepcolor_offset(generator: np.random.Generator, side: int, patch: int) -> int:
    """One coordinate of a hint's top-left corner under the ideepcolor rule:
    N((S − P + 1)/2, (S − P + 1)/4) clipped to [0, S − P]."""
    span = side - patch + 1
    return int(np.clip(generator.normal(span / 2.0, span / 4.0), 0, side - patch))
