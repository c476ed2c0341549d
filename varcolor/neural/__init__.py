"""Neural prior: the SIGGRAPH 2017 interactive colorization network (ideepcolor) in PyTorch.

Needs the ``neural`` extra (``pip install 'varcolor[neural]'``); the rest of varcolor does not
import torch.
"""

import os
import sys


def _one_thread_in_a_forked_child() -> None:
    # torch's CPU threads are GNU OpenMP's, which do not come through a fork: a child forked after
    # its parent ran the network hung at its first parallel operation. One thread runs none.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_one_thread_in_a_forked_child)
