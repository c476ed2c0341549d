"""varcolor: colorize grayscale images from a few colour cues by variational optimisation.

>>> import varcolor
>>> sorted(name for name in ("colorize", "Cues", "read_image", "write_image") if hasattr(varcolor, name))
['Cues', 'colorize', 'read_image', 'write_image']
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for type checkers and the API reference: at run time each name loads on first use (below)
    from . import bench, color, cues, data, methods, metrics
    from .api import Colorizer, Result, check_fits, colorize
    from .cues import Cues
    from .errors import InputError, OutputError, VarcolorError
    from .io import read_image, walk_images, write_image
    from .options import Options
    from .solvers import SolverPlan

from .version import __version__

__all__ = [
    "colorize",
    "Colorizer",
    "Result",
    "Options",
    "check_fits",
    "SolverPlan",
    "Cues",
    "read_image",
    "write_image",
    "walk_images",
    "bench",
    "color",
    "cues",
    "data",
    "methods",
    "metrics",
    "VarcolorError",
    "InputError",
    "OutputError",
    "__version__",
]

# Loaded on first use, so that `varcolor --help`, `--version` and a one-line input error start in
# well under a second: the solvers, numba, SciPy and scikit-image load only when a name needs them.
_HOMES = {
    "colorize": "api",
    "Colorizer": "api",
    "Result": "api",
    "check_fits": "api",
    "Options": "options",
    "SolverPlan": "solvers",
    "Cues": "cues",
    "read_image": "io",
    "write_image": "io",
    "walk_images": "io",
    "VarcolorError": "errors",
    "InputError": "errors",
    "OutputError": "errors",
}
_SUBMODULES = ("bench", "color", "cues", "data", "methods", "metrics")


def __getattr__(name: str):
    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    if name in _HOMES:
        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_HOMES) + list(_SUBMODULES))
