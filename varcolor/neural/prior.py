"""Run the network on a gray image and its cues; upsample its ab to full resolution (bilinearly)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from skimage.transform import resize

from ..color import lightness_of_gray, to_gray
from ..cues import Cues
from ..errors import InputError
from ..gamut import GlobalHints, transport
from .classes import REBALANCE, TEMPERATURE, annealed_mean, rebalanced_logits
from .hints import global_input, network_input
from .siggraph17 import AB_NORM, CLASSES, SIGGRAPH17

#: How the network's chroma is read: its regression output, or the annealed mean of its class head.
DECODINGS = ("regression", "annealed")


def forward(
    net: SIGGRAPH17, gray: np.ndarray, cues: Cues, size: int = 256, global_hints: GlobalHints | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One pass of the network on ``gray`` (any size) and its ``cues`` at working size ``size``:
    ``(x, logits, ab)``, its 1×4 input, its class head's 1×529 logits (quarter size) and its 1×2
    regression ab (working size). :func:`read_colours` turns them into colours; a sweep over
    decodings runs the network once (``benchmarks/tune_automatic.py``).

    Examples
    --------
    >>> from varcolor.neural.siggraph17 import SIGGRAPH17
    >>> net = SIGGRAPH17(width=0.0625).eval()
    >>> x, logits, ab = forward(net, np.full((48, 64), 0.5), Cues.empty((48, 64)), size=32)
    >>> tuple(x.shape), tuple(logits.shape), tuple(ab.shape)
    ((1, 4, 32, 32), (1, 529, 8, 8), (1, 2, 32, 32))
    """
    gray = to_gray(gray)
    device = next(net.parameters()).device  # the inputs go where the network is (CPU or GPU)
    x = network_input(gray, cues, getattr(net, "mask_cent", 0.0), size).to(device)
    with torch.no_grad():
        extra = global_input(global_hints).to(device) if net.global_hints else None
        logits, ab = net.eval()(x, extra)
    return x, logits, ab


def read_colours(
    net: SIGGRAPH17,
    x: torch.Tensor,
    logits: torch.Tensor,
    ab: torch.Tensor,
    *,
    decode: str = "regression",
    temperature: float = TEMPERATURE,
    rebalance: float = REBALANCE,
) -> torch.Tensor:
    """The 1×2 ab at working size that :func:`forward`'s outputs give under ``decode`` (see
    :func:`predict`).

    Examples
    --------
    >>> from varcolor.neural.siggraph17 import SIGGRAPH17
    >>> net = SIGGRAPH17(width=0.0625).eval()
    >>> outputs = forward(net, np.full((32, 32), 0.5), Cues.empty((32, 32)), size=32)
    >>> read_colours(net, *outputs) is outputs[2]  # regression: the ab output itself
    True
    >>> tuple(read_colours(net, *outputs, decode="annealed", temperature=0.38).shape)
    (1, 2, 32, 32)
    """
    if decode not in DECODINGS:
        raise InputError(f"unknown decoding {decode!r}; available: {', '.join(DECODINGS)}")
    if decode == "regression":
        return ab
    with torch.no_grad():
        distribution = getattr(net, "ab_distribution", None)
        decoded = (
            logits
            if distribution is None or not rebalance
            else rebalanced_logits(logits, distribution, strength=rebalance)
        )
        mean = F.interpolate(
            annealed_mean(decoded, temperature), size=ab.shape[-2:], mode="bilinear", align_corners=False
        )
        marked = x[:, 3:] > -getattr(net, "mask_cent", 0.0) + 0.5  # cue cells: mask − mask_cent
        return torch.where(marked, x[:, 1:3].double() * AB_NORM, mean)


def upsample(ab: torch.Tensor, shape: tuple[int, int]) -> np.ndarray:
    """A 1×2 working-size ab (tensor) as an ``H×W×2`` array at the image's ``shape`` (bilinear).

    Examples
    --------
    >>> upsample(torch.ones(1, 2, 8, 8), (12, 20)).shape
    (12, 20, 2)
    """
    return resize(np.moveaxis(ab[0].double().cpu().numpy(), 0, -1), tuple(shape) + (2,), order=1)


