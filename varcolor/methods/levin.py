"""``levin``: Levin, Lischinski & Weiss's exact system (their ``getColorExact.m``).

Each unmarked pixel's chroma is the weighted mean of its 8 neighbours' (weights from luminance),
each marked pixel holds its cue: a non-symmetric system, solved exactly by the sparse LU up to
about 12 MP and by overlapping tiles beyond (:mod:`varcolor.energies.levin`, docs/design.md).
"""

from __future__ import annotations

import numpy as np

from ..energies import levin
from .base import LinearMethod


class Levin(LinearMethod):
    name = "levin"
    summary = "Levin et al.'s exact system (getColorExact.m) solved exactly at full resolution: the reference"
    spaces = ("lab", "yiq")
    symmetric = False
    cue_rows = True
    # residual, spread: the smoothness acts on u − p (spread: p is the network's automatic guess).
    prior_modes = ("anchor", "residual", "spread")
    reports_progress = True

    def system(self, guide, mask, targets, prior=None, weight=None):
        operator = levin.exact_operator(guide, mask, prior_weight=weight)
        if prior is not None and self.options.prior_mode in ("residual", "spread"):
            # The smoothness acts on u − p: the cues' corrections to the guess spread and fade into it.
            return operator, np.where(mask[..., None], targets, operator.apply(prior))
        return operator, levin.exact_rhs(mask, targets, prior, weight)

    def rhs_change(self, base_mask, old, new, recoloured):
        # The exact system holds a cue's value in its own row only.
        return recoloured, new - old
