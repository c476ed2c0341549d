"""Embedded ICC colour profiles: pixels brought to sRGB, which the rest of varcolor assumes.

A photo saved in Adobe RGB (or any RGB, gray or CMYK space with an embedded ICC profile) holds
numbers that mean other colours than the same numbers in sRGB: read as sRGB, an Adobe RGB photo
is off by ΔE2000 2.6–3.5 and loses colourfulness.
"""

from __future__ import annotations

import io
import os
import stat
import struct
from functools import lru_cache
from pathlib import Path

import imagecodecs
import numpy as np
from PIL import Image, ImageCms

from ..errors import InputError

__all__ = [
    "to_srgb",
    "check_srgb",
    "profile_name",
    "samples_to_srgb",
    "srgb_to_profile",
    "rgb_profile",
    "maps_as_srgb",
    "output_profile",
    "png_chunk_profile",
    "SRGB_ICC",
]

#: A profile whose conversion moves no 8-bit colour of a test grid by more than this many levels
#: is taken as sRGB (embedded sRGB profiles differ from LittleCMS's own by a level in the shadows).
SRGB_LEVELS = 2
#: The largest ICC profile file read (``--profile``): real ones are a few kB to a few MB.
MAX_PROFILE_BYTES = 16 << 20
# Pillow image modes → the ICC colour space of their pixels.
_SPACE_OF_MODE = {"RGB": "RGB", "RGBA": "RGB", "L": "GRAY", "LA": "GRAY", "CMYK": "CMYK"}
_SRGB = ImageCms.createProfile("sRGB")


def _dated(profile: bytes) -> bytes:
    """``profile`` with a fixed creation date: LittleCMS stamps the time it made it, and the same
    result must be the same bytes whichever process wrote it (serial and worker runs agree)."""
    fixed = bytearray(profile)
    fixed[24:36] = struct.pack(">6H", 2026, 1, 1, 0, 0, 0)  # the header's dateTimeNumber
    return bytes(fixed)


#: The sRGB ICC profile varcolor embeds in what it writes (LittleCMS's built-in sRGB, dated).
SRGB_ICC = _dated(imagecodecs.cms_profile("srgb"))
#: Samples converted at a time (a band of rows): a 40 MP scan is not doubled in float64 at once.
_BAND_SAMPLES = 1 << 22


def _profile(data: bytes, path, embedded: bool = True) -> ImageCms.ImageCmsProfile:
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(data))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        if not embedded:  # a profile file given as one (--profile)
            raise InputError(f"{path}: not an ICC profile LittleCMS can read ({reason})") from None
        raise InputError(f"{path}: its embedded ICC profile cannot be read ({reason}); remove or repair it") from None


def profile_name(profile: ImageCms.ImageCmsProfile) -> str:
    """The profile's description (``"Adobe RGB (1998)"``), or ``"unnamed"``; a character that
    does not print (a damaged file's newline, say) as ``?``.

    Parameters
    ----------
    profile : ImageCms.ImageCmsProfile
        The profile, as Pillow parsed it.
    """
    try:
        name = (ImageCms.getProfileDescription(profile) or "").strip()
    except ImageCms.PyCMSError:
        return "unnamed"
    return "".join(character if character.isprintable() else "?" for character in name) or "unnamed"


def _space(profile: ImageCms.ImageCmsProfile) -> str:
    return profile.profile.xcolor_space.strip()


@lru_cache(maxsize=32)
def _is_srgb(data: bytes) -> bool:
    """Whether the RGB or gray profile ``data`` maps a grid of 8-bit colours as sRGB does."""
    profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
    levels = np.linspace(0, 255, 18).round().astype(np.uint8)
    if _space(profile) == "GRAY":
        grid = Image.fromarray(np.arange(256, dtype=np.uint8)[None, :], "L")
        expected = np.repeat(np.asarray(grid)[..., None], 3, axis=2)
    else:
        cube = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(1, -1, 3)
        grid, expected = Image.fromarray(cube, "RGB"), cube
    converted = ImageCms.profileToProfile(grid, profile, _SRGB, outputMode="RGB")
    return int(np.abs(np.asarray(converted).astype(int) - expected.astype(int)).max()) <= SRGB_LEVELS


