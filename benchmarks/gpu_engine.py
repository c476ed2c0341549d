"""The default engine and exact Levin on a GPU beside the same machine's CPU (issue 97): the first
solve and one stroke's edit, in seconds, and how far the GPU's colours are from the CPU's.

Scene: a Kodak photo (kodim05, from ``$VARCOLOR_DATA/kodak``; scikit-image's coffee where it is
missing) upscaled to each size with film grain (σ = 4/255), its gray, and 80 straight strokes
200–600 px long and 8 px wide in the photo's own colours; the edit adds one more stroke
(``Colorizer.update``). Rows (each in a fresh process, after a warm-up on a small photo that
compiles its kernels, untimed):

- ``default``: ``levin-multiscale`` (the default engine) with ``device="cpu"`` and ``"cuda"``;
- ``exact``: Levin's exact system at full resolution: ``method="levin"`` on the CPU (the LU, or
  tiles from 12 MP), and on the GPU ``method="levin", device="cuda"`` (``auto``'s choice there,
  the ``aggregation`` solver: BiCGSTAB and an aggregation multigrid built on the GPU; in a dry
  run, the same solver on the CPU).

Each row's time is ``Colorizer.solve`` / ``Colorizer.update`` end to end (the chroma painted into
RGB on the CPU; reading and writing image files not included). Rows run in order (the default
engine's first, the issue's targets), each within what is left of ``--budget`` seconds: a row
that would not fit is listed as not run.

``--dry-run``: tiny sizes, the device rows on NumPy in CuPy's place (the device path's own array
code): checks this script on a machine without a GPU. ``--cpu-only``: the CPU rows alone.

    python benchmarks/gpu_engine.py --out out/gpu             # on the GPU machine
    python benchmarks/gpu_engine.py --dry-run --out /tmp/gpu   # anywhere
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: Film grain of the scene (on [0, 1]).
GRAIN = 4 / 255
STROKES = 80
STROKE_LENGTH = (200, 600)
STROKE_WIDTH = 8
#: The sizes (MP) of the default engine's rows and of exact Levin's.
SIZES = "1,12,40"
EXACT_SIZES = "1,8,12"
#: A row is begun only with at least this many seconds of the budget left.
LEAST = 15.0


def _photo() -> np.ndarray:
    """kodim05 as RGB in [0, 1] (scikit-image's coffee where the Kodak set is not at hand)."""
    from PIL import Image

    path = _kodak()
    if path.exists():
        return np.asarray(Image.open(path).convert("RGB")) / 255.0
    import skimage.data

    return skimage.data.coffee() / 255.0


def make_scene(megapixels: float, folder: Path, seed: int = 0) -> dict:
    """The scene at ``megapixels`` written to ``folder`` (``gray.npy`` float32, ``mask.npy``,
    ``ab.npy`` float32 ``H×W×2``, ``stroke.npz``: the edit's pixels and colours)."""
    from PIL import Image, ImageDraw

    import varcolor

    photo = _photo()
    height0, width0 = photo.shape[:2]
    scale = np.sqrt(megapixels * 1e6 / (height0 * width0))
    height, width = max(8, int(round(height0 * scale))), max(8, int(round(width0 * scale)))
    # The gray made at the photo's size and upscaled (bilinear): a 40 MP Lab conversion is not needed.
    small = varcolor.color.same_lightness_gray(photo).astype(np.float32)
    gray = np.array(Image.fromarray(small, mode="F").resize((width, height), Image.BILINEAR), np.float32)
    rng = np.random.default_rng(seed)
    for top in range(0, height, 1024):
        band = gray[top : top + 1024]
        band += rng.normal(0, GRAIN, band.shape).astype(np.float32)
    np.clip(gray, 0, 1, out=gray)
    lab = varcolor.color.rgb_to_lab(photo)
    mask = np.zeros((height, width), bool)
    ab = np.zeros((height, width, 2), np.float32)
    length = np.array(STROKE_LENGTH) * min(1.0, np.sqrt(megapixels / 12))  # a small photo's shorter strokes
    drawn = []
    for _ in range(STROKES + 1):
        size, angle = rng.uniform(*length), rng.uniform(0, np.pi)
        y, x = rng.uniform(0, height - 1), rng.uniform(0, width - 1)
        end = (x + size * np.cos(angle), y + size * np.sin(angle))
        # drawn on a canvas around the stroke alone (a 40 MP canvas for each took seconds)
        left, top = int(max(0, min(x, end[0]) - STROKE_WIDTH)), int(max(0, min(y, end[1]) - STROKE_WIDTH))
        right = int(min(width, max(x, end[0]) + STROKE_WIDTH + 1))
        bottom = int(min(height, max(y, end[1]) + STROKE_WIDTH + 1))
        canvas = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
        ImageDraw.Draw(canvas).line([(x - left, y - top), (end[0] - left, end[1] - top)], fill=255, width=STROKE_WIDTH)
        rows, columns = np.nonzero(np.asarray(canvas))
        rows, columns = rows + top, columns + left
        colours = lab[
            np.minimum((rows / scale).astype(int), height0 - 1), np.minimum((columns / scale).astype(int), width0 - 1)
        ][:, 1:]
        drawn.append((rows, columns, colours.astype(np.float32)))
    for rows, columns, colours in drawn[:STROKES]:
        mask[rows, columns] = True
        ab[rows, columns] = colours
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "gray.npy", gray)
    np.save(folder / "mask.npy", mask)
    np.save(folder / "ab.npy", ab)
    rows, columns, colours = drawn[STROKES]
    np.savez(folder / "stroke.npz", rows=rows, columns=columns, colours=colours)
    return {"shape": [height, width], "cues": int(mask.sum()), "edit_pixels": int(rows.size)}


