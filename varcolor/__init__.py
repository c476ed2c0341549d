"""varcolor: colorize grayscale images from a few colour cues by variational optimisation.

>>> import varcolor
>>> sorted(name for name in ("colorize", "Cues", "read_image", "write_image") if hasattr(varcolor, name))
['Cues', 'colorize', 'read_image', 'write_image']
"""

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:  # for type checkers and the API reference: at run time each name loads on first use (below)
    from . import bench, color, cues, data, methods, metrics
    from .api import Colorizer, Result, check_fits, colorize
    from .cues import Cues
    from .errors import ConvergenceError, InputError, OutputError, VarcolorError
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
    "ConvergenceError",
    "__version__",
]

# Loaded on first use, so that `varcolor --help`, `--version` and a one-line input error start in
# well under a second: the solvers, numba, SciPy and scikit-image load only when a name needs them.
# lazy_loader (scikit-image's, SPEC 1) does the loading: one loader for each package that needs one.
__getattr__, _, _ = lazy_loader.attach(
    __name__,
    submodules=["bench", "color", "cues", "data", "methods", "metrics"],
    submod_attrs={
        "api": ["colorize", "Colorizer", "Result", "check_fits"],
        "options": ["Options"],
        "solvers": ["SolverPlan"],
        "cues": ["Cues"],
        "io": ["read_image", "write_image", "walk_images"],
        "errors": ["VarcolorError", "InputError", "OutputError", "ConvergenceError"],
    },
)


def __dir__():
    return sorted(set(globals()) | set(__all__))
