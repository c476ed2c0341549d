"""Attack suite: generated hostile input for the points parser, the image reader and the folder
planner, the way tests/ir/test_ir.py attacks the payload parser. Each must answer with a result or
one :class:`~varcolor.errors.VarcolorError`, never another exception, and the planner must never
plan to write over an input or to write one output twice."""

import contextlib
import io
import json
import os
import re
import signal
import socket
import stat
import string
import subprocess
import sys
import threading
import time
import warnings
import zipfile
import zlib
from functools import partial

import numpy as np
import pytest
import skimage.data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

import varcolor
from varcolor import batch, methods
from varcolor.app import RunOptions, plan_colorize
from varcolor.errors import InputError, MethodError, VarcolorError
from varcolor.methods import Method

from .conftest import make_pair, png_declaring, run

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
    jobs = plan_colorize(source, output, varcolor.Options(), RunOptions(ext=ext, quiet=True), cues="marked")
    ready, skipped, failed = batch.check(jobs, overwrite=True)
    assert len(ready) + len(skipped) + len(failed) == len(jobs)
    inputs = {batch.identity(p) for job in jobs for p in job.inputs}
    written = [batch.identity(o) for job in ready for o in job.outputs]
    assert not inputs & set(written)
    assert len(written) == len(set(written))


# --- payloads, colour profiles and results (issue 36) ---


gray_images = st.tuples(st.integers(2, 12), st.integers(2, 12), st.integers(0, 2**32 - 1)).map(
    lambda t: np.round(np.random.default_rng(t[2]).random((t[0], t[1])) * 255) / 255
)


@FUZZ
@given(
    gray=gray_images,
    other_seed=st.integers(0, 2**32 - 1),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from([-2, -1, 1, 2, 100])), min_size=1, max_size=4),
    bits=st.sampled_from([8, 16]),
)
def test_a_payload_never_decodes_with_a_foreign_gray(gray, other_seed, edits, bits):
    from varcolor.errors import InputError
    from varcolor.ir.decode import payload_cues
    from varcolor.ir.encode import encode
    from varcolor.ir.format import read_payload, write_payload

    rgb = np.repeat(gray[..., None], 3, axis=2) * np.array([1.0, 0.9, 0.8])
    payload = read_payload(write_payload(encode(rgb, "grid", grid_size=4, spacing=1, gray=gray)))
    stored = np.round(gray * (2**bits - 1)) / (2**bits - 1)
    assert payload_cues(payload, gray=stored).count > 0  # its own gray, at 8 or 16 bits
    edited = gray.copy()
    for offset, levels in edits:  # one level or more at a few pixels
        y, x = divmod(offset % gray.size, gray.shape[1])
        edited[y, x] = np.clip(edited[y, x] + levels / 255, 0, 1)
    other = np.round(np.random.default_rng(other_seed).random(gray.shape) * 255) / 255
    for foreign in (edited, other):
        if np.array_equal(np.round(foreign * 255), np.round(gray * 255)):
            continue  # an edit clipped away: the same image
        try:
            payload_cues(payload, gray=foreign)
        except InputError as exc:
            assert "belongs to another gray image" in str(exc)
        else:
            raise AssertionError("a payload decoded with a gray image it was not made for")


@FUZZ
@given(
    gamma=st.floats(1.0, 3.0),
    shift=st.lists(st.floats(-0.03, 0.03), min_size=9, max_size=9),
    seed=st.integers(0, 2**32 - 1),
)
def test_colour_profiles_convert_as_colour_science_says(tmp_path, gamma, shift, seed):
    from .conftest import ADOBE_RGB_D50, icc_profile, srgb_from_icc_rgb

    primaries = ADOBE_RGB_D50 + np.reshape(shift, (3, 3))
    numbers = np.random.default_rng(seed).integers(0, 256, (6, 7, 3)).astype(np.uint8)
    Image.fromarray(numbers).save(tmp_path / "p.png", icc_profile=icc_profile(primaries=primaries, gamma=gamma))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = varcolor.read_image(tmp_path / "p.png")
    expected = srgb_from_icc_rgb(numbers / 255.0, primaries=primaries, gamma=gamma)
    assert np.abs(image - expected).max() <= 2.5 / 255


@FUZZ
@given(
    cuts=st.lists(st.tuples(st.integers(0, 600), st.integers(0, 255)), max_size=8),
    truncate=st.integers(0, 600),
    space=st.sampled_from([b"RGB ", b"GRAY"]),
    gray_pixels=st.booleans(),
)
def test_damaged_colour_profiles_are_converted_or_refused_in_one_line(tmp_path, cuts, truncate, space, gray_pixels):
    from .conftest import icc_profile

    profile = bytearray(icc_profile(space))
    for offset, value in cuts:
        profile[offset % len(profile)] = value
    profile = bytes(profile[: max(truncate, 1)])
    numbers = np.random.default_rng(0).integers(0, 256, (5, 6) if gray_pixels else (5, 6, 3)).astype(np.uint8)
    Image.fromarray(numbers).save(tmp_path / "d.png", icc_profile=profile)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = varcolor.read_image(tmp_path / "d.png")
    except VarcolorError as exc:
        assert "\n" not in str(exc) and "d.png" in str(exc)
        return
    assert image.shape == numbers.shape and np.all((image >= 0) & (image <= 1))


# --- manifest and files (issue 36) ---


def _write_output(path, text):
    """A job's work: one output, published as every output is."""
    with varcolor.io.atomic_path(path) as tmp:
        tmp.write_text(text)
    return ""


