"""The studio's document (varcolor.ui.document): strokes and points rasterized as the files say,
sessions of older names."""

import json

import numpy as np
import pytest

import varcolor.common.memory

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from varcolor.ui.document import Document, cues_from_mask, rasterize


def test_rasterized_points_are_the_points_file_disks():
    doc = Document()
    for size, (x, y) in zip(
        range(1, 10), [(3, 3), (10, 4), (20, 6), (30, 8), (5, 20), (15, 22), (27, 24), (8, 34), (24, 33)]
    ):
        doc = doc.with_point({"x": x, "y": y, "rgb": [25 * size, 100, 200 - 10 * size], "size": size})
    mask = rasterize(doc, (40, 40))
    from varcolor.ui.document import points_file

    expected = varcolor.Cues.from_points(points_file(doc, (40, 40)), (40, 40))
    ours = cues_from_mask(mask)
    assert np.array_equal(expected.mask, ours.mask)
    assert np.allclose(expected.ab[expected.mask], ours.ab[ours.mask], atol=1e-9)
    # The mask's cues are strokes, and so are the saved file's: one rule for the studio's points.
    assert expected.points is None and ours.points is None


def test_a_masks_cues_read_in_a_box_are_the_whole_masks():
    """A stroke's mask black outside its box gives, read in the box alone, the cues the whole
    mask gives: Cues.from_mask's colours of the same picture (the independent reading)."""
    rng = np.random.default_rng(3)
    mask = np.zeros((30, 50, 3), np.uint8)
    mask[8:14, 20:33] = rng.integers(0, 256, (6, 13, 3), dtype=np.uint8)
    mask[10, 25] = 0  # a black pixel inside the box: no cue
    ours = cues_from_mask(mask, (8, 20, 6, 13))
    whole = cues_from_mask(mask)
    expected = varcolor.Cues.from_mask(mask / 255.0, edges="exact")
    assert np.array_equal(ours.mask, expected.mask) and np.array_equal(ours.mask, whole.mask)
    assert ours.count == 6 * 13 - 1
    np.testing.assert_array_equal(ours.ab, whole.ab)
    assert np.allclose(ours.ab[ours.mask], expected.ab[expected.mask], atol=1e-9)


def _every_stroke_drawn(doc, shape, full_shape, box):
    """The box's picture with every stroke of ``doc`` drawn on it by Pillow, none left out (what
    draw() did before it left out the strokes that reach nowhere near its box)."""
    from PIL import Image, ImageDraw

    top, left, height, width = box
    sx, sy = shape[1] / full_shape[1], shape[0] / full_shape[0]
    picture = Image.new("RGB", (width, height))
    pen = ImageDraw.Draw(picture)
    for stroke in doc.strokes:
        colour = tuple(stroke["rgb"]) if stroke["tool"] == "brush" else (0, 0, 0)
        line_width = max(1, round(stroke["width"] * np.sqrt(sx * sy)))
        xy = [((x + 0.5) * sx - 0.5 - left, (y + 0.5) * sy - 0.5 - top) for x, y in stroke["path"]]
        pen.line(xy, fill=colour, width=line_width, joint="curve")
        r = (line_width - 1) / 2
        for x, y in {xy[0], xy[-1]}:
            if r < 0.5:
                pen.point((x, y), fill=colour)
            else:
                pen.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return np.asarray(picture)


def test_a_document_drawn_in_a_box_leaves_out_only_strokes_that_paint_nothing_there():
    """draw() in a box (a full tile of the view, a new stroke's box) leaves out the strokes that
    reach nowhere near it: the box holds what every stroke drawn there gives, for boxes on
    strokes, beside them, across their caps and away from all of them; nothing outside it."""
    from varcolor.ui.document import draw

    rng = np.random.default_rng(7)
    doc = Document()
    for _ in range(12):
        x, y, angle = rng.uniform(20, 380), rng.uniform(20, 280), rng.uniform(0, 6)
        path = [
            [min(max(x + 6 * k * np.cos(angle), 0), 399), min(max(y + 6 * k * np.sin(angle), 0), 299)] for k in range(8)
        ]
        stroke = {"tool": "brush" if rng.random() < 0.8 else "eraser", "width": float(rng.uniform(1, 9)), "path": path}
        stroke["rgb"] = [int(v) for v in rng.integers(1, 256, 3)]
        doc = doc.with_stroke(stroke, (300, 400))
    for shape in [(300, 400), (150, 200)]:  # the photo's own pixels, and a live copy half its size
        for _ in range(40):
            top, left = int(rng.integers(0, shape[0] - 4)), int(rng.integers(0, shape[1] - 4))
            box = (top, left, int(rng.integers(1, shape[0] - top)), int(rng.integers(1, shape[1] - left)))
            mask = np.zeros(shape + (3,), np.uint8)
            draw(mask, doc.strokes, doc.points, (300, 400), box)
            region = (slice(box[0], box[0] + box[2]), slice(box[1], box[1] + box[3]))
            np.testing.assert_array_equal(mask[region], _every_stroke_drawn(doc, shape, (300, 400), box))
            outside = np.ones(shape, bool)
            outside[region] = False
            assert mask[outside].max(initial=0) == 0


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
