"""From a 16-bit scan with its profile to a layered file an editor opens, and back.

A restorer's scan is 16-bit, in a gray space with its own ICC profile (Gray Gamma 2.2 here); the
strokes are painted on a transparent layer above it, in an OpenRaster file as Krita or GIMP save
it. ``varcolor colorize work.ora -o result.ora`` takes the bottom layer as the photo and the layer
above it as the strokes, and writes the photo, the colorized photo and the strokes (hidden) as
layers of one file; ``varcolor colorize scan.tif --mask strokes.png -o result.tif`` colorizes the
scan itself, at its 16 bits, with an sRGB profile. Checks that the result keeps the scan's
lightness within one of its 16-bit levels (read through both profiles into D50 Lab by LittleCMS,
as an editor reads them) and that the layered file shows the flat result.

Run: ``python examples/restorer_round_trip.py [OUT.png]`` (writes scan | stroke layer | result).
"""

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import imagecodecs
import numpy as np
import tifffile

import varcolor
from varcolor.io.layers import Layer, read_layers
from varcolor.io.stack import write_layers

DATA = Path(__file__).parent / "data"
GAMMA = 2.2


def varcolor_command(*argv) -> None:
    """``varcolor ARGV…`` as a user types it."""
    subprocess.run([sys.executable, "-m", "varcolor.cli", *map(str, argv)], check=True)


def cie_lightness(y: np.ndarray) -> np.ndarray:
    """CIE L* of relative luminance ``y``."""
    return np.where(y > (6 / 29) ** 3, 116 * np.cbrt(y) - 16, y * (29 / 3) ** 3)


def main(out_path: str | None = None) -> dict:
    gray = varcolor.read_image(DATA / "chelsea.png")
    marked = varcolor.read_image(DATA / "chelsea_marked.png")
    painted = np.abs(marked - gray[..., None]).sum(axis=2) > 0.1  # the strokes of the marked copy
    strokes = np.where(painted[..., None], np.dstack([marked, np.ones(gray.shape)]), 0.0)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        # The scan: the photo's luminance as 16-bit levels in Gray Gamma 2.2, with that profile.
        luminance = np.where(gray <= 0.04045, gray / 12.92, ((gray + 0.055) / 1.055) ** 2.4)  # sRGB's curve
        levels = np.round(luminance ** (1 / GAMMA) * 65535).astype(np.uint16)
        profile = imagecodecs.cms_profile("gray", gamma=GAMMA)
        tifffile.imwrite(folder / "scan.tif", levels, iccprofile=profile)
        varcolor.write_image(folder / "strokes.png", strokes)
        varcolor_command("colorize", folder / "scan.tif", "--mask", folder / "strokes.png", "-o", folder / "out.tif")

        # The scan's L* (CIE, from its profile's curve) against the 16-bit result's read through its
        # own profile into D50 Lab, in the scan's levels.
        with tifffile.TiffFile(folder / "out.tif") as tif:
            out, out_profile = tif.pages.first.asarray(), bytes(tif.pages.first.tags[34675].value)
        scan = levels / 65535.0
        lab = imagecodecs.cms_transform(
            out,
            out_profile,
            imagecodecs.cms_profile("lab4"),
            colorspace="rgb",
            outcolorspace="lab",
            outdtype=np.float64,
        )
        drift = np.abs(lab[..., 0] - cie_lightness(scan**GAMMA))
        one_level = cie_lightness((scan + 1 / 65535) ** GAMMA) - cie_lightness(scan**GAMMA)

        # The same photo and strokes as layers of one OpenRaster file, colorized into another.
        photo = varcolor.read_image(folder / "scan.tif")
        write_layers(
            folder / "work.ora",
            [Layer("scan", np.dstack([photo] * 3 + [np.ones(gray.shape)])), Layer("strokes", strokes)],
            bits=16,  # the scan's depth: the layered result keeps it
        )
        varcolor_command("colorize", folder / "work.ora", "-o", folder / "result.ora")
        varcolor_command("colorize", folder / "scan.tif", "--mask", folder / "strokes.png", "-o", folder / "flat.png")
        layers, bits = read_layers(folder / "result.ora")
        composite = varcolor.read_image(folder / "result.ora")
        flat = varcolor.read_image(folder / "flat.png")
        with zipfile.ZipFile(folder / "result.ora") as ora:
            entries = ora.namelist()
        report = {
            "result_dtype": str(out.dtype),
            "lightness_drift_max": float(drift.max()),
            "lightness_drift_in_levels": float((drift / one_level).max()),
            "layers": [(layer.name, "visible" if layer.visible else "hidden") for layer in layers],
            "layered_bits": bits,
            "composite_vs_flat_max": float(np.abs(composite - flat).max()),
            "ora_entries": len(entries),
        }
    if out_path:
        checker = 0.8 + 0.1 * ((np.indices(gray.shape) // 8).sum(axis=0) % 2)
        over = strokes[..., :3] * strokes[..., 3:] + checker[..., None] * (1 - strokes[..., 3:])
        gap = np.ones((gray.shape[0], 6, 3))
        strip = np.hstack([np.repeat(photo[..., None], 3, axis=2), gap, over, gap, composite[..., :3]])
        varcolor.write_image(out_path, strip)
    return report


if __name__ == "__main__":
    for key, value in main(sys.argv[1] if len(sys.argv) > 1 else None).items():
        print(f"{key}: {value}")