def _colorizer(gray, engine: str, where: str, dry: bool):
    import varcolor
    from varcolor.methods import multiscale_device

    device = "cuda" if where == "cuda" else "cpu"
    if engine == "default":
        colorizer = varcolor.Colorizer(gray, device=device)
    elif where == "cpu":
        colorizer = varcolor.Colorizer(gray, method="levin")
    else:  # Levin's exact system as a user asks for it on a GPU: the aggregation solver
        colorizer = varcolor.Colorizer(gray, method="levin", solver="aggregation", device=device)
        return colorizer
    if where == "numpy-device":  # the device's array code, the paint's too
        colorizer.engine.device = colorizer.painter.device = multiscale_device.numpy_device()
    return colorizer


def _warm(engine: str, where: str, dry: bool) -> float:
    """The row's steps once on a small made-up photo (its kernels compiled, untimed)."""
    import varcolor

    start = time.perf_counter()
    rng = np.random.default_rng(1)
    shape = (300, 400)
    gray = np.clip(np.linspace(0.2, 0.8, shape[1])[None, :] + rng.normal(0, GRAIN, shape), 0, 1).astype(np.float32)
    mask = np.zeros(shape, bool)
    mask[50:58, 20:300] = mask[200:208, 100:380] = True
    ab = np.zeros(shape + (2,), np.float32)
    ab[50:58], ab[200:208] = (30.0, -10.0), (-20.0, 25.0)
    stroke = np.zeros(shape, bool)
    stroke[120:128, 60:300] = True
    colorizer = _colorizer(gray, engine, where, dry)
    colorizer.solve(varcolor.Cues(mask, ab))
    colorizer.update(varcolor.Cues(stroke, np.where(stroke[..., None], np.float32([10, 40]), np.float32(0))))
    return time.perf_counter() - start


def _memory() -> dict:
    try:
        import cupy

        pool = cupy.get_default_memory_pool()
        return {"gpu_pool_gb": pool.total_bytes() / 1e9}
    except Exception:  # noqa: BLE001 - no CuPy: nothing to say
        return {}


