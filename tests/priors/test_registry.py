"""The priors' registry (varcolor.priors): a prior is one registered class, found by its name;
names taken or unknown are refused in one line."""

import numpy as np
import pytest

from varcolor import priors
from varcolor.errors import InputError
from varcolor.methods import build_options


class Halfway(priors.Prior):
    """A prior of closed form: every pixel half of ``(a, b) = (20, -10)``, weight 1."""

    name, summary = "halfway-test", "every pixel (10, -5) (a test prior)"

    def guess(self, cues, mode):
        chroma = np.broadcast_to([10.0, -5.0], self.guide.shape + (2,)).copy()
        return chroma, np.ones(self.guide.shape), {"prior": self.name, "prior_mode": mode}


@pytest.fixture
def halfway():
    priors.register(Halfway)
    yield Halfway
    priors.unregister(Halfway.name)


def test_a_registered_prior_is_found_by_its_name_and_listed(halfway):
    assert priors.get("halfway-test") is halfway
    assert "halfway-test" in priors.names() and "ideepcolor" in priors.names()
    made = priors.get("halfway-test")(np.zeros((3, 4)), build_options())
    chroma, weight, info = made.guess(None, "anchor")
    assert chroma.shape == (3, 4, 2) and (chroma == (10.0, -5.0)).all() and weight.sum() == 12
    assert info == {"prior": "halfway-test", "prior_mode": "anchor"}


def test_unregistered_it_is_gone_and_an_unknown_name_lists_the_others(halfway):
    priors.unregister(halfway.name)
    try:
        assert "halfway-test" not in priors.names()
        with pytest.raises(InputError, match="unknown prior 'halfway-test'; available: .*ideepcolor") as caught:
            priors.get("halfway-test")
        assert "\n" not in str(caught.value)
    finally:
        priors.register(halfway)  # the fixture takes it out again


def test_a_name_taken_is_refused(halfway):
    class Again(priors.Prior):
        name, summary = "halfway-test", "the same name"

    with pytest.raises((InputError, ValueError), match="halfway-test"):
        priors.register(Again)
    assert priors.get("halfway-test") is halfway
