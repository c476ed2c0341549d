"""Issue 26's defects, each reproduced as a user would meet it: nothing lost, nothing silently wrong,
one line and exit 2 for bad input."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest

import varcolor
import varcolor.app.solve
import varcolor.cli
from varcolor.color import same_lightness_gray
from varcolor.ir.files import read_ir

from .conftest import (
    colour_photos,
    default_sigint,
    holds_for,
    make_pair,
    needs_torch,
    photo,
    png_declaring,
    run,
    wait_until,
)


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- data loss


def test_recolor_delete_gray_never_deletes_photos(tmp_path, capsys):
    photos = tmp_path / "photos"
    before = colour_photos(photos)
    (tmp_path / "out").mkdir()
    for name in before:  # an earlier run's decoded images
        varcolor.write_image(tmp_path / "out" / name, np.zeros((32, 40, 3)))
    code, _, err = run(
        capsys, "recolor", "-i", photos, "-o", tmp_path / "out", "--ir", photos, "--delete-gray", "--budget", 200
    )
    assert snapshot(photos).items() >= before.items()  # every photo still there, unchanged
    # (each gray it would write is a photo: refused whole, before any work)
    assert code == 2 and "refusing to overwrite an input" in err and "Traceback" not in err


def test_recolor_delete_gray_deletes_only_what_this_run_wrote_and_decoded(tmp_path, capsys):
    photos = tmp_path / "photos"
    colour_photos(photos)
    ir = tmp_path / "ir"
    ir.mkdir()
    varcolor.write_image(ir / "unrelated.png", np.zeros((8, 8)))  # not ours: kept
    code, _, _ = run(
        capsys, "recolor", "-i", photos, "-o", tmp_path / "out", "--ir", ir, "--delete-gray", "--budget", 200, "-q"
    )
    assert code == 0
    assert sorted(p.name for p in ir.iterdir()) == ["a.vcir", "b.vcir", "unrelated.png", varcolor.batch.MANIFEST]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png", varcolor.batch.MANIFEST]


def test_output_folder_equal_to_input_folder_replaces_no_input(tmp_path, capsys):
    photos = tmp_path / "photos"
    before = colour_photos(photos)
    code, _, err = run(capsys, "recolor", "-i", photos, "-o", photos, "--overwrite", "--budget", 200)
    assert code != 0 and snapshot(photos).items() >= before.items()
    # colorize: img.jpg's result would be img.png, an input of the same run
    folder = tmp_path / "mixed"
    make_pair(folder, "img")
    varcolor.write_image(folder / "img.jpg", varcolor.read_image(folder / "img.png"))
    varcolor.write_image(folder / "img.jpg_marked.png", np.zeros((1, 1, 3)))  # noise, unused
    before = snapshot(folder)
    code, _, err = run(capsys, "colorize", folder, "-o", folder, "--overwrite", "--marked")
    assert snapshot(folder)["img.png"] == before["img.png"]
    assert "refusing to overwrite an input file" in err


def test_colliding_outputs_are_refused_before_any_work(tmp_path, capsys, monkeypatch):
    make_pair(tmp_path / "in", "a")
    varcolor.write_image(tmp_path / "in" / "a.jpg", varcolor.read_image(tmp_path / "in" / "a.png"))
    make_pair(tmp_path / "in", "c")
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", tmp_path / "out", "--marked")
    assert code == 1
    assert err.count("would also be written for") == 2 and "a.jpg" in err and "in/a.png" in err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["c.png"]  # a.png written by neither


def test_an_output_that_appears_during_the_run_is_kept(tmp_path, capsys, monkeypatch):
    make_pair(tmp_path / "in", "a")
    make_pair(tmp_path / "in", "b")
    real = varcolor.app.solve.colorize

    def racing(gray, cues, *options, **keywords):  # another run publishes out/b.png meanwhile
        (tmp_path / "out").mkdir(exist_ok=True)
        (tmp_path / "out" / "b.png").write_bytes(b"theirs")
        return real(gray, cues, *options, **keywords)

    monkeypatch.setattr(varcolor.app.solve, "colorize", racing)
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", tmp_path / "out", "--marked")
    assert code == 0 and "b.png: exists; kept" in err and "colorized 1, skipped 1" in err
    assert (tmp_path / "out" / "b.png").read_bytes() == b"theirs"


def test_encode_publishes_the_gray_only_with_its_payload(tmp_path, capsys, monkeypatch):
    colour_photos(tmp_path / "in", ["a"])
    real = varcolor.io.atomic._publish_temporary

    def killed_before_marker(tmp, fd, path, overwrite):
        if path.suffix == ".png":
            raise KeyboardInterrupt  # the run dies between the two files
        return real(tmp, fd, path, overwrite)

    monkeypatch.setattr(varcolor.io.atomic, "_publish_temporary", killed_before_marker)
    code, _, _ = run(capsys, "encode", "-i", tmp_path / "in", "-o", tmp_path / "ir")
    assert code == 130
    assert sorted(p.name for p in (tmp_path / "ir").glob("a.*")) == ["a.vcir"]  # no gray: no IR
    monkeypatch.undo()
    code, _, _ = run(capsys, "encode", "-i", tmp_path / "in", "-o", tmp_path / "ir", "-q")  # no --overwrite
    assert code == 0 and sorted(p.name for p in (tmp_path / "ir").iterdir()) == [
        "a.png",
        "a.vcir",
        varcolor.batch.MANIFEST,
    ]
    code, _, _ = run(capsys, "decode", "-i", tmp_path / "ir", "-o", tmp_path / "dec", "-q")
    assert code == 0 and (tmp_path / "dec" / "a.png").is_file()


def test_a_gray_png_without_payload_is_incomplete_not_done(tmp_path, capsys):
    colour_photos(tmp_path / "in", ["a"])
    (tmp_path / "ir").mkdir()
    varcolor.write_image(tmp_path / "ir" / "a.png", np.zeros((32, 40)))  # as an interrupted old version left it
    code, _, err = run(capsys, "encode", "-i", tmp_path / "in", "-o", tmp_path / "ir")
    assert code == 1 and "not a complete IR" in err and "--overwrite" in err
    code, _, err = run(capsys, "decode", "-i", tmp_path / "ir", "-o", tmp_path / "dec")
    assert code == 1 and "no IR (no a.vcir beside it, no payload inside it)" in err
    code, _, _ = run(capsys, "encode", "-i", tmp_path / "in", "-o", tmp_path / "ir", "--overwrite", "-q")
    assert code == 0 and (tmp_path / "ir" / "a.vcir").is_file()


def test_long_names_and_stale_temporaries(tmp_path, capsys):
    name = "x" * 246
    make_pair(tmp_path / "in", "b")
    # its cue file's name (+ "_marked.png") would be too long to exist
    varcolor.write_image(tmp_path / "in" / f"{name}.png", varcolor.read_image(tmp_path / "in" / "b.png"))
    out = tmp_path / "out"
    out.mkdir()
    stale, fd = varcolor.io.atomic._temporary_beside(out / "b.png")  # as a killed run leaves it: made, no longer locked
    os.write(fd, b"half an image")
    os.close(fd)
    os.utime(stale, (time.time() - 3600,) * 2)
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", out, "--marked")
    assert "File name too long" not in err and "Traceback" not in err
    assert (out / "b.png").is_file() and not stale.exists() and "removed 1 temporary file" in err
    # the long name itself colorizes, from points given explicitly
    (tmp_path / "p.json").write_text(json.dumps([{"y": 3, "x": 3, "a": 30, "b": 10, "radius": 2}]))
    code, _, _ = run(capsys, "colorize", tmp_path / "in" / f"{name}.png", "--points", tmp_path / "p.json", "-o", out)
    assert code == 0 and (out / f"{name}.png").is_file()


# ---------------------------------------------------------------- one line, exit 2


def test_damaged_ir_fails_alone_and_the_folder_goes_on(tmp_path, capsys):
    colour_photos(tmp_path / "in", ["a", "b", "c"])
    code, _, _ = run(capsys, "encode", "-i", tmp_path / "in", "-o", tmp_path / "ir", "--embed", "-q")
    assert code == 0
    (tmp_path / "ir" / "d.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)  # damaged, no sidecar
    code, _, err = run(capsys, "decode", "-i", tmp_path / "ir", "-o", tmp_path / "dec")
    assert code == 1 and "decoded 3, skipped 0, failed 1" in err and "d.png" in err and "Traceback" not in err


def test_payload_after_iend_is_an_error_not_silence(tmp_path, capsys):
    from varcolor.ir.format import PNG_CHUNK

    colour_photos(tmp_path / "in", ["a"])
    run(capsys, "encode", "-i", tmp_path / "in" / "a.png", "-o", tmp_path / "ir", "--embed", "-q")
    data = (tmp_path / "ir" / "a.png").read_bytes()
    start = data.index(PNG_CHUNK) - 4
    length = int.from_bytes(data[start : start + 4], "big")
    chunk = data[start : start + length + 12]
    (tmp_path / "ir" / "a.png").write_bytes(data[:start] + data[start + len(chunk) :] + chunk)  # after IEND
    code, _, err = run(capsys, "decode", "-i", tmp_path / "ir" / "a.png", "-o", tmp_path / "dec.png")
    assert code == 2 and "after IEND" in err and not (tmp_path / "dec.png").exists()


@pytest.mark.parametrize(
    "content,suffix,message",
    [
        ('[{"y": null, "x": 1, "a": 1, "b": 1}]', ".json", "y has no value"),
        ("y,x,a,b\n1,1,5\n", ".csv", "b has no value"),
        ("[" * 100_000 + "]" * 100_000, ".json", "nested too deeply"),
        ('[{"y": 1, "x": 1, "a": 1, "b": 1, "radius": 1e300}]', ".json", None),
        ('[{"y": 1, "x": 1, "a": ' + "9" * 5000 + ', "b": 1}]', ".json", "not valid JSON"),
        ('[{"y": 1, "x": 1, "a": 10, "b": 10, "r": 5, "g": 5}]', ".json", "both a (Lab) and r/g (RGB)"),
        ('[{"y": 1, "x": 1, "a": true, "b": 1}]', ".json", "must be numbers"),
        ('[{"y": 1e308, "x": 1, "a": 1, "b": 1}]', ".json", "outside"),
        ("[[1, 2]]", ".json", "list of point objects"),
        ('y,x,a,b\n"1,1,1,1\n', ".csv", "values must be numbers"),
        ('{"as": null, "points": [{"y": 1, "x": 1, "a": 1, "b": 1}]}', ".json", '"as" must be one of'),
        ('{"as": ["strokes"], "points": [{"y": 1, "x": 1, "a": 1, "b": 1}]}', ".json", '"as" must be one of'),
        ('{"as": "strokes"}', ".json", "list of point objects"),
        ('{"as": "strokes", "width": 0, "height": 5, "points": []}', ".json", "width and height"),
    ],
)
def test_hostile_points_files_get_one_line(tmp_path, capsys, content, suffix, message):
    varcolor.write_image(tmp_path / "g.png", np.full((10, 12), 0.5))
    (tmp_path / f"p{suffix}").write_text(content)
    code, _, err = run(
        capsys, "colorize", tmp_path / "g.png", "--points", tmp_path / f"p{suffix}", "-o", tmp_path / "out.png"
    )
    if message is None:  # a huge radius covers the image: every pixel a cue is refused, not a traceback
        assert code == 2 and "100 % of the pixels are cues" in err and err.count("\n") == 1
    else:
        assert code == 2 and message in err and err.count("\n") == 1 and f"p{suffix}" in err


def test_points_are_painted_within_their_disks_only(rng):
    # The disk painting (bounding boxes) matches a brute-force disk over all pixels.
    shape = (37, 51)
    records = [
        {"y": float(y), "x": float(x), "a": float(a), "b": float(b), "radius": float(r)}
        for y, x, a, b, r in zip(
            rng.uniform(0, 36, 40),
            rng.uniform(0, 50, 40),
            rng.uniform(-80, 80, 40),
            rng.uniform(-80, 80, 40),
            rng.uniform(0, 9, 40),
        )
    ]
    cues = varcolor.Cues.from_points(records, shape=shape)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    mask = np.zeros(shape, bool)
    ab = np.zeros(shape + (2,))
    for p in records:
        disk = (yy - round(p["y"])) ** 2 + (xx - round(p["x"])) ** 2 <= p["radius"] ** 2
        mask |= disk
        ab[disk] = (p["a"], p["b"])
    assert np.array_equal(cues.mask, mask) and np.array_equal(cues.ab[mask], ab[mask])


def test_points_files_are_capped(tmp_path, monkeypatch):
    from varcolor.reading import pointfiles as cues_module

    monkeypatch.setattr(cues_module, "MAX_POINTS", 10)
    (tmp_path / "p.json").write_text(json.dumps([{"y": 1, "x": 1, "a": 1, "b": 1}] * 11))
    with pytest.raises(varcolor.errors.InputError, match="more than 10 points"):
        varcolor.Cues.from_points(tmp_path / "p.json", shape=(4, 4))
    monkeypatch.setattr(cues_module, "MAX_POINTS_FILE_BYTES", 100)
    with pytest.raises(varcolor.errors.InputError, match="at most 0 MB"):
        varcolor.Cues.from_points(tmp_path / "p.json", shape=(4, 4))


def test_huge_declared_sizes_are_refused_from_the_header(tmp_path, capsys, monkeypatch):
    from PIL import Image

    rows = zlib.compress(b"".join(b"\x00" + bytes(12000 * 3) for _ in range(8)))
    (tmp_path / "bomb.png").write_bytes(png_declaring(12000, 12000, color=2, data=rows))  # a few hundred bytes, 144 MP
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("pixels decoded"))
    monkeypatch.setattr(varcolor.common.memory, "available_bytes", lambda: 4 << 30)  # a small machine
    code, _, err = run(
        capsys,
        "colorize",
        tmp_path / "bomb.png",
        "--prior",
        "ideepcolor",
        "--method",
        "levin",
        "-o",
        tmp_path / "out.png",
    )
    assert code == 2 and "bomb.png" in err and "needs about" in err and err.count("\n") == 1
    code, _, err = run(capsys, "encode", "-i", tmp_path / "bomb.png", "-o", tmp_path / "ir", "-e", "grid")
    assert code == 2 and "bomb.png: encoding (grid) a 12000×12000 image needs about" in err
    code, _, err = run(capsys, "encode", "-i", tmp_path / "bomb.png", "-o", tmp_path / "ir", "--max-pixels", 10**8)
    assert code == 2 and "more than the limit of 100 MP" in err and "--max-pixels" in err


def test_output_format_and_place_are_checked_before_any_work(tmp_path, capsys, monkeypatch):
    make_pair(tmp_path, "img")
    monkeypatch.setattr(
        varcolor.app.solve, "colorize", lambda *a, **k: pytest.fail("solved before checking the output")
    )
    for output in ("x.webp", "x"):
        code, _, err = run(
            capsys, "colorize", tmp_path / "img.png", "--marked", "--method", "bilaplacian-gtv", "-o", tmp_path / output
        )
        assert code == 2 and "cannot write" in err
    (tmp_path / "afile").write_bytes(b"")
    code, _, err = run(capsys, "colorize", tmp_path / "img.png", "--marked", "-o", tmp_path / "afile" / "o.png")
    assert code == 2 and "a file, not a folder" in err


# ---------------------------------------------------------------- silently wrong


def test_a_single_file_uses_a_cue_file_beside_it_only_when_asked(tmp_path, capsys):
    make_pair(tmp_path, "img")
    code, _, err = run(capsys, "colorize", tmp_path / "img.png", "-o", tmp_path / "out.png")
    assert code == 2 and "img_marked.png is beside it: give --marked" in err
    code, _, _ = run(capsys, "colorize", tmp_path / "img.png", "--marked", "-o", tmp_path / "out.png")
    assert code == 0


def test_the_colour_original_as_marked_image_is_refused(tmp_path, capsys):
    rgb = make_pair(tmp_path, "img")
    varcolor.write_image(tmp_path / "orig.png", rgb)
    code, _, err = run(
        capsys, "colorize", tmp_path / "img.png", "--marked", tmp_path / "orig.png", "-o", tmp_path / "out.png"
    )
    assert code == 2 and "colour original" in err and not (tmp_path / "out.png").exists()


@needs_torch
@pytest.mark.parametrize("spoil", ["nan", "int", "mask_cent_nan", "mask_cent_banana"])
def test_unusable_weights_are_refused_not_a_black_image(tmp_path, capsys, spoil):
    import torch
    from safetensors.torch import save_file

    from varcolor.neural.siggraph17 import SIGGRAPH17

    net = SIGGRAPH17(width=0.0625)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    metadata = {"mask_cent": "0.5"}
    if spoil == "nan":
        state["model1.0.weight"][0, 0, 0, 0] = float("nan")
    elif spoil == "int":
        state["model1.0.weight"] = state["model1.0.weight"].to(torch.int32)
    else:
        metadata["mask_cent"] = "nan" if spoil == "mask_cent_nan" else "banana"
    save_file(state, str(tmp_path / "w.safetensors"), metadata=metadata)
    varcolor.write_image(tmp_path / "g.png", same_lightness_gray(photo("coffee", (32, 32))))
    code, _, err = run(
        capsys,
        "colorize",
        tmp_path / "g.png",
        "--method",
        "ideepcolor",
        "--network-file",
        tmp_path / "w.safetensors",
        "-o",
        tmp_path / "out.png",
    )
    assert code == 2 and "w.safetensors" in err and err.count("\n") == 1 and not (tmp_path / "out.png").exists()


@needs_torch
def test_the_default_model_never_comes_from_the_current_folder(tmp_path, capsys, monkeypatch):
    from varcolor.neural.weights import DEFAULT_WEIGHTS

    (tmp_path / DEFAULT_WEIGHTS).write_bytes(b"not weights at all")
    varcolor.write_image(tmp_path / "g.png", same_lightness_gray(photo("coffee", (32, 32))))
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "colorize", "g.png", "--method", "ideepcolor", "-o", "out.png")
    assert code == 0 and varcolor.read_image(tmp_path / "out.png").std() > 0


@needs_torch
def test_train_resume_refuses_foreign_checkpoints_without_running_them(tmp_path, capsys):
    import pickle

    marker = tmp_path / "pwned"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    colour_photos(tmp_path / "photos", ["a"], shape=(64, 64))

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    for content in (b"garbage", pickle.dumps(Evil())):
        (run_dir / "checkpoint.pt").write_bytes(content)
        code, _, err = run(
            capsys,
            "train",
            tmp_path / "photos",
            "-o",
            run_dir,
            "--resume",
            "--steps",
            1,
            "--crop",
            32,
            "--batch",
            1,
            "--width",
            0.0625,
            "-q",
        )
        assert code == 2 and "checkpoint.pt: cannot read the checkpoint" in err and err.count("\n") == 1
    assert not marker.exists()


def test_a_non_finite_result_is_an_error_not_a_black_image(monkeypatch):
    gray = np.full((8, 8), 0.5)
    # two colours: cues of one colour give it with no solve
    cues = varcolor.Cues.from_points(
        [{"y": 2, "x": 2, "a": 30, "b": 0}, {"y": 6, "x": 6, "a": 0, "b": 30}], shape=(8, 8)
    )
    from varcolor.solvers.direct import DirectSolver

    real = DirectSolver.solve
    monkeypatch.setattr(
        DirectSolver, "solve", lambda self, rhs, x0=None: (np.full_like(rhs, np.nan), real(self, rhs, x0)[1])
    )
    with pytest.raises(varcolor.errors.InputError, match="non-finite"):
        varcolor.colorize(gray, cues, solver="direct")


# ---------------------------------------------------------------- interruption


def _folder_of(folder, count, shape=(400, 400)):
    for index in range(count):
        make_pair(folder, f"i{index:02d}", shape=shape, seed=index)


@pytest.mark.slow  # 30–50 s: several processes started and killed; run by `make test-slow`
def test_ctrl_c_during_a_parallel_run_stops_at_once_and_counts(tmp_path):
    _folder_of(tmp_path / "in", 12, shape=(500, 600))  # about a second an image: still going when stopped
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "varcolor.cli",
            "colorize",
            str(tmp_path / "in"),
            "-o",
            str(tmp_path / "out"),
            "--workers",
            "2",
            "-q",
            "--marked",
        ],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
    wait_until(lambda: list((tmp_path / "out").glob("*.png")), 120, 0.1)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # and a second, impatient one
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("the run did not stop within 30 s of Ctrl-C")
    assert process.returncode == 130 and "Traceback" not in err
    counted = re.search(r"interrupted: colorized (\d+) of 12", err)
    written = sorted(p for p in (tmp_path / "out").iterdir() if p.name != varcolor.batch.MANIFEST)
    assert all(p.suffix == ".png" for p in written)  # no temporary left behind
    for path in written:
        assert varcolor.read_image(path).shape == (500, 600, 3)  # whole images only
    # Stopped means stopped: nothing appears afterwards, and the count and the manifest say what
    # is on the disk (workers used to finish their images and publish them unreported).
    manifest = varcolor.batch.MANIFEST
    assert holds_for(lambda: sorted(p for p in (tmp_path / "out").iterdir() if p.name != manifest) == written, 3)
    assert counted and int(counted.group(1)) == len(written), err
    done = [
        r for r in varcolor.batch.read_manifest(tmp_path / "out" / varcolor.batch.MANIFEST) if r["status"] == "done"
    ]
    assert sorted(os.path.basename(r["outputs"][-1]) for r in done) == [p.name for p in written]


@pytest.mark.slow  # 30–50 s: several processes started and killed; run by `make test-slow`
@pytest.mark.parametrize("embed", [False, True])
def test_kill_9_in_the_middle_of_encoding_leaves_only_whole_irs(tmp_path, embed):
    colour_photos(tmp_path / "in", [f"p{i}" for i in range(6)], shape=(160, 200))
    command = [
        sys.executable,
        "-m",
        "varcolor.cli",
        "encode",
        "-i",
        str(tmp_path / "in"),
        "-o",
        str(tmp_path / "ir"),
        "-q",
    ] + (["--embed"] if embed else [])
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    wait_until(lambda: len(list((tmp_path / "ir").glob("*"))) >= 3, 120, 0.01)
    process.kill()  # kill -9, in the middle of publishing for all we know
    process.wait()
    for gray in (tmp_path / "ir").glob("*.png"):  # every published gray PNG is a whole IR
        assert embed or gray.with_suffix(".vcir").is_file()
        read_ir(gray)
    done = subprocess.run(command, stderr=subprocess.PIPE, text=True)  # the rerun finishes the rest
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "ir").glob("*.png"))) == 6
    decoded = subprocess.run(
        [sys.executable, "-m", "varcolor.cli", "decode", "-i", str(tmp_path / "ir"), "-o", str(tmp_path / "dec"), "-q"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert decoded.returncode == 0, decoded.stderr


@pytest.mark.slow  # 30–50 s: several processes started and killed; run by `make test-slow`
def test_two_concurrent_runs_into_one_folder_leave_each_ir_whole_and_once(tmp_path):
    colour_photos(tmp_path / "in", [f"p{i}" for i in range(6)], shape=(120, 160))
    command = [
        sys.executable,
        "-m",
        "varcolor.cli",
        "encode",
        "-i",
        str(tmp_path / "in"),
        "-o",
        str(tmp_path / "ir"),
        "-q",
    ]
    runs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [run.communicate(timeout=300)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors  # the loser of each race keeps the winner's IR
    assert "Traceback" not in "".join(errors)
    grays = sorted(p.name for p in (tmp_path / "ir").glob("*.png"))
    assert grays == [f"p{i}.png" for i in range(6)]
    assert not list((tmp_path / "ir").glob(".varcolor-*"))
    for gray in (tmp_path / "ir").glob("*.png"):
        read_ir(gray)  # gray and payload belong together
