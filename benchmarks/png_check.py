"""What a PNG's read costs, by decoder: ``read_image`` decodes a plain 8-bit PNG (gray, RGB or RGBA,
nothing to apply) with libpng straight into its array, which refuses image data that ends early;
any other PNG with Pillow, whose image data is inflated a second time in a thread beside it to
refuse a file whose data ends early (Pillow paints the missing rows black without a word).

A grainy photo (scikit-image's astronaut, upscaled, with grain) saved by Pillow as RGB, as gray,
and as a gray stored as RGB (its channels a level apart on 0.3 % of the pixels); the median of 9
reads each way, interleaved: libpng (the default), Pillow with the check (before libpng), Pillow
without it; and the check alone.

    python benchmarks/png_check.py [--megapixels 12] [--out benchmarks/results] [--name png_check]

``--shared``: instead, every PNG under ``../shared/data`` (photos, scribbled copies: users' files),
each read by libpng where it is plain and by Pillow: how many went to libpng, whether each read the
same levels, and the seconds of both (``png_check_shared``).
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

#: How each read is made: the fast path left on or off, the check left on or off.
WAYS = {"libpng": (True, True), "Pillow, checked": (False, True), "Pillow alone": (False, False)}


def _files(megapixels: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    height = int(round(np.sqrt(megapixels * 1e6 * 2 / 3)))
    photo = resize(skimage.data.astronaut() / 255.0, (height, height * 3 // 2), order=1)
    levels = (np.clip(photo + rng.normal(0, 0.02, photo.shape[:2] + (1,)), 0, 1) * 255).astype(np.uint8)
    gray = levels[..., 1]
    stored = np.repeat(gray[..., None], 3, axis=2)
    off = rng.random(gray.shape) < 0.003
    stored[..., 1][off] = np.where(gray[off] < 255, gray[off] + 1, gray[off] - 1)
    return {"RGB": levels, "gray": gray, "gray stored as RGB": stored}


def measure(megapixels: float = 12.0, repeats: int = 9) -> list[dict]:
    rng = np.random.default_rng(0)
    check, plain = formats._check_png_data, formats._plain_png
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, pixels in _files(megapixels, rng).items():
            path = Path(folder) / "photo.png"
            Image.fromarray(pixels).save(path)
            load = os.getloadavg()[0]
            times: dict[str, list[float]] = {way: [] for way in WAYS}
            try:
                for _ in range(repeats):
                    for way, (fast, checked) in WAYS.items():
                        formats._plain_png = plain if fast else (lambda *_args: None)
                        formats._check_png_data = check if checked else (lambda _path: None)
                        start = time.perf_counter()
                        read_image(path, levels=True)
                        times[way].append(time.perf_counter() - start)
            finally:
                formats._check_png_data, formats._plain_png = check, plain
            start = time.perf_counter()
            check(path)
            alone = time.perf_counter() - start
            rows.append(
                {
                    "file": f"{megapixels:g} MP {name}",
                    "megabytes": round(path.stat().st_size / 1e6, 1),
                    "seconds": {way: round(float(np.median(found)), 3) for way, found in times.items()},
                    "check_alone_seconds": round(alone, 3),
                    "load": [round(load, 1), round(os.getloadavg()[0], 1)],
                }
            )
    return rows


def _counting(plain, taken: list[bool]):
    """``plain`` (``formats._plain_png``) noting in ``taken`` whether it handed a file to libpng."""

    def counted(*args):
        found = plain(*args)
        taken.append(found is not None)
        return found

    return counted


def shared_files(root: Path) -> dict:
    """Every PNG under ``root`` read both ways (the fast path taken where the file allows it)."""
    import warnings

    plain = formats._plain_png
    record: dict = {
        "files": 0,
        "by_libpng": 0,
        "identical": 0,
        "differing": [],
        "seconds": {"default": 0.0, "Pillow": 0.0},
    }
    for path in sorted(root.rglob("*.png")):
        taken: list[bool] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # profiles converted: said by each read alike
            try:
                formats._plain_png = _counting(plain, taken)
                start = time.perf_counter()
                fast = read_image(path, levels=True)
                record["seconds"]["default"] += time.perf_counter() - start
                formats._plain_png = lambda *_args: None
                start = time.perf_counter()
                slow = read_image(path, levels=True)
                record["seconds"]["Pillow"] += time.perf_counter() - start
            finally:
                formats._plain_png = plain
        record["files"] += 1
        record["by_libpng"] += any(taken)
        if fast.dtype == slow.dtype and np.array_equal(fast, slow):
            record["identical"] += 1
        else:
            record["differing"].append(str(path.relative_to(root)))
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--name", default="png_check")
    parser.add_argument("--shared", action="store_true", help="every PNG under ../shared/data, read both ways")
    args = parser.parse_args()
    if args.shared:
        root = Path(__file__).resolve().parents[2] / "shared" / "data"
        found = shared_files(root)
        markdown = (
            "# Users' PNGs read by libpng and by Pillow\n\n`benchmarks/png_check.py --shared`: every PNG under "
            f"`../shared/data` (photos and scribbled copies): {found['files']} files, {found['by_libpng']} read by "
            f"libpng (the rest carry something to apply), {found['identical']} with the same levels as Pillow's read; "
            f"differing: {', '.join(found['differing']) or 'none'}. All the reads: "
            f"{found['seconds']['default']:.2f} s, by Pillow {found['seconds']['Pillow']:.2f} s.\n"
        )
        print(markdown)
        write_report(args.out, "png_check_shared", found, markdown)
        return
    rows = measure(args.megapixels)
    lines = [
        "# A PNG's read, by decoder",
        "",
        f"`benchmarks/png_check.py --megapixels {args.megapixels:g}`: `read_image(levels=True)` of a grainy "
        "photo saved by Pillow; the median of 9 reads each way, interleaved: libpng (the default for a "
        "plain 8-bit PNG), Pillow with the check of its image data's length (run in a thread beside the "
        f"decoding: the read before libpng), Pillow alone; and the check alone. {os.cpu_count()} cores; "
        "load is the 1-minute load average before and after.",
        "",
        "| file | MB | " + " | ".join(f"{way} (s)" for way in WAYS) + " | the check alone (s) | load |",
        "|---|---|" + "---|" * len(WAYS) + "---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['file']} | {r['megabytes']} | "
            + " | ".join(str(r["seconds"][way]) for way in WAYS)
            + f" | {r['check_alone_seconds']} | {r['load'][0]}–{r['load'][1]} |"
        )
    markdown = "\n".join(lines)
    print(markdown)
    write_report(args.out, args.name, {"megapixels": args.megapixels, "rows": rows}, markdown)


if __name__ == "__main__":
    main()
