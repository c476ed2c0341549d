"""Speed and memory of colorization against image size, per solver and cue pattern.

Each measurement runs in a fresh process: time end to end (system build + solver setup + solve of
both chroma channels) and peak memory above the loaded image. The solvers of Levin's exact system
(``direct``, ``amg``, and the baselines) are measured, and two other energies with their solvers:
``levin-symmetric`` (the symmetric variant by CG + our grid multigrid; ``levin-symmetric-cg``: by the
``cg`` solver, CG + a Ruge–Stüben cycle that also runs on a GPU) and ``bilaplacian-gtv``
(ADMM); for those, "max |Δab| vs direct" is how far the other model's colours are from the exact
method's, not a solver error. Photos are Kodak images resized to
each size; cue patterns: 1 % random pixels, a grid every 8 px, 0.05 % random pixels, and hand
scribbles (Levin's example strokes, scaled up). Baselines in the same run: SciPy ``spsolve`` once
per channel (what popular ports do) and plain pyamg (Ruge–Stüben + GMRES per channel). Every
iterative result is compared with the direct solve where that ran.

``--device cuda`` runs the solvers that have a GPU path (``amg``, ``levin-symmetric-cg``,
``bilaplacian-gtv``) with CuPy, and ``direct`` on the CPU as the reference; their rows add the GPU
memory pool's size after the solve (CuPy keeps no peak, and the pool only grows when a request
cannot reuse a freed block, so it bounds the peak from above).

Writes ``speed.json``, ``speed.md`` and ``speed.png`` (time against megapixels, log–log; ``--name``
changes the stem).
Run: ``python benchmarks/speed.py`` (``--help`` for options; ``--sizes 0.25,1,4,16``); on a GPU:
``python benchmarks/speed.py --device cuda --sizes 1,4,8 --solvers direct,amg,levin-symmetric-cg,bilaplacian-gtv``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np  # noqa: E402
import timing_environment  # noqa: E402,F401  (before NumPy: one BLAS thread, no huge pages)
from reports import in_child, write_report  # noqa: E402
from shared_data import SHARED  # noqa: E402

from varcolor.common.kernels import KERNELS_VARIABLE  # noqa: E402

# The solvers are compared as they run once `varcolor warm` has compiled the kernels, also on a
# machine where it never ran (a lent GPU machine is fresh): there, small photos would otherwise
# run array code, and the warm-up at 0.01 MP would compile nothing. first_run*.py time the
# never-warmed user.
os.environ.setdefault(KERNELS_VARIABLE, "numba")
HERE = Path(__file__).resolve().parent
PATTERNS = ("random1", "grid8", "random005", "scribbles")
SOLVERS = ("direct", "amg", "spsolve", "pyamg", "levin-symmetric", "levin-symmetric-cg", "bilaplacian-gtv")
OTHER_ENERGIES = ("levin-symmetric", "levin-symmetric-cg", "bilaplacian-gtv")
# Colorizer.update is timed for these (method, solver) pairs when the solver's row is measured.
INTERACTIVE = {
    "direct": ("levin", "direct"),
    "amg": ("levin", "amg"),
    "levin-symmetric": ("levin-symmetric", "multigrid"),
    "levin-symmetric-cg": ("levin-symmetric", "cg"),
    "bilaplacian-gtv": ("bilaplacian-gtv", "auto"),
}
# Skip runs whose cost explodes (seconds, memory) above these sizes in megapixels.
LIMITS = {
    "spsolve": 1.0,
    "pyamg": 1.0,
    "direct": 16.0,
    "amg": 64.0,
    "levin-symmetric": 64.0,
    "levin-symmetric-cg": 16.0,
    "bilaplacian-gtv": 1.0,
}
# Solvers with a CuPy path, and their size limits on a GPU.
GPU_LIMITS = {"amg": 64.0, "levin-symmetric-cg": 64.0, "bilaplacian-gtv": 16.0}


def scene(megapixels: float, pattern: str, seed: int = 0):
    """A Kodak photo resized to ``megapixels`` and the cues of ``pattern``."""
    from skimage.transform import resize

    import varcolor
    from varcolor.cues import sample_grid, sample_random

    rgb = varcolor.read_image(SHARED / "kodak" / "kodim05.png")
    height = int(round(np.sqrt(megapixels * 1e6 * rgb.shape[0] / rgb.shape[1])))
    width = int(round(megapixels * 1e6 / height))
    rgb = np.clip(resize(rgb, (height, width), order=1, anti_aliasing=True), 0, 1)
    gray = varcolor.color.same_lightness_gray(rgb)
    if pattern == "random1":
        cues = sample_random(rgb, int(0.01 * height * width), rng=seed)
    elif pattern == "random005":
        cues = sample_random(rgb, max(1, int(0.0005 * height * width)), rng=seed)
    elif pattern == "grid8":
        cues = sample_grid(rgb, step=8)
    else:
        cues = scribbles(rgb)
    return gray, cues


def scribbles(rgb: np.ndarray):
    """Levin's example strokes, scaled to the image, carrying the image's own chroma under them."""
    from skimage.transform import resize

    import varcolor

    folder = SHARED / "scribbles" / "levin_original"
    gray = varcolor.read_image(folder / "example.png")
    marked = varcolor.read_image(folder / "example_marked.png")
    mask = varcolor.Cues.from_marked(gray, marked).mask
    mask = resize(mask.astype(float), rgb.shape[:2], order=0) > 0.5
    ab = varcolor.color.rgb_to_lab(rgb)[..., 1:]
    return varcolor.Cues(mask, np.where(mask[..., None], ab, 0.0))


def measure(task: dict, queue) -> None:
    """Run one (size, pattern, solver) in this fresh process; put the result on ``queue``."""
    import scipy.sparse.linalg as spla

    from varcolor.energies import bilaplacian_gtv
    from varcolor.energies.levin import exact_operator, exact_rhs, symmetric_system
    from varcolor.solvers import CgSolver, MultigridSolver, make_solver

    device = task["device"]

    def solve_other_energy(gray, cues):
        if task["solver"].startswith("levin-symmetric"):
            operator, rhs = symmetric_system(gray, cues.mask, cues.ab)
            solver = CgSolver if task["solver"].endswith("-cg") else MultigridSolver
            x, info = solver(operator, device=device).solve(rhs)
            return x, info.iterations
        params = bilaplacian_gtv.Parameters(**({"tol": task["admm_tol"]} if task.get("admm_tol") else {}))
        x, info = bilaplacian_gtv.solve(gray, cues.mask, cues.ab, params, device=device)
        return x, info["iterations"]

    # Load the numba kernels from their cache (and compile CuPy's) before timing.
    if task["solver"] not in ("spsolve", "pyamg"):
        warm_gray, warm_cues = scene(0.01, "random1")
        if task["solver"] in ("direct", "amg"):
            make_solver(task["solver"], exact_operator(warm_gray, warm_cues.mask), device=device).solve(
                exact_rhs(warm_cues.mask, warm_cues.ab)
            )
        else:
            solve_other_energy(warm_gray, warm_cues)
    gray, cues = scene(task["megapixels"], task["pattern"])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    iterations = 0
    if task["solver"] in OTHER_ENERGIES:
        x, iterations = solve_other_energy(gray, cues)
    else:
        rhs = exact_rhs(cues.mask, cues.ab)
        operator = exact_operator(gray, cues.mask)
    if task["solver"] in ("direct", "amg"):
        x, info = make_solver(task["solver"], operator, device=device).solve(rhs)
        iterations = info.iterations
    elif task["solver"] == "spsolve":
        matrix = operator.to_csr().tocsc()
        x = np.stack([spla.spsolve(matrix, rhs[..., c].ravel()) for c in range(2)], axis=-1).reshape(rhs.shape)
    elif task["solver"] == "pyamg":
        import pyamg

        matrix = operator.to_csr()
        hierarchy = pyamg.ruge_stuben_solver(matrix, max_coarse=400)
        columns = []
        for c in range(2):
            residuals = []
            columns.append(
                hierarchy.solve(rhs[..., c].ravel(), tol=1e-6, accel="gmres", maxiter=400, residuals=residuals)
            )
            iterations += len(residuals) - 1
        x = np.stack(columns, axis=-1).reshape(rhs.shape)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    np.save(task["solution"], x.astype(np.float32))
    result = {
        **task,
        "seconds": seconds,
        "iterations": iterations,
        "peak_bytes": max(0, peak - before),
        "shape": list(gray.shape),
        "cues": int(cues.count),
    }
    if device == "cuda":
        import cupy

        result["device_pool_bytes"] = int(cupy.get_default_memory_pool().total_bytes())
    queue.put(result)


def run(task: dict, timeout: float) -> dict:
    result = in_child(measure, (task,), timeout)
    return {**task, **result} if "error" in result else result


def interactive(
    megapixels: float,
    pattern: str,
    method: str,
    solver: str,
    repeats: int = 3,
    device: str = "cpu",
    admm_tol: float | None = None,
) -> dict:
    """Time ``Colorizer.update`` after one more stroke, against the first solve (median of
    ``repeats`` fresh runs: one timing of a 1 MP update varied 3× between runs). Levin's methods
    correct the first solve's LU (``direct``) or re-solve in a window around the stroke where the
    change stays local (``update_window``); bilaplacian-gtv resumes its ADMM. The error is against a
    fresh solve of all the cues (direct for Levin's methods)."""
    import varcolor

    gray, cues = scene(megapixels, pattern)
    corner = varcolor.Cues(cues.mask[:64, :64], cues.ab[:64, :64])
    options = {
        "method": method,
        "solver": solver,
        "device": device,
        **({"admm_tol": admm_tol} if method == "bilaplacian-gtv" else {}),
    }
    warm = varcolor.Colorizer(gray[:64, :64], **options)  # load the kernels
    warm.solve(corner)
    dot = np.zeros((64, 64), bool)
    dot[30:32, 30:34] = True
    warm.update(varcolor.Cues(dot, np.where(dot[..., None], (30.0, -20.0), 0.0)))
    stroke = np.zeros(gray.shape, bool)
    row = gray.shape[0] // 2
    stroke[row, gray.shape[1] // 4 : gray.shape[1] // 4 + 40] = True
    more = varcolor.Cues(stroke, np.where(stroke[..., None], (30.0, -20.0), 0.0))
    runs = []
    for _ in range(repeats):
        cz = varcolor.Colorizer(gray, **options)
        runs.append((cz.solve(cues).info, cz.update(more)))
    fresh = varcolor.colorize(gray, cues.merged(more), method=method, solver="direct")
    error = float(np.abs(runs[-1][1].ab - fresh.ab).max())
    runs = [(first, result.info) for first, result in runs]
    first, update = (sorted(info["seconds"] for info in column) for column in zip(*runs))
    return {
        "megapixels": megapixels,
        "pattern": pattern,
        "method": method,
        "solver": runs[0][0].get("solver", solver),
        "device": device,
        "first_seconds": float(np.median(first)),
        "update_seconds": float(np.median(update)),
        "first_range": [first[0], first[-1]],
        "update_range": [update[0], update[-1]],
        "first_iterations": runs[0][0]["iterations"],
        "update_iterations": runs[0][1]["iterations"],
        "update_window": runs[0][1].get("window"),
        "update_kind": runs[0][1].get("update"),
        "update_held": runs[0][1].get("held"),
        "update_max_error": error,
        "admm_tol": admm_tol if method == "bilaplacian-gtv" else None,
    }


def table(rows: list[dict], sizes, patterns) -> str:
    lines = [
        "| MP | pattern | solver | seconds | × direct | peak memory | iterations | max |Δab| vs direct |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for pattern in patterns:
            chosen = [r for r in rows if r["megapixels"] == size and r["pattern"] == pattern]
            direct = next((r for r in chosen if r["solver"] == "direct" and "seconds" in r), None)
            for r in chosen:
                if "error" in r:
                    lines.append(f"| {size:g} | {pattern} | {r['solver']} | {r['error']} | | | | |")
                    continue
                ratio = f"{r['seconds'] / direct['seconds']:.2f}" if direct else ""
                error = f"{r['max_error']:.4f}" if r.get("max_error") is not None else ""
                memory = f"{r['peak_bytes'] / 1e9:.2f} GB"
                if "device_pool_bytes" in r:
                    memory += f" + GPU pool {r['device_pool_bytes'] / 1e9:.2f} GB"
                name = r["solver"] + (f" ({r['device']})" if r.get("device", "cpu") != "cpu" else "")
                if r["solver"] == "bilaplacian-gtv" and r.get("admm_tol"):
                    name += f", ADMM tol {r['admm_tol']:g}"
                lines.append(
                    f"| {size:g} | {pattern} | {name} | {r['seconds']:.2f} | {ratio} | "
                    f"{memory} | {r['iterations']} | {error} |"
                )
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> None:
    from plotting import figure

    with figure(path, "megapixels", "seconds, end to end (both channels)", "1 % random cues", size=(6.5, 4.5)) as ax:
        for solver in SOLVERS:
            points = sorted(
                (r["megapixels"], r["seconds"])
                for r in rows
                if r["solver"] == solver and r["pattern"] == "random1" and "seconds" in r
            )
            if points:
                ax.plot(*zip(*points), marker="o", label=solver)
        ax.set_xscale("log")
        ax.set_yscale("log")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="0.25,1,4", help="comma-separated megapixels")
    parser.add_argument("--patterns", default=",".join(PATTERNS))
    parser.add_argument("--solvers", default=",".join(SOLVERS))
    parser.add_argument(
        "--baseline-patterns", default="random1", help="patterns on which the spsolve and pyamg baselines run"
    )
    parser.add_argument(
        "--all-patterns-up-to",
        type=float,
        default=1.0,
        help="larger sizes run the first pattern only (megapixels; default %(default)s)",
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="cuda: the solvers with a GPU path run with CuPy, direct on the CPU as reference",
    )
    parser.add_argument(
        "--updates",
        default=None,
        help="solvers whose Colorizer.update is timed at sizes up to 1 MP (comma-separated, or "
        "'none'; default: every measured one that has an interactive pair)",
    )
    parser.add_argument(
        "--admm-tol", type=float, default=None, help="bilaplacian-gtv's ADMM tolerance (default: the solver's, 1e-3)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per measurement")
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--name", default="speed", help="result file stem (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (SHARED / "kodak").is_dir():
        print(f"speed: error: {SHARED / 'kodak'}: no such folder", file=sys.stderr)
        return 2
    sizes = [float(s) for s in args.sizes.split(",")]
    patterns = args.patterns.split(",")
    solvers = args.solvers.split(",")
    updated = (
        [s for s in solvers if s in INTERACTIVE]
        if args.updates is None
        else [s for s in args.updates.split(",") if s != "none"]
    )
    unknown = sorted((set(solvers) | set(updated)) - set(SOLVERS))
    if unknown:
        print(
            f"speed: error: --solvers: unknown {', '.join(unknown)}; available: {', '.join(SOLVERS)}", file=sys.stderr
        )
        return 2
    if args.device == "cuda":
        from varcolor.errors import InputError
        from varcolor.solvers.device import backend

        try:
            backend("cuda")
        except InputError as error:
            print(f"speed: error: --device cuda: {error}", file=sys.stderr)
            return 2
        skipped = [s for s in solvers if s not in GPU_LIMITS and s != "direct"]
        if skipped:
            print(f"speed: no GPU path, skipped: {', '.join(skipped)}", file=sys.stderr)
        solvers = [s for s in solvers if s not in skipped]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="varcolor-speed-"))  # solutions, compared with the direct one
    rows = []
    for size in sizes:
        for pattern in patterns:
            for solver in solvers:
                baseline = solver in ("spsolve", "pyamg")
                device = args.device if solver in GPU_LIMITS else "cpu"
                limit = GPU_LIMITS[solver] if device == "cuda" else LIMITS[solver]
                if size > limit or (baseline and pattern not in args.baseline_patterns.split(",")):
                    continue
                if size > args.all_patterns_up_to and pattern != patterns[0]:
                    continue
                task = {
                    "megapixels": size,
                    "pattern": pattern,
                    "solver": solver,
                    "device": device,
                    "admm_tol": args.admm_tol,
                    "solution": str(scratch / f"{size:g}-{pattern}-{solver}.npy"),
                }
                row = run(task, args.timeout)
                rows.append(row)
                save(out, rows, [], sizes, patterns, args.name)  # partial results survive an interrupted run
                print(
                    f"{size:g} MP {pattern:10s} {solver:8s} "
                    + (
                        row.get("error")
                        or f"{row['seconds']:.2f} s  {row['peak_bytes'] / 1e9:.2f} GB  {row['iterations']} it"
                    ),
                    flush=True,
                )
            reference = scratch / f"{size:g}-{pattern}-direct.npy"
            for row in rows:
                if row["megapixels"] == size and row["pattern"] == pattern and "seconds" in row:
                    row["max_error"] = (
                        float(np.abs(np.load(row["solution"]) - np.load(reference)).max())
                        if reference.is_file()
                        else None
                    )
            save(out, rows, [], sizes, patterns, args.name)
    for row in rows:
        Path(row.pop("solution")).unlink(missing_ok=True)
    scratch.rmdir()
    updates = [
        interactive(
            size, pattern, *INTERACTIVE[row], device=args.device if row in GPU_LIMITS else "cpu", admm_tol=args.admm_tol
        )
        for row in INTERACTIVE
        if row in updated
        for size in sizes
        if size <= 1.0
        for pattern in (patterns if size <= args.all_patterns_up_to else patterns[:1])
    ]
    print(save(out, rows, updates, sizes, patterns, args.name))
    return 0


def _update_kind(update: dict) -> str:
    window = update.get("update_window")
    if update.get("update_kind") == "low-rank":
        return (
            f"low-rank correction of the first LU ({update['update_held']} pixels held, "
            f"{window[2]}×{window[3]} changed)"
        )
    if window:
        return f"direct solve in a {window[2]}×{window[3]} window"
    return str(update["update_iterations"])


def _tolerance(update: dict) -> str:
    return f", tol {update['admm_tol']:g}" if update.get("admm_tol") else ""


def _range(bounds) -> str:
    return f" ({bounds[0]:.2f}–{bounds[1]:.2f})" if bounds else ""


def save(out: Path, rows: list[dict], updates: list[dict], sizes, patterns, name: str = "speed") -> str:
    """Write the JSON, Markdown and plot of the rows so far; returns the Markdown."""
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "environment": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "NUMPY_MADVISE_HUGEPAGE")},
        "rows": [{k: v for k, v in r.items() if k != "solution"} for r in rows],
        "interactive": updates,
    }
    text = table(rows, sizes, patterns)
    if updates:
        text += (
            "\n| MP | pattern | method | solver | first solve (median, range) | update after one stroke | "
            "iterations (first → update) | update's max |Δab| vs a fresh solve |\n"
            "|---|---|---|---|---|---|---|---|\n"
        )
        text += "".join(
            f"| {u['megapixels']:g} | {u.get('pattern', 'random1')} | {u.get('method', 'levin')} | "
            f"{u.get('solver', 'amg')}"
            f"{' (cuda)' if u.get('device') == 'cuda' else ''}{_tolerance(u)} | "
            f"{u['first_seconds']:.2f} s{_range(u.get('first_range'))} | "
            f"{u['update_seconds']:.2f} s{_range(u.get('update_range'))} | "
            f"{u['first_iterations']} → {_update_kind(u)} | {u.get('update_max_error', float('nan')):.4f} |\n"
            for u in updates
        )
    write_report(out, name, report, text)
    plot(rows, out / f"{name}.png")
    return text


if __name__ == "__main__":
    sys.exit(main())
