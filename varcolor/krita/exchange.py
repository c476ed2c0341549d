"""Colorizing a Krita exchange folder (:mod:`varcolor.krita.protocol`): Krita's raw layer pixels in
their own layout and profile read as sRGB floats, colorized as ``varcolor colorize photo --mask
strokes`` does, and the result written back in the document's layout and profile."""

from __future__ import annotations

import os
import stat
import time
import warnings
from pathlib import Path

import numpy as np

from ..api import colorize
from ..app.cues import check_cue_share
from ..cues import Cues
from ..errors import MAX_PIXELS, InputError, VarcolorError
from ..io.profiles import MAX_PROFILE_BYTES, samples_to_srgb, srgb_to_profile
from ..options import Options
from .plugin.varcolor_krita import protocol

__all__ = [
    "DTYPES",
    "channel_order",
    "read_layer",
    "encode_layer",
    "gray_of",
    "check_canvas",
    "photo_and_cues",
    "read_folder_layer",
    "check_strokes",
    "write_result",
    "reply_for",
    "colorize_folder",
]

#: numpy's types of Krita's colour depths (little-endian, as ``Node.pixelData`` gives them).
DTYPES: dict[str, np.dtype] = {
    "U8": np.dtype("<u1"),
    "U16": np.dtype("<u2"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
}
_SCALE = {"U8": 255.0, "U16": 65535.0, "F16": 1.0, "F32": 1.0}


def channel_order(found: dict) -> list[int]:
    """Where each channel of RGBA (or gray, alpha) lies among the layer's bytes."""
    names = ("Red", "Green", "Blue", "Alpha") if found["model"] == "RGBA" else ("Gray", "Alpha")
    return [found["channels"].index(name) for name in names]


def _icc(found: dict) -> bytes | None:
    """The layer's ICC profile: a small regular file. A FIFO is refused instead of waited on for
    ever (opened without blocking, then its kind checked), a device such as ``/dev/zero`` instead
    of read until memory runs out, a file over :data:`~varcolor.io.profiles.MAX_PROFILE_BYTES`
    instead of read whole."""
    path = found.get("profile_file")
    if path is None:
        return None  # a built-in sRGB profile (protocol.find_profile)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise InputError(f"the colour profile {path} is not a regular file (an ICC profile is a small file)")
            data = file.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the colour profile {path}: {exc.strerror}") from None
    if len(data) > MAX_PROFILE_BYTES:
        raise InputError(
            f"the colour profile {path} is over {MAX_PROFILE_BYTES >> 20} MB: no ICC profile is that large"
        )
    return data


def check_canvas(request: dict) -> None:
    """Refuse a canvas of more than :data:`~varcolor.errors.MAX_PIXELS` pixels from the size the
    request declares, before any layer is read (as ``varcolor colorize`` does from a header)."""
    width, height = request["width"], request["height"]
    if width * height > MAX_PIXELS:
        raise InputError(
            f"the canvas is {width}×{height} ({width * height / 1e6:.0f} MP): varcolor colours at most "
            f"{MAX_PIXELS / 1e6:.0f} MP; colour a crop or a reduced copy"
        )


def read_layer(data: bytes | np.ndarray, found: dict, shape: tuple[int, int], what: str) -> np.ndarray:
    """A layer's raw pixels (``Node.pixelData`` of the canvas) as sRGB floats in [0, 1]:
    ``H×W×4`` RGBA (a gray layer's gray repeated), converted from the layer's profile."""
    samples = _samples(data, found, shape, what)
    count = samples.shape[2]
    # The layer's channels in RGBA order straight into floats: one float image, not a reordered
    # copy, its floats and an RGBA joined from them (a good share of each Live stroke).
    pixels = np.empty(shape + (count,))
    for to, at in enumerate(channel_order(found)):
        pixels[..., to] = samples[..., at]
    pixels /= _SCALE[found["depth"]]
    # Integer levels always lie in [0, 1]: only floating-point layers are checked (the passes over
    # the floats cost as much as reading them, for each Live stroke).
    floating = found["depth"] in ("F16", "F32")
    if floating and (not np.all(np.isfinite(pixels)) or pixels.min() < 0 or pixels.max() > 1):
        raise InputError(f"the {what} layer has values outside [0, 1] (high dynamic range): varcolor needs [0, 1]")
    colour = pixels[..., 0] if found["model"] == "GRAYA" else pixels[..., :3]
    converted = samples_to_srgb(colour, _icc(found), f"the {what} layer", lambda line: None)
    if converted is colour and colour.ndim == 3:  # sRGB already: the RGBA read is the layer
        return pixels
    if converted.ndim == 2:
        converted = np.repeat(converted[..., None], 3, axis=2)
    return np.concatenate([converted, pixels[..., -1:]], axis=2)


def _samples(data: bytes | np.ndarray, found: dict, shape: tuple[int, int], what: str) -> np.ndarray:
    """A layer's raw pixels as its samples (``H×W×channels``, in the layer's order and type), its
    size checked against the canvas."""
    dtype = DTYPES[found["depth"]]
    count = len(found["channels"])
    if len(data) != shape[0] * shape[1] * count * dtype.itemsize:
        raise _size_error(what, len(data), shape)
    return np.frombuffer(data, dtype=dtype).reshape(shape + (count,))


def _size_error(what: str, held: int, shape: tuple[int, int]) -> InputError:
    return InputError(f"the {what} layer holds {held} bytes, not the size of a {shape[1]}×{shape[0]} canvas")


def encode_layer(rgb: np.ndarray, found: dict, profiled: bool = True) -> bytes:
    """sRGB floats ``rgb`` (``H×W×3``) as an opaque layer's raw pixels in the layout and profile
    ``found`` (an RGBA one): what :func:`read_layer` reads back. Not ``profiled``: the values as
    they are, not converted to the document's profile (a map, not a colour)."""
    icc = _icc(found)
    if icc is not None and profiled:
        rgb = srgb_to_profile(rgb, icc, "the document")
    rgba = np.concatenate([rgb, np.ones(rgb.shape[:2] + (1,))], axis=2)
    out = np.empty(rgb.shape[:2] + (4,), dtype=DTYPES[found["depth"]])
    scale = _SCALE[found["depth"]]
    values = np.round(rgba * scale) if scale > 1 else rgba
    out[..., channel_order(found)] = values
    return out.tobytes()


def gray_of(photo: np.ndarray) -> np.ndarray:
    """The photo layer (:func:`read_layer`'s ``H×W×4``) as ``varcolor colorize photo`` takes it from
    a file: a photo whose channels are equal is gray."""
    colour = photo[..., :3]
    if np.array_equal(colour[..., 0], colour[..., 1]) and np.array_equal(colour[..., 1], colour[..., 2]):
        colour = colour[..., 0]
    return np.ascontiguousarray(colour)


def photo_and_cues(photo: np.ndarray, strokes: np.ndarray, edges: str) -> tuple[np.ndarray, Cues]:
    """The gray (or colour) photo and the cues of a strokes layer, as ``varcolor colorize photo
    --mask strokes`` takes them from files: the strokes layer is a stroke mask on transparency."""
    gray = gray_of(photo)
    return gray, Cues.from_mask(strokes, gray.shape[:2], edges=edges)


def read_folder_layer(folder: str | os.PathLike, request: dict, name: str) -> np.ndarray:
    """Layer ``name`` (``photo`` or ``strokes``) of an exchange folder, read as :func:`read_layer`."""
    return read_layer(_layer_bytes(folder, request, name), request[name], (request["height"], request["width"]), name)


def read_strokes(folder: str | os.PathLike, request: dict) -> tuple[np.ndarray, str]:
    """The strokes layer of an exchange folder for :meth:`varcolor.Cues.from_layer`, and its
    channels' order (``"BGRA"``...): where it holds sRGB levels, its 8- or 16-bit samples as they
    lie in the file (``H×W×4`` uint8 or uint16, read-only; putting them in RGBA order cost each
    stroke), else :func:`read_layer`'s floats (another profile, floating point; for
    :meth:`~varcolor.Cues.from_mask`), ``"RGBA"``."""
    found = request["strokes"]
    if found["model"] != "RGBA" or found["depth"] not in ("U8", "U16") or found.get("profile_file") is not None:
        return read_folder_layer(folder, request, "strokes"), "RGBA"
    shape = (request["height"], request["width"])
    samples = _samples(_layer_bytes(folder, request, "strokes"), found, shape, "strokes")
    if not samples.dtype.isnative:  # (a layout of the other byte order: numbers as this machine keeps them)
        samples = samples.astype(samples.dtype.newbyteorder("="))
    return samples, "".join(name[0] for name in found["channels"])


def _layer_bytes(folder: str | os.PathLike, request: dict, name: str) -> np.ndarray:
    """The raw pixels of layer ``name`` in an exchange folder (its canvas checked first), as bytes
    (uint8). A file that is not a regular one of the canvas's size is refused before it is read,
    whatever it declares (a FIFO is not waited on). Read into one array: a ``bytes`` object first
    took each Live stroke twice as long (benchmarks/results/code_notes.md)."""
    check_canvas(request)
    file_name = {"photo": protocol.PHOTO, "strokes": protocol.STROKES}[name]
    size = protocol.raw_size(request, name)
    try:
        descriptor = os.open(Path(folder) / file_name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(descriptor, "rb", buffering=0) as file:
            held = os.fstat(file.fileno())
            if not stat.S_ISREG(held.st_mode):
                raise InputError(f"the {name} layer is no regular file")
            data = np.empty(size, np.uint8)
            read = file.readinto(data.data) if held.st_size == size else held.st_size
            # (a regular file's readinto reads it all at once; a shorter count: it shrank meanwhile)
    except OSError as exc:
        raise InputError(f"cannot read the {name} layer: {exc.strerror}") from None
    if read != size:
        raise _size_error(name, read, (request["height"], request["width"]))
    return data


def check_strokes(cues: Cues, prior: str | None) -> None:
    """Refuse strokes that leave nothing to colorize (no paint and no prior; paint everywhere)."""
    if cues.count == 0 and prior is None:
        raise InputError("the strokes layer has no paint: paint colours on it, or use the ideepcolor prior")
    check_cue_share(Path("the strokes layer"), "mask", cues)


def write_result(folder: str | os.PathLike, data: bytes | memoryview, name: str = protocol.RESULT) -> None:
    """``colorized.raw`` (or ``name``) of an exchange folder, whole or absent (a temporary name,
    then a rename)."""
    result = Path(folder) / name
    temporary = result.with_name(result.name + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, result)


def reply_for(error: BaseException) -> dict:
    """The one-line error reply for what stopped a colorize (varcolor's refusals, lack of memory)."""
    if isinstance(error, MemoryError):
        return {"ok": False, "error": "out of memory: the image is too big for this machine"}
    return {"ok": False, "error": " ".join(str(error).split())}


def colorize_folder(folder: str | os.PathLike) -> dict:
    """Colorize an exchange folder: read its request and layers, colorize, write ``colorized.raw``
    and the reply (``reply.json``: ``ok`` with ``seconds``, or one line of ``error``). Returns
    the reply. Bad input is an error reply, not an exception."""
    start = time.perf_counter()
    try:
        try:
            request = protocol.read_request(folder)
        except protocol.ProtocolError as exc:
            raise InputError(str(exc)) from None
        photo = read_folder_layer(folder, request, "photo")
        strokes = read_folder_layer(folder, request, "strokes")
        gray, cues = photo_and_cues(photo, strokes, request["edges"])
        check_strokes(cues, request["prior"])
        options = Options(method=request["method"], prior=request["prior"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the docker shows one line: the result or the error
            result = colorize(gray, cues, options)
        if request["confidence"] and result.confidence is not None:  # before the result: it ends the exchange
            known = np.repeat(result.confidence[..., None].astype(np.float64), 3, axis=2)
            write_result(folder, encode_layer(known, request["result"], profiled=False), protocol.CONFIDENCE)
        write_result(folder, encode_layer(result.rgb[..., :3], request["result"]))
        reply = {"ok": True, "seconds": round(time.perf_counter() - start, 3)}
    except (VarcolorError, MemoryError) as exc:
        reply = reply_for(exc)
    protocol.write_json(Path(folder) / protocol.REPLY, reply)
    return reply
