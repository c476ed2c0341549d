"""Fréchet distance of a set of results to their originals (FID), and the kernel distance (KID)
beside it, from a weights file the user supplies: varcolor ships none and downloads none.

The features come from one of two networks, told apart by the file's keys (:func:`load`):
**InceptionV3**, the FID of papers (pytorch-fid's weights file, computed as pytorch-fid does:
:class:`varcolor.neural.inception.FIDInceptionV3`), or **FeatureNet**, a small network defined
here from a state dict the user trains or converts, whose values compare runs made with one
weights file, not papers' FIDs.

The distance is Heusel et al.'s (2017) between the two sets' Gaussian fits,
``‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)`` (:func:`frechet_distance`). A set of no more images
than features has a singular covariance (:func:`small_set`); the KID (:func:`kernel_distance`)
is unbiased at any size.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = [
    "FEATURES",
    "INCEPTION_FEATURES",
    "WIDTHS",
    "fid",
    "frechet_distance",
    "kernel_distance",
    "load",
    "make_network",
    "network_name",
    "small_set",
    "statistics",
]

#: The channels of :class:`FeatureNet`'s four convolutions; the last is the feature count.
WIDTHS = (32, 64, 128, 256)
#: Numbers per image in :class:`FeatureNet`'s features.
FEATURES = WIDTHS[-1]
#: Numbers per image in InceptionV3's pool features (:data:`varcolor.neural.inception.FEATURES`).
INCEPTION_FEATURES = 2048


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """The Fréchet distance between the Gaussians N(``mu1``, ``sigma1``) and N(``mu2``,
    ``sigma2``): ``‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)``, the trace of the square root
    from two symmetric eigendecompositions (pytorch-fid takes :func:`scipy.linalg.sqrtm` of the
    product, which singular covariances make inaccurate).

    Examples
    --------
    >>> import numpy as np
    >>> round(frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2)), 9)  # 2 + (1 + 4 - 4) * 2
    4.0
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise InputError(f"means {mu1.shape}, {mu2.shape} and covariances {sigma1.shape}, {sigma2.shape} do not match")
    # tr √(Σ₁Σ₂) as the sum of the square roots of the eigenvalues of √Σ₁ Σ₂ √Σ₁ (symmetric,
    # positive semi-definite, the same eigenvalues): exact for the singular covariances of fewer
    # images than features, where scipy's sqrtm of the product warns and may be inaccurate.
    values, vectors = linalg.eigh((sigma1 + sigma1.T) / 2)
    half = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = half @ sigma2 @ half
    trace_root = float(np.sum(np.sqrt(np.clip(linalg.eigvalsh((middle + middle.T) / 2), 0.0, None))))
    difference = mu1 - mu2
    return float(difference @ difference + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_root)


def fid(first: np.ndarray, second: np.ndarray) -> float:
    """The FID of two sets of features: :func:`frechet_distance` of their :func:`statistics`.

    Where neither set has more images than features, the covariances are of low rank and the
    trace of their product's square root is taken from the images instead: with ``A`` and ``B``
    the centred features over ``√(m − 1)`` and ``√(n − 1)``, ``Σ₁ = AᵀA``, ``Σ₂ = BᵀB`` and
    ``Tr (Σ₁Σ₂)^½`` is the sum of the singular values of ``A Bᵀ`` (``m×n``): exact, and quick
    where the ``d×d`` route decomposes two matrices of 2048².

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(5, 8)), rng.normal(1, 2, size=(4, 8))
    >>> round(fid(x, y), 5), round(frechet_distance(*statistics(x), *statistics(y)), 5)
    (56.82011, 56.82011)
    """
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    if first.ndim != 2 or second.ndim != 2 or first.shape[1] != second.shape[1]:
        raise InputError(f"features of shapes {first.shape} and {second.shape} do not match")
    (m, dimension), n = first.shape, second.shape[0]
    if max(m, n) > dimension:
        return frechet_distance(*statistics(first), *statistics(second))
    if min(m, n) < 2:
        raise InputError(f"FID needs the features of at least two images a set, got {m} and {n}")
    mean1, mean2 = first.mean(axis=0), second.mean(axis=0)
    a, b = (first - mean1) / np.sqrt(m - 1), (second - mean2) / np.sqrt(n - 1)
    difference = mean1 - mean2
    trace_root = float(np.linalg.svd(a @ b.T, compute_uv=False).sum())
    return float(difference @ difference + np.sum(a * a) + np.sum(b * b) - 2 * trace_root)


def small_set(images: int, features: int) -> bool:
    """Whether a set of ``images`` is too small for a meaningful FID on ``features`` numbers per
    image: its covariance has rank at most ``images − 1``, singular unless ``images > features``
    (2049 images for InceptionV3's 2048; pytorch-fid's documentation asks for 2048 at least). The
    FID of such a set is dominated by the sample; the KID beside it is not.

    Examples
    --------
    >>> small_set(500, 2048), small_set(2049, 2048)
    (True, False)
    """
    return images <= features


