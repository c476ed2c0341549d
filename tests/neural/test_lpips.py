"""LPIPS (varcolor.neural.lpips): properties on made-up weights, the published calibration file, the
reference package's values, and the real network where the user has its weights."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

torch = pytest.importorskip("torch")

from varcolor import metrics  # noqa: E402
from varcolor.errors import InputError  # noqa: E402
from varcolor.neural import lpips  # noqa: E402
from varcolor.neural.weights import read_state  # noqa: E402

from ..conftest import photo, random_backbone, random_calibration  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"
#: The lpips package's v0.1 AlexNet calibration (weights/v0.1/alex.pth; tests/data/README.md).
CALIBRATION = DATA / "lpips_alex_v0.1.pth"
#: Image pairs on which our network is compared with the reference package (tests/data/lpips_reference.json).
LPIPS_CASES = [(name, kind) for name in ("astronaut", "coffee") for kind in ("same", "blur", "noise", "colour")]


def lpips_case(name: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(distorted, reference): a 96×128 scikit-image photo and one distortion of it."""
    reference = photo(name, (96, 128))
    if kind == "blur":
        return ndimage.gaussian_filter(reference, (1.5, 1.5, 0)), reference
    if kind == "noise":
        return np.clip(reference + np.random.default_rng(0).normal(0, 0.08, reference.shape), 0, 1), reference
    if kind == "colour":
        return np.clip(reference + [0.1, -0.05, 0.05], 0, 1), reference
    return reference.copy(), reference


@pytest.fixture(scope="module")
def net():
    return lpips.LPIPS().load_weights(random_backbone(), random_calibration())


def test_identical_images_are_at_distance_zero_and_it_is_symmetric(net):
    a, b = lpips_case("astronaut", "noise")
    assert net.distance(b, b) == 0.0
    assert net.distance(a, b) > 0
    assert net.distance(a, b) == pytest.approx(net.distance(b, a), rel=1e-6)


def test_distance_grows_with_distortion(net):
    reference = photo("chelsea", (96, 128))
    noise = np.random.default_rng(0).normal(0, 1, reference.shape)
    noisy = [net.distance(np.clip(reference + s * noise, 0, 1), reference) for s in (0.01, 0.03, 0.1, 0.3)]
    assert 0 < noisy[0] < noisy[1] < noisy[2] < noisy[3]
    blurred = [net.distance(ndimage.gaussian_filter(reference, (s, s, 0)), reference) for s in (0.5, 1, 2, 4)]
    assert 0 < blurred[0] < blurred[1] < blurred[2] < blurred[3]


def test_small_images(net):
    image = photo("astronaut", (31, 40))
    assert net.distance(image * 0.9, image) > 0  # 31 px: the smallest AlexNet's pools allow
    with pytest.raises(InputError, match="at least 31×31"):
        net.distance(image[:30], image[:30])
    assert np.isnan(metrics.score(image[:30], image[:30], lpips_net=net)["lpips"])
    assert metrics.score(image, image, lpips_net=net)["lpips"] == 0.0


def test_loads_safetensors_and_pth_from_a_folder(tmp_path, net):
    from safetensors.torch import save_file

    save_file(random_backbone(), tmp_path / "alexnet.safetensors")
    torch.save(random_calibration(), tmp_path / "lpips-alex.pth")
    assert lpips.find_files(tmp_path) == (tmp_path / "alexnet.safetensors", tmp_path / "lpips-alex.pth")
    a, b = lpips_case("coffee", "blur")
    assert lpips.distance(a, b, weights=tmp_path) == pytest.approx(net.distance(a, b), rel=1e-6)


def test_the_published_calibration_file_loads(tmp_path):
    # The lpips package's own file: a legacy (pre-zip) PyTorch file of CUDA tensors.
    shutil.copy(CALIBRATION, tmp_path / "alex.pth")
    torch.save(random_backbone(), tmp_path / "alexnet-owt-7be5be79.pth")
    net = lpips.load(tmp_path)
    weights = [lin.weight for lin in net.lins]
    assert [w.shape[1] for w in weights] == list(lpips.CHANNELS)
    assert all(bool((w >= 0).all()) and float(w.max()) > 0.1 for w in weights)  # trained, clamped ≥ 0
    a, b = lpips_case("astronaut", "noise")
    assert net.distance(a, b) > 0 and net.distance(b, b) == 0.0


def test_matches_the_reference_package_on_the_same_weights():
    # Values of lpips 0.1.4's LPIPS(net="alex", version="0.1") with the random backbone above and
    # the published calibration, recorded by tests/data/make_lpips_reference.py.
    recorded = json.loads((DATA / "lpips_reference.json").read_text())["rows"]
    net = lpips.LPIPS().load_weights(random_backbone(), read_state(CALIBRATION)[0])
    assert len(recorded) == len(LPIPS_CASES)
    for row in recorded:
        a, b = lpips_case(row["image"], row["distortion"])
        assert net.distance(a, b) == pytest.approx(row["lpips"], rel=1e-4, abs=1e-7), row


