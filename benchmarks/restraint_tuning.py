"""Restraint's constants on the tuning split (issue 93): leak against reach as each constant of
:mod:`varcolor.restraint` moves, with restorer strokes (:mod:`restorer_strokes`).

The restraint trades leak (chroma on neutral things no stroke lies on) against reach (|Δab| in
the stroked objects): a colour that goes further into its object goes further past it too. This
sweep asks whether some setting of the shipped model's constants lowers both: the default row,
each constant moved alone both ways, and the pairs that looked best, each scored on the same
photos and strokes (gain over gray, photos below gray, leak, reach, as ``restraint.py`` scores
them). The constants are set on the module before each run; nothing here is a test-split figure.

Photos: the tuning split's first ``--photos`` of ``bsds500/train`` and of
``imagenet-sample/train`` (:mod:`shared_data`), with strokes placed once. Writes
``restraint_tuning.json`` and ``.md`` (``--name``).

Run: ``python benchmarks/restraint_tuning.py [--photos 60]``.
"""

from __future__ import annotations

import argparse
import glob
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from reports import write_report
from restorer_strokes import Marked, place, scores
from shared_data import IMAGENET_TUNING, SHARED

HERE = Path(__file__).resolve().parent
#: The comparison row: the same strokes unrestrained (``restraint="off"``), the reach to keep.
UNRESTRAINED = "unrestrained (restraint off)"
#: The settings tried: label → constants of varcolor.restraint (the default row first).
SETTINGS: dict[str, dict[str, float]] = {
    UNRESTRAINED: {},
    "default": {},
    "DECAY 1.5": {"DECAY": 1.5},
    "DECAY 3": {"DECAY": 3.0},
    "EDGE 0.1": {"EDGE": 0.1},
    "EDGE 0.4": {"EDGE": 0.4},
    "LIKENESS 0.08": {"LIKENESS": 0.08},
    "LIKENESS 0.18": {"LIKENESS": 0.18},
    "FULL_SHARE 0.5": {"FULL_SHARE": 0.5},
    "FULL_SHARE 0.9": {"FULL_SHARE": 0.9},
    "EDGE 0.14, LIKENESS 0.08": {"EDGE": 0.14, "LIKENESS": 0.08},
    "EDGE 0.1, LIKENESS 0.08": {"EDGE": 0.1, "LIKENESS": 0.08},
    "EDGE 0.1, LIKENESS 0.06": {"EDGE": 0.1, "LIKENESS": 0.06},
    "FULL_SHARE 0.5, LIKENESS 0.08": {"FULL_SHARE": 0.5, "LIKENESS": 0.08},
    "EDGE 0.05, LIKENESS 0.04": {"EDGE": 0.05, "LIKENESS": 0.04},
}


def _cases(count: int) -> dict[str, list[Marked]]:
    import varcolor

    sets = {
        "bsds500/train": sorted(glob.glob(str(SHARED / "bsds500" / "train" / "*.jpg")))[:count],
        "imagenet 0-299": sorted(glob.glob(str(SHARED / "imagenet-sample" / "train" / "*")))[:IMAGENET_TUNING][:count],
    }
    out: dict[str, list[Marked]] = {}
    for label, files in sets.items():
        out[label] = []
        for path in files:
            truth = varcolor.read_image(path)
            if truth.ndim == 3:
                case = place(truth[..., :3])
                if case.objects:
                    out[label].append(case)
    return out


def _scored(task: tuple[Marked, dict[str, float], str]) -> dict[str, float]:
    import varcolor
    import varcolor.restraint

    case, constants, restraint = task
    for name, value in constants.items():
        setattr(varcolor.restraint, name, value)
    cues = varcolor.Cues.from_marked(case.gray, case.marked)
    result = varcolor.colorize(case.gray, cues, restraint=restraint)
    return scores(result.rgb, case)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=60, help="photos a set (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--name", default="restraint_tuning")
    args = parser.parse_args()
    start = time.perf_counter()
    import varcolor.restraint

    cases = _cases(args.photos)
    # every constant set on each run: a worker process keeps what the last row set
    shipped = {name: getattr(varcolor.restraint, name) for constants in SETTINGS.values() for name in constants}
    report: dict = {"photos": {label: len(each) for label, each in cases.items()}, "rows": {}}
    with ProcessPoolExecutor(args.workers) as pool:
        for label, constants in SETTINGS.items():
            for name, each in cases.items():
                restraint = "off" if label == UNRESTRAINED else "on"
                tasks = [(case, {**shipped, **constants}, restraint) for case in each]
                rows = list(pool.map(_scored, tasks))
                report["rows"][f"{name} | {label}"] = {
                    "gain": float(np.mean([r["gain"] for r in rows])),
                    "below_gray": int(sum(r["gain"] < 0 for r in rows)),
                    "leak": float(np.nanmean([r["leak"] for r in rows])),
                    "reach": float(np.nanmean([r["reach"] for r in rows])),
                }
                print(name, label, report["rows"][f"{name} | {label}"], flush=True)
    report["seconds"] = time.perf_counter() - start
    lines = [
        "# Restraint's constants on the tuning split: leak against reach",
        "",
        f"Made by `python benchmarks/restraint_tuning.py --photos {args.photos}`: restorer strokes on the tuning "
        "split's photos (" + ", ".join(f"{label}: {n}" for label, n in report["photos"].items()) + "); each row "
        "sets constants of `varcolor.restraint`, the rest as shipped.",
        "",
    ]
    for name in cases:
        lines += [f"## {name}", "", "| setting | gain dB | below gray | leak ab | reach ab |", "|---|---|---|---|---|"]
        for label in SETTINGS:
            row = report["rows"][f"{name} | {label}"]
            lines.append(
                f"| {label} | {row['gain']:+.2f} | {row['below_gray']} | {row['leak']:.2f} | {row['reach']:.2f} |"
            )
        lines.append("")
    write_report(HERE / "results", args.name, report, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
