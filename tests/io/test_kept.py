"""Decoded pixels kept for one later read (varcolor.io.kept): taken once, never for a changed file,
within their bound."""

import os

import numpy as np
import pytest

from varcolor.io import kept


@pytest.fixture(autouse=True)
def empty():
    kept.forget()
    yield
    kept.forget()


def test_kept_pixels_are_taken_once_and_only_as_they_were_read(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"one")
    pixels = np.ones((4, 4))
    kept.keep(path, ("gray", 1), pixels, pixels.nbytes)
    assert kept.take(path, ("gray", 2)) is None  # read another way: not these pixels
    assert kept.take(path, ("gray", 1)) is pixels
    assert kept.take(path, ("gray", 1)) is None  # given up to its one reader


def test_a_file_changed_since_is_decoded_again(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"one")
    kept.keep(path, "how", np.zeros(3), 24)
    replacement = tmp_path / "b.png"
    replacement.write_bytes(b"two")
    os.replace(replacement, path)  # another file under the name (as a publish makes it)
    assert kept.take(path, "how") is None
    assert kept.take(tmp_path / "gone.png", "how") is None  # nor one that is not there


def test_the_oldest_go_first_past_the_bound_and_a_photo_larger_than_it_is_never_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(kept, "KEPT_BYTES", 100)
    paths = [tmp_path / f"{i}.png" for i in range(3)]
    for i, path in enumerate(paths):
        path.write_bytes(bytes([i]))
        kept.keep(path, "how", i, 40)
    assert [kept.take(path, "how") for path in paths] == [None, 1, 2]
    kept.keep(paths[0], "how", "big", 101)
    assert kept.take(paths[0], "how") is None
