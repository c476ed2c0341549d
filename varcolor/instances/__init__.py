"""Instance-aware colorization: detectors (:mod:`.detectors`), masks from the image's edges
(:mod:`.masks`) and the fusion of each instance's own colours into the prior (:mod:`.fusion`).

``Options.instances`` (``--instances NAME``) names the detector: ``none`` (the default), ``auto``,
``faces``, ``cascades`` or a plug-in's (docs/guide/instances.md).
"""

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
from .fusion import find, fuse, network_crops
from .masks import soft_mask

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
