"""What bringing out-of-gamut colours into sRGB costs a paint: a saturated result (scikit-image's
coffee upscaled to 3 MP with grain, four strokes of its own colours, the default engine) painted
from Lab to sRGB by the kernel with ``gamut="chroma"`` (the search for the largest chroma in sRGB)
and with ``"clip"`` (no search: the paint's floor), best of 5 interleaved; the share of pixels
outside sRGB. ``--compare FILE``: another version of ``varcolor/color.py`` (say ``git show
REV:varcolor/color.py > old.py``) loaded beside this one and timed in the same rounds, with how far
its colours are from this one's.

    python benchmarks/gamut_search.py [--compare old_color.py] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np
from krita_live import _photo, _stroke
from reports import write_report

import varcolor
from varcolor import Colorizer, Cues, color
from varcolor.color import same_lightness_gray


def scene(shape=(1414, 2121), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    colour = _photo(shape, rng)
    gray = same_lightness_gray(colour)
    strokes = np.zeros(shape + (4,))
    for _ in range(4):
        _stroke(strokes, colour, rng)
    colorizer = Colorizer(gray)
    colorizer.solve(Cues.from_mask(strokes, gray.shape))
    return colorizer.painter.lightness, colorizer._chroma


def _load(path: str):
    spec = importlib.util.spec_from_file_location("varcolor._compared_color", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its relative imports resolve in the varcolor package
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", help="another varcolor/color.py, timed beside this one")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    lightness, chroma = scene()
    versions = {"this": color}
    if args.compare:
        versions["compared"] = _load(args.compare)
    out = np.empty(lightness.shape + (3,))
    for module in versions.values():
        module._srgb_of(lightness[:4], chroma[:4], "chroma", None, False)  # compiled or loaded
    load = os.getloadavg()[0]
    times: dict[tuple[str, str], list[float]] = {(v, g): [] for v in versions for g in ("chroma", "clip")}
    for _ in range(5):
        for name, module in versions.items():
            for gamut in ("chroma", "clip"):
                start = time.perf_counter()
                module._srgb_of(lightness, chroma, gamut, out, False)
                times[name, gamut].append(time.perf_counter() - start)
    clipped = color._srgb_of(lightness, chroma, "clip", None, False)
    searched = color._srgb_of(lightness, chroma, "chroma", None, False)
    outside = float(np.mean(np.any(np.abs(clipped - searched) > 1e-12, axis=-1)))
    rows = [
        {
            "version": name,
            "chroma_seconds": round(min(times[name, "chroma"]), 3),
            "clip_seconds": round(min(times[name, "clip"]), 3),
        }
        for name in versions
    ]
    apart = None
    if "compared" in versions:
        theirs = versions["compared"]._srgb_of(lightness, chroma, "chroma", None, False)
        apart = float(np.abs(theirs - searched).max())
    report = {
        "megapixels": round(lightness.size / 1e6, 2),
        "outside_share": round(outside, 4),
        "rows": rows,
        "compared_max_difference": apart,
        "compared_file": args.compare,
        "load": [round(load, 1), round(os.getloadavg()[0], 1)],
        "varcolor": varcolor.__version__,
    }
    lines = [
        "# The gamut search's share of a paint",
        "",
        f"`benchmarks/gamut_search.py`: a saturated {report['megapixels']} MP result (coffee upscaled, grain, "
        f"four strokes, the default engine), {outside:.0%} of its pixels outside sRGB, painted from Lab by the "
        "kernel: `chroma` (each such colour's largest chroma in sRGB, searched) against `clip` (no search). "
        f"Best of 5, interleaved, {os.cpu_count()} cores; load {report['load'][0]}–{report['load'][1]}.",
        "",
        "| version | `chroma` (s) | `clip` (s) | the search's share |",
        "|---|---|---|---|",
    ]
    for r in rows:
        share = 1 - r["clip_seconds"] / r["chroma_seconds"]
        lines.append(f"| {r['version']} | {r['chroma_seconds']} | {r['clip_seconds']} | {share:.0%} |")
    if apart is not None:
        lines += ["", f"`compared` is `{args.compare}`; its colours are at most {apart:.1e} from this one's."]
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    write_report(args.out, "gamut_search", report, markdown)


if __name__ == "__main__":
    main()
