"""A save's child process (varcolor.ui.save_child) ends with the studio that started it."""

from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from ..conftest import alive, wait_until
from .conftest import edge_photo, many_images

KILL_STUDIO_MID_SAVE = """
import sys
from pathlib import Path
from varcolor.ui import saving, studio as studio_module

folder, spare = Path(sys.argv[1]), sys.argv[2] == "spare"
# A save that runs long (encoding a folder of many images, one at a time) stands for one of a scan.
long = {"command": "encode", "source": str(folder / "in"), "output": str(folder / "ir"), "workers": 1, "quiet": True}
saving.save_request = lambda *args, **keywords: {**long, "grid_size": 16, "spacing": 4}
studio_module.SPARE_PIXELS, studio_module.SPARE_DELAY = (0, 0.0) if spare else (10**12, 0.0)
studio = studio_module.Studio(data_dir=folder / "data", out_dir=folder / "out", warm=False)
studio.open_path(folder / "photo.png")
stroke = {"tool": "brush", "rgb": [200, 60, 50], "width": 3, "path": [[5, 10], [20, 10]]}
studio.edit({"op": "stroke", "stroke": stroke})
if spare:
    while studio.saves.spare._child is None:
        pass
studio.start_save("long", "png", False)
while studio.saves.job._child is None:
    pass
print(studio.saves.job._child.pid, flush=True)
studio.saves.job.wait()
"""


@pytest.mark.slow  # a studio killed -9 mid-save, its save child watched to the end: `make test-slow`
@pytest.mark.parametrize("spare", ["spare", "fresh"])
def test_a_save_child_ends_with_a_studio_killed_mid_save(tmp_path, spare):
    """kill -9 of the studio (or the OOM killer) mid-save: its save child, in a session of its own,
    ran on to the end of a save no one would publish (forever here; a scan's full solve and its
    gigabytes in life). It now ends within seconds of the studio."""
    import os
    import signal
    import subprocess
    import sys

    edge_photo(tmp_path)
    many_images(tmp_path / "in")
    script = tmp_path / "studio.py"
    script.write_text(KILL_STUDIO_MID_SAVE)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    studio = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), spare], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    child = None
    try:
        line = studio.stdout.readline()
        assert line, studio.stderr.read().decode()[-2000:]
        child = int(line)
        wait_until(lambda: list((tmp_path / "ir").glob("*.png")), 120, 0.1)  # the child is at work
        assert list((tmp_path / "ir").glob("*.png")), studio.stderr.read1().decode()[-2000:]
        studio.kill()
        studio.wait()
        wait_until(lambda: not _alive(child), 10, 0.1)
        assert not _alive(child)
    finally:
        studio.kill()
        studio.wait()
        if child is not None and _alive(child):
            os.killpg(child, signal.SIGKILL)


_alive = alive
