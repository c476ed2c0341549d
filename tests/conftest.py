import numpy as np
import pytest
import skimage.data
from skimage.transform import resize


def photo(name: str, shape: tuple[int, int]) -> np.ndarray:
    """A scikit-image photo resized to ``shape``, RGB in [0, 1]."""
    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return resize(image[..., :3] / 255.0, shape, anti_aliasing=True)


@pytest.fixture
def astronaut_small():
    return photo("astronaut", (40, 48))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
