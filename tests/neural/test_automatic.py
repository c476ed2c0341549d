"""The automatic colours' two modes (faithful, vivid: issue 42) and the benchmarks' tuning/test split."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import varcolor  # noqa: E402
from varcolor.errors import InputError  # noqa: E402
from varcolor.methods import build_options  # noqa: E402
from varcolor.neural.weights import DEFAULT_WEIGHTS, MODELS_DIR  # noqa: E402
from varcolor.options import AUTOMATIC, Options  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = MODELS_DIR / DEFAULT_WEIGHTS


def _shared_data():
    spec = importlib.util.spec_from_file_location("shared_data", ROOT / "benchmarks" / "shared_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_option_takes_faithful_or_vivid_only():
    assert Options().automatic == "faithful"
    assert build_options(automatic="vivid").automatic == "vivid"
    with pytest.raises(InputError, match="automatic must be faithful or vivid"):
        build_options(automatic="loud")
    with pytest.raises(InputError, match="automatic must be faithful or vivid"):
        Options(automatic="")
    with pytest.raises(InputError, match="automatic must be faithful or vivid"):
        Options(automatic="annealed")  # a decoding's name is no mode
    with pytest.raises(InputError, match="unknown option 'decode'"):
        build_options(decode="annealed")  # one name for the option: automatic


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--automatic", "loud"], "automatic must be faithful or vivid"),
        (["--automatic", "Vivid"], "automatic must be faithful or vivid"),
    ],
)
def test_a_bad_mode_on_the_command_line_is_one_line_and_exit_2(tmp_path, capsys, flags, message):
    from varcolor.cli import main

    varcolor.write_image(tmp_path / "g.png", np.tile(np.linspace(0.2, 0.9, 48), (32, 1)))
    code = main(["colorize", str(tmp_path / "g.png"), "-o", str(tmp_path / "out.png"), "--prior", "ideepcolor", *flags])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out.png").exists()


@pytest.mark.slow
def test_vivid_is_more_colourful_than_faithful_on_a_photo(tmp_path):
    """The shipped network on a photo it never saw (scikit-image's coffee): the vivid mode's colours
    are more colourful (Hasler–Süsstrunk) and more saturated than the faithful mode's, both keep
    the gray's lightness, and the command line's --automatic gives the library's result."""
    from skimage.data import coffee
    from skimage.transform import resize

    from varcolor.cli import main

    rgb = resize(coffee() / 255.0, (128, 192), anti_aliasing=True)
    gray = varcolor.color.same_lightness_gray(rgb)
    empty = varcolor.Cues.empty(gray.shape)
    results = {
        mode: varcolor.colorize(gray, empty, prior="ideepcolor", network_file=SHIPPED, automatic=mode)
        for mode in AUTOMATIC
    }
    faithful, vivid = results["faithful"], results["vivid"]
    assert faithful.info["automatic"] == "faithful" and vivid.info["automatic"] == "vivid"
    assert varcolor.metrics.colorfulness(vivid.rgb) > 1.2 * varcolor.metrics.colorfulness(faithful.rgb)
    chroma = {mode: np.hypot(*np.moveaxis(result.ab, -1, 0)).mean() for mode, result in results.items()}
    assert chroma["vivid"] > chroma["faithful"] > 0.5  # faithful is muted, not gray
    lightness = varcolor.color.lightness_of_gray(gray)
    for result in results.values():
        assert np.abs(varcolor.color.rgb_to_lab(result.rgb)[..., 0] - lightness).max() < 1.0
    # The default is faithful: the same within PyTorch's rounding (a process's first forward pass
    # may take other CPU kernels than the next: 1e-7 ab apart, measured), far from vivid's.
    default = varcolor.colorize(gray, empty, prior="ideepcolor", network_file=SHIPPED)
    assert np.abs(default.ab - faithful.ab).max() < 1e-4 < np.abs(default.ab - vivid.ab).max()
    varcolor.write_image(tmp_path / "g.png", gray, bits=16)
    for flags, expected in ((["--automatic", "vivid"], vivid), ([], faithful)):
        out = tmp_path / f"out{len(flags)}{flags[-1] if flags else ''}.png"
        code = main(
            ["colorize", str(tmp_path / "g.png"), "-o", str(out), "--prior", "ideepcolor", "--bits", "16"] + flags
        )
        assert code == 0
        assert np.abs(varcolor.read_image(out) - expected.rgb).max() < 0.02


def _fake_data(root: Path) -> None:
    rng = np.random.default_rng(0)
    sets = {"imagenet-sample/train": 310, "bsds500/train": 7, "bsds500/val": 5, "mcmaster": 3, "kodak": 4}
    for folder, count in sets.items():
        (root / folder).mkdir(parents=True)
        for i in rng.permutation(count):  # created out of order: the split must not depend on it
            (root / folder / f"n{i:05d}_{rng.integers(1000)}.png").write_bytes(b"")
    (root / "imagenet-sample" / "SOURCE.txt").write_text("not an image")


def test_the_split_is_deterministic_and_disjoint(tmp_path):
    shared_data = _shared_data()
    _fake_data(tmp_path)
    tuning = shared_data.split("tuning", tmp_path)
    test = shared_data.split("test", tmp_path)
    assert tuning == shared_data.split("tuning", tmp_path) and test == shared_data.split("test", tmp_path)
    tuned = {p for paths in tuning.values() for p in paths}
    tested = {p for paths in test.values() for p in paths}
    assert not tuned & tested
    everything = {p for p in tmp_path.rglob("*.png")}
    assert tuned | tested == everything  # every image is in one part
    imagenet = sorted((tmp_path / "imagenet-sample" / "train").iterdir())
    assert tuning["imagenet-sample/train 0–299"] == imagenet[:300]
    assert test["imagenet-sample/train 300+"] == imagenet[300:]
    assert set(tuning["bsds500/train"]) == set((tmp_path / "bsds500" / "train").iterdir())
    assert set(test) == {"bsds500/val", "mcmaster", "kodak", "imagenet-sample/train 300+"}
    sub = shared_data.split("tuning", tmp_path, every=4)
    assert sub["imagenet-sample/train 0–299"] == imagenet[:300:4] and len(sub["bsds500/train"]) == 2
    with pytest.raises(ValueError, match="part must be"):
        shared_data.split("validation", tmp_path)
