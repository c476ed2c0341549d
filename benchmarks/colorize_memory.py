"""Where ``varcolor colorize`` on a big scan holds its memory: the command run in a fresh process on
one of ``engine.py``'s scans (``--scan``: ``levin``, Levin's example upscaled with its scribbles;
``sparse``, the grainy scan with 80 strokes), as an 8-bit PNG or a 16-bit TIFF (``--bits``), its
cues a marked copy or a stroke mask (``--cues``); its steps wrapped so that each reports the
process's resident size before it, its peak during it and after it (the kernel's peak, ``VmHWM``,
reset at each step's start through ``/proc/self/clear_refs``; steps nest, so an outer step's peak
is its own after its inner steps ended; a peak between two steps is a row of its own). The command
runs as a user runs it: NumPy's huge pages and BLAS threads as they come, not ``engine.py``'s timing
settings (huge pages made a 40 MP scan's cue colours 0.24 GB more resident before they were
:func:`varcolor.common.memory.sparse_zeros`). ``--floor`` adds the scan's floor (its 50 full-resolution
CSR mat-vecs, ``engine.py``'s, in a fresh process after the command) and a table of the command's
steps (read, gray, cues, set-up, solve, paint, write, the rest) against it.

    python benchmarks/colorize_memory.py --megapixels 40 --scan sparse --bits 16
    python benchmarks/colorize_memory.py --megapixels 12 --scan sparse --floor --name colorize_steps12
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from engine import RGB_STORES, SUFFIX, make_scan, scan_files  # noqa: E402
from reports import in_child, write_report  # noqa: E402

#: (module, attribute) of each step measured, outermost first as they run.
STEPS = [
    ("varcolor.app.tasks", "read_checked"),
    ("varcolor.app.tasks", "read_marked_photo"),
    ("varcolor.app.solve", "read_image"),
    ("varcolor.sources.base", "read_image"),
    ("varcolor.cues", "marked_cues"),
    ("varcolor.cues", "mask_cues"),
    ("varcolor.reading.marks", "_unmix"),
    ("varcolor.app.solve", "colorize"),
    ("varcolor.api", "Colorizer"),
    ("varcolor.methods.levin_multiscale", "LevinMultiscale.solve"),
    ("varcolor.methods.levin_multiscale", "LevinMultiscale._lift"),
    ("varcolor.methods.levin_multiscale", "LevinMultiscale._correct"),
    ("varcolor.painting", "Painter.targets"),
    ("varcolor.painting", "Painter.paint"),
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


def _measured(argv: list[str], queue) -> None:
    import importlib

    from varcolor.cli import main

    rows = []
    began = 0.0  # the command's start (perf_counter), set below
    last = ["start"]  # the step boundary of the last reset

    def gap(here: str) -> None:
        """The peak since the last reset, outside any step measured, as its own row (where it is
        above the resident size now: something between two steps held more)."""
        peak, now = _status("VmHWM"), _status("VmRSS")
        if peak > now + 0.01:
            rows.append({"step": f"(between {last[0]} and {here})", "before": now, "peak": peak, "after": now})
        last[0] = here

    def wrap(owner, name: str, label: str) -> None:
        function = getattr(owner, name)

        def step(*args, **kwargs):
            gap(f"{label} began")
            before = _status("VmRSS")
            _reset_peak()
            start = time.perf_counter()
            result = function(*args, **kwargs)
            end = time.perf_counter()
            peak, after = _status("VmHWM"), _status("VmRSS")
            rows.append(
                {"step": label, "before": before, "peak": peak, "after": after, "seconds": end - start}
                | {"start": start - began, "end": end - began}
            )
            last[0] = f"{label} ended"
            _reset_peak()
            return result

        setattr(owner, name, step)

    for module, path in sorted(STEPS, key=lambda step: -step[1].count(".")):  # methods before their class
        owner = importlib.import_module(module)
        *outer, name = path.split(".")
        for part in outer:
            owner = getattr(owner, part)
        wrap(owner, name, f"{module.rsplit('.', 1)[1]}.{path}")
    start = began = time.perf_counter()
    code = main(argv)
    gap("the end")
    peak = max(row["peak"] for row in rows) if rows else _status("VmHWM")
    queue.put({"returncode": code, "seconds": time.perf_counter() - start, "steps": rows, "peak": peak})


#: The command's steps (``--floor``'s table): each a group of the rows measured, by the time spent
#: in them and not in a row inside them; the command's time in no such row is the rest.
STEP_GROUPS = (
    ("read the files", ("solve.read_image", "base.read_image")),
    ("gray (levels to float, a nearly gray RGB's gray)", ("tasks.read_checked", "tasks.read_marked_photo")),
    ("cues (the marks read)", ("cues.marked_cues", "cues.mask_cues", "marks._unmix")),
    ("set-up (lightness, plan, targets)", ("api.Colorizer", "painting.Painter.targets")),
    (
        "solve",
        (
            "levin_multiscale.LevinMultiscale.solve",
            "levin_multiscale.LevinMultiscale._lift",
            "levin_multiscale.LevinMultiscale._correct",
        ),
    ),
    ("paint (Lab to the file's levels)", ("painting.Painter.paint", "api.Colorizer._finish")),
    ("write the file", ("solve.write_image",)),
)


def own_seconds(steps: list[dict]) -> dict[str, float]:
    """Each step's seconds outside the steps measured inside it (steps nest: by start and end)."""
    own = {}
    for step in steps:
        if "start" not in step:
            continue
        inside = [
            other
            for other in steps
            if other is not step
            and "start" in other
            and step["start"] <= other["start"]
            and other["end"] <= step["end"]
        ]
        direct = [
            other
            for other in inside
            if not any(
                outer is not other and outer["start"] <= other["start"] and other["end"] <= outer["end"]
                for outer in inside
            )
        ]
        own[step["step"]] = own.get(step["step"], 0.0) + step["seconds"] - sum(other["seconds"] for other in direct)
    return own


