"""InceptionV3's pool features for the FID, as pytorch-fid computes them, from the weights file it uses.

The network is the TensorFlow Inception (``inception-2015-12-05``) of Heusel et al.'s FID code, in
the layout of pytorch-fid's ``FIDInceptionV3``: torchvision's ``Inception3`` with 1008 classes and
no auxiliary head, whose blocks ``Mixed_5b`` … ``Mixed_7c`` differ from torchvision's as
TensorFlow's did (the average pools of the A, C and first E blocks leave the padding out of their
means; the last E block max-pools). Its state dict is that of pytorch-fid's weights file,
:data:`FILE_NAME`, key for key and shape for shape (the ``fc`` classifier included, though unused).
Plain PyTorch; no torchvision.

The features (:meth:`FIDInceptionV3.features`) are pytorch-fid's ``pool3``: each image, RGB in
[0, 1] (8-bit levels divided by 255, as ``ToTensor`` reads a PNG), is resized to 299×299 by
bilinear interpolation (``align_corners=False``, no antialiasing), mapped to [-1, 1], and the last
block's output averaged over its 8×8 positions: :data:`FEATURES` numbers per image.

The weights are supplied by the user and never downloaded (docs/metrics.md, "FID", says where
pytorch-fid publishes them); :func:`load` reads them with ``torch.load(weights_only=True)``.

Examples
--------
>>> import numpy as np, torch
>>> _ = torch.manual_seed(0)
>>> net = FIDInceptionV3().eval()      # random weights: for shapes only
>>> net.features([np.zeros((40, 60, 3), np.uint8)]).shape
(1, 2048)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from .weights import check_state, check_tensors, read_state

__all__ = ["FEATURES", "FILE_NAME", "SIDE", "FIDInceptionV3", "is_inception_state", "load"]

#: pytorch-fid's weights file (its GitHub release ``fid_weights``), the layout :func:`load` reads.
FILE_NAME = "pt_inception-2015-12-05-6726825d.pth"
#: Numbers per image in the features: the last block's channels.
FEATURES = 2048
#: The side every image is resized to.
SIDE = 299
#: The classes of the TensorFlow graph's classifier (1000 ImageNet classes and 8 unused).
CLASSES = 1008


class _Conv(nn.Module):
    """A convolution without bias, a batch norm (ε = 0.001, TensorFlow's) and a ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int | tuple[int, int], **geometry) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, bias=False, **geometry)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _mean_pool(x: torch.Tensor) -> torch.Tensor:
    # TensorFlow's 3×3 average pool of stride 1: the padding is not counted in the mean.
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class _BlockA(nn.Module):
    """``Mixed_5b``–``Mixed_5d``: 1×1, 5×5, double 3×3 and pooled branches (35×35)."""

    def __init__(self, c_in: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = _Conv(c_in, 64, 1)
        self.branch5x5_1 = _Conv(c_in, 48, 1)
        self.branch5x5_2 = _Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _Conv(c_in, 64, 1)
        self.branch3x3dbl_2 = _Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _Conv(96, 96, 3, padding=1)
        self.branch_pool = _Conv(c_in, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        wide = self.branch5x5_2(self.branch5x5_1(x))
        double = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), wide, double, self.branch_pool(_mean_pool(x))], 1)


class _BlockB(nn.Module):
    """``Mixed_6a``: 35×35 to 17×17 by strided 3×3 convolutions and a max pool."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3 = _Conv(c_in, 384, 3, stride=2)
        self.branch3x3dbl_1 = _Conv(c_in, 64, 1)
        self.branch3x3dbl_2 = _Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _Conv(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        double = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), double, F.max_pool2d(x, 3, stride=2)], 1)


class _BlockC(nn.Module):
    """``Mixed_6b``–``Mixed_6e``: factorised 7×7 branches of ``c7`` channels (17×17)."""

    def __init__(self, c_in: int, c7: int) -> None:
        super().__init__()
        row, column = {"padding": (0, 3)}, {"padding": (3, 0)}
        self.branch1x1 = _Conv(c_in, 192, 1)
        self.branch7x7_1 = _Conv(c_in, c7, 1)
        self.branch7x7_2 = _Conv(c7, c7, (1, 7), **row)
        self.branch7x7_3 = _Conv(c7, 192, (7, 1), **column)
        self.branch7x7dbl_1 = _Conv(c_in, c7, 1)
        self.branch7x7dbl_2 = _Conv(c7, c7, (7, 1), **column)
        self.branch7x7dbl_3 = _Conv(c7, c7, (1, 7), **row)
        self.branch7x7dbl_4 = _Conv(c7, c7, (7, 1), **column)
        self.branch7x7dbl_5 = _Conv(c7, 192, (1, 7), **row)
        self.branch_pool = _Conv(c_in, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        single = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        double = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            double = layer(double)
        return torch.cat([self.branch1x1(x), single, double, self.branch_pool(_mean_pool(x))], 1)


class _BlockD(nn.Module):
    """``Mixed_7a``: 17×17 to 8×8 by strided convolutions and a max pool."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3_1 = _Conv(c_in, 192, 1)
        self.branch3x3_2 = _Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = _Conv(c_in, 192, 1)
        self.branch7x7x3_2 = _Conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _Conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _Conv(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        short = self.branch3x3_2(self.branch3x3_1(x))
        long = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([short, long, F.max_pool2d(x, 3, stride=2)], 1)


class _BlockE(nn.Module):
    """``Mixed_7b`` and ``Mixed_7c`` (8×8): split 1×3 and 3×1 branches; the pooled branch averages
    (without the padding) in the first and takes the maximum in the second, as the TensorFlow graph
    does."""

    def __init__(self, c_in: int, max_pool: bool) -> None:
        super().__init__()
        row, column = {"padding": (0, 1)}, {"padding": (1, 0)}
        self.max_pool = max_pool
        self.branch1x1 = _Conv(c_in, 320, 1)
        self.branch3x3_1 = _Conv(c_in, 384, 1)
        self.branch3x3_2a = _Conv(384, 384, (1, 3), **row)
        self.branch3x3_2b = _Conv(384, 384, (3, 1), **column)
        self.branch3x3dbl_1 = _Conv(c_in, 448, 1)
        self.branch3x3dbl_2 = _Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = _Conv(384, 384, (1, 3), **row)
        self.branch3x3dbl_3b = _Conv(384, 384, (3, 1), **column)
        self.branch_pool = _Conv(c_in, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        single = self.branch3x3_1(x)
        double = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _mean_pool(x)
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch3x3_2a(single),
                self.branch3x3_2b(single),
                self.branch3x3dbl_3a(double),
                self.branch3x3dbl_3b(double),
                self.branch_pool(pooled),
            ],
            1,
        )


