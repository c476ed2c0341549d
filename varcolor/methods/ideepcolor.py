"""``ideepcolor``: the neural network's output alone, lifted bilinearly to full resolution, with
the gray image's lightness (cue pixels keep their cues)."""

from __future__ import annotations

import numpy as np

from .base import Method, Problem

#: The prior's options that set its weight alone: the method's result is the guess, unweighted.
WEIGHT_OPTIONS = frozenset(("prior_weight", "confidence"))


class Ideepcolor(Method):
    name = "ideepcolor"
    summary = "the ideepcolor network alone (no solver), upsampled bilinearly"
    # Its input at 256², the lifted chroma and the colour conversion, with the image and its result.
    bytes_per_pixel = 120

    @classmethod
    def prior_for(cls, options):
        """``options.prior``, else ``ideepcolor``: its result is the network's guess."""
        return options.prior or "ideepcolor"  # its result is the network's guess

    @classmethod
    def ignored_options(cls, options, solver):
        """:meth:`Method.ignored_options`, and the prior's weight options (``prior_weight``,
        ``confidence``): the result is the guess, unweighted.
        """
        return super().ignored_options(options, solver) | WEIGHT_OPTIONS

    def solve(self, problem: Problem, x0):
        """The prior's guess, with the cues' values at their pixels; nothing is solved."""
        assert problem.prior is not None  # prior_for: always the network's
        chroma = np.where(problem.mask[..., None], problem.targets, problem.prior)
        # Nothing is solved: no solver, no iterations, no residual to report.
        return chroma, {"solver": None, "iterations": None, "residual": None}
