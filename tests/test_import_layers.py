"""The layers of varcolor are true: no import cycle, and no import from a lower layer to a higher one.

The layer table is the one docs/layout.md draws (one place: the page and this check cannot
disagree). Every import counts, wherever it is written: at the top, inside a function, in a
module ``__getattr__``, ``importlib.import_module`` calls (a computed name counts as every
module of the package it could name), and the modules a package loads lazily through
``lazy_loader.attach`` (its ``submodules`` and ``submod_attrs``) or ``lazy_loader.attach_stub``
(the imports of its ``.pyi`` stub). Imports under ``if TYPE_CHECKING:`` never run: they may not
run upward either, and they count for cycles (a cycle of type hints is still two modules that
cannot be understood apart).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "varcolor"
LAYOUT = ROOT / "docs" / "layout.md"


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(sub) for statement in node.body for sub in ast.walk(statement))
    return skipped


def _lazy_loads(node: ast.Call, stub: Path | None) -> list[tuple[str | None, int]]:
    """The modules a ``lazy_loader.attach`` / ``attach_stub`` call loads, as ``(module, level)``
    relative to the package: ``attach``'s ``submodules`` and the keys of its ``submod_attrs``;
    ``attach_stub``'s, the ``from . import`` lines of the package's ``.pyi`` stub."""
    function = ast.unparse(node.func).split(".")[-1]
    found = []
    if function == "attach":
        for keyword in node.keywords:
            if keyword.arg == "submodules" and isinstance(keyword.value, (ast.List, ast.Tuple, ast.Set)):
                found += [(e.value, 1) for e in keyword.value.elts if isinstance(e, ast.Constant)]
            elif keyword.arg == "submod_attrs" and isinstance(keyword.value, ast.Dict):
                found += [(k.value, 1) for k in keyword.value.keys if isinstance(k, ast.Constant)]
    elif function == "attach_stub" and stub is not None and stub.is_file():
        for statement in ast.walk(ast.parse(stub.read_text(encoding="utf-8"))):
            if isinstance(statement, ast.ImportFrom):
                if statement.module:
                    found.append((statement.module, statement.level))
                else:
                    found += [(alias.name, statement.level) for alias in statement.names]
    return found


def imports_of(
    name: str,
    source: str,
    known: set[str],
    is_package: bool = False,
    *,
    type_checking: bool = True,
    stub: Path | None = None,
) -> set[str]:
    """The modules of ``known`` that the module ``name`` (its ``source``; ``stub``: its ``.pyi``)
    imports, anywhere in it (under ``if TYPE_CHECKING:`` too, unless ``type_checking`` is False)."""
    found = _imports(name, ast.parse(source), known, is_package, stub)
    return {module for module, typed in found if type_checking or not typed}


def _called(node: ast.Call) -> str:
    """The name a call calls (``attach`` of ``lazy.attach(...)``), without unparsing it."""
    function = node.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")


def _imports(name: str, tree: ast.AST, known: set[str], is_package: bool, stub: Path | None) -> set[tuple[str, bool]]:
    """:func:`imports_of`'s modules, each with whether it is imported only under ``if TYPE_CHECKING:``."""
    here = name.split(".") if is_package else name.split(".")[:-1]
    top = next(iter(known)).split(".")[0]
    typed_nodes = _type_checking_nodes(tree)

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    def absolute(module: str | None, level: int) -> str:
        if not level:
            return module or ""
        base = here[: len(here) - level + 1]
        return ".".join(base + ([module] if module else []))

    pairs: set[tuple[str | None, bool]] = set()
    for node in ast.walk(tree):
        found: set[str | None] = set()
        if isinstance(node, ast.Import):
            found.update(owner(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = absolute(node.module, node.level)
            for alias in node.names:  # ``from . import methods`` imports the module methods
                found.add(owner(f"{module}.{alias.name}") if f"{module}.{alias.name}" in known else owner(module))
        elif isinstance(node, ast.Call) and _called(node) in ("attach", "attach_stub"):
            found.update(owner(absolute(module, level)) for module, level in _lazy_loads(node, stub))
        elif isinstance(node, ast.Call) and _called(node) in ("import_module", "__import__"):
            target = node.args[0] if node.args else None
            package = next((k.value for k in node.keywords if k.arg == "package"), None)
            if package is None and len(node.args) > 1:
                package = node.args[1]
            base = name if is_package else name.rpartition(".")[0]
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                text = target.value
                level = len(text) - len(text.lstrip("."))
                found.add(owner(absolute(text.lstrip(".") or None, level) if level else text))
            else:  # a computed name: any module of the package it is relative to (or of the whole library)
                scope = base if package is not None else top
                found.update(module for module in known if module.startswith(scope + "."))
        pairs.update((module, id(node) in typed_nodes) for module in found)
    running = {module for module, typed in pairs if not typed}
    return {
        (module, module not in running)
        for module, _ in pairs
        if module is not None and module != name and module.split(".")[0] == top
    }


def import_graph(files: dict[str, Path]) -> nx.DiGraph:
    """Who imports whom; an edge made only by imports under ``if TYPE_CHECKING:`` has
    ``type_only`` set."""
    graph = nx.DiGraph()
    known = set(files)
    for name, path in files.items():
        graph.add_node(name)
        source, package, stub = path.read_text(), path.name == "__init__.py", path.with_suffix(".pyi")
        for target, typed in _imports(name, ast.parse(source), known, package, stub):
            graph.add_edge(name, target, type_only=typed)
    return graph


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Each import cycle (a strongly connected set of more than one module), sorted."""
    return sorted(sorted(group) for group in nx.strongly_connected_components(graph) if len(group) > 1)


def declared_layers(text: str, top: str = "varcolor") -> list[list[str]]:
    """The layer table of docs/layout.md: rows ``| n | `a`, `b.c`, ... | job |``, lowest first,
    as dotted module names under ``top``."""
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|\s*(\d+)\s*\|([^|]*)\|", section, flags=re.MULTILINE)
    ordered = sorted(rows, key=lambda row: int(row[0]))
    named = [re.findall(r"`([\w.]+)`", cells) for _, cells in ordered]
    return [[entry if entry == top else f"{top}.{entry}" for entry in entries] for entries in named]


def layer_of(module: str, layers: list[list[str]]) -> int | None:
    """The layer of a module: that of the longest entry naming it or a package holding it (the
    top package's entry names its ``__init__`` alone)."""
    best = None
    for level, entries in enumerate(layers):
        for dotted in entries:
            if module == dotted or ("." in dotted and module.startswith(dotted + ".")):
                if best is None or len(dotted) > len(best[1]):
                    best = (level, dotted)
    return None if best is None else best[0]


def upward(graph: nx.DiGraph, layers: list[list[str]]) -> list[str]:
    return sorted(
        f"{a} (layer {layer_of(a, layers)}) imports {b} (layer {layer_of(b, layers)})"
        for a, b in graph.edges
        if layer_of(a, layers) < layer_of(b, layers)
    )


@pytest.fixture(scope="module")
def graph():
    return import_graph(module_files())


@pytest.fixture(scope="module")
def layers():
    return declared_layers(LAYOUT.read_text(encoding="utf-8"))


def test_no_import_cycle(graph):
    assert cycles(graph) == []


def test_every_module_has_a_layer(graph, layers):
    assert [module for module in graph if layer_of(module, layers) is None] == []


def test_no_import_runs_upward(graph, layers):
    assert upward(graph, layers) == []


def test_the_check_finds_cycles_and_upward_imports_in_a_synthetic_package(tmp_path):
    package = tmp_path / "toy"
    (package / "sub").mkdir(parents=True)
    sources = {
        "__init__.py": "",
        "low.py": "def f():\n    from .high import g  # hidden in a function\n",
        "high.py": "from .low import f\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import mid\n",
        "mid.py": "from importlib import import_module\n\ndef __getattr__(name):\n"
        "    return import_module(f'.{name}', __name__)\n",
        "sub/__init__.py": "",
        "sub/leaf.py": "from .. import mid\n",
    }
    for name, text in sources.items():
        (package / name).write_text(text)
    graph = import_graph(module_files(package))
    # low and high import each other; mid's __getattr__ may load sub.leaf, which imports mid; high
    # names mid in a type hint, closing a loop high → mid → high
    assert cycles(graph) == [["toy.high", "toy.low", "toy.mid", "toy.sub.leaf"]]
    assert graph.edges["toy.high", "toy.mid"]["type_only"]  # TYPE_CHECKING only: counted, and marked
    assert graph.has_edge("toy.mid", "toy.high") and graph.has_edge("toy.mid", "toy.sub.leaf")  # computed name
    assert cycles(import_graph({k: v for k, v in module_files(package).items() if k != "toy.mid"})) == [
        ["toy.high", "toy.low"]
    ]
    assert cycles(import_graph({k: v for k, v in module_files(package).items() if k != "toy.low"})) == [
        ["toy.high", "toy.mid", "toy.sub.leaf"]
    ]
    text = "## Layers\n\n| layer | modules |\n|---|---|\n| 0 | `low` |\n| 1 | `mid`, `sub` |\n| 2 | `high` |\n"
    toy_layers = declared_layers(text, top="toy")
    assert layer_of("toy.sub.leaf", toy_layers) == 1
    assert upward(graph, toy_layers) == [
        "toy.low (layer 0) imports toy.high (layer 2)",
        "toy.mid (layer 1) imports toy.high (layer 2)",
    ]


def test_the_check_follows_lazy_loader_attach_and_its_stub(tmp_path):
    """A package that loads its modules lazily (``lazy_loader.attach``, or ``attach_stub`` reading
    a ``.pyi``) imports them: a module that imports the package back closes a cycle."""
    package = tmp_path / "lazy"
    (package / "stubbed").mkdir(parents=True)
    sources = {
        "__init__.py": "import lazy_loader\n__getattr__, __dir__, __all__ = lazy_loader.attach(\n"
        "    __name__, submodules=['one'], submod_attrs={'two': ['f']})\n",
        "one.py": "",
        "two.py": "from . import one\nimport lazy\n",
        "stubbed/__init__.py": "import lazy_loader\n"
        "__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)\n",
        "stubbed/__init__.pyi": "from .inner import g\nfrom . import other\n",
        "stubbed/inner.py": "from .. import stubbed\n",
        "stubbed/other.py": "",
    }
    for name, text in sources.items():
        (package / name).write_text(text)
    graph = import_graph(module_files(package))
    assert graph.has_edge("lazy", "lazy.one") and graph.has_edge("lazy", "lazy.two")
    assert graph.has_edge("lazy.stubbed", "lazy.stubbed.inner") and graph.has_edge("lazy.stubbed", "lazy.stubbed.other")
    assert cycles(graph) == [["lazy", "lazy.two"], ["lazy.stubbed", "lazy.stubbed.inner"]]


def string_programs(source: str) -> list[int]:
    """The lines of ``source`` that run Python on a program held in a string: a list or tuple
    holding ``sys.executable`` and then ``"-c"`` (a module is run by ``-m``: one that can be read,
    linted, typed and imported by its tests)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.List, ast.Tuple)):
            words = [ast.unparse(element) for element in node.elts]
            if "sys.executable" in words and "'-c'" in words[words.index("sys.executable") :]:
                found.append(node.lineno)
    return found


def test_no_python_program_is_run_from_a_string():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in module_files().values()
        for line in string_programs(path.read_text())
    ]
    assert found == []


def test_the_string_program_check_sees_one():
    assert string_programs('import sys, subprocess\nsubprocess.run([sys.executable, "-c", "print(1)"])\n') == [2]
    assert string_programs('import sys\nargv = (sys.executable, "-X", "utf8", "-c", code)\n') == [2]
    assert string_programs('import sys\nargv = [sys.executable, "-m", "varcolor.app.warm"]\n') == []
    assert string_programs('argv = ["sh", "-c", "wait"]\n') == []  # a shell's script: not a Python program


def room(module: str) -> str:
    """The room a module lives in, as the drawing of the house draws it: a top-level module is
    its own room, a subpackage with all its modules is one (``varcolor.solvers.admm`` ->
    ``varcolor.solvers``)."""
    return ".".join(module.split(".")[:2])


def rooms(graph: nx.DiGraph, top: str = "varcolor") -> nx.DiGraph:
    """``graph`` with each module replaced by its room (:func:`room`); the top package's
    ``__init__`` (its lazy public names, which name everything) left out."""
    drawn = nx.DiGraph()
    for a, b in graph.edges:
        if top not in (a, b) and room(a) != room(b):
            drawn.add_edge(room(a), room(b))
    return drawn


def test_no_two_rooms_import_each_other(graph):
    """No arrow climbs back up: between two subpackages, or a subpackage and a top-level module,
    imports go one way (``affinity`` took the stencil's layout from ``solvers`` while ``solvers``
    took the edge slices from ``affinity``; ``metrics`` loaded the LPIPS network of ``neural``
    while ``neural``'s training scored with ``metrics``)."""
    assert cycles(rooms(graph)) == []


def test_the_room_check_sees_two_packages_that_import_each_other(tmp_path):
    package = tmp_path / "toy"
    (package / "low").mkdir(parents=True)
    (package / "high").mkdir()
    sources = {
        "__init__.py": "from . import low, high\n",  # the top package names all: not an arrow
        "low/__init__.py": "",
        "low/a.py": "",
        "low/b.py": "from ..high import c\n",
        "high/__init__.py": "",
        "high/c.py": "from ..low import a\n",
        "alone.py": "from .low import a\n",
    }
    for name, text in sources.items():
        (package / name).write_text(text)
    graph = import_graph(module_files(package))
    assert cycles(graph) == []  # module by module: no cycle
    assert cycles(rooms(graph, "toy")) == [["toy.high", "toy.low"]]
    (package / "low" / "b.py").write_text("")
    assert cycles(rooms(import_graph(module_files(package)), "toy")) == []
