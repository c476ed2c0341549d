"""The house's figures (issue 109): how much of ``varcolor/`` is prose, its longest functions, the
modules loose at its top level, comment lines quoting memory or time figures, results collected by
recording warnings, the device path's reach into the engine's private members, the command line's
reads of a clip's arguments, and ``duplicates``' pairs (where the tool is on the PATH).

Run: ``python benchmarks/house.py``; prints a table, writes ``results/house.md`` and ``.json``.
"""

from __future__ import annotations

import ast
import io
import re
import shutil
import subprocess
import tokenize
from pathlib import Path

from reports import write_report

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "varcolor"
RESULTS = Path(__file__).resolve().parent / "results"
#: A memory or time figure, or a speed ratio (as tests/test_numbers_out_of_code.py reads them).
FIGURE = re.compile(
    r"[0-9]+(\.[0-9]+)? ?(s|ms|µs|seconds|minutes|[KMGT]i?B|kB)\b|[0-9]\.[0-9]+ ?×(?! ?[0-9])|times (faster|slower)"
)


def prose_lines(text: str) -> set[int]:
    """The comment lines and the lines of strings standing alone as statements (docstrings)."""
    found = {t.start[0] for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.COMMENT}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.update(range(node.lineno, node.end_lineno + 1))
    return found


def figures() -> dict:
    lines = prose = 0
    long, quoted, recorded = [], 0, 0
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rows, said = text.splitlines(), prose_lines(text)
        lines, prose = lines + len(rows), prose + len(said)
        quoted += sum(1 for n, row in enumerate(rows, 1) if n in said and FIGURE.search(row))
        recorded += text.count("catch_warnings(record=True)")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                span = range(node.lineno, node.end_lineno + 1)
                code = [n for n in span if n not in said and rows[n - 1].strip() and rows[n - 1].strip()[0] != "#"]
                if len(code) > 100:
                    long.append(f"{path.relative_to(ROOT)}:{node.name}")
    device = ast.parse((PACKAGE / "methods" / "multiscale_device.py").read_text(encoding="utf-8"))
    private = sum(
        isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and (n.value.id, n.attr[:1]) == ("engine", "_")
        for n in ast.walk(device)
    )
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "version.py"))
    pairs = None
    if shutil.which("duplicates"):
        first = subprocess.run(["duplicates", "--seconds", "120"], cwd=PACKAGE, capture_output=True, text=True)
        match = re.match(r"(\d+) pairs", first.stdout)
        pairs = int(match.group(1)) if match else 0
    return {
        "lines": lines,
        "prose_share": round(prose / lines, 3),
        "functions_over_100_lines": long,
        "loose_modules": loose,
        "comment_lines_with_figures": quoted,
        "catch_warnings_record": recorded,
        "device_path_private_engine_members": private,
        "cli_video_args_reads": (PACKAGE / "cli" / "video.py").read_text(encoding="utf-8").count("args."),
        "duplicate_pairs": pairs,
    }


def markdown(found: dict) -> str:
    rows = [
        ("lines in varcolor/", found["lines"], ""),
        ("docstring and comment lines", f"{found['prose_share']:.1%}", "≤ 30 %"),
        ("functions over 100 code lines", len(found["functions_over_100_lines"]), "0"),
        ("modules loose at the top level", len(found["loose_modules"]), "≤ 10"),
        ("prose lines with a memory or time figure", found["comment_lines_with_figures"], "≤ 5"),
        ("catch_warnings(record=True)", found["catch_warnings_record"], "0"),
        ("the device path's private engine members", found["device_path_private_engine_members"], "0"),
        ("`args.` reads in cli/video.py", found["cli_video_args_reads"], "≤ 12"),
        ("duplicates' pairs", "n/a" if found["duplicate_pairs"] is None else found["duplicate_pairs"], "≤ 50"),
    ]
    table = ["| figure | now | issue 109's bound |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(
        ["# The house's figures", "", "`python benchmarks/house.py`.", "", *table, "",
         f"Loose modules: {', '.join(found['loose_modules'])}.", ""]
    )  # fmt: skip


if __name__ == "__main__":
    found = figures()
    text = markdown(found)
    write_report(RESULTS, "house", found, text)
    print(text)
