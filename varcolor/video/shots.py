"""A clip's shots, and in each the frame a film's reference cues are keyed on.

A film coloured from stills (``varcolor colorize clip.mp4 --reference still.png …``) takes its
reference cues on one keyframe a shot: the frame the stills match best, scored on the shot's
first frame and on every :data:`KEY_STEP`-th frame after it (:func:`find_shots`'s ``score``; the
pool's geometric verification, :func:`varcolor.app.reference.film_score`). The video engine
carries that keyframe's cues along the motion to the rest of the shot, backward and forward, as
it carries keyframe strokes. One keyframe a shot, not one every few frames: two keyframes of one
shot matched separately give slightly different cues, and the colour would step between them
where the scene is still.

Shots are cut where the video engine cuts them (:func:`varcolor.video.flow.is_cut`: the
luminance histograms, and the motion for pairs whose histograms are suspect), so a keyframe's
cues reach exactly the frames of its shot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .colorize import _gray
from .flow import is_cut

__all__ = ["Shot", "find_shots", "KEY_STEP"]

#: Within a shot, the frames scored as its keyframe: its first, then every this many frames.
KEY_STEP = 15


@dataclass(frozen=True)
class Shot:
    """Frames ``start`` to ``stop − 1`` of a clip, between two cuts; ``key``: the frame scored
    best (``score``; the first frame where none scores above 0 or nothing scored)."""

    start: int
    stop: int
    key: int
    score: float = 0.0


def find_shots(
    frames: Iterable[np.ndarray], score: Callable[[np.ndarray], float] | None = None, *, step: int = KEY_STEP
) -> list[Shot]:
    """The shots of a clip (one pass over its frames), each with its keyframe.

    Parameters
    ----------
    frames : iterable of ndarray
        The clip's frames in order (gray or colour, floats in [0, 1] or 8-bit), read once.
    score : callable, optional
        Called with a candidate frame's gray pixels (each shot's first frame and every ``step``-th
        after it); the shot's keyframe is the candidate scored highest (the earliest of equals;
        the first frame where none scores above 0).
    step : int
        Frames between two candidates within a shot.

    Returns
    -------
    list of Shot
        In order, covering the clip.

    Examples
    --------
    >>> import numpy as np
    >>> dark, light = np.full((32, 32), 0.2), np.full((32, 32), 0.8)
    >>> [(s.start, s.stop) for s in find_shots([dark] * 3 + [light] * 2)]
    [(0, 3), (3, 5)]
    """
    if step < 1:
        raise ValueError(f"step must be at least 1, got {step}")
    shots: list[Shot] = []
    start, best, best_score = 0, 0, 0.0
    previous = None
    index = -1
    for index, frame in enumerate(frames):
        gray = _gray(frame, index)
        if previous is not None and is_cut(previous, gray):
            shots.append(Shot(start, index, best, best_score))
            start, best, best_score = index, index, 0.0
        if score is not None and (index - start) % step == 0:
            found = float(score(gray))
            if found > best_score:
                best, best_score = index, found
        previous = gray
    if index >= 0:
        shots.append(Shot(start, index + 1, best, best_score))
    return shots
