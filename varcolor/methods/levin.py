"""``levin``: Levin, Lischinski & Weiss's exact system (their ``getColorExact.m``)."""

from __future__ import annotations

import numpy as np

from ..energies import levin
from .base import LinearMethod


class Levin(LinearMethod):
    name = "levin"
    summary = "Levin et al.'s exact system (getColorExact.m) solved exactly at full resolution: the reference"
    spaces = ("lab", "yiq")
    symmetric = False
    video = True  # the space-time Levin system (varcolor.video)
    within_cues = True  # each unmarked row: u(r) = Σ w_rs u(s), a convex combination
    cue_rows = True
    # residual, spread: the smoothness acts on u − p (spread: p is the network's automatic guess).
    prior_modes = ("anchor", "residual", "spread")

    @classmethod
    def shows_progress(cls) -> bool:
        return True  # the tiles solver reports each tile

    def system(self, guide, mask, targets, prior=None, weight=None):
        """Levin's exact system (:func:`varcolor.energies.levin.exact_operator`); with a prior in
        the ``residual`` or ``spread`` mode, its smoothness acts on the chroma less the prior's guess.
        """
        operator = levin.exact_operator(guide, mask, prior_weight=weight)
        if prior is not None and self.options.prior_mode in ("residual", "spread"):
            # The smoothness acts on u − p: the cues' corrections to the guess spread and fade into it.
            return operator, np.where(mask[..., None], targets, operator.apply(prior))
        return operator, levin.exact_rhs(mask, targets, prior, weight)

    def free_system(self, guide, free, prior=None, weight=None):
        """The system's rows at the ``free`` pixels alone (the others' values known: held), as
        :class:`~varcolor.solvers.direct.DirichletSolver` solves it.

        Parameters
        ----------
        guide : ndarray, ``H×W``
        free : bool ndarray, ``H×W``
            The unknowns.
        prior, weight : ndarray, optional
            The prior (``H×W×2``) and its weight (``H×W``), as :meth:`system` reads them.
        """
        rows = np.flatnonzero(free)
        operator = levin.exact_operator(guide, ~free, prior_weight=weight, rows=rows)
        if prior is None:
            return operator, np.zeros((len(rows), 2))
        prior = np.asarray(prior, np.float64)
        if self.options.prior_mode in ("residual", "spread"):
            return operator, operator.apply_rows(prior, rows)
        return operator, (np.asarray(weight)[..., None] * prior).reshape(-1, prior.shape[-1])[rows]

    def rhs_change(self, base_mask, old, new, recoloured):
        """``(recoloured, new - old)``: the exact system holds a cue's value in its own row only."""
        # The exact system holds a cue's value in its own row only.
        return recoloured, new - old
