"""The benchmarks as a house: no import circle among their scripts (a script imported by another
imports nothing that imports it back), read from the source, imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def imports_of(path: Path, siblings: set[str]) -> set[str]:
    """The benchmark scripts ``path`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found & siblings - {path.stem}


def circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` (module → modules it imports), or None."""
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for other in sorted(graph[node]):
            if state.get(other) == 1:
                return trail[trail.index(other) :] + [other]
            if other not in state and (found := visit(other, trail + [other])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_the_circle_finder_sees_a_circle():
    assert circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert circle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_circle_among_the_benchmarks():
    scripts = sorted(BENCHMARKS.glob("*.py"))
    siblings = {path.stem for path in scripts}
    graph = {path.stem: imports_of(path, siblings) for path in scripts}
    assert len(graph) > 10 and any(graph.values())  # it reads the scripts and their imports
    assert circle(graph) is None
