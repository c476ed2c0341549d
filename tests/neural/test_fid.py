"""The FID on InceptionV3 (varcolor.neural.inception, varcolor.bench.fid): the weights file's layout,
pytorch-fid's own features and FID on the same weights, refusals, and small sets flagged beside KID."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import varcolor  # noqa: E402
from varcolor import bench  # noqa: E402
from varcolor.bench import fid as bench_fid  # noqa: E402
from varcolor.errors import InputError  # noqa: E402
from varcolor.neural import inception  # noqa: E402

from ..conftest import photo, random_inception, run  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"
#: The photos of the two sets pytorch-fid's code scored (tests/data/fid_reference.json), scikit-image's
#: at these sizes: smaller and larger than the network's 299×299, of several shapes, one gray.
FID_PHOTOS = (("astronaut", (96, 128)), ("coffee", (200, 300)), ("chelsea", (300, 451)), ("camera", (120, 120)))


def levels(image: np.ndarray) -> np.ndarray:
    """An image in [0, 1] as 8-bit levels, as a PNG file holds it."""
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def fid_sets() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(originals, results), 8-bit: the photos of :data:`FID_PHOTOS`, and each as a colorization
    might leave it (60 % of its chroma, a warm cast)."""
    originals, results = [], []
    for name, shape in FID_PHOTOS:
        rgb = photo(name, shape)
        originals.append(levels(rgb))
        results.append(levels(0.6 * rgb + 0.4 * rgb.mean(axis=2, keepdims=True) + [0.03, 0.0, -0.03]))
    return originals, results


def layout(state: dict) -> str:
    """SHA-256 of a state dict's keys and shapes, one ``key shape`` line each, sorted."""
    lines = sorted(f"{key} {tuple(tensor.shape)}" for key, tensor in state.items())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory) -> Path:
    """random_inception() saved as pytorch-fid's weights file is (a PyTorch file of the state dict)."""
    path = tmp_path_factory.mktemp("fid") / inception.FILE_NAME
    torch.save(random_inception(), path)
    return path


@pytest.fixture(scope="module")
def net(weights_file):
    return bench_fid.load(weights_file)


@pytest.fixture(scope="module")
def features(net) -> dict:
    """Our features of the two sets of :func:`fid_sets`, by the set's name."""
    return {label: net.features(images) for label, images in zip(("originals", "results"), fid_sets())}


def test_the_network_has_the_layout_of_pytorch_fids_weights_file():
    # The keys and shapes pytorch-fid's own fid_inception_v3() took in a strict load_state_dict
    # (recorded by tests/data/make_fid_reference.py): the file's, tensor for tensor.
    recorded = json.loads((DATA / "fid_reference.json").read_text())["layout"]
    with torch.device("meta"):
        state = inception.FIDInceptionV3().state_dict()
    assert (len(state), sum(t.numel() for t in state.values())) == (recorded["tensors"], recorded["numbers"])
    assert layout(state) == recorded["sha256"]
    assert tuple(state["fc.weight"].shape) == (1008, 2048)  # the TensorFlow graph's 1008 classes
    assert not any(key.startswith("AuxLogits") for key in state)


def test_features_and_fid_match_pytorch_fid_on_the_same_weights(net, features):
    # pytorch-fid 0.3.0's own code on the same photos and weights (tests/data/fid_reference.json):
    # every 16th feature of each image, each image's sum and norm of all 2048, and the FID.
    recorded = json.loads((DATA / "fid_reference.json").read_text())
    assert [tuple(p) for p in recorded["photos"]] == [(name, *shape) for name, shape in FID_PHOTOS]
    assert isinstance(net, inception.FIDInceptionV3)
    for label, rows in features.items():
        assert rows.shape == (len(FID_PHOTOS), 2048)
        for row, theirs in zip(rows, recorded[label]):
            np.testing.assert_allclose(row[:: recorded["every"]], theirs["features"], rtol=1e-4, atol=1e-5)
            assert row.sum() == pytest.approx(theirs["sum"], rel=1e-5)
            assert np.linalg.norm(row) == pytest.approx(theirs["norm"], rel=1e-5)
    assert bench_fid.fid(features["originals"], features["results"]) == pytest.approx(recorded["fid"], abs=1e-2)


