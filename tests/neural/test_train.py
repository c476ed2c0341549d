"""Training the neural prior: hint sampling, class targets, schedule, resuming, export, the CLI."""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

import skimage.data  # noqa: E402

import varcolor  # noqa: E402
from varcolor.errors import InputError  # noqa: E402
from varcolor.neural.train import (  # noqa: E402
    TrainingConfig,
    ValidationSet,
    ab_classes,
    export,
    learning_rate,
    load_photos,
    random_hints,
    train,
)
from varcolor.neural.weights import DEFAULT_WEIGHTS, MODELS_DIR, load  # noqa: E402


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    for name, image in (("astronaut", skimage.data.astronaut()), ("coffee", skimage.data.coffee())):
        varcolor.write_image(folder / f"{name}.png", image / 255.0)
    return folder


def tiny(folder, **changes) -> TrainingConfig:
    return TrainingConfig(
        **{"data": [str(folder)], "width": 0.0625, "crop": 32, "batch": 2, "steps": 4, "short_side": 64, **changes}
    )


@pytest.mark.slow  # 4 s of sampling; make test-slow runs it
def test_number_of_hints_is_geometric_and_patches_hold_the_true_chroma():
    generator = np.random.default_rng(0)
    ab = torch.zeros(2, 64, 64)
    ab[0], ab[1] = 25.0, -40.0
    draws = [random_hints(ab, generator) for _ in range(4000)]
    none = sum(mask.sum().item() == 0 for _, mask in draws)
    assert abs(none - 4000 / 8) < 4 * np.sqrt(4000 * (1 / 8) * (7 / 8))  # P(no hint) = p
    for hint, mask in draws[:200]:
        inside = mask[0].bool()
        assert torch.all(hint[0][inside] == 25.0) and torch.all(hint[1][inside] == -40.0)
        assert torch.all(hint[:, ~inside] == 0)


def test_a_patch_holds_its_mean_chroma():
    generator = np.random.default_rng(3)
    ramp = torch.arange(64.0).expand(64, 64)
    ab = torch.stack([ramp, -ramp])
    for _ in range(100):
        hint, mask = random_hints(ab, generator)
        marked = mask[0].bool()
        if marked.sum() and marked.sum() <= 81:  # a lone patch: a square of side 1–9
            rows, cols = torch.nonzero(marked, as_tuple=True)
            square = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
            if square == marked.sum():
                assert hint[0][marked].unique().item() == pytest.approx(cols.double().mean().item())
                return
    pytest.fail("no lone patch drawn")


def test_class_targets_follow_the_published_binning():
    ab = torch.tensor([(-110.0, -110.0), (110.0, 110.0), (0.0, 0.0), (10.0, -20.0), (-200.0, 300.0)])
    planes = ab.T.repeat_interleave(4, dim=1)[:, None, :].expand(2, 4, 20)[None]  # 4×4 blocks
    classes = ab_classes(planes).flatten().tolist()
    assert classes == [0, 528, 11 * 23 + 11, 12 * 23 + 9, 0 * 23 + 22]


def test_learning_rate_warms_up_then_decays_to_one_percent():
    config = TrainingConfig(steps=1000, lr=1e-3)
    rates = [learning_rate(config, k) for k in range(1000)]
    assert rates[0] < rates[19] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(rates[20:], rates[21:]))
    assert rates[-1] == pytest.approx(1e-5, rel=0.01)


@pytest.mark.slow
def test_resumed_training_equals_an_uninterrupted_run(tmp_path, photos):
    straight = train(tiny(photos), tmp_path / "a.pt", progress=False)
    train(tiny(photos), tmp_path / "b.pt", progress=False, stop_at=2)
    assert torch.load(tmp_path / "b.pt", weights_only=True)["step"] == 2
    resumed = train(tiny(photos), tmp_path / "b.pt", progress=False)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    with pytest.raises(InputError, match="width-0.0625 run"):
        train(tiny(photos, width=0.125), tmp_path / "b.pt", progress=False)


@pytest.mark.slow  # 6 s of training; the loop's other checks stay in make test
def test_training_lowers_the_loss(tmp_path, photos):
    config = tiny(
        photos,
        steps=40,
        batch=4,
        lr=3e-3,
        validation=str(photos),
        validation_images=2,
        validate_every=40,
        checkpoint_every=40,
    )
    train(config, tmp_path / "run.pt", progress=False)
    history = torch.load(tmp_path / "run.pt", weights_only=True)["history"]
    first = np.mean([r["l1"] for r in history[:5]])
    last = np.mean([r["l1"] for r in history[-5:]])
    assert last < 0.8 * first
    assert np.isfinite(history[-1]["val_psnr"])


@pytest.mark.slow
def test_export_round_trips_through_the_loader(tmp_path, photos):
    net = train(tiny(photos, mask_cent=0.5), tmp_path / "run.pt", progress=False)
    path = export(tmp_path / "run.pt", tmp_path / "model.safetensors")
    loaded = load(path)
    assert loaded.width == 0.0625 and loaded.mask_cent == 0.5
    # The training photos' ab-bin frequencies travel with the model (for the rebalanced decoding).
    from varcolor.neural.classes import empirical_distribution

    photos_lab = load_photos([photos], short_side=64, progress=False).lab
    assert loaded.ab_distribution == pytest.approx(empirical_distribution(lab[..., 1:] for lab in photos_lab), abs=1e-6)
    x = torch.randn(1, 4, 32, 32)
    with torch.no_grad():
        assert torch.allclose(net.eval()(x)[1], loaded(x)[1], atol=0.2)  # float16 weights, ab in [−110, 110]
    with pytest.raises(InputError, match="width-0.0625 network, but width 0.25"):
        load(path, width=0.25)
    with pytest.raises(InputError, match="has no global-hints branch"):
        load(path, global_hints=True)


def test_unreadable_files_are_counted_and_empty_folders_refused(tmp_path, photos):
    (photos / "broken.png").write_bytes(b"not a png")
    loaded = load_photos([photos], short_side=64, progress=False)
    assert len(loaded.lab) == 2 and loaded.unreadable == 1
    assert len(ValidationSet.from_folder(photos, count=5).rgb) == 2
    varcolor.write_image(photos / "gray.png", np.full((40, 40), 0.5))
    assert load_photos([photos], short_side=64, progress=False).gray == 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images found"):
        load_photos([tmp_path / "empty"], short_side=64, progress=False)


@pytest.mark.slow
def test_cli_train(tmp_path, photos, capsys):
    from varcolor.cli import main

    arguments = [
        "train",
        str(photos),
        "-o",
        str(tmp_path / "run"),
        "--width",
        "0.0625",
        "--crop",
        "32",
        "--batch",
        "2",
        "--steps",
        "2",
        "-q",
    ]
    assert main(arguments) == 0
    assert load(tmp_path / "run" / "model.safetensors").width == 0.0625
    assert main(arguments) == 2 and "--resume" in capsys.readouterr().err
    assert main(arguments[:-1] + ["--crop", "30", "-q"]) == 2 and "multiple of 8" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "nowhere"), "-o", str(tmp_path / "x"), "-q"]) == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is visible")
def test_cuda_training_without_a_gpu_is_a_one_line_error(tmp_path, photos, capsys):
    from varcolor.cli import main

    with pytest.raises(InputError, match="no CUDA GPU"):
        train(tiny(photos, device="cuda"), tmp_path / "run.pt", progress=False)
    arguments = ["train", str(photos), "-o", str(tmp_path / "run"), "--device", "cuda", "-q"]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert "no CUDA GPU" in error and error.count("\n") == 1 and "Traceback" not in error
    assert not (tmp_path / "run.pt").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_on_a_gpu_matches_the_cpu(tmp_path, photos):
    # Same initial weights and batches: the first step's losses agree (to TF32 rounding).
    train(tiny(photos), tmp_path / "cpu.pt", progress=False)
    train(tiny(photos, device="cuda"), tmp_path / "gpu.pt", progress=False)
    cpu, gpu = (torch.load(tmp_path / name, weights_only=True)["history"] for name in ("cpu.pt", "gpu.pt"))
    for key in ("l1", "ce"):
        assert abs(cpu[0][key] - gpu[0][key]) <= 1e-2 * abs(cpu[0][key]), key
    assert all(np.isfinite(r["l1"]) for r in gpu)


@pytest.mark.skipif(not (MODELS_DIR / DEFAULT_WEIGHTS).is_file(), reason="the shipped model is not in the package")
def test_the_shipped_model_is_the_default_prior():
    net = load(DEFAULT_WEIGHTS)
    assert net.width == 0.25 and not net.global_hints
    gray = varcolor.color.same_lightness_gray(skimage.data.coffee()[::4, ::4] / 255.0)
    cues = varcolor.Cues.empty(gray.shape)
    default = varcolor.colorize(gray, cues, method="ideepcolor")
    explicit = varcolor.colorize(gray, cues, method="ideepcolor", network_file=MODELS_DIR / DEFAULT_WEIGHTS)
    # Equal up to float rounding: a convolution's sums are added in another order on another
    # count of threads (numba's OpenMP setting is PyTorch's too), and another model differs by whole units.
    np.testing.assert_allclose(default.ab, explicit.ab, rtol=0, atol=1e-4)


@pytest.mark.slow
def test_global_hints_training_from_a_model_without_the_branch(tmp_path, photos):
    from varcolor.gamut import GlobalHints
    from varcolor.neural.train import crop_global_hints

    # Each crop's hints are its own statistics, each given or withheld with probability 1/2.
    lab = torch.from_numpy(varcolor.color.rgb_to_lab(skimage.data.coffee()[:64, :64] / 255.0)).permute(2, 0, 1).float()
    truth = GlobalHints.from_rgb(skimage.data.coffee()[:64, :64] / 255.0)
    vectors = [crop_global_hints(lab, np.random.default_rng(k), 0.5).ravel() for k in range(40)]
    given = [v for v in vectors if v[313] == 1]
    assert 5 < len(given) < 35 and all(v[:313].sum() == 0 for v in vectors if v[313] == 0)
    assert np.allclose(given[0][:313].numpy(), truth.histogram, atol=1e-6)
    assert {float(v[315]) for v in vectors} == {0.0, 1.0}
    # Start from a model without the branch: the trunk is copied, the branch trained, and the
    # result is a global-hints model the loader recognises.
    plain = train(tiny(photos), tmp_path / "plain.pt", progress=False)
    start = export(tmp_path / "plain.pt", tmp_path / "plain.safetensors", half=False)
    net = train(tiny(photos, global_hints=True, init=str(start), steps=2, lr=0.0), tmp_path / "g.pt", progress=False)
    assert net.global_hints
    trained = dict(net.named_parameters())
    for name, value in plain.named_parameters():  # lr 0: the trunk's weights are the starting model's
        assert torch.equal(value, trained[name]), name
    loaded = load(export(tmp_path / "g.pt", tmp_path / "g.safetensors"), global_hints=True)
    assert loaded.global_hints
    with pytest.raises(InputError, match="with the global-hints branch, but this one is without"):
        train(tiny(photos), tmp_path / "g.pt", progress=False)


def test_class_head_only_with_rebalancing_changes_just_the_head(tmp_path, photos):
    start = train(tiny(photos, steps=1), tmp_path / "start.pt", progress=False)
    export(tmp_path / "start.pt", tmp_path / "start.safetensors", half=False)
    config = tiny(photos, steps=6, init=str(tmp_path / "start.safetensors"), train_only="class", rebalance=0.5, lr=1e-2)
    trained = train(config, tmp_path / "head.pt", progress=False)
    changed = {
        name
        for (name, a), b in zip(start.state_dict().items(), trained.state_dict().values())
        if not name.endswith("num_batches_tracked") and not torch.equal(a, b)
    }
    assert changed == {"model_class.0.weight", "model_class.0.bias"}  # batch-norm statistics kept too
    # Resuming a head-only run reproduces an uninterrupted one.
    train(config, tmp_path / "sliced.pt", progress=False, stop_at=3)
    resumed = train(config, tmp_path / "sliced.pt", progress=False)
    assert torch.equal(resumed.model_class[0].weight, trained.model_class[0].weight)
    with pytest.raises(InputError, match="train_only"):
        train(tiny(photos, train_only="trunk"), tmp_path / "bad.pt", progress=False)
    with pytest.raises(InputError, match="rebalance"):
        train(tiny(photos, rebalance=1.5), tmp_path / "bad.pt", progress=False)


