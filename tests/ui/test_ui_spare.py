"""A spare save child's work ahead (its kernels, the photo's read and gray) waits while the studio
is busy with a stroke, and never holds up a save or outlives the studio."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import varcolor
from varcolor.app import run_request
from varcolor.ui import saving
from varcolor.ui.saving import Spare, save_request

from ..conftest import alive, photo, photo_and_mask, wait_until
from .conftest import assert_the_printed_command_gives_the_result, edge_photo, stroke_edit, studio_with_a_spare_child

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _cpu(pid: int) -> float:
    """Seconds of CPU process ``pid`` has used (all its threads)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def scan(tmp_path):
    """A colour photo and a stroke mask of two strokes."""
    return photo_and_mask(tmp_path, (300, 400))


def _spare(image: Path) -> tuple[Spare, subprocess.Popen, list]:
    """A spare child started on ``image`` while the studio is busy: the spare, its child, and the
    studio's busyness (``[True]``: set its item to change it)."""
    busy = [True]
    spare = Spare(busy=lambda: busy[0])
    spare.start(image)
    return spare, spare._child, busy


def _save(child: subprocess.Popen, image: Path, mask: Path, output: Path) -> None:
    """Hand ``child`` a save (as :class:`~varcolor.ui.saving.SaveJob` does) and wait for it."""
    request = save_request(image, mask, output, {"method": "levin-multiscale"}, "direct", 8)
    _, err = child.communicate(__import__("json").dumps(request).encode() + b"\n", timeout=120)
    assert child.returncode == 0, err.decode()[-2000:]


def _fresh(image: Path, mask: Path, output: Path) -> bytes:
    """The same save run here, without any work ahead: the bytes it writes."""
    assert run_request(save_request(image, mask, output, {"method": "levin-multiscale"}, "direct", 8)) is None
    return output.read_bytes()


@pytest.mark.slow  # 7-12 s: kept out of make test's 6 minutes (make test-slow runs it)
def test_a_spare_waits_while_the_studio_is_busy_and_a_save_asked_meanwhile_is_made_whole(scan, tmp_path):
    """While the studio says it is busy the child does no work (its CPU time stays still for
    longer than a pause's lease: the studio says it again); a save asked meanwhile does not wait
    and writes what the save would write without a spare."""
    image, mask = scan
    spare, child, _ = _spare(image)
    try:
        time.sleep(1.0)  # the interpreter's start
        before = _cpu(child.pid)
        time.sleep(saving.PAUSE_LEASE + 0.5)
        assert child.poll() is None
        assert _cpu(child.pid) - before < 0.15  # waiting, not working
        taken = spare.take()
        assert taken is child
        _save(child, image, mask, tmp_path / "spare.png")  # still busy: the save goes on
    finally:
        spare.close()
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    assert (tmp_path / "spare.png").read_bytes() == _fresh(image, mask, tmp_path / "fresh.png")


@pytest.mark.slow  # 6 s; a spare's save stays in make test (a scan saved by a spare child)
def test_a_spare_works_ahead_once_the_studio_is_idle_and_its_gray_is_the_saves(scan, tmp_path):
    image, mask = scan
    spare, child, busy = _spare(image)
    try:
        time.sleep(1.0)
        before = _cpu(child.pid)
        busy[0] = False  # the stroke is painted: the work ahead goes on
        assert wait_until(lambda: _cpu(child.pid) - before > 0.3, 30, 0.05)
        _save(spare.take(), image, mask, tmp_path / "spare.png")
    finally:
        spare.close()
    assert (tmp_path / "spare.png").read_bytes() == _fresh(image, mask, tmp_path / "fresh.png")


