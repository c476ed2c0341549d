"""The public callables that take arguments say what each one is (a numpydoc ``Parameters`` or,
for a value class, ``Attributes`` section), as scikit-image's do; every public callable has a
docstring. Internal functions say what and why in a line, not a copied Parameters block (issue 109:
numpydoc in full for the public API only; a round-7 check that nine in ten of every module's
public-named functions carry the section is gone with it)."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Where every public callable that takes arguments has its Parameters section.
DONE = [
    "varcolor",
    "varcolor.api",
    "varcolor.batch",
    "varcolor.cli",
    "varcolor.options",
    "varcolor.io",
    "varcolor.metrics",
    "varcolor.painting",
    "varcolor.methods",
    "varcolor.priors",
    "varcolor.sources",
    "varcolor.ui",
    "varcolor.app",
    "varcolor.bench",
    "varcolor.instances",
    "varcolor.video",
    "varcolor.color",
    "varcolor.cues",
    "varcolor.ir",
]
#: Public modules still being documented, and how many of their callables lack the section: the
#: number may only go down (lower it when you add sections).
LEFT: dict[str, int] = {}


def _takes_arguments(obj) -> bool:
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name not in ("self", "cls") for p in parameters)


def _documents_parameters(obj) -> bool:
    docs = [inspect.getdoc(obj) or ""]
    if inspect.isclass(obj):  # a class made by __new__ (a str's) documents its parameters there
        docs += [inspect.getdoc(obj.__init__) or "", inspect.getdoc(obj.__new__) or ""]
    return any(re.search(r"^(Parameters|Attributes)\n-{3,}", doc, re.MULTILINE) for doc in docs)


def undocumented(module_name: str) -> tuple[list[str], list[str]]:
    """The public callables of ``module_name`` (its ``__all__``) without a docstring, and those
    taking arguments without a Parameters section (exceptions aside: their argument is the message)."""
    module = importlib.import_module(module_name)
    bare, no_parameters = [], []
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if not callable(obj) or not getattr(obj, "__module__", "").startswith("varcolor"):
            continue
        if not inspect.getdoc(obj):
            bare.append(name)
        elif (
            not (inspect.isclass(obj) and issubclass(obj, BaseException))
            and _takes_arguments(obj)
            and not _documents_parameters(obj)
        ):
            no_parameters.append(name)
    return bare, no_parameters


@pytest.mark.parametrize("module", DONE)
def test_public_callables_document_their_parameters(module):
    assert undocumented(module) == ([], [])


@pytest.mark.parametrize("module", sorted(LEFT))
def test_the_callables_left_to_document_only_get_fewer(module):
    bare, no_parameters = undocumented(module)
    assert bare == []
    assert len(no_parameters) <= LEFT[module], no_parameters


def without_parameters(source: str) -> list[str]:
    """The public functions and methods (of public classes) in ``source`` that take arguments and
    whose docstring has no Parameters section (properties aside: they take none)."""
    found = []

    def visit(body, prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                visit(node.body, f"{node.name}.")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                arguments = node.args
                names = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
                names += [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
                prop = any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)
                doc = ast.get_docstring(node) or ""
                if set(names) - {"self", "cls"} and not prop and not re.search(r"^Parameters\n-{3,}", doc, re.M):
                    found.append(prefix + node.name)

    visit(ast.parse(source).body, "")
    return found


def test_the_source_check_sees_a_method_without_parameters_and_passes_a_property():
    source = '''
class A:
    def f(self, x):
        """No section."""

    @property
    def g(self):
        """A property."""

    def h(self, y):
        """With one.

        Parameters
        ----------
        y : int
            Why.
        """
'''
    assert without_parameters(source) == ["A.f"]


def test_the_check_sees_a_function_without_parameters(monkeypatch):
    import varcolor.painting

    def lonely(x):
        """No section."""

    monkeypatch.setattr(varcolor.painting, "__all__", ["lonely"])
    monkeypatch.setattr(varcolor.painting, "lonely", lonely, raising=False)
    lonely.__module__ = "varcolor.painting"
    assert undocumented("varcolor.painting") == ([], ["lonely"])
