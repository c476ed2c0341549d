"""The options of a colorization: one frozen, validated value, built once and passed down.

:class:`Options` holds what every method shares (solver, device, colour space, prior, ...) and,
in ``parameters``, the method's own (a method declares them as a dataclass: see
:mod:`varcolor.methods`). It is the one list of options: :func:`varcolor.colorize` and
:class:`varcolor.Colorizer` take its fields as keywords, the command line builds its flags from
its fields' metadata (their help text and choices), and ``varcolor bench`` and the IR decoder build
it the same way, so an option is written down once.

>>> Options.build(method="bilaplacian-gtv", sharpness=4.0).parameters.sharpness
4.0
>>> Options.build(lam=0.1)
Traceback (most recent call last):
varcolor.errors.InputError: lam: options of method bilaplacian-gtv; method 'levin' has none
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError
from .memory import memory_budget
from .solvers.base import TOL
from .solvers.choice import SOLVERS
from .solvers.device import DEVICES

__all__ = [
    "OptionValues",
    "Options",
    "PRIORS",
    "CONFIDENCES",
    "PRIOR_MODES",
    "AUTOMATIC",
    "DECODINGS",
    "PRIOR_WEIGHT",
    "SPACES",
    "GAMUTS",
    "positive",
    "non_negative",
]

PRIORS = ("ideepcolor",)
CONFIDENCES = ("uniform", "entropy")
PRIOR_MODES = ("anchor", "residual", "spread")
#: The network's automatic colours, as users choose them, and the decoding each reads
#: (:func:`varcolor.neural.prior.predict`): ``faithful``, the regression output (closest to the
#: originals in PSNR and CIEDE2000 on the test part, the default); ``vivid``, the rebalanced
#: annealed mean of the class head (more colourful, less accurate). docs/guide/neural.md has the numbers.
AUTOMATIC = {"faithful": "regression", "vivid": "annealed"}
#: The decodings' names, the ``decode`` option's values before ``automatic`` replaced it (still accepted).
DECODINGS = tuple(AUTOMATIC.values())
#: β, the prior term's weight: chosen on McMaster (a set used neither to train nor to validate
#: the shipped model).
PRIOR_WEIGHT = 1e-5
SPACES = ("lab", "yiq")
GAMUTS = ("chroma", "clip")


def option(
    default: Any,
    help: str,
    *,
    choices: tuple | Callable[[], tuple] | None = None,
    check=None,
    metavar: str | None = None,
    unit: float | None = None,
    short: str | None = None,
) -> Any:
    """A field of an options dataclass, with what the command line needs to offer it: ``help``
    (its ``--help`` text; ``%(default)s`` is filled in), ``choices`` (or a function returning them,
    for names that can grow, like the registered methods), ``check`` (called with the field's name
    and value; raises :class:`InputError`), ``metavar`` and ``unit`` (the command line's value is
    multiplied by it: ``--max-memory`` in GB, bytes here) and ``short``, a one-letter flag besides
    the long one (``-m``)."""
    metadata = {"help": help, "choices": choices, "check": check, "metavar": metavar, "unit": unit, "short": short}
    return field(default=default, metadata=metadata)


def positive(name: str, value) -> None:
    """Refuse a value that is not a finite number > 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.number))
        or not (np.isfinite(value) and value > 0)
    ):
        raise InputError(f"{name} must be a positive number, got {value}")


def non_negative(name: str, value) -> None:
    """Refuse a value that is not a finite number >= 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.number))
        or not (np.isfinite(value) and value >= 0)
    ):
        raise InputError(f"{name} must be a non-negative number, got {value}")


def _at_least_one(name: str, value) -> None:
    if int(value) < 1:
        raise InputError(f"{name} must be at least 1, got {value}")


def _automatic(name: str, value) -> None:
    if value not in AUTOMATIC:
        raise InputError(f"{name} must be {' or '.join(AUTOMATIC)} (old names: {', '.join(DECODINGS)}), got {value!r}")


def _memory(name: str, value) -> None:
    memory_budget(value)


def _method_names() -> tuple[str, ...]:
    from . import methods

    return methods.names()


def _detector_names() -> tuple[str, ...]:
    from .instances import choices

    return choices()


def choices_of(spec: dataclasses.Field) -> tuple | None:
    """A field's choices (calling the function that lists them, where it is one)."""
    choices = spec.metadata.get("choices")
    return choices() if callable(choices) else choices


