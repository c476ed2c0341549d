"""Which files are clips and which codecs write them: names only, so that the command line can
tell a clip from a photo without loading FFmpeg or OpenCV."""

from __future__ import annotations

import os
from pathlib import Path

from ..io.formats import VIDEO_EXTENSIONS  # anything else given as a file is an image

__all__ = ["VIDEO_EXTENSIONS", "CODECS", "CHUNK_FRAMES", "is_video"]

#: Output codecs: ``h264`` (libx264, yuv420p, CRF 17: visually lossless, plays everywhere),
#: ``lossless`` (libx264rgb at QP 0 in .mp4/.mov/.mkv: bit-exact RGB; FFV1 in .avi).
CODECS = ("h264", "lossless")
#: Frames per chunk of a long clip unless told (:mod:`varcolor.video.chunks`; ten seconds at 25 fps:
#: a chunk's work is minutes, its file a few MB).
CHUNK_FRAMES = 250


def is_video(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a video file, by its suffix (:data:`VIDEO_EXTENSIONS`).

    Examples
    --------
    >>> is_video("film.MKV"), is_video("photo.png")
    (True, False)
    """
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS
