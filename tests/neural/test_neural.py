"""The SIGGRAPH17 network, its weights loading and its hint encoding (no official weights needed)."""

import json
import os
import pickle
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import varcolor  # noqa: E402
from varcolor.errors import InputError  # noqa: E402
from varcolor.neural.hints import hint_planes, network_input, planes_to_cues  # noqa: E402
from varcolor.neural.siggraph17 import SIGGRAPH17  # noqa: E402
from varcolor.neural.weights import load  # noqa: E402

#: How close two ab maps must be to count as "the same colours" after a near-singular solve: sRGB
#: moves at most 0.13 per unit of a or b (dark colours), so 1e-3 ab is at most 1/30 of an 8-bit level.
# Levin's propagation as the subject (its results compared, its flood shown): unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("unrestrained")


GUESS_AB = 1e-3

# The official state-dict layout (colorization-pytorch's SIGGRAPHGenerator, siggraph17-df00044c.pth).
OFFICIAL = [
    ("model1.0.weight", (64, 4, 3, 3)),
    ("model1.0.bias", (64,)),
    ("model1.2.weight", (64, 64, 3, 3)),
    ("model1.2.bias", (64,)),
    ("model1.4.weight", (64,)),
    ("model1.4.bias", (64,)),
    ("model1.4.running_mean", (64,)),
    ("model1.4.running_var", (64,)),
    ("model1.4.num_batches_tracked", ()),
    ("model2.0.weight", (128, 64, 3, 3)),
    ("model2.0.bias", (128,)),
    ("model2.2.weight", (128, 128, 3, 3)),
    ("model2.2.bias", (128,)),
    ("model2.4.weight", (128,)),
    ("model2.4.bias", (128,)),
    ("model2.4.running_mean", (128,)),
    ("model2.4.running_var", (128,)),
    ("model2.4.num_batches_tracked", ()),
    ("model3.0.weight", (256, 128, 3, 3)),
    ("model3.0.bias", (256,)),
    ("model3.2.weight", (256, 256, 3, 3)),
    ("model3.2.bias", (256,)),
    ("model3.4.weight", (256, 256, 3, 3)),
    ("model3.4.bias", (256,)),
    ("model3.6.weight", (256,)),
    ("model3.6.bias", (256,)),
    ("model3.6.running_mean", (256,)),
    ("model3.6.running_var", (256,)),
    ("model3.6.num_batches_tracked", ()),
    ("model4.0.weight", (512, 256, 3, 3)),
    ("model4.0.bias", (512,)),
    ("model4.2.weight", (512, 512, 3, 3)),
    ("model4.2.bias", (512,)),
    ("model4.4.weight", (512, 512, 3, 3)),
    ("model4.4.bias", (512,)),
    ("model4.6.weight", (512,)),
    ("model4.6.bias", (512,)),
    ("model4.6.running_mean", (512,)),
    ("model4.6.running_var", (512,)),
    ("model4.6.num_batches_tracked", ()),
    ("model5.0.weight", (512, 512, 3, 3)),
    ("model5.0.bias", (512,)),
    ("model5.2.weight", (512, 512, 3, 3)),
    ("model5.2.bias", (512,)),
    ("model5.4.weight", (512, 512, 3, 3)),
    ("model5.4.bias", (512,)),
    ("model5.6.weight", (512,)),
    ("model5.6.bias", (512,)),
    ("model5.6.running_mean", (512,)),
    ("model5.6.running_var", (512,)),
    ("model5.6.num_batches_tracked", ()),
    ("model6.0.weight", (512, 512, 3, 3)),
    ("model6.0.bias", (512,)),
    ("model6.2.weight", (512, 512, 3, 3)),
    ("model6.2.bias", (512,)),
    ("model6.4.weight", (512, 512, 3, 3)),
    ("model6.4.bias", (512,)),
    ("model6.6.weight", (512,)),
    ("model6.6.bias", (512,)),
    ("model6.6.running_mean", (512,)),
    ("model6.6.running_var", (512,)),
    ("model6.6.num_batches_tracked", ()),
    ("model7.0.weight", (512, 512, 3, 3)),
    ("model7.0.bias", (512,)),
    ("model7.2.weight", (512, 512, 3, 3)),
    ("model7.2.bias", (512,)),
    ("model7.4.weight", (512, 512, 3, 3)),
    ("model7.4.bias", (512,)),
    ("model7.6.weight", (512,)),
    ("model7.6.bias", (512,)),
    ("model7.6.running_mean", (512,)),
    ("model7.6.running_var", (512,)),
    ("model7.6.num_batches_tracked", ()),
    ("model8up.0.weight", (512, 256, 4, 4)),
    ("model8up.0.bias", (256,)),
    ("model3short8.0.weight", (256, 256, 3, 3)),
    ("model3short8.0.bias", (256,)),
    ("model8.1.weight", (256, 256, 3, 3)),
    ("model8.1.bias", (256,)),
    ("model8.3.weight", (256, 256, 3, 3)),
    ("model8.3.bias", (256,)),
    ("model8.5.weight", (256,)),
    ("model8.5.bias", (256,)),
    ("model8.5.running_mean", (256,)),
    ("model8.5.running_var", (256,)),
    ("model8.5.num_batches_tracked", ()),
    ("model9up.0.weight", (256, 128, 4, 4)),
    ("model9up.0.bias", (128,)),
    ("model2short9.0.weight", (128, 128, 3, 3)),
    ("model2short9.0.bias", (128,)),
    ("model9.1.weight", (128, 128, 3, 3)),
    ("model9.1.bias", (128,)),
    ("model9.3.weight", (128,)),
    ("model9.3.bias", (128,)),
    ("model9.3.running_mean", (128,)),
    ("model9.3.running_var", (128,)),
    ("model9.3.num_batches_tracked", ()),
    ("model10up.0.weight", (128, 128, 4, 4)),
    ("model10up.0.bias", (128,)),
    ("model1short10.0.weight", (128, 64, 3, 3)),
    ("model1short10.0.bias", (128,)),
    ("model10.1.weight", (128, 128, 3, 3)),
    ("model10.1.bias", (128,)),
    ("model_class.0.weight", (529, 256, 1, 1)),
    ("model_class.0.bias", (529,)),
    ("model_out.0.weight", (2, 128, 1, 1)),
    ("model_out.0.bias", (2,)),
]


