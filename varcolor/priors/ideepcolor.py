"""The ``ideepcolor`` prior: the network's colours (:mod:`varcolor.neural.prior`), with each
detected instance's own where ``instances`` asks for them (:mod:`varcolor.instances`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..instances.detectors import check_options as check_detector_options
from ..options import AUTOMATIC, Options
from .base import Prior

if TYPE_CHECKING:  # annotations only: `varcolor --help` loads no colour code (cues → color → skimage)
    from ..cues import Cues

__all__ = ["Ideepcolor"]


class Ideepcolor(Prior):
    name = "ideepcolor"
    summary = "the ideepcolor network's colours, weighted by β and a confidence"

    def __init__(self, guide: np.ndarray, options: Options, *, global_hints=None):
        super().__init__(guide, options)
        try:
            from ..neural.weights import load
        except ImportError:
            raise InputError("the ideepcolor network needs PyTorch: pip install 'varcolor[neural]'") from None
        self.network = load(options.network_file, mask_cent=options.mask_cent)
        self.global_hints = global_hints
        self.detector = None
        if options.instances != "none":
            from ..instances import pick

            self.detector = pick(options.instances, options.detector_file)
        self.instances = None  # found once per image, at the first guess
        self._detect_seconds = 0.0

    @classmethod
    def check_options(cls, options: Options) -> None:
        """:meth:`Prior.check_options`, and the instance options (the detector and its weights file)
        where given (:func:`varcolor.instances.detectors.check_options`).
        """
        super().check_options(options)
        if options.instances != "none" or options.detector_file is not None:
            check_detector_options(options, network=True)

    def guess(self, cues: Cues, mode: str) -> tuple[np.ndarray, np.ndarray, dict]:
        """The network's guess and weight (:func:`varcolor.neural.prior.guess`), with each detected
        instance's own colours fused in where a detector is chosen (:mod:`varcolor.instances`).

        Parameters
        ----------
        cues : Cues
            As :meth:`Prior.guess` takes them.
        mode : str
            As :meth:`Prior.guess` takes it.
        """
        from ..neural.prior import guess

        options = self.options
        info: dict[str, object] = {}
        prior, weight = guess(self.network, self.guide, cues, global_hints=self.global_hints, **self._reading(mode))
        if self.detector is not None:
            prior, weight, info["instances"] = self._fuse(cues, prior, weight, mode, info)
        info.update(
            prior=self.name,
            prior_weight=options.prior_weight,
            confidence=options.confidence,
            prior_mode=mode,
            automatic=options.automatic,
        )
        return prior, weight, info

    def _fuse(self, cues: Cues, prior: np.ndarray, weight: np.ndarray, mode: str, info: dict):
        """The prior and weight with each detected instance's own colours (:mod:`varcolor.instances`)."""
        from ..instances import find, fuse, network_crops

        if self.instances is None:
            start = time.perf_counter()
            self.instances = find(self.detector, self.guide)
            self._detect_seconds = time.perf_counter() - start
        assert self.detector is not None  # guess fuses only with a detector
        info["detector"] = self.detector.name
        info["detect_seconds"] = self._detect_seconds
        crops = network_crops(self.network, self.guide, cues, **self._reading(mode))
        return fuse(self.guide, prior, weight, self.instances, crops, max_memory=self.options.max_memory)

    def _reading(self, mode: str) -> dict:
        """How the network's output is read into a guess and a weight (the whole image's and each
        instance's crops alike)."""
        options = self.options
        return {
            "mode": mode,
            "prior_weight": options.prior_weight,
            "confidence": options.confidence,
            "decode": AUTOMATIC[options.automatic],
        }
