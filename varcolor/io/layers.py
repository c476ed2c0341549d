"""Layered files: OpenRaster (``.ora``: Krita, GIMP, MyPaint) and Photoshop (``.psd``) read as a
stack of layers (writing them: :mod:`varcolor.io.stack`).
"""

from __future__ import annotations

import os
import struct
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import png

from ..common.memory import check_memory
from ..errors import MAX_PIXELS, InputError, tell
from .profiles import samples_to_srgb

__all__ = [
    "Layer",
    "Entry",
    "Stack",
    "is_layered",
    "open_stack",
    "read_layers",
    "check_layered_output",
    "canvas_shape",
    "pick_layers",
    "composite_of",
    "LAYERED_EXTENSIONS",
    "MAX_LAYERS",
]

#: The layered files read (here) and written (:mod:`varcolor.io.stack`).
LAYERED_EXTENSIONS = (".ora", ".psd")
_ORA_MIME = b"image/openraster"
#: A layered file of more layers is refused from its headers, before any layer's header is read
#: (a painting has at most a few hundred; benchmarks/results/code_notes.md).
MAX_LAYERS = 1000
#: The largest ``stack.xml`` read: a stack of thousands of layers is a few hundred kB.
_STACK_BYTES = 4 << 20
#: A layer decoded at the canvas's size: four float64 samples a pixel.
_LAYER_BYTES = 32
#: A layer may declare this many canvases' worth of pixels, plus a spare (a small canvas's layer
#: reaching past its edges): a larger one is refused from its header, not decoded to be cut off.
_LAYER_SLACK, _LAYER_SPARE = 4, 1 << 20
#: Bytes a layer PNG may hold beyond its deflated scanlines' worst case: chunk headers, a colour
#: profile, text; more is data after the image, refused rather than read.
_PNG_SPARE = 4 << 20


@dataclass(frozen=True)
class Layer:
    """One layer: its ``name``, ``pixels`` (``H×W×4`` straight-alpha floats in [0, 1], the canvas's
    size) and whether it is ``visible``."""

    name: str
    pixels: np.ndarray
    visible: bool = True


