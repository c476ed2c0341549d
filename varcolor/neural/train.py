"""Training a :class:`~varcolor.neural.siggraph17.SIGGRAPH17` prior from folders of color photos.

As the paper trained it: random resized crops and flips of color photos (near-gray ones dropped),
geometric numbers of square hints filled with the mean true chroma (the ideepcolor rule), and a
smooth-L1 loss on ab plus, optionally, cross-entropy on the class head. ``global_hints`` adds the
global-hints branch; ``init`` starts from another model's weights. The learning rate follows a
cosine; a checkpoint is written atomically every ``checkpoint_every`` steps and training resumes
from it. Every random draw of step ``k`` is seeded with ``(seed, k)``, so a resumed run sees the
same batches as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from skimage.transform import resize
from tqdm import tqdm

from ..color import gray_from_lightness, lab_to_rgb, rgb_to_lab
from ..common.memory import check_memory
from ..cues import ideepcolor_offset, sample_ideepcolor
from ..errors import InputError
from ..gamut import GlobalHints, ab_histogram, mean_saturation
from ..io import atomic_path, identity, read_image, walk_images
from ..metrics import psnr
from .classes import empirical_distribution, rebalancing_weights
from .hints import global_input
from .prior import predict
from .siggraph17 import AB_NORM, SIGGRAPH17

#: Images whose mean chroma (ab units) is below this are treated as gray and skipped.
GRAY_CHROMA = 4.0
AB_BIN = 10.0  # the class head's bins: 23 per axis over [−110, 110]
AB_BINS_PER_AXIS = 23
VALIDATION_HINTS = 10


@dataclass
class TrainingConfig:
    """What a training run does. Defaults train the shipped compact model."""

    data: list[str] = field(default_factory=list)
    validation: str | None = None
    width: float = 0.25
    crop: int = 128
    batch: int = 16
    steps: int = 4000
    lr: float = 1e-3
    class_weight: float = 1.0
    mask_cent: float = 0.5
    short_side: int = 256  # photos are kept in memory with this shorter side
    validation_images: int = 24
    validate_every: int = 250
    checkpoint_every: int = 100
    seed: int = 0
    threads: int | None = None
    global_hints: bool = False
    global_given: float = 0.5
    init: str | None = None
    rebalance: float | None = None  # λ of Zhang et al. 2016's class rebalancing (None: plain cross-entropy)
    train_only: str | None = None  # "class": the class head alone learns, the rest frozen (eval mode)
    device: str = "cpu"  # or "cuda" (a CUDA build of PyTorch and a GPU); batches are made on the CPU

    def check(self, max_memory: float | None = None) -> None:
        """Refuse, before any photo is loaded, numbers no run can use (each one line naming the
        option): a non-finite or out-of-range value, and a batch of crops that would not fit in
        memory (:func:`train_bytes_per_pixel`; ``max_memory``: the budget, see :mod:`varcolor.common.memory`)."""
        whole = {"crop": 8, "batch": 1, "steps": 1, "short_side": 8, "validate_every": 1, "checkpoint_every": 1}
        for name, least in whole.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InputError(f"{name} must be a whole number >= {least}, got {value}")
        if self.crop % 8:
            raise InputError(f"crop must be a multiple of 8, got {self.crop}")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise InputError(f"threads must be a whole number >= 1, got {self.threads}")
        ranges = {  # name: (low, high, whether low itself is allowed)
            "width": (0.0, 4.0, False),  # SIGGRAPH17's channel multiplier
            "lr": (0.0, math.inf, True),  # 0: the weights stay as they start (a test of --init)
            "class_weight": (0.0, math.inf, True),
            "mask_cent": (-math.inf, math.inf, True),
            "global_given": (0.0, 1.0, True),
            "rebalance": (0.0, 1.0, True),
        }
        for name, (low, high, closed) in ranges.items():
            value = getattr(self, name)
            if value is None and name == "rebalance":
                continue
            number = isinstance(value, (int, float)) and math.isfinite(value)
            if not (number and (low < value or (closed and value == low)) and value <= high):
                raise InputError(f"{name} must be a finite number {_interval(low, high, closed)}, got {value}")
        need = self.batch * self.crop**2 * train_bytes_per_pixel(self.width)
        check_memory(need, f"training on batches of {self.batch} crops of {self.crop}×{self.crop}", max_memory)


def _interval(low: float, high: float, closed: bool) -> str:
    above = f"{'>=' if closed else '>'} {low:g}"
    return above if math.isinf(high) else f"{above} and <= {high:g}"


def train_bytes_per_pixel(width: float) -> int:
    """Bytes a training step holds per pixel of a crop: the network's activations (1813·width + 15
    floats per pixel, counted on its layers' outputs) kept for the backward pass and their
    gradients, float32, plus the batch's own tensors."""
    return int(8 * (1813 * width + 15) + 64)


