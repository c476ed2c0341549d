"""The studio's view at full resolution (:mod:`varcolor.ui.view`): the photo's gray, and the
result tiles at 1:1."""

import tracemalloc

import numpy as np

from varcolor.color import to_gray
from varcolor.ui.view import full_gray


def _photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((height, width, 3)).astype(np.float32)


def test_the_full_gray_is_to_grays_by_bands_in_a_fraction_of_its_memory():
    photo = _photo(1100, 900)
    assert np.array_equal(full_gray(photo, True), to_gray(photo).astype(np.float32))
    same = np.repeat(photo[..., :1], 3, axis=2)  # a gray photo stored as RGB: its channel, as to_gray
    assert np.array_equal(full_gray(same, False), to_gray(same).astype(np.float32))
    assert np.array_equal(full_gray(photo[..., 0], False), photo[..., 0])
    tall = _photo(2400, 500, seed=1)

    def peak(make) -> int:
        tracemalloc.start()
        try:
            make(tall)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    # Whole, to_gray takes the pixels in double precision and makes its gray in double; by bands,
    # the result in single precision and a band's temporaries.
    banded, whole = peak(lambda p: full_gray(p, True)), peak(to_gray)
    assert banded < 0.4 * whole, (banded, whole)
