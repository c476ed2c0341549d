"""Instance-aware colorization (varcolor.instances): the cascades find a real face, masks follow
edges, the fusion puts each crop's own colours inside its mask and nothing else, cues still win,
a plug-in detector works from a safely loaded weights file, bad files and options are one line."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import skimage.data

import varcolor
import varcolor.registry
from varcolor.color import same_lightness_gray
from varcolor.errors import InputError
from varcolor.instances import Detector, Instance, TorchDetector, detectors, fuse, register, soft_mask, unregister

from ..conftest import colorize_a_pair_in_a_child, install_plug_ins, needs_torch, photo, run

# not a first run's array code; Levin's propagation, unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("kernels", "unrestrained")


cv2 = pytest.importorskip("cv2")

# The astronaut's face in scikit-image's 512×512 photo (rows, columns), read off the picture:
# forehead to chin, ear to ear.
FACE_ROWS, FACE_COLUMNS = (75, 160), (185, 265)


def astronaut_gray():
    return same_lightness_gray(skimage.data.astronaut() / 255.0)


def test_the_face_cascades_find_the_astronauts_face_and_nothing_in_coffee():
    found = detectors.Faces().detect(astronaut_gray())
    assert len(found) == 1 and found[0].label == "face"
    top, left, height, width = found[0].box
    centre = (top + height / 2, left + width / 2)
    assert FACE_ROWS[0] < centre[0] < FACE_ROWS[1] and FACE_COLUMNS[0] < centre[1] < FACE_COLUMNS[1]
    assert 0.5 < height < 2 * (FACE_ROWS[1] - FACE_ROWS[0])  # a face's size, not a patch of it or the body
    assert 0.5 < found[0].score <= 1
    assert detectors.Faces().detect(same_lightness_gray(skimage.data.coffee() / 255.0)) == []


def test_masks_follow_edges():
    # A bright disc on a dark ground, its box with room around it: the mask is the disc.
    yy, xx = np.mgrid[0:80, 0:80]
    disc = (yy - 40) ** 2 + (xx - 40) ** 2 <= 15**2
    gray = np.where(disc, 0.8, 0.2) + np.random.default_rng(0).normal(0, 0.01, disc.shape)
    alpha = soft_mask(np.clip(gray, 0, 1), (15, 15, 50, 50))
    assert alpha.shape == (50, 50) and alpha.min() >= 0 and alpha.max() <= 1
    inside, truth = alpha > 0.5, disc[15:65, 15:65]
    assert (inside & truth).sum() / (inside | truth).sum() > 0.9
    # On the astronaut's face: the mask is inside its box and smaller than it.
    gray = astronaut_gray()
    face = detectors.Faces().detect(gray)[0]
    area = (soft_mask(gray, face.box) > 0.5).sum()
    assert 0.3 * face.box[2] * face.box[3] < area < face.box[2] * face.box[3]


def test_a_crop_is_square_around_the_box_with_its_margin_and_inside_the_image():
    from varcolor.instances.fusion import window_of

    assert window_of((100, 150, 60, 40), (256, 256), 0.5) == (slice(70, 190), slice(110, 230))
    assert window_of((0, 230, 20, 20), (256, 256), 0.5) == (slice(0, 40), slice(216, 256))  # moved in
    assert window_of((0, 0, 200, 200), (256, 300), 0.5) == (slice(0, 256), slice(0, 300))  # clipped


class _Fixed(Detector):
    """A fake detector: one box with a full mask over its middle."""

    name, summary = "fixed", "one fixed box (tests)"
    box = (100, 150, 60, 60)

    def detect(self, gray):
        mask = np.zeros(self.box[2:])
        mask[10:50, 10:50] = 1.0
        return [Instance(self.box, 1.0, "thing", mask)]


@pytest.fixture
def fixed():
    register(_Fixed)
    yield _Fixed
    unregister("fixed")


@needs_torch
def test_fusion_puts_the_crops_own_colours_inside_the_mask_and_leaves_the_rest(fixed):
    from varcolor.neural.prior import predict
    from varcolor.neural.weights import load

    gray = same_lightness_gray(photo("astronaut", (256, 256)))
    empty = varcolor.Cues.empty(gray.shape)
    # vivid: the annealed decoding, whose colours differ most between the whole image and a crop
    base = varcolor.colorize(gray, empty, prior="ideepcolor", automatic="vivid")
    result = varcolor.colorize(gray, empty, prior="ideepcolor", automatic="vivid", instances="fixed")
    # The crop: the box (rows 100–160, columns 150–210) and its side around it, moved inside.
    window = (slice(40, 220), slice(76, 256))
    crop, _ = predict(load(None), gray[window], varcolor.Cues.empty((180, 180)), decode="annealed")
    core = (slice(110, 150), slice(160, 200))  # the mask's ones
    inner = (slice(70, 110), slice(84, 124))  # the same pixels in the crop
    assert np.abs(result.ab[core] - crop[inner]).max() < 0.05
    assert np.abs(base.ab[core] - crop[inner]).mean() > 1.0  # the whole image's guess differed there
    outside = np.ones(gray.shape, bool)
    outside[100:160, 150:210] = False
    assert np.abs(result.ab[outside] - base.ab[outside]).max() < 1e-3
    assert result.info["instances"] == [
        {
            "label": "thing",
            "score": 1.0,
            "box": [100, 150, 60, 60],
            "mask_area": 1600,
            "window": [40, 76, 180, 180],
            "seconds": result.info["instances"][0]["seconds"],
        }
    ]


@needs_torch
def test_user_cues_still_win_inside_an_instance(fixed):
    gray = same_lightness_gray(photo("astronaut", (256, 256)))
    cues = varcolor.Cues.from_points([{"y": 130, "x": 180, "a": -40, "b": 50}], gray.shape)
    with_instances = varcolor.colorize(gray, cues, prior="ideepcolor", instances="fixed")
    without = varcolor.colorize(gray, cues, prior="ideepcolor")
    assert np.allclose(with_instances.ab[130, 180], (-40, 50))
    near = (slice(128, 133), slice(178, 183))  # the cue's colour spreads around it, instance or not
    for result in (with_instances, without):
        assert np.all(result.ab[near][..., 0] < -20) and np.all(result.ab[near][..., 1] > 25)


def test_cost_is_per_instance_not_per_pixel():
    # A 3 MP image with three small instances: the network sees three crops, nothing else.
    shape = (1500, 2000)
    gray = np.zeros(shape)  # never read by this fake network
    boxes = [(100, 100, 80, 80), (1000, 1500, 120, 100), (750, 50, 60, 60)]
    found = [Instance(box, 0.8, "face", np.ones(box[2:])) for box in boxes]
    seen = []

    def crop_guess(window):
        seen.append(window)
        shape = (window[0].stop - window[0].start, window[1].stop - window[1].start)
        return np.full(shape + (2,), 10.0), np.ones(shape)

    prior, weight, records = fuse(gray, np.zeros(shape + (2,)), np.zeros(shape), found, crop_guess)
    assert len(seen) == 3
    assert sum((w[0].stop - w[0].start) * (w[1].stop - w[1].start) for w in seen) == 240**2 + 360**2 + 180**2
    assert np.isclose(prior[140, 140, 0], 8.0) and prior[1000, 1000, 0] == 0  # score 0.8 of the crop's 10
    with pytest.raises(InputError, match="instance's crop"):
        fuse(gray, prior, weight, found, crop_guess, max_memory=1e5)


def test_all_the_cascades_find_the_face_too():
    found = detectors.Cascades().detect(astronaut_gray())
    faces = [i for i in found if i.label == "face"]
    assert len(faces) == 1 and set(i.label for i in found) <= {"face", "upper body", "full body"}


def test_instance_options_are_checked_before_any_image():
    with pytest.raises(InputError, match="with the network"):
        varcolor.methods.build_options(instances="faces")
    with pytest.raises(InputError, match="unknown detector 'bodies'"):
        varcolor.methods.build_options(instances="bodies", prior="ideepcolor")
    with pytest.raises(InputError, match="takes no weights"):
        varcolor.methods.build_options(instances="faces", prior="ideepcolor", detector_file=__file__)
    with pytest.raises(InputError, match="instances is 'none'"):
        varcolor.methods.build_options(prior="ideepcolor", detector_file=__file__)
    with pytest.raises(InputError, match="found 0"):  # no plug-in takes weights here
        varcolor.methods.build_options(instances="auto", prior="ideepcolor", detector_file=__file__)
    assert varcolor.methods.build_options(instances="auto", method="ideepcolor").instances == "auto"


# --- a plug-in: a tiny randomly initialised model with Mask R-CNN's interface ---------------------


def _tiny_module():
    import torch

    class TinyMaskRCNN(torch.nn.Module):
        """Mask R-CNN's interface, none of its cleverness: a 3×3 convolution's sigmoid is the
        "objectness"; each image quadrant is a candidate box scored by its mean, its mask is the
        map inside it, its label the argmax of a 2-class linear head on the quadrant's mean."""

        def __init__(self):
            super().__init__()
            self.features = torch.nn.Conv2d(3, 1, 3, padding=1)
            self.classes = torch.nn.Linear(1, 2)

        def forward(self, images):
            outputs = []
            for image in images:
                heat = torch.sigmoid(self.features(image[None]))[0, 0]
                h, w = heat.shape
                boxes, scores, labels, masks = [], [], [], []
                for y0, x0 in ((0, 0), (0, w // 2), (h // 2, 0), (h // 2, w // 2)):
                    y1, x1 = y0 + h // 2, x0 + w // 2
                    part = heat[y0:y1, x0:x1]
                    boxes.append(torch.tensor([x0, y0, x1, y1], dtype=torch.float32))
                    scores.append(part.mean())
                    labels.append(self.classes(part.mean().reshape(1, 1)).argmax())
                    mask = torch.zeros(1, h, w)
                    mask[0, y0:y1, x0:x1] = part
                    masks.append(mask)
                outputs.append(
                    {
                        "boxes": torch.stack(boxes),
                        "scores": torch.stack(scores),
                        "labels": torch.stack(labels),
                        "masks": torch.stack(masks),
                    }
                )
            return outputs

    return TinyMaskRCNN


class _Tiny(TorchDetector):
    name, summary = "tiny", "a tiny random Mask R-CNN-style model (tests)"
    categories = ("person", "cat")
    min_score = 0.0

    def build(self):
        return _tiny_module()()


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    module = _tiny_module()()
    save_file(module.state_dict(), str(tmp_path / "tiny.safetensors"))
    torch.save(module.state_dict(), tmp_path / "tiny.pt")

    class Entry:
        name = "tiny"

        def load(self):
            return _Tiny

    # As an installed package would add it: through the varcolor.detectors entry-point group.
    found = lambda group: [Entry()] if group == "varcolor.detectors" else []  # noqa: E731
    monkeypatch.setattr(varcolor.registry, "entry_points", found)
    monkeypatch.setattr(detectors.REGISTRY, "plugins_loaded", False)
    yield module, tmp_path
    unregister("tiny")


@needs_torch
def test_a_plug_in_detector_runs_from_its_weights_file(tiny, capsys):
    import torch

    module, folder = tiny
    assert "tiny" in detectors.choices()
    gray = same_lightness_gray(photo("chelsea", (64, 96)))
    for weights in ("tiny.safetensors", "tiny.pt"):
        found = detectors.pick("tiny", folder / weights).detect(gray)
        with torch.no_grad():
            expected = module([torch.from_numpy(np.repeat(gray[None].astype(np.float32), 3, axis=0))])[0]
        order = np.argsort(-expected["scores"].numpy(), kind="stable")
        assert [i.score for i in found] == pytest.approx(expected["scores"].numpy()[order].tolist(), abs=1e-6)
        for instance, k in zip(found, order):
            x1, y1, x2, y2 = expected["boxes"][k].tolist()
            assert instance.box == (y1, x1, y2 - y1, x2 - x1)
            assert instance.label == _Tiny.categories[int(expected["labels"][k])]
            top, left, height, width = instance.box
            assert np.allclose(instance.mask, expected["masks"][k, 0, top : top + height, left : left + width])
    assert isinstance(detectors.pick("auto", folder / "tiny.pt"), _Tiny)  # the one plug-in that takes weights
    assert isinstance(detectors.pick("auto"), detectors.Faces)  # without weights: the face cascades
    # The whole colorization through the command line, with the plug-in's masks.
    varcolor.write_image(folder / "old.png", gray)
    code, _, err = run(
        capsys,
        "colorize",
        folder / "old.png",
        "-o",
        folder / "out.png",
        "--prior",
        "ideepcolor",
        "--instances",
        "tiny",
        "--detector-file",
        folder / "tiny.safetensors",
    )
    assert code == 0, err
    assert varcolor.read_image(folder / "out.png").shape == (64, 96, 3)


class _Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


@needs_torch
def test_bad_detector_files_are_one_line_and_exit_2(tiny, capsys):
    import torch
    from safetensors.torch import save_file

    module, folder = tiny
    varcolor.write_image(folder / "old.png", same_lightness_gray(photo("chelsea", (32, 48))))
    (folder / "corrupt.safetensors").write_bytes(b"\x00garbage" * 50)
    with open(folder / "evil.pt", "wb") as f:
        pickle.dump({"features.weight": _Exploit()}, f)
    save_file({"features.weight": torch.zeros(1, 3, 5, 5)}, str(folder / "wrong.safetensors"))
    state = {k: v.clone() for k, v in module.state_dict().items()}
    state["features.bias"][:] = float("nan")
    save_file(state, str(folder / "nan.safetensors"))
    cases = {
        "corrupt.safetensors": "cannot read weights",
        "evil.pt": "cannot read weights",
        "wrong.safetensors": "not weights of detector 'tiny'",
        "nan.safetensors": "NaN or infinite",
        "absent.safetensors": "not found",
    }
    for name, message in cases.items():
        code, out, err = run(
            capsys,
            "colorize",
            folder / "old.png",
            "-o",
            folder / f"out-{name}.png",
            "--prior",
            "ideepcolor",
            "--instances",
            "tiny",
            "--detector-file",
            folder / name,
        )
        assert code == 2, (name, err)
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (name, err)
        assert "must never run" not in out
        assert not (folder / f"out-{name}.png").exists()


@needs_torch
@pytest.mark.slow
def test_colorize_with_instances_auto_end_to_end(tmp_path, capsys):
    gray = astronaut_gray()
    varcolor.write_image(tmp_path / "old.png", gray)
    common = (tmp_path / "old.png", "--prior", "ideepcolor")
    assert run(capsys, "colorize", *common, "-o", tmp_path / "out.png", "--instances", "auto")[0] == 0
    assert run(capsys, "colorize", *common, "-o", tmp_path / "base.png")[0] == 0
    out, base = varcolor.read_image(tmp_path / "out.png"), varcolor.read_image(tmp_path / "base.png")
    face = (slice(*FACE_ROWS), slice(*FACE_COLUMNS))
    assert np.abs(out[face] - base[face]).max() > 0.02  # the face has its own colours
    assert np.abs(out[400:, :100] - base[400:, :100]).max() < 1.5 / 255  # far from it, the same to one 8-bit level
    code, _, err = run(capsys, "colorize", *common[:1], "-o", tmp_path / "x.png", "--instances", "auto")
    assert code == 2 and "with the network" in err and len(err.strip().splitlines()) == 1


@needs_torch
def test_a_folder_run_with_instances(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    for name in ("astronaut", "coffee"):
        varcolor.write_image(tmp_path / "in" / f"{name}.png", same_lightness_gray(photo(name, (96, 96))))
    code, _, err = run(
        capsys,
        "colorize",
        tmp_path / "in",
        "-o",
        tmp_path / "out",
        "--prior",
        "ideepcolor",
        "--instances",
        "auto",
        "--workers",
        "1",
    )
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["astronaut.png", "coffee.png"]


@pytest.mark.slow  # 4-6 s: the registry make test checks in tests/methods; make test-slow runs it
def test_a_detector_plug_in_that_hangs_or_exits_at_import_is_skipped_in_one_line(tmp_path):
    """The detectors' registry is the methods' one: a plug-in's import is bounded, and whatever
    it does (hang, exit) the command goes on with one warning line per plug-in."""
    environment = install_plug_ins(
        tmp_path / "site",
        {"hangs": "import time\ntime.sleep(600)\n", "exits": "import sys\nsys.exit(3)\n"},
        group="varcolor.detectors",
        attribute="Detector",
    )
    command = [sys.executable, "-m", "varcolor.cli"]
    help_run = subprocess.run(command + ["colorize", "--help"], env=environment, capture_output=True, text=True)
    assert help_run.returncode == 0 and help_run.stderr == ""  # --help loads no plug-in
    done, seconds = colorize_a_pair_in_a_child(tmp_path, environment)
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("varcolor: warning: varcolor detector plug-in") for line in lines)
    assert "'hangs' not loaded: its import did not finish within 2 s" in done.stderr
    assert "'exits' not loaded: its import raised SystemExit(3)" in done.stderr
    assert seconds < 60
