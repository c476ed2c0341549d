"""Writes fid_reference.json: pytorch-fid's features and FID on the sets of tests/neural/test_fid.py.

Provenance of the values that test_fid.py compares against: pytorch-fid 0.3.0 at commit
b9c18118d082cbd263c1b8963fc4221dc1cbb659 (github.com/mseitzer/pytorch-fid, 2024-03-16; Apache
License 2.0, tests/data/LICENSE-pytorch-fid.txt), its code run as it is: the FID by
``fid_score.calculate_fid_given_paths`` on two folders of PNG files (batch size 1, so that photos
of different sizes pass its data loader), the features by ``fid_score.get_activations``, both
through its ``InceptionV3`` (``fid_inception_v3()``: the FID blocks, the 299×299 resize, the
[-1, 1] scaling). The weights are tests/conftest.py's ``random_inception()`` (pytorch-fid's
weights file, pt_inception-2015-12-05-6726825d.pth, is not fetched here); its strict
``load_state_dict`` proves they have the file's layout, whose keys and shapes are recorded.

The package imports torchvision, which is absent here. A stand-in gives it what it takes from
there: ``models.inception``'s ``Inception3`` and its ``InceptionA`` … ``InceptionE`` and
``BasicConv2d`` in torchvision's layout (torchvision/models/inception.py),
``models.inception_v3``, ``models.utils.load_state_dict_from_url`` (handing over the random
weights instead of downloading) and ``transforms.ToTensor``::

    git clone https://github.com/mseitzer/pytorch-fid
    git -C pytorch-fid checkout b9c18118d082cbd263c1b8963fc4221dc1cbb659
    PYTORCH_FID_DIR=pytorch-fid/src python tests/data/make_fid_reference.py
"""

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import types
from pathlib import Path

COMMIT = "b9c18118d082cbd263c1b8963fc4221dc1cbb659"
#: Every how many features the file keeps of each image (and each image's sum and norm of all).
EVERY = 16


def _stand_in_torchvision(weights: dict) -> None:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn

    class BasicConv2d(nn.Module):
        def __init__(self, in_channels, out_channels, **kwargs):
            super().__init__()
            self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
            self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)), inplace=True)

    class InceptionA(nn.Module):
        def __init__(self, in_channels, pool_features):
            super().__init__()
            self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)
            self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
            self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
            self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
            self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
            self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

    class InceptionB(nn.Module):
        def __init__(self, in_channels):
            super().__init__()
            self.branch3x3 = BasicConv2d(in_channels, 384, kernel_size=3, stride=2)
            self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
            self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

        def forward(self, x):
            branch3x3 = self.branch3x3(x)
            branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            return torch.cat([branch3x3, branch3x3dbl, F.max_pool2d(x, kernel_size=3, stride=2)], 1)

    class InceptionC(nn.Module):
        def __init__(self, in_channels, channels_7x7):
            super().__init__()
            c7 = channels_7x7
            self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)
            self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
            self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
            self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
            self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    class InceptionD(nn.Module):
        def __init__(self, in_channels):
            super().__init__()
            self.branch3x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
            self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
            self.branch7x7x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
            self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

        def forward(self, x):
            branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
            branch7x7x3 = self.branch7x7x3_1(x)
            for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
                branch7x7x3 = layer(branch7x7x3)
            return torch.cat([branch3x3, branch7x7x3, F.max_pool2d(x, kernel_size=3, stride=2)], 1)

    class InceptionE(nn.Module):
        def __init__(self, in_channels):
            super().__init__()
            self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)
            self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
            self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
            self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
            self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
            self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
            self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
            self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    class Inception3(nn.Module):
        def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, init_weights=None, dropout=0.5):
            super().__init__()
            assert not aux_logits and not transform_input  # what pytorch-fid asks for
            self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
            self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
            self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
            self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
            self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
            self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
            self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
            self.Mixed_5b = InceptionA(192, pool_features=32)
            self.Mixed_5c = InceptionA(256, pool_features=64)
            self.Mixed_5d = InceptionA(288, pool_features=64)
            self.Mixed_6a = InceptionB(288)
            self.Mixed_6b = InceptionC(768, channels_7x7=128)
            self.Mixed_6c = InceptionC(768, channels_7x7=160)
            self.Mixed_6d = InceptionC(768, channels_7x7=160)
            self.Mixed_6e = InceptionC(768, channels_7x7=192)
            self.AuxLogits = None
            self.Mixed_7a = InceptionD(768)
            self.Mixed_7b = InceptionE(1280)
            self.Mixed_7c = InceptionE(2048)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.dropout = nn.Dropout(p=dropout)
            self.fc = nn.Linear(2048, num_classes)

    def inception_v3(weights=None, progress=True, **kwargs):
        assert weights is None  # pytorch-fid's FID model: built bare, its weights loaded after
        return Inception3(**kwargs)

    def load_state_dict_from_url(url, progress=True):
        assert url.endswith("/pt_inception-2015-12-05-6726825d.pth"), url
        return {key: value.clone() for key, value in weights.items()}

    class ToTensor:
        def __call__(self, image):  # a PIL RGB image: C×H×W float32 in [0, 1], as torchvision's
            array = np.asarray(image, dtype=np.uint8)
            return torch.from_numpy(array.copy()).permute(2, 0, 1).contiguous().float().div(255)

    vision = types.ModuleType("torchvision")
    vision.__version__ = "0.19.0"
    vision.models = types.ModuleType("torchvision.models")
    vision.models.inception = types.ModuleType("torchvision.models.inception")
    vision.models.utils = types.ModuleType("torchvision.models.utils")
    vision.transforms = types.ModuleType("torchvision.transforms")
    for name, value in dict(
        BasicConv2d=BasicConv2d,
        InceptionA=InceptionA,
        InceptionB=InceptionB,
        InceptionC=InceptionC,
        InceptionD=InceptionD,
        InceptionE=InceptionE,
        Inception3=Inception3,
    ).items():
        setattr(vision.models.inception, name, value)
    vision.models.inception_v3 = inception_v3
    vision.models.utils.load_state_dict_from_url = load_state_dict_from_url
    vision.transforms.ToTensor = ToTensor
    for module in (vision, vision.models, vision.models.inception, vision.models.utils, vision.transforms):
        sys.modules[module.__name__] = module


