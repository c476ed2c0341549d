"""Strokes as a restorer places them (issue 93): one antialiased stroke along each of the most
colourful objects of a photo, in the object's own median colour, nothing on neutral objects;
and the scores that tell restraint: gain over the gray image, leak (chroma where the truth is
neutral and no stroke lies) and reach (|Δab| inside the stroked objects).

Objects are regions of one colour of the colour original (:func:`segments`); an object is
colourful where its median chroma is at least :data:`COLOURFUL` and neutral below
:data:`NEUTRAL`. A stroke follows the longest branch of the object's skeleton (the object shrunk
by the stroke's half width first, so that the paint stays inside), :data:`WIDTH` of the photo's
side wide, antialiased (coverage from the distance to that path), painted in the object's
median sRGB colour over the gray.

Used by ``restraint.py`` (the benchmark) and importable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Objects whose median chroma (Lab ab) is at least this are colourful (strokes go on the most
#: colourful of them) ...
COLOURFUL = 15.0
#: ... and below this neutral (white, gray, black, pale: a restorer leaves them alone).
NEUTRAL = 8.0
#: Strokes on this many objects at most (the most colourful first).
OBJECTS = 5
#: An object smaller than this share of the photo gets no stroke (too small to aim at).
SMALLEST = 0.004
#: Superpixels whose mean Lab colours lie within this (ΔE76) are one object.
MERGE = 12.0
#: A stroke's width as a share of the photo's side (geometric mean of height and width), at
#: least 3 pixels.
WIDTH = 0.012


@dataclass
class Marked:
    """A photo's gray, its marked copy and what the scores read."""

    truth: np.ndarray  # H×W×3 in [0, 1]
    gray: np.ndarray  # H×W same-lightness gray in [0, 1]
    marked: np.ndarray  # H×W×3, the strokes painted over the gray (antialiased)
    stroked: np.ndarray  # H×W bool: the objects a stroke lies on
    neutral: np.ndarray  # H×W bool: pixels of neutral objects
    paint: np.ndarray  # H×W float: each pixel's coverage by paint
    objects: int


def segments(rgb: np.ndarray) -> np.ndarray:
    """The objects of a colour photo: regions of one colour, as a restorer sees them
    (Felzenszwalb's superpixels, their scale following the photo's size, merged, the nearest pair
    first, while the merged regions' mean Lab colours lie within :data:`MERGE` of each other:
    scikit-image's ``merge_hierarchical``)."""
    from skimage import graph
    from skimage.segmentation import felzenszwalb

    import varcolor

    lab = varcolor.color.rgb_to_lab(rgb)
    side = np.sqrt(rgb.shape[0] * rgb.shape[1])
    superpixels = felzenszwalb(rgb, scale=side / 4, sigma=0.8, min_size=int(side / 4))
    adjacency = graph.rag_mean_color(lab, superpixels)

    def weight(rag, src, dst, n):
        difference = rag.nodes[dst]["mean color"] - rag.nodes[n]["mean color"]
        return {"weight": float(np.linalg.norm(difference))}

    def merge(rag, src, dst):
        node = rag.nodes[dst]
        node["total color"] += rag.nodes[src]["total color"]
        node["pixel count"] += rag.nodes[src]["pixel count"]
        node["mean color"] = node["total color"] / node["pixel count"]

    return graph.merge_hierarchical(
        superpixels, adjacency, thresh=MERGE, rag_copy=False, in_place_merge=True, merge_func=merge, weight_func=weight
    )


def _path(region: np.ndarray, half: float) -> np.ndarray | None:
    """The longest branch of ``region``'s skeleton once shrunk by ``half`` pixels: a bool mask."""
    from scipy import ndimage
    from skimage.morphology import skeletonize

    inner = ndimage.distance_transform_edt(region) > half + 1
    if inner.sum() < 4:
        return None
    labels, count = ndimage.label(inner)
    if count > 1:  # the largest piece
        inner = labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
    skeleton = skeletonize(inner)
    points = np.argwhere(skeleton)
    if len(points) < 2:
        return skeleton
    # The longest path through the skeleton: two breadth-first searches over its pixels.
    index = {tuple(p): i for i, p in enumerate(points)}
    neighbours = [
        [index[(y + dy, x + dx)] for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy or dx) and (y + dy, x + dx) in index]
        for y, x in points
    ]

    def farthest(start: int) -> tuple[int, list[int]]:
        parent = {start: -1}
        queue, last = [start], start
        while queue:
            following = []
            for node in queue:
                for other in neighbours[node]:
                    if other not in parent:
                        parent[other] = node
                        following.append(other)
                        last = other
            queue = following
        path, node = [], last
        while node != -1:
            path.append(node)
            node = parent[node]
        return last, path

    end, _ = farthest(0)
    _, path = farthest(end)
    mask = np.zeros(region.shape, bool)
    ys, xs = points[path].T
    mask[ys, xs] = True
    return mask