def step_table(row: dict) -> list[dict]:
    """:data:`STEP_GROUPS`' seconds in the command ``row``, and the rest, each against the floor
    (``row["unit_seconds"]``: 50 mat-vecs) where measured."""
    own = own_seconds(row.get("steps", []))
    table = [{"step": name, "seconds": sum(own.get(label, 0.0) for label in labels)} for name, labels in STEP_GROUPS]
    table.append(
        {
            "step": "the rest (arguments, checks, imports on the way)",
            "seconds": row["seconds"] - sum(t["seconds"] for t in table),
        }
    )
    table.append({"step": "the command (in its process, after start-up)", "seconds": row["seconds"]})
    if row.get("process_seconds"):
        table.append({"step": "the process (start-up, imports, the command)", "seconds": row["process_seconds"]})
    for entry in table:
        if row.get("unit_seconds"):
            entry["floors"] = entry["seconds"] / row["unit_seconds"]
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, default=40.0)
    parser.add_argument("--scan", choices=("levin", "sparse"), default="levin", help="engine.py's scan (make_scan)")
    parser.add_argument("--bits", type=int, choices=(8, 16), default=8, help="8: PNG files; 16: 16-bit TIFF files")
    parser.add_argument("--cues", choices=("marked", "mask"), default="marked", help="a marked copy or a stroke mask")
    parser.add_argument("--rgb", choices=RGB_STORES, default=None, help="the gray scan stored as RGB, so")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--name", default="colorize_memory")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also the scan's 50 full-resolution mat-vecs (engine.py's floor), each step against it",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="varcolor-memory-") as scratch:
        stem = str(Path(scratch) / "scan")
        made = make_scan(args.megapixels, stem, args.scan)
        argv = [
            "colorize",
            *scan_files(stem, args.bits, args.cues, args.rgb or False),
            "-o",
            f"{stem}_out.{SUFFIX[args.bits]}",
            "--quiet",
        ]
        load = os.getloadavg()[0]
        for name in ("NUMPY_MADVISE_HUGEPAGE", "OPENBLAS_NUM_THREADS"):  # engine's timing settings: as a user runs it
            os.environ.pop(name, None)
        start = time.perf_counter()
        row = in_child(_measured, (argv,), 1800)
        row["process_seconds"] = time.perf_counter() - start
        if args.floor and "steps" in row:
            from engine import _banded_unit

            row.update(in_child(_banded_unit, ({"stem": stem},), 1800))
    row.update(made, megapixels=args.megapixels, bits=args.bits, cues=args.cues, rgb=args.rgb)
    row.update(load=[load, os.getloadavg()[0]])
    peak = f"{row['peak']:.2f} GB" if "peak" in row else "none"
    lines = [
        f"`varcolor colorize` on a {args.megapixels:g} MP {args.scan} scan, "
        f"{args.bits}-bit {SUFFIX[args.bits].upper()}, "
        f"{args.cues} cues ({made['cues']:,} cue pixels)"
        + (f", stored as RGB ({args.rgb})" if args.rgb else "")
        + f": peak {peak}; resident size by step "
        f"(GB; load {row['load'][0]:.1f} → {row['load'][1]:.1f}); the last peak after the outer step's reset:",
        "",
        "| step | before | peak during | after | seconds |",
        "|---|---|---|---|---|",
        *(
            f"| `{s['step']}` | {s['before']:.2f} | {s['peak']:.2f} | {s['after']:.2f} | "
            + (f"{s['seconds']:.2f} |" if "seconds" in s else "|")
            for s in row.get("steps", [])
        ),
        "",
        f"The whole command: {row.get('seconds', float('nan')):.1f} s (steps nest: an outer step's seconds include "
        "its inner steps').",
    ]
    if "steps" in row:
        floor = row.get("unit_seconds")
        row["step_table"] = step_table(row)
        lines += [
            "",
            "Its steps, each the time in its rows above less the rows inside them"
            + (
                f", against the floor (the scan's 50 full-resolution CSR mat-vecs, {floor:.2f} s, in a fresh process "
                "after the command: engine.py's `_banded_unit`):"
                if floor
                else ":"
            ),
            "",
            "| step | seconds |" + (" × floor |" if floor else ""),
            "|---|---|" + ("---|" if floor else ""),
            *(
                f"| {t['step']} | {t['seconds']:.2f} |" + (f" {t['floors']:.2f} |" if floor else "")
                for t in row["step_table"]
            ),
        ]
    text = "\n".join(lines) + "\n"
    write_report(args.out, args.name, row, text)
    print(text if "steps" in row else row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
