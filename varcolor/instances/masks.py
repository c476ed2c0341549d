"""An instance's mask from its box and the image's own edges, by Levin's system."""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla
from skimage.transform import resize

from ..energies.levin import exact_operator

__all__ = ["soft_mask", "CORE", "MASK_SIDE"]

#: Semi-axes of the core ellipse held at 1, as fractions of the box's height and width: the
#: middle of a face or body box is the object (the cascades' boxes are centred on it).
CORE = 0.25
#: The longest side (pixels) of a box at which its mask is solved; bigger boxes are scaled down.
MASK_SIDE = 192
#: Pixels of context around the box at the working size (held at 0: the edges inside the box
#: decide where the value falls, the ring gives the system its outside).
RING = 2


def soft_mask(gray: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The soft mask ``α`` of the object in ``box`` (top, left, height, width) of ``gray``: an
    array of the box's shape in [0, 1], 1 on the object's core, falling at its edges, small at
    the box's border (pixels outside the box belong to other things).

    Parameters
    ----------
    gray : ndarray, ``H×W``
        Gray values in [0, 1] (the luminance guide).
    box : tuple of int
        ``(top, left, height, width)`` inside ``gray``.

    Returns
    -------
    ndarray, ``height×width``

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.full((60, 60), 0.2); gray[20:40, 20:40] = 0.8   # a bright square on dark
    >>> alpha = soft_mask(gray, (10, 10, 40, 40))
    >>> bool(alpha[15:25, 15:25].min() > 0.9), bool(alpha[:5].max() < 0.2)    # the square, not the dark
    (True, True)
    """
    top, left, height, width = (int(v) for v in box)
    rows, columns = gray.shape
    # The box and a ring of context, clipped to the image.
    scale = min(1.0, MASK_SIDE / max(height, width))
    ring = int(np.ceil(RING / scale))
    y0, x0 = max(top - ring, 0), max(left - ring, 0)
    y1, x1 = min(top + height + ring, rows), min(left + width + ring, columns)
    crop = gray[y0:y1, x0:x1]
    size = (max(3, round(crop.shape[0] * scale)), max(3, round(crop.shape[1] * scale)))
    small = resize(crop, size, order=1, anti_aliasing=scale < 1) if size != crop.shape else crop
    # Box and core in working-size coordinates.
    fy, fx = size[0] / crop.shape[0], size[1] / crop.shape[1]
    by0, bx0 = (top - y0) * fy, (left - x0) * fx
    by1, bx1 = by0 + height * fy, bx0 + width * fx
    yy, xx = np.mgrid[0 : size[0], 0 : size[1]] + 0.5
    inside = (yy >= by0) & (yy <= by1) & (xx >= bx0) & (xx <= bx1)
    cy, cx = (by0 + by1) / 2, (bx0 + bx1) / 2
    core = ((yy - cy) / max(CORE * (by1 - by0), 1.0)) ** 2 + ((xx - cx) / max(CORE * (bx1 - bx0), 1.0)) ** 2 <= 1
    core &= inside
    held = ~inside | core
    alpha = core.astype(np.float64)
    free = np.flatnonzero(~held)
    if free.size:
        # Levin's rows of the free pixels: u(r) − Σ w u(s) = 0, the held ones moved to the right.
        matrix = exact_operator(small, held).to_csr()
        rows_free = matrix[free]
        rhs = -(rows_free @ alpha.ravel())
        system = rows_free[:, free]
        alpha.ravel()[free] = spla.spsolve(system.tocsc(), rhs)
    alpha = np.clip(alpha, 0.0, 1.0)
    if size != crop.shape:
        alpha = np.clip(resize(alpha, crop.shape, order=1), 0.0, 1.0)
    return alpha[top - y0 : top - y0 + height, left - x0 : left - x0 + width]
