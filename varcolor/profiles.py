"""Embedded ICC colour profiles: pixels brought to sRGB, which the rest of varcolor assumes.

A photo saved in Adobe RGB (or any RGB, gray or CMYK space with an embedded ICC profile) holds
numbers that mean other colours than the same numbers in sRGB: read as sRGB, an Adobe RGB photo
is off by ΔE2000 2.6–3.5 and loses colourfulness. :func:`to_srgb` converts a Pillow image with
its embedded profile (LittleCMS, through Pillow's ``ImageCms``, relative colorimetric), and
warns naming the file; a profile that already maps colours as sRGB does (an embedded sRGB
profile) changes nothing and says nothing. What cannot be converted is refused with one line:
a profile that cannot be parsed, one whose colour space does not match the pixels (a Lab or CMYK
profile on RGB pixels), or a non-sRGB profile on 16-bit or floating-point samples
(:func:`check_srgb`; Pillow's colour management is 8-bit only).
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms

from .errors import InputError

__all__ = ["to_srgb", "check_srgb", "profile_name"]

#: A profile whose conversion moves no 8-bit colour of a test grid by more than this many levels
#: is taken as sRGB (embedded sRGB profiles differ from LittleCMS's own by a level in the shadows).
SRGB_LEVELS = 2
# Pillow image modes → the ICC colour space of their pixels.
_SPACE_OF_MODE = {"RGB": "RGB", "RGBA": "RGB", "L": "GRAY", "LA": "GRAY", "CMYK": "CMYK"}
_SRGB = ImageCms.createProfile("sRGB")


def _profile(data: bytes, path) -> ImageCms.ImageCmsProfile:
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(data))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: its embedded ICC profile cannot be read ({reason}); remove or repair it") from None


def profile_name(profile: ImageCms.ImageCmsProfile) -> str:
    """The profile's description (``"Adobe RGB (1998)"``), or ``"unnamed"``."""
    try:
        return (ImageCms.getProfileDescription(profile) or "").strip() or "unnamed"
    except ImageCms.PyCMSError:
        return "unnamed"


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


def to_srgb(im: Image.Image, path, warn) -> Image.Image:
    """``im`` with its embedded ICC profile applied: an ``RGB``/``RGBA`` image in sRGB (``L``/``LA``
    for a gray profile), or ``im`` itself without a profile or with an sRGB one. ``warn`` is called
    with one line naming ``path`` when the colours were converted.

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
    if space == "GRAY":  # a neutral gray stays neutral in sRGB: one channel is the gray
        converted = converted.getchannel("G")
    if alpha is not None:
        converted.putalpha(alpha)
    warn(f"{path}: converted to sRGB from its embedded ICC profile ({profile_name(profile)})")
    return converted
