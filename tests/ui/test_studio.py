"""The studio's session (varcolor.ui.studio): opening photos and sessions, edits, undo and redo,
the state the page shows, big photos, layered files, metrics."""

import json
from pathlib import Path

import numpy as np
import pytest

import varcolor.common.memory

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from varcolor.ui.document import cues_from_mask, rasterize
from varcolor.ui.studio import Studio

from ..conftest import photo, wait_until
from .conftest import (
    chroma_of,
    edge_photo,
    live_result,
    open_upload,
    save_as_the_page_does,
    saved_stroke_and_point,
    stroke_edit,
)


def test_open_stroke_point_undo_redo(client):
    state = open_upload(client, edge_photo(client.tmp))
    assert state["image"]["width"] == 60 and state["doc"]["strokes"] == []
    client.picture = np.zeros((40, 60, 4), np.uint8)
    meta = live_result(client, state["version"])
    assert meta["error"] is None and np.all(client.picture[..., 0] == client.picture[..., 2])  # no cues: gray
    red, blue = [200, 60, 50], [50, 90, 200]
    state = client.post("/api/edit", json=stroke_edit(red, [[5, 10], [20, 10]])).json()
    meta = live_result(client, state["version"], meta["serial"])
    after_one = client.picture.copy()
    assert chroma_of(after_one)[10, 12, 0] > 20  # under the stroke: red (a > 0)
    state = client.post("/api/edit", json={"op": "point", "point": {"x": 50, "y": 30, "rgb": blue, "size": 3}}).json()
    assert state["doc"]["points"][0]["x"] == 50
    meta = live_result(client, state["version"], meta["serial"])
    ab = chroma_of(client.picture)
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
    meta = live_result(client, state["version"], meta["serial"])
    assert np.abs(client.picture.astype(int) - after_one).max() <= 1  # back to the one-stroke result
    state = client.post("/api/redo").json()
    assert len(state["doc"]["points"]) == 1
    state = client.post("/api/edit", json={"op": "point-delete", "id": pid}).json()
    assert state["doc"]["points"] == []
    state = client.post("/api/edit", json={"op": "clear"}).json()
    assert state["doc"]["strokes"] == [] and state["can_undo"]