def test_rebalanced_loss_weighs_each_pixel_by_its_true_class():
    from varcolor.neural.siggraph17 import SIGGRAPH17
    from varcolor.neural.train import loss_terms

    torch.manual_seed(0)
    net = SIGGRAPH17(width=0.0625).eval()
    inputs, targets = torch.randn(2, 4, 32, 32), torch.zeros(2, 2, 32, 32)
    targets[0, 0] = 30.0  # image 0: bin (30, 0); image 1: bin (0, 0)
    classes = ab_classes(targets)
    weights = torch.ones(529)
    weights[int(classes[0, 0, 0])] = 3.0
    _, plain = loss_terms(net, inputs, targets)
    _, weighted = loss_terms(net, inputs, targets, class_weights=weights)
    logits, _ = net(inputs)
    each = torch.nn.functional.cross_entropy(logits, classes, reduction="none").mean(dim=(1, 2))
    assert plain.item() == pytest.approx(each.mean().item(), rel=1e-5)
    assert weighted.item() == pytest.approx(((3 * each[0] + each[1]) / 2).item(), rel=1e-5)


def test_a_distribution_added_to_old_weights_and_a_bad_one_refused(tmp_path, photos):
    from safetensors import safe_open
    from safetensors.torch import save_file

    from varcolor.neural.train import add_distribution

    train(tiny(photos), tmp_path / "run.pt", progress=False)
    state = torch.load(tmp_path / "run.pt", weights_only=True)
    del state["ab_distribution"]  # as a checkpoint written before training stored it
    torch.save(state, tmp_path / "old.pt")
    path = export(tmp_path / "old.pt", tmp_path / "old.safetensors")
    assert load(path).ab_distribution is None
    add_distribution(path, [photos], short_side=64)
    assert load(path).ab_distribution.sum() == pytest.approx(1.0)
    with safe_open(str(path), framework="pt") as f:
        tensors, metadata = {k: f.get_tensor(k) for k in f.keys()}, f.metadata()
    tensors["ab_distribution"] = -tensors["ab_distribution"]
    save_file(tensors, str(tmp_path / "bad.safetensors"), metadata=metadata)
    with pytest.raises(InputError, match="ab_distribution must be 529 non-negative"):
        load(tmp_path / "bad.safetensors")


def _cli_train(photos, out, *extra):
    from varcolor.cli import main

    small = ["--width", "0.0625", "--crop", "32", "--batch", "2", "--steps", "2", "-q"]
    return main(["train", str(photos), "-o", str(out), *small, *map(str, extra)])


@pytest.mark.slow
def test_train_never_writes_over_its_init_weights_nor_an_unasked_model(tmp_path, photos, capsys):
    assert _cli_train(photos, tmp_path / "base") == 0
    base = tmp_path / "base" / "model.safetensors"
    original = base.read_bytes()
    # The weights to start from, in the folder this run writes: as the file itself, a hard link,
    # a symlink; refused before any training, even with --overwrite.
    for name, make in (
        ("same", None),
        ("hard", lambda target: os.link(base, target)),
        ("soft", lambda target: target.symlink_to(base)),
    ):
        out = base.parent if make is None else tmp_path / name
        if make is not None:
            out.mkdir()
            make(out / "model.safetensors")
        if make is None:
            (out / "checkpoint.pt").unlink()  # a folder holding only the model
        assert _cli_train(photos, out, "--init", base, "--overwrite") == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "which this run writes" in err, name
        assert base.read_bytes() == original and not (out / "checkpoint.pt").exists(), name
    # Any other model in OUT is kept unless --overwrite.
    other = tmp_path / "other"
    other.mkdir()
    (other / "model.safetensors").write_bytes(b"someone's model")
    assert _cli_train(photos, other) == 2
    assert "--overwrite" in capsys.readouterr().err and (other / "model.safetensors").read_bytes() == b"someone's model"
    assert _cli_train(photos, other, "--init", base, "--overwrite") == 0
    assert load(other / "model.safetensors").width == 0.0625 and base.read_bytes() == original
    # Resuming a run replaces its own model, as training in slices does.
    assert _cli_train(photos, tmp_path / "sliced", "--stop-at", 1) == 0
    assert _cli_train(photos, tmp_path / "sliced", "--resume") == 0
    assert load(tmp_path / "sliced" / "model.safetensors").width == 0.0625


