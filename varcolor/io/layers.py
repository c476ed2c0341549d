"""Layered files: OpenRaster (``.ora``: Krita, GIMP, MyPaint) and Photoshop (``.psd``) read as a
stack of layers (writing them: :mod:`varcolor.io.stack`).

A photo restorer keeps the scan and the strokes painted on it as layers of one file; varcolor
takes the photo from one layer and the strokes from another (:func:`pick_layers`) and writes its
result back as layers (:func:`varcolor.io.stack.write_layers`): the untouched photo at the bottom, the colorized
photo above it (normal blending, opaque, so that the file's composite is the flat result), the
strokes hidden on top.

OpenRaster is a zip of ``mimetype``, ``stack.xml``, one PNG per layer and ``mergedimage.png``
(the composite); it is read and written here (``zipfile``, ElementTree on a bounded
``stack.xml``). PSD goes through ``psd-tools`` (8 and 16 bits, RGB and gray). Layers come back
bottom to top as straight-alpha RGBA floats of the canvas's size.
"""

from __future__ import annotations

import os
import struct
import warnings
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import png

from ..errors import MAX_PIXELS, InputError
from ..profiles import samples_to_srgb

__all__ = [
    "Layer",
    "is_layered",
    "read_layers",
    "canvas_shape",
    "pick_layers",
    "composite_of",
    "LAYERED_EXTENSIONS",
]

#: The layered files read (here) and written (:mod:`varcolor.io.stack`).
LAYERED_EXTENSIONS = (".ora", ".psd")
_ORA_MIME = b"image/openraster"
#: The largest ``stack.xml`` read: a stack of thousands of layers is a few hundred kB.
_STACK_BYTES = 4 << 20


@dataclass(frozen=True)
class Layer:
    """One layer: its ``name``, ``pixels`` (``H×W×4`` straight-alpha floats in [0, 1], the canvas's
    size) and whether it is ``visible``."""

    name: str
    pixels: np.ndarray
    visible: bool = True


def is_layered(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a layered file (by its extension).

    >>> is_layered("work.ORA"), is_layered("work.png")
    (True, False)
    """
    return Path(path).suffix.lower() in LAYERED_EXTENSIONS


def read_layers(path: str | os.PathLike, *, max_pixels: int | None = MAX_PIXELS) -> tuple[list[Layer], int]:
    """The layers of an ``.ora`` or ``.psd`` file, bottom to top, and its bits per sample (8 or 16).

    Parameters
    ----------
    path : path-like
        The layered file.
    max_pixels : int or None
        Refuse a canvas of more pixels, from the header, before any layer is decoded.

    Raises
    ------
    InputError
        Missing, damaged, or a layout not read here (CMYK, 32-bit PSD), in one line naming ``path``.
    """
    return _reading(path, lambda p: (_read_ora if p.suffix.lower() == ".ora" else _read_psd)(p, max_pixels))


def canvas_shape(path: str | os.PathLike, *, max_pixels: int | None = None) -> tuple[int, int]:
    """``(H, W)`` of a layered file's canvas, from ``stack.xml`` or the PSD header (no layer
    decoded); more than ``max_pixels`` refused."""

    def shape(path: Path) -> tuple[int, int]:
        if path.suffix.lower() == ".ora":
            with zipfile.ZipFile(path) as ora:
                height, width = _ora_header(ora, path)
        else:  # the 26-byte header: "8BPS", version, 6 reserved, channels, height, width, depth, mode
            with open(path, "rb") as f:
                header = f.read(26)
            if len(header) < 26 or header[:4] != b"8BPS":
                raise InputError(f"{path}: not a Photoshop file")
            height, width = struct.unpack(">II", header[14:22])
        _check_canvas(path, width, height, max_pixels)
        return height, width

    return _reading(path, shape)


def _reading(path, read):
    """``read(path)``, a missing or damaged file refused in one line naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        return read(path)
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"{path}: not enough memory to read this file") from None
    except Exception as exc:  # noqa: BLE001 - zipfile, expat, pypng and psd-tools raise many types on bad files
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read layers ({reason})") from None


def _check_canvas(path: Path, width: int, height: int, max_pixels: int | None) -> None:
    if width < 1 or height < 1:
        raise InputError(f"{path}: an empty canvas ({width}×{height})")
    if max_pixels is not None and width * height > max_pixels:
        raise InputError(f"{path}: {width}×{height} is more than {max_pixels} pixels")


