"""The spread prior against Levin alone, on the tuning part and on the test part separately (issue 42).

Reads results already measured (no image is processed again):

- ``prior_{kodak,mcmaster,val}.json`` (``quality.py``, 1–500 hints, the shipped α = 0.5 and fade
  1e-7): the first 12 photos of each set are left out — α and the fade were chosen on them in
  issue 31 —, the rest are test photos nobody tuned on;
- ``tune_automatic_prior_test.json`` (every 6th test photo, every 60th of the ImageNet sample
  300+, 1–50 hints; it includes 2 of the 12 photos above per set): the shipped setting and the
  tuning part's choice (α = 1, fade 1e-6);
- ``tune_automatic_prior.json``: the tuning part's sweep, for the same two settings.

The 0-hint column is left out: with no cues the spread prior's result is the network's automatic
colours, scored per mode by ``automatic.py``.

Writes ``prior_split.json`` and ``prior_split.md``. Run: ``python benchmarks/prior_tables.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from reports import write_report
from shared_data import label

RESULTS = Path(__file__).resolve().parent / "results"
CHOSEN_ON = 12  # issue 31 chose α and the fade on the first 12 photos of each of these sets
SETTINGS = {"0.5/1e-07": "α 0.5, fade 1e-7 (shipped)", "1.0/1e-06": "α 1, fade 1e-6 (tuning part's choice)"}


def quality_rows(name: str) -> tuple[str, dict[int, float], dict[int, float], int]:
    report = json.loads((RESULTS / f"{name}.json").read_text())
    images = list(dict.fromkeys(row["image"] for row in report["rows"]))[CHOSEN_ON:]
    rows = [r for r in report["rows"] if r["image"] in images and r["hints"] > 0]
    hints = sorted({r["hints"] for r in rows})

    def mean(method: str) -> dict[int, float]:
        return {n: float(np.mean([r["psnr"] for r in rows if (r["method"], r["hints"]) == (method, n)])) for n in hints}

    return name, mean("levin"), mean("levin+ideepcolor"), len(images)


def sweep_rows(name: str) -> list[tuple[str, str, dict[int, float], dict[int, float], int]]:
    path = RESULTS / f"{name}.json"
    if not path.is_file():
        return []
    rows = json.loads(path.read_text())["rows"]
    out = []
    for subset in ["all", *dict.fromkeys(r["set"] for r in rows)]:
        chosen = [r for r in rows if subset == "all" or r["set"] == subset]
        hints = sorted({r["hints"] for r in chosen})
        levin = {n: float(np.mean([r["levin"] for r in chosen if r["hints"] == n])) for n in hints}
        count = len({r["image"] for r in chosen})
        for setting in SETTINGS:
            if setting in chosen[0]:
                spread = {n: float(np.mean([r[setting] for r in chosen if r["hints"] == n])) for n in hints}
                out.append((subset, setting, levin, spread, count))
    return out


def main() -> int:
    hints = [1, 2, 5, 10, 20, 50, 100, 200, 500]
    head = "| part | set | setting | " + " | ".join(map(str, hints)) + " |"
    lines = [head, "|---" * (len(hints) + 3) + "|"]
    report = {"chosen_on_left_out": CHOSEN_ON, "tables": []}

    def add(part, subset, setting, levin, spread, count):
        cells = [f"{spread[n] - levin[n]:+.2f}" if n in spread else "–" for n in hints]
        lines.append(f"| {part} | {subset} ({count}) | {setting} | " + " | ".join(cells) + " |")
        report["tables"].append(
            {"part": part, "set": subset, "setting": setting, "count": count, "levin": levin, "spread": spread}
        )

    for subset, setting, levin, spread, count in sweep_rows("tune_automatic_prior"):
        add("tuning", "all tuning" if subset == "all" else label(subset), SETTINGS[setting], levin, spread, count)
    for name, levin, spread, count in map(quality_rows, ("prior_kodak", "prior_mcmaster", "prior_val")):
        subset = {"prior_kodak": "Kodak", "prior_mcmaster": "McMaster", "prior_val": "BSDS500 val (first 50)"}[name]
        add("test", f"{subset} after the first {CHOSEN_ON}", SETTINGS["0.5/1e-07"], levin, spread, count)
    for subset, setting, levin, spread, count in sweep_rows("tune_automatic_prior_test"):
        add("test", "all (subsample)" if subset == "all" else label(subset), SETTINGS[setting], levin, spread, count)
    table = (
        "Spread prior + Levin minus Levin alone, PSNR (dB) at 256², ideepcolor hint protocol (seed 2017), "
        "by number of hints. Tuning rows: the tuning part (the network's training photos); test rows: "
        f"photos nobody tuned on (Kodak, McMaster, BSDS500 val without the first {CHOSEN_ON} of each, on "
        "which α and the fade were chosen in issue 31; the subsample rows from tune_automatic_prior_test).\n\n"
        + "\n".join(lines)
        + "\n"
    )
    write_report(RESULTS, "prior_split", report, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