def _jobs(folder):
    source, out = folder / "in", folder / "out"
    source.mkdir(exist_ok=True)
    jobs = []
    for name in ("a", "b"):
        if not (source / f"{name}.png").exists():
            (source / f"{name}.png").write_bytes(f"photo {name}".encode())
        jobs.append(
            batch.Job(
                [source / f"{name}.png"], [out / f"{name}.txt"], partial(_write_output, out / f"{name}.txt", name)
            )
        )
    return jobs


@contextlib.contextmanager
def _within(seconds):
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


MANIFEST_PLACES = [
    "missing",
    "regular",
    "link to an input",
    "dangling link",
    "link to a folder",
    "hard link to an input",
]
MANIFEST_PLACES += ["FIFO", "FIFO with a reader", "folder", "link to a FIFO"]


@FUZZ
@given(place=st.sampled_from(MANIFEST_PLACES), resume=st.booleans(), overwrite=st.booleans())
def test_the_manifest_is_a_regular_file_of_its_own_or_one_line(tmp_path_factory, place, resume, overwrite):
    folder = tmp_path_factory.mktemp("m")
    jobs = _jobs(folder)
    photo = jobs[0].inputs[0]
    manifest = folder / "out" / batch.MANIFEST
    manifest.parent.mkdir()
    elsewhere = folder / "elsewhere"
    reader = None
    if place == "regular":
        manifest.write_text("")
    elif place == "link to an input":
        manifest.symlink_to(photo)
    elif place == "hard link to an input":
        os.link(photo, manifest)
    elif place == "dangling link":
        manifest.symlink_to(elsewhere)
    elif place == "link to a folder":
        elsewhere.mkdir()
        manifest.symlink_to(elsewhere)
    elif place.startswith("FIFO"):
        os.mkfifo(manifest)
        if place == "FIFO with a reader":
            reader = os.open(manifest, os.O_RDONLY | os.O_NONBLOCK)
    elif place == "link to a FIFO":
        os.mkfifo(elsewhere)
        manifest.symlink_to(elsewhere)
    elif place == "folder":
        manifest.mkdir()
    photos = {job.inputs[0]: job.inputs[0].read_bytes() for job in jobs}
    try:
        with _within(20):
            report = batch.run(jobs, verb="made", overwrite=overwrite, quiet=True, manifest=manifest, resume=resume)
    except VarcolorError as exc:
        assert place not in ("missing", "regular") and "\n" not in str(exc)
        assert not (folder / "out" / "a.txt").exists()  # refused before any work
    else:
        assert place in ("missing", "regular") and len(report.done) == 2
        rows = batch.read_manifest(manifest)
        assert stat.S_ISREG(os.lstat(manifest).st_mode) and [r["status"] for r in rows] == ["done", "done"]
    finally:
        if reader is not None:
            os.close(reader)
    assert {path: path.read_bytes() for path in photos} == photos  # no input touched
    assert not os.path.exists(elsewhere) or os.path.isdir(elsewhere) or stat.S_ISFIFO(os.stat(elsewhere).st_mode)


manifest_lines = st.one_of(
    st.just("GENUINE"),  # the record the run wrote for a.png, as written
    st.binary(max_size=40),
    st.builds(lambda n: b"[" * n, st.integers(0, 50_000)),
    st.builds(
        lambda extra: json.dumps({"input": "IN_A", "status": "done", **extra}).encode(),
        st.dictionaries(st.sampled_from(["sources", "made", "options", "outputs"]), json_values, max_size=4),
    ),
    st.builds(
        lambda status: json.dumps({"input": "IN_A", "status": status}).encode(),
        st.sampled_from(["skipped", "failed", "done", None]),
    ),
    json_values.map(lambda value: json.dumps(value).encode()),
)


@FUZZ
@given(lines=st.lists(manifest_lines, max_size=6), tail=st.binary(max_size=12))
def test_resume_skips_only_what_its_last_done_record_proves(tmp_path_factory, lines, tail):
    folder = tmp_path_factory.mktemp("r")
    jobs = _jobs(folder)
    manifest = folder / "out" / batch.MANIFEST
    batch.run(jobs[:1], verb="made", overwrite=False, quiet=True, manifest=manifest)
    genuine = manifest.read_bytes().rstrip(b"\n")
    key = str(jobs[0].inputs[0]).encode()
    content = [genuine if line == "GENUINE" else line.replace(b"IN_A", key) for line in lines]
    manifest.write_bytes(b"\n".join(content) + b"\n" + tail)
    try:
        rows = batch.read_manifest(manifest)
    except VarcolorError as exc:  # refused: not UTF-8, or nested past the parser's depth
        assert "not a varcolor manifest" in str(exc)
        return
    last = [row for row in rows if row["input"] == str(jobs[0].inputs[0]) and row.get("status") == "done"]
    proven = bool(last) and last[-1] == json.loads(genuine)
    fresh = _jobs(folder)  # planned again, as a rerun plans
    report = batch.run(fresh, verb="made", overwrite=True, quiet=True, manifest=manifest, resume=True)
    assert [job.inputs[0].name for job in report.resumed] == (["a.png"] if proven else [])
    assert len(report.done) == (1 if proven else 2)


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


# Issue 46, item 8: what a hostile trial found.


