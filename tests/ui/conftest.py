"""What the studio's tests share: a studio served through Starlette's test client (``client``, its
guard's token), a test photo, and the page's requests (open, result, save, a stroke)."""

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import varcolor.common.memory
from varcolor.color import rgb_to_lab
from varcolor.ui.server import create_app
from varcolor.ui.studio import Studio

from ..conftest import wait_until

TOKEN = "test-token"


def edge_photo(tmp_path: Path) -> Path:
    """A gray picture with a strong vertical edge: dark left half, light right half."""
    gray = np.full((40, 60), 0.8)
    gray[:, :30] = 0.2
    gray += np.random.default_rng(0).uniform(-0.01, 0.01, gray.shape)
    path = tmp_path / "photo.png"
    varcolor.write_image(path, gray)
    return path


@pytest.fixture
def client(tmp_path):
    """A studio served through Starlette's test client, with the guard's token; ``client.studio``
    and ``client.tmp`` (its folder) beside it."""
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's note that httpx2 is preferred
        from starlette.testclient import TestClient

    (tmp_path / "out").mkdir()
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    app = create_app(studio, TOKEN, hosts=None, max_upload=200_000)
    with TestClient(app, headers={"X-Varcolor-Token": TOKEN}) as c:
        c.studio = studio
        c.tmp = tmp_path
        yield c
    studio.close()


def open_upload(client, path: Path):
    r = client.post("/api/open", content=path.read_bytes(), headers={"X-Filename": path.name})
    assert r.status_code == 200, r.text
    return r.json()


#: How long a test waits for a live result, asking again after each of the server's 204s (its
#: "nothing yet", as the page does): a first solve in a worker whose numba cache is empty compiles
#: the kernels it runs (test_ui_view.py's took 35-45 s of one core), past one request's 30 s.
RESULT_WAIT = 180.0


def result_response(client, version: int, have: int = 0):
    """``/api/result`` for ``version`` as the page asks for it: again after each 204, up to
    :data:`RESULT_WAIT` seconds; the first other answer (the caller checks it)."""
    deadline = time.monotonic() + RESULT_WAIT
    r = client.get(f"/api/result?version={version}&have={have}&wait=30")
    while r.status_code == 204 and time.monotonic() < deadline:
        r = client.get(f"/api/result?version={version}&have={have}&wait=30")
    return r


def live_result(client, version: int, have: int = 0):
    """The live result for ``version`` as the page gets it, painted into ``client.picture``."""
    r = result_response(client, version, have)
    assert r.status_code == 200
    meta = json.loads(r.headers["x-result"])
    top, left, h, w = meta["box"]
    if h and w:
        client.picture[top : top + h, left : left + w] = np.frombuffer(r.content, np.uint8).reshape(h, w, 4)
    return meta


def save_as_the_page_does(client, name, **body):
    """Save as the page does: start it, then follow its status until it ends; the last status."""
    r = client.post("/api/save", json={"name": name, **body})
    if r.status_code != 200:
        return r
    status = r.json()
    while status["state"] in ("solving", "publishing"):
        time.sleep(0.1)
        status = client.get("/api/save-status").json()
    return status


def studio_with_a_spare_child(tmp_path: Path, monkeypatch, out_dir: Path):
    """A studio on a small photo standing for a scan (a spare save child at once), edited once;
    the studio and its spare child, waiting for a save (None if none started within 30 s)."""
    from varcolor.ui import studio as studio_module

    monkeypatch.setattr(studio_module, "SPARE_PIXELS", 0)
    monkeypatch.setattr(studio_module, "SPARE_DELAY", 0.0)
    studio = Studio(data_dir=tmp_path / "data", out_dir=out_dir, warm=False)
    studio.open_path(edge_photo(tmp_path))
    studio.edit(stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    wait_until(lambda: studio.saves.spare._child is not None, 30, 0.01)
    return studio, studio.saves.spare._child


def assert_the_printed_command_gives_the_result(status: dict, tmp_path: Path) -> None:
    """A save's printed command, run in a shell of its own, writes the saved result pixel for pixel."""
    import shlex
    import subprocess
    import sys

    argv = shlex.split(status["command"])
    out = tmp_path / "shell.png"
    argv[argv.index("-o") + 1] = str(out)
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    subprocess.run([sys.executable, "-m", "varcolor.cli", *argv[1:]], check=True, env=env, capture_output=True)
    assert np.array_equal(varcolor.read_image(out), varcolor.read_image(status["paths"]["result"]))


def stroke_edit(rgb, path, width=3, tool="brush"):
    return {"op": "stroke", "stroke": {"tool": tool, "rgb": rgb, "width": width, "path": path}}


def chroma_of(picture):
    return rgb_to_lab(picture[..., :3] / 255.0)[..., 1:]


def saved_stroke_and_point(tmp_path):
    """A photo opened in a studio, a stroke and a point painted, saved, the studio closed: its
    autosave and session remain in ``tmp_path``. Returns the photo and the save's report."""
    photo = edge_photo(tmp_path)
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    studio.open_path(photo)
    studio.edit(stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    studio.edit({"op": "point", "point": {"x": 50, "y": 30, "rgb": [50, 90, 200], "size": 3}})
    saved = studio.save("photo_colorized")
    studio.close()
    return photo, saved


def many_images(folder: Path, count: int = 300) -> None:
    """A folder of small photos: encoding them one at a time stands for a save that takes long."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(count):
        varcolor.write_image(folder / f"p{index:03d}.png", rng.uniform(0.1, 0.9, (32, 40, 3)))
