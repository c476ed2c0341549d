"""What a run reads, counted (the ``reads`` fixture): the tests of a cue's journey hold each file
to the decodes and header reads it needs."""

import collections
import sys
from dataclasses import dataclass, field

import pytest

#: The readers of varcolor.io: the one that decodes pixels, and those that open a header only.
DECODERS, HEADERS = ("read_image",), ("image_shape", "image_bits", "image_profile")
#: What describes an image (keypoints: varcolor.reading.matching.signature, also under target_signature)
#: and checks a pair of them (varcolor.reading.matching.verified).
DESCRIBERS = ("signature", "verified")


@dataclass
class Reads:
    """Per file (its path as a string): how often its pixels were decoded and its header opened;
    and how often an image was described or a pair of descriptions verified."""

    decoded: collections.Counter = field(default_factory=collections.Counter)
    headers: collections.Counter = field(default_factory=collections.Counter)
    described: collections.Counter = field(default_factory=collections.Counter)

    def of(self, path) -> tuple[int, int]:
        """``(decodes, header reads)`` of ``path``."""
        return self.decoded[str(path)], self.headers[str(path)]


@pytest.fixture
def reads(monkeypatch) -> Reads:
    """Counts every decode and header read of the package's modules (wherever a module took the
    reader's name: ``from ..io import read_image``), and every signature made and pair verified,
    from here to the test's end. The readers' own calls inside varcolor.io.formats are the read
    itself, not counted again."""
    import varcolor.app.chain  # noqa: F401  (the modules of a run, imported before they are patched)
    import varcolor.cli  # noqa: F401
    import varcolor.io.formats as formats
    import varcolor.reading.matching as matching
    import varcolor.sources.reference  # noqa: F401

    counted = Reads()

    def counting(original, counter, by_path):
        def reader(*args, **kwargs):
            counter[str(args[0]) if by_path else original.__name__] += 1
            return original(*args, **kwargs)

        return reader

    replaced = {}  # by the original's id: a module's other callables need not be hashable
    for name in DECODERS + HEADERS:
        original = getattr(formats, name)
        replaced[id(original)] = counting(original, counted.decoded if name in DECODERS else counted.headers, True)
    for name in DESCRIBERS:
        original = getattr(matching, name)
        replaced[id(original)] = counting(original, counted.described, False)
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("varcolor") or module is formats:
            continue
        for name, value in list(vars(module).items()):
            if id(value) in replaced:
                monkeypatch.setattr(module, name, replaced[id(value)])
    return counted
