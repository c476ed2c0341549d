"""The ``.vcir`` container: versioned, compressed, checksummed, parsed with bounds checks.

The layout (version 3 written, 1 and 2 still read) is in ``docs/vcir.md``. A reader never trusts a
field: sizes are capped before anything is allocated, and every failure is an :class:`IRFormatError`.
"""

from __future__ import annotations

import hashlib
import lzma
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from ..errors import VarcolorError
from ..gamut import BIN_COUNT, GlobalHints

__all__ = [
    "IRFormatError",
    "Payload",
    "ENCODERS",
    "gray_checksum",
    "write_payload",
    "read_payload",
    "embed_png",
    "extract_png",
]

MAGIC = b"VCIR"
VERSION = 3
#: The IR encoders, in the order of their codes in the container (append only: a file stores the index).
ENCODERS = ("stock", "grid", "grid-exclude", "selective", "grid+selective", "global", "adaptive")
_PREFIX = struct.Struct("<4sBBBB")  # magic, version, flags, encoder, patch
_HEADER_V1 = struct.Struct("<IIHHII")  # version 1: width, height, grid width, grid height, count, body length
_FLAG_PALETTE = 1
_FLAG_GLOBAL = 8
_FLAG_CHECKSUM = 16  # version 3 on
_CODEC_SHIFT, _CODEC_MASK = 1, 0b110
_STORED, _DEFLATE, _LZMA = 0, 1, 2
# Raw LZMA1 with fixed properties (no per-file header); the dictionary bounds the reader's memory.
_LZMA_FILTERS = [
    {"id": lzma.FILTER_LZMA1, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 1 << 20, "lc": 0, "lp": 0, "pb": 0}
]
MAX_SIDE = 65535
MAX_POINTS = 1 << 22
PNG_CHUNK = b"vcIr"  # ancillary, private, safe-to-copy: viewers ignore it, editors may keep it


class IRFormatError(VarcolorError, ValueError):
    """A payload that is not a valid ``.vcir`` (truncated, corrupted, wrong version, out of range)."""


