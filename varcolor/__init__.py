"""varcolor: colorize grayscale images from a few colour cues by variational optimisation.

>>> import varcolor
>>> sorted(name for name in ("colorize", "Cues", "read_image", "write_image") if hasattr(varcolor, name))
['Cues', 'colorize', 'read_image', 'write_image']
"""

from importlib.metadata import PackageNotFoundError, version

from . import bench, color, cues, methods, metrics
from .api import Colorizer, Result, check_fits, colorize
from .cues import Cues
from .errors import InputError, OutputError, VarcolorError
from .io import read_image, walk_images, write_image
from .options import Options
from .solvers import SolverPlan

try:
    __version__ = version("varcolor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

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
    "methods",
    "metrics",
    "VarcolorError",
    "InputError",
    "OutputError",
    "__version__",
]
