"""The studio's live solve without a browser: a restorer's strokes on a 40 MP scan's live copy.

The studio solves a 40 MP scan's strokes on its live copy (1500×1000, :mod:`varcolor.ui.live`);
this drives :class:`varcolor.ui.live.LiveSolver` as the server does, with the strokes of
``studio_latency.py --restorer --stroke-length 120 --new-colours``: each about 660 full-resolution
pixels long (120 screen pixels at fit-to-window), 4 screen pixels wide, a new colour, at a random
place and angle (seed 0), the next one sent ``--pause`` seconds after a result. Each arm runs
``--strokes`` strokes in a fresh process, the arms taking turns ``--rounds`` times (the machine's
load drifts). Arms (``--arms``): ``kept`` (the default code: the correction's tiles keep their
factors for the next edit, :data:`varcolor.methods.levin_multiscale.TILE_FACTORS_BYTES`),
``factored`` (that set to 0: every tile factored again, as before it existed) and
``small-pooled`` (every multifrontal LU's subtrees on two threads, small ones too:
:data:`varcolor.solvers.multifrontal.TWO_THREADS_FROM` 0, as before it existed).

Printed and written (``live_strokes.json`` / ``.md``; ``--name``): per arm the median of the
strokes after the first (the first is a fresh solve), and its split as the page reports it (cues,
solve, colour, encode), the tile factorisations per edit, the process's peak memory, and the
machine's 1 MP mat-vec. Not the page's network or drawing: ``studio_latency.py`` measures those.

Run: ``nice python benchmarks/live_strokes.py`` (``--help`` for options). Reads
``../shared/data/kodak/kodim05.png`` (the studio benchmark's photo), else the bundled example.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from pathlib import Path

import timing_environment  # noqa: F401  (before NumPy)

# isort: split
import numpy as np

HERE = Path(__file__).resolve().parent

from reports import csr_matvec_ms, in_child, kernels_note, write_report  # noqa: E402
from shared_data import SHARED  # noqa: E402

ROOT = HERE.parent

FULL = (5164, 7746)  # a 40 MP scan, the studio benchmark's --restorer size
#: Each arm's settings (module attributes) against the default code (``kept``).
ARMS: dict[str, dict[str, int]] = {
    "kept": {},
    "factored": {"varcolor.methods.levin_multiscale.TILE_FACTORS_BYTES": 0},
    "small-pooled": {"varcolor.solvers.multifrontal.TWO_THREADS_FROM": 0},
}


def _source() -> Path:
    source = SHARED / "kodak" / "kodim05.png"
    return source if source.is_file() else ROOT / "examples" / "data" / "chelsea_original.png"


def strokes(count: int, work: tuple[int, int], seed: int = 0) -> list[dict]:
    """The restorer's strokes in full-resolution coordinates (the page's)."""
    rng = np.random.default_rng(seed)
    zoom = 0.18 * work[1] / 1500  # screen pixels per full-resolution pixel at fit-to-window
    out = []
    for _ in range(count):
        colour = [int(v) for v in rng.integers(40, 216, 3)]
        angle, length = rng.uniform(0, np.pi), 120 / zoom
        dx, dy = length * np.cos(angle), length * np.sin(angle)
        x0 = rng.uniform(50 + max(-dx, 0), FULL[1] - 50 - max(dx, 0))
        y0 = rng.uniform(50 + max(-dy, 0), FULL[0] - 50 - max(dy, 0))
        path = [[round(x0 + dx * t / 20, 2), round(y0 + dy * t / 20, 2)] for t in range(21)]
        out.append({"tool": "brush", "width": round(4 / zoom, 2), "rgb": colour, "path": path})
    return out


def run_arm(settings: dict[str, int], count: int, pause: float, queue) -> None:
    """One fresh process's session with ``settings`` (an arm's: ``module.NAME`` to its value)."""
    import importlib
    import threading

    import cv2

    import varcolor
    from varcolor.color import to_gray
    from varcolor.ui.document import Document
    from varcolor.ui.live import LiveSolver, warm_up_once, working_shape

    for name, value in settings.items():
        module, attribute = name.rsplit(".", 1)
        setattr(importlib.import_module(module), attribute, value)
    warm_up_once()
    work = working_shape(FULL, 1_500_000)
    gray = np.clip(cv2.resize(to_gray(varcolor.read_image(_source())), work[::-1], interpolation=cv2.INTER_AREA), 0, 1)
    live = LiveSolver(gray.astype(np.float64), FULL, warm=False)
    bell = threading.Event()
    live.listeners.append(bell.set)
    doc, rows = Document(), []
    for version, stroke in enumerate(strokes(count, work), start=1):
        doc = doc.with_stroke(stroke, FULL)
        bell.clear()
        start = time.perf_counter()
        live.submit(version, doc)
        while not (live.published.version == version and live.published.final):
            bell.wait(60)
            bell.clear()
        published = live.published
        if published.error:
            raise RuntimeError(published.error)
        engine = live._colorizer.engine if live._colorizer is not None else None
        rows.append(
            {
                "seconds": time.perf_counter() - start,
                **{key: float(value) for key, value in published.timing.items()},
                "update": published.info.get("update"),
                "cue_count": published.info.get("cues"),
                "held_factor_bytes": getattr(getattr(engine, "_tile_factors", None), "nbytes", None),
            }
        )
        time.sleep(pause)
    live.close(5)
    queue.put({"rows": rows, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})


def summary(sessions: list[dict]) -> dict:
    later = [row for session in sessions for row in session["rows"][1:]]  # the first: a fresh solve
    keys = ("seconds", "cues", "solve", "colour", "encode")
    return {
        "strokes": len(later),
        **{f"median_{key}": float(np.median([row.get(key, 0.0) for row in later])) for key in keys},
        "p90_seconds": float(np.percentile([row["seconds"] for row in later], 90)),
        "peak_rss_bytes": max(session["peak_rss_bytes"] for session in sessions),
        "held_factor_bytes": max(row["held_factor_bytes"] or 0 for row in later),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strokes", type=int, default=12, help="strokes a session (default 12)")
    parser.add_argument("--rounds", type=int, default=3, help="sessions per arm, taking turns (default 3)")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds after a result (default 0.2)")
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=["kept", "factored"])
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--name", default="live_strokes")
    args = parser.parse_args()
    matvec = csr_matvec_ms()
    load = os.getloadavg()[0]
    sessions: dict[str, list[dict]] = {arm: [] for arm in args.arms}
    for round_ in range(args.rounds):
        for arm in args.arms:
            result = in_child(run_arm, (ARMS[arm], args.strokes, args.pause), timeout=1200)
            if "error" in result:
                raise SystemExit(f"{arm}: {result['error']}")
            sessions[arm].append(result)
            print(f"round {round_ + 1} {arm}: median {np.median([r['seconds'] for r in result['rows'][1:]]):.3f} s")
    found = {arm: summary(runs) for arm, runs in sessions.items()}
    lines = [
        "# The studio's live solve at 40 MP, without a browser",
        "",
        f"`benchmarks/live_strokes.py`; {platform.machine()}, {os.cpu_count()} cores, a 1 MP CSR mat-vec "
        f"{matvec:.1f} ms, load average at the start {load:.1f}. A 7746×5164 scan's 1500×1000 live copy; "
        f"{args.strokes} strokes a session (about 660 full-resolution pixels, 4 screen pixels wide at "
        f"fit-to-window, each a new colour, {args.pause:g} s apart), {args.rounds} sessions an arm taking turns. "
        "Medians of the strokes after each session's first; the page adds its network and drawing.",
        "",
        "| arm | strokes | median stroke (p90) | cues | solve | colour | encode | tile factors held | peak memory |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for arm, row in found.items():
        lines.append(
            f"| {arm} | {row['strokes']} | {row['median_seconds'] * 1e3:.0f} ms ({row['p90_seconds'] * 1e3:.0f} ms) "
            f"| {row['median_cues'] * 1e3:.0f} ms | {row['median_solve'] * 1e3:.0f} ms "
            f"| {row['median_colour'] * 1e3:.0f} ms | {row['median_encode'] * 1e3:.0f} ms "
            f"| {row['held_factor_bytes'] / 1e6:.1f} MB | {row['peak_rss_bytes'] / 1e9:.2f} GB |"
        )
    warm, cold = kernels_note()
    if cold:
        lines += ["", cold]
    text = "\n".join(lines)
    print(text)
    meta = {
        "matvec_ms": matvec,
        "load_average": load,
        "strokes": args.strokes,
        "rounds": args.rounds,
        "kernels_warm": warm,
    }
    write_report(args.out, args.name, {"meta": meta, "arms": found, "sessions": sessions}, text)


if __name__ == "__main__":
    main()
