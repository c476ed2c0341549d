"""Colorization quality against the number of hints, with the ideepcolor evaluation protocol.

For a colour image, every method and every hint count, hints are drawn as in Zhang et al. 2017
(:func:`varcolor.cues.sample_ideepcolor`: 6×6 patches of the mean true chroma, corners ~
N(centre, side/4)) from a stream seeded by the protocol's seed, the photo's content (its gray's
8-bit levels, :func:`content_seed`) and the hint count, never by the photo's place in its folder;
the image is colorized from its same-lightness gray, and PSNR, SSIM, VIF, CIEDE2000 and the
result's colourfulness (Hasler & Süsstrunk 2003) are computed, the 8-bit result against the
unquantised original. The published protocol resizes to 256×256 (aspect not kept, bilinear
with anti-aliasing: :data:`RESIZE`); ``"full"`` keeps the image's size. Means come with their
standard errors over the photos (:func:`summarize`).

The inputs and the scoring are those of a method run elsewhere on exported files
(:mod:`varcolor.bench.export`, :mod:`varcolor.bench.results`), by construction: the gray is the
8-bit image :func:`protocol_gray` gives (what the exported PNG holds), the hints are the points
:func:`hint_points` gives (what the exported points file holds) read by
:meth:`~varcolor.cues.Cues.from_points`, and every result is scored as the 8-bit image it would be
saved as (:func:`score`).

A method is a registered varcolor method (``levin-multiscale``, the default; ``levin``,
``levin-symmetric``, ``bilaplacian-gtv``, ``ideepcolor`` — the network alone — or a plug-in's)
or ``METHOD+ideepcolor``: that method with the network as its prior. Two names can be one
solve at the scored size (``levin-multiscale`` is ``levin`` up to 65,536 pixels, so at the
protocol's 256²): :func:`same_solves` says which, and :func:`markdown` marks their rows.
``varcolor bench`` runs this over a folder; ``benchmarks/quality.py`` adds the published curve
and plots.

Examples
--------
>>> import skimage.data
>>> rows = evaluate(skimage.data.astronaut() / 255.0, ["levin"], [0, 50], resolution="64")
>>> [(row["method"], row["hints"]) for row in rows]
[('levin', 0), ('levin', 50)]
>>> bool(rows[1]["psnr"] > rows[0]["psnr"])   # hints bring the colours back
True
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from .. import methods as registry
from .. import priors
from ..common.memory import check_memory
from ..common.raster import coordinates
from ..errors import SIZES, InputError, check_unit_range, real_array
from ..options import PRIOR_WEIGHT, Options

__all__ = [
    "HINTS",
    "SCORES",
    "check_methods",
    "check_hints",
    "check_photo",
    "parse_resolution",
    "photo_array",
    "original",
    "method_options",
    "protocol_gray",
    "hint_points",
    "score",
    "evaluate",
    "summarize",
    "same_solves",
    "markdown",
    "versions",
    "versions_line",
    "pools_text",
    "source_commit",
]

#: The published sweep's hint counts (its last, 501, shown as 500).
HINTS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500)
SCORES = ("psnr", "ssim", "vif", "ciede2000", "colorfulness")
#: The protocol's seed; a photo with ``n`` hints draws from ``[seed, content_seed(photo), n]``.
SEED = 2017
#: How :func:`original` resizes a photo to the protocol's square (what a reader needs to make the
#: same inputs): scikit-image's ``resize``, bilinear, Gaussian anti-aliasing, clipped to [0, 1].
RESIZE = "skimage.transform.resize(order=1, anti_aliasing=True), clipped to [0, 1]"
#: What is compared with what (for the manifest and the tables).
SCORED = (
    "the result as 8-bit sRGB (as saved) against the original unquantised (float, after the resize); "
    "colourfulness is the result's alone"
)
#: The side of a hint's square patch.
PATCH = 6
#: Bytes per pixel of a photo read and resized for scoring: its float64 samples, the decoder's, the
#: anti-aliasing filter's copy; a little above the peaks seen at 64 and 225 MP
#: (benchmarks/results/code_notes.md).
READ_BYTES_PER_PIXEL = 64


#: The distributions whose versions shape a bench's numbers, by the name a record gives them:
#: the random streams of the hints (NumPy), the resize (scikit-image), the solvers (SciPy), the
#: kernels (numba) and the network (PyTorch, where installed).
LIBRARIES = {"numpy": "numpy", "scipy": "scipy", "scikit-image": "scikit-image", "numba": "numba", "torch": "torch"}


def versions(methods: Sequence[str] = (), network_file: str | None = None, fid_file: str | None = None) -> dict:
    """What shaped a run's numbers beyond its protocol, as every bench table, JSON and manifest
    records it: varcolor's version and commit (:func:`source_commit`), Python's and each of
    :data:`LIBRARIES`' (None: not installed), the thread pools and their BLAS
    (``threadpoolctl.threadpool_info()``, less the files' paths) and the processor's cores; for
    methods that run the network (``METHOD+ideepcolor``, ``ideepcolor``) its weights file and
    SHA-256, and with ``fid_file`` the FID network's.

    Parameters
    ----------
    methods : sequence of str
        The run's method names (``METHOD`` or ``METHOD+PRIOR``).
    network_file : str, optional
        The network's weights (None: the shipped model), where a method runs it.
    fid_file : str, optional
        The FID feature network's weights (``--fid``).

    Examples
    --------
    >>> record = versions(["levin"])
    >>> sorted(key for key in record if key in ("varcolor", "numpy", "scipy", "scikit-image", "torch"))
    ['numpy', 'scikit-image', 'scipy', 'torch', 'varcolor']
    >>> "network_sha256" in record
    False
    """
    import os
    import platform
    from importlib import metadata

    import scipy.linalg  # noqa: F401 (its BLAS loaded, so that the thread pools below list it)
    from threadpoolctl import threadpool_info

    from ..io import file_sha256
    from ..version import __version__

    def installed(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    commit, modified = source_commit()
    record: dict = {"varcolor": __version__, "varcolor_commit": commit, "varcolor_modified": modified}
    record["python"] = platform.python_version()
    record.update({key: installed(name) for key, name in LIBRARIES.items()})
    kept = ("user_api", "internal_api", "version", "num_threads", "threading_layer", "architecture")
    record["threadpools"] = [{key: pool[key] for key in kept if key in pool} for pool in threadpool_info()]
    record["cores"] = os.cpu_count()
    if any(_runs_network(method) for method in methods):
        from ..neural.weights import find_weights

        weights = find_weights(network_file)
        record.update(network_file=weights.name, network_sha256=file_sha256(weights))
    if fid_file is not None:
        record.update(fid_file=os.path.basename(fid_file), fid_sha256=file_sha256(fid_file))
    return record


def source_commit() -> tuple[str | None, bool | None]:
    """The git commit varcolor is imported from, and whether its files there differ from it:
    ``git rev-parse HEAD`` of the checkout whose top folder holds the package (an editable
    install, or the source tree itself); (None, None) for an installed copy, a checkout without
    git, or a package that merely lies inside some other repository (a virtual environment in
    a checkout)."""
    import subprocess
    from pathlib import Path

    package = Path(__file__).resolve().parents[1]  # varcolor/, this module being varcolor/bench/sweep.py
    root = package.parent

    def git(*argv: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *argv], capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != root:
        return None, None
    commit = git("rev-parse", "HEAD")
    changes = git("status", "--porcelain", "--untracked-files=no", "--", package.name)
    return commit, None if commit is None or changes is None else bool(changes)


def _runs_network(method: str) -> bool:
    """Whether the bench method ``method`` (``METHOD[+PRIOR]``) runs the network."""
    name, prior = registry.split_prior(method)
    return prior is not None or registry.get(name).prior_for(Options(method=name)) is not None


def versions_line(record: dict) -> str:
    """:func:`versions`' record as a Markdown table's footnote.

    Parameters
    ----------
    record : dict
        What :func:`versions` gave.

    Examples
    --------
    >>> versions_line({"varcolor": "1.0", "varcolor_commit": None, "numpy": "2.1", "torch": None,
    ...                "threadpools": [{"internal_api": "openblas", "version": "0.3", "num_threads": 4}]})
    'varcolor 1.0; numpy 2.1; threads: openblas 0.3 × 4.'
    """
    parts = []
    commit = record.get("varcolor_commit")
    if "varcolor" in record:
        modified = " with changes" if record.get("varcolor_modified") else ""
        parts.append(f"varcolor {record['varcolor']}" + (f" (commit {commit}{modified})" if commit else ""))
    parts += [f"{key} {record[key]}" for key in ("python", *LIBRARIES) if record.get(key)]
    for name in ("network", "fid"):
        if record.get(f"{name}_sha256"):
            parts.append(f"{name} weights {record[f'{name}_file']} (SHA-256 {record[f'{name}_sha256']})")
    if record.get("threadpools"):
        parts.append(f"threads: {pools_text(record)}")
    return "; ".join(parts) + "."


def pools_text(record: dict) -> str:
    """The thread pools of :func:`versions`' record in a line: each library, its version and threads.

    Parameters
    ----------
    record : dict
        What :func:`versions` gave; only its ``threadpools`` are read.

    Examples
    --------
    >>> pools_text({"threadpools": [{"internal_api": "openblas", "version": "0.3", "num_threads": 4}]})
    'openblas 0.3 × 4'
    """
    return ", ".join(
        f"{pool.get('internal_api')} {pool.get('version')} × {pool.get('num_threads')}"
        for pool in record.get("threadpools", [])
    )


def _takes(method: type[registry.Method], prior: str) -> bool:
    """Whether ``method`` takes ``prior`` as its prior (a method that is the network's own output
    takes none beside it; one whose solve reads no prior refuses it)."""
    if prior not in priors.names() or method.prior_for(Options(method=method.name)) is not None:
        return False
    try:
        return method.prior_for(Options(method=method.name, prior=prior)) == prior
    except InputError:
        return False


def check_methods(methods: Sequence[str]) -> list[str]:
    """The method names, each ``METHOD`` or ``METHOD+PRIOR``; an unknown one is an :class:`InputError`.

    Parameters
    ----------
    methods : sequence of str
        Method names, each a registered method, alone or with a prior it takes (``levin+ideepcolor``);
        none given is refused too.
    """
    for method in methods:
        name, prior = registry.split_prior(method)
        if name not in registry.names() or (prior is not None and not _takes(registry.get(name), prior)):
            plain = registry.names()
            with_prior = [m.name for m in registry.registered() if _takes(m, priors.names()[0])]
            known = (
                ", ".join(plain)
                + "; or "
                + ", ".join(registry.with_prior(m, p) for m in with_prior for p in priors.names())
            )
            raise InputError(f"unknown method {method!r} (known: {known})")
    if not methods:
        raise InputError("no method given")
    return list(methods)


def check_hints(hints: Sequence[int], pixels: int, what: str = "hints") -> None:
    """Refuse a hint count below 0 or above ``pixels``, the pixels a photo is scored at: no sweep
    means more hints than pixels, and drawing them would not end.

    Parameters
    ----------
    hints : sequence of int
        The hint counts.
    pixels : int
        The pixels of the image the hints are drawn on.
    what : str
        How the message names the hint counts (``--hints`` on the command line).

    Examples
    --------
    >>> check_hints([0, 5], 64)
    >>> check_hints([10**20], 256 * 256)
    Traceback (most recent call last):
    varcolor.errors.InputError: hints must be between 0 and 65536 (the pixels scored), got 100000000000000000000
    """
    for n in hints:
        if not 0 <= n <= pixels:
            raise InputError(f"{what} must be between 0 and {pixels} (the pixels scored), got {n}")


def check_photo(
    shape: tuple[int, int],
    methods: Sequence[str],
    hints: Sequence[int] = HINTS,
    resolution: str = "256",
    *,
    name: str = "the photo",
    max_memory: float | None = None,
    **options,
) -> None:
    """Refuse, from a photo's size alone (its file's header), scoring that could not run: more
    hints than the pixels scored, or more memory than there is (reading and resizing the photo,
    and at ``"full"`` resolution the methods' solves).

    Parameters
    ----------
    shape : tuple of int
        ``(H, W)`` of the photo, upright.
    methods, hints, resolution
        As :func:`evaluate` takes them.
    name : str
        The photo in the message (its file).
    max_memory : float, optional
        The memory budget in bytes (None: a share of what is available, :mod:`varcolor.common.memory`).
    **options
        As :func:`evaluate` takes them (:func:`method_options`).
    """
    from ..api import check_fits  # the solvers' stack: imported where used, not at start-up

    height, width = shape
    scored = (height, width) if resolution == "full" else (int(parse_resolution(resolution)),) * 2
    check_hints(hints, scored[0] * scored[1], f"{name}: hints")
    solves = [check_fits(scored, **method_options(method, **options)).bytes for method in methods]
    need = READ_BYTES_PER_PIXEL * height * width + max(solves, default=0)
    check_memory(need, f"{name}: scoring a {width}×{height} photo", max_memory)


def photo_array(rgb, name: str = "rgb", *, gray: bool = False) -> np.ndarray:
    """``rgb`` as the protocol takes a photo, or one line naming ``name`` that says why it cannot
    be one: an ``H×W×3`` array (×4: alpha ignored; ``H×W`` too with ``gray``) of finite values in
    [0, 1] (a nested list is read as an array, as everywhere in varcolor).

    Parameters
    ----------
    rgb : array_like
        The photo.
    name : str
        How the message names it (the argument).
    gray : bool
        Whether an ``H×W`` gray image is taken too.

    Examples
    --------
    >>> photo_array(np.full((4, 4, 3), 200.0))
    Traceback (most recent call last):
    varcolor.errors.InputError: rgb must hold values in [0, 1], got [200, 200] (8-bit levels? divide by 255)
    """
    rgb = real_array(rgb, name)
    if not ((rgb.ndim == 3 and rgb.shape[2] in (3, 4)) or (gray and rgb.ndim == 2)):
        shapes = "H×W×3 (×4: alpha ignored" + ("; H×W: gray)" if gray else ")")
        raise InputError(f"{name} must be an {shapes} image, got shape {rgb.shape}")
    check_unit_range(rgb, name, " (varcolor.read_image reads a file so)")
    return rgb


def parse_resolution(text: str) -> str:
    """``"full"``, or a side length of at least 8 pixels (as text).

    Parameters
    ----------
    text : str
        The resolution as given: ``"full"`` (each photo at its own size) or the protocol square's
        side in pixels (digits only); anything else is an :class:`InputError`.
    """
    if text == "full" or (text.isdigit() and int(text) >= 8):
        return text
    raise InputError(f"resolution must be 'full' or a side length of at least 8 pixels, got {text!r}")


def original(rgb: np.ndarray, resolution: str = "256") -> np.ndarray:
    """The original the protocol scores against (its ground truth): RGB in [0, 1], resized to a
    square unless ``"full"`` (or already that square).

    Parameters
    ----------
    rgb : ndarray
        The colour photo, ``H×W×3`` floats in [0, 1] (×4: alpha ignored; a gray ``H×W`` is taken
        as three equal channels).
    resolution : str
        ``"full"``, or the square's side (:func:`parse_resolution`).

    Raises
    ------
    InputError
        A photo of another shape, or with values outside [0, 1] (8-bit levels, NaN).
    """
    rgb = photo_array(rgb, "rgb", gray=True)
    rgb = np.repeat(rgb[..., None], 3, axis=2) if rgb.ndim == 2 else rgb[..., :3]
    side = None if resolution == "full" else int(parse_resolution(resolution))
    if side is not None and rgb.shape[:2] != (side, side):
        from skimage.transform import resize  # here, not at import (see evaluate)

        rgb = np.clip(resize(rgb, (side, side), order=1, anti_aliasing=True), 0, 1)
    return rgb


def method_options(
    method: str,
    network_file: str | None = None,
    prior_weight: float = PRIOR_WEIGHT,
    prior_mode: str = Options.prior_mode,
    automatic: str | None = None,
    instances: str = Options.instances,
    detector_file: str | None = None,
    **parameters,
) -> dict:
    """:func:`varcolor.colorize` keywords for a method name (``METHOD[+PRIOR]``); ``network_file``,
    ``automatic`` (faithful or vivid; None: the default), ``instances`` and ``detector_file``
    reach the methods that use the network;
    ``parameters`` (a method's own, e.g. bilaplacian-gtv's ``sharpness`` and ``lam``) reach the
    methods that have them, and None means the method's default.

    Parameters
    ----------
    method : str
        ``METHOD`` or ``METHOD+PRIOR`` (:func:`check_methods`).
    network_file : str, optional
        The network's weights file (None: the shipped model), for the methods that use the network.
    prior_weight, prior_mode
        The prior's weight β and how the method uses it (``spread``, ``anchor`` or ``residual``), as
        :class:`~varcolor.options.Options` takes them; given only with a ``+PRIOR``.
    automatic : str, optional
        How the network's colours are read: ``faithful`` or ``vivid`` (None: the default).
    instances : str
        The instance detector (``none``, ``auto``, ``faces``, ``cascades`` or a plug-in's).
    detector_file : str, optional
        A plug-in detector's weights file.
    **parameters
        A method's own parameters by name; those the method does not have, and those set to None,
        are left out.
    """
    name, prior = registry.split_prior(method)
    chosen: dict[str, object] = {"method": name}
    known = registry.get(name).parameter_names()
    chosen.update((key, value) for key, value in parameters.items() if key in known and value is not None)
    if prior:
        chosen.update(prior=prior, prior_weight=prior_weight, prior_mode=prior_mode)
    if registry.get(name).prior_for(Options(method=name, prior=prior)) is not None:
        chosen.update(network_file=network_file, automatic=automatic, instances=instances, detector_file=detector_file)
    return chosen


def protocol_gray(rgb: np.ndarray) -> np.ndarray:
    """The gray input of the protocol: the colour image's same-lightness gray at 8 bits (as floats
    in [0, 1]), exactly what an exported gray PNG holds, so that a method run elsewhere on that file
    and a method run here start from the same pixels.

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
        The original (:func:`original`), in [0, 1].

    Raises
    ------
    InputError
        A photo of another shape, or with values outside [0, 1] (8-bit levels, NaN).

    Examples
    --------
    >>> import numpy as np
    >>> gray = protocol_gray(np.random.default_rng(0).random((4, 4, 3)))
    >>> bool(np.array_equal(np.round(gray * 255), gray * 255))
    True
    """
    from ..color import same_lightness_gray
    from ..io import to_levels

    rgb = photo_array(rgb)
    return to_levels(same_lightness_gray(rgb), np.empty(rgb.shape[:2], np.uint8)) / 255.0


def content_seed(rgb: np.ndarray) -> int:
    """A photo's part of its hints' seed: the first 8 bytes of the BLAKE2b hash of its protocol
    gray's 8-bit levels (:func:`protocol_gray`) and their shape, as a whole number. The same photo
    draws the same hints alone or among others, in any order.

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
        The original (:func:`original`), in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> photo = np.random.default_rng(0).random((8, 8, 3))
    >>> content_seed(photo) == content_seed(photo.copy()) != content_seed(photo[::-1])
    True
    """
    import hashlib

    levels = np.round(protocol_gray(rgb) * 255).astype(np.uint8)
    digest = hashlib.blake2b(np.ascontiguousarray(levels).tobytes(), digest_size=8, person=b"varcolor-hints")
    digest.update(repr(levels.shape).encode())
    return int.from_bytes(digest.digest(), "little")


def hint_points(rgb: np.ndarray, n: int, seed: int = SEED) -> list[dict]:
    """The protocol's ``n`` hints on a photo as point records (``y, x, a, b``: one a cue
    pixel, in raster order), the form a points file holds and
    :meth:`~varcolor.cues.Cues.from_points` reads: the 6×6 patches of
    :func:`~varcolor.cues.sample_ideepcolor` drawn from ``[seed, content_seed(rgb), n]``
    (NumPy's ``default_rng``: its stream is NumPy's, a manifest names the version), overlaps
    resolved (later patches win).

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
        The original (:func:`original`), in [0, 1].
    n, seed : int
        The hint count and the protocol's seed.

    Examples
    --------
    >>> import numpy as np
    >>> points = hint_points(np.random.default_rng(0).random((16, 16, 3)), 1)
    >>> len(points), sorted(points[0])
    (36, ['a', 'b', 'x', 'y'])
    """
    from ..cues import sample_ideepcolor

    cues = sample_ideepcolor(rgb, n=n, patch=PATCH, rng=[seed, content_seed(rgb), n])
    ys, xs = coordinates(cues.mask)
    # float() of a float64 is printed by JSON as the shortest text that reads back to it: exact.
    return [
        {"y": int(y), "x": int(x), "a": float(cues.ab[y, x, 0]), "b": float(cues.ab[y, x, 1])} for y, x in zip(ys, xs)
    ]


def score(result: np.ndarray, rgb: np.ndarray) -> dict[str, float]:
    """The protocol's scores of one result: PSNR, SSIM, VIF and CIEDE2000 of the result as an 8-bit
    image (as saved to a file, here or by a method run elsewhere) against the original
    (unquantised), and the 8-bit result's colourfulness (:func:`varcolor.metrics.colorfulness`).

    Parameters
    ----------
    result : ndarray
        The colorized image, ``H×W×3`` in [0, 1] (``H×W``: gray).
    rgb : ndarray
        The original (:func:`original`), the same size.

    Raises
    ------
    InputError
        A result or original of another shape or size, or with values outside [0, 1] (a
        result's 0–255 levels: divide them by 255 first).
    """
    from .. import metrics
    from ..io import to_levels

    result = photo_array(result, "result", gray=True)
    rgb = photo_array(rgb, "rgb")
    result = np.repeat(result[..., None], 3, axis=2) if result.ndim == 2 else result[..., :3]
    result = to_levels(result, np.empty(result.shape, np.uint8))
    return {
        "psnr": metrics.psnr(result, rgb),
        "ssim": metrics.ssim(result, rgb),
        "vif": _vif(result, rgb),
        "ciede2000": metrics.ciede2000(result, rgb),
        "colorfulness": metrics.colorfulness(result),
    }


def evaluate(
    rgb: np.ndarray,
    methods: Sequence[str],
    hints: Sequence[int] = HINTS,
    resolution: str = "256",
    index: int = 0,
    seed: int = SEED,
    global_hints=None,
    fid=None,
    **options,
) -> list[dict]:
    """Score every method at every hint count on one colour image.

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
        The colour original, in [0, 1] (resized here unless ``resolution="full"``).
    methods, hints : sequences
        Method names (see the module) and hint counts.
    resolution : str
        A side length (``"256"``: the published protocol) or ``"full"``.
    index : int
        The image's place in its set (kept for the callers' order; the hints do not depend on it).
    seed : int
        The protocol's seed: hints are drawn from ``[seed, content_seed(photo), n]`` (:func:`hint_points`).
    global_hints : GlobalHints, optional
        Given to every method (for a network with a global-hints branch).
    fid : optional
        The FID feature network (:func:`varcolor.bench.fid.load`): each row then holds the 8-bit
        result's features (``_features``) and the 8-bit original's (``_original_features``; both
        as a PNG file holds them, which is what pytorch-fid reads), which :func:`summarize` turns
        into each cell's ``fid`` and ``kid``.
    **options
        ``weights``, ``prior_weight``, ``prior_mode``, ``sharpness``, ``lam`` (:func:`method_options`).

    Returns
    -------
    list of dict
        One row per (hints, method): resolution, method, hints, psnr, ssim, vif, ciede2000,
        colorfulness and seconds (the colorization's; VIF is NaN at resolutions under 41).

    Raises
    ------
    InputError
        A photo that is no ``H×W×3`` image in [0, 1] (its shape as given named), or one smaller
        than a hint's patch; options a method refuses.
    """
    # Here, not at import: the command line reads HINTS and SEED for its help and must start fast.
    from ..api import colorize
    from ..cues import Cues
    from ..io import to_levels

    given = np.shape(rgb)
    rgb = original(rgb, resolution)
    if min(rgb.shape[:2]) < PATCH:
        raise InputError(f"rgb: a {given[1]}×{given[0]} photo is smaller than a hint's {PATCH}×{PATCH} patch {SIZES}")
    gray = protocol_gray(rgb)
    rows = []
    features = {}
    if fid is not None:  # the original as a file holds it, as the results: 8-bit
        levels = to_levels(rgb[..., :3], np.empty(rgb[..., :3].shape, np.uint8))
        features = {"_original_features": fid.features([levels])[0].tolist()}
    for n in hints:
        cues = Cues.from_points(hint_points(rgb, n, seed), gray.shape)
        for method in methods:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # 0 hints: the gray image, by design
                result = colorize(gray, cues, global_hints=global_hints, **method_options(method, **options))
            seconds = time.perf_counter() - start  # the method's time, not the scoring's
            rows.append(
                {"resolution": resolution, "method": method, "hints": n, **score(result.rgb, rgb), "seconds": seconds}
            )
            if fid is not None:  # the result as scored: 8-bit
                saved = to_levels(np.asarray(result.rgb)[..., :3], np.empty(rgb.shape, np.uint8))
                rows[-1].update(_features=fid.features([saved])[0].tolist(), **features)
    return rows


def _vif(result: np.ndarray, rgb: np.ndarray) -> float:
    from .. import metrics

    try:
        return metrics.vif(result, rgb)
    except InputError:  # smaller than VIF's coarsest window
        return float("nan")


def summarize(rows: list[dict], resolutions: Sequence[str], methods: Sequence[str], hints: Sequence[int]) -> dict:
    """Means over images, keyed ``"resolution/method/hints"``: the scores and seconds, each with
    its standard error over the images (``psnr_se``…: the sample standard deviation over √n; NaN
    for one image), and the image count.

    Parameters
    ----------
    rows : list of dict
        The rows of :func:`evaluate`, one per image, method and hint count (with their scores and
        ``seconds``; FID features where a feature network was given: the cells then have ``fid``,
        ``kid``, ``fid_features``, the numbers per image, and ``fid_small_set``, whether the
        photos are too few for a non-singular covariance, :func:`varcolor.bench.fid.small_set`).
    resolutions, methods, hints : sequences
        The resolutions, method names and hint counts whose cells are made; a combination without
        rows has no cell.

    Examples
    --------
    >>> rows = [{"resolution": "256", "method": "levin", "hints": 5, "psnr": p, "ssim": 0.9, "vif": 0.5,
    ...          "ciede2000": 3.0, "colorfulness": 20.0, "seconds": 0.1} for p in (30.0, 32.0)]
    >>> cell = summarize(rows, ["256"], ["levin"], [5])["256/levin/5"]
    >>> cell["psnr"], cell["psnr_se"], cell["images"]
    (31.0, 1.0, 2)
    """
    from .fid import small_set

    table: dict[str, dict[str, float]] = {}
    for resolution in resolutions:
        for method in methods:
            for n in hints:
                chosen = [r for r in rows if (r["resolution"], r["method"], r["hints"]) == (resolution, method, n)]
                if chosen:
                    key = f"{resolution}/{method}/{n}"
                    table[key] = {}
                    for m in (*SCORES, "seconds"):
                        values = np.array([r[m] for r in chosen], float)
                        table[key][m] = float(np.mean(values))
                        table[key][f"{m}_se"] = standard_error(values)
                    if all("_features" in r for r in chosen):
                        table[key]["fid"] = fid_of(chosen)
                        table[key]["kid"] = kid_of(chosen)
                        # too few photos for a non-singular covariance: the FID is the sample's
                        dimension = len(chosen[0]["_features"])
                        table[key]["fid_small_set"] = small_set(len(chosen), dimension)
                        table[key]["fid_features"] = dimension
                    table[key]["images"] = len(chosen)
    return table


#: The confidence of the paired differences' intervals (:func:`paired`).
CONFIDENCE = 0.95


def paired(
    rows: list[dict], resolution: str, methods: Sequence[str], hints: Sequence[int], score: str = "psnr"
) -> dict[str, dict[str, float]]:
    """Each method against the first of ``methods`` on the same photos: for each hint count, the
    mean of the per-photo differences of ``score`` (method − first), its :data:`CONFIDENCE`
    interval (Student's t over the photos) and the two-sided paired t-test's p-value, keyed
    ``"resolution/method/hints"``. A comparison of photos scored by both only; NaN interval and
    p-value for fewer than two such photos (or identical differences: no spread to test).

    Parameters
    ----------
    rows : list of dict
        The bench's rows (one per photo, method, hint count; ``image`` names the photo).
    resolution : str
        The rows' resolution compared.
    methods : sequence of str
        The methods, the first the baseline.
    hints : sequence of int
        The hint counts.
    score : str
        The score compared (one of :data:`SCORES`).

    Examples
    --------
    >>> rows = [{"resolution": "256", "image": f"p{k}", "method": m, "hints": 5, "psnr": v}
    ...         for k, (a, b) in enumerate([(30.0, 31.0), (28.0, 29.5), (25.0, 25.5)])
    ...         for m, v in (("levin", a), ("other", b))]
    >>> cell = paired(rows, "256", ["levin", "other"], [5])["256/other/5"]
    >>> cell["difference"], cell["images"], bool(cell["low"] < 1.0 < cell["high"])
    (1.0, 3, True)
    """
    from scipy import stats

    out: dict[str, dict[str, float]] = {}
    if not methods:
        return out
    first = methods[0]
    for method in methods[1:]:
        for n in hints:
            base = {
                r["image"]: r[score]
                for r in rows
                if (r["resolution"], r["method"], r["hints"]) == (resolution, first, n)
            }
            mine = {
                r["image"]: r[score]
                for r in rows
                if (r["resolution"], r["method"], r["hints"]) == (resolution, method, n)
            }
            both = sorted(set(base) & set(mine))
            if not both:
                continue
            differences = np.array([mine[image] - base[image] for image in both], float)
            mean = float(np.mean(differences))
            low = high = p = float("nan")
            if len(both) >= 2 and np.std(differences) > 0:
                half = stats.t.ppf(0.5 + CONFIDENCE / 2, len(both) - 1) * standard_error(differences)
                low, high = mean - half, mean + half
                p = float(stats.ttest_rel([mine[i] for i in both], [base[i] for i in both]).pvalue)
            out[f"{resolution}/{method}/{n}"] = {
                "difference": mean,
                "low": float(low),
                "high": float(high),
                "p": p,
                "images": len(both),
            }
    return out


def paired_markdown(comparisons: dict[str, dict[str, float]], baseline: str, score: str = "psnr") -> str:
    """The paired differences (:func:`paired`) as a Markdown table: a row per method and hint count.

    Parameters
    ----------
    comparisons : dict
        :func:`paired`'s answer.
    baseline : str
        The method the others are compared with (named in the heading).
    score : str
        The score compared.
    """
    if not comparisons:
        return ""
    lines = [
        f"Paired against {baseline} on the same photos: mean difference of {score} (method − {baseline}), its "
        f"{round(100 * CONFIDENCE)} % confidence interval (Student's t) and the paired t-test's p-value.",
        "",
        "| resolution | method | hints | photos | difference | interval | p |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, cell in comparisons.items():
        resolution, method, n = key.split("/")
        interval = "" if not np.isfinite(cell["low"]) else f"[{cell['low']:+.3f}, {cell['high']:+.3f}]"
        p = "" if not np.isfinite(cell["p"]) else f"{cell['p']:.3g}"
        lines.append(
            f"| {resolution} | {method} | {n} | {cell['images']} | {cell['difference']:+.3f} | {interval} | {p} |"
        )
    return "\n".join(lines) + "\n"


def fid_of(rows: list[dict]) -> float:
    """The FID (:func:`varcolor.bench.fid.fid`) of the rows' results to their originals, from the
    features :func:`evaluate` put in them; NaN for fewer than two photos.

    Parameters
    ----------
    rows : list of dict
        One cell's rows (a method, a hint count), one per photo.
    """
    from .fid import fid

    return _of_features(rows, fid)


def kid_of(rows: list[dict]) -> float:
    """The KID (:func:`varcolor.bench.fid.kernel_distance`) of the rows' results to their
    originals, from the same features as :func:`fid_of`: unbiased for a few photos, where the FID of
    fewer photos than features is not; NaN for fewer than two.

    Parameters
    ----------
    rows : list of dict
        As :func:`fid_of` takes them.
    """
    from .fid import kernel_distance

    return _of_features(rows, kernel_distance)


def _of_features(rows: list[dict], distance: Callable[[np.ndarray, np.ndarray], float]) -> float:
    """``distance`` of the rows' result features to their originals': NaN under two photos, whose
    features have no spread to compare."""
    if len(rows) < 2:
        return float("nan")
    return distance(np.array([r["_features"] for r in rows]), np.array([r["_original_features"] for r in rows]))


def standard_error(values: np.ndarray) -> float:
    """The standard error of the mean of ``values``: their sample standard deviation (``ddof=1``)
    over the square root of their count; NaN for fewer than two.

    Parameters
    ----------
    values : ndarray
        One score per photo.

    Examples
    --------
    >>> standard_error(np.array([1.0, 2.0, 3.0, 4.0]))
    0.6454972243679028
    """
    values = np.asarray(values, float)
    if values.size < 2:
        return float("nan")
    return float(np.std(values, ddof=1) / np.sqrt(values.size))


#: How a score is written in the Markdown table.
FORMATS = {
    "psnr": "{:.2f}",
    "ssim": "{:.4f}",
    "vif": "{:.4f}",
    "ciede2000": "{:.2f}",
    "colorfulness": "{:.1f}",
    "fid": "{:.2f}",
    "kid": "{:.4f}",
}


def _cell(cell: dict | None, score: str, fmt: str) -> str:
    """A table cell: the mean, and ± its standard error where the summary has a finite one."""
    if cell is None or cell.get(score) is None:
        return ""
    value, error = cell[score], cell.get(f"{score}_se")
    if np.isnan(value):
        return "n/a"
    if error is None or not np.isfinite(error):
        return fmt.format(value)
    return f"{fmt.format(value)} ± {fmt.format(error)}"


def same_solves(methods: Sequence[str], resolution: str, **options) -> dict[str, str]:
    """The methods of ``methods`` that are, by design, another method's solve at ``resolution``
    (a side: the protocol's square; at ``"full"`` each photo has its own size, and none is
    named), each with that method's name (:meth:`varcolor.methods.Method.same_as`).

    Parameters
    ----------
    methods : sequence of str
        Method names (``METHOD`` or ``METHOD+PRIOR``).
    resolution : str
        A side length, or ``"full"``.
    **options
        As :func:`evaluate` takes them (a method's own ``factor``, say).

    Examples
    --------
    >>> same_solves(["levin-multiscale", "levin", "levin-multiscale+ideepcolor"], "256", restraint="off")
    {'levin-multiscale': 'levin', 'levin-multiscale+ideepcolor': 'levin+ideepcolor'}
    >>> same_solves(["levin-multiscale", "levin"], "256")  # restrained (the default): a solve of its own
    {}
    >>> same_solves(["levin-multiscale"], "512")
    {}
    """
    if resolution == "full":
        return {}
    side = int(parse_resolution(resolution))
    same = {}
    for method in methods:
        name, prior = registry.split_prior(method)
        keywords = {key: value for key, value in method_options(method, **options).items() if key != "method"}
        other = registry.get(name).same_as((side, side), registry.build_options(method=name, **keywords))
        if other is not None:
            same[method] = other if prior is None else registry.with_prior(other, prior)
    return same


def markdown(
    summary: dict,
    resolutions: Sequence[str],
    methods: Sequence[str],
    hints: Sequence[int],
    label: str,
    anchors: dict[int, float] | None = None,
    same: dict[str, str] | None = None,
) -> str:
    """The summary as a Markdown table (a row per resolution, method and score; a column per hint
    count; each cell the mean ± its standard error over the photos, where the summary has one),
    with ``anchors`` (hints → PSNR at 256², the published SIGGRAPH17 curve) as a last row;
    a method of ``same`` (:func:`same_solves`) is marked as the other method's solve.

    Parameters
    ----------
    summary : dict
        The cells of :func:`summarize`, keyed ``"resolution/method/hints"``.
    resolutions, methods, hints : sequences
        The rows' resolutions and methods, and the columns' hint counts, in the order shown.
    label : str
        What the means are over, for the table's caption (the photos' set, say).
    anchors : dict of int to float, optional
        The published PSNR at 256² by hint count, shown as a last row (hint counts without one: blank).
    same : dict of str to str, optional
        Methods that are another method's solve at a size, each with that method's name (:func:`same_solves`).
    """
    from .fid import network_name

    same = same or {}
    out = [
        f"Mean ± standard error over {label}, ideepcolor hint protocol (6×6 patches of mean true ab, "
        "seeded by each photo's content); PSNR in dB, SSIM, VIF and ΔE = CIEDE2000 of the 8-bit result "
        "against the unquantised original; CF = the result's colourfulness (Hasler & Süsstrunk 2003).",
        "",
    ]
    scored = [cell for cell in summary.values() if "fid" in cell]
    if scored:
        out[-2] += f" FID and KID on {network_name(scored[0]['fid_features'])}."
        small = [cell["images"] for cell in scored if cell["fid_small_set"]]
        if small:  # the FID's covariance of no more photos than features is singular
            out[-2] += (
                f" FID on {min(small)} photos, no more than its {scored[0]['fid_features']} features, is "
                "dominated by the sample: read the KID (unbiased at any size)."
            )
    out += [
        "| resolution | method | metric | " + " | ".join(str(n) for n in hints) + " |",
        "|" + "---|" * (3 + len(hints)),
    ]
    for resolution in resolutions:
        for method in methods:
            for score, fmt in FORMATS.items():
                if score not in SCORES and not any(score in cell for cell in summary.values()):
                    continue  # (fid, kid: only where a weights file was given)
                cells = [_cell(summary.get(f"{resolution}/{method}/{n}"), score, fmt) for n in hints]
                shown = f"{method} (= {same[method]}: the same solve at this size)" if method in same else method
                out.append(f"| {resolution} | {shown} | {score} | " + " | ".join(cells) + " |")
    if anchors:
        cells = [f"{anchors[n]:.2f}" if n in anchors else "" for n in hints]
        out.append(
            "| 256 | SIGGRAPH17 (published: ImageNet val, 1000 images; 500 = 501) | psnr | " + " | ".join(cells) + " |"
        )
    return "\n".join(out) + "\n"
