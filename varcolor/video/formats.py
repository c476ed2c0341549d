"""Which files are clips and which codecs write them: names only, so that the command line can
tell a clip from a photo without loading FFmpeg or OpenCV."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["VIDEO_EXTENSIONS", "CODECS", "is_video"]

#: File suffixes read and written as video (anything else given as a file is an image).
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov", ".avi", ".m4v", ".webm")
#: Output codecs: ``h264`` (libx264, yuv420p, CRF 17: visually lossless, plays everywhere),
#: ``lossless`` (libx264rgb at QP 0 in .mp4/.mov/.mkv: bit-exact RGB; FFV1 in .avi).
CODECS = ("h264", "lossless")


def is_video(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a video file, by its suffix (:data:`VIDEO_EXTENSIONS`).

    >>> is_video("film.MKV"), is_video("photo.png")
    (True, False)
    """
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS
