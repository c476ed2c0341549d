"""Where the benchmarks find the project's image sets, and which of them may be used to choose
constants.

``SHARED``: ``../shared/data`` beside the checkout, or the folder that ``VARCOLOR_DATA`` names (a
copy carried to a machine without ``../shared``, such as a lent GPU machine:
``benchmarks/gpu_session.sh``).

The tuning/test split (issue 42): constants of the automatic colours and of the prior (the
temperature, the rebalancing strength, α, the fade, ``GLOBAL_SHARE``) are chosen on the
**tuning** part only, and every figure quoted in the README, the model card and the docs comes
from the **test** part. Both parts are lists of image files in sorted order, so anyone gets the
same split:

- tuning: ``imagenet-sample/train`` images 0–299 (sorted file order) and ``bsds500/train``;
- test: ``bsds500/val``, ``mcmaster``, ``kodak`` and ``imagenet-sample/train`` images 300 on.

Note that the shipped network was *trained* on all of ``imagenet-sample/train`` and
``bsds500/train``: the tuning part and the test part's ImageNet subset are photos it has seen.
Only ``bsds500/val``, ``mcmaster`` and ``kodak`` are unseen by both the training and the tuning
(:data:`UNSEEN`).
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("VARCOLOR_DATA") or Path(__file__).resolve().parent.parent.parent / "shared" / "data")

#: The ImageNet sample's images before this index (sorted file order) are tuning images, the rest test images.
IMAGENET_TUNING = 300
#: The parts: name → (set, first index, end index or None) slices of each set's sorted file list.
PARTS = {
    "tuning": (("imagenet-sample/train", 0, IMAGENET_TUNING), ("bsds500/train", 0, None)),
    "test": (
        ("bsds500/val", 0, None),
        ("mcmaster", 0, None),
        ("kodak", 0, None),
        ("imagenet-sample/train", IMAGENET_TUNING, None),
    ),
}
#: Test sets that neither the shipped network's training nor the tuning saw.
UNSEEN = ("bsds500/val", "mcmaster", "kodak")


def images(folder: Path) -> list[Path]:
    """The image files of ``folder`` (recursively), in sorted order."""
    from varcolor import walk_images

    return [folder / name for name in sorted(walk_images(folder), key=str)]


def split(part: str, root: Path | None = None, *, every: int = 1) -> dict[str, list[Path]]:
    """The images of ``part`` (``"tuning"`` or ``"test"``) under ``root`` (default :data:`SHARED`),
    by set (``"imagenet-sample/train 300+"`` style labels); ``every`` keeps every n-th image of
    each set (a subsample spread evenly over it, for sweeps that cannot afford all).

    A set missing under ``root`` is left out (a machine with only some of the data)."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    root = SHARED if root is None else Path(root)
    out = {}
    for folder, first, end in PARTS[part]:
        if not (root / folder).is_dir():
            continue
        label = folder if (first, end) == (0, None) else f"{folder} {first}{'+' if end is None else f'–{end - 1}'}"
        out[label] = images(root / folder)[first:end][::every]
    return out


def colourless(rgb) -> bool:
    """Whether a colour image has no colour to find (every pixel within 1 ab unit of gray): such
    photos (a few in the ImageNet sample) are left out of the automatic-colour scores, where the
    gray image's PSNR would be infinite."""
    from varcolor.color import rgb_to_lab

    return bool(abs(rgb_to_lab(rgb)[..., 1:]).max() < 1.0)


def label(name: str) -> str:
    """A set's label as the tables print it (``bsds500/val`` → ``BSDS500 val``)."""
    names = {"bsds500/val": "BSDS500 val", "bsds500/train": "BSDS500 train", "mcmaster": "McMaster", "kodak": "Kodak"}
    if name.startswith("imagenet-sample/train"):
        return "ImageNet sample " + name.split(" ", 1)[1] if " " in name else "ImageNet sample"
    return names.get(name, name)
