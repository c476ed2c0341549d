"""Object detectors behind one small protocol (:class:`Detector`), and their registry.

``faces`` and ``cascades`` use OpenCV's bundled Haar cascades; a plug-in adds a :class:`Detector`
subclass through :func:`register` or the ``varcolor.detectors`` entry-point group, and ``auto``
picks the available detector of the highest ``rank``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError
from ..registry import Registry

__all__ = [
    "Instance",
    "Detector",
    "Cascades",
    "Faces",
    "TorchDetector",
    "register",
    "unregister",
    "get",
    "names",
    "choices",
    "pick",
    "NEIGHBOURS",
    "DETECT_SIDE",
    "REGISTRY",
]

#: Half-sureness count of a cascade's box: ``n`` merged raw detections score ``1 − exp(−n/10)``
#: (4 neighbours: 0.33; 10: 0.63; 40: 0.98).
NEIGHBOURS = 10.0
#: Fewest merged raw detections a cascade box needs (OpenCV's ``minNeighbors``).
MIN_NEIGHBOURS = 5
#: Longest side (pixels) at which detectors look at an image: a 40 MP scan is scaled down to it,
#: so detection costs the same at any size (a face of 1/40 of the width is still 30 pixels).
DETECT_SIDE = 1280
#: Boxes of one label overlapping more than this (intersection over union) are one instance.
OVERLAP = 0.3
#: At most this many instances, the highest scores first (each costs a network run).
MAX_INSTANCES = 24


@dataclass(frozen=True, eq=False)
class Instance:
    """One detected object.

    Attributes
    ----------
    box : tuple of int
        ``(top, left, height, width)`` in the image's pixels.
    score : float
        The detector's confidence in [0, 1].
    label : str
        What it is (``face``, ``upper body``, a plug-in's class name).
    mask : ndarray or None
        ``height×width`` soft mask in [0, 1] over the box, where the detector gives one (else
        :func:`varcolor.instances.masks.soft_mask` makes it from the image's edges).
    """

    box: tuple[int, int, int, int]
    score: float
    label: str
    mask: np.ndarray | None = field(default=None, repr=False)


class Detector:
    """A detector: ``name``, ``summary`` (one line for ``--help``), ``rank`` (``auto`` takes the
    available one of highest rank), ``needs_weights`` (it is given a weights file, the
    ``detector_file`` option) and :meth:`detect`.

    Made once per image colorizer with the weights path (None where it needs none).

    Parameters
    ----------
    weights : path, optional
        The detector's weights file (the ``detector_file`` option): required by a detector that
        ``needs_weights``, refused by one that does not.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    rank: ClassVar[int] = 0
    needs_weights: ClassVar[bool] = False

    def __init__(self, weights: str | os.PathLike | None = None):
        if self.needs_weights and weights is None:
            raise InputError(f"detector {self.name!r} needs a weights file: give detector_file (--detector-file)")
        if not self.needs_weights and weights is not None:
            raise InputError(f"detector {self.name!r} takes no weights file (detector_file is for plug-ins)")
        self.weights = weights

    @classmethod
    def available(cls) -> bool:
        """Whether it can run here without more (its library and built-in weights are installed)."""
        return True

    def detect(self, gray: np.ndarray) -> list[Instance]:
        """The instances in ``gray`` (``H×W`` in [0, 1]).

        Parameters
        ----------
        gray : ndarray
            The image, ``H×W`` in [0, 1].

        Returns
        -------
        list of Instance
            The objects found.
        """
        raise NotImplementedError


# --- OpenCV's cascades ---------------------------------------------------------------------------


def _cv2():
    try:
        import cv2
    except ImportError:
        raise InputError(
            "detectors 'faces' and 'cascades' need OpenCV: pip install 'opencv-python-headless>=4.8,<5'"
        ) from None
    return cv2


def _cascade_file(name: str) -> Path | None:
    try:
        import cv2
    except ImportError:
        return None
    path = Path(getattr(getattr(cv2, "data", None), "haarcascades", "") or ".") / name
    return path if path.is_file() and hasattr(cv2, "CascadeClassifier") else None


def _scaled(gray: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """``gray`` as 8-bit, its longer side at most ``side``, and the factor back to full size."""
    cv2 = _cv2()
    image = np.clip(np.rint(gray * 255), 0, 255).astype(np.uint8)
    factor = max(gray.shape) / side
    if factor > 1:
        size = (max(1, round(gray.shape[1] / factor)), max(1, round(gray.shape[0] / factor)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return image, gray.shape[1] / size[0]
    return image, 1.0


def _iou(a: tuple, b: tuple) -> float:
    top, left = max(a[0], b[0]), max(a[1], b[1])
    bottom, right = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    common = max(bottom - top, 0) * max(right - left, 0)
    return common / float(a[2] * a[3] + b[2] * b[3] - common)


def suppress(found: list[Instance], overlap: float = OVERLAP) -> list[Instance]:
    """Keep, of boxes of one label overlapping by more than ``overlap`` (IoU), the best scored;
    at most :data:`MAX_INSTANCES`, best first.

    Parameters
    ----------
    found : list of Instance
        The detections, in any order.
    overlap : float, optional
        The intersection over union above which two boxes of one label are one (default :data:`OVERLAP`).

    Examples
    --------
    >>> boxes = [Instance((0, 0, 10, 10), 0.5, "face"), Instance((1, 1, 10, 10), 0.9, "face"),
    ...          Instance((1, 1, 10, 10), 0.4, "upper body")]
    >>> kept = suppress(boxes)
    >>> [i.label for i in kept], [i.score for i in kept]
    (['face', 'upper body'], [0.9, 0.4])
    """
    kept: list[Instance] = []
    for instance in sorted(found, key=lambda i: -i.score):
        if all(k.label != instance.label or _iou(k.box, instance.box) <= overlap for k in kept):
            kept.append(instance)
    return kept[:MAX_INSTANCES]


class Cascades(Detector):
    """OpenCV's bundled Haar cascades: faces (frontal, profile both ways), upper and full bodies.

    Parameters
    ----------
    weights : None
        No weights file: the cascades are OpenCV's own (one given is refused).
    """

    name = "cascades"
    summary = "OpenCV's bundled Haar cascades: frontal and profile faces, upper and full bodies"
    rank = 5
    #: (cascade file, label, mirrored too): the profile cascade finds faces turned one way only.
    CASCADES: ClassVar[tuple[tuple[str, str, bool], ...]] = (
        ("haarcascade_frontalface_default.xml", "face", False),
        ("haarcascade_profileface.xml", "face", True),
        ("haarcascade_upperbody.xml", "upper body", False),
        ("haarcascade_fullbody.xml", "full body", False),
    )

    @classmethod
    def available(cls) -> bool:
        return all(_cascade_file(name) is not None for name, _, _ in cls.CASCADES)

    def __init__(self, weights=None):
        super().__init__(weights)
        cv2 = _cv2()
        self.classifiers = []
        for name, label, mirrored in self.CASCADES:
            path = _cascade_file(name)
            if path is None:
                raise InputError(
                    f"detector {self.name!r}: OpenCV {cv2.__version__} has no {name} (OpenCV 5 dropped the "
                    "bundled cascades): pip install 'opencv-python-headless>=4.8,<5'"
                )
            classifier = cv2.CascadeClassifier(str(path))
            if classifier.empty():
                raise InputError(f"{path}: OpenCV cannot read this cascade")
            self.classifiers.append((classifier, label, mirrored))

    def detect(self, gray: np.ndarray) -> list[Instance]:
        """The faces and bodies the cascades find in ``gray`` (looked at :data:`DETECT_SIDE` pixels at most
        on its longer side), overlapping boxes of one label merged (:func:`suppress`).

        Parameters
        ----------
        gray : ndarray
            As :meth:`Detector.detect` takes it.
        """
        cv2 = _cv2()
        image, factor = _scaled(gray, DETECT_SIDE)
        image = cv2.equalizeHist(image)  # the cascades were trained on equalised faces
        found = []
        for classifier, label, mirrored in self.classifiers:
            for flip in (False, True) if mirrored else (False,):
                source = image[:, ::-1].copy() if flip else image
                boxes, counts = classifier.detectMultiScale2(source, scaleFactor=1.1, minNeighbors=MIN_NEIGHBOURS)
                for (x, y, w, h), n in zip(np.reshape(boxes, (-1, 4)), np.ravel(counts)):
                    x = image.shape[1] - x - w if flip else x
                    box = (round(y * factor), round(x * factor), round(h * factor), round(w * factor))
                    clipped = _clip(box, gray.shape)
                    if clipped is not None:
                        found.append(Instance(clipped, float(1 - np.exp(-float(n) / NEIGHBOURS)), label))
        return suppress(found)


class Faces(Cascades):
    """OpenCV's bundled face cascades only (frontal, profile both ways).

    Parameters
    ----------
    weights : None
        As :class:`Cascades` takes it.
    """

    name = "faces"
    summary = "OpenCV's bundled Haar cascades for frontal and profile faces"
    # auto's pick among the cascades: the body cascades fire on buildings and windows (Kodak).
    rank = 10
    CASCADES = Cascades.CASCADES[:2]


def _clip(box: tuple[int, int, int, int], shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """``box`` clipped to an image of ``shape``; None where less than 2×2 pixels remain."""
    top, left = max(int(box[0]), 0), max(int(box[1]), 0)
    bottom, right = min(int(box[0] + box[2]), shape[0]), min(int(box[1] + box[3]), shape[1])
    return (top, left, bottom - top, right - left) if bottom - top >= 2 and right - left >= 2 else None


# --- plug-ins: a Mask R-CNN-style PyTorch module -------------------------------------------------


class TorchDetector(Detector):
    """Base of a plug-in detector that is a PyTorch module with torchvision's detection interface
    (Mask R-CNN's): called with a list of ``3×H×W`` float tensors in [0, 1], it returns a list of
    dicts with ``boxes`` (``N×4``, x1, y1, x2, y2), ``scores`` (``N``), ``labels`` (``N``, integer
    indices into :attr:`categories`) and optionally ``masks`` (``N×1×H×W`` in [0, 1]).

    A subclass sets ``name``, ``summary``, ``categories`` and :meth:`build` (the module, weights
    not loaded); the weights come from the path the user gives (``detector_file``), read by
    :func:`varcolor.neural.weights.read_state` — safetensors, or ``torch.load(weights_only=True)``:
    a pickle that needs code is refused — and must match the module's tensors name for name and
    shape for shape. Nothing is downloaded. The gray image is given as three equal channels, at
    most :attr:`size` pixels on its longer side; detections scoring under :attr:`min_score` are
    dropped.

    Parameters
    ----------
    weights : path
        The weights file the user gives (``detector_file``): safetensors, or a PyTorch file read with
        ``weights_only``; required.
    """

    needs_weights = True
    rank = 20
    categories: ClassVar[tuple[str, ...]] = ()
    size: ClassVar[int] = 800
    min_score: ClassVar[float] = 0.5

    def build(self) -> Any:
        """The module (``torch.nn.Module``) whose weights the file holds."""
        raise NotImplementedError

    def __init__(self, weights=None):
        super().__init__(weights)
        try:
            import torch  # noqa: F401
        except ImportError:
            raise InputError(f"detector {self.name!r} needs PyTorch: pip install 'varcolor[neural]'") from None
        from ..neural.weights import check_state, check_tensors, read_state

        path = Path(weights)
        if not path.is_file():
            raise InputError(f"{path}: detector weights file not found")
        state, _ = read_state(path)
        check_tensors(path, state)
        module = self.build()
        expected = module.state_dict()
        check_state(path, state, expected, f"not weights of detector {self.name!r}")
        module.load_state_dict(state)
        self.module = module.eval()
        self.path = path

    def detect(self, gray: np.ndarray) -> list[Instance]:
        """The module's detections in ``gray`` that score at least :attr:`min_score`, their boxes and masks
        at the image's size, overlapping boxes of one label merged (:func:`suppress`).

        Parameters
        ----------
        gray : ndarray
            As :meth:`Detector.detect` takes it.
        """
        import torch

        factor = max(1.0, max(gray.shape) / self.size)
        small = gray
        if factor > 1:
            from skimage.transform import resize

            small = resize(gray, (round(gray.shape[0] / factor), round(gray.shape[1] / factor)), anti_aliasing=True)
        image = torch.from_numpy(np.repeat(small[None].astype(np.float32), 3, axis=0))
        with torch.no_grad():
            outputs = self.module([image])
        try:
            output = outputs[0]
            boxes = output["boxes"].detach().double().cpu().numpy().reshape(-1, 4)
            scores = output["scores"].detach().double().cpu().numpy().reshape(-1)
            labels = output["labels"].detach().cpu().numpy().reshape(-1).astype(np.int64)
            masks = output.get("masks")
            masks = None if masks is None else masks.detach().double().cpu().numpy().reshape(-1, *small.shape)
        except (TypeError, KeyError, IndexError, AttributeError, ValueError, RuntimeError) as exc:
            raise InputError(f"detector {self.name!r}: output not in the Mask R-CNN form ({exc})") from None
        if not (len(boxes) == len(scores) == len(labels) and (masks is None or len(masks) == len(boxes))):
            raise InputError(f"detector {self.name!r}: boxes, scores, labels and masks differ in number")
        if not (np.all(np.isfinite(boxes)) and np.all(np.isfinite(scores))) or (
            masks is not None and not np.all(np.isfinite(masks))
        ):
            raise InputError(f"detector {self.name!r}: its output has NaN or infinite values")
        found = []
        for k in np.flatnonzero(scores >= self.min_score):
            x1, y1, x2, y2 = boxes[k] * factor
            box = _clip((round(y1), round(x1), round(y2 - y1), round(x2 - x1)), gray.shape)
            if box is None:
                continue
            label = self.categories[labels[k]] if 0 <= labels[k] < len(self.categories) else str(int(labels[k]))
            mask = None
            if masks is not None:
                from skimage.transform import resize

                full = resize(masks[k], gray.shape, order=1) if factor > 1 else masks[k]
                top, left, height, width = box
                mask = np.clip(full[top : top + height, left : left + width], 0.0, 1.0)
            found.append(Instance(box, float(np.clip(scores[k], 0.0, 1.0)), label, mask))
        return suppress(found)


# --- registry ------------------------------------------------------------------------------------

#: Names that are not detectors: no instances (today's behaviour), and the best one available.
SPECIAL = ("none", "auto")
#: The detectors, built-in and plug-in (:class:`varcolor.registry.Registry`, as the methods').
REGISTRY: Registry[Detector] = Registry(
    "detector", Detector, "varcolor.detectors", base_label="varcolor.instances.Detector", reserved=SPECIAL
)
#: The registry's own: add a detector (a decorator), remove one, one by name, their names (built-in first).
register, unregister, get, names = REGISTRY.register, REGISTRY.unregister, REGISTRY.get, REGISTRY.names


def choices() -> tuple[str, ...]:
    """What the ``instances`` option takes: ``none``, ``auto`` and the registered detectors."""
    return (*SPECIAL, *names())


def pick(name: str, weights: str | os.PathLike | None = None) -> Detector | None:
    """The detector ``name`` made with ``weights`` (None for ``none``). ``auto``: with weights,
    the one plug-in that takes weights; without, the available detector of highest rank that
    needs none.

    Parameters
    ----------
    name : str
        ``none``, ``auto`` or a registered detector's name (:func:`choices`).
    weights : path, optional
        A weights file for a detector that takes one (the ``detector_file`` option); refused with ``none``.

    Examples
    --------
    >>> pick("none") is None
    True
    """
    if name == "none":
        if weights is not None:
            raise InputError("detector_file given but instances is 'none': name the detector (--instances NAME)")
        return None
    if name != "auto":
        return get(name)(weights)
    if weights is not None:
        return _weighted()(weights)
    # (every entry is a Detector: the registry checks its base; issubclass says so to a checker)
    wanted = [d for d in REGISTRY.registered() if issubclass(d, Detector) and not d.needs_weights and d.available()]
    if not wanted:
        raise InputError(
            "no detector is available for instances 'auto': OpenCV's bundled cascades need "
            "pip install 'opencv-python-headless>=4.8,<5'"
        )
    return max(wanted, key=lambda d: d.rank)(weights)


def _weighted() -> type[Detector]:
    """``auto``'s detector when weights are given: the one plug-in that takes weights."""
    wanted = [d for d in REGISTRY.registered() if issubclass(d, Detector) and d.needs_weights and d.available()]
    if len(wanted) != 1:
        raise InputError(
            "instances 'auto' with detector_file needs exactly one plug-in detector that takes weights; "
            f"found {len(wanted)}{': name it (--instances NAME)' if wanted else ''}"
        )
    return wanted[0]


for _detector in (Cascades, Faces):
    register(_detector)


def check_options(options, *, network: bool) -> None:
    """Refuse, with one line, instance options no image makes right (before any image is read).

    Parameters
    ----------
    options : Options
        The run's options (their ``instances`` and ``detector_file``).
    network : bool
        Whether the run colours with the network (the ``ideepcolor`` prior or method): without it, any
        detector is refused.
    """
    if options.instances != "none" and not network:
        raise InputError(
            f"instances {options.instances!r} colour each object with the network: add prior='ideepcolor' "
            "(--prior ideepcolor) or use method 'ideepcolor'"
        )
    weights = options.detector_file
    if weights is None:
        if options.instances not in SPECIAL and get(options.instances).needs_weights:
            raise InputError(f"detector {options.instances!r} needs a weights file: --detector-file PATH")
        return
    if options.instances == "none":
        raise InputError("detector_file given but instances is 'none': name the detector (--instances NAME)")
    if options.instances != "auto" and not get(options.instances).needs_weights:
        raise InputError(f"detector {options.instances!r} takes no weights file (--detector-file is for plug-ins)")
    if options.instances == "auto":
        _weighted()
    if not Path(weights).is_file():
        raise InputError(f"{weights}: detector weights file not found")
