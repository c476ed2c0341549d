"""Reading and writing images, atomically, and walking folders of them.

Pixels come back as floats in [0, 1] with the shape the file stores: ``H×W`` (gray),
``H×W×3`` (RGB) or ``H×W×4`` (RGBA). EXIF orientation is applied on reading.
8-bit files go through Pillow, 16-bit PNG through pypng and TIFF through tifffile,
because Pillow silently drops 16-bit colour to 8 bits.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import png
import tifffile
from PIL import Image, UnidentifiedImageError

from .errors import InputError, OutputError

__all__ = ["IMAGE_EXTENSIONS", "read_image", "write_image", "walk_images", "atomic_path"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
WRITE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
_EXIF_ORIENTATION = 0x0112

# EXIF orientation -> the numpy transform that displays the image upright (as Pillow's exif_transpose).
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, k=3),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, k=1),
}


def read_image(path: str | os.PathLike, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """Read an image file as floats in [0, 1], upright.

    Parameters
    ----------
    path : path-like
        A PNG, JPEG, TIFF or BMP file, 8 or 16 bits per sample, gray, RGB or RGBA.
    dtype : numpy float dtype
        Type of the returned array.

    Returns
    -------
    image : ndarray
        ``H×W`` for gray files, ``H×W×3`` for RGB, ``H×W×4`` for RGBA (gray+alpha becomes RGBA).

    Raises
    ------
    InputError
        The file is missing, not an image, truncated, or has an unsupported layout.

    Examples
    --------
    >>> import varcolor, skimage.data, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "cat.png")
    >>> varcolor.write_image(path, skimage.data.chelsea() / 255.0)
    >>> varcolor.read_image(path).shape
    (300, 451, 3)
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with Image.open(path) as im:
            orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
            suffix = path.suffix.lower()
            if suffix in (".tif", ".tiff") or im.format == "TIFF":
                pixels = tifffile.imread(path)
            elif im.format == "PNG" and _png_bitdepth(path) == 16:
                pixels = _read_png16(path)
            else:
                pixels = _pillow_pixels(im)
    except InputError:
        raise
    except Image.DecompressionBombError as exc:
        raise InputError(f"{path}: refused, larger than Pillow's safety limit ({_reason(exc)}); raise "
                         "PIL.Image.MAX_IMAGE_PIXELS if the file is trusted") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, tifffile.TiffFileError,
            png.Error, EOFError) as exc:
        raise InputError(f"{path}: cannot read image ({_reason(exc)})") from None
    image = _to_float(pixels, path, dtype)
    if orientation in _ORIENT:
        image = np.ascontiguousarray(_ORIENT[orientation](image))
    return image


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _png_bitdepth(path: Path) -> int:
    reader = png.Reader(filename=str(path))
    reader.preamble()
    return reader.bitdepth


def _read_png16(path: Path) -> np.ndarray:
    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    planes = info["planes"]
    data = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
    return data.reshape(height, width, planes).squeeze(-1) if planes == 1 else data.reshape(height, width, planes)


def _pillow_pixels(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        return np.asarray(im).astype(np.uint16 if im.mode.startswith("I;16") else np.int32)
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
    image = pixels.astype(dtype) / dtype(scale) if scale != 1.0 else pixels.astype(dtype)
    if not np.all(np.isfinite(image)):
        raise InputError(f"{path}: image has non-finite values")
    return np.clip(image, 0.0, 1.0)


def atomic_path(path: str | os.PathLike):
    """Context manager giving a temporary path beside ``path``; it replaces ``path`` on success.

    A reader never sees a half-written file, and a failure leaves the old file (if any) intact.
    An operating-system failure (a folder that cannot be made, a full disk) is raised as
    :class:`~varcolor.errors.OutputError` naming ``path``.
    """
    return _AtomicPath(Path(path))


class _AtomicPath:
    def __init__(self, path: Path):
        self.path, self.tmp = path, None

    def __enter__(self) -> Path:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=f"{self.path.suffix}.tmp",
                                       dir=self.path.parent)
        except OSError as exc:
            raise self._failed(exc) from exc
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                with open(self.tmp, "rb+") as f:
                    os.fsync(f.fileno())
                os.chmod(self.tmp, _new_file_mode(self.path))
                os.replace(self.tmp, self.path)
                return
            except OSError as error:
                exc = error
        self.tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise self._failed(exc) from exc

    def _failed(self, exc: OSError) -> OutputError:
        reason = "a file, not a folder" if isinstance(exc, FileExistsError) else exc.strerror or str(exc)
        if exc.filename and Path(exc.filename) not in (self.tmp, self.path):
            reason = f"{exc.filename}: {reason}"
        return OutputError(f"{self.path}: cannot write ({reason})")


def _new_file_mode(path: Path) -> int:
    # mkstemp makes 0600 files; give the result the mode a plain open() would (or the replaced file's).
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_image(path: str | os.PathLike, image: np.ndarray, bits: int = 8, quality: int = 95) -> None:
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

    Examples
    --------
    >>> import numpy as np, varcolor, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ramp.png")
    >>> varcolor.write_image(path, np.linspace(0, 1, 64).reshape(8, 8), bits=16)
    >>> float(varcolor.read_image(path)[-1, -1])
    1.0
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_EXTENSIONS:
        raise InputError(f"{path}: cannot write {suffix or 'files without extension'} "
                         f"(use one of {', '.join(WRITE_EXTENSIONS)})")
    if bits not in (8, 16):
        raise InputError(f"bits must be 8 or 16, not {bits}")
    if bits == 16 and suffix in (".jpg", ".jpeg"):
        raise InputError(f"{path}: JPEG holds 8 bits per sample only")
    image = np.asarray(image)
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise InputError(f"{path}: cannot write an array of shape {image.shape}")
    pixels = _quantize(image, bits)
    with atomic_path(path) as tmp:
        if suffix in (".tif", ".tiff"):
            tifffile.imwrite(tmp, pixels, photometric="minisblack" if pixels.ndim == 2 else "rgb",
                             compression="zlib")
        elif bits == 16:
            height, width = pixels.shape[:2]
            planes = 1 if pixels.ndim == 2 else pixels.shape[2]
            writer = png.Writer(width, height, greyscale=planes == 1, alpha=planes == 4, bitdepth=16)
            with open(tmp, "wb") as f:
                writer.write_array(f, pixels.reshape(-1))
        else:
            kwargs = {"quality": quality} if suffix in (".jpg", ".jpeg") else {}
            if suffix in (".jpg", ".jpeg") and pixels.ndim == 3 and pixels.shape[2] == 4:
                pixels = pixels[..., :3]
            Image.fromarray(pixels).save(tmp, format=_PIL_FORMAT[suffix], **kwargs)


_PIL_FORMAT = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def _quantize(image: np.ndarray, bits: int) -> np.ndarray:
    target = np.uint8 if bits == 8 else np.uint16
    if image.dtype == target:
        return image
    if image.dtype in (np.uint8, np.uint16):
        image = image / float(np.iinfo(image.dtype).max)
    top = float(np.iinfo(target).max)
    return np.round(np.clip(image, 0.0, 1.0) * top).astype(target)


def walk_images(root: str | os.PathLike) -> Iterator[Path]:
    """Yield the image files below ``root`` as paths relative to it, recursively, sorted by path.

    Hidden files and folders (names starting with '.') are skipped.
    """
    root = Path(root)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [(Path(folder) / name).relative_to(root) for name in files
                  if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_EXTENSIONS]
    yield from sorted(found, key=lambda p: p.as_posix())