def _png_rgba(data: bytes, max_pixels: int | None, path: Path, name: str) -> tuple[np.ndarray, int]:
    """A PNG's pixels as straight-alpha RGBA floats, and its bit depth (8 or 16)."""
    reader = png.Reader(bytes=data)
    reader.preamble()
    _check_canvas(path, reader.width, reader.height, max_pixels)
    width, height, rows, info = reader.asRGBA()
    depth = info["bitdepth"]
    pixels = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows]).reshape(height, width, 4)
    return pixels / float(2**depth - 1), 16 if depth > 8 else 8


def _ora_stack(root: ET.Element, visible: bool, found: list[tuple[ET.Element, bool]]) -> None:
    """The ``layer`` elements under a stack, top to bottom, each with whether it shows (a hidden
    group hides its layers)."""
    for child in root:
        shows = visible and child.get("visibility", "visible") != "hidden"
        if child.tag == "stack":
            _ora_stack(child, shows, found)
        elif child.tag == "layer":
            found.append((child, shows))


def _read_ora(path: Path, max_pixels: int | None) -> tuple[list[Layer], int]:
    with zipfile.ZipFile(path) as ora:
        root = _ora_root(ora, path)
        height, width = _ora_header(ora, path, root)
        _check_canvas(path, width, height, max_pixels)
        found: list[tuple[ET.Element, bool]] = []
        for stack in root.findall("stack"):
            _ora_stack(stack, stack.get("visibility", "visible") != "hidden", found)
        layers, bits = [], 8
        for element, shows in reversed(found):  # stack.xml lists the top first
            name = element.get("name") or element.get("src", "")
            pixels, depth = _png_rgba(ora.read(element.get("src", "")), max_pixels, path, name)
            bits = max(bits, depth)
            opacity = float(element.get("opacity", "1"))
            canvas = np.zeros((height, width, 4))
            _place(canvas, pixels, int(float(element.get("y", 0))), int(float(element.get("x", 0))))
            canvas[..., 3] *= min(max(opacity, 0.0), 1.0)
            layers.append(Layer(name, canvas, shows))
    return layers, bits


def _ora_root(ora: zipfile.ZipFile, path: Path) -> ET.Element:
    """``stack.xml``'s root, after checking the mimetype and the size (a bounded parse)."""
    if ora.read("mimetype").strip() != _ORA_MIME:
        raise InputError(f"{path}: not an OpenRaster file (its mimetype is not image/openraster)")
    info = ora.getinfo("stack.xml")
    if info.file_size > _STACK_BYTES:
        raise InputError(f"{path}: its stack.xml is {info.file_size} bytes; more than {_STACK_BYTES} is refused")
    root = ET.fromstring(ora.read(info))
    if root.tag != "image":
        raise InputError(f"{path}: stack.xml does not describe an image")
    return root


def _ora_header(ora: zipfile.ZipFile, path: Path, root: ET.Element | None = None) -> tuple[int, int]:
    root = _ora_root(ora, path) if root is None else root
    return int(root.get("h", 0)), int(root.get("w", 0))


def _place(canvas: np.ndarray, pixels: np.ndarray, top: int, left: int) -> None:
    """``pixels`` put on ``canvas`` at (top, left), what falls outside cut off."""
    height, width = canvas.shape[:2]
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + pixels.shape[0], height), min(left + pixels.shape[1], width)
    if y1 > y0 and x1 > x0:
        canvas[y0:y1, x0:x1, : pixels.shape[2]] = pixels[y0 - top : y1 - top, x0 - left : x1 - left]


def _psd_tools():
    try:
        import psd_tools
    except ImportError:
        raise InputError("Photoshop files need psd-tools: pip install 'varcolor[layers]'") from None
    return psd_tools


