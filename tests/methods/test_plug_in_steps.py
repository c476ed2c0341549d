"""Each step of a colorization is one module to extend: a new prior, or a method that answers
new cues its own way, is one class registered from outside the package, and nothing else
changes. And a method that does not use a prior says so: ``prior=`` with it is refused in one
line, never reported in ``info`` without having acted."""

from __future__ import annotations

import numpy as np
import pytest

import varcolor
from varcolor import methods, priors
from varcolor.errors import InputError
from varcolor.methods import Method, Problem


class Flat(Method):
    """The guide's own plug-in: every pixel the cues' mean; its solve reads no prior."""

    name, summary = "flat-steps", "every pixel the cues' mean (a test method)"

    def solve(self, problem: Problem, x0):
        mean = problem.targets[problem.mask].mean(axis=0)
        return np.broadcast_to(mean, problem.targets.shape).copy(), {
            "solver": "mean",
            "iterations": None,
            "residual": None,
        }


class Constant(priors.Prior):
    """A prior known in closed form: every pixel ``(a, b) = (25, -15)`` with weight 1."""

    name, summary = "constant-test", "every pixel (25, -15) (a test prior)"
    guessed = 0

    def guess(self, cues, mode):
        Constant.guessed += 1
        guess = np.empty(self.guide.shape + (2,))
        guess[...] = (25.0, -15.0)
        return guess, np.ones(self.guide.shape), {"prior": self.name, "prior_mode": mode}


class Blend(Method):
    """Half the cues' mean, half the prior's guess: a method that uses a prior."""

    name, summary = "blend-steps", "half the cues' mean, half the prior (a test method)"

    @classmethod
    def prior_for(cls, options):
        return options.prior

    def solve(self, problem: Problem, x0):
        mean = problem.targets[problem.mask].mean(axis=0)
        return 0.5 * (mean + problem.prior), {"solver": "blend", "iterations": None, "residual": None}


class Remembering:
    """An updater that answers new cues by the cues' mean of the whole set, and counts its calls."""

    def __init__(self):
        self.calls = 0

    def forget(self):
        pass

    def rebase(self, chroma, mask, targets):
        pass

    def update(self, cues, more, chroma):
        self.calls += 1
        mean = cues.ab[cues.mask].mean(axis=0)
        return (np.broadcast_to(mean, chroma.shape).copy(), {"update": "mean"}, None), None

    def edit(self, cues, chroma):
        return None, "not supported"


class Updating(Flat):
    """A method with its own updates (``updater``): one class, nothing else changes."""

    name, summary = "updating-steps", "the cues' mean, updated by its own updater (a test method)"

    def updater(self, space, targets_at):
        self.made = Remembering()
        return self.made


@pytest.fixture
def registered():
    for method in (Flat, Blend, Updating):
        methods.register(method)
    priors.register(Constant)
    yield
    for method in (Flat, Blend, Updating):
        methods.unregister(method.name)
    priors.unregister(Constant.name)


def _problem():
    gray = np.tile(np.linspace(0.3, 0.7, 24), (16, 1))
    cues = varcolor.Cues.from_points([{"y": 3, "x": 4, "a": 40, "b": 10}], gray.shape)
    return gray, cues


def test_a_method_without_a_prior_refuses_one_in_one_line(registered):
    gray, cues = _problem()
    with pytest.raises(InputError, match="method 'flat-steps' takes no prior") as caught:
        varcolor.colorize(gray, cues, method="flat-steps", prior="ideepcolor")
    assert "\n" not in str(caught.value)
    assert "prior" not in varcolor.colorize(gray, cues, method="flat-steps").info


def test_a_new_prior_is_one_registered_class(registered):
    gray, cues = _problem()
    before = Constant.guessed
    result = varcolor.colorize(gray, cues, method="blend-steps", prior="constant-test")
    expected = 0.5 * (np.array([40.0, 10.0]) + np.array([25.0, -15.0]))
    np.testing.assert_allclose(result.ab[10, 20], expected)
    assert result.info["prior"] == "constant-test" and Constant.guessed == before + 1
    # the built-in methods that take a prior take it too: levin's prior term pulls towards it
    alone = varcolor.colorize(gray, cues, method="levin")
    pulled = varcolor.colorize(gray, cues, method="levin", prior="constant-test", prior_weight=1e-2)
    assert pulled.info["prior"] == "constant-test"
    assert abs(pulled.ab[15, 23, 1] - (-15)) < abs(alone.ab[15, 23, 1] - (-15))
    with pytest.raises(InputError, match="unknown prior 'nope'"):
        varcolor.colorize(gray, cues, method="levin", prior="nope")


def test_a_method_with_its_own_updates_is_one_registered_class(registered):
    gray, cues = _problem()
    cz = varcolor.Colorizer(gray, method="updating-steps")
    cz.solve(cues)
    more = varcolor.Cues.from_points([{"y": 12, "x": 20, "a": -20, "b": 30}], gray.shape)
    updated = cz.update(more)
    assert cz.engine.made.calls == 1 and updated.info["update"] == "mean"
    merged = cues.merged(more)
    np.testing.assert_allclose(updated.ab[0, 0], merged.ab[merged.mask].mean(axis=0))


def test_a_method_and_prior_written_together_ask_for_the_prior_apart():
    gray, cues = _problem()
    with pytest.raises(InputError, match="method='levin', prior='ideepcolor'"):
        varcolor.colorize(gray, cues, method="levin+ideepcolor")


def test_the_colorize_docstring_names_the_default_method():
    first = varcolor.colorize.__doc__.split("``method``", 1)[1].split("(default", 1)[0]
    assert f'"{varcolor.Options.method}"' in first


def test_plain_options_point_to_the_method_aware_builder():
    """Options is plain data: made directly it names a method without looking it up; a method's
    own option given to Options.build points to methods.build_options, which checks the whole."""
    assert varcolor.Options(method="not-registered").method == "not-registered"
    with pytest.raises(InputError, match="varcolor.methods.build_options"):
        varcolor.Options.build(method="bilaplacian-gtv", sharpness=4.0)
    assert methods.build_options(method="bilaplacian-gtv", sharpness=4.0).parameters.sharpness == 4.0
    own = methods.get("bilaplacian-gtv").Parameters(sharpness=3.0)
    assert varcolor.Options.build(method="bilaplacian-gtv", parameters=own).parameters is own
    with pytest.raises(InputError, match="unknown method 'not-registered'"):
        methods.build_options(varcolor.Options(method="not-registered"))
