"""How much memory there is, and refusing work that would not fit before it starts.

A job that would exhaust memory is refused from the image's size alone (read from its header),
with one line naming what needs how much, instead of failing minutes later with a MemoryError
or being killed by the operating system.
"""

from __future__ import annotations

import os

from .errors import InputError

__all__ = ["available_bytes", "check_memory", "USABLE_FRACTION"]

#: The share of the available memory a single job may plan to use (the rest is the operating
#: system's, other processes' and our estimates' margin).
USABLE_FRACTION = 0.9


def available_bytes() -> int:
    """Memory the system can give now (MemAvailable), or physical memory where that is unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(need: int, what: str) -> None:
    """Refuse ``what`` (a phrase naming the work) when it needs more than the usable memory.

    Examples
    --------
    >>> check_memory(1, "a tiny job")
    >>> check_memory(1 << 62, "a huge job")
    Traceback (most recent call last):
    ...
    varcolor.errors.InputError: a huge job needs about 4611686018.4 GB of memory, ...
    """
    usable = int(USABLE_FRACTION * available_bytes())
    if need > usable:
        raise InputError(f"{what} needs about {need / 1e9:.1f} GB of memory, more than the {usable / 1e9:.1f} GB "
                         f"usable here ({USABLE_FRACTION:.0%} of the {available_bytes() / 1e9:.1f} GB available)")
