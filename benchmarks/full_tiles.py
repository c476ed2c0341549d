"""The studio's full tiles at 40 MP (``--shape`` another size): the 16 tiles of a 1:1 view
(1024×1024 photo pixels) over a restorer's strokes, made by :meth:`varcolor.ui.view.View.full_chroma`
on one thread, as the studio's tile threads each make theirs; with ``--against REV``, the same in a worktree of that
commit (warmed first, as the working tree is), in the same run (the machine's speed varies from
day to day), and the two answers' largest difference.

The photo is generated (a 7746×5164 gray with film grain, as a 40 MP scan), the strokes are five of
about 660 photo pixels each (a restorer's 120 screen pixels at fit-to-window), 20 pixels wide, each a
new colour, crossing the view's tiles; the live result's chroma a 1500×1000 gradient.

    python benchmarks/full_tiles.py [--against REV] [--name STEM]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from reports import csr_matvec_ms, kernels_note, write_report

ROOT = Path(__file__).resolve().parent.parent
SHAPE = (5164, 7746)
COLOURS = ([200, 60, 50], [50, 90, 200], [60, 180, 70], [220, 200, 40], [150, 60, 170])


def measure(answers: str | None, shape: tuple[int, int] = SHAPE) -> dict:
    """Make the 16 tiles (painted, as PNG: what a tile thread makes) for the strokes, then again
    after one more stroke of a new colour in a corner of the view (a new live chroma: every tile's
    colours move); the seconds of each pass and of each tile of the second; the second pass's
    chroma written to ``answers`` (``.npz``)."""
    import numba

    from varcolor.ui import view as view_module
    from varcolor.ui.document import Document
    from varcolor.ui.view import TILE, View

    numba.set_num_threads(1)  # a tile thread's kernels: one core each (varcolor.ui.view._tile_pool)
    rng = np.random.default_rng(3)
    height, width = shape
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    xs = np.linspace(0, 1, width, dtype=np.float32)[None]
    gray = (0.5 + 0.3 * np.sin(xs * 40) * np.cos(ys * 31)).astype(np.float32)
    gray += (0.04 * rng.standard_normal(shape)).astype(np.float32)
    np.clip(gray, 0, 1, out=gray)
    doc = Document()
    cy, cx = height // 2, width // 2
    for k, rgb in enumerate(COLOURS):
        path = [[cx - 500 + 60 * j + 30 * k, cy - 400 + 170 * k + int(80 * math.sin(j / 2))] for j in range(12)]
        doc = doc.with_stroke({"tool": "brush", "rgb": rgb, "width": 20, "path": path}, shape)
    live_ab = np.dstack(
        [np.linspace(-20, 30, 1500)[None].repeat(1000, 0), np.linspace(25, -10, 1000)[:, None].repeat(1500, 1)]
    ).astype(np.float32)
    top, left = cy // TILE - 2, cx // TILE - 2
    corner = [[(left + 3) * TILE + 60, (top + 3) * TILE + 60], [(left + 3) * TILE + 200, (top + 3) * TILE + 120]]
    after = doc.with_stroke({"tool": "brush", "rgb": [90, 200, 220], "width": 20, "path": corner}, shape)
    view = View(gray)
    keys = [(r, c) for r in range(top, top + 4) for c in range(left, left + 4)]
    keys.sort(key=lambda k: (k[0] - top - 1.5) ** 2 + (k[1] - left - 1.5) ** 2)  # the page's order
    # In blocks of tiles made in one window, as the studio makes the view's (a commit before them:
    # each tile on its own).
    made = view_module.blocks(keys) if hasattr(view_module, "blocks") else [(*key, 1, 1, (key,)) for key in keys]
    chroma: dict = {}
    passes, per_tile, painting = [], [], 0.0
    for document, ab in ((doc, live_ab), (after, live_ab + np.float32(3.0))):
        start = time.perf_counter()
        per_tile, painting = [], 0.0
        for row, col, rows, cols, block in made:
            begun = time.perf_counter()
            both = view.full_chroma(row, col, document, ab, rows, cols) if rows * cols > 1 else None
            for key in block:
                if both is None:
                    chroma[key] = view.full_chroma(*key, document, ab)
                else:
                    y, x = (key[0] - row) * TILE, (key[1] - col) * TILE
                    chroma[key] = both[y : y + TILE, x : x + TILE]
                painted = time.perf_counter()
                view._painted(view._pixels(0, *key)[0], chroma[key])
                painting += time.perf_counter() - painted
            per_tile += [(time.perf_counter() - begun) / len(block)] * len(block)
        passes.append(time.perf_counter() - start)
    if answers:
        np.savez(answers, **{f"{r}_{c}": v for (r, c), v in chroma.items()})
    return {
        "passes_s": passes,
        "per_tile_s": per_tile,
        "paint_s": painting,
        "tiles": len(keys),
        "kernels_warm": kernels_note()[0],
    }


def _run(source: Path, answers: Path, shape: tuple[int, int]) -> dict:
    """:func:`measure` in a fresh process importing varcolor from ``source``."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    # This script run again, as a file: its folder (for `reports`) is the child's first path, then
    # ``source``, whose varcolor it imports.
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", str(answers)]
    command += ["--shape", f"{shape[0]}x{shape[1]}"]
    done = subprocess.run(command, env=env, cwd=source, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"full_tiles: the run in {source} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _warm(source: Path) -> None:
    """``varcolor warm`` with varcolor imported from ``source`` (its numba cache its own)."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, "-m", "varcolor.cli", "warm"], env=env, cwd=source, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"full_tiles: varcolor warm in {source} failed:\n{done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", help="a commit to time beside the working tree, in the same run")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--name", default="full_tiles", help="the results' stem (default: %(default)s)")
    parser.add_argument("--shape", default="5164x7746", help="the photo's HxW (default: %(default)s, 40 MP)")
    parser.add_argument("--measure", metavar="ANSWERS", help=argparse.SUPPRESS)  # the child of _run
    args = parser.parse_args()
    height, width = (int(n) for n in args.shape.split("x"))
    shape = (height, width)
    if args.measure:
        print(json.dumps(measure(args.measure, shape)))
        return
    matvec = csr_matvec_ms()
    rows = {}
    with tempfile.TemporaryDirectory() as work:
        work_path = Path(work)
        if args.against:
            tree = work_path / "against"
            subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tree), args.against], cwd=ROOT, check=True)
            try:
                # Its kernels compiled first, as the working tree's are (`varcolor warm`): unwarmed, its tiles
                # ran partly as array code while a compile went on in the background (1.35 s against 0.82 s,
                # and tiles 0.0002 ab apart, where the two codes in one process gave the same tiles).
                _warm(tree)
                rows[args.against] = _run(tree, work_path / "against.npz", shape)
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
        rows["working tree"] = _run(ROOT, work_path / "now.npz", shape)
        differs = None
        if args.against:
            old, new = np.load(work_path / "against.npz"), np.load(work_path / "now.npz")
            differs = max(float(np.abs(old[k] - new[k]).max()) for k in new.files)
    lines = [
        f"# The studio's full tiles at {shape[0] * shape[1] / 1e6:.0f} MP",
        "",
        f"`python benchmarks/full_tiles.py{' --against ' + args.against if args.against else ''}"
        f"{' --shape ' + args.shape if args.shape != '5164x7746' else ''}`; "
        f"{os.cpu_count()} cores; a 1 MP CSR mat-vec {matvec:.1f} ms. The 16 tiles of a 1:1 view over five "
        f"20-pixel strokes of about 660 photo pixels each, on a generated {shape[1]}×{shape[0]} grainy gray, made one "
        "after "
        "another on one thread (as each of the studio's tile threads makes its own; in blocks of tiles made in one "
        "window where the code makes the view's so), each painted and made a PNG; "
        "then again after a sixth stroke of a new colour in a corner of the view, the live chroma moved by 3 ab "
        "(every tile's colours move).",
        "",
        "| code | 16 tiles, first | 16 tiles after a stroke | of which painting and PNG "
        "| median tile (a block's time shared) | slowest tile |",
        "|---|---|---|---|---|---|",
    ]
    for code, row in rows.items():
        tiles = row["per_tile_s"]
        lines.append(
            f"| {code} | {row['passes_s'][0]:.2f} s | {row['passes_s'][1]:.2f} s | {row.get('paint_s', 0.0):.2f} s "
            f"| {np.median(tiles) * 1e3:.0f} ms | {max(tiles) * 1e3:.0f} ms |"
        )
    for code, row in rows.items():
        if not row.get("kernels_warm", True):
            lines += ["", f"{code}: {kernels_note()[1]}"]
    if differs is not None:
        lines += [
            "",
            f"The two codes' tiles differ by at most {differs:.2g} ab. The other commit runs from a worktree, whose "
            "numba cache is its own, warmed (`varcolor warm`) before it is timed; compare the passes after a stroke "
            "(the first loads the kernels).",
        ]
    report = {"matvec_ms": matvec, "rows": rows, "largest_difference_ab": differs}
    write_report(args.out, args.name, report, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