@dataclass
class Photos:
    """Training photos in memory as Lab, ``float32``, shorter side ``short_side``."""

    lab: list[np.ndarray]
    unreadable: int = 0
    gray: int = 0


def load_photos(
    folders: Sequence[str | Path], short_side: int, limit: int | None = None, progress: bool = True
) -> Photos:
    """Every readable color photo under ``folders``; unreadable and near-gray files are counted
    and skipped. A folder with no image at all is an error."""
    paths = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder")
        found = [folder / relative for relative in walk_images(folder)]
        if not found:
            raise InputError(f"{folder}: no images found")
        paths += found
    paths = paths[:limit] if limit else paths
    photos = Photos([])
    for path in tqdm(paths, desc="loading photos", unit="img", disable=not progress, leave=False):
        try:
            rgb = read_image(path)
        except InputError:
            photos.unreadable += 1
            continue
        if rgb.ndim != 3:
            photos.gray += 1
            continue
        scale = short_side / min(rgb.shape[:2])
        if scale < 1:
            rgb = resize(
                rgb[..., :3], (round(rgb.shape[0] * scale), round(rgb.shape[1] * scale)), order=1, anti_aliasing=True
            )
        lab = rgb_to_lab(rgb[..., :3]).astype(np.float32)
        if np.hypot(lab[..., 1], lab[..., 2]).mean() < GRAY_CHROMA:
            photos.gray += 1
            continue
        photos.lab.append(lab)
    if not photos.lab:
        raise InputError(
            f"no usable color photos in {', '.join(map(str, folders))} "
            f"({photos.unreadable} unreadable, {photos.gray} gray)"
        )
    return photos


def random_crop(lab: np.ndarray, size: int, generator: np.random.Generator) -> torch.Tensor:
    """A 3×size×size crop covering 25–100 % of the photo's area, aspect 3:4–4:3, maybe mirrored."""
    height, width = lab.shape[:2]
    area = generator.uniform(0.25, 1.0) * height * width
    aspect = math.exp(generator.uniform(math.log(3 / 4), math.log(4 / 3)))
    h = min(height, max(8, round(math.sqrt(area / aspect))))
    w = min(width, max(8, round(math.sqrt(area * aspect))))
    y, x = generator.integers(0, height - h + 1), generator.integers(0, width - w + 1)
    crop = torch.from_numpy(np.ascontiguousarray(lab[y : y + h, x : x + w])).permute(2, 0, 1)[None]
    crop = F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0]
    return crop.flip(-1) if generator.random() < 0.5 else crop


def random_hints(
    ab: torch.Tensor, generator: np.random.Generator, p: float = 1 / 8, largest: int = 9
) -> tuple[torch.Tensor, torch.Tensor]:
    """(hint ab 2×H×W, mask 1×H×W) for a crop's true ``ab``: a geometric(p) number of squares
    (zero allowed), sides uniform in 1–``largest``, each filled with its mean true chroma."""
    _, height, width = ab.shape
    hint, mask = torch.zeros_like(ab), torch.zeros((1, height, width), dtype=ab.dtype)
    while generator.random() > p:
        patch = int(generator.integers(1, largest + 1))
        y, x = (ideepcolor_offset(generator, side, patch) for side in (height, width))
        block = (slice(None), slice(y, y + patch), slice(x, x + patch))
        hint[block] = ab[block].mean(dim=(1, 2), keepdim=True)
        mask[block] = 1.0
    return hint, mask


def ab_classes(ab: torch.Tensor) -> torch.Tensor:
    """The class head's target: the 23×23 bin of each pixel (a-major), at quarter size."""
    quarter = F.avg_pool2d(ab, 4)
    index = torch.clamp(torch.round((quarter + AB_NORM) / AB_BIN), 0, AB_BINS_PER_AXIS - 1).long()
    return index[:, 0] * AB_BINS_PER_AXIS + index[:, 1]


