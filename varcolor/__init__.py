"""varcolor: colorize grayscale images from a few colour cues by variational optimisation.

>>> import varcolor
>>> sorted(name for name in ("colorize", "Cues", "read_image", "write_image") if hasattr(varcolor, name))
['Cues', 'colorize', 'read_image', 'write_image']
"""

import lazy_loader

from .version import __version__ as __version__  # eager: `varcolor --version` needs nothing else

# Loaded on first use, so that `varcolor --help`, `--version` and a one-line input error start in
# well under a second: the solvers, numba, SciPy and scikit-image load only when a name needs them.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
