"""Helpers shared by the test modules: scikit-image photos, small colorization problems, image
files on disk, the command-line runner, hand-made PNG headers, random LPIPS and InceptionV3 weights, and the mark
for tests that need the optional neural extra."""

import contextlib
import functools
import gc
import importlib.util
import os
import signal
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from skimage.transform import resize

import varcolor
from varcolor.color import same_lightness_gray
from varcolor.common.kernels import BACKGROUND_WARM_VARIABLE, KERNELS_VARIABLE
from varcolor.cues import sample_random
from varcolor.neural.siggraph17 import SIGGRAPH17

# Small images by array code throughout the suite and the processes it starts, whatever
# `varcolor warm` left in numba's cache (tests ask for the kernels where they test them), and no
# test writes the warm mark (test_kernels.py tests it in a folder of its own).
os.environ[KERNELS_VARIABLE] = "array"
# Nor does any start the kernels' compile in the background (pinned to array code, none would:
# this says so to every child too; tests/test_background_warm.py starts it where it tests it).
os.environ[BACKGROUND_WARM_VARIABLE] = "0"


@pytest.fixture(autouse=True)
def _no_warm_mark(monkeypatch):
    monkeypatch.setattr("varcolor.common.kernels._mark_folder", lambda: None)


@pytest.fixture
def kernels(monkeypatch):
    """numba's kernels at every size (``VARCOLOR_KERNELS=numba``), as a user has them once they are
    compiled (the first test of a worker that needs them compiles them), for the modules whose subject
    is the engine's arithmetic rather than a first run's array code (``pytestmark =
    pytest.mark.usefixtures("kernels")``; a test there that sets the variable itself wins). The
    array code stays the suite's default, and is held to the kernels by tests of its own
    (test_kernels.py, test_color.py, test_painting.py): by it the engine's tests took twice as long
    (tests/methods/test_levin_multiscale.py 78 s against 38 s alone), about half of it the
    painting of small windows in Python."""
    monkeypatch.setenv(KERNELS_VARIABLE, "numba")


@pytest.fixture
def unrestrained(monkeypatch):
    """The default engine unrestrained (``restraint="off"`` wherever it is made): for the modules
    whose subject is Levin's propagation and its solvers (exactness, residuals, edits against a
    fresh solve, one colour everywhere), which the restraint of :mod:`varcolor.restraint` scales
    afterwards (tested in tests/test_restraint.py)."""
    from varcolor.methods.levin_multiscale import LevinMultiscale

    monkeypatch.setattr(LevinMultiscale, "restrained_by", classmethod(lambda cls, options: False))


@pytest.fixture
def quick_scheduler_probe(monkeypatch):
    """A scheduler's probe that gives up after 1.5 s, not :data:`varcolor.batch.CONNECT_TIMEOUT`'s
    5: a refused port is retried until then (a scheduler may be starting), the test's worker idle.
    In-process runs only; ``make test-slow`` waits the whole default out
    (tests/batch/test_batch.py, the closed port)."""
    monkeypatch.setattr("varcolor.batch.cluster.CONNECT_TIMEOUT", 1.5)


#: scikit-image photos the file-writing helpers cycle through.
PHOTOS = ("coffee", "astronaut", "chelsea")
#: The exactness bound on a and b that every solver must meet against the direct solve (issue 3).
MAX_AB = 0.05

needs_torch = pytest.mark.skipif(not importlib.util.find_spec("torch"), reason="needs the neural extra")


def photo(name: str, shape: tuple[int, int]) -> np.ndarray:
    """A scikit-image photo resized to ``shape``, RGB in [0, 1]: a copy, the caller's to change."""
    return _photo(name, tuple(shape)).copy()


@functools.lru_cache(maxsize=64)
def _photo(name: str, shape: tuple[int, int]) -> np.ndarray:
    # Made once a worker: the suite asked for 532 photos of fewer shapes, each a PNG decoded and
    # smoothed at full size (22 s of its CPU).
    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return resize(image[..., :3] / 255.0, shape, anti_aliasing=True)


