"""Levin against bilaplacian-GTV on hand scribbles: side-by-side pictures, and scores where a
colour original exists.

For every ``X.png`` + ``X_marked.png`` pair under ``../shared/data/scribbles`` (research-only
data: the scores go to ``benchmarks/results``; the scribbles, and pictures of them, are never
committed), both methods colorize the gray image from the same strokes. Writes
``local/scribbles.png`` (``--name``; one row per pair: scribbles | Levin | bilaplacian-GTV; the
``local`` folder is ignored by git), ``scribbles.json`` and ``scribbles.md`` (seconds; PSNR and
CIEDE2000 against ``X_original.*`` where the set has one — geap_tartu's gray images are not exactly
the originals' lightness, so both methods share that error).

With ``--edges`` (issue 48), Levin's method colorizes each pair three times instead: from the
cues of the old rule (``edges="exact"``: every pixel that differs is a cue in its own colour), of
today's (``edges="unmix"``: blended edge pixels read as partial paint) and of a hard-edged
reference (the old rule's strokes eroded by one pixel, their core colours kept). Besides PSNR and
CIEDE2000 where an original exists it writes a burn-in measure (:func:`burn_in`): how much the
result's chroma jumps across the strokes' outline (the old rule's cues less a noisy copy's faint
differences, :func:`varcolor.reading.marks.copy_noise`). Writes ``scribbles_edges.json``/``.md`` and
``local/scribbles_edges.png`` (one row per pair: scribbles | old | today | hard-edged reference).

``--figure`` writes ``docs/images/strokes_edges.png`` instead: scikit-image's ``coffee`` with
strokes painted by an antialiased brush (4× supersampled), colorized from the old rule's cues and
from today's.

Run: ``python benchmarks/scribbles.py [--only NAME ...] [--sharpness S --name NAME] [--edges | --figure]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage
from shared_data import SHARED
from skimage.transform import resize

import varcolor
from varcolor.errors import ConvergenceWarning

HERE = Path(__file__).resolve().parent
METHODS = ("levin", "bilaplacian-gtv")
ROW_HEIGHT = 160


def pairs(root: Path):
    """(name, gray path, marked path, original path or None) for every scribble pair."""
    for marked in sorted(root.rglob("*_marked.png")):
        gray = marked.with_name(marked.name.replace("_marked", ""))
        if gray.is_file():
            originals = [
                p for p in (gray.with_name(f"{gray.stem}_original{s}") for s in (".png", ".jpg")) if p.is_file()
            ]
            yield f"{marked.parent.name}/{gray.stem}", gray, marked, (originals[0] if originals else None)


def run(
    name: str, gray_path: Path, marked_path: Path, original_path: Path | None, sharpness: float | None = None
) -> tuple[dict, list]:
    gray = varcolor.color.to_gray(varcolor.read_image(gray_path))
    marked = varcolor.read_image(marked_path)[..., :3]
    cues = varcolor.Cues.from_marked(gray, marked)
    row = {"pair": name, "pixels": gray.size, "cue_pixels": int(cues.count)}
    panels = [marked]
    original = varcolor.read_image(original_path)[..., :3] if original_path else None
    for method in METHODS:
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            gtv = {"sharpness": sharpness} if method == "bilaplacian-gtv" and sharpness is not None else {}
            result = varcolor.colorize(gray, cues, method=method, **gtv)
        row[f"{method}_seconds"] = time.perf_counter() - start
        row[f"{method}_converged"] = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        if original is not None and original.shape == result.rgb.shape:
            row[f"{method}_psnr"] = varcolor.metrics.psnr(result.rgb, original)
            row[f"{method}_ciede2000"] = varcolor.metrics.ciede2000(result.rgb, original)
        panels.append(result.rgb)
    return row, panels


#: The rings either side of a stroke's outline, in pixels.
RING = 2
EDGE_RULES = ("exact", "unmix", "hard")


def burn_in(ab: np.ndarray, strokes: np.ndarray) -> float:
    """Mean |C(outside) − C(inside)| across the outline of ``strokes`` (C = √(a² + b²) of the result
    ``ab``): each pixel of the ring :data:`RING` pixels wide just outside the strokes against the
    nearest pixel of the ring just inside, so along the outline's normal. A result that follows
    the photo changes little there; one with the strokes' shapes burned in jumps."""
    chroma = np.hypot(ab[..., 0], ab[..., 1])
    inside = strokes & ~ndimage.binary_erosion(strokes, iterations=RING)
    outside = ndimage.binary_dilation(strokes, iterations=RING) & ~strokes
    if not inside.any() or not outside.any():
        return float("nan")
    nearest = ndimage.distance_transform_edt(~inside, return_distances=False, return_indices=True)
    across = chroma[tuple(i[outside] for i in nearest)]
    return float(np.mean(np.abs(chroma[outside] - across)))


