"""Lightness through ICC profiles: a restorer's 16-bit scans colorized, measured as their editor does.

Two scans of one gray photo (scikit-image's ``camera`` and ``coffee``'s same-lightness gray), each
saved as a 16-bit TIFF with its profile, both made by LittleCMS (``imagecodecs.cms_profile``): a
Gray Gamma 2.2 scan, and an Adobe RGB (1998) scan whose three channels are equal. Strokes of six
vivid colours (red, green, blue, yellow, cyan, magenta, 5 px wide) are painted on a transparent
layer; ``varcolor colorize scan.tif --mask strokes.png -o out.tif`` runs as a user types it (the
result in sRGB; and ``--profile input`` for the Adobe RGB scan: the result in Adobe RGB).

The input and the output are each read through their own embedded profile into the ICC
connection space, CIE Lab against D50, by LittleCMS (``imagecodecs.cms_transform``, double
precision): what Krita, GIMP or Photoshop show in their Lab readouts. |ΔL*| is taken over every
pixel; the issue's target (issue 71) is a mean of at most 0.05 and a maximum of at most 0.5.

Writes ``profile_lightness.json`` and ``profile_lightness.md`` (``--name`` changes the stem).
Run: ``python benchmarks/profile_lightness.py`` (a few seconds).
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import imagecodecs
import numpy as np
import tifffile
from reports import write_report
from skimage import data
from skimage.transform import resize

HERE = Path(__file__).resolve().parent
#: The stroke colours (sRGB): the six corners of the cube other than black and white.
COLOURS = ((1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1), (1, 0, 1))
TARGET_MEAN, TARGET_MAX = 0.05, 0.5


def scenes(size: int) -> dict[str, np.ndarray]:
    """Gray photos (luminance in [0, 1]) of ``size`` × ``size`` pixels."""
    from skimage.color import rgb2gray

    camera = resize(data.camera() / 255.0, (size, size), anti_aliasing=True)
    coffee = resize(rgb2gray(data.coffee()), (size, size), anti_aliasing=True)
    return {"camera": camera, "coffee": coffee}


def strokes(size: int) -> np.ndarray:
    """An RGBA layer of six horizontal strokes, one of each colour, on transparency."""
    layer = np.zeros((size, size, 4))
    for k, colour in enumerate(COLOURS):
        top = int((k + 0.5) * size / len(COLOURS))
        layer[top : top + 5, size // 10 : size - size // 10] = (*colour, 1.0)
    return layer


def lab_d50(pixels: np.ndarray, profile: bytes) -> np.ndarray:
    """CIE Lab (D50, the ICC connection space) of 16-bit ``pixels`` read through ``profile``."""
    space = "gray" if pixels.ndim == 2 else "rgb"
    return imagecodecs.cms_transform(
        np.ascontiguousarray(pixels),
        profile,
        imagecodecs.cms_profile("lab4"),
        colorspace=space,
        outcolorspace="lab",
        outdtype=np.float64,
        intent=imagecodecs.CMS.INTENT.RELATIVE_COLORIMETRIC,
    )


def measure(folder: Path, name: str, gray: np.ndarray, kind: str, keep_profile: bool) -> dict:
    """Colorize the 16-bit ``kind`` scan of ``gray`` by the command line; |ΔL*| in D50 Lab."""
    import varcolor

    if kind == "gray-gamma-2.2":
        profile = imagecodecs.cms_profile("gray", gamma=2.2)
        levels = np.round(gray ** (1 / 2.2) * 65535).astype(np.uint16)
    else:  # Adobe RGB (1998): gamma 563/256, equal channels for a gray
        profile = imagecodecs.cms_profile("adobergb")
        levels = np.repeat(np.round(gray ** (256 / 563) * 65535).astype(np.uint16)[..., None], 3, axis=2)
    scan, mask, out = folder / f"{name}-{kind}.tif", folder / "strokes.png", folder / f"{name}-{kind}-out.tif"
    tifffile.imwrite(scan, levels, photometric="minisblack" if levels.ndim == 2 else "rgb", iccprofile=profile)
    varcolor.write_image(mask, strokes(gray.shape[0]))
    argv = ["colorize", scan, "--mask", mask, "-o", out, "--overwrite"] + (
        ["--profile", "input"] if keep_profile else []
    )
    subprocess.run([sys.executable, "-m", "varcolor.cli", *map(str, argv)], check=True, capture_output=True)
    with tifffile.TiffFile(out) as tif:
        result, result_profile = tif.pages.first.asarray(), bytes(tif.pages.first.tags[34675].value)
    before, after = lab_d50(levels, profile), lab_d50(result, result_profile)
    delta = np.abs(after[..., 0] - before[..., 0])
    chroma = np.hypot(after[..., 1], after[..., 2])
    return {
        "photo": name,
        "scan": kind,
        "output_profile": "input (Adobe RGB)" if keep_profile else "sRGB",
        "mean_abs_dL": float(delta.mean()),
        "max_abs_dL": float(delta.max()),
        "p99_abs_dL": float(np.percentile(delta, 99)),
        "mean_chroma": float(chroma.mean()),
        "result_dtype": str(result.dtype),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="side of the scans in pixels")
    parser.add_argument("--name", default="profile_lightness")
    parser.add_argument("--out", default=HERE / "results")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, gray in scenes(args.size).items():
            for kind, keep in (("gray-gamma-2.2", False), ("adobe-rgb", False), ("adobe-rgb", True)):
                rows.append(measure(Path(folder), name, gray, kind, keep))
    worst_mean, worst_max = max(r["mean_abs_dL"] for r in rows), max(r["max_abs_dL"] for r in rows)
    report = {
        "size": args.size,
        "colours": COLOURS,
        "target": {"mean": TARGET_MEAN, "max": TARGET_MAX},
        "met": worst_mean <= TARGET_MEAN and worst_max <= TARGET_MAX,
        "machine": platform.platform(),
        "rows": rows,
    }
    lines = [
        f"# Lightness through ICC profiles ({args.size}×{args.size} 16-bit scans, six vivid strokes)",
        "",
        "|ΔL*| between scan and result, each read through its own profile into D50 Lab by LittleCMS.",
        f"Target: mean ≤ {TARGET_MEAN}, max ≤ {TARGET_MAX}; met: {'yes' if report['met'] else 'no'}.",
        "",
        "| photo | scan | result profile | mean |ΔL*| | p99 | max | mean chroma |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['photo']} | {r['scan']} | {r['output_profile']} | {r['mean_abs_dL']:.3f} | "
            f"{r['p99_abs_dL']:.3f} | {r['max_abs_dL']:.3f} | {r['mean_chroma']:.1f} |"
        )
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    write_report(args.out, args.name, report, markdown)


if __name__ == "__main__":
    main()