def _oriented(path, pixels, orientation=6):
    """``pixels`` (uint8) saved as stored, with an EXIF orientation tag: a phone's portrait photo."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif.tobytes())


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_rotated_phone_photo_colorizes_upright_alone_with_marked_cues_and_in_a_folder(tmp_path, capsys, suffix):
    from .conftest import photo, run

    rgb = photo("coffee", (80, 120))  # stored landscape, shown portrait (orientation 6)
    gray = (varcolor.color.same_lightness_gray(rgb) * 255).round().astype(np.uint8)
    folder = tmp_path / "phone"
    folder.mkdir()
    _oriented(folder / f"p{suffix}", gray)
    # The strokes are painted on the photo as stored (a JPEG's decoded pixels, not the gray before
    # compression: a copy that differs at half its pixels is refused as not this photo).
    with Image.open(folder / f"p{suffix}") as stored:
        gray = np.asarray(stored.convert("L"))
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[::9, ::9] = (rgb[::9, ::9] * 255).round().astype(np.uint8)
    _oriented(folder / "p_marked.png", marked)
    assert varcolor.io.image_shape(folder / f"p{suffix}") == varcolor.read_image(folder / f"p{suffix}").shape[:2]
    assert varcolor.io.image_shape(folder / f"p{suffix}") == (120, 80)
    code, _, err = run(capsys, "colorize", folder / f"p{suffix}", "--marked", "-o", tmp_path / "one.png")
    assert code == 0, err
    assert varcolor.read_image(tmp_path / "one.png").shape == (120, 80, 3)
    code, _, err = run(capsys, "colorize", folder, "-o", tmp_path / "out")
    assert code == 0 and "failed 0" in err, err
    assert varcolor.read_image(tmp_path / "out" / "p.png").shape == (120, 80, 3)


def _cells(rng, grid_height, grid_width, count):
    cells = rng.permutation(grid_height * grid_width)[:count]
    return np.stack([cells // grid_width, cells % grid_width], axis=1)


def test_payload_labels_paint_as_square_after_square_and_in_time_for_any_radius():
    from varcolor.ir.decode import payload_labels
    from varcolor.ir.format import Payload

    rng = np.random.default_rng(46)
    for _ in range(60):  # against the definition: square after square, later points on top
        width, height = (int(v) for v in rng.integers(1, 30, 2))
        grid = (int(rng.integers(1, height + 1)), int(rng.integers(1, width + 1)))
        points = _cells(rng, *grid, int(rng.integers(0, 40)))
        payload = Payload(
            width, height, grid[1], grid[0], points=points, ab=np.zeros((len(points), 2)), patch=int(rng.integers(0, 9))
        )
        expected = np.full((height, width), -1)
        r = payload.patch
        for k, (y, x) in enumerate(payload.pixel_positions()):
            expected[max(y - r, 0) : y + r + 1, max(x - r, 0) : x + r + 1] = k
        assert np.array_equal(payload_labels(payload), expected)
    # A hand-made payload of a point per pixel at the largest radius: painted square by square,
    # 160 000 squares of 400×400 (minutes); in O(pixels), well under a second.
    points = _cells(rng, 400, 400, 400 * 400)
    payload = Payload(400, 400, 400, 400, points=points, ab=np.zeros((len(points), 2)), patch=255)
    with _within(10):
        labels = payload_labels(payload)
    assert labels.min() >= 0 and labels.max() == len(points) - 1


@pytest.mark.parametrize("kind", ["marked", "mask"])
def test_a_cue_image_of_another_size_is_refused_from_its_header(tmp_path, capsys, monkeypatch, kind):
    from varcolor.sources import base as cues  # where cue images are read

    from .conftest import run

    make_pair(tmp_path, "g")
    bomb = tmp_path / f"bomb_{kind}.png"  # 64 MP declared in a few bytes: nothing to decode
    bomb.write_bytes(png_declaring(8000, 8000, color=2, data=zlib.compress(b"\0" * 1000)))
    read = cues.read_image

    def never_the_bomb(path, *args, **kwargs):
        assert path != bomb, "the bomb was decoded"
        return read(path, *args, **kwargs)

    monkeypatch.setattr(cues, "read_image", never_the_bomb)
    code, out, err = run(capsys, "colorize", tmp_path / "g.png", f"--{kind}", bomb, "-o", tmp_path / "out.png")
    assert code == 2 and err.count("\n") == 1, err
    assert f"{bomb}: the {kind} image is 8000×8000 but g.png is 32×24" in err


def test_bench_refuses_more_hints_than_pixels_in_one_line(tmp_path, capsys):
    from .conftest import colour_photos, run

    colour_photos(tmp_path / "photos", names=("a",))
    photo = tmp_path / "photos" / "a.png"
    with _within(20):  # was: minutes of drawing, memory growing
        code, _, err = run(capsys, "bench", photo, "--hints", "0,99999999999999999999", "-q")
        assert code == 2 and err.count("\n") == 1 and "--hints must be between 0 and 65536" in err, err
        code, _, err = run(capsys, "bench", photo, "--hints", "1281", "--resolution", "full", "-q")
    assert code == 2 and err.count("\n") == 1 and f"{photo}: hints must be between 0 and 1280" in err, err


def test_bench_checks_a_photo_s_memory_from_its_header_before_decoding(tmp_path, capsys, monkeypatch):
    from varcolor import memory
    from varcolor.cli import bench as command

    from .conftest import run

    bomb = tmp_path / "bomb.png"  # 225 MP declared in a few bytes, under the 250 MP limit
    bomb.write_bytes(png_declaring(15000, 15000, color=2, data=zlib.compress(b"\0" * 1000)))
    monkeypatch.setattr(memory, "available_bytes", lambda: 8 * 10**9)
    monkeypatch.setattr(command, "read_image", lambda *a, **k: pytest.fail("the bomb was decoded"))
    code, _, err = run(capsys, "bench", bomb, "-q", "-m", "levin")  # the figure below is levin's estimate
    assert code == 2 and err.count("\n") == 1, err
    assert f"{bomb}: scoring a 15000×15000 photo needs about 14.4 GB of memory, more than the budget of 6.4 GB" in err


def test_a_folder_run_reports_a_folder_it_cannot_list_and_a_linked_folder(tmp_path, capsys, monkeypatch):
    from .conftest import run

    make_pair(tmp_path / "in", "a")
    make_pair(tmp_path / "in" / "locked", "b")
    make_pair(tmp_path / "elsewhere", "c")
    (tmp_path / "in" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    locked = tmp_path / "in" / "locked"
    scandir = os.scandir

    def refusing(path="."):  # as a folder without read permission (the tests may run as root)
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", tmp_path / "out")
    assert code == 1, err
    assert f"error: {locked}: cannot list the folder (Permission denied); its images were not read" in err
    assert f"skipped: {tmp_path / 'in' / 'linked'}: a link to a folder, not followed" in err
    assert "colorized 1, skipped 1, failed 1" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix == ".png") == ["a.png"]


def test_a_rerun_into_its_own_input_folder_takes_no_output_for_a_photo(tmp_path, capsys):
    from .conftest import run

    make_pair(tmp_path, "a")
    make_pair(tmp_path, "b")
    code, _, err = run(capsys, "colorize", tmp_path, "-o", tmp_path, "--ext", ".jpg")
    assert code == 0 and "colorized 2, skipped 0, failed 0" in err, err
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.suffix != ".jsonl"}
    code, _, err = run(capsys, "colorize", tmp_path, "-o", tmp_path, "--ext", ".jpg")
    assert code == 0 and "colorized 0, skipped 2, failed 0" in err, err  # a.jpg and b.jpg exist: kept
    assert "a.jpg: exists; kept" in err and "refusing" not in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.suffix != ".jsonl"} == before


def test_recolor_scores_only_what_this_run_made(tmp_path, capsys):
    from .conftest import colour_photos, run

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


def test_bench_and_metrics_report_a_folder_they_cannot_list_and_a_linked_folder(tmp_path, capsys, monkeypatch):
    from .conftest import colour_photos, run

    colour_photos(tmp_path / "photos", names=("a",))
    colour_photos(tmp_path / "photos" / "locked", names=("b",))
    colour_photos(tmp_path / "elsewhere", names=("c",))
    (tmp_path / "photos" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    locked = tmp_path / "photos" / "locked"
    scandir = os.scandir

    def refusing(path="."):
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    for argv in (
        ["bench", tmp_path / "photos", "--hints", "0"],
        ["metrics", tmp_path / "photos", "-r", tmp_path / "photos"],
    ):
        code, out, err = run(capsys, *argv, "-q")
        assert code == 1, err
        assert f"error: {locked}: cannot list the folder (Permission denied)" in err, err
        assert f"skipped: {tmp_path / 'photos' / 'linked'}: a link to a folder, not followed" in err, err
        assert "a.png" in out or "1 images" in out, out


def test_a_png_s_orientation_in_a_raw_exif_text_chunk_is_read_from_the_header_alike(tmp_path):
    from PIL import PngImagePlugin

    exif = Image.Exif()
    exif[0x0112] = 6
    data = exif.tobytes()
    info = PngImagePlugin.PngInfo()  # as ImageMagick stores EXIF in a PNG: hex in a text chunk
    info.add_text("Raw profile type exif", f"\nexif\n{len(data):8d}\n{data.hex()}\n")
    Image.fromarray(np.zeros((8, 12), np.uint8)).save(tmp_path / "raw.png", pnginfo=info)
    assert varcolor.io.image_shape(tmp_path / "raw.png") == varcolor.read_image(tmp_path / "raw.png").shape == (12, 8)


# ---------------------------------------------------------------- layered files, profiles, odd shapes


def _ora_of(path, shape, layers, *, tail: bytes = b""):
    """An OpenRaster file of a ``shape`` canvas from (name, PNG bytes, x, y, visible), bottom first;
    ``tail``: bytes after the last layer's PNG, in its zip member."""
    entries = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as ora:
        ora.writestr(zipfile.ZipInfo("mimetype"), "image/openraster")
        for index, (name, data, x, y, visible) in enumerate(layers):
            last = index == len(layers) - 1
            ora.writestr(f"data/{index}.png", data + (tail if last else b""))
            shown = "visible" if visible else "hidden"
            entries.insert(0, f'<layer name="{name}" src="data/{index}.png" x="{x}" y="{y}" visibility="{shown}"/>')
        stack = f'<image w="{shape[1]}" h="{shape[0]}"><stack>{"".join(entries)}</stack></image>'
        ora.writestr("stack.xml", stack)