def place(
    truth: np.ndarray, objects: int = OBJECTS, colourful: float = COLOURFUL, smallest: float = SMALLEST
) -> Marked:
    """Strokes on the ``objects`` most colourful objects of ``truth`` (RGB in [0, 1]) whose median
    chroma is at least ``colourful`` and whose area is at least ``smallest`` of the photo's."""
    from scipy import ndimage

    import varcolor

    gray = varcolor.color.same_lightness_gray(truth)
    lab = varcolor.color.rgb_to_lab(truth)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    labels = segments(truth)
    count = int(labels.max()) + 1
    area = np.bincount(labels.ravel(), minlength=count)
    median = np.array([np.median(chroma[labels == k]) if area[k] else 0.0 for k in range(count)])
    big = area >= smallest * labels.size
    order = [k for k in np.argsort(-median) if big[k] and median[k] >= colourful]
    half = max(3.0, WIDTH * np.sqrt(labels.size)) / 2
    paint = np.zeros(labels.shape)
    colour = np.zeros(truth.shape)
    stroked = np.zeros(labels.shape, bool)
    used = 0
    for k in order:
        if used == objects:
            break
        region = labels == k
        path = _path(region, half)
        if path is None or not path.any():
            continue
        distance = ndimage.distance_transform_edt(~path)
        cover = np.clip(half + 0.5 - distance, 0.0, 1.0) * region
        rgb = np.median(truth[region], axis=0)
        colour = np.where(cover[..., None] > paint[..., None], rgb, colour)
        paint = np.maximum(paint, cover)
        stroked |= region
        used += 1
    marked = gray[..., None] * (1 - paint[..., None]) + colour * paint[..., None]
    marked = np.round(marked * 255) / 255  # an 8-bit file's
    neutral = (median[labels] < NEUTRAL) & ~stroked
    return Marked(truth, np.round(gray * 255) / 255, marked, stroked, neutral, paint, used)


def scores(result: np.ndarray, case: Marked) -> dict[str, float]:
    """PSNR of the result and of the gray image against the truth (8-bit), leak (mean chroma of
    the result on neutral pixels no stroke touches) and reach (mean |Δab| against the truth in
    the stroked objects)."""
    import varcolor

    gray_rgb = np.repeat(case.gray[..., None], 3, axis=2)
    psnr = varcolor.metrics.psnr(result, case.truth)
    base = varcolor.metrics.psnr(gray_rgb, case.truth)
    lab, true = varcolor.color.rgb_to_lab(result), varcolor.color.rgb_to_lab(case.truth)
    clean = case.neutral & (case.paint == 0)
    leak = float(np.hypot(lab[..., 1], lab[..., 2])[clean].mean()) if clean.any() else float("nan")
    off = np.hypot(lab[..., 1] - true[..., 1], lab[..., 2] - true[..., 2])
    reach = float(off[case.stroked].mean()) if case.stroked.any() else float("nan")
    return {"psnr": psnr, "gray_psnr": base, "gain": psnr - base, "leak": leak, "reach": reach}


def upscaled(case: Marked, times: int) -> Marked:
    """The same photo and strokes ``times`` larger a side (linear; the marks' antialiased edges
    scale with them; the masks by nearest neighbour)."""
    from skimage.transform import resize

    shape = (case.gray.shape[0] * times, case.gray.shape[1] * times)

    def smooth(x: np.ndarray) -> np.ndarray:
        return np.clip(resize(x, shape + x.shape[2:], order=1, anti_aliasing=False), 0, 1)

    def nearest(x: np.ndarray) -> np.ndarray:
        return x.repeat(times, axis=0).repeat(times, axis=1)

    truth = smooth(case.truth)
    import varcolor

    gray = np.round(varcolor.color.same_lightness_gray(truth) * 255) / 255
    paint = smooth(case.paint)
    marked = smooth(case.marked)
    # Where no paint lies the marked copy is the gray (an exact copy), as a restorer's file is.
    marked = np.where(paint[..., None] > 0, np.round(marked * 255) / 255, gray[..., None])
    return Marked(truth, gray, marked, nearest(case.stroked), nearest(case.neutral), paint, case.objects)
