"""Priors: a guess of every pixel's chroma that a method can add to the cues (:class:`Prior`),
and their registry.
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
