"""``python -m varcolor.cli``: the ``varcolor`` program."""

from . import entry

entry()
