"""A new user's first runs: numba compiles varcolor's kernels the first time a kind of run needs
them. Measured as a user meets them, each run a fresh process, numba's cache an empty folder
(``NUMBA_CACHE_DIR``) as after installing:

- ``varcolor colorize`` of a photo with scribbles (the default engine), cold, then again;
- the Python API's first ``colorize`` after the command line has cached, and its second, in one
  process (the first call pays imports and cache loads);
- with a second empty cache: ``varcolor warm --runs cues``, then the first ``varcolor colorize``;
- which kernels the cold run compiled, and for how long (numba's ``numba:compile`` events);
- ``colorize`` in one process as it runs (array code up to ``ARRAY_CODE_PIXELS`` pixels), and with
  the kernels at every size (what the array code costs a warm run).

The photo is the bundled example scaled to ``--megapixels`` (its scribbles scaled with it).
- ``--never-warmed``: a user who never runs ``varcolor warm`` (issue 72's protocol): three runs
  in a fresh environment with an empty cache, a pause of 90 s after the first (a one-shot command
  leaves no compile behind it, so the later runs still run the array code), against a run after
  ``varcolor warm``.

Writes ``benchmarks/results/first_run.json`` and ``.md`` (``first_run_12mp`` for ``--megapixels 12``;
``first_run_never_warmed`` with ``--never-warmed``).

    python benchmarks/first_run.py [--megapixels 1] [--never-warmed]
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
from statistics import median

import numpy as np
from reports import write_report
from skimage.transform import resize

import varcolor
import varcolor.common.kernels

ROOT = Path(__file__).resolve().parent.parent

#: A child that runs the command line in-process and records numba's outermost compiles.
COLORIZE_RECORDING = """
import json, sys, time
from numba.core import event
compiles, depth, started = [], [0], [0.0]
class Recorder(event.Listener):
    def on_start(self, ev):
        depth[0] += 1
        if depth[0] == 1:
            started[0] = time.perf_counter()
    def on_end(self, ev):
        depth[0] -= 1
        if depth[0] == 0:
            f = ev.data["dispatcher"].py_func
            compiles.append([f.__module__ + "." + f.__name__, time.perf_counter() - started[0]])
event.register("numba:compile", Recorder())
from varcolor.cli import main
code = main(sys.argv[2:])
json.dump({"code": code, "compiles": compiles}, open(sys.argv[1], "w"))
"""

#: A child that colorizes three times through the Python API: the seconds of each, and the kernels
#: numba compiled (none where the command line cached them). ``tests/test_first_run.py`` runs it too.
API_THRICE = """
import json, sys, time
from numba.core import event
import varcolor
compiled = []
class Count(event.Listener):
    def on_start(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__name__)
    def on_end(self, ev):
        pass
event.register("numba:compile", Count())
gray, marked = varcolor.read_image(sys.argv[1]), varcolor.read_image(sys.argv[2])
cues = varcolor.Cues.from_marked(gray, marked)
seconds = []
for _ in range(3):
    start = time.perf_counter()
    varcolor.colorize(gray, cues)
    seconds.append(time.perf_counter() - start)
print(json.dumps({"seconds": seconds, "compiled": compiled}))
"""


#: A child that colorizes five times as before ``varcolor warm`` (array code for a small photo, and
#: for a larger one's small systems: its tiles), then five times with the kernels at every size (as
#: after it, and what it compiles): the seconds of each, in one process.
ARRAY_AGAINST_KERNELS = """
import json, os, sys, time
import varcolor
from varcolor.common.kernels import KERNELS_VARIABLE
gray, marked = varcolor.read_image(sys.argv[1]), varcolor.read_image(sys.argv[2])
cues = varcolor.Cues.from_marked(gray, marked)
def runs(choice):
    os.environ[KERNELS_VARIABLE] = choice
    varcolor.colorize(gray, cues)
    seconds = []
    for _ in range(5):
        start = time.perf_counter()
        varcolor.colorize(gray, cues)
        seconds.append(time.perf_counter() - start)
    return seconds
