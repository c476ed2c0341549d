"""Colorization methods behind one protocol (:class:`Method`), and their registry.

Each method is a module here: ``levin-multiscale`` (Levin et al.'s system solved coarse and
corrected fine: the default), ``levin`` (Levin et al.'s exact system), ``levin_symmetric`` (its
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
...         # A report names what ran: solver (None: no linear solver), iterations, residual (None:
...         # none computed); its own keys beside them, never the library's (method, cues, options…).
...         chroma = np.broadcast_to(mean, problem.targets.shape).copy()
...         return chroma, {"solver": None, "iterations": None, "residual": None, "flat_mean": mean.tolist()}
>>> gray = np.full((8, 8), 0.5)
>>> cues = varcolor.Cues.from_points([{"y": 1, "x": 1, "a": 20, "b": 0}], gray.shape)
>>> result = varcolor.colorize(gray, cues, method="flat")
>>> float(result.ab[7, 7, 0]), result.info["method"], result.info["flat_mean"]
(20.0, 'flat', [20.0, 0.0])
>>> unregister("flat")

A report without ``solver``, ``iterations`` or ``residual``, with one of the library's own keys, or
with values of the wrong types is a :class:`~varcolor.errors.MethodError` naming the plug-in
(:func:`varcolor.methods.base.checked_info`).

Other packages register theirs through the ``varcolor.methods`` entry-point group (each entry
point names a :class:`Method` subclass), loaded the first time a method is looked up. A plug-in
cannot take varcolor down with it: one that fails to import, raises anything at import
(``SystemExit`` and ``KeyboardInterrupt`` included), clashes with a registered name, or whose
import takes longer than :data:`PLUGIN_TIMEOUT` seconds is skipped with a one-line warning (a hung
import cannot be stopped: it is left in a background thread, and the command goes on without it).
The registry is :class:`varcolor.registry.Registry`, the one the detectors of
:mod:`varcolor.instances` use too.
"""

from __future__ import annotations

import dataclasses

from .. import priors
from ..errors import InputError
from ..options import Options
from ..registry import PLUGIN_TIMEOUT, Registry, built_in_only
from .base import LinearMethod, Method, Problem
from .bilaplacian_gtv import BilaplacianGtv
from .ideepcolor import Ideepcolor
from .levin import Levin
from .levin_multiscale import LevinMultiscale
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
    "REGISTRY",
    "PLUGIN_TIMEOUT",
    "METHODS",
    "split_prior",
    "with_prior",
    "build_options",
]

#: The methods, built-in and plug-in (:class:`varcolor.registry.Registry`).
REGISTRY: Registry[Method] = Registry("method", Method, "varcolor.methods", base_label="varcolor.methods.Method")
#: The registry's own: add a method (a decorator), remove one, one by name, every one, their names.
register, unregister, get = REGISTRY.register, REGISTRY.unregister, REGISTRY.get
registered, names = REGISTRY.registered, REGISTRY.names


def plugins_loaded() -> bool:
    """Whether the plug-ins have been loaded (or tried)."""
    return REGISTRY.plugins_loaded


def plugin_entry_names() -> tuple[str, ...]:
    """The names of the installed plug-ins' entry points (read from their metadata, not imported)."""
    return REGISTRY.entry_names()


def parameter_names() -> tuple[str, ...]:
    """The registered methods' own options, each name once (the flags the command line offers)."""
    return tuple(dict.fromkeys(name for method in registered() for name in method.parameter_names()))


def owners(*names: str) -> tuple[str, ...]:
    """The registered methods whose own options include every one of ``names``.

    Parameters
    ----------
    *names : str
        Names of methods' own options.
    """
    return tuple(method.name for method in registered() if set(names) <= set(method.parameter_names()))


