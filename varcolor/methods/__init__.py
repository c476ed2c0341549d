"""Colorization methods behind one protocol (:class:`Method`), and their registry.

Each method is a module here: ``levin`` (Levin et al.'s exact system), ``levin_symmetric`` (its
symmetric variant), ``bilaplacian_gtv`` (bilaplacian + graph total variation by ADMM) and
``ideepcolor`` (the network alone). A method declares what it supports and solves; the
:class:`~varcolor.Colorizer`, the command line and ``varcolor bench`` find it here by name, so a new
method is one module (or a plug-in package) and a :func:`register` call:

>>> import numpy as np, varcolor
>>> from varcolor.methods import Method, register, unregister
>>> @register
... class Flat(Method):
...     name, summary = "flat", "every pixel the mean of the cues"
...     def solve(self, problem, x0):
...         mean = problem.targets[problem.mask].mean(axis=0)
...         return np.broadcast_to(mean, problem.targets.shape).copy(), {"solver": "mean"}
>>> gray = np.full((8, 8), 0.5)
>>> cues = varcolor.Cues.from_points([{"y": 1, "x": 1, "a": 20, "b": 0}], gray.shape)
>>> float(varcolor.colorize(gray, cues, method="flat").ab[7, 7, 0])
20.0
>>> unregister("flat")

Other packages register theirs through the ``varcolor.methods`` entry-point group (each entry
point names a :class:`Method` subclass), loaded the first time a method is looked up.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

from ..errors import InputError
from .base import LinearMethod, Method, Problem
from .bilaplacian_gtv import BilaplacianGtv
from .ideepcolor import Ideepcolor
from .levin import Levin
from .levin_symmetric import LevinSymmetric

__all__ = [
    "Method",
    "LinearMethod",
    "Problem",
    "register",
    "unregister",
    "get",
    "names",
    "registered",
    "parameter_names",
    "owners",
]

_REGISTRY: dict[str, type[Method]] = {}
_PLUGINS_LOADED = False


def register(method: type[Method]) -> type[Method]:
    """Add ``method`` (a :class:`Method` subclass with a new ``name``) to the registry; returns it,
    so it can decorate the class."""
    if not (isinstance(method, type) and issubclass(method, Method)):
        raise TypeError(f"a method must be a varcolor.methods.Method subclass, not {method!r}")
    if not method.name or not method.summary:
        raise ValueError(f"{method.__name__} needs a name and a one-line summary")
    if method.name in _REGISTRY and _REGISTRY[method.name] is not method:
        raise ValueError(f"a method named {method.name!r} is registered already ({_REGISTRY[method.name].__name__})")
    _REGISTRY[method.name] = method
    return method


def unregister(name: str) -> None:
    """Remove the method ``name`` from the registry."""
    _REGISTRY.pop(name, None)


def _load_plugins() -> None:
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return
    _PLUGINS_LOADED = True
    for entry in entry_points(group="varcolor.methods"):
        # A broken or clashing plug-in is skipped with a warning: it must not take the built-in
        # methods (and every command) down with it.
        try:
            register(entry.load())
        except Exception as exc:  # whatever a third party's import raises
            warnings.warn(f"varcolor method plug-in {entry.name!r} not loaded: {exc}", stacklevel=3)


def registered() -> tuple[type[Method], ...]:
    """Every registered method, built-in ones first."""
    _load_plugins()
    return tuple(_REGISTRY.values())


def names() -> tuple[str, ...]:
    """The registered methods' names."""
    return tuple(method.name for method in registered())


def parameter_names() -> tuple[str, ...]:
    """The registered methods' own options, each name once (the flags the command line offers)."""
    return tuple(dict.fromkeys(name for method in registered() for name in method.parameter_names()))


def owners(*names: str) -> tuple[str, ...]:
    """The registered methods whose own options include every one of ``names``."""
    return tuple(method.name for method in registered() if set(names) <= set(method.parameter_names()))


def get(name: str) -> type[Method]:
    """The method registered as ``name``; an unknown name is an :class:`InputError` listing the known ones."""
    _load_plugins()
    if name not in _REGISTRY:
        raise InputError(f"unknown method {name!r}; available: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


#: The methods varcolor itself brings, in the order ``--help`` lists them.
BUILT_IN = (Levin, LevinSymmetric, BilaplacianGtv, Ideepcolor)
for _method in BUILT_IN:
    register(_method)
