"""Priors: a guess of every pixel's chroma that a method can add to the cues (:class:`Prior`),
and their registry.

The built-in one is ``ideepcolor`` (the network's colours, :mod:`varcolor.priors.ideepcolor`);
other packages register theirs through the ``varcolor.priors`` entry-point group, or with
:func:`register`. A method says whether and how it uses a prior
(:meth:`varcolor.methods.Method.prior_for`); the :class:`~varcolor.Colorizer` makes the prior once
per image and hands its guess to the method.
"""

from __future__ import annotations

from ..registry import Registry
from .base import Prior
from .ideepcolor import Ideepcolor

__all__ = ["Prior", "register", "unregister", "get", "names", "REGISTRY"]

#: The priors, built-in and plug-in (:class:`varcolor.registry.Registry`).
REGISTRY = Registry("prior", Prior, "varcolor.priors", base_label="varcolor.priors.Prior")


def register(prior: type[Prior]) -> type[Prior]:
    """Add ``prior`` (a :class:`Prior` subclass with a new ``name``) to the registry; returns it,
    so it can decorate the class.

    Parameters
    ----------
    prior : type
        A :class:`Prior` subclass with a ``name`` and a ``summary``.
    """
    return REGISTRY.register(prior)


def unregister(name: str) -> None:
    """Remove the prior ``name`` from the registry.

    Parameters
    ----------
    name : str
        The prior's registered name.
    """
    REGISTRY.unregister(name)


def get(name: str) -> type[Prior]:
    """The prior registered as ``name``; an unknown name is an :class:`InputError` listing the known ones.

    Parameters
    ----------
    name : str
        The prior's registered name.
    """
    return REGISTRY.get(name)


def names() -> tuple[str, ...]:
    """The registered priors' names."""
    return REGISTRY.names()


register(Ideepcolor)
