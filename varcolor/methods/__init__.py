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
point names a :class:`Method` subclass), loaded the first time a method is looked up. A plug-in
cannot take varcolor down with it: one that fails to import, raises anything at import
(``SystemExit`` and ``KeyboardInterrupt`` included), clashes with a registered name, or whose
import takes longer than :data:`PLUGIN_TIMEOUT` seconds is skipped with a one-line warning (a hung
import cannot be stopped: it is left in a background thread, and the command goes on without it).
"""

from __future__ import annotations

import contextlib
import os
import threading
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
    "built_in_only",
    "PLUGIN_TIMEOUT",
    "METHODS",
]

_REGISTRY: dict[str, type[Method]] = {}
_PLUGINS_LOADED = False
_PLUGINS_OFF = False
#: Seconds a plug-in's import may take before it is skipped; ``$VARCOLOR_PLUGIN_TIMEOUT`` changes it.
PLUGIN_TIMEOUT = 10.0


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
    if _PLUGINS_LOADED or _PLUGINS_OFF:
        return
    _PLUGINS_LOADED = True
    for entry in entry_points(group="varcolor.methods"):
        # A broken, clashing or hanging plug-in is skipped with a warning: it must not take the
        # built-in methods (and every command) down with it.
        try:
            register(_load_bounded(entry))
        except Exception as exc:  # whatever a third party's import raises
            warnings.warn(f"varcolor method plug-in {entry.name!r} not loaded: {_one_line(exc)}", stacklevel=3)


def _load_bounded(entry):
    """``entry.load()`` in a daemon thread, waited for :data:`PLUGIN_TIMEOUT` seconds. An import
    cannot be interrupted, but the caller need not wait for it; what it raises, even
    ``SystemExit`` or ``KeyboardInterrupt``, comes back as a ``RuntimeError``."""
    try:
        limit = float(os.environ.get("VARCOLOR_PLUGIN_TIMEOUT", PLUGIN_TIMEOUT))
    except ValueError:
        limit = PLUGIN_TIMEOUT
    outcome: dict = {}

    def load() -> None:
        try:
            outcome["value"] = entry.load()
        except BaseException as exc:  # noqa: BLE001 -- a plug-in's sys.exit() must not end the command
            outcome["error"] = exc

    thread = threading.Thread(target=load, name=f"varcolor plug-in {entry.name}", daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        raise RuntimeError(f"its import did not finish within {limit:g} s (VARCOLOR_PLUGIN_TIMEOUT)")
    error = outcome.get("error")
    if isinstance(error, Exception):
        raise error
    if error is not None:
        raise RuntimeError(f"its import raised {type(error).__name__}({_one_line(error)})")
    return outcome["value"]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0][:200] if text else "") or type(exc).__name__


@contextlib.contextmanager
def built_in_only():
    """Within this block, looking methods up loads no plug-in (only the methods registered
    already are seen): ``varcolor --help`` and ``--version`` must work whatever a plug-in does."""
    global _PLUGINS_OFF
    previous, _PLUGINS_OFF = _PLUGINS_OFF, True
    try:
        yield
    finally:
        _PLUGINS_OFF = previous


def plugins_loaded() -> bool:
    """Whether the plug-ins have been loaded (or tried)."""
    return _PLUGINS_LOADED


def plugin_entry_names() -> tuple[str, ...]:
    """The names of the installed plug-ins' entry points (read from their metadata, not imported)."""
    return tuple(entry.name for entry in entry_points(group="varcolor.methods"))


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
#: The built-in methods' names (:func:`names` lists plug-ins too; no plug-in is loaded for this).
METHODS = tuple(method.name for method in BUILT_IN)
