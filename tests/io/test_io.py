import io
import os
import shutil
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageOps

import varcolor
from varcolor.errors import InputError, OutputError, VarcolorError
from varcolor.io import walk_images

from ..conftest import FUZZ, png_declaring, run


@pytest.mark.parametrize("shape", [(17, 23), (17, 23, 3), (17, 23, 4)])
@pytest.mark.parametrize(
    "suffix,bits,tol",
    [(".png", 8, 0.5 / 255), (".png", 16, 0.5 / 65535), (".tif", 8, 0.5 / 255), (".tif", 16, 0.5 / 65535)],
)
def test_lossless_round_trip(tmp_path, rng, shape, suffix, bits, tol):
    image = rng.random(shape)
    path = tmp_path / f"img{suffix}"
    varcolor.write_image(path, image, bits=bits)
    back = varcolor.read_image(path)
    assert back.shape == shape
    assert np.abs(back - image).max() <= tol + 1e-12


def test_sixteen_bits_are_kept(tmp_path):
    # A 16-bit ramp has values 8-bit storage cannot hold: reading must not drop to 8 bits.
    ramp = np.linspace(0, 1, 3 * 300).reshape(10, 30, 3)
    for suffix in (".png", ".tif"):
        varcolor.write_image(tmp_path / f"r{suffix}", ramp, bits=16)
        back = varcolor.read_image(tmp_path / f"r{suffix}")
        assert len(np.unique(np.round(back * 65535))) == ramp.size


