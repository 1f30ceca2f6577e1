"""Trust and hardening wired into the Flask app: CORS, bearer JWT, request limits.

``install`` registers the hooks (after request logging, so that refusals are
logged with their request id). Authentication covers every CDS Hooks endpoint
(``/cds-services`` and below: discovery, services, feedback); ``/health`` stays
open. A 401 says nothing about why — the reason goes to the request log.
"""
from __future__ import annotations

from flask import Flask, Response, g, jsonify, request

from ..bootstrap import Service
from ..ehr import FhirServer, ServerNotAllowed
from ..security import ANONYMOUS, AuthError, Principal, ReplayCacheUnavailable
from . import cors
from .context import current_service
from .errors import ApiError, error_body
from .limits import check_not_cut

RETRY_AFTER_SECONDS = "5"  # a replay store outage: the EHR may retry shortly (a CDS call is cheap to repeat)


def install(app: Flask, service: Service) -> None:
    """Attach the security hooks to ``app``."""
    app.config["MAX_CONTENT_LENGTH"] = service.settings.security.max_body_bytes
    app.before_request(_preflight)
    app.before_request(_authenticate)
    app.before_request(_check_body_complete)
    app.after_request(_cors_headers)


def cors_origins(service: Service) -> tuple[str, ...]:
    """Configured origins; unset: '*' in development, none in production."""
    return service.settings.security.effective_cors_origins(service.settings.development)


def _preflight() -> Response | None:
    return cors.preflight(cors_origins(current_service()))


def _cors_headers(response: Response) -> Response:
    return cors.add_headers(cors_origins(current_service()), response)


def _unauthorized(reason: str) -> Response:
    g.error, g.auth_failure = "unauthorized", reason
    current_service().metrics.auth_failure(reason)
    response = jsonify(error_body("unauthorized", "Missing or invalid bearer token", g.get("request_id")))
    response.status_code = 401
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _authenticate() -> Response | None:
    if not cors.cds_path(request.path) or request.method == "OPTIONS":
        return None
    service = current_service()
    production = not service.settings.development
    authenticator = service.authenticator
    header = request.headers.get("Authorization")
    if header is None or (not authenticator.configured and not production):
        if production:
            return _unauthorized("no Authorization header")
        g.principal = ANONYMOUS
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorized("Authorization is not a bearer token")
    try:
        g.principal = authenticator.authenticate(token.strip(), request.path)  # aud: configured base + path
    except AuthError as exc:
        return _unauthorized(exc.reason)
    except ReplayCacheUnavailable:  # fail closed: an unchecked token is never accepted
        g.error, g.auth_failure = "unavailable", "replay cache unavailable"
        service.metrics.auth_failure(g.auth_failure)
        response = jsonify(error_body("unavailable", "Authentication is temporarily unavailable; retry",
                                      g.get("request_id")))
        response.status_code = 503
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    g.issuer = g.principal.issuer
    return None


def _check_body_complete() -> None:
    if request.method == "POST" and cors.cds_path(request.path):
        raw = request.get_data(cache=True)
        check_not_cut(raw, request.content_length, current_service().settings.security.max_body_bytes)


def principal() -> Principal:
    return g.get("principal") or ANONYMOUS


def admitted_fhir_server(fhir_server: object) -> FhirServer | None:
    """The request's fhirServer once the guard admits it (None when the request names none);
    403 before any request carries the token anywhere else."""
    if fhir_server is None:
        return None
    try:
        return FhirServer.admit(fhir_server, allowlist=principal().fhir_servers,
                                https_only=not current_service().settings.development)
    except ServerNotAllowed as exc:
        g.auth_failure = "fhirServer not allowed"
        current_service().metrics.auth_failure(g.auth_failure)
        raise ApiError(403, "forbidden", str(exc)) from None
