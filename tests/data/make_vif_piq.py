"""Writes vif_piq.json: piq's ``vif_p`` on the distorted photos of tests/test_metrics.py.

Provenance of the reference values that the VIF test compares against. piq (0.8.0, PyPI) needs
torchvision only for its other metrics, so its package ``__init__`` is skipped and ``piq.vif`` is
imported alone; run with ``PIQ_DIR`` set to the unpacked wheel's ``piq/`` folder and torch installed::

    pip download piq==0.8.0 --no-deps && unzip piq-0.8.0-py3-none-any.whl -d piq-wheel
    PIQ_DIR=piq-wheel/piq python tests/data/make_vif_piq.py
"""

import json
import os
import sys
import types
from pathlib import Path


def main() -> None:
    import numpy as np
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    package = types.ModuleType("piq")
    package.__path__ = [os.environ["PIQ_DIR"]]
    sys.modules["piq"] = package
    import piq.vif

    from tests.test_metrics import VIF_CASES, vif_case

    def tensor(image):
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)[None])).float()

    rows = []
    for name, kind in VIF_CASES:
        result, reference = vif_case(name, kind)
        value = float(piq.vif.vif_p(tensor(result), tensor(reference), data_range=1.0))
        rows.append({"image": name, "distortion": kind, "vif_p": round(value, 6)})
        print(name, kind, rows[-1]["vif_p"])
    out = {
        "source": "piq 0.8.0, piq.vif.vif_p(x=result, y=reference, data_range=1.0, sigma_n_sq=2.0) on float32 "
        "tensors; written by tests/data/make_vif_piq.py",
        "rows": rows,
    }
    (Path(__file__).parent / "vif_piq.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
