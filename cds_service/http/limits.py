"""Request limits: JSON nesting depth and cut-off chunked bodies.

The body size limit is Flask's ``MAX_CONTENT_LENGTH`` (413). Depth is checked
on the raw bytes before parsing, so a hostile body is refused before the
parser, the schema validator or the mapping recurse into it. (The resource
count per call is the service layer's: ``hooks.TooManyResources``.)
"""
from __future__ import annotations

from itertools import accumulate

from werkzeug.exceptions import RequestEntityTooLarge

from .errors import ApiError

_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(raw: bytes) -> int:
    """Deepest nesting of arrays/objects in a JSON text (strings ignored); 0 for a scalar.

    All C-speed byte operations (~35 ms for a 4 MB record, less than ``json.loads``):
    drop escaped backslashes then escaped quotes, keep only brackets and quotes, and
    keep what lies outside strings (the even pieces between quotes).
    """
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    skeleton = b"".join(unescaped.split(b'"')[0::2])
    return max(accumulate(map(_STEP.__getitem__, skeleton)), default=0)


def check_depth(raw: bytes, limit: int) -> None:
    if json_depth(raw) > limit:
        raise ApiError(400, "invalid-json", f"The request body nests JSON deeper than {limit} levels")


def check_not_cut(raw: bytes, content_length: int | None, limit: int) -> None:
    """413 for a body without Content-Length (chunked) that reached the size limit: Werkzeug
    enforces ``MAX_CONTENT_LENGTH`` on such a stream by cutting it there, not by refusing it."""
    if content_length is None and len(raw) >= limit:
        raise RequestEntityTooLarge()
