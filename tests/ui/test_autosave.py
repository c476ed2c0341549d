"""The studio's autosave (varcolor.ui.autosave): a session restored after a restart, its banner."""

from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from varcolor.ui.studio import Studio

from .conftest import edge_photo, saved_stroke_and_point, stroke_edit


def test_autosave_restore_and_session_reopen(tmp_path):
    photo, saved = saved_stroke_and_point(tmp_path)
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


def test_restore_banner_counts_strokes_erasers_and_points(tmp_path):
    photo = edge_photo(tmp_path)
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    studio.open_path(photo)
    studio.edit(stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    studio.edit(stroke_edit([60, 200, 50], [[5, 30], [20, 30]]))
    studio.edit(stroke_edit(None, [[0, 30], [3, 30]], tool="eraser"))
    studio.edit({"op": "point", "point": {"x": 50, "y": 30, "rgb": [50, 90, 200], "size": 3}})
    studio.close()
    again = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    restorable = again.open_path(photo)["restorable"]
    again.close()
    assert (restorable["strokes"], restorable["erasers"], restorable["points"]) == (2, 1, 1)
    assert restorable["text"] == "2 strokes, 1 eraser pass, 1 point"
