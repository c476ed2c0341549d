"""Image files and how files are written: one module per job.

- :mod:`varcolor.io.formats`: reading and writing images (PNG, JPEG, TIFF, BMP; 8/16 bit, gray,
  RGB, RGBA, EXIF orientation), the extensions read and written, the pixel limit;
- :mod:`varcolor.io.atomic`: publishing files atomically (one file, or several as one unit), the
  gate a folder run closes, removing the temporary files of killed runs, and which names are the
  same file (:func:`identity`, :func:`same_file`, :func:`inside`: by device and inode, one rule
  for the whole package) and whether it still holds the same bytes (:func:`file_sha256`);
- :mod:`varcolor.io.png`: a big image's PNG deflated by bands on every core;
- :mod:`varcolor.io.walk`: walking folders of images;
- :mod:`varcolor.io.safe_json`: JSON from users and web pages (request bodies, session files,
  autosaves, points files) read within bounds, or refused in one line.

Import the public names from here (``from varcolor.io import read_image``); a test that replaces a
private helper patches it in the module that uses it.
"""

from .atomic import (
    atomic_path,
    file_sha256,
    file_state,
    identity,
    inside,
    publish,
    publish_gate,
    remove_stale_temporaries,
    same_file,
    writers_at_work,
)
from .formats import (
    IMAGE_EXTENSIONS,
    JPEG_EXTENSIONS,
    MAX_PIXELS,
    VIDEO_EXTENSIONS,
    WRITE_EXTENSIONS,
    check_writable,
    encode_image,
    equal_channels,
    image_bits,
    image_profile,
    image_shape,
    levels_to_float,
    nearly_gray,
    read_image,
    to_levels,
    write_image,
)
from .walk import name_key, named, walk_images

__all__ = [
    "IMAGE_EXTENSIONS",
    "WRITE_EXTENSIONS",
    "JPEG_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "MAX_PIXELS",
    "read_image",
    "image_shape",
    "image_bits",
    "image_profile",
    "write_image",
    "encode_image",
    "check_writable",
    "to_levels",
    "levels_to_float",
    "equal_channels",
    "nearly_gray",
    "walk_images",
    "name_key",
    "named",
    "atomic_path",
    "file_sha256",
    "publish",
    "publish_gate",
    "remove_stale_temporaries",
    "writers_at_work",
    "file_state",
    "identity",
    "same_file",
    "inside",
]