def test_eraser_removes_strokes_and_points(client):
    state = open_upload(client, edge_photo(client.tmp))
    client.post("/api/edit", json=stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    client.post("/api/edit", json={"op": "point", "point": {"x": 40, "y": 20, "rgb": [50, 90, 200], "size": 1}})
    state = client.post(
        "/api/edit", json=stroke_edit(None, [[0, 10], [25, 10], [40, 20]], width=9, tool="eraser")
    ).json()
    assert state["doc"]["points"] == []
    doc = client.studio.history.current
    assert not rasterize(doc, (40, 60)).any()  # the eraser covered the whole stroke


def test_bad_edits_are_one_line_errors(client):
    open_upload(client, edge_photo(client.tmp))
    for op in (
        {"op": "nope"},
        stroke_edit([1, 2], [[1, 1]]),
        stroke_edit([1, 2, 3], [[500, 1]]),
        {"op": "point", "point": {"x": 1, "y": 1, "rgb": [1, 2, 3], "size": 256}},
        {"op": "point", "point": {"x": 1, "y": 1, "rgb": [1, 2, 3], "size": 2.5}},
        {"op": "settings", "settings": {"method": "magic"}},
    ):
        r = client.post("/api/edit", json=op)
        assert r.status_code == 400 and r.json()["error"] and "\n" not in r.json()["error"]
    assert client.post("/api/edit", content=b"{not json").status_code == 400
    assert client.get("/api/state").status_code == 200  # still serving


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


def test_too_large_for_memory_is_refused_like_the_cli(client, monkeypatch):
    import varcolor.solvers.choice as solvers

    path = edge_photo(client.tmp)
    monkeypatch.setattr(varcolor.common.memory, "available_bytes", lambda: 1000)
    r = client.post("/api/open", content=path.read_bytes(), headers={"X-Filename": "photo.png"})
    assert r.status_code == 400 and "GB" in r.json()["error"]
    # A photo whose live copy fits but whose full-resolution solve does not: it opens with a
    # warning, and saving gives the command line's refusal (nothing written).
    monkeypatch.setattr(varcolor.common.memory, "available_bytes", lambda: 10**10)
    monkeypatch.setattr(solvers, "estimate_bytes", lambda name, pixels: 10**12 if pixels > 1000 else 1)
    client.studio.preview_pixels = 1000
    state = open_upload(client, path)
    assert state["image"]["work_width"] * state["image"]["work_height"] <= 1000
    assert "will not fit" in state["message"]
    client.post("/api/edit", json=stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    r = client.post("/api/save", json={"name": "big"})
    assert r.status_code == 400 and "GB" in r.json()["error"]
    assert not list((client.tmp / "out").iterdir())


@pytest.mark.slow
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
        studio.edit(stroke_edit([204, 77, 51], [[5, 15], [12, 15]]))
        studio.edit(stroke_edit([51, 102, 204], [[28, 15], [35, 15]]))
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


def test_session_file_opened_from_the_page_and_bad_ones_refused(client):
    """A saved session given to the page reopens its photo (an uploaded one: from the data folder);
    corrupt or foreign ones, and an unreadable autosave, are one line on the page."""
    photo = edge_photo(client.tmp)
    open_upload(client, photo)
    client.post("/api/edit", json=stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    session = Path(save_as_the_page_does(client, "s")["paths"]["session"])
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
    state = open_upload(client, photo)
    assert "unreadable autosave" in state["message"] and state["restorable"] is None
    assert client.get("/api/state").json()["message"] is None  # said once


def test_method_change_estimate_asks_for_slow_methods(client, monkeypatch):
    """The page asks before a method change the server expects to take over a few seconds: the
    estimate scales with the live copy's pixels, uses this session's measured rate once there is
    one, and refuses an unknown method or one whose solve does not fit in memory."""
    import varcolor.ui.studio as studio_module

    open_upload(client, edge_photo(client.tmp))
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
        varcolor.common.memory,
        "available_bytes",
        lambda: int((need[big] + need[low]) / 2 / varcolor.common.memory.BUDGET_FRACTION),
    )
    assert client.get(f"/api/estimate?method={low}").status_code == 200
    r = client.get(f"/api/estimate?method={big}")
    assert r.status_code == 400 and "GB" in r.json()["error"]
    r = client.post("/api/edit", json={"op": "settings", "settings": {"method": big}})
    assert r.status_code == 400 and client.get("/api/state").json()["doc"]["settings"]["method"] == "levin-multiscale"


def test_strokes_that_come_with_a_photo_are_said_on_the_page_and_in_the_log(tmp_path, caplog):
    photo, saved = saved_stroke_and_point(tmp_path)
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


@pytest.mark.parametrize("kind", ["ora", pytest.param("psd", marks=pytest.mark.slow)])
def test_a_layered_file_opens_as_its_photo_and_editable_strokes_and_saves_back_layered(client, kind):
    """`varcolor ui work.ora`: the photo layer is the photo (not the composite with the paint burnt
    into the gray), the strokes layer is the document's strokes; a save writes a layered file of
    the same kind, whose result is what the strokes give on the photo layer."""
    from varcolor.io.layers import Layer, read_layers
    from varcolor.io.stack import write_layers

    if kind == "psd":
        pytest.importorskip("psd_tools")
    gray = np.round(varcolor.read_image(edge_photo(client.tmp)) * 255) / 255
    strokes = np.zeros((40, 60, 4))
    strokes[8:11, 5:25] = (200 / 255, 60 / 255, 50 / 255, 1.0)
    strokes[30:32, 35:55] = (50 / 255, 90 / 255, 200 / 255, 1.0)
    strokes[11, 5:25] = (200 / 255, 60 / 255, 50 / 255, 0.3)  # an antialiased rim: under half, no paint
    photo = np.dstack([gray, gray, gray, np.ones_like(gray)])
    work = client.tmp / f"work.{kind}"
    write_layers(work, [Layer("scan", photo), Layer("strokes", strokes)])
    client.studio.open_path(work)  # as `varcolor ui work.ora` opens it
    if kind == "ora":  # or as the page's "open" uploads it
        open_upload(client, work)
    assert np.abs(client.studio.image.gray - gray).max() < 1e-3  # the photo layer, no paint in it
    doc = client.studio.history.current
    painted = strokes[..., 3] >= 0.5
    mask = rasterize(doc, (40, 60))
    assert np.array_equal(mask.max(axis=2) > 0, painted)  # the strokes layer, as editable strokes
    assert np.array_equal(mask[painted], np.round(strokes[painted, :3] * 255).astype(np.uint8))
    client.post("/api/edit", json=stroke_edit([60, 170, 60], [[40, 20], [55, 20]], width=2))
    assert client.post("/api/undo").status_code == 200 and client.studio.history.current == doc
    client.post("/api/edit", json=stroke_edit([60, 170, 60], [[40, 20], [55, 20]], width=2))
    status = save_as_the_page_does(client, "work_colorized", format=kind)
    assert status["state"] == "done", status
    saved = Path(status["paths"]["result"])
    assert saved.suffix == f".{kind}"
    layers, _ = read_layers(saved)
    assert [(layer.name, layer.visible) for layer in layers] == [
        ("photo", True),
        ("colorized", True),
        ("strokes", False),
        ("confidence", False),
    ]
    edited = rasterize(client.studio.history.current, (40, 60))
    assert np.abs(layers[0].pixels[..., 0] - gray).max() <= 1 / 255
    assert np.array_equal(layers[2].pixels[..., 3] > 0, edited.max(axis=2) > 0)
    cues = cues_from_mask(edited)
    expected = varcolor.colorize(gray, cues, method="levin-multiscale").rgb
    assert np.abs(varcolor.read_image(saved) - expected).max() <= 1.5 / 255  # what was shown is what was saved


def _stroked_colour_photo(tmp_path, shape, path) -> Studio:
    """A studio with a colour photo (coffee, ``shape``) open and one red stroke along ``path`` solved:
    a result the metrics compare with the original."""
    photo_path = tmp_path / "coffee.png"
    varcolor.write_image(photo_path, photo("coffee", shape))
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    studio.open_path(photo_path)
    studio.edit(stroke_edit([200, 60, 50], path, width=6))
    wait_until(lambda: studio.live.published.version >= studio.version and studio.live.published.final, 60, 0.01)
    return studio


def test_metrics_are_the_librarys_made_once_per_result_by_bands(tmp_path, monkeypatch):
    # The page asks for the metrics after every result: each answer is the library's PSNR and
    # mean CIEDE2000 of the whole live result, made once however many ask at once, a band of rows
    # at a time (whole, a 1.5 MP live copy's colour difference took 0.3 GB a request).
    import threading
    import tracemalloc

    import varcolor.metrics as metrics_module
    from varcolor.metrics import ciede2000, psnr
    from varcolor.ui.studio import METRICS_ROWS

    studio = _stroked_colour_photo(tmp_path, (300, 400), [[50, 100], [300, 120]])
    try:
        result, original = studio.live.rgb, studio.image.original
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
            whole = ciede2000(result, original)
            whole_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert all(answer == answers[0] for answer in answers)
        assert len(calls) == -(-300 // METRICS_ROWS)  # one result's bands, once
        assert answers[0]["ciede2000"] == pytest.approx(whole, rel=1e-12)
        assert answers[0]["psnr"] == psnr(result, original)
        assert banded < 0.5 * whole_peak, (banded, whole_peak)
    finally:
        studio.close()


@pytest.mark.slow
def test_metrics_wait_for_the_work_the_page_waits_for_and_no_longer_than_their_patience(tmp_path, monkeypatch):
    # The metrics run at the lowest priority, each band after the view's full tiles, a stroke's
    # solve or a save (the studio's _working): a 1:1 view's tiles were slowed by them. They are
    # still answered while such work goes on for longer than METRICS_PATIENCE.
    import threading
    import time

    import varcolor.metrics as metrics_module
    from varcolor.ui import studio as studio_module

    studio = _stroked_colour_photo(tmp_path, (120, 160), [[20, 40], [120, 50]])
    try:
        real, started = metrics_module.ciede2000, []
        timed = lambda *a, **k: started.append(time.monotonic()) or real(*a, **k)  # noqa: E731
        monkeypatch.setattr(metrics_module, "ciede2000", timed)
        busy_until = time.monotonic() + 0.4
        monkeypatch.setattr(studio, "_working", lambda: time.monotonic() < busy_until)
        first = studio.metrics()
        assert started and min(started) >= busy_until  # no band before the work ended
        # Work that does not end: answered after the patience, the same numbers.
        studio._metrics = None
        monkeypatch.setattr(studio_module, "METRICS_PATIENCE", 0.3)
        monkeypatch.setattr(studio, "_working", lambda: True)
        asked = time.monotonic()
        again = studio.metrics()
        assert 0.3 <= time.monotonic() - asked < 5.0
        assert again == first
        # Waiting there, they hold up nothing of the suggestions' thread (a stroke's start asks it).
        from varcolor.ui.studio import _low_priority

        studio._metrics = None
        monkeypatch.setattr(studio_module, "METRICS_PATIENCE", 2.0)
        waiting = threading.Thread(target=studio.metrics)
        waiting.start()
        time.sleep(0.2)
        asked = time.monotonic()
        _low_priority().submit(lambda: None).result()
        assert time.monotonic() - asked < 1.0
        waiting.join()
    finally:
        studio.close()


@pytest.mark.parametrize("bits", [8, 16])
def test_a_big_photo_is_held_as_its_levels_until_its_full_gray_is_made(tmp_path, monkeypatch, bits):
    """While the full gray is made (through the first strokes), the studio holds the photo's 8- or
    16-bit levels, not a float copy (a 40 MP scan: 0.12 GB, not 0.48 in float32), and the gray
    made from them is a run's (of the photo read in double precision) rounded to single, bit for bit."""
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
        assert np.array_equal(made, varcolor.color.to_gray(varcolor.read_image(photo)).astype(np.float32))
    finally:
        studio.close()


def test_the_page_can_show_where_the_colour_is_guessed(client):
    """Issue 93: the studio shows on request where the colour is guessed, an overlay of the live
    copy shaded as opaque as the colour is unknown (1 − :attr:`varcolor.Result.confidence`)."""
    import io

    from PIL import Image

    state = open_upload(client, edge_photo(client.tmp))
    client.picture = np.zeros((40, 60, 4), np.uint8)
    meta = live_result(client, state["version"])
    state = client.post("/api/edit", json=stroke_edit([200, 60, 50], [[5, 10], [20, 10]])).json()
    live_result(client, state["version"], meta["serial"])
    r = client.get("/api/guessed.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    overlay = np.asarray(Image.open(io.BytesIO(r.content)))
    assert overlay.shape == (40, 60, 4)
    alpha = overlay[..., 3].astype(float) / 255
    # the stroke's dark half: its colour known; the light half beyond the edge: guessed (left neutral)
    assert alpha[5:35, 3:25].mean() < 0.25 and alpha[5:35, 35:57].mean() > 0.5
    expected = 1 - client.studio.live._colorizer.result.confidence
    assert np.abs(alpha - 0.75 * expected).max() <= 1 / 255 + 1e-6
    # Cleared (the gray photo again): no overlay of the removed stroke; undone: it is back.
    serial = meta["serial"]
    for path, body, shown in (("/api/edit", {"op": "clear"}, False), ("/api/undo", None, True)):
        state = client.post(path, json=body).json()
        serial = live_result(client, state["version"], serial)["serial"]
        assert (client.get("/api/guessed.png").status_code == 200) == shown


def test_out_dir_may_be_a_folder_the_first_save_makes(tmp_path):
    """``varcolor ui --out-dir DIR`` refused a folder that did not exist yet, though the default
    one is made by the first save; a file there is still refused in one line."""
    from varcolor.ui import _check_save_folder

    _check_save_folder(tmp_path / "new" / "sub")  # made by the first save
    assert not (tmp_path / "new").exists()
    (tmp_path / "file").write_text("x")
    for bad in (tmp_path / "file", tmp_path / "file" / "sub"):
        with pytest.raises(varcolor.InputError) as refused:
            _check_save_folder(bad)
        assert str(bad) in str(refused.value) and "\n" not in str(refused.value)


def test_a_photo_all_transparent_is_refused_as_it_opens_not_at_its_save(tmp_path):
    """It opened, was painted on for a whole session, and only its save (after the solve) said
    "every pixel is transparent"."""
    from PIL import Image

    Image.new("RGBA", (40, 30), (0, 0, 0, 0)).save(tmp_path / "cleared.png")
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    try:
        with pytest.raises(varcolor.InputError, match="cleared.png: every pixel is transparent"):
            studio.open_path(tmp_path / "cleared.png")
    finally:
        studio.close()
