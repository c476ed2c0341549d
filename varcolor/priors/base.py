"""What a prior is: :class:`Prior`, a guess of every pixel's chroma with a weight, made once per
gray image and asked again as the cues change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..errors import InputError
from ..options import Options

if TYPE_CHECKING:  # annotations only: `varcolor --help` loads no colour code (cues → color → skimage)
    from ..cues import Cues

__all__ = ["Prior"]


class Prior:
    """A prior on one gray image (``guide``, ``H×W`` in [0, 1]) with ``options``.

    ``name`` and ``summary``: its registered name and one line for the docs. ``guess`` gives, for
    a cue set and the way the method uses it (``mode``: :attr:`varcolor.options.PRIOR_MODES`),
    the guess (``H×W×2`` Lab chroma), its weight (``H×W``: β times a confidence) and what a
    result's ``info`` reports of it.

    Parameters
    ----------
    guide : ndarray
        The gray image, ``H×W`` in [0, 1].
    options : Options
        The colorization's options (checked: :meth:`check_options`).
    global_hints : varcolor.gamut.GlobalHints, optional
        The image's ab histogram and saturation, for a prior that reads them.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def __init__(self, guide: np.ndarray, options: Options, *, global_hints=None):
        self.guide, self.options = guide, options

    @classmethod
    def check_options(cls, options: Options) -> None:
        """Refuse options this prior cannot honour (before any image is read). A prior guesses
        Lab chroma: a method propagating another space cannot take it.

        Parameters
        ----------
        options : Options
            The colorization's options (here their ``space``).
        """
        if options.space != "lab":
            raise InputError(f"the {cls.name} prior predicts Lab chroma: use space='lab'")

    def guess(self, cues: Cues, mode: str) -> tuple[np.ndarray, np.ndarray, dict]:
        """``(guess, weight, info)`` for ``cues``, used by the method as ``mode``.

        Parameters
        ----------
        cues : Cues
            The cues, of the gray image's size.
        mode : str
            How the method uses the guess, one of :attr:`varcolor.options.PRIOR_MODES`.

        Returns
        -------
        guess : ndarray, ``H×W×2``
            Lab chroma.
        weight : ndarray, ``H×W``
            β times a confidence.
        info : dict
            What a result's ``info`` reports of the prior.
        """
        raise NotImplementedError
