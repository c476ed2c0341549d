"""Instance-aware colorization: detectors (:mod:`.detectors`), masks from the image's edges
(:mod:`.masks`) and the fusion of each instance's own colours into the prior (:mod:`.fusion`).

``Options.instances`` (``--instances NAME``) names the detector: ``none`` (the default), ``auto``,
``faces``, ``cascades`` or a plug-in's (docs/guide/instances.md).
"""

from importlib import import_module

from .detectors import (
    Cascades,
    Detector,
    Faces,
    Instance,
    TorchDetector,
    choices,
    get,
    names,
    pick,
    register,
    unregister,
)

__all__ = [
    "Instance",
    "Detector",
    "Cascades",
    "Faces",
    "TorchDetector",
    "register",
    "unregister",
    "get",
    "names",
    "choices",
    "pick",
    "find",
    "fuse",
    "network_crops",
    "soft_mask",
]

# Loaded on first use: the command line lists the detectors for its help (.detectors alone), and
# should not load the masks' solver and the fusion's image stack for that.
_HOMES = {"find": "fusion", "fuse": "fusion", "network_crops": "fusion", "soft_mask": "masks"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_HOMES))
