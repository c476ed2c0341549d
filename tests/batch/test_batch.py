"""Folder runs on Dask (varcolor.batch): a real LocalCluster of two worker processes gives the
serial results file for file; a worker killed mid-run loses and corrupts nothing; --resume goes on
where an interrupted run stopped; an unreachable scheduler is one line."""

import contextlib
import json
import os
import re
import signal
import socket
import string
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import varcolor
from varcolor import batch
from varcolor.app import run_folder
from varcolor.batch import MANIFEST, read_manifest
from varcolor.errors import InputError

from ..conftest import (
    PHOTOS,
    colour_photos,
    dask_cluster,
    default_sigint,
    holds_for,
    make_pair,
    photo,
    run,
    wait_until,
)

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # its health page: not on 8787, maybe taken
        resources={"MEMORY": 4e9},
    )
    with Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


def tree(folder, count=4, shape=(40, 48)):
    for index in range(count):
        sub = folder / ("" if index % 2 else "sub")
        make_pair(sub, f"i{index}", shape=shape, seed=index)
        varcolor.write_image(sub / f"c{index}.png", photo(PHOTOS[index % 3], shape))
    return folder


def images(folder):
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*.png"))}


def same_files(first, second):
    a, b = images(first), images(second)
    assert sorted(a) == sorted(b) and a
    for name in a:
        assert np.array_equal(varcolor.read_image(a[name]), varcolor.read_image(b[name])), name


@pytest.mark.slow  # 7-12 s: kept out of make test's 6 minutes (make test-slow runs it)
def test_each_folder_command_on_a_cluster_matches_the_serial_run(tmp_path, client):
    source = tree(tmp_path / "in")
    for where, extra in (("serial", {}), ("dask", {"client": client})):
        out = tmp_path / where
        rows = run_folder("colorize", source, out / "col", marked=True, quiet=True, **extra)
        assert {r["status"] for r in rows} == {"done", "skipped"}  # colour photos have no cue file
        run_folder("encode", source, out / "ir", encoder="grid", quiet=True, **extra)
        run_folder("decode", out / "ir", out / "dec", quiet=True, **extra)
        run_folder("recolor", source, out / "rec", ir=out / "rec-ir", budget=200, quiet=True, **extra)
    for step in ("col", "ir", "dec", "rec"):
        same_files(tmp_path / "serial" / step, tmp_path / "dask" / step)
    for sidecar in (tmp_path / "serial" / "ir").rglob("*.vcir"):
        assert (
            sidecar.read_bytes()
            == (tmp_path / "dask" / "ir" / sidecar.relative_to(tmp_path / "serial" / "ir")).read_bytes()
        )
    rows = read_manifest(tmp_path / "dask" / "col" / MANIFEST)
    done = [r for r in rows if r["status"] == "done"]
    assert len(done) == 4 and all(r["bytes"] > 0 and r["seconds"] >= 0 for r in done)


@pytest.mark.slow  # 8-11 s in make test (a cluster's bench); make test-slow runs it
def test_bench_and_the_scheduler_option(tmp_path, client, capsys):
    photos = tmp_path / "photos"
    colour_photos(photos, names=("p0", "p1", "p2"), shape=(64, 64))
    serial = run(capsys, "bench", "-i", photos, "--hints", "0,5", "--format", "json", "-q")
    address = client.scheduler.address
    clustered = run(capsys, "bench", "-i", photos, "--hints", "0,5", "--format", "json", "-q", "--scheduler", address)
    assert serial[0] == clustered[0] == 0
    means = lambda out: {(r["method"], r["hints"]): r["psnr"] for r in json.loads(out)["summary"]}  # noqa: E731
    assert means(serial[1]) == means(clustered[1])


