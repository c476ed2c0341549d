"""Writes lpips_reference.json: the lpips package's distances on the cases of tests/neural/test_lpips.py.

Provenance of the values that test_matches_the_reference_package_on_the_same_weights compares
against: lpips 0.1.4 (PyPI), ``LPIPS(net="alex", version="0.1")`` with its own v0.1 calibration
(weights/v0.1/alex.pth, the file copied to tests/data/lpips_alex_v0.1.pth) and, as backbone,
test_lpips.random_backbone() (the ImageNet weights cannot be fetched here). The package needs
torchvision only for ``torchvision.models.alexnet``; where torchvision is missing, a stand-in with
torchvision's AlexNet ``features`` layout (torchvision/models/alexnet.py) is put in its place::

    pip download lpips==0.1.4 --no-deps && unzip lpips-0.1.4-py3-none-any.whl -d lpips-wheel
    LPIPS_DIR=lpips-wheel python tests/data/make_lpips_reference.py
"""

import importlib.util
import json
import os
import sys
import types
from pathlib import Path


def _stand_in_torchvision() -> None:
    from torch import nn

    class AlexNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(64, 192, kernel_size=5, padding=2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(192, 384, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(384, 256, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(256, 256, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
            )

    vision = types.ModuleType("torchvision")
    vision.models = types.ModuleType("torchvision.models")
    vision.models.alexnet = lambda pretrained=False, **_: AlexNet()
    sys.modules["torchvision"], sys.modules["torchvision.models"] = vision, vision.models


def main() -> None:
    import numpy as np
    import torch
    from torch import nn

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.neural.test_lpips import LPIPS_CASES, lpips_case, random_backbone

    if importlib.util.find_spec("torchvision") is None:
        _stand_in_torchvision()
    sys.path.insert(0, os.environ["LPIPS_DIR"])
    import lpips

    net = lpips.LPIPS(net="alex", version="0.1", pnet_rand=True, verbose=False)  # its own v0.1 calibration
    state = random_backbone()
    for name, module in net.net.named_modules():  # the slices keep features[i] under the name i
        if isinstance(module, nn.Conv2d):
            index = name.rsplit(".", 1)[-1]
            module.weight.data.copy_(state[f"features.{index}.weight"])
            module.bias.data.copy_(state[f"features.{index}.bias"])

    rows = []
    with torch.no_grad():
        for name, kind in LPIPS_CASES:
            a, b = lpips_case(name, kind)
            to = lambda x: torch.from_numpy(x.transpose(2, 0, 1)[None].astype(np.float32))  # noqa: E731
            value = float(net(to(a), to(b), normalize=True))
            rows.append({"image": name, "distortion": kind, "lpips": float(f"{value:.7g}")})
            print(name, kind, rows[-1]["lpips"])
    out = {
        "source": "lpips 0.1.4, LPIPS(net='alex', version='0.1') with its weights/v0.1/alex.pth, the backbone "
        "test_lpips.random_backbone(), forward(result, reference, normalize=True); written by "
        "tests/data/make_lpips_reference.py",
        "rows": rows,
    }
    (Path(__file__).parent / "lpips_reference.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