@pytest.mark.slow
def test_a_lost_idle_ends_the_wait_after_the_lease(scan, monkeypatch):
    """A studio that said ``busy`` and no more (hung, or its ``idle`` lost) holds the work ahead
    for :data:`~varcolor.ui.saving.PAUSE_LEASE` seconds, not for ever."""
    image, _ = scan
    monkeypatch.setattr(saving, "PAUSE_LEASE", 1.5)
    child = saving._child(["--spare", str(image)], ENV)
    try:
        child.stdin.write(b"busy\n")
        child.stdin.flush()
        time.sleep(0.7)
        before = _cpu(child.pid)
        time.sleep(0.5)
        assert _cpu(child.pid) - before < 0.1
        assert wait_until(lambda: _cpu(child.pid) - before > 0.3, 30, 0.05)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def test_a_spare_for_another_photo_replaces_a_waiting_one(scan, tmp_path):
    image, _ = scan
    other = tmp_path / "other.png"
    varcolor.write_image(other, photo("astronaut", (60, 80)))
    spare = Spare(busy=lambda: True)
    spare.start(image)
    first = spare._child
    try:
        spare.start(other)
        assert first.poll() is not None  # the waiting child is gone, not left stopped
        assert spare._child.args[-1] == str(other) and spare._child.poll() is None
    finally:
        spare.close()


