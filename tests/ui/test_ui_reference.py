"""The studio's reference photo (its matched cues as suggestions), neutral brush and flood hint,
through Starlette's test client."""

import json
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import varcolor
from varcolor import Colorizer
from varcolor.color import rgb_to_lab, to_gray
from varcolor.cues import Cues
from varcolor.reading.matching import CLEARANCE
from varcolor.ui import refphoto
from varcolor.ui.document import NEUTRAL_RGB, Document, cues_from_mask, rasterize
from varcolor.ui.hints import FLOOD_SHARE, flood_share
from varcolor.ui.server import create_app
from varcolor.ui.studio import Studio

from .conftest import result_response

# not a first run's array code; Levin's propagation, unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("kernels", "unrestrained")

TOKEN = "test-token"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A gray photo (the bundled cat, cropped) and a colour reference of the same scene, shifted."""
    from skimage import data

    folder = tmp_path_factory.mktemp("pair")
    cat = data.chelsea() / 255.0
    varcolor.write_image(folder / "cat.png", to_gray(cat[:, :400]))
    varcolor.write_image(folder / "ref.png", cat[:, 50:])
    varcolor.write_image(folder / "original.png", cat[:, :400])
    return folder


def _client(tmp_path: Path, **options):
    (tmp_path / "out").mkdir(parents=True, exist_ok=True)
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    app = create_app(studio, TOKEN, hosts=None, **options)
    client = TestClient(app, headers={"X-Varcolor-Token": TOKEN})
    client.studio = studio
    return client


@pytest.fixture
def client(tmp_path):
    with _client(tmp_path, max_upload=2_000_000) as c:
        yield c
    c.studio.close()


def _open(client, path: Path) -> dict:
    r = client.post("/api/open", content=path.read_bytes(), headers={"X-Filename": path.name})
    assert r.status_code == 200, r.text
    return r.json()


def _reference(client, path: Path) -> dict:
    """Open ``path`` as the reference and wait for its match; the state after it."""
    r = client.post("/api/reference-photo", content=path.read_bytes(), headers={"X-Filename": path.name})
    assert r.status_code == 200, r.text
    job = r.json()["reference_job"]
    deadline = time.monotonic() + 60
    state = client.get("/api/state").json()
    while state["reference_job"]["state"] == "matching" and time.monotonic() < deadline:
        time.sleep(0.05)
        state = client.get("/api/state").json()
    assert state["reference_job"]["serial"] == job["serial"]
    return state


def _result(client, version: int) -> tuple[dict, np.ndarray]:
    """The final live result of ``version`` (or later): its meta and RGB pixels."""
    have = 0
    while True:
        r = result_response(client, version, have)
        assert r.status_code == 200, r.status_code
        meta = json.loads(r.headers["x-result"])
        if meta["final"]:
            break
        have = meta["serial"]
    r = client.get(f"/api/result?version={meta['version']}&have=0&wait=0")
    top, left, h, w = json.loads(r.headers["x-result"])["box"]
    return meta, np.frombuffer(r.content, np.uint8).reshape(h, w, 4)[..., :3]


def _stroke(rgb, path, width=3.0, tool="brush"):
    stroke = {"tool": tool, "width": width, "path": path}
    if tool == "brush":
        stroke["rgb"] = list(rgb)
    return {"op": "stroke", "stroke": stroke}


def _chroma_error(rgb8: np.ndarray, original: np.ndarray) -> float:
    """Mean ab distance of a result from the original photo."""
    ours, theirs = rgb_to_lab(rgb8 / 255.0)[..., 1:], rgb_to_lab(original)[..., 1:]
    return float(np.hypot(*(ours - theirs).transpose(2, 0, 1)).mean())


# ------------------------------------------------------------------------------------------- reference


@pytest.mark.slow  # 7-8 s in make test; make test-slow runs it
def test_a_reference_suggests_the_scenes_colours_and_a_reopened_session_shows_the_same(pair, tmp_path):
    original = varcolor.read_image(pair / "original.png")
    with _client(tmp_path) as client:
        _open(client, pair / "cat.png")
        state = _reference(client, pair / "ref.png")
        assert state["reference_job"]["state"] == "done"
        record = state["doc"]["reference"]
        assert record["name"] == "ref.png" and record["suggestions"] > 100
        # The suggestions are the library's matches (Cues.from_reference on the live copy), each
        # painted with its chroma to within an ab unit.
        studio = client.studio
        expected = Cues.from_reference(studio.image.gray, varcolor.read_image(pair / "ref.png"))
        rows = np.array(client.get("/api/suggestions").json()["rows"])
        assert len(rows) == expected.count == record["suggestions"]
        assert expected.mask[rows[:, 1], rows[:, 0]].all()
        given = rgb_to_lab(rows[None, :, 2:] / 255.0)[0, :, 1:]
        assert np.abs(given - expected.ab[rows[:, 1], rows[:, 0]]).max() < 1.0
        # They colour the photo: nearer the original than its gray is, by far.
        meta, shown = _result(client, state["version"])
        assert meta["info"]["cues"] == len(rows)
        gray_error = _chroma_error(np.repeat(np.round(studio.image.gray * 255)[..., None], 3, 2), original)
        assert _chroma_error(shown, original) < 0.5 * gray_error
        # Swatches at a place come from the reference: its colours there, not the network's.
        place = client.get("/api/suggest?x=250&y=150").json()
        assert place["source"] == "reference" and place["colours"]
        truth = rgb_to_lab(original[150:151, 250:251])[0, 0, 1:]
        assert min(np.hypot(c["a"] - truth[0], c["b"] - truth[1]) for c in place["colours"]) < 10
        # Saved: the session names the reference (path and hash) and holds its suggestions; the mask has them.
        r = client.post("/api/save", json={"name": "cat"})
        assert r.status_code == 200, r.text
        status = r.json()
        while status["state"] in ("solving", "publishing"):
            time.sleep(0.1)
            status = client.get("/api/save-status").json()
        assert status["state"] == "done", status
        studio.close()
    session = json.loads((tmp_path / "out" / "cat.studio.json").read_text())
    assert session["reference"]["sha256"] == varcolor.io.file_sha256(
        tmp_path / "data" / record["sha256"][:16] / "reference.png"
    )
    assert Path(session["reference"]["path"]).is_file() and len(session["suggestions"]) == len(rows)
    mask = varcolor.read_image(tmp_path / "out" / "cat_mask.png", levels=True)
    assert (mask[rows[:, 1], rows[:, 0]] == rows[:, 2:]).all()
    # Reopened in another studio: the same suggestions, the same colours.
    with _client(tmp_path / "again") as again:
        r = again.post(
            "/api/open",
            content=(tmp_path / "out" / "cat.studio.json").read_bytes(),
            headers={"X-Filename": "cat.studio.json"},
        )
        assert r.status_code == 200, r.text
        reopened = r.json()
        assert reopened["doc"]["reference"]["sha256"] == record["sha256"] and reopened["reference_shown"]
        assert again.get("/api/suggestions").json()["rows"] == rows.tolist()
        assert again.get("/api/reference-photo.png").status_code == 200
        _, shown_again = _result(again, reopened["version"])
        assert np.abs(shown_again.astype(int) - shown.astype(int)).max() <= 1
        again.studio.close()


def test_strokes_win_over_suggestions_and_the_eraser_removes_them(pair, client):
    _open(client, pair / "cat.png")
    _reference(client, pair / "ref.png")
    before = np.array(client.get("/api/suggestions").json()["rows"])
    # A stroke: no suggestion stays within CLEARANCE pixels of it (a square's reach, as the command line).
    client.post("/api/edit", json=_stroke((200, 40, 40), [[100, 100], [160, 100]], width=5)).json()
    after = np.array(client.get("/api/suggestions").json()["rows"])
    reach = CLEARANCE + 2.5
    near = (np.abs(before[:, 0] - np.clip(before[:, 0], 100, 160)) <= reach) & (np.abs(before[:, 1] - 100) <= reach)
    assert near.sum() > 5
    assert {tuple(row) for row in after.tolist()} == {tuple(row) for row in before[~near].tolist()}
    # The stroke's own pixels are its colour in the live cues.
    mask = rasterize(client.studio.history.current, client.studio.image.gray.shape, client.studio.image.shape)
    assert (mask[100, 120] == (200, 40, 40)).all()
    # The eraser removes those under it (and no others); undo brings them back.
    client.post("/api/edit", json=_stroke(None, [[300, 200], [330, 200]], width=12, tool="eraser"))
    erased = {tuple(row) for row in client.get("/api/suggestions").json()["rows"]}
    removed = {tuple(row) for row in after.tolist()} - erased
    assert removed and erased <= {tuple(row) for row in after.tolist()}
    assert all(abs(x - min(max(x, 300), 330)) <= 7 and abs(y - 200) <= 7 for x, y, *_ in removed)
    client.post("/api/undo")
    client.post("/api/undo")
    assert client.get("/api/suggestions").json()["rows"] == before.tolist()
    # Remove takes the reference away; undo brings it back.
    assert client.post("/api/edit", json={"op": "reference-remove"}).json()["doc"]["reference"] is None
    assert client.get("/api/suggestions").json()["rows"] == []
    assert client.post("/api/undo").json()["doc"]["reference"]["suggestions"] == len(before)


def test_the_reference_is_matched_off_the_request_thread(pair, client, monkeypatch):
    _open(client, pair / "cat.png")
    release = threading.Event()
    real = refphoto.match_suggestions

    def slow(*args, **kwargs):
        assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr("varcolor.ui.studio.match_suggestions", slow)
    start = time.perf_counter()
    r = client.post("/api/reference-photo", content=(pair / "ref.png").read_bytes(), headers={"X-Filename": "ref.png"})
    assert r.status_code == 200 and r.json()["reference_job"]["state"] == "matching"
    assert time.perf_counter() - start < 10
    # Meanwhile the studio answers and edits; the suggestions join the document when the match ends.
    edited = client.post("/api/edit", json=_stroke((40, 90, 200), [[20, 20], [40, 20]])).json()
    assert edited["doc"]["reference"] is None
    release.set()
    deadline = time.monotonic() + 60
    while client.get("/api/state").json()["reference_job"]["state"] == "matching" and time.monotonic() < deadline:
        time.sleep(0.05)
    state = client.get("/api/state").json()
    assert state["doc"]["reference"]["suggestions"] > 100 and len(state["doc"]["strokes"]) == 1
    assert state["version"] == edited["version"] + 1


def test_bad_references_are_clear_refusals(pair, client, tmp_path):
    # Before a photo is open: nothing to match against.
    r = client.post("/api/reference-photo", content=(pair / "ref.png").read_bytes(), headers={"X-Filename": "ref.png"})
    assert r.status_code == 400 and "no image is open" in r.json()["error"]
    _open(client, pair / "cat.png")
    data = tmp_path / "data"
    before = sorted(p.relative_to(data) for p in data.rglob("*"))

    def refused(content, name, status=400):
        r = client.post("/api/reference-photo", content=content, headers={"X-Filename": name})
        assert r.status_code == status, r.text
        return r.json()["error"]

    assert refused(b"not an image", "junk.png").startswith("junk.png: ")
    assert "gray" in refused((pair / "cat.png").read_bytes(), "gray.png")
    tiny = tmp_path / "tiny.png"
    varcolor.write_image(tiny, np.random.default_rng(0).random((8, 8, 3)))
    assert "at least 16" in refused(tiny.read_bytes(), "tiny.png")
    assert "not an image file" in refused(b"{}", "notes.txt")
    assert "too large" in refused(b"x" * 2_100_000, "huge.png", 413)
    # Nothing of a refused file stays in the data folder.
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == before
    # By path: only inside the data folder; no way out by "..", an absolute path or a link.
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes((pair / "ref.png").read_bytes())
    (data / "link.png").symlink_to(outside)
    for path in ("../elsewhere.png", str(outside), "link.png", "/etc/passwd"):
        r = client.post("/api/reference-photo", json={"path": path})
        assert r.status_code == 403, (path, r.text)
    r = client.post("/api/reference-photo", json={"path": "nothing-here.png"})
    assert r.status_code == 400 and "no such file" in r.json()["error"]
    r = client.post("/api/reference-photo", json=["ref.png"])
    assert r.status_code == 400
    # A file inside it opens (the same as an upload).
    (data / "refs").mkdir()
    (data / "refs" / "r.png").write_bytes((pair / "ref.png").read_bytes())
    r = client.post("/api/reference-photo", json={"path": "refs/r.png"})
    assert r.status_code == 200 and r.json()["reference_job"]["state"] == "matching"
    # An unrelated scene matches too little: said in one line, the document untouched.
    from skimage import data as skdata

    unrelated = tmp_path / "coffee.png"
    varcolor.write_image(unrelated, skdata.coffee() / 255.0)
    state = _reference(client, unrelated)
    assert state["reference_job"]["state"] == "failed" and "matches too little" in state["reference_job"]["error"]
    assert state["doc"]["reference"] is None


def test_the_reference_endpoints_need_the_token(pair, tmp_path):
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    app = create_app(studio, TOKEN, hosts=None)
    with TestClient(app) as anonymous:
        for path in ("/api/suggestions", "/api/reference-photo.png"):
            assert anonymous.get(path).status_code == 403
        r = anonymous.post(
            "/api/reference-photo", content=(pair / "ref.png").read_bytes(), headers={"X-Filename": "r.png"}
        )
        assert r.status_code == 403
        r = anonymous.post("/api/reference-photo", json={"path": "r.png"}, headers={"X-Varcolor-Token": "wrong"})
        assert r.status_code == 403
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("reference.*"))
    studio.close()


def test_a_session_with_a_missing_reference_keeps_its_suggestions_and_bad_ones_are_refused(pair, tmp_path):
    doc = Document().with_reference(
        {"path": str(tmp_path / "gone.png"), "sha256": "0" * 64, "name": "gone.png"},
        refphoto.Suggestions(np.array([10, 20]), np.array([5, 6]), np.array([[200, 40, 40], [40, 40, 200]], np.uint8)),
    )
    from varcolor.ui.document import parse_session, session_dict

    image = {
        "path": str(pair / "cat.png"),
        "sha256": varcolor.io.file_sha256(pair / "cat.png"),
        "width": 400,
        "height": 300,
    }
    text = json.dumps(session_dict(doc, image))
    with _client(tmp_path) as client:
        r = client.post("/api/open", content=text.encode(), headers={"X-Filename": "s.studio.json"})
        assert r.status_code == 200, r.text
        state = r.json()
        assert "gone.png is not found" in state["message"] and not state["reference_shown"]
        assert client.get("/api/suggestions").json()["rows"] == [[10, 5, 200, 40, 40], [20, 6, 40, 40, 200]]
        for bad in (
            {"suggestions": [[10, 5, 200, 40]]},
            {"suggestions": [[1000, 5, 200, 40, 40]]},
            {"suggestions": [[10, 5, 0, 0, 0]]},
            {"reference": None, "suggestions": [[10, 5, 200, 40, 40]]},
            {"reference": {"path": "x", "name": "x", "sha256": "nothex"}},
        ):
            content = {**json.loads(text), **bad}
            r = client.post(
                "/api/open", content=json.dumps(content).encode(), headers={"X-Filename": "bad.studio.json"}
            )
            assert r.status_code == 400 and r.json()["error"].startswith("bad.studio.json: "), (bad, r.text)
        client.studio.close()
    assert parse_session(text, "s")[0].suggested == 2


# ----------------------------------------------------------------------------- neutral brush, flood hint


def _two_regions(tmp_path: Path) -> Path:
    """A dark textured left half (a coloured subject) and a white right half (cheeks, background)."""
    rng = np.random.default_rng(1)
    gray = np.full((60, 120), 0.95)
    gray[:, :60] = 0.3 + 0.05 * rng.random((60, 60))
    gray[:, 60:] += 0.02 * rng.random((60, 60))
    path = tmp_path / "regions.png"
    varcolor.write_image(path, np.clip(gray, 0, 1))
    return path


def test_the_neutral_brush_paints_no_colour(client, tmp_path):
    state = _open(client, _two_regions(tmp_path))
    assert tuple(state["neutral_rgb"]) == NEUTRAL_RGB and len(set(NEUTRAL_RGB)) == 1
    client.post("/api/edit", json=_stroke((220, 30, 30), [[10, 30], [40, 30]]))
    state = client.post("/api/edit", json=_stroke(NEUTRAL_RGB, [[80, 30], [110, 30]])).json()
    # The cue it makes is a = b = 0 (to 0.005: scikit-image's D65 white against its sRGB matrix).
    cues = cues_from_mask(rasterize(client.studio.history.current, (60, 120)))
    assert cues.mask[30, 95] and np.abs(cues.ab[30, 95]).max() < 0.005
    _, shown = _result(client, state["version"])
    chroma = np.hypot(*rgb_to_lab(shown / 255.0)[..., 1:].transpose(2, 0, 1))
    assert chroma[:, 75:].mean() < 1.0 and chroma[:, :50].mean() > 20  # the white stays white, the rest red


def test_the_flood_hint_comes_when_colour_floods_light_areas_no_stroke_touched(client, tmp_path):
    state = _open(client, _two_regions(tmp_path))
    state = client.post("/api/edit", json=_stroke((220, 30, 30), [[10, 30], [40, 30]])).json()
    meta, _ = _result(client, state["version"])
    assert meta["info"]["flooded"] and meta["info"]["flood"] > 0.3  # the white half took the red
    # A neutral stroke on the white: it stays white, and the hint goes.
    state = client.post("/api/edit", json=_stroke(NEUTRAL_RGB, [[80, 30], [110, 30]])).json()
    meta, _ = _result(client, state["version"])
    assert not meta["info"]["flooded"] and meta["info"]["flood"] < FLOOD_SHARE


def test_flood_share_is_a_property_of_light_uncued_coloured_pixels():
    """The rule on generated images, against a count made independently (by hand-written masks)."""
    rng = np.random.default_rng(2)
    gray = np.where(np.arange(200)[None, :] < 100, 0.25, 0.97) * np.ones((100, 1)) + 0.01 * rng.random((100, 200))
    cues = np.zeros(gray.shape, bool)
    cues[50, 10:40] = True
    # Solved with the library: the red reaches the white half.
    ab = np.zeros(gray.shape + (2,))
    ab[cues] = (45.0, 30.0)
    result = Colorizer(gray).solve(Cues(cues, ab)).ab
    share = flood_share(gray, result, cues)
    white_far = np.zeros(gray.shape, bool)
    white_far[:, 100:] = True  # every white pixel is over 60 px from the stroke (1/12 of 100 is 8.3)
    tinted = np.hypot(result[..., 0], result[..., 1]) >= 8
    assert abs(share - (white_far & tinted).mean()) < 0.02 and share > FLOOD_SHARE
    # The white stroked in its own light colour (a pale sky): not a flood of a darker stroke's colour.
    sky = cues.copy()
    sky[50, 150:180] = True
    ab_sky = ab.copy()
    ab_sky[50, 150:180] = (-5.0, -25.0)
    result = Colorizer(gray).solve(Cues(sky, ab_sky)).ab
    assert flood_share(gray, result, sky) < FLOOD_SHARE
    # Only neutral cues: nothing can flood.
    assert flood_share(gray, np.zeros_like(result), cues) == 0.0
    # A dark photo (nothing light) never floods, whatever its colour.
    assert flood_share(gray * 0.5, np.full(result.shape, 30.0), cues) == 0.0


def test_an_autosave_restores_the_reference_and_its_suggestions(pair, tmp_path):
    with _client(tmp_path) as client:
        _open(client, pair / "cat.png")
        _reference(client, pair / "ref.png")
        rows = client.get("/api/suggestions").json()["rows"]
        client.studio.close()  # the autosave written
    with _client(tmp_path) as again:  # the same data folder: the photo's autosave is offered
        state = _open(again, pair / "cat.png")
        assert state["restorable"] and "ref.png's" in state["restorable"]["text"]
        state = again.post("/api/restore").json()
        assert state["doc"]["reference"]["name"] == "ref.png" and state["reference_shown"]
        assert again.get("/api/suggestions").json()["rows"] == rows
        assert again.get("/api/reference-photo.png").content[:8] == b"\x89PNG\r\n\x1a\n"
        again.studio.close()


def test_a_reference_path_that_cannot_be_resolved_is_a_clear_refusal(pair, client, tmp_path):
    """A link loop inside the data folder, a name longer than the file system allows and a name
    that is no text (a lone surrogate, as JSON can carry): one line each (400), not an internal
    error (500), and the studio goes on."""
    _open(client, pair / "cat.png")
    data = tmp_path / "data"
    (data / "loop.png").symlink_to("loop.png")
    (data / "a.png").symlink_to("b.png")
    (data / "b.png").symlink_to("a.png")
    for path in ("loop.png", "a.png", "x" * 5000 + ".png"):
        r = client.post("/api/reference-photo", json={"path": path})
        assert r.status_code == 400, (path[:20], r.status_code, r.text[:300])
        assert path[:20] in r.json()["error"] and "internal error" not in r.json()["error"]
    r = client.post(
        "/api/reference-photo", content=b'{"path": "\\udcff.png"}', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and "text" in r.json()["error"], r.text[:300]
    assert client.get("/api/state").status_code == 200