def photo_and_mask(folder: Path, shape: tuple[int, int]) -> tuple[Path, Path]:
    """A colour photo (``photo.png``) and a stroke mask of two strokes (``mask.png``) in ``folder``."""
    height, width = shape
    image = folder / "photo.png"
    varcolor.write_image(image, photo("coffee", shape))
    mask = np.zeros((height, width, 3))
    mask[height // 3 : height // 3 + 3, width // 8 : width // 2] = (0.8, 0.2, 0.1)
    mask[2 * height // 3 : 2 * height // 3 + 3, width // 2 + 5 : width - 5] = (0.1, 0.3, 0.9)
    varcolor.write_image(folder / "mask.png", mask)
    return image, folder / "mask.png"


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def gray_and_cues(name, shape, count, rng):
    """A photo's same-lightness gray and ``count`` random cues of its colours."""
    rgb = photo(name, shape)
    return same_lightness_gray(rgb), sample_random(rgb, count, rng=rng)


def on_threads(work: Callable, args, timeout: float = 120.0) -> list:
    """Run ``work(arg)`` for each of ``args`` on a thread of its own, all at once, and wait for them
    (``timeout`` seconds each); the threads, for the caller to ask whether any is still alive."""
    import threading

    threads = [threading.Thread(target=work, args=(arg,)) for arg in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return threads


def stroke(shape, rows, columns, ab):
    """Cues of one colour ``ab`` over ``[rows, columns]``, as a brush would paint them."""
    mask = np.zeros(shape, bool)
    mask[rows, columns] = True
    return varcolor.Cues(mask, np.where(mask[..., None], ab, 0.0))


def strokes(shape):
    """A short stroke in the middle, then one at the image's corner (its window meets the border)."""
    return (
        stroke(shape, shape[0] // 2, slice(shape[1] // 3, shape[1] // 3 + 16), (35.0, -25.0)),
        stroke(shape, slice(1, 4), 1, (-20.0, 40.0)),
    )


def make_pair(folder, name="img", shape=(24, 32), seed=0):
    """A gray image and its marked copy (a few coloured pixels), plus the colour original."""
    rgb = photo("coffee", shape)
    gray = same_lightness_gray(rgb)
    marked = np.repeat(gray[..., None], 3, axis=2)
    mask = np.random.default_rng(seed).random(shape) < 0.05
    marked[mask] = rgb[mask]
    folder.mkdir(parents=True, exist_ok=True)
    varcolor.write_image(folder / f"{name}.png", gray)
    varcolor.write_image(folder / f"{name}_marked.png", marked)
    return rgb


def colour_photos(folder, names=("a", "b"), suffix=".png", shape=(32, 40)):
    """Colour photos ``NAME + suffix`` in ``folder``; every file there, name → bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        varcolor.write_image(folder / f"{name}{suffix}", photo(PHOTOS[index % len(PHOTOS)], shape))
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def wait_until(condition: Callable[[], object], timeout: float, interval: float = 0.01) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds have passed; whether it came
    true (the one polling loop of the tests: the caller asserts, with what it knows)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return bool(condition())
        time.sleep(interval)
    return True


def holds_for(condition: Callable[[], object], seconds: float, interval: float = 0.05) -> bool:
    """Whether ``condition`` stays true for ``seconds`` (checked every ``interval``): that nothing
    happens, shown by watching for it, and failing as soon as it does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not condition():
            return False
        time.sleep(interval)
    return bool(condition())


def run(capsys, *argv):
    """``varcolor ARGV…`` in this process: (exit code, stdout, stderr)."""
    from varcolor.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def default_sigint() -> None:
    """``preexec_fn`` of a child process that a test interrupts: SIGINT back to its default. A test
    runner started in the background (``pytest … &`` in a script) ignores SIGINT, and an ignored
    signal stays ignored in its children: they would never see the Ctrl-C the test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def png_declaring(width, height, *, color, data):
    """A PNG whose header declares ``width``×``height`` (8-bit, colour type ``color``) over the
    compressed rows ``data``, whatever their real size: how a decompression bomb looks."""

    def chunk(tag, payload):
        return len(payload).to_bytes(4, "big") + tag + payload + zlib.crc32(tag + payload).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, color, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


# torchvision's AlexNet features: index → (in, out, kernel).
ALEXNET_CONVS = {0: (3, 64, 11), 3: (64, 192, 5), 6: (192, 384, 3), 8: (384, 256, 3), 10: (256, 256, 3)}


def random_backbone(seed: int = 0) -> dict:
    """A torchvision-layout AlexNet state dict with He-scaled random weights (NumPy's generator,
    the same on every platform), plus a classifier tensor that LPIPS must ignore."""
    import torch

    rng = np.random.default_rng(seed)
    state = {}
    for index, (c_in, c_out, k) in ALEXNET_CONVS.items():
        state[f"features.{index}.weight"] = rng.normal(0, np.sqrt(2 / (c_in * k * k)), (c_out, c_in, k, k))
        state[f"features.{index}.bias"] = rng.normal(0, 0.01, c_out)
    state["classifier.6.bias"] = np.zeros(1000)
    return {key: torch.from_numpy(value.astype(np.float32)) for key, value in state.items()}


def random_calibration(seed: int = 1) -> dict:
    """LPIPS-layout calibration: non-negative channel weights, as the trained ones are."""
    import torch

    from varcolor.neural.lpips import CHANNELS

    rng = np.random.default_rng(seed)
    return {
        f"lin{i}.model.1.weight": torch.from_numpy(np.abs(rng.normal(0, 0.1, (1, c, 1, 1))).astype(np.float32))
        for i, c in enumerate(CHANNELS)
    }


def random_inception(seed: int = 0) -> dict:
    """A state dict in the layout of pytorch-fid's InceptionV3 weights file (every key and shape of
    ``FIDInceptionV3``, the ``num_batches_tracked`` counters included), with random weights drawn
    key by key in sorted order from NumPy's generator (the same on every platform): He-scaled
    convolutions, batch norms near the identity, a small classifier."""
    import torch

    from varcolor.neural.inception import FIDInceptionV3

    with torch.device("meta"):  # the shapes alone: nothing allocated or initialised
        shapes = {key: tuple(tensor.shape) for key, tensor in FIDInceptionV3().state_dict().items()}
    rng = np.random.default_rng(seed)

    def normal(mean, deviation, shape):
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(deviation) + np.float32(mean)

    def uniform(low, high, shape):
        return rng.random(shape, dtype=np.float32) * np.float32(high - low) + np.float32(low)

    state = {}
    for key in sorted(shapes):
        shape = shapes[key]
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(0)
            continue
        if key.endswith("conv.weight"):
            value = normal(0, np.sqrt(2 / np.prod(shape[1:])), shape)
        elif key.endswith("bn.weight"):
            value = uniform(0.8, 1.2, shape)
        elif key.endswith("bn.bias"):
            value = normal(0.05, 0.1, shape)
        elif key.endswith("running_mean"):
            value = normal(0, 0.1, shape)
        elif key.endswith("running_var"):
            value = uniform(0.5, 1.5, shape)
        else:  # the classifier
            value = normal(0, 0.01, shape)
        state[key] = torch.from_numpy(value)
    return state


@pytest.fixture
def astronaut_small():
    return photo("astronaut", (40, 48))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ICC profiles written by hand from the ICC.1:2001-04 (version 2) specification, for colour-managed
# test images: a matrix/TRC RGB profile ("Adobe RGB (1998)"-like: its D50-adapted primaries and
# a pure gamma of 563/256), and a gray profile with a pure gamma.
ADOBE_RGB_D50 = np.array([[0.60974, 0.20528, 0.14919], [0.31111, 0.62567, 0.06322], [0.01947, 0.06087, 0.74457]])
ICC_GAMMA = 563 / 256
_D50 = (0.9642, 1.0, 0.82491)


def _icc_fixed(*values):
    return b"".join(int(round(v * 65536)).to_bytes(4, "big", signed=True) for v in values)


def icc_profile(space=b"RGB ", primaries=ADOBE_RGB_D50, gamma=ICC_GAMMA, name="Test RGB"):
    """The bytes of a version-2 display profile: ``space`` ``b"RGB "`` (matrix/TRC with these
    D50 ``primaries``, columns r, g, b) or ``b"GRAY"`` (one gray TRC), curves of pure ``gamma``."""
    text = name.encode("ascii")
    desc = b"desc\0\0\0\0" + (len(text) + 1).to_bytes(4, "big") + text + b"\0" + bytes(4 + 4 + 2 + 1 + 67)
    curve = b"curv\0\0\0\0" + (1).to_bytes(4, "big") + int(round(gamma * 256)).to_bytes(2, "big")
    tags = [(b"desc", desc), (b"wtpt", b"XYZ \0\0\0\0" + _icc_fixed(*_D50)), (b"cprt", b"text\0\0\0\0none\0")]
    if space == b"GRAY":
        tags.append((b"kTRC", curve))
    else:
        for column, channel in enumerate(b"rgb"):
            tags.append((bytes([channel]) + b"XYZ", b"XYZ \0\0\0\0" + _icc_fixed(*primaries[:, column])))
            tags.append((bytes([channel]) + b"TRC", curve))
    table_end = 128 + 4 + 12 * len(tags)
    offset, entries, data = table_end, b"", b""
    for signature, payload in tags:
        payload += bytes(-len(payload) % 4)
        entries += signature + offset.to_bytes(4, "big") + len(payload).to_bytes(4, "big")
        data += payload
        offset += len(payload)
    header = (
        offset.to_bytes(4, "big")
        + b"\0\0\0\0"
        + bytes([2, 0x10, 0, 0])
        + b"mntr"
        + space
        + b"XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)
        + _icc_fixed(*_D50)
        + bytes(4 + 16 + 28)
    )
    assert len(header) == 128
    return header + len(tags).to_bytes(4, "big") + entries + data


def icc_rgb_to_linear_srgb(primaries=ADOBE_RGB_D50):
    """The 3×3 matrix from linear RGB of an :func:`icc_profile` to linear sRGB: its primaries to D50
    XYZ (as the profile stores them), Bradford adaptation to D65, sRGB's XYZ matrix inverted."""
    bradford = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
    d65 = np.array([0.95047, 1.0, 1.08883])
    cone = (bradford @ d65) / (bradford @ np.array(_D50))
    adapt = np.linalg.inv(bradford) @ np.diag(cone) @ bradford
    xyz_to_srgb = np.linalg.inv(
        np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    )
    return xyz_to_srgb @ adapt @ (np.round(primaries * 65536) / 65536)


def srgb_from_icc_rgb(values, primaries=ADOBE_RGB_D50, gamma=ICC_GAMMA):
    """What colour-managed software shows for RGB ``values`` (in [0, 1]) of an :func:`icc_profile`:
    the curves, then :func:`icc_rgb_to_linear_srgb`, clipped to the gamut, sRGB-encoded (IEC 61966-2-1)."""
    linear = np.clip(np.asarray(values, dtype=np.float64), 0, 1) ** (round(gamma * 256) / 256)
    rgb = np.clip(linear @ icc_rgb_to_linear_srgb(primaries).T, 0, 1)
    return np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * rgb ** (1 / 2.4) - 0.055)


def install_plug_ins(folder, sources: dict, group: str = "varcolor.methods", attribute: str = "Method") -> dict:
    """Installed plug-ins as pip would leave them (a module and a dist-info naming its entry
    point ``NAME = NAME:attribute`` in ``group``) in ``folder``; the environment of a varcolor
    process that finds them, with a plug-in import limit of 2 s."""
    folder.mkdir(parents=True)
    for name, source in sources.items():
        (folder / f"{name}.py").write_text(source)
        info = folder / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[{group}]\n{name} = {name}:{attribute}\n")
    root = str(Path(varcolor.__file__).parent.parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, str(folder)]), "VARCOLOR_PLUGIN_TIMEOUT": "2"}


