"""The source ``ir``: an IR's payload (``varcolor encode``): the cues a colour image was encoded
into, in a ``.vcir`` file beside its gray PNG or inside it; read when the IR is decoded
(``varcolor decode``, :func:`varcolor.ir.decode.payload_cues`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..cues import Cues
from ..errors import InputError, VarcolorError
from .base import CueSource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .base import ReadContext

__all__ = ["IrPayload"]


class IrPayload(CueSource):
    """The payload of an IR, for its own gray image."""

    name = "ir"
    summary = "an IR's payload (varcolor encode): the cues a colour image was encoded into, beside or in its gray PNG"

    @classmethod
    def read(cls, path: Path, gray: np.ndarray, **context: Unpack[ReadContext]) -> Cues:
        """The cues of the IR whose gray image is ``path``, for its gray pixels ``gray`` (a payload
        of another gray image is refused by its checksum).

        Parameters
        ----------
        path, gray, **context
            As :meth:`~varcolor.sources.base.CueSource.read` takes them; ``cue_image``, a Payload,
            is the payload read already (:func:`~varcolor.ir.files.read_ir`).
        """
        from ..ir.decode import payload_cues
        from ..ir.files import read_ir

        cue_image = context.get("cue_image")
        payload = read_ir(path) if cue_image is None else cue_image
        try:
            return payload_cues(payload, gray=gray)
        except VarcolorError as exc:  # a payload's format error too: the file is bad input
            raise InputError(str(exc)) from None
