"""The options of every command that colorizes (colorize, decode, recolor, and bench's method
parameters), made from :class:`varcolor.options.Options`: its fields and the registered methods'
own parameters become flags (help text and choices from their metadata), and the parsed values
become one ``Options`` (:func:`options_of`), checked once per run before any image."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import typing
from typing import Any

import numpy as np

from .. import methods, priors
from ..app.run_options import RunOptions
from ..common.fields import choices_of
from ..instances import choices as detector_choices
from ..methods.base import PRIOR_OPTIONS  # the options of the network as prior: --help lists them apart
from ..options import Options
from ..solvers import backend

__all__ = [
    "add_field",
    "add_solve_options",
    "add_options",
    "add_method_parameters",
    "add_run_option",
    "options_of",
    "method_help",
]


def method_help() -> str:
    """Every registered method with its one-line summary, for ``--help`` (which loads no plug-in:
    the installed ones are named)."""
    text = "; ".join(f"{method.name}: {method.summary}" for method in methods.registered())
    if not methods.plugins_loaded():
        plugins = methods.plugin_entry_names()
        text += f" (plug-ins, not loaded for --help: {', '.join(plugins)})" if plugins else ""
    return text


@functools.cache
def _type_hints(owner: type) -> dict[str, Any]:
    """``owner``'s annotations as types, once per class: each call evaluates every field's text
    again (``from __future__ import annotations``)."""
    return typing.get_type_hints(owner)


def _value_type(spec: dataclasses.Field, owner: type):
    """What parses a field's value from text: its annotation's type (float, int or str)."""
    hint = _type_hints(owner).get(spec.name, str)
    kinds = [kind for kind in typing.get_args(hint) if kind is not type(None)] or [hint]
    kind = kinds[0] if kinds[0] in (float, int, str) else str
    unit = spec.metadata.get("unit")
    if unit is None:
        return kind

    def scaled(text: str) -> float:
        value = float(text)
        if not (value > 0 and np.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
        return value * unit

    return scaled


#: Where flags are added: a parser, or one of its help's groups.
Flags = argparse.ArgumentParser | argparse._ArgumentGroup


def add_field(
    p: Flags, spec: dataclasses.Field, owner: type, default, help_text: str | None = None, **extra: Any
) -> None:
    """The field ``spec`` of the options dataclass ``owner`` as a flag ``--NAME`` (and its short
    form, where its metadata names one), with its help text, choices and value type."""
    help_text = help_text or spec.metadata.get("help") or ""
    if default is None and spec.default is not None and "%(default)s" in help_text:
        help_text = help_text.replace("%(default)s", str(spec.default))  # the flag's own default is "not given"
    flag = "--" + spec.name.replace("_", "-")
    choices = choices_of(spec)
    keywords = {"default": default, "help": help_text, "metavar": spec.metadata.get("metavar"), **extra}
    if "action" not in extra:
        keywords["type"] = _value_type(spec, owner)
        if choices is not None:
            keywords["choices"] = choices
    short = spec.metadata.get("short")
    p.add_argument(*((short,) if short else ()), flag, **keywords)


#: The options that name an entry of a registry: a method, a prior, a detector.
_NAMED = {"method": methods.names, "prior": priors.names, "instances": detector_choices}


def add_solve_options(p: argparse.ArgumentParser, *, space: bool = True, output=None) -> None:
    """Every option of :class:`~varcolor.options.Options` (``--space`` only with ``space``; else
    Lab), the registered methods' own parameters, ``--bits`` and ``--profile``."""
    if not space:
        p.set_defaults(space="lab")
    solving = p.add_argument_group("method and solver")
    prior = p.add_argument_group("prior (the network's colours where there are no cues; docs/guide/neural.md)")
    for spec in dataclasses.fields(Options):
        if spec.name == "parameters" or (spec.name == "space" and not space):
            continue
        extra: dict[str, Any] = {}
        if spec.name in _NAMED:  # looked up in a registry: the names it holds now are the flag's choices
            extra["choices"] = _NAMED[spec.name]()
        if spec.name == "method":
            extra["help_text"] = f"colorization method (default: %(default)s): {method_help()}"
        group = prior if spec.name in PRIOR_OPTIONS else solving
        add_field(group, spec, Options, spec.default, **extra)
    add_method_parameters(solving)
    for name in ("bits", "profile"):
        add_run_option(output or p, name)


def add_run_option(p: Flags, name: str, help_text: str | None = None) -> None:
    """The field ``name`` of :class:`~varcolor.app.RunOptions` as its flag: help, metavar,
    choices, type and default from the field (a yes-or-no field a switch)."""
    spec = next(spec for spec in dataclasses.fields(RunOptions) if spec.name == name)
    if spec.default is False:
        short = spec.metadata.get("short")
        flags = (*((short,) if short else ()), "--" + name.replace("_", "-"))
        p.add_argument(*flags, action="store_true", help=help_text or spec.metadata["help"])
    else:
        add_field(p, spec, RunOptions, spec.default, help_text)


def add_options(p: argparse.ArgumentParser, names: tuple[str, ...]) -> None:
    """Some of :class:`~varcolor.options.Options`' fields as flags, with their defaults.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    names : tuple of str
        The fields offered.
    """
    for spec in dataclasses.fields(Options):
        if spec.name in names:
            extra: dict[str, Any] = {"choices": _NAMED[spec.name]()} if spec.name in _NAMED else {}
            add_field(p, spec, Options, spec.default, **extra)


def add_method_parameters(p: Flags) -> None:
    """The registered methods' own parameters as flags (default None: the method's default).

    Parameters
    ----------
    p : argparse.ArgumentParser or argument group
        Where the flags are added.
    """
    seen = set()
    for method in methods.registered():
        parameters = method.Parameters
        if parameters is None:
            continue
        for spec in dataclasses.fields(parameters):
            if spec.name not in seen:
                seen.add(spec.name)
                add_field(p, spec, parameters, None)


def options_of(args: argparse.Namespace) -> Options:
    """The :class:`~varcolor.options.Options` the parsed arguments give, checked.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments.
    """
    keywords = {
        name: getattr(args, name) for name in (*Options.names(), *methods.parameter_names()) if hasattr(args, name)
    }
    options = methods.build_options(**keywords)
    backend(options.device)
    return options
