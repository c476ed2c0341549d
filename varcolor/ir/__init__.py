"""Intermediate representation: a colour image as a gray image plus a few hundred bytes of cues.

``format`` reads and writes the ``.vcir`` container (also embeddable in the gray PNG);
``encode`` chooses cues from a colour image; ``decode`` turns a payload back into cues.
"""

from .format import IRFormatError, Payload, embed_png, extract_png, read_payload, write_payload

__all__ = ["IRFormatError", "Payload", "read_payload", "write_payload", "embed_png", "extract_png"]