#: The Inception blocks after the stem, in order.
_BLOCKS = tuple(f"Mixed_{name}" for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"))


class FIDInceptionV3(nn.Module):
    """The FID's InceptionV3 up to its pool features (randomly initialised until weights are loaded:
    :func:`load`). Its module names are torchvision's ``Inception3``'s, so that its state dict is
    pytorch-fid's."""

    #: Images a forward pass takes at once in :meth:`features`.
    BATCH = 8

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = _Conv(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = _Conv(32, 32, 3)
        self.Conv2d_2b_3x3 = _Conv(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = _Conv(64, 80, 1)
        self.Conv2d_4a_3x3 = _Conv(80, 192, 3)
        self.Mixed_5b = _BlockA(192, 32)
        self.Mixed_5c = _BlockA(256, 64)
        self.Mixed_5d = _BlockA(288, 64)
        self.Mixed_6a = _BlockB(288)
        self.Mixed_6b = _BlockC(768, 128)
        self.Mixed_6c = _BlockC(768, 160)
        self.Mixed_6d = _BlockC(768, 160)
        self.Mixed_6e = _BlockC(768, 192)
        self.Mixed_7a = _BlockD(768)
        self.Mixed_7b = _BlockE(1280, max_pool=False)
        self.Mixed_7c = _BlockE(2048, max_pool=True)
        self.fc = nn.Linear(FEATURES, CLASSES)  # in the file; the features stop before it
        self.requires_grad_(False)

    @torch.inference_mode()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The pool features of a batch."""
        return self._pool(F.interpolate(x.float(), size=(SIDE, SIDE), mode="bilinear", align_corners=False))

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        """The features of ``N×3×SIDE×SIDE`` RGB in [0, 1]."""
        x = 2 * x - 1
        for layer in (self.Conv2d_1a_3x3, self.Conv2d_2a_3x3, self.Conv2d_2b_3x3):
            x = layer(x)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, 3, stride=2)))
        x = F.max_pool2d(x, 3, stride=2)
        for name in _BLOCKS:
            x = getattr(self, name)(x)
        return x.mean(dim=(2, 3))

    def features(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """The pool features of ``images``, one row each, in float64."""
        device = self.fc.weight.device
        resized = []
        for image in images:
            array = np.asarray(image)
            if array.ndim == 2:
                array = np.repeat(array[..., None], 3, axis=2)
            if array.ndim != 3 or array.shape[2] < 3:
                raise InputError(f"FID needs H×W×3 images, got one of shape {array.shape}")
            tensor = torch.from_numpy(np.ascontiguousarray(array[..., :3]))
            tensor = tensor.float() / 255 if array.dtype == np.uint8 else tensor.float()
            tensor = tensor.permute(2, 0, 1)[None].to(device)
            # each alone: the same as in pytorch-fid's batches, whose images are resized one by one
            resized.append(F.interpolate(tensor, size=(SIDE, SIDE), mode="bilinear", align_corners=False))
        with torch.inference_mode():
            rows = [self._pool(torch.cat(resized[i : i + self.BATCH])) for i in range(0, len(resized), self.BATCH)]
        return torch.cat(rows).double().cpu().numpy() if rows else np.zeros((0, FEATURES))


def is_inception_state(state: dict) -> bool:
    """Whether a state dict is meant for :class:`FIDInceptionV3` (it has the first convolution's
    weights under pytorch-fid's key), whatever else it holds."""
    return "Conv2d_1a_3x3.conv.weight" in state


def from_state(state: dict, path: str | os.PathLike) -> FIDInceptionV3:
    """:class:`FIDInceptionV3` with the weights of ``state`` (read from ``path``), in evaluation
    mode; a key missing, left over or of another shape, or a tensor that is not finite floating
    point, is one :class:`InputError` line naming the file."""
    net = FIDInceptionV3()
    expected = net.state_dict()
    optional = {key for key in expected if key.endswith("num_batches_tracked")}
    what = f"not the layout of pytorch-fid's InceptionV3 weights ({FILE_NAME})"
    check_state(Path(path), state, expected, what, optional=optional)
    check_tensors(path, state)
    net.load_state_dict({**{key: expected[key] for key in optional}, **state})
    return net.eval()


def load(path: str | os.PathLike) -> FIDInceptionV3:
    """:class:`FIDInceptionV3` with the weights of ``path``, pytorch-fid's :data:`FILE_NAME` (or
    a safetensors file of the same tensors), read with ``weights_only=True``: no code runs from
    the file. No file, an unreadable one or one of another layout is one :class:`InputError` line
    naming it; nothing is downloaded."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such weights file (the FID needs {FILE_NAME}; none is downloaded)")
    return from_state(read_state(path)[0], path)
