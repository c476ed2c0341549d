"""The ``ideepcolor`` prior (varcolor.priors.ideepcolor): the network's colours weighted by β and
a confidence; its guess as the method receives it."""

import numpy as np
import pytest

import varcolor
from varcolor.errors import InputError
from varcolor.methods import build_options
from varcolor.options import AUTOMATIC
from varcolor.priors import get
from varcolor.priors.ideepcolor import Ideepcolor

pytest.importorskip("torch")


# Levin's propagation as the subject (its results compared, its flood shown): unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("unrestrained")


def test_prior_vanishes_as_beta_goes_to_zero(random_weights):
    rgb = varcolor.color.lab_to_rgb(np.dstack([np.full((40, 48), 60.0), np.zeros((40, 48, 2))]))
    gray = varcolor.color.same_lightness_gray(rgb) * np.linspace(0.7, 1.0, 48)
    cues = varcolor.cues.sample_random(np.dstack([gray] * 3) * [1.0, 0.8, 0.6], n=20, rng=0)
    plain = varcolor.colorize(gray, cues)
    faint = varcolor.colorize(
        gray, cues, prior="ideepcolor", network_file=random_weights, prior_weight=1e-9, prior_mode="anchor"
    )
    assert np.abs(plain.ab - faint.ab).max() < 1e-4
    assert faint.info["prior"] == "ideepcolor"


def test_strong_prior_without_cues_is_the_lifted_network_output(random_weights):
    gray = np.tile(np.linspace(0.2, 0.9, 64), (48, 1))
    empty = varcolor.Cues.empty(gray.shape)
    network = varcolor.colorize(gray, empty, method="ideepcolor", network_file=random_weights)
    assert network.info["solver"] is None and np.abs(network.ab).max() > 0.1  # no solve: the network alone
    strong = varcolor.colorize(
        gray, empty, prior="ideepcolor", network_file=random_weights, prior_weight=1e6, prior_mode="anchor"
    )
    assert np.abs(strong.ab - network.ab).max() < 1e-3
    entropy = varcolor.colorize(gray, empty, prior="ideepcolor", network_file=random_weights, confidence="entropy")
    assert entropy.info["confidence"] == "entropy"


def test_its_guess_is_the_networks_colours_weighted_by_beta_and_a_confidence(random_weights):
    """The guess is H×W×2 Lab chroma; its weight lies in [0, β] (β times a confidence in [0, 1]),
    and scales with β; its info names the prior, β and the mode the method used it in."""
    from varcolor.neural.prior import guess as network_guess

    gray = np.tile(np.linspace(0.2, 0.9, 40), (32, 1))
    cues = varcolor.Cues.from_points([{"y": 5, "x": 6, "a": 30, "b": -20}], gray.shape)
    weights = {}
    for beta in (0.5, 2.0):
        options = build_options(prior="ideepcolor", network_file=random_weights, prior_weight=beta)
        prior = get("ideepcolor")(gray, options)
        chroma, weight, info = prior.guess(cues, "anchor")
        assert chroma.shape == gray.shape + (2,) and weight.shape == gray.shape
        assert np.isfinite(chroma).all() and 0 <= weight.min() and weight.max() <= beta + 1e-12
        assert info["prior"] == "ideepcolor" and info["prior_weight"] == beta and info["prior_mode"] == "anchor"
        weights[beta] = weight
        # the network's guess read as the options say (its own module's function, called here directly)
        alone, _ = network_guess(
            prior.network,
            gray,
            cues,
            mode="anchor",
            prior_weight=beta,
            confidence=options.confidence,
            decode=AUTOMATIC[options.automatic],
        )
        np.testing.assert_allclose(chroma, alone)
    np.testing.assert_allclose(weights[2.0], 4 * weights[0.5])


def test_it_refuses_a_method_in_another_space_in_one_line(random_weights):
    options = varcolor.Options(prior="ideepcolor", network_file=random_weights, space="yiq")  # plain data
    with pytest.raises(InputError, match="the ideepcolor prior predicts Lab chroma: use space='lab'") as caught:
        Ideepcolor.check_options(options)
    assert "\n" not in str(caught.value)
    with pytest.raises(InputError, match="space='lab'"):  # as the options are built, before any image
        build_options(prior="ideepcolor", network_file=random_weights, space="yiq")
