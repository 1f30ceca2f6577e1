"""CORS for browser-based CDS clients (the public CDS Hooks sandbox calls from a web page).

Only the CDS Hooks endpoints (discovery, services, feedback) get CORS headers;
a preflight is answered here, before authentication, because browsers never
send ``Authorization`` on a preflight.
"""
from __future__ import annotations

from collections.abc import Sequence

from flask import Response, request

ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-Id"
ALLOWED_METHODS = "GET, POST, OPTIONS"
MAX_AGE_SECONDS = "600"


def cds_path(path: str) -> bool:
    return path == "/cds-services" or path.startswith("/cds-services/")


def allowed_origin(origins: Sequence[str], origin: str | None) -> str | None:
    """The value of Access-Control-Allow-Origin for this Origin, or None (no CORS)."""
    if not origin:
        return None
    if "*" in origins:
        return "*"
    return origin if origin.rstrip("/") in origins else None


def preflight(origins: Sequence[str]) -> Response | None:
    """204 for a CORS preflight on a CDS endpoint; None for anything else."""
    if request.method != "OPTIONS" or not cds_path(request.path) \
            or "Access-Control-Request-Method" not in request.headers:
        return None
    response = Response(status=204)
    allow = allowed_origin(origins, request.headers.get("Origin"))
    if allow:
        response.headers["Access-Control-Allow-Origin"] = allow
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = MAX_AGE_SECONDS
    response.headers["Vary"] = "Origin"
    return response


def add_headers(origins: Sequence[str], response: Response) -> Response:
    """CORS headers on an actual (non-preflight) response from a CDS endpoint, errors included."""
    if cds_path(request.path):
        allow = allowed_origin(origins, request.headers.get("Origin"))
        if allow and "Access-Control-Allow-Origin" not in response.headers:
            response.headers["Access-Control-Allow-Origin"] = allow
            response.headers["Access-Control-Expose-Headers"] = "X-Request-Id"
        response.vary.add("Origin")
    return response