def is_layered(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a layered file (by its extension).

    Parameters
    ----------
    path : path-like
        The file's name; only its extension is read (``.ora`` or ``.psd``, any case).

    Examples
    --------
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
    """
    stack = open_stack(path, max_pixels=max_pixels)
    height, width = stack.shape
    check_memory(len(stack.entries) * height * width * _LAYER_BYTES, f"{path}: its {len(stack.entries)} layers")
    return [stack.layer(entry) for entry in stack.entries], stack.bits()


def canvas_shape(path: str | os.PathLike, *, max_pixels: int | None = None) -> tuple[int, int]:
    """``(H, W)`` of a layered file's canvas, from ``stack.xml`` or the PSD header (no layer
    decoded); more than ``max_pixels`` refused.

    Parameters
    ----------
    path : path-like
        The ``.ora`` or ``.psd`` file.
    max_pixels : int or None, optional
        Refuse a canvas of more pixels (default None: any size).
    """

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


@dataclass(frozen=True)
class Entry:
    """A layer as its file's headers describe it, no pixel decoded: its ``name``, whether it is ``visible``,
    its box on the canvas (``top``, ``left``, ``height``, ``width``; it may reach past the canvas).
    """

    name: str
    visible: bool
    top: int
    left: int
    height: int
    width: int
    opacity: float
    bits: int
    key: object


class Stack:
    """A layered file opened from its headers: the canvas's ``shape``, the layers' :class:`Entry` s
    (``entries``, bottom to top); a layer's pixels are decoded only when asked for.
    """

    def __init__(self, path: Path, shape: tuple[int, int], entries: list[Entry], decode) -> None:
        # ``decode(entry)``: the layer's pixels (straight-alpha RGBA, its opacity applied) that are
        # on the canvas, and the canvas's row and column of their top-left pixel.
        self.path, self.shape, self.entries, self._decode = path, shape, entries, decode

    def bits(self, entries: list[Entry] | None = None) -> int:
        """Bits per sample of ``entries`` (default all): 16 where any has more than 8.

        Parameters
        ----------
        entries : list of Entry, optional
            The layers to look at (default None: all the file's).
        """
        return 16 if any(entry.bits > 8 for entry in (self.entries if entries is None else entries)) else 8

    def layer(self, entry: Entry) -> Layer:
        """The layer of ``entry`` decoded, at the canvas's size.

        Parameters
        ----------
        entry : Entry
            One of the stack's ``entries``.
        """
        canvas = np.zeros(self.shape + (4,))
        _place(canvas, *_reading(self.path, lambda _: self._decode(entry)))
        return Layer(entry.name, canvas, entry.visible)

    def composite(self) -> np.ndarray:
        """What the file shows: its visible layers blended bottom to top in normal mode ("over"), as
        straight-alpha RGBA; one layer decoded at a time, blended over its own box only."""
        height, width = self.shape
        check_memory(2 * height * width * _LAYER_BYTES, f"{self.path}: its composite")
        out = np.zeros(self.shape + (4,))
        for entry in self.entries:
            if not entry.visible:
                continue
            pixels, top, left = _reading(self.path, lambda _, entry=entry: self._decode(entry))
            y0, x0 = max(top, 0), max(left, 0)
            y1, x1 = min(top + pixels.shape[0], height), min(left + pixels.shape[1], width)
            if y1 > y0 and x1 > x0:
                box = (slice(y0, y1), slice(x0, x1))
                _over(out[box], pixels[y0 - top : y1 - top, x0 - left : x1 - left])
        return out


def open_stack(path: str | os.PathLike, *, max_pixels: int | None = MAX_PIXELS) -> Stack:
    """A layered file's :class:`Stack`, from its headers only (``stack.xml``, the zip's directory and each
    layer PNG's header; the PSD's layer records): a canvas of more than ``max_pixels`` is refused.

    Parameters
    ----------
    path : path-like
        The ``.ora`` or ``.psd`` file.
    max_pixels : int or None
        The largest canvas read.
    """
    return _reading(path, lambda p: (_open_ora if p.suffix.lower() == ".ora" else _open_psd)(p, max_pixels))


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


def _check_count(path: Path, count: int) -> None:
    if count > MAX_LAYERS:
        raise InputError(
            f"{path}: {count:,} layers, more than the {MAX_LAYERS:,} read; merge or delete some "
            "(or give the photo and the strokes as flat images)"
        )


def _psd_layer_count(path: Path) -> int:
    """The layer count a PSD (or PSB) declares in its layer info section, from the bytes before
    it (0 where it declares none there: 16-bit files may keep their layers elsewhere)."""
    with open(path, "rb") as f:
        header = f.read(26)
        wide = 8 if header[4:6] == b"\x00\x02" else 4  # PSB: 8-byte section lengths
        for _ in range(2):  # colour mode data, image resources
            (length,) = struct.unpack(">I", f.read(4) or b"\0\0\0\0")
            f.seek(length, os.SEEK_CUR)
        sizes = f.read(2 * wide + 2)
    if len(sizes) < 2 * wide + 2 or int.from_bytes(sizes[wide : 2 * wide], "big") == 0:
        return 0
    return abs(struct.unpack(">h", sizes[2 * wide :])[0])  # negative: the first alpha is the merged one's


def _check_layer(path: Path, name: str, width: int, height: int, shape: tuple[int, int]) -> None:
    """Refuse a layer declaring far more pixels than its canvas (its pixels past the canvas are
    cut off: decoding them is work for nothing)."""
    canvas = shape[0] * shape[1]
    if width < 0 or height < 0 or width * height > _LAYER_SLACK * canvas + _LAYER_SPARE:
        raise InputError(
            f"{path}: layer {name!r} is {width}×{height} on a {shape[1]}×{shape[0]} canvas; "
            f"more than {_LAYER_SLACK} canvases' worth of pixels is refused"
        )


def _png_header(ora: zipfile.ZipFile, member: str, path: Path) -> tuple[int, int, int, int]:
    """``(width, height, bit depth, bytes of its decompressed scanlines)`` from a layer PNG's
    IHDR, the member's first 33 bytes."""
    with ora.open(member) as f:
        head = f.read(33)
    if len(head) < 33 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise InputError(f"{path}: {member} is not a PNG image")
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if channels is None or depth not in (1, 2, 4, 8, 16):
        raise InputError(f"{path}: {member} is a PNG of a layout no PNG has (colour type {colour}, depth {depth})")
    return width, height, depth, height * (1 + -(-width * channels * depth // 8))


def _png_rgba(data: bytes, rows_kept: slice, cols_kept: slice) -> np.ndarray:
    """A PNG's pixels as straight-alpha RGBA floats, only ``rows_kept`` x ``cols_kept`` of them
    (the part on the canvas); rows past it are never decoded."""
    width, height, rows, info = png.Reader(bytes=data).asRGBA()
    scale = float(2 ** info["bitdepth"] - 1)
    kept = []
    for index, row in enumerate(rows):
        if index >= rows_kept.stop:
            break
        if index >= rows_kept.start:
            kept.append(np.asarray(row, dtype=np.uint16).reshape(width, 4)[cols_kept])
    if not kept:
        return np.zeros((0, 0, 4))
    return np.stack(kept) / scale


def _ora_stack(root: ET.Element, visible: bool, found: list[tuple[ET.Element, bool]]) -> None:
    """The ``layer`` elements under a stack, top to bottom, each with whether it shows (a hidden
    group hides its layers)."""
    for child in root:
        shows = visible and child.get("visibility", "visible") != "hidden"
        if child.tag == "stack":
            _ora_stack(child, shows, found)
        elif child.tag == "layer":
            found.append((child, shows))


def _open_ora(path: Path, max_pixels: int | None) -> Stack:
    with zipfile.ZipFile(path) as ora:
        root = _ora_root(ora, path)
        height, width = _ora_header(ora, path, root)
        _check_canvas(path, width, height, max_pixels)
        _check_count(path, sum(1 for _ in root.iter("layer")))
        found: list[tuple[ET.Element, bool]] = []
        for stack in root.findall("stack"):
            _ora_stack(stack, stack.get("visibility", "visible") != "hidden", found)
        entries = []
        for element, shows in reversed(found):  # stack.xml lists the top first
            src = element.get("src", "")
            name = element.get("name") or src
            layer_width, layer_height, depth, raw = _png_header(ora, src, path)
            _check_layer(path, name, layer_width, layer_height, (height, width))
            top, left = int(float(element.get("y", 0))), int(float(element.get("x", 0)))
            opacity = min(max(float(element.get("opacity", "1")), 0.0), 1.0)
            entries.append(Entry(name, shows, top, left, layer_height, layer_width, opacity, depth, (src, raw)))

    def decode(entry: Entry) -> tuple[np.ndarray, int, int]:
        assert isinstance(entry.key, tuple)  # an OpenRaster layer's: (its PNG's name, its size)
        src, raw = entry.key
        # A PNG holds its scanlines deflated, in chunks: never more than this (stored blocks, chunk
        # headers, profile and text chunks within the spare); more is data after the image.
        limit = raw + raw // 8 + _PNG_SPARE
        with zipfile.ZipFile(path) as ora, ora.open(src) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise InputError(
                f"{path}: {src} holds more than {limit:,} bytes, more than its {entry.width}×{entry.height} "
                "PNG can (data after the image?)"
            )
        rows = slice(max(-entry.top, 0), max(min(height - entry.top, entry.height), 0))
        cols = slice(max(-entry.left, 0), max(min(width - entry.left, entry.width), 0))
        pixels = _png_rgba(data, rows, cols)
        pixels[..., 3] *= entry.opacity
        return pixels, entry.top + rows.start, entry.left + cols.start

    return Stack(path, (height, width), entries, decode)


def _ora_root(ora: zipfile.ZipFile, path: Path) -> ET.Element:
    """``stack.xml``'s root, after checking the mimetype and the size (a bounded parse)."""
    if _member(ora, "mimetype", path, 64).strip() != _ORA_MIME:
        raise InputError(f"{path}: not an OpenRaster file (its mimetype is not image/openraster)")
    root = ET.fromstring(_member(ora, "stack.xml", path, _STACK_BYTES))
    if root.tag != "image":
        raise InputError(f"{path}: stack.xml does not describe an image")
    return root


def _member(ora: zipfile.ZipFile, name: str, path: Path, limit: int) -> bytes:
    """A zip member's bytes, at most ``limit`` of them read (the directory's sizes can lie)."""
    with ora.open(name) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{path}: its {name} is more than {limit} bytes; that is refused")
    return data


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


def check_layered_output(path: str | os.PathLike) -> None:
    """Refuse, before any work, a layered output that cannot be written here (a ``.psd`` without
    psd-tools), in one line.

    Parameters
    ----------
    path : path-like
        The layered file to be written (``.ora`` or ``.psd``).
    """
    if Path(path).suffix.lower() == ".psd":
        try:
            _psd_tools()
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None


def _open_psd(path: Path, max_pixels: int | None) -> Stack:
    canvas_shape(path, max_pixels=max_pixels)  # from the 26-byte header, before psd-tools parses the file
    _check_count(path, _psd_layer_count(path))
    _psd_tools()
    from psd_tools import PSDImage
    from psd_tools.api.layers import Layer
    from psd_tools.constants import ColorMode, Resource

    psd = PSDImage.open(path)
    _check_canvas(path, psd.width, psd.height, max_pixels)
    if psd.color_mode not in (ColorMode.RGB, ColorMode.GRAYSCALE) or psd.depth not in (8, 16):
        raise InputError(
            f"{path}: a {psd.depth}-bit {psd.color_mode.name} PSD; varcolor reads 8- and 16-bit RGB or gray ones"
        )
    icc = psd.image_resources.get_data(Resource.ICC_PROFILE)
    shape = (psd.height, psd.width)
    warned: list[str] = []

    def rgba(data: np.ndarray, opacity: float) -> np.ndarray:
        """A layer's samples in sRGB (its document's ICC profile applied), with alpha."""
        data = np.asarray(data, dtype=np.float64)
        data = data[..., None] if data.ndim == 2 else data
        colour = samples_to_srgb(data[..., :3] if data.shape[2] >= 3 else data[..., 0], icc, path, warned.append)
        colour = colour if colour.ndim == 3 else np.repeat(colour[..., None], 3, axis=2)
        alpha = data[..., -1:] if data.shape[2] in (2, 4) else np.ones(data.shape[:2] + (1,))
        return np.concatenate([colour, alpha * opacity], axis=2)

    entries = []
    for layer in psd.descendants():
        if layer.is_group() or not layer.has_pixels():
            continue
        _check_layer(path, layer.name, layer.width, layer.height, shape)
        visible, opacity = layer.is_visible(), layer.opacity / 255.0
        entries.append(
            Entry(layer.name, visible, layer.top, layer.left, layer.height, layer.width, opacity, psd.depth, layer)
        )
    _check_count(path, len(entries))  # layers kept where the count above could not see them
    if not entries:  # a flat PSD: its composite is the one layer
        entries.append(Entry("Background", True, 0, 0, psd.height, psd.width, 1.0, psd.depth, None))

    said: list[bool] = []

    def decode(entry: Entry) -> tuple[np.ndarray, int, int]:
        assert entry.key is None or isinstance(entry.key, Layer)  # a PSD's layer, or its composite
        data = psd.numpy() if entry.key is None else entry.key.numpy()
        if data is None:  # (psd-tools' for a layer without pixels, which were left out above)
            raise InputError(f"{path}: the layer {entry.name!r} holds no pixels")
        pixels = rgba(data, entry.opacity)
        if warned and not said:  # once per file, not per layer
            tell(warned[0], stacklevel=4)
            said.append(True)
        return pixels, entry.top, entry.left

    return Stack(path, shape, entries, decode)


#: The layers varcolor writes (:func:`write_layers` of a result), bottom to top: fed back in, the
#: photo and its strokes are taken from them.
RESULT_LAYERS = ("photo", "colorized", "strokes")


def pick_layers(layers: list, path: str | os.PathLike, photo: str | None = None, strokes: str | None = None):
    """The photo layer and the stroke layer (None: none) of a stack: the layers named ``photo`` and
    ``strokes``, else the bottom visible one and the visible one right above it.

    Parameters
    ----------
    layers : list of Layer or Entry
        Bottom to top (:func:`read_layers`, or a :class:`Stack`'s ``entries``).
    path : path-like
        The file, named in errors.
    photo, strokes : str or None
        Layer names (``--layer``, ``--strokes-layer``).
    """
    shown = [layer for layer in layers if layer.visible]
    listing = ", ".join(f"{layer.name!r}" + ("" if layer.visible else " (hidden)") for layer in reversed(layers))

    def named(name: str, flag: str):
        matches = [layer for layer in layers if layer.name == name]
        if not matches:
            raise InputError(f"{path}: no layer named {name!r} ({flag}); its layers, top first: {listing}")
        if len(matches) > 1:
            raise InputError(f"{path}: {len(matches)} layers are named {name!r} ({flag}); rename one: {listing}")
        return matches[0]

    # (its confidence map, a hidden layer on top since it holds one, is no stroke)
    names = tuple(layer.name for layer in layers)
    if photo is None and strokes is None and names in (RESULT_LAYERS, (*RESULT_LAYERS, "confidence")):
        return layers[0], layers[2]
    if not shown and photo is None:
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
    above = [layer for layer in shown[shown.index(base) + 1 :]] if base in shown else []
    return base, above[0] if above else None


def composite_of(layers: list[Layer]) -> np.ndarray:
    """The visible layers blended bottom to top in normal mode ("over"), as straight-alpha RGBA.

    Parameters
    ----------
    layers : list of Layer
        The layers, bottom to top, all of one size (at least one).
    """
    out = np.zeros_like(layers[0].pixels)
    for layer in layers:
        if layer.visible:
            _over(out, layer.pixels)
    return out


def _over(out: np.ndarray, pixels: np.ndarray) -> None:
    """``pixels`` blended over ``out`` in place (normal mode, straight alpha)."""
    alpha = pixels[..., 3:]
    total = alpha + out[..., 3:] * (1.0 - alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        colour = (pixels[..., :3] * alpha + out[..., :3] * out[..., 3:] * (1.0 - alpha)) / total
    out[..., :3] = np.where(total > 0, colour, 0.0)
    out[..., 3:] = total
