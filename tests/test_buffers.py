"""Spares: arrays used again only when nothing else refers to them."""

import numpy as np

import varcolor
import varcolor.interactive
from varcolor.buffers import Spares

from .conftest import gray_and_cues, stroke


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def test_a_dropped_array_is_used_again_and_overwritten_whole():
    spares = Spares()
    first = spares.copy_of(np.zeros((3, 4)))
    address = _address(first)
    first[:] = 7.0  # what its caller did to it before letting go shows nowhere
    del first
    again = spares.copy_of(np.arange(12.0).reshape(3, 4))
    assert _address(again) == address
    np.testing.assert_array_equal(again, np.arange(12.0).reshape(3, 4))


def test_an_array_held_elsewhere_or_seen_through_a_view_is_never_used_again():
    spares = Spares(keep=2)
    held = spares.copy_of(np.zeros((3, 4)))
    view = spares.copy_of(np.zeros((3, 4)))[1:]  # only a view of the second is kept
    third = spares.copy_of(np.ones((3, 4)))
    assert not np.shares_memory(third, held) and not np.shares_memory(third, view)
    assert not held.any() and not view.any()
    # another shape or type is a new array too
    assert spares.copy_of(np.ones((4, 3))).shape == (4, 3)
    assert Spares(keep=0).copy_of(np.ones(2)).tolist() == [1.0, 1.0]


def test_edits_never_change_a_result_the_caller_kept(monkeypatch):
    """Each edit's colours go into the memory of a result its caller let go of, never into one
    it kept: the kept results stay as they were returned, and a dropped one's memory is reused."""
    monkeypatch.setattr(varcolor.interactive.Updates, "compare_with_fresh", False)
    for space in ("lab", "yiq"):
        gray, cues = gray_and_cues("coffee", (300, 320), 40, np.random.default_rng(0))
        colorizer = varcolor.Colorizer(gray, method="levin-multiscale", factor=4, space=space)
        kept = [colorizer.solve(cues)]
        snapshots = [(kept[0].rgb.copy(), kept[0].ab.copy())]
        addresses, dropped = [], set()
        for k in range(6):
            result = colorizer.update(stroke(gray.shape, slice(20 + 40 * k, 23 + 40 * k), slice(30, 90), (30.0, -20.0)))
            addresses.append(_address(result.rgb))
            if k % 2:  # every other result kept, the rest let go
                kept.append(result)
                snapshots.append((result.rgb.copy(), result.ab.copy()))
            else:
                dropped.add(addresses[-1])
            del result
        for result, (rgb, ab) in zip(kept, snapshots):
            np.testing.assert_array_equal(result.rgb, rgb)
            np.testing.assert_array_equal(result.ab, ab)
        assert dropped & set(addresses[3:])  # a later result lives where a dropped one was
