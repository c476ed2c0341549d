"""The studio's HTTP API (varcolor.ui) through Starlette's test client: opening, editing, undo,
saving, session restore and the guard (token, origin, upload size, save folder)."""

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import varcolor.memory

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note that httpx2 is preferred
    from starlette.testclient import TestClient

import varcolor
from varcolor import cli
from varcolor.color import rgb_to_lab
from varcolor.ui.document import Document, cues_from_mask, rasterize
from varcolor.ui.server import create_app
from varcolor.ui.studio import Studio

from ..conftest import alive, photo, wait_until

TOKEN = "test-token"


def _photo(tmp_path: Path) -> Path:
    """A gray picture with a strong vertical edge: dark left half, light right half."""
    gray = np.full((40, 60), 0.8)
    gray[:, :30] = 0.2
    gray += np.random.default_rng(0).uniform(-0.01, 0.01, gray.shape)
    path = tmp_path / "photo.png"
    varcolor.write_image(path, gray)
    return path


@pytest.fixture
def client(tmp_path):
    (tmp_path / "out").mkdir()
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    app = create_app(studio, TOKEN, hosts=None, max_upload=200_000)
    with TestClient(app, headers={"X-Varcolor-Token": TOKEN}) as c:
        c.studio = studio
        c.tmp = tmp_path
        yield c
    studio.close()


def _open(client, path: Path):
    r = client.post("/api/open", content=path.read_bytes(), headers={"X-Filename": path.name})
    assert r.status_code == 200, r.text
    return r.json()


def _result(client, version: int, have: int = 0):
    """The live result for ``version`` as the page gets it, painted into ``client.picture``."""
    r = client.get(f"/api/result?version={version}&have={have}&wait=30")
    assert r.status_code == 200
    meta = json.loads(r.headers["x-result"])
    top, left, h, w = meta["box"]
    if h and w:
        client.picture[top : top + h, left : left + w] = np.frombuffer(r.content, np.uint8).reshape(h, w, 4)
    return meta


def _save(client, name, **body):
    """Save as the page does: start it, then follow its status until it ends; the last status."""
    r = client.post("/api/save", json={"name": name, **body})
    if r.status_code != 200:
        return r
    status = r.json()
    while status["state"] in ("solving", "publishing"):
        time.sleep(0.1)
        status = client.get("/api/save-status").json()
    return status


def _studio_with_a_spare_child(tmp_path: Path, monkeypatch, out_dir: Path):
    """A studio on a small photo standing for a scan (a spare save child at once), edited once;
    the studio and its spare child, waiting for a save (None if none started within 30 s)."""
    from varcolor.ui import studio as studio_module

    monkeypatch.setattr(studio_module, "SPARE_PIXELS", 0)
    monkeypatch.setattr(studio_module, "SPARE_DELAY", 0.0)
    studio = Studio(data_dir=tmp_path / "data", out_dir=out_dir, warm=False)
    studio.open_path(_photo(tmp_path))
    studio.edit(_stroke([200, 60, 50], [[5, 10], [20, 10]]))
    wait_until(lambda: studio.saves.spare._child is not None, 30, 0.01)
    return studio, studio.saves.spare._child


def _assert_the_printed_command_gives_the_result(status: dict, tmp_path: Path) -> None:
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


def _stroke(rgb, path, width=3, tool="brush"):
    return {"op": "stroke", "stroke": {"tool": tool, "rgb": rgb, "width": width, "path": path}}


def _ab(picture):
    return rgb_to_lab(picture[..., :3] / 255.0)[..., 1:]


def test_open_stroke_point_undo_redo(client):
    state = _open(client, _photo(client.tmp))
    assert state["image"]["width"] == 60 and state["doc"]["strokes"] == []
    client.picture = np.zeros((40, 60, 4), np.uint8)
    meta = _result(client, state["version"])
    assert meta["error"] is None and np.all(client.picture[..., 0] == client.picture[..., 2])  # no cues: gray
    red, blue = [200, 60, 50], [50, 90, 200]
    state = client.post("/api/edit", json=_stroke(red, [[5, 10], [20, 10]])).json()
    meta = _result(client, state["version"], meta["serial"])
    after_one = client.picture.copy()
    assert _ab(after_one)[10, 12, 0] > 20  # under the stroke: red (a > 0)
    state = client.post("/api/edit", json={"op": "point", "point": {"x": 50, "y": 30, "rgb": blue, "size": 3}}).json()
    assert state["doc"]["points"][0]["x"] == 50
    meta = _result(client, state["version"], meta["serial"])
    ab = _ab(client.picture)
    assert ab[30, 50, 1] < -20 and ab[10, 12, 0] > 20  # the point's blue on its side of the edge, red on the other
    assert ab[5, 45, 1] < -10 and ab[5, 5, 0] > 10
    # A point moved across the edge; then undone, redone.
    pid = state["doc"]["points"][0]["id"]
    state = client.post("/api/edit", json={"op": "point-change", "id": pid, "point": {"x": 10, "y": 30}}).json()
    assert state["doc"]["points"][0]["x"] == 10
    state = client.post("/api/undo").json()
    assert state["doc"]["points"][0]["x"] == 50 and state["can_redo"]
    state = client.post("/api/undo").json()
    assert state["doc"]["points"] == []
    meta = _result(client, state["version"], meta["serial"])
    assert np.abs(client.picture.astype(int) - after_one).max() <= 1  # back to the one-stroke result
    state = client.post("/api/redo").json()
    assert len(state["doc"]["points"]) == 1
    state = client.post("/api/edit", json={"op": "point-delete", "id": pid}).json()
    assert state["doc"]["points"] == []
    state = client.post("/api/edit", json={"op": "clear"}).json()
    assert state["doc"]["strokes"] == [] and state["can_undo"]


def test_eraser_removes_strokes_and_points(client):
    state = _open(client, _photo(client.tmp))
    client.post("/api/edit", json=_stroke([200, 60, 50], [[5, 10], [20, 10]]))
    client.post("/api/edit", json={"op": "point", "point": {"x": 40, "y": 20, "rgb": [50, 90, 200], "size": 1}})
    state = client.post("/api/edit", json=_stroke(None, [[0, 10], [25, 10], [40, 20]], width=9, tool="eraser")).json()
    assert state["doc"]["points"] == []
    doc = client.studio.history.current
    assert not rasterize(doc, (40, 60)).any()  # the eraser covered the whole stroke


def test_bad_edits_are_one_line_errors(client):
    _open(client, _photo(client.tmp))
    for op in (
        {"op": "nope"},
        _stroke([1, 2], [[1, 1]]),
        _stroke([1, 2, 3], [[500, 1]]),
        {"op": "point", "point": {"x": 1, "y": 1, "rgb": [1, 2, 3], "size": 256}},
        {"op": "point", "point": {"x": 1, "y": 1, "rgb": [1, 2, 3], "size": 2.5}},
        {"op": "settings", "settings": {"method": "magic"}},
    ):
        r = client.post("/api/edit", json=op)
        assert r.status_code == 400 and r.json()["error"] and "\n" not in r.json()["error"]
    assert client.post("/api/edit", content=b"{not json").status_code == 400
    assert client.get("/api/state").status_code == 200  # still serving


def test_bad_images_are_refused_and_the_server_keeps_running(client):
    path = _photo(client.tmp)
    for name, data in (
        ("notes.png", b"this is not an image"),
        ("cut.png", path.read_bytes()[:200]),
        ("notes.txt", b"hello"),
    ):
        r = client.post("/api/open", content=data, headers={"X-Filename": name})
        assert r.status_code == 400 and name in r.json()["error"], r.text
    state = _open(client, path)
    assert state["image"]["name"] == "photo.png"


def test_save_reproduces_through_the_command_line(client, tmp_path):
    _open(client, _photo(client.tmp))
    client.post("/api/edit", json=_stroke([200, 60, 50], [[5, 10], [20, 10]]))
    client.post("/api/edit", json={"op": "point", "point": {"x": 50, "y": 30, "rgb": [50, 90, 200], "size": 5}})
    status = _save(client, "photo_colorized", format="png")
    assert status["state"] == "done", status
    paths = {k: Path(v) for k, v in status["paths"].items()}
    assert all(p.is_file() and p.parent == tmp_path / "out" for p in paths.values())
    saved = varcolor.read_image(paths["result"])
    out = tmp_path / "cli.png"
    assert cli.main(["colorize", str(tmp_path / "photo.png"), "--mask", str(paths["mask"]), "-o", str(out)]) == 0
    assert np.abs(rgb_to_lab(varcolor.read_image(out)) - rgb_to_lab(saved)).max() <= 0.01
    # The points file alone gives the point's cues exactly as the mask holds them.
    doc = client.studio.history.current
    from_points = varcolor.Cues.from_points(paths["points"], (40, 60))
    only_points = cues_from_mask(rasterize(Document(points=doc.points), (40, 60)))
    assert np.array_equal(from_points.mask, only_points.mask)
    assert np.allclose(from_points.ab[from_points.mask], only_points.ab[only_points.mask], atol=1e-9)
    # A second save under the same name asks first (409), then replaces when told to.
    assert client.post("/api/save", json={"name": "photo_colorized"}).status_code == 409
    assert _save(client, "photo_colorized", overwrite=True)["state"] == "done"