def crop_global_hints(lab: torch.Tensor, generator: np.random.Generator, given: float) -> torch.Tensor:
    """The 316-vector of a 3×S×S Lab crop's global hints; histogram and saturation are each given
    with probability ``given`` (else zero with a zero flag)."""
    pixels = lab.permute(1, 2, 0).double().numpy()
    vector = global_input(GlobalHints(ab_histogram(pixels[..., 1:]), mean_saturation(lab_to_rgb(pixels))))
    if generator.random() >= given:
        vector[:, :-2] = 0.0  # histogram and its flag
    if generator.random() >= given:
        vector[:, -2:] = 0.0  # saturation and its flag
    return vector[0]


def make_batch(photos: Photos, config: TrainingConfig, generator: np.random.Generator):
    """(network input N×4×S×S, true ab N×2×S×S, global input N×316×1×1 or None) for one step."""
    inputs, targets, globals_ = [], [], []
    for index in generator.integers(0, len(photos.lab), size=config.batch):
        lab = random_crop(photos.lab[index], config.crop, generator)
        hint, mask = random_hints(lab[1:], generator)
        inputs.append(torch.cat([(lab[:1] - 50.0) / 100.0, hint / AB_NORM, mask - config.mask_cent]))
        targets.append(lab[1:])
        if config.global_hints:
            globals_.append(crop_global_hints(lab, generator, config.global_given))
    return torch.stack(inputs), torch.stack(targets), torch.stack(globals_) if globals_ else None