def run_edges(name: str, gray_path: Path, marked_path: Path, original_path: Path | None) -> tuple[dict, list]:
    """Levin's method from the old rule's cues, today's and the hard-edged reference's."""
    gray = varcolor.color.to_gray(varcolor.read_image(gray_path))
    marked = varcolor.read_image(marked_path)[..., :3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the noise warning: same for every rule
        old = varcolor.Cues.from_marked(gray, marked, edges="exact")
        new = varcolor.Cues.from_marked(gray, marked)
    # The strokes as painted: the old rule's cues less a noisy copy's faint differences (lightalchemist/casual).
    strays = np.abs(marked - (gray[..., None] if gray.ndim == 2 else gray)).max(axis=2)
    strokes = old.mask & (strays > varcolor.reading.marks.copy_noise(gray, marked))
    core = ndimage.binary_erosion(strokes, border_value=1)
    cues = {"exact": old, "unmix": new, "hard": varcolor.Cues(core, old.ab)}
    row = {"pair": name, "pixels": gray.size, "note": new.note}
    original = varcolor.read_image(original_path)[..., :3] if original_path else None
    panels = [marked]
    for rule in EDGE_RULES:
        row[f"{rule}_cue_pixels"] = cues[rule].count
        if cues[rule].count >= 0.99 * gray.size:  # the colour original as the marked image: nothing to colorize
            row[f"{rule}_burn_in"] = float("nan")
            panels.append(marked)
            continue
        result = varcolor.colorize(gray, cues[rule], method="levin")
        row[f"{rule}_burn_in"] = burn_in(result.ab, strokes)
        if original is not None and original.shape == result.rgb.shape:
            row[f"{rule}_psnr"] = varcolor.metrics.psnr(result.rgb, original)
            row[f"{rule}_ciede2000"] = varcolor.metrics.ciede2000(result.rgb, original)
        panels.append(result.rgb)
    row["unmix_over_hard"] = row["unmix_burn_in"] / row["hard_burn_in"]
    row["exact_over_hard"] = row["exact_burn_in"] / row["hard_burn_in"]
    return row, panels


#: The figure's strokes on coffee at 192×256: (x0, y0, x1, y1, ...) and 8-bit paint.
FIGURE_STROKES = (
    ((40, 60, 90, 40, 150, 38, 210, 60), (150, 90, 60)),  # the cup's rim
    ((70, 120, 120, 150, 180, 140), (225, 225, 235)),  # the cup
    ((20, 170, 120, 182, 240, 175), (90, 60, 40)),  # the table
    ((230, 20, 240, 110), (200, 120, 60)),  # the background
)


def figure(path: Path) -> None:
    """Coffee with antialiased strokes | old rule | today (Levin's method), one row."""
    import skimage.data
    from PIL import Image, ImageDraw

    shape, factor = (192, 256), 4
    gray = np.round(varcolor.color.to_gray(resize(skimage.data.coffee() / 255.0, shape, anti_aliasing=True)) * 255)
    big = Image.fromarray(np.repeat(gray[..., None], 3, axis=2).astype(np.uint8)).resize(
        (shape[1] * factor, shape[0] * factor), Image.Resampling.NEAREST
    )
    draw = ImageDraw.Draw(big)
    for line, paint in FIGURE_STROKES:
        draw.line([c * factor for c in line], fill=paint, width=7 * factor, joint="curve")
    marked = np.asarray(big.resize((shape[1], shape[0]), Image.Resampling.BOX), np.float64) / 255
    gray = gray / 255
    panels = [marked]
    for edges in ("exact", "unmix"):
        panels.append(varcolor.colorize(gray, varcolor.Cues.from_marked(gray, marked, edges=edges), method="levin").rgb)
    gap = np.ones((shape[0], 6, 3))
    varcolor.write_image(path, np.concatenate([panels[0], gap, panels[1], gap, panels[2]], axis=1))


def markdown_edges(rows: list[dict]) -> str:
    out = [
        f"Levin's method; burn-in: mean |ΔC| across the strokes' outline ({RING}-pixel rings); "
        "hard: the strokes eroded by one pixel (their core colours).",
        "",
        "| pair | cue pixels old / today | burn-in old | burn-in today | burn-in hard | today / hard "
        "| PSNR old | PSNR today | ΔE old | ΔE today |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [r["pair"], f"{r['exact_cue_pixels']:,} / {r['unmix_cue_pixels']:,}"]
        numbers = [r[f"{rule}_burn_in"] for rule in EDGE_RULES] + [r["unmix_over_hard"]]
        cells += ["refused (every pixel a cue)" if x != x else f"{x:.2f}" for x in numbers]  # NaN
        cells += [
            f"{r[k]:.2f}" if k in r else "" for k in ("exact_psnr", "unmix_psnr", "exact_ciede2000", "unmix_ciede2000")
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def picture(rows_of_panels: list[list[np.ndarray]]) -> np.ndarray:
    """Rows of panels scaled to one height, separated by white gaps, rows padded to one width."""
    rows = []
    for panels in rows_of_panels:
        scaled = [
            resize(p, (ROW_HEIGHT, round(p.shape[1] * ROW_HEIGHT / p.shape[0])), order=1, anti_aliasing=True)
            for p in panels
        ]
        gap = np.ones((ROW_HEIGHT, 6, 3))
        rows.append(np.concatenate([x for p in scaled for x in (p, gap)][:-1], axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=1.0) for r in rows]
    return np.concatenate(rows, axis=0)[:-6]


def markdown(rows: list[dict]) -> str:
    out = [
        "| pair | pixels | cue pixels | Levin s | GTV s | Levin PSNR | GTV PSNR | Levin ΔE | GTV ΔE |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [
            r["pair"],
            f"{r['pixels']:,}",
            f"{r['cue_pixels']:,}",
            f"{r['levin_seconds']:.2f}",
            f"{r['bilaplacian-gtv_seconds']:.1f}" + ("" if r["bilaplacian-gtv_converged"] else " (not converged)"),
        ]
        cells += [
            f"{r[k]:.2f}" if k in r else ""
            for k in ("levin_psnr", "bilaplacian-gtv_psnr", "levin_ciede2000", "bilaplacian-gtv_ciede2000")
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scribbles", default=str(SHARED / "scribbles"), help="folder of scribble pairs")
    parser.add_argument("--only", nargs="*", help="pair names (set/stem) to run")
    parser.add_argument("--sharpness", type=float, help="bilaplacian-gtv's edge-weight sharpness (default: 8)")
    parser.add_argument("--out", default=str(HERE / "results"), help="output folder")
    parser.add_argument("--name", default="scribbles", help="result file stem (default: %(default)s)")
    parser.add_argument("--edges", action="store_true", help="old against today's reading of stroke edges")
    parser.add_argument("--figure", action="store_true", help="write docs/images/strokes_edges.png and stop")
    args = parser.parse_args(argv)
    if args.figure:
        figure(HERE.parent / "docs" / "images" / "strokes_edges.png")
        return 0
    if args.edges and args.name == "scribbles":
        args.name = "scribbles_edges"
    root = Path(args.scribbles)
    if not root.is_dir():
        print(f"scribbles: error: {root}: no such folder", file=sys.stderr)
        return 2
    chosen = [p for p in pairs(root) if not args.only or p[0] in args.only]
    rows, panels = [], []
    for pair in chosen:
        row, row_panels = run_edges(*pair) if args.edges else run(*pair, sharpness=args.sharpness)
        print(row, flush=True)
        rows.append(row)
        panels.append(row_panels)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with varcolor.io.atomic_path(out / f"{args.name}.json") as tmp:
        tmp.write_text(
            json.dumps(
                {
                    "methods": ["levin"] if args.edges else METHODS,
                    "edges": list(EDGE_RULES) if args.edges else None,
                    "ring": RING if args.edges else None,
                    "sharpness": args.sharpness,
                    "varcolor": varcolor.__version__,
                    "rows": [{k: None if v != v else v for k, v in r.items()} for r in rows],  # NaN: null
                },
                indent=1,
            )
        )
    with varcolor.io.atomic_path(out / f"{args.name}.md") as tmp:
        tmp.write_text((markdown_edges if args.edges else markdown)(rows))
    varcolor.write_image(out / "local" / f"{args.name}.png", picture(panels))
    print((markdown_edges if args.edges else markdown)(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