@dataclass(frozen=True, eq=False)
class Payload:
    """The cues of an IR, in grid coordinates.

    Attributes
    ----------
    width, height : int
        Image size in pixels.
    grid_width, grid_height : int
        The cue grid stretched over the image; point ``(gy, gx)`` sits at the centre of its cell.
    points : ndarray of int, ``N×2``
        ``(gy, gx)`` of each cue, unique.
    ab : ndarray of int8, ``N×2``
        Chroma of each cue (Lab a, b rounded to integers).
    encoder : str
        The encoder that chose the cues (one of :data:`ENCODERS`).
    patch : int
        Radius of the square each cue covers, in image pixels.
    palette : ndarray of int8, ``K×2``, optional
        When given, ``ab`` must consist of palette colours and is stored as indices.
    histogram : ndarray of uint8, ``313``, optional
        Global hints: the image's ab histogram over :func:`varcolor.gamut.ab_bins`, in units of
        1/255 of its largest bin (read back as ``histogram / histogram.sum()``).
    saturation : int, optional
        Global hints: mean HSV saturation of the image, 0..255 (given with ``histogram``).
    checksum : int, optional
        :func:`gray_checksum` of the gray image the payload was made for (version 3 on): decoding
        with another gray image is refused (:func:`varcolor.ir.decode.payload_cues`).
    """

    width: int
    height: int
    grid_width: int
    grid_height: int
    points: np.ndarray
    ab: np.ndarray
    encoder: str = "grid"
    patch: int = 0
    palette: np.ndarray | None = None
    histogram: np.ndarray | None = None
    saturation: int | None = None
    checksum: int | None = None

    def __post_init__(self) -> None:
        if not (1 <= self.width <= MAX_SIDE and 1 <= self.height <= MAX_SIDE):
            raise IRFormatError(f"image size {self.width}×{self.height} is out of range")
        if not (1 <= self.grid_width <= self.width and 1 <= self.grid_height <= self.height):
            raise IRFormatError(f"cue grid {self.grid_width}×{self.grid_height} must lie within 1 and the image size")
        if self.encoder not in ENCODERS:
            raise IRFormatError(f"unknown encoder {self.encoder!r}")
        if not 0 <= self.patch <= 255:
            raise IRFormatError(f"patch radius {self.patch} is out of range 0..255")
        points = np.asarray(self.points, dtype=np.int64).reshape(-1, 2)
        ab = np.asarray(self.ab).reshape(-1, 2)
        if len(points) != len(ab):
            raise IRFormatError(f"{len(points)} points but {len(ab)} chroma values")
        if len(points) > MAX_POINTS:
            raise IRFormatError(f"too many points ({len(points)} > {MAX_POINTS})")
        if len(points) and (
            points.min() < 0 or points[:, 0].max() >= self.grid_height or points[:, 1].max() >= self.grid_width
        ):
            raise IRFormatError("a point lies outside the cue grid")
        if np.any(np.abs(ab) > 127) or not np.all(np.isfinite(ab)):
            raise IRFormatError("chroma must lie in -127..127")
        order = np.argsort(points[:, 0] * self.grid_width + points[:, 1], kind="stable")
        points, ab = points[order], np.round(ab[order]).astype(np.int8)
        index = points[:, 0] * self.grid_width + points[:, 1]
        if np.any(np.diff(index) == 0):
            raise IRFormatError("two points share a grid cell")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "ab", ab)
        if self.palette is not None:
            palette = np.round(np.asarray(self.palette)).astype(np.int8).reshape(-1, 2)
            if not 1 <= len(palette) <= 256:
                raise IRFormatError(f"a palette holds 1..256 colours, not {len(palette)}")
            object.__setattr__(self, "palette", palette)
        if (self.histogram is None) != (self.saturation is None):
            raise IRFormatError("global hints need both a histogram and a saturation")
        if self.histogram is not None:
            assert self.saturation is not None  # both or neither, checked above
            histogram = np.asarray(self.histogram)
            if histogram.shape != (BIN_COUNT,) or histogram.min() < 0 or histogram.max() > 255 or not histogram.any():
                raise IRFormatError(f"a global histogram holds {BIN_COUNT} weights in 0..255, not all 0")
            if not 0 <= self.saturation <= 255:
                raise IRFormatError(f"saturation {self.saturation} is out of range 0..255")
            object.__setattr__(self, "histogram", np.round(histogram).astype(np.uint8))
            object.__setattr__(self, "saturation", int(self.saturation))
        if self.checksum is not None:
            if not 0 <= self.checksum < 1 << 32:
                raise IRFormatError(f"gray checksum {self.checksum} is not a 32-bit value")
            object.__setattr__(self, "checksum", int(self.checksum))

    @property
    def count(self) -> int:
        return len(self.points)

    def global_hints(self) -> GlobalHints | None:
        """The stored global hints, or None."""
        if self.histogram is None or self.saturation is None:  # both or neither
            return None
        return GlobalHints(self.histogram.astype(np.float64), self.saturation / 255.0)

    def pixel_positions(self) -> np.ndarray:
        """``(y, x)`` image pixel of each point: the centre of its grid cell."""
        y = np.floor((self.points[:, 0] + 0.5) * self.height / self.grid_height).astype(np.int64)
        x = np.floor((self.points[:, 1] + 0.5) * self.width / self.grid_width).astype(np.int64)
        return np.stack([np.minimum(y, self.height - 1), np.minimum(x, self.width - 1)], axis=1)


def gray_checksum(gray: np.ndarray) -> int:
    """The 32-bit checksum that ties a payload to its gray image: the first 4 bytes (little-endian) of the
    BLAKE2b digest of the image's samples at 8 bits, row by row.

    Parameters
    ----------
    gray : array_like, ``H×W``
        The gray image, values in [0, 1] (clipped to it).
    """
    gray = np.asarray(gray, dtype=np.float64)
    samples = np.round(np.clip(gray, 0.0, 1.0) * 255.0).astype(np.uint8)
    digest = hashlib.blake2b(np.ascontiguousarray(samples).tobytes(), digest_size=4).digest()
    return int.from_bytes(digest, "little")


def _varints(values: np.ndarray) -> bytes:
    out = bytearray()
    for value in values.tolist():
        while True:
            byte = value & 0x7F
            value >>= 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                break
    return bytes(out)


def _read_varints(data: bytes, offset: int, count: int, limit: int, what: str = "coordinate") -> tuple[np.ndarray, int]:
    values = np.empty(count, dtype=np.int64)
    for k in range(count):
        value, shift = 0, 0
        while True:
            if offset >= len(data):
                raise IRFormatError(f"truncated: data end inside a {what}")
            byte = data[offset]
            offset += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if shift > 35:
                raise IRFormatError(f"a {what} is too long")
        if value > limit:
            raise IRFormatError(
                f"a {what} is out of range" if what != "coordinate" else "a coordinate lies outside the cue grid"
            )
        values[k] = value
    return values, offset


