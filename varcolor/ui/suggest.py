"""Suggested colours at the pointer: the neural prior's class head (529 ab bins, 23×23 of 10
units over [−110, 110]) read at one place, its likeliest distinct colours first (as ideepcolor's
palette). Needs the ``neural`` extra (PyTorch)."""

from __future__ import annotations

import numpy as np
import torch

from ..cues import Cues
from ..neural.hints import global_input, network_input
from ..neural.siggraph17 import AB_NORM

BIN = 10.0
BINS_PER_AXIS = 23


def class_probabilities(
    net, gray: np.ndarray, cues: Cues, size: int = 256, *, plane: np.ndarray | None = None
) -> np.ndarray:
    """The class head's distribution, ``529×h×w`` (quarter of ``size``), for ``gray`` and its cues
    (``plane``: the gray's :func:`~varcolor.neural.hints.lightness_plane`, made before)."""
    device = next(net.parameters()).device
    x = network_input(gray, cues, getattr(net, "mask_cent", 0.0), size, plane=plane).to(device)
    with torch.no_grad():
        extra = global_input(None).to(device) if net.global_hints else None
        logits, _ = net.eval()(x, extra)
        return torch.softmax(logits[0].double(), dim=0).cpu().numpy()


def top_colours(
    probabilities: np.ndarray, fy: float, fx: float, k: int = 6, spacing: float = 15.0, floor: float = 0.01
) -> list[tuple[float, float, float]]:
    """Up to ``k`` ``(a, b, probability)`` at fractional position ``(fy, fx)`` of the map, each at
    least ``spacing`` ab units from the ones before, with probability at least ``floor``.

    Examples
    --------
    >>> p = np.zeros((529, 2, 2)); p[11 * 23 + 14, :, :] = 0.7; p[11 * 23 + 15, :, :] = 0.2; p[5 * 23 + 11] = 0.1
    >>> [(a, b) for a, b, _ in top_colours(p, 0.5, 0.5)]
    [(0.0, 30.0), (-60.0, 0.0)]
    """
    rows, cols = probabilities.shape[1:]
    row, col = min(int(fy * rows), rows - 1), min(int(fx * cols), cols - 1)
    here = probabilities[:, row, col]
    chosen: list[tuple[float, float, float]] = []
    for index in np.argsort(here)[::-1]:
        p = float(here[index])
        if p < floor or len(chosen) == k:
            break
        a = float(index // BINS_PER_AXIS) * BIN - AB_NORM
        b = float(index % BINS_PER_AXIS) * BIN - AB_NORM
        if all(np.hypot(a - a0, b - b0) >= spacing for a0, b0, _ in chosen):
            chosen.append((a, b, p))
    return chosen