#: What a row reports of the engine's ``info["engine"]``.
ENGINE_KEYS = (
    "coarse_shape",
    "coarse_update",
    "coarse_start",
    "coarse_solver",
    "coarse_iterations",
    "coarse_levels",
    "coarse_residual",
    "coarse_fallback",
    "coarse_seconds",
    "lift_seconds",
    "correct_seconds",
    "correction_iterations",
    "corrected_pixels",
    "transfer_seconds",
    "device_path",
)


def measure_row(task: dict) -> dict:
    """One row in this process: warm-up, the first solve, the edit (the results' ab saved)."""
    import varcolor

    folder, engine, where, dry = Path(task["folder"]), task["engine"], task["where"], task["dry"]
    warm = _warm(engine, where, dry)
    gray = np.load(folder / "gray.npy")
    cues = varcolor.Cues(np.load(folder / "mask.npy"), np.load(folder / "ab.npy"), copy=False)
    stroke = np.load(folder / "stroke.npz")
    edit_mask = np.zeros(gray.shape, bool)
    edit_mask[stroke["rows"], stroke["columns"]] = True
    edit_ab = np.zeros(gray.shape + (2,), np.float32)
    edit_ab[stroke["rows"], stroke["columns"]] = stroke["colours"]
    start = time.perf_counter()
    colorizer = _colorizer(gray, engine, where, dry)
    first = colorizer.solve(cues)
    first_seconds = time.perf_counter() - start
    start = time.perf_counter()
    edited = colorizer.update(varcolor.Cues(edit_mask, edit_ab, copy=False))
    edit_seconds = time.perf_counter() - start
    stem = f"{engine}_{where}"
    np.save(folder / f"{stem}_first.npy", first.ab.astype(np.float32))
    np.save(folder / f"{stem}_edit.npy", edited.ab.astype(np.float32))
    said = {key: first.info.get("engine", {}).get(key) for key in ENGINE_KEYS}
    return {
        "warm_seconds": warm,
        "first_seconds": first_seconds,
        "edit_seconds": edit_seconds,
        "first_paint_seconds": first.info.get("paint_seconds"),
        "edit_paint_seconds": edited.info.get("paint_seconds"),
        "edit_update": edited.info.get("update"),
        "first_engine": {key: value for key, value in said.items() if value is not None},
        "edit_engine": {
            key: value
            for key, value in ((k, edited.info.get("engine", {}).get(k)) for k in ENGINE_KEYS)
            if value is not None
        },
        **_memory(),
    }


def _child(task: dict, limit: float) -> dict:
    """:func:`measure_row` in a fresh process, within ``limit`` seconds."""
    environment = dict(os.environ)
    environment.setdefault("PYTHONPATH", str(ROOT))
    if not task["dry"]:
        environment.setdefault("VARCOLOR_KERNELS", "numba")  # compiled in the warm-up, not in a timed solve
    environment.setdefault("VARCOLOR_BACKGROUND_WARM", "0")
    command = [sys.executable, __file__, "--row", json.dumps(task)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=max(1.0, limit))
    except subprocess.TimeoutExpired:
        return {"error": f"over its limit of {limit:.0f} s"}
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return {"error": lines[-1] if lines else f"exit {done.returncode}"}
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row["process_seconds"] = time.perf_counter() - start
    return row


def _agreement(folder: Path, engine: str, device: str) -> dict:
    """max |Δab| of the device row's results against the CPU row's (first solve and edit)."""
    out = {}
    for step in ("first", "edit"):
        cpu, gpu = folder / f"{engine}_cpu_{step}.npy", folder / f"{engine}_{device}_{step}.npy"
        if cpu.exists() and gpu.exists():
            out[f"{step}_max_dab"] = float(np.abs(np.load(cpu) - np.load(gpu)).max())
    return out