default = runs("array")
kernels = runs("numba")
print(json.dumps({"default": default, "kernels": kernels}))
"""


def photo(folder: Path, megapixels: float) -> tuple[Path, Path]:
    """The bundled gray example and its scribbles scaled to about ``megapixels`` (scribbles by
    nearest neighbour, so that they stay strokes on an unchanged gray)."""
    gray, marked = varcolor.data.chelsea(), varcolor.data.chelsea_marked()
    scale = np.sqrt(megapixels * 1e6 / gray.size)
    shape = (round(gray.shape[0] * scale), round(gray.shape[1] * scale))
    big = resize(gray, shape, order=1, anti_aliasing=False)
    strokes = np.abs(marked - gray[..., None]).max(axis=-1) > 0.02
    rows = np.arange(shape[0]) * gray.shape[0] // shape[0]
    columns = np.arange(shape[1]) * gray.shape[1] // shape[1]
    at = strokes[rows][:, columns]
    scribbled = np.repeat(big[..., None], 3, axis=-1)
    scribbled[at] = marked[rows][:, columns][at]
    paths = folder / "photo.png", folder / "photo_marked.png"
    varcolor.write_image(paths[0], big)
    varcolor.write_image(paths[1], scribbled)
    return paths


def timed(argv: list[str], cache: Path) -> tuple[float, str]:
    """Run ``argv`` with numba's cache in ``cache``: its wall-clock seconds and stderr."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed: {done.stderr}")
    return seconds, done.stderr


