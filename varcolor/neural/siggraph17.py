"""The SIGGRAPH 2017 "Real-Time User-Guided Image Colorization with Learned Deep Priors" network.

Layer for layer as the public PyTorch implementations define it, so the official checkpoints load
with a strict key match (107 state-dict entries, 34,187,027 parameters at ``width=1``). ``width``
scales every hidden channel count (0.25 gives a ≈2 M-parameter model of the same shape).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..gamut import BIN_COUNT

AB_NORM = 110.0
L_CENTER = 50.0
L_NORM = 100.0
CLASSES = 529  # 23×23 ab bins of the classification head
GLOBAL_INPUTS = BIN_COUNT + 3  # 313-bin ab histogram, its "given" flag, mean saturation, its "given" flag


def _conv(cin: int, cout: int, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding=dilation, dilation=dilation, bias=True)


def _block(cin: int, cout: int, convs: int, dilation: int = 1) -> nn.Sequential:
    """Conv-ReLU repeated, then BatchNorm (the official blocks 1–7)."""
    layers: list[nn.Module] = []
    for k in range(convs):
        layers += [_conv(cin if k == 0 else cout, cout, dilation), nn.ReLU(True)]
    return nn.Sequential(*layers, nn.BatchNorm2d(cout))


class SIGGRAPH17(nn.Module):
    """Zhang et al. 2017's network: ``forward(x)`` with ``x`` the normalised N×4×H×W input
    (L, a, b, mask) returns the 529-bin class logits (at 1/4 size) and the ab map (×110, tanh).

    Examples
    --------
    >>> import torch
    >>> net = SIGGRAPH17(width=0.25).eval()
    >>> logits, ab = net(torch.zeros(1, 4, 32, 32))
    >>> tuple(logits.shape), tuple(ab.shape)
    ((1, 529, 8, 8), (1, 2, 32, 32))
    """

    #: The mask plane's value where no hint is (set by :func:`varcolor.neural.weights.load`).
    mask_cent: float
    #: The training photos' ab-bin frequencies, for the rebalanced decoding (None: not stored).
    ab_distribution: np.ndarray | None

    def __init__(self, width: float = 1.0, global_hints: bool = False):
        super().__init__()
        if not 0 < width <= 4:
            raise ValueError(f"width must be in (0, 4], got {width}")
        self.width = width
        self.global_hints = global_hints
        c = {n: max(1, round(n * width)) for n in (64, 128, 256, 512)}
        self.model1 = _block(4, c[64], 2)
        self.model2 = _block(c[64], c[128], 2)
        self.model3 = _block(c[128], c[256], 3)
        self.model4 = _block(c[256], c[512], 3)
        self.model5 = _block(c[512], c[512], 3, dilation=2)
        self.model6 = _block(c[512], c[512], 3, dilation=2)
        self.model7 = _block(c[512], c[512], 3)
        self.model8up = nn.Sequential(nn.ConvTranspose2d(c[512], c[256], kernel_size=4, stride=2, padding=1))
        self.model3short8 = nn.Sequential(_conv(c[256], c[256]))
        self.model8 = nn.Sequential(
            nn.ReLU(True),
            _conv(c[256], c[256]),
            nn.ReLU(True),
            _conv(c[256], c[256]),
            nn.ReLU(True),
            nn.BatchNorm2d(c[256]),
        )
        self.model9up = nn.Sequential(nn.ConvTranspose2d(c[256], c[128], kernel_size=4, stride=2, padding=1))
        self.model2short9 = nn.Sequential(_conv(c[128], c[128]))
        self.model9 = nn.Sequential(nn.ReLU(True), _conv(c[128], c[128]), nn.ReLU(True), nn.BatchNorm2d(c[128]))
        self.model10up = nn.Sequential(nn.ConvTranspose2d(c[128], c[128], kernel_size=4, stride=2, padding=1))
        self.model1short10 = nn.Sequential(_conv(c[64], c[128]))
        self.model10 = nn.Sequential(nn.ReLU(True), _conv(c[128], c[128]), nn.LeakyReLU(negative_slope=0.2))
        self.model_class = nn.Sequential(nn.Conv2d(c[256], CLASSES, kernel_size=1))
        self.model_out = nn.Sequential(nn.Conv2d(c[128], 2, kernel_size=1), nn.Tanh())
        if global_hints:
            self.model_global = nn.Sequential(
                nn.Conv2d(GLOBAL_INPUTS, c[512], kernel_size=1),
                nn.ReLU(True),
                nn.Conv2d(c[512], c[512], kernel_size=1),
                nn.ReLU(True),
                nn.Conv2d(c[512], c[512], kernel_size=1),
            )

    def forward(self, x: torch.Tensor, global_input: torch.Tensor | None = None):
        """The class logits (``N×529×H/4×W/4``) and the ab map (``N×2×H×W``, within ±110) of the
        normalised input ``x``."""
        if x.shape[1] != 4 or x.shape[2] % 8 or x.shape[3] % 8:
            raise ValueError(f"input must be N×4×H×W with H, W multiples of 8, got {tuple(x.shape)}")
        conv1 = self.model1(x)
        conv2 = self.model2(conv1[:, :, ::2, ::2])
        conv3 = self.model3(conv2[:, :, ::2, ::2])
        conv4 = self.model4(conv3[:, :, ::2, ::2])
        if self.global_hints and global_input is not None:
            conv4 = conv4 + self.model_global(global_input)
        conv7 = self.model7(self.model6(self.model5(conv4)))
        conv8 = self.model8(self.model8up(conv7) + self.model3short8(conv3))
        logits = self.model_class(conv8)
        conv9 = self.model9(self.model9up(conv8) + self.model2short9(conv2))
        conv10 = self.model10(self.model10up(conv9) + self.model1short10(conv1))
        return logits, self.model_out(conv10) * AB_NORM
