"""Attack suite: generated hostile input for the points parser, the image reader and the folder
planner, the way tests/test_ir.py attacks the payload parser. Each must answer with a result or
one :class:`~varcolor.errors.VarcolorError`, never another exception, and the planner must never
plan to write over an input or to write one output twice."""

import argparse
import contextlib
import io
import json
import re
import socket
import string
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

import varcolor
from varcolor import batch, methods
from varcolor.cli.colorize import _FIND, _plan_colorize
from varcolor.errors import InputError, MethodError, VarcolorError
from varcolor.methods import Method

from .conftest import make_pair, png_declaring

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=5),
    max_leaves=20,
)
point_like = st.dictionaries(
    st.sampled_from(["y", "x", "a", "b", "r", "g", "radius", "Y", " x ", "extra"]),
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.text(string.digits + ".-e", max_size=6),
    max_size=7,
)


@FUZZ
@given(data=st.lists(point_like, max_size=6) | json_values)
def test_points_json_never_crashes(tmp_path, data):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        cues = varcolor.Cues.from_points(path, shape=(9, 11))
    except VarcolorError:
        return
    assert cues.mask.shape == (9, 11) and np.all(np.isfinite(cues.ab[cues.mask]))


@FUZZ
@given(text=st.text(string.printable + "é\x00", max_size=200))
def test_points_csv_never_crashes(tmp_path, text):
    path = tmp_path / "p.csv"
    path.write_text("y,x,a,b,radius\n" + text, encoding="utf-8")
    try:
        varcolor.Cues.from_points(path, shape=(9, 11))
    except VarcolorError:
        pass


def _valid_images() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    pixels = (rng.random((6, 5, 3)) * 255).astype(np.uint8)
    files = {}
    for fmt, suffix in (("PNG", ".png"), ("JPEG", ".jpg"), ("TIFF", ".tif"), ("BMP", ".bmp")):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format=fmt)
        files[suffix] = buffer.getvalue()
    files[".png16"] = varcolor.io.encode_image(rng.random((6, 5)), ".png", bits=16)
    return files


VALID = _valid_images()


@FUZZ
@given(
    kind=st.sampled_from(sorted(VALID)),
    cuts=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=6),
    truncate=st.integers(0, 4000),
)
def test_image_reader_never_crashes(tmp_path, kind, cuts, truncate):
    data = bytearray(VALID[kind])
    for offset, value in cuts:  # flipped bytes in headers and data
        data[offset % len(data)] = value
    data = bytes(data[: max(truncate, 8)]) if truncate < len(data) else bytes(data)
    path = tmp_path / f"x{kind[:4]}"
    path.write_bytes(data)
    try:
        with np.errstate(all="ignore"):
            image = varcolor.read_image(path, max_pixels=10**6)
    except VarcolorError:
        return
    assert image.dtype == np.float64 and np.all((image >= 0) & (image <= 1))


@FUZZ
@given(width=st.integers(0, 2**31 - 1), height=st.integers(0, 2**31 - 1), color=st.sampled_from([0, 2, 3, 4, 6]))
def test_declared_sizes_are_judged_before_decoding(tmp_path, width, height, color):
    path = tmp_path / "declared.png"
    path.write_bytes(png_declaring(width, height, color=color, data=zlib.compress(b"\x00" * 64)))
    try:
        varcolor.read_image(path, max_pixels=10**6)
    except VarcolorError as exc:
        if width * height > 10**6:
            assert "more than the limit" in str(exc)


names = st.text(string.ascii_letters + string.digits + "_-. é", min_size=1, max_size=12).filter(
    lambda n: n.strip(".") and "/" not in n
)


@FUZZ
@given(
    tree=st.lists(
        st.tuples(
            st.sampled_from(["", "sub/", "sub/deeper/", ".hidden/"]),
            names,
            st.sampled_from([".png", ".jpg", ".JPG", ".tif", "_marked.png", ".points.json", ".txt"]),
        ),
        min_size=1,
        max_size=12,
    ),
    out_inside=st.booleans(),
    ext=st.sampled_from([".png", ".jpg"]),
)
def test_folder_planner_never_writes_over_an_input_or_twice(tmp_path_factory, tree, out_inside, ext):
    root = tmp_path_factory.mktemp("tree")
    source = root / "in"
    for folder, name, suffix in tree:
        path = source / folder / f"{name}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    output = source if out_inside else root / "out"
    args = argparse.Namespace(
        input=str(source),
        output=str(output),
        marked=_FIND,
        mask=None,
        points=None,
        ext=ext,
        prior=None,
        method="levin",
        quiet=True,
        workers=1,
        scheduler=None,
    )
    jobs = _plan_colorize(args)
    ready, skipped, failed = batch.check(jobs, overwrite=True)
    assert len(ready) + len(skipped) + len(failed) == len(jobs)
    inputs = {batch.identity(p) for job in jobs for p in job.inputs}
    written = [batch.identity(o) for job in ready for o in job.outputs]
    assert not inputs & set(written)
    assert len(written) == len(set(written))


