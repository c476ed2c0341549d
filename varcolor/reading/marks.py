"""Marks: the cue pixels of a file, read before they are :class:`~varcolor.Cues`: strokes of
paint on a photo (a marked image) or on black (a stroke mask), their antialiased and soft edges
unmixed into partial paint (``edges="unmix"``); and what every reading of cues checks (a cue's
chroma within :data:`AB_LIMIT`, marks drawn at another size of the photo's aspect ratio).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from ..color import gray_band_rows, rgb_to_lab, same_lightness_gray
from ..common.kernels import any_layout, array_code, compile_each_once
from ..common.memory import sparse_zeros
from ..errors import InputError, real_array, tell
from ..io import levels_to_float


class Marks(NamedTuple):
    """Cue pixels read from a file: the fields of :class:`~varcolor.Cues` (``mask``; ``ab`` and
    ``lightness``, made here and held by nothing else: taken as they are)."""

    mask: np.ndarray
    ab: np.ndarray
    lightness: np.ndarray
    note: str = ""
    #: The cue pixels that are point hints (:attr:`~varcolor.Cues.points`), None for strokes.
    points: np.ndarray | None = None


#: Levin's rule: a pixel is marked where ``Σ_c |marked_c - gray_c| > MARKED_THRESHOLD`` (RGB in [0, 1]).
MARKED_THRESHOLD = 0.01
#: ... unless the difference is at most this on every channel and the marked pixel is no more
#: colourful than the "gray" one: that is the gray image's own chroma noise, not a stroke.
MARKED_NOISE = 2.5 / 255
#: Largest |a| or |b| a cue may carry.
AB_LIMIT = 1000.0

#: How strokes' edges are read: ``unmix`` (antialiased and soft edges as partial paint) or ``exact``.
EDGES = ("unmix", "exact")
#: How they are read unless told otherwise: the one default everywhere.
EDGES_DEFAULT = EDGES[0]
#: Marks drawn at another size may differ from the photo's aspect ratio by this many pixels.
SIZE_SLACK = 1.0


#: A scanner's RGB noise strays at most this many σ from the photo's gray, per channel.
NOISE_SIGMAS = 5.0
#: The mean spread of three channels of independent normal noise of σ = 1.
_SPREAD_PER_SIGMA = 1.6926


def channel_noise(photo: np.ndarray, rows: int = 64) -> float:
    """The σ (RGB in [0, 1]) of a gray photo stored as RGB whose channels carry noise of their
    own (a scanner's RGB mode), from the spread of its channels on every ``rows``-th row.

    Parameters
    ----------
    photo : ndarray
        ``H×W×3`` (or more channels, the first three read) 8- or 16-bit levels, or floats in [0, 1].
    rows : int
        Every how many rows are read (a 40 MP scan's sample: 0.1 MP).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> gray = rng.integers(20, 230, (256, 256, 1)).astype(np.float64)
    >>> noisy = np.round(gray + rng.normal(0, 1.5, (256, 256, 3))).astype(np.uint8)
    >>> round(channel_noise(noisy, rows=1) * 255, 1)
    1.5
    """
    sample = photo[::rows, :, :3]
    spread = sample.max(axis=2).astype(np.float64) - sample.min(axis=2)
    top = float(np.iinfo(photo.dtype).max) if photo.dtype.kind in "ui" else 1.0
    return float(spread.mean()) / _SPREAD_PER_SIGMA / top if spread.size else 0.0


def unmarked_to_gray(
    marked: np.ndarray, photo: np.ndarray, gray: np.ndarray, marked_bits: int = 16, *, photo_noise: float | None = None
) -> None:
    """Make the pixels of a marked copy that show the photo unchanged the photo's gray, in place:
    every channel within half a level of the photo's.

    Parameters
    ----------
    marked : ndarray
        ``H×W×C`` float32 in [0, 1], ``C`` 3 or 4 (an alpha channel is left as it is); changed.
    photo : ndarray
        ``H×W×3`` (or more channels, the first three read) 8- or 16-bit levels.
    gray : ndarray
        ``H×W`` float64: the photo's gray.
    marked_bits : int
        Bits a sample of the marked copy's file holds (8 or 16): a 16-bit scan's copy saved at 8
        bits differs from it by up to half an 8-bit level where nothing was painted.
    photo_noise : float or None
        :func:`channel_noise` of ``photo`` where known already (None: found here).

    Examples
    --------
    >>> photo = np.array([[[10, 10, 11], [10, 10, 11]]], np.uint8)
    >>> marked = levels_to_float(photo, np.float32); marked[0, 1] = (1, 0, 0)
    >>> unmarked_to_gray(marked, photo, np.full((1, 2), 0.5)); marked[0].tolist()
    [[0.5, 0.5, 0.5], [1.0, 0.0, 0.0]]
    """
    top = np.float32(np.iinfo(photo.dtype).max)
    half = np.float32(0.5) / min(top, np.float32((1 << marked_bits) - 1))
    # A neutral marked pixel near the gray: within the photo's noise and the levels' rounding.
    neutral = np.float32(2 * half)
    own = channel_noise(photo) if photo_noise is None else photo_noise
    near = np.float32(NOISE_SIGMAS * own + 2 * half + np.float32(0.5) / top)
    if not array_code(photo.shape[0] * photo.shape[1]):
        # One pass, no temporaries: the array code below was a large scan's read's slowest part.
        _unmarked_to_gray(marked, photo, top, half, gray, neutral, near)
        return
    rows = gray_band_rows(photo.shape[1])
    for start in range(0, photo.shape[0], rows):
        band = slice(start, start + rows)
        under = marked[band, :, :3]
        same = np.all(np.abs(under - levels_to_float(photo[band, :, :3], np.float32)) <= half, axis=2)
        spread = under.max(axis=2) - under.min(axis=2)
        same |= (spread <= neutral) & np.all(np.abs(under - gray[band][..., None]) <= near, axis=2)
        under[same] = gray[band][same][:, None]


@numba.njit(cache=True, parallel=True, nogil=True)
def _unmarked_to_gray(marked, photo, top, half, gray, neutral, near):
    for i in numba.prange(marked.shape[0]):
        for j in range(marked.shape[1]):
            same = True
            for c in range(3):
                # levels_to_float's float32 value; a NaN in the copy is not the photo
                if not abs(marked[i, j, c] - np.float32(photo[i, j, c]) / top) <= half:
                    same = False
                    break
            if not same:
                low = min(marked[i, j, 0], marked[i, j, 1], marked[i, j, 2])
                high = max(marked[i, j, 0], marked[i, j, 1], marked[i, j, 2])
                same = high - low <= neutral and abs(low - gray[i, j]) <= near and abs(high - gray[i, j]) <= near
            if same:
                for c in range(3):
                    marked[i, j, c] = gray[i, j]


def check_edges(edges: str) -> None:
    """Refuse an ``edges`` that is none of :data:`EDGES`, in one line.

    Parameters
    ----------
    edges : str
        How a stroke's blended edge pixels are read (one of :data:`EDGES`).
    """
    if edges not in EDGES:
        raise InputError(f"edges must be {' or '.join(EDGES)}, got {edges!r}")


def same_aspect(drawn: tuple[int, int], shape: tuple[int, int]) -> bool:
    """Whether marks drawn at ``drawn`` = ``(h, w)`` fit a photo of ``shape`` = ``(H, W)`` once
    scaled: the same aspect ratio within :data:`SIZE_SLACK` pixels of rounding.

    Parameters
    ----------
    drawn, shape : (int, int)
        The marks' size and the photo's, as (height, width) in pixels.

    Examples
    --------
    >>> same_aspect((201, 161), (402, 322)), same_aspect((200, 200), (402, 322))
    (True, False)
    """
    (h, w), (height, width) = drawn, shape
    if min(h, w, height, width) < 1:
        return False
    return abs(h * width / w - height) <= SIZE_SLACK or abs(w * height / h - width) <= SIZE_SLACK


def _box_of(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The box of ``mask``'s True pixels (None: none), its rows found first and its columns read
    on them alone."""
    rows = np.flatnonzero(mask.any(axis=1))
    if not rows.size:
        return None
    band = slice(rows[0], rows[-1] + 1)
    columns = np.flatnonzero(mask[band].any(axis=0))
    return band, slice(columns[0], columns[-1] + 1)


def image_shape_of(shape) -> tuple[int, int]:
    """``shape`` as ``(H, W)`` of whole pixels that an image can have, or one line: a negative,
    fractional or enormous shape is refused before any array of it is made.

    Parameters
    ----------
    shape : tuple
        ``(H, W)`` given by a caller.
    """
    from ..errors import MAX_PIXELS

    try:
        height, width = shape
    except (TypeError, ValueError):
        raise InputError(f"shape must be (height, width), got {shape!r}") from None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (height, width)):
        raise InputError(f"shape must be whole numbers of pixels, got {shape!r}")
    if height < 1 or width < 1 or int(height) * int(width) > MAX_PIXELS:
        raise InputError(f"shape {int(height)}×{int(width)} is no image size (1 to {MAX_PIXELS:,} pixels)")
    return int(height), int(width)


def _entry_image(image, name: str) -> np.ndarray:
    """``image`` as real numbers within [0, 1], checked at a reader's entry: anything else is refused in one line."""
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


def _photo_channels(gray: np.ndarray) -> np.ndarray:
    """The photo under the marks, ``H×W`` or ``H×W×3``: a gray or RGB file's alpha (how it was saved,
    not what it shows) dropped; any other shape refused in one line."""
    if gray.ndim == 3 and gray.shape[2] in (1, 2):
        gray = gray[..., 0]
    elif gray.ndim == 3 and gray.shape[2] == 4:
        gray = gray[..., :3]
    if gray.ndim not in (2, 3) or (gray.ndim == 3 and gray.shape[2] != 3) or min(gray.shape[:2]) < 1:
        raise InputError(f"the gray image must be H×W or H×W×3 with pixels, got shape {gray.shape}")
    return gray


#: Pixels read as partial paint (at least, and as a share of a mark's) that the cues' ``note`` names.
NOTE_PIXELS, NOTE_SHARE = 16, 0.01
#: A warning names the noise when it is more than this share of the pixels.
NOISE_SHARE = 0.01
#: Paint on more than this share of the pixels is said in a warning: strokes are seldom most of a photo.
MOSTLY_PAINT = 0.5
#: Cues without colour that follow the photo (:func:`_photo_like`) on this share of the pixels, and
#: at least this many: not the photo with strokes; refused.
NOT_THE_PHOTO, NOT_THE_PHOTO_PIXELS = 0.02, 512
#: ... fewer, but at least this many in parts of at most DITHER_PART pixels, each within
#: DITHER_LEVELS of the gray: dither, dropped with a warning (a few gray dots painted on purpose stay).
STRAY_PIXELS, DITHER_PART, DITHER_LEVELS = 64, 4, 2.5
#: ... a part of the cues is a stroke where at least this share of it lies in 3×3 squares of cues.
SOLID = 0.5

#: On a noisy marked copy, marks of fewer pixels than this (8-connected) are the noise's specks.
SPECK = 32
#: ... when there are at least this many of them: a few dots painted on purpose stay.
MANY_SPECKS = 16

#: A stroke-mask pixel counts as "not black" above half an 8-bit step.
_BLACK_LEVEL = 0.5 / 255

#: A blended pixel's paint is the most paint-like pixel within this many pixels (a soft brush's edge).
PAINT_REACH = 6
#: A blend lies on a ramp: within this window one neighbour holds more paint and one less.
RAMP = 7
#: A pixel at least this share of the way from the photo to its paint is paint, read as it is.
OPAQUE = 0.96
#: A pixel this near its paint is that paint as laid, no blend of two others.
ITSELF = 0.9
#: A blend of at least this much paint is a cue in the paint's colour; with less, none (as a hard edge).
HALF_PAINT = 0.5
#: Where red, green, blue and alpha lie among an RGBA image's channels.
RGBA = (0, 1, 2, 3)
#: Paint of less chroma (Lab) than this is gray paint: its blends are as gray as it, read as they are.
_MIN_CHROMA = 5.0
#: A pixel is a blend of photo and paint when its chroma lies this near the line from 0 to the
#: paint's (Lab ab units): 8-bit rounding, plus a quarter of the paint it holds.
_BLEND_SLACK = 2.0
_BLEND_SHARE = 0.25
#: ... and its lightness this near the line from the photo to the paint: 8-bit rounding, plus
#: this share of the paint it holds (translucent paint lets the photo through).
_RGB_SLACK = 2.0 / 255
_LIGHTNESS_SHARE = 0.6
#: A noisy copy of the gray under the strokes (:func:`copy_noise`) strays by at most this many levels.
COPY_NOISE_MAX = 16
COPY_NOISE_KNEE = 0.01
#: A marked copy of a gray photo stored as RGB is lossy (:func:`lossy_copy`) where more of its pixels than this
#: are near the gray, yet beyond the photo's noise.
LOSSY_SHARE = 0.01
#: ... read on every this many rows of a large one.
LOSSY_ROWS = 8
#: Marks drawn at another size: after scaling, a stroke differs from the photo by more than this.
SCALED_THRESHOLD = 0.15
#: Cue colours converted to Lab at a time (:meth:`Cues._at_mask`): bounded temporaries.
_LAB_CHUNK = 1 << 18


def _bands(shape: tuple[int, ...], pixels: int = 1 << 20):
    """Row slices of about ``pixels`` pixels each covering an image of ``shape``."""
    step = max(1, pixels // max(shape[1], 1))
    return [slice(top, top + step) for top in range(0, shape[0], step)]


def marked_cues(
    gray: np.ndarray,
    marked: np.ndarray,
    threshold: float = MARKED_THRESHOLD,
    *,
    noise: float = MARKED_NOISE,
    edges: str = EDGES_DEFAULT,
) -> Marks:
    """The cues of a scribbled copy of the gray image: :meth:`varcolor.Cues.from_marked`."""
    gray = _photo_channels(_entry_image(gray, "gray"))
    marked = _entry_image(marked, "marked")
    check_edges(edges)
    if marked.ndim != 3 or marked.shape[2] not in (3, 4):
        raise InputError(f"the marked image must be colour (H×W×3), got shape {marked.shape}")
    for value, what in ((threshold, "threshold"), (noise, "noise")):
        if not (np.isfinite(value) and value >= 0) or (what == "threshold" and value == 0):
            raise InputError(
                f"{what} must be a {'positive' if what == 'threshold' else 'non-negative'} number, not {value}"
            )
    marked, scaled = fit_to(marked, gray.shape[:2], "the marked image")
    if scaled:
        # The photo under the strokes went through the same sizes: compare with the gray so.
        gray = _resized(_resized(gray, scaled), gray.shape[:2])
        threshold = max(threshold, SCALED_THRESHOLD)
    own_noise = channel_noise(gray) if gray.ndim == 3 and not scaled and noise > 0 else 0.0
    if gray.ndim == 3 and not scaled and noise > 0:
        # The gray of the rows the check reads alone: the whole gray is made only where it is read against.
        pixels = gray.shape[0] * gray.shape[1]
        sample = same_lightness_gray(gray[:: lossy_rows(gray.shape[0])], image_pixels=pixels)
        if lossy_copy(gray, sample, marked, marked_bits=8, sampled=True, photo_noise=own_noise):
            # strokes on a lossy copy of the photo's gray: read against that gray, as the command line reads them
            gray = same_lightness_gray(gray)
            own_noise = 0.0
    if own_noise:
        # A noisy RGB gray scribbled on its one-channel copy: a neutral pixel within the noise is the photo.
        noise = max(noise, NOISE_SIGMAS * own_noise + 1.0 / 255)
    copy = copy_noise(gray, marked) if edges == "unmix" and noise > 0 and not own_noise else 0.0
    mask, faint_count, copied = _stroke_pixels(gray, marked, threshold, noise, copy, scaled)
    noisy = bool(own_noise or copied)
    specks = 0
    speckled = False
    if noisy:  # (before the edges are read too: a speck is no paint to read a blend of)
        found = _specks(mask)
        mask &= ~found
        specks += int(np.count_nonzero(found))
        speckled = bool(specks)
    # a resampling's ringing beside strokes, found on the marks as drawn: no paint
    ringing = _ringing(mask, marked, gray) if edges == "unmix" else None
    if faint_count / mask.size > NOISE_SHARE:
        faint_count -= _faint_under_flat_paint(gray, marked, mask, threshold)
    if faint_count / mask.size > NOISE_SHARE:
        tell(
            f"{faint_count} pixels ({100 * faint_count / mask.size:.0f} %) differ from the gray image by at most "
            f"{noise * 255:.1f} levels per channel: taken as noise, not strokes (is the gray image a "
            "colour file whose channels differ slightly, scribbled on a clean copy?)",
            stacklevel=3,
        )
    if copied:
        tell(
            f"{copied:,} pixels ({100 * copied / mask.size:.0f} %) differ from the gray image by at most "
            f"{copy * 255:.1f} levels per channel, as most of the photo does: the marked image is no exact "
            "copy of the gray one (saved as JPEG or colour-converted on the way?); taken as noise, not strokes",
            stacklevel=3,
        )
    marks = painted(mask, marked, gray, edges, scaled)
    if copy or scaled:  # a JPEG's or a resampling's chroma spread round each stroke: blends of under half its paint
        found = _halo(marks.mask, marks.ab, lift=bool(scaled))
        marks.mask[found], marks.ab[found], marks.lightness[found] = False, 0.0, np.nan
        copied += int(np.count_nonzero(found))
    if edges == "unmix":  # soft rims of strokes in a "colour" blend mode: partial paint too
        found, widened = _colour_rims(marks.mask, marks.ab)
        marks.mask[found], marks.ab[found], marks.lightness[found] = False, 0.0, np.nan
        rims = int(np.count_nonzero(found) + np.count_nonzero(widened))
        if rims >= NOTE_PIXELS:
            note = f"{rims:,} soft rim pixels of colour-mode strokes read as partial paint"
            marks = marks._replace(note="; ".join(filter(None, [marks.note, note])))
    if ringing is not None:  # dropped once the soft rims are read (their faint end is no ringing)
        marks.mask[ringing], marks.ab[ringing], marks.lightness[ringing] = False, 0.0, np.nan
    if noisy or copy:  # the edges' reading leaves specks of its own (the blends it drops split marks)
        found = _specks(marks.mask, speckled)
        marks.mask[found], marks.ab[found], marks.lightness[found] = False, 0.0, np.nan
        specks += int(np.count_nonzero(found))
    if specks:
        tell(
            f"{specks:,} marked pixels in specks of fewer than {SPECK} pixels, on a marked image noisier than "
            "the gray one (saved as JPEG on the way?): taken as noise, not strokes",
            stacklevel=3,
        )
    _drop_the_photo(marks, marked, gray, noise > 0, scaled)  # (noise 0: Levin's rule alone, as asked)
    return marks


def _drop_the_photo(marks: Marks, marked: np.ndarray, gray: np.ndarray, noisy: bool, scaled) -> None:
    """Refuse marks that are the photo (or another) rather than paint on it, and drop a dithered
    copy's specks from ``marks`` (``noisy``: the noise rules apply), saying so."""
    stray, dither = _photo_like(marks, marked, gray) if noisy else (0, np.zeros(0, np.intp))
    if stray >= max(NOT_THE_PHOTO * marks.mask.size, NOT_THE_PHOTO_PIXELS):
        # Gray paint is laid flat; cues without colour that follow the photo's texture are another image's.
        raise InputError(
            f"{100 * stray / marks.mask.size:.0f} % of the pixels differ slightly from the gray image without any "
            "colour, following the photo rather than painted: the marked image is not this photo with strokes on "
            "it (saved as a lossy JPEG, resized or edited another way?); paint the strokes on a copy of this very "
            "image saved as PNG or TIFF (or resize both the same way), or give the strokes alone as a mask"
        )
    if dither.size:
        # Fewer than refused, each a pixel or a few a level or two off: a dithered or colour-converted
        # copy's noise, which as cues would pin the photo near gray wherever it lies.
        rows, columns = np.divmod(dither, marks.mask.shape[1])
        marks.mask[rows, columns], marks.ab[rows, columns], marks.lightness[rows, columns] = False, 0.0, np.nan
        if not scaled:  # (marks drawn at another size: its resampling's, as the note says)
            tell(
                f"{dither.size:,} scattered pixels differ by a level or two from the gray image without any colour "
                "(the marked copy dithered or colour-converted on the way?): taken as noise, not strokes",
                stacklevel=4,
            )
    read = int(np.count_nonzero(marks.mask))
    if read > MOSTLY_PAINT * marks.mask.size and _textured_gray(marks, marked) > MOSTLY_PAINT * marks.mask.size:
        raise InputError(
            f"{100 * read / marks.mask.size:.0f} % of the pixels differ from the gray image without colour, in "
            "shades that vary as a photo's, not paint laid flat: the marked image is another photo or another "
            "copy of this one, not this photo with strokes on it (give the copy the strokes were painted on)"
        )
    if read > MOSTLY_PAINT * marks.mask.size:
        tell(
            f"{100 * read / marks.mask.size:.0f} % of the pixels differ from the gray image and are read as paint: "
            "strokes are seldom most of a photo (is the marked image another photo, or the gray image another "
            "copy of it?)",
            stacklevel=4,
        )


def _textured_gray(marks: Marks, marked: np.ndarray) -> int:
    """How many cues of ``marks`` are without colour (chroma under :data:`_MIN_CHROMA`) and not laid
    flat (shades of their 3×3 square's cues over half a level apart): a gray photo's pixels, not paint."""
    at = np.flatnonzero(marks.mask)
    step = max(1, at.size // TEXTURE_SAMPLE)  # (counted on every k-th: a mask over a scan is millions)
    at = at[::step]
    ab = marks.ab.reshape(-1, 2)[at].astype(np.float32)
    at = at[np.hypot(ab[:, 0], ab[:, 1]) < _MIN_CHROMA]
    _, spread = _square_of_cues(marks.mask, marked, at)
    return int(np.count_nonzero(spread * 255 > 0.5)) * step


#: The cues :func:`_textured_gray` reads at most (about), every k-th.
TEXTURE_SAMPLE = 1 << 18


def _photo_like(marks: Marks, marked: np.ndarray, gray: np.ndarray) -> tuple[int, np.ndarray]:
    """The cues of ``marks`` that are no paint but the photo, a little off (an edited or lossy copy's
    difference): without colour (chroma under :data:`_MIN_CHROMA`), within :data:`COPY_NOISE_MAX`
    levels of the gray, not laid flat (a cue with two cues or more beside it, all of one level, is
    a gray stroke's or mask's paint, however near the photo it lies) and scattered: in a part of the
    cues (8-connected) of which under :data:`SOLID` lies in 3×3 squares of cues (a stroke of true
    colours follows the photo too, but as a stroke). Their count (0 where under :data:`STRAY_PIXELS`),
    and the flat indices of those that are dither (:data:`DITHER_PART`, :data:`DITHER_LEVELS`)."""
    from scipy import ndimage

    none = (0, np.zeros(0, np.intp))
    mask = marks.mask
    at = np.flatnonzero(mask)  # (read at the cues and their squares alone: a scan's fences are millions)
    ab = marks.ab.reshape(-1, 2)[at].astype(np.float32)
    at = at[np.hypot(ab[:, 0], ab[:, 1]) < _MIN_CHROMA]
    if at.size < STRAY_PIXELS:
        return none  # too few to tell, whatever they are (and each test below may leave too few)
    rows, columns = np.divmod(at, mask.shape[1])
    under = gray[rows, columns].astype(np.float32)
    # A channel at a time: an (n, 3) gather reduced along its short axis took most of this.
    near = np.zeros(at.size, np.float32)
    for c in range(3):
        np.maximum(
            near,
            np.abs(marked[rows, columns, c].astype(np.float32) - (under if under.ndim == 1 else under[:, c])),
            out=near,
        )
    near *= 255
    keep = near <= COPY_NOISE_MAX + 0.5
    at, near = at[keep], near[keep]
    around, spread = _square_of_cues(mask, marked, at)
    keep = ~((around >= 3) & (spread * 255 <= 0.5))
    at, near = at[keep], near[keep]
    box = _box_of(mask)
    if at.size < STRAY_PIXELS or box is None:
        return none
    square = np.ones((3, 3), bool)
    labels, count = ndimage.label(mask[box], structure=square)
    size = np.bincount(labels.ravel(), minlength=count + 1)
    opened = ndimage.binary_opening(mask[box], square).ravel()
    solid = np.bincount(labels.ravel(), weights=opened, minlength=count + 1)
    scattered = solid < SOLID * np.maximum(size, 1)
    scattered[0] = False
    rows, columns = np.divmod(at, mask.shape[1])
    part = labels[rows - box[0].start, columns - box[1].start]
    keep = scattered[part]
    at, near, part = at[keep], near[keep], part[keep]
    if at.size < STRAY_PIXELS:
        return none
    dither = at[(size[part] <= DITHER_PART) & (near <= DITHER_LEVELS)]
    return int(at.size), dither if dither.size >= STRAY_PIXELS else none[1]


def _square_of_cues(mask: np.ndarray, marked: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the pixels at flat indices ``at``: how many cues their 3×3 square holds, and how far
    apart the shades (the mean of R, G, B) of those cues lie."""
    height, width = mask.shape
    rows, columns = np.divmod(at, width)
    around = np.zeros(at.size, np.int32)
    high, low = np.full(at.size, -1.0, np.float32), np.full(at.size, 2.0, np.float32)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            y, x = rows + dy, columns + dx
            inside = (y >= 0) & (y < height) & (x >= 0) & (x < width)
            y, x = np.clip(y, 0, height - 1), np.clip(x, 0, width - 1)
            cue = mask[y, x] & inside
            shade = marked[y, x, :3].astype(np.float32).mean(axis=1)
            around += cue
            high = np.where(cue, np.maximum(high, shade), high)
            low = np.where(cue, np.minimum(low, shade), low)
    return around, high - low


def _stroke_pixels(
    gray: np.ndarray, marked: np.ndarray, threshold: float, noise: float, copy: float, scaled
) -> tuple[np.ndarray, int, int]:
    """The pixels read as marks, and the counts of faint and copy-noise ones. Band by
    band, a channel at a time: NumPy's reductions over a last axis of 3 are slow (issue 37)."""
    mask = np.zeros(marked.shape[:2], bool)
    if (
        not scaled
        and not array_code(mask.size)
        and gray.dtype == np.float64
        and marked.dtype == np.float64  # (as read_image reads marks: one version of the kernel)
    ):
        # One pass, no temporaries: a noisy scan's differences pass the threshold nearly everywhere.
        planes = gray if gray.ndim == 3 else gray[..., None]
        _compile_stroke_pixels_kernel()
        faint_at, copied_at = np.zeros(marked.shape[0], np.int64), np.zeros(marked.shape[0], np.int64)
        _stroke_pixels_kernel(planes, marked, float(threshold), float(noise), float(copy), mask, faint_at, copied_at)
        return mask, int(faint_at.sum()), int(copied_at.sum())
    faint_count = copied = 0
    for rows in _bands(marked.shape):
        band = marked[rows]
        own = np.asarray(gray[rows], np.float64)  # (a double-precision photo as it is: no copy)
        level = [own] * 3 if gray.ndim == 2 else [own[..., c] for c in range(3)]
        # The rest is read at the pixels past the threshold alone, unless the marks were scaled.
        difference = [np.abs(band[..., c].astype(np.float64) - g) for c, g in enumerate(level)]
        strokes = difference[0] + difference[1] + difference[2] > threshold
        if scaled:
            at: slice | np.ndarray = slice(None)
            pixel = [band[..., c].astype(np.float64) for c in range(3)]
        else:
            at = np.flatnonzero(strokes)
            difference = [d.ravel()[at] for d in difference]
            # Gathered from the pixels' rows: a channel's ravel would copy the whole band first.
            rows_of = band.reshape(-1, band.shape[2])[at]
            pixel = [rows_of[:, c].astype(np.float64) for c in range(3)]
            level = [own.ravel()[at]] * 3 if gray.ndim == 2 else list(own.reshape(-1, own.shape[2])[at, :3].T)
        spread_marked = np.maximum(np.maximum(*pixel[:2]), pixel[2]) - np.minimum(np.minimum(*pixel[:2]), pixel[2])
        spread_gray = (
            0.0
            if gray.ndim == 2
            else (np.maximum(np.maximum(*level[:2]), level[2]) - np.minimum(np.minimum(*level[:2]), level[2]))
        )
        if scaled:
            strokes |= spread_marked > spread_gray + 2 * noise
        largest = np.maximum(np.maximum(*difference[:2]), difference[2])
        past = strokes if scaled else strokes.ravel()[at]
        faint = past & (largest <= noise)
        faint &= spread_marked <= spread_gray
        marks = past & ~faint
        faint_count += int(faint.sum())
        if copy:
            noisy = marks & (largest <= copy)
            # On a copy that is not exact, a colourless difference is the copy's: no gray paint shows.
            noisy |= marks & (spread_marked <= max(noise, copy))
            marks &= ~noisy
            copied += int(noisy.sum())
        if scaled:
            mask[rows] = marks
        else:
            mask[rows].reshape(-1)[at] = marks
    return mask, faint_count, copied


def _compile_stroke_pixels_kernel() -> None:
    """:func:`_stroke_pixels_kernel` compiled for double-precision marks, once."""
    rest = (numba.float64, numba.float64, numba.float64, numba.types.Array(numba.bool_, 2, "A"))
    counts = (numba.types.Array(numba.int64, 1, "A"),) * 2
    compile_each_once(_stroke_pixels_kernel, (any_layout(3), any_layout(3), *rest, *counts))


@numba.njit(cache=True, parallel=True, nogil=True)
def _stroke_pixels_kernel(gray, marked, threshold, noise, copy, mask, faint_at, copied_at):
    """:func:`_stroke_pixels` of marks drawn at the photo's size, pixel by pixel (``gray``
    ``H×W×1`` or ``H×W×3``; the counts per row)."""
    one = gray.shape[2] == 1
    for i in numba.prange(marked.shape[0]):
        faint_count = 0
        copied = 0
        for j in range(marked.shape[1]):
            g0 = gray[i, j, 0]
            g1 = g0 if one else gray[i, j, 1]
            g2 = g0 if one else gray[i, j, 2]
            p0, p1, p2 = np.float64(marked[i, j, 0]), np.float64(marked[i, j, 1]), np.float64(marked[i, j, 2])
            d0, d1, d2 = abs(p0 - g0), abs(p1 - g1), abs(p2 - g2)
            if not d0 + d1 + d2 > threshold:
                continue
            spread_marked = max(max(p0, p1), p2) - min(min(p0, p1), p2)
            spread_gray = 0.0 if one else max(max(g0, g1), g2) - min(min(g0, g1), g2)
            largest = max(max(d0, d1), d2)
            if largest <= noise and spread_marked <= spread_gray:
                faint_count += 1
                continue
            if copy != 0.0 and (largest <= copy or spread_marked <= max(noise, copy)):
                copied += 1
                continue
            mask[i, j] = True
        faint_at[i] = faint_count
        copied_at[i] = copied


def _halo(mask: np.ndarray, ab: np.ndarray, lift: bool = False) -> np.ndarray:
    """The cue pixels of less than :data:`HALF_PAINT` of the chroma of the most colourful cue of
    their hue within :data:`PAINT_REACH` pixels."""
    from scipy import ndimage

    out = np.zeros(mask.shape, bool)
    size = 2 * PAINT_REACH + 1
    for rows in _bands(mask.shape):
        if not mask[rows].any():
            continue
        top, bottom = max(rows.start - PAINT_REACH, 0), min(rows.stop + PAINT_REACH, mask.shape[0])
        held = mask[top:bottom]
        a, b = ab[top:bottom, :, 0].astype(np.float32), ab[top:bottom, :, 1].astype(np.float32)
        chroma = np.where(held, np.hypot(a, b), np.float32(0.0))
        hue = (np.floor((np.degrees(np.arctan2(b, a)) % 360.0) / (360.0 / HUES)).astype(np.int8)) % HUES
        most = np.zeros(chroma.shape, np.float32)
        for k in range(HUES):  # each hue's most colourful cue near, given to its own and the two beside it
            peak = ndimage.maximum_filter(np.where(hue == k, chroma, np.float32(0.0)), size=size, mode="constant")
            beside = (hue == k) | (hue == (k - 1) % HUES) | (hue == (k + 1) % HUES)
            np.maximum(most, peak, out=most, where=beside)
        inner = slice(rows.start - top, rows.start - top + (min(rows.stop, mask.shape[0]) - rows.start))
        out[rows] = (held & (chroma < HALF_PAINT * most))[inner]
        if lift:  # the blends of more: their paint's chroma, in their own hue
            part = (held & (chroma >= HALF_PAINT * most) & (chroma < OPAQUE * most))[inner]
            gain = (most / np.maximum(chroma, np.float32(1e-6)))[inner][part]
            ab[rows][part] *= gain[:, None]
    return out


#: A mark this faint beside the largest difference within :data:`PAINT_REACH` is a resampling's ringing.
RING_SHARE = 0.25


def _stroke_boxes(mask: np.ndarray, margin: int):
    """Each stroke of ``mask`` (an 8-connected part of :data:`SPECK` pixels or more) with what
    lies within ``margin`` of its box: ``(box, own, small)``, the box's slices."""
    from scipy import ndimage

    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    tiny = sizes < SPECK
    tiny[0] = False
    height, width = mask.shape
    for k, box in enumerate(ndimage.find_objects(labels), 1):
        if box is None or sizes[k] < SPECK:
            continue
        grown = (
            slice(max(box[0].start - margin, 0), min(box[0].stop + margin, height)),
            slice(max(box[1].start - margin, 0), min(box[1].stop + margin, width)),
        )
        inside = labels[grown]
        yield grown, inside == k, tiny[inside]


def _ringing(mask: np.ndarray, marked: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """The marks of ``mask`` that are ringing beside a stroke (:data:`RING_SHARE`)."""
    from scipy import ndimage

    out = np.zeros(mask.shape, bool)
    size = 2 * PAINT_REACH + 1
    for box, own, small in _stroke_boxes(mask, PAINT_REACH):
        held = mask[box]
        # The marks' differences from the photo, a channel at a time over the box (a gather of a
        # large stroke's pixels costs more than the box's planes).
        vectors = [np.where(held, plane, np.float32(0)) for plane in _differences(marked[box], gray[box])]
        difference = np.maximum(np.maximum(np.abs(vectors[0]), np.abs(vectors[1])), np.abs(vectors[2]))
        near = ndimage.maximum_filter(difference, size=size, mode="constant")
        ratio = difference / np.maximum(near, np.float32(1e-6))
        # Only beside a stroke whose edge fades: copied texture's hard edge is as strong as inside it.
        outer = _outside_within(own, 1.5)
        if not outer.any() or not (own & ~outer).any():
            continue
        if ratio[outer].mean() >= FADING * ratio[own & ~outer].mean():
            continue
        beside = ndimage.maximum_filter(own, size=size, mode="constant")
        found = (own | small) & beside & (ratio <= RING_SHARE)
        if found.any():
            found &= ~_laid_flat(held, marked[box])
        if found.any():
            found &= ~_paint_of_its_own(found, np.stack(vectors, axis=-1), difference, size)
        if found.any():  # what the ringing's removal leaves of the stroke in specks goes with it
            pieces, _ = ndimage.label(own & ~found, structure=np.ones((3, 3), bool))
            left = np.bincount(pieces.ravel()) < SPECK
            left[0] = False
            found |= left[pieces]
        out[box] |= found
    return out


def _differences(marked: np.ndarray, photo: np.ndarray) -> list[np.ndarray]:
    """``marked``'s three channels less ``photo``'s (H×W gray or H×W×3), in float32."""
    planes = [photo] * 3 if photo.ndim == 2 else [photo[..., c] for c in range(3)]
    return [marked[..., c].astype(np.float32) - planes[c].astype(np.float32) for c in range(3)]


def _outside_within(own: np.ndarray, radius: float) -> np.ndarray:
    """The pixels of ``own`` within ``radius`` (Euclidean) of a pixel outside it, past its box's
    edge included: an erosion by the disk, as a distance transform would say, at a fraction of its cost."""
    from scipy import ndimage

    reach = int(radius)
    y, x = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    return own & ~ndimage.binary_erosion(own, structure=y * y + x * x <= radius * radius, border_value=0)


def _paint_of_its_own(found: np.ndarray, vectors: np.ndarray, difference: np.ndarray, size: int) -> np.ndarray:
    """The marks of ``found`` (a box's) that differ from the photo by more than :data:`RING_PLAIN`
    levels in a direction of their own: a resampling's ringing is the photo plus a share of the
    difference of the stroke beside it (its largest within ``size``), so along that difference,
    one way or the other; paint of another colour is off that line (:data:`RING_OFF_LINE`)."""
    out = np.zeros(found.shape, bool)
    rows, columns = np.nonzero(found & (difference * 255 > RING_PLAIN))
    if not rows.size:
        return out
    height, width = found.shape
    best = np.full(rows.size, -1.0, np.float32)
    at_rows, at_columns = rows.copy(), columns.copy()
    reach = size // 2
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            y, x = np.clip(rows + dy, 0, height - 1), np.clip(columns + dx, 0, width - 1)
            value = difference[y, x]
            better = value > best
            best[better], at_rows[better], at_columns[better] = value[better], y[better], x[better]
    mark, stroke = vectors[rows, columns], vectors[at_rows, at_columns]
    share = (mark * stroke).sum(axis=1) / np.maximum((stroke * stroke).sum(axis=1), np.float32(1e-12))
    off = np.linalg.norm(mark - share[:, None] * stroke, axis=1)
    out[rows, columns] = off > RING_OFF_LINE * np.linalg.norm(mark, axis=1)
    return out


#: Marks that differ from the photo by more than this many levels (in a channel) are paint of their
#: own where they lie off the line of the stroke beside them by more than this share of their difference.
RING_PLAIN, RING_OFF_LINE = 6, 0.5


def _laid_flat(mask: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """The marks of ``mask`` inside paint laid flat: at least :data:`FLAT_MARKS` of their 3×3 square
    marks, all of one level (half a level a channel). Gray paint over a photo whose gray is the
    paint's in places differs little from it there, as ringing does; but a ringing line lies beside
    its stroke's other paint, or alone."""
    from scipy import ndimage

    square = np.ones((3, 3), np.uint8)
    out = mask & (ndimage.convolve(mask.astype(np.uint8), square, mode="constant") >= FLAT_MARKS)
    for channel in range(3):
        level = np.asarray(marked[..., channel], np.float32)
        high = ndimage.maximum_filter(np.where(mask, level, np.float32(-1)), size=3, mode="constant", cval=-1)
        low = ndimage.minimum_filter(np.where(mask, level, np.float32(2)), size=3, mode="constant", cval=2)
        out &= (high - low) * 255 <= 0.5
    return out


def _faint_under_flat_paint(gray: np.ndarray, marked: np.ndarray, mask: np.ndarray, threshold: float) -> int:
    """How many of the pixels past ``threshold`` but no marks lie under paint laid flat: where the
    photo's gray is within the noise of a flat mask's, there is no difference to read, and that is
    no sign of a colour file's noise. Read only when the faint pixels would be warned of."""
    from scipy import ndimage

    level = np.asarray(gray, np.float64)
    planes = [level] * 3 if level.ndim == 2 else [level[..., c] for c in range(3)]
    difference = sum(np.abs(np.asarray(marked[..., c], np.float64) - planes[c]) for c in range(3))
    candidate = ~mask & (difference > threshold)
    # One flat region of marks and such pixels, holding marks laid flat: the paint they lie under.
    flat = _laid_flat(mask | candidate, marked)
    regions, _ = ndimage.label(flat)
    painted = np.unique(regions[_laid_flat(mask, marked) & flat])
    return int(np.count_nonzero(candidate & np.isin(regions, painted[painted > 0])))


#: Marks of one level in a 3×3 square (of 9) that make paint laid flat (:func:`_laid_flat`).
FLAT_MARKS = 6


#: A stroke's rim: cue pixels this near its outside (pixels; an antialiased edge falls over 1–2).
RIM = 2.5
#: A rim's paint is flat: its core's ab within :data:`PAINT_REACH` varies by at most this much (std).
FLAT_PAINT = 4.0
#: ... over at least this share of its core; its outermost pixels hold under this share of it.
ONE_PAINT = 0.8
FADING = 0.6


def _colour_rims(mask: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rim pixels of strokes painted in a "colour" blend mode with a soft edge: ``(drop,
    full)``, the rims of under :data:`HALF_PAINT` of their paint."""
    from scipy import ndimage

    drop = np.zeros(mask.shape, bool)
    full = np.zeros(mask.shape, bool)
    size = 2 * PAINT_REACH + 1
    for box, own, _ in _stroke_boxes(mask, PAINT_REACH):
        rim = _outside_within(own, RIM)
        core = own & ~rim
        if not rim.any() or not core.any():
            continue
        a, b = ab[box][..., 0].astype(np.float32), ab[box][..., 1].astype(np.float32)
        # A window's paint is a mean of its core's ab: only within reach of a core pixel of chroma
        # can it have any (a margin for the float sums). Too few such pixels: no paint laid flat enough.
        chromatic = core & (a * a + b * b >= (_MIN_CHROMA * (1 - 1e-3)) ** 2)
        within = ndimage.maximum_filter(chromatic, size, mode="constant")
        if np.count_nonzero(within & core) < ONE_PAINT * np.count_nonzero(core):
            continue
        weight = core.astype(np.float32)
        count = ndimage.uniform_filter(weight, size, mode="constant")
        some = count > 0.5 / size**2
        safe = np.where(some, count, np.float32(1.0))
        mean_a = ndimage.uniform_filter(weight * a, size, mode="constant") / safe
        mean_b = ndimage.uniform_filter(weight * b, size, mode="constant") / safe
        square = ndimage.uniform_filter(weight * (a * a + b * b), size, mode="constant") / safe
        spread = np.sqrt(np.maximum(square - mean_a * mean_a - mean_b * mean_b, 0.0))
        paint2 = mean_a * mean_a + mean_b * mean_b
        flat = some & (spread <= FLAT_PAINT) & (paint2 >= _MIN_CHROMA**2)
        alpha = (a * mean_a + b * mean_b) / np.maximum(paint2, 1e-6)
        # A soft stroke: one paint along it and an edge that fades; copied texture has neither.
        outer = _outside_within(own, 1.5) & some
        if flat[core].mean() < ONE_PAINT or not outer.any() or np.clip(alpha[outer], 0, 1).mean() >= FADING:
            continue
        off = np.hypot(a - alpha * mean_a, b - alpha * mean_b)
        blend = rim & flat & (alpha < OPAQUE) & (off <= _BLEND_SLACK + _BLEND_SHARE * alpha * np.sqrt(paint2))
        drop[box] |= blend & (alpha < HALF_PAINT)
        strong = blend & (alpha >= HALF_PAINT)
        full[box] |= strong
        ab[box][strong] = np.stack([mean_a[strong], mean_b[strong]], axis=-1)
    return drop, full


def _specks(mask: np.ndarray, speckled: bool = False) -> np.ndarray:
    """The pixels of ``mask`` in 8-connected parts of fewer than :data:`SPECK` pixels, where
    there are :data:`MANY_SPECKS` such parts or more, or the copy is known ``speckled`` (else none)."""
    from scipy import ndimage

    out = np.zeros(mask.shape, bool)
    box = _box_of(mask)  # the marks' box alone: a few strokes' is a small part of a scan
    if box is None:
        return out
    labels, count = ndimage.label(mask[box], structure=np.ones((3, 3), bool))
    small = np.bincount(labels.ravel(), minlength=count + 1) < SPECK
    small[0] = False
    if np.count_nonzero(small) < MANY_SPECKS and not speckled:
        return out
    out[box] = small[labels]
    return out


def mask_cues(strokes: np.ndarray, shape: tuple[int, int] | None = None, *, edges: str = EDGES_DEFAULT) -> Marks:
    """The cues of a stroke mask: :meth:`varcolor.Cues.from_mask`."""
    strokes = _entry_image(strokes, "strokes")
    check_edges(edges)
    if strokes.ndim != 3 or strokes.shape[2] not in (3, 4):
        raise InputError(f"a stroke mask must be a colour image (H×W×3 or H×W×4), got shape {strokes.shape}")
    fit: tuple[int, int] = strokes.shape[:2] if shape is None else (int(shape[0]), int(shape[1]))
    strokes, scaled = fit_to(strokes, fit, "the stroke mask")
    if strokes.shape[2] == 4 and np.any(strokes[..., 3] < 1):
        return covered(strokes, edges, scaled)
    # Compared, then the channels' answers joined: a reduction over a last axis of 3 is slow.
    above = strokes[..., :3] > _BLACK_LEVEL
    mask = above[..., 0] | above[..., 1] | above[..., 2]
    return painted(mask, strokes, None, edges, scaled)


def painted(mask: np.ndarray, rgb: np.ndarray, under: np.ndarray | None, edges: str, scaled: tuple | None) -> Marks:
    """Cues of the strokes ``mask`` of ``rgb`` painted over ``under`` (the gray photo; None:
    black), their blended edges read as ``edges`` says; ``scaled``."""
    notes = [f"drawn at {scaled[1]}×{scaled[0]}, scaled to {mask.shape[1]}×{mask.shape[0]}"] if scaled else []
    if rgb.shape[2] == 4:  # an RGBA layer: its alpha is the paint's opacity
        mask &= rgb[..., 3] >= HALF_PAINT if edges == "unmix" else rgb[..., 3] > 0
    paint = None
    if edges == "unmix":
        painted = int(mask.sum())
        mask, paint, blended = _unmix(mask, rgb, under)
        if blended >= max(NOTE_PIXELS, NOTE_SHARE * painted):  # said where it matters, not for a stray pixel
            notes.append(f"{blended:,} blended edge pixels read as partial paint")
    return at_mask(mask, rgb, "; ".join(notes), paint)


def at_mask(
    mask: np.ndarray,
    rgb: np.ndarray,
    note: str = "",
    paint: tuple | None = None,
    top: float = 1.0,
    order: tuple[int, ...] = RGBA,
) -> Marks:
    """Cues of ``rgb``'s colours at ``mask`` (Lab computed there only: the rest is never read;
    lightness NaN there, as unknown); ``paint``: raster indices."""
    at = np.flatnonzero(mask)
    to, source = paint if paint is not None else (np.empty(0, np.int64), np.empty(0, np.int64))
    # float32 (:func:`_kept_float`): a scan's marks held in half the memory.
    ab = sparse_zeros(mask.shape + (2,), np.float32)  # written at the strokes alone
    lightness = np.full(mask.shape, np.nan, np.float32)
    pixels = rgb.reshape(-1, rgb.shape[-1])
    # A chunk of cues at a time: Lab's temporaries stay bounded.
    for start in range(0, at.size, _LAB_CHUNK):
        chunk = at[start : start + _LAB_CHUNK]
        colours = pixels[chunk][:, order[:3]].astype(np.float64)
        if to.size:
            where = np.minimum(np.searchsorted(to, chunk), to.size - 1)
            taken = to[where] == chunk
            colours[taken] = pixels[source[where[taken]]][:, order[:3]]
        if top != 1.0:
            colours /= top
        lab = rgb_to_lab(colours[None])[0]
        ab.reshape(-1, 2)[chunk] = lab[:, 1:]
        lightness.ravel()[chunk] = lab[:, 0]
    return Marks(mask, ab, lightness, note)


def covered(
    strokes: np.ndarray,
    edges: str,
    scaled: tuple | None,
    top: float = 1.0,
    order: tuple[int, ...] = RGBA,
    alpha: np.ndarray | None = None,
) -> Marks:
    """Cues of strokes on transparency (a paint program's layer): the coverage is the alpha, the
    colour is the paint's as stored (straight alpha): full alpha is paint as drawn."""
    alpha = strokes[..., order[3]] if alpha is None else alpha
    # A level's float (level / top) is at least HALF_PAINT exactly where the level is HALF_PAINT × top or more.
    mask = alpha >= HALF_PAINT * top if edges == "unmix" else alpha > 0
    notes = [f"drawn at {scaled[1]}×{scaled[0]}, scaled to {mask.shape[1]}×{mask.shape[0]}"] if scaled else []
    if edges == "unmix":  # (the note is unmix's alone: "exact" counts nothing)
        touched = int(np.count_nonzero(alpha > 0))
        partial = touched - int(np.count_nonzero(alpha >= top))  # alpha in (0, top): two passes, not four
        if partial >= max(NOTE_PIXELS, NOTE_SHARE * touched):
            notes.append(f"{partial:,} partly transparent edge pixels read as partial paint")
    return at_mask(mask, strokes, "; ".join(notes), top=top, order=order)


def layer_cues(levels: np.ndarray, *, edges: str = EDGES_DEFAULT, channels: str = "RGBA") -> Marks:
    """:func:`mask_cues` of a strokes layer given as its 8- or 16-bit levels (``H×W×4`` uint8 or
    uint16, sRGB; its channels in the order ``channels`` names)."""
    check_edges(edges)
    order = channel_order(channels)
    if levels.ndim != 3 or levels.shape[2] != 4 or levels.dtype not in (np.uint8, np.uint16):
        raise InputError(f"a strokes layer's levels must be H×W×4 uint8 or uint16, got {levels.dtype} {levels.shape}")
    top = np.iinfo(levels.dtype).max
    # Alpha taken out once, in one piece: tests over interleaved channels are slower.
    alpha = np.ascontiguousarray(levels[..., order[3]])
    if not np.any(alpha < top):  # no transparency: strokes on black, as the floats are read
        return mask_cues(levels_to_float(levels[..., list(order)]), edges=edges)
    return covered(levels, edges, None, float(top), order, alpha)


def channel_order(channels: str) -> tuple[int, ...]:
    """Where red, green, blue and alpha lie among a layer's four channels named by ``channels``
    (its letters in the layer's order: ``"RGBA"``, ``"BGRA"``, ``"ARGB"``...).

    Examples
    --------
    >>> channel_order("BGRA")
    (2, 1, 0, 3)
    """
    if not isinstance(channels, str) or sorted(channels.upper()) != sorted("RGBA"):
        raise InputError(
            f"channels must name R, G, B and A once each in the layer's order (as 'BGRA'), got {channels!r}"
        )
    return tuple(channels.upper().index(name) for name in "RGBA")


def copy_noise(gray: np.ndarray, marked: np.ndarray) -> float:
    """How far (per channel, RGB in [0, 1]) a marked image's photo strays from the gray image when
    it is no exact copy of it: 0 for an exact copy.

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
    if share[0] >= 0.5 * share[COPY_NOISE_MAX] or share[COPY_NOISE_MAX] < 0.5:
        return 0.0  # an exact copy; or most of it far from the photo: no copy (the colour original)
    for k in range(1, COPY_NOISE_MAX + 1):
        if share[k + 2] - share[k] < COPY_NOISE_KNEE:
            return (k + 0.5) / 255
    return 0.0


def lossy_rows(height: int) -> int:
    """Every how many rows :func:`lossy_copy` reads a copy ``height`` rows high (every row of a small one)."""
    return max(1, min(LOSSY_ROWS, height // 256))


def lossy_copy(
    photo: np.ndarray,
    gray: np.ndarray,
    marked: np.ndarray,
    marked_bits: int = 16,
    *,
    sampled: bool = False,
    photo_noise: float | None = None,
) -> float:
    """The share of the pixels of a marked copy of a gray photo stored as RGB that neither show the
    photo (:func:`unmarked_to_gray` would make them its gray) nor are far enough from its gray to be
    paint: a lossy copy's (a JPEG's) noise, beyond the photo's own, where it is more than
    :data:`LOSSY_SHARE`; 0 where it is not (then 0 however many such pixels it has).

    Parameters
    ----------
    photo : ndarray, ``H×W×3``
        The photo: 8- or 16-bit levels, or floats in [0, 1] (read as an 8-bit file's).
    gray : ndarray, ``H×W``
        Its gray, in [0, 1]; with ``sampled``, the gray of the rows read alone
        (``photo[::lossy_rows(H)]``'s): the rest of it need not be made to tell the share.
    marked : ndarray, ``H×W×3`` or ``H×W×4``
        The marked copy, RGB(A) in [0, 1], before any of its pixels is made the gray.
    marked_bits : int
        As :func:`unmarked_to_gray` takes it.
    sampled : bool
        Whether ``gray`` holds the rows read alone.
    photo_noise : float or None
        :func:`channel_noise` of ``photo`` where known already (None: found here).
    """
    scale = float(np.iinfo(photo.dtype).max) if photo.dtype.kind in "ui" else 1.0
    top = scale if photo.dtype.kind in "ui" else 255.0
    half = 0.5 / min(top, (1 << marked_bits) - 1)
    own = channel_noise(photo) if photo_noise is None else photo_noise
    near = NOISE_SIGMAS * own + 2 * half + 0.5 / top
    # a share: every few rows of a large scan tell it (its pass beside the gray's costs little)
    step = lossy_rows(marked.shape[0])
    photo, marked = photo[::step], marked[::step]
    gray = gray if sampled else gray[::step]
    small = 0
    for rows in _bands(marked.shape):
        # A channel at a time: NumPy's reductions over a last axis of 3 are slow (issue 37).
        level = gray[rows].astype(np.float32)
        under = marked[rows][..., 0].astype(np.float32)
        same = np.abs(under - photo[rows][..., 0] / np.float32(scale)) <= half
        low, high, largest = under, under.copy(), np.abs(under - level)
        for c in (1, 2):
            under = marked[rows][..., c].astype(np.float32)
            same &= np.abs(under - photo[rows][..., c] / np.float32(scale)) <= half
            np.minimum(low, under, out=low)
            np.maximum(high, under, out=high)
            np.maximum(largest, np.abs(under - level), out=largest)
        same |= (high - low <= 2 * half) & (largest <= near)
        small += int(np.count_nonzero((largest * 255 <= COPY_NOISE_MAX + 0.5) & ~same))
    share = small / max(marked.shape[0] * marked.shape[1], 1)
    return share if share > LOSSY_SHARE else 0.0


def fit_to(image: np.ndarray, shape: tuple[int, int], what: str) -> tuple[np.ndarray, tuple[int, int] | None]:
    """``image`` (marks: strokes over the photo or on black) at the photo's ``shape``: as it is
    when it has that size, else scaled smoothly."""
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
    ``(mask, (to, source), blended)``."""
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
        # Each group of strokes within reach of each other alone, in its box: the same reading, less work.
        near = ndimage.maximum_filter(mask[top:bottom], size=2 * reach + 1, mode="constant", cval=False)
        groups, _ = ndimage.label(near, structure=np.ones((3, 3), bool))
        del near
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []
        for group, box in enumerate(ndimage.find_objects(groups), 1):
            if box is None:
                continue
            strokes = mask[top:bottom][box] & (groups[box] == group)
            flat = rgb[top:bottom][box].reshape(-1, rgb.shape[2])
            if under is None:
                photo = np.zeros(strokes.shape, np.float32)
            else:
                photo = under[top:bottom][box].astype(np.float32)
                photo = photo.mean(axis=2) if photo.ndim == 3 else photo
            # Laid paint first: a group with none is read as it is.
            laid = _laid_paint(flat, photo, strokes)
            if not laid.any():
                continue
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
            # A blend lies on a ramp (:data:`RAMP`): a neighbour holds more paint and one less.
            plateau = distance.reshape(strokes.shape)
            step = 0.5 / 255  # half an 8-bit level: a plateau's pixels are equal
            ramp = (ndimage.maximum_filter(plateau, size=RAMP, mode="nearest") > plateau + step) & (
                ndimage.minimum_filter(plateau, size=RAMP, mode="nearest") < plateau - step
            )
            # A blend touches its paint: an isolated faint mark beside a stroke is a mark of its own.
            touching = ndimage.label(strokes, structure=np.ones((3, 3), bool))[0].ravel()
            inside = np.zeros(strokes.shape, bool)
            inside[max(inner.start - box[0].start, 0) : max(inner.stop - box[0].start, 0)] = True
            # A blend of one paint lies near the strokes' outside; one of two may lie deeper.
            chosen = ((edge & ramp.ravel())[at] | ~laid.ravel()[at]) & inside.ravel()[at]
            # Where every pixel within the reach is gray (R = G = B: a gray mask's holes over the photo),
            # no paint a pixel could be read against has chroma, and gray ones are one direction, not
            # two: no reading of a blend succeeds there (the pixel stays as it is), so none is tried.
            colourful = (flat[:, 0] != flat[:, 1]) | (flat[:, 1] != flat[:, 2])
            chosen &= ndimage.maximum_filter(colourful.reshape(strokes.shape), size=2 * reach + 1).ravel()[at]
            at, m, g = at[chosen], m[chosen], g[chosen]
            on_ramp = ramp.ravel()[at] & edge[at]
            if not len(at):
                continue
            theirs_at, alpha, single = _paint_of(at, m, g, flat, strokes, laid, paint_at, touching, reach, on_ramp)
            at, theirs_at, alpha = at[single], theirs_at[single], alpha[single]
            if not len(at):
                continue

            # The box's raster indices as the image's.
            first, columns = (top + box[0].start) * mask.shape[1] + box[1].start, box[1].stop - box[1].start
            image = [first + y * mask.shape[1] + x for y, x in (np.divmod(at, columns), np.divmod(theirs_at, columns))]
            found.append((image[0], image[1], alpha, len(at)))
        for at, theirs_at, alpha, count in found:
            keep.reshape(-1)[at[alpha < HALF_PAINT]] = False
            strong = alpha >= HALF_PAINT
            to.append(at[strong])
            source.append(theirs_at[strong])
            blended += count
    order = np.argsort(np.concatenate(to), kind="stable")
    return keep, (np.concatenate(to)[order], np.concatenate(source)[order]), blended


#: Where strokes of several colours meet, a blend's paints are sought in this many hue directions.
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
    read as: ``(paint, share, found)``, the pixel whose colour each takes."""
    from scipy import ndimage

    laid_flat = laid.ravel()
    if laid.any():
        gap, nearest = ndimage.distance_transform_edt(~laid, return_indices=True)
        nearest = np.ravel_multi_index(tuple(nearest), strokes.shape).ravel()
    else:  # no laid paint within the reach (:func:`_unmix`'s group of strokes has none)
        gap, nearest = np.full(strokes.shape, np.inf), paint_at
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
        # A faint rim pixel whose laid paint lies beyond the reach is a blend toward the furthest paint.
        faint = np.flatnonzero((most < 0) & on_ramp)
        if faint.size:
            c = paint_at[at[faint]]
            p = flat[c, :3].astype(np.float64)
            share, _, ok = _blend_of(m[faint], g[faint], p, lab_m[faint], chroma_of(c))
            ok &= (touching[c] == touching[at[faint]]) & (c != at[faint]) & (share < HALF_PAINT)
            theirs_at[faint[ok]], alpha[faint[ok]], most[faint[ok]] = c[ok], share[ok], 0.0

    everyone = np.arange(len(at))
    single(everyone, candidates)
    # Then, where strokes of several colours meet: the laid pixels nearby and the most colourful.
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
    """For each blend candidate ``at`` (band indices), laid pixels within :data:`NEAR_PAINT`
    pixels: the one whose colour-plane colour is most nearly a larger copy of its own."""
    height, width = strokes.shape
    y, x = np.divmod(at, width)
    # RGB's colour plane (basis (1, -1, 0)/√2, (1, 1, -2)/√6) of the pixels and laid pixels, gathered.
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


#: A blend lies this near the line from 0 to its paint in RGB's colour plane, plus this share of it.
_PLANE_SLACK = 1.5 / 255
_PLANE_SHARE = 0.08


def _plane_norm(p: np.ndarray) -> np.ndarray:
    """The length of paint ``p``'s colour in RGB's colour plane (rows; the gray ``g`` has none)."""
    colour = p.astype(np.float64) - p.mean(axis=1, keepdims=True)
    return np.sqrt(np.einsum("nc,nc->n", colour, colour))


def _linear_light(v: np.ndarray) -> np.ndarray:
    """sRGB values ``v`` in [0, 1] as linear light."""
    return np.where(v > 0.04045, ((np.maximum(v, 0.04045) + 0.055) / 1.055) ** 2.4, v / 12.92)


def _srgb_of_linear(v: np.ndarray) -> np.ndarray:
    """Linear light ``v`` as sRGB values, clipped to [0, 1]."""
    v = np.clip(v, 0.0, 1.0)
    return np.where(v > 0.0031308, 1.055 * np.maximum(v, 0.0031308) ** (1 / 2.4) - 0.055, 12.92 * v)


def _plane_share(mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """The share α of ``theirs`` (rows) that ``mine`` holds in RGB's colour plane (least squares)."""
    colour = mine - mine.mean(axis=1, keepdims=True)
    plane = theirs - theirs.mean(axis=1, keepdims=True)
    return np.einsum("nc,nc->n", colour, plane) / np.maximum(np.einsum("nc,nc->n", plane, plane), 1e-12)


def _off_blend(
    m: np.ndarray, made: np.ndarray, share: np.ndarray, size: np.ndarray, reach_to: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """How far pixels ``m`` lie from the blends ``made`` of ``share`` of a paint."""
    off = m - made
    lightness = off.mean(axis=1)
    away = off - lightness[:, None]
    residual = np.sqrt(np.einsum("nc,nc->n", away, away))
    fits = (share < OPAQUE) & (residual <= _PLANE_SLACK + _PLANE_SHARE * np.abs(share) * size)
    fits &= np.abs(lightness) * np.sqrt(3) <= _RGB_SLACK + _LIGHTNESS_SHARE * np.abs(share) * reach_to
    return residual, fits


def _blend_of(
    m: np.ndarray, g: np.ndarray, p: np.ndarray, ab: np.ndarray, paint: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels ``m`` (RGB rows; Lab chroma ``ab``) over the photo ``g`` read as blends of the
    paint ``p`` (Lab chroma ``paint``): their share of paint α (in RGB's colour plane)."""
    contrast2 = np.einsum("nc,nc->n", paint, paint)
    alpha_lab = np.einsum("nc,nc->n", ab, paint) / np.maximum(contrast2, 1e-12)
    off_line = np.hypot(*(ab - alpha_lab[:, None] * paint).T)
    ok = (contrast2 >= _MIN_CHROMA**2) & (alpha_lab > 0) & (alpha_lab < 1)
    ok &= off_line <= _BLEND_SLACK + _BLEND_SHARE * alpha_lab * np.sqrt(contrast2)
    # How much paint, in RGB's colour plane, where sRGB blends are linear: mine = α·paint's.
    theirs = p - g
    size, reach_to = _plane_norm(theirs), np.sqrt(np.einsum("nc,nc->n", theirs, theirs))
    alpha = _plane_share(m - g, theirs)
    residual, fits = _off_blend(m, g + alpha[:, None] * theirs, alpha, size, reach_to)
    # Rims antialiased in linear light bend off that line: read on linear light's (α stays sRGB's).
    photo = _linear_light(g)
    toward = _linear_light(p) - photo
    share = _plane_share(_linear_light(m) - photo, toward)
    made = _srgb_of_linear(photo + np.clip(share, 0.0, 1.0)[:, None] * toward)
    linear_residual, linear_fits = _off_blend(m, made, share, size, reach_to)
    residual = np.where(linear_fits & ~fits, linear_residual, residual)
    return alpha, residual, ok & (fits | linear_fits) & _not_clipped(m, g)


def _not_clipped(m: np.ndarray, g: np.ndarray) -> np.ndarray:
    """A channel at 0 (or 1) over a photo that is not: no blend holds less than a tenth of the
    photo, so that is a colour clipped to the gamut, not a blend."""
    ok = ~np.any((m < 0.5 / 255) & (g > 5 / 255), axis=1)
    return ok & ~np.any((m > 1 - 0.5 / 255) & (g < 1 - 5 / 255), axis=1)


def _two_paints(
    m: np.ndarray, g: np.ndarray, first: np.ndarray, second: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixels ``m`` over the photo ``g`` read as blends of two paints (a rim where strokes of two
    colours cross): ``(second_wins, share, off, ok)``."""
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


#: Laid paint: stroke pixels of one colour whose lightness follows the photo by at most this share.
LAID_SHOWS = 0.7
#: ... where the photo under it varies by this much; over a flatter one, where its L differs by this.
LAID_PHOTO_STEP = 1.5 / 255
LAID_LIGHTNESS = 2.0


def _laid_paint(flat: np.ndarray, photo: np.ndarray, strokes: np.ndarray) -> np.ndarray:
    """Which pixels of ``strokes`` (of ``flat``, RGB(A) rows, over ``photo``, H×W gray) are laid
    paint: patches of one colour."""
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
    # Each pixel's lightness as its luminance's gray: copied texture follows its photo by it exactly.
    level = same_lightness_gray(np.stack(channels, axis=-1)).astype(np.float32)
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
