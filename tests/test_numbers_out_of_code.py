"""Numbers out of the code (issue 95): a comment or docstring of varcolor says why in a line and
points at the result that shows it (benchmarks/results/), instead of quoting timings, "measured"
or the day of a run; the Makefile's comments quote none."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: A line that quotes a timing, a memory figure or a speed ratio, says "measured" or dates a run
#: (the samples below show each); read on comment and docstring lines only, wherever on the line
#: (a docstring line may start with ``:func:``).
QUOTED = re.compile(
    r"[0-9]+(\.[0-9]+)? ?(s|ms|µs|seconds|minutes|[KMGT]i?B|kB)\b|[0-9]\.[0-9]+ ?×(?! ?[0-9])"
    r"|times (faster|slower)|\bmeasured\b|20[0-9]{2}-[0-9]{2}-[0-9]{2}"
)
#: The most such lines the package may hold (pointers such as ``solvers_measured.md`` count too).
LIMIT = 5
#: Modules another change was editing when this check came in, counted apart until their comments
#: are reworded: their lines may only go down (lower the number as they do; drop the entry at 0).
PENDING: dict[str, int] = {}


def prose_lines(text: str) -> set[int]:
    """The numbers of the lines of ``text`` (Python) that are comments or docstring text: the
    comments, and every string that stands alone as a statement (a module's, class's or
    function's docstring, or a constant's), not a string the program uses."""
    lines = {
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type == tokenize.COMMENT
    }
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def quoted(text: str) -> list[str]:
    """The comment and docstring lines of ``text`` that quote timings, "measured" or dates."""
    if not QUOTED.search(text):  # (most modules: no line to place, nothing to tokenize)
        return []
    prose = prose_lines(text)
    return [line for n, line in enumerate(text.splitlines(), 1) if n in prose and QUOTED.search(line)]


def package_counts(root: Path = ROOT) -> dict[str, list[str]]:
    """Each module of the package that quotes any, with its lines."""
    found = {}
    for path in sorted((root / "varcolor").rglob("*.py")):
        lines = quoted(path.read_text(encoding="utf-8"))
        if lines:
            found[path.relative_to(root).as_posix()] = lines
    return found


def test_few_comments_or_docstrings_of_the_package_quote_timings_or_dates():
    found = package_counts()
    rest = [f"{path}: {line.strip()}" for path, lines in found.items() if path not in PENDING for line in lines]
    assert len(rest) <= LIMIT, "\n".join(rest)
    grown = {path: len(found.get(path, [])) for path, most in PENDING.items() if len(found.get(path, [])) > most}
    assert grown == {}, "say why in a line and point at benchmarks/results/ instead of quoting the figures"


def test_the_makefile_comments_quote_no_timings_or_dates():
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if line.lstrip().startswith("#") and QUOTED.search(line)] == []


def test_the_check_reads_comments_and_docstrings_not_the_program_s_strings():
    sample = '''"""A module whose read took 0.3 s."""


def f(seconds):
    """What f does.

    Why: the other way took 12 ms a stroke.
    """
    # measured on 2026-11-26
    return f"took {seconds:.1f} s"  # a message: 5 s
'''
    assert quoted('"""Why.\n\n:func:`f` held a 40 MP scan in 0.64 GB; 1.9× as fast.\n"""\n') == [
        ":func:`f` held a 40 MP scan in 0.64 GB; 1.9× as fast."
    ]
    assert quoted("# a 5000×4000 scan, 2× larger\n") == []  # sizes and scale factors are no figures
    assert quoted(sample) == [
        '"""A module whose read took 0.3 s."""',
        "    Why: the other way took 12 ms a stroke.",
        "    # measured on 2026-11-26",
        '    return f"took {seconds:.1f} s"  # a message: 5 s',
    ]
    assert quoted('def g():\n    return "took 2 s"\n') == []  # a program's output is not prose
