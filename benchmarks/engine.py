"""The engine at scan scale (issue 37): first solve and edit latency, in seconds and in mat-vecs.

Every time is also given as a multiple of 50 CSR mat-vecs of Levin's matrix of the same scene,
measured in the same process (``× 50 mv``): a unit that moves with the machine's load, so that
rows measured minutes apart compare. Each measurement runs in a fresh process (peak memory is
the process's peak resident size above what it held before the solve).

Scenes (``scene``): a Kodak photo (kodim05) resized to each size, with four cue patterns:

- ``sparse-scribbles``: Levin's example strokes, scaled to the image (about 3 % of the pixels);
- ``dense-scribbles``: 200 strokes per megapixel, 4×60 px each, at random places (about 5 %);
- ``hints``: 100 ideepcolor-style hints (6×6 squares, the published evaluation's rule);
- ``flat-stroke``: skimage's camera man resized, one 4×200-px stroke in its flat sky: the hard case
  for iterative solvers (one cue reaches the whole image), and for local updates.

Edits (``edits``): a sequence of 12 edits at one size, each given to ``Colorizer.solve`` as the
whole new cue set, as the studio's undo stack and eraser produce them: add a stroke, add another,
recolour the first, move the second, undo it, erase the original cues in a 60×60 box, add a long
(6000 px) stroke, recolour a box of the original cues, move the long stroke, undo it, add a
stroke, undo it. Engines: ``full`` (every solve from scratch: what ``Colorizer.solve`` did before
issue 37), ``incremental`` (the default now: an edit corrects the factors the colorizer holds and
is refined to the direct solve's relative residual, 1e-8), ``bounded`` (the same with ``tol=1e-5``:
refined only past that residual, otherwise within the corrections' error bound), and ``update``
(the adds alone given to ``Colorizer.update``). Every edit's result is compared with a
fresh direct solve of the same cues (max |Δab|), outside the timing: the ``full`` engine's own
(run first), or, for ``update``'s different cue sets, the last one solved afresh.

Each edit row also gives its median and max as fractions of the session's own first solve (the
same factorisation a fresh solve pays): a yardstick measured in the same process under the same
load, where the mat-vec unit (measured once, at the session's start) can be skewed by another
job's memory traffic.

``--profile flat-stroke``: that pattern's edit sequence under cProfile (each edit's path and
reason, then where the time went).

``--cli-sizes 16,40``: ``varcolor colorize`` on a big scan (Levin's example upscaled, its
scribbles drawn on it) under ``/usr/bin/time -v``: seconds, peak memory of the whole command, and
the scene's mat-vec unit in a fresh process after it (summed over row bands of 4 MP: the same
products, without the 11 GB the whole 40 MP matrix took to build). ``--save-sizes 12``: a studio save at full
resolution (``SaveJob``, its child process solving) from a process standing in for the server:
seconds, the server's resident size before and after, the child's peak. ``--scan`` picks the big
scan: ``levin`` (its scribbles, about a fifth of the pixels), ``sparse`` (a grainy scan, 80 strokes)
or ``photo`` (kodim05 upscaled, 80 strokes in its own colours drawn at 1 MP and scaled up: the
result's PSNR against the photo, and the same strokes' at 1 MP, so that a big scan's quality is
told against a small one's).

``--edits12`` (alone): 12 MP edits through ``Colorizer``: kodim05 upscaled to 12 MP with film
grain and 80 strokes in its own colours (the ``sparse`` scan's lengths and width), the first solve,
then 10 new strokes one at a time through ``Colorizer.update``: each edit's seconds and parts, the
median and max against the 1 s target, the load, the last result against a fresh solve
(``engine_edits12.json`` / ``.md``).

``--disks``: the small-detail scene of ``multiscale.py`` (150 disks of radius 5–16 px, each with a
2×2 cue dot, on a grainy 1 MP texture): |Δab| inside the disks, the default engine's against the
exact solve's. The report ends with the rows measured against their targets (the engine's gains
over the exact solve on photos at native size read from ``--gains``, a ``multiscale.py`` result).

``--targets`` (alone): every row of the engine's targets measured against it, with the load
beside each timing: the disks; the native-size gains over the exact solve (``--gains``, a
``multiscale.py`` result: ``multiscale_targets.json``, made by ``multiscale.py --candidates
exact,window --no-disks --name multiscale_targets``); ``varcolor colorize`` on the grainy 40 MP scan
with 80 strokes as four kinds of file (8-bit PNG and 16-bit TIFF with a marked copy, 16-bit TIFF
with a stroke mask, a 16-bit RGB TIFF of the gray scan) as a user runs it (NumPy's huge pages and
BLAS threads as they come), each followed by its floor; and the 12 MP edits row from
``engine_edits12.json`` (``--edits12``'s; "not run" without it). ``--parts`` measures some of them
and keeps the others from the last ``engine_targets.json`` (``none``: the report again). Writes
``engine_targets.json`` and ``.md``.

Writes ``engine.json`` and ``engine.md`` (``--name`` changes the stem), and ``engine.png``.
Run: ``python benchmarks/engine.py`` (0.25/1/4 MP first solves, edits at 1 MP: a few minutes);
``--big`` adds 16 and 40 MP first solves (``auto``: the tiles; minutes and up to 8 GB each) and
edits at 12 MP.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np  # noqa: E402
import timing_environment  # noqa: E402,F401  (before NumPy: one BLAS thread, no huge pages)
from reports import in_child, write_report  # noqa: E402
from shared_data import SHARED  # noqa: E402

HERE = Path(__file__).resolve().parent

PATTERNS = ("sparse-scribbles", "dense-scribbles", "hints", "flat-stroke")
EDIT_ENGINES = ("full", "incremental", "bounded", "update")
MATVECS = 50  # the unit: this many CSR mat-vecs


def scene(megapixels: float, pattern: str, seed: int = 0):
    """The gray image (``H×W``) and cues of ``pattern`` at ``megapixels``."""
    from skimage.transform import resize

    import varcolor
    from varcolor.cues import sample_ideepcolor

    if pattern == "flat-stroke":
        import skimage.data

        photo = skimage.data.camera() / 255.0
        photo = np.repeat(photo[..., None], 3, axis=2)
    else:
        photo = varcolor.read_image(SHARED / "kodak" / "kodim05.png")
    height = int(round(np.sqrt(megapixels * 1e6 * photo.shape[0] / photo.shape[1])))
    width = int(round(megapixels * 1e6 / height))
    rgb = np.clip(resize(photo, (height, width), order=1, anti_aliasing=False), 0, 1)
    gray = varcolor.color.same_lightness_gray(rgb)
    if pattern == "sparse-scribbles":
        from speed import scribbles

        return gray, scribbles(rgb)
    if pattern == "hints":
        return gray, sample_ideepcolor(rgb, 100, rng=seed)
    rng = np.random.default_rng(seed)
    mask = np.zeros(gray.shape, bool)
    if pattern == "dense-scribbles":
        ab = varcolor.color.rgb_to_lab(rgb)[..., 1:]
        for _ in range(int(200 * megapixels)):
            i, j = rng.integers(0, height - 4), rng.integers(0, width - 60)
            mask[i : i + 4, j : j + 60] = True
        return gray, varcolor.Cues(mask, np.where(mask[..., None], ab, 0.0))
    # flat-stroke: the camera man's sky is its top third, left of him.
    row, left = height // 10, width // 20
    mask[row : row + 4, left : left + min(200, width // 4)] = True
    return gray, varcolor.Cues(mask, np.where(mask[..., None], (20.0, -30.0), 0.0))


def matvec_unit(gray: np.ndarray, mask: np.ndarray) -> float:
    """Seconds of ``MATVECS`` CSR mat-vecs of Levin's matrix (one vector), best of three."""
    from varcolor.energies.levin import exact_operator

    matrix = exact_operator(gray, mask).to_csr()
    x = np.random.default_rng(0).random(matrix.shape[0])
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(MATVECS):
            y = matrix @ x
        best = min(best, time.perf_counter() - start)
    del y
    return best


def _warm(solver: str) -> None:
    """Load the numba kernels from their cache before anything is timed."""
    import varcolor

    gray, cues = scene(0.01, "dense-scribbles")
    cz = varcolor.Colorizer(gray, solver=solver if solver != "auto" else "direct")
    cz.solve(cues)
    for edit in edit_sequence(gray, cues, small=True):
        cz.solve(edit["cues"])
    cz.update(edit_sequence(gray, cues, small=True)[0]["stroke"])


def _method(task: dict) -> dict:
    """The ``method`` keyword of a task (none: the default method)."""
    return {"method": task["method"]} if task.get("method") else {}


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def first_solve(task: dict, queue) -> None:
    """One first solve (``Colorizer.solve`` on a fresh colorizer) in this fresh process."""
    import varcolor

    _warm(task["solver"])
    gray, cues = scene(task["megapixels"], task["pattern"])
    unit = matvec_unit(gray, cues.mask) if task["megapixels"] <= 16 else None
    before = _peak()
    start = time.perf_counter()
    result = varcolor.Colorizer(gray, solver=task["solver"], **_method(task)).solve(cues)
    seconds = time.perf_counter() - start
    peak = _peak()
    if unit is None:  # a 40 MP CSR matrix is gigabytes: measured after, then counted in the peak anyway
        unit = matvec_unit(gray, cues.mask)
    queue.put(
        {
            **task,
            "shape": list(gray.shape),
            "cues": cues.count,
            "seconds": seconds,
            "unit_seconds": unit,
            "units": seconds / unit,
            "peak_bytes": max(0, peak - before),
            "solver_used": result.info.get("solver"),
            "residual": result.info.get("residual"),
        }
    )


