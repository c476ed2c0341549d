"""The studio's view at full resolution (:mod:`varcolor.ui.view`): the photo's gray, and the
result tiles at 1:1."""

import struct
import tracemalloc
import zlib

import numpy as np
import pytest

import varcolor.common.memory
from varcolor.color import rgb_to_lab, to_gray
from varcolor.ui.document import Document, cues_from_mask, rasterize
from varcolor.ui.view import BLOCKS, blocks, full_gray

from .conftest import chroma_of, live_result, open_upload, stroke_edit


def _live_gradient() -> np.ndarray:
    """A live result's chroma (300×200 working copy): a gradient in a and in b."""
    return np.dstack(
        [np.linspace(-20, 30, 300)[None].repeat(200, 0), np.linspace(25, -10, 200)[:, None].repeat(300, 1)]
    )


pytestmark = pytest.mark.usefixtures("kernels")  # not a first run's array code (tests/conftest.py)


def _photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((height, width, 3)).astype(np.float32)


def test_the_full_gray_is_to_grays_by_bands_in_a_fraction_of_its_memory():
    photo = _photo(1100, 900)
    assert np.array_equal(full_gray(photo, True), to_gray(photo).astype(np.float32))
    same = np.repeat(photo[..., :1], 3, axis=2)  # a gray photo stored as RGB: its channel, as to_gray
    assert np.array_equal(full_gray(same, False), to_gray(same).astype(np.float32))
    assert np.array_equal(full_gray(photo[..., 0], False), photo[..., 0])
    tall = _photo(2400, 500, seed=1)

    def peak(make) -> int:
        tracemalloc.start()
        try:
            make(tall)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    # Whole, to_gray takes the pixels in double precision and makes its gray in double; by bands,
    # the result in single precision and a band's temporaries.
    banded, whole = peak(lambda p: full_gray(p, True)), peak(to_gray)
    assert banded < 0.4 * whole, (banded, whole)


