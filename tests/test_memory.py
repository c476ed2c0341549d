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
from varcolor.memory import give_back_free_memory

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
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 200e6  # of the 400 MB freed (270-320 MB measured)