def _peak_bytes(work):
    """``work()``'s result and the peak of the memory it allocated (tracemalloc: NumPy reports its arrays)."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _png_of(pixels):
    return varcolor.io.encode_image(pixels, ".png")


def test_an_ora_s_composite_decodes_one_layer_at_a_time_over_its_own_box(tmp_path):
    # 40 visible 1×1 layers on a 500×500 canvas: the old reader made each a full float64 canvas
    # (8 MB apiece: 320 MB here, 5.3 GB for 300 on 1 MP).
    shape, rng = (500, 500), np.random.default_rng(0)
    dots = [(int(y), int(x), rng.random(3)) for y, x in rng.integers(0, 500, (40, 2))]
    layers = [("photo", _png_of(np.full(shape + (3,), 0.5)), 0, 0, True)]
    layers += [(f"dot {i}", _png_of(np.append(c, 1.0)[None, None]), x, y, True) for i, (y, x, c) in enumerate(dots)]
    _ora_of(tmp_path / "dots.ora", shape, layers)
    composite, peak = _peak_bytes(lambda: varcolor.read_image(tmp_path / "dots.ora"))
    assert peak < 6 * shape[0] * shape[1] * 32, peak  # a few canvases, not one per layer
    expected = np.full(shape + (3,), 0.5)
    for y, x, colour in dots:
        expected[y, x] = colour
    assert np.abs(composite - expected).max() <= 0.5 / 255


def test_an_ora_decodes_only_the_photo_and_stroke_layers(tmp_path):
    from varcolor.app.solve import read_layered

    shape = (200, 200)
    gray = np.linspace(0.2, 0.8, shape[1])[None].repeat(shape[0], 0)
    strokes = np.zeros(shape + (4,))
    strokes[50:60, 20:180] = (0.9, 0.2, 0.1, 1.0)
    hidden = [(f"old {i}", _png_of(np.array([[[0.1, 0.9, 0.1, 1.0]]])), i % 200, 0, False) for i in range(500)]
    layers = [("photo", _png_of(gray), 0, 0, True), *hidden, ("strokes", _png_of(strokes), 0, 0, True)]
    _ora_of(tmp_path / "work.ora", shape, layers)
    (photo, marks, bits, _), peak = _peak_bytes(lambda: read_layered(tmp_path / "work.ora", varcolor.Options(), None))
    # 500 hidden layers were 500 canvases (640 MB here; 25 GB for 20,000 on 200×200)
    assert peak < 20 * shape[0] * shape[1] * 32, peak
    assert np.abs(photo - gray).max() <= 0.5 / 255 and np.array_equal(marks[..., 3] > 0, strokes[..., 3] > 0)


def test_an_ora_layer_declaring_far_more_than_its_canvas_is_refused_from_its_header(tmp_path, capsys):
    bomb = png_declaring(12000, 12000, color=6, data=zlib.compress(b"\0" * 64))
    _ora_of(
        tmp_path / "bomb.ora",
        (10, 10),
        [("photo", _png_of(np.full((10, 10), 0.5)), 0, 0, True), ("strokes", bomb, 0, 0, True)],
    )
    start = time.monotonic()
    code, out, err = run(capsys, "colorize", tmp_path / "bomb.ora", "-o", tmp_path / "out.png")
    assert code == 2 and err.count("\n") == 1 and "bomb.ora" in err and "12000×12000" in err, err
    assert time.monotonic() - start < 10 and not (tmp_path / "out.png").exists()


def test_an_ora_member_with_gigabytes_after_its_png_is_refused_unread(tmp_path, capsys):
    shape = (16, 16)
    strokes = np.zeros(shape + (4,))
    strokes[4:8, 2:14] = (0.9, 0.2, 0.1, 1.0)
    layers = [("photo", _png_of(np.full(shape, 0.5)), 0, 0, True), ("strokes", _png_of(strokes), 0, 0, True)]
    _ora_of(tmp_path / "tail.ora", shape, layers, tail=b"\0" * (64 << 20))  # 64 MB of zeros, 64 kB deflated
    assert (tmp_path / "tail.ora").stat().st_size < 1 << 20
    (code, _, err), peak = _peak_bytes(
        lambda: run(capsys, "colorize", tmp_path / "tail.ora", "-o", tmp_path / "out.png")
    )
    assert code == 2 and err.count("\n") == 1 and "tail.ora" in err and "data/1.png" in err, err
    assert peak < 16 << 20 and not (tmp_path / "out.png").exists()


def _child_cli(argv, *, seconds=60, memory=3 << 30, prelude=""):
    """``varcolor ARGV…`` in a child process with an address-space limit (a read that never ends
    meets MemoryError there, not this machine's swap) and a time limit: (exit code, stderr)."""
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))\n"
        f"{prelude}\n"
        "from varcolor.cli import main\n"
        f"sys.exit(main({[str(a) for a in argv]!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=seconds, env={**os.environ}
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize("kind", ["FIFO", "/dev/zero", "folder", "huge"])
def test_a_profile_that_is_no_small_regular_file_is_one_line_unread(tmp_path, kind):
    varcolor.write_image(tmp_path / "gray.png", np.full((8, 8), 0.5))
    mask = np.zeros((8, 8, 3))
    mask[2:4, 2:6] = (0.9, 0.1, 0.1)
    varcolor.write_image(tmp_path / "mask.png", mask)
    profile = {"FIFO": tmp_path / "p.icc", "/dev/zero": "/dev/zero", "folder": tmp_path, "huge": tmp_path / "big.icc"}
    if kind == "FIFO":
        os.mkfifo(profile[kind])  # opened for reading, it blocks until a writer comes: never
    if kind == "huge":
        with open(profile[kind], "wb") as f:
            f.truncate(1 << 30)  # sparse: a gigabyte of nothing
    argv = ["colorize", tmp_path / "gray.png", "--mask", tmp_path / "mask.png", "-o", tmp_path / "out.png"]
    code, err = _child_cli([*argv, "--profile", profile[kind]], seconds=60, memory=1 << 30)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and str(profile[kind]) in err, err
    assert not (tmp_path / "out.png").exists()


def test_a_psd_output_without_psd_tools_is_refused_before_the_solve(tmp_path, capsys, monkeypatch):
    from varcolor.app import solve

    varcolor.write_image(tmp_path / "gray.png", np.full((8, 8), 0.5))
    mask = np.zeros((8, 8, 3))
    mask[2:4, 2:6] = (0.9, 0.1, 0.1)
    varcolor.write_image(tmp_path / "mask.png", mask)
    monkeypatch.setitem(sys.modules, "psd_tools", None)  # not installed: importing it fails
    solved = []
    monkeypatch.setattr(solve, "colorize", lambda *a, **k: solved.append(1))
    argv = ["colorize", tmp_path / "gray.png", "--mask", tmp_path / "mask.png", "-o", tmp_path / "out.psd"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and "psd-tools" in err and "out.psd" in err, err
    assert not solved and not (tmp_path / "out.psd").exists()
    with pytest.raises(InputError, match="psd-tools"):  # from Python too, before the solve
        solve.colorize_and_write(
            tmp_path / "gray.png",
            np.full((8, 8), 0.5),
            varcolor.Cues.empty((8, 8)),
            tmp_path / "o.psd",
            varcolor.Options(),
        )
    assert not solved


@pytest.mark.parametrize("profile", ["file", "input"])
def test_an_ora_result_in_another_colour_space_is_refused_before_the_solve(tmp_path, capsys, monkeypatch, profile):
    from varcolor.app import solve

    from .conftest import icc_profile

    (tmp_path / "adobe.icc").write_bytes(icc_profile())
    Image.fromarray(np.full((8, 8, 3), 128, np.uint8)).save(tmp_path / "scan.png", icc_profile=icc_profile())
    mask = np.zeros((8, 8, 3))
    mask[2:4, 2:6] = (0.9, 0.1, 0.1)
    varcolor.write_image(tmp_path / "scan_mask.png", mask)
    solved = []
    monkeypatch.setattr(solve, "colorize", lambda *a, **k: solved.append(1))
    choice = tmp_path / "adobe.icc" if profile == "file" else "input"
    argv = ["colorize", tmp_path / "scan.png", "--mask", tmp_path / "scan_mask.png", "-o", tmp_path / "out.ora"]
    code, _, err = run(capsys, *argv, "--profile", choice)
    assert code == 2 and "OpenRaster carries no colour profile" in err and err.count("\n") == 1, err
    assert not solved and not (tmp_path / "out.ora").exists()


def test_infinite_cue_lightness_is_refused():
    mask = np.zeros((4, 4), bool)
    mask[1, 1] = True
    lightness = np.full((4, 4), np.nan)
    for bad in (np.inf, -np.inf):
        lightness[1, 1] = bad
        with pytest.raises(InputError, match="lightness"):
            varcolor.Cues(mask, np.zeros((4, 4, 2)), lightness=lightness)
    lightness[1, 1], lightness[0, 0] = np.nan, np.inf  # unknown at a cue, anything where no cue is
    assert varcolor.Cues(mask, np.zeros((4, 4, 2)), lightness=lightness).count == 1


@pytest.mark.parametrize("shape", [(3, 50000), (3, 100000)])
def test_a_thin_wide_image_gets_the_default_engine_s_result(shape):
    gray = 0.5 + 0.2 * np.sin(np.arange(shape[1]) / 50.0)[None].repeat(shape[0], 0)
    mask = np.zeros(shape, bool)
    ab = np.zeros(shape + (2,))
    mask[:, 100:110], ab[:, 100:110] = True, (40.0, 20.0)
    mask[:, -200:-190], ab[:, -200:-190] = True, (-30.0, -30.0)
    result = varcolor.colorize(gray, varcolor.Cues(mask, ab))
    lab = varcolor.color.rgb_to_lab(result.rgb)
    assert min(result.info["engine"]["coarse_shape"]) >= 3
    assert np.abs(lab[:, 100:110, 1:] - (40.0, 20.0)).max() < 1.0  # the cues hold
    assert np.abs(lab[..., 0] - varcolor.color.lightness_of_gray(gray)).max() < 1e-6 * 100 + 0.01


@pytest.mark.parametrize("rows", [4, 6])
def test_a_thin_wide_photo_with_a_mask_colorizes_from_the_command_line(tmp_path, capsys, rows):
    shape = (rows, 20000)
    gray = 0.5 + 0.2 * np.sin(np.arange(shape[1]) / 50.0)[None].repeat(shape[0], 0)
    mask = np.zeros(shape + (3,))
    mask[:, 100:140] = (0.9, 0.2, 0.1)
    varcolor.write_image(tmp_path / "thin.png", gray)
    varcolor.write_image(tmp_path / "thin_mask.png", mask)
    code, _, err = run(
        capsys, "colorize", tmp_path / "thin.png", "--mask", tmp_path / "thin_mask.png", "-o", tmp_path / "out.png"
    )
    assert code == 0, err
    exact = tmp_path / "exact.png"
    argv = ["colorize", tmp_path / "thin.png", "--mask", tmp_path / "thin_mask.png", "-o", exact, "--method", "levin"]
    assert run(capsys, *argv)[0] == 0
    assert np.abs(varcolor.read_image(tmp_path / "out.png") - varcolor.read_image(exact)).mean() < 2 / 255


def _true_colour_marks(shape=(256, 256), width=4, count=24, seed=1):
    """A colour photo, its gray (8-bit), and its gray with hard-edged strokes ``width`` px wide
    copied from the colour original: marks whose colour varies along the stroke."""
    from skimage.draw import line
    from skimage.transform import resize

    from varcolor.color import same_lightness_gray

    rgb = np.round(resize(skimage.data.astronaut() / 255.0, shape, anti_aliasing=True) * 255) / 255
    gray = np.round(same_lightness_gray(rgb) * 255) / 255
    strokes = np.zeros(shape, bool)
    rng = np.random.default_rng(seed)
    for y0, x0, y1, x1 in rng.integers(8, min(shape) - 8 - width, (count, 4)):
        rows, cols = line(y0, x0, y1, x1)
        for dy in range(width):
            for dx in range(width):
                strokes[rows + dy, cols + dx] = True
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[strokes] = rgb[strokes]
    return rgb, gray, marked, strokes


def test_hard_edged_true_colour_marks_are_read_as_drawn_not_as_blends():
    _, gray, marked, _ = _true_colour_marks()
    unmixed, exact = (varcolor.Cues.from_marked(gray, marked, edges=e) for e in ("unmix", "exact"))
    assert "blended" not in unmixed.note  # a quarter of these pixels were read as blends
    both = unmixed.mask & exact.mask
    moved = np.count_nonzero(np.abs(unmixed.ab - exact.ab).max(axis=2)[both] > 1e-3)
    assert np.count_nonzero(unmixed.mask != exact.mask) + moved <= 0.02 * exact.count  # 25 % before


def test_the_same_hard_edged_strokes_as_a_layer_and_as_marks_colorize_alike(tmp_path, capsys):
    """The promise of the layered files' guide: hard-edged strokes on a layer give the result of
    the same strokes painted on a copy of the photo (--marked), level for level."""
    _, gray, marked, _ = _true_colour_marks((96, 128), width=3, count=8)
    # It holds where every stroke pixel differs from the photo under it (Levin's rule): paint of
    # the photo's own gray level is a cue on a layer, and none in a marked image.
    painted = np.abs(marked - gray[..., None]).sum(axis=2) > varcolor.cues.MARKED_THRESHOLD
    layer = np.concatenate([marked, painted[..., None] * 1.0], axis=2)
    varcolor.write_image(tmp_path / "gray.png", gray)
    varcolor.write_image(tmp_path / "marked.png", marked)
    photo_layer = np.dstack([gray, gray, gray, np.ones_like(gray)])
    from varcolor.io.layers import Layer
    from varcolor.io.stack import write_layers

    write_layers(tmp_path / "work.ora", [Layer("scan", photo_layer), Layer("strokes", layer)])
    argv = ("colorize", tmp_path / "gray.png", "--marked", tmp_path / "marked.png", "-o", tmp_path / "flat.png")
    assert run(capsys, *argv)[0] == 0
    code, _, err = run(capsys, "colorize", tmp_path / "work.ora", "-o", tmp_path / "layered.png")
    assert code == 0, err
    flat, layered = varcolor.read_image(tmp_path / "flat.png"), varcolor.read_image(tmp_path / "layered.png")
    assert np.abs(flat - layered).max() <= 1 / 255


def test_a_marked_image_that_is_not_the_photo_under_it_is_one_line(tmp_path, capsys):
    """The photo upscaled smoothly, its marked copy by nearest neighbour: a third of the pixels
    differ without colour; they became gray cues (a gray photo with coloured lines)."""
    from skimage.transform import resize

    _, gray, _, _ = _true_colour_marks((120, 120))
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[30:33, 10:110], marked[80:83, 20:100] = (0.9, 0.2, 0.1), (0.1, 0.3, 0.9)
    big_gray = np.round(np.clip(resize(gray, (360, 360), order=3), 0, 1) * 255) / 255
    big_marked = marked.repeat(3, axis=0).repeat(3, axis=1)
    with pytest.raises(InputError, match="not this photo with strokes on it"):
        varcolor.Cues.from_marked(big_gray, big_marked)
    varcolor.write_image(tmp_path / "big.png", big_gray)
    varcolor.write_image(tmp_path / "big_marked.png", big_marked)
    code, out, err = run(
        capsys, "colorize", tmp_path / "big.png", "--marked", tmp_path / "big_marked.png", "-o", tmp_path / "o.png"
    )
    assert code == 2 and err.count("\n") == 1 and "big_marked.png" in err and "resize both the same way" in err, err
    # the same strokes on the photo itself are read, and the marks resized alike are too
    same = np.repeat(big_gray[..., None], 3, axis=2)
    same[90:99, 30:330] = (0.9, 0.2, 0.1)
    assert varcolor.Cues.from_marked(big_gray, same).count == 9 * 300


def test_strokes_upscaled_by_nearest_neighbour_lose_their_pale_rims():
    """Antialiased strokes upscaled ×3 by nearest neighbour have blended rims 3 px wide: read as
    partial paint, they colorize as the same strokes drawn hard-edged (read in their own pale
    colour, they fenced each stroke in)."""
    from .test_cues import _band_rms, _colorized, _gray, _painted

    gray = _gray()[:48, :64]
    marks, hard = (_painted(_gray(), brush)[:48, :64] for brush in ("antialiased", "hard"))
    big = [x.repeat(3, axis=0).repeat(3, axis=1) for x in (gray, marks, hard)]
    read, drawn = varcolor.Cues.from_marked(big[0], big[1]), varcolor.Cues.from_marked(big[0], big[2])
    assert "blended edge pixels read as partial paint" in read.note
    rms = _band_rms(_colorized(big[0], read), _colorized(big[0], drawn), np.ones(big[0].shape, bool))
    assert rms < 3.0, rms


def test_a_16_bit_png_s_gama_and_chrm_are_honoured_without_an_icc_profile(tmp_path):
    """A linear ProPhoto scan saved as PNG with gAMA 1.0 and cHRM, no iCCP: its samples are
    linear light, not sRGB levels (read as sRGB, mid-gray 0.5 was 47 levels too dark)."""
    import png

    def chunk(tag, payload):
        return len(payload).to_bytes(4, "big") + tag + payload + zlib.crc32(tag + payload).to_bytes(4, "big")

    samples = np.full((4, 6, 3), 32768, np.uint16)
    buffer = io.BytesIO()
    png.Writer(6, 4, bitdepth=16, greyscale=False, gamma=1.0).write(buffer, samples.reshape(4, -1))
    prophoto = (0.3457, 0.3585, 0.7347, 0.2653, 0.1596, 0.8404, 0.0366, 0.0001)  # white, red, green, blue
    chrm = chunk(b"cHRM", b"".join(round(v * 100000).to_bytes(4, "big") for v in prophoto))
    data = buffer.getvalue()
    (tmp_path / "linear.png").write_bytes(data[:33] + chrm + data[33:])  # after IHDR
    with pytest.warns(UserWarning, match="converted to sRGB"):
        image = varcolor.read_image(tmp_path / "linear.png")
    linear = 32768 / 65535
    expected = 1.055 * linear ** (1 / 2.4) - 0.055  # sRGB's curve: the same light, D50 white to D65's
    assert np.abs(image - expected).max() <= 0.5 / 255
    assert varcolor.io.image_profile(tmp_path / "linear.png")[36:40] == b"acsp"  # --profile input keeps it


def test_lightness_through_the_editors_d50_profiles_stays_within_what_the_guide_says():
    """varcolor keeps CIE L* (D65, sRGB's white) exactly; an editor reading the result through ICC
    profiles (the D50 connection space, Bradford-adapted) weighs red, green and blue a little
    differently: the restorers' guide gives the bound (mean 0.45, max 0.9 L*)."""
    import imagecodecs

    gray, marked = varcolor.data.chelsea(), varcolor.data.chelsea_marked()
    result = varcolor.colorize(gray, varcolor.Cues.from_marked(gray, marked)).rgb

    def lightness_d50(rgb):
        srgb, lab = imagecodecs.cms_profile("srgb"), imagecodecs.cms_profile("lab4")
        pixels = np.ascontiguousarray(rgb, dtype=np.float64)
        return imagecodecs.cms_transform(pixels, srgb, lab, colorspace="rgb", outcolorspace="lab")[..., 0]

    difference = np.abs(lightness_d50(result) - lightness_d50(np.repeat(gray[..., None], 3, axis=2)))
    assert difference.mean() <= 0.45 and difference.max() <= 0.9, (difference.mean(), difference.max())
    ours = np.abs(varcolor.color.rgb_to_lab(result)[..., 0] - varcolor.color.lightness_of_gray(gray))
    assert ours.max() <= 0.05  # as varcolor measures it: exact


def test_metrics_of_a_result_folder_against_a_reference_file_names_the_mismatch(tmp_path, capsys):
    """A folder of results (here one named like an image) with a reference *file*: one line that
    says a folder of references is needed, not '<reference file>: no such folder' (it exists)."""
    (tmp_path / "results.png").mkdir()
    varcolor.write_image(tmp_path / "results.png" / "a.png", np.full((20, 20, 3), 0.5))
    varcolor.write_image(tmp_path / "ref.png", np.full((20, 20, 3), 0.5))
    code, _, err = run(capsys, "metrics", tmp_path / "results.png", "-r", tmp_path / "ref.png")
    assert code == 2 and err.count("\n") == 1, err
    assert f"{tmp_path / 'ref.png'}: " in err and "no such folder" not in err and "folder of references" in err, err


def test_a_name_longer_than_the_file_system_allows_is_one_line(tmp_path, capsys):
    """A 5,000-character name as the input, a reference or the output: one line (exit 2) naming
    its start, not an OSError's traceback (ENAMETOOLONG escaped Path.is_dir and is_file)."""
    varcolor.write_image(tmp_path / "g.png", np.full((20, 20), 0.5))
    varcolor.write_image(tmp_path / "r.png", np.random.default_rng(0).random((20, 20, 3)))
    long = tmp_path / ("x" * 5000 + ".png")
    for args in (
        (long, "--reference", tmp_path / "r.png", "-o", tmp_path / "o.png"),
        (tmp_path / "g.png", "--reference", long, "-o", tmp_path / "o.png"),
        (tmp_path / "g.png", "--reference", tmp_path / "r.png", "--reference", long, "-o", tmp_path / "o.png"),
        (tmp_path / "g.png", "--reference", tmp_path / "r.png", "-o", long),
    ):
        code, _, err = run(capsys, "colorize", *args)
        assert code == 2 and err.count("\n") == 1 and "name too long" in err and "xxxxxxxxxx" in err, err[:300]
        assert len(err) < 400


def test_colorize_refuses_an_empty_path(tmp_path, capsys, monkeypatch):
    """An empty argument (an unset shell variable: ``-o "$OUT"``) is no path: ``-o ''`` wrote the
    result into the current folder, ``--reference ''`` made a pool of every image under it, an
    empty input colourized the current folder. One line naming the argument, exit 2, nothing
    written."""
    varcolor.write_image(tmp_path / "g.png", np.full((20, 20), 0.5))
    varcolor.write_image(tmp_path / "r.png", np.random.default_rng(0).random((20, 20, 3)))
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    for args, named in (
        (("g.png", "--reference", "r.png", "-o", ""), "-o"),
        (("g.png", "--reference", "", "-o", "o.png"), "--reference"),
        (("g.png", "--reference", "r.png", "--reference", " ", "-o", "o.png"), "--reference"),
        (("", "--reference", "r.png", "-o", "out"), "INPUT"),
        (("g.png", "--marked", "", "-o", "o.png"), "--marked"),
    ):
        code, _, err = run(capsys, "colorize", *args)
        assert code == 2 and err.count("\n") == 1 and named in err and "empty" in err, (args, err)
    assert sorted(os.listdir(tmp_path)) == before