def _stroke(shape, rng, length=40, thickness=4, colour=None):
    import varcolor

    mask = np.zeros(shape, bool)
    length = min(length, shape[1] - 2)
    i, j = rng.integers(0, shape[0] - thickness), rng.integers(0, shape[1] - length)
    mask[i : i + thickness, j : j + length] = True
    colour = rng.uniform(-40, 40, 2) if colour is None else colour
    return varcolor.Cues(mask, np.where(mask[..., None], colour, 0.0))


def _moved(stroke, shift):
    import varcolor

    mask = np.roll(stroke.mask, shift, axis=(0, 1))
    return varcolor.Cues(mask, np.roll(stroke.ab, shift, axis=(0, 1)))


def _without(cues, removed):
    import varcolor

    mask = cues.mask & ~removed
    return varcolor.Cues(mask, np.where(mask[..., None], cues.ab, 0.0))


def _box_around(cues, rng, side):
    """A ``side``-pixel box centred on one of ``cues``' pixels."""
    rows, columns = np.nonzero(cues.mask)
    k = rng.integers(len(rows))
    box = np.zeros(cues.shape, bool)
    box[max(rows[k] - side // 2, 0) : rows[k] + side // 2, max(columns[k] - side // 2, 0) : columns[k] + side // 2] = (
        True
    )
    return box


def edit_sequence(gray, base, seed: int = 1, small: bool = False) -> list[dict]:
    """The 12 edits (each: ``kind``, the whole new ``cues``, and for adds the ``stroke`` alone)."""
    import varcolor

    rng = np.random.default_rng(seed)
    shape = gray.shape
    long = 60 if small else 750
    first, second = _stroke(shape, rng), _stroke(shape, rng)
    big = _stroke(shape, rng, length=long, thickness=8)
    last = _stroke(shape, rng)
    recoloured = varcolor.Cues(first.mask, np.where(first.mask[..., None], rng.uniform(-40, 40, 2), 0.0))
    second_moved = _moved(second, (9, 30))
    big_moved = _moved(big, (40, 0))
    erased = _box_around(base, rng, 60)
    painted = _box_around(base, rng, 60) & base.mask
    states, edits = [base], []

    def push(kind, cues, stroke=None):
        states.append(cues)
        edits.append({"kind": kind, "cues": cues, "stroke": stroke})

    push("add", base.merged(first), first)
    push("add", states[-1].merged(second), second)
    push("recolour", states[-1].merged(recoloured))
    push("move", base.merged(recoloured).merged(second_moved))
    push("undo", states[-2])  # back to before the move
    push("erase", _without(states[-1], erased & ~first.mask & ~second.mask))
    eraser_state = states[-1]
    push("add", eraser_state.merged(big), big)
    new_colour = varcolor.Cues(painted, np.where(painted[..., None], rng.uniform(-40, 40, 2), 0.0))
    push("recolour", states[-1].merged(new_colour))
    repainted = states[-1]
    push("move", _without(repainted, big.mask & ~eraser_state.mask).merged(big_moved))
    push("undo", _without(repainted, big.mask & ~eraser_state.mask))
    push("add", states[-1].merged(last), last)
    push("undo", states[-2])
    return edits


def edit_session(task: dict, queue) -> None:
    """The edit sequence through one engine, in this fresh process."""
    import varcolor

    _warm("direct")
    gray, base = scene(task["megapixels"], task["pattern"])
    unit = matvec_unit(gray, base.mask)
    edits = edit_sequence(gray, base)
    engine = task["engine"]
    if engine == "update":
        edits = [edit for edit in edits if edit["kind"] == "add"]
    # bounded: no refinement to the direct solve's 1e-8 unless the residual passes 1e-5.
    cz = varcolor.Colorizer(gray, solver="direct", **_method(task), **({"tol": 1e-5} if engine == "bounded" else {}))
    before = _peak()
    start = time.perf_counter()
    cz.solve(base)
    first = time.perf_counter() - start
    steps, current = [], base
    for edit in edits:
        start = time.perf_counter()
        if engine == "update":
            result = cz.update(edit["stroke"])
            current = current.merged(edit["stroke"])
            edit["cues"] = current  # what the colorizer now holds
        elif engine == "full":
            result = cz.solve(edit["cues"], reuse=False) if _has_reuse() else cz.solve(edit["cues"])
        else:
            result = cz.solve(edit["cues"])
        seconds = time.perf_counter() - start
        info = result.info
        steps.append(
            {
                "kind": edit["kind"],
                "seconds": seconds,
                "units": seconds / unit,
                "path": info.get("update") or info.get("solver"),
                "engine": info.get("engine"),
                "why": info.get("full_solve"),
                "residual": info.get("residual"),
                "cues": int(edit["cues"].count),
            }
        )
        steps[-1]["_ab"] = result.ab
    peak = _peak()
    # Against a fresh direct solve of the same cues, untimed: the full engine's own results (saved
    # for the other engines of the run), or one solved here; the update engine's last only.
    scratch = Path(task["scratch"])
    for k, (step, edit) in enumerate(zip(steps, edits)):
        ab = step.pop("_ab")
        reference = scratch / f"{task['megapixels']:g}-{task['pattern']}-{k}.npy"
        if engine == "full":
            np.save(reference, ab)
            step["max_error"] = 0.0  # it is the reference
            continue
        if engine == "update" and k < len(steps) - 1:
            step["max_error"] = None
            continue
        fresh = (
            np.load(reference)
            if engine != "update" and reference.is_file()
            else varcolor.colorize(gray, edit["cues"], solver="direct", **_method(task)).ab
        )
        step["max_error"] = float(np.abs(ab - fresh).max())
    seconds = [s["seconds"] for s in steps]
    queue.put(
        {
            **task,
            "shape": list(gray.shape),
            "unit_seconds": unit,
            "first_seconds": first,
            "steps": steps,
            "median_seconds": float(np.median(seconds)),
            "max_seconds": float(np.max(seconds)),
            "median_units": float(np.median(seconds)) / unit,
            "max_units": float(np.max(seconds)) / unit,
            "max_error": max(s["max_error"] for s in steps if s["max_error"] is not None),
            "peak_bytes": max(0, peak - before),
        }
    )


def disk_detail(task: dict, queue) -> None:
    """The small-detail scene (``multiscale.disk_scene``: 150 disks of radius 5–16 px, a 2×2 cue
    dot each, on a grainy 1 MP texture): |Δab| inside the disks, the exact solve's and the
    default engine's, in this fresh process."""
    from multiscale import disk_scene, disk_scores

    import varcolor

    _warm("direct")
    gray, cues, truth, labels, radii = disk_scene()
    rows = {}
    for name, keywords in (("exact", {"method": "levin"}), ("default", _method(task))):
        start = time.perf_counter()
        result = varcolor.colorize(gray, cues, **keywords)
        rows[name] = {"seconds": time.perf_counter() - start, **disk_scores(result.ab, truth, labels, radii)}
    queue.put({**task, **rows})


#: The targets each row of the report is held to: (what, measured from the rows, target, unit).
TARGETS = (
    ("small disks: the default engine's mean Δab inside them", "≤ the exact solve's + 0.3 ab"),
    ("photos at native size: gain over the exact solve (strokes / hints / grainy strokes)", "≥ +0.30 dB each"),
    ("40 MP `varcolor colorize`: peak memory", "≤ 1.5 GB"),
    ("40 MP `varcolor colorize`: time", "≤ 1.0 × 50 mv (no slower)"),
    ("12 MP edits through `Colorizer`: slowest edit", "≤ 1 s"),
)


def target_rows(edits: list[dict], cli: list[dict], disks: list[dict], gains: dict | None) -> list[str]:
    """The report's rows against their targets (:data:`TARGETS`): measured, met or by how much missed."""

    def verdict(value: float, limit: float, smaller: bool, unit: str) -> str:
        good = value <= limit if smaller else value >= limit
        return "met" if good else f"missed by {abs(value - limit):.2f}{unit}"

    rows = []
    for r in disks:
        if "error" in r:
            continue
        mine, exact = r["default"]["ab_error"], r["exact"]["ab_error"]
        rows.append((TARGETS[0], f"{mine:.2f} ab (exact {exact:.2f})", verdict(mine, exact + 0.3, True, " ab")))
    if gains:
        worst = min(gains.values())
        cells = " / ".join(f"{v:+.2f}" for v in gains.values())
        rows.append((TARGETS[1], f"{cells} dB", verdict(worst, 0.3, False, " dB")))
    for r in cli:
        if "error" in r or r["megapixels"] != 40:
            continue
        rows.append((TARGETS[2], f"{r['peak_bytes'] / 1e9:.2f} GB", verdict(r["peak_bytes"] / 1e9, 1.5, True, " GB")))
        if "units" in r:
            rows.append(
                (TARGETS[3], f"{r['units']:.2f} × ({r['seconds']:.1f} s)", verdict(r["units"], 1.0, True, " ×"))
            )
    for r in edits:
        if "error" in r or r["megapixels"] != 12 or r["engine"] != "incremental":
            continue
        rows.append(
            (TARGETS[4], f"{r['max_seconds']:.2f} s ({r['pattern']})", verdict(r["max_seconds"], 1.0, True, " s"))
        )
    if not rows:
        return []
    lines = ["", "The rows against their targets:", "", "| row | measured | target | |", "|---|---|---|---|"]
    return lines + [f"| {what} | {measured} | {target} | {result} |" for (what, target), measured, result in rows]


def scene_gains(path: Path) -> dict | None:
    """The default engine's gain over the exact solve per scene, from a ``multiscale.py`` result
    (its ``window`` candidate; None without one)."""
    if not path.is_file():
        return None
    from multiscale import scene_gains as gains_of

    record = json.loads(path.read_text())
    gains = gains_of(record["summary"])
    return next((v for k, v in gains.items() if "window" in k), None)


#: What each kind of big scan is, for the report.
SCANS = {
    "levin": "Levin's example upscaled, its scribbles on it",
    "sparse": "Levin's example upscaled with film grain, 80 straight strokes of random colours",
    "photo": "kodim05 upscaled, 80 strokes of its own colours",
}
#: Strokes of the ``sparse`` scan: as many, as long and as wide (at 40 MP) as a restorer's.
SPARSE_STROKES, STROKE_LENGTH, STROKE_WIDTH, GRAIN = 80, (200, 600), 8, 4 / 255


def make_scan(megapixels: float, stem: str, kind: str = "levin") -> dict:
    """A big scan for ``varcolor colorize``: Levin's example photo upscaled (bilinear) to
    ``megapixels``, and on it (``stem.png``, ``stem_marked.png``) either its scribbles upscaled
    (nearest; ``kind="levin"``: about a fifth of the pixels) or, ``kind="sparse"``, film grain
    (σ = 4/255) and :data:`SPARSE_STROKES` straight strokes of random colours, 200–600 px long and
    8 px wide (hard-edged): a restorer's few dozen strokes on a grainy scan."""
    if kind == "sparse":
        return _sparse_scan(megapixels, stem)
    if kind == "photo":
        return _photo_scan(megapixels, stem)
    import imageio.v3 as iio
    from skimage.transform import resize

    import varcolor

    folder = SHARED / "scribbles" / "levin_original"
    gray = varcolor.read_image(folder / "example.png")
    gray = gray[..., :3].mean(axis=2) if gray.ndim == 3 else gray
    marked = varcolor.read_image(folder / "example_marked.png")[..., :3]
    mask = np.abs(marked - gray[..., None]).sum(axis=2) > 0.05
    h, w = gray.shape
    scale = np.sqrt(megapixels * 1e6 / (h * w))
    height, width = int(round(h * scale)), int(round(w * scale))
    big = (np.clip(resize(gray, (height, width), order=1, anti_aliasing=False), 0, 1) * 255 + 0.5).astype(np.uint8)
    rows = np.minimum((np.arange(height) / scale).astype(int), h - 1)
    columns = np.minimum((np.arange(width) / scale).astype(int), w - 1)
    strokes = mask[rows][:, columns]
    painted = np.repeat(big[..., None], 3, axis=2)
    painted[strokes] = (marked[rows][:, columns][strokes] * 255 + 0.5).astype(np.uint8)
    iio.imwrite(f"{stem}.png", big)
    iio.imwrite(f"{stem}_marked.png", painted)
    return {"shape": [height, width], "cues": int(strokes.sum())}


def _sparse_scan(megapixels: float, stem: str) -> dict:
    import imageio.v3 as iio
    from PIL import Image, ImageDraw
    from skimage.transform import resize

    import varcolor

    gray = varcolor.read_image(SHARED / "scribbles" / "levin_original" / "example.png")
    gray = gray[..., :3].mean(axis=2) if gray.ndim == 3 else gray
    h, w = gray.shape
    scale = np.sqrt(megapixels * 1e6 / (h * w))
    height, width = int(round(h * scale)), int(round(w * scale))
    rng = np.random.default_rng(0)
    big = resize(gray.astype(np.float32), (height, width), order=1, anti_aliasing=False)
    for top in range(0, height, 1024):  # the grain band by band: no float64 image of the scan
        band = big[top : top + 1024]
        band += rng.normal(0, GRAIN, band.shape).astype(np.float32)
    big = (np.clip(big, 0, 1) * 255 + 0.5).astype(np.uint8)
    marked = Image.fromarray(big).convert("RGB")
    draw = ImageDraw.Draw(marked)
    for _ in range(SPARSE_STROKES):
        length, angle = rng.uniform(*STROKE_LENGTH), rng.uniform(0, np.pi)
        y, x = rng.uniform(0, height - 1), rng.uniform(0, width - 1)
        end = (x + length * np.cos(angle), y + length * np.sin(angle))
        draw.line([(x, y), end], fill=tuple(int(v) for v in rng.integers(30, 226, 3)), width=STROKE_WIDTH)
    iio.imwrite(f"{stem}.png", big)
    marked.save(f"{stem}_marked.png")
    cues = varcolor.Cues.from_marked(big / 255.0, np.asarray(marked) / 255.0, edges="exact").count
    return {"shape": [height, width], "cues": int(cues), "scan": "sparse"}


#: The ``photo`` scan's strokes, as drawn on its 1 MP copy (then scaled up, nearest): 2 px wide.
PHOTO_STROKE_WIDTH = 2


def _photo_scan(megapixels: float, stem: str) -> dict:
    """A Kodak photo (kodim05) upscaled (bilinear) to ``megapixels``: its same-lightness gray
    (``stem.png``), :data:`SPARSE_STROKES` strokes in the photo's own colours (``stem_marked.png``)
    and the photo (``stem_truth.png``); and the same at 1 MP (``stem_1mp*.png``): the strokes are
    drawn on the 1 MP copy (:data:`PHOTO_STROKE_WIDTH` px wide, 1/√megapixels of the sparse scan's
    lengths) and scaled up, so that both sizes hold the same strokes."""
    import imageio.v3 as iio
    from PIL import Image, ImageDraw

    import varcolor

    photo = Image.open(SHARED / "kodak" / "kodim05.png").convert("RGB")
    rng = np.random.default_rng(0)
    sizes = {}
    for name, mp in (("", megapixels), ("_1mp", 1.0)):
        scale = np.sqrt(mp * 1e6 / (photo.width * photo.height))
        sizes[name] = (int(round(photo.width * scale)), int(round(photo.height * scale)))
    small = Image.new("L", sizes["_1mp"], 0)
    draw = ImageDraw.Draw(small)
    width, height = sizes["_1mp"]
    shrink = np.sqrt(megapixels)
    for _ in range(SPARSE_STROKES):
        length, angle = rng.uniform(*STROKE_LENGTH) / shrink, rng.uniform(0, np.pi)
        y, x = rng.uniform(0, height - 1), rng.uniform(0, width - 1)
        end = (x + length * np.cos(angle), y + length * np.sin(angle))
        draw.line([(x, y), end], fill=255, width=PHOTO_STROKE_WIDTH)
    cues = {}
    for name, size in sizes.items():
        truth = np.asarray(photo.resize(size, Image.BILINEAR))
        strokes = np.asarray(small.resize(size, Image.NEAREST)) > 0
        gray = np.empty(truth.shape[:2], np.uint8)
        for top in range(0, size[1], 512):  # the gray band by band: no float64 Lab of the scan
            band = varcolor.color.same_lightness_gray(truth[top : top + 512] / 255.0)
            gray[top : top + 512] = np.clip(band * 255 + 0.5, 0, 255).astype(np.uint8)
        marked = np.repeat(gray[..., None], 3, axis=2)
        marked[strokes] = truth[strokes]
        iio.imwrite(f"{stem}{name}.png", gray)
        iio.imwrite(f"{stem}{name}_marked.png", marked)
        iio.imwrite(f"{stem}{name}_truth.png", truth)
        cues[name] = int(strokes.sum())
    return {"shape": [sizes[""][1], sizes[""][0]], "cues": cues[""], "scan": "photo"}


def _banded_psnr(result: str, truth: str) -> float:
    """PSNR (dB, 8-bit) of the image file ``result`` against ``truth``, summed band by band."""
    import imageio.v3 as iio

    one, two = iio.imread(result), iio.imread(truth)
    squared = 0.0
    for top in range(0, one.shape[0], 512):
        difference = one[top : top + 512].astype(np.float32) - two[top : top + 512]
        squared += float(np.einsum("ijk,ijk->", difference, difference, dtype=np.float64))
    return float(10 * np.log10(255.0**2 / (squared / one.size)))


def _photo_quality(task: dict, queue) -> None:
    """The ``photo`` scan's PSNR against the photo, and the same strokes' at 1 MP (colorized here)."""
    import varcolor

    stem = task["stem"]
    small = f"{stem}_1mp"
    gray = varcolor.read_image(f"{small}.png")
    cues = varcolor.Cues.from_marked(gray, varcolor.read_image(f"{small}_marked.png"))
    varcolor.write_image(f"{small}_out.png", varcolor.colorize(gray, cues).rgb, bits=8, overwrite=True)
    queue.put(
        {
            "psnr_db": _banded_psnr(f"{stem}_out.png", f"{stem}_truth.png"),
            "psnr_1mp_db": _banded_psnr(f"{small}_out.png", f"{small}_truth.png"),
        }
    )


#: The scan's file suffix at each depth.
SUFFIX = {8: "png", 16: "tif"}


#: How a gray photo is stored as RGB (``scan_files``'s ``rgb``): three equal channels (as many
#: scanners save a gray print); one channel a level off on 0.3 % of the pixels (a converter's
#: rounding); each channel the gray plus noise of 1.5 levels (σ, 8-bit levels: a scanner's RGB mode).
RGB_STORES = ("equal", "rounded", "noisy")


def scan_files(stem: str, bits: int, cues: str, rgb: bool | str = False) -> list[str]:
    """The photo and cue arguments of ``varcolor colorize`` for :func:`~engine.make_scan`'s files
    at ``stem``: as they are (8-bit PNG), or rewritten as 16-bit TIFF (a scanner's depth); the
    marked copy (``--marked``) or a stroke mask of its strokes, their colours on black (``--mask``);
    ``rgb``: the gray photo saved as RGB, one of :data:`RGB_STORES` (True: ``"equal"``), its marked
    copy the strokes painted on that RGB photo."""
    import imageio.v3 as iio
    import numpy as np
    import tifffile

    gray, marked = iio.imread(f"{stem}.png"), iio.imread(f"{stem}_marked.png")[..., :3]
    strokes = np.any(marked != (gray if gray.ndim == 3 else gray[..., None]), axis=2)
    if cues == "mask":
        marked = np.where(strokes[..., None], marked, 0).astype(np.uint8)
    store = "equal" if rgb is True else rgb or ""
    if store:
        gray = np.repeat(gray[..., None], 3, axis=2)
        rng = np.random.default_rng(0)
        if store == "rounded":
            off = np.flatnonzero(rng.random(gray.shape[:2]) < 0.003)
            green = gray[..., 1].reshape(-1)
            green[off] = np.where(green[off] < 255, green[off] + 1, green[off] - 1)
        elif store == "noisy":
            for c in range(3):  # a channel at a time: a 40 MP scan's noise in float64 is 0.32 GB
                noise = np.round(rng.normal(0, 1.5, gray.shape[:2]))
                gray[..., c] = np.clip(gray[..., c] + noise, 0, 255).astype(np.uint8)
                del noise
        if cues == "marked" and store != "equal":
            marked = np.where(strokes[..., None], marked, gray)
    suffix = "" if not store else "_rgb" if store == "equal" else f"_rgb_{store}"
    names = [f"{stem}_{bits}{suffix}.{SUFFIX[bits]}", f"{stem}_{bits}_{cues}{suffix}.{SUFFIX[bits]}"]
    for name, pixels in zip(names, (gray, marked)):
        if bits == 16:
            tifffile.imwrite(name, pixels.astype(np.uint16) * 257)
        else:
            iio.imwrite(name, pixels)
    return [names[0], f"--{cues}", names[1]]


def _make_scan(task: dict, queue) -> None:
    queue.put(make_scan(task["megapixels"], task["stem"], task.get("kind", "levin")))


def cli_solve(megapixels: float, scratch: str, timeout: float, kind: str = "levin") -> dict:
    """``varcolor colorize`` on a scan of ``megapixels`` (:func:`make_scan`) under
    ``/usr/bin/time -v``: wall seconds and the peak resident size of the whole command (decoding,
    solve, encoding), then the mat-vec unit of the same scene in a fresh process."""
    import subprocess

    stem = str(Path(scratch) / f"scan{megapixels:g}")
    task = {"megapixels": megapixels, "stem": stem, "kind": kind}
    made = run(_make_scan, task, timeout)
    from varcolor.common.fields import path_word

    command = [sys.executable, "-m", "varcolor.cli", "colorize", path_word(f"{stem}.png")]
    command += ["--marked", path_word(f"{stem}_marked.png"), "-o", path_word(f"{stem}_out.png"), "--quiet"]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    try:
        done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"megapixels": megapixels, **made, "error": f"timed out after {timeout:.0f} s", "load": [load_before]}
    seconds = time.perf_counter() - start
    load_after = os.getloadavg()[0]
    peak = next(
        (int(line.split(":")[1]) * 1024 for line in done.stderr.splitlines() if "Maximum resident set size" in line),
        None,
    )
    unit = run(_banded_unit, task, timeout)
    row = {"megapixels": megapixels, **made, "seconds": seconds, "peak_bytes": peak, "returncode": done.returncode}
    row.update(
        unit_seconds=unit.get("unit_seconds"),
        load=[load_before, load_after],
        command="varcolor " + " ".join(command[3:]),
    )
    if done.returncode != 0:
        row["error"] = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
    elif unit.get("unit_seconds"):
        row["units"] = seconds / unit["unit_seconds"]
    if kind == "photo" and done.returncode == 0:
        row.update(run(_photo_quality, task, timeout))
    return row


