"""Instance-aware colorization: detectors (:mod:`.detectors`), masks from the image's edges
(:mod:`.masks`) and the fusion of each instance's own colours into the prior (:mod:`.fusion`).
"""

import lazy_loader

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
__getattr__, _, _ = lazy_loader.attach(
    __name__, submod_attrs={"fusion": ["find", "fuse", "network_crops"], "masks": ["soft_mask"]}
)


def __dir__():
    return sorted(set(globals()) | set(__all__))
