"""The benchmarks as a house: no import circle among their scripts (a script imported by another
imports nothing that imports it back), read from the source, imports inside functions included;
no script puts folders on ``sys.path``."""

from __future__ import annotations

import ast
import re
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


#: The list methods that put a folder on ``sys.path``.
GROWS = {"insert", "append", "extend", "__setitem__", "__iadd__"}
#: ``sys.path`` changed in a program held in a string (one run by ``python -c``).
PATCHED_IN_TEXT = re.compile(r"\bsys\.path\s*(\.\s*(insert|append|extend)\b|(\[[^\]]*\])?\s*\+?=(?!=))")


def path_patches(source: str) -> list[int]:
    """The lines of ``source`` that put folders on ``sys.path``: a call of its ``insert``,
    ``append`` or ``extend``, an assignment to it or to its items (``=``, ``+=``), under any name
    ``sys`` or its ``path`` is imported as, ``site.addsitedir``, and a program held in a string
    that does so (docstrings aside)."""
    tree = ast.parse(source)
    names = {"sys.path"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {f"{alias.asname}.path" for alias in node.names if alias.name == "sys" and alias.asname}
        elif isinstance(node, ast.ImportFrom) and node.module == "sys":
            names |= {alias.asname or alias.name for alias in node.names if alias.name == "path"}
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in GROWS and ast.unparse(node.func.value) in names:
                found.add(node.lineno)
            elif node.func.attr == "addsitedir":
                found.add(node.lineno)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for part in (sub for target in targets for sub in ast.walk(target)):
                if ast.unparse(part.value if isinstance(part, ast.Subscript) else part) in names:
                    found.add(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if PATCHED_IN_TEXT.search(node.value):
                found.add(node.lineno)
    return sorted(found)


def test_the_path_check_sees_each_way_of_patching_sys_path():
    assert path_patches("import sys\nsys.path.insert(0, '..')\n") == [2]
    assert path_patches("import sys\nfrom pathlib import Path\n\nsys.path.append(str(Path(__file__).parent))\n") == [4]
    assert path_patches("import sys as system\nsystem.path[:0] = ['..']\n") == [2]
    assert path_patches("from sys import path\npath += ['..']\n") == [2]
    assert path_patches("import sys\nsys.path = ['..'] + sys.path\n") == [2]
    assert path_patches("import site\nsite.addsitedir('..')\n") == [2]
    program = 'import subprocess, sys\ncode = f"import sys; sys.path.insert(0, {here!r}); import x"\n'
    assert path_patches(program) == [2]  # in a program run by `python -c`
    assert path_patches('"""Run it as a file: no sys.path.insert needed."""\nimport sys\nprint(sys.path[0])\n') == []
    assert path_patches("import sys\nfolders = list(sys.path)\nif sys.path == folders:\n    pass\n") == []


def test_the_path_check_fails_on_a_script_that_patches_sys_path(tmp_path):
    script = tmp_path / "patched.py"
    script.write_text("import sys\nfrom pathlib import Path\n\nsys.path.insert(0, str(Path(__file__).parent.parent))\n")
    assert path_patches(script.read_text(encoding="utf-8")) == [4]


def test_no_benchmark_patches_sys_path():
    """A benchmark imports ``varcolor`` as installed (editable, in a checkout) and its sibling
    scripts from its own folder, which Python puts first on ``sys.path`` for ``python
    benchmarks/x.py``; a child that must import another tree's varcolor gets it by ``PYTHONPATH``."""
    scripts = sorted(BENCHMARKS.rglob("*.py"))
    assert len(scripts) > 10
    found = [
        f"{path.relative_to(BENCHMARKS.parent)}:{line}"
        for path in scripts
        for line in path_patches(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_no_import_circle_among_the_tests_or_the_docs_hooks():
    """The rest of the repository's Python (the tests, importing each other's helpers, and the
    docs' hooks) holds no import circle either: relative imports resolved to their modules."""
    root = BENCHMARKS.parent
    files = sorted((root / "tests").rglob("*.py")) + sorted((root / "docs").rglob("*.py"))
    names = {path: ".".join(path.relative_to(root).with_suffix("").parts) for path in files}
    names = {path: name.removesuffix(".__init__") for path, name in names.items()}
    known = set(names.values())
    graph: dict[str, set[str]] = {}
    for path, name in names.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                found |= {target} | {f"{target}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = found & known - {name}
    assert len(graph) > 100  # the tests were read
    assert "tests.methods.test_multiscale_device" in graph["tests.test_painting"]  # and their imports

    assert circle(graph) is None
