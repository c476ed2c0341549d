"""Hostile shapes and points for :class:`varcolor.Cues` (issue 51): the work is bounded by what
the points cover, before painting, and a shape no image can have is one line, not a
MemoryError after an allocation of hundreds of GiB. The cases are generated."""

import itertools
import signal

import numpy as np
import pytest

from varcolor import Cues, InputError
from varcolor.io import MAX_PIXELS
from varcolor.reading.pointfiles import MAX_PAINTED_IMAGES


def bad_shapes():
    """Shapes no image has: too large (each side up to 10^6 past the pixel limit), empty or
    negative sides, fractional or boolean sides, not two numbers."""
    side = int(np.sqrt(MAX_PIXELS)) + 1
    for scale in (1, 10, 1000):
        yield (side * scale, side)
    for h, w in itertools.product((0, -1, -(10**9)), (1, 64)):
        yield (h, w)
        yield (w, h)
    yield from [(10.5, 10), (10, 2.0), (True, 3), (3, np.float64(4)), "ab", (1, 2, 3), 7, None]


@pytest.mark.parametrize("shape", list(bad_shapes()), ids=repr)
def test_a_shape_no_image_has_is_one_line(shape):
    points = [{"y": 0, "x": 0, "a": 10, "b": 10}]
    for make in (lambda: Cues.from_points(points, shape=shape), lambda: Cues.empty(shape)):
        with pytest.raises(InputError) as caught:
            make()
        assert "\n" not in str(caught.value) and "shape" in str(caught.value)


def test_cues_from_a_view_larger_than_any_image_are_refused_before_a_copy():
    shape = (10**6, 10**6)  # 931 GiB of float64 ab
    with pytest.raises(InputError, match="no image size"):
        Cues(np.broadcast_to(False, shape), np.broadcast_to(0.0, shape + (2,)))


def covering_points(times: int, shape=(64, 64)):
    """Points whose disks (centred, radius a quarter of the side: never the whole image) cover the
    image ``times`` times over."""
    height, width = shape
    radius = height // 4
    box = (2 * radius + 1) ** 2
    count = times * height * width // box + 1
    return [{"y": height // 2, "x": width // 2, "a": 5.0 * (i % 7), "b": 0, "radius": radius} for i in range(count)]


@pytest.mark.parametrize("times", [MAX_PAINTED_IMAGES + 1, 10 * MAX_PAINTED_IMAGES])
def test_points_that_cover_the_image_too_many_times_over_are_refused_before_painting(times):
    with pytest.raises(InputError, match="cover the 64×64 image"):
        Cues.from_points(covering_points(times), shape=(64, 64))


def test_points_within_the_bound_are_painted_later_points_winning():
    points = covering_points(MAX_PAINTED_IMAGES // 2)
    cues = Cues.from_points(points, shape=(64, 64))
    disk = cues.mask
    assert disk.sum() == np.count_nonzero((np.arange(64)[:, None] - 32) ** 2 + (np.arange(64)[None] - 32) ** 2 <= 16**2)
    assert np.allclose(cues.ab[disk], [points[-1]["a"], 0])


class _Deadline:
    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        def stop(*_):
            raise TimeoutError(f"over {self.seconds} s: the work is not bounded by what the points cover")

        self.old = signal.signal(signal.SIGALRM, stop)
        signal.alarm(self.seconds)

    def __exit__(self, *exc):
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self.old)


@pytest.mark.parametrize("count", [3_000, 20_000])
def test_many_points_whose_disks_each_cover_the_image_cost_one_disk(count):
    """The issue's case scaled: radius 5,000 on a 1 MP gray took 219 s for 3,000 points before the
    refusal; every disk covers the image, so only the last one shows."""
    rng = np.random.default_rng(count)
    points = [
        {"y": int(y), "x": int(x), "a": float(a), "b": 0.0, "radius": 5000}
        for y, x, a in zip(rng.integers(0, 1000, count), rng.integers(0, 1000, count), rng.uniform(-50, 50, count))
    ]
    with _Deadline(20):
        cues = Cues.from_points(points, shape=(1000, 1000))
    assert cues.mask.all() and np.all(cues.ab[..., 0] == points[-1]["a"])
