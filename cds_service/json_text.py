"""Reading JSON that arrives over the wire (service requests, FHIR server answers).

``json.loads`` lets through two things that are not data, and both surface far
from where they entered:

- a number beyond the IEEE 754 double range (``1e999`` becomes ``inf``, a
  400-digit integer stays an int that no float arithmetic accepts): the mapping
  layer cannot read it, so a dose or a vital sign silently drops out;
- a string with an unpaired UTF-16 surrogate (``"\\ud800"``, or the same code
  point encoded in the bytes, which ``json.loads`` decodes with
  ``surrogatepass``): it cannot be encoded back to UTF-8, so echoing it in a
  card or putting it in a FHIR URL fails with a 500.

``loads`` decodes the bytes as strict UTF-8 (a leading BOM is ignored) and
raises ``UnrepresentableJson`` naming the JSON path of each such value. The
common case pays one cheap hook per float and a scan for ``\\uD8..``-``\\uDF..``
escapes; the tree is walked only when one of them fired.
"""
from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_FLOAT_MAX = sys.float_info.max
_FLOAT_MAX_DIGITS = len(str(int(_FLOAT_MAX)))
OUT_OF_RANGE = "is a number beyond the range of a 64-bit float (e.g. 1e999): not a usable value"
BAD_STRING = "contains an unpaired UTF-16 surrogate (e.g. \\ud800): not valid Unicode text"


class _OutOfRange:
    """Stands in for a number too large to represent until the walk finds its path."""


_MARK = _OutOfRange()


class UnrepresentableJson(ValueError):
    """Valid JSON syntax holding values that are not data; ``problems`` is [(path, problem)]."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {problem}" for path, problem in problems))
        self.problems = problems


def loads(raw: bytes | str, *, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """``json.loads`` of UTF-8 ``raw``; ``UnicodeDecodeError``, ``json.JSONDecodeError`` or
    ``UnrepresentableJson`` (all ``ValueError``) when it is not usable JSON data."""
    text = raw.decode("utf-8-sig") if isinstance(raw, (bytes, bytearray)) else raw
    marked: list[bool] = []

    def number(literal: str) -> Any:
        value = float(literal)
        if math.isinf(value):
            marked.append(True)
            return _MARK
        return value

    def integer(literal: str) -> Any:
        value = int(literal)
        if len(literal) >= _FLOAT_MAX_DIGITS and abs(value) > _FLOAT_MAX:
            marked.append(True)
            return _MARK
        return value

    kwargs: dict[str, Any] = {"parse_float": number, "parse_int": integer}
    if parse_constant is not None:
        kwargs["parse_constant"] = parse_constant
    value = json.loads(text, **kwargs)
    if marked or _SURROGATE_ESCAPE.search(text):
        problems = list(_unrepresentable(value, ""))
        if problems:
            raise UnrepresentableJson(problems[:20])
    return value


def _unrepresentable(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, problem) of every out-of-range number and unpaired surrogate (keys included)."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if item is _MARK:
            yield where or "(request body)", OUT_OF_RANGE
        elif isinstance(item, str):
            if not _encodable(item):
                yield where or "(request body)", BAD_STRING
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                if not _encodable(key):
                    yield where or "(request body)", f"has a member name that {BAD_STRING}"
                    continue
                stack.append((child, f"{where}.{key}" if where else key))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in reversed(list(enumerate(item))))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