def test_tiles_are_the_photos_pixels_and_full_tiles_are_the_saves_colours(client, tmp_path):
    from varcolor.color import lightness_of_gray
    from varcolor.ui.view import TILE

    rng = np.random.default_rng(5)
    gray = np.clip(np.tile(np.linspace(0.2, 0.8, 700), (300, 1)) + 0.1 * rng.random((300, 700)), 0, 1)
    gray[:, 350:] *= 0.6  # an edge
    path = client.tmp / "wide.png"
    varcolor.write_image(path, gray)
    client.studio.preview_pixels = 30_000  # a live copy about a third of the photo's size
    state = open_upload(client, path)
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
    client.post("/api/edit", json=stroke_edit([200, 60, 50], [[100, 150], [300, 150]], width=4))
    state = client.post("/api/edit", json=stroke_edit([50, 90, 200], [[400, 150], [600, 150]], width=4)).json()
    client.picture = np.zeros((state["image"]["work_height"], state["image"]["work_width"], 4), np.uint8)
    meta = live_result(client, state["version"])
    while meta["version"] < state["version"] or not meta["final"]:
        meta = live_result(client, state["version"], meta["serial"])
    live = tile("result", 0, 0, 1)[..., :3]  # columns 256-511: the edge at 350
    after = tile("result", 0, 0, 1, full=1)[..., :3]
    lightness = rgb_to_lab(after / 255.0)[..., 0]
    assert np.abs(lightness - lightness_of_gray(full[:256, 256:512])).max() < 1.0  # the photo's own
    cues = cues_from_mask(rasterize(client.studio.history.current, (300, 700)))
    saved = varcolor.colorize(full, cues).ab
    near = (slice(110, 190), slice(330 - 256, 370 - 256))
    ref = saved[110:190, 330:370]
    err_full = np.abs(chroma_of(np.dstack([after, after[..., :1]]))[near] - ref).mean()
    err_live = np.abs(chroma_of(np.dstack([live, live[..., :1]]))[near] - ref).mean()
    # (the full tiles lift the live copy's chroma, whose reach stops at unlike things on its own
    # coarser cells: closer to the save than the live copy by a third, not by more)
    assert err_full < 0.66 * err_live, (err_full, err_live)
    # Under a stroke, its colour exactly (held, as a save holds it).
    under = rgb_to_lab(tile("result", 0, 0, 0, full=1)[None, 150, 120:240, :3] / 255.0)[0, :, 1:]
    red = rgb_to_lab(np.array([[[200, 60, 50]]]) / 255.0)[0, 0, 1:]
    assert np.median(np.hypot(*(under - red).T)) < 1.5
    # An edit not yet solved: a full tile asked for is the live result's (that of the last version).
    client.studio.live.close(wait=30.0)  # nothing solves the next edit
    client.post("/api/edit", json=stroke_edit([60, 200, 50], [[400, 50], [500, 50]]))
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
    live_ab = _live_gradient()
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
    keys = [(row, col) for row in range(-(-shape[0] // TILE)) for col in range(-(-shape[1] // TILE))]
    for row, col in keys:
        ab = view.full_chroma(row, col, doc, live_ab)
        part = whole[row * TILE : row * TILE + ab.shape[0], col * TILE : col * TILE + ab.shape[1]]
        worst = max(worst, float(np.abs(ab - part).max()))
    assert worst < 0.5, worst  # ab: half of one 8-bit level's worth, at most
    # Tiles made in blocks (a window for several, as the view's are made ahead): the same.
    made = blocks(keys[::-1])
    assert sorted(block[2:4] for block in made) == [(1, 2), (1, 2), (2, 2), (2, 2)]  # of 3×4 tiles, partial ones too
    for block in made:
        ab = view.full_chroma(block.row, block.col, doc, live_ab, block.rows, block.cols)
        top, left = block.row * TILE, block.col * TILE
        assert ab.shape[:2] == (min(block.rows * TILE, shape[0] - top), min(block.cols * TILE, shape[1] - left))
        worst = max(worst, float(np.abs(ab - whole[top : top + ab.shape[0], left : left + ab.shape[1]]).max()))
    assert worst < 0.5, worst


@pytest.mark.parametrize("seed", range(6))
def test_blocks_hold_each_tile_once_and_only_whole_rectangles_of_the_tiles_asked(seed):
    rng = np.random.default_rng(seed)
    keys = [(int(r), int(c)) for r, c in rng.integers(0, 6, (int(rng.integers(1, 30)), 2))]
    made = blocks(keys)
    held = [key for block in made for key in block.keys]
    assert sorted(held) == sorted(set(keys))  # each tile asked, once
    for block in made:
        rectangle = {
            (r, c) for r in range(block.row, block.row + block.rows) for c in range(block.col, block.col + block.cols)
        }
        assert set(block.keys) == rectangle and (block.rows, block.cols) in {(1, 1), *BLOCKS}
        assert list(block.keys) == [key for key in dict.fromkeys(keys) if key in rectangle]  # in the order asked
    # A block is started by the first tile not yet made: the view's centre comes first.
    assert made[0].keys[0] == keys[0]
    firsts = [held.index(block.keys[0]) for block in made]
    assert firsts == sorted(firsts)


def _wide_photo(client):
    """The test photo of the full-tile test, opened with a live copy a third of its size."""
    rng = np.random.default_rng(5)
    gray = np.clip(np.tile(np.linspace(0.2, 0.8, 700), (300, 1)) + 0.1 * rng.random((300, 700)), 0, 1)
    path = client.tmp / "wide.png"
    varcolor.write_image(path, gray)
    client.studio.preview_pixels = 30_000
    return open_upload(client, path)


def _settled(client, version: int) -> dict:
    image = client.get("/api/state").json()["image"]
    client.picture = np.zeros((image["work_height"], image["work_width"], 4), np.uint8)
    meta = live_result(client, version)
    while meta["version"] < version or not meta["final"]:
        meta = live_result(client, version, meta["serial"])
    return meta


def test_the_views_full_tiles_are_made_as_the_result_is_final_and_served_as_made(client, monkeypatch):
    # The page names the tiles it shows at 1:1; once the result of an edit is final, the studio
    # makes their full tiles before the page asks, each once: the page's requests get those bytes.
    import time

    from varcolor.ui import view as view_module

    made: list[tuple[int, int]] = []
    real = view_module.View.full_chroma

    def counted(self, row, col, doc, live_ab, rows=1, cols=1):
        made.extend((r, c) for r in range(row, row + rows) for c in range(col, col + cols))
        return real(self, row, col, doc, live_ab, rows, cols)

    monkeypatch.setattr(view_module.View, "full_chroma", counted)
    _settled(client, _wide_photo(client)["version"])  # the opened photo's gray, before any view is named
    assert client.post("/api/view", json={"tiles": [[0, 1], [0, 0], [1, 1]]}).json() == {"tiles": 3}
    state = client.post("/api/edit", json=stroke_edit([200, 60, 50], [[100, 150], [300, 150]], width=4)).json()
    _settled(client, state["version"])
    view = client.studio.image.view
    deadline = time.monotonic() + 60
    while (view.busy() or len(made) < 3) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted(made) == [(0, 0), (0, 1), (1, 1)]  # made ahead, each once
    served = client.get("/api/tile?layer=result&level=0&row=0&col=1&full=1").content
    assert len(made) == 3  # not made again for the page
    # The same bytes as the tile made on its own, for this document and result.
    studio = client.studio
    _, ab = studio.live.latest()
    fresh = view_module.View(view.gray, compress=view.compress)
    assert served == fresh.full_tile(0, 1, studio.version, studio.history.current, ab)
    # A studio on loopback (this one's default) sends its tiles stored, not deflated.
    assert not view.compress and served[33:37] == struct.pack(">I", len(served) - 57)  # one IDAT chunk
    assert zlib.decompressobj().decompress(served[41:-16])[0] == 0  # a row of filter None
    # A tile not in the view is made when asked; further out (no tiles named), none ahead.
    client.get("/api/tile?layer=result&level=0&row=1&col=2&full=1")
    assert made.count((1, 2)) == 1
    assert client.post("/api/view", json={"tiles": []}).json() == {"tiles": 0}
    before = len(made)
    state = client.post("/api/edit", json=stroke_edit([50, 90, 200], [[400, 150], [600, 150]], width=4)).json()
    _settled(client, state["version"])
    time.sleep(0.3)
    assert len(made) == before and not view.busy()


@pytest.mark.parametrize(
    "body",
    [
        {"tiles": "0,0"},
        {"tiles": [[0]]},
        {"tiles": [[0, 1.0]]},
        {"tiles": [[True, 0]]},
        {"tiles": [[5, 0]]},  # no such tile: the photo has 2 rows of tiles
        {"tiles": [[0, -1]]},
        {"tiles": [[0, 0]] * 2000},
        {"tiles": [[2**70, 0]]},
        {"tiles": [[0, 0, 0]]},
        {"tiles": [[[0], 0]]},
        {"tiles": None},
        {},
        [],
    ],
)
def test_a_bad_view_is_refused_in_one_line(client, body):
    _wide_photo(client)
    r = client.post("/api/view", json=body)
    assert r.status_code == 400 and "\n" not in r.json()["error"], r.text
    assert client.studio._view_tiles == ()


def test_a_tile_being_made_is_waited_for_and_an_older_versions_tile_keeps_the_newer_ones(monkeypatch):
    import threading
    import time

    from varcolor.ui import view as view_module

    gray = np.linspace(0, 1, 300 * 400, dtype=np.float32).reshape(300, 400)
    view = view_module.View(gray)
    calls: list[tuple[int, int]] = []

    def slow(self, row, col, doc, live_ab, rows=1, cols=1):
        calls.extend((r, c) for r in range(row, row + rows) for c in range(col, col + cols))
        time.sleep(0.3)
        return np.full(self._block_box(row, col, rows, cols)[2:] + (2,), 10.0 * len(calls), np.float32)

    monkeypatch.setattr(view_module.View, "full_chroma", slow)
    doc, ab = Document(), np.zeros((30, 40, 2))
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(view.full_tile(0, 0, 2, doc, ab))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [(0, 0)] and len(set(results)) == 1  # made once, the others waited for it
    older = view.full_tile(0, 0, 1, doc, ab)  # a request left from an older version: made, not kept
    assert len(calls) == 2 and older != results[0]
    assert view.full_tile(0, 0, 2, doc, ab) == results[0] and len(calls) == 2  # version 2's still kept
    # Made ahead until no longer wanted: asked before each tile.
    wanted = iter([True, False])
    view.ahead(3, doc, ab, [(0, 1), (1, 0), (1, 1)], lambda: next(wanted, False))
    deadline = time.monotonic() + 10
    while view.busy() and time.monotonic() < deadline:
        time.sleep(0.01)
    # (0, 1) and (1, 1) a block, (1, 0) another: at most one of them got a True
    assert not view.busy() and calls[2:] in ([(0, 1), (1, 1)], [(1, 0)], [])
    # A view of more tiles than are kept (a hostile page's 1,024; repeats): only as many are made.
    monkeypatch.setattr(view_module, "KEPT_TILES", 2)
    made = len(calls)
    view.ahead(4, doc, ab, [(0, 0), (0, 0), (0, 1), (1, 0), (1, 1)], lambda: True)
    deadline = time.monotonic() + 10
    while view.busy() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(calls[made:]) == [(0, 0), (0, 1)]


@pytest.mark.parametrize(
    "shape", [(1, 1), (1, 7), (5, 1), (256, 256), (37, 91), (3, 4, 3), (1, 1, 3), (256, 243, 3), (9, 13, 4)]
)
def test_the_pages_pictures_are_pngs_of_exactly_their_pixels(shape, monkeypatch):
    import io

    from PIL import Image

    from varcolor.ui import view as view_module

    rng = np.random.default_rng(sum(shape))
    for pixels in (rng.integers(0, 256, shape, dtype=np.uint8), np.full(shape, 255, np.uint8)):
        for idat, compress in ((view_module._IDAT, True), (7, True), (view_module._IDAT, False), (7, False)):
            monkeypatch.setattr(view_module, "_IDAT", idat)  # the data in one chunk, and in many
            data = view_module.png(pixels, compress)
            picture = Image.open(io.BytesIO(data))
            assert picture.mode == ("L" if pixels.ndim == 2 else "RGB" if pixels.shape[2] == 3 else "RGBA")
            assert np.array_equal(np.asarray(picture), pixels)  # every byte, after PNG's own filters undone
            Image.open(io.BytesIO(data)).verify()  # chunks and CRCs as PNG has them


@pytest.mark.parametrize("pixels", [np.zeros((4, 4), np.uint16), np.zeros((4, 4, 2), np.uint8), np.zeros(4, np.uint8)])
def test_a_picture_the_page_cannot_take_is_refused(pixels):
    from varcolor.ui.view import png

    with pytest.raises(ValueError, match="uint8"):
        png(pixels)


def test_a_blocks_tiles_are_waited_for_and_made_again_where_the_block_failed(monkeypatch):
    # The tiles of a block made ahead are claimed at once: a request for one waits for the block
    # (and gets the bytes kept); where the block's window fails, its tiles are let go unkept and
    # each request makes its own tile, on its own.
    import threading
    import time

    from varcolor.ui import view as view_module

    gray = np.linspace(0, 1, 600 * 600, dtype=np.float32).reshape(600, 600)
    view = view_module.View(gray)
    calls: list[tuple[int, int, int, int]] = []
    fail = {"block": False}

    def chroma_at(box):  # each pixel's own chroma: a tile cut from the wrong place of its block differs
        ys, xs = np.mgrid[box[0] : box[0] + box[2], box[1] : box[1] + box[3]].astype(np.float32)
        return np.dstack([(ys * 7 + xs) % 50 - 25, (xs * 3 - ys) % 40 - 20])

    def slow(self, row, col, doc, live_ab, rows=1, cols=1):
        calls.append((row, col, rows, cols))
        time.sleep(0.3)
        if fail["block"] and rows * cols > 1:
            raise RuntimeError("the block's window failed")
        return chroma_at(self._block_box(row, col, rows, cols))

    monkeypatch.setattr(view_module.View, "full_chroma", slow)
    doc, ab = Document(), np.zeros((60, 60, 2))
    keys = [(0, 0), (0, 1), (1, 0), (1, 1)]
    expected = {key: view._painted(view._pixels(0, *key)[0], chroma_at(view.tile_box(0, *key))) for key in keys}
    for version, failing in ((1, False), (2, True)):
        fail["block"] = failing
        made = len(calls)
        view.ahead(version, doc, ab, keys, lambda: True)
        got: dict = {}

        def request(key, version=version, got=got):
            got[key] = view.full_tile(*key, version, doc, ab)

        threads = [threading.Thread(target=request, args=(key,)) for key in keys]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert got == expected  # each tile its own part of the block's chroma (or made alone)
        if failing:  # the block failed: each request made its own tile
            assert calls[made] == (0, 0, 2, 2) and sorted(calls[made + 1 :]) == [(*key, 1, 1) for key in keys]
        else:  # one window for the four; the requests waited for it
            assert calls[made:] == [(0, 0, 2, 2)]


def test_a_windows_flat_gray_is_kept_for_the_next_strokes_tiles_with_the_same_colours(monkeypatch):
    # The closed regions' flat parts of the gray depend on the window's gray alone: a view keeps
    # them for each window it made (the same block windows every stroke) and its tiles come out
    # bit for bit as a view that keeps nothing makes them.
    from scipy import ndimage

    from varcolor.ui import view as view_module

    rng = np.random.default_rng(4)
    shape = (700, 900)
    gray = np.clip(0.5 + 0.25 * np.sin(np.arange(shape[1]) / 30.0)[None] + 0.04 * rng.standard_normal(shape), 0, 1)
    gray = gray.astype(np.float32)
    doc = Document()
    for rgb, line in (([200, 60, 50], [[240, 250], [420, 270]]), ([50, 90, 200], [[500, 500], [700, 530]])):
        doc = doc.with_stroke({"tool": "brush", "rgb": rgb, "width": 5, "path": line}, shape)
    live_ab = _live_gradient()
    smoothed = []
    real = ndimage.gaussian_gradient_magnitude
    monkeypatch.setattr(ndimage, "gaussian_gradient_magnitude", lambda *a, **k: smoothed.append(1) or real(*a, **k))
    view = view_module.View(gray)
    first = view.full_chroma(0, 0, doc, live_ab, 2, 2)
    made = len(smoothed)
    assert made >= 1  # the strokes' regions looked at
    later = view.full_chroma(0, 0, doc, live_ab * 0.5, 2, 2)  # the next stroke's live colours, the same window
    assert len(smoothed) == made  # taken from the view, not smoothed again
    fresh = view_module.View(gray)
    assert np.array_equal(first, fresh.full_chroma(0, 0, doc, live_ab, 2, 2))
    assert np.array_equal(later, view_module.View(gray).full_chroma(0, 0, doc, live_ab * 0.5, 2, 2))
    # Kept for the newest windows only.
    monkeypatch.setattr(view_module, "KEPT_WINDOWS", 2)
    for row, col in ((0, 2), (1, 0), (1, 2)):
        view.full_chroma(row, col, doc, live_ab)
    assert len(view._windows) == 2


def test_a_windows_cues_are_kept_while_the_strokes_that_paint_there_are_the_same(monkeypatch):
    # A stroke elsewhere leaves a window's cues as they were: taken as kept, not drawn again. A
    # stroke that paints in the window, an eraser, a point, or undo draws them again. Every time,
    # the tiles are bit for bit a fresh view's.
    from varcolor.ui import view as view_module

    rng = np.random.default_rng(6)
    shape = (700, 900)
    gray = np.clip(0.5 + 0.2 * np.cos(np.arange(shape[0]) / 25.0)[:, None] + 0.04 * rng.standard_normal(shape), 0, 1)
    gray = gray.astype(np.float32)
    live_ab = _live_gradient()
    drawn = []
    real = view_module.draw
    monkeypatch.setattr(view_module, "draw", lambda *a, **k: drawn.append(1) or real(*a, **k))
    view = view_module.View(gray)
    first = Document().with_stroke(
        {"tool": "brush", "rgb": [200, 60, 50], "width": 5, "path": [[100, 100], [300, 150]]}, shape
    )
    elsewhere = first.with_stroke(
        {"tool": "brush", "rgb": [50, 90, 200], "width": 5, "path": [[800, 600], [880, 650]]}, shape
    )
    inside = elsewhere.with_stroke(
        {"tool": "brush", "rgb": [60, 200, 90], "width": 5, "path": [[150, 300], [250, 320]]}, shape
    )
    erased = inside.with_stroke({"tool": "eraser", "width": 30, "path": [[200, 120], [220, 130]]}, shape)
    pointed = erased.with_point({"x": 60, "y": 60, "rgb": [240, 220, 40]}, shape)
    far_point = pointed.with_point({"x": 850, "y": 650, "rgb": [20, 220, 240]}, shape)  # points: all of them said
    steps = [(first, True), (elsewhere, False), (inside, True), (erased, True), (pointed, True), (far_point, True)]
    steps += [(far_point, False), (first, True)]  # the same again; then back to the first (undo)
    for doc, draws in steps:
        before = len(drawn)
        ab = view.full_chroma(0, 0, doc, live_ab, 2, 2)
        assert (len(drawn) > before) == draws
        assert np.array_equal(ab, view_module.View(gray).full_chroma(0, 0, doc, live_ab, 2, 2))


def test_tiles_asked_from_many_threads_while_blocks_are_made_ahead_are_each_their_versions(monkeypatch):
    # A hostile or busy page: requests for every tile of two versions at once, from many threads,
    # while the blocks of the newer one are made ahead. Each answer is its own version's tile
    # (as a fresh view makes it, within one level), whatever was kept or being made.
    import io
    import threading

    from PIL import Image

    from varcolor.ui import view as view_module

    rng = np.random.default_rng(8)
    shape = (520, 600)
    gray = np.clip(0.5 + 0.2 * np.sin(np.arange(shape[1]) / 20.0)[None] + 0.03 * rng.standard_normal(shape), 0, 1)
    gray = gray.astype(np.float32)
    one = Document().with_stroke(
        {"tool": "brush", "rgb": [200, 60, 50], "width": 5, "path": [[50, 60], [500, 300]]}, shape
    )
    two = one.with_stroke({"tool": "brush", "rgb": [40, 90, 220], "width": 5, "path": [[100, 450], [550, 420]]}, shape)
    docs = {1: (one, _live_gradient()), 2: (two, _live_gradient() * 0.5)}
    keys = [(r, c) for r in range(3) for c in range(3)]
    view = view_module.View(gray)
    answers: list = []

    def ask(version, key):
        answers.append((version, key, view.full_tile(*key, version, *docs[version])))

    threads = [threading.Thread(target=ask, args=(v, k)) for k in keys for v in (1, 2, 2)]
    view.ahead(2, *docs[2], keys, lambda: True)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fresh = view_module.View(gray)
    expected = {(v, k): fresh.full_tile(*k, v, *docs[v]) for v in (1, 2) for k in keys}
    assert len(answers) == len(threads)
    for version, key, data in answers:
        got = np.asarray(Image.open(io.BytesIO(data)), int)
        want = np.asarray(Image.open(io.BytesIO(expected[version, key])), int)
        assert np.abs(got - want).max() <= 1, (version, key)


@pytest.mark.parametrize("local", [True, False])
def test_a_studio_for_another_computer_sends_its_tiles_compressed(tmp_path, local):
    # On loopback the page is on the same computer: stored PNGs (no deflate to wait for); a studio
    # listening for other computers sends fewer bytes. The pixels are the same either way.
    import io

    from PIL import Image

    from varcolor.ui.studio import Studio

    from .conftest import edge_photo

    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False, local=local)
    try:
        studio.open_path(edge_photo(tmp_path))
        data = studio.tile_png("gray", 0, 0, 0)
        view = studio.image.view
        assert view.compress is not local
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), view.gray_tile(0, 0, 0))
        stored = len(view.gray_tile(0, 0, 0).tobytes()) + view.gray_tile(0, 0, 0).shape[0]  # a filter byte a row
        assert (len(data) > stored) is local  # stored: every byte and the chunks' own
    finally:
        studio.close()


