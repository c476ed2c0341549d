"""The round trip with the real Krita: the plug-in's Colorize action in Krita, headless, gives the
command line's result on the same layers within one level, leaves the strokes layer as painted,
replaces its own layer on a second run, its first run is one undo step (two with the confidence map
it adds as a hidden layer, as the command line writes the map), Cancel leaves no layer, and Live
colours a stroke painted after the runs as the command line colours the final layers."""

import shutil

import numpy as np
import pytest

from varcolor.krita import check


def test_an_openraster_layer_reads_back_as_written(tmp_path):
    gray, strokes = check.sample_document((30, 40))
    photo = np.dstack([gray] * 3 + [np.ones_like(gray)])
    check.write_ora(tmp_path / "d.ora", [("photo", photo), ("strokes", strokes)])
    assert np.array_equal(check.read_ora_layer(tmp_path / "d.ora", "strokes"), strokes)
    assert np.array_equal(check.read_ora_layer(tmp_path / "d.ora", "photo"), photo)
    with pytest.raises(check.InputError, match="0 layers named 'x'"):
        check.read_ora_layer(tmp_path / "d.ora", "x")


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("krita") and shutil.which("xvfb-run")), reason="needs Krita and xvfb-run")
def test_krita_colours_the_document_as_the_command_line_does(tmp_path):
    found = check.round_trip(tmp_path)
    assert found.levels <= 1
    assert found.strokes_unchanged
    # The Colorize runs leave their confidence map, hidden, as the command line writes it; Live's
    # first result replaces it (no map of another result is left beside one).
    assert found.layers_after_runs == ["photo", "colorized", "confidence", "strokes"]
    assert found.confidence_levels is not None and found.confidence_levels <= 1
    assert found.layers == ["photo", "colorized", "strokes"]
    assert found.layers_after_undo == ["photo", "strokes"]  # the run's two steps (its map the second) undone
    assert found.cancelled
    assert len(found.live_seconds) == 2  # Live's first result, then the stroke's (the layer compared above)
    assert found.passed


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("krita") and shutil.which("xvfb-run")), reason="needs Krita and xvfb-run")
def test_krita_colours_the_document_with_a_virtual_environment_activated(tmp_path, monkeypatch):
    """This Python's environment activated as a shell does (its programs first on PATH,
    VIRTUAL_ENV): Krita's Python took its packages and loaded no plug-in."""
    import os
    import sys

    if sys.prefix == sys.base_prefix:
        pytest.skip("not run from a virtual environment")
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    monkeypatch.setenv("PATH", os.pathsep.join([os.path.join(sys.prefix, "bin"), os.environ["PATH"]]))
    assert check.round_trip(tmp_path).passed