def _rss() -> int:
    """This process's resident size now (bytes)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def studio_save(task: dict, queue) -> None:
    """A studio save at full resolution (:class:`varcolor.ui.saving.SaveJob`, as the studio makes
    it) of a big scan's strokes, in this fresh process standing in for the server: seconds, the
    server's resident size before and after, and the peak of the child that solved."""
    import gc

    import varcolor
    from varcolor.ui.saving import SaveJob

    stem = Path(task["stem"])
    made = make_scan(task["megapixels"], str(stem))
    painted = (varcolor.read_image(f"{stem}_marked.png")[..., :3] * 255 + 0.5).astype(np.uint8)
    gray = np.asarray(varcolor.read_image(f"{stem}.png"))
    gray8 = (gray[..., :3].mean(axis=2) if gray.ndim == 3 else gray) * 255 + 0.5
    mask = np.where(
        (np.abs(painted.astype(int) - gray8.astype(int)[..., None]).sum(axis=2) > 12)[..., None], painted, 0
    )
    del painted, gray, gray8
    gc.collect()
    out = stem.parent / "saved"
    names = {"result": ".png", "mask": "_mask.png", "points": ".points.json", "session": ".session.json"}
    files = {kind: out / f"scan_colorized{ending}" for kind, ending in names.items()}
    job = SaveJob(
        work=out / "work",
        photo=Path(f"{stem}.png"),
        files=files,
        mask=mask.astype(np.uint8),
        points=[],
        session={},
        options={"method": "levin"},
        solver=None,
        bits=8,
        overwrite=False,
        estimate=60.0,
        journal=out / "journal.json",
    )
    del mask
    gc.collect()
    before = _rss()
    start = time.perf_counter()
    job.start().wait()
    seconds = time.perf_counter() - start
    del job.mask
    gc.collect()
    queue.put(
        {
            **task,
            **made,
            "state": job.state,
            "error": job.error,
            "seconds": seconds,
            "solve_seconds": job.solve_seconds,
            "server_rss_before": before,
            "server_rss_after": _rss(),
            "child_peak_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
            "load": os.getloadavg()[0],
        }
    )


