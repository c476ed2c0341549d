"""What a prior is (varcolor.priors.base.Prior): Lab chroma only, checked before any image is
read; a subclass must say how it guesses."""

import numpy as np
import pytest

from varcolor.errors import InputError
from varcolor.methods import build_options
from varcolor.priors.base import Prior


class Named(Prior):
    name, summary = "named-test", "a prior that guesses nothing"


@pytest.mark.parametrize("space", ["yiq"])
def test_a_prior_refuses_a_method_in_another_space_than_lab_in_one_line(space):
    with pytest.raises(InputError, match="the named-test prior predicts Lab chroma: use space='lab'") as caught:
        Named.check_options(build_options(space=space))
    assert "\n" not in str(caught.value)
    Named.check_options(build_options(space="lab"))  # Lab: taken


def test_a_prior_keeps_its_guide_and_options_and_a_subclass_must_guess():
    guide, options = np.full((2, 3), 0.5), build_options()
    prior = Named(guide, options)
    assert prior.guide is guide and prior.options is options
    with pytest.raises(NotImplementedError):
        prior.guess(None, "anchor")
