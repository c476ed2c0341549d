"""A bench's table, JSON and export manifest record the versions that shaped its numbers
(issue 96, item 1): varcolor's version and commit, NumPy, SciPy, scikit-image, PyTorch, the
thread pools, and the network's weights' hash for the rows that run it."""

import hashlib
import importlib.metadata
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import varcolor
from varcolor import bench

from ..conftest import needs_torch, photo, run

ROOT = Path(varcolor.__file__).resolve().parent.parent


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _commit():
    """The checkout's commit, asked of git here, where varcolor is imported from one (else None)."""
    done = subprocess.run(["git", "-C", ROOT, "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if done.returncode or Path(done.stdout.strip()).resolve() != ROOT:
        return None
    return subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()


def _check(record):
    assert record["varcolor"] == varcolor.__version__ and record["varcolor_commit"] == _commit()
    assert record["numpy"] == np.__version__
    for key, name in (("scipy", "scipy"), ("scikit-image", "scikit-image"), ("torch", "torch")):
        assert record[key] == _version(name)
    # The BLAS NumPy and SciPy run on, as threadpoolctl lists them.
    from threadpoolctl import threadpool_info

    blas = {(pool["internal_api"], pool["version"]) for pool in threadpool_info() if pool["user_api"] == "blas"}
    assert blas and blas <= {(pool["internal_api"], pool["version"]) for pool in record["threadpools"]}
    assert all(pool["num_threads"] >= 1 for pool in record["threadpools"])


def test_a_bench_json_table_csv_and_manifest_record_the_versions(tmp_path, capsys):
    photos = tmp_path / "photos"
    varcolor.write_image(photos / "a.png", photo("astronaut", (40, 48)))
    export = tmp_path / "export"
    argv = ("bench", photos, "--hints", "0,5", "--resolution", "32", "-q", "-m", "levin")
    code, out, err = run(capsys, *argv, "--format", "json", "--export-hints", export)
    assert code == 0, err
    record = json.loads(out)["protocol"]["versions"]
    _check(record)
    assert "network_sha256" not in record  # no row runs the network
    assert json.loads((export / "manifest.json").read_text())["versions"] == record
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    footnote = next(line for line in out.splitlines() if line.startswith("Versions: "))
    assert f"varcolor {varcolor.__version__}" in footnote and f"numpy {np.__version__}" in footnote
    assert (record["varcolor_commit"] or "varcolor") in footnote
    code, out, err = run(capsys, *argv, "--format", "csv")
    header, *rows = [line.split(",") for line in out.splitlines()]
    assert rows and all(row[header.index("numpy")] == np.__version__ for row in rows)
    assert all(row[header.index("varcolor_commit")] == (record["varcolor_commit"] or "") for row in rows)


@needs_torch
def test_rows_that_run_the_network_record_its_weights_hash(tmp_path, capsys):
    from varcolor.neural.weights import find_weights

    shipped = find_weights(None)
    record = bench.versions(["levin", "levin+ideepcolor"])
    assert record["network_file"] == shipped.name
    assert record["network_sha256"] == hashlib.sha256(shipped.read_bytes()).hexdigest()
    # Another weights file: its own hash.
    other = tmp_path / "other.safetensors"
    other.write_bytes(shipped.read_bytes()[:-1] + b" ")
    theirs = bench.versions(["ideepcolor"], str(other))["network_sha256"]
    assert theirs == hashlib.sha256(other.read_bytes()).hexdigest() != record["network_sha256"]
    assert "network_sha256" not in bench.versions(["levin", "bilaplacian-gtv"], str(other))
    assert f"SHA-256 {record['network_sha256']}" in bench.versions_line(record)


def test_an_installed_copy_has_no_commit(tmp_path, monkeypatch):
    # The package's folder under another that is no checkout's top (a virtual environment's).
    from varcolor.bench import sweep  # the module whose file says where the package lies

    monkeypatch.setattr(sweep, "__file__", str(tmp_path / "site-packages" / "varcolor" / "bench" / "sweep.py"))
    assert bench.source_commit() == (None, None)


@pytest.mark.parametrize("commit", [None, "0123abcd"])
def test_the_footnote_names_the_commit_only_where_there_is_one(commit):
    line = bench.versions_line({"varcolor": "1.2", "varcolor_commit": commit, "varcolor_modified": False})
    assert line == ("varcolor 1.2 (commit 0123abcd)." if commit else "varcolor 1.2.")
