"""``make test`` as CI runs it: a clean clone of the commit checked out (no virtual environment, no
numba cache, no Python bytecode), its set-up installed first (not timed against the target), then
the target's own steps one at a time, each timed: lint and format (ruff), the types checked while
numba's kernels compile (mypy beside ``varcolor warm``), and the suite on every core (pytest-xdist).
The target (issue 72): the whole of ``make test`` after its set-up at most 6 minutes on a quiet
2-core machine; the suite's own line is the one pytest prints.

The steps are read from the Makefile's ``test`` recipe (``make -n test``), so that what is timed is
what ``make test`` runs. Chromium, when installed, runs the studio's browser tests, as in CI.

Writes ``benchmarks/results/make_test.json`` and ``.md``.

    python benchmarks/make_test.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reports import write_report

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 6 * 60


def _load() -> float:
    return os.getloadavg()[0]


def _steps(clone: Path) -> list[str]:
    """The ``test`` recipe's commands, as ``make -n`` prints them with the set-up already done."""
    printed = subprocess.run(["make", "-n", "test"], cwd=clone, capture_output=True, text=True, check=True).stdout
    return [line for line in printed.splitlines() if line.strip() and not line.startswith(("make", "#"))]


def _run(command: str, clone: Path, log: Path) -> tuple[float, int]:
    start = time.perf_counter()
    with open(log, "a") as out:
        out.write(f"$ {command}\n")
        out.flush()
        code = subprocess.run(command, shell=True, cwd=clone, stdout=out, stderr=subprocess.STDOUT).returncode
    return time.perf_counter() - start, code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    folder = Path(tempfile.mkdtemp(prefix="varcolor-make-test-"))
    clone = folder / "varcolor"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    log = folder / "make_test.log"
    print(f"clone {clone} ({commit.stdout.strip()}), log {log}", flush=True)
    loads = {"before": _load()}
    start = time.perf_counter()
    with open(log, "w") as out:
        setup_code = subprocess.run(
            ["make", ".venv/.installed-dev-layers-neural-ui"], cwd=clone, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    setup = time.perf_counter() - start
    if setup_code:
        print(f"the set-up failed (exit code {setup_code}): see {log}", file=sys.stderr)
        return 1
    rows = []
    loads["after set-up"] = _load()
    for command in _steps(clone):
        seconds, code = _run(command, clone, log)
        name = command.split()[0].rsplit("/", 1)[-1]
        name = "types beside the kernels' compile" if "mypy" in command else name
        name = "the suite" if "pytest" in command else name
        rows.append({"step": name, "command": command, "seconds": seconds, "exit_code": code})
        print(f"{name}: {seconds:.1f} s (exit code {code})", flush=True)
        if code:
            break
    loads["end"] = _load()
    text = log.read_text()
    summary = re.findall(r"^=*\s*(\d+ passed.*?in [\d.]+s.*?)\s*=*$", text, flags=re.M)
    total = sum(row["seconds"] for row in rows)
    met = all(row["exit_code"] == 0 for row in rows) and total <= TARGET_SECONDS
    report = {
        "commit": commit.stdout.strip(),
        "setup_seconds": setup,
        "steps": rows,
        "total_seconds": total,
        "target_seconds": TARGET_SECONDS,
        "met": met,
        "pytest_summary": summary[-1] if summary else None,
        "chromium": shutil.which("chromium") is not None,
        "load": loads,
        "cores": os.cpu_count(),
    }
    lines = [
        "# `make test` on a clean clone",
        "",
        f"`python benchmarks/make_test.py` on commit {report['commit']}; {os.cpu_count()} cores; load average "
        f"{loads['before']:.1f} before the set-up, {loads['after set-up']:.1f} after it, {loads['end']:.1f} at the "
        f"end; Chromium {'installed (the browser tests run)' if report['chromium'] else 'missing (they skip)'}. "
        f"The set-up (a virtual environment, pip installing the extras) took {setup:.0f} s and is not counted.",
        "",
        "| step | seconds | exit code |",
        "|---|---|---|",
        *(f"| {row['step']} | {row['seconds']:.1f} | {row['exit_code']} |" for row in rows),
        f"| **`make test`, after its set-up** | **{total:.1f}** ({total / 60:.0f}:{total % 60:02.0f}) | |",
        "",
        f"Target: at most {TARGET_SECONDS} s: {'met' if met else 'not met'}. pytest: {report['pytest_summary']}.",
    ]
    write_report(args.out, "make_test", report, "\n".join(lines))
    print("\n".join(lines))
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
