"""LPIPS, the learned perceptual distance of Zhang et al. 2018, with the AlexNet backbone.

The network is AlexNet's five convolution stages (torchvision's layout) followed by LPIPS v0.1's
calibration: each stage's features are unit-normalised over channels, the squared difference of
the two images' features is weighted per channel by a 1×1 convolution (``lin0`` … ``lin4``),
averaged over the image and summed over the stages. Plain PyTorch; no torchvision.

Two weight files are needed, both supplied by the user (varcolor never downloads weights):

- the backbone, AlexNet's ImageNet weights with torchvision's key names (``features.0.weight`` …;
  torchvision's ``alexnet-owt-7be5be79.pth``, or the same tensors as ``alexnet.safetensors``);
- the calibration, the ``lpips`` package's ``weights/v0.1/alex.pth`` (keys ``lin0.model.1.weight``
  …), as ``alex.pth``, ``lpips-alex.pth`` or ``lpips-alex.safetensors``.

They are looked up in the folder given, else in ``$VARCOLOR_MODELS`` and the package's
``neural/models/``; docs/metrics.md says where they come from.

Examples
--------
>>> import numpy as np, torch
>>> _ = torch.manual_seed(0)
>>> net = LPIPS()                       # random weights: for shapes only
>>> image = np.random.default_rng(0).random((64, 64, 3))
>>> net.distance(image, image)
0.0
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..metrics import check_pair
from .weights import MODELS_DIR, check_tensors, read_state

__all__ = ["LPIPS", "BACKBONE_FILES", "CALIBRATION_FILES", "find_files", "load", "distance"]

#: File names tried for the backbone and for the calibration, in this order.
BACKBONE_FILES = ("alexnet.safetensors", "alexnet-owt-7be5be79.pth", "alexnet-owt-4df8aa71.pth", "alexnet.pth")
CALIBRATION_FILES = ("lpips-alex.safetensors", "lpips-alex.pth", "alex.pth")
#: Channels of AlexNet's five ReLU outputs that LPIPS compares.
CHANNELS = (64, 192, 384, 256, 256)
# torchvision's AlexNet ``features``: index → (in, out, kernel, stride, padding) of each convolution.
_CONVS = {
    0: (3, 64, 11, 4, 2),
    3: (64, 192, 5, 1, 2),
    6: (192, 384, 3, 1, 1),
    8: (384, 256, 3, 1, 1),
    10: (256, 256, 3, 1, 1),
}
# LPIPS v0.1's ScalingLayer: inputs in [-1, 1] become (x - shift) / scale, per RGB channel.
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
_EPS = 1e-10  # LPIPS's normalize_tensor: x / (|x| + eps)


# Two clearly different images (a colour ramp and its transpose) that any working LPIPS network
# scores well above 0 (0.19 to 0.28 with random He-scaled backbones and random or the published
# calibration).
_PROBE_MIN = 1e-4


def _probe_pair() -> tuple[np.ndarray, np.ndarray]:
    ramp = np.linspace(0.0, 1.0, 64)
    first = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None], 0.5 + 0 * ramp[None, :]), axis=-1)
    return first, first.transpose(1, 0, 2)


class LPIPS(nn.Module):
    """AlexNet-LPIPS v0.1 (randomly initialised until :meth:`load_weights`)."""

    #: The smallest side AlexNet's two max-pools leave a feature map for.
    MIN_SIDE = 31
    #: The input's normalisation (buffers registered in __init__).
    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for index in range(12):  # features 0–11: the five convolutions, their ReLUs, two max-pools
            if index in _CONVS:
                c_in, c_out, k, s, p = _CONVS[index]
                layers.append(nn.Conv2d(c_in, c_out, k, stride=s, padding=p))
            elif index in (2, 5):
                layers.append(nn.MaxPool2d(3, 2))
            else:
                layers.append(nn.ReLU())
        self.features = nn.Sequential(*layers)
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in CHANNELS)
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def load_weights(
        self,
        backbone: dict[str, torch.Tensor],
        calibration: dict[str, torch.Tensor],
        backbone_name: str = "backbone",
        calibration_name: str = "calibration",
    ) -> LPIPS:
        """Copy in a torchvision AlexNet state dict and an LPIPS calibration state dict, checking
        every tensor's presence, shape, type and finiteness as the prior's weights are
        (:func:`~varcolor.neural.weights.check_tensors`), and then that the network tells two
        different images apart (all-zero calibration weights, or a backbone whose features
        overflow, would score every pair 0); errors name ``*_name``."""
        wanted = {}
        for index, (c_in, c_out, k, _, _) in _CONVS.items():
            for part, shape in (("weight", (c_out, c_in, k, k)), ("bias", (c_out,))):
                key = f"features.{index}.{part}"
                wanted[key] = (backbone_name, backbone, key, shape)
        for i, c in enumerate(CHANNELS):
            # lpips writes model.1 (after a Dropout) or model.0 (trained without dropout)
            key = next(
                (k for k in (f"lin{i}.model.1.weight", f"lin{i}.model.0.weight") if k in calibration),
                f"lin{i}.model.1.weight",
            )
            wanted[f"lins.{i}.weight"] = (calibration_name, calibration, key, (1, c, 1, 1))
        state = {}
        for target, (name, source, key, shape) in wanted.items():
            if key not in source:
                raise InputError(f"{name}: no tensor {key!r} (is this the right file?)")
            tensor = source[key]
            if not isinstance(tensor, torch.Tensor):
                raise InputError(f"{name}: {key} is not a tensor")
            if tuple(tensor.shape) != shape:
                raise InputError(f"{name}: {key} has shape {tuple(tensor.shape)}, expected {shape}")
            check_tensors(name, {key: tensor})  # floating point and finite, as the prior's
            if target.startswith("lins."):  # trained clamped at 0: a distance is ≥ 0
                if (tensor < 0).any():
                    raise InputError(f"{name}: {key} has negative weights; an LPIPS calibration has none")
                if not (tensor > 0).any():
                    raise InputError(f"{name}: {key} is all 0; that stage of LPIPS would count for nothing")
            state[target] = tensor.float()
        self.load_state_dict({**state, "shift": self.shift, "scale": self.scale})  # strict: every weight set
        try:
            probe = self.distance(*_probe_pair())
        except InputError as exc:
            raise InputError(f"{backbone_name}, {calibration_name}: {exc}") from None
        if not probe > _PROBE_MIN:
            raise InputError(
                f"{backbone_name}, {calibration_name}: two different images score {probe:g}; "
                "these weights are not a working LPIPS network"
            )
        return self

    @torch.inference_mode()
    def forward(self, result: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
        """Distances of two ``N×3×H×W`` batches in [0, 1], one per image (shape ``N``)."""
        n = result.shape[0]
        x = (torch.cat([result, original]).float() * 2 - 1 - self.shift) / self.scale
        total = torch.zeros(n, dtype=torch.float32, device=x.device)
        stage = 0
        for layer in self.features:
            x = layer(x)
            if isinstance(layer, nn.ReLU):
                # one stage at a time, so that a large image never holds all five feature maps
                a, b = x[:n], x[n:]
                norm_a, norm_b = (v.square().sum(1, keepdim=True).sqrt_() for v in (a, b))
                # Features that overflow float32 normalise to 0: every pair would look identical.
                overflow = ~(torch.isfinite(norm_a).flatten(1).all(1) & torch.isfinite(norm_b).flatten(1).all(1))
                a, b = a / (norm_a + _EPS), b / (norm_b + _EPS)
                total += self.lins[stage]((a - b).square_()).mean((1, 2, 3))
                total[overflow] = float("nan")
                del a, b
                stage += 1
        return total

    def distance(self, result: np.ndarray, original: np.ndarray) -> float:
        """LPIPS of two ``H×W×3`` sRGB images in [0, 1] (0: identical; larger: more different)."""
        if min(np.shape(result)[:2]) < self.MIN_SIDE:
            raise InputError(
                f"LPIPS needs images of at least {self.MIN_SIDE}×{self.MIN_SIDE} pixels, "
                f"got {np.shape(result)[1]}×{np.shape(result)[0]}"
            )

        def to_tensor(image):
            return torch.from_numpy(np.ascontiguousarray(np.asarray(image, dtype=np.float32).transpose(2, 0, 1)))[None]

        device = self.shift.device
        value = float(self(to_tensor(result).to(device), to_tensor(original).to(device))[0])
        if not np.isfinite(value):
            raise InputError("LPIPS came out NaN or infinite: the weights are not a working network")
        return value


def _folders(folder: str | os.PathLike | None) -> list[Path]:
    if folder is not None:
        return [Path(folder)]
    found = [Path(os.environ["VARCOLOR_MODELS"])] if os.environ.get("VARCOLOR_MODELS") else []
    return found + [MODELS_DIR]


def find_files(folder: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """(backbone, calibration) files in ``folder``, else in ``$VARCOLOR_MODELS`` then the package's ``neural/models/``.

    A missing file is an :class:`InputError` (one line: which files, where they come from)."""
    folders = _folders(folder)
    if folder is not None and not Path(folder).is_dir():
        raise InputError(
            f"{folder}: --lpips-weights must be a folder holding {BACKBONE_FILES[1]} (or "
            f"{BACKBONE_FILES[0]}) and alex.pth (or lpips-alex.safetensors)"
        )

    def first(names):
        return next((d / name for d in folders for name in names if (d / name).is_file()), None)

    backbone, calibration = first(BACKBONE_FILES), first(CALIBRATION_FILES)
    if backbone is None or calibration is None:
        missing = []
        if backbone is None:
            missing.append(f"AlexNet's ImageNet weights ({BACKBONE_FILES[1]} from torchvision, or {BACKBONE_FILES[0]})")
        if calibration is None:
            missing.append(
                "LPIPS v0.1's calibration (alex.pth from the lpips package's weights/v0.1/, or lpips-alex.safetensors)"
            )
        where = " or ".join(str(d) for d in folders)
        raise InputError(
            f"LPIPS needs {' and '.join(missing)} in {where}; varcolor never downloads weights (see docs/metrics.md)"
        )
    return backbone, calibration


@lru_cache(maxsize=2)
def _load(backbone: Path, calibration: Path, stamp: tuple) -> LPIPS:
    return LPIPS().load_weights(read_state(backbone)[0], read_state(calibration)[0], str(backbone), str(calibration))


def load(folder: str | os.PathLike | None = None) -> LPIPS:
    """The LPIPS network with the weights found by :func:`find_files` (cached while the files
    are unchanged)."""
    backbone, calibration = find_files(folder)
    stamp = tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in (backbone, calibration))
    return _load(backbone.resolve(), calibration.resolve(), stamp)


def distance(result: np.ndarray, original: np.ndarray, *, weights: str | os.PathLike | None = None) -> float:
    """LPIPS perceptual distance (Zhang et al. 2018; AlexNet, calibration v0.1) of a result to the
    original: 0 for identical images, larger for more different ones (up to about 1). Symmetric,
    at the images' own size. (Here, not in :mod:`varcolor.metrics`: the two would import each other.)

    Needs the ``neural`` extra and two weight files varcolor never downloads: AlexNet's ImageNet
    weights (``alexnet-owt-7be5be79.pth``, torchvision's) and LPIPS v0.1's calibration
    (``alex.pth``, from the ``lpips`` package), in ``weights`` (else ``$VARCOLOR_MODELS`` or the
    package's ``neural/models/``); without them, one line naming the missing file
    (:data:`BACKBONE_FILES`, :data:`CALIBRATION_FILES`). docs/metrics.md ("LPIPS") says where to
    get them."""
    result, original = check_pair(result, original)
    return load(weights).distance(result, original)
