"""The studio's HTTP server (varcolor.ui.server): the guard (token, origin, host, upload size),
the page's modules, bad requests answered in one line while the server keeps running."""

import warnings
from pathlib import Path

import pytest

import varcolor.common.memory

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note that httpx2 is preferred
    from starlette.testclient import TestClient
from varcolor.ui.server import create_app
from varcolor.ui.studio import Studio

from .conftest import TOKEN, edge_photo, open_upload


def test_bad_images_are_refused_and_the_server_keeps_running(client):
    path = edge_photo(client.tmp)
    for name, data in (
        ("notes.png", b"this is not an image"),
        ("cut.png", path.read_bytes()[:200]),
        ("notes.txt", b"hello"),
    ):
        r = client.post("/api/open", content=data, headers={"X-Filename": name})
        assert r.status_code == 400 and name in r.json()["error"], r.text
    state = open_upload(client, path)
    assert state["image"]["name"] == "photo.png"


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


def test_a_json_body_sent_without_its_length_is_refused_once_past_the_limit(client, monkeypatch):
    """Chunked, a body says no length: it was read whole before its size was checked (200 MB
    took the server from 263 to 655 MB). Counted as it comes, and refused past the limit."""
    from varcolor.ui import server

    monkeypatch.setattr(server, "MAX_BODY", 1000)

    def body():
        for _ in range(50):
            yield b" " * 100

    r = client.post("/api/edit", content=body(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "too large (over 1,000 bytes)" in r.json()["error"], r.text


def test_non_finite_query_numbers_are_400(client):
    open_upload(client, edge_photo(client.tmp))
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
    open_upload(client, edge_photo(client.tmp))
    kept = sorted(p.relative_to(data) for p in data.rglob("*"))
    assert kept
    r = client.post("/api/open", content=b"junk again", headers={"X-Filename": "junk2.png"})
    assert r.status_code == 400 and sorted(p.relative_to(data) for p in data.rglob("*")) == kept