class OptionValues:
    """The machinery every frozen options dataclass shares (:class:`Options`, the encoder's
    :class:`~varcolor.ir.encode.EncodeOptions`, the folder runs' :class:`~varcolor.app.RunOptions`):
    each field made with :func:`option` is checked when the value is made (its ``check``, else its
    ``choices``), :meth:`build` makes one from keywords, :meth:`keywords` gives them back,
    :meth:`fingerprint` names the values for a manifest, and :meth:`flags` renders them as the
    command line's flags (which the command line makes from the same fields' metadata).

    >>> Options.build(method="levin", solver="direct").flags()
    ['--solver', 'direct']
    """

    #: What an unknown keyword is called in :meth:`build`'s refusal.
    _WHAT = "option"

    def _check_fields(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if value is None:
                continue
            if spec.metadata.get("check"):
                spec.metadata["check"](spec.name, value)
                continue
            choices = choices_of(spec)
            if choices is not None and value not in choices:
                raise InputError(f"unknown {spec.name} {value!r}; available: {', '.join(map(str, choices))}")

    def __post_init__(self) -> None:
        self._check_fields()

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The options' names (the keywords :meth:`build` takes)."""
        return tuple(spec.name for spec in dataclasses.fields(cls) if spec.name != "parameters")

    @classmethod
    def build(cls, options=None, /, **keywords):
        """Options from keywords (the fields by name), or with ``options``, those changed by the
        keywords (``options`` itself where there are none: it was checked when made). A name that
        is no option is refused (ignoring it would hide the mistake)."""
        strangers = [name for name in keywords if name not in cls.names()]
        if strangers:
            raise InputError(f"unknown {cls._WHAT} {strangers[0]!r} (options: {', '.join(cls.names())})")
        if options is not None and not keywords:
            return options
        return dataclasses.replace(options, **keywords) if options is not None else cls(**keywords)

    def keywords(self) -> dict:
        """The options as :meth:`build`'s keywords (for a report, or to build them again)."""
        return {name: getattr(self, name) for name in self.names()}

    def fingerprint(self) -> str:
        """A short fingerprint of the values (what a folder run's manifest compares on ``resume``).

        >>> Options.build(tol=1e-6).fingerprint() == Options.build(tol=1e-6).fingerprint() != Options().fingerprint()
        True
        """
        from .batch import fingerprint

        return fingerprint(self.keywords())

    def flags(self, *, always: tuple[str, ...] = ()) -> list[str]:
        """The command line's flags that give these values: every option that differs from its
        default (and those named in ``always``), as ``--name value``, in the fields' order. The
        one renderer from option values to argv (the studio prints its save command with it)."""
        defaults = type(self)()
        argv = []
        for name in self.names():
            value = getattr(self, name)
            if value is None or (value == getattr(defaults, name, None) and name not in always):
                continue
            argv += [_flag(name), _text(value, self._unit(name))]
        return argv

    @classmethod
    def _unit(cls, name: str) -> float | None:
        return next((spec.metadata.get("unit") for spec in dataclasses.fields(cls) if spec.name == name), None)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _text(value, unit: float | None) -> str:
    """An option's value as the command line reads it back (``unit``: the flag counts in units of it)."""
    if unit is not None:
        value = value / unit
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    return str(value)


@dataclass(frozen=True)
class Options(OptionValues):
    """How to colorize: the options every method shares, and the method's own ``parameters``.

    Build it with :meth:`build` (keywords, as :func:`varcolor.colorize` takes them) or directly;
    every value is checked when it is made, with one line naming the option.

    Attributes
    ----------
    method : str
        A registered method (:func:`varcolor.methods.names`): ``levin-multiscale`` (the default:
        Levin's system solved coarse and corrected fine), ``levin`` (Levin's system solved exactly
        at full resolution), ``levin-symmetric``, ``bilaplacian-gtv``, ``ideepcolor``, or one a
        plug-in added.
    solver : str
        ``auto`` or one of :data:`varcolor.solvers.SOLVERS` (methods that solve a linear system).
    device : str
        ``cpu`` or ``cuda`` (CuPy and a GPU): where iterative solvers and ADMM run.
    space : str
        ``lab`` (CIE a, b) or ``yiq`` (NTSC I, Q, as Levin et al.'s code); the method must propagate it.
    gamut : str
        How colours outside sRGB are brought in (:func:`varcolor.color.lab_to_rgb`).
    tol, maxiter
        Relative residual and iteration limit of iterative linear solvers.
    max_memory : float or None
        Memory budget of a solve in bytes (None: 80 % of what is available when it is planned).
    prior, weights, mask_cent, prior_weight, confidence, prior_mode, automatic
        The neural prior (docs/guide/neural.md): which, its weights file (default: the shipped
        model), the mask encoding of unknown checkpoints, its weight β, its confidence per pixel,
        how the method uses it (``spread``, Levin's default: the network's automatic colours plus
        Levin's spreading of the cues' corrections to them; ``anchor``: the prior term
        ``(β/2) Σ c ‖u − p‖²``; ``residual``: the smoothness acts on ``u − p``; a method takes the
        modes in its ``prior_modes``, others use ``anchor``), and how the network's colours are
        read: ``faithful`` or ``vivid`` (:data:`AUTOMATIC`; ``decode="regression"`` and
        ``"annealed"``, the old names, are accepted by :meth:`build`).
    instances, detector_weights
        Instance-aware colorization (docs/guide/instances.md): the detector (``none``, ``auto``,
        ``faces``, ``cascades`` or a plug-in's) and a plug-in detector's weights file.
    parameters : dataclass or None
        The method's own parameters (its ``Parameters`` class), defaults where not given.
    """

    method: str = option(
        "levin-multiscale", "colorization method (default: %(default)s)", choices=_method_names, short="-m"
    )
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
    maxiter: int = option(300, "iteration limit of iterative solvers (default: %(default)s)", check=_at_least_one)
    max_memory: float | None = option(
        None,
        "memory budget of a solve in GB; solvers estimated to need more are refused and auto picks one "
        "within it (default: 80%% of the memory available)",
        check=_memory,
        metavar="GB",
        unit=1e9,
    )
    prior: str | None = option(None, "add the ideepcolor network's prediction as a prior term", choices=PRIORS)
    weights: str | None = option(
        None, "network weights (.safetensors or .pth; default: the compact model shipped with varcolor)", metavar="PATH"
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
        choices=_detector_names,
    )
    detector_weights: str | None = option(
        None, "weights of a plug-in detector (.safetensors, or .pt/.pth read with weights_only)", metavar="PATH"
    )
    parameters: Any = field(default=None, metadata={"help": None})

    def __post_init__(self) -> None:
        from . import methods

        engine = methods.get(self.method)  # an unknown method: one line listing the known ones
        self._check_fields()
        object.__setattr__(self, "tol", float(self.tol))
        if self.automatic is None:  # not given (a caller passing None through): the default
            object.__setattr__(self, "automatic", Options.automatic)
        object.__setattr__(self, "maxiter", int(self.maxiter))
        object.__setattr__(self, "prior_weight", float(self.prior_weight))
        if self.parameters is None and engine.Parameters is not None:
            object.__setattr__(self, "parameters", engine.Parameters())
        elif engine.Parameters is None and self.parameters is not None:
            raise InputError(f"method {self.method!r} takes no parameters")
        elif engine.Parameters is not None and not isinstance(self.parameters, engine.Parameters):
            raise InputError(f"parameters of method {self.method!r} must be a {engine.Parameters.__name__}")
        if (self.prior or engine.needs_network) and self.space != "lab":
            raise InputError("the neural prior predicts Lab chroma: use space='lab'")
        if self.prior and not engine.takes_prior:
            raise InputError(f"method {self.method!r} takes no prior")
        if self.space not in engine.spaces:
            raise InputError(
                f"{self.method} propagates {_SPACE_NAMES[engine.spaces[0]]} chroma: use space={engine.spaces[0]!r}"
            )
        engine.check_options(self)
        if self.instances != "none" or self.detector_weights is not None:
            from .instances.detectors import check_options

            check_options(self, network=bool(self.prior or engine.needs_network))

    @classmethod
    def build(cls, options: Options | None = None, /, **keywords) -> Options:
        """Options from keywords: the shared options by name, and the method's own parameters by
        theirs (None: not given, the default). With ``options``, those changed by the keywords.

        A parameter of another method is refused (silently ignoring it would hide the mistake),
        and so is a name no method knows.
        """
        from . import methods

        if options is not None and not isinstance(options, Options):
            raise TypeError(
                f"options must be a varcolor.Options, not {type(options).__name__} {options!r}: give the others as "
                "keywords (method=..., solver=...)"
            )
        if options is not None and not keywords:
            return options  # checked when it was made: a run validates its options once
        if "decode" in keywords:  # the old name of ``automatic``, and its values
            decode = keywords.pop("decode")
            if decode is not None:
                if decode not in DECODINGS:
                    raise InputError(f"unknown decode {decode!r}; available: {', '.join(DECODINGS)}")
                mode = {v: k for k, v in AUTOMATIC.items()}[decode]
                if keywords.get("automatic") not in (None, mode):
                    raise InputError(
                        f"decode={decode!r} (automatic={mode!r}) contradicts automatic={keywords['automatic']!r}"
                    )
                keywords["automatic"] = mode
        shared = {name: keywords.pop(name) for name in cls.names() if name in keywords}
        own = {name: value for name, value in keywords.items() if value is not None}
        method = shared.get("method", options.method if options is not None else cls.method)
        engine = methods.get(method)
        known = set(engine.parameter_names())
        strangers = [name for name in own if name not in known]
        if strangers:
            owners = methods.owners(*strangers)
            if owners:
                raise InputError(
                    f"{', '.join(strangers)}: options of method {owners[0]}; method {method!r} "
                    f"has {'none' if not known else 'only ' + ', '.join(sorted(known))}"
                )
            raise InputError(
                f"unknown option {strangers[0]!r} (options: {', '.join(cls.names())}"
                f"{'; method ' + method + ': ' + ', '.join(sorted(known)) if known else ''})"
            )
        parameters = shared.pop("parameters", None)
        if parameters is None and engine.Parameters is not None:
            start = (
                options.parameters
                if options is not None and options.method == method and options.parameters is not None
                else engine.Parameters()
            )
            parameters = dataclasses.replace(start, **own)
        if options is None:  # made once, not a default value first and then a changed copy
            return cls(**shared, parameters=parameters)
        return dataclasses.replace(options, **shared, parameters=parameters)

    def keywords(self) -> dict:
        """The options as :meth:`build`'s keywords (for a report, or to build them again)."""
        shared = super().keywords()
        if self.parameters is not None:
            shared.update(dataclasses.asdict(self.parameters))
        return shared

    def flags(self, *, always: tuple[str, ...] = ()) -> list[str]:
        """The command line's flags that give these options (see :meth:`OptionValues.flags`),
        the method's own parameters where they differ from its defaults included.

        >>> Options.build(method="bilaplacian-gtv", sharpness=4.0).flags(always=("method",))
        ['--method', 'bilaplacian-gtv', '--sharpness', '4.0']
        """
        argv = super().flags(always=always)
        if self.parameters is not None:
            defaults = type(self.parameters)()
            for spec in dataclasses.fields(self.parameters):
                value = getattr(self.parameters, spec.name)
                if value is not None and value != getattr(defaults, spec.name):
                    argv += [_flag(spec.name), _text(value, spec.metadata.get("unit"))]
        return argv


_SPACE_NAMES = {"lab": "Lab", "yiq": "YIQ"}