def maps_as_srgb(data: bytes) -> bool:
    """Whether the ICC profile ``data`` maps colours as sRGB does (another program's sRGB profile,
    whose bytes are not varcolor's :data:`SRGB_ICC`); False for one that cannot convert them.

    Parameters
    ----------
    data : bytes
        An RGB or gray ICC profile.
    """
    try:
        return _is_srgb(bytes(data))
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False


def _srgb_like(data: bytes, profile: ImageCms.ImageCmsProfile, path) -> bool:
    """:func:`_is_srgb`, a profile that parses but cannot transform (tags missing) refused in one line."""
    try:
        return _is_srgb(bytes(data))
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: its embedded ICC profile ({profile_name(profile)}) cannot convert colours ({exc}); "
            "remove or repair it"
        ) from None


def _check_space(profile: ImageCms.ImageCmsProfile, space: str, path) -> None:
    found = _space(profile)
    if found != space:
        raise InputError(
            f"{path}: its embedded ICC profile ({profile_name(profile)}) is for {found} colours, but the "
            f"pixels are {space}; varcolor cannot convert them to sRGB"
        )


def check_srgb(data: bytes | None, space: str, path, what: str) -> None:
    """Refuse ``what`` (pixels varcolor reads without colour management, e.g. 16-bit samples) when
    their embedded profile ``data`` (None: none) is not sRGB.

    Parameters
    ----------
    data : bytes or None
        The embedded ICC profile (None or empty: none, nothing refused).
    space : str
        The ICC colour space of the pixels: ``"RGB"``, ``"GRAY"`` or ``"CMYK"``.
    path : path-like
        The file, named in errors.
    what : str
        What the pixels are, as errors name them (``"16-bit samples"``).

    Examples
    --------
    >>> check_srgb(None, "RGB", "a.png", "16-bit samples")
    >>> check_srgb(b"junk", "RGB", "a.png", "16-bit samples")
    Traceback (most recent call last):
    varcolor.errors.InputError: a.png: its embedded ICC profile cannot be read (...); remove or repair it
    """
    if not data:
        return
    profile = _profile(data, path)
    _check_space(profile, space, path)
    if space == "CMYK" or not _srgb_like(data, profile, path):
        raise InputError(
            f"{path}: {what} with a non-sRGB ICC profile ({profile_name(profile)}) cannot be converted here; "
            "convert the image to sRGB first"
        )


#: sRGB's primaries and white (x, y), and the gAMA a PNG writer puts beside them (1/2.2): a PNG
#: saying no more than these is read as sRGB.
_SRGB_CHROMATICITY = (0.3127, 0.3290, 0.64, 0.33, 0.30, 0.60, 0.15, 0.06)
_SRGB_GAMA = 1 / 2.2


def png_chunk_profile(info: dict, gray: bool) -> bytes | None:
    """The ICC profile a PNG's ``gAMA`` and ``cHRM`` chunks describe (LittleCMS builds it), where
    it has no ``iCCP`` nor ``sRGB`` chunk and they say other than sRGB.

    Parameters
    ----------
    info : dict
        Pillow's ``Image.info`` of the PNG (``gamma``, ``chromaticity``, ``icc_profile``, ``srgb``).
    gray : bool
        A gray PNG (its profile is a gray one: the gamma alone).
    """
    if info.get("icc_profile") or "srgb" in info:
        return None
    gama, chromaticity = info.get("gamma"), info.get("chromaticity")
    if gama is None and chromaticity is None:
        return None
    gama = _SRGB_GAMA if gama is None or not gama > 0 else float(gama)
    chromaticity = _SRGB_CHROMATICITY if chromaticity is None or gray else tuple(map(float, chromaticity))
    if abs(gama - _SRGB_GAMA) < 0.01 and np.allclose(chromaticity, _SRGB_CHROMATICITY, atol=0.005):
        return None
    white = (chromaticity[0], chromaticity[1], 1.0)
    if gray:
        return imagecodecs.cms_profile("gray", whitepoint=white, gamma=1.0 / gama)
    r, g, b = chromaticity[2:4], chromaticity[4:6], chromaticity[6:8]
    return imagecodecs.cms_profile("rgb", whitepoint=white, primaries=(*r, 1.0, *g, 1.0, *b, 1.0), gamma=1.0 / gama)