def test_save_outside_the_folder_or_over_the_photo_is_refused(client, tmp_path):
    _open(client, _photo(client.tmp))
    client.post("/api/edit", json=_stroke([200, 60, 50], [[5, 10], [20, 10]]))
    for name in ("../escape", "/tmp/escape", "sub/../../escape"):
        r = client.post("/api/save", json={"name": name})
        assert r.status_code == 403, name
    assert not (tmp_path / "escape.png").exists()
    (tmp_path / "out").mkdir(exist_ok=True)
    (tmp_path / "out" / "door").symlink_to(tmp_path)  # a link inside the folder that leads out of it
    assert client.post("/api/save", json={"name": "door/escape"}).status_code == 403
    assert client.post("/api/save", json={"name": "."}).status_code == 403  # the folder itself
    assert not (tmp_path / "escape.png").exists()
    assert _save(client, "sub/ok")["state"] == "done"
    assert (tmp_path / "out" / "sub" / "ok.png").is_file()


def test_saving_never_replaces_the_photo(tmp_path):
    photo = _photo(tmp_path)
    before = photo.read_bytes()
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    try:
        studio.open_path(photo)
        with pytest.raises(varcolor.InputError):
            studio.save("photo", "png", overwrite=True)
    finally:
        studio.close()
    assert photo.read_bytes() == before


def _saved_stroke_and_point(tmp_path):
    """A photo opened in a studio, a stroke and a point painted, saved, the studio closed: its
    autosave and session remain in ``tmp_path``. Returns the photo and the save's report."""
    photo = _photo(tmp_path)
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    studio.open_path(photo)
    studio.edit(_stroke([200, 60, 50], [[5, 10], [20, 10]]))
    studio.edit({"op": "point", "point": {"x": 50, "y": 30, "rgb": [50, 90, 200], "size": 3}})
    saved = studio.save("photo_colorized")
    studio.close()
    return photo, saved


def test_autosave_restore_and_session_reopen(tmp_path):
    photo, saved = _saved_stroke_and_point(tmp_path)
    # Reopening the same photo offers the autosaved edits; restoring brings them back.
    again = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    state = again.open_path(photo)
    assert state["restorable"] == {**state["restorable"], "strokes": 1, "points": 1}
    state = again.restore()
    assert len(state["doc"]["strokes"]) == 1 and len(state["doc"]["points"]) == 1 and state["can_undo"]
    again.close()
    # The saved session file reopens the photo with its edits (varcolor ui --session FILE).
    third = Studio(data_dir=tmp_path / "other", out_dir=tmp_path, warm=False)
    state = third.open_session(Path(saved["paths"]["session"]))
    assert state["doc"]["strokes"][0]["rgb"] == [200, 60, 50] and state["doc"]["points"][0]["x"] == 50
    third.close()