def test_train_resume_refuses_changed_options_unless_accepted(tmp_path, photos, capsys):
    run_dir = tmp_path / "run"
    assert _cli_train(photos, run_dir, "--stop-at", 1) == 0
    checkpoint = run_dir / "checkpoint.pt"
    before = checkpoint.read_bytes()
    assert _cli_train(photos, run_dir, "--resume", "--lr", "0.002", "--seed", "3") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lr 0.002 (the run's: 0.001)" in err and "seed 3 (the run's: 0)" in err
    assert checkpoint.read_bytes() == before  # the recorded options are kept
    # Where it runs may change; what it learns may change only when asked.
    assert _cli_train(photos, run_dir, "--resume", "--lr", "0.002", "--threads", "1", "--accept-changes") == 0
    state = torch.load(checkpoint, weights_only=True)
    assert state["step"] == 2 and state["config"]["lr"] == 0.002
    assert state["changes"] == [{"step": 1, "options": {"lr": [0.001, 0.002]}}]


BAD_NUMBERS = [
    ("--lr", "inf", "--lr must be a finite number >= 0"),
    ("--lr", "nan", "--lr must be a finite number >= 0"),
    ("--lr", "-1", "--lr must be a finite number >= 0"),
    ("--class-weight", "nan", "--class-weight must be a finite number >= 0"),
    ("--class-weight", "-1", "--class-weight must be a finite number >= 0"),
    ("--threads", "-1", "--threads must be a whole number >= 1"),
    ("--width", "0", "--width must be a finite number > 0 and <= 4"),
    ("--width", "nan", "--width must be a finite number > 0 and <= 4"),
    ("--width", "1e9", "--width must be a finite number > 0 and <= 4"),
    ("--rebalance", "nan", "--rebalance must be a finite number >= 0 and <= 1"),
    ("--crop", "100000", "training on batches of 2 crops of 100000×100000 needs about"),
]


@pytest.mark.parametrize(("flag", "value", "message"), BAD_NUMBERS)
def test_train_refuses_a_bad_number_in_one_line_before_loading_photos(tmp_path, photos, capsys, flag, value, message):
    import varcolor.neural.train as training

    def never(*_, **__):
        pytest.fail("the photos were loaded")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training, "load_photos", never)
        code = _cli_train(photos, tmp_path / "run", flag, value)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_a_diverging_run_writes_no_model_of_non_finite_weights(tmp_path, photos, capsys):
    code = _cli_train(photos, tmp_path / "run", "--lr", "1e30")  # finite, but the weights blow up
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "training diverged at step" in err, err
    assert not (tmp_path / "run" / "model.safetensors").exists()
    config = tiny(photos, lr=1e-3)
    train(config, tmp_path / "ok.pt", progress=False)
    state = torch.load(tmp_path / "ok.pt", weights_only=True)
    next(v for v in state["model"].values() if v.is_floating_point())[...] = float("nan")
    torch.save(state, tmp_path / "nan.pt")
    with pytest.raises(InputError, match="non-finite"):
        export(tmp_path / "nan.pt", tmp_path / "nan.safetensors")
    assert not (tmp_path / "nan.safetensors").exists()