# --- schedulers, plug-ins and training (issue 36) ---


@contextlib.contextmanager
def _http_server():
    """``python -m http.server`` on a free loopback port: a port that accepts connections and
    speaks HTTP, as a Dask dashboard does. Yields its address."""
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = re.search(r"port (\d+)", server.stdout.readline()).group(1)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()


@contextlib.contextmanager
def _socket_server(answer: bytes | None):
    """A loopback port that accepts connections and then sends ``answer`` (None: nothing, the
    connection held open; b"": closed at once). Yields its address."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)
            if answer is not None:
                with contextlib.suppress(OSError):
                    connection.sendall(answer)
                    connection.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for connection in held:
            connection.close()


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "answer",
    [None, b"", b"HTTP/1.0 400 Bad request\r\n\r\n", b"\xff" * 64, (2**40).to_bytes(8, "little") + b"x"],
    ids=["silent", "closes", "http", "junk", "huge-frame"],
)
def test_a_port_that_is_not_a_scheduler_is_one_error_within_the_deadline(answer):
    pytest.importorskip("distributed")
    with _socket_server(answer) as address:
        start = time.monotonic()
        with pytest.raises(InputError, match=f"--scheduler {address}: ") as caught:
            batch.check_scheduler(address, seconds=2)
        assert time.monotonic() - start < 4, caught.value
        assert "\n" not in str(caught.value)


@given(
    address=st.one_of(
        st.sampled_from(["garbage::://", "", "tcp://", "tcp://127.0.0.1:notaport", "tcp://[::1", "udp://1.2.3.4:5"]),
        st.text(string.digits + ":/.[]@%", max_size=24),  # no letters: no host name to look up
    )
)
@settings(max_examples=40, deadline=None)
def test_a_malformed_scheduler_address_is_one_error(address):
    pytest.importorskip("distributed")
    start = time.monotonic()
    try:
        batch.check_scheduler(address, seconds=1)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(f"--scheduler {address}: ")
    assert time.monotonic() - start < 3


@pytest.mark.parametrize("where", ["http-server", "garbage", "closed-port"])
def test_the_scheduler_option_is_one_line_and_exit_2_and_nothing_after(tmp_path, where):
    pytest.importorskip("distributed")
    make_pair(tmp_path / "in", "a")
    with contextlib.ExitStack() as stack:
        address = {
            "http-server": lambda: stack.enter_context(_http_server()),
            "garbage": lambda: "garbage::://",
            "closed-port": lambda: f"tcp://127.0.0.1:{_unused_port()}",
        }[where]()
        command = [sys.executable, "-m", "varcolor.cli", "colorize", str(tmp_path / "in"), "--marked"]
        command += ["-o", str(tmp_path / "out"), "--scheduler", address]
        start = time.monotonic()
        # The process must end by itself (a Client left half-made printed a traceback 10 s later).
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"varcolor: error: --scheduler {address}: ")
    assert time.monotonic() - start < 30  # the probe's 5 s and a loaded machine's start-up
    assert not (tmp_path / "out").exists()


class _Answers(Method):
    name, summary = "answers-attack", "returns what the attack gives it (a test method)"
    answer = None

    def solve(self, problem, x0):
        return type(self).answer


solve_answers = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=4),
    st.tuples(
        hnp.arrays(
            st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_, np.complex64, np.float16]),
            st.sampled_from([(8, 8, 2), (8, 8), (2, 8, 8), (8, 8, 3), (0,), (8, 8, 2, 1)]),
            elements=None,
        ),
        st.sampled_from([{}, None, {"solver": "x"}, ["not", "a", "dict"]]),
    ),
)


@given(answer=solve_answers)
@settings(max_examples=120, deadline=None)
def test_a_method_returning_anything_gives_a_result_or_one_method_error(answer):
    methods.register(_Answers)
    _Answers.answer = answer
    try:
        gray = np.linspace(0.2, 0.8, 64).reshape(8, 8)
        cues = varcolor.Cues.from_points([{"y": 1, "x": 1, "a": 20, "b": -10}], gray.shape)
        try:
            result = varcolor.colorize(gray, cues, method="answers-attack")
        except MethodError as exc:
            assert "method 'answers-attack'" in str(exc) and "\n" not in str(exc)
        else:
            assert np.all(np.isfinite(result.ab)) and result.rgb.shape == (8, 8, 3)
    finally:
        methods.unregister("answers-attack")