def test_corrupt_or_foreign_session_files(tmp_path):
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    cases = {
        "garbage.json": "{{{",
        "foreign.json": json.dumps({"hello": 1}),
        "bad.json": json.dumps(
            {
                "format": "varcolor-studio-session",
                "version": 1,
                "image": {"path": "x.png", "sha256": "0", "width": 10, "height": 10},
                "strokes": [{"tool": "brush", "rgb": [1, 2, 3], "width": -1, "path": [[1, 1]]}],
            }
        ),
        "missing.json": json.dumps(
            {
                "format": "varcolor-studio-session",
                "version": 1,
                "image": {"path": str(tmp_path / "gone.png"), "sha256": "0", "width": 10, "height": 10},
            }
        ),
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(varcolor.InputError, match=name):
            studio.open_session(tmp_path / name)
    studio.close()


def test_the_pages_modules_load_with_the_token_alone(tmp_path):
    """The page is ES modules whose imports carry no header and no query of the page's: every
    module the page reaches from its script tag, import by import, is served (200) at the very
    URL it names, the token filled in, and none is served without the token."""
    import re

    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    with TestClient(create_app(studio, TOKEN, hosts=None)) as c:
        page = c.get(f"/?token={TOKEN}").text
        todo = re.findall(r'<script type="module" src="([^"]+)"', page)
        seen = set()
        while todo:
            url = todo.pop()
            if url in seen:
                continue
            seen.add(url)
            r = c.get(url)  # as the browser asks: no header
            assert r.status_code == 200 and "{{TOKEN}}" not in r.text, url
            assert c.get(url.split("?")[0]).status_code == 403
            todo += ["/static/" + name for name in re.findall(r'^import .* from "\./([^"]+)";$', r.text, re.M)]
    studio.close()
    served = {url.split("?")[0].removeprefix("/static/") for url in seen}
    shipped = {p.name for p in (Path(varcolor.ui.__file__).parent / "static").glob("*.js")}
    assert served == shipped and all(url.endswith(f"?token={TOKEN}") for url in seen)


def test_wrong_token_other_origin_and_host_are_refused(tmp_path):
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    app = create_app(studio, TOKEN, hosts=("testserver",))
    with TestClient(app) as c:
        assert c.get("/api/state").status_code == 403
        assert c.get("/api/state", headers={"X-Varcolor-Token": "wrong"}).status_code == 403
        assert c.get(f"/api/state?token={TOKEN}x").status_code == 403
        assert c.get(f"/api/state?token={TOKEN}").status_code == 200
        assert c.get("/", headers={"X-Varcolor-Token": TOKEN}).status_code == 200
        good = {"X-Varcolor-Token": TOKEN}
        assert c.post("/api/undo", headers={**good, "Origin": "http://evil.example"}).status_code == 403
        assert c.post("/api/undo", headers={**good, "Origin": "http://testserver"}).status_code != 403
        assert c.get("/api/state", headers={**good, "Sec-Fetch-Site": "cross-site"}).status_code == 403
        assert c.get("/api/state", headers={**good, "Sec-Fetch-Site": "same-site"}).status_code == 403
        assert c.get("/api/state", headers={**good, "Host": "evil.example"}).status_code == 403
        page = c.get(f"/?token={TOKEN}")
        assert TOKEN in page.text and "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert c.get(f"/static/main.js?token={TOKEN}").status_code == 200
        assert c.get(f"/static/..%2Fserver.py?token={TOKEN}").status_code == 404
    studio.close()


def test_oversized_upload_is_refused(client):
    r = client.post("/api/open", content=b"\0" * 300_000, headers={"X-Filename": "big.png"})
    assert r.status_code == 413 and "too large" in r.json()["error"]
    assert client.get("/api/state").json()["image"] is None


def test_too_large_for_memory_is_refused_like_the_cli(client, monkeypatch):
    import varcolor.solvers.choice as solvers

    path = _photo(client.tmp)
    monkeypatch.setattr(varcolor.memory, "available_bytes", lambda: 1000)
    r = client.post("/api/open", content=path.read_bytes(), headers={"X-Filename": "photo.png"})
    assert r.status_code == 400 and "GB" in r.json()["error"]
    # A photo whose live copy fits but whose full-resolution solve does not: it opens with a
    # warning, and saving gives the command line's refusal (nothing written).
    monkeypatch.setattr(varcolor.memory, "available_bytes", lambda: 10**10)
    monkeypatch.setattr(solvers, "estimate_bytes", lambda name, pixels: 10**12 if pixels > 1000 else 1)
    client.studio.preview_pixels = 1000
    state = _open(client, path)
    assert state["image"]["work_width"] * state["image"]["work_height"] <= 1000
    assert "will not fit" in state["message"]
    client.post("/api/edit", json=_stroke([200, 60, 50], [[5, 10], [20, 10]]))
    r = client.post("/api/save", json={"name": "big"})
    assert r.status_code == 400 and "GB" in r.json()["error"]
    assert not list((client.tmp / "out").iterdir())


def test_rasterized_points_are_the_points_file_disks():
    doc = Document()
    for size, (x, y) in zip(
        range(1, 10), [(3, 3), (10, 4), (20, 6), (30, 8), (5, 20), (15, 22), (27, 24), (8, 34), (24, 33)]
    ):
        doc = doc.with_point({"x": x, "y": y, "rgb": [25 * size, 100, 200 - 10 * size], "size": size})
    mask = rasterize(doc, (40, 40))
    from varcolor.ui.document import points_file

    expected = varcolor.Cues.from_points(points_file(doc), (40, 40))
    ours = cues_from_mask(mask)
    assert np.array_equal(expected.mask, ours.mask)
    assert np.allclose(expected.ab[expected.mask], ours.ab[ours.mask], atol=1e-9)


def test_suggestions_and_the_network_prior(client):
    pytest.importorskip("torch")
    state = _open(client, _photo(client.tmp))
    body = client.get("/api/suggest?x=45&y=20").json()
    assert body["available"] and 1 <= len(body["colours"]) <= 6
    ab_values = np.array([[c["a"], c["b"]] for c in body["colours"]])
    gaps = np.hypot(*(ab_values[:, None] - ab_values[None]).transpose(2, 0, 1))
    assert np.all(gaps[np.triu_indices(len(ab_values), 1)] >= 15)  # distinct colours
    assert all(0 <= v <= 255 for c in body["colours"] for v in c["rgb"])
    assert sorted((c["p"] for c in body["colours"]), reverse=True) == [c["p"] for c in body["colours"]]
    # With the prior the photo has colours before any stroke (the network's guess).
    state = client.post("/api/edit", json={"op": "settings", "settings": {"method": "levin+ideepcolor"}}).json()
    assert state["doc"]["settings"]["method"] == "levin+ideepcolor"
    client.picture = np.zeros((40, 60, 4), np.uint8)
    meta = _result(client, state["version"])
    assert meta["error"] is None and meta["info"].get("prior") == "ideepcolor"
    assert state["can_undo"] and client.post("/api/undo").json()["doc"]["settings"]["method"] == "levin-multiscale"


def test_bilaplacian_gtv_previews_then_refines(client):
    # Every publication as the live solver makes it: a page polling under load can miss the
    # preview (the refinement replaced it before the request came), which failed this test once.
    published = []
    client.studio.listeners.append(lambda: published.append(client.studio.live.published))
    state = _open(client, _photo(client.tmp))
    client.post("/api/edit", json={"op": "settings", "settings": {"method": "bilaplacian-gtv"}})
    state = client.post("/api/edit", json=_stroke([200, 60, 50], [[5, 10], [20, 10]])).json()
    client.picture = np.zeros((40, 60, 4), np.uint8)
    last = _result(client, state["version"])
    while not last["final"]:
        last = _result(client, state["version"], last["serial"])
    assert last["version"] == state["version"] and last["info"]["solver"] == "admm"
    assert last["info"]["residual"] <= 1e-3  # refined to the final one
    # The live thread calls the listeners in order, after each publication (the final one's may
    # still be under way when the page has it): the first of this version's is the preview.
    mine = [p for p in published if p.version == state["version"] and p.error is None]
    assert mine and not mine[0].final and mine[0].info["residual"] <= 1e-2  # the preview's tolerance


def test_live_strokes_painted_incrementally_match_a_fresh_solve():
    """The live view paints added strokes into its last mask (points repainted over them) and
    adds only the changed pixels as cues; the result is that of solving the whole document."""
    from varcolor.ui.live import LiveSolver

    rng = np.random.default_rng(3)
    gray = np.clip(np.tile(np.linspace(0.2, 0.8, 80), (50, 1)) + 0.05 * rng.random((50, 80)), 0, 1)
    gray[:, 40:] *= 0.5  # an edge
    full = (100, 160)  # documents in the coordinates of a photo twice the working size
    live = LiveSolver(gray, full, warm=False)
    boxes = []
    rasterize_doc = live._rasterize
    live._rasterize = lambda d: boxes.append(rasterize_doc(d)[1]) or rasterize_doc(d)
    doc = Document().with_point({"x": 60, "y": 40, "rgb": [40, 90, 220], "size": 5}, full)
    version = 0
    for _, (rgb, path) in enumerate(
        [
            ([220, 80, 40], [[10, 10], [60, 30]]),
            ([60, 200, 90], [[120, 20], [150, 80]]),
            ([220, 80, 40], [[40, 30], [80, 50]]),  # over the point: the point stays
            ([90, 90, 200], [[20, 90], [140, 90]]),
        ]
    ):
        doc = doc.with_stroke({"tool": "brush", "rgb": rgb, "width": 4, "path": path}, full)
        version += 1
        live.submit(version, doc)
        wait_until(lambda version=version: live.published.version >= version, 60, 0.01)
        assert live.published.error is None
    assert boxes[0] is None and all(box is not None for box in boxes[1:])  # painted where the strokes are
    expected_mask = rasterize(doc, gray.shape, full)
    assert np.array_equal(live._mask, expected_mask)
    assert np.array_equal(live._mask[20, 30], [40, 90, 220])  # the point's centre, after a stroke crossed it
    fresh = varcolor.colorize(gray, cues_from_mask(expected_mask))
    assert np.abs(live.rgb - fresh.rgb).max() * 255 < 0.5
    live.close()


def test_command_line_refuses_bad_input_before_serving(tmp_path, capsys):
    (tmp_path / "notes.png").write_bytes(b"no image")
    (tmp_path / "bad.studio.json").write_text("{}")
    for argv in (
        ["ui", str(tmp_path / "missing.png"), "--no-browser"],
        ["ui", str(tmp_path / "notes.png"), "--no-browser", "--data-dir", str(tmp_path / "d")],
        ["ui", "--session", str(tmp_path / "bad.studio.json"), "--no-browser", "--data-dir", str(tmp_path)],
        ["ui", "--no-browser", "--out-dir", str(tmp_path / "nowhere")],
    ):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err


def test_colour_photo_metrics_and_16_bit_save(tmp_path):
    """A colour photo is edited as its same-lightness gray, with PSNR/ΔE2000 against it; a 16-bit
    photo is saved in 16 bits (PNG, TIFF) and 8 (JPEG)."""
    rng = np.random.default_rng(0)
    rgb = np.zeros((30, 40, 3))
    rgb[:, :20] = (0.8, 0.3, 0.2)
    rgb[:, 20:] = (0.2, 0.4, 0.8)
    rgb = np.clip(rgb + rng.uniform(-0.02, 0.02, rgb.shape), 0, 1)
    photo = tmp_path / "colour16.png"
    varcolor.write_image(photo, rgb, bits=16)
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    try:
        state = studio.open_path(photo)
        assert state["image"]["colour"] and state["image"]["bits"] == 16
        assert np.allclose(studio.image.gray, varcolor.color.same_lightness_gray(rgb), atol=1e-4)
        studio.edit(_stroke([204, 77, 51], [[5, 15], [12, 15]]))
        studio.edit(_stroke([51, 102, 204], [[28, 15], [35, 15]]))
        wait_until(lambda: studio.live.published.version >= studio.version, 60, 0.01)
        metrics = studio.metrics()
        assert metrics["psnr"] > 25 and metrics["ciede2000"] < 5  # two strokes of the true colours
        import png as pypng
        import tifffile

        results = {fmt: studio.save(f"out_{fmt}", fmt) for fmt in ("png", "tiff", "jpeg")}
        assert [results[fmt]["bits"] for fmt in ("png", "tiff", "jpeg")] == [16, 16, 8]
        assert pypng.Reader(filename=results["png"]["paths"]["result"]).read()[3]["bitdepth"] == 16
        assert tifffile.imread(results["tiff"]["paths"]["result"]).dtype == np.uint16
    finally:
        studio.close()


def test_background_re_solve_is_swapped_in_and_stays_exact(monkeypatch):
    """After updates, an idle moment re-solves the cues afresh in another thread; the next edit
    continues from that solve, and its result is still that of solving everything at once."""
    import varcolor.ui.live as live_module

    monkeypatch.setattr(live_module, "REBASE_HELD", 1)
    monkeypatch.setattr(live_module, "REBASE_IDLE", 0.05)
    rng = np.random.default_rng(4)
    gray = np.clip(np.tile(np.linspace(0.2, 0.8, 70), (40, 1)) + 0.05 * rng.random((40, 70)), 0, 1)
    live = live_module.LiveSolver(gray, gray.shape, warm=False)
    taken = []
    take = live._take_rebase
    live._take_rebase = lambda method: taken.append(take(method)) or taken[-1]
    # The exact method: its low-rank corrections pile up until a background solve resets them.
    doc = Document().with_settings({"method": "levin"})
    for version, (rgb, path) in enumerate(
        [
            ([220, 80, 40], [[5, 5], [30, 10]]),
            ([60, 200, 90], [[40, 30], [65, 35]]),
            ([90, 90, 200], [[10, 30], [30, 30]]),
            ([200, 200, 60], [[50, 5], [60, 5]]),
        ],
        start=1,
    ):
        doc = doc.with_stroke({"tool": "brush", "rgb": rgb, "width": 3, "path": path}, gray.shape)
        live.submit(version, doc)
        deadline = time.time() + 60
        while (
            live.published.version < version or live._rebasing is not None or live._want_rebase
        ) and time.time() < deadline:
            time.sleep(0.01)
    assert any(taken), "a background solve was swapped in"
    fresh = varcolor.colorize(gray, cues_from_mask(rasterize(doc, gray.shape)), method="levin")
    assert np.abs(live.rgb - fresh.rgb).max() * 255 < 0.5
    live.close()


def test_session_file_opened_from_the_page_and_bad_ones_refused(client):
    """A saved session given to the page reopens its photo (an uploaded one: from the data folder);
    corrupt or foreign ones, and an unreadable autosave, are one line on the page."""
    photo = _photo(client.tmp)
    _open(client, photo)
    client.post("/api/edit", json=_stroke([200, 60, 50], [[5, 10], [20, 10]]))
    session = Path(_save(client, "s")["paths"]["session"])
    client.post("/api/edit", json={"op": "clear"})
    r = client.post("/api/open", content=session.read_bytes(), headers={"X-Filename": "s.studio.json"})
    assert r.status_code == 200, r.text
    assert r.json()["doc"]["strokes"][0]["rgb"] == [200, 60, 50]
    for name, data in (
        ("junk.json", b"\x00\x01garbage"),
        ("other.json", b'{"format": "something-else"}'),
        (
            "changed.json",
            session.read_bytes().replace(json.loads(session.read_text())["image"]["sha256"].encode(), b"0" * 64),
        ),
    ):
        r = client.post("/api/open", content=data, headers={"X-Filename": name})
        assert r.status_code == 400 and name in r.json()["error"] and "\n" not in r.json()["error"], r.text
        if name == "changed.json":
            assert "not found" in r.json()["error"]
    assert client.get("/api/state").json()["doc"]["strokes"]  # the open photo and its edits are kept
    client.studio.flush()
    autosave = Path(client.get("/api/state").json()["autosave"])
    autosave.write_text("{ broken")
    state = _open(client, photo)
    assert "unreadable autosave" in state["message"] and state["restorable"] is None
    assert client.get("/api/state").json()["message"] is None  # said once


def test_method_change_estimate_asks_for_slow_methods(client, monkeypatch):
    """The page asks before a method change the server expects to take over a few seconds: the
    estimate scales with the live copy's pixels, uses this session's measured rate once there is
    one, and refuses an unknown method or one whose solve does not fit in memory."""
    import varcolor.ui.studio as studio_module

    _open(client, _photo(client.tmp))
    small = client.get("/api/estimate?method=bilaplacian-gtv").json()
    assert small["bytes"] > 0 and not small["ask"]  # 2400 pixels: no question
    expected = studio_module.SECONDS_PER_MEGAPIXEL["bilaplacian-gtv"] * 2400 / 1e6
    assert small["seconds"] == pytest.approx(expected) and not small["measured"]
    monkeypatch.setitem(studio_module.SECONDS_PER_MEGAPIXEL, "bilaplacian-gtv", 1e4)
    slow = client.get("/api/estimate?method=bilaplacian-gtv").json()
    assert slow["ask"] and slow["seconds"] == pytest.approx(24.0) and "Switch?" in slow["text"]
    # Once this session has solved with a method, its own rate decides.
    client.studio.live.rates["bilaplacian-gtv"] = 1e-5
    measured = client.get("/api/estimate?method=bilaplacian-gtv").json()
    assert measured["measured"] and measured["seconds"] == pytest.approx(0.024) and not measured["ask"]
    assert client.get("/api/estimate?method=magic").status_code == 400
    # The memory check is the chosen method's own: bilaplacian-gtv's ADMM needs more per pixel than
    # levin's LU here, so a budget between the two refuses it alone.
    need = {m: varcolor.check_fits((40, 60), **opts).bytes for m, opts in studio_module.PRESETS.items()}
    assert need["bilaplacian-gtv"] != need["levin"]
    big, low = max(need, key=need.get), min(need, key=need.get)
    monkeypatch.setattr(
        varcolor.memory, "available_bytes", lambda: int((need[big] + need[low]) / 2 / varcolor.memory.BUDGET_FRACTION)
    )
    assert client.get(f"/api/estimate?method={low}").status_code == 200
    r = client.get(f"/api/estimate?method={big}")
    assert r.status_code == 400 and "GB" in r.json()["error"]
    r = client.post("/api/edit", json={"op": "settings", "settings": {"method": big}})
    assert r.status_code == 400 and client.get("/api/state").json()["doc"]["settings"]["method"] == "levin-multiscale"


def test_non_finite_query_numbers_are_400(client):
    _open(client, _photo(client.tmp))
    for query in ("x=nan&y=3", "x=3&y=inf", "x=1e999&y=1", "x=a&y=1", "y=1"):
        r = client.get(f"/api/suggest?{query}")
        assert r.status_code == 400 and "finite" in r.json()["error"], query
    for query in ("wait=nan", "wait=inf", "wait=-1", "wait=61", "version=1.5", "have=x"):
        r = client.get(f"/api/result?{query}")  # answered at once, never a wait without end
        assert r.status_code == 400, query
    assert client.get("/api/result?wait=0&version=999").status_code == 204


def test_failed_upload_leaves_no_data_folder(client):
    data = client.tmp / "data"
    r = client.post("/api/open", content=b"not an image at all", headers={"X-Filename": "junk.png"})
    assert r.status_code == 400
    assert not data.exists() or not any(data.iterdir())
    # An upload that opens keeps its folder; a failing one beside it leaves it as it was.
    _open(client, _photo(client.tmp))
    kept = sorted(p.relative_to(data) for p in data.rglob("*"))
    assert kept
    r = client.post("/api/open", content=b"junk again", headers={"X-Filename": "junk2.png"})
    assert r.status_code == 400 and sorted(p.relative_to(data) for p in data.rglob("*")) == kept


def test_restore_banner_counts_strokes_erasers_and_points(tmp_path):
    photo = _photo(tmp_path)
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    studio.open_path(photo)
    studio.edit(_stroke([200, 60, 50], [[5, 10], [20, 10]]))
    studio.edit(_stroke([60, 200, 50], [[5, 30], [20, 30]]))
    studio.edit(_stroke(None, [[0, 30], [3, 30]], tool="eraser"))
    studio.edit({"op": "point", "point": {"x": 50, "y": 30, "rgb": [50, 90, 200], "size": 3}})
    studio.close()
    again = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    restorable = again.open_path(photo)["restorable"]
    again.close()
    assert (restorable["strokes"], restorable["erasers"], restorable["points"]) == (2, 1, 1)
    assert restorable["text"] == "2 strokes, 1 eraser pass, 1 point"


def test_a_hard_link_to_the_photo_is_the_photo(client, tmp_path):
    photo = _photo(client.tmp)
    _open(client, photo)
    client.studio.open_path(photo)  # the photo itself, not the uploaded copy
    client.post("/api/edit", json=_stroke([200, 60, 50], [[5, 10], [20, 10]]))
    link = tmp_path / "out" / "linked_mask.png"
    link.hardlink_to(photo)
    before = photo.read_bytes()
    r = client.post("/api/save", json={"name": "linked", "overwrite": True})
    assert r.status_code == 400 and "the photo itself" in r.json()["error"]
    assert photo.read_bytes() == before and link.read_bytes() == before
    assert not (tmp_path / "out" / "linked.png").exists()


def _folder_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_printed_command_names_the_solver_and_reproduces_the_save_exactly(client, tmp_path):
    import shlex

    _open(client, _photo(client.tmp))
    client.studio.open_path(client.tmp / "photo.png")  # the photo on disk: the command reads it
    client.post("/api/edit", json=_stroke([200, 60, 50], [[5, 10], [20, 10]]))
    client.post("/api/edit", json={"op": "point", "point": {"x": 50, "y": 30, "rgb": [50, 90, 200], "size": 5}})
    status = _save(client, "same")
    assert status["state"] == "done" and status["solver"]
    argv = shlex.split(status["command"])
    assert argv[:2] == ["varcolor", "colorize"] and argv[argv.index("--solver") + 1] == status["solver"]
    assert argv[argv.index("--method") + 1] == "levin-multiscale"
    assert argv[argv.index("--mask") + 1] == status["paths"]["mask"]
    out = tmp_path / "again.png"
    argv[argv.index("-o") + 1] = str(out)
    assert cli.main(argv[1:]) == 0
    assert np.array_equal(varcolor.read_image(out), varcolor.read_image(status["paths"]["result"]))


def test_cancelled_save_writes_nothing(client):
    _open(client, _photo(client.tmp))
    client.post("/api/edit", json=_stroke([200, 60, 50], [[5, 10], [20, 10]]))
    started = client.post("/api/save", json={"name": "never"}).json()
    assert started["state"] == "solving" and started["estimate"] > 0 and 0 <= started["fraction"] < 1
    # A second save while one runs is refused.
    assert client.post("/api/save", json={"name": "other"}).status_code == 400
    status = client.post("/api/save-cancel").json()
    assert status["state"] == "cancelled"
    assert _folder_files(client.tmp / "out") == []
    assert not list((client.tmp / "data" / "saving").iterdir())  # the work folder went too
    assert _save(client, "after")["state"] == "done"  # the studio saves again afterwards


KILL_MID_PUBLISH = """
import os, sys, numpy as np
from pathlib import Path
import varcolor.io.atomic as atomic
from varcolor.ui.studio import Studio

folder = Path(sys.argv[1])
studio = Studio(data_dir=folder / "data", out_dir=folder / "out", warm=False)
studio.open_path(folder / "photo.png")
stroke = {"tool": "brush", "rgb": [200, 60, 50], "width": 3, "path": [[5, 10], [20, 10]]}
studio.edit({"op": "stroke", "stroke": stroke})
published = []
real = atomic._publish_temporary
def publish_then_die(tmp, fd, path, overwrite):
    if Path(path).parent != folder / "out":  # an autosave
        return real(tmp, fd, path, overwrite)
    if len(published) == int(sys.argv[2]):
        os._exit(9)  # killed: the rest of the unit is never published
    real(tmp, fd, path, overwrite)
    published.append(path)
atomic._publish_temporary = publish_then_die
studio.save("killed", overwrite=True)
"""


@pytest.mark.slow  # a child killed mid-save, then a studio restarted on its leftovers: `make test-slow`
@pytest.mark.parametrize("published", [0, 2])
def test_a_killed_save_leaves_no_part_of_its_unit_after_a_restart(tmp_path, published):
    import subprocess
    import sys

    (tmp_path / "out").mkdir()
    _photo(tmp_path)
    older = tmp_path / "out" / "killed_mask.png"
    older.write_bytes(b"an older mask, kept")  # not the save's: never taken
    script = tmp_path / "kill.py"
    script.write_text(KILL_MID_PUBLISH)
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, str(script), str(tmp_path), str(published)], env=env, capture_output=True)
    assert done.returncode == 9, done.stderr.decode()[-2000:]
    left = _folder_files(tmp_path / "out")
    assert len(left) > 1  # the killed save's leftovers: published files or temporaries
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    try:
        remaining = _folder_files(tmp_path / "out")
        if published == 0:
            assert remaining == ["killed_mask.png"] and older.read_bytes() == b"an older mask, kept"
        else:  # the result and the mask (over the older one) had been published: both taken back
            assert remaining == []
        assert "interrupted save" in studio.state()["message"]
        assert not list((tmp_path / "data" / "saving").iterdir())
    finally:
        studio.close()