def test_jpeg_and_bmp(tmp_path, rng):
    smooth = np.tile(np.linspace(0.2, 0.8, 32), (24, 1))
    image = np.stack([smooth, smooth.T[:24, :24].mean() + 0 * smooth, 1 - smooth], axis=2)
    varcolor.write_image(tmp_path / "a.jpg", image)
    assert np.abs(varcolor.read_image(tmp_path / "a.jpg") - image).mean() < 0.02
    Image.fromarray((image * 255).round().astype(np.uint8)).save(tmp_path / "a.bmp")
    assert np.abs(varcolor.read_image(tmp_path / "a.bmp") - image).max() <= 0.5 / 255 + 1e-12


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, rng, orientation):
    pixels = (rng.random((5, 7, 3)) * 255).astype(np.uint8)
    im = Image.fromarray(pixels)
    exif = im.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "o.png"
    im.save(path, exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB")) / 255.0
    assert np.array_equal(varcolor.read_image(path), expected)


def test_missing_and_truncated_files(tmp_path, rng):
    with pytest.raises(InputError, match="no such file"):
        varcolor.read_image(tmp_path / "nope.png")
    path = tmp_path / "cut.png"
    varcolor.write_image(path, rng.random((64, 64, 3)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut.png"):
        varcolor.read_image(path)
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(InputError, match="text.png"):
        varcolor.read_image(tmp_path / "text.png")


def test_write_is_atomic_and_keeps_old_file_on_failure(tmp_path, rng, monkeypatch):
    path = tmp_path / "out.png"
    varcolor.write_image(path, np.zeros((4, 4)))
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Image.Image, "save", explode)
    with pytest.raises(RuntimeError):
        varcolor.write_image(path, np.ones((4, 4)))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["out.png"]  # no temporary left behind


def test_system_write_failures_are_output_errors_naming_the_file(tmp_path, monkeypatch):
    (tmp_path / "afile").write_bytes(b"")
    with pytest.raises(OutputError, match=r"afile/out\.png: cannot write \(.*afile: a file, not a folder\)"):
        varcolor.write_image(tmp_path / "afile" / "out.png", np.zeros((4, 4)))
    path = tmp_path / "out.png"
    varcolor.write_image(path, np.zeros((4, 4)))
    before = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full)
    with pytest.raises(OutputError, match=r"out\.png: cannot write \(No space left on device\)"):
        varcolor.write_image(path, np.ones((4, 4)))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["afile", "out.png"]


def test_new_files_get_ordinary_permissions(tmp_path):
    path = tmp_path / "p.png"
    varcolor.write_image(path, np.zeros((4, 4)))
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_8_bit_png_is_compressed_at_a_fast_zlib_level(tmp_path, rng):
    # zlib's header says which level made the stream (FLEVEL: 1 for levels 2 to 5, 2 for
    # Pillow's default 6): a 12 MP save spent 9.5 s compressing at 6, 2.8 s at 3.
    pixels = rng.random((64, 80, 3))
    path = tmp_path / "out.png"
    varcolor.write_image(path, pixels)
    data = path.read_bytes()
    idat = data.index(b"IDAT") + 4
    assert (data[idat + 1] >> 6) == 1
    assert np.array_equal(varcolor.read_image(path), np.round(pixels * 255) / 255)


def test_write_rejects_unknown_format(tmp_path):
    with pytest.raises(InputError, match="gif"):
        varcolor.write_image(tmp_path / "x.gif", np.zeros((4, 4)))
    with pytest.raises(InputError, match="JPEG"):
        varcolor.write_image(tmp_path / "x.jpg", np.zeros((4, 4)), bits=16)


def test_walk_images_keeps_relative_paths(tmp_path):
    for rel in ["a.png", "sub/b.jpg", "sub/deeper/c.tif", "sub/notes.txt", ".hidden/d.png"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    found = [p.as_posix() for p in walk_images(tmp_path)]
    assert found == ["a.png", "sub/b.jpg", "sub/deeper/c.tif"]


@pytest.mark.parametrize("color, samples", [(0, 1), (2, 3), (6, 4)])
def test_a_png_whose_pixel_data_ends_early_is_refused_not_read_half_black(tmp_path, color, samples):
    # A zlib stream closed properly after half the rows: Pillow fills the rest black, silently.
    width, height = 40, 30
    row = b"\x00" + bytes([200]) * (width * samples)
    path = tmp_path / "short.png"
    path.write_bytes(png_declaring(width, height, color=color, data=zlib.compress(row * (height // 2))))
    with pytest.raises(InputError, match=r"short\.png: .*ends 50% of the way through"):
        varcolor.read_image(path)
    path.write_bytes(png_declaring(width, height, color=color, data=zlib.compress(row * height)))  # whole
    assert np.allclose(varcolor.read_image(path), 200 / 255)


def test_a_png_whose_data_chunk_claims_gigabytes_is_read_as_it_is(tmp_path):
    # A hostile length field (2 GiB) over a few real bytes: the check reads what is there, no more.
    width, height = 40, 30
    good = png_declaring(width, height, color=0, data=zlib.compress((b"\x00" + bytes(width)) * height))
    at = good.index(b"IDAT") - 4
    path = tmp_path / "liar.png"
    path.write_bytes(good[:at] + (2**31 - 1).to_bytes(4, "big") + good[at + 4 :])
    from varcolor.io.formats import _check_png_data

    _check_png_data(path)  # all the rows are there: nothing to say, and no 2 GiB read
    assert np.array_equal(varcolor.read_image(path), np.zeros((height, width)))  # every row there, read right


@pytest.mark.parametrize("bitdepth, greyscale, alpha", [(1, True, False), (4, True, False), (8, False, True)])
def test_every_kind_of_whole_png_passes_the_data_check_interlaced_or_not(tmp_path, rng, bitdepth, greyscale, alpha):
    import png

    from varcolor.io.formats import _check_png_data, _png_data_size

    width, height = 37, 23  # not multiples of Adam7's 8
    planes = (1 if greyscale else 3) + alpha
    levels = rng.integers(0, 2**bitdepth, (height, width * planes))
    for interlace in (False, True):
        path = tmp_path / f"p{bitdepth}{interlace}.png"
        with open(path, "wb") as f:
            png.Writer(width, height, greyscale=greyscale, alpha=alpha, bitdepth=bitdepth, interlace=interlace).write(
                f, levels.tolist()
            )
        _check_png_data(path)  # no error: the data inflates to exactly what the header declares
        inflated = len(zlib.decompress(b"".join(_idat_chunks(path.read_bytes()))))
        colour = {(True, False): 0, (True, True): 4, (False, False): 2, (False, True): 6}[greyscale, alpha]
        assert inflated == _png_data_size(width, height, bitdepth, colour, interlace)


def _idat_chunks(data):
    at = 8
    while at < len(data):
        length, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8]
        if kind == b"IDAT":
            yield data[at + 8 : at + 8 + length]
        at += 12 + length


def test_decompression_bombs_are_refused(tmp_path):
    varcolor.write_image(tmp_path / "big.png", np.zeros((64, 64)))
    varcolor.write_image(tmp_path / "big.tif", np.zeros((64, 64)))
    for name in ("big.png", "big.tif"):
        with pytest.raises(InputError, match=f"{name}: 64×64 pixels .* limit of 0.004 MP .*--max-pixels"):
            varcolor.read_image(tmp_path / name, max_pixels=4000)
        assert varcolor.read_image(tmp_path / name, max_pixels=4096).shape == (64, 64)


# ---------------------------------------------------------------- issue 26: what the reader must not get wrong


def test_cmyk_tiff_is_converted_not_read_as_rgba(tmp_path):
    import tifffile

    inks = np.zeros((4, 6, 4), np.uint8)
    inks[0] = (0, 255, 255, 0)  # cyan 0, magenta+yellow full: red
    inks[1] = (0, 0, 0, 255)  # full black
    inks[2] = (0, 0, 0, 0)  # no ink: white
    inks[3] = (255, 0, 255, 0)  # green
    tifffile.imwrite(tmp_path / "cmyk.tif", inks, photometric="separated")
    rgb = varcolor.read_image(tmp_path / "cmyk.tif")
    assert rgb.shape == (4, 6, 3)
    assert np.allclose(rgb[0], (1, 0, 0)) and np.allclose(rgb[1], 0) and np.allclose(rgb[2], 1)
    assert np.allclose(rgb[3], (0, 1, 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint32, np.int16])
def test_tiffs_of_any_sample_type_are_read(tmp_path, rng, dtype):
    import tifffile

    values = rng.random((5, 7, 3))
    if np.issubdtype(dtype, np.integer):
        top = np.iinfo(dtype).max
        stored = np.round(values * top).astype(dtype)
        expected = stored / float(top)
    else:
        stored = values.astype(dtype)
        expected = stored.astype(np.float64)
    tifffile.imwrite(tmp_path / "x.tif", stored, photometric="rgb")
    assert np.allclose(varcolor.read_image(tmp_path / "x.tif"), expected, atol=1e-7)


def test_float_tiff_outside_unit_range_warns_or_with_nothing_left_is_refused(tmp_path):
    """Samples partly outside [0, 1] are clipped with a warning; where some lie outside and none
    of the gray or colour inside (an alpha aside), clipping would leave only black and white:
    refused, not coloured black (exit 0)."""
    import tifffile

    samples = np.linspace(0.5, 2.0, 48, dtype=np.float32).reshape(4, 4, 3)
    tifffile.imwrite(tmp_path / "hdr.tif", samples, photometric="rgb")
    with pytest.warns(UserWarning, match="outside \\[0, 1\\].*clipped"):
        assert np.array_equal(varcolor.read_image(tmp_path / "hdr.tif"), np.minimum(samples, 1.0))
    both = np.where(samples > 1.2, samples + 0.4, samples - 2.1)  # below 0 and above 1, none between
    alpha = np.concatenate([samples + 0.6, np.full((4, 4, 1), 0.5, np.float32)], axis=2)  # an alpha inside
    edges = np.where(samples > 1.2, 1.0, 2.0).astype(np.float32)  # 1 and beyond: white all the same
    for name, stored in (("below.tif", samples - 2.1), ("above.tif", samples + 0.6), ("both.tif", both),
                         ("alpha.tif", alpha), ("edges.tif", edges)):  # fmt: skip
        tifffile.imwrite(tmp_path / name, stored, photometric="rgb", extrasamples=[2] if stored.shape[2] == 4 else None)
        with pytest.raises(InputError, match=f"{name}: no floating-point sample of its gray or colour lies inside"):
            varcolor.read_image(tmp_path / name)
    tifffile.imwrite(tmp_path / "white.tif", np.ones((4, 4, 3), np.float32), photometric="rgb")  # white as given
    assert np.all(varcolor.read_image(tmp_path / "white.tif") == 1.0)


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_animated_images_warn_that_one_frame_is_used(tmp_path, suffix):
    frames = [Image.fromarray(np.full((8, 8, 3), v, np.uint8)) for v in (10, 200)]
    path = tmp_path / f"anim{suffix}"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.warns(UserWarning, match="animated image of 2 frames; only the first"):
        image = varcolor.read_image(path)
    assert abs(image.mean() - 10 / 255) < 0.02


def test_header_is_checked_before_any_pixel_is_decoded(tmp_path, monkeypatch):
    # A few hundred bytes can declare 144 MP: refused from the header, not after a 7 GB decode.
    width = height = 12000
    raw = zlib.compress(b"".join(b"\x00" + bytes(width) for _ in range(50)))  # rows of a far larger image
    path = tmp_path / "bomb.png"
    path.write_bytes(png_declaring(width, height, color=0, data=raw))
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("pixels decoded"))
    assert varcolor.io.image_shape(path) == (height, width)
    with pytest.raises(InputError, match="bomb.png: 12000×12000 pixels \\(144 MP\\) is more than the limit"):
        varcolor.read_image(path, max_pixels=100_000_000)


# ---------------------------------------------------------------- issue 26: publication


def test_exclusive_write_keeps_a_file_that_appears_meanwhile(tmp_path, monkeypatch):
    from varcolor.errors import OutputExists

    path = tmp_path / "out.png"
    real_encode = varcolor.io.formats._encode

    def racing(target, *args):  # another run publishes the same name while this one writes
        path.write_bytes(b"theirs")
        real_encode(target, *args)

    monkeypatch.setattr(varcolor.io.formats, "_encode", racing)
    with pytest.raises(OutputExists, match="out.png: exists; kept"):
        varcolor.write_image(path, np.zeros((4, 4)), overwrite=False)
    assert path.read_bytes() == b"theirs"
    assert os.listdir(tmp_path) == ["out.png"]


def test_a_name_of_any_valid_length_can_be_written(tmp_path):
    path = tmp_path / ("n" * 251 + ".png")  # 255 bytes: the longest name a Linux file system takes
    varcolor.write_image(path, np.zeros((4, 4)))
    assert varcolor.read_image(path).shape == (4, 4)
    assert os.listdir(tmp_path) == [path.name]


def test_publish_writes_the_marker_last(tmp_path, monkeypatch):
    from varcolor.io import publish

    order = []
    real = varcolor.io.atomic._publish_temporary
    monkeypatch.setattr(
        varcolor.io.atomic,
        "_publish_temporary",
        lambda tmp, fd, path, overwrite: (order.append(path.name), real(tmp, fd, path, overwrite)),
    )
    publish([(tmp_path / "x.vcir", b"payload"), (tmp_path / "x.png", b"gray")])
    assert order == ["x.vcir", "x.png"]


def test_publish_keeps_an_existing_unit_and_replaces_an_orphan(tmp_path):
    from varcolor.errors import OutputExists
    from varcolor.io import publish

    (tmp_path / "x.vcir").write_bytes(b"old payload")  # an interrupted run's orphan: no marker
    publish([(tmp_path / "x.vcir", b"new payload"), (tmp_path / "x.png", b"gray")], overwrite=False)
    assert (tmp_path / "x.vcir").read_bytes() == b"new payload"
    with pytest.raises(OutputExists):
        publish([(tmp_path / "x.vcir", b"third"), (tmp_path / "x.png", b"gray 3")], overwrite=False)
    assert (tmp_path / "x.vcir").read_bytes() == b"new payload"
    assert sorted(os.listdir(tmp_path)) == ["x.png", "x.vcir"]


_PUBLISH_BY_PATH = """
import sys, tracemalloc
from pathlib import Path
from varcolor.io import publish
work, out = Path(sys.argv[1]), Path(sys.argv[2])
tracemalloc.start()
publish([(out / "photo_colorized.png", work / "result.png"), (out / "photo.session.json", b"{}")])
print(tracemalloc.get_traced_memory()[1])
"""


def test_publish_copies_a_file_given_by_its_path_without_holding_it(tmp_path):
    import subprocess
    import sys

    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    content = np.random.default_rng(3).integers(0, 256, 24 << 20, np.uint8).tobytes()  # 24 MB
    (work / "result.png").write_bytes(content)
    # In a process of its own: tracemalloc counts every thread's allocations, and a test
    # worker's other threads (a studio's, a cluster client's) could allocate meanwhile.
    done = subprocess.run(
        [sys.executable, "-c", _PUBLISH_BY_PATH, str(work), str(out)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    peak = int(done.stdout.split()[-1])
    assert (out / "photo_colorized.png").read_bytes() == content
    assert (work / "result.png").read_bytes() == content  # the source is copied, never moved
    assert peak < 4 << 20, peak  # a block at a time, not the file (read whole: 24 MB)
    assert sorted(os.listdir(out)) == ["photo.session.json", "photo_colorized.png"]


def test_publish_of_a_file_that_cannot_be_read_publishes_nothing(tmp_path):
    from varcolor.io import publish

    (tmp_path / "x.png").write_bytes(b"the old result")
    with pytest.raises(OutputError, match="gone.png"):
        publish([(tmp_path / "x.png", tmp_path / "gone.png"), (tmp_path / "x.session.json", b"{}")])
    assert (tmp_path / "x.png").read_bytes() == b"the old result"
    assert os.listdir(tmp_path) == ["x.png"]  # no marker, no temporary


def test_publish_of_a_file_onto_itself_or_of_a_folder_keeps_the_file(tmp_path):
    from varcolor.io import publish

    result = tmp_path / "x.png"
    result.write_bytes(b"the result")
    publish([(result, result), (tmp_path / "x.session.json", b"{}")])  # a file onto itself: copied, kept
    assert result.read_bytes() == b"the result"
    (tmp_path / "folder").mkdir()
    with pytest.raises(OutputError, match="x.png"):
        publish([(result, tmp_path / "folder"), (tmp_path / "y.session.json", b"{}")])
    assert result.read_bytes() == b"the result"
    assert sorted(os.listdir(tmp_path)) == ["folder", "x.png", "x.session.json"]  # no temporary left


def _hold_a_temporary(folder, ready):
    """In a child process: start writing a file, signal, then wait to be killed."""
    import time

    with varcolor.io.atomic_path(os.path.join(folder, "big.png")) as tmp:
        tmp.write_bytes(b"partial")
        ready.set()
        time.sleep(60)


@pytest.mark.slow
def test_killed_writer_leaves_a_temporary_that_the_next_run_removes(tmp_path):
    import multiprocessing
    import signal
    import time

    from varcolor.io import remove_stale_temporaries

    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=_hold_a_temporary, args=(str(tmp_path), ready))
    child.start()
    assert ready.wait(60)
    (leftover,) = tmp_path.iterdir()
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    assert remove_stale_temporaries(tmp_path) == []  # its writer still holds it
    os.kill(child.pid, signal.SIGKILL)  # kill -9: no cleanup runs
    child.join()
    assert leftover.exists() and not (tmp_path / "big.png").exists()
    assert remove_stale_temporaries(tmp_path) == [leftover]
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_stale_temporary_cleanup_takes_only_files_varcolor_made(tmp_path):
    """Issue 36: the cleanup deleted other programs' files (and a run's input) by their name alone."""
    import multiprocessing
    import shutil
    import signal
    import time

    from varcolor.io import remove_stale_temporaries

    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=_hold_a_temporary, args=(str(tmp_path / "killed"), ready))
    child.start()
    assert ready.wait(60)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    (ours,) = (tmp_path / "killed").iterdir()
    old = time.time() - 3600
    folder = tmp_path / "out"
    folder.mkdir()
    theirs = {
        ".scan.abcd1234.png.tmp": b"a photo",  # earlier versions' pattern: another program's file
        ".syncthing.img_0001.jpg.tmp": b"a sync",
        ".budget.2024q3ab.xlsx.tmp": b"a sheet",
        ".varcolor-abcdefgh.tmp": b"no tag",  # our prefix, no tag
        ".varcolor-abcdefgh-0123456789abcdef.tmp": b"a wrong tag",
        ours.name: b"a copy of ours, under its name: another file",
    }
    for name, data in theirs.items():
        (folder / name).write_bytes(data)
        os.utime(folder / name, (old, old))
    shutil.copy2(ours, tmp_path / "killed" / "copy")
    os.replace(tmp_path / "killed" / "copy", folder / ours.name)  # a copy with our very name
    os.utime(ours, (old, old))
    assert remove_stale_temporaries(folder, older_than=0) == []
    assert sorted(os.listdir(folder)) == sorted(theirs)
    assert remove_stale_temporaries(tmp_path / "killed", older_than=0, keep=[ours]) == []  # an input of the run
    assert remove_stale_temporaries(tmp_path / "killed", older_than=0) == [ours]


# ---------------------------------------------------------------- one rule for "the same file" (issue 38)


def test_same_file_sees_links_and_spellings_but_not_copies(tmp_path):
    from varcolor.io import identity, same_file

    photo = tmp_path / "photo.png"
    photo.write_bytes(b"pixels")
    os.link(photo, tmp_path / "hard.png")
    (tmp_path / "soft.png").symlink_to(photo)
    shutil.copy(photo, tmp_path / "copy.png")
    assert same_file(tmp_path / "hard.png", photo) and same_file(tmp_path / "soft.png", photo)
    assert same_file(tmp_path / "sub" / ".." / "photo.png", photo) is False  # no sub: the name does not exist
    (tmp_path / "sub").mkdir()
    assert same_file(tmp_path / "sub" / ".." / "photo.png", photo)
    assert not same_file(tmp_path / "copy.png", photo)
    # names where nothing is yet: the same when they resolve alike
    assert same_file(tmp_path / "new.png", tmp_path / "sub" / ".." / "new.png")
    assert identity(tmp_path / "new.png") != identity(tmp_path / "other.png")


def test_inside_judges_each_folder_above_by_identity(tmp_path):
    from varcolor.io import inside

    out = tmp_path / "out"
    (out / "deep").mkdir(parents=True)
    (tmp_path / "alias").symlink_to(out)
    (out / "escape").symlink_to(tmp_path)
    assert inside(out / "a.png", out) and inside(out / "deep" / "new" / "a.png", out)
    assert inside(tmp_path / "alias" / "a.png", out)  # through a link to the folder
    assert inside(out / "a.png", tmp_path / "alias")
    assert not inside(out, out)  # the folder itself is not below itself
    assert not inside(out / ".." / "a.png", out)
    assert not inside(out / "escape" / "a.png", out)  # a link inside that leads out
    assert not inside(tmp_path / "a.png", out)


def test_walk_skips_a_folder_however_it_is_named(tmp_path):
    varcolor.write_image(tmp_path / "a.png", np.zeros((2, 2)))
    varcolor.write_image(tmp_path / "out" / "a.png", np.zeros((2, 2)))
    (tmp_path / "alias").symlink_to(tmp_path / "out")
    found = [p.as_posix() for p in walk_images(tmp_path, skip=[tmp_path / "alias", tmp_path / "missing"])]
    assert found == ["a.png"]


def test_writers_at_work_counts_the_writes_still_under_way_and_nothing_else(tmp_path):
    """A run whose scheduler went away waits on this before it reports what was published."""
    from varcolor.io import atomic_path, writers_at_work

    (tmp_path / ".varcolor-abcd1234-0123456789abcdef.tmp").write_bytes(b"a name like ours, not ours")
    (tmp_path / ".varcolor-abcd1234.tmp").write_bytes(b"an untagged name")
    assert writers_at_work(tmp_path) == 0
    with atomic_path(tmp_path / "a.png", overwrite=False) as first:
        first.write_bytes(b"a")
        assert writers_at_work(tmp_path) == 1
        with atomic_path(tmp_path / "b.png") as second:
            second.write_bytes(b"b")
            assert writers_at_work(tmp_path) == 2
        assert writers_at_work(tmp_path) == 1  # b published: its write is over
    assert writers_at_work(tmp_path) == 0
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["a.png", "b.png"]
    assert writers_at_work(tmp_path / "missing") == 0


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8, np.uint16])
def test_quantizing_band_by_band_gives_the_whole_image_rule(monkeypatch, bits, dtype):
    """Written in bands of rows (to hold no whole-image float temporaries), every sample is what
    clipping, scaling and rounding the whole image at once gives."""
    from varcolor.io import formats

    rng = np.random.default_rng(bits)
    if np.issubdtype(dtype, np.integer):
        image = rng.integers(0, np.iinfo(dtype).max + 1, size=(37, 11, 3)).astype(dtype)
        whole = image / float(np.iinfo(dtype).max)
    else:
        image = rng.uniform(-0.2, 1.2, size=(37, 11, 3)).astype(dtype)
        image[0, 0] = [0.5 / 255, 1.5 / 255, 1.0]  # halfway samples round as numpy rounds
        whole = image
    target = np.uint8 if bits == 8 else np.uint16
    expected = image if image.dtype == target else np.round(np.clip(whole, 0, 1) * np.iinfo(target).max).astype(target)
    monkeypatch.setattr(formats, "_QUANTIZE_SAMPLES", 50)  # bands of 1 row (33 samples a row)
    banded = formats._quantize(image, bits)
    monkeypatch.setattr(formats, "_QUANTIZE_SAMPLES", 10**9)  # one band
    assert banded.dtype == target and np.array_equal(banded, expected)
    assert np.array_equal(formats._quantize(image, bits), expected)


@pytest.mark.parametrize("where", [(0, 0, 0), (36, 10, 2)])
def test_an_image_with_a_non_finite_sample_is_refused_and_nothing_is_written(tmp_path, monkeypatch, where):
    """Checked band by band as it is quantized: a NaN in the first or the last band alike."""
    from varcolor.io import formats

    monkeypatch.setattr(formats, "_QUANTIZE_SAMPLES", 50)
    image = np.full((37, 11, 3), 0.5)
    image[where] = np.nan
    with pytest.raises(InputError, match=r"nan\.png: refusing to write an image with non-finite values"):
        varcolor.write_image(tmp_path / "nan.png", image)
    image[where] = np.inf
    with pytest.raises(InputError, match="non-finite"):
        varcolor.write_image(tmp_path / "nan.png", image)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("shape", [(0, 5, 3), (5, 0), (0, 0)])
def test_an_empty_image_is_refused_in_one_line_and_nothing_is_written(tmp_path, shape):
    with pytest.raises(InputError, match=r"e\.png: cannot write an empty image"):
        varcolor.write_image(tmp_path / "e.png", np.zeros(shape))
    assert list(tmp_path.iterdir()) == []


def test_read_image_holds_one_float_image(tmp_path):
    # Reading converts in place: the float64 image (24 bytes a pixel of RGB) beside the decoded
    # samples (3 bytes, and NumPy's copy of them) and a band-free finiteness check (1 byte); a
    # division or clip into new arrays held two float images at once (48 bytes and more).
    import tracemalloc

    ramp = np.linspace(0, 255, 2000).astype(np.uint8)
    pixels = np.stack(np.broadcast_arrays(ramp[:, None], ramp[None, :], np.uint8(90)), axis=2)  # 4 MP RGB
    path = tmp_path / "ramp.png"
    Image.fromarray(pixels).save(path, compress_level=1)
    tracemalloc.start()
    try:
        image = varcolor.read_image(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(image, pixels / 255.0)
    assert peak < 36 * 2000 * 2000


@pytest.mark.parametrize("suffix", [".tif", ".png"])
def test_16_bit_levels_become_floats_in_place(tmp_path, rng, suffix):
    # A 16-bit RGB scan read as float32 (the marks' reader): the same values as the levels scaled,
    # and at most the levels and the result alive at once. Scaled to float64 first (the copy, its
    # clip, then the dtype's copy), a 40 MP scan's peak was 1.9 GB above that.
    import tracemalloc

    import tifffile

    # Smooth levels (a scan compresses): the PNG decoder's compressed stream stays small.
    ramp = np.linspace(0, 65535, 400)[None, :, None] * np.linspace(0.2, 1, 300)[:, None, None]
    levels = (ramp * np.array([1.0, 0.8, 0.6]) + rng.integers(0, 2, (300, 400, 3))).astype(np.uint16)
    path = tmp_path / f"scan{suffix}"
    if suffix == ".tif":
        tifffile.imwrite(path, levels, photometric="rgb")
    else:
        varcolor.write_image(path, levels, bits=16)
    tracemalloc.start()
    try:
        image = varcolor.read_image(path, np.float32)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert image.dtype == np.float32
    np.testing.assert_allclose(image, levels / 65535.0, rtol=1e-6, atol=1e-7)
    if suffix == ".tif":  # (pypng buffers the decoded stream itself, whatever varcolor does after)
        assert peak <= 2 * levels.nbytes + image.nbytes  # the decoder's levels and the result


def test_a_gray_scan_saved_as_rgb_reads_as_gray_when_asked(tmp_path, rng):
    import tifffile

    gray = rng.integers(0, 65536, (40, 50)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "gray_rgb.tif", np.repeat(gray[..., None], 3, axis=2), photometric="rgb")
    read = varcolor.read_image(tmp_path / "gray_rgb.tif", gray_if_equal=True)
    assert read.shape == gray.shape
    np.testing.assert_array_equal(read, gray / 65535.0)
    assert varcolor.read_image(tmp_path / "gray_rgb.tif").shape == gray.shape + (3,)  # the default keeps RGB
    tinted = np.repeat(gray[..., None], 3, axis=2)
    tinted[-1, -1, 2] ^= 1  # one level of one pixel: colour
    tifffile.imwrite(tmp_path / "tinted.tif", tinted, photometric="rgb")
    assert varcolor.read_image(tmp_path / "tinted.tif", gray_if_equal=True).shape == gray.shape + (3,)
    rgba = np.concatenate([np.repeat(gray[..., None], 3, axis=2), np.full(gray.shape + (1,), 65535, np.uint16)], 2)
    tifffile.imwrite(tmp_path / "rgba.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
    assert varcolor.read_image(tmp_path / "rgba.tif", gray_if_equal=True).shape == gray.shape + (4,)  # alpha kept


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_levels_read_as_stored_and_made_floats_as_read_image_makes_them(tmp_path, bits, dtype):
    from varcolor.io import levels_to_float

    image = np.random.default_rng(bits).random((9, 7, 3))
    path = tmp_path / "photo.png"
    varcolor.write_image(path, image, bits=bits)
    levels = varcolor.read_image(path, dtype, levels=True)
    assert levels.dtype == (np.uint8 if bits == 8 else np.uint16)
    assert np.array_equal(levels, np.round(np.clip(image, 0, 1) * (2**bits - 1)))
    floats = levels_to_float(levels, dtype)
    assert floats.dtype == dtype and np.array_equal(floats, varcolor.read_image(path, dtype))


def test_levels_that_need_a_conversion_come_as_floats(tmp_path):
    """A float TIFF has no levels: read_image(levels=True) gives its floats, as without."""
    import tifffile

    path = tmp_path / "float.tif"
    tifffile.imwrite(path, np.random.default_rng(0).random((6, 5, 3)).astype(np.float32), photometric="rgb")
    got = varcolor.read_image(path, np.float32, levels=True)
    assert got.dtype == np.float32 and np.array_equal(got, varcolor.read_image(path, np.float32))


def test_file_sha256_reads_in_blocks_the_digest_of_the_bytes(tmp_path):
    # Longer than one block (1 MB), not a multiple of it: hashlib's digest of the whole bytes.
    import hashlib

    from varcolor.io import file_sha256

    data = np.random.default_rng(0).integers(0, 256, (1 << 20) * 2 + 123, dtype=np.uint8).tobytes()
    (tmp_path / "scan.tif").write_bytes(data)
    assert file_sha256(tmp_path / "scan.tif") == hashlib.sha256(data).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert file_sha256(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()
    with pytest.raises(OSError):
        file_sha256(tmp_path / "missing.tif")


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


def _oriented(path, pixels, orientation=6):
    """``pixels`` (uint8) saved as stored, with an EXIF orientation tag: a phone's portrait photo."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif.tobytes())


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_rotated_phone_photo_colorizes_upright_alone_with_marked_cues_and_in_a_folder(tmp_path, capsys, suffix):
    from ..conftest import photo

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


def _saved_png(path, pixels, **options):
    (pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)).save(path, "PNG", **options)
    return path


@pytest.mark.parametrize("shape", [(29, 41), (29, 41, 3), (29, 41, 4)])
@pytest.mark.parametrize("interlace", [False, True])
def test_plain_pngs_are_decoded_by_libpng_to_what_pillow_reads(tmp_path, rng, monkeypatch, shape, interlace):
    import png

    from varcolor.io import formats

    levels = rng.integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / "plain.png"
    planes = 1 if len(shape) == 2 else shape[2]
    with open(path, "wb") as f:  # pypng: an interlaced file too, which Pillow does not write
        png.Writer(shape[1], shape[0], greyscale=planes == 1, alpha=planes == 4, interlace=interlace).write(
            f, levels.reshape(shape[0], -1).tolist()
        )
    decoded = []
    spng = formats._libpng_pixels
    monkeypatch.setattr(formats, "_libpng_pixels", lambda data: decoded.append(1) or spng(data))
    got = varcolor.read_image(path, levels=True)
    # the fast path was taken; not for an interlaced file, which libpng decodes with a warning of
    # its own on stderr (Pillow reads it quietly)
    assert decoded == ([] if interlace else [1])
    with Image.open(path) as im:
        assert np.array_equal(got, np.asarray(im)) and np.array_equal(got, levels)
    assert np.array_equal(varcolor.read_image(path), levels / 255.0)


def test_pngs_with_something_to_apply_are_read_by_pillow_as_before(tmp_path, rng, monkeypatch):
    from varcolor.io import formats

    gray = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    gray[0, 0] = 0  # black, the transparent colour below, where it lies
    rgb = np.dstack([gray, gray // 2, gray])
    cases = {
        "palette": _saved_png(tmp_path / "p.png", Image.fromarray(rgb).quantize(16)),
        "transparency": _saved_png(tmp_path / "t.png", rgb, transparency=(0, 0, 0)),
        "gamma": _saved_png(tmp_path / "g.png", rgb, pnginfo=_gamma_chunk()),
        "16 bits": tmp_path / "s.png",
        "profile": _saved_png(tmp_path / "c.png", rgb, icc_profile=_srgb_profile()),
    }
    varcolor.write_image(cases["16 bits"], rgb / 255.0, bits=16)
    monkeypatch.setattr(formats, "_libpng_pixels", lambda data: pytest.fail("decoded by libpng"))
    for name, path in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the profile's conversion is said
            # (a tRNS colour that some pixels have is their transparency: an alpha)
            assert varcolor.read_image(path).shape == (20, 30, 4 if name == "transparency" else 3), name


def test_a_png_cut_short_is_refused_in_one_line_naming_it(tmp_path, rng):
    path = _saved_png(tmp_path / "cut.png", rng.integers(0, 256, (300, 400, 3), dtype=np.uint8), compress_level=0)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InputError, match=r"^\S*cut\.png: cannot read image"):
        varcolor.read_image(path)


def _gamma_chunk():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add(b"gAMA", (45455 * 2).to_bytes(4, "big"))  # a gamma of 1/1.1: not sRGB's
    return info


def _srgb_profile():
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_a_small_png_followed_by_megabytes_is_not_read_whole_into_memory(tmp_path, rng, monkeypatch):
    # The fast path reads the whole file: a few KB of image and 3 MB after its end go to Pillow,
    # which reads what the image needs (a hostile file could append gigabytes).
    from varcolor.io import formats

    levels = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    path = _saved_png(tmp_path / "padded.png", levels)
    with open(path, "ab") as f:
        f.write(b"\0" * (3 << 20))
    monkeypatch.setattr(formats, "_libpng_pixels", lambda data: pytest.fail("read whole for libpng"))
    assert np.array_equal(varcolor.read_image(path, levels=True), levels)


def test_the_fast_path_decodes_only_a_file_whose_header_is_the_one_checked(tmp_path, rng):
    # A file rewritten between the header's check and the read (another size: perhaps one the
    # pixel limit refuses) is not decoded from the new bytes; Pillow reads what it opened.
    from varcolor.io import formats

    small = _saved_png(tmp_path / "small.png", rng.integers(0, 256, (20, 30), dtype=np.uint8))
    large = _saved_png(tmp_path / "large.png", rng.integers(0, 256, (200, 300), dtype=np.uint8))
    with Image.open(small) as im:
        assert formats._plain_png(small, im, 1) == small.read_bytes()
        assert formats._plain_png(large, im, 1) is None


@pytest.mark.parametrize("kind", ["fifo", "device", "link to a device"])
def test_a_device_or_pipe_is_never_replaced_by_an_output_whatever_the_flags(tmp_path, kind):
    """``--overwrite`` onto a FIFO or a device node (``-o /dev/null``) renamed a plain file over it:
    the node was gone, exit 0. Refused in one line, before and at publication."""
    import os
    import stat

    from varcolor.errors import OutputError
    from varcolor.io import atomic

    path = tmp_path / "out.png"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        if not hasattr(os, "mknod") or os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        os.mknod(path, stat.S_IFCHR | 0o644, os.makedev(1, 3))
    else:
        path.symlink_to("/dev/null")
    before = os.lstat(path)
    with pytest.raises(OutputError, match="a device, pipe or socket"):
        varcolor.io.check_writable(path)
    with pytest.raises(OutputError, match="a device, pipe or socket"):
        varcolor.write_image(path, np.zeros((4, 4)), overwrite=True)
    with pytest.raises(OutputError, match="a device, pipe or socket"):
        atomic.publish([(path, b"data")], overwrite=True)
    # One that appears once the temporary is made: refused when it would be renamed over.
    later = tmp_path / "later.png"
    real = atomic._temporary_beside

    def then_a_pipe(target):
        made = real(target)
        os.mkfifo(later)
        return made

    atomic._temporary_beside = then_a_pipe
    try:
        with pytest.raises(OutputError, match="a device, pipe or socket"):
            atomic.publish([(later, b"data")], overwrite=True)
    finally:
        atomic._temporary_beside = real
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino) and stat.S_ISFIFO(os.lstat(later).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.png", "later.png"])  # no temporary left
