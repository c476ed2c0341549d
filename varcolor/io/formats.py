"""Image files: reading and writing PNG, JPEG, TIFF and BMP."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from struct import error as struct_error

import imagecodecs
import numpy as np
import png
import tifffile
from PIL import Image, JpegImagePlugin, UnidentifiedImageError

from ..errors import MAX_PIXELS, ClippedSamples, InputError, OutputError, tell
from .atomic import atomic_path, check_no_special_file
from .layers import LAYERED_EXTENSIONS, canvas_shape, open_stack
from .png import write_png
from .profiles import check_srgb, png_chunk_profile, samples_to_srgb, to_srgb

__all__ = [
    "IMAGE_EXTENSIONS",
    "WRITE_EXTENSIONS",
    "JPEG_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "LAYERED_EXTENSIONS",
    "MAX_PIXELS",
    "read_image",
    "image_shape",
    "image_bits",
    "image_profile",
    "write_image",
    "encode_image",
    "check_writable",
    "to_levels",
    "levels_to_float",
    "equal_channels",
    "nearly_gray",
]

#: The extensions of the image files read (folder runs, the studio, frame folders take these).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: The extensions :func:`write_image` writes (``--ext``, the studio's names).
WRITE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
#: Layered files (:mod:`varcolor.io.layers`): OpenRaster and Photoshop, read as layers and written whole.
#: JPEG's extensions: 8 bits per sample only, no alpha.
JPEG_EXTENSIONS = (".jpg", ".jpeg")
#: File suffixes read and written as video (:mod:`varcolor.video`): named here, with the images',
#: so that a photo's readers can refuse a clip without importing the video package.
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov", ".avi", ".m4v", ".webm")
#: zlib's level for 8-bit PNG: 3, not Pillow's 6, much slower for a little smaller files (code_notes.md).
PNG_COMPRESS_LEVEL = 3
#: From this many pixels a PNG is written by bands on every core at zlib's level 1
#: (:func:`varcolor.io.png.write_png`; benchmarks/results/code_notes.md).
BIG_PNG_PIXELS = 1 << 22
_EXIF_ORIENTATION = 0x0112
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

# What the decoders raise on damaged or hostile files: each becomes one line naming the file.
_READ_ERRORS = (
    UnidentifiedImageError,
    OSError,
    ValueError,
    SyntaxError,
    tifffile.TiffFileError,
    png.Error,
    EOFError,
    KeyError,
    IndexError,
    TypeError,
    struct_error,
)
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, k=3),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, k=1),
}
#: The orientations that swap rows and columns (a portrait phone photo stored landscape).
_TRANSPOSING = (5, 6, 7, 8)


def read_image(
    path: str | os.PathLike,
    dtype: np.dtype | type = np.float64,
    *,
    max_pixels: int | None = MAX_PIXELS,
    gray_if_equal: bool = False,
    levels: bool = False,
    reduce: int = 1,
) -> np.ndarray:
    """Read an image file as floats in [0, 1], upright.

    Parameters
    ----------
    path : path-like
        A PNG, JPEG, TIFF or BMP file, 8 or 16 bits per sample (TIFF also 32-bit integer and
        floating point, and CMYK), gray, RGB or RGBA; or a layered ``.ora``/``.psd`` file, read
        as the composite of its visible layers (:mod:`varcolor.io.layers`).
    dtype : numpy float dtype
        Type of the returned array.
    max_pixels : int or None
        Refuse an image of more pixels than this, judged from its header before any pixel is
        decoded (default :data:`MAX_PIXELS`); None: no limit.
    gray_if_equal : bool
        An RGB image whose three channels are equal everywhere (a gray scan saved as RGB) comes
        back ``H×W``, one channel: a third of the memory, decided on the file's levels before any float image is made.
    levels : bool
        8- and 16-bit samples that need no conversion come back as the file's levels (``uint8``
        or ``uint16``: :func:`levels_to_float` makes of them what ``dtype`` would have been), the
        rest as floats of ``dtype``: an 8-bit scan held in a quarter of float32's memory.
    reduce : int
        A JPEG is decoded reduced, its sides divided by the largest of 2, 4 and 8 that is at most
        ``reduce`` (libjpeg's scaled decode: the whole image is never in memory); other formats
        are read whole. :func:`image_shape` with the same ``reduce`` says the size that comes back.

    Returns
    -------
    image : ndarray
        ``H×W`` for gray files, ``H×W×3`` for RGB (and CMYK, converted), ``H×W×4`` for RGBA
        (gray+alpha becomes RGBA, as does a PNG whose tRNS colour some pixels have).

    Raises
    ------
    InputError
        The file is missing, not an image, truncated, too large, or has an unsupported layout, or
        no floating-point sample of its gray or colour lies inside (0, 1) while some lie outside
        [0, 1] (clipped, only black and white would be left).

    Warns
    -----
    UserWarning
        An animated or multi-page file (only its first frame is read), floating-point samples
        outside [0, 1] (clipped), or colours converted to sRGB with the file's embedded ICC
        profile (:mod:`varcolor.io.profiles`; 8-bit PNG, JPEG and BMP; other files with a non-sRGB
        profile are refused).

    Examples
    --------
    >>> import varcolor, skimage.data, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "cat.png")
    >>> varcolor.write_image(path, skimage.data.chelsea() / 255.0)
    >>> varcolor.read_image(path).shape
    (300, 451, 3)
    """
    path = Path(path)
    if not is_file(path):
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() in LAYERED_EXTENSIONS:  # what the file shows: its visible layers' composite
        composite = open_stack(path, max_pixels=max_pixels).composite()
        return _to_float(composite if np.any(composite[..., 3] < 1) else composite[..., :3], path, dtype)
    try:
        if _is_tiff(path):
            pixels, orientation = _read_tiff(path, max_pixels)
        else:
            with _open_pillow(path) as im:
                _check_pixels(path, im.size[0], im.size[1], max_pixels)
                orientation = _pillow_orientation(im)
                if _scale(im, reduce) > 1:
                    im.draft(im.mode, (im.size[0] // _scale(im, reduce), im.size[1] // _scale(im, reduce)))
                frames = getattr(im, "n_frames", 1)
                if frames > 1:
                    tell(f"{path}: an animated image of {frames} frames; only the first is used", stacklevel=2)
                if im.format == "PNG" and not im.info.get("icc_profile"):  # gAMA and cHRM say its colours
                    built = _png_chunks(im)
                    if built:
                        im.info["icc_profile"] = built
                if im.format == "PNG" and _png_bitdepth(path) == 16:  # colour managed in double precision
                    pixels = _read_png16(path)
                    if im.info.get("icc_profile"):  # else the levels go to ``dtype`` as they are (no float64 copy)
                        pixels = _managed(pixels / 65535.0, im.info.get("icc_profile"), path)
                elif im.format == "PNG":
                    plain = _plain_png(path, im, frames)
                    decoded = None if plain is None else _libpng_pixels(plain)
                    if decoded is None:  # checked beside the decoding (zlib lets go of the interpreter)
                        with _beside(_check_png_data, path) as checked:
                            decoded = _pillow_pixels(to_srgb(im, path, _warn_converted))
                        checked()
                    pixels = decoded
                else:  # colours in sRGB, converted with an embedded ICC profile
                    pixels = _pillow_pixels(to_srgb(im, path, _warn_converted))
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"{path}: not enough memory to read this image") from None
    except _READ_ERRORS as exc:
        raise InputError(f"{path}: cannot read image ({_reason(exc)})") from None
    if gray_if_equal and _equal_channels(pixels):
        pixels = pixels[..., 0]
    if levels and pixels.dtype in (np.uint8, np.uint16) and (pixels.ndim == 2 or pixels.shape[2] in (3, 4)):
        image = pixels
    else:
        image = _to_float(pixels, path, dtype)
    if orientation in _ORIENT:
        image = np.ascontiguousarray(_ORIENT[orientation](image))
    return image


def _equal_channels(pixels: np.ndarray) -> bool:
    """Whether ``pixels`` are RGB (no alpha) with three equal channels."""
    return pixels.ndim == 3 and pixels.shape[2] == 3 and equal_channels(pixels)


def equal_channels(pixels: np.ndarray, rows: int | None = None, between: Callable[[], None] | None = None) -> bool:
    """Whether the first three channels of ``pixels`` are equal everywhere (a gray image stored
    as colour), compared a band of rows at a time, with no copy.

    Parameters
    ----------
    pixels : ndarray
        ``H×W×C`` with ``C`` at least 3 (floats or levels); further channels are not compared.
    rows : int, optional
        Rows in a band (default: a megapixel's).
    between : callable, optional
        Called with no arguments before each band (work done ahead of need waits there).

    Examples
    --------
    >>> equal_channels(np.zeros((4, 5, 4))), equal_channels(np.eye(3)[None])
    (True, False)
    """
    rows = rows or max(1, (1 << 20) // max(pixels.shape[1], 1))
    for top in range(0, pixels.shape[0], rows):
        if between is not None:
            between()
        band = pixels[top : top + rows]
        if not (np.array_equal(band[..., 0], band[..., 1]) and np.array_equal(band[..., 0], band[..., 2])):
            return False
    return True


#: A photo is gray stored as RGB (:func:`nearly_gray`) when its channels' spread (in 8-bit levels) is
#: at most this on average: above a converter's rounding and a scanner's noise, below any colour photo.
NEAR_GRAY_SPREAD = 4.0
#: ... and no more than :data:`NEAR_GRAY_OUTLIERS` of its pixels spread over this many levels:
#: a gray photo with a coloured part (a stamp, a label) is a colour photo.
NEAR_GRAY_FAR = 12.0
NEAR_GRAY_OUTLIERS = 0.001


def nearly_gray(pixels: np.ndarray, rows: int | None = None) -> bool:
    """Whether an RGB photo is a gray one stored as colour, its channels equal but for rounding or a
    scanner's noise (:data:`NEAR_GRAY_SPREAD`, :data:`NEAR_GRAY_FAR`), read a band of rows at a time
    with no float copy of the photo (a colour photo is told in its first band).

    Parameters
    ----------
    pixels : ndarray
        ``H×W×C`` levels (``uint8``, ``uint16``) or floats in [0, 1], ``C`` at least 3 (an alpha
        channel is not read); anything else is not a gray photo stored as RGB.
    rows : int, optional
        Rows in a band (default: a megapixel's).

    Examples
    --------
    >>> gray = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    >>> rgb = np.repeat(gray[..., None], 3, axis=2); rgb[::9, ::7, 1] ^= 1  # a level apart, here and there
    >>> nearly_gray(rgb), nearly_gray(np.dstack([gray, gray // 2, gray]))
    (True, False)
    """
    if pixels.ndim != 3 or pixels.shape[2] < 3 or pixels.dtype.kind not in "uf" or pixels.size == 0:
        return False
    scale = 255.0 / (np.iinfo(pixels.dtype).max if pixels.dtype.kind == "u" else 1.0)
    count = pixels.shape[0] * pixels.shape[1]
    spread_allowed, far_allowed = NEAR_GRAY_SPREAD * count, NEAR_GRAY_OUTLIERS * count
    far = NEAR_GRAY_FAR / scale  # in the samples' own units
    rows = rows or max(1, (1 << 20) // max(pixels.shape[1], 1))
    total, outliers = 0.0, 0
    for top in range(0, pixels.shape[0], rows):
        red, green, blue = (pixels[top : top + rows, :, c] for c in range(3))
        # max ≥ min: no unsigned wrap-around
        spread = np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)
        total += float(spread.sum(dtype=np.float64)) * scale
        outliers += int(np.count_nonzero(spread > far))
        if total > spread_allowed or outliers > far_allowed:  # colour already: no need to read on
            return False
    return True


def image_shape(path: str | os.PathLike, *, max_pixels: int | None = None, reduce: int = 1) -> tuple[int, int]:
    """``(H, W)`` of an image file as :func:`read_image` returns it (upright: EXIF orientation
    applied; decoded reduced as ``reduce`` says), from its header only (no pixel is decoded); for
    a size check before reading. More than ``max_pixels`` (the size the header declares) is
    refused, as :func:`read_image` refuses it.

    Parameters
    ----------
    path : path-like
        An image file :func:`read_image` reads.
    max_pixels : int or None
        Refuse an image of more pixels than this (None: no limit).
    reduce : int
        As :func:`read_image`'s: a JPEG's size decoded reduced.

    Examples
    --------
    >>> import numpy as np, varcolor, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "wide.png")
    >>> varcolor.write_image(path, np.zeros((3, 5)))
    >>> image_shape(path)
    (3, 5)
    """
    path = Path(path)
    if not is_file(path):
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() in LAYERED_EXTENSIONS:
        return canvas_shape(path, max_pixels=max_pixels)
    try:
        scale = 1
        if _is_tiff(path):
            with tifffile.TiffFile(path) as tif:
                page = _first_page(tif, path)
                height, width = int(page.imagelength), int(page.imagewidth)
                orientation = _tiff_orientation(page)
        else:
            with _open_pillow(path) as im:
                height, width = int(im.size[1]), int(im.size[0])
                orientation = _pillow_orientation(im)
                scale = _scale(im, reduce)
        _check_pixels(path, width, height, max_pixels)
        if scale > 1:  # libjpeg rounds a scaled side up
            height, width = -(-height // scale), -(-width // scale)
        return (width, height) if orientation in _TRANSPOSING else (height, width)
    except InputError:
        raise
    except _READ_ERRORS as exc:
        raise InputError(f"{path}: cannot read image ({_reason(exc)})") from None


def image_bits(path: str | os.PathLike) -> int:
    """Bits per sample worth writing a result of ``path`` at, from its header: 16 for 16-bit PNG
    and for TIFF of 16 bits or more (integer or float), else 8 (also for what cannot be read:
    :func:`read_image` says why).

    Parameters
    ----------
    path : path-like
        The image file.
    """
    path = Path(path)
    try:
        if _is_tiff(path):
            with tifffile.TiffFile(path) as tif:
                return 16 if _first_page(tif, path).dtype.itemsize >= 2 else 8
        with _open_pillow(path) as im:
            return 16 if im.format == "PNG" and _png_bitdepth(path) == 16 else 8
    except (InputError, *_READ_ERRORS):
        return 8


def image_profile(path: str | os.PathLike) -> bytes | None:
    """The ICC profile embedded in an image file (None: none), from its header.

    Parameters
    ----------
    path : path-like
        As :func:`image_bits` takes it.
    """
    path = Path(path)
    try:
        if _is_tiff(path):
            with tifffile.TiffFile(path) as tif:
                tag = _first_page(tif, path).tags.get(34675)  # InterColorProfile
                return bytes(tag.value) if tag is not None else None
        with _open_pillow(path) as im:
            if im.format == "PNG" and not im.info.get("icc_profile"):
                return _png_chunks(im)
            return im.info.get("icc_profile") or None
    except InputError:
        raise
    except _READ_ERRORS as exc:
        raise InputError(f"{path}: cannot read image ({_reason(exc)})") from None


def _png_chunks(im: Image.Image) -> bytes | None:
    """The profile a PNG's gAMA and cHRM chunks describe, where they say other than sRGB."""
    return png_chunk_profile(im.info, im.mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L"))


def _pillow_orientation(im: Image.Image) -> int:
    """The EXIF orientation of an image Pillow opened, from what its header holds: for a PNG, the metadata
    before its pixels (where the PNG specification puts eXIf)."""
    if im.format == "PNG" and "exif" not in im.info:
        raw = im.info.get("Raw profile type exif")  # a text chunk of hex, as ImageMagick writes it
        if raw is None:
            return 1
        exif = Image.Exif()
        exif.load(bytes.fromhex("".join(raw.split("\n")[3:])))  # as Pillow reads it, without decoding
    else:
        exif = im.getexif()
    orientation = exif.get(_EXIF_ORIENTATION, 1)
    return orientation if isinstance(orientation, int) else 1


def _tiff_orientation(page) -> int:
    tag = page.tags.get(274)
    return int(tag.value) if tag is not None else 1


def _scale(im: Image.Image, reduce: int) -> int:
    """The reduction ``read_image(reduce=)`` decodes ``im`` at: for a JPEG the largest of 1, 2, 4 and
    8 (the scales libjpeg decodes at) that is at most ``reduce``, and that leaves a side; else 1."""
    if not isinstance(im, JpegImagePlugin.JpegImageFile):  # MPO too: a camera's JPEG with a preview
        return 1
    return next(s for s in (8, 4, 2, 1) if s <= reduce and s <= min(im.size))


def is_file(path: Path) -> bool:
    """Whether ``path`` is a file: False, not an error, for a name the file system cannot hold
    (the one test the readers, the planners and the IR files share).

    Parameters
    ----------
    path : Path
        The path asked about.
    """
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, for instance: no such file
        return False


def _check_pixels(path: Path, width: int, height: int, max_pixels: int | None) -> None:
    if max_pixels is not None and width * height > max_pixels:
        raise InputError(
            f"{path}: {width}×{height} pixels ({width * height / 1e6:.0f} MP) is more than the limit "
            f"of {max_pixels / 1e6:g} MP (raise it with --max-pixels, or max_pixels= in Python)"
        )


_PILLOW_LIMIT = threading.Lock()


@contextlib.contextmanager
def _open_pillow(path: Path):
    """``Image.open`` without Pillow's own decompression-bomb limit, which :func:`_check_pixels`
    replaces with one the caller sets (Pillow's would refuse some real scans above 179 MP)."""
    with _PILLOW_LIMIT:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            im = Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    with im:
        yield im


def _is_tiff(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in _TIFF_MAGIC


def _first_page(tif: tifffile.TiffFile, path: Path):
    if not tif.pages:
        raise InputError(f"{path}: a TIFF file without images")
    return tif.pages.first


#: TIFF photometric interpretations whose samples are the levels themselves (no inversion, inks or palette).
_PLAIN_PHOTOMETRIC = (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.RGB)


def _read_tiff(path: Path, max_pixels: int | None) -> tuple[np.ndarray, int]:
    """The first page of a TIFF as ``H×W[×S]`` samples (CMYK converted to RGB, white-is-zero inverted,
    palettes applied), and its orientation tag: 8- and 16-bit levels that need none of that."""
    with tifffile.TiffFile(path) as tif:
        page = _first_page(tif, path)
        _check_pixels(path, int(page.imagewidth), int(page.imagelength), max_pixels)
        if len(tif.pages) > 1:
            tell(f"{path}: a TIFF of {len(tif.pages)} pages; only the first is used", stacklevel=3)
        orientation = _tiff_orientation(page)
        profile = page.tags.get(34675)  # InterColorProfile
        icc = bytes(profile.value) if profile is not None else None
        raw = page.asarray()
        axes = page.axes.replace("Q", "")
        if axes.startswith("S") and raw.ndim == 3:  # planar configuration: samples first
            raw = np.moveaxis(raw, 0, -1)
        photometric = int(page.photometric)
        colormap = page.colormap if photometric == tifffile.PHOTOMETRIC.PALETTE else None
    if raw.dtype in (np.uint8, np.uint16) and icc is None and colormap is None and photometric in _PLAIN_PHOTOMETRIC:
        # Levels as they are: read_image scales them into its dtype in place (no float64 copy here).
        return raw, orientation
    samples = _scale_samples(raw, path)
    if photometric == tifffile.PHOTOMETRIC.SEPARATED:  # inks: converted by the plain ink model below
        check_srgb(icc, "CMYK", path, "CMYK TIFF samples")
    if photometric == tifffile.PHOTOMETRIC.MINISWHITE:
        samples = 1.0 - samples
    elif photometric == tifffile.PHOTOMETRIC.SEPARATED:  # CMYK inks: no ICC profile, the plain ink model
        if samples.ndim != 3 or samples.shape[2] < 4:
            raise InputError(f"{path}: a separated (CMYK) TIFF without four inks")
        white = 1.0 - samples[..., 3:4]
        samples = (1.0 - samples[..., :3]) * white
    elif colormap is not None:
        table = np.asarray(colormap, dtype=np.float64).T / float(np.iinfo(np.asarray(colormap).dtype).max)
        samples = table[np.clip(raw.astype(np.int64), 0, len(table) - 1)]
    if photometric != tifffile.PHOTOMETRIC.SEPARATED:
        samples = _managed(samples, icc, path)
    return samples, orientation


def _managed(samples: np.ndarray, icc: bytes | None, path: Path) -> np.ndarray:
    """16-bit or float ``samples`` in [0, 1] (gray+alpha too) in sRGB, with their embedded profile."""
    if not icc:
        return samples
    if samples.ndim == 3 and samples.shape[2] == 2:  # gray + alpha: the gray is converted
        gray = samples_to_srgb(samples[..., 0], icc, path, _warn_converted)
        return np.stack([gray, samples[..., 1]], axis=2)
    if samples.ndim == 3 and samples.shape[2] not in (3, 4):
        raise InputError(f"{path}: unsupported image layout {samples.shape}")
    return samples_to_srgb(samples, icc, path, _warn_converted)


def _scale_samples(raw: np.ndarray, path: Path) -> np.ndarray:
    """Samples as floats in [0, 1]: integers by their type's range, floats as they are."""
    if raw.dtype == np.bool_:
        return raw.astype(np.float64)
    if np.issubdtype(raw.dtype, np.integer):
        samples = raw.astype(np.float64)
        samples /= float(np.iinfo(raw.dtype).max)
        return np.clip(samples, 0.0, 1.0, out=samples)  # in place: no second float64 image
    if np.issubdtype(raw.dtype, np.floating):
        samples = raw.astype(np.float64)
        if not np.all(np.isfinite(samples)):
            raise InputError(f"{path}: image has non-finite values")
        low, high = (float(samples.min()), float(samples.max())) if samples.size else (0.0, 1.0)
        if (low < 0 or high > 1) and not _any_inside(samples):  # clipped, nothing would be left of it
            raise InputError(
                f"{path}: no floating-point sample of its gray or colour lies inside (0, 1) ({low:.3g} to "
                f"{high:.3g}): clipped, only black and white would be left; scale it to [0, 1]"
            )
        if low < 0 or high > 1:
            tell(
                f"{path}: floating-point samples outside [0, 1] ({low:.3g} to {high:.3g}) are clipped",
                ClippedSamples,
                stacklevel=4,
            )
        return np.clip(samples, 0.0, 1.0, out=samples)
    raise InputError(f"{path}: unsupported sample type {raw.dtype}")


def _any_inside(samples: np.ndarray) -> bool:
    """Whether a sample of the gray or colour channels (not an alpha: the last of 2 or 4) lies
    strictly between 0 and 1, a band of rows at a time (a 40 MP scan: no whole-image mask)."""
    colour = samples[..., :-1] if samples.ndim == 3 and samples.shape[2] in (2, 4) else samples
    rows = max(1, (1 << 22) // max(1, colour[0].size))
    return any(
        bool(np.any((band > 0) & (band < 1))) for band in (colour[i : i + rows] for i in range(0, len(colour), rows))
    )


def _warn_converted(message: str) -> None:
    tell(message, stacklevel=4)  # to read_image's caller


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


#: PNG colour types libpng decodes into levels as they are (gray, RGB, RGBA; 8 bits a sample).
_PLAIN_PNG_COLOURS = (0, 2, 6)


def _plain_png(path: Path, im: Image.Image, frames: int) -> bytes | None:
    """The file's bytes where it is a plain 8-bit PNG that :func:`_libpng_pixels` decodes (gray, RGB or
    RGBA, not interlaced, no colour profile, gAMA/cHRM or transparency to apply, one frame), else None."""
    if frames != 1 or im.info.get("icc_profile") or "transparency" in im.info:
        return None
    with open(path, "rb") as f:
        f.seek(8)  # the signature: Pillow has read it
        header = _ihdr(f.read(25))
        if header is None or header[2] != 8 or header[3] not in _PLAIN_PNG_COLOURS or header[:2] != im.size:
            return None
        if header[4]:  # interlaced: libpng decodes it, but prints a warning of its own on stderr
            return None
        if os.fstat(f.fileno()).st_size > 2 * _png_data_size(*header) + (1 << 20):
            return None
        # Read, not mapped: a file cut short by another program while mapped would kill the process.
        f.seek(0)
        return f.read()


def _libpng_pixels(data: bytes) -> np.ndarray | None:
    """A plain 8-bit PNG's levels decoded by libpng straight into their array (``H×W`` or ``H×W×C``), or
    None where libpng refuses the file (the caller reads it with Pillow, and says why)."""
    try:
        return np.asarray(imagecodecs.png_decode(data))
    except (imagecodecs.PngError, ValueError, MemoryError):
        return None


def _png_bitdepth(path: Path) -> int:
    with open(path, "rb") as f:  # pypng's Reader(filename=) never closes its file
        reader = png.Reader(file=f)
        reader.preamble()
        return reader.bitdepth


#: Samples a pixel in each PNG colour type (gray, RGB, palette, gray + alpha, RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
#: The Adam7 passes of an interlaced PNG: (first row, first column, row step, column step).
_ADAM7 = ((0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1))


def _ihdr(chunk: bytes) -> tuple[int, int, int, int, bool] | None:
    """``(width, height, bit depth, colour type, interlaced)`` from a PNG's first chunk (the 25
    bytes after its signature: length, type, IHDR's 13 bytes), or None where it is not an IHDR."""
    if len(chunk) < 25 or chunk[4:8] != b"IHDR":
        return None
    width, height = int.from_bytes(chunk[8:12], "big"), int.from_bytes(chunk[12:16], "big")
    return width, height, chunk[16], chunk[17], chunk[20] == 1


def _png_data_size(width: int, height: int, depth: int, colour: int, interlaced: bool) -> int:
    """The bytes a PNG's image data inflates to: each row's filter byte and its packed samples
    (each Adam7 pass's rows, interlaced)."""
    bits = depth * _PNG_CHANNELS.get(colour, 4)
    passes = _ADAM7 if interlaced else ((0, 0, 1, 1),)
    total = 0
    for row, column, row_step, column_step in passes:
        rows = max(0, -(-(height - row) // row_step))
        columns = max(0, -(-(width - column) // column_step))
        if rows and columns:
            total += rows * (1 + -(-columns * bits // 8))
    return total


@contextlib.contextmanager
def _beside(function: Callable[[Path], None], path: Path):
    """``function(path)`` in a thread while the block runs; yields a callable that raises what
    it raised (call it after the block)."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            function(path)
        except BaseException as exc:  # noqa: BLE001 -- handed to the caller's thread
            raised.append(exc)

    thread = threading.Thread(target=run, name="varcolor png check", daemon=True)
    thread.start()

    def checked() -> None:
        if raised:
            raise raised[0]

    try:
        yield checked
    finally:
        thread.join()


def _check_png_data(path: Path) -> None:
    """Refuse a PNG whose image data (its IDAT chunks, inflated) is shorter than its header declares."""
    with open(path, "rb") as f:
        f.seek(8)  # the signature: Pillow has read it
        header = _ihdr(f.read(25))
        if header is None:
            return  # Pillow opened it: not for this check to judge
        expected = _png_data_size(*header)
        inflate, found, seen_data = zlib.decompressobj(), 0, False
        while found < expected:
            head = f.read(8)
            if len(head) < 8:
                break
            length, kind = int.from_bytes(head[:4], "big"), head[4:8]
            if kind != b"IDAT":
                if seen_data or kind == b"IEND":
                    break  # the image data is one run of IDAT chunks
                f.seek(length + 4, os.SEEK_CUR)
                continue
            seen_data = True
            left = length
            try:
                # A small block at a time, in and out: the check holds next to nothing beside the decoding.
                while left > 0 and found < expected:
                    data = f.read(min(left, 1 << 16))
                    if not data:
                        break
                    left -= len(data)
                    while data and found < expected:
                        found += len(inflate.decompress(data, 1 << 16))
                        data = inflate.unconsumed_tail
            except zlib.error:
                return  # a broken stream: Pillow says so itself
            f.seek(left + 4, os.SEEK_CUR)  # what was not needed, and the CRC
    if found < expected:
        share = found / expected if expected else 0.0
        raise InputError(
            f"{path}: cannot read image (its pixel data ends {share:.0%} of the way through: "
            "the file is cut short or damaged)"
        )


def _read_png16(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        width, height, rows, info = png.Reader(file=f).asDirect()
        planes = info["planes"]
        data = np.empty((height, width * planes), np.uint16)  # row by row: no list of rows beside it
        for index, row in enumerate(rows):
            data[index] = row
    return data.reshape(height, width, planes).squeeze(-1) if planes == 1 else data.reshape(height, width, planes)


def _pillow_pixels(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        return np.asarray(im).astype(np.uint16 if im.mode.startswith("I;16") else np.int32)
    if im.mode in ("1", "L", "RGB") and "transparency" in im.info:
        # A PNG's tRNS: one level or colour the file shows as transparent, where it lies.
        shown = np.asarray(im.convert("RGBA"))
        if not shown[..., 3].all():
            return shown
    if im.mode in ("1", "L"):
        return np.asarray(im.convert("L"))
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        return np.asarray(im.convert("RGBA"))
    return np.asarray(im.convert("RGB"))


def _to_float(pixels: np.ndarray, path: Path, dtype) -> np.ndarray:
    if pixels.ndim == 3 and pixels.shape[2] == 2:  # gray + alpha
        pixels = np.concatenate([np.repeat(pixels[..., :1], 3, axis=2), pixels[..., 1:]], axis=2)
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (3, 4))):
        raise InputError(f"{path}: unsupported image layout {pixels.shape}")
    if pixels.dtype == np.uint8:
        scale = 255.0
    elif pixels.dtype == np.uint16:
        scale = 65535.0
    elif pixels.dtype == np.int32:  # Pillow's 32-bit gray mode, written by some tools for 16-bit data
        scale = 65535.0 if pixels.max(initial=0) > 255 else 255.0
    elif pixels.dtype == np.bool_:
        scale = 1.0
    elif np.issubdtype(pixels.dtype, np.floating):
        scale = 1.0
    else:
        raise InputError(f"{path}: unsupported sample type {pixels.dtype}")
    if pixels.dtype in (np.uint8, np.uint16):
        # Levels over their maximum are finite and in [0, 1] already: no check or clip.
        return levels_to_float(pixels, dtype)
    # In place: one image of ``dtype``, not three (the division's and the clip's).
    image = pixels.astype(dtype)
    if scale != 1.0:
        image /= dtype(scale)
    if pixels.dtype == np.bool_:
        return image
    if not np.all(np.isfinite(image)):
        raise InputError(f"{path}: image has non-finite values")
    return np.clip(image, 0.0, 1.0, out=image)


def levels_to_float(levels: np.ndarray, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """8- or 16-bit levels (``uint8``, ``uint16``) as floats of ``dtype`` in [0, 1]: the values
    :func:`read_image` gives for them (``read_image(..., levels=True)`` and this are ``read_image``).

    Parameters
    ----------
    levels : ndarray of uint8 or uint16
        Samples, any shape.
    dtype : numpy float dtype
        Type of the returned array.
    """
    image = levels.astype(dtype)
    image /= image.dtype.type(np.iinfo(levels.dtype).max)  # in place: one image of ``dtype``
    return image


def write_image(
    path: str | os.PathLike,
    image: np.ndarray,
    bits: int = 8,
    quality: int = 95,
    *,
    overwrite: bool = True,
    profile: bytes | None = None,
) -> None:
    """Write an image atomically (temporary file + rename).

    Parameters
    ----------
    path : path-like
        ``.png``, ``.jpg``/``.jpeg`` or ``.tif``/``.tiff``; the folder is created if needed.
    image : ndarray
        ``H×W``, ``H×W×3`` or ``H×W×4`` floats in [0, 1] (values outside are clipped), or uint8/uint16.
    bits : {8, 16}
        Bits per sample; 16 is available for PNG and TIFF.
    quality : int
        JPEG quality.
    overwrite : bool
        False: never replace an existing file, even one that appears during the write
        (:class:`~varcolor.errors.OutputExists`).
    profile : bytes or None
        An ICC profile embedded in the file (the colours' space, e.g.
        :data:`varcolor.io.profiles.SRGB_ICC`; the pixels are written as given); None: none.

    Examples
    --------
    >>> import numpy as np, varcolor, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ramp.png")
    >>> varcolor.write_image(path, np.linspace(0, 1, 64).reshape(8, 8), bits=16)
    >>> float(varcolor.read_image(path)[-1, -1])
    1.0
    """
    path = Path(path)
    pixels = _checked_pixels(path, image, bits, profile)
    with atomic_path(path, overwrite=overwrite) as tmp:
        _encode(tmp, pixels, path.suffix.lower(), bits, quality, profile)


def encode_image(
    image: np.ndarray,
    suffix: str = ".png",
    bits: int = 8,
    quality: int = 95,
    *,
    profile: bytes | None = None,
    png_level: int | None = None,
) -> bytes:
    """The bytes of an image file (as :func:`write_image` would write them), for callers that
    publish it with other files as one unit (:func:`publish`); ``png_level``: zlib's level for an
    8-bit PNG (files kept by the hundred thousand, such as an IR's gray, are worth level 6).

    Parameters
    ----------
    image : ndarray
        ``H×W``, ``H×W×3`` or ``H×W×4``: floats in [0, 1], or 8- or 16-bit levels.
    suffix : str
        The format, by its extension (``.png``, ``.jpg``, ``.tif``).
    bits : {8, 16}
        Bits per sample (16: PNG and TIFF).
    quality : int
        JPEG quality.
    profile : bytes, optional
        An ICC profile to embed.
    png_level : int, optional
        zlib's level for an 8-bit PNG or any from :data:`BIG_PNG_PIXELS`; default
        :data:`PNG_COMPRESS_LEVEL`, or 1 from :data:`BIG_PNG_PIXELS`.
    """
    suffix = suffix.lower()
    pixels = _checked_pixels(Path(f"image{suffix}"), image, bits, profile)
    buffer = io.BytesIO()
    _encode(buffer, pixels, suffix, bits, quality, profile, png_level)
    return buffer.getvalue()


def check_transparency(image: str | os.PathLike, pixels: np.ndarray) -> None:
    """Refuse a photo every pixel of which is transparent (what it stores there is no photo: a
    cleared layer's black), and say how much of one is (coloured as stored, however it looks).

    Parameters
    ----------
    image : path-like
        The photo's file, named in what is said.
    pixels : ndarray
        Its pixels as read: ``H×W×2`` or ``H×W×4`` carry an alpha (the last), others none.
    """
    if pixels.ndim != 3 or pixels.shape[2] not in (2, 4):
        return
    hidden = int(np.count_nonzero(pixels[..., -1] == 0))
    if hidden == pixels.shape[0] * pixels.shape[1]:
        raise InputError(f"{image}: every pixel is transparent: no photo to colour (flatten it onto its background)")
    if hidden:
        tell(
            f"{image}: {hidden:,} pixels ({100 * hidden / (pixels.shape[0] * pixels.shape[1]):.0f} %) are "
            "transparent: coloured as the gray they store, which the file does not show",
            stacklevel=4,
        )


def quiet_decoders() -> None:
    """Keep the decoders' own log lines off stderr in varcolor's processes (its command line, its
    folder runs' workers): tifffile logs a malformed file's faults line by line, where varcolor
    says what matters in one."""
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)


def check_writable(path: str | os.PathLike, bits: int = 8, *, image: bool = True) -> None:
    """Refuse, before any work, an output that could not be written: (for an ``image``) an
    extension :func:`write_image` does not write or 16 bits in JPEG; a folder in the way; a
    folder that cannot be made or written.

    Parameters
    ----------
    path : path-like
        The output's name.
    bits : {8, 16}
        Bits per sample it will be written with.
    image : bool
        Whether it is an image (its extension and bits checked too).
    """
    path = Path(path)
    if image:
        _check_format(path, path.suffix.lower(), bits)
    if path.is_dir():
        raise OutputError(f"{path}: cannot write (a folder is in the way)")
    check_no_special_file(path)
    folder = path.parent
    while not folder.exists():
        if folder.parent == folder:
            break
        folder = folder.parent
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{path}: cannot write ({folder}: a file, not a folder)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: cannot write ({folder}: permission denied)")


def _check_format(path: Path, suffix: str, bits: int) -> None:
    if suffix not in WRITE_EXTENSIONS + LAYERED_EXTENSIONS:
        raise InputError(
            f"{path}: cannot write {suffix or 'files without extension'} "
            f"(use one of {', '.join(WRITE_EXTENSIONS + LAYERED_EXTENSIONS)})"
        )
    if bits not in (8, 16):
        raise InputError(f"bits must be 8 or 16, not {bits}")
    if bits == 16 and suffix in JPEG_EXTENSIONS:
        raise InputError(f"{path}: JPEG holds 8 bits per sample only")


def _checked_pixels(path: Path, image: np.ndarray, bits: int, profile: bytes | None = None) -> np.ndarray:
    _check_format(path, path.suffix.lower(), bits)
    if path.suffix.lower() in LAYERED_EXTENSIONS:  # a stack of layers, not one image
        raise InputError(f"{path}: a layered file is written as layers (varcolor.io.stack.write_layers)")
    image = np.asarray(image)
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise InputError(f"{path}: cannot write an array of shape {image.shape}")
    space = b"GRAY" if image.ndim == 2 else b"RGB "
    if profile and profile[16:20] != space:  # the header's colour space field
        raise InputError(
            f"{path}: an ICC profile for {profile[16:20].decode('latin-1').strip()} colours cannot describe "
            f"{space.decode().strip()} pixels"
        )
    if image.size == 0:
        raise InputError(f"{path}: cannot write an empty image (shape {image.shape})")
    return _quantize(image, bits, path)


class _ProfiledWriter(png.Writer):
    """pypng's writer with an ``iCCP`` chunk (pypng writes none) after the header, before the pixels."""

    def __init__(self, *args, icc: bytes | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.icc = icc

    def write_preamble(self, outfile):
        super().write_preamble(outfile)
        if self.icc:  # name, its terminator, compression method 0 (zlib), the profile
            png.write_chunk(outfile, b"iCCP", b"ICC Profile\0\0" + zlib.compress(self.icc))


def _encode(
    target,
    pixels: np.ndarray,
    suffix: str,
    bits: int,
    quality: int,
    profile: bytes | None = None,
    png_level: int | None = None,
) -> None:
    """Encode ``pixels`` into ``target`` (a path or a binary file object), ``profile`` embedded;
    ``png_level`` None: :data:`PNG_COMPRESS_LEVEL`, or 1 for a big PNG (:data:`BIG_PNG_PIXELS`)."""
    big = suffix == ".png" and pixels.shape[0] * pixels.shape[1] >= BIG_PNG_PIXELS
    if suffix in (".tif", ".tiff"):
        tifffile.imwrite(
            target,
            pixels,
            photometric="minisblack" if pixels.ndim == 2 else "rgb",
            compression="zlib",
            iccprofile=profile,
        )
    elif bits == 16 or big:
        with contextlib.ExitStack() as stack:
            f = target if hasattr(target, "write") else stack.enter_context(open(target, "wb"))
            if big:
                write_png(f, pixels, level=1 if png_level is None else png_level, profile=profile)
            else:
                height, width = pixels.shape[:2]
                planes = 1 if pixels.ndim == 2 else pixels.shape[2]
                _ProfiledWriter(
                    width, height, greyscale=planes == 1, alpha=planes == 4, bitdepth=16, icc=profile
                ).write_array(f, pixels.reshape(-1))
    else:
        kwargs: dict[str, int | bytes] = (
            {"quality": quality}
            if suffix in JPEG_EXTENSIONS
            else {"compress_level": PNG_COMPRESS_LEVEL if png_level is None else png_level}
        )
        if profile:
            kwargs["icc_profile"] = profile
        if suffix in JPEG_EXTENSIONS and pixels.ndim == 3 and pixels.shape[2] == 4:
            pixels = pixels[..., :3]
        Image.fromarray(pixels).save(target, format=_PIL_FORMAT[suffix], **kwargs)


_PIL_FORMAT = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


#: Samples quantized at a time: a band of rows, so that writing a big float64 result needs no
#: whole-image float temporaries.
_QUANTIZE_SAMPLES = 1 << 22


def to_levels(values: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] (clipped) as the levels of the unsigned integer array ``out`` (rounded to
    the nearest: ``round(v · (2^bits − 1))``), written into it; the one rule every 8- and 16-bit
    output follows.

    Parameters
    ----------
    values : ndarray
        Floats, any shape.
    out : ndarray of uint8 or uint16
        Of ``values``' shape.

    Examples
    --------
    >>> import numpy as np
    >>> to_levels(np.array([0.0, 0.5, 1.2]), np.empty(3, np.uint8))
    array([  0, 128, 255], dtype=uint8)
    """
    levels = np.clip(values, 0.0, 1.0)  # one temporary, scaled and rounded in place
    levels *= float(np.iinfo(out.dtype).max)
    out[...] = np.round(levels, out=levels)
    return out


def _quantize(image: np.ndarray, bits: int, path: Path | None = None) -> np.ndarray:
    """``image`` as ``bits``-bit samples; a float image with a non-finite value is refused (naming
    ``path``)."""
    target = np.uint8 if bits == 8 else np.uint16
    if image.dtype == target:
        return image
    out = np.empty(image.shape, dtype=target)
    rows = max(1, _QUANTIZE_SAMPLES // max(1, image[:1].size))
    for start in range(0, image.shape[0], rows):
        band = image[start : start + rows]
        if np.issubdtype(band.dtype, np.floating) and not np.all(np.isfinite(band)):
            raise InputError(f"{path}: refusing to write an image with non-finite values")
        if band.dtype in (np.uint8, np.uint16):
            band = band / float(np.iinfo(band.dtype).max)
        to_levels(band, out[start : start + rows])
    return out