@pytest.mark.slow  # a studio process stopped by Ctrl-C mid-save: `make test-slow`
def test_ctrl_c_during_a_save_stops_cleanly(tmp_path):
    """Ctrl-C while a save solves: exit code 0, no traceback, nothing of the save written."""
    import os
    import signal
    import subprocess
    import sys

    import httpx

    photo = _photo(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    log = tmp_path / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "varcolor.cli", "ui", str(photo), "--no-browser", "--data-dir", str(tmp_path / "d")],
        stdout=subprocess.PIPE,
        stderr=open(log, "w"),
        text=True,
        env=env,
    )
    try:
        url = process.stdout.readline().split()[-1]
        base, token = url.split("/?token=")
        with httpx.Client(base_url=base, headers={"X-Varcolor-Token": token}, timeout=60) as http:
            assert http.post("/api/edit", json=_stroke([200, 60, 50], [[5, 10], [20, 10]])).status_code == 200
            assert http.post("/api/save", json={"name": "interrupted"}).json()["state"] == "solving"
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    text = log.read_text()
    assert "Traceback" not in text and "CancelledError" not in text, text
    files = _folder_files(tmp_path)
    assert [f for f in files if not f.startswith("d/")] == ["photo.png", "server.log"]  # no result, no temporary
    assert not [f for f in files if f.startswith("d/saving")]  # the save's work folder went too


