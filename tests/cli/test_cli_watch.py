"""``encode --watch`` and a file caught mid-copy (issue 52): it fails while partial and is
encoded once it is complete; Ctrl-C exits 130 with an honest count. The cut points are
generated."""

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import varcolor
import varcolor.ir.files


def _wait(predicate, seconds=60):
    end = time.time() + seconds
    while not predicate():
        assert time.time() < end, "timed out"
        time.sleep(0.1)


@pytest.mark.slow  # 3-7 s each: make test-slow
@pytest.mark.parametrize("fraction", [0.3, 0.8])
def test_a_file_that_failed_mid_copy_is_encoded_once_complete(tmp_path, fraction):
    source, ir = tmp_path / "in", tmp_path / "ir"
    source.mkdir()
    varcolor.write_image(tmp_path / "whole.png", np.random.default_rng(0).uniform(0.1, 0.9, (32, 40, 3)))
    whole = (tmp_path / "whole.png").read_bytes()
    (source / "copied.png").write_bytes(whole[: int(len(whole) * fraction)])  # the copy has not ended
    argv = ["encode", "-i", str(source), "-o", str(ir), "--watch", "--watch-interval", "0.2", "-s", "16", "-g", "4"]
    log = tmp_path / "watch.log"
    with open(log, "w") as err:
        watcher = subprocess.Popen([sys.executable, "-m", "varcolor.cli", *argv], stderr=err, text=True)
    try:
        _wait(lambda: "copied.png" in log.read_text() and "error" in log.read_text())  # failed while partial
        (source / "copied.png").write_bytes(whole)  # the copy ends
        # Counted once reported, not when its payload appears: the gray PNG is published after it,
        # and a Ctrl-C between the two stopped the unit (a clean clone saw "0 encoded, 1 failed").
        _wait(lambda: "encoded " in log.read_text())
        assert varcolor.ir.files.is_complete(ir / "copied.png")
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(30)
    assert watcher.returncode == 130
    assert "stopped watching (1 encoded, 0 failed)" in log.read_text()
