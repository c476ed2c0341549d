"""The studio's suggested colours and the network prior (varcolor.ui.suggest)."""

import sys

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from .conftest import edge_photo, live_result, open_upload


def test_suggestions_and_the_network_prior(client):
    pytest.importorskip("torch")
    state = open_upload(client, edge_photo(client.tmp))
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
    meta = live_result(client, state["version"])
    assert meta["error"] is None and meta["info"].get("prior") == "ideepcolor"
    assert state["can_undo"] and client.post("/api/undo").json()["doc"]["settings"]["method"] == "levin-multiscale"


def test_the_networks_suggestions_are_made_at_the_lowest_priority():
    # A stroke's start asks for them and its solve follows at once: the network must not take
    # the cores from the solve (it runs in a thread of nice 19, where the system has it).
    import os
    import threading

    from varcolor.ui.studio import _low_priority

    if not hasattr(os, "getpriority") or not sys.platform.startswith("linux"):
        pytest.skip("a thread's own priority is Linux's")
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    there = _low_priority().submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result()
    assert there == 19 and os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_suggestions_queued_behind_the_network_are_answered_by_one_run_of_the_newest_strokes(tmp_path, monkeypatch):
    # Each stroke's start asks for suggestions; quick strokes queued a network run each, which
    # went on through the next strokes' solves. The requests queued while the network is busy
    # are answered by one run, of the newest document; the gray's part of the input is made once.
    pytest.importorskip("torch")
    import threading

    import varcolor
    import varcolor.neural.hints as hints_module
    import varcolor.ui.suggest as suggest_module
    from varcolor.ui.document import cues_from_mask, rasterize
    from varcolor.ui.studio import Studio, _low_priority

    from ..conftest import photo, wait_until
    from .conftest import stroke_edit

    path = tmp_path / "coffee.png"
    varcolor.write_image(path, photo("coffee", (96, 128)))
    runs, planes = [], []
    real_run, real_plane = suggest_module.class_probabilities, hints_module.lightness_plane
    monkeypatch.setattr(suggest_module, "class_probabilities", lambda *a, **k: runs.append(a[2]) or real_run(*a, **k))
    monkeypatch.setattr(hints_module, "lightness_plane", lambda *a, **k: planes.append(1) or real_plane(*a, **k))
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    try:
        studio.open_path(path)
        gate = threading.Event()
        _low_priority().submit(gate.wait, 60)  # the network busy with an earlier request
        answers, askers = [], []
        for k, rgb in enumerate(([200, 60, 50], [50, 90, 200], [60, 180, 70])):
            studio.edit(stroke_edit(rgb, [[10, 20 + 25 * k], [110, 25 + 25 * k]], width=5))
            asker = threading.Thread(target=lambda: answers.append(studio.suggest(60.0, 40.0)))
            asker.start()
            askers.append(asker)
            wait_until(lambda k=k: _low_priority()._work_queue.qsize() >= k + 1, 10, 0.01)
        gate.set()
        for asker in askers:
            asker.join(60)
        assert len(answers) == 3 and all(answer["available"] for answer in answers)
        assert len(runs) == 1  # one run for the three requests
        newest = cues_from_mask(rasterize(studio.history.current, studio.image.gray.shape, studio.image.shape))
        assert np.array_equal(runs[0].mask, newest.mask)  # of the three strokes
        assert all(answer == answers[0] for answer in answers)
        # Another stroke: the network runs again, on the gray's input made before.
        studio.edit(stroke_edit([220, 200, 40], [[10, 90], [110, 92]], width=5))
        studio.suggest(60.0, 40.0)
        assert len(runs) == 2 and len(planes) == 1
    finally:
        studio.close()
