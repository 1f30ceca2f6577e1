"""Request limits: cut-off chunked bodies.

The body size limit is Flask's ``MAX_CONTENT_LENGTH`` (413). The JSON nesting
limit is enforced by the parser itself, in the same pass (``json_text.loads``),
so a hostile body is refused before the schema validator or the mapping see it.
(The resource count per call is the service layer's: ``hooks.TooManyResources``.)
"""
from __future__ import annotations

from werkzeug.exceptions import RequestEntityTooLarge


def check_not_cut(raw: bytes, content_length: int | None, limit: int) -> None:
    """413 for a body without Content-Length (chunked) that reached the size limit: Werkzeug
    enforces ``MAX_CONTENT_LENGTH`` on such a stream by cutting it there, not by refusing it."""
    if content_length is None and len(raw) >= limit:
        raise RequestEntityTooLarge()