@pytest.mark.slow  # 30–50 s: several processes started and killed; run by `make test-slow`
def test_a_killed_worker_loses_and_corrupts_nothing(tmp_path, client):
    source = tmp_path / "in"
    for index in range(8):
        make_pair(source, f"i{index}", shape=(500, 600), seed=index)
    out = tmp_path / "out"
    killed = []

    def kill_one_worker():
        wait_until(lambda: list(out.glob("*.png")), 120, 0.05)
        worker = sorted(client.scheduler_info()["workers"])[0]
        killed.append(len(list(out.glob("*.png"))))
        try:
            client.run(os._exit, 1, workers=[worker], wait=False)  # mid-run: other images are still to do
        except Exception:  # the worker is gone before it could answer
            pass

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    rows = run_folder("colorize", source, out, marked=True, quiet=True, client=client)
    killer.join()
    assert killed and killed[0] < 8  # killed while images were still to do
    outputs = sorted(out.iterdir())
    assert [p.name for p in outputs] == sorted(
        [f"i{i}.png" for i in range(8)] + [MANIFEST]
    )  # once each, no temporaries
    for path in outputs:
        if path.suffix == ".png":
            assert varcolor.read_image(path).shape == (500, 600, 3)
    assert sorted(r["status"] for r in rows) == ["done"] * 8
    client.wait_for_workers(2, timeout=60)


def test_an_image_no_worker_can_hold_fails_alone(tmp_path):
    from dask.distributed import Client, LocalCluster

    source = tmp_path / "in"
    make_pair(source, "small", shape=(20, 24))
    make_pair(source, "large", shape=(300, 400), seed=1)
    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            resources={"MEMORY": varcolor.check_fits((20, 24)).bytes * 2},
        ) as cluster,
        Client(cluster) as small_client,
    ):
        rows = run_folder("colorize", source, tmp_path / "out", marked=True, quiet=True, client=small_client)
    status = {os.path.basename(r["input"]): (r["status"], r["reason"]) for r in rows}
    assert status["small.png"][0] == "done"
    assert status["large.png"][0] == "failed" and "more than any worker holds" in status["large.png"][1]