def api_run(gray: Path, marked: Path, cache: Path) -> str:
    """:data:`API_THRICE` on ``gray`` and its scribbles ``marked``, numba's cache in ``cache``: what it printed."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", API_THRICE, str(gray), str(marked)], env=env, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"the API run failed: {done.stderr}")
    return done.stdout


def load() -> float:
    return os.getloadavg()[0]


#: The never-warmed protocol's targets (issue 72): a first run at most this × a warm one, and the
#: third (after :data:`NEVER_WARMED_PAUSE` seconds between the first and the second) at most that.
FIRST_OVER_WARM, THIRD_OVER_WARM, NEVER_WARMED_PAUSE = 1.3, 1.2, 90.0


#: The kind of run (``varcolor warm --runs``) that compiles each method's kernels.
WARM_KIND_OF_METHOD = {"levin-multiscale": "cues", "levin": "levin", "levin-symmetric": "levin-symmetric"}


def never_warmed(args) -> None:
    """A user who never runs ``varcolor warm``: a fresh environment (no ``VARCOLOR_KERNELS``, no
    ``VARCOLOR_BACKGROUND_WARM``), numba's cache an empty folder; ``varcolor colorize`` three times,
    a pause of :data:`NEVER_WARMED_PAUSE` s after the first (nothing compiles behind a one-shot
    command), against the median of three runs after ``varcolor warm`` in a cache of their own."""
    from varcolor.common.kernels import BACKGROUND_WARM_VARIABLE, KERNELS_VARIABLE, WARM_MARK

    os.environ.pop(KERNELS_VARIABLE, None)
    os.environ.pop(BACKGROUND_WARM_VARIABLE, None)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        gray, marked = photo(scratch, args.megapixels)
        colorize = [sys.executable, "-m", "varcolor.cli", "colorize", str(gray), "--marked", str(marked)]
        colorize += ["-o", str(scratch / "out.png"), "--overwrite"]
        method = args.method or "levin-multiscale"
        colorize += ["--method", method]
        loads, cache, warmed = [load()], scratch / "cache", scratch / "warmed"
        runs, marked_before = [], []
        for index in range(3):
            marked_before.append((cache / WARM_MARK).is_file())
            runs.append(timed(colorize, cache)[0])
            if index == 0:
                time.sleep(args.pause)
        loads.append(load())
        timed([sys.executable, "-m", "varcolor.cli", "warm", "--runs", WARM_KIND_OF_METHOD[method]], warmed)
        warm = median(timed(colorize, warmed)[0] for _ in range(3))
        loads.append(load())
    first, third = runs[0] / warm, runs[2] / warm
    report = {
        "megapixels": args.megapixels,
        "method": method,
        "load": [round(value, 2) for value in loads],
        "pause_seconds": args.pause,
        "runs_seconds": runs,
        "warm_seconds": warm,
        "first_over_warm": first,
        "third_over_warm": third,
        "marked_warm_before_each_run": marked_before,
        "targets": {"first_over_warm": FIRST_OVER_WARM, "third_over_warm": THIRD_OVER_WARM},
    }

    def verdict(value: float, limit: float) -> str:
        return "met" if value <= limit else f"missed by {value - limit:.2f} ×"

    lines = [
        f"# Never warmed: {args.megapixels:g} MP, scribbles, `--method {method}`",
        "",
        "A fresh environment, numba's cache an empty folder, no `varcolor warm`: `varcolor colorize` three "
        f"times, {args.pause:g} s between the first and the second (a one-shot command leaves no compile "
        "behind it: the later runs run the array code too), against the median of three runs after "
        "`varcolor warm --runs "
        f"{WARM_KIND_OF_METHOD[method]}`. "
        f"Load average {', '.join(f'{value:.1f}' for value in loads)} (before, after the three, end) on "
        f"{os.cpu_count()} cores. `python benchmarks/first_run.py --never-warmed --megapixels {args.megapixels:g}"
        + (f" --method {method}`." if args.method else "`."),
        "",
        "| run | seconds | × warm run | target | |",
        "|---|---|---|---|---|",
        f"| first (empty cache) | {runs[0]:.2f} | {first:.2f} × | ≤ {FIRST_OVER_WARM:g} × | "
        f"{verdict(first, FIRST_OVER_WARM)} |",
        f"| second (after the pause) | {runs[1]:.2f} | {runs[1] / warm:.2f} × | | |",
        f"| third | {runs[2]:.2f} | {third:.2f} × | ≤ {THIRD_OVER_WARM:g} × | {verdict(third, THIRD_OVER_WARM)} |",
        f"| after `varcolor warm` (median of 3) | {warm:.2f} | 1 × | | |",
        "",
        "Kernels marked warm before each of the three runs: "
        + ", ".join("yes" if done else "no" for done in marked_before)
        + ".",
        "",
    ]
    markdown = "\n".join(lines)
    print(markdown)
    name = "first_run_never_warmed" if args.megapixels == 1 else f"first_run_never_warmed_{args.megapixels:g}mp"
    if args.method:
        name += f"_{args.method.replace('-', '_')}"
    write_report(args.out, name, report, markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=1.0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--never-warmed", action="store_true", help="issue 72's protocol: a user who never warms")
    parser.add_argument(
        "--pause", type=float, default=NEVER_WARMED_PAUSE, help="--never-warmed: seconds after the first run"
    )
    parser.add_argument(
        "--method",
        choices=sorted(WARM_KIND_OF_METHOD),
        help="--never-warmed: this method instead of the default engine, warmed by its own kind of run",
    )
    args = parser.parse_args()
    if args.never_warmed:
        never_warmed(args)
        return
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        gray, marked = photo(scratch, args.megapixels)
        pixels = int(np.prod(varcolor.read_image(gray).shape[:2]))
        colorize = ["colorize", str(gray), "--marked", str(marked), "-o", str(scratch / "out.png"), "--overwrite"]
        loads = [load()]
        cache, record = scratch / "cache", scratch / "compiles.json"
        cold, cold_err = timed([sys.executable, "-c", COLORIZE_RECORDING, str(record), *colorize], cache)
        compiles = json.loads(record.read_text())["compiles"]
        warms = [timed([sys.executable, "-c", COLORIZE_RECORDING, str(record), *colorize], cache) for _ in range(3)]
        warm, warm_err = sorted(warms)[1]  # the median of three
        recompiled = json.loads(record.read_text())["compiles"]
        api = json.loads(api_run(gray, marked, cache).splitlines()[-1])["seconds"]
        loads.append(load())
        second_cache = scratch / "cache2"
        warming, _ = timed([sys.executable, "-m", "varcolor.cli", "warm", "--runs", "cues"], second_cache)
        after_warm, after_err = timed([sys.executable, "-m", "varcolor.cli", *colorize], second_cache)
        env = dict(os.environ, NUMBA_CACHE_DIR=str(second_cache), PYTHONPATH=str(ROOT))
        both = subprocess.run(
            [sys.executable, "-c", ARRAY_AGAINST_KERNELS, str(gray), str(marked)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=True,
        )
        both = json.loads(both.stdout.splitlines()[-1])
        loads.append(load())
    said = [line for line in cold_err.splitlines() if "compiling numba kernels" in line]
    report = {
        "megapixels": args.megapixels,
        "shape": list(varcolor.data.chelsea().shape),
        "load": [round(value, 2) for value in loads],
        "cold_seconds": cold,
        "warm_seconds": warm,
        "cold_over_warm": cold / warm,
        "cold_notice": said,
        "warm_compiles": len(recompiled),
        "warm_run_noticed": "compiling numba kernels" in warm_err,
        "api_seconds": api,
        "api_first_over_later": api[0] - min(api[1:]),
        "warm_command_seconds": warming,
        "first_after_warm_seconds": after_warm,
        "first_after_warm_over_warm": after_warm / warm,
        "first_after_warm_noticed": "compiling numba kernels" in after_err,
        "compiles": compiles,
        "colorize_default_seconds": both["default"],
        "colorize_kernels_seconds": both["kernels"],
        "array_code": pixels <= varcolor.common.kernels.ARRAY_CODE_PIXELS,
    }
    rows = [
        ("`varcolor colorize`, empty cache (cold)", f"{cold:.1f} s", f"{cold / warm:.1f} ×"),
        ("`varcolor colorize` again (warm)", f"{warm:.1f} s", "1 ×"),
        ("`varcolor warm --runs cues`, empty cache", f"{warming:.1f} s", f"{warming / warm:.1f} ×"),
        ("then the first `varcolor colorize`", f"{after_warm:.1f} s", f"{after_warm / warm:.1f} ×"),
    ]
    total = sum(seconds for _, seconds in compiles)
    after_warm_did = "said it compiled" if report["first_after_warm_noticed"] else "compiled nothing"
    lines = [
        f"# A first run: {args.megapixels:g} MP, scribbles, the default engine",
        "",
        "Each run a fresh process; numba's cache an empty folder where it says so (as after installing). "
        f"Load average {', '.join(f'{value:.1f}' for value in loads)} (before, middle, end) on "
        f"{os.cpu_count()} cores. `python benchmarks/first_run.py --megapixels {args.megapixels:g}`.",
        "",
        "| run | seconds | × warm run |",
        "|---|---|---|",
        *[f"| {what} | {seconds} | {ratio} |" for what, seconds, ratio in rows],
        "",
        f"The cold run said: `{said[0] if said else '(nothing)'}`. The warm run compiled {len(recompiled)} kernels; "
        f"the first run after `varcolor warm` {after_warm_did}.",
        "",
        f"Python API in one process after the command line cached: first `colorize` {api[0]:.2f} s, then "
        f"{', '.join(f'{s:.2f}' for s in api[1:])} s: the first call costs {api[0] - min(api[1:]):.2f} s more "
        "(imports, and numba loading its cached kernels).",
        "",
        f"Until `varcolor warm` has compiled the kernels, a photo of this size runs "
        f"{'array code' if report['array_code'] else 'numba kernels, and array code for its small systems (its tiles)'}"
        f" (array code up to {varcolor.common.kernels.ARRAY_CODE_PIXELS:,} pixels); after it, the kernels. "
        "`colorize` in "
        f"one process, median of five: {median(both['default']):.2f} s before `varcolor warm`, "
        f"{median(both['kernels']):.2f} s after it.",
        "",
        f"## What the cold run compiled ({len(compiles)} kernels, {total:.1f} s)",
        "",
        "| kernel | seconds |",
        "|---|---|",
        *[f"| `{name}` | {seconds:.2f} |" for name, seconds in sorted(compiles, key=lambda c: -c[1])],
        "",
    ]
    markdown = "\n".join(lines)
    print(markdown)
    # 1 MP is the page the docs link; another size gets its own (first_run_12mp).
    name = "first_run" if args.megapixels == 1 else f"first_run_{args.megapixels:g}mp"
    write_report(args.out, name, report, markdown)


if __name__ == "__main__":
    main()
