"""A photo's gray made ahead of its run (:func:`varcolor.app.solve.prepare`): a studio's next save
reads and converts its scan while the user still edits. The run then gives the same file, and
never a gray of another photo."""

import os

import numpy as np
import pytest

import varcolor
import varcolor.app.solve as solve
from varcolor.app import run_request

from ..conftest import photo, photo_and_mask


def _request(image, mask, output, **extra):
    return {
        "command": "colorize",
        "source": str(image),
        "output": str(output),
        "mask": str(mask),
        "edges": "exact",
        "quiet": True,
        **extra,
    }


@pytest.fixture
def scan(tmp_path):
    """A colour photo and a stroke mask of two strokes."""
    return photo_and_mask(tmp_path, (60, 80))


@pytest.fixture
def reads(monkeypatch):
    """The photos read by the run (``read_image`` in the application layer)."""
    seen = []
    real = solve.read_image

    def spy(path, *args, **keywords):
        seen.append(os.path.basename(path))
        return real(path, *args, **keywords)

    monkeypatch.setattr(solve, "read_image", spy)
    monkeypatch.setattr(solve, "_prepared", None)
    return seen


def test_a_run_after_prepare_uses_its_gray_and_writes_the_same_file(scan, tmp_path, reads):
    image, mask = scan
    assert run_request(_request(image, mask, tmp_path / "fresh.png")) is None
    assert reads == ["photo.png"]
    solve.prepare(image)
    assert reads == ["photo.png"] * 2  # read once, ahead
    assert run_request(_request(image, mask, tmp_path / "ahead.png")) is None
    assert reads == ["photo.png"] * 2  # not read again by the run
    assert (tmp_path / "ahead.png").read_bytes() == (tmp_path / "fresh.png").read_bytes()
    # Handed out once: the next run reads the photo itself.
    assert run_request(_request(image, mask, tmp_path / "again.png")) is None
    assert reads == ["photo.png"] * 3


def test_a_photo_changed_after_prepare_is_read_again(scan, tmp_path, reads):
    image, mask = scan
    solve.prepare(image)
    before = image.stat()
    # Another photo of the same size in bytes' place, its time set back: only its content differs.
    other = photo("astronaut", (60, 80))
    varcolor.write_image(tmp_path / "other.png", other)
    image.write_bytes((tmp_path / "other.png").read_bytes())
    os.utime(image, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert run_request(_request(image, mask, tmp_path / "out.png")) is None
    assert reads == ["photo.png"] * 2  # ahead, then by the run: the gray made ahead is not used
    run_request(_request(tmp_path / "other.png", mask, tmp_path / "reference.png"))
    assert (tmp_path / "out.png").read_bytes() == (tmp_path / "reference.png").read_bytes()


def test_a_layered_output_or_marked_cues_read_the_photo_as_it_is(scan, tmp_path, reads):
    # A layered result carries the photo as read (its colours); marks are told from the photo's pixels.
    image, mask = scan
    solve.prepare(image)
    assert run_request(_request(image, mask, tmp_path / "out.ora")) is None
    assert reads == ["photo.png", "photo.png"]


@pytest.mark.parametrize("bits", [8, 16])
def test_prepare_makes_the_runs_gray_band_by_band_and_can_wait_between_them(tmp_path, bits, monkeypatch):
    """The gray made ahead is the run's own (``to_gray`` of the photo read), in bands: ``between``
    is called before each, and the work waits there as long as it does."""
    import threading

    from varcolor import color

    monkeypatch.setattr(color, "GRAY_BAND_PIXELS", 40 * 100)  # bands of 100 rows
    image = tmp_path / "photo.png"
    varcolor.write_image(image, photo("coffee", (2 * 100 + 5, 40)), bits=bits)
    gate, calls = threading.Event(), []

    def between():
        calls.append(1)
        if len(calls) == 3:  # the channels' comparison (its first band differs)
            assert gate.wait(30)

    solve._prepared = None
    worker = threading.Thread(target=solve.prepare, args=(image,), kwargs={"between": between})
    worker.start()
    worker.join(0.5)
    assert worker.is_alive() and solve._prepared is None  # waiting where it was told to
    gate.set()
    worker.join(30)
    key, gray = solve._prepared
    solve._prepared = None
    assert len(calls) == 2 + 1 + 3  # before the file's digest and read, the comparison, the gray's bands
    assert np.array_equal(gray, color.to_gray(varcolor.read_image(image)))
