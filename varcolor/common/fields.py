"""Option fields: what every options value is made of, below everything that has options.

:func:`option` makes a dataclass field that carries what the command line needs to offer it (its
help text, choices, check, unit); :class:`OptionValues` is the machinery every frozen options
value shares (checking, :meth:`~OptionValues.build`, :meth:`~OptionValues.keywords`,
:meth:`~OptionValues.fingerprint`, :meth:`~OptionValues.flags`). The colorization's
:class:`~varcolor.options.Options`, the encoder's :class:`~varcolor.ir.encode.EncodeOptions`, the
folder runs' :class:`~varcolor.app.RunOptions` and the methods' own ``Parameters`` are built from
them. This module imports only :mod:`varcolor.errors`, so that any layer may use it.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Blur(OptionValues):
...     sigma: float = option(1.0, "blur radius", check=positive)
>>> Blur.build(sigma=2.5).flags()
['--sigma', '2.5']
>>> Blur.build(sigma=0)
Traceback (most recent call last):
varcolor.errors.InputError: sigma must be a positive number, got 0
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import field
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError

__all__ = [
    "OptionValues",
    "option",
    "positive",
    "non_negative",
    "at_least_one",
    "choices_of",
    "fingerprint",
    "flag_name",
    "flag_value",
]


def option(
    default: Any,
    help: str,
    *,
    choices: tuple | Callable[[], tuple] | None = None,
    check=None,
    metavar: str | None = None,
    unit: float | None = None,
    short: str | None = None,
) -> Any:
    """A field of an options dataclass, with what the command line needs to offer it: ``help``
    (its ``--help`` text; ``%(default)s`` is filled in), ``choices`` (or a function returning them,
    for names that can grow, like the registered methods), ``check`` (called with the field's name
    and value; raises :class:`InputError`), ``metavar`` and ``unit`` (the command line's value is
    multiplied by it: ``--max-memory`` in GB, bytes here) and ``short``, a one-letter flag besides
    the long one (``-m``).

    Parameters
    ----------
    default : object
        The field's default value.
    help : str
        Its ``--help`` text; ``%(default)s`` is filled in.
    choices : tuple or callable, optional
        The values it may take, or a function returning them.
    check : callable, optional
        Called with the field's name and value; raises :class:`InputError` for a value it refuses.
    metavar : str, optional
        The value's name in ``--help``.
    unit : float, optional
        What the command line's value is multiplied by to give the field's.
    short : str, optional
        A one-letter flag besides the long one.
    """
    metadata = {"help": help, "choices": choices, "check": check, "metavar": metavar, "unit": unit, "short": short}
    return field(default=default, metadata=metadata)


def positive(name: str, value) -> None:
    """Refuse a value that is not a finite number > 0.

    Parameters
    ----------
    name : str
        The option's name, for the message.
    value : object
        Its value (a bool is refused).
    """
    if not _finite_number(value) or not value > 0:
        raise InputError(f"{name} must be a positive number, got {value}")


def non_negative(name: str, value) -> None:
    """Refuse a value that is not a finite number >= 0.

    Parameters
    ----------
    name, value
        As :func:`positive` takes them.
    """
    if not _finite_number(value) or not value >= 0:
        raise InputError(f"{name} must be a non-negative number, got {value}")


def _finite_number(value) -> bool:
    """Whether ``value`` is a finite int or float (NumPy's too), not a bool."""
    return not isinstance(value, bool) and isinstance(value, (int, float, np.number)) and bool(np.isfinite(value))


def at_least_one(name: str, value) -> None:
    """Refuse a count below 1.

    Parameters
    ----------
    name : str
        As :func:`positive` takes it.
    value : int
        The count.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be a whole number, at least 1, got {value!r}")
    if value < 1:
        raise InputError(f"{name} must be at least 1, got {value}")


def choices_of(spec: dataclasses.Field) -> tuple | None:
    """A field's choices (calling the function that lists them, where it is one).

    Parameters
    ----------
    spec : dataclasses.Field
        A field made with :func:`option` (None comes back where it has no choices).
    """
    choices = spec.metadata.get("choices")
    return choices() if callable(choices) else choices


class OptionValues:
    """The machinery every frozen options dataclass shares (:class:`Options`, the encoder's
    :class:`~varcolor.ir.encode.EncodeOptions`, the folder runs' :class:`~varcolor.app.RunOptions`):
    each field made with :func:`option` is checked when the value is made (its ``check``, else its
    ``choices``), :meth:`build` makes one from keywords, :meth:`keywords` gives them back,
    :meth:`fingerprint` names the values for a manifest, and :meth:`flags` renders them as the
    command line's flags (which the command line makes from the same fields' metadata).

    >>> from varcolor.options import Options
    >>> Options(method="levin", solver="direct").flags()
    ['--method', 'levin', '--solver', 'direct']
    """

    #: What an unknown keyword is called in :meth:`build`'s refusal.
    _WHAT = "option"
    #: Each subclass is a dataclass (declared here for the checker: dataclasses.fields takes it).
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def _check_fields(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if value is None:
                continue
            if spec.metadata.get("check"):
                spec.metadata["check"](spec.name, value)
                continue
            choices = choices_of(spec)
            if choices is not None and value not in choices:
                raise InputError(f"unknown {spec.name} {value!r}; available: {', '.join(map(str, choices))}")

    def __post_init__(self) -> None:
        self._check_fields()

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The options' names (the keywords :meth:`build` takes)."""
        return tuple(spec.name for spec in dataclasses.fields(cls) if spec.name != "parameters")

    @classmethod
    def build(cls, options=None, /, **keywords):
        """Options from keywords (the fields by name), or with ``options``, those changed by the
        keywords (``options`` itself where there are none: it was checked when made). A name that
        is no option is refused (ignoring it would hide the mistake).

        Parameters
        ----------
        options : OptionValues, optional
            The values to change; None to start from the defaults.
        **keywords
            Fields' values by name.
        """
        strangers = [name for name in keywords if name not in cls.names()]
        if strangers:
            raise InputError(f"unknown {cls._WHAT} {strangers[0]!r} (options: {', '.join(cls.names())})")
        if options is not None and not keywords:
            return options
        return dataclasses.replace(options, **keywords) if options is not None else cls(**keywords)

    def keywords(self) -> dict:
        """The options as :meth:`build`'s keywords (for a report, or to build them again)."""
        return {name: getattr(self, name) for name in self.names()}

    def fingerprint(self) -> str:
        """A short fingerprint of the values (what a folder run's manifest compares on ``resume``).

        >>> from varcolor.options import Options
        >>> Options.build(tol=1e-6).fingerprint() == Options.build(tol=1e-6).fingerprint() != Options().fingerprint()
        True
        """
        return fingerprint(self.keywords())

    def flags(self, *, always: tuple[str, ...] = ()) -> list[str]:
        """The command line's flags that give these values: every option that differs from its
        default (and those named in ``always``), as ``--name value``, in the fields' order. The
        one renderer from option values to argv (the studio prints its save command with it).

        Parameters
        ----------
        always : tuple of str, optional
            Names of options given even where they hold their defaults.
        """
        defaults = type(self)()
        argv = []
        for name in self.names():
            value = getattr(self, name)
            if value is None or (value == getattr(defaults, name, None) and name not in always):
                continue
            argv += [flag_name(name), flag_value(value, self._unit(name))]
        return argv

    @classmethod
    def _unit(cls, name: str) -> float | None:
        return next((spec.metadata.get("unit") for spec in dataclasses.fields(cls) if spec.name == name), None)


def flag_name(name: str) -> str:
    """An option's command-line flag: ``--`` and its name, ``_`` written ``-``.

    Parameters
    ----------
    name : str
        The option's name.
    """
    return "--" + name.replace("_", "-")


def flag_value(value, unit: float | None) -> str:
    """An option's value as the command line reads it back (``unit``: the flag counts in units of it).

    Parameters
    ----------
    value : object
        The option's value.
    unit : float or None
        What the flag's value counts in (the value is divided by it); None for none.
    """
    if unit is not None:
        value = value / unit
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    return str(value)


def fingerprint(values: dict) -> str:
    """A short fingerprint of named values (JSON values; anything else counts by its type): what a
    folder run's manifest compares on ``resume``.

    Parameters
    ----------
    values : dict
        The values by name (their order does not count).

    Examples
    --------
    >>> fingerprint({"method": "levin", "tol": 1e-8}) == fingerprint({"tol": 1e-8, "method": "levin"})
    True
    """

    def plain(value):
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__

    text = json.dumps({str(k): plain(v) for k, v in values.items()}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def path_word(path) -> str:
    """A file's path as an argv word that no parser reads as an option (``-ifoo.png`` would be
    ``-i foo.png``): a relative path that starts with ``-`` gets ``./`` in front, the same file.

    Parameters
    ----------
    path : str or path-like
        The path a user gave.

    Examples
    --------
    >>> path_word("-ifoo.png"), path_word("a b.png"), path_word("/x/-y.png")
    ('./-ifoo.png', 'a b.png', '/x/-y.png')
    """
    text = os.fspath(path)
    return "./" + text if text.startswith("-") else text
