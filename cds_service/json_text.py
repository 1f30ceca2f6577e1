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

Reading is one pass of orjson (Rust; strict UTF-8, no NaN or infinities, no
unpaired surrogates), which also enforces the nesting limit: orjson refuses
documents nested deeper than 1024 levels, so the text is read wrapped in
``1024 - max_depth`` arrays and a body nested deeper than ``max_depth`` fails in
that same pass. Anything orjson refuses is read again by the strict standard
library path (``strict_loads``), which says exactly what is wrong (the JSON path
of a ``1e999`` or an unpaired surrogate, line and column of a syntax error) or
accepts what only orjson refuses (a leading UTF-8 BOM, integers beyond 64 bits
that still fit a float). Duplicate member names: the last one wins, in both.
"""
from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import Any

import orjson

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_FLOAT_MAX = sys.float_info.max
_FLOAT_MAX_DIGITS = len(str(int(_FLOAT_MAX)))
OUT_OF_RANGE = "is a number beyond the range of a 64-bit float (e.g. 1e999): not a usable value"
BAD_STRING = "contains an unpaired UTF-16 surrogate (e.g. \\ud800): not valid Unicode text"


class _OutOfRange:
    """Stands in for a number too large to represent until the walk finds its path."""


_MARK = _OutOfRange()


# orjson's own nesting limit, checked at import below: the depth check depends on it.
ORJSON_MAX_DEPTH = 1024
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class TooDeep(ValueError):
    """The text nests arrays/objects deeper than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"nested deeper than {limit} levels")
        self.limit = limit


class UnrepresentableJson(ValueError):
    """Valid JSON syntax holding values that are not data; ``problems`` is [(path, problem)]."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {problem}" for path, problem in problems))
        self.problems = problems


def loads(raw: bytes, *, max_depth: int | None = None) -> Any:
    """The JSON value of UTF-8 ``raw``, nested at most ``max_depth`` levels (None: orjson's 1024).

    Raises ``TooDeep``, ``UnicodeDecodeError``, ``json.JSONDecodeError`` or ``UnrepresentableJson``
    (all ``ValueError``) when ``raw`` is not usable JSON data, with the messages of ``strict_loads``.
    """
    wraps = 0 if max_depth is None else ORJSON_MAX_DEPTH - max_depth
    try:
        value = orjson.loads(b"[" * wraps + raw + b"]" * wraps if wraps else raw)
    except orjson.JSONDecodeError:
        value = _UNREAD
    for _ in range(wraps):
        if type(value) is not list or len(value) != 1:  # the text closed a wrapper: not one value
            value = _UNREAD
            break
        value = value[0]
    if value is _UNREAD:
        if max_depth is not None and json_depth(raw) > max_depth:
            raise TooDeep(max_depth)
        value = strict_loads(raw, parse_constant=_reject_constant)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_depth(raw: bytes) -> int:
    """Deepest nesting of arrays/objects in a JSON text (strings ignored); 0 for a scalar.

    For the error path only (the fast path gets the depth from orjson): drop escaped
    backslashes then escaped quotes, keep only brackets and quotes, and keep what lies
    outside strings (the even pieces between quotes).
    """
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    skeleton = b"".join(unescaped.split(b'"')[0::2])
    return max(accumulate(map(_STEP.__getitem__, skeleton)), default=0)


def strict_loads(raw: bytes | str, *, parse_constant: Callable[[str], Any] | None = None) -> Any:
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


class _Unread:
    """orjson did not read the text: the strict path decides."""


_UNREAD = _Unread()


def _check_orjson_depth_limit() -> None:
    """The depth check relies on orjson refusing exactly what nests deeper than ORJSON_MAX_DEPTH."""
    deepest = b"[" * ORJSON_MAX_DEPTH + b"]" * ORJSON_MAX_DEPTH
    orjson.loads(deepest)
    try:
        orjson.loads(b"[" + deepest + b"]")
    except orjson.JSONDecodeError:
        return
    raise RuntimeError(f"orjson {orjson.__version__} no longer stops at {ORJSON_MAX_DEPTH} levels: "
                       "cds_service.json_text must be adapted")


_check_orjson_depth_limit()