def kernel_distance(first: np.ndarray, second: np.ndarray) -> float:
    """The kernel distance (KID, Bińkowski et al. 2018) between two sets of features: the unbiased
    estimate of the squared maximum mean discrepancy with the cubic polynomial kernel
    ``k(x, y) = (x·y / d + 1)³``. Unlike the FID it has no covariance to estimate: unbiased for a
    set of any size (at least two images), where the FID of fewer images than features is
    dominated by the sample.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> abs(kernel_distance(x[:100], x[100:])) < 0.1, kernel_distance(x[:100], x[100:] + 1) > 1
    (True, True)
    """
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    if first.ndim != 2 or second.ndim != 2 or first.shape[1] != second.shape[1]:
        raise InputError(f"features of shapes {first.shape} and {second.shape} do not match")
    m, n = first.shape[0], second.shape[0]
    if min(m, n) < 2:
        raise InputError(f"KID needs the features of at least two images a set, got {m} and {n}")
    dimension = first.shape[1]

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a @ b.T / dimension + 1.0) ** 3

    within_first, within_second = kernel(first, first), kernel(second, second)
    # Each set's own pairs without the pairs of an image with itself: the estimate is unbiased.
    own = (within_first.sum() - np.trace(within_first)) / (m * (m - 1))
    own += (within_second.sum() - np.trace(within_second)) / (n * (n - 1))
    return float(own - 2.0 * kernel(first, second).mean())


def statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean and covariance (``ddof=1``) of ``features`` (``n×d``, one row per image; at
    least two rows)."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise InputError(f"FID needs the features of at least two images, got {features.shape[0]}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def make_network():
    """A :class:`FeatureNet` with PyTorch's default (random) initialisation: what a weights file's
    state dict is loaded into, and what a user trains or converts theirs from."""
    import torch
    from torch import nn

    class FeatureNet(nn.Module):
        """Four 3×3 convolutions of stride 2 with :data:`WIDTHS` channels, each followed by a
        ReLU, then the mean over the image: :data:`FEATURES` numbers per image. Input: ``N×3×H×W``
        sRGB in [0, 1], normalised by ImageNet's mean and deviation."""

        def __init__(self) -> None:
            super().__init__()
            layers: list[nn.Module] = []
            before = 3
            for width in WIDTHS:
                layers += [nn.Conv2d(before, width, 3, stride=2, padding=1), nn.ReLU()]
                before = width
            self.body = nn.Sequential(*layers)
            self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)

        def forward(self, x):
            return self.body((x - self.mean) / self.std).mean(dim=(2, 3))

        def features(self, images: Sequence[np.ndarray]) -> np.ndarray:
            """``n×FEATURES`` for ``images`` (each ``H×W×3`` in [0, 1], or uint8 levels)."""
            out = []
            with torch.no_grad():
                for image in images:
                    image = np.asarray(image)
                    if image.dtype == np.uint8:
                        image = image / 255.0
                    tensor = torch.from_numpy(np.ascontiguousarray(image[..., :3], np.float32)).permute(2, 0, 1)[None]
                    out.append(self(tensor)[0].double().numpy())
            return np.array(out)

    return FeatureNet()


def network_name(features: int) -> str:
    """What made features of ``features`` numbers, in words, for a table's note."""
    if features == INCEPTION_FEATURES:
        return "the 2048 pool features of InceptionV3 as pytorch-fid computes them (papers' FID)"
    return f"the {features} features of varcolor's FeatureNet (comparable between runs with one weights file only)"


def load(path: str | os.PathLike):
    """The FID feature network with the weights of ``path``, in evaluation mode: pytorch-fid's
    InceptionV3 (:func:`varcolor.neural.inception.from_state`) where the file has its keys, else a
    :class:`FeatureNet`. The file is read by :func:`varcolor.neural.weights.read_state` (a
    PyTorch file with ``weights_only=True``: no code runs from it; or safetensors). No file, an
    unreadable one, or one that is neither network's state dict is one :class:`InputError` line
    naming the file; nothing is downloaded."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: no such weights file (FID needs pytorch-fid's {_INCEPTION_FILE}, or a FeatureNet "
            "state dict; none is downloaded)"
        )
    try:
        import torch  # noqa: F401
    except ImportError:
        raise InputError("FID needs PyTorch: pip install 'varcolor[neural]'") from None
    from ..neural import inception
    from ..neural.weights import read_state

    state = read_state(path)[0]
    if inception.is_inception_state(state):
        return inception.from_state(state, path)
    network = make_network()
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        lines = str(exc).splitlines()
        first = lines[1].strip() if len(lines) > 1 else str(exc)
        raise InputError(
            f"{path}: not the FID feature network's weights: neither pytorch-fid's InceptionV3 "
            f"({_INCEPTION_FILE}) nor a FeatureNet ({first[:200]})"
        ) from None
    return network.eval()


#: pytorch-fid's weights file (:data:`varcolor.neural.inception.FILE_NAME`; not imported: it needs PyTorch).
_INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