@contextlib.contextmanager
def one_torch_thread():
    """PyTorch on one thread within: a test runs beside others on every core (``make test``'s
    workers), and PyTorch's threads would wait on them (a network test took 167 s against 76 s
    so, side by side at load 20)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextlib.contextmanager
def dask_cluster(workers: int = 2):
    """A real Dask cluster on 127.0.0.1 (``dask scheduler`` and ``dask worker`` processes), up
    with all its workers joined: yields ``(address, scheduler)``, the scheduler's process (a test
    may kill it); everything is killed at the end."""
    import json
    import shutil
    import subprocess
    import sys
    import tempfile
    import time

    from dask.distributed import Client

    # Port 0: the scheduler takes a free port itself and writes its address to a file (a port
    # probed free here could be taken by a test running beside this one before it listened).
    folder = tempfile.mkdtemp(prefix="varcolor-dask-")
    where = os.path.join(folder, "scheduler.json")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    dask = [sys.executable, "-m"]
    scheduler = subprocess.Popen(
        [*dask, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
        + ["--scheduler-file", where],
        **quiet,
    )
    nodes = None
    try:
        deadline = time.time() + 60
        address = None
        while address is None:
            if time.time() > deadline or scheduler.poll() is not None:
                raise TimeoutError("the dask scheduler did not start")
            time.sleep(0.1)
            with contextlib.suppress(OSError, ValueError, KeyError):  # not yet written, or not whole
                with open(where) as file:
                    address = json.load(file)["address"]
        nodes = subprocess.Popen(
            [*dask, "distributed.cli.dask_worker", address, "--nworkers", str(workers), "--nthreads", "1"]
            + ["--no-dashboard"],
            start_new_session=True,
            **quiet,
        )
        while True:  # until the scheduler listens and every worker has joined
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(workers, timeout=max(1, deadline - time.time()))
                break
            except (OSError, TimeoutError):
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        yield address, scheduler
    finally:
        scheduler.kill()
        if nodes is not None:
            os.killpg(nodes.pid, signal.SIGKILL)
            nodes.wait()
        scheduler.wait()
        shutil.rmtree(folder, ignore_errors=True)


def colorize_a_pair_in_a_child(folder: Path, environment: dict):
    """``varcolor colorize`` on a small marked pair in a child process with ``environment`` (its
    installed plug-ins, say), checked to succeed and write its output: (the finished process,
    its seconds)."""
    import subprocess
    import sys
    import time

    make_pair(folder / "in", "a")
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "varcolor.cli", "colorize", str(folder / "in" / "a.png"), "--marked"]
        + ["-o", str(folder / "a.png"), "-q"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and (folder / "a.png").is_file(), done.stderr
    return done, time.monotonic() - start


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=5),
    max_leaves=20,
)


@contextlib.contextmanager
def time_limit(seconds):
    """A hang becomes a failure (SIGALRM, this thread being the main one)."""

    def timeout(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def tiny_problem(seed=0, shape=(12, 12)):
    """A small gray photo, a random 15 % of its pixels as cues, and their true chroma."""
    rgb = photo("coffee", shape)
    gray = varcolor.color.same_lightness_gray(rgb)
    mask = np.random.default_rng(seed).random(shape) < 0.15
    targets = varcolor.color.rgb_to_lab(rgb)[..., 1:]
    return gray, mask, targets


@pytest.fixture
def random_weights(tmp_path):
    """A safetensors file of a random, narrow ideepcolor network (a quarter of the channels):
    smooth, non-trivial colours, no trained weights needed. Skips without PyTorch."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    torch.manual_seed(1)
    net = SIGGRAPH17(width=0.25)
    with torch.no_grad():  # a random network still gives a smooth, non-trivial ab map
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_var.fill_(1.0)
    path = tmp_path / "random.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path), metadata={"mask_cent": "0"})
    return path


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """Collect the session's garbage and freeze what is left, before a pytest-xdist worker says it
    has finished: the controller then gives the worker 5 s to end (execnet), and past them sends
    it SIGINT. The heap's full collection, pytest's last (for unraisable exceptions), ran after
    that message, and on a loaded machine took longer: the SIGINT landed in hypothesis's gc
    callback, a KeyboardInterrupt warned about as unraisable though no test was interrupted."""
    gc.collect()
    gc.freeze()  # the collection at the very end then reads only what is made after this