@pytest.mark.slow  # 30–50 s: several processes started and killed; run by `make test-slow`
def test_resume_goes_on_where_an_interrupted_run_stopped(tmp_path):
    source = tmp_path / "in"
    # Twelve photos, interrupted after the first: enough left that a loaded machine's slow polling
    # cannot let the run finish before the signal.
    for index in range(12):
        make_pair(source, f"i{index}", shape=(500, 600), seed=index)
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "varcolor.cli",
        "colorize",
        str(source),
        "-o",
        str(out),
        "--marked",
        "-q",
        "--overwrite",
        "--resume",
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    wait_until(lambda: list(out.glob("*.png")), 120, 0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted" in err
    first = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    assert 1 <= len(first) < 12
    done = subprocess.run(command, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 0, done.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png") if p.name in first} == first  # not redone
    assert len(list(out.glob("*.png"))) == 12
    rows = read_manifest(out / MANIFEST)
    assert sorted(os.path.basename(r["input"]) for r in rows if r["status"] == "done") == sorted(
        f"i{i}.png" for i in range(12)
    )


def test_an_unreachable_scheduler_is_one_line_within_seconds(tmp_path, capsys, quick_scheduler_probe):
    make_pair(tmp_path / "in", "a")
    start = time.time()
    code, _, err = run(
        capsys, "colorize", tmp_path / "in", "-o", tmp_path / "out", "--marked", "--scheduler", "tcp://127.0.0.1:9"
    )
    assert code == 2 and err.count("\n") == 1 and "cannot reach the Dask scheduler" in err
    assert time.time() - start < 15


@pytest.mark.slow
def test_metrics_and_recolor_on_a_cluster(tmp_path, client, capsys):
    photos = tmp_path / "photos"
    colour_photos(photos, names=("p0", "p1", "p2"), shape=(48, 64))
    address = client.scheduler.address
    serial = run(capsys, "recolor", "-i", photos, "-o", tmp_path / "serial", "--budget", 200, "-q")
    clustered = run(
        capsys, "recolor", "-i", photos, "-o", tmp_path / "dask", "--budget", 200, "-q", "--scheduler", address
    )
    assert serial[0] == clustered[0] == 0 and serial[1] == clustered[1]  # the same metrics table
    same_files(tmp_path / "serial", tmp_path / "dask")


@pytest.mark.slow  # 30–50 s: several processes started and killed; run by `make test-slow`
def test_a_scheduler_killed_mid_run_is_reported_as_the_disk_says(tmp_path):
    source, out = tmp_path / "in", tmp_path / "out"
    for index in range(8):
        make_pair(source, f"i{index}", shape=(400, 500), seed=index)
    with dask_cluster(workers=2) as (address, scheduler):
        deadline = time.time() + 60
        command = [sys.executable, "-m", "varcolor.cli", "colorize", str(source), "--marked", "-o", str(out)]
        run = subprocess.Popen(command + ["--scheduler", address], stderr=subprocess.PIPE, text=True)
        while time.time() < deadline + 120 and not list(out.glob("*.png")):
            time.sleep(0.05)
        scheduler.kill()  # kill -9, with images in flight on both workers
        _, err = run.communicate(timeout=120)
        written = sorted(p.name for p in out.glob("*.png"))
        # a worker still busy must not publish now that its run is over
        assert holds_for(lambda: sorted(p.name for p in out.glob("*.png")) == written, 3)
    assert run.returncode == 1, err
    assert all(line.startswith("varcolor: ") for line in err.splitlines()), err  # no log, no traceback
    summary = re.search(r"colorized (\d+), skipped 0, failed (\d+)", err)
    assert summary and int(summary.group(1)) == len(written) and int(summary.group(2)) == 8 - len(written), err
    rows = read_manifest(out / MANIFEST)
    assert sorted(os.path.basename(r["outputs"][-1]) for r in rows if r["status"] == "done") == written
    assert all("the Dask scheduler went away" in r["reason"] for r in rows if r["status"] == "failed")


def test_a_task_whose_outcome_never_came_back_is_reported_as_the_disk_says(tmp_path, monkeypatch):
    """CI once saw a killed scheduler surface as a closed comm while the client still said
    "running": the image its worker had published was reported "nothing was written"."""
    from distributed.comm.core import CommClosedError

    from varcolor.batch import Job, SchedulerLost, WorkerLost, runner, unreported

    out = tmp_path / "out"
    out.mkdir()
    jobs = [Job(inputs=[tmp_path / f"i{k}.png"], outputs=[out / f"i{k}.png"], run=lambda: "") for k in range(3)]
    assert isinstance(unreported(jobs[0], CommClosedError("in: closed"), "running"), SchedulerLost)
    assert isinstance(unreported(jobs[0], RuntimeError("killed"), "closed"), SchedulerLost)
    assert isinstance(unreported(jobs[0], RuntimeError("KilledWorker"), "running"), WorkerLost)

    def stream(ready, workers, scheduler=None, client=None):
        varcolor.write_image(ready[0].outputs[-1], np.full((4, 4, 3), 0.5))  # published, then the comm closed
        yield ready[0], unreported(ready[0], CommClosedError("closed"), "running"), None
        yield ready[1], unreported(ready[1], RuntimeError("killed"), "running"), None  # died, nothing written
        yield ready[2], "", 0.1

    monkeypatch.setattr(runner, "outcomes", stream)
    monkeypatch.setattr(runner, "LOST_GRACE", 0.0)
    report = runner.run(jobs, verb="colorized", overwrite=False, quiet=True, manifest=out / MANIFEST)
    assert sorted(job.outputs[-1].name for job in report.done) == ["i0.png", "i2.png"]
    assert len(report.failed) == 1 and "i1.png: its worker died" in report.failed[0].line
    reasons = {os.path.basename(r["outputs"][-1]): (r["status"], r["reason"]) for r in read_manifest(out / MANIFEST)}
    assert reasons["i0.png"] == ("done", "published as the Dask scheduler went away")
    assert reasons["i1.png"][0] == "failed"


def test_an_output_there_before_the_run_is_not_taken_for_one_an_unreported_task_published(tmp_path, monkeypatch):
    """With --overwrite, an output from an earlier run is on the disk before the task starts; a
    task that never reported, and published nothing, is failed (the old file is not its work)."""
    from varcolor.batch import Job, runner, unreported

    out = tmp_path / "out"
    out.mkdir()
    jobs = [Job(inputs=[tmp_path / f"i{k}.png"], outputs=[out / f"i{k}.png"], run=lambda: "") for k in range(2)]
    for job in jobs:
        varcolor.write_image(job.outputs[-1], np.full((4, 4, 3), 0.25))  # an earlier run's
    old = jobs[0].outputs[-1].read_bytes()

    def stream(ready, workers, scheduler=None, client=None):
        yield ready[0], unreported(ready[0], RuntimeError("killed"), "closed"), None  # nothing published
        varcolor.write_image(ready[1].outputs[-1], np.full((4, 4, 3), 0.75))  # published over the old one
        yield ready[1], unreported(ready[1], RuntimeError("killed"), "closed"), None

    monkeypatch.setattr(runner, "outcomes", stream)
    monkeypatch.setattr(runner, "LOST_GRACE", 0.0)
    report = runner.run(jobs, verb="colorized", overwrite=True, quiet=True, manifest=out / MANIFEST)
    assert [job.outputs[-1].name for job in report.done] == ["i1.png"]
    assert len(report.failed) == 1 and "i0.png: the Dask scheduler went away" in report.failed[0].line
    assert jobs[0].outputs[-1].read_bytes() == old


def test_the_embedded_cluster_warns_nothing_when_dasks_usual_port_is_taken():
    """Its scheduler's health page took port 8787 by default: with 8787 in use (another Dask, another
    program) every run with --workers warned "Port 8787 is already in use"."""
    import socket
    import warnings

    from varcolor.batch.cluster import dask_client

    with socket.socket() as taken:
        try:
            taken.bind(("0.0.0.0", 8787))
            taken.listen()
        except OSError:
            pass  # in use already: the same case
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with dask_client(1, None, None) as client:
                assert client.submit(sum, [1, 2]).result() == 3
    assert [str(w.message) for w in caught if "8787" in str(w.message)] == []


def test_stopping_a_run_waits_for_the_unit_a_worker_is_publishing(client, monkeypatch):
    """``StopGate.close`` takes the publishing lock on the run's own scheduler: while a worker
    holds it (a unit being renamed into place) the stop is not said to be complete."""
    import uuid

    from varcolor.batch import gate as gate_module

    monkeypatch.setattr(gate_module, "GATE_TIMEOUT", 1)
    gate = gate_module.StopGate(f"varcolor-test-{uuid.uuid4().hex}")
    with gate():  # as a worker publishing a unit: the lock held
        assert gate.close(client) is False
    with pytest.raises(gate_module.RunStopped, match="the run was stopped"), gate():
        pass
    assert gate.close(client) is True  # nobody publishing: the lock taken and let go


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


# A refusing or foreign address waits out the probe (7-8 s each in make test): make test-slow runs those.
@pytest.mark.parametrize(
    "where",
    [
        pytest.param("http-server", marks=pytest.mark.slow),
        pytest.param("garbage", marks=pytest.mark.slow),
        pytest.param("closed-port", marks=pytest.mark.slow),
    ],
)
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


@pytest.mark.parametrize("asked, jobs", [(200, 3), (200, 50), (2, 50)])
def test_a_local_cluster_has_at_most_a_worker_a_job_and_a_core(monkeypatch, asked, jobs):
    """``--workers 200`` on 3 photos and 2 cores started 200 processes, each with 1/200 of the
    memory: nothing finished in minutes, and stderr filled with Dask's complaints."""
    from pathlib import Path

    from varcolor.batch import runner

    made = []

    @contextlib.contextmanager
    def recorded(workers, scheduler, client):
        made.append(workers)
        raise InputError("recorded")
        yield

    monkeypatch.setattr(runner, "dask_client", recorded)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    work = [batch.Job([Path(f"{k}.png")], [Path(f"out{k}.png")], run=lambda: "") for k in range(jobs)]
    with pytest.raises(InputError, match="recorded"):
        list(runner.outcomes(work, asked))
    assert made == [min(asked, jobs, 2)]


@pytest.mark.parametrize("port", ["99999", "0", "70000"])
def test_a_port_no_machine_has_is_refused_at_once(port):
    """``tcp://127.0.0.1:99999`` waited out the connection's deadline before being refused."""
    pytest.importorskip("distributed")
    start = time.monotonic()
    with pytest.raises(InputError, match=rf"not a Dask address \(port {port}: ports are 1 to 65535\)"):
        batch.check_scheduler(f"tcp://127.0.0.1:{port}", seconds=10)
    assert time.monotonic() - start < 2
