"""Hints the studio gives after a solve: colour that flooded light areas no stroke touched.

With a few colour strokes, Levin's propagation carries their colour into every region the
strokes do not bound: white cheeks, beaks, a pale background take the stroke colours (a parrot
stroked three to six times came out 14 dB from its original). Whites and grays need strokes of
their own, neutral ones. :func:`flood_share` measures the symptom on a result, so the page can say so.
"""

from __future__ import annotations

import math

import numpy as np

from ..color import lightness_of_gray

__all__ = ["flood_share", "FLOOD_SHARE", "BRIGHT", "COLOURED", "FAR"]

#: Share of the photo that must be flooded for the hint to show.
FLOOD_SHARE = 0.04
#: A pixel is light from this CIE L on (whites, pale grays) ...
BRIGHT = 70.0
#: ... and, to count as flooded, this much lighter than most colour cues (a light region stroked in
#: its own light colour, a pale sky, is no flood of a darker stroke's colour).
MARGIN = 10.0
#: Chroma (ab units) from which a pixel counts as coloured, and below which a cue is neutral.
COLOURED = 8.0
NEUTRAL = 4.0
#: "Far from every cue": further than this share of the photo's shorter side.
FAR = 1 / 12
#: The rule is read on about this many pixels (a grid over the live copy).
SAMPLES = 100_000


def flood_share(gray: np.ndarray, ab: np.ndarray, cues: np.ndarray) -> float:
    """The share of the photo that is light, far from every cue, and coloured although it is
    lighter than the colour cues: colour that flooded whites and grays no stroke touched.

    Examples
    --------
    >>> gray = np.full((60, 120), 0.2); gray[:, 60:] = 0.95     # dark left, white right
    >>> cues = np.zeros(gray.shape, bool); cues[30, 5:20] = True
    >>> ab = np.zeros((60, 120, 2)); ab[...] = (40.0, 30.0)       # the stroke's red everywhere
    >>> round(flood_share(gray, ab, cues), 2)
    0.5
    >>> cues[30, 100:110] = True; ab[:, 60:] = 0.0                  # a neutral stroke on the white
    >>> flood_share(gray, ab, cues)
    0.0
    """
    from scipy import ndimage

    # The cues by their raster indices, gathered once (a live copy's mask indexed whole, twice,
    # and padded to blocks took several times as long a stroke).
    at = np.flatnonzero(cues)
    values = ab.reshape(-1, ab.shape[-1])[at]
    coloured = np.hypot(values[:, 0], values[:, 1]) >= NEUTRAL
    if not coloured.any():
        return 0.0
    cue_lightness = float(np.percentile(lightness_of_gray(gray.reshape(-1)[at[coloured]]), 90))
    height, width = gray.shape
    step = max(1, math.ceil(math.sqrt(gray.size / SAMPLES)))
    small = gray[::step, ::step]
    # A block holds a cue if any of its pixels does.
    near_blocks = np.zeros(small.shape, bool)
    cue_rows, cue_cols = np.divmod(at, width)
    near_blocks[cue_rows // step, cue_cols // step] = True
    distance = ndimage.distance_transform_edt(~near_blocks) * step
    far = distance > FAR * min(height, width)
    light = lightness_of_gray(small) >= max(BRIGHT, cue_lightness + MARGIN)
    sampled = ab[::step, ::step]
    tinted = np.hypot(sampled[..., 0], sampled[..., 1]) >= COLOURED
    return float(np.count_nonzero(far & light & tinted) / small.size)
