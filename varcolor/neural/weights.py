"""Loading network weights safely: safetensors, or ``torch.load(weights_only=True)``; never pickles.

The default model is read from the package's data (``varcolor/neural/models/``, found through
:mod:`importlib.resources`, so that a wheel or ``pip install .`` carries it) and nowhere else (a
file of the same name in the current folder never stands in for it). Other weights are looked up
as given, then in that folder, then in ``$VARCOLOR_MODELS``; nothing is downloaded. The width of the
network is read from the shapes, and every tensor must be floating point and finite.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Set as AbstractSet
from importlib.resources import files
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from ..io.atomic import file_sha256
from .siggraph17 import CLASSES, SIGGRAPH17

#: SHA-256 of known official checkpoints → the mask encoding they were trained with.
KNOWN_MASK_CENT = {
    "df00044c0a4d7c3edcecf6f75437ce346a66e7a42612d9b968e1a7e17dbc6f66": 0.0,  # siggraph17-df00044c.pth
}
#: The package data folder of shipped networks (a real folder: setuptools installs package data unzipped).
MODELS_DIR = Path(str(files(__package__).joinpath("models")))
#: The compact network varcolor ships in :data:`MODELS_DIR` (its ``README.md`` is the model card).
DEFAULT_WEIGHTS = "ideepcolor-w025.safetensors"
#: Optional tensor of a weights file: the training photos' 529 ab-bin frequencies.
DISTRIBUTION = "ab_distribution"


def find_weights(path: str | os.PathLike | None) -> Path:
    """``path`` itself, or the file of that name in :data:`MODELS_DIR` or ``$VARCOLOR_MODELS``; None:
    the shipped default model, from :data:`MODELS_DIR` only."""
    if path is None:
        default = MODELS_DIR / DEFAULT_WEIGHTS
        if not default.is_file():
            raise InputError(
                f"{default}: the default model is missing from this installation; reinstall varcolor "
                "or give weights explicitly"
            )
        return default
    candidates = [Path(path), MODELS_DIR / Path(path).name]
    if os.environ.get("VARCOLOR_MODELS"):
        candidates.append(Path(os.environ["VARCOLOR_MODELS"]) / Path(path).name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise InputError(
        f"{path}: weights file not found (looked in {', '.join(str(c.parent) for c in candidates)}); "
        "varcolor never downloads weights — see README, 'Neural prior'"
    )


def read_state(path: Path) -> tuple[dict, dict]:
    """(state dict, metadata) from a safetensors or PyTorch file, refusing pickled code."""
    try:
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            state, metadata = {}, {}
            with safe_open(str(path), framework="pt") as f:
                metadata = dict(f.metadata() or {})
                for key in f.keys():
                    state[key] = f.get_tensor(key)
            return state, metadata
        with warnings.catch_warnings():
            # PyTorch's safe unpickler warns of any pickle protocol but its own 2 ("please file an
            # issue"): a file it cannot read is refused below in one line, one it reads is fine.
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch and safetensors raise many types for a bad file
        raise InputError(f"{path}: cannot read weights ({str(exc).splitlines()[0][:200]})") from None
    if isinstance(loaded, dict) and "state_dict" in loaded and isinstance(loaded["state_dict"], dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise InputError(f"{path}: not a state dict of tensors")
    return loaded, {}


def check_tensors(path: str | os.PathLike, state: dict) -> None:
    """Refuse weights that cannot compute a colour: integer or boolean tensors (a network of
    them outputs garbage) and NaN or infinite values (a black image).

    One exception: +inf in a batch-norm running variance, which a float16 export overflows to
    (the shipped model has such channels; they output their bias, a constant, which is what a
    huge variance means)."""
    for key, tensor in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        if not tensor.is_floating_point():
            raise InputError(
                f"{path}: tensor {key} holds {str(tensor.dtype).replace('torch.', '')} values; "
                "network weights must be floating point"
            )
        finite = torch.isfinite(tensor)
        if key.endswith("running_var"):
            finite |= torch.isposinf(tensor)
        if not bool(finite.all()):
            raise InputError(f"{path}: tensor {key} holds NaN or infinite values")


def check_state(
    path: Path, state: dict, expected: dict, what: str, *, optional: AbstractSet[str] = frozenset()
) -> None:
    """Refuse, in one line naming the file, a state dict whose keys or shapes are not ``expected``'s
    (a module's own ``state_dict()``; keys in ``optional`` may be missing): the first few keys
    missing, unexpected and of the wrong shape are named after ``what``."""
    missing = sorted(set(expected) - set(state) - set(optional))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong:
        details = "; ".join(
            f"{label}: {', '.join(keys[:4])}{' …' if len(keys) > 4 else ''}"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if keys
        )
        raise InputError(f"{path}: {what} ({details})")


def parse_mask_cent(value, source: str) -> float:
    """A hint-mask offset: a finite number in [0, 1] (0 and 0.5 are the known encodings)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{source}: mask_cent must be a number, got {str(value)[:40]!r}") from None
    if not (np.isfinite(number) and 0.0 <= number <= 1.0):
        raise InputError(f"{source}: mask_cent must be a number in [0, 1] (0 or 0.5), got {value}")
    return number


def load(
    path: str | os.PathLike | None,
    mask_cent: float | None = None,
    width: float | None = None,
    global_hints: bool | None = None,
) -> SIGGRAPH17:
    """A :class:`SIGGRAPH17` with the weights of ``path`` (width and global branch read from them;
    ``width`` and ``global_hints``, when given, must match).

    ``mask_cent`` is the value subtracted from the hint mask: known official checkpoints set it
    (0 for ``siggraph17-df00044c.pth``), our safetensors files carry it in their metadata; for any
    other file it must be given (0 for Caffe-converted weights, 0.5 for the retrained ``pytorch.pth``).
    The returned network is in eval mode with ``net.mask_cent`` set. ``path`` None: the shipped
    default model."""
    path = find_weights(path)
    state, metadata = read_state(path)
    check_tensors(path, state)
    state = {(k[len("module.") :] if k.startswith("module.") else k): v for k, v in state.items()}
    if "model1.0.weight" not in state:
        raise InputError(f"{path}: not SIGGRAPH17 weights (no model1.0.weight)")
    found_width = state["model1.0.weight"].shape[0] / 64
    found_global = any(k.startswith("model_global.") for k in state)
    if width is not None and round(width * 64) != round(found_width * 64):
        raise InputError(f"{path}: weights of a width-{found_width:g} network, but width {width:g} was asked for")
    if global_hints is not None and global_hints != found_global:
        have, want = ("has a", "without") if found_global else ("has no", "with")
        raise InputError(f"{path}: the network {have} global-hints branch, but one {want} it was asked for")
    width = found_width
    distribution = state.pop(DISTRIBUTION, None)
    if distribution is not None and (
        distribution.shape != (CLASSES,) or bool((distribution < 0).any()) or not float(distribution.sum()) > 0
    ):
        raise InputError(f"{path}: {DISTRIBUTION} must be {CLASSES} non-negative numbers, not all zero")
    net = SIGGRAPH17(width=width, global_hints=found_global)
    expected = net.state_dict()
    optional = {k for k in expected if k.endswith("num_batches_tracked")}
    check_state(path, state, expected, f"keys differ from a SIGGRAPH17 of width {width:g}", optional=optional)
    net.load_state_dict({**{k: expected[k] for k in optional}, **state})
    if mask_cent is not None:
        mask_cent = parse_mask_cent(mask_cent, "--mask-cent")
    elif "mask_cent" in metadata:
        mask_cent = parse_mask_cent(metadata["mask_cent"], f"{path} (metadata)")
    else:
        mask_cent = KNOWN_MASK_CENT.get(file_sha256(path))
    if mask_cent is None:
        raise InputError(
            f"{path}: unknown checkpoint; give its mask encoding (--mask-cent 0 for Caffe-converted "
            "weights and siggraph17-df00044c.pth, 0.5 for pytorch.pth)"
        )
    net.mask_cent = float(mask_cent)
    # The training photos' ab-bin frequencies, for the rebalanced decoding (None: not stored).
    net.ab_distribution = None if distribution is None else distribution.double().numpy()
    return net.eval()
