"""Intermediate representation: a colour image as a gray image plus a few hundred bytes of cues."""

from .format import IRFormatError, Payload, embed_png, extract_png, read_payload, write_payload

__all__ = ["IRFormatError", "Payload", "read_payload", "write_payload", "embed_png", "extract_png"]
