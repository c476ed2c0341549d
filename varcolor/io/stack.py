"""A stack of layers written as one layered file, atomically: OpenRaster (``.ora``, written
here: ``zipfile`` and ElementTree) or Photoshop (``.psd``, through ``psd-tools``). Reading them is
:mod:`varcolor.io.layers`'; each layer's PNG is encoded as :func:`varcolor.io.formats.encode_image`
writes any PNG.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np

from ..errors import InputError
from .atomic import atomic_path
from .formats import encode_image
from .layers import _ORA_MIME, Layer, _psd_tools, composite_of

__all__ = ["write_layers"]


def write_layers(
    path: str | os.PathLike, layers: list[Layer], bits: int = 8, *, overwrite: bool = True, profile: bytes | None = None
) -> None:
    """Write ``layers`` (bottom to top) as one ``.ora`` or ``.psd`` file, atomically; its composite
    (``mergedimage.png``, the PSD's preview) is that of the visible layers in normal blending."""
    path = Path(path)
    if not layers or len({layer.pixels.shape for layer in layers}) != 1:
        raise InputError(f"{path}: layers to write must be one or more of one size")
    if bits not in (8, 16):
        raise InputError(f"{path}: bits must be 8 or 16, not {bits}")
    with atomic_path(path, overwrite=overwrite) as tmp:
        if path.suffix.lower() == ".ora":
            _write_ora(tmp, layers, composite_of(layers), bits)
        else:
            _write_psd(tmp, layers, bits, profile)


def _write_ora(target: Path, layers: list[Layer], composite: np.ndarray, bits: int) -> None:
    height, width = composite.shape[:2]
    root = ET.Element("image", {"version": "0.0.5", "w": str(width), "h": str(height)})
    stack = ET.SubElement(root, "stack")
    with zipfile.ZipFile(target, "w") as ora:
        ora.writestr(zipfile.ZipInfo("mimetype"), _ORA_MIME, compress_type=zipfile.ZIP_STORED)  # first, unpacked
        for index, layer in reversed(list(enumerate(layers))):  # stack.xml lists the top first
            src = f"data/layer{index}.png"
            ET.SubElement(
                stack,
                "layer",
                {
                    "name": layer.name,
                    "src": src,
                    "x": "0",
                    "y": "0",
                    "opacity": "1.0",
                    "visibility": "visible" if layer.visible else "hidden",
                    "composite-op": "svg:src-over",
                },
            )
            ora.writestr(src, encode_image(layer.pixels, ".png", bits=bits))
        ora.writestr("stack.xml", ET.tostring(root, encoding="utf-8", xml_declaration=True))
        ora.writestr("mergedimage.png", encode_image(composite, ".png", bits=bits))
        ora.writestr("Thumbnails/thumbnail.png", encode_image(_thumbnail(composite), ".png"))


def _thumbnail(image: np.ndarray, side: int = 256) -> np.ndarray:
    step = max(1, -(-max(image.shape[:2]) // side))
    return image[::step, ::step]


def _write_psd(target: Path, layers: list[Layer], bits: int, profile: bytes | None) -> None:
    _psd_tools()
    from psd_tools import PSDImage
    from psd_tools.api.layers import PixelLayer
    from psd_tools.constants import Resource
    from psd_tools.psd.image_resources import ImageResource

    height, width = layers[0].pixels.shape[:2]
    psd = PSDImage.new("RGB", (width, height), depth=16 if bits == 16 else 8)  # (8 or 16: write_layers)
    for layer in layers:  # psd-tools composites the visible layers into the file's preview on saving
        PixelLayer.fromarray(layer.pixels, psd, name=layer.name).visible = layer.visible
    if profile:
        psd.image_resources[Resource.ICC_PROFILE] = ImageResource(key=Resource.ICC_PROFILE, data=profile)
    psd.save(target)