@pytest.mark.slow
def test_printed_command_reproduces_a_12_megapixel_save(tmp_path):
    """At scan size (12 MP) the printed command, run from a fresh process while the studio still
    holds its photo, gives the saved result exactly (the solver is named in it)."""

    from skimage import data
    from skimage.transform import resize

    photo = tmp_path / "scan12.png"
    varcolor.write_image(photo, resize(data.astronaut().mean(axis=2) / 255.0, (2828, 4243), order=1))
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    try:
        studio.open_path(photo)
        rng = np.random.default_rng(0)
        for _ in range(12):
            x, y = int(rng.integers(100, 4000)), int(rng.integers(100, 2700))
            rgb = [int(v) for v in rng.integers(40, 220, 3)]
            studio.edit(_stroke(rgb, [[x, y], [x + 120, y + 40]], width=12))
        status = studio.save("scan12_colorized")
    finally:
        studio.close()
    _assert_the_printed_command_gives_the_result(status, tmp_path)


def test_tiles_are_the_photos_pixels_and_full_tiles_are_the_saves_colours(client, tmp_path):
    from varcolor.color import lightness_of_gray
    from varcolor.ui.view import TILE

    rng = np.random.default_rng(5)
    gray = np.clip(np.tile(np.linspace(0.2, 0.8, 700), (300, 1)) + 0.1 * rng.random((300, 700)), 0, 1)
    gray[:, 350:] *= 0.6  # an edge
    path = client.tmp / "wide.png"
    varcolor.write_image(path, gray)
    client.studio.preview_pixels = 30_000  # a live copy about a third of the photo's size
    state = _open(client, path)
    assert state["image"]["work_width"] < 700 and state["image"]["levels"] == 3
    photo = np.round(varcolor.read_image(path) * 255).astype(np.uint8)
    from PIL import Image

    def tile(layer, level, row, col, full=0):
        r = client.get(f"/api/tile?layer={layer}&level={level}&row={row}&col={col}&full={full}")
        assert r.status_code == 200, r.text
        return np.asarray(Image.open(__import__("io").BytesIO(r.content)))

    assert np.array_equal(tile("gray", 0, 1, 2), photo[TILE : 2 * TILE, 2 * TILE : 3 * TILE])
    full = varcolor.read_image(path)
    means = full[:300, : 2 * TILE].reshape(150, 2, TILE, 2).mean(axis=(1, 3))
    assert np.abs(tile("gray", 1, 0, 0)[:150].astype(float) - means * 255).max() <= 0.51  # 2×2 block means
    for query in (
        "layer=gray&level=3&row=0&col=0",
        "layer=gray&level=0&row=9&col=0",
        "layer=x&level=0&row=0&col=0",
        "layer=result&level=0&row=0&col=0&full=2",
    ):
        assert client.get(f"/api/tile?{query}").status_code == 400, query
    assert client.get("/api/tile?layer=gray&level=a&row=0&col=0").status_code == 400
    # Two strokes; then the full tiles: the photo's own lightness at every pixel, and near the
    # edge the colours a save makes (the whole photo solved at full resolution by the default
    # method), which the live copy's colours, interpolated, miss.
    client.post("/api/edit", json=_stroke([200, 60, 50], [[100, 150], [300, 150]], width=4))
    state = client.post("/api/edit", json=_stroke([50, 90, 200], [[400, 150], [600, 150]], width=4)).json()
    client.picture = np.zeros((state["image"]["work_height"], state["image"]["work_width"], 4), np.uint8)
    meta = _result(client, state["version"])
    while meta["version"] < state["version"] or not meta["final"]:
        meta = _result(client, state["version"], meta["serial"])
    live = tile("result", 0, 0, 1)[..., :3]  # columns 256-511: the edge at 350
    after = tile("result", 0, 0, 1, full=1)[..., :3]
    lightness = rgb_to_lab(after / 255.0)[..., 0]
    assert np.abs(lightness - lightness_of_gray(full[:256, 256:512])).max() < 1.0  # the photo's own
    cues = cues_from_mask(rasterize(client.studio.history.current, (300, 700)))
    saved = varcolor.colorize(full, cues).ab
    near = (slice(110, 190), slice(330 - 256, 370 - 256))
    ref = saved[110:190, 330:370]
    err_full = np.abs(_ab(np.dstack([after, after[..., :1]]))[near] - ref).mean()
    err_live = np.abs(_ab(np.dstack([live, live[..., :1]]))[near] - ref).mean()
    assert err_full < 0.6 * err_live, (err_full, err_live)  # measured: 1.18 against 2.31
    # Under a stroke, its colour exactly (held, as a save holds it).
    under = rgb_to_lab(tile("result", 0, 0, 0, full=1)[None, 150, 120:240, :3] / 255.0)[0, :, 1:]
    red = rgb_to_lab(np.array([[[200, 60, 50]]]) / 255.0)[0, 0, 1:]
    assert np.median(np.hypot(*(under - red).T)) < 1.5
    # An edit not yet solved: a full tile asked for is the live result's (that of the last version).
    client.studio.live.close(wait=30.0)  # nothing solves the next edit
    client.post("/api/edit", json=_stroke([60, 200, 50], [[400, 50], [500, 50]]))
    assert np.array_equal(tile("result", 0, 0, 1, full=1)[..., :3], live)


