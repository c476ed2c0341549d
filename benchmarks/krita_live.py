"""Live colour in Krita, without Krita: the seconds from a finished stroke to the colorized layer
through the Live worker (``varcolor krita serve``, run as the plug-in runs it), one new stroke at a
time, at a few photo sizes; with the machine's load.

Each size: a generated photo (scikit-image's coffee, upscaled, with film grain) as an 8-bit sRGB
Krita document; three strokes for the first solve, then new strokes one by one (a brush 8 px wide,
300 px long at 12 MP, scaled with the photo), each timed from writing ``strokes.raw`` to reading
the reply line (what the plug-in waits for; the result file written), with the worker's own share.

    python benchmarks/krita_live.py [--sizes 1155x866,4243x2828] [--strokes 8] [--out benchmarks/results]

``--never-warmed PAUSE``: a worker as a user's who never ran ``varcolor warm`` (an empty
``NUMBA_CACHE_DIR``, the background compile on), a stroke every PAUSE seconds, each stroke's row
with the seconds since the worker started (``krita_live_never_warmed``): the worker starts the
kernels' compile at once and takes the kernels once they are marked warm.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import skimage.data
from reports import kernels_note, write_report
from skimage.transform import resize

from varcolor.color import same_lightness_gray
from varcolor.krita.plugin.varcolor_krita import protocol

BGRA = ["Blue", "Green", "Red", "Alpha"]


def _raw(rgba: np.ndarray) -> bytes:
    """An 8-bit RGBA image as Krita's raw pixels (blue first)."""
    return np.round(rgba[..., [2, 1, 0, 3]] * 255).astype("<u1").tobytes()


