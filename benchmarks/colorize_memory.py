"""Where ``varcolor colorize`` on a big scan holds its memory: the command run in a fresh process on
``engine.py``'s scan (Levin's example upscaled, its scribbles on it), its steps wrapped so that each
reports the process's resident size before it, its peak during it and after it (the kernel's peak,
``VmHWM``, reset at each step's start through ``/proc/self/clear_refs``; steps nest, so an outer
step's peak is its own after its inner steps ended).

    python benchmarks/colorize_memory.py --megapixels 40
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from engine import make_scan  # noqa: E402
from reports import in_child, write_report  # noqa: E402

#: (module, attribute) of each step measured, outermost first as they run.
STEPS = [
    ("varcolor.app.tasks", "read_checked"),
    ("varcolor.app.tasks", "load_cues"),
    ("varcolor.cues", "_unmix"),
    ("varcolor.app.solve", "colorize"),
    ("varcolor.api", "Colorizer"),
    ("varcolor.methods.levin_multiscale", "LevinMultiscale.solve"),
    ("varcolor.methods.levin_multiscale", "LevinMultiscale._lift"),
    ("varcolor.methods.levin_multiscale", "LevinMultiscale._correct"),
    ("varcolor.api", "Colorizer._finish"),
    ("varcolor.app.solve", "write_image"),
]


def _status(field: str) -> float:
    """A ``/proc/self/status`` size in GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024 / 1e9
    return float("nan")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _measured(stem: str, queue) -> None:
    import importlib

    from varcolor.cli import main

    rows = []

    def wrap(owner, name: str, label: str) -> None:
        function = getattr(owner, name)

        def step(*args, **kwargs):
            before = _status("VmRSS")
            _reset_peak()
            result = function(*args, **kwargs)
            rows.append({"step": label, "before": before, "peak": _status("VmHWM"), "after": _status("VmRSS")})
            _reset_peak()
            return result

        setattr(owner, name, step)

    for module, path in sorted(STEPS, key=lambda step: -step[1].count(".")):  # methods before their class
        owner = importlib.import_module(module)
        *outer, name = path.split(".")
        for part in outer:
            owner = getattr(owner, part)
        wrap(owner, name, path)
    start = time.perf_counter()
    code = main(["colorize", f"{stem}.png", "--marked", f"{stem}_marked.png", "-o", f"{stem}_out.png", "--quiet"])
    queue.put({"returncode": code, "seconds": time.perf_counter() - start, "steps": rows, "peak": _status("VmHWM")})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, default=40.0)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--name", default="colorize_memory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="varcolor-memory-") as scratch:
        stem = str(Path(scratch) / "scan")
        made = make_scan(args.megapixels, stem)
        load = os.getloadavg()[0]
        row = in_child(_measured, (stem,), 1800)
    row.update(made, megapixels=args.megapixels, load=[load, os.getloadavg()[0]])
    lines = [
        f"`varcolor colorize` on a {args.megapixels:g} MP scan ({made['cues']:,} cue pixels), resident size by step "
        f"(GB; load {row['load'][0]:.1f} → {row['load'][1]:.1f}); the last peak after the outer step's reset:",
        "",
        "| step | before | peak during | after |",
        "|---|---|---|---|",
        *(f"| `{s['step']}` | {s['before']:.2f} | {s['peak']:.2f} | {s['after']:.2f} |" for s in row.get("steps", [])),
    ]
    text = "\n".join(lines) + "\n"
    write_report(args.out, args.name, row, text)
    print(text if "steps" in row else row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
