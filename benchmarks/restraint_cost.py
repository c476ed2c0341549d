"""What restraint costs (issue 93): the default engine restrained (``restraint="on"``) against
unrestrained (``"off"``, the engine before it), in turns, each measurement in a fresh process.

- **Edits**: a grainy scan (kodim05 upscaled, film grain) with 80 strokes copied from the photo,
  colorized once through :class:`varcolor.Colorizer`, then 10 strokes added one at a time
  (``Colorizer.update``, as the studio's live solve and Krita's Live do): the median and the
  slowest edit, with the kernels compiled (``varcolor warm`` ran: a studio's state).
- **Command**: ``varcolor colorize --marked`` on the same scan written as files, as a user runs it.

Rounds alternate the two so that the machine's load falls on both alike; the table gives each
round's ratio and their median. Writes ``restraint_cost.json`` and ``.md`` (``--name``).
Run: ``python benchmarks/restraint_cost.py --edits-megapixels 12 --command-megapixels 40 --rounds 3``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from engine import make_scan, run
from reports import write_report

HERE = Path(__file__).resolve().parent
EDITS = 10


def _scan(task: dict, queue) -> None:
    queue.put(make_scan(task["megapixels"], task["stem"], kind="photo"))


def _edits(task: dict, queue) -> None:
    """The first solve and :data:`EDITS` strokes added, restrained or not."""
    import varcolor

    gray = varcolor.read_image(f"{task['stem']}.png")
    cues = varcolor.Cues.from_marked(gray, varcolor.read_image(f"{task['stem']}_marked.png", np.float32))
    colorizer = varcolor.Colorizer(gray, restraint=task["restraint"])
    start = time.perf_counter()
    colorizer.solve(cues)
    first = time.perf_counter() - start
    rng = np.random.default_rng(7)
    height, width = gray.shape
    seconds = []
    for _ in range(EDITS):
        y, x = int(rng.integers(50, height - 60)), int(rng.integers(50, width - 450))
        mask = np.zeros(gray.shape, bool)
        mask[y : y + 8, x : x + 400] = True
        ab = np.zeros(gray.shape + (2,), np.float32)
        ab[mask] = rng.uniform(-40, 40, 2)
        start = time.perf_counter()
        colorizer.update(varcolor.Cues(mask, ab))
        seconds.append(time.perf_counter() - start)
    queue.put({"first_seconds": first, "edits": seconds})


def _command(stem: str, restraint: str, timeout: float) -> dict:
    out = f"{stem}_{restraint}.png"
    command = [sys.executable, "-m", "varcolor.cli", "colorize", f"{stem}.png", "--marked", f"{stem}_marked.png"]
    command += ["-o", out, "--quiet", "--overwrite", "--restraint", restraint]
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, timeout=timeout)
    peak = next((int(line.split(":")[1]) * 1024 for line in done.stderr.splitlines() if "Maximum resident" in line), 0)
    return {"seconds": time.perf_counter() - start, "peak_bytes": peak, "returncode": done.returncode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits-megapixels", type=float, default=12)
    parser.add_argument("--command-megapixels", type=float, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--name", default="restraint_cost")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "varcolor.cli", "warm"], capture_output=True, timeout=args.timeout)
    report: dict = {"edits": [], "command": [], "load": []}
    with tempfile.TemporaryDirectory() as scratch:
        edits_stem, command_stem = str(Path(scratch) / "edits"), str(Path(scratch) / "command")
        run(_scan, {"megapixels": args.edits_megapixels, "stem": edits_stem}, args.timeout)
        if args.command_megapixels:
            run(_scan, {"megapixels": args.command_megapixels, "stem": command_stem}, args.timeout)
        for round_ in range(args.rounds):
            order = ("on", "off") if round_ % 2 == 0 else ("off", "on")
            for restraint in order:
                row = run(_edits, {"stem": edits_stem, "restraint": restraint}, args.timeout)
                report["edits"].append({"round": round_, "restraint": restraint, **row})
                print("edits", restraint, {k: v for k, v in row.items() if k != "edits"}, flush=True)
                if args.command_megapixels:
                    row = _command(command_stem, restraint, args.timeout)
                    report["command"].append({"round": round_, "restraint": restraint, **row})
                    print("command", restraint, row, flush=True)
            report["load"].append(os.getloadavg()[0])
    text = markdown(report, args)
    print(text)
    write_report(HERE / "results", args.name, report, text)


def markdown(report: dict, args) -> str:
    lines = [
        "# What restraint costs: the default engine restrained against unrestrained",
        "",
        f"Made by `python benchmarks/restraint_cost.py --edits-megapixels {args.edits_megapixels:g} "
        f"--command-megapixels {args.command_megapixels:g} --rounds {args.rounds}` (kodim05 upscaled with film "
        f"grain, 80 strokes copied from it; {EDITS} strokes added one at a time; rounds in turns; 1-minute load at "
        f"each round's end: {', '.join(f'{x:.1f}' for x in report['load'])}).",
        "",
        "| round | what | restrained s | unrestrained s | ratio |",
        "|---|---|---|---|---|",
    ]
    ratios: dict[str, list[float]] = {}
    for round_ in range(args.rounds):
        rows = {r["restraint"]: r for r in report["edits"] if r["round"] == round_ and "edits" in r}
        if len(rows) == 2:
            for what, value in (
                ("first solve", lambda r: r["first_seconds"]),
                ("median edit", lambda r: float(np.median(r["edits"]))),
                ("slowest edit", lambda r: float(np.max(r["edits"]))),
            ):
                on, off = value(rows["on"]), value(rows["off"])
                ratios.setdefault(what, []).append(on / off)
                lines.append(
                    f"| {round_} | {what} ({args.edits_megapixels:g} MP) | {on:.3f} | {off:.3f} | {on / off:.2f} |"
                )
        commands = {r["restraint"]: r for r in report["command"] if r["round"] == round_}
        if len(commands) == 2:
            on, off = commands["on"]["seconds"], commands["off"]["seconds"]
            ratios.setdefault("command", []).append(on / off)
            lines.append(
                f"| {round_} | `varcolor colorize` ({args.command_megapixels:g} MP) | {on:.1f} | {off:.1f} | "
                f"{on / off:.2f} |"
            )
    lines += ["", "Median ratios: " + ", ".join(f"{k} {np.median(v):.2f}" for k, v in ratios.items()) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