def main() -> None:
    import numpy as np
    import torch
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.conftest import random_inception
    from tests.neural.test_fid import FID_PHOTOS, fid_sets

    assert importlib.util.find_spec("torchvision") is None, "the stand-in is for a machine without torchvision"
    weights = random_inception()
    _stand_in_torchvision(weights)
    sys.path.insert(0, os.environ["PYTORCH_FID_DIR"])
    from pytorch_fid import fid_score
    from pytorch_fid.inception import InceptionV3

    torch.set_num_threads(1)  # one order of the sums: the values do not hang on the thread count
    model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]])  # fid_inception_v3(): a strict load
    state = model.blocks[0][0].state_dict()  # (Conv2d_1a_3x3, for the record below)
    assert all(torch.equal(state[key], weights[f"Conv2d_1a_3x3.{key}"]) for key in state)
    sets = dict(zip(("originals", "results"), fid_sets()))
    out: dict = {
        "source": f"pytorch-fid 0.3.0 (github.com/mseitzer/pytorch-fid, commit {COMMIT}): "
        "fid_score.calculate_fid_given_paths([originals, results], batch_size=1, device='cpu', dims=2048) on "
        "8-bit PNG files of test_fid.fid_sets(), and fid_score.get_activations for the features; weights "
        "tests/conftest.random_inception(), loaded strictly by its fid_inception_v3(); torchvision a stand-in "
        "(models.inception's layout); written by tests/data/make_fid_reference.py",
        "photos": [[name, *shape] for name, shape in FID_PHOTOS],
        "every": EVERY,
    }
    with tempfile.TemporaryDirectory() as folder:
        for label, images in sets.items():
            (Path(folder) / label).mkdir()
            files = []
            for (name, _), image in zip(FID_PHOTOS, images):
                files.append(Path(folder) / label / f"{len(files)}_{name}.png")
                Image.fromarray(image).save(files[-1])
            activations = fid_score.get_activations(files, model, batch_size=1, dims=2048, num_workers=0)
            out[label] = [
                {
                    "photo": name,
                    "features": [float(f"{v:.8g}") for v in row[::EVERY]],
                    "sum": float(f"{row.sum():.10g}"),
                    "norm": float(f"{np.linalg.norm(row):.10g}"),
                }
                for (name, _), row in zip(FID_PHOTOS, activations)
            ]
        fid = fid_score.calculate_fid_given_paths(
            [str(Path(folder) / label) for label in sets], batch_size=1, device="cpu", dims=2048, num_workers=0
        )
    out["fid"] = float(f"{fid:.10g}")
    # the layout its strict load took, the weights file's: every key and shape, hashed
    lines = sorted(f"{key} {tuple(tensor.shape)}" for key, tensor in weights.items())
    out["layout"] = {
        "tensors": len(lines),
        "numbers": int(sum(t.numel() for t in weights.values())),
        "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
    }
    print(json.dumps({key: out[key] for key in ("fid", "layout")}))
    (Path(__file__).parent / "fid_reference.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
