"""``levin-symmetric``: the symmetric graph-Laplacian variant of Levin's method.

The minimiser of ``½ Σ_edges w_rs ‖u_r − u_s‖²`` with the cues fixed (symmetric luminance
weights): SPD once the cue pixels are eliminated, so multigrid and conjugate gradients solve it
fast. A different model from the exact one: its colours are not Levin's
(:func:`varcolor.energies.levin.symmetric_system`, docs/design.md).
"""

from __future__ import annotations

from ..energies import levin
from .base import LinearMethod


class LevinSymmetric(LinearMethod):
    name = "levin-symmetric"
    summary = "the symmetric graph-Laplacian variant: fast (multigrid), a different model from levin"
    spaces = ("lab", "yiq")
    symmetric = True

    def system(self, guide, mask, targets, prior=None, weight=None):
        """The symmetric graph-Laplacian system (:func:`varcolor.energies.levin.symmetric_system`).

        Parameters
        ----------
        guide, mask, targets, prior, weight
            As :meth:`LinearMethod.system` takes them.
        """
        return levin.symmetric_system(guide, mask, targets, prior, weight)
