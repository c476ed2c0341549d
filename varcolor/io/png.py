"""A big image's PNG written by bands on every core: each band of rows filtered and deflated in a
thread of its own (zlib gives the interpreter back while it compresses), the bands' streams joined
into the one zlib stream PNG holds (as pigz joins them: every band but the last ended on a byte
boundary by a sync flush).
"""

from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import numpy as np

from ..common.threads import usable_cores

__all__ = ["write_png", "PNG_BAND_ROWS"]

#: Rows deflated together: a band is small beside the image, large enough that starting each band
#: afresh costs the file little.
PNG_BAND_ROWS = 256

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG's colour type by the number of samples a pixel: gray, (gray + alpha), RGB, RGBA.
_COLOUR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _filtered(rows: np.ndarray, step: int) -> bytes:
    """The rows (``h×n`` bytes) as PNG's filter ``Sub`` gives them: each byte less the byte of the pixel
    before it (``step`` bytes back), modulo 256, each row after its filter's type byte (1)."""
    out = np.empty((rows.shape[0], rows.shape[1] + 1), np.uint8)
    out[:, 0] = 1
    out[:, 1 : 1 + step] = rows[:, :step]
    np.subtract(rows[:, step:], rows[:, :-step], out=out[:, 1 + step :])
    return out.tobytes()


def write_png(
    target: BinaryIO,
    pixels: np.ndarray,
    *,
    level: int = 1,
    profile: bytes | None = None,
    threads: int | None = None,
) -> None:
    """Write ``pixels`` as a PNG file into ``target``, the bands deflated on ``threads`` threads."""
    height, width = pixels.shape[:2]
    planes = 1 if pixels.ndim == 2 else pixels.shape[2]
    depth = 16 if pixels.dtype == np.uint16 else 8
    step = planes * depth // 8  # bytes a pixel: Sub's distance
    if threads is None:
        threads = usable_cores()
    target.write(_SIGNATURE)
    target.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, _COLOUR_TYPE[planes], 0, 0, 0)))
    if profile:  # name, its terminator, compression method 0 (zlib), the profile
        target.write(_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(profile)))
    bands = range(0, height, PNG_BAND_ROWS)
    last = bands[-1]

    def deflate(start: int) -> tuple[bytes, bytes]:
        band = pixels[start : start + PNG_BAND_ROWS].reshape(-1, width * planes)
        if depth == 16:
            band = band.astype(">u2")  # PNG's samples are big-endian
        data = _filtered(band.view(np.uint8), step)
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)  # raw deflate: the header is written once
        stream = packer.compress(data) + packer.flush(zlib.Z_FINISH if start == last else zlib.Z_SYNC_FLUSH)
        return data, stream

    checksum = 1  # adler32 of the whole filtered stream, band after band
    # zlib's header: deflate with its largest window, no preset dictionary (0x78 0x01: check bits for level "fastest")
    target.write(_chunk(b"IDAT", b"\x78\x01"))
    with ThreadPoolExecutor(max(1, threads)) as pool:
        # map keeps the bands' order; at most a few bands ahead are held (the pool's queue is lazy
        # only in what it returns, so bands are submitted in windows of the pool's size).
        for first in range(0, len(bands), 2 * max(1, threads)):
            for data, stream in pool.map(deflate, bands[first : first + 2 * max(1, threads)]):
                checksum = zlib.adler32(data, checksum)
                target.write(_chunk(b"IDAT", stream))
    target.write(_chunk(b"IDAT", struct.pack(">I", checksum)))
    target.write(_chunk(b"IEND", b""))
