"""Colorization quality against the number of hints: the benchmark behind ``varcolor bench``.

One module for each part of it:

- :mod:`varcolor.bench.sweep`: the ideepcolor protocol (the photo, its gray, the hints), the
  scores, the sweep over methods and hint counts, the table; its names are this package's;
- :mod:`varcolor.bench.export`: the protocol's inputs written as files, for a method run elsewhere;
- :mod:`varcolor.bench.results`: that method's results read back and scored like the sweep's own;
- :mod:`varcolor.bench.plot`: the curve of a score against the hints (matplotlib);
- :mod:`varcolor.bench.fid`: the FID and KID of a set of results, from a weights file.

Examples
--------
>>> from varcolor import bench
>>> bench.HINTS[:4], bench.parse_resolution("256")
((0, 1, 2, 5), '256')
"""

from __future__ import annotations

# The sweep's public names are this package's: those of __all__, and the rest it always had
# (SEED, paired, ...) outside it.
from .sweep import (  # noqa: F401
    CONFIDENCE,
    FORMATS,
    HINTS,
    LIBRARIES,
    PATCH,
    READ_BYTES_PER_PIXEL,
    RESIZE,
    SCORED,
    SCORES,
    SEED,
    check_hints,
    check_methods,
    check_photo,
    content_seed,
    evaluate,
    fid_of,
    hint_points,
    kid_of,
    markdown,
    method_options,
    original,
    paired,
    paired_markdown,
    parse_resolution,
    photo_array,
    pools_text,
    protocol_gray,
    same_solves,
    score,
    source_commit,
    standard_error,
    summarize,
    versions,
    versions_line,
)
from .sweep import __all__ as __all__  # (the sweep's list, written once)