def to_srgb(im: Image.Image, path, warn) -> Image.Image:
    """``im`` with its embedded ICC profile applied: an ``RGB``/``RGBA`` image in sRGB
    (``L``/``LA`` for a gray profile), or ``im`` itself without a profile or with an sRGB one.

    Parameters
    ----------
    im : PIL.Image.Image
        The image as read, its embedded profile (if any) in ``im.info["icc_profile"]``.
    path : path-like
        The file, named in warnings and errors.
    warn : callable
        Called with one line when the colours were converted.

    Examples
    --------
    >>> from PIL import Image
    >>> plain = Image.new("RGB", (2, 2), (200, 30, 30))
    >>> to_srgb(plain, "a.png", print) is plain
    True
    """
    data = im.info.get("icc_profile")
    if not data:
        return im
    profile = _profile(data, path)
    mode = im.mode
    if mode in ("P", "PA"):
        mode = "RGBA" if mode == "PA" or "transparency" in im.info else "RGB"
        im = im.convert(mode)
    elif mode == "1":
        mode, im = "L", im.convert("L")
    space = _SPACE_OF_MODE.get(mode)
    if space is None:
        raise InputError(f"{path}: an embedded ICC profile on {im.mode} pixels is not supported; convert to sRGB first")
    _check_space(profile, space, path)
    if space != "CMYK" and _srgb_like(data, profile, path):
        return im
    alpha = im.getchannel("A") if mode in ("RGBA", "LA") else None
    base = im.convert({"RGBA": "RGB", "LA": "L"}.get(mode, mode))
    try:
        converted = ImageCms.profileToProfile(
            base, profile, _SRGB, renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot convert its colours to sRGB with its ICC profile ({exc})") from None
    assert converted is not None  # a new image (None only in place)
    if space == "GRAY":  # a neutral gray stays neutral in sRGB: one channel is the gray
        converted = converted.getchannel("G")
    if alpha is not None:
        converted.putalpha(alpha)
    warn(f"{path}: converted to sRGB from its embedded ICC profile ({profile_name(profile)})")
    return converted


def _transform(samples: np.ndarray, source: bytes, target: bytes, space: str, out_space: str, path) -> np.ndarray:
    """``samples`` (floats in [0, 1], ``H×W`` gray or ``H×W×3`` RGB) from ``source`` to ``target``
    in double precision, a band of rows at a time; out-of-gamut values are clipped to [0, 1]."""
    shape = samples.shape[:2] + ((3,) if out_space == "rgb" else ())
    out = np.empty(shape, dtype=np.float64)
    rows = max(1, _BAND_SAMPLES // max(1, samples[:1].size))
    try:
        for start in range(0, samples.shape[0], rows):
            band = np.ascontiguousarray(samples[start : start + rows], dtype=np.float64)
            out[start : start + rows] = imagecodecs.cms_transform(
                band,
                source,
                target,
                colorspace=space,
                outcolorspace=out_space,
                outdtype=np.float64,
                intent=imagecodecs.CMS.INTENT.RELATIVE_COLORIMETRIC,
            )
    except (imagecodecs.CmsError, ValueError, TypeError) as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot convert its colours with its ICC profile ({reason})") from None
    if not np.all(np.isfinite(out)):
        raise InputError(f"{path}: its ICC profile maps colours to non-finite values; remove or repair it")
    return np.clip(out, 0.0, 1.0, out=out)


def samples_to_srgb(samples: np.ndarray, data: bytes | None, path, warn) -> np.ndarray:
    """16-bit or floating-point ``samples`` (floats in [0, 1]: ``H×W`` gray, ``H×W×3`` RGB or
    ``H×W×4`` RGBA) brought to sRGB with their embedded ICC profile ``data``.

    Parameters
    ----------
    samples : ndarray
        The file's samples scaled to [0, 1].
    data : bytes or None
        The embedded ICC profile (None or empty: the samples are sRGB already).
    path : path-like
        The file, named in warnings and errors.
    warn : callable
        Called with one line naming ``path`` when the colours were converted.

    Returns
    -------
    ndarray
        ``samples`` itself (no profile, or an sRGB one), or the converted samples.

    Examples
    --------
    >>> import numpy as np, imagecodecs
    >>> gamma22 = imagecodecs.cms_profile("gray", gamma=2.2)
    >>> gray = samples_to_srgb(np.full((1, 1), 0.5), gamma22, "a.tif", print)
    a.tif: converted to sRGB from its embedded ICC profile (...)
    >>> round(float(gray[0, 0]), 3)  # 0.5 ** 2.2 of white, in sRGB's own curve (close to gamma 2.2)
    0.504
    """
    if not data:
        return samples
    profile = _profile(data, path)
    space = "GRAY" if samples.ndim == 2 else "RGB"
    _check_space(profile, space, path)
    if _srgb_like(data, profile, path):
        return samples
    if space == "GRAY":  # a neutral gray stays neutral in sRGB: one channel is the gray
        converted = _transform(samples, bytes(data), SRGB_ICC, "gray", "rgb", path)[..., 1]
    else:
        converted = _transform(samples[..., :3], bytes(data), SRGB_ICC, "rgb", "rgb", path)
        if samples.shape[2] == 4:
            converted = np.concatenate([converted, samples[..., 3:]], axis=2)
    warn(f"{path}: converted to sRGB from its embedded ICC profile ({profile_name(profile)})")
    return converted


def rgb_profile(data: bytes | None, path, *, embedded: bool = True) -> bytes | None:
    """``data`` when it is an RGB profile LittleCMS can convert sRGB into, None for a gray
    profile or none (the result of a gray photo is written in sRGB).

    Parameters
    ----------
    data : bytes or None
        The ICC profile (None or empty: none).
    path : path-like
        The file it came from, named in errors.
    embedded : bool
        Whether it is embedded in ``path`` (else ``path`` is the profile itself), for errors.
    """
    if not data:
        return None
    profile = _profile(data, path, embedded)
    if _space(profile) == "GRAY":
        return None
    _check_space(profile, "RGB", path)
    _transform(np.full((1, 1, 3), 0.5), SRGB_ICC, bytes(data), "rgb", "rgb", path)
    return bytes(data)


def srgb_to_profile(rgb: np.ndarray, data: bytes, path) -> np.ndarray:
    """sRGB floats ``rgb`` (``H×W×3``) in the RGB space of the ICC profile ``data`` (LittleCMS,
    double precision, relative colorimetric): what :func:`samples_to_srgb` undoes."""
    if data == SRGB_ICC:
        return rgb
    return _transform(rgb, SRGB_ICC, data, "rgb", "rgb", path)


def output_profile(choice: str | os.PathLike | None, embedded: bytes | None = None, source=None) -> bytes:
    """The RGB ICC profile a colour result is written in.

    Parameters
    ----------
    choice : str or path-like or None
        None or ``"srgb"``: :data:`SRGB_ICC`; ``"input"``: the input's own RGB profile
        (``embedded``; sRGB where it has none or a gray one); else an ICC file.
    embedded : bytes or None
        The input's embedded profile, for ``"input"``.
    source : path-like or None
        The input, named in errors.

    Examples
    --------
    >>> output_profile(None) == output_profile("input", None, "gray.tif") == SRGB_ICC
    True
    """
    if choice is None or str(choice).lower() == "srgb":
        return SRGB_ICC
    if str(choice).lower() == "input":
        return rgb_profile(embedded, source) or SRGB_ICC
    path = Path(choice)
    try:
        # A profile is a small regular file: a FIFO would block the read for ever, a device
        # (/dev/zero) would never end; both refused from the file's kind, before it is opened.
        kind = os.stat(path).st_mode
        if not stat.S_ISREG(kind):
            raise InputError(f"{path}: not a regular file; an ICC profile is a small file (.icc, .icm)")
        with open(path, "rb") as f:
            data = f.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read this ICC profile ({exc.strerror or type(exc).__name__})") from None
    if len(data) > MAX_PROFILE_BYTES:
        raise InputError(f"{path}: more than {MAX_PROFILE_BYTES >> 20} MB; no ICC profile is that large")
    found = rgb_profile(data, path, embedded=False)
    if found is None:
        raise InputError(f"{path}: not an RGB ICC profile; a colour result needs one")
    return found
