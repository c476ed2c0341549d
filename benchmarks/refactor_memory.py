"""Memory of an editing session whose coarse grid is factored again ahead of the edits: malloc's
memory in use after each edit and after the session is closed.

The default engine factors its coarse grid again in a background thread after large edits. Where
that factorisation is SuperLU's (array code: ``VARCOLOR_KERNELS=array``, or a small photo's
system), its factors can be freed only by the thread that made them
(:mod:`varcolor.solvers.superlu`). This runs a session of strokes added one by one to a 0.8 MP
photo (scikit-image's coffee, enlarged), with a factorisation after every edit, and reads glibc's
``mallinfo2`` after each edit and once the colorizer is dropped. Run it under the code to compare
(``git worktree``): it measures one process.

Run: ``VARCOLOR_KERNELS=array python benchmarks/refactor_memory.py [--edits 8]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from pathlib import Path

import numpy as np
from reports import write_report

from varcolor.common.memory import malloc_in_use

HERE = Path(__file__).resolve().parent


def _in_use() -> float:
    """MB glibc's malloc has handed out (``uordblks``) and mapped for large blocks (``hblkhd``)."""
    used = malloc_in_use(mapped=True)
    if used is None:
        raise SystemExit("this benchmark reads glibc's malloc statistics (mallinfo2), which this C library lacks")
    return used / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=8)
    parser.add_argument("--name", default="refactor_memory")
    args = parser.parse_args()
    from skimage import data, transform

    import varcolor
    from varcolor.methods import levin_multiscale

    levin_multiscale.REFACTOR_ABOVE = 0.0  # a factorisation after every edit
    truth = transform.resize(data.coffee() / 255.0, (768, 1024), anti_aliasing=True)
    gray = varcolor.color.same_lightness_gray(truth)
    lab = varcolor.color.rgb_to_lab(truth)
    rng = np.random.default_rng(1)

    def stroke() -> varcolor.Cues:
        mask = np.zeros(gray.shape, bool)
        y, x = int(rng.integers(20, 700)), int(rng.integers(20, 900))
        mask[y : y + 4, x : x + 80] = True
        ab = np.zeros(gray.shape + (2,))
        ab[mask] = lab[y + 2, x + 40, 1:]
        return varcolor.Cues(mask, ab)

    cues = stroke()
    for _ in range(5):
        cues = cues.merged(stroke())
    colorizer = varcolor.Colorizer(gray)
    colorizer.solve(cues)
    rows = [{"step": "first solve", "refactor": "", "mb": _in_use()}]
    for k in range(args.edits):
        result = colorizer.update(stroke())
        if colorizer.engine._refactor is not None:
            colorizer.engine._refactor.join()  # the user's pause before the next stroke
        gc.collect()
        refactor = result.info["engine"].get("coarse_refactor", "")
        rows.append({"step": f"edit {k + 1}", "refactor": refactor, "mb": _in_use()})
        print(rows[-1], flush=True)
    del colorizer, result
    gc.collect()
    time.sleep(0.5)  # (what a woken thread frees)
    rows.append({"step": "closed", "refactor": "", "mb": _in_use()})
    kernels = os.environ.get("VARCOLOR_KERNELS", "auto")
    report = {"kernels": kernels, "edits": args.edits, "rows": rows}
    lines = [
        "# Memory of an editing session with the coarse grid factored again after each edit",
        "",
        f"Made by `VARCOLOR_KERNELS={kernels} python benchmarks/refactor_memory.py --edits {args.edits}`: "
        "malloc's memory in use (MB) after each edit of a 0.8 MP photo and after the colorizer is dropped.",
        "",
        "| step | coarse refactor | MB in use |",
        "|---|---|---|",
    ]
    lines += [f"| {row['step']} | {row['refactor']} | {row['mb']:.0f} |" for row in rows]
    write_report(HERE / "results", args.name, report, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