def build_options(options: Options | None = None, /, **keywords) -> Options:
    """Options from keywords, checked by their method: the shared options by name, and the
    method's own parameters by theirs (None: not given, the default). With ``options``, those
    changed by the keywords. The method checks them (:meth:`Method.check_options`: its
    parameters filled in), and so does the prior it uses (:meth:`varcolor.priors.Prior.check_options`).

    A parameter of another method is refused (silently ignoring it would hide the mistake), and
    so is a name no method knows.

    Parameters
    ----------
    options : Options, optional
        The options to start from (default: :class:`~varcolor.options.Options`' defaults).
    **keywords
        Fields of :class:`~varcolor.options.Options` and the method's own parameters.

    Returns
    -------
    Options

    Examples
    --------
    >>> build_options(method="bilaplacian-gtv", sharpness=4.0).parameters.sharpness
    4.0
    >>> build_options(method="levin", lam=0.1)
    Traceback (most recent call last):
    varcolor.errors.InputError: lam: options of method bilaplacian-gtv; method 'levin' has none
    """
    if options is not None and not isinstance(options, Options):
        raise TypeError(
            f"options must be a varcolor.Options, not {type(options).__name__} {options!r}: give the others as "
            "keywords (method=..., solver=...)"
        )
    shared = {name: keywords.pop(name) for name in Options.names() if name in keywords}
    own = {name: value for name, value in keywords.items() if value is not None}
    method = shared.get("method", options.method if options is not None else Options.method)
    if "+" in str(method) and split_prior(method)[0] in names():
        name, prior = split_prior(method)
        raise InputError(f"unknown method {method!r}: give the prior apart, method={name!r}, prior={prior!r}")
    chosen = get(method)  # an unknown method: one line listing the known ones
    known = set(chosen.parameter_names())
    strangers = [name for name in own if name not in known]
    if strangers:
        holders = owners(*strangers)
        if holders:
            raise InputError(
                f"{', '.join(strangers)}: options of method {holders[0]}; method {method!r} "
                f"has {'none' if not known else 'only ' + ', '.join(sorted(known))}"
            )
        raise InputError(
            f"unknown option {strangers[0]!r} (options: {', '.join(Options.names())}"
            f"{'; method ' + method + ': ' + ', '.join(sorted(known)) if known else ''})"
        )
    parameters = shared.pop("parameters", None)
    if parameters is None and chosen.Parameters is not None:
        start = (
            options.parameters
            if options is not None and options.method == method and options.parameters is not None
            else chosen.Parameters()
        )
        parameters = dataclasses.replace(start, **own) if own else start
    if options is None:  # made once, not a default value first and then a changed copy
        options = Options(**shared, parameters=parameters)
    elif shared or parameters is not options.parameters:
        options = dataclasses.replace(options, **shared, parameters=parameters)
    options = chosen.check_options(options)
    prior = chosen.prior_for(options)
    if prior is not None:
        priors.get(prior).check_options(options)
    return options


def split_prior(name: str) -> tuple[str, str | None]:
    """A method as a list of methods writes it, ``METHOD`` or ``METHOD+PRIOR`` (that method with
    the network as its prior, :meth:`Method.prior_for`: the one spelling, in ``varcolor bench``
    and the studio's presets), as the method's name and the prior (None without one).

    Parameters
    ----------
    name : str
        ``METHOD`` or ``METHOD+PRIOR``.

    Examples
    --------
    >>> split_prior("levin+ideepcolor"), split_prior("bilaplacian-gtv")
    (('levin', 'ideepcolor'), ('bilaplacian-gtv', None))
    """
    method, plus, prior = name.partition("+")
    return method, (prior if plus else None)


def with_prior(method: str, prior: str) -> str:
    """The name of ``method`` with ``prior`` (:func:`split_prior`'s inverse): ``levin+ideepcolor``.

    Parameters
    ----------
    method, prior : str
        A method's and a prior's names.
    """
    return f"{method}+{prior}"


#: The methods varcolor itself brings, in the order ``--help`` lists them.
BUILT_IN = (LevinMultiscale, Levin, LevinSymmetric, BilaplacianGtv, Ideepcolor)
for _method in BUILT_IN:
    register(_method)
#: The built-in methods' names (:func:`names` lists plug-ins too; no plug-in is loaded for this).
METHODS = tuple(method.name for method in BUILT_IN)
