"""Video: colour a clip from cues on a few keyframes (or from the network), without flicker.

:func:`colorize_video` takes a frame iterator and a keyframe → cues mapping and yields colour
frames; :mod:`.io` reads and writes clips (PyAV, folders of numbered frames), :mod:`.flow` finds
motion and scene cuts, :mod:`.spacetime` is Levin's system over space and time (solved on block means by
:mod:`.coarse`, the default multi-scale engine), :mod:`.shots` a clip's shots (each keyed once
in a film coloured from stills), :mod:`.cues`
reads a folder of keyframe cue files, :mod:`.chunks` runs a long clip in chunks on workers or on
Dask, resumable (docs/video.md).

Examples
--------
>>> import numpy as np, varcolor
>>> from varcolor.video import colorize_video
>>> frames = [np.tile(np.linspace(0.2, 0.8, 24), (16, 1))] * 2
>>> key = varcolor.Cues.from_points([{"y": 8, "x": 12, "a": 30, "b": 20}], shape=(16, 24))
>>> [frame.rgb.shape for frame in colorize_video(frames, {0: key})]
[(16, 24, 3), (16, 24, 3)]
"""

import lazy_loader

__all__ = [
    "colorize_video",
    "colorize_chunked",
    "VideoFrame",
    "video_memory",
    "read_cue_folder",
    "open_clip",
    "write_clip",
    "Clip",
]

# Loaded on first use: the command line imports .formats to tell a clip from a photo, and should not
# load FFmpeg (PyAV) and OpenCV for every command. Every name here loads lazily: __dir__ is lazy_loader's.
__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "colorize": ["colorize_video", "VideoFrame", "video_memory"],
        "chunks": ["colorize_chunked"],
        "cues": ["read_cue_folder"],
        "io": ["open_clip", "write_clip", "Clip"],
    },
)
