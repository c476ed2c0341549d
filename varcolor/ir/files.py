"""IRs as files: a colour image encoded to its gray PNG plus payload, and the payload read back."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..color import luma601, same_lightness_gray
from ..common.memory import check_memory
from ..errors import InputError, VarcolorError
from ..io import MAX_PIXELS, encode_image, image_shape, publish, read_image
from ..io.formats import is_file
from .decode import payload_cues
from .encode import EncodeOptions, encode
from .format import Payload, embed_png, extract_png, read_payload, write_payload

__all__ = ["GRAYS", "PLOT_SUFFIX", "encode_bytes", "encode_file", "ir_outputs", "is_complete", "read_ir"]

#: How the gray image of an IR is made: the colour image's CIE lightness, or Rec.601 luma.
GRAYS = ("lightness", "luma601")
#: Suffix of the picture of the cues that :func:`encode_file` draws with ``plot=True``.
PLOT_SUFFIX = ".cues.png"
#: zlib's level for an IR's 8-bit gray PNG: IRs are kept by the hundred thousand, so smaller files
#: are worth more time than results' level (level 9 gains little more).
IR_PNG_LEVEL = 6
#: Peak memory of encoding, per pixel of the colour image, by encoder, a little above what a photo
#: took (adaptive's preview decodes solve at full resolution: benchmarks/results/code_notes.md).
_BYTES_PER_PIXEL = {"adaptive": 1000}
_BYTES_PER_PIXEL_OTHERWISE = 220


def encode_bytes(shape: tuple[int, int], encoder: str) -> int:
    """Peak memory (bytes) that encoding an image of ``shape`` with ``encoder`` is expected to need.

    Parameters
    ----------
    shape : tuple of int
        The image's ``(height, width)``.
    encoder : str
        The encoder (``adaptive`` needs more than the others).

    Examples
    --------
    >>> encode_bytes((1000, 1000), "grid") < encode_bytes((1000, 1000), "adaptive")
    True
    """
    return shape[0] * shape[1] * _BYTES_PER_PIXEL.get(encoder, _BYTES_PER_PIXEL_OTHERWISE)


def ir_outputs(gray_path: str | os.PathLike, *, embed: bool = False, plot: bool = False) -> list[Path]:
    """The files :func:`encode_file` writes for ``gray_path``, the gray PNG (the marker of a
    complete IR) last.

    Parameters
    ----------
    gray_path : path-like
        The IR's gray PNG.
    embed : bool, optional
        The payload goes inside the PNG: no ``.vcir`` sidecar (default False).
    plot : bool, optional
        With the picture of the cues (``NAME.cues.png``, default False).

    Examples
    --------
    >>> [p.name for p in ir_outputs("ir/a.png", plot=True)]
    ['a.cues.png', 'a.vcir', 'a.png']
    """
    gray_path = Path(gray_path)
    plot_path = gray_path.with_name(gray_path.stem + PLOT_SUFFIX) if plot else None
    sidecar = None if embed else gray_path.with_suffix(".vcir")
    return [p for p in (plot_path, sidecar) if p is not None] + [gray_path]


def encode_file(
    source: str | os.PathLike,
    gray_path: str | os.PathLike,
    *,
    encoder: str | None = None,
    options: EncodeOptions | None = None,
    embed: bool = False,
    plot: bool = False,
    bits: int = 8,
    gray: str = "lightness",
    overwrite: bool = False,
    max_pixels: int | None = MAX_PIXELS,
    max_memory: float | None = None,
    **keywords,
) -> Payload:
    """Encode the colour image ``source`` as an IR: ``gray_path`` (a gray PNG) plus its payload,
    beside it (``.vcir``) or inside it (``embed``), and with ``plot`` a picture of the cues over
    the gray image (``NAME.cues.png``).

    The files are published together, the gray PNG last, so a gray PNG on disk always has its
    payload. An existing file is kept (:class:`~varcolor.errors.OutputError`) unless ``overwrite``.

    Parameters
    ----------
    source : path
        The colour image to encode.
    gray_path : path
        The IR's gray PNG; its payload is written beside it (``.vcir``) or inside it.
    encoder : str, optional
        The encoder, one of :data:`varcolor.ir.encode.ENCODERS` (see :func:`~varcolor.ir.encode.encode`):
        that of ``options``, else ``adaptive``.
    options : EncodeOptions, optional
        The encoder's options as one value (:class:`~varcolor.ir.encode.EncodeOptions`); ``encoder``
        and ``keywords`` change them.
    embed : bool
        Store the payload inside the gray PNG instead of beside it.
    plot : bool
        Also write a picture of the cues over the gray image (``NAME.cues.png``).
    bits : {8, 16}
        Bits per sample of the gray PNG; the cues are fitted to the stored samples.
    gray : {"lightness", "luma601"}
        The gray image: the same CIE lightness as the colour image, or Rec.601 luma.
    overwrite : bool
        Replace existing files (else an existing one is an :class:`~varcolor.errors.OutputError`).
    max_pixels, max_memory
        Refuse, from the header alone, an image of more pixels, or one whose encoding would need
        more memory than this budget (bytes; default: most of the memory available).
    **keywords
        The encoder's options by name (the fields of :class:`~varcolor.ir.encode.EncodeOptions`),
        checked before the image is read.

    Examples
    --------
    >>> import tempfile, pathlib, skimage.data, varcolor
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> varcolor.write_image(folder / "photo.png", skimage.data.astronaut()[:64, :64] / 255.0)
    >>> payload = encode_file(folder / "photo.png", folder / "ir" / "photo.png", encoder="grid", grid_size=32)
    >>> sorted(p.name for p in (folder / "ir").iterdir()), read_ir(folder / "ir" / "photo.png").count
    (['photo.png', 'photo.vcir'], 4)
    """
    source, gray_path = Path(source), Path(gray_path)
    if gray not in GRAYS:
        raise InputError(f"unknown gray {gray!r}; available: {', '.join(GRAYS)}")
    if encoder is not None:
        keywords["encoder"] = encoder
    options = EncodeOptions.build(options if options is not None else EncodeOptions(encoder="adaptive"), **keywords)
    encoder = options.encoder
    shape = image_shape(source, max_pixels=max_pixels)
    check_memory(
        encode_bytes(shape, encoder), f"{source}: encoding ({encoder}) a {shape[1]}×{shape[0]} image", max_memory
    )
    rgb = read_image(source, max_pixels=max_pixels)
    if rgb.ndim == 2:
        raise InputError(f"{source}: the image is gray; encoding needs a colour image")
    gray_image = same_lightness_gray(rgb[..., :3]) if gray == "lightness" else luma601(rgb[..., :3])
    top = 2.0**bits - 1  # the decoder sees the stored samples: refine the cues against those
    try:
        payload = encode(rgb[..., :3], options=options, gray=np.round(gray_image * top) / top)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    data = write_payload(payload)
    png = encode_image(gray_image, ".png", bits=bits, png_level=IR_PNG_LEVEL)
    paths = ir_outputs(gray_path, embed=embed, plot=True)  # the plot, the sidecar (unless embedded), the gray
    # One unit, published marker-last: the gray PNG appears only once its payload is in place.
    unit = [(gray_path, embed_png(png, data))] if embed else [(paths[1], data), (gray_path, png)]
    if plot:  # cues drawn at least 7 px wide, so single-pixel cues are visible
        visible = dataclasses.replace(payload, patch=max(payload.patch, 3))
        unit.insert(0, (paths[0], encode_image(payload_cues(visible).overlay(gray_image), ".png")))
    publish(unit, overwrite=overwrite)
    return payload


def read_ir(gray_path: str | os.PathLike) -> Payload:
    """The payload of the IR whose gray image is ``gray_path``: its ``.vcir`` sidecar, else the
    payload embedded in the PNG. Anything unreadable raises :class:`~varcolor.errors.InputError`
    naming the file.

    Parameters
    ----------
    gray_path : path-like
        The IR's gray PNG.

    Examples
    --------
    >>> read_ir("no/such.png")
    Traceback (most recent call last):
    varcolor.errors.InputError: no/such.png: cannot read (No such file or directory)
    """
    gray_path = Path(gray_path)
    sidecar = gray_path.with_suffix(".vcir")
    if is_file(sidecar):
        data, source = sidecar.read_bytes(), str(sidecar)
    else:
        try:
            embedded = extract_png(gray_path.read_bytes()) if gray_path.suffix.lower() == ".png" else None
        except VarcolorError as exc:
            raise InputError(f"{gray_path}: cannot read its embedded payload ({exc})") from None
        except OSError as exc:
            raise InputError(f"{gray_path}: cannot read ({exc.strerror or exc})") from None
        if embedded is None:
            raise InputError(f"{gray_path}: no IR (no {sidecar.name} beside it, no payload inside it)")
        data, source = embedded, f"{gray_path} (embedded payload)"
    try:
        return read_payload(data)
    except VarcolorError as exc:
        raise InputError(f"{source}: {exc}") from None


def is_complete(gray_path: str | os.PathLike) -> bool:
    """Whether ``gray_path`` is a published IR: the gray PNG with its payload beside it or inside it
    (not checked for corruption: :func:`read_ir` does that).

    Parameters
    ----------
    gray_path : path-like
        The IR's gray PNG.
    """
    gray_path = Path(gray_path)
    return is_file(gray_path) and (is_file(gray_path.with_suffix(".vcir")) or _has_chunk(gray_path))


def _has_chunk(path: Path) -> bool:
    if path.suffix.lower() != ".png":
        return False
    try:
        return extract_png(path.read_bytes()) is not None
    except (VarcolorError, OSError):
        return False