def test_a_page_that_names_its_view_and_goes_away_still_gets_every_picture(client):
    # A careless page: it names its 1:1 view (the live copy's picture then comes after the view's
    # tiles) and never says it left. Each stroke's result comes first without its picture, then its
    # picture, a publication of its own; a page polling as the studio's does ends with the picture
    # of a live view that paints every result, and the metrics are of the picture it has.
    from varcolor.ui.live import LiveSolver

    from ..conftest import wait_until

    have = _settled(client, _wide_photo(client)["version"])["serial"]  # the serial the page has
    docs = [client.studio.history.current]
    assert client.post("/api/view", json={"tiles": [[0, 0], [0, 1], [1, 0], [1, 1]]}).json() == {"tiles": 4}
    for k, rgb in enumerate(([200, 60, 50], [50, 90, 200], [60, 180, 70])):
        state = client.post("/api/edit", json=stroke_edit(rgb, [[100 + 150 * k, 80], [200 + 150 * k, 200]], width=6))
        version = state.json()["version"]
        meta = live_result(client, version, have)
        while meta["version"] < version or not meta["final"]:
            meta = live_result(client, version, meta["serial"])
        docs.append(client.studio.history.current)
        if k:  # (the first stroke's is painted at once: nothing was painted before)
            assert meta["painted"] is False and meta["box"][2:] == [0, 0]
            meta = live_result(client, version, meta["serial"])  # the next: its picture
            assert meta["picture"] and meta["painted"] and meta["version"] == version
        have = meta["serial"]
    live = client.studio.live
    assert live.picture_serial == live.published.serial
    reference = LiveSolver(live.gray, live.full_shape, warm=False)
    try:
        for version, doc in enumerate(docs, 1):
            reference.submit(version, doc)
            assert wait_until(lambda version=version: reference.published.version == version, 60)
        assert np.array_equal(client.picture, reference.rgba)
    finally:
        reference.close(wait=30)
