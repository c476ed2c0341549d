"""Reading JSON a user or a web page handed us, within bounds: request bodies, session files,
autosaves and points files.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..errors import InputError

__all__ = ["loads", "TooLarge", "MAX_DEPTH", "MAX_DIGITS"]

#: The deepest nesting accepted: every file and request of varcolor nests a few levels.
MAX_DEPTH = 32
#: The most digits of an integer: ids, sizes and coordinates fit in 64 bits (19 digits).
MAX_DIGITS = 19


class TooLarge(InputError):
    """JSON text over the size limit (a server's 413)."""


def _refuse_constant(word: str):
    raise InputError(f"numbers must be finite; JSON has no {word}")


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise InputError(f"an integer of {len(digits.lstrip('-'))} digits (at most {MAX_DIGITS})")
    return int(digits)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"the number {text[:20]}{'…' if len(text) > 20 else ''} is too large")
    return value


def _depth(value: Any) -> int:
    """How deep ``value`` nests (without recursion: a deep value cannot overflow the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def loads(text: str | bytes, name: str, *, max_bytes: int | None = None) -> Any:
    """The value of JSON ``text`` from ``name`` (a file or a request, for the message), or one
    :class:`~varcolor.errors.InputError` line.

    Parameters
    ----------
    text : str or bytes
        The JSON text (bytes must be UTF-8).
    name : str
        What the text is, named in the message.
    max_bytes : int, optional
        Refuse longer text with :class:`TooLarge`.
    """
    if max_bytes is not None and len(text) > max_bytes:
        raise TooLarge(f"{name}: too large ({len(text):,} bytes; at most {max_bytes:,})")
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_refuse_constant)
    except InputError as exc:
        raise InputError(f"{name}: not valid JSON ({exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: not valid JSON ({exc})") from None
    except RecursionError:
        raise InputError(f"{name}: nested too deeply (over {MAX_DEPTH} levels)") from None
    if _depth(value) > MAX_DEPTH:
        raise InputError(f"{name}: nested too deeply (over {MAX_DEPTH} levels)")
    return value
