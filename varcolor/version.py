"""The installed version of varcolor, from its package metadata (one place: the package's
``__version__`` and ``varcolor --version`` read it here)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("varcolor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
