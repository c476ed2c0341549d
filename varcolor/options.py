"""The options of a colorization: one frozen value of plain data, passed down.

:class:`Options` holds what every method shares (solver, device, colour space, prior, ...) and,
in ``parameters``, the method's own (a method declares them as a dataclass: see
:mod:`varcolor.methods`).

>>> Options(tol=-1.0)
Traceback (most recent call last):
varcolor.errors.InputError: tol must be a positive number, got -1.0
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from dataclasses import dataclass, field
from typing import Any

from .common.fields import OptionValues, at_least_one, flag_name, flag_value, non_negative, option, positive
from .common.memory import memory_budget
from .errors import InputError
from .solvers.base import TOL
from .solvers.choice import SOLVERS
from .solvers.device import DEVICES

__all__ = [
    "Options",
    "CONFIDENCES",
    "PRIOR_MODES",
    "AUTOMATIC",
    "PRIOR_WEIGHT",
    "SPACES",
    "GAMUTS",
]

CONFIDENCES = ("uniform", "entropy")
PRIOR_MODES = ("anchor", "residual", "spread")
#: The network's automatic colours, as users choose them, and the decoding each reads
#: (:func:`varcolor.neural.prior.predict`): ``faithful``, the regression output.
AUTOMATIC = {"faithful": "regression", "vivid": "annealed"}
#: β, the prior term's weight: chosen on McMaster (used neither to train nor to validate the model).
PRIOR_WEIGHT = 1e-5
#: The default method's name (:class:`~varcolor.methods.levin_multiscale.LevinMultiscale`), written
#: here alone: everything that means the default method says ``DEFAULT_METHOD``.
DEFAULT_METHOD = "levin-multiscale"
SPACES = ("lab", "yiq")
GAMUTS = ("chroma", "clip")


def _automatic(name: str, value) -> None:
    if value not in AUTOMATIC:
        raise InputError(f"{name} must be {' or '.join(AUTOMATIC)}, got {value!r}")


def _threads(name: str, value) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1):
        raise InputError(f"{name} must be a whole number >= 1 (or None: from the cores free), got {value!r}")


def _memory(name: str, value) -> None:
    memory_budget(value)


def _path(name: str, value) -> None:
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise InputError(f"{name} must be a file's path, got {value!r}")


def _name(name: str, value) -> None:
    # A method, prior or detector is named here and looked up by whoever uses it.
    if not isinstance(value, str) or not value:
        raise InputError(f"{name} must be a name, got {value!r}")


@dataclass(frozen=True)
class Options(OptionValues):
    """How to colorize: the options every method shares, and the method's own ``parameters``.

    Build it directly, or from keywords with :func:`varcolor.methods.build_options` (as
    :func:`varcolor.colorize` takes them: a method's own parameters by their names too, the
    options checked by the method); each value is checked when it is made.

    Attributes
    ----------
    method : str
        A registered method (:func:`varcolor.methods.names`): ``levin-multiscale`` (the default:
        Levin's system solved coarse and corrected fine), ``levin``.
    solver : str
        ``auto`` or one of :data:`varcolor.solvers.SOLVERS` (methods that solve a linear system).
    device : str
        ``cpu`` or ``cuda`` (CuPy and a GPU): where iterative solvers and ADMM run, and the
        default engine (``levin-multiscale``'s device path: docs/guide/gpu.md).
    space : str
        ``lab`` (CIE a, b) or ``yiq`` (NTSC I, Q, as Levin et al.'s code); the method must propagate it.
    gamut : str
        How colours outside sRGB are brought in (:func:`varcolor.color.lab_to_rgb`).
    tol, maxiter
        Relative residual and iteration limit of iterative linear solvers.
    max_memory : float or None
        Memory budget of a solve in bytes (None: 80 % of what is available when it is planned).
    prior, network_file, mask_cent, prior_weight, confidence, prior_mode, automatic
        The neural prior (docs/guide/neural.md): which, the network's weights file (default: the
        shipped model), the mask encoding of unknown checkpoints, its weight β.
    threads : int or None
        The most threads a solve's kernels run on.
    instances, detector_file
        Instance-aware colorization (docs/guide/instances.md): the detector (``none``, ``auto``,
        ``faces``, ``cascades`` or a plug-in's) and a plug-in detector's weights file.
    parameters : dataclass or None
        The method's own parameters (its ``Parameters`` class), defaults where not given.
    """

    method: str = option(DEFAULT_METHOD, "colorization method (default: %(default)s)", check=_name, short="-m")
    solver: str = option(
        "auto",
        "linear solver; auto picks one for the image size and memory (default: %(default)s)",
        choices=("auto", *SOLVERS),
    )
    device: str = option("cpu", "where iterative solvers and ADMM run (default: %(default)s)", choices=DEVICES)
    space: str = option("lab", "chroma propagated: Lab a,b or Levin's YIQ I,Q (default: %(default)s)", choices=SPACES)
    gamut: str = option(
        "chroma",
        "out-of-gamut colours: shrink chroma (keeps lightness) or clip RGB (default: %(default)s)",
        choices=GAMUTS,
    )
    tol: float = option(
        TOL,
        "relative residual of iterative solvers, and of edits corrected from held factors (default: %(default)s)",
        check=positive,
    )
    maxiter: int = option(300, "iteration limit of iterative solvers (default: %(default)s)", check=at_least_one)
    max_memory: float | None = option(
        None,
        "memory budget of a solve in GB; solvers estimated to need more are refused and auto picks one "
        "within it (default: 80%% of the memory available)",
        check=_memory,
        metavar="GB",
        unit=1e9,
    )
    prior: str | None = option(None, "add the ideepcolor network's prediction as a prior term", check=_name)
    network_file: str | None = option(
        None,
        "the network's weights file (.safetensors or .pth; default: the compact model shipped with varcolor)",
        metavar="PATH",
        check=_path,
    )
    mask_cent: float | None = option(None, "hint-mask encoding of unknown checkpoints (0 or 0.5)")
    prior_weight: float = option(PRIOR_WEIGHT, "β of the prior term (default: %(default)s)", check=non_negative)
    confidence: str = option(
        "uniform",
        "prior confidence: uniform, or from the class head's entropy (default: %(default)s)",
        choices=CONFIDENCES,
    )
    prior_mode: str = option(
        "spread",
        "levin: the guess anchors u (anchor), the cues' corrections to it spread (residual), or to the "
        "network's automatic colours (spread); other methods: anchor (default: %(default)s)",
        choices=PRIOR_MODES,
    )
    automatic: str = option(
        "faithful",
        "the network's colours: faithful (its regression output, closest to the originals) or vivid "
        "(the rebalanced annealed mean of its class head: more colourful, less accurate) (default: %(default)s)",
        check=_automatic,  # not argparse choices: a bad value is then one line (InputError), not usage + error
        metavar="{" + ",".join(AUTOMATIC) + "}",
    )
    instances: str = option(
        "none",
        "instance-aware colorization with the network: detect objects and colour each from its own crop at the "
        "network's input size (auto: the best detector available offline; faces, cascades: OpenCV's bundled "
        "cascades; or a plug-in's) (default: %(default)s)",
        check=_name,
    )
    detector_file: str | None = option(
        None, "weights of a plug-in detector (.safetensors, or .pt/.pth read with weights_only)", metavar="PATH"
    )
    threads: int | None = option(
        None,
        "most threads of a solve's kernels; default: the cores other processes are not keeping busy now, "
        "at most $NUMBA_NUM_THREADS (results are the same on any count)",
        check=_threads,
        metavar="N",
    )
    parameters: Any = field(default=None, metadata={"help": None})

    def __post_init__(self) -> None:
        self._check_fields()
        object.__setattr__(self, "tol", float(self.tol))
        if self.automatic is None:  # not given (a caller passing None through): the default
            object.__setattr__(self, "automatic", Options.automatic)
        if self.maxiter is None:  # (as automatic: None passed through is the default)
            object.__setattr__(self, "maxiter", Options.maxiter)
        object.__setattr__(self, "maxiter", int(self.maxiter))
        object.__setattr__(self, "prior_weight", float(self.prior_weight))

    @classmethod
    def build(cls, options: Options | None = None, /, **keywords) -> Options:
        """Options from the shared options' keywords (plain data, checked field by field); a
        method's own parameters are its to read: :func:`varcolor.methods.build_options` takes
        them by name and has the method check the whole.

        Parameters
        ----------
        options : Options, optional
            The options to start from.
        **keywords
            Fields of :class:`Options` by name.

        Returns
        -------
        Options
        """
        strangers = [name for name in keywords if name not in cls.names() and name != "parameters"]
        if strangers:
            raise InputError(
                f"unknown option {strangers[0]!r} of Options.build (options: {', '.join(cls.names())}); "
                "a method's own options: varcolor.methods.build_options"
            )
        if options is not None and not keywords:
            return options
        return dataclasses.replace(options, **keywords) if options is not None else cls(**keywords)

    def keywords(self) -> dict:
        """The options as :func:`~varcolor.methods.build_options`'s keywords (for a report, or to build them again)."""
        shared = super().keywords()
        if self.parameters is not None:
            shared.update(dataclasses.asdict(self.parameters))
        return shared

    def flags(self, *, always: tuple[str, ...] = ()) -> list[str]:
        """The command line's flags that give these options (see :meth:`OptionValues.flags`),
        the method's own parameters where they differ from its defaults included.

        Parameters
        ----------
        always : tuple of str, optional
            Options given as flags even where they are at their default (field names, such as
            ``"method"``); the method's own parameters are given only where they differ.

        Returns
        -------
        list of str
            The flags and their values, as ``--name value``.

        Examples
        --------
        >>> from varcolor.methods import build_options
        >>> build_options(method="bilaplacian-gtv", sharpness=4.0).flags(always=("method",))
        ['--method', 'bilaplacian-gtv', '--sharpness', '4.0']
        """
        argv = super().flags(always=always)
        if self.parameters is not None:
            defaults = type(self.parameters)()
            for spec in dataclasses.fields(self.parameters):
                value = getattr(self.parameters, spec.name)
                if value is not None and value != getattr(defaults, spec.name):
                    argv += [flag_name(spec.name), flag_value(value, spec.metadata.get("unit"))]
        return argv