def _read_psd(path: Path, max_pixels: int | None) -> tuple[list[Layer], int]:
    _psd_tools()
    from psd_tools import PSDImage
    from psd_tools.constants import ColorMode, Resource

    psd = PSDImage.open(path)
    _check_canvas(path, psd.width, psd.height, max_pixels)
    if psd.color_mode not in (ColorMode.RGB, ColorMode.GRAYSCALE) or psd.depth not in (8, 16):
        raise InputError(
            f"{path}: a {psd.depth}-bit {psd.color_mode.name} PSD; varcolor reads 8- and 16-bit RGB or gray ones"
        )
    icc = psd.image_resources.get_data(Resource.ICC_PROFILE)
    warned: list[str] = []

    def rgba(data: np.ndarray, opacity: float) -> np.ndarray:
        """A layer's samples in sRGB (its document's ICC profile applied), with alpha."""
        data = np.asarray(data, dtype=np.float64)
        data = data[..., None] if data.ndim == 2 else data
        colour = samples_to_srgb(data[..., :3] if data.shape[2] >= 3 else data[..., 0], icc, path, warned.append)
        colour = colour if colour.ndim == 3 else np.repeat(colour[..., None], 3, axis=2)
        alpha = data[..., -1:] if data.shape[2] in (2, 4) else np.ones(data.shape[:2] + (1,))
        return np.concatenate([colour, alpha * opacity], axis=2)

    layers = []
    for layer in psd.descendants():
        if layer.is_group() or not layer.has_pixels():
            continue
        canvas = np.zeros((psd.height, psd.width, 4))
        _place(canvas, rgba(layer.numpy(), layer.opacity / 255.0), layer.top, layer.left)
        layers.append(Layer(layer.name, canvas, layer.is_visible()))
    if not layers:  # a flat PSD: its composite is the one layer
        layers.append(Layer("Background", rgba(psd.numpy(), 1.0)))
    if warned:  # once per file, not per layer
        warnings.warn(warned[0], stacklevel=3)
    return layers, psd.depth


def pick_layers(
    layers: list[Layer], path: str | os.PathLike, photo: str | None = None, strokes: str | None = None
) -> tuple[Layer, Layer | None]:
    """The photo layer and the stroke layer (None: none) of a stack, hidden layers ignored.

    The photo is the layer named ``photo``, else the bottom visible one; the strokes are the layer
    named ``strokes``, else the visible layer right above the photo. More than two visible layers
    with neither named, a name that is missing, hidden or given twice: one line naming the layers.

    Parameters
    ----------
    layers : list of Layer
        Bottom to top (:func:`read_layers`).
    path : path-like
        The file, named in errors.
    photo, strokes : str or None
        Layer names (``--layer``, ``--strokes-layer``).
    """
    shown = [layer for layer in layers if layer.visible]
    listing = ", ".join(f"{layer.name!r}" + ("" if layer.visible else " (hidden)") for layer in reversed(layers))

    def named(name: str, flag: str) -> Layer:
        matches = [layer for layer in layers if layer.name == name]
        if not matches:
            raise InputError(f"{path}: no layer named {name!r} ({flag}); its layers, top first: {listing}")
        if len(matches) > 1:
            raise InputError(f"{path}: {len(matches)} layers are named {name!r} ({flag}); rename one: {listing}")
        if not matches[0].visible:
            raise InputError(f"{path}: layer {name!r} ({flag}) is hidden; show it or name another: {listing}")
        return matches[0]

    if not shown:
        raise InputError(f"{path}: every layer is hidden ({listing})")
    if photo is None and strokes is None and len(shown) > 2:
        raise InputError(
            f"{path}: {len(shown)} visible layers ({listing}); name the photo (--layer) and the strokes "
            "(--strokes-layer), or hide the others"
        )
    base = named(photo, "--layer") if photo is not None else shown[0]
    if strokes is not None:
        marks = named(strokes, "--strokes-layer")
        if marks is base:
            raise InputError(f"{path}: layer {strokes!r} cannot be both the photo and the strokes")
        return base, marks
    above = shown[shown.index(base) + 1 :]
    return base, above[0] if above else None


def composite_of(layers: list[Layer]) -> np.ndarray:
    """The visible layers blended bottom to top in normal mode ("over"), as straight-alpha RGBA."""
    out = np.zeros_like(layers[0].pixels)
    for layer in layers:
        if not layer.visible:
            continue
        alpha = layer.pixels[..., 3:]
        total = alpha + out[..., 3:] * (1.0 - alpha)
        with np.errstate(invalid="ignore", divide="ignore"):
            colour = (layer.pixels[..., :3] * alpha + out[..., :3] * out[..., 3:] * (1.0 - alpha)) / total
        out[..., :3] = np.where(total > 0, colour, 0.0)
        out[..., 3:] = total
    return out
