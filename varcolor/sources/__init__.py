"""Cue sources: where colour cues come from (:class:`CueSource`), one module each, and their
registry.

>>> import numpy as np, pathlib, tempfile, varcolor
>>> from varcolor.sources import CueSource, register, unregister, load
>>> @register
... class Flat(CueSource):
...     name, summary, suffixes = "flat", "one colour for the whole photo", (".flat.txt",)
...     @classmethod
...     def read(cls, path, gray, **context):
...         a, b = map(float, path.read_text().split())
...         return varcolor.Cues.from_points([{"y": 0, "x": 0, "a": a, "b": b}], gray.shape[:2])
>>> path = pathlib.Path(tempfile.mkdtemp()) / "x.flat.txt"
>>> _ = path.write_text("20 0")
>>> load(path, np.full((4, 4), 0.5)).count
1
>>> unregister("flat")
"""

from __future__ import annotations

from .base import EDGES_DEFAULT, CuePlan, CueSource, ImageSource
from .ir import IrPayload
from .keyframes import Keyframes
from .layered import Layered
from .lookup import REGISTRY, file_sources, get, kind_of, load, names, register, registered, unregister
from .marked import Marked
from .mask import Mask
from .points import Points
from .reference import Reference

__all__ = [
    "CueSource",
    "CuePlan",
    "ImageSource",
    "EDGES_DEFAULT",
    "REGISTRY",
    "register",
    "unregister",
    "get",
    "names",
    "registered",
    "file_sources",
    "kind_of",
    "load",
]

#: The sources varcolor itself brings, in the order a folder run tries those found by name.
BUILT_IN = (Marked, Mask, Points, Layered, Reference, IrPayload, Keyframes)
for _source in BUILT_IN:
    register(_source)