def test_bad_weights_are_refused_in_one_line(tmp_path):
    with pytest.raises(InputError, match="AlexNet's ImageNet weights .* and LPIPS v0.1's calibration"):
        lpips.find_files(tmp_path)
    shutil.copy(CALIBRATION, tmp_path / "alex.pth")
    with pytest.raises(InputError, match="alexnet-owt-7be5be79.pth from torchvision") as error:
        lpips.find_files(tmp_path)
    assert "calibration" not in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(InputError, match="must be a folder"):
        lpips.find_files(tmp_path / "alex.pth")
    state = random_backbone()
    state["features.3.weight"] = state["features.3.weight"][:10]
    torch.save(state, tmp_path / "alexnet.pth")
    with pytest.raises(InputError, match=r"alexnet.pth: features.3.weight has shape \(10, 64, 5, 5\)"):
        lpips.load(tmp_path)
    state = random_backbone()
    state["features.0.bias"][3] = float("nan")
    torch.save(state, tmp_path / "alexnet.pth")
    with pytest.raises(InputError, match="alexnet.pth: tensor features.0.bias holds NaN"):
        lpips.load(tmp_path)
    calibration = random_calibration()
    calibration["lin2.model.1.weight"][0, 5] = -0.1
    torch.save(calibration, tmp_path / "lpips-alex.pth")
    torch.save(random_backbone(), tmp_path / "alexnet.pth")
    with pytest.raises(InputError, match="lpips-alex.pth: lin2.model.1.weight has negative weights"):
        lpips.load(tmp_path)
    torch.save({"lin0.model.1.weight": torch.ones(1, 64, 1, 1)}, tmp_path / "lpips-alex.pth")
    torch.save(random_backbone(), tmp_path / "alexnet.pth")
    with pytest.raises(InputError, match="lpips-alex.pth: no tensor 'lin1.model.1.weight'"):
        lpips.load(tmp_path)


def _user_weights() -> Path:
    folder = os.environ.get("VARCOLOR_MODELS")
    if not folder:
        pytest.skip("$VARCOLOR_MODELS is not set: no real LPIPS weights to check")
    try:
        lpips.find_files(folder)
    except InputError as exc:
        pytest.skip(str(exc))
    return Path(folder)


def test_real_weights_order_distortions():
    net = lpips.load(_user_weights())
    reference = photo("astronaut", (256, 256))
    noise = np.random.default_rng(0).normal(0, 1, reference.shape)
    values = [net.distance(np.clip(reference + s * noise, 0, 1), reference) for s in (0.02, 0.1, 0.3)]
    assert 0 < values[0] < values[1] < values[2] < 1.5


def test_real_weights_match_the_reference_package():
    folder = _user_weights()
    reference_package = pytest.importorskip("lpips")  # needs torchvision, which varcolor does not
    backbone, calibration = lpips.find_files(folder)
    theirs = reference_package.LPIPS(net="alex", version="0.1", pretrained=False, pnet_rand=True, verbose=False)
    state, lins = read_state(backbone)[0], read_state(calibration)[0]
    for name, module in theirs.net.named_modules():  # its slices keep features[i] under the name i
        if isinstance(module, torch.nn.Conv2d):
            index = name.rsplit(".", 1)[-1]
            module.weight.data.copy_(state[f"features.{index}.weight"])
            module.bias.data.copy_(state[f"features.{index}.bias"])
    for i, lin in enumerate(theirs.lins):
        lin.model[-1].weight.data.copy_(lins[f"lin{i}.model.1.weight"])
    ours = lpips.load(folder)
    for name, kind in LPIPS_CASES:
        a, b = lpips_case(name, kind)
        to = lambda x: torch.from_numpy(x.transpose(2, 0, 1)[None].astype(np.float32))  # noqa: E731
        with torch.no_grad():
            expected = float(theirs(to(a), to(b), normalize=True))
        assert ours.distance(a, b) == pytest.approx(expected, rel=1e-4, abs=1e-7), (name, kind)


# --- LPIPS weights checked like the prior's (issue 36) ---


@pytest.mark.parametrize(
    "spoil,message",
    [
        ("backbone int", "features.0.weight holds int32 values; network weights must be floating point"),
        ("calibration bool", "lin0.model.1.weight holds bool values"),
        ("calibration complex", "lin0.model.1.weight holds complex64 values"),
        ("backbone complex", "features.0.weight holds complex64 values"),
        ("calibration zero", "lin0.model.1.weight is all 0"),
        ("backbone 1e30", "not a working network"),  # features overflow float32: every pair would score 0
        ("backbone 1e-30", "two different images score"),  # features vanish: the same
    ],
)
def test_unworkable_lpips_weights_are_refused_in_one_line(tmp_path, capsys, spoil, message):
    from ..conftest import run

    which, how = spoil.split()
    backbone, calibration = random_backbone(), random_calibration()
    state = backbone if which == "backbone" else calibration
    for key, tensor in state.items():
        if how == "int":
            state[key] = (tensor * 100).to(torch.int32)
        elif how == "bool":
            state[key] = tensor > 0
        elif how == "complex":
            state[key] = tensor.to(torch.complex64)
        elif how == "zero":
            state[key] = torch.zeros_like(tensor)
        else:
            state[key] = torch.full_like(tensor, float(how))
    torch.save(backbone, tmp_path / "alexnet.pth")
    torch.save(calibration, tmp_path / "lpips-alex.pth")
    with pytest.raises(InputError, match=message):
        lpips.load(tmp_path)
    image = tmp_path / "a.png"
    import varcolor

    varcolor.write_image(image, photo("coffee", (40, 48)))
    code, out, err = run(capsys, "metrics", image, "-r", image, "--lpips", "--lpips-weights", tmp_path)
    assert code == 2 and out == "" and err.count("\n") == 1 and message.split(";")[0] in err
    assert "Traceback" not in err
