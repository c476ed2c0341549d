"""What ``varcolor metrics`` costs against scikit-image's own calls (issue 96, item 5): one pair of
about 2.8 MP (kodim05 upscaled, the result a noisy copy), :func:`varcolor.metrics.score` (every
default metric: PSNR, SSIM, MS-SSIM, VIF, CIEDE2000 mean and 95th percentile, ab RMSE,
colourfulness) against scikit-image's ``peak_signal_noise_ratio``, ``structural_similarity``
(Gaussian, as the paper's) and ``deltaE_ciede2000`` on the same pair, taken in turns in one
process. Writes ``metrics_vs_skimage.json`` and ``.md``.

Run: ``python benchmarks/metrics_vs_skimage.py [--megapixels 2.8] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from reports import write_report
from shared_data import SHARED

HERE = Path(__file__).resolve().parent


def main() -> None:
    from skimage.color import deltaE_ciede2000, rgb2lab
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    from skimage.transform import resize

    import varcolor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=2.8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--name", default="metrics_vs_skimage")
    args = parser.parse_args()
    photo = varcolor.read_image(SHARED / "kodak" / "kodim05.png")
    scale = np.sqrt(args.megapixels * 1e6 / (photo.shape[0] * photo.shape[1]))
    original = np.clip(resize(photo, (round(photo.shape[0] * scale), round(photo.shape[1] * scale))), 0, 1)
    result = np.clip(original + np.random.default_rng(0).normal(0, 0.03, original.shape), 0, 1)

    def ours() -> None:
        varcolor.metrics.score(result, original)

    def theirs() -> None:
        peak_signal_noise_ratio(original, result, data_range=1.0)
        structural_similarity(
            result,
            original,
            data_range=1.0,
            channel_axis=-1,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        float(np.mean(deltaE_ciede2000(rgb2lab(result), rgb2lab(original), channel_axis=-1)))

    rows = []
    for round_ in range(args.rounds):
        times = {}
        for name, work in (
            (("varcolor", ours), ("scikit-image", theirs))
            if round_ % 2 == 0
            else (
                ("scikit-image", theirs),
                ("varcolor", ours),
            )
        ):
            start = time.perf_counter()
            work()
            times[name] = time.perf_counter() - start
        rows.append({**times, "ratio": times["varcolor"] / times["scikit-image"], "load": os.getloadavg()[0]})
        print(rows[-1], flush=True)
    median = float(np.median([row["ratio"] for row in rows]))
    lines = [
        "# `varcolor metrics` against scikit-image's own calls",
        "",
        f"Made by `python benchmarks/metrics_vs_skimage.py --megapixels {args.megapixels:g} --rounds {args.rounds}`: "
        f"one {original.shape[1]}×{original.shape[0]} pair; every default metric of varcolor against scikit-image's "
        "PSNR, SSIM and CIEDE2000 on the same pair, in turns, one process.",
        "",
        "| round | varcolor s | scikit-image s | ratio | load |",
        "|---|---|---|---|---|",
    ]
    for i, row in enumerate(rows):
        lines.append(
            f"| {i} | {row['varcolor']:.2f} | {row['scikit-image']:.2f} | {row['ratio']:.2f} | {row['load']:.1f} |"
        )
    lines += ["", f"Median ratio: {median:.2f} (target ≤ 1.5)."]
    text = "\n".join(lines) + "\n"
    print(text)
    write_report(
        HERE / "results", args.name, {"rows": rows, "median_ratio": median, "shape": list(original.shape)}, text
    )


if __name__ == "__main__":
    main()