def profile_edits(megapixels: float, pattern: str, top: int = 25) -> None:
    """The edit sequence of ``pattern`` through ``Colorizer.solve`` under cProfile: each edit's
    seconds, mat-vecs, path and reason, then the functions that took the time."""
    import cProfile
    import pstats

    import varcolor

    _warm("direct")
    gray, base = scene(megapixels, pattern)
    unit = matvec_unit(gray, base.mask) / MATVECS
    cz = varcolor.Colorizer(gray, solver="direct")
    start = time.perf_counter()
    cz.solve(base)
    print(f"first solve {time.perf_counter() - start:.2f} s = {(time.perf_counter() - start) / unit:.0f} mv")
    profiler = cProfile.Profile()
    for edit in edit_sequence(gray, base):
        start = time.perf_counter()
        profiler.enable()
        info = cz.solve(edit["cues"]).info
        profiler.disable()
        seconds = time.perf_counter() - start
        print(
            f"{edit['kind']:9s} {seconds:6.2f} s {seconds / unit:5.0f} mv  {info.get('update') or info.get('solver')}"
            f"  refinements {info.get('refinements')}  nodes {info.get('nodes')}/{info.get('nodes_total')}"
            f"  {info.get('why') or info.get('full_solve') or ''}",
            flush=True,
        )
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def _has_reuse() -> bool:
    import inspect

    import varcolor

    return "reuse" in inspect.signature(varcolor.Colorizer.solve).parameters


def run(target, task: dict, timeout: float) -> dict:
    result = in_child(target, (task,), timeout)
    return {**task, **result} if "error" in result else result


def _gb(row: dict) -> str:
    return f"{row['peak_bytes'] / 1e9:.2f} GB"


