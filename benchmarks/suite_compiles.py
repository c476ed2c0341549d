"""What ``make test`` spends compiling numba's kernels: the suite as ``make test`` runs it (two
workers, a test file to a worker), numba's cache empty as on a clean clone, every compile
recorded (``compile_events.py``, a pytest plug-in): the CPU-seconds in all, per kernel, per test
file that asked first, the kernels compiled by both workers, and when each worker ended.

Why: on a clean clone the suite compiles the kernels its tests ask for (``tests/conftest.py``:
the engine's tests run the kernels, the rest array code). This says how much that is and
whether any of it is paid twice; ``make_test.py`` times the whole target.

Writes ``benchmarks/results/suite_compiles.json`` and ``.md`` (``--name`` changes the stem).

    python benchmarks/suite_compiles.py [--name STEM] [--workers 2]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reports import csr_matvec_ms, write_report

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def run_suite(workers: int, folder: Path) -> tuple[float, int, str, list[str]]:
    """The suite with an empty numba cache and the plug-in: its seconds, exit code, last line and
    the lines naming failed tests."""
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(folder / "numba-cache"),
        "COMPILE_EVENTS_DIR": str(folder),
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "PYTHONDONTWRITEBYTECODE": "",
    }
    command = [sys.executable, "-m", "pytest", "-q", "-rf", "-n", str(workers), "--dist", "loadfile"]
    command += ["-p", "compile_events"]
    command += ["--doctest-modules", "varcolor", "tests"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    failed = [line for line in lines if line.startswith("FAILED")]
    return time.perf_counter() - start, done.returncode, lines[-1] if lines else done.stderr[-300:], failed


def summarise(folder: Path) -> dict:
    """The workers' records gathered: totals, per kernel, per test file, compiled twice."""
    # The workers' (gw0, gw1…); the controller's ("main") only where the suite ran in one process.
    workers = {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}
    if len(workers) > 1:
        workers.pop("main", None)
    per_kernel: collections.Counter[str] = collections.Counter()
    per_file: collections.Counter[str] = collections.Counter()
    compiled_by: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    twice = 0.0
    for name, record in workers.items():
        for compile in record["compiles"]:
            per_kernel[compile["kernel"]] += compile["seconds"]
            per_file[compile["test"].split("::")[0] or "(outside a test)"] += compile["seconds"]
            key = (compile["kernel"], compile["types"])
            if compiled_by[key]:
                twice += compile["seconds"]
            compiled_by[key].add(name)
    return {
        "workers": {
            name: {
                "compile_seconds": sum(c["seconds"] for c in record["compiles"]),
                "compiles": len(record["compiles"]),
                "session_seconds": record["seconds"],
                "last_file": max(record["files"].items(), key=lambda item: item[1][1])[0] if record["files"] else None,
            }
            for name, record in workers.items()
        },
        "compile_seconds": sum(per_kernel.values()),
        "paid_twice_seconds": twice,
        "per_kernel": dict(per_kernel.most_common()),
        "per_test_file": dict(per_file.most_common()),
    }


def markdown(report: dict) -> str:
    s = report["summary"]
    lines = [
        "# What `make test` spends compiling numba's kernels",
        "",
        f"`python benchmarks/suite_compiles.py` on commit {report['commit']}; {report['machine']}; a 1 MP CSR "
        f"mat-vec {report['matvec_ms']:.1f} ms. The suite on {report['workers']} workers (a test file to a "
        "worker), numba's cache empty (a clean clone's), every compile recorded (the outermost: a "
        "kernel's callees are compiled inside it).",
        "",
        f"The suite: {report['suite_seconds']:.1f} s ({report['pytest']}); compiling "
        f"**{s['compile_seconds']:.1f} CPU-s**, of which compiled by both workers (the same kernel and "
        f"types) {s['paid_twice_seconds']:.1f} s.",
        "",
        *(f"- {line}" for line in report["failed"]),
        "",
        "| worker | compiles | compiling (s) | session (s) | last file |",
        "|---|---|---|---|---|",
    ]
    for name, w in s["workers"].items():
        lines.append(
            f"| {name} | {w['compiles']} | {w['compile_seconds']:.1f} | {w['session_seconds']:.1f} | {w['last_file']} |"
        )
    lines += ["", "| kernel (with its callees) | seconds |", "|---|---|"]
    lines += [f"| `{k}` | {v:.1f} |" for k, v in list(s["per_kernel"].items())[:20]]
    lines += ["", "| test file that compiled | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in list(s["per_test_file"].items())[:15]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="suite_compiles", help="the results' stem (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    matvec = csr_matvec_ms()
    with tempfile.TemporaryDirectory(prefix="varcolor-compiles-") as tmp:
        seconds, code, last, failed = run_suite(args.workers, Path(tmp))
        summary = summarise(Path(tmp))
    report = {
        "commit": commit.stdout.strip(),
        "machine": f"{os.cpu_count()} cores",
        "matvec_ms": matvec,
        "workers": args.workers,
        "suite_seconds": seconds,
        "exit_code": code,
        "pytest": last,
        "failed": failed,
        "summary": summary,
    }
    text = markdown(report)
    print(text)
    write_report(args.out, args.name, report, text)
    sys.exit(code)


if __name__ == "__main__":
    main()