def predict(
    net: SIGGRAPH17,
    gray: np.ndarray,
    cues: Cues,
    size: int = 256,
    global_hints: GlobalHints | None = None,
    *,
    decode: str = "regression",
    temperature: float = TEMPERATURE,
    rebalance: float = REBALANCE,
) -> tuple[np.ndarray, np.ndarray]:
    """The network's chroma for ``gray`` given ``cues`` (and, for a network with a global-hints
    branch, ``global_hints``), and its confidence, at full resolution.

    The image is resized to ``size×size`` (aspect not kept, as the published network was trained
    and evaluated); the ab map is upsampled bilinearly. Confidence is ``1 − H/log 529`` from the
    entropy H of the class head's distribution (1: certain, 0: uniform).

    ``decode="regression"`` reads the ab output; ``"annealed"`` the annealed mean at
    ``temperature`` of the class head (:func:`varcolor.neural.classes.annealed_mean`, computed at
    quarter size and upsampled bilinearly), where the cues' cells keep the cue chroma. When the
    weights carry their training photos' bin distribution (``net.ab_distribution``), the class
    probabilities are first rebalanced with strength ``rebalance``
    (:func:`varcolor.neural.classes.rebalanced_logits`). The regression output is the
    least-squares guess (muted); the rebalanced annealed mean is more colourful."""
    if decode not in DECODINGS:
        raise InputError(f"unknown decoding {decode!r}; available: {', '.join(DECODINGS)}")
    gray = to_gray(gray)
    x, logits, ab = forward(net, gray, cues, size, global_hints)
    ab = read_colours(net, x, logits, ab, decode=decode, temperature=temperature, rebalance=rebalance)
    with torch.no_grad():
        log_probabilities = torch.log_softmax(logits[0], dim=0)  # float32: a third of double's time
        entropy = -(log_probabilities.exp() * log_probabilities).sum(dim=0)
    if not bool(torch.isfinite(ab).all() and torch.isfinite(entropy).all()):
        raise InputError("the network's output has NaN or infinite values: its weights cannot be used")
    confidence = np.clip(1.0 - entropy.cpu().numpy() / np.log(CLASSES), 0.0, 1.0)
    return upsample(ab, gray.shape), np.clip(resize(confidence, gray.shape, order=1), 0.0, 1.0)


#: Per-pixel weight that makes the cues' corrections fade into the network's guess in the
#: ``"spread"`` prior mode (Levin's system on ``u − αp``): small enough that at 256² a correction
#: reaches across the image, and positive so that without cues the result is the guess itself.
SPREAD_FADE = 1e-7
#: α, the share of the network's own colour variation kept where cues exist in ``"spread"`` mode.
#: α and the fade were chosen in issue 31 on Kodak, McMaster and BSDS500 val; the tuning part's
#: own preference fell under Levin alone on the test part: not taken
#: (benchmarks/results/tune_automatic_prior*.md).
SPREAD_CONTRAST = 0.5
#: How far a network without a global-hints branch moves its automatic guess onto the global
#: hints' colour distribution (1: all the way), by decoding: the best PSNR on the tuning part
#: (benchmarks/results/tune_automatic_global.md).
GLOBAL_SHARE = {"regression": 0.25, "annealed": 0.75}


def guess(
    net: SIGGRAPH17,
    gray: np.ndarray,
    cues: Cues,
    *,
    mode: str,
    prior_weight: float,
    confidence: str = "uniform",
    decode: str = "regression",
    global_hints: GlobalHints | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The prior ``p`` and per-pixel weight ``βc`` a method's system gets from the network.

    ``mode="anchor"`` and ``"residual"``: the network's guess given the cues as hints, weighted
    ``β·c`` (``c`` = 1, or the entropy confidence). ``mode="spread"`` (for a method that
    solves the residual system: Levin's; the colorizer gives the others ``"anchor"``): the
    network's guess *without* the cues — its automatic colours, which a user's hints cannot make
    worse — scaled by α = ``SPREAD_CONTRAST`` when there are cues, with the fade weight
    ``SPREAD_FADE``; solved as the residual system, the cues' corrections ``cue − αp`` then spread
    along luminance as Levin's method spreads colours, so the result is ``αp`` plus Levin's
    propagation of the corrections, and exactly ``p`` without cues.

    ``global_hints`` reach a network with a global-hints branch as its input; for one without
    (the shipped model), the guess's chroma is moved ``GLOBAL_SHARE`` of the way onto the hints'
    colour distribution and saturation (:func:`varcolor.gamut.transport`).

    ``decode`` (see :func:`predict`): ``"regression"`` for the ``faithful`` automatic colours,
    ``"annealed"`` for the ``vivid`` ones (:data:`varcolor.options.AUTOMATIC`), with or without cues.

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.neural.siggraph17 import SIGGRAPH17
    >>> net = SIGGRAPH17(width=0.0625).eval()
    >>> gray, empty = np.full((32, 32), 0.5), Cues.empty((32, 32))
    >>> p, weight = guess(net, gray, empty, mode="spread", prior_weight=1e-5)
    >>> p.shape, float(weight.max()) == SPREAD_FADE
    ((32, 32, 2), True)
    """
    spread = mode == "spread"
    given = Cues.empty(gray.shape) if spread else cues
    prior, certainty = predict(net, gray, given, global_hints=global_hints, decode=decode)
    if global_hints is not None and not net.global_hints:  # no branch to read them: move the guess onto them
        moved = transport(prior, global_hints, lightness_of_gray(to_gray(gray)))
        share = GLOBAL_SHARE[decode]
        prior = share * moved + (1 - share) * prior
    if spread:
        return (prior * SPREAD_CONTRAST if cues.count else prior), np.full(certainty.shape, SPREAD_FADE)
    return prior, prior_weight * (certainty if confidence == "entropy" else np.ones_like(certainty))
