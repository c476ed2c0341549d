"""Recolor (varcolor.app.recolor): encode then decode, scored on what this run made."""

from ..conftest import run


def test_recolor_scores_only_what_this_run_made(tmp_path, capsys):
    from ..conftest import colour_photos

    colour_photos(tmp_path / "in")
    code, out, err = run(capsys, "recolor", tmp_path / "in", "-o", tmp_path / "out", "-e", "stock", "-q")
    assert code == 0 and "| a.png |" in out and "| b.png |" in out, err
    # Stale results of another encoder are kept, not this run's: nothing of theirs is scored.
    code, out, err = run(capsys, "recolor", tmp_path / "in", "-o", tmp_path / "out", "-e", "adaptive")
    assert code == 0 and "exists; kept" in err, err
    assert "| a.png |" not in out and "| b.png |" not in out, out
    # Decoding refused (its outputs would replace the photos): no photo is scored against itself.
    code, out, err = run(capsys, "recolor", tmp_path / "in", "-o", tmp_path / "in", "-q")
    assert code == 1 and "refusing to overwrite an input file" in err, err
    assert "inf" not in out and "| a.png |" not in out, out
