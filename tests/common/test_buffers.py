"""Spares: arrays used again only when nothing else refers to them, and made ahead."""

import threading
import tracemalloc

import numpy as np
import pytest

import varcolor
import varcolor.methods.interactive
from varcolor.common.buffers import Spares

from ..conftest import gray_and_cues, stroke

pytestmark = pytest.mark.usefixtures("kernels")  # not a first run's array code (tests/conftest.py)


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
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
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


def _join_made_ahead() -> None:
    for thread in threading.enumerate():
        if thread.name == "varcolor-spares":
            thread.join()


def _new_blocks(action, at_least: int) -> list[int]:
    """The sizes of the blocks ``action`` allocated and left alive, of ``at_least`` bytes."""
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        kept = action()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    del kept
    grown = after.compare_to(before, "traceback")
    return [stat.size_diff for stat in grown if stat.size_diff >= at_least]


def test_an_array_made_ahead_is_the_one_handed_out_next():
    """What :meth:`Spares.prepare` makes in its thread (every page written: zeros) is what the
    next request of its kind gets: no new memory then."""
    spares = Spares()
    spares.prepare((300, 400), np.float64)
    _join_made_ahead()
    handed = []
    assert _new_blocks(lambda: handed.append(spares.empty((300, 400), np.float64)), 300 * 400 * 4) == []
    assert not handed[0].any()  # (the pages it wrote)
    # another kind is not it
    assert spares.empty((400, 300), np.float64).shape == (400, 300)


def test_nothing_is_made_ahead_where_one_is_free_or_keep_are_held():
    spares = Spares(keep=2)
    first = spares.empty((50, 60), np.float32)
    del first  # free: the next request takes it, nothing made
    spares.prepare((50, 60), np.float32)
    assert not [t for t in threading.enumerate() if t.name == "varcolor-spares"]
    held = [spares.empty((50, 60), np.float32), spares.empty((50, 60), np.float32)]  # two held, both in use
    spares.prepare((50, 60), np.float32)
    assert not [t for t in threading.enumerate() if t.name == "varcolor-spares"]
    third = spares.empty((50, 60), np.float32)
    assert not any(np.shares_memory(third, array) for array in held)
    Spares(keep=0).prepare((2, 2), np.float64)  # none kept: none made
    assert not [t for t in threading.enumerate() if t.name == "varcolor-spares"]


def test_the_first_edit_after_a_solve_writes_into_memory_made_ahead(monkeypatch):
    """After ``Colorizer.solve`` the first update's result (RGB, chroma) and its cue set go into
    arrays made in threads while the user draws, not into fresh memory (at 12 MP 0.3-0.9 s of
    page mapping in the edit); the result the caller kept is untouched. ``varcolor.colorize``,
    a one-off, makes nothing ahead."""
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    gray, cues = gray_and_cues("coffee", (300, 320), 40, np.random.default_rng(0))
    colorizer = varcolor.Colorizer(gray, method="levin-multiscale", factor=4)
    first = colorizer.solve(cues)
    snapshot = first.rgb.copy()
    _join_made_ahead()
    new = stroke(gray.shape, slice(100, 103), slice(30, 90), (30.0, -20.0))
    made = []  # (what this edit makes ahead for the next one is not counted)
    monkeypatch.setattr(Spares, "prepare", lambda self, shape, dtype, most=None: made.append(shape), raising=False)
    # No block as large as the result's chroma (smaller than its RGB and its cue set's ab) is new.
    blocks = _new_blocks(lambda: colorizer.update(new), min(first.ab.nbytes, colorizer.cues.ab.nbytes))
    assert blocks == [], blocks
    np.testing.assert_array_equal(first.rgb, snapshot)
    assert made  # the update would make the next one's cue set's array ahead
    made.clear()
    varcolor.colorize(gray, cues, method="levin-multiscale", factor=4)
    assert made == []


def test_yiq_edits_make_no_more_than_two_arrays_of_each_kind_ahead(monkeypatch):
    """In YIQ the painter holds RGB and Lab chroma arrays (four in all): once two of each kind
    are held (the last result's, the next one's), an edit makes nothing more ahead (before, each
    edit made another RGB in a thread, pushing out one held)."""
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    gray, cues = gray_and_cues("coffee", (200, 240), 30, np.random.default_rng(1))
    colorizer = varcolor.Colorizer(gray, method="levin-multiscale", factor=4, space="yiq")
    results = [colorizer.solve(cues)]
    assert len(colorizer.painter.spares._making) == 2  # the first edit's RGB and chroma
    for k in range(4):
        results.append(
            colorizer.update(stroke(gray.shape, slice(20 + 30 * k, 23 + 30 * k), slice(30, 90), (30.0, -20.0)))
        )
        assert colorizer.painter.spares._making == [], k
