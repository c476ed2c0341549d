"""``levin-symmetric``: the symmetric graph-Laplacian variant of Levin's method."""

from __future__ import annotations

from ..energies import levin
from .base import LinearMethod


class LevinSymmetric(LinearMethod):
    name = "levin-symmetric"
    summary = "the symmetric graph-Laplacian variant: fast (multigrid), a different model from levin"
    spaces = ("lab", "yiq")
    symmetric = True

    def system(self, guide, mask, targets, prior=None, weight=None):
        """The symmetric graph-Laplacian system (:func:`varcolor.energies.levin.symmetric_system`)."""
        return levin.symmetric_system(guide, mask, targets, prior, weight)