def test_layout_equals_the_official_table():
    state = SIGGRAPH17().state_dict()
    assert [(k, tuple(v.shape)) for k, v in state.items()] == OFFICIAL
    assert len(OFFICIAL) == 107
    assert sum(p.numel() for p in SIGGRAPH17().parameters()) == 34_187_027


def test_width_quarter_is_about_two_million_parameters():
    count = sum(p.numel() for p in SIGGRAPH17(width=0.25).parameters())
    assert 2.0e6 < count < 2.3e6


def outputs(net, x):
    with torch.no_grad():
        return net(x)


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_checkpoint_round_trip(tmp_path, suffix):
    torch.manual_seed(0)
    net = SIGGRAPH17(width=0.25).eval()
    path = tmp_path / f"w{suffix}"
    state = {f"module.{k}": v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    if suffix == ".pth":
        torch.save(state, path)
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path), metadata={"mask_cent": "0.5"})
    loaded = load(path, mask_cent=None if suffix == ".safetensors" else 0.5)
    assert loaded.width == 0.25 and loaded.mask_cent == 0.5
    x = torch.randn(1, 4, 32, 40)
    for a, b in zip(outputs(net, x), outputs(loaded, x)):
        assert torch.equal(a, b)


def test_bad_weight_files(tmp_path):
    net = SIGGRAPH17(width=0.25)
    state = net.state_dict()
    wrong = dict(state)
    wrong["model_out.0.weight"] = torch.zeros(3, 32, 1, 1)
    torch.save(wrong, tmp_path / "wrong.pth")
    with pytest.raises(InputError, match="wrong shape: model_out.0.weight"):
        load(tmp_path / "wrong.pth", mask_cent=0)
    del state["model5.0.weight"]
    torch.save(state, tmp_path / "missing.pth")
    with pytest.raises(InputError, match="missing: model5.0.weight"):
        load(tmp_path / "missing.pth", mask_cent=0)
    torch.save(net.state_dict(), tmp_path / "full.pth")
    data = (tmp_path / "full.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="cannot read weights"):
        load(tmp_path / "cut.pth", mask_cent=0)
    with pytest.raises(InputError, match="unknown checkpoint"):
        load(tmp_path / "full.pth")
    with pytest.raises(InputError, match="not found"):
        load(tmp_path / "absent.pth", mask_cent=0)


class _Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_code_is_refused(tmp_path, capsys):
    with open(tmp_path / "evil.pth", "wb") as f:
        pickle.dump({"model1.0.weight": _Exploit()}, f)
    with warnings.catch_warnings(record=True) as caught:  # one line, not PyTorch's "please file an issue" too
        warnings.simplefilter("always")
        with pytest.raises(InputError, match="cannot read weights"):
            load(tmp_path / "evil.pth", mask_cent=0)
    assert [str(w.message) for w in caught] == []
    assert "must never run" not in capsys.readouterr().out


def test_hints_land_in_the_right_cells():
    cues = varcolor.Cues.from_points(
        [
            {"y": 0, "x": 0, "a": 11, "b": -22},
            {"y": 63, "x": 95, "a": 33, "b": 44},
            {"y": 10, "x": 50, "a": 20, "b": 0},
            {"y": 11, "x": 51, "a": 40, "b": 0},
        ],
        shape=(64, 96),
    )
    ab, marked = hint_planes(cues, (8, 16))  # cells of 8×6 pixels
    assert marked.sum() == 3
    assert ab[0, 0].tolist() == [11, -22] and ab[7, 15].tolist() == [33, 44]
    assert ab[1, 8].tolist() == [30, 0]  # two cues in one cell: their mean
    back = planes_to_cues(ab, marked, (64, 96))
    assert back.mask[0:8, 0:6].all() and back.count == 3 * 48


def test_network_input_normalisation():
    gray = np.full((40, 48), 0.5)
    cues = varcolor.Cues.from_points([{"y": 0, "x": 0, "a": 55, "b": -110}], shape=gray.shape)
    x = network_input(gray, cues, mask_cent=0.5, size=(16, 24))
    lightness = varcolor.color.lightness_of_gray(np.array(0.5))
    assert tuple(x.shape) == (1, 4, 16, 24)
    assert torch.allclose(x[0, 0], torch.full((16, 24), float((lightness - 50) / 100)), atol=1e-5)
    assert x[0, 1, 0, 0].item() == pytest.approx(0.5) and x[0, 2, 0, 0].item() == pytest.approx(-1.0)
    assert x[0, 3, 0, 0].item() == 0.5 and x[0, 3, 5, 5].item() == -0.5
    with pytest.raises(InputError, match="multiple of 8"):
        network_input(gray, cues, 0.5, size=(15, 24))


def test_network_method_keeps_cue_colours_and_needs_weights(random_weights):
    gray = np.full((32, 32), 0.5)
    cues = varcolor.Cues.from_points([{"y": 4, "x": 4, "a": 30, "b": -30}], shape=gray.shape)
    result = varcolor.colorize(gray, cues, method="ideepcolor", network_file=random_weights)
    assert np.allclose(result.ab[4, 4], (30, -30))
    with pytest.raises(InputError, match="absent.safetensors: weights file not found"):
        varcolor.colorize(gray, cues, prior="ideepcolor", network_file=random_weights.parent / "absent.safetensors")
    with pytest.raises(InputError, match="space='lab'"):
        varcolor.colorize(gray, cues, prior="ideepcolor", network_file=random_weights, space="yiq")


def test_cli_automatic_colorization_with_a_prior(tmp_path, random_weights, capsys):
    from varcolor.cli import main

    varcolor.write_image(tmp_path / "g.png", np.tile(np.linspace(0.2, 0.9, 48), (32, 1)))
    code = main(
        [
            "colorize",
            str(tmp_path / "g.png"),
            "-o",
            str(tmp_path / "auto.png"),
            "--prior",
            "ideepcolor",
            "--network-file",
            str(random_weights),
        ]
    )
    assert code == 0 and varcolor.read_image(tmp_path / "auto.png").shape == (32, 48, 3)
    code = main(["colorize", str(tmp_path / "g.png"), "-o", str(tmp_path / "x.png")])
    assert code == 2 and "--prior ideepcolor" in capsys.readouterr().err


def test_residual_prior_spreads_the_cues_corrections_to_the_guess(random_weights):
    from varcolor.neural.prior import predict

    gray = np.tile(np.linspace(0.2, 0.9, 48), (32, 1)) * np.linspace(0.8, 1.0, 32)[:, None]
    cues = varcolor.Cues.from_points(
        [{"y": 4, "x": 4, "a": 30, "b": -30}, {"y": 25, "x": 40, "a": -20, "b": 5}], shape=gray.shape
    )
    net = load(random_weights)
    guess, _ = predict(net, gray, cues)
    residual = varcolor.colorize(
        gray, cues, prior="ideepcolor", network_file=random_weights, prior_weight=1e-9, prior_mode="residual"
    )
    # independently: Levin propagates (cue − guess) and the guess is added back
    corrections = varcolor.Cues(cues.mask, np.where(cues.mask[..., None], cues.ab - guess, 0.0))
    expected = varcolor.colorize(gray, corrections).ab + guess
    assert np.abs(residual.ab - expected).max() < 1e-3
    empty = varcolor.Cues.empty(gray.shape)
    alone = varcolor.colorize(
        gray,
        empty,
        prior="ideepcolor",
        network_file=random_weights,
        prior_weight=0.5,
        prior_mode="residual",
        automatic="faithful",
    )
    assert np.abs(alone.ab - predict(net, gray, empty)[0]).max() < 1e-6
    with pytest.raises(InputError, match="prior_mode"):
        varcolor.colorize(gray, cues, prior="ideepcolor", network_file=random_weights, prior_mode="sideways")


def test_spread_prior_is_the_automatic_guess_plus_levins_spread_of_the_corrections(random_weights):
    from varcolor.neural.prior import SPREAD_CONTRAST, predict

    gray = np.tile(np.linspace(0.2, 0.9, 48), (32, 1)) * np.linspace(0.8, 1.0, 32)[:, None]
    cues = varcolor.Cues.from_points(
        [{"y": 4, "x": 4, "a": 30, "b": -30}, {"y": 25, "x": 40, "a": -20, "b": 5}], shape=gray.shape
    )
    empty = varcolor.Cues.empty(gray.shape)
    automatic, _ = predict(load(random_weights), gray, empty)  # the network without the cues
    spread = varcolor.colorize(gray, cues, prior="ideepcolor", network_file=random_weights)  # the default mode
    assert spread.info["prior_mode"] == "spread"
    base = SPREAD_CONTRAST * automatic
    corrections = varcolor.Cues(cues.mask, np.where(cues.mask[..., None], cues.ab - base, 0.0))
    expected = varcolor.colorize(gray, corrections).ab + base
    assert np.abs(spread.ab - expected).max() < 1e-2  # the fade (1e-7 per pixel) barely acts at 32×48
    assert np.abs(spread.ab[4, 4] - (30, -30)).max() < 1e-6
    # No cues: the network's own colours — by default its regression output (faithful) — whatever β.
    alone = varcolor.colorize(gray, empty, prior="ideepcolor", network_file=random_weights, prior_weight=0.3)
    # Without cues the spread system reads u = p, but its fade (1e-7) makes it near-singular: the LU
    # meets its residual tolerance while the last digits of u depend on the pivot order and the BLAS
    # kernels of the machine (1.3e-4 on one, < 1e-4 on another). GUESS_AB is what "the network's own
    # colours" means on any machine: 1/30 of an 8-bit level where sRGB is most sensitive to ab.
    assert np.abs(alone.ab - automatic).max() < GUESS_AB
    vivid = varcolor.colorize(gray, empty, prior="ideepcolor", network_file=random_weights, automatic="vivid")
    annealed, _ = predict(load(random_weights), gray, empty, decode="annealed")
    assert np.abs(vivid.ab - annealed).max() < GUESS_AB and np.abs(vivid.ab - automatic).max() > 0.1
    assert (
        np.abs(alone.ab - varcolor.colorize(gray, empty, method="ideepcolor", network_file=random_weights).ab).max()
        < GUESS_AB
    )
    with pytest.raises(InputError, match="automatic must be faithful or vivid"):
        varcolor.colorize(gray, empty, prior="ideepcolor", network_file=random_weights, automatic="mode")


def test_global_hints_reach_a_network_with_the_branch_or_move_the_guess_of_one_without(
    tmp_path, random_weights, monkeypatch
):
    from safetensors.torch import save_file

    from varcolor.gamut import GlobalHints
    from varcolor.neural.hints import global_input

    net = SIGGRAPH17(width=0.25, global_hints=True)
    path = tmp_path / "global.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path), metadata={"mask_cent": "0"})
    seen = []
    forward = SIGGRAPH17.forward

    def spy(self, x, global_input=None):
        seen.append(global_input)
        return forward(self, x, global_input)

    monkeypatch.setattr(SIGGRAPH17, "forward", spy)
    gray = np.tile(np.linspace(0.2, 0.9, 64), (48, 1))
    empty = varcolor.Cues.empty(gray.shape)
    counts = np.zeros(313)
    counts[[5, 300]] = (3.0, 1.0)
    hints = GlobalHints(counts, 0.4)
    varcolor.colorize(gray, empty, method="ideepcolor", network_file=path, global_hints=hints)
    assert torch.equal(seen[-1], global_input(hints))
    vector = seen[-1].ravel()
    assert vector[5] == pytest.approx(0.75) and vector[313:].tolist() == pytest.approx([1.0, 0.4, 1.0])
    # A network without the branch: its guess is moved onto the hints (no warning); no prior: a warning.
    # The hints of a colour image (orange left, blue right) with this gray's lightness.
    lab = np.dstack(
        [varcolor.color.lightness_of_gray(gray), np.where(gray < 0.55, 25.0, -5.0), np.where(gray < 0.55, 40.0, -30.0)]
    )
    original = varcolor.color.lab_to_rgb(lab)
    own = GlobalHints.from_rgb(original)
    from varcolor.neural import prior

    monkeypatch.setattr(prior, "GLOBAL_SHARE", {"regression": 1.0})  # all the way: the hints' own statistics
    moved = varcolor.colorize(gray, empty, method="ideepcolor", network_file=random_weights, global_hints=own)
    assert seen[-1] is None
    target = varcolor.color.rgb_to_lab(original)[..., 1:].reshape(-1, 2).mean(axis=0)
    assert np.abs(moved.ab.reshape(-1, 2).mean(axis=0) - target).max() < 4.0
    assert varcolor.gamut.mean_saturation(moved.rgb) == pytest.approx(own.saturation, abs=0.01)
    monkeypatch.setattr(prior, "GLOBAL_SHARE", {"regression": 0.5})  # half-way between guess and hints
    half = varcolor.colorize(gray, empty, method="ideepcolor", network_file=random_weights, global_hints=own)
    guess = varcolor.colorize(gray, empty, method="ideepcolor", network_file=random_weights)
    assert np.abs(half.ab - (moved.ab + guess.ab) / 2).max() < 1e-6
    with pytest.warns(UserWarning, match="global hints ignored"):
        varcolor.colorize(
            gray, varcolor.Cues.from_points([{"y": 3, "x": 3, "a": 20, "b": 0}], gray.shape), global_hints=hints
        )


def test_annealed_decoding_is_the_class_heads_annealed_mean_and_keeps_the_cues(random_weights):
    from varcolor.neural.classes import annealed_mean
    from varcolor.neural.hints import network_input
    from varcolor.neural.prior import predict
    from varcolor.neural.weights import load

    net = load(random_weights)
    gray = np.tile(np.linspace(0.2, 0.9, 64), (64, 1))
    cues = varcolor.Cues.from_points([{"y": 10, "x": 10, "a": 40, "b": -20}], gray.shape)
    ab, _ = predict(net, gray, cues, size=64, decode="annealed", temperature=0.5)
    assert ab[10, 10].tolist() == pytest.approx([40, -20])
    with torch.no_grad():
        logits, _ = net(network_input(gray, cues, net.mask_cent, 64))
    quarter = annealed_mean(logits, 0.5)[0].numpy()  # 16×16 cells of 4×4 pixels
    far = ab[42:46, 42:46].mean(axis=(0, 1))  # the pixels of cell (10.5, 10.5) after the ×4 bilinear lift
    assert far == pytest.approx(quarter[:, 10:12, 10:12].mean(axis=(1, 2)), abs=0.5)
    regression, _ = predict(net, gray, cues, size=64)
    assert np.abs(regression - ab).max() > 0.1
    with pytest.raises(InputError, match="unknown decoding"):
        predict(net, gray, cues, size=64, decode="mode")


@pytest.mark.parametrize("automatic", ["vivid", "faithful"])
def test_a_network_that_outputs_nan_is_one_line_and_no_image(tmp_path, automatic, capsys):
    from safetensors.torch import save_file

    from varcolor.cli import main

    torch.manual_seed(0)
    net = SIGGRAPH17(width=0.25)
    with torch.no_grad():  # finite weights whose sums overflow float32 to inf − inf = NaN in both heads
        for last, head in ((net.model10[1], net.model_out[0]), (net.model8[-1], net.model_class[0])):
            last.weight.zero_()
            last.bias.fill_(10.0)  # every feature 10
            head.weight.zero_()
            head.weight[:, 0] = 3e38
            head.weight[:, 1] = -3e38
    path = tmp_path / "overflow.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path), metadata={"mask_cent": "0.5"})
    varcolor.write_image(tmp_path / "g.png", np.tile(np.linspace(0.2, 0.9, 48), (32, 1)))
    code = main(
        [
            "colorize",
            str(tmp_path / "g.png"),
            "-o",
            str(tmp_path / "out.png"),
            "--prior",
            "ideepcolor",
            "--network-file",
            str(path),
            "--automatic",
            automatic,
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "NaN or infinite" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out.png").exists()


_FORKED_AFTER_THE_NETWORK = """
import json, multiprocessing as mp, numpy as np, torch, varcolor
from concurrent.futures import ProcessPoolExecutor
torch.set_num_threads(2)
def work(seed):
    gray = np.random.default_rng(seed).random((200, 210))
    mask = np.zeros(gray.shape, bool); mask[10:13, 5:150] = True
    ab = np.zeros(gray.shape + (2,)); ab[mask] = (30, 10)
    return float(varcolor.colorize(gray, varcolor.Cues(mask, ab), method="ideepcolor").ab[11, 100, 0])
work(9)  # the parent ran the network on torch's (GNU OpenMP's) threads
with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
    print(json.dumps([f.result(timeout=60) for f in [pool.submit(work, s) for s in (0, 1)]]))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
@pytest.mark.slow
def test_workers_forked_after_the_network_ran_run_it_too():
    """A script runs the network, then forks workers that run theirs: each child hung at its first
    parallel operation (torch's OpenMP threads are not in a forked child); it runs on one thread."""
    import subprocess
    import sys

    try:
        done = subprocess.run(
            [sys.executable, "-c", _FORKED_AFTER_THE_NETWORK], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the forked workers never finished the network")
    assert done.returncode == 0, done.stderr[-800:]
    assert [round(v) for v in json.loads(done.stdout)] == [30, 30]
