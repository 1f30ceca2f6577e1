"""Request ids and W3C trace context, carried from the EHR's request to the FHIR server we read.

A call is followed across systems by its ``X-Request-Id`` (reused from the EHR
when it sends a harmless one, echoed in our answer and log line) and, when the
caller sends one, its W3C ``traceparent``. Both travel on every FHIR request
made for that call, so the EHR's FHIR server logs can be joined to ours. They
live in context variables set by the HTTP layer for the duration of a
request; the FHIR client reads them (and the gatherer copies them into its
worker threads).
"""
from __future__ import annotations

import re
import secrets
from contextvars import ContextVar, Token
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True, slots=True)
class Trace:
    request_id: str
    trace_id: str | None = None  # from a valid incoming traceparent
    flags: str = "00"


_CURRENT: ContextVar[Trace | None] = ContextVar("crs_cds_trace", default=None)


def parse_traceparent(header: str | None) -> tuple[str, str] | None:
    """(trace id, flags) of a version-00 ``traceparent``; None when absent or malformed."""
    found = _TRACEPARENT.match((header or "").strip().lower())
    if not found or found.group(1) == "0" * 32 or found.group(2) == "0" * 16:
        return None
    return found.group(1), found.group(3)


def begin(request_id: str, traceparent: str | None) -> Token[Trace | None]:
    parsed = parse_traceparent(traceparent)
    trace = Trace(request_id, *parsed) if parsed else Trace(request_id)
    return _CURRENT.set(trace)


def end(token: Token[Trace | None]) -> None:
    _CURRENT.reset(token)


def current() -> Trace | None:
    return _CURRENT.get()


def outgoing_headers() -> dict[str, str]:
    """Headers for a request made on behalf of the current call: its request id, and a child
    ``traceparent`` (same trace, a new span of ours) when the caller sent one."""
    trace = _CURRENT.get()
    if trace is None:
        return {}
    headers = {"X-Request-Id": trace.request_id}
    if trace.trace_id:
        headers["traceparent"] = f"00-{trace.trace_id}-{secrets.token_hex(8)}-{trace.flags}"
    return headers