def test_full_tiles_made_one_at_a_time_agree_with_the_whole_photo_made_at_once(monkeypatch):
    # Each full tile is the engine's lift and correction on parts of it and a margin; made over
    # the whole photo at once, in one piece, they are the same colours (no seams where tiles meet),
    # within what a screen can show.
    import varcolor.methods.levin_multiscale as engine_module
    from varcolor.methods import build_options
    from varcolor.methods.base import Problem
    from varcolor.methods.levin_multiscale import LevinMultiscale, auto_factor
    from varcolor.solvers.multiscale import coarse_shape
    from varcolor.ui.document import Document
    from varcolor.ui.view import TILE, View

    rng = np.random.default_rng(7)
    shape = (700, 900)
    gray = np.clip(
        0.5 + 0.3 * np.sin(np.arange(shape[1]) / 40.0)[None] * np.cos(np.arange(shape[0]) / 55.0)[:, None], 0, 1
    )
    gray = np.clip(gray + 0.03 * rng.standard_normal(shape), 0, 1).astype(np.float32)
    doc = Document()
    for rgb, line in (([200, 60, 50], [[240, 250], [290, 270]]), ([50, 90, 200], [[500, 500], [540, 530]])):
        doc = doc.with_stroke({"tool": "brush", "rgb": rgb, "width": 5, "path": line}, shape)
    live_ab = np.dstack(
        [np.linspace(-20, 30, 300)[None].repeat(200, 0), np.linspace(25, -10, 200)[:, None].repeat(300, 1)]
    )
    view = View(gray)
    factor = auto_factor(shape)
    rows, cols = coarse_shape(shape, factor)
    coarse = view._live_chroma(
        live_ab,
        np.minimum(factor * (np.arange(rows) + 0.5) - 0.5, shape[0] - 1),
        np.minimum(factor * (np.arange(cols) + 0.5) - 0.5, shape[1] - 1),
    )
    cues = cues_from_mask(rasterize(doc, shape))
    engine = LevinMultiscale(gray.astype(np.float64), build_options(method="levin-multiscale", factor=factor))
    with monkeypatch.context() as patch:
        patch.setattr(engine_module, "TILE", max(shape))  # the correction in one piece
        whole, _ = engine.from_coarse(coarse, Problem(cues.mask, cues.ab, None, None))
    worst = 0.0
    for row in range(-(-shape[0] // TILE)):
        for col in range(-(-shape[1] // TILE)):
            ab = view.full_chroma(row, col, 1, doc, live_ab)
            part = whole[row * TILE : row * TILE + ab.shape[0], col * TILE : col * TILE + ab.shape[1]]
            worst = max(worst, float(np.abs(ab - part).max()))
    assert worst < 0.5, worst  # ab: half of one 8-bit level's worth, at most


def test_a_session_saved_under_the_presets_old_name_opens_with_its_one_spelling():
    # 'levin-prior' was the studio's name of Levin with the network prior; bench and the registry
    # spell it levin+ideepcolor, and so does the studio now: an old session file still opens.
    from varcolor.ui.document import PRESETS, Document, parse_session, session_dict

    image = {"path": "photo.png", "sha256": "0" * 64, "width": 60, "height": 40}
    old = session_dict(Document(), image)
    old["settings"] = {"method": "levin-prior"}
    doc, _ = parse_session(json.dumps(old), "old.studio.json")
    assert doc.settings["method"] == "levin+ideepcolor" and PRESETS["levin+ideepcolor"]["prior"] == "ideepcolor"
    assert "levin-prior" not in PRESETS
    assert Document().with_settings({"method": "levin-prior"}).settings == {"method": "levin+ideepcolor"}
    with pytest.raises(varcolor.InputError, match="unknown studio preset 'levin-priors'"):
        Document().with_settings({"method": "levin-priors"})


def test_saves_go_to_colorized_in_the_current_folder_not_the_photos(tmp_path, capsys, monkeypatch):
    # `varcolor ui examples/data/chelsea.png` saved into the bundled data folder (a source tree);
    # without --out-dir the studio now saves into ./colorized, made by the first save.
    import varcolor.ui.studio

    photos, work = tmp_path / "photos", tmp_path / "work"
    photos.mkdir(), work.mkdir()
    photo = _photo(photos)
    seen = {}

    class Recorded(Studio):
        def __init__(self, **keywords):
            seen.update(keywords)
            super().__init__(**{**keywords, "warm": False})

        def open_path(self, path, *args, **keywords):
            raise varcolor.InputError("stopped before serving")  # the test needs no server

    monkeypatch.setattr(varcolor.ui.studio, "Studio", Recorded)
    monkeypatch.setattr("sys.setswitchinterval", lambda seconds: None)
    monkeypatch.setattr("logging.basicConfig", lambda **keywords: None)
    monkeypatch.chdir(work)
    assert cli.main(["ui", str(photo), "--no-browser", "--data-dir", str(tmp_path / "data")]) == 2
    assert "stopped before serving" in capsys.readouterr().err
    assert Path(seen["out_dir"]).resolve() == work / "colorized"
    # The folder is made by the first save, with the whole unit in it; the photo's folder keeps its one file.
    studio = Studio(data_dir=tmp_path / "data", out_dir=seen["out_dir"], warm=False)
    try:
        studio.open_path(photo)
        studio.edit(_stroke([200, 60, 50], [[5, 10], [20, 10]]))
        saved = studio.save("photo_colorized")
    finally:
        studio.close()
    assert {Path(p).parent for p in saved["paths"].values()} == {work / "colorized"}
    assert sorted(p.name for p in photos.iterdir()) == ["photo.png"]


def test_strokes_that_come_with_a_photo_are_said_on_the_page_and_in_the_log(tmp_path, caplog):
    photo, saved = _saved_stroke_and_point(tmp_path)
    caplog.set_level("INFO", logger="varcolor.ui")
    # Reopened: the autosave is offered (the banner), and the log says it is there.
    again = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    state = again.open_path(photo)
    assert state["doc"]["strokes"] == [] and state["restorable"]["text"] == "1 stroke, 1 point"
    assert "an autosave of it holds 1 stroke, 1 point" in caplog.text
    caplog.clear()
    # Restored: the page's status line and the log say what came back.
    state = again.restore()
    assert state["message"] == "restored the autosave: 1 stroke, 1 point (undo takes it back)"
    assert "photo.png: restored the autosave: 1 stroke, 1 point" in caplog.text
    assert again.state()["message"] is None  # said once
    again.close()
    caplog.clear()
    # A session file reopens the photo with its strokes: said too.
    third = Studio(data_dir=tmp_path / "other", out_dir=tmp_path, warm=False)
    state = third.open_session(Path(saved["paths"]["session"]))
    third.close()
    assert len(state["doc"]["strokes"]) == 1
    assert state["message"] == "opened photo.png with the session's 1 stroke, 1 point"
    assert "with the session's 1 stroke, 1 point" in caplog.text


def test_the_printed_address_takes_connections_before_the_server_runs(tmp_path, monkeypatch, capsys):
    # A client reading the printed address may connect before the server's loop has started (a
    # loaded machine): it must wait in the backlog, not be refused.
    import socket

    import uvicorn

    import varcolor.ui

    answers = []

    def connect_instead(self, sockets=None):
        port = sockets[0].getsockname()[1]
        with socket.socket() as client:
            answers.append(client.connect_ex(("127.0.0.1", port)))

    monkeypatch.setattr(uvicorn.Server, "run", connect_instead)
    code = varcolor.ui.run(None, open_browser=False, data_dir=str(tmp_path / "d"), out_dir=str(tmp_path))
    assert code == 0 and answers == [0] and "varcolor studio: http://127.0.0.1:" in capsys.readouterr().out


def test_a_big_photo_opens_on_its_area_reduced_copy_and_its_full_gray_comes_after(tmp_path, monkeypatch):
    """A photo larger than the live copy: the live copy is the photo's area means (a 2×2 block
    each here), its gray what the page shows first; the full-resolution gray is made in a thread
    after the open returns, and whatever needs it (a tile at level 0) waits for it."""
    import threading

    from varcolor.color import same_lightness_gray
    from varcolor.ui import studio as studio_module

    rng = np.random.default_rng(2)
    rgb = np.round(rng.random((60, 80, 3)) * 255) / 255
    photo = tmp_path / "big.png"
    varcolor.write_image(photo, rgb)
    release = threading.Event()
    full_gray = studio_module.full_gray

    def held_full_gray(pixels, colour):  # the full photo's gray: held back until released
        assert release.wait(30)
        return full_gray(pixels, colour)

    monkeypatch.setattr(studio_module, "full_gray", held_full_gray)
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, preview_pixels=30 * 40, warm=False)
    try:
        state = studio.open_path(photo)  # returns while the full gray is held back
        assert (state["image"]["work_height"], state["image"]["work_width"]) == (30, 40)
        means = rgb.reshape(30, 2, 40, 2, 3).mean(axis=(1, 3))
        assert np.abs(studio.image.gray - same_lightness_gray(means)).max() < 1e-6
        wait_until(lambda: studio.live.published.serial != 0, 60, 0.01)
        assert studio.live.published.info["solver"] == "none"  # the gray photo, shown before the full gray
        assert np.array_equal(studio.live.rgba[..., 0], np.round(studio.image.gray * 255).astype(np.uint8))
        tile = []
        reader = threading.Thread(target=lambda: tile.append(studio.image.view.gray_tile(0, 0, 0)))
        reader.start()
        reader.join(0.3)
        assert reader.is_alive()  # waiting for the full gray
        release.set()
        reader.join(30)
        expected = np.round(same_lightness_gray(rgb).astype(np.float32) * 255).astype(np.uint8)
        assert np.array_equal(tile[0], expected)
    finally:
        release.set()
        studio.close()


def test_a_full_gray_that_cannot_be_made_is_said_where_it_is_needed():
    from varcolor.ui.view import View

    def fails():
        raise MemoryError("no room for the gray")

    view = View(fails, (300, 400))
    assert view.levels == 2  # known from the shape alone
    with pytest.raises(MemoryError, match="no room"):
        view.gray_tile(0, 0, 0)


def test_the_first_state_does_not_import_the_network():
    """Whether the network can be used is found without importing PyTorch (5.8 s of the first
    state a page waited for)."""
    import subprocess
    import sys

    code = (
        "import sys; from varcolor.ui.studio import neural_available; import importlib.util as u; "
        "assert neural_available() == all(u.find_spec(n) is not None for n in ('torch', 'safetensors')); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_scan_is_saved_by_a_spare_child_started_ahead_and_gives_the_printed_commands_result(tmp_path, monkeypatch):
    """After an edit of a scan, a child that has imported the command line waits for the save;
    Ctrl+S hands it the printed command, and the result is that command's from a fresh process."""

    studio, spare = _studio_with_a_spare_child(tmp_path, monkeypatch, tmp_path)
    try:
        assert spare is not None and spare.poll() is None
        assert spare.args[-2:] == ["--spare", str(studio.image.path)]  # it makes the photo's gray ahead
        status = studio.save("spared")
        assert studio.saves.job._child is spare and spare.returncode == 0  # the spare did the save
        assert studio.saves.spare._child is None  # taken: the next edit starts another
    finally:
        studio.close()
    _assert_the_printed_command_gives_the_result(status, tmp_path)


def test_a_spare_child_waiting_for_another_photo_is_replaced(tmp_path, monkeypatch):
    # A spare made the gray of the photo open when it started: another photo opened meanwhile
    # gets a spare of its own (the first one ends), whose save is that photo's.
    studio, spare = _studio_with_a_spare_child(tmp_path, monkeypatch, tmp_path)
    try:
        other = tmp_path / "other"
        other.mkdir()
        studio.open_path(_photo(other))
        studio.edit(_stroke([50, 90, 200], [[5, 10], [20, 10]]))
        assert wait_until(lambda: studio.saves.spare._child not in (None, spare), 30, 0.01)
        assert spare.wait(10) is not None
        assert studio.saves.spare._child.args[-1] == str(other / "photo.png")
        status = studio.save("other")
    finally:
        studio.close()
    _assert_the_printed_command_gives_the_result(status, tmp_path)


def test_closing_the_studio_ends_its_spare_child(tmp_path, monkeypatch):
    studio, spare = _studio_with_a_spare_child(tmp_path, monkeypatch, tmp_path)
    studio.close()
    assert spare.poll() is not None


def test_a_fresh_live_solve_shows_a_preview_then_exactly_the_result_without_one(monkeypatch):
    """On a large live copy a fresh solve first publishes the document solved at half the size
    (not final; its colours where the strokes are), then the copy's own result: the same pixels as
    a live view that shows no preview. An added stroke (an update) shows none."""
    from varcolor.ui import live as live_module
    from varcolor.ui.live import LiveSolver

    rng = np.random.default_rng(4)
    gray = np.clip(np.tile(np.linspace(0.2, 0.8, 120), (80, 1)) + 0.05 * rng.random((80, 120)), 0, 1)
    gray[:, 60:] *= 0.6  # an edge
    full = (160, 240)
    doc = Document().with_stroke(
        {"tool": "brush", "rgb": [220, 80, 40], "width": 6, "path": [[20, 40], [90, 60]]}, full
    )
    doc = doc.with_stroke({"tool": "brush", "rgb": [60, 90, 210], "width": 6, "path": [[150, 100], [220, 120]]}, full)
    more = doc.with_stroke({"tool": "brush", "rgb": [60, 200, 90], "width": 6, "path": [[30, 130], [80, 140]]}, full)

    def run(preview_pixels):
        monkeypatch.setattr(live_module, "PREVIEW_PIXELS", preview_pixels)
        live = LiveSolver(gray, full, warm=False)
        seen = []
        live.listeners.append(lambda: seen.append((live.published, live.rgba.copy())))
        try:
            for version, document in ((1, doc), (2, more)):
                live.submit(version, document)
                wait_until(lambda version=version: live.published.version == version and live.published.final, 60, 0.01)
                assert live.published.final and not live.published.error
        finally:
            live.close(wait=30)
        return seen

    plain, shown = run(10**9), run(0)
    assert [(p.version, p.final) for p, _ in plain] == [(1, True), (2, True)]
    assert [(p.version, p.final, p.info["solver"] == "preview") for p, _ in shown] == [
        (1, False, True),
        (1, True, False),
        (2, True, False),
    ]
    assert np.array_equal(shown[1][1], plain[0][1]) and np.array_equal(shown[2][1], plain[1][1])
    preview, final = _ab(shown[0][1].astype(float)), _ab(shown[1][1].astype(float))
    assert np.abs(preview - final).mean() < 0.25 * np.abs(final).mean()  # the same colours, roughly
    assert _ab(shown[0][1].astype(float))[19:22, 9:12].mean(axis=(0, 1))[0] > 20  # red at the first stroke


def test_a_stroke_over_suggestions_is_reached_from_the_last_solve_without_a_preview(monkeypatch):
    """A stroke that clears a reference's suggestions around it removes cues, so it is no update;
    but it is no fresh solve either: the last solve is corrected (Colorizer.solve's low-rank
    edit) and no preview of the whole document is solved first (which made such a stroke about
    4 times as slow as another one on a large live copy). Its result is the one without previews."""
    from varcolor.ui import live as live_module
    from varcolor.ui.live import LiveSolver
    from varcolor.ui.refphoto import Suggestions

    rng = np.random.default_rng(4)
    gray = np.clip(np.tile(np.linspace(0.2, 0.8, 120), (80, 1)) + 0.05 * rng.random((80, 120)), 0, 1)
    full = (160, 240)
    ys, xs = np.mgrid[8:160:16, 8:240:16]
    colours = rng.integers(40, 220, (xs.size, 3)).astype(np.uint8)
    suggestions = Suggestions(xs.ravel().astype(np.int32), ys.ravel().astype(np.int32), colours)
    doc = Document().with_reference({"name": "ref.png"}, suggestions)
    doc = doc.with_stroke({"tool": "brush", "rgb": [220, 80, 40], "width": 6, "path": [[20, 40], [90, 60]]}, full)
    more = doc.with_stroke({"tool": "brush", "rgb": [60, 90, 210], "width": 6, "path": [[150, 100], [220, 120]]}, full)
    shown = {}
    for preview_pixels in (10**9, 0):
        monkeypatch.setattr(live_module, "PREVIEW_PIXELS", preview_pixels)
        live = LiveSolver(gray, full, warm=False)
        seen = shown[preview_pixels] = []
        live.listeners.append(lambda live=live, seen=seen: seen.append((live.published, live.rgba.copy())))
        try:
            for version, document in ((1, doc), (2, more)):
                live.submit(version, document)
                wait_until(lambda v=version, lv=live: lv.published.version == v and lv.published.final, 60, 0.01)
                assert live.published.final and not live.published.error
        finally:
            live.close(wait=30)
    second = [(p.final, p.info["solver"] == "preview", p.info.get("update")) for p, _ in shown[0] if p.version == 2]
    assert second == [(True, False, "low-rank")]  # one result, corrected from the last solve
    assert [p.info["solver"] for p, _ in shown[0] if p.version == 1][0] == "preview"  # the first solve shows one
    # The same result as without previews, within what the edit's correction may differ by from run to run
    # (the factors it corrects are made in the background: 0.05 ab at most).
    assert np.abs(shown[0][-1][1].astype(int) - shown[10**9][-1][1]).max() <= 1


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

    _photo(tmp_path)
    _many_images(tmp_path / "in")
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


def _many_images(folder: Path, count: int = 300) -> None:
    """A folder of small photos: encoding them one at a time stands for a save that takes long."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(count):
        varcolor.write_image(folder / f"p{index:03d}.png", rng.uniform(0.1, 0.9, (32, 40, 3)))


_alive = alive


@pytest.mark.slow
def test_a_dead_spare_or_a_killed_save_child_loses_nothing_and_says_what_happened(tmp_path, monkeypatch):
    """A spare child dead before Ctrl+S: the save runs in a fresh child, once, whole. A save child
    killed mid-save (kill -9, the OOM killer): the save fails in one line saying so (it quoted the
    child's last line of output, whatever that was), nothing of it is published, and the next
    save works."""
    import os
    import signal

    from varcolor.ui import saving

    (tmp_path / "out").mkdir()
    studio, spare = _studio_with_a_spare_child(tmp_path, monkeypatch, tmp_path / "out")
    try:
        os.kill(spare.pid, signal.SIGKILL)
        spare.wait()
        status = studio.save("first")
        assert studio.saves.job._child is not spare
        assert _folder_files(tmp_path / "out") == sorted(Path(path).name for path in status["paths"].values())
        assert len(status["paths"]) == 4  # result, mask, points, session: the whole unit
        assert varcolor.read_image(status["paths"]["result"]).shape == (40, 60, 3)

        _many_images(tmp_path / "in")
        long = {"command": "encode", "source": str(tmp_path / "in"), "output": str(tmp_path / "ir"), "workers": 1}
        long.update(grid_size=16, spacing=4)
        monkeypatch.setattr(saving, "save_request", lambda *args, **keywords: long)  # a save that takes long
        studio.start_save("second")
        wait_until(lambda: list((tmp_path / "ir").glob("*.png")), 60, 0.05)  # its child is at work
        os.kill(studio.saves.job._child.pid, signal.SIGKILL)
        studio.saves.job.wait(30)
        status = studio.save_status()
        assert status["state"] == "failed" and "killed by SIGKILL" in status["error"] and "\n" not in status["error"]
        assert not any(name.startswith("second") for name in _folder_files(tmp_path / "out"))
        assert not list((tmp_path / "data" / "saving").iterdir())
        monkeypatch.undo()
        assert studio.save("third")["state"] == "done"
    finally:
        studio.close()


def test_a_save_reads_the_studios_mask_as_the_live_view_does(tmp_path):
    """A one-pixel dark line beside a bright stroke of the same hue: the live view takes every
    stroke pixel in its own colour; the save's command read its mask with the default ``--edges
    unmix``, the line as the bright stroke blended towards black, and saved it in the bright one's
    colours (26 ab off what was painted and shown). The command now says ``--edges exact``."""
    (tmp_path / "out").mkdir()
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    try:
        studio.open_path(_photo(tmp_path))
        studio.edit(_stroke([220, 60, 40], [[10, 10], [50, 10]], width=6))
        studio.edit(_stroke([110, 30, 20], [[10, 14], [50, 14]], width=1))
        status = studio.save("shades")
    finally:
        studio.close()
    assert "--edges exact" in status["command"]
    result = _ab(np.round(varcolor.read_image(status["paths"]["result"]) * 255))
    painted = rgb_to_lab(np.array([[[110, 30, 20]]]) / 255.0)[0, 0, 1:]
    assert np.abs(result[14, 12:28] - painted).max() < 1  # the line on the photo's dark half, as painted


def test_two_saves_asked_for_at_once_start_one(tmp_path, monkeypatch):
    """Ctrl+S twice fast (two tabs, a double key press): both requests passed the "a save is under
    way" check before either had started its save, so two children solved the same unit at once
    (twice the memory of a scan's solve) and the first was no longer followed nor cancellable."""
    import threading

    from varcolor.ui import saving

    real = saving.memory_budget

    def slow_budget(*args, **keywords):  # the seconds a scan's mask takes to draw, between check and start
        time.sleep(0.3)
        return real(*args, **keywords)

    monkeypatch.setattr(saving, "memory_budget", slow_budget)
    (tmp_path / "out").mkdir()
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    outcomes = []

    def save():
        try:
            outcomes.append(studio.start_save("twice")["state"])
        except varcolor.InputError as exc:
            outcomes.append(str(exc))

    try:
        studio.open_path(_photo(tmp_path))
        studio.edit(_stroke([200, 60, 50], [[5, 10], [20, 10]]))
        threads = [threading.Thread(target=save) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["a save is under way: wait for it or cancel it", "solving"]
        studio.saves.job.wait(60)
        assert studio.save_status()["state"] == "done"
    finally:
        studio.close()


@pytest.mark.parametrize("kind", ["ora", "psd"])
def test_a_layered_file_opens_as_its_photo_and_editable_strokes_and_saves_back_layered(client, kind):
    """`varcolor ui work.ora`: the photo layer is the photo (not the composite with the paint burnt
    into the gray), the strokes layer is the document's strokes; a save writes a layered file of
    the same kind, whose result is what the strokes give on the photo layer."""
    from varcolor.io.layers import Layer, read_layers
    from varcolor.io.stack import write_layers

    if kind == "psd":
        pytest.importorskip("psd_tools")
    gray = np.round(varcolor.read_image(_photo(client.tmp)) * 255) / 255
    strokes = np.zeros((40, 60, 4))
    strokes[8:11, 5:25] = (200 / 255, 60 / 255, 50 / 255, 1.0)
    strokes[30:32, 35:55] = (50 / 255, 90 / 255, 200 / 255, 1.0)
    strokes[11, 5:25] = (200 / 255, 60 / 255, 50 / 255, 0.3)  # an antialiased rim: under half, no paint
    photo = np.dstack([gray, gray, gray, np.ones_like(gray)])
    work = client.tmp / f"work.{kind}"
    write_layers(work, [Layer("scan", photo), Layer("strokes", strokes)])
    client.studio.open_path(work)  # as `varcolor ui work.ora` opens it
    if kind == "ora":  # or as the page's "open" uploads it
        _open(client, work)
    assert np.abs(client.studio.image.gray - gray).max() < 1e-3  # the photo layer, no paint in it
    doc = client.studio.history.current
    painted = strokes[..., 3] >= 0.5
    mask = rasterize(doc, (40, 60))
    assert np.array_equal(mask.max(axis=2) > 0, painted)  # the strokes layer, as editable strokes
    assert np.array_equal(mask[painted], np.round(strokes[painted, :3] * 255).astype(np.uint8))
    client.post("/api/edit", json=_stroke([60, 170, 60], [[40, 20], [55, 20]], width=2))
    assert client.post("/api/undo").status_code == 200 and client.studio.history.current == doc
    client.post("/api/edit", json=_stroke([60, 170, 60], [[40, 20], [55, 20]], width=2))
    status = _save(client, "work_colorized", format=kind)
    assert status["state"] == "done", status
    saved = Path(status["paths"]["result"])
    assert saved.suffix == f".{kind}"
    layers, _ = read_layers(saved)
    assert [(layer.name, layer.visible) for layer in layers] == [
        ("photo", True),
        ("colorized", True),
        ("strokes", False),
    ]
    edited = rasterize(client.studio.history.current, (40, 60))
    assert np.abs(layers[0].pixels[..., 0] - gray).max() <= 1 / 255
    assert np.array_equal(layers[2].pixels[..., 3] > 0, edited.max(axis=2) > 0)
    cues = cues_from_mask(edited)
    expected = varcolor.colorize(gray, cues, method="levin-multiscale").rgb
    assert np.abs(varcolor.read_image(saved) - expected).max() <= 1.5 / 255  # what was shown is what was saved


def test_metrics_are_the_librarys_made_once_per_result_by_bands(tmp_path, monkeypatch):
    # The page asks for the metrics after every result: each answer is the library's PSNR and
    # mean CIEDE2000 of the whole live result, made once however many ask at once, a band of rows
    # at a time (whole, a 1.5 MP live copy's colour difference took 0.3 GB a request).
    import threading
    import tracemalloc

    import varcolor.metrics as metrics_module
    from varcolor.metrics import ciede2000, psnr
    from varcolor.ui.studio import METRICS_ROWS

    rgb = photo("coffee", (300, 400))
    path = tmp_path / "coffee.png"
    varcolor.write_image(path, rgb)
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    try:
        studio.open_path(path)
        studio.edit(_stroke([200, 60, 50], [[50, 100], [300, 120]], width=6))
        wait_until(lambda: studio.live.published.version >= studio.version and studio.live.published.final, 60, 0.01)
        result, reference = studio.live.rgb, studio.image.reference
        calls = []
        real = metrics_module.ciede2000
        monkeypatch.setattr(metrics_module, "ciede2000", lambda *a, **k: calls.append(1) or real(*a, **k))
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(studio.metrics())) for _ in range(4)]
        tracemalloc.start()
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            banded = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            whole = ciede2000(result, reference)
            whole_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert all(answer == answers[0] for answer in answers)
        assert len(calls) == -(-300 // METRICS_ROWS)  # one result's bands, once
        assert answers[0]["ciede2000"] == pytest.approx(whole, rel=1e-12)
        assert answers[0]["psnr"] == psnr(result, reference)
        assert banded < 0.5 * whole_peak, (banded, whole_peak)
    finally:
        studio.close()


def test_the_live_view_gives_its_solves_memory_back_once_idle(tmp_path, monkeypatch):
    # A solve's arrays of a scan's live copy are small enough to stay in the server's thread heaps
    # once freed; the live view hands them back to the system after each result, once no edit waits.
    import varcolor.ui.live as live_module

    trims = []
    monkeypatch.setattr(live_module, "give_back_free_memory", lambda: trims.append(1) or True)
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    try:
        studio.open_path(_photo(tmp_path))
        assert wait_until(lambda: trims, 30, 0.01)  # the gray shown
        before = len(trims)
        studio.edit(_stroke([200, 60, 50], [[5, 10], [20, 10]]))
        assert wait_until(lambda: len(trims) > before and not studio.live.busy(), 60, 0.01)
        assert studio.live.published.version == studio.version and studio.live.published.error is None
    finally:
        studio.close()


@pytest.mark.parametrize("bits", [8, 16])
def test_a_big_photo_is_held_as_its_levels_until_its_full_gray_is_made(tmp_path, monkeypatch, bits):
    """While the full gray is made (through the first strokes), the studio holds the photo's 8- or
    16-bit levels, not a float copy (a 40 MP scan: 0.12 GB, not 0.48 in float32), and the gray
    made from them is the one made from the photo read as floats, bit for bit."""
    from varcolor.ui import studio as studio_module
    from varcolor.ui.view import full_gray

    rgb = np.random.default_rng(bits).random((60, 80, 3))
    photo = tmp_path / "big.png"
    varcolor.write_image(photo, rgb, bits=bits)
    given = []
    monkeypatch.setattr(
        studio_module, "full_gray", lambda pixels, colour: given.append(pixels) or full_gray(pixels, colour)
    )
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, preview_pixels=30 * 40, warm=False)
    try:
        studio.open_path(photo)
        made = studio.image.view.gray
        assert given[0].dtype == (np.uint8 if bits == 8 else np.uint16) and given[0].shape == (60, 80, 3)
        assert np.array_equal(made, full_gray(varcolor.read_image(photo, np.float32), True))
    finally:
        studio.close()


def test_rasterize_holds_no_second_mask():
    """A save's full-resolution mask is drawn without copying the drawn picture back whole (a
    40 MP scan's 0.12 GB): NumPy's memory at its peak within the mask's own plus a little (the
    picture itself is Pillow's, not traced here), and the strips copy back every stroke's pixels."""
    import tracemalloc

    from PIL import Image, ImageDraw

    from varcolor.ui.document import draw

    doc = Document()
    for y in (100, 900, 1700):
        doc = doc.with_stroke({"tool": "brush", "rgb": [200, 80, 40], "width": 4, "path": [[100, y], [2400, y + 50]]})
    rasterize(doc, (40, 40))
    tracemalloc.start()
    try:
        mask = rasterize(doc, (2000, 2500))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.3 * mask.nbytes
    # Against the strokes drawn on a Pillow picture of the whole mask, as one piece.
    expected = np.zeros((2000, 2500, 3), np.uint8)
    pen = Image.new("RGB", (2500, 2000))
    draw_one = ImageDraw.Draw(pen)
    for stroke in doc.strokes:
        xy = [(x, y) for x, y in stroke["path"]]
        draw_one.line(xy, fill=(200, 80, 40), width=4, joint="curve")
        for x, y in {xy[0], xy[-1]}:
            draw_one.ellipse((x - 1.5, y - 1.5, x + 1.5, y + 1.5), fill=(200, 80, 40))
    expected[...] = np.asarray(pen)
    assert np.array_equal(mask, expected)
    partial = np.zeros((300, 300, 3), np.uint8)  # a box reaching past the mask's edge
    draw(partial, doc.strokes[:1], [], (2000, 2500), (50, 50, 400, 400))
    assert partial[:50].max() == 0 and partial[:, :50].max() == 0