KILLED_STUDIO = """
import sys, time
from pathlib import Path
from varcolor.ui.saving import Spare

spare = Spare(busy=lambda: sys.argv[2] == "busy")
spare.start(Path(sys.argv[1]))
print(spare._child.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.slow  # a studio killed -9, its spare child watched to the end: `make test-slow`
@pytest.mark.parametrize("state", ["busy", "idle"])
def test_a_spare_ends_with_a_studio_killed_while_it_waits_or_works(scan, tmp_path, state):
    """kill -9 of the studio mid-stroke (its spare waiting) or while the spare makes the gray: the
    child, and the memory it holds, go within seconds."""
    image, _ = scan
    script = tmp_path / "studio.py"
    script.write_text(KILLED_STUDIO)
    studio = subprocess.Popen([sys.executable, str(script), str(image), state], env=ENV, stdout=subprocess.PIPE)
    child = None
    try:
        child = int(studio.stdout.readline())
        time.sleep(1.5)
        assert alive(child)
        studio.kill()
        studio.wait()
        assert wait_until(lambda: not alive(child), 10, 0.05)
    finally:
        studio.kill()
        studio.wait()
        if child is not None and alive(child):
            os.killpg(child, signal.SIGKILL)


@pytest.mark.slow  # 5 s; a spare's save stays in make test (a scan saved by a spare child)
def test_a_studio_making_tiles_holds_its_spare_and_still_saves(tmp_path, monkeypatch):
    """The studio says busy while it makes the view's tiles (or solves a stroke): its spare, started
    then, waits from its first line; Ctrl+S then saves at once, whole."""
    from varcolor.ui import studio as studio_module

    monkeypatch.setattr(studio_module, "SPARE_PIXELS", 0)
    monkeypatch.setattr(studio_module, "SPARE_DELAY", 0.0)
    image = tmp_path / "photo.png"
    varcolor.write_image(image, photo("coffee", (120, 160)))
    studio = studio_module.Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    try:
        studio.open_path(image)
        assert studio.saves.spare.busy == studio._working
        assert wait_until(lambda: not studio._working(), 30, 0.01)  # the opened photo shown
        with monkeypatch.context() as saving_now:
            saving_now.setattr(type(studio.saves), "running", property(lambda self: True))
            assert studio._working()  # a save under way: the next one's child waits for it
        studio._tiles_made += 1  # a tile of the view under way
        assert studio._working()
        stroke = {"tool": "brush", "rgb": [200, 60, 50], "width": 3, "path": [[5, 10], [60, 10]]}
        studio.edit({"op": "stroke", "stroke": stroke})
        assert wait_until(lambda: studio.saves.spare._child is not None, 30, 0.01)
        child = studio.saves.spare._child
        time.sleep(1.0)
        before = _cpu(child.pid)
        time.sleep(1.5)
        assert _cpu(child.pid) - before < 0.15
        status = studio.save("busy")
        assert status["state"] == "done" and studio.saves.job._child is child
    finally:
        studio.close()
    assert varcolor.read_image(status["paths"]["result"]).shape == (120, 160, 3)


@pytest.mark.slow
def test_a_saves_stroke_mask_is_drawn_by_its_child_not_in_the_studio(tmp_path, monkeypatch):
    """The studio never draws the full-resolution mask of a save (a 40 MP one and Pillow's picture
    of it were 0.28 GB of its peak): the child does, the same file the studio drew."""
    from varcolor.io import encode_image
    from varcolor.ui import document
    from varcolor.ui import studio as studio_module

    image = tmp_path / "photo.png"
    varcolor.write_image(image, photo("coffee", (120, 160)))
    studio = studio_module.Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    real = document.rasterize

    def small_only(doc, shape, full_shape=None):
        assert tuple(shape) != (120, 160), "the studio drew the full mask"
        return real(doc, shape, full_shape)

    try:
        studio.open_path(image)
        studio.edit(
            {"op": "stroke", "stroke": {"tool": "brush", "rgb": [200, 60, 50], "width": 5, "path": [[5, 10], [90, 40]]}}
        )
        studio.edit({"op": "point", "point": {"x": 120, "y": 90, "rgb": [40, 90, 210], "size": 7}})
        for module in (document, saving, studio_module):
            monkeypatch.setattr(module, "rasterize", small_only, raising=False)
        status = studio.save("drawn")
        doc = studio.history.current
    finally:
        studio.close()
    assert status["state"] == "done"
    assert Path(status["paths"]["mask"]).read_bytes() == encode_image(real(doc, (120, 160)), ".png")


@pytest.mark.slow
def test_a_scan_is_saved_by_a_spare_child_started_ahead_and_gives_the_printed_commands_result(tmp_path, monkeypatch):
    """After an edit of a scan, a child that has imported the command line waits for the save;
    Ctrl+S hands it the printed command, and the result is that command's from a fresh process."""

    studio, spare = studio_with_a_spare_child(tmp_path, monkeypatch, tmp_path)
    try:
        assert spare is not None and spare.poll() is None
        assert spare.args[-2:] == ["--spare", str(studio.image.path)]  # it makes the photo's gray ahead
        status = studio.save("spared")
        assert studio.saves.job._child is spare and spare.returncode == 0  # the spare did the save
        assert studio.saves.spare._child is None  # taken: the next edit starts another
    finally:
        studio.close()
    assert_the_printed_command_gives_the_result(status, tmp_path)


@pytest.mark.slow  # 8-10 s in make test, beside the other spares' tests; make test-slow runs it
def test_a_spare_child_waiting_for_another_photo_is_replaced(tmp_path, monkeypatch):
    # A spare made the gray of the photo open when it started: another photo opened meanwhile
    # gets a spare of its own (the first one ends), whose save is that photo's.
    studio, spare = studio_with_a_spare_child(tmp_path, monkeypatch, tmp_path)
    try:
        other = tmp_path / "other"
        other.mkdir()
        studio.open_path(edge_photo(other))
        studio.edit(stroke_edit([50, 90, 200], [[5, 10], [20, 10]]))
        assert wait_until(lambda: studio.saves.spare._child not in (None, spare), 30, 0.01)
        assert spare.wait(10) is not None
        assert studio.saves.spare._child.args[-1] == str(other / "photo.png")
        status = studio.save("other")
    finally:
        studio.close()
    assert_the_printed_command_gives_the_result(status, tmp_path)


def test_closing_the_studio_ends_its_spare_child(tmp_path, monkeypatch):
    studio, spare = studio_with_a_spare_child(tmp_path, monkeypatch, tmp_path)
    studio.close()
    assert spare.poll() is not None