def _machine() -> dict:
    info = {"cpu_cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
        info["cpu"] = names[0] if names else None
    except OSError:
        pass
    try:
        query = ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"]
        info["gpu"] = subprocess.run(query, capture_output=True, text=True, timeout=20).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["gpu"] = None
    try:
        import cupy

        info["cupy"] = cupy.__version__
    except Exception:  # noqa: BLE001 - no CuPy here
        info["cupy"] = None
    import numba
    import scipy

    info.update(numpy=np.__version__, scipy=scipy.__version__, numba=numba.__version__)
    return info


def _slug(text: str | None) -> str:
    name = (text or "no gpu").split(",")[0].strip().lower()
    return "".join(c if c.isalnum() else "_" for c in name).strip("_") or "gpu"


def report(record: dict) -> str:
    """The Markdown page of a run."""
    machine, rows = record["machine"], record["rows"]
    device = record["device"]
    lines = [
        f"# The default engine on a GPU: {machine.get('gpu') or device}",
        "",
        f"`benchmarks/gpu_engine.py{' --dry-run' if record['dry'] else ''}` "
        f"({time.strftime('%Y-%m-%d', time.gmtime(record['started']))}). GPU: **{machine.get('gpu') or 'none'}**; "
        f"CPU: {machine.get('cpu')} ({machine.get('cpu_cores')} cores); Python {machine.get('python')}, "
        f"CuPy {machine.get('cupy')}, NumPy {machine.get('numpy')}, SciPy {machine.get('scipy')}, "
        f"numba {machine.get('numba')}.",
        "",
        f"Scene: {record['photo']} upscaled, grain σ = 4/255, {STROKES} strokes in its own colours; the edit: "
        "one more stroke (`Colorizer.update`). Times are `Colorizer.solve` / `.update` end to end, painted into "
        "RGB on the CPU, in a fresh process after an untimed warm-up. `where`: `cpu` this machine's cores, "
        f"`{device}` the device path (docs/guide/gpu.md). ×: the CPU row's time over this one's.",
        "",
        "| MP | engine | where | first solve (s) | × | edit (s) | × | the edit's coarse solve "
        "| coarse / band iterations | max Δab vs CPU (first, edit) | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row or "skipped" in row:
            lines.append(
                f"| {row['megapixels']:g} | {row['engine']} | {row['where']} | not run | | | | | | | "
                f"{row.get('error') or row.get('skipped')} |"
            )
            continue
        cpu = next(
            (
                r
                for r in rows
                if r["engine"] == row["engine"] and r["megapixels"] == row["megapixels"] and r["where"] == "cpu"
            ),
            None,
        )
        ratio = {}
        for step in ("first", "edit"):
            if cpu is not None and row["where"] != "cpu" and f"{step}_seconds" in cpu:
                ratio[step] = f"{cpu[f'{step}_seconds'] / row[f'{step}_seconds']:.1f}"
        engine = row.get("first_engine", {})
        iterations = (
            f"{engine.get('coarse_iterations', '—')} / {engine.get('correction_iterations', '—')}"
            if row["where"] != "cpu"
            else "LU"
        )
        agreement = (
            f"{row['first_max_dab']:.2g}, {row.get('edit_max_dab', float('nan')):.2g}" if "first_max_dab" in row else ""
        )
        notes = []
        if engine.get("coarse_fallback"):
            notes.append(engine["coarse_fallback"])
        if "gpu_pool_gb" in row:
            notes.append(f"GPU pool {row['gpu_pool_gb']:.1f} GB")
        lines.append(
            f"| {row['megapixels']:g} | {row['engine']} | {row['where']} | {row['first_seconds']:.3f} | "
            f"{ratio.get('first', '')} | {row['edit_seconds']:.3f} | {ratio.get('edit', '')} | "
            f"{row.get('edit_engine', {}).get('coarse_update') or row.get('edit_update')} | "
            f"{iterations} | {agreement} | {'; '.join(notes)} |"
        )
    lines += [
        "",
        "Targets (issue 97): the default engine's 40 MP solve with 80 strokes at least 10 × faster than the CPU's; "
        "a 12 MP edit within 0.1 s; exact Levin at 8 MP faster than the CPU's LU.",
        "",
        f"Whole run: {record['seconds']:.0f} s of a {record['budget']:.0f} s budget.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE / "results"), help="folder of the results (default: %(default)s)")
    parser.add_argument("--name", default=None, help="file stem (default: gpu_<the GPU's name>)")
    parser.add_argument("--sizes", default=None, help=f"megapixels of the default engine's rows (default {SIZES})")
    parser.add_argument("--exact-sizes", default=None, help=f"megapixels of exact Levin's rows (default {EXACT_SIZES})")
    parser.add_argument("--budget", type=float, default=200.0, help="seconds for all the rows (default %(default)s)")
    parser.add_argument("--cpu-only", action="store_true", help="the CPU rows alone")
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes, the device rows on NumPy (no GPU needed)")
    parser.add_argument("--row", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.row:
        print(json.dumps(measure_row(json.loads(args.row))))
        return 0
    started = time.time()
    deadline = time.perf_counter() + args.budget
    dry = args.dry_run
    sizes = [float(s) for s in (args.sizes or ("0.1,0.2" if dry else SIZES)).split(",") if s]
    exact_sizes = [float(s) for s in (args.exact_sizes or ("0.1" if dry else EXACT_SIZES)).split(",") if s]
    device = "numpy-device" if dry else "cuda"
    places = ["cpu"] if args.cpu_only else [device, "cpu"]
    machine = _machine()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = args.name or f"gpu_{_slug(machine.get('gpu'))}{'_dry_run' if dry else ''}"
    rows = []
    with tempfile.TemporaryDirectory(prefix="gpu_engine_") as scratch:
        plan = [("default", mp, where) for mp in sizes for where in places]
        plan += [("exact", mp, where) for mp in exact_sizes for where in places]
        scenes: dict = {}
        for engine, mp, where in plan:
            row = {"engine": engine, "megapixels": mp, "where": where}
            left = deadline - time.perf_counter()
            if left < LEAST:
                row["skipped"] = f"out of the run's {args.budget:.0f} s"
                rows.append(row)
                continue
            folder = Path(scratch) / f"{mp:g}mp"
            if mp not in scenes:
                scenes[mp] = make_scene(mp, folder)
            row.update(scenes[mp])
            print(f"{engine} {mp:g} MP on {where} ({left:.0f} s left)", flush=True)
            row.update(_child({"folder": str(folder), "engine": engine, "where": where, "dry": dry}, left))
            rows.append(row)
            if where == "cpu":  # the device row before it, compared with it
                for other in rows:
                    if (other["engine"], other["megapixels"], other["where"]) == (engine, mp, device):
                        other.update(_agreement(folder, engine, device))
            print(json.dumps(row), flush=True)
            _write(out, name, _record(device, dry, machine, args.budget, started, rows))  # so far: a cut run keeps it
    record = _record(device, dry, machine, args.budget, started, rows)
    _write(out, name, record)
    print(report(record))
    return 0


def _record(device: str, dry: bool, machine: dict, budget: float, started: float, rows: list) -> dict:
    return {
        "device": device,
        "dry": dry,
        "machine": machine,
        "photo": _photo_name(),
        "budget": budget,
        "started": started,
        "seconds": time.time() - started,
        "rows": rows,
    }


def _write(out: Path, name: str, record: dict) -> None:
    (out / f"{name}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    (out / f"{name}.md").write_text(report(record), encoding="utf-8")


def _photo_name() -> str:
    return "kodim05" if _kodak().exists() else "scikit-image's coffee"


def _kodak() -> Path:
    return Path(os.environ.get("VARCOLOR_DATA", ROOT.parent / "shared" / "data")) / "kodak" / "kodim05.png"


if __name__ == "__main__":
    sys.exit(main())
