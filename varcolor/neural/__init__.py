"""Neural prior: the SIGGRAPH 2017 interactive colorization network (ideepcolor) in PyTorch.

Needs the ``neural`` extra (``pip install 'varcolor[neural]'``); the rest of varcolor does not
import torch.
"""
