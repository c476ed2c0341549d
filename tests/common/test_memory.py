import subprocess
import sys
from pathlib import Path

import pytest

# In a fresh process: arrays of 1 MB, made and freed in a thread after a 16 MB one raised glibc's
# mmap threshold, stay in that thread's heap (and in the resident size) until given back.
CHILD = """
import os, threading
from pathlib import Path
import numpy as np
from varcolor.common.memory import give_back_free_memory

def rss():
    status = dict(line.split(":", 1) for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines())
    return int(status["VmRSS"].split()[0]) * 1024

big = np.ones(16 << 20, np.uint8)
del big

def work():
    arrays = [np.ones(1 << 20, np.uint8) for _ in range(400)]
    del arrays

thread = threading.Thread(target=work)
thread.start()
thread.join()
before = rss()
assert give_back_free_memory()
print(before - rss())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim, Linux's /proc")
def test_memory_freed_in_a_thread_is_given_back_to_the_system():
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 200e6  # of the 400 MB freed (270-320 MB measured)


def _resident_bytes(array) -> int:
    """The resident size of the mappings that hold ``array`` (``/proc/self/smaps``: an madvise
    splits one allocation into several)."""
    start = array.__array_interface__["data"][0]
    end, total, inside = start + array.nbytes, 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            low, high = (int(x, 16) for x in head.split("-"))
            inside = low < end and start < high
        elif inside and head == "Rss:":
            total += int(line.split()[1]) * 1024
    return total


def _transparent_huge_pages() -> bool:
    mode = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    return mode.is_file() and "[never]" not in mode.read_text()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's /proc")
def test_sparse_zeros_are_resident_only_where_written():
    import numpy as np

    from varcolor.common.memory import sparse_zeros

    zeros = sparse_zeros((4096, 4096, 2), np.float32)  # 128 MB
    assert zeros.shape == (4096, 4096, 2) and zeros.dtype == np.float32 and zeros.flags.writeable
    assert not zeros[::97, ::89].any()
    zeros[::64, 1000] = 1.0  # one value every 2 MB: each would be a huge page's
    assert zeros.sum() == 2 * 64
    assert _resident_bytes(zeros) < 8e6
    assert sparse_zeros((3, 2)).shape == (3, 2)  # small: plain zeros


@pytest.mark.skipif(not _transparent_huge_pages(), reason="huge pages are what made sparse cues resident")
def test_cue_colours_of_few_strokes_stay_mostly_unresident():
    # The cues of a big scan's few strokes: their colours are an H×W×2 array written at the strokes
    # alone. In NumPy's zeros (huge pages) each stroke made 2 MB resident: a 40 MP scan's 80
    # strokes held 0.24 GB so.
    import numpy as np

    import varcolor

    gray = np.full((3000, 3000), 0.5)
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[::100, 1500:1504] = (0.8, 0.3, 0.3)  # a dot every 100 rows
    cues = varcolor.Cues.from_marked(gray, marked)
    assert cues.count == 30 * 4
    np.testing.assert_allclose(
        cues.ab[cues.mask], varcolor.color.rgb_to_lab(marked[cues.mask][None])[0, :, 1:], atol=1e-4
    )
    assert _resident_bytes(cues.ab) < 0.1 * cues.ab.nbytes


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's /proc")
def test_cue_colours_of_a_few_points_stay_mostly_unresident():
    # A points file's 30 hints on a big image: their colours are written at the points alone (they
    # were copied into a dense array: 0.64 GB resident at 40 MP).
    import numpy as np

    import varcolor

    points = [{"y": 50 + 100 * k, "x": 1500, "a": 20.0, "b": -10.0, "radius": 2} for k in range(30)]
    cues = varcolor.Cues.from_points(points, shape=(3000, 3000))
    assert cues.count == 30 * 13  # a disk of radius 2: 13 pixels
    np.testing.assert_array_equal(cues.ab[cues.mask], np.tile([20.0, -10.0], (cues.count, 1)))
    assert not cues.ab[~cues.mask].any()
    assert _resident_bytes(cues.ab) < 0.1 * cues.ab.nbytes


def test_malloc_in_use_counts_an_array_while_it_lives():
    import numpy as np

    from varcolor.common.memory import malloc_in_use

    before = malloc_in_use(mapped=True)
    if before is None:
        pytest.skip("no mallinfo2 in this C library")
    block = np.ones(50_000_000, np.uint8)  # (numpy's data: malloc's, mapped apart at this size)
    during = malloc_in_use(mapped=True)
    del block
    after = malloc_in_use(mapped=True)
    assert during is not None and after is not None
    assert during - before >= 50_000_000 and abs((during - after) - (during - before)) < 1_000_000
    assert malloc_in_use() is not None and malloc_in_use() <= after  # (without the mapped blocks)
