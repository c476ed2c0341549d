"""Do two runs of ``benchmarks/quality.py`` agree? Per image, resolution, method and hint count,
the largest difference of each score, and whether every score printed in the tables (PSNR and
CIEDE2000 to 2 decimals, SSIM and VIF to 4) is the same digit for digit.

Used to check that a change of code structure changed no result: run ``quality.py`` before and
after (same images, ``--limit``, methods, seed) and compare, or compare a fresh run with a
committed table's JSON (its per-image rows are kept).

Run: ``python benchmarks/compare_quality.py BEFORE.json AFTER.json [--name refactor_check]``;
writes ``benchmarks/results/<name>.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
PRINTED = {"psnr": 2, "ssim": 4, "vif": 4, "ciede2000": 2}


def _rows(path: Path) -> dict[tuple, dict]:
    data = json.loads(path.read_text())
    return {(row["image"], str(row["resolution"]), row["method"], int(row["hints"])): row for row in data["rows"]}


def compare(before: Path, after: Path) -> dict:
    """Per (resolution, method): rows compared, largest absolute difference per score, and the
    rows whose printed digits differ."""
    old, new = _rows(before), _rows(after)
    shared = sorted(set(old) & set(new))
    groups: dict[str, dict] = {}
    for key in shared:
        group = groups.setdefault(f"{key[1]}/{key[2]}", {"rows": 0, "largest": {}, "printed_differ": 0})
        group["rows"] += 1
        differ = False
        for score, digits in PRINTED.items():
            a, b = old[key].get(score), new[key].get(score)
            if a is None or b is None or (isinstance(a, float) and math.isnan(a) and math.isnan(b)):
                continue
            group["largest"][score] = max(group["largest"].get(score, 0.0), abs(a - b))
            differ |= f"{a:.{digits}f}" != f"{b:.{digits}f}"
        group["printed_differ"] += differ
    return {
        "before": str(before),
        "after": str(after),
        "rows_compared": len(shared),
        "only_before": len(set(old) - set(new)),
        "only_after": len(set(new) - set(old)),
        "groups": groups,
    }


def markdown(result: dict) -> str:
    lines = [
        f"`{Path(result['before']).name}` against `{Path(result['after']).name}`: {result['rows_compared']} "
        f"rows (image × resolution × method × hints) compared.",
        "",
        "| resolution/method | rows | rows whose printed scores differ | largest |psnr| diff | ssim | vif | "
        "ciede2000 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, group in result["groups"].items():
        largest = [f"{group['largest'].get(score, float('nan')):.1e}" for score in PRINTED]
        lines.append(f"| {name} | {group['rows']} | {group['printed_differ']} | " + " | ".join(largest) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--name", default="compare_quality", help="result file stem")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    result = compare(args.before, args.after)
    table = markdown(result)
    print(table)
    (args.out / f"{args.name}.md").write_text(table)
    (args.out / f"{args.name}.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