def _index_bits(colours: int) -> int:
    return max(1, int(np.ceil(np.log2(colours)))) if colours > 1 else 0


def write_payload(payload: Payload, compress: bool = True) -> bytes:
    """Serialise a payload to ``.vcir`` bytes.

    Parameters
    ----------
    payload : Payload
        The cues and how they decode.
    compress : bool
        Compress the body (the shorter of deflate and raw LZMA); False: stored as it is.

    Examples
    --------
    >>> import numpy as np
    >>> p = Payload(64, 48, 16, 12, points=[[3, 4], [0, 1]], ab=[[10, -20], [5, 5]])
    >>> q = read_payload(write_payload(p))
    >>> q.points.tolist(), q.ab.tolist()
    ([[0, 1], [3, 4]], [[5, 5], [10, -20]])
    """
    index = payload.points[:, 0] * payload.grid_width + payload.points[:, 1]
    gaps = np.diff(index, prepend=0) if len(index) else index
    body = bytearray(_varints(gaps))
    flags = 0
    if payload.palette is not None:
        flags |= _FLAG_PALETTE
        palette = payload.palette
        lookup = {tuple(c): k for k, c in enumerate(palette.tolist())}
        try:
            indices = np.array([lookup[tuple(c)] for c in payload.ab.tolist()], dtype=np.int64)
        except KeyError:
            raise IRFormatError("a chroma value is not in the palette") from None
        body.append(len(palette) - 1)
        body += palette.astype(np.int8).tobytes()
        bits = _index_bits(len(palette))
        if bits:
            unpacked = ((indices[:, None] >> np.arange(bits - 1, -1, -1)) & 1).astype(np.uint8).ravel()
            body += np.packbits(unpacked).tobytes()
    else:
        body += payload.ab.astype(np.int8).tobytes()
    if payload.histogram is not None and payload.saturation is not None:  # both or neither
        flags |= _FLAG_GLOBAL
        given = np.flatnonzero(payload.histogram)
        body += _varints(np.r_[len(given), np.diff(given, prepend=0)])
        body += payload.histogram[given].tobytes() + bytes([payload.saturation])
    packed = bytes(body)
    codec = _STORED
    if compress:
        candidates = {
            _DEFLATE: _deflate(packed),
            _LZMA: lzma.compress(packed, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS),
        }
        codec = min(candidates, key=lambda c: len(candidates[c]))
        packed = candidates[codec]
    flags |= codec << _CODEC_SHIFT
    checksum = b""
    if payload.checksum is not None:
        flags |= _FLAG_CHECKSUM
        checksum = struct.pack("<I", payload.checksum)
    header = _PREFIX.pack(MAGIC, VERSION, flags, ENCODERS.index(payload.encoder), payload.patch) + _varints(
        np.array([payload.width, payload.height, payload.grid_width, payload.grid_height, payload.count, len(packed)])
    )
    data = header + checksum + packed
    return data + struct.pack("<I", zlib.crc32(data))


