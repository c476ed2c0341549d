"""Colorizing a Krita exchange folder (:mod:`varcolor.krita.protocol`): Krita's raw layer pixels in
their own layout and profile read as sRGB floats, colorized as ``varcolor colorize photo --mask
strokes`` does, and the result written back in the document's layout and profile."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np

from ..api import colorize
from ..app.cues import check_cue_share
from ..cues import Cues
from ..errors import InputError, VarcolorError
from ..options import Options
from ..profiles import samples_to_srgb, srgb_to_profile
from .plugin.varcolor_krita import protocol

__all__ = ["read_layer", "encode_layer", "photo_and_cues", "colorize_folder"]

_DTYPES = {"U8": np.dtype("<u1"), "U16": np.dtype("<u2"), "F16": np.dtype("<f2"), "F32": np.dtype("<f4")}
_SCALE = {"U8": 255.0, "U16": 65535.0, "F16": 1.0, "F32": 1.0}


def _order(found: dict) -> list[int]:
    """Where each channel of RGBA (or gray, alpha) lies among the layer's bytes."""
    names = ("Red", "Green", "Blue", "Alpha") if found["model"] == "RGBA" else ("Gray", "Alpha")
    return [found["channels"].index(name) for name in names]


def _icc(found: dict) -> bytes | None:
    path = found.get("profile_file")
    if path is None:
        return None  # a built-in sRGB profile (protocol.find_profile)
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the colour profile {path}: {exc.strerror}") from None


def read_layer(data: bytes, found: dict, shape: tuple[int, int], what: str) -> np.ndarray:
    """A layer's raw pixels (``Node.pixelData`` of the canvas) as sRGB floats in [0, 1]:
    ``H×W×4`` RGBA (a gray layer's gray repeated), converted from the layer's profile.

    Parameters
    ----------
    data : bytes
        The raw pixels, rows of pixels of ``found["channels"]``.
    found : dict
        The layer's layout (:func:`varcolor.krita.protocol.layout`).
    shape : (int, int)
        The canvas ``(H, W)``.
    what : str
        The layer, named in errors.
    """
    dtype = _DTYPES[found["depth"]]
    count = len(found["channels"])
    if len(data) != shape[0] * shape[1] * count * dtype.itemsize:
        raise InputError(f"the {what} layer holds {len(data)} bytes, not the size of a {shape[1]}×{shape[0]} canvas")
    samples = np.frombuffer(data, dtype=dtype).reshape(shape + (count,))[..., _order(found)]
    pixels = samples.astype(np.float64) / _SCALE[found["depth"]]
    if not np.all(np.isfinite(pixels)) or pixels.min() < 0 or pixels.max() > 1:
        raise InputError(f"the {what} layer has values outside [0, 1] (high dynamic range): varcolor needs [0, 1]")
    colour = pixels[..., 0] if found["model"] == "GRAYA" else pixels[..., :3]
    colour = samples_to_srgb(colour, _icc(found), f"the {what} layer", lambda line: None)
    if colour.ndim == 2:
        colour = np.repeat(colour[..., None], 3, axis=2)
    return np.concatenate([colour, pixels[..., -1:]], axis=2)


def encode_layer(rgb: np.ndarray, found: dict) -> bytes:
    """sRGB floats ``rgb`` (``H×W×3``) as an opaque layer's raw pixels in the layout and profile
    ``found`` (an RGBA one): what :func:`read_layer` reads back."""
    icc = _icc(found)
    if icc is not None:
        rgb = srgb_to_profile(rgb, icc, "the document")
    rgba = np.concatenate([rgb, np.ones(rgb.shape[:2] + (1,))], axis=2)
    out = np.empty(rgb.shape[:2] + (4,), dtype=_DTYPES[found["depth"]])
    scale = _SCALE[found["depth"]]
    values = np.round(rgba * scale) if scale > 1 else rgba
    out[..., _order(found)] = values
    return out.tobytes()


def photo_and_cues(photo: np.ndarray, strokes: np.ndarray, edges: str) -> tuple[np.ndarray, Cues]:
    """The gray (or colour) photo and the cues of a strokes layer, as ``varcolor colorize photo
    --mask strokes`` takes them from files: a photo whose channels are equal is gray; the strokes
    layer is a stroke mask on transparency."""
    colour = photo[..., :3]
    if np.array_equal(colour[..., 0], colour[..., 1]) and np.array_equal(colour[..., 1], colour[..., 2]):
        colour = colour[..., 0]
    return np.ascontiguousarray(colour), Cues.from_mask(strokes, colour.shape[:2], edges=edges)


def colorize_folder(folder: str | os.PathLike) -> dict:
    """Colorize an exchange folder: read its request and layers, colorize, write ``colorized.raw``
    and the reply (``reply.json``: ``ok`` with ``seconds``, or one line of ``error``). Returns
    the reply. Bad input is an error reply, not an exception."""
    start = time.perf_counter()
    result = Path(folder) / protocol.RESULT
    try:
        try:
            request = protocol.read_request(folder)
        except protocol.ProtocolError as exc:
            raise InputError(str(exc)) from None
        shape = (request["height"], request["width"])
        photo = read_layer((Path(folder) / protocol.PHOTO).read_bytes(), request["photo"], shape, "photo")
        strokes = read_layer((Path(folder) / protocol.STROKES).read_bytes(), request["strokes"], shape, "strokes")
        gray, cues = photo_and_cues(photo, strokes, request["edges"])
        if cues.count == 0 and request["prior"] is None:
            raise InputError("the strokes layer has no paint: paint colours on it, or use the ideepcolor prior")
        check_cue_share(Path("the strokes layer"), "mask", cues)
        options = Options(method=request["method"], prior=request["prior"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the docker shows one line: the result or the error
            rgb = colorize(gray, cues, options).rgb
        temporary = result.with_name(result.name + ".part")
        temporary.write_bytes(encode_layer(rgb[..., :3], request["result"]))
        os.replace(temporary, result)
        reply = {"ok": True, "seconds": round(time.perf_counter() - start, 3)}
    except VarcolorError as exc:
        reply = {"ok": False, "error": " ".join(str(exc).split())}
    except MemoryError:
        reply = {"ok": False, "error": "out of memory: the image is too big for this machine"}
    protocol.write_json(Path(folder) / protocol.REPLY, reply)
    return reply
