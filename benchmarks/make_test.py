"""``make test`` as CI runs it: a clean clone of the commit checked out (no virtual environment, no
numba cache, no Python bytecode), its set-up installed first (not timed against the target), then
the target's own steps one at a time, each timed: lint and format (ruff), and the suite on every
core (pytest-xdist) with the types checked beside it (mypy; before 2026-11-26 the types ran first,
beside ``varcolor warm``).
The target (issue 72): the whole of ``make test`` after its set-up at most 6 minutes on a quiet
2-core machine; the suite's own line is the one pytest prints.

``make test`` itself is run, each line of its recipe timed by the shell make starts it with (a
wrapper given as ``SHELL``), so that what is timed is what ``make test`` runs, its environment
included (the recipe's exported variables). Chromium, when installed, runs the studio's browser
tests, as in CI.

Writes ``benchmarks/results/make_test.json`` and ``.md`` (``--name`` changes the stem); ``--commit``
times another commit than ``HEAD`` (an A/B on the same day: the machine's speed varies from day to
day, and each report gives it as a 1 MP CSR mat-vec's milliseconds).

    python benchmarks/make_test.py [--keep] [--commit REV] [--name STEM]
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

from reports import csr_matvec_ms, write_report

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 6 * 60


def _load() -> float:
    return os.getloadavg()[0]


#: make's ``SHELL`` for each line of the recipe: runs it with /bin/sh, then records its start, end,
#: exit code and first 300 characters (tab-separated) in the file ``MAKE_TEST_STEPS`` names.
TIMED_SHELL = """#!/bin/sh
start=$(date +%s.%N)
/bin/sh "$@"
code=$?
line=$(printf '%s' "$2" | tr '\\n\\t' '  ' | cut -c1-300)
printf '%s\\t%s\\t%s\\t%s\\n' "$start" "$(date +%s.%N)" "$code" "$line" >> "$MAKE_TEST_STEPS"
exit $code
"""


def _step_name(command: str) -> str:
    if "mypy" in command and "pytest" in command:
        return "the suite beside the types"
    if "mypy" in command:
        return "types beside the kernels' compile"
    if "pytest" in command:
        return "the suite"
    return command.split()[0].rsplit("/", 1)[-1]


def _timed_make(clone: Path, log: Path, folder: Path) -> tuple[list[dict], float, int]:
    """``make test`` in ``clone``, its output into ``log``: each recipe line's step, seconds and
    exit code, the whole run's seconds, and make's exit code."""
    shell, steps = folder / "timed-sh", folder / "steps.tsv"
    shell.write_text(TIMED_SHELL)
    shell.chmod(0o755)
    start = time.perf_counter()
    with open(log, "a") as out:
        code = subprocess.run(
            ["make", "test", f"SHELL={shell}"],
            cwd=clone,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MAKE_TEST_STEPS": str(steps)},
        ).returncode
    seconds = time.perf_counter() - start
    rows = []
    for line in steps.read_text().splitlines() if steps.exists() else []:
        began, ended, exit_code, command = line.split("\t", 3)
        rows.append(
            {
                "step": _step_name(command),
                "command": command,
                "seconds": float(ended) - float(began),
                "exit_code": int(exit_code),
            }
        )
    return rows, seconds, code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--commit", default="HEAD", help="the commit to clone (default: %(default)s)")
    parser.add_argument("--name", default="make_test", help="the results' stem (default: %(default)s)")
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", args.commit], cwd=ROOT, capture_output=True, text=True)
    folder = Path(tempfile.mkdtemp(prefix="varcolor-make-test-"))
    clone = folder / "varcolor"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", commit.stdout.strip()], cwd=clone, check=True)
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
    loads["after set-up"] = _load()
    speed = {"before": csr_matvec_ms()}
    rows, total, code = _timed_make(clone, log, folder)
    speed["after"] = csr_matvec_ms()
    for row in rows:
        print(f"{row['step']}: {row['seconds']:.1f} s (exit code {row['exit_code']})", flush=True)
    loads["end"] = _load()
    text = log.read_text()
    summary = re.findall(r"^=*\s*(\d+ passed.*?in [\d.]+s.*?)\s*=*$", text, flags=re.M)
    met = code == 0 and total <= TARGET_SECONDS
    report = {
        "commit": commit.stdout.strip(),
        "setup_seconds": setup,
        "steps": rows,
        "total_seconds": total,
        "make_exit_code": code,
        "target_seconds": TARGET_SECONDS,
        "met": met,
        "pytest_summary": summary[-1] if summary else None,
        "chromium": shutil.which("chromium") is not None,
        "load": loads,
        "cores": os.cpu_count(),
        "csr_matvec_ms": speed,
    }
    lines = [
        "# `make test` on a clean clone",
        "",
        f"`python benchmarks/make_test.py` on commit {report['commit']}; {os.cpu_count()} cores; load average "
        f"{loads['before']:.1f} before the set-up, {loads['after set-up']:.1f} after it, {loads['end']:.1f} at the "
        f"end; Chromium {'installed (the browser tests run)' if report['chromium'] else 'missing (they skip)'}. "
        f"The set-up (a virtual environment, pip installing the extras) took {setup:.0f} s and is not counted. "
        f"The machine's speed: a 1 MP CSR mat-vec {speed['before']:.1f} ms before, {speed['after']:.1f} ms after.",
        "",
        "| step | seconds | exit code |",
        "|---|---|---|",
        *(f"| {row['step']} | {row['seconds']:.1f} | {row['exit_code']} |" for row in rows),
        f"| **`make test`, after its set-up** (exit code {code}) | **{total:.1f}** "
        f"({int(total // 60)}:{int(total % 60):02d}) | |",
        "",
        f"Target: at most {TARGET_SECONDS} s: {'met' if met else 'not met'}. pytest: {report['pytest_summary']}.",
    ]
    write_report(args.out, args.name, report, "\n".join(lines))
    print("\n".join(lines))
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