def test_features_take_any_size_gray_or_float_and_batch_alike(net, features):
    originals, _ = fid_sets()
    batched = features["originals"]  # (all four in one batch)
    np.testing.assert_allclose(net.features([originals[1]])[0], batched[1], rtol=1e-5, atol=1e-6)
    gray = originals[3][..., 0]  # camera: three equal channels
    np.testing.assert_allclose(net.features([gray])[0], batched[3], rtol=1e-5, atol=1e-6)
    as_floats = net.features([originals[0] / 255.0])[0]
    np.testing.assert_allclose(as_floats, batched[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(InputError, match="H×W×3"):
        net.features([np.zeros((4, 4, 2))])


def test_a_file_of_another_layout_is_refused_in_one_line(tmp_path, capsys):
    # torchvision's own Inception3 weights (1000 classes, an auxiliary head) are not pytorch-fid's.
    other = {
        "Conv2d_1a_3x3.conv.weight": torch.zeros(32, 3, 3, 3),
        "AuxLogits.conv0.conv.weight": torch.zeros(128, 768, 1, 1),
        "fc.weight": torch.zeros(1000, 2048),
        "fc.bias": torch.zeros(1000),
    }
    torch.save(other, tmp_path / "inception_v3_google.pth")
    with pytest.raises(InputError) as error:
        bench_fid.load(tmp_path / "inception_v3_google.pth")
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'inception_v3_google.pth'}: not the layout of pytorch-fid's InceptionV3")
    assert inception.FILE_NAME in message and "\n" not in message
    assert "unexpected: AuxLogits.conv0.conv.weight" in message and "wrong shape: fc.bias, fc.weight" in message
    torch.save({"weight": torch.zeros(3)}, tmp_path / "unrelated.pth")
    with pytest.raises(InputError, match=r"unrelated\.pth: not the FID feature network's weights: neither"):
        bench_fid.load(tmp_path / "unrelated.pth")
    with pytest.raises(InputError, match=r"absent\.pth: no such weights file .*none is downloaded"):
        bench_fid.load(tmp_path / "absent.pth")
    # the command line: exit 2, one line naming the file, before any photo is scored
    varcolor.write_image(tmp_path / "photos" / "a.png", photo("astronaut", (40, 48)))
    args = ("bench", tmp_path / "photos", "-m", "levin", "--hints", "5", "--resolution", "32", "-q")
    code, out, err = run(capsys, *args, "--fid", tmp_path / "inception_v3_google.pth")
    assert code == 2 and out == "" and err.count("\n") == 1 and "inception_v3_google.pth: not the layout" in err


def test_weights_that_are_not_finite_are_refused():
    state = random_inception()
    state["Mixed_6b.branch7x7_2.conv.weight"][0, 0, 0, 3] = float("nan")
    with pytest.raises(InputError, match=r"nan\.pth: tensor Mixed_6b.branch7x7_2.conv.weight holds NaN"):
        inception.from_state(state, "nan.pth")
    del state["Mixed_6b.branch7x7_2.conv.weight"]
    with pytest.raises(InputError, match=r"cut\.pth: not the layout .*missing: Mixed_6b.branch7x7_2.conv.weight"):
        inception.from_state(state, "cut.pth")


@pytest.mark.slow
def test_a_set_too_small_for_the_fid_is_flagged_with_the_kid_beside_it(tmp_path, capsys, weights_file):
    for name, image in (("a", "astronaut"), ("b", "coffee")):
        varcolor.write_image(tmp_path / "photos" / f"{name}.png", photo(image, (40, 48)))
    args = ("bench", tmp_path / "photos", "-m", "levin", "--hints", "5", "--resolution", "32", "-q")
    code, out, err = run(capsys, *args, "--fid", weights_file, "--format", "json")
    assert code == 0, err
    (cell,) = json.loads(out)["summary"]
    assert cell["fid_small_set"] is True and cell["fid_features"] == 2048 and cell["images"] == 2
    assert cell["fid"] > 0 and np.isfinite(cell["kid"])
    assert err.count("\n") == 1 and "warning: FID over 2 photos, no more than its 2048 features" in err
    assert "read the KID" in err
    code, out, err = run(capsys, *args, "--fid", weights_file, "--format", "csv")
    assert code == 0 and "read the KID" in err
    header, row = out.splitlines()[:2]  # (a run of its own: its worker processes' float sums may differ)
    columns = dict(zip(header.split(","), row.split(",")))
    assert columns["fid_small_set"] == "True" and float(columns["kid"]) == pytest.approx(cell["kid"], rel=1e-3)
    # the Markdown table's note: which network, and to read the KID
    table = bench.markdown({"32/levin/5": cell}, ["32"], ["levin"], [5], "2 photos")
    assert "FID and KID on the 2048 pool features of InceptionV3 as pytorch-fid computes them" in table
    assert "FID on 2 photos, no more than its 2048 features" in table and "| kid |" in table


def test_one_photo_is_not_told_to_read_a_kid_that_is_not_there(tmp_path, capsys, weights_file):
    """Over one photo both the FID and the KID are n/a: the warning said "read the KID beside it"."""
    varcolor.write_image(tmp_path / "photos" / "a.png", photo("astronaut", (40, 48)))
    args = ("bench", tmp_path / "photos", "-m", "levin", "--hints", "5", "--resolution", "32", "-q")
    code, out, err = run(capsys, *args, "--fid", weights_file, "--format", "json")
    assert code == 0, err
    (cell,) = json.loads(out)["summary"]
    assert cell["kid"] is None or not np.isfinite(cell["kid"])
    assert "FID over 1 photo," in err and "read the KID" not in err and "the KID needs two photos" in err


def test_enough_photos_are_not_flagged():
    assert not bench_fid.small_set(2049, 2048) and bench_fid.small_set(2048, 2048)
    rng = np.random.default_rng(0)
    rows = [
        {
            "resolution": "32",
            "method": "m",
            "hints": 5,
            "_features": list(rng.normal(size=3)),
            "_original_features": list(rng.normal(size=3)),
            **dict.fromkeys(bench.SCORES, 1.0),
            "seconds": 0.1,
        }
        for _ in range(5)
    ]
    cell = bench.summarize(rows, ["32"], ["m"], [5])["32/m/5"]
    assert cell["fid_small_set"] is False and cell["fid_features"] == 3
    assert "read the KID" not in bench.markdown({"32/m/5": cell}, ["32"], ["m"], [5], "5 photos")