def loss_terms(
    net: SIGGRAPH17,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    global_inputs: torch.Tensor | None = None,
    class_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(smooth-L1 on ab in ab units, cross-entropy of the class head — each pixel weighted by its
    true class's ``class_weights`` when given, averaged over pixels)."""
    logits, ab = net(inputs, global_inputs)
    classes = ab_classes(targets)
    if class_weights is None:
        classification = F.cross_entropy(logits, classes)
    else:  # mean over pixels of w·CE (torch's weighted mean would divide by Σw instead)
        classification = (F.cross_entropy(logits, classes, reduction="none") * class_weights[classes]).mean()
    return F.smooth_l1_loss(ab, targets, beta=1.0), classification


def photo_distribution(photos: Photos) -> torch.Tensor:
    """The photos' ab-bin frequencies (:func:`varcolor.neural.classes.empirical_distribution`)."""
    return torch.from_numpy(empirical_distribution(lab[..., 1:] for lab in photos.lab)).float()


def add_distribution(weights: str | Path, folders: list[str | Path], short_side: int = 256) -> Path:
    """Store in the safetensors file ``weights`` (rewritten atomically) the ab-bin distribution
    of the photos under ``folders`` — the training photos, as :func:`train` loads them — for a
    model exported before training stored it."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from .weights import DISTRIBUTION

    weights = Path(weights)
    with safe_open(str(weights), framework="pt") as f:
        metadata, state = dict(f.metadata() or {}), {k: f.get_tensor(k) for k in f.keys()}
    state[DISTRIBUTION] = photo_distribution(load_photos(folders, short_side, progress=False))
    with atomic_path(weights) as temporary:
        save_file(state, str(temporary), metadata=metadata)
    return weights


def learning_rate(config: TrainingConfig, step: int) -> float:
    """Linear warm-up over the first 2 % of steps, then a cosine down to 1 % of ``lr``."""
    warmup = max(1, config.steps // 50)
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, config.steps - warmup)
    return config.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


@dataclass
class ValidationSet:
    """Fixed 256² images and fixed ideepcolor-protocol hints, so successive scores compare."""

    rgb: list[np.ndarray]
    cues: list

    @classmethod
    def from_folder(cls, folder: str | Path, count: int, hints: int = VALIDATION_HINTS) -> ValidationSet:
        """The set of the first ``count`` images under ``folder`` (unreadable and near-gray ones skipped),
        resized to 256², each with ``hints`` hints drawn by the ideepcolor protocol, seeded by its place."""
        photos = load_photos([folder], short_side=256, limit=count, progress=False)
        rgb = [
            np.clip(resize(lab_to_rgb(lab.astype(np.float64)), (256, 256), order=1, anti_aliasing=True), 0, 1)
            for lab in photos.lab
        ]
        return cls(rgb, [sample_ideepcolor(image, hints, rng=k) for k, image in enumerate(rgb)])

    def psnr(self, net: SIGGRAPH17) -> float:
        """Mean PSNR (dB) of the network alone over the set."""
        scores = []
        for rgb, cues in zip(self.rgb, self.cues):
            lightness = rgb_to_lab(rgb)[..., :1]
            ab, _ = predict(net, gray_from_lightness(lightness[..., 0]), cues)
            scores.append(psnr(lab_to_rgb(np.concatenate([lightness, ab], axis=-1)), rgb))
        return float(np.mean(scores))


def training_device(name: str) -> torch.device:
    """The torch device of ``name`` ("cpu" or "cuda"); a one-line error when CUDA is not usable."""
    if name not in ("cpu", "cuda"):
        raise InputError(f"unknown device {name!r}; available: cpu, cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError(
            f"device 'cuda': this PyTorch ({torch.__version__}) sees no CUDA GPU; "
            "install a CUDA build of PyTorch on a machine with one, or train on the CPU"
        )
    return torch.device(name)


def train(
    config: TrainingConfig,
    checkpoint: str | Path,
    progress: bool = True,
    stop_at: int | None = None,
    *,
    accept_changes: bool = False,
) -> SIGGRAPH17:
    """Train (or resume from ``checkpoint`` when it exists) and return the network in eval mode.

    ``stop_at`` ends the run after that step (checkpointed), for training in slices; the schedule
    is still the one of ``config.steps``. A resumed run must have the checkpoint's options
    (:func:`changed_options`; else an :class:`~varcolor.errors.InputError` naming each change)
    unless ``accept_changes``: the checkpoint then records the new options, and under
    ``"changes"`` the old ones with the step from which they changed. ``config.init`` may not be
    the checkpoint itself.

    Examples
    --------
    >>> import tempfile, numpy as np, skimage.data
    >>> from varcolor.io import write_image
    >>> folder = tempfile.mkdtemp()
    >>> write_image(f"{folder}/a.png", skimage.data.astronaut() / 255.0)
    >>> config = TrainingConfig(data=[folder], crop=32, batch=2, steps=2, width=0.0625)
    >>> net = train(config, f"{folder}/run.pt", progress=False)
    >>> net.width
    0.0625
    """
    config.check()
    if config.threads:
        torch.set_num_threads(config.threads)
    device = training_device(config.device)
    checkpoint = Path(checkpoint)
    if config.init and identity(config.init) == identity(checkpoint):
        raise InputError(f"{config.init}: the weights to start from cannot be the checkpoint this run writes")
    net, optimizer = _network(config, checkpoint, device)
    start, history, changes = _resume(checkpoint, config, net, optimizer, accept_changes)
    photos = load_photos(config.data, config.short_side, progress=progress)
    if progress and (photos.unreadable or photos.gray):
        tqdm.write(f"varcolor: warning: skipped {photos.unreadable} unreadable and {photos.gray} gray images")
    validation = ValidationSet.from_folder(config.validation, config.validation_images) if config.validation else None
    net.mask_cent = config.mask_cent
    distribution = photo_distribution(photos)  # stored with the model, for the rebalanced decoding
    class_weights = (
        None
        if config.rebalance is None
        else torch.from_numpy(rebalancing_weights(distribution.numpy(), mix=config.rebalance)).float().to(device)
    )
    bar = tqdm(total=config.steps, initial=start, desc="training", unit="step", disable=not progress)
    smoothed = None
    end = config.steps if stop_at is None else min(stop_at, config.steps)
    for step in range(start, end):
        regression, classification = _step(net, optimizer, config, photos, class_weights, step, device)
        l1 = regression.item()
        smoothed = l1 if smoothed is None else 0.98 * smoothed + 0.02 * l1
        record = {"step": step + 1, "l1": l1, "ce": classification.item()}
        done = step + 1
        if validation and (done % config.validate_every == 0 or done == config.steps):
            record["val_psnr"] = validation.psnr(net)
            bar.set_postfix(l1=f"{smoothed:.2f}", val=f"{record['val_psnr']:.2f} dB")
        else:
            bar.set_postfix(l1=f"{smoothed:.2f}", refresh=False)
        history.append(record)
        bar.update()
        if done % config.checkpoint_every == 0 or done == end:
            _check_finite(net.state_dict(), f"training diverged by step {done}")
            save_checkpoint(checkpoint, net, optimizer, done, config, history, distribution, changes)
    bar.close()
    return net.eval()


def _network(config: TrainingConfig, checkpoint: Path, device: torch.device) -> tuple[SIGGRAPH17, torch.optim.Adam]:
    """The network to train (from ``config.init`` on a new run) on ``device``, and its optimizer."""
    torch.manual_seed(config.seed)
    net = SIGGRAPH17(width=config.width, global_hints=config.global_hints)
    if config.init and not checkpoint.is_file():
        _initialise(net, config.init)
    net.to(device)
    if config.train_only not in (None, "class"):
        raise InputError(f"train_only must be None or 'class', got {config.train_only!r}")
    if config.rebalance is not None and not 0.0 <= config.rebalance <= 1.0:
        raise InputError(f"--rebalance must be a mix λ in [0, 1], got {config.rebalance}")
    learning: Iterable[torch.nn.Parameter] = net.parameters()
    if config.train_only == "class":
        for parameter in net.parameters():
            parameter.requires_grad_(False)
        learning = list(net.model_class.parameters())
        for parameter in learning:
            parameter.requires_grad_(True)
    return net, torch.optim.Adam(learning, lr=config.lr, betas=(0.9, 0.99))


def _resume(
    checkpoint: Path, config: TrainingConfig, net: SIGGRAPH17, optimizer: torch.optim.Adam, accept_changes: bool
) -> tuple[int, list, list]:
    """The step, history and option changes of ``checkpoint`` (loaded into ``net`` and
    ``optimizer``), or a new run's where there is none."""
    start, history, changes = 0, [], []
    if checkpoint.is_file():
        state = _read_checkpoint(checkpoint)
        saved = state["config"]
        if saved.get("width") != config.width:
            raise InputError(f"{checkpoint}: a width-{saved.get('width')} run, not width {config.width:g}")
        if saved.get("global_hints", False) != config.global_hints:
            raise InputError(
                f"{checkpoint}: a run {'with' if saved.get('global_hints') else 'without'} the "
                f"global-hints branch, but this one is {'with' if config.global_hints else 'without'}"
            )
        changed = changed_options(saved, config)
        if changed and not accept_changes:
            raise InputError(
                f"{checkpoint}: its run was made with other options: "
                + ", ".join(f"{name} {new!r} (the run's: {old!r})" for name, (old, new) in changed.items())
                + "; resume with the same options, or accept the changes (--accept-changes)"
            )
        try:
            net.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            start, history = int(state["step"]), list(state["history"])
            changes = list(state.get("changes", []))
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise InputError(f"{checkpoint}: not a checkpoint of this run ({str(exc).splitlines()[0][:160]})") from None
        if changed:  # the checkpoint keeps what the run was made with before, and from which step
            changes.append({"step": start, "options": {name: list(pair) for name, pair in changed.items()}})
    return start, history, changes


def _step(
    net: SIGGRAPH17,
    optimizer: torch.optim.Adam,
    config: TrainingConfig,
    photos,
    class_weights: torch.Tensor | None,
    step: int,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimisation step on a batch drawn for ``step``: its regression and classification losses."""
    generator = np.random.default_rng([config.seed, step])
    torch.manual_seed(config.seed * 1_000_003 + step)
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(config, step)
    net.train(config.train_only is None)  # a frozen trunk keeps its batch-norm statistics
    inputs, targets, global_inputs = (
        None if t is None else t.to(device, non_blocking=True) for t in make_batch(photos, config, generator)
    )
    assert inputs is not None and targets is not None  # make_batch's: only the global hints may be None
    regression, classification = loss_terms(net, inputs, targets, global_inputs, class_weights)
    loss = classification if config.train_only == "class" else regression + config.class_weight * classification
    if not torch.isfinite(loss):  # diverged: no checkpoint or model of non-finite weights is written
        raise InputError(
            f"training diverged at step {step + 1} (loss {loss.item()}); no checkpoint of it is written "
            "(an earlier one is kept): lower the learning rate (lr) or the class weight"
        )
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return regression, classification


#: Options that may change when a run resumes: where it runs, not what it learns.
RUNTIME_OPTIONS = ("threads", "device")


def changed_options(saved: dict, config: TrainingConfig) -> dict[str, tuple]:
    """The options of ``config`` that differ from a checkpoint's recorded ``saved`` ones (name →
    (saved, new)), but for :data:`RUNTIME_OPTIONS`. Folders and files are compared as absolute
    paths (a relative one recorded is taken from the current folder); an option the checkpoint
    does not record (an older varcolor's) counts as its default.

    Examples
    --------
    >>> saved = dataclasses.asdict(TrainingConfig(data=["photos"], lr=1e-3))
    >>> changed_options(saved, TrainingConfig(data=["./photos/"], lr=2e-3, threads=4))
    {'lr': (0.001, 0.002)}
    """
    changed = {}
    for spec in dataclasses.fields(TrainingConfig):
        if spec.name in RUNTIME_OPTIONS:
            continue
        default = spec.default_factory() if spec.default_factory is not dataclasses.MISSING else spec.default
        old, new = saved.get(spec.name, default), getattr(config, spec.name)
        if spec.name in ("data", "validation", "init"):
            same = _paths(old) == _paths(new)
        else:
            same = old == new
        if not same:
            changed[spec.name] = (old, new)
    return changed


def _paths(value):
    """Paths (a string or a list of them; None) made absolute and normal, to compare."""
    if value is None:
        return None
    if isinstance(value, (str, Path)):
        return os.path.abspath(value)
    return [os.path.abspath(item) for item in value]


def _initialise(net: SIGGRAPH17, weights: str) -> None:
    """Copy every tensor of ``weights`` (a model of the same width) into ``net``; a global-hints
    branch it lacks keeps its fresh initialisation."""
    from .weights import load

    source = load(weights)
    if source.width != net.width:
        raise InputError(f"{weights}: a width-{source.width:g} network cannot start a width-{net.width:g} run")
    missing, unexpected = net.load_state_dict(source.state_dict(), strict=False)
    if unexpected or any(not key.startswith("model_global.") for key in missing):
        raise InputError(f"{weights}: its layers do not match the network being trained")


def _read_checkpoint(path: Path) -> dict:
    """A checkpoint written by :func:`save_checkpoint`, loaded without unpickling code; anything
    else (a damaged file, another program's pickle) is one line naming the file."""
    try:
        with warnings.catch_warnings():  # as weights.load: the safe unpickler's protocol notice
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a foreign or damaged file
        raise InputError(f"{path}: cannot read the checkpoint ({str(exc).strip().splitlines()[0][:160]})") from None
    keys = ("model", "optimizer", "step", "history", "config")
    if not isinstance(state, dict) or not all(key in state for key in keys) or not isinstance(state["config"], dict):
        raise InputError(f"{path}: not a varcolor training checkpoint (needs {', '.join(keys)})")
    return state


def save_checkpoint(
    path: Path,
    net: SIGGRAPH17,
    optimizer,
    step: int,
    config: TrainingConfig,
    history: list[dict],
    distribution: torch.Tensor | None = None,
    changes: list[dict] | None = None,
) -> None:
    """Model, optimizer, step, configuration, history, the photos' ab-bin distribution and the
    options changed on resuming (:func:`train`); only tensors and plain values, so it loads with
    ``weights_only=True``."""
    with atomic_path(path) as temporary:
        torch.save(
            {
                "model": net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "step": step,
                "config": dataclasses.asdict(config),
                "history": history,
                **({} if distribution is None else {"ab_distribution": distribution}),
                **({"changes": changes} if changes else {}),
            },
            temporary,
        )


def export(checkpoint: str | Path, destination: str | Path, half: bool = True, **metadata: str) -> Path:
    """Write a checkpoint's network as safetensors (float16 by default, but batch-norm running
    statistics in float32: their variances can pass float16's largest value, 65504), with its
    ``mask_cent``, width, training steps and ``metadata`` in the header;
    :func:`varcolor.neural.weights.load` reads it."""
    from safetensors.torch import save_file

    state = _read_checkpoint(Path(checkpoint))

    def stored(key: str, value: torch.Tensor) -> torch.Tensor:
        running = key.endswith(("running_mean", "running_var"))
        return (value.half() if half and value.is_floating_point() and not running else value).contiguous()

    tensors = {k: stored(k, v) for k, v in state["model"].items() if not k.endswith("num_batches_tracked")}
    _check_finite(tensors, f"{checkpoint}: not exported")  # as stored: float16 overflows past 65504
    if "ab_distribution" in state:  # float32: the rarest bins' frequencies are below float16's range
        tensors["ab_distribution"] = state["ab_distribution"].float().contiguous()
    header = {
        "mask_cent": str(state["config"]["mask_cent"]),
        "width": str(state["config"]["width"]),
        "steps": str(state["step"]),
        **{k: str(v) for k, v in metadata.items()},
    }
    destination = Path(destination)
    with atomic_path(destination) as temporary:
        save_file(tensors, str(temporary), metadata=header)
    return destination


def _check_finite(tensors: dict[str, torch.Tensor], what: str) -> None:
    """Refuse weights with a NaN or an infinity: a network that can only answer NaN is no model."""
    for key, value in tensors.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise InputError(f"{what}: the weights {key} hold non-finite values (lower the learning rate, lr)")
