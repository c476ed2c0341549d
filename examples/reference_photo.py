"""Colour from a reference photo: a gray photo coloured by another colour picture of the same
scene, with no strokes. The picture: target | reference | result | truth.

The scene is the bundled example (scikit-image's ``chelsea``): the target is its left 70 % in
gray; the reference its right 70 %, turned 3° with another tone curve, as a second photo of the
same scene would be. Run: ``python examples/reference_photo.py OUT.png``.
"""

import sys
from pathlib import Path

import numpy as np
from skimage.transform import rotate

import varcolor
from varcolor.color import same_lightness_gray

DATA = Path(__file__).parent / "data"


def main(out_path: str) -> dict:
    photo = varcolor.read_image(DATA / "chelsea_original.png")
    width = int(photo.shape[1] * 0.7)
    truth = photo[:, :width]
    reference = np.clip(rotate(photo[:, -width:], 3.0, mode="reflect"), 0, 1) ** 0.8
    gray = same_lightness_gray(truth)
    cues = varcolor.Cues.from_reference(gray, reference)
    result = varcolor.colorize(gray, cues).rgb
    gap = np.ones((gray.shape[0], 6, 3))
    panels = [np.repeat(gray[..., None], 3, axis=2), reference, result, truth]
    varcolor.write_image(out_path, np.concatenate([p for panel in panels for p in (panel, gap)][:-1], axis=1))
    report = {
        "cues": cues.count,
        "gray_psnr": varcolor.metrics.psnr(panels[0], truth),
        "psnr": varcolor.metrics.psnr(result, truth),
        "ciede2000": varcolor.metrics.ciede2000(result, truth),
    }
    print(
        f"{out_path}: target | reference | result | truth — {report['cues']} cues matched; PSNR "
        f"{report['psnr']:.2f} dB (the gray image: {report['gray_psnr']:.2f} dB), ΔE2000 {report['ciede2000']:.2f}"
    )
    return report


if __name__ == "__main__":
    main(sys.argv[1])