def _photo(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    rgb = resize(skimage.data.coffee() / 255.0, shape, order=1, anti_aliasing=False)
    return np.clip(rgb + rng.normal(0, 0.02, rgb.shape[:2])[..., None], 0, 1)  # grain


def _stroke(strokes: np.ndarray, colour: np.ndarray, rng: np.random.Generator) -> None:
    """One straight brush stroke of the photo's colour at its start, painted into ``strokes``."""
    height, width = strokes.shape[:2]
    scale = np.sqrt(height * width / 12e6)
    length, half = max(int(300 * scale), 20), max(int(4 * scale), 1)
    y, x = rng.integers(half, height - half), rng.integers(0, width - length)
    strokes[y - half : y + half, x : x + length, :3] = colour[y, x]
    strokes[y - half : y + half, x : x + length, 3] = 1


def _filesystem(path: str) -> str:
    """The kind of filesystem ``path`` lies on (Linux's mount table; "?" elsewhere)."""
    try:
        mounts = [line.split()[1:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "?"
    real = os.path.realpath(path)
    found = max((m for m in mounts if real == m[0] or real.startswith(m[0].rstrip("/") + "/")), key=lambda m: len(m[0]))
    return found[1]


def measure(
    width: int,
    height: int,
    count: int,
    seed: int = 0,
    env: dict | None = None,
    pause: float = 0.0,
    parent: str | None = None,
) -> dict:
    """Time ``count`` strokes after a first solve; the exchange folder in ``parent`` (default:
    where the plug-in puts it, :func:`protocol.exchange_parent`)."""
    rng = np.random.default_rng(seed)
    colour = _photo((height, width), rng)
    gray = same_lightness_gray(colour)
    strokes = np.zeros((height, width, 4))
    for _ in range(3):
        _stroke(strokes, colour, rng)
    layout = protocol.layout("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc", BGRA)
    request = protocol.make_request(width, height, layout, layout, layout)
    parent = parent or protocol.exchange_parent(protocol.exchanged_bytes(request))
    with tempfile.TemporaryDirectory(prefix="varcolor-krita-live-", dir=parent) as folder:
        protocol.write_json(Path(folder) / protocol.REQUEST, request)
        (Path(folder) / protocol.PHOTO).write_bytes(_raw(np.dstack([gray, gray, gray, np.ones_like(gray)])))
        worker = subprocess.Popen(
            [sys.executable, "-m", "varcolor.cli", "krita", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        began = time.perf_counter()
        load = os.getloadavg()[0]
        rows = []
        try:
            for index in range(count + 1):
                if index:
                    time.sleep(pause)
                    _stroke(strokes, colour, rng)
                raw = _raw(strokes)  # what Krita hands the plug-in (Node.pixelData): not timed
                start = time.perf_counter()
                (Path(folder) / protocol.STROKES).write_bytes(raw)
                worker.stdin.write(json.dumps({"folder": folder}) + "\n")
                worker.stdin.flush()
                reply = json.loads(worker.stdout.readline())
                seconds = time.perf_counter() - start
                if not reply["ok"]:
                    raise RuntimeError(reply["error"])
                rows.append(
                    {
                        "seconds": round(seconds, 3),
                        "worker_seconds": reply["seconds"],
                        "update": reply["update"],
                        "since_start": round(time.perf_counter() - began, 1),
                    }
                )
        finally:
            worker.stdin.close()
            worker.wait(timeout=60)
    updates = rows[1:]
    return {
        "size": f"{width}x{height}",
        "megapixels": round(width * height / 1e6, 2),
        "first_seconds": rows[0]["seconds"],
        "median_stroke_seconds": float(np.median([row["seconds"] for row in updates])),
        "max_stroke_seconds": max(row["seconds"] for row in updates),
        "median_worker_seconds": float(np.median([row["worker_seconds"] for row in updates])),
        "updates": [row["update"] for row in updates],
        "strokes": rows,
        "load_before": round(load, 1),
        "load_after": round(os.getloadavg()[0], 1),
        "exchange_folder": parent,
        "exchange_filesystem": _filesystem(parent),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1155x866,4243x2828")
    parser.add_argument("--strokes", type=int, default=8, help="new strokes timed per size")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument(
        "--never-warmed", type=float, metavar="PAUSE", help="a never-warmed worker, a stroke every PAUSE s"
    )
    parser.add_argument(
        "--exchange-parents",
        default="",
        help="where the exchange folder goes, a comma-separated list measured in turn "
        "(default: where the plug-in puts it: in memory where there is room)",
    )
    args = parser.parse_args()
    if args.never_warmed is not None:
        never_warmed(args)
        return
    found = []
    for parent in args.exchange_parents.split(","):
        for size in args.sizes.split(","):
            width, height = map(int, size.split("x"))
            found.append(measure(width, height, args.strokes, parent=parent or None))
            print(json.dumps({k: v for k, v in found[-1].items() if k != "strokes"}), flush=True)
    lines = [
        "# Live colour in Krita: a finished stroke to the colorized layer",
        "",
        "`benchmarks/krita_live.py`, through the Live worker (`varcolor krita serve`) as the plug-in runs it, "
        "without Krita (Krita's own part — reading the strokes layer, placing the result — is not in these "
        "seconds). An 8-bit sRGB document: a generated photo (coffee, upscaled, with grain), three strokes "
        f"for the first solve, then {args.strokes} new strokes one at a time (8 px × 300 px at 12 MP, scaled "
        "with the photo); a stroke's seconds run from writing the strokes layer to reading the reply "
        "(the result file written). Default method `levin-multiscale`. The exchange folder where the plug-in "
        "puts it (in memory where there is room: `XDG_RUNTIME_DIR`, on Linux `/dev/shm`) unless the row says "
        "otherwise. x86_64, 2 cores, shared with other work: load is the 1-minute load average before and after.",
        "",
        "| document | MP | first solve (s) | stroke, median (s) | stroke, slowest (s) "
        "| of which the worker, median (s) | updates | exchange folder | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in found:
        kinds = ", ".join(f"{kind} ×{row['updates'].count(kind)}" for kind in sorted(set(row["updates"])))
        lines.append(
            f"| {row['size']} | {row['megapixels']} | {row['first_seconds']:.2f} | {row['median_stroke_seconds']:.2f} "
            f"| {row['max_stroke_seconds']:.2f} | {row['median_worker_seconds']:.2f} | {kinds} "
            f"| `{row['exchange_folder']}` ({row['exchange_filesystem']}) | {row['load_before']}–{row['load_after']} |"
        )
    warm, cold = kernels_note()
    if cold:
        lines += ["", cold]
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    write_report(args.out, "krita_live", {"sizes": found, "kernels_warm": warm}, markdown)


def never_warmed(args: argparse.Namespace) -> None:
    lines = [
        "# Live colour in Krita, never warmed: the strokes before and after the kernels arrive",
        "",
        "`benchmarks/krita_live.py --never-warmed`: the Live worker as a user's who never ran `varcolor warm` "
        "(an empty `NUMBA_CACHE_DIR`, the background compile on, as by default), the document and strokes "
        f"of `krita_live.md`, a stroke every {args.never_warmed:g} s; each stroke's seconds and when it "
        "came (seconds since the worker started). 2 cores; load is the 1-minute load average before and after.",
        "",
        "| document | stroke | since start (s) | seconds | update | load |",
        "|---|---|---|---|---|---|",
    ]
    found = []
    for size in args.sizes.split(","):
        width, height = map(int, size.split("x"))
        with tempfile.TemporaryDirectory(prefix="varcolor-empty-cache-") as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            for name in ("VARCOLOR_KERNELS", "VARCOLOR_BACKGROUND_WARM"):
                env.pop(name, None)
            row = measure(width, height, args.strokes, env=env, pause=args.never_warmed)
        found.append(row)
        load = f"{row['load_before']}–{row['load_after']}"
        for index, stroke in enumerate(row["strokes"]):
            kind = "first solve" if index == 0 else str(index)
            lines.append(
                f"| {row['size']} | {kind} | {stroke['since_start']} | {stroke['seconds']:.2f} "
                f"| {stroke['update']} | {load} |"
            )
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    write_report(args.out, "krita_live_never_warmed", {"sizes": found, "pause": args.never_warmed}, markdown)


if __name__ == "__main__":
    main()