def _deflate(data: bytes) -> bytes:
    """``data`` as a raw deflate stream at level 9 (``zlib.compress(data, 9, wbits=-15)``, whose
    ``wbits`` Python 3.10 lacks)."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflater.compress(data) + deflater.flush()


def _max_body(count: int, palette: bool, global_block: bool) -> int:
    # 5 varint bytes per coordinate at most; chroma 2 bytes per point, or palette + 1 byte per index;
    # a global block of at most 2 + 313 × (2 + 1) + 1 bytes.
    return 5 * count + (1 + 2 * 256 + count if palette else 2 * count) + (3 + 3 * BIN_COUNT if global_block else 0)


def _decompress(body: bytes, codec, limit: int) -> bytes:
    """The body inflated to at most ``limit`` bytes; a longer, truncated or trailing-junk stream is an error."""
    if codec == _STORED:
        out, complete = body, True
    else:
        inflater: lzma.LZMADecompressor | zlib._Decompress
        errors: tuple[type[Exception], ...]
        if codec == _LZMA:
            inflater, errors = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=_LZMA_FILTERS), (lzma.LZMAError,)
        else:
            inflater, errors = zlib.decompressobj(wbits=-15 if codec == _DEFLATE else 15), (zlib.error,)
        try:
            out = inflater.decompress(body, limit + 1)
        except errors as exc:
            raise IRFormatError(f"body does not decompress ({exc})") from None
        complete = inflater.eof and not inflater.unused_data and not getattr(inflater, "unconsumed_tail", b"")
    if len(out) > limit:
        raise IRFormatError("body is larger than its point count allows")
    if not complete:
        raise IRFormatError("body does not decompress (stream truncated or followed by junk)")
    return out


def _read_global_block(body: bytes, offset: int) -> tuple[np.ndarray, int, int]:
    (given,), offset = _read_varints(body, offset, 1, BIN_COUNT, "global bin count")
    gaps, offset = _read_varints(body, offset, given, BIN_COUNT - 1, "global bin index")
    bins = np.cumsum(gaps)
    if given == 0 or np.any(gaps[1:] == 0) or bins[-1] >= BIN_COUNT:
        raise IRFormatError("global bins are missing, repeated or out of range")
    if offset + given + 1 > len(body):
        raise IRFormatError("global block truncated")
    histogram = np.zeros(BIN_COUNT, np.uint8)
    histogram[bins] = np.frombuffer(body, np.uint8, given, offset)
    if not histogram[bins].all():
        raise IRFormatError("a global bin weight is 0")
    return histogram, body[offset + given], offset + given + 1


def _read_chroma(body: bytes, offset: int, count: int, palette_flag: bool) -> tuple:
    """The body's chroma from ``offset``: the palette (or None), the ``count×2`` values and the
    offset after them."""
    palette = None
    if palette_flag:
        if offset + 1 > len(body):
            raise IRFormatError("palette missing")
        colours = body[offset] + 1
        offset += 1
        if offset + 2 * colours > len(body):
            raise IRFormatError("palette truncated")
        palette = np.frombuffer(body, np.int8, 2 * colours, offset).reshape(colours, 2)
        offset += 2 * colours
        bits = _index_bits(colours)
        needed = (count * bits + 7) // 8
        if offset + needed > len(body):
            raise IRFormatError("palette indices truncated")
        if bits:
            unpacked = np.unpackbits(np.frombuffer(body, np.uint8, needed, offset))[: count * bits]
            indices = unpacked.reshape(count, bits).astype(np.int64) @ (1 << np.arange(bits - 1, -1, -1))
        else:
            indices = np.zeros(count, dtype=np.int64)
        if count and indices.max() >= colours:
            raise IRFormatError("a palette index is out of range")
        ab = palette[indices]
        offset += needed
    else:
        if offset + 2 * count > len(body):
            raise IRFormatError("chroma truncated")
        ab = np.frombuffer(body, np.int8, 2 * count, offset).reshape(count, 2)
        offset += 2 * count
    return palette, ab, offset


def read_payload(data: bytes) -> Payload:
    """Parse ``.vcir`` bytes; anything malformed raises :class:`IRFormatError` (nothing else).

    Parameters
    ----------
    data : bytes-like
        A payload as :func:`write_payload` writes it (a ``.vcir`` file's bytes, or a PNG's
        ``vcIr`` chunk, :func:`extract_png`).
    """
    data = bytes(data)
    if len(data) < _PREFIX.size + 4:
        raise IRFormatError(f"truncated: {len(data)} bytes is shorter than the header")
    magic, version, flags, encoder, patch = _PREFIX.unpack_from(data)
    checksum = None
    if magic != MAGIC:
        raise IRFormatError("not a varcolor IR (bad magic)")
    if version == 1:  # fixed-size fields; flags: bit 0 zlib, bit 1 palette
        if len(data) < _PREFIX.size + _HEADER_V1.size + 4:
            raise IRFormatError(f"truncated: {len(data)} bytes is shorter than the header")
        if flags & ~0b11:
            raise IRFormatError(f"unknown flags {flags:#04x}")
        fields = _HEADER_V1.unpack_from(data, _PREFIX.size)
        start = _PREFIX.size + _HEADER_V1.size
        palette_flag, codec, global_flag = bool(flags & 2), "zlib" if flags & 1 else _STORED, False
    elif version in (2, VERSION):  # version 3 adds the gray checksum (flag bit 4)
        known = _FLAG_PALETTE | _CODEC_MASK | _FLAG_GLOBAL | (_FLAG_CHECKSUM if version >= 3 else 0)
        if flags & ~known or (flags & _CODEC_MASK) >> _CODEC_SHIFT > _LZMA:
            raise IRFormatError(f"unknown flags {flags:#04x}")
        values, start = _read_varints(data[:-4], _PREFIX.size, 6, 1 << 32, "header field")
        fields = tuple(int(v) for v in values)
        palette_flag, codec = bool(flags & _FLAG_PALETTE), (flags & _CODEC_MASK) >> _CODEC_SHIFT
        global_flag = bool(flags & _FLAG_GLOBAL)
        if flags & _FLAG_CHECKSUM:
            if start + 4 > len(data) - 4:
                raise IRFormatError("truncated: data end inside the gray checksum")
            (checksum,) = struct.unpack_from("<I", data, start)
            start += 4
    else:
        raise IRFormatError(f"unsupported IR version {version} (this reader knows 1 to {VERSION})")
    width, height, grid_width, grid_height, count, body_length = fields
    if encoder >= len(ENCODERS):
        raise IRFormatError(f"unknown encoder code {encoder}")
    if start + body_length + 4 != len(data):
        raise IRFormatError(f"size mismatch: header says {body_length} body bytes, file has {len(data) - start - 4}")
    (crc,) = struct.unpack_from("<I", data, len(data) - 4)
    if zlib.crc32(data[:-4]) != crc:
        raise IRFormatError("CRC mismatch: the payload is corrupted")
    if not (
        1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE and 1 <= grid_width <= width and 1 <= grid_height <= height
    ):
        raise IRFormatError(f"image {width}×{height} or cue grid {grid_width}×{grid_height} out of range")
    if count > min(MAX_POINTS, grid_width * grid_height):
        raise IRFormatError(f"{count} points cannot fit a {grid_width}×{grid_height} cue grid")
    body = _decompress(data[start:-4], codec, _max_body(count, palette_flag, global_flag))
    gaps, offset = _read_varints(body, 0, count, grid_width * grid_height - 1)
    if count and np.any(gaps[1:] == 0):
        raise IRFormatError("coordinates are not strictly increasing")
    index = np.cumsum(gaps)
    if count and index[-1] >= grid_width * grid_height:
        raise IRFormatError("a coordinate lies outside the cue grid")
    palette, ab, offset = _read_chroma(body, offset, count, palette_flag)
    histogram = saturation = None
    if global_flag:
        histogram, saturation, offset = _read_global_block(body, offset)
    if offset != len(body):
        raise IRFormatError("junk after the last field of the body")
    points = np.stack([index // grid_width, index % grid_width], axis=1)
    try:
        return Payload(
            width,
            height,
            grid_width,
            grid_height,
            points,
            ab,
            ENCODERS[encoder],
            patch,
            palette,
            histogram,
            saturation,
            checksum,
        )
    except IRFormatError:
        raise
    except (ValueError, OverflowError) as exc:
        raise IRFormatError(str(exc)) from None


def _png_chunks(data: bytes):
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        raise IRFormatError("not a PNG file")
    offset = len(signature)
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        end = offset + 12 + length
        if end > len(data):
            raise IRFormatError("PNG chunk runs past the end of the file")
        yield kind, offset, end
        offset = end
        if kind == b"IEND":
            return
    raise IRFormatError("PNG ends without IEND")


def embed_png(png: bytes, payload: bytes) -> bytes:
    """The PNG with ``payload`` in a private ancillary ``vcIr`` chunk before IEND (replacing one
    already there): still a plain gray image to any viewer, and the whole IR in one file.

    Parameters
    ----------
    png, payload : bytes
        The gray image's PNG file and the ``.vcir`` payload to put in it.
    """
    kept = bytearray(b"\x89PNG\r\n\x1a\n")
    for kind, start, end in _png_chunks(png):
        if kind == PNG_CHUNK:
            continue
        if kind == b"IEND":
            chunk = PNG_CHUNK + payload
            kept += struct.pack(">I", len(payload)) + chunk + struct.pack(">I", zlib.crc32(chunk))
        kept += png[start:end]
    return bytes(kept)


def extract_png(png: bytes) -> bytes | None:
    """The payload of a PNG's ``vcIr`` chunk, or None when it has none (a chunk after IEND, where
    every PNG reader stops, is an error rather than a payload silently missed).

    Parameters
    ----------
    png : bytes
        A PNG file's bytes.
    """
    end = 0
    for kind, start, end in _png_chunks(png):
        if kind == PNG_CHUNK:
            return png[start + 8 : end - 4]
    if PNG_CHUNK in png[end:]:
        raise IRFormatError("its vcIr chunk lies after IEND, where PNG readers stop; re-encode it")
    return None