def report(
    first: list[dict],
    edits: list[dict],
    cli: list[dict] = (),
    saves: list[dict] = (),
    disks: list[dict] = (),
    gains: dict | None = None,
) -> str:
    lines = [
        "First solve (`Colorizer(gray, solver=...).solve(cues)`, end to end):",
        "",
        "| MP | pattern | solver | seconds | × 50 mv | 50 mv (s) | peak memory |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in first:
        if "error" in r:
            lines.append(f"| {r['megapixels']:g} | {r['pattern']} | {r['solver']} | {r['error']} | | | |")
            continue
        used = r["solver"] + (f" → {r['solver_used']}" if r["solver_used"] != r["solver"] else "")
        lines.append(
            f"| {r['megapixels']:g} | {r['pattern']} | {used} | {r['seconds']:.2f} | {r['units']:.2f} | "
            f"{r['unit_seconds']:.3f} | {_gb(r)} |"
        )
    lines += [
        "",
        "Edits (each given as the whole new cue set to `Colorizer.solve`; `update`: the adds alone "
        "to `Colorizer.update`); max |Δab| against a fresh direct solve of the same cues:",
        "",
        "| MP | pattern | engine | edits | median s | max s | median × 50 mv | max × 50 mv | median, max ÷ first solve "
        "| max |Δab| vs full | largest residual | peak memory | paths |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in edits:
        if "error" in r:
            lines.append(f"| {r['megapixels']:g} | {r['pattern']} | {r['engine']} | {r['error']} | | | | | | | | | |")
            continue
        paths = {}
        for s in r["steps"]:
            paths[s["path"]] = paths.get(s["path"], 0) + 1
        lines.append(
            f"| {r['megapixels']:g} | {r['pattern']} | {r['engine']} | {len(r['steps'])} | "
            f"{r['median_seconds']:.3f} | {r['max_seconds']:.3f} | {r['median_units']:.2f} | "
            f"{r['max_units']:.2f} | {r['median_seconds'] / r['first_seconds']:.2f}, "
            f"{r['max_seconds'] / r['first_seconds']:.2f} | {r['max_error']:.4f} | {_largest_residual(r)} | {_gb(r)} | "
            + ", ".join(f"{k} ×{v}" for k, v in paths.items())
            + " |"
        )
    kinds = sorted({s["kind"] for r in edits if "steps" in r for s in r["steps"]})
    if kinds:
        lines += [
            "",
            "Per edit kind (median seconds; × 50 mv in brackets):",
            "",
            "| MP | pattern | engine | " + " | ".join(kinds) + " |",
            "|---|---|---|" + "---|" * len(kinds),
        ]
        for r in edits:
            if "steps" not in r:
                continue
            cells = []
            for kind in kinds:
                times = [s["seconds"] for s in r["steps"] if s["kind"] == kind]
                cells.append(f"{np.median(times):.3f} ({np.median(times) / r['unit_seconds']:.2f})" if times else "")
            lines.append(f"| {r['megapixels']:g} | {r['pattern']} | {r['engine']} | " + " | ".join(cells) + " |")
    if cli:
        lines += [
            "",
            f"`varcolor colorize` on a big scan ({SCANS[cli[0].get('scan', 'levin')]}; `auto` picks the "
            "solver), whole command under `/usr/bin/time -v`; 50 mv: the same scene's mat-vecs in a fresh process "
            "after it:",
            "",
            "| MP | cues | seconds | × 50 mv | 50 mv (s) | peak memory | load (1 min, before → after) |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in cli:
            if "error" in r:
                lines.append(f"| {r['megapixels']:g} | | {r['error']} | | | | |")
                continue
            lines.append(
                f"| {r['megapixels']:g} | {r['cues']} | {r['seconds']:.1f} | {r.get('units', float('nan')):.2f} | "
                f"{r['unit_seconds']:.2f} | {r['peak_bytes'] / 1e9:.2f} GB | {r['load'][0]:.1f} → {r['load'][1]:.1f} |"
            )
        photos = [r for r in cli if "psnr_db" in r]
        if photos:
            lines += [
                "",
                "The `photo` scan (kodim05 upscaled, strokes of its own colours drawn at 1 MP and scaled up): PSNR "
                "of the result against the upscaled photo, and of the same strokes colorized at 1 MP against the "
                "photo at 1 MP:",
                "",
                "| MP | PSNR (dB) | at 1 MP (dB) | difference (dB) |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {r['megapixels']:g} | {r['psnr_db']:.2f} | {r['psnr_1mp_db']:.2f} | "
                f"{r['psnr_db'] - r['psnr_1mp_db']:+.2f} |"
                for r in photos
            ]
    if saves:
        lines += [
            "",
            "Studio save at full resolution (`SaveJob`, as the studio starts it: `varcolor colorize` in a child "
            "process) of the same scan's strokes; the server's resident size before and after the save:",
            "",
            "| MP | state | seconds | of which the child | server before | server after | child peak | load (1 min) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in saves:
            if "seconds" not in r:
                lines.append(f"| {r['megapixels']:g} | {r.get('error')} | | | | | | |")
                continue
            lines.append(
                f"| {r['megapixels']:g} | {r['state']} | {r['seconds']:.1f} | {r['solve_seconds']:.1f} | "
                f"{r['server_rss_before'] / 1e9:.2f} GB | {r['server_rss_after'] / 1e9:.2f} GB | "
                f"{r['child_peak_bytes'] / 1e9:.2f} GB | {r['load']:.1f} |"
            )
    for r in disks:
        if "error" in r:
            lines += ["", f"Small disks: {r['error']}"]
            continue
        lines += [
            "",
            "Small disks (`multiscale.disk_scene`: 150 disks of radius 5–16 px on a grainy 1 MP texture, a 2×2 cue "
            "dot each): mean |Δab| to the truth inside the disks, by radius, and the worst disk (the exact solve's "
            "error there):",
            "",
            "| engine | mean | "
            + " | ".join(f"radius {k} px" for k in r["exact"]["by_radius"])
            + " | worst disk | seconds |",
            "|---|---|" + "---|" * len(r["exact"]["by_radius"]) + "---|---|",
        ]
        for name in ("exact", "default"):
            row = r[name]
            worst = int(np.argmax(row["per_disk"]))
            lines.append(
                f"| {name} | {row['ab_error']:.2f} | "
                + " | ".join(f"{v:.2f}" for v in row["by_radius"].values())
                + f" | {row['per_disk'][worst]:.1f} ({r['exact']['per_disk'][worst]:.1f}) | {row['seconds']:.1f} |"
            )
    lines += target_rows(edits, cli, disks, gains)
    fallbacks = _fallbacks(edits)
    if fallbacks:
        lines += ["", "Edits solved afresh, and why (`info['full_solve']`):", "", *fallbacks]
    return "\n".join(lines) + "\n"


def _largest_residual(row: dict) -> str:
    residuals = [s["residual"] for s in row["steps"] if s.get("residual") is not None]
    return f"{max(residuals):.1e}" if residuals else ""


def _fallbacks(edits: list[dict]) -> list[str]:
    return [
        f"- {r['pattern']}, {r['engine']}, edit {k + 1} ({s['kind']}): solved afresh: {s['why']}"
        for r in edits
        if "steps" in r
        for k, s in enumerate(r["steps"])
        if s.get("why")
    ]


def plot(edits: list[dict], path: Path) -> None:
    from plotting import figure

    with figure(path, "edit", "× 50 mat-vecs", "Edit latency at 1 MP (Colorizer.solve with the whole cue set)") as ax:
        for r in edits:
            if "steps" in r and r["engine"] != "update":
                ax.plot([s["units"] for s in r["steps"]], marker="o", label=f"{r['pattern']}, {r['engine']}")
        ax.axhline(35 / MATVECS, color="k", linestyle="--", linewidth=1, label="goal: median 35 mat-vecs")
        ax.set_yscale("log")


# --- every row of the engine's targets (--targets) -------------------------------------------------

#: The 40 MP command's scenes in ``--targets``: (label, bits, cue kind, gray saved as RGB), on the
#: grainy scan with 80 strokes (``make_scan(40, kind="sparse")``), as a restorer's files come.
TARGET_SCANS = (
    ("8-bit PNG, marked copy", 8, "marked", False),
    ("16-bit TIFF, marked copy", 16, "marked", False),
    ("16-bit TIFF, stroke mask", 16, "mask", False),
    ("16-bit RGB TIFF of the gray scan, marked copy", 16, "marked", True),
    # A gray scan stored as RGB, its channels nearly equal (RGB_STORES), each against
    # its one-channel twin (the first row): the same memory, at most RGB_TWIN_TIME × its time.
    ("8-bit RGB PNG of the gray scan, a level of rounding on 0.3 %, marked copy", 8, "marked", "rounded"),
    ("8-bit RGB PNG of the gray scan, scanner noise of 1.5 levels, marked copy", 8, "marked", "noisy"),
)
#: A gray scan stored as RGB against its one-channel twin: at most this × the twin's time.
RGB_TWIN_TIME = 1.1
#: The parts ``--targets`` measures (``--parts`` picks some; the others are kept from its last JSON).
TARGET_PARTS = ("disks", "gains", "cli", "edits12")
#: The 40 MP command's targets: peak memory (GB) and time (× the 50 mat-vec floor).
CLI_PEAK_GB, CLI_UNITS = 1.5, 1.0


def _user_environment() -> dict:
    """The environment of a command as a user runs it: without this benchmark's timing settings
    (``timing_environment``: no huge pages, one BLAS thread), which move its memory (NumPy's huge
    pages made a 40 MP run's cue colours 0.24 GB more resident) and its speed."""
    return {k: v for k, v in os.environ.items() if k not in ("NUMPY_MADVISE_HUGEPAGE", "OPENBLAS_NUM_THREADS")}


def cli_targets(
    megapixels: float, scratch: str, timeout: float, scans: list[int] | None = None, rounds: int = 1
) -> list[dict]:
    """``varcolor colorize`` on each of :data:`TARGET_SCANS` under ``/usr/bin/time -v``, one at a
    time, as a user runs it (:func:`_user_environment`): seconds, peak resident size, the load
    before and after; each followed by the scene's mat-vec unit in a fresh process (the floor, in
    the same run). With ``rounds`` above 1 the scans take turns that many times, and each row is
    their median (:func:`_median_row`, its rounds' seconds listed): a gray scan stored as RGB is
    compared with its twin run beside it, not minutes apart on a machine whose speed drifts.

    Every scan's files are written before the first command, and flushed to disk (``sync``), so
    that no command runs while its own files are written back (each was written just before its
    command: a first round of a gray stored as RGB took 1.35 × its twin's time, and 1.02-1.06 × by
    hand on files written minutes before; how much of that was the writing is not known)."""
    stem = str(Path(scratch) / f"targets{megapixels:g}")
    made = run(_make_scan, {"megapixels": megapixels, "stem": stem, "kind": "sparse"}, timeout)
    picked = [k for k in range(len(TARGET_SCANS)) if scans is None or k in scans]
    written = run(_write_scans, {"stem": stem, "scans": picked}, timeout)
    if "error" in made or "error" in written:
        failed = made if "error" in made else written
        return [{**failed, "scan": TARGET_SCANS[k][0]} for k in picked]
    os.sync()
    try:
        turns = [_cli_round(megapixels, stem, timeout, picked, written["files"], made) for _ in range(max(1, rounds))]
    finally:
        for files in written["files"].values():
            for name in {files[0], files[2]} - {f"{stem}.png", f"{stem}_marked.png"}:
                Path(name).unlink(missing_ok=True)
    return [_median_row([turn[k] for turn in turns]) for k in range(len(turns[0]))]


def _median_row(runs: list[dict]) -> dict:
    """One scan's rows of several rounds as one: the median seconds and mat-vec units, the largest
    peak, every round's seconds (``rounds_seconds``); an error if any round failed."""
    failed = [run for run in runs if "error" in run]
    if failed or len(runs) == 1:
        return failed[0] if failed else runs[0]
    seconds = [run["seconds"] for run in runs]
    middle = sorted(range(len(runs)), key=lambda k: seconds[k])[len(runs) // 2]
    row = dict(runs[middle])
    row["peak_bytes"] = max(run["peak_bytes"] or 0 for run in runs)
    row["rounds_seconds"] = seconds
    row["rounds_units"] = [run.get("units") for run in runs]
    return row


def _write_scans(task: dict, queue) -> None:
    """The files of :data:`TARGET_SCANS` ``task["scans"]`` (indices) of the scan at ``task["stem"]``
    (:func:`scan_files`), in a child process: ``{"files": {index: arguments}}``."""

    files = {}
    for index in task["scans"]:
        _label, bits, cues, rgb = TARGET_SCANS[index]
        files[index] = scan_files(task["stem"], bits, cues, rgb)
    queue.put({"files": files})


def _cli_round(
    megapixels: float, stem: str, timeout: float, picked: list[int], files_of: dict, made: dict
) -> list[dict]:
    """One round of :func:`cli_targets`: the command on each scan ``picked``, its files written."""
    import subprocess

    from varcolor.common.fields import path_word

    rows = []
    for index in picked:
        label, bits, cues, rgb = TARGET_SCANS[index]
        files = files_of[index]
        output = f"{stem}_out.{'tif' if bits == 16 else 'png'}"
        command = [sys.executable, "-m", "varcolor.cli", "colorize", path_word(files[0]), files[1]]
        command += [path_word(files[2]), "-o", path_word(output), "--quiet", "--overwrite"]
        row = {**made, "scan": label, "megapixels": megapixels, "bits": bits, "cues_kind": cues, "rgb": rgb}
        load = [os.getloadavg()[0]]
        start = time.perf_counter()
        try:
            done = subprocess.run(
                ["/usr/bin/time", "-v", *command],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=_user_environment(),
            )
        except subprocess.TimeoutExpired:
            rows.append({**row, "error": f"timed out after {timeout:.0f} s"})
            continue
        row["seconds"] = time.perf_counter() - start
        load.append(os.getloadavg()[0])
        row["peak_bytes"] = next(
            (
                int(line.split(":")[1]) * 1024
                for line in done.stderr.splitlines()
                if "Maximum resident set size" in line
            ),
            None,
        )
        row.update(load=load, command="varcolor " + " ".join(command[4:]), returncode=done.returncode)
        if done.returncode != 0:
            row["error"] = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        else:
            unit = run(_banded_unit, {"stem": stem}, timeout).get("unit_seconds")
            row.update(unit_seconds=unit, units=row["seconds"] / unit if unit else None)
        Path(output).unlink(missing_ok=True)
        rows.append(row)
        print(f"targets cli {label}: " + (row.get("error") or f"{row['seconds']:.1f} s, {_gb(row)}"), flush=True)
    return rows


#: Rows of pixels per band of :func:`_banded_unit` (about 4 MP of a 40 MP scan's width).
UNIT_BAND_PIXELS = 4_000_000


def _banded_unit(task: dict, queue) -> None:
    """The mat-vec unit of a saved scan (``stem.png``, ``stem_marked.png``), in this fresh process,
    summed over row bands of :data:`UNIT_BAND_PIXELS`: each band's Levin matrix built and timed
    alone (:func:`matvec_unit`, best of three), the same mat-vecs as the whole matrix's (the rows of
    a CSR product are independent, and a band is far beyond any cache) in an eighth of the memory
    (the whole 40 MP matrix took 11 GB to build)."""
    import varcolor

    stem = task["stem"]
    gray = varcolor.read_image(f"{stem}.png", gray_if_equal=True)
    gray = gray if gray.ndim == 2 else varcolor.color.to_gray(gray)
    mask = varcolor.Cues.from_marked(gray, varcolor.read_image(f"{stem}_marked.png", np.float32)).mask
    step = max(1, UNIT_BAND_PIXELS // gray.shape[1])
    total = sum(matvec_unit(gray[top : top + step], mask[top : top + step]) for top in range(0, gray.shape[0], step))
    queue.put({"unit_seconds": total, "unit_bands": -(-gray.shape[0] // step)})


def _edits12_row(out: Path) -> dict | None:
    """The 12 MP edits row from ``engine_edits12.json`` (``--edits12``'s), or None when not run."""
    path = out / "engine_edits12.json"
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    row = record.get("row", {})
    if "max_seconds" not in row:
        return {"error": row.get("error", "no edits in engine_edits12.json")}
    return {k: row.get(k) for k in ("median_seconds", "max_seconds", "load", "shape", "megapixels")}


def _verdict(value: float, limit: float, smaller: bool = True, unit: str = "") -> str:
    good = value <= limit if smaller else value >= limit
    return "met" if good else f"missed by {abs(value - limit):.2f}{unit}"


def targets_report(record: dict) -> str:
    """Every row of the engine's targets, measured against it, with the load beside each timing."""
    lines = [
        "# The engine's rows against their targets",
        "",
        "Made by `python benchmarks/engine.py --targets` on "
        f"{record.get('machine', 'this machine')} (1-minute load at the start {record.get('load_start', 0):.1f}).",
        "",
        "| row | measured | target | |",
        "|---|---|---|---|",
    ]
    disks = record.get("disks")
    if disks and "error" not in disks:
        mine, exact = disks["default"]["ab_error"], disks["exact"]["ab_error"]
        lines.append(
            f"| {TARGETS[0][0]} | {mine:.2f} ab (exact {exact:.2f}) | {TARGETS[0][1]} | "
            f"{_verdict(mine, exact + 0.3, unit=' ab')} |"
        )
    else:
        lines.append(f"| {TARGETS[0][0]} | {(disks or {}).get('error', 'not run')} | {TARGETS[0][1]} | |")
    gains = record.get("gains")
    if gains and gains.get("gains"):
        cells = " / ".join(f"{v:+.2f}" for v in gains["gains"].values())
        worst = min(gains["gains"].values())
        lines.append(
            f"| {TARGETS[1][0]} | {cells} dB ({gains['file']}, load {gains.get('load', '?')}) | {TARGETS[1][1]} | "
            f"{_verdict(worst, 0.3, smaller=False, unit=' dB')} |"
        )
    else:
        lines.append(f"| {TARGETS[1][0]} | not run | {TARGETS[1][1]} | |")
    cli_rows = record.get("cli") or []
    for row in cli_rows:
        where = f"{row.get('megapixels', 40):g} MP `varcolor colorize`, {row['scan']}"
        if "error" in row:
            lines.append(f"| {where} | {row['error']} | | |")
            continue
        load = " → ".join(f"{x:.1f}" for x in row["load"])
        lines.append(
            f"| {where}: peak memory | {row['peak_bytes'] / 1e9:.2f} GB | ≤ {CLI_PEAK_GB:g} GB | "
            f"{_verdict(row['peak_bytes'] / 1e9, CLI_PEAK_GB, unit=' GB')} |"
        )
        if row.get("units"):
            lines.append(
                f"| {where}: time | {row['units']:.2f} × 50 mv ({row['seconds']:.1f} s; 50 mv "
                f"{row['unit_seconds']:.1f} s; load {load}) | ≤ {CLI_UNITS:g} × 50 mv | "
                f"{_verdict(row['units'], CLI_UNITS, unit=' ×')} |"
            )
        twin = next(
            (
                other
                for other in cli_rows
                if not other.get("rgb") and other["bits"] == row["bits"] and other["cues_kind"] == row["cues_kind"]
            ),
            None,
        )
        if row.get("rgb") in ("rounded", "noisy") and twin and "seconds" in twin:
            ratio = row["seconds"] / twin["seconds"]
            turns = ""
            if row.get("rounds_seconds") and twin.get("rounds_seconds"):
                each = [mine / theirs for mine, theirs in zip(row["rounds_seconds"], twin["rounds_seconds"])]
                listed = " / ".join(f"{r:.2f}" for r in each)
                turns = f"; medians of {len(each)} rounds taken in turns, each round's {listed} ×"
            lines.append(
                f"| {where}: time against its one-channel twin | {ratio:.2f} × ({row['seconds']:.1f} s against "
                f"{twin['seconds']:.1f} s, {twin['peak_bytes'] / 1e9:.2f} GB{turns}) | ≤ {RGB_TWIN_TIME:g} × | "
                f"{_verdict(ratio, RGB_TWIN_TIME, unit=' ×')} |"
            )
    if not record.get("cli"):
        lines.append("| 40 MP `varcolor colorize` | not run | ≤ 1.5 GB, ≤ 1.0 × 50 mv | |")
    edits = record.get("edits12")
    if edits and "error" not in edits:
        load = " → ".join(f"{x:.1f}" for x in edits.get("load") or [])
        lines.append(
            f"| {TARGETS[4][0]} | {edits['max_seconds']:.2f} s (median {edits['median_seconds']:.2f} s; load {load}; "
            f"`engine_edits12.md`) | {TARGETS[4][1]} | {_verdict(edits['max_seconds'], 1.0, unit=' s')} |"
        )
    else:
        lines.append(f"| {TARGETS[4][0]} | {(edits or {}).get('error', 'not run (`--edits12`)')} | {TARGETS[4][1]} | |")
    lines += [
        "",
        "Small disks: `multiscale.disk_scene` (150 disks of radius 5–16 px, a 2×2 cue dot each, on a grainy 1 MP "
        "texture), mean |Δab| inside the disks, the default engine's against the exact solve's (`--method levin`), "
        "in one fresh process. Photos at native size: the default engine's mean PSNR gain over the exact solve on "
        "the test split (Kodak 13–24, McMaster, BSDS500 val every 10th), from `multiscale.py`'s result named. "
        '40 MP: the grainy scan with 80 strokes (`make_scan(40, kind="sparse")`) written as each kind of file '
        "(all of them before the first command, flushed to disk), "
        "the whole command under `/usr/bin/time -v` as a user runs it (NumPy's huge pages and BLAS threads as they "
        "come), one at a time, each followed by the same scene's 50 CSR mat-vecs in a fresh process (the floor, "
        "summed over row bands of 4 MP: the same products in an eighth of the memory).",
    ]
    return "\n".join(lines) + "\n"


# --- 12 MP edits through Colorizer (--edits12) ------------------------------------------------
#: The edits mode's target: a 12 MP edit (a new stroke after the first solve) answered within this.
EDIT12_TARGET_SECONDS = 1.0
#: Its scene: kodim05 upscaled to 12 MP with film grain, 80 strokes, then this many new ones.
EDIT12_MEGAPIXELS, EDIT12_EDITS = 12.0, 10
#: Seconds between one edit's result and the next stroke (not timed): a user draws the next
#: stroke, 200-600 px, in about that (the studio and Krita Live send a stroke once it is drawn).
#: The engine works ahead in that time (the coarse grid factored again in a thread).
EDIT12_PAUSE = 1.0


def _edits12_scene(megapixels: float, strokes: int, seed: int = 0):
    """A grainy scan made from a Kodak photo (kodim05 upscaled, bilinear, grain σ = :data:`GRAIN`)
    as float32 gray, and :data:`SPARSE_STROKES` + ``strokes`` straight strokes as a restorer
    draws them (200–600 px long, :data:`STROKE_WIDTH` px wide) in the photo's own colours, each
    as the base cue set and each new stroke's pixels and colours."""
    from PIL import Image, ImageDraw

    import varcolor

    photo = Image.open(SHARED / "kodak" / "kodim05.png").convert("RGB")
    scale = np.sqrt(megapixels * 1e6 / (photo.width * photo.height))
    width, height = int(round(photo.width * scale)), int(round(photo.height * scale))
    truth = np.asarray(photo.resize((width, height), Image.BILINEAR))
    rng = np.random.default_rng(seed)
    gray = np.empty((height, width), np.float32)
    for top in range(0, height, 512):  # band by band: no float64 Lab of the scan
        band = varcolor.color.same_lightness_gray(truth[top : top + 512] / 255.0)
        gray[top : top + 512] = band + rng.normal(0, GRAIN, band.shape)
    np.clip(gray, 0, 1, out=gray)
    drawn = []  # each stroke's pixels and colours: 90 image-sized cue sets would be 10 GB
    for _ in range(SPARSE_STROKES + strokes):
        canvas = Image.new("L", (width, height), 0)
        length, angle = rng.uniform(*STROKE_LENGTH), rng.uniform(0, np.pi)
        y, x = rng.uniform(0, height - 1), rng.uniform(0, width - 1)
        ImageDraw.Draw(canvas).line(
            [(x, y), (x + length * np.cos(angle), y + length * np.sin(angle))], fill=255, width=STROKE_WIDTH
        )
        rows, columns = np.nonzero(np.asarray(canvas))
        drawn.append((rows, columns, varcolor.color.rgb_to_lab(truth[rows, columns][None] / 255.0)[0, :, 1:]))
    return gray, _stroke_cues(drawn[:SPARSE_STROKES], gray.shape), drawn[SPARSE_STROKES:]


def _stroke_cues(drawn: list, shape: tuple[int, int]):
    """One ``Cues`` of the strokes ``drawn`` (pixels and colours; a later stroke wins)."""
    import varcolor

    mask, ab = np.zeros(shape, bool), np.zeros(shape + (2,), np.float32)
    for rows, columns, values in drawn:
        mask[rows, columns] = True
        ab[rows, columns] = values
    return varcolor.Cues(mask, ab, copy=False)


def edits12_session(task: dict, queue) -> None:
    """The first solve of the 12 MP scene, then each new stroke given to ``Colorizer.update``
    (timed: what a user waits for), in this fresh process; the last result against a fresh solve
    of the same cues (untimed)."""
    import varcolor

    _warm("direct")
    # The engine's own kernels (lift, bounds, tiles) from numba's cache: a 0.3 MP scene is coarse too.
    gray, base, strokes = _edits12_scene(0.3, 2)
    colorizer = varcolor.Colorizer(gray, **_method(task))
    colorizer.solve(base)
    for drawn in strokes:
        colorizer.update(_stroke_cues([drawn], gray.shape))
    gray, base, strokes = _edits12_scene(task["megapixels"], task["edits"])
    colorizer = varcolor.Colorizer(gray, **_method(task))
    load = [os.getloadavg()[0]]
    start = time.perf_counter()
    colorizer.solve(base)
    first = time.perf_counter() - start
    steps = []
    for drawn in strokes:
        more = _stroke_cues([drawn], gray.shape)  # what the caller hands over: not timed
        time.sleep(task.get("pause", EDIT12_PAUSE))  # the user drawing it
        start = time.perf_counter()
        result = colorizer.update(more)
        seconds = time.perf_counter() - start
        engine = result.info.get("engine") or {}
        steps.append(
            {
                "seconds": seconds,
                "path": result.info.get("update") or result.info.get("solver"),
                "why": result.info.get("full_solve") or (result.info.get("engine") or {}).get("full_solve"),
                "stroke_pixels": int(more.count),
                "paint_seconds": result.info.get("paint_seconds"),
                **{k: engine.get(k) for k in ("coarse_seconds", "lift_seconds", "correct_seconds", "lifted_blocks")},
                "tiles": engine.get("tiles"),
                "blocks": int(np.prod(engine.get("coarse_shape", [0]))),
                "refactor": engine.get("coarse_refactor"),
            }
        )
    load.append(os.getloadavg()[0])
    fresh = varcolor.colorize(gray, colorizer.cues, **_method(task)).ab
    seconds = [step["seconds"] for step in steps]
    queue.put(
        {
            **task,
            "shape": list(gray.shape),
            "cues": int(base.count),
            "first_seconds": first,
            "steps": steps,
            "median_seconds": float(np.median(seconds)),
            "max_seconds": float(np.max(seconds)),
            "last_error": float(np.abs(result.ab - fresh).max()),
            "load": load,
        }
    )


def edits12_report(row: dict) -> str:
    """The edits mode's table: each edit's seconds and parts, and the row against the target."""
    if "error" in row:
        return f"# 12 MP edits through Colorizer\n\n{row['error']}\n"
    lines = [
        "# 12 MP edits through Colorizer",
        "",
        f"A {row['shape'][1]}×{row['shape'][0]} grainy scan (kodim05 upscaled, grain σ = 4/255) with "
        f"{SPARSE_STROKES} strokes ({row['cues']:,} cue pixels), first solve {row['first_seconds']:.1f} s; then "
        f"{len(row['steps'])} new strokes, each given to `Colorizer.update` (default engine) "
        f"{row.get('pause', 0.0):g} s after the last result (the user drawing it). Load (1-minute) "
        f"{row['load'][0]:.1f} before, {row['load'][1]:.1f} after. *coarse*: the coarse grid's edit "
        "(*started*: its factorisation again in a thread, *adopted*: those factors taken).",
        "",
        "| edit | seconds | path | coarse | lift | correct | paint | blocks moved | tiles solved |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for k, step in enumerate(row["steps"], 1):
        share = (
            step["lifted_blocks"] / step["blocks"] if step.get("lifted_blocks") is not None and step["blocks"] else None
        )
        parts = [step.get(name) for name in ("coarse_seconds", "lift_seconds", "correct_seconds", "paint_seconds")]
        refactor = f" ({step['refactor']})" if step.get("refactor") else ""
        lines.append(
            f"| {k} | {step['seconds']:.2f} | {step['path']}{refactor} | "
            + " | ".join("–" if v is None else f"{v:.2f}" for v in parts)
            + f" | {'–' if share is None else f'{share:.1%}'} | {step.get('tiles', '–')} |"
        )
    verdict = (
        "meets"
        if row["max_seconds"] <= EDIT12_TARGET_SECONDS
        else ("median meets, max misses" if row["median_seconds"] <= EDIT12_TARGET_SECONDS else "misses")
    )
    lines += [
        "",
        f"**Median {row['median_seconds']:.2f} s, max {row['max_seconds']:.2f} s against the target of "
        f"{EDIT12_TARGET_SECONDS:g} s: {verdict}.** The last edit's result is within "
        f"{row['last_error']:.3f} ab of a fresh solve of the same cues.",
    ]
    return "\n".join(lines) + "\n"


def targets(
    out: Path,
    timeout: float,
    gains_path: Path,
    parts: list[str],
    megapixels: float = 40.0,
    scans: list[int] | None = None,
    rounds: int = 1,
) -> int:
    """``--targets``: measure ``parts`` (:data:`TARGET_PARTS`), keep the others from the last
    ``engine_targets.json``, print and write ``engine_targets.json`` / ``.md``; the command's rows
    at ``megapixels`` (another size than 40 writes ``engine_targets_<N>mp``), ``scans`` of
    :data:`TARGET_SCANS` by index (None: all)."""
    name = "engine_targets" if megapixels == 40 else f"engine_targets_{megapixels:g}mp"
    previous = out / f"{name}.json"
    record = json.loads(previous.read_text()) if previous.is_file() else {}
    if parts:  # else the report of the last measurements again
        record.update(machine=f"{platform.machine()}, {os.cpu_count()} cores", load_start=os.getloadavg()[0])
    if "disks" in parts:
        record["disks"] = run(disk_detail, {"method": None}, timeout)
    if "gains" in parts:
        gains = scene_gains(gains_path)
        meta = json.loads(gains_path.read_text()).get("meta", {}) if gains_path.is_file() else {}
        record["gains"] = {"file": gains_path.name, "gains": gains, "load": meta.get("load")}
    if "cli" in parts:
        scratch = tempfile.mkdtemp(prefix="varcolor-targets-")
        try:
            record["cli"] = cli_targets(megapixels, scratch, timeout, scans, rounds)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if "edits12" in parts:
        record["edits12"] = _edits12_row(out)
    text = targets_report(record)
    write_report(out, name, record, text)
    print(text)
    return 0


def edits12(out: Path, timeout: float, method: str | None, pause: float = EDIT12_PAUSE) -> int:
    """Run the edits mode in a fresh process; print and write ``engine_edits12.json`` / ``.md``."""
    task = {"megapixels": EDIT12_MEGAPIXELS, "edits": EDIT12_EDITS, "method": method, "pause": pause}
    row = run(edits12_session, task, timeout)
    text = edits12_report(row)
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version()}
    write_report(out, "engine_edits12", {**meta, "target_seconds": EDIT12_TARGET_SECONDS, "row": row}, text)
    print(text)
    return 1 if "error" in row else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="0.25,1,4", help="megapixels of the first solves ('none': no first solves)")
    parser.add_argument("--patterns", default=",".join(PATTERNS))
    parser.add_argument("--solvers", default="direct", help="solvers of the first solves (comma-separated)")
    parser.add_argument("--method", default=None, help="the method (default: varcolor's default, levin-multiscale)")
    parser.add_argument("--engines", default=",".join(EDIT_ENGINES), help="edit engines ('none': no edits)")
    parser.add_argument("--edit-sizes", default="1", help="megapixels of the edit sequences")
    parser.add_argument("--bounded-patterns", default="hints", help="patterns the bounded engine runs on")
    parser.add_argument("--big", action="store_true", help="add 16 and 40 MP first solves (auto) and 12 MP edits")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per measurement")
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--name", default="engine", help="result file stem (default: %(default)s)")
    parser.add_argument("--report-only", action="store_true", help="rewrite the .md and .png from the .json")
    parser.add_argument(
        "--cli-sizes", default="none", help="megapixels of `varcolor colorize` big-scan runs (e.g. 16,40; 'none')"
    )
    parser.add_argument(
        "--scan", choices=("levin", "sparse", "photo"), default="levin", help="the --cli-sizes scene (make_scan's kind)"
    )
    parser.add_argument("--save-sizes", default="none", help="megapixels of studio saves (e.g. 12; 'none')")
    parser.add_argument(
        "--profile", metavar="PATTERN", help="profile the edit sequence of PATTERN at --edit-sizes' first"
    )
    parser.add_argument("--keep", action="store_true", help="keep the rows of the existing .json (add to them)")
    parser.add_argument("--disks", action="store_true", help="the small-detail scene: the default engine against levin")
    parser.add_argument(
        "--targets", action="store_true", help="every row of the engine's targets, measured against it (alone)"
    )
    parser.add_argument(
        "--parts",
        default=",".join(TARGET_PARTS),
        help="what --targets measures (the rest kept from its last JSON; 'none': the report again)",
    )
    parser.add_argument(
        "--target-megapixels", type=float, default=40.0, help="--targets: the command's size (default %(default)s)"
    )
    parser.add_argument(
        "--scans", default="all", help="--targets: which TARGET_SCANS rows, by index from 0 (e.g. 0,4,5; default all)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="--targets: the command's scans taken in turns this many times (median)"
    )
    parser.add_argument(
        "--edits12", action="store_true", help="12 MP edits through Colorizer against the 1 s target (alone)"
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=EDIT12_PAUSE,
        help="--edits12: seconds between a result and the next stroke (default %(default)s)",
    )
    parser.add_argument(
        "--gains",
        default=str(HERE / "results" / "multiscale_targets.json"),
        help="a multiscale.py result whose gains over the exact solve the targets list (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.targets:
        parts = [] if args.parts == "none" else args.parts.split(",")
        if set(parts) - set(TARGET_PARTS):
            print(f"engine: error: --parts: choose from {', '.join(TARGET_PARTS)}", file=sys.stderr)
            return 2
        scans = None if args.scans == "all" else [int(i) for i in args.scans.split(",")]
        return targets(out, args.timeout, Path(args.gains), parts, args.target_megapixels, scans, args.rounds)
    if args.report_only:
        saved = json.loads((out / f"{args.name}.json").read_text())
        text = report(
            saved["first"],
            saved["edits"],
            saved.get("cli", []),
            saved.get("saves", []),
            saved.get("disks", []),
            scene_gains(Path(args.gains)),
        )
        (out / f"{args.name}.md").write_text(text)
        plot(saved["edits"], out / f"{args.name}.png")
        print(text)
        return 0
    if not (SHARED / "kodak").is_dir():
        print(f"engine: error: {SHARED / 'kodak'}: no such folder", file=sys.stderr)
        return 2
    if args.edits12:
        return edits12(out, args.timeout, args.method, args.pause)
    if args.profile:
        if args.profile not in PATTERNS:
            print(f"engine: error: --profile: choose from {', '.join(PATTERNS)}", file=sys.stderr)
            return 2
        profile_edits(float(args.edit_sizes.split(",")[0]), args.profile)
        return 0
    patterns = args.patterns.split(",")
    unknown = sorted(set(patterns) - set(PATTERNS))
    if unknown:
        print(f"engine: error: --patterns: unknown {', '.join(unknown)}", file=sys.stderr)
        return 2
    engines = [] if args.engines == "none" else args.engines.split(",")
    if set(engines) - set(EDIT_ENGINES):
        print(f"engine: error: --engines: choose from {', '.join(EDIT_ENGINES)}", file=sys.stderr)
        return 2
    sizes = [] if args.sizes == "none" else [float(s) for s in args.sizes.split(",")]
    edit_sizes = [float(s) for s in args.edit_sizes.split(",")]
    first_tasks = [
        {"megapixels": size, "pattern": pattern, "solver": solver, "method": args.method}
        for size in sizes
        for pattern in patterns
        for solver in args.solvers.split(",")
    ]
    if args.big:
        big = {"pattern": patterns[0], "solver": "auto", "method": args.method}
        first_tasks += [{"megapixels": size, **big} for size in (16.0, 40.0)]
        edit_sizes.append(12.0)
    scratch = tempfile.mkdtemp(prefix="varcolor-engine-")  # the full engine's results: the reference
    edit_tasks = [
        {"megapixels": size, "pattern": pattern, "engine": engine, "scratch": scratch, "method": args.method}
        for size in edit_sizes
        for pattern in patterns
        for engine in engines
        if engine != "bounded" or pattern in args.bounded_patterns.split(",")
    ]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    first, edits, cli, saves, disks = [], [], [], [], []
    if args.keep and (out / f"{args.name}.json").is_file():
        saved = json.loads((out / f"{args.name}.json").read_text())
        first, edits, cli, saves = saved["first"], saved["edits"], saved.get("cli", []), saved.get("saves", [])
        disks = saved.get("disks", [])
    gains = scene_gains(Path(args.gains))
    cli_sizes = [] if args.cli_sizes == "none" else [float(s) for s in args.cli_sizes.split(",")]

    def save() -> str:
        text = report(first, edits, cli, saves, disks, gains)
        meta = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
            "environment": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "NUMPY_MADVISE_HUGEPAGE")},
        }
        rows = {"first": first, "edits": edits, "cli": cli, "saves": saves, "disks": disks, "gains": gains}
        write_report(out, args.name, {**meta, **rows}, text)
        return text

    if args.disks:
        row = run(disk_detail, {"method": args.method}, args.timeout)
        disks.append(row)
        print(
            "disks "
            + (
                row.get("error") or f"default {row['default']['ab_error']:.2f} ab, exact {row['exact']['ab_error']:.2f}"
            ),
            flush=True,
        )
        save()
    for task in edit_tasks:
        row = run(edit_session, task, args.timeout)
        edits.append(row)
        print(
            f"edits {task['megapixels']:g} MP {task['pattern']:17s} {task['engine']:11s} "
            + (
                row.get("error")
                or f"median {row['median_seconds']:.3f} s ({row['median_units']:.2f} × 50 mv), "
                f"max {row['max_seconds']:.3f} s ({row['max_units']:.2f}), max |Δab| {row['max_error']:.4f}"
            ),
            flush=True,
        )
        save()
    for task in first_tasks:
        row = run(first_solve, task, args.timeout)
        first.append(row)
        print(
            f"first {task['megapixels']:g} MP {task['pattern']:17s} {task['solver']:7s} "
            + (row.get("error") or f"{row['seconds']:.2f} s = {row['units']:.2f} × 50 mv, {_gb(row)}"),
            flush=True,
        )
        save()
    for size in cli_sizes:
        row = cli_solve(size, scratch, args.timeout, args.scan)
        cli.append(row)
        print(
            f"cli {size:g} MP "
            + (
                row.get("error")
                or f"{row['seconds']:.1f} s = {row.get('units', float('nan')):.2f} × 50 mv, "
                f"peak {row['peak_bytes'] / 1e9:.2f} GB"
            ),
            flush=True,
        )
        save()
    for size in [] if args.save_sizes == "none" else [float(s) for s in args.save_sizes.split(",")]:
        row = run(studio_save, {"megapixels": size, "stem": str(Path(scratch) / f"save{size:g}")}, args.timeout)
        saves.append(row)
        print(f"save {size:g} MP " + (row.get("error") or f"{row['seconds']:.1f} s, {row['state']}"), flush=True)
        save()
    shutil.rmtree(scratch, ignore_errors=True)
    text = save()
    if edits:
        plot(edits, out / f"{args.name}.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
