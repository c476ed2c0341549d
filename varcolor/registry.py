"""A registry of named classes with entry-point plug-ins: the one behind methods, priors,
detectors and cue sources, each package's ``register``, ``unregister``, ``get``, ``names`` and
``registered`` being its registry's own (written once, here).

>>> class Shape:
...     name = summary = ""
>>> shapes = Registry("shape", Shape, "varcolor.test-shapes", base_label="Shape")
>>> @shapes.register
... class Square(Shape):
...     name, summary = "square", "four equal sides"
>>> shapes.names(), shapes.get("square").__name__
(('square',), 'Square')
>>> shapes.get("circle")
Traceback (most recent call last):
varcolor.errors.InputError: unknown shape 'circle'; available: square
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from .errors import InputError, tell

__all__ = ["Registry", "PLUGIN_TIMEOUT", "built_in_only"]

#: Seconds a plug-in's import may take before it is skipped; ``$VARCOLOR_PLUGIN_TIMEOUT`` changes it.
PLUGIN_TIMEOUT = 10.0
#: While true (:func:`built_in_only`), no registry loads plug-ins.
_OFF = False

#: The base class of a registry's entries.
T = TypeVar("T")


class Registry(Generic[T]):
    """Named subclasses of ``base``, the built-in ones registered by their module, plug-ins found
    through the entry-point ``group`` (each entry point names a subclass).

    Parameters
    ----------
    kind : str
        What an entry is, in messages (``method``, ``detector``).
    base : type
        The class every entry subclasses.
    group : str
        The entry-point group plug-ins declare themselves in.
    base_label : str
        How messages name ``base`` (``varcolor.methods.Method``).
    reserved : tuple of str
        Names that are no entry (a detector option's ``none`` and ``auto``): refused on
        registering, listed first among the names a bad one is told.
    """

    def __init__(self, kind: str, base: type[T], group: str, *, base_label: str, reserved: tuple[str, ...] = ()):
        self.kind, self.base, self.group, self.base_label, self.reserved = kind, base, group, base_label, reserved
        self._entries: dict[str, type[T]] = {}
        self.plugins_loaded = False

    def register(self, entry: type[T]) -> type[T]:
        """Add ``entry`` (a subclass of the registry's base class with a new ``name`` and a
        ``summary``); returns it, so it can decorate the class.

        Parameters
        ----------
        entry : type
            The class registered.
        """
        if not (isinstance(entry, type) and issubclass(entry, self.base)):
            raise TypeError(f"a {self.kind} must be a {self.base_label} subclass, not {entry!r}")
        named: Any = entry  # the base declares name and summary
        if not named.name or not named.summary or named.name in self.reserved:
            reserved = f" (not {' or '.join(self.reserved)})" if self.reserved else ""
            raise ValueError(f"{entry.__name__} needs a name{reserved} and a one-line summary")
        held = self._entries.get(named.name)
        if held is not None and held is not entry:
            raise ValueError(f"a {self.kind} named {named.name!r} is registered already ({held.__name__})")
        self._entries[named.name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove the entry ``name`` (nothing where there is none).

        Parameters
        ----------
        name : str
            The entry's registered name.
        """
        self._entries.pop(name, None)

    def load_plugins(self) -> None:
        """Register the plug-ins of the entry-point group, once; each that cannot be is one warning."""
        if self.plugins_loaded or _OFF:
            return
        self.plugins_loaded = True
        for entry in entry_points(group=self.group):
            try:
                self.register(_load_bounded(entry))
            except Exception as exc:  # whatever a third party's import raises
                tell(f"varcolor {self.kind} plug-in {entry.name!r} not loaded: {_one_line(exc)}", stacklevel=4)

    def entry_names(self) -> tuple[str, ...]:
        """The names of the installed plug-ins' entry points (read from their metadata, not imported)."""
        return tuple(entry.name for entry in entry_points(group=self.group))

    def registered(self) -> tuple[type[T], ...]:
        """Every entry, built-in ones first."""
        self.load_plugins()
        return tuple(self._entries.values())

    def names(self) -> tuple[str, ...]:
        """The entries' names, built-in ones first."""
        self.load_plugins()
        return tuple(self._entries)  # keyed by name, built-in ones first

    def get(self, name: str) -> type[T]:
        """The entry registered as ``name``; an unknown name is an
        :class:`~varcolor.errors.InputError` listing the known ones.

        Parameters
        ----------
        name : str
            The entry's registered name.
        """
        self.load_plugins()
        if name not in self._entries:
            raise InputError(f"unknown {self.kind} {name!r}; available: {', '.join((*self.reserved, *self._entries))}")
        return self._entries[name]


@contextlib.contextmanager
def built_in_only() -> Iterator[None]:
    """Within this block no registry loads a plug-in (only the entries registered already are
    seen): ``varcolor --help`` and ``--version`` must work whatever a plug-in does."""
    global _OFF
    previous, _OFF = _OFF, True
    try:
        yield
    finally:
        _OFF = previous


def _load_bounded(entry):
    """``entry.load()`` in a daemon thread, waited for :data:`PLUGIN_TIMEOUT` seconds."""
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
