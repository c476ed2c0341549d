# The public names of varcolor, each written once: lazy_loader.attach_stub reads this stub to
# load each on first use (varcolor/__init__.py), and type checkers read it as the package's types.
from . import bench as bench
from . import color as color
from . import cues as cues
from . import data as data
from . import methods as methods
from . import metrics as metrics
from . import restraint as restraint
from . import sources as sources
from .api import Colorizer as Colorizer
from .api import Result as Result
from .api import check_fits as check_fits
from .api import colorize as colorize
from .common.info import Info as Info
from .cues import Cues as Cues
from .errors import ConvergenceError as ConvergenceError
from .errors import InputError as InputError
from .errors import OutputError as OutputError
from .errors import VarcolorError as VarcolorError
from .io import read_image as read_image
from .io import walk_images as walk_images
from .io import write_image as write_image
from .options import Options as Options
from .restraint import SOURCES as SOURCES
from .solvers import SolverPlan as SolverPlan
from .version import __version__ as __version__

__all__ = [
    "colorize",
    "Colorizer",
    "Result",
    "Info",
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
    "restraint",
    "sources",
    "SOURCES",
    "VarcolorError",
    "InputError",
    "OutputError",
    "ConvergenceError",
    "__version__",
]
