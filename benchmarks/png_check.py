"""What checking a PNG's image data costs a read: ``read_image`` inflates the IDAT chunks a second
time, in a thread beside Pillow's decoding, to refuse a file whose data ends early (Pillow paints
the missing rows black without a word). A 12 MP grainy photo as RGB and as gray, saved by Pillow;
the best of 5 reads with the check and without it, interleaved, and the check alone.

    python benchmarks/png_check.py [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image
from reports import write_report
from skimage.transform import resize

from varcolor.io import formats, read_image


def measure(repeats: int = 5) -> list[dict]:
    rng = np.random.default_rng(0)
    photo = resize(skimage.data.astronaut() / 255.0, (2828, 4243), order=1)
    levels = (np.clip(photo + rng.normal(0, 0.02, photo.shape[:2] + (1,)), 0, 1) * 255).astype(np.uint8)
    real = formats._check_png_data
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, pixels in (("12 MP RGB", levels), ("12 MP gray", levels[..., 0])):
            path = Path(folder) / "photo.png"
            Image.fromarray(pixels).save(path)
            load = os.getloadavg()[0]
            times: dict[str, list[float]] = {"without": [], "with": []}
            try:
                for _ in range(repeats):
                    for mode in times:
                        formats._check_png_data = real if mode == "with" else (lambda _path: None)
                        start = time.perf_counter()
                        read_image(path)
                        times[mode].append(time.perf_counter() - start)
            finally:
                formats._check_png_data = real
            start = time.perf_counter()
            real(path)
            alone = time.perf_counter() - start
            rows.append(
                {
                    "file": name,
                    "megabytes": round(path.stat().st_size / 1e6, 1),
                    "read_without_check_seconds": round(min(times["without"]), 3),
                    "read_with_check_seconds": round(min(times["with"]), 3),
                    "check_alone_seconds": round(alone, 3),
                    "load": [round(load, 1), round(os.getloadavg()[0], 1)],
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    rows = measure()
    lines = [
        "# A PNG's image data checked as it is read",
        "",
        "`benchmarks/png_check.py`: `read_image` of a 12 MP grainy photo saved by Pillow, with the check "
        "of its image data's length (run in a thread beside the decoding) and without; best of 5, "
        f"interleaved; {os.cpu_count()} cores. Load is the 1-minute load average before and after.",
        "",
        "| file | MB | read without (s) | read with (s) | the check alone (s) | load |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['file']} | {r['megabytes']} | {r['read_without_check_seconds']} | {r['read_with_check_seconds']} "
            f"| {r['check_alone_seconds']} | {r['load'][0]}–{r['load'][1]} |"
        )
    markdown = "\n".join(lines)
    print(markdown)
    write_report(args.out, "png_check", {"rows": rows}, markdown)


if __name__ == "__main__":
    main()
