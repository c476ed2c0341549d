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
REGISTRY: Registry[Prior] = Registry("prior", Prior, "varcolor.priors", base_label="varcolor.priors.Prior")
#: The registry's own: add a prior (a decorator), remove one, one by name, their names.
register, unregister, get, names = REGISTRY.register, REGISTRY.unregister, REGISTRY.get, REGISTRY.names


register(Ideepcolor)
