"""Store a colour photo as its gray image plus a few hundred bytes of cues, in one PNG.

The adaptive encoder puts cues where a decode of the cues chosen so far is worst, within a byte
budget; the payload rides inside the gray PNG as a private chunk, so the file is still an
ordinary gray image to every viewer. Decoding reads the chunk back and colorizes the gray image
from its cues. Compares the one file's size with the colour PNG's and scores the decoded colours.

Run: ``python examples/store_as_gray.py [OUT.png]`` (writes original | stored gray | decoded).
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

import varcolor
from varcolor.ir import embed_png, extract_png, read_payload, write_payload
from varcolor.ir.adaptive import encode_adaptive
from varcolor.ir.decode import payload_cues

DATA = Path(__file__).parent / "data"
BUDGET = 512  # payload bytes


def main(out_path: str | None = None) -> dict:
    rgb = varcolor.read_image(DATA / "chelsea_original.png")
    gray = varcolor.color.same_lightness_gray(rgb)
    with tempfile.TemporaryDirectory() as folder:
        stored, colour = Path(folder) / "stored.png", Path(folder) / "colour.png"
        varcolor.write_image(colour, rgb)
        varcolor.write_image(stored, gray)
        # The decoder will see the 8-bit gray: fit the cue values to that.
        payload = write_payload(encode_adaptive(rgb, budget=BUDGET, gray=np.round(gray * 255) / 255))
        stored.write_bytes(embed_png(stored.read_bytes(), payload))

        # Decoding needs nothing but the one file.
        gray_read = varcolor.read_image(stored)
        cues = payload_cues(read_payload(extract_png(stored.read_bytes())), gray=gray_read)  # its own gray only
        decoded = varcolor.colorize(gray_read, cues)
        report = {
            "payload_bytes": len(payload),
            "stored_bytes": stored.stat().st_size,
            "colour_png_bytes": colour.stat().st_size,
            "cue_pixels": cues.count,
            "gray_psnr": varcolor.metrics.psnr(np.dstack([gray_read] * 3), rgb),
            "decoded_psnr": varcolor.metrics.psnr(decoded.rgb, rgb),
            "decoded_ciede2000": varcolor.metrics.ciede2000(decoded.rgb, rgb),
            "gray_unchanged": bool(np.array_equal(gray_read, np.round(gray * 255) / 255)),
        }
    print(
        f"payload {report['payload_bytes']} B inside a {report['stored_bytes']:,} B gray PNG "
        f"(the colour PNG: {report['colour_png_bytes']:,} B)"
    )
    print(
        f"decoded: {report['decoded_psnr']:.2f} dB PSNR, ΔE2000 {report['decoded_ciede2000']:.2f} "
        f"(the gray image alone: {report['gray_psnr']:.2f} dB)"
    )
    if out_path:
        varcolor.write_image(out_path, np.hstack([rgb, np.dstack([gray_read] * 3), decoded.rgb]))
        print(f"wrote {out_path}")
    return report


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
