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
