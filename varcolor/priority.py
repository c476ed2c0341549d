"""Work that waits for idle cores: a thread at the lowest priority the system gives.

Why: some work runs beside what a user waits for, in threads of the same process: the studio's
colour suggestions (the network), an edit's factorisation of the coarse grid made ahead. At the
same priority they took a core from the next stroke's solve and paint (a Krita Live stroke at
12 MP 0.96 → 1.45 s while a factorisation ran); at nice 19 they run where the cores are idle.
"""

from __future__ import annotations

import os
import threading

__all__ = ["lowest_priority"]


def lowest_priority() -> None:
    """Put the calling thread (Linux: a thread's own priority; the threads it starts inherit it)
    at nice 19; where the system has no such thing (Windows) or refuses, leave it as it is."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass
