"""The Live worker (``varcolor krita serve``): each new state of the strokes layer answered from the
last solve, equal to a fresh ``varcolor.colorize`` of the same layers; bad requests one reply line,
after which it goes on; it ends when its stdin closes."""

import io
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import varcolor
from varcolor.krita import exchange, serve
from varcolor.krita.plugin.varcolor_krita import protocol

from ..conftest import photo
from .test_exchange import SHAPE, _folder, _layout

# Colours of 8-bit levels: the layer as Krita holds it.
RED, BLUE, GREEN = (
    np.array([217, 64, 38, 255]) / 255,
    np.array([38, 89, 204, 255]) / 255,
    np.array([51, 179, 64, 255]) / 255,
)


def _stroke(strokes, rows, columns, colour):
    strokes = strokes.copy()
    strokes[rows, columns] = colour
    return strokes


def _write_strokes(folder, strokes):
    (folder / protocol.STROKES).write_bytes(np.round(strokes[..., [2, 1, 0, 3]] * 255).astype("<u1").tobytes())


def _ask(worker, folder):
    return worker.handle(json.dumps({"folder": os.fspath(folder)}) + "\n")


def _result(folder, reply, before):
    """The layer after a reply: its box's pixels written over the layer before it."""
    top, left, height, width = reply["box"]
    box = exchange.read_layer((folder / protocol.RESULT).read_bytes(), _layout("U8"), (height, width), "result")
    layer = np.zeros(SHAPE + (3,)) if before is None else before.copy()
    layer[top : top + height, left : left + width] = box[..., :3]
    return layer


@pytest.mark.parametrize("method", ["levin-multiscale", "levin"])
def test_successive_strokes_equal_a_fresh_colorize_of_the_same_layers(tmp_path, method):
    gray = np.round(varcolor.color.same_lightness_gray(photo("astronaut", SHAPE)) * 255) / 255
    states = [_stroke(np.zeros(SHAPE + (4,)), slice(4, 7), slice(3, 28), RED)]
    states.append(_stroke(states[-1], slice(16, 19), slice(5, 30), BLUE))  # a stroke added
    states.append(_stroke(states[-1], slice(9, 12), slice(10, 20), GREEN))  # another
    states.append(_stroke(states[-1], slice(4, 7), slice(3, 28), [0, 0, 0, 0]))  # the first erased
    states.append(_stroke(states[-1], slice(16, 19), slice(5, 30), GREEN))  # one recoloured
    _folder(tmp_path, gray, states[0], depth="U8", method=method)
    worker = serve.Worker()
    before = kept = None
    for strokes in states:
        _write_strokes(tmp_path, strokes)
        reply = _ask(worker, tmp_path)
        assert reply["ok"], reply
        if before is None:
            assert reply["box"] == [0, 0, *SHAPE]
        result = _result(tmp_path, reply, before)  # as the plug-in updates the layer
        expected = varcolor.colorize(gray, varcolor.Cues.from_mask(strokes), method=method).rgb
        assert np.abs(result - expected).max() <= 1 / 255 + 1e-9  # within one level
        before = result
        kept = kept or worker.colorizer
        assert worker.colorizer is kept  # one colorizer for the photo: its factors reused, not made again


def test_a_new_photo_is_read_again(tmp_path):
    strokes = _stroke(np.zeros(SHAPE + (4,)), slice(4, 7), slice(3, 28), RED)
    _folder(tmp_path, np.full(SHAPE, 0.5), strokes, depth="U8")
    worker = serve.Worker()
    assert _ask(worker, tmp_path)["ok"]
    gray = np.round(np.tile(np.linspace(0.1, 0.9, SHAPE[1]), (SHAPE[0], 1)) * 255) / 255
    _folder(tmp_path, gray, strokes, depth="U8")  # the photo layer edited: written again
    reply = _ask(worker, tmp_path)
    expected = varcolor.colorize(gray, varcolor.Cues.from_mask(strokes)).rgb
    assert reply["box"] == [0, 0, *SHAPE]  # a new colorizer: the whole layer
    assert np.abs(_result(tmp_path, reply, None) - expected).max() <= 1 / 255 + 1e-9


def test_the_whole_layer_when_asked_and_nothing_when_nothing_changed(tmp_path):
    strokes = _stroke(np.zeros(SHAPE + (4,)), slice(4, 7), slice(3, 28), RED)
    _folder(tmp_path, np.full(SHAPE, 0.5), strokes, depth="U8")
    worker = serve.Worker()
    first = _ask(worker, tmp_path)
    whole = (tmp_path / protocol.RESULT).read_bytes()
    assert _ask(worker, tmp_path)["box"] == [0, 0, 0, 0] and (tmp_path / protocol.RESULT).read_bytes() == b""
    again = worker.handle(json.dumps({"folder": os.fspath(tmp_path), "whole": True}))
    assert first["box"] == again["box"] == [0, 0, *SHAPE] and (tmp_path / protocol.RESULT).read_bytes() == whole


def test_bad_requests_are_one_reply_line_each_and_the_worker_goes_on(tmp_path):
    strokes = _stroke(np.zeros(SHAPE + (4,)), slice(4, 7), slice(3, 28), RED)
    good = tmp_path / "good"
    good.mkdir()
    _folder(good, np.full(SHAPE, 0.5), strokes, depth="U8")
    broken = tmp_path / "broken"
    broken.mkdir()
    _folder(broken, np.full(SHAPE, 0.5), strokes, depth="U8")
    (broken / protocol.STROKES).write_bytes(b"short")
    empty = tmp_path / "empty"
    empty.mkdir()
    _folder(empty, np.full(SHAPE, 0.5), np.zeros(SHAPE + (4,)), depth="U8")
    lines = [
        "not json",
        '["a list"]',
        json.dumps({"folder": os.fspath(tmp_path / "missing")}),
        json.dumps({"folder": os.fspath(good), "whole": "yes"}),
        "x" * (serve.MAX_LINE + 10),  # overlong: one error, its rest not read as another request
        "",
        json.dumps({"folder": os.fspath(broken)}),
        json.dumps({"folder": os.fspath(empty)}),
        json.dumps({"folder": os.fspath(good)}),
    ]
    replies = io.StringIO()
    assert serve.serve(io.StringIO("\n".join(lines) + "\n"), replies) == 0
    said = [json.loads(line) for line in replies.getvalue().splitlines()]
    errors = ["not valid JSON", "no exchange folder", "no exchange folder", "not true or false", "longer than"]
    errors += ["strokes.raw", "no paint"]
    assert len(said) == len(errors) + 1
    for reply, error in zip(said, errors, strict=False):
        assert not reply["ok"] and error in reply["error"] and "\n" not in reply["error"]
    assert said[-1]["ok"] and said[-1]["box"] == [0, 0, *SHAPE]


@pytest.mark.slow
def test_the_worker_ends_when_its_stdin_closes(tmp_path):
    """Krita gone (however it ended) closes the pipe: the worker answers what it was asked and ends."""
    strokes = _stroke(np.zeros(SHAPE + (4,)), slice(4, 7), slice(3, 28), RED)
    _folder(tmp_path, np.full(SHAPE, 0.5), strokes, depth="U8")
    worker = subprocess.Popen(
        [sys.executable, "-m", "varcolor.cli", "krita", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        worker.stdin.write(json.dumps({"folder": os.fspath(tmp_path)}) + "\n")
        worker.stdin.flush()
        assert json.loads(worker.stdout.readline())["ok"]  # stdout holds reply lines only
        assert worker.poll() is None  # waiting for the next request
        worker.stdin.close()
        assert worker.wait(timeout=60) == 0
        assert worker.stdout.read() == ""
    finally:
        worker.kill()


def test_the_worker_ends_when_nobody_reads_its_replies():
    """The plug-in gone while the worker answered: no traceback, the requests left unread."""

    class Gone(io.StringIO):
        def write(self, text):
            raise BrokenPipeError

    requests = io.StringIO("not json\nnot json either\n")
    assert serve.serve(requests, Gone()) == 0
    assert requests.read() == "not json either\n"


def test_hostile_lines_are_one_error_each_and_the_worker_goes_on(tmp_path):
    """A 5000-digit number or 60,000 nested brackets on one line ended the worker with a traceback,
    and every later request went unanswered."""
    strokes = _stroke(np.zeros(SHAPE + (4,)), slice(4, 7), slice(3, 28), RED)
    _folder(tmp_path, np.full(SHAPE, 0.5), strokes, depth="U8")
    lines = [
        '{"folder": ' + "9" * 5000 + "}",
        "[" * 60_000,
        '{"folder": ' + "[" * 30_000,
        json.dumps({"folder": os.fspath(tmp_path)}),
    ]
    replies = io.StringIO()
    assert serve.serve(io.StringIO("\n".join(lines) + "\n"), replies) == 0
    said = [json.loads(line) for line in replies.getvalue().splitlines()]
    assert len(said) == 4
    assert "5000 digits" in said[0]["error"] and all("nested too deeply" in r["error"] for r in said[1:3])
    assert all(not reply["ok"] and "\n" not in reply["error"] for reply in said[:3])
    assert said[3]["ok"] and said[3]["box"] == [0, 0, *SHAPE]


def test_a_defect_in_one_request_is_an_error_reply_and_the_worker_goes_on(tmp_path, monkeypatch):
    strokes = _stroke(np.zeros(SHAPE + (4,)), slice(4, 7), slice(3, 28), RED)
    _folder(tmp_path, np.full(SHAPE, 0.5), strokes, depth="U8")
    worker = serve.Worker()
    colorize = worker._colorize
    monkeypatch.setattr(worker, "_colorize", lambda *a: (_ for _ in ()).throw(KeyError("a defect")))
    failed = _ask(worker, tmp_path)
    assert not failed["ok"] and "KeyError" in failed["error"] and "\n" not in failed["error"]
    monkeypatch.setattr(worker, "_colorize", colorize)
    assert _ask(worker, tmp_path)["ok"]


def test_a_canvas_over_the_pixel_limit_is_refused_before_its_layers_are_read(tmp_path):
    """A 400 MP canvas (``varcolor colorize`` refuses such an image from its header) was read whole:
    3.2 GB before running out of memory. Its layers here are sparse files of the declared size."""
    width = height = 20_000
    layout = _layout("U8")
    request = protocol.make_request(width, height, layout, layout, layout)
    protocol.write_json(tmp_path / protocol.REQUEST, request)
    for name in (protocol.PHOTO, protocol.STROKES):
        with open(tmp_path / name, "wb") as file:
            file.truncate(width * height * 4)
    start = time.perf_counter()
    reply = _ask(serve.Worker(), tmp_path)
    assert not reply["ok"] and "20000×20000 (400 MP)" in reply["error"] and "250 MP" in reply["error"]
    assert time.perf_counter() - start < 5
    assert not exchange.colorize_folder(tmp_path)["ok"]  # the one-shot colorize the same


def _serve_process(lines: list[str], timeout: float) -> list[dict]:
    """The replies of a ``varcolor krita serve`` process to ``lines``, its memory capped at 3 GB
    (reading ``/dev/zero`` without end stops there), killed after ``timeout`` seconds."""

    def cap():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    ran = subprocess.run(
        [sys.executable, "-m", "varcolor.cli", "krita", "serve"],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=cap,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    return [json.loads(line) for line in ran.stdout.splitlines()]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")
def test_a_profile_that_is_a_fifo_or_a_device_is_refused_and_the_worker_goes_on(tmp_path):
    """A ``profile_file`` that is a FIFO hung the worker for ever; ``/dev/zero`` was read until
    memory ran out."""
    strokes = _stroke(np.zeros(SHAPE + (4,)), slice(4, 7), slice(3, 28), RED)
    folders = []
    fifo = tmp_path / "profile.icc"
    os.mkfifo(fifo)
    for name, profile in (("fifo", fifo), ("zero", "/dev/zero"), ("good", None)):
        folder = tmp_path / name
        folder.mkdir()
        _folder(folder, np.full(SHAPE, 0.5), strokes, depth="U8")
        if profile is not None:
            request = json.loads((folder / protocol.REQUEST).read_text())
            request["photo"]["profile_file"] = os.fspath(profile)
            protocol.write_json(folder / protocol.REQUEST, request)
        folders.append(json.dumps({"folder": os.fspath(folder)}))
    fifo_request = tmp_path / "fifo_request"  # the request itself a FIFO
    fifo_request.mkdir()
    _folder(fifo_request, np.full(SHAPE, 0.5), strokes, depth="U8")
    (fifo_request / protocol.REQUEST).unlink()
    os.mkfifo(fifo_request / protocol.REQUEST)
    folders.insert(2, json.dumps({"folder": os.fspath(fifo_request)}))
    said = _serve_process(folders, timeout=120)
    assert len(said) == 4
    assert all(not reply["ok"] and "not a regular file" in reply["error"] for reply in said[:2]), said
    assert not said[2]["ok"] and "cannot read the request" in said[2]["error"]
    assert said[3]["ok"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")
def test_a_layer_file_that_is_no_layer_is_refused_before_it_is_read(tmp_path):
    """A strokes or photo file that is a FIFO (not waited on), a device, a folder, or far larger
    or smaller than its canvas (a sparse 64 GB file: refused from its size, not read) is one
    line naming the layer, and the worker goes on."""
    strokes = _stroke(np.zeros(SHAPE + (4,)), slice(4, 7), slice(3, 28), RED)
    cases = {
        "fifo": lambda path: os.mkfifo(path),
        "device": lambda path: os.symlink("/dev/zero", path),
        "folder": lambda path: path.mkdir(),
        "huge": lambda path: (path.touch(), os.truncate(path, 64 << 30)),
        "short": lambda path: path.write_bytes(bytes(10)),
    }
    lines = []
    for name, make in cases.items():
        for layer in (protocol.STROKES, protocol.PHOTO):
            folder = tmp_path / f"{name}-{layer}"
            folder.mkdir()
            _folder(folder, np.full(SHAPE, 0.5), strokes, depth="U8")
            (folder / layer).unlink()
            make(folder / layer)
            lines.append(json.dumps({"folder": os.fspath(folder)}))
    good = tmp_path / "good"
    good.mkdir()
    _folder(good, np.full(SHAPE, 0.5), strokes, depth="U8")
    said = _serve_process([*lines, json.dumps({"folder": os.fspath(good)})], timeout=120)
    assert len(said) == len(lines) + 1
    for reply, line in zip(said, lines):
        layer = "strokes" if "strokes" in line.rsplit("-", 1)[1] else "photo"
        assert not reply["ok"] and f"the {layer} layer" in reply["error"], (line, reply)
        assert "\n" not in reply["error"]
    assert "68719476736 bytes" in said[lines.index(next(x for x in lines if "huge" in x))]["error"]
    assert said[-1]["ok"]


def test_the_changed_box_is_the_smallest_box_holding_every_changed_pixel():
    """The box of a reply, found from each side inwards a few rows and columns at a time, against
    the box of every differing pixel found by a full comparison: single pixels at each edge, in
    the middle, at the ends of the search's steps, a whole image, nothing."""
    from varcolor.krita.serve import _BOX_STEP, _changed_box

    rng = np.random.default_rng(8)
    last = rng.integers(0, 256, (150, 170, 3), dtype=np.uint8)
    places = [(0, 0), (149, 169), (75, 80), (_BOX_STEP - 1, _BOX_STEP), (149 - _BOX_STEP, 0), (0, 169)]
    cases = [[p] for p in places] + [
        places[2:4],
        places[1::2],
        list(zip(rng.integers(0, 150, 9), rng.integers(0, 170, 9))),
    ]
    for changed in cases:
        now = last.copy()
        for y, x in changed:
            now[y, x, rng.integers(0, 3)] ^= 1
        ys, xs = np.nonzero((now != last).any(axis=2))
        expected = [int(ys.min()), int(xs.min()), int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)]
        assert _changed_box(last, now) == expected, changed
    assert _changed_box(last, last.copy()) == [0, 0, 0, 0]
    assert _changed_box(None, last) == [0, 0, 150, 170]
    assert _changed_box(last, 255 - last) == [0, 0, 150, 170]
