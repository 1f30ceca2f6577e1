"""Trust and hardening wired into the Flask app: CORS, bearer JWT, fhirServer allowlist, limits.

``install`` registers the hooks (after request logging, so that refusals are
logged with their request id). Authentication covers every CDS Hooks endpoint
(``/cds-services`` and below: discovery, services, feedback); ``/health`` stays
open. A 401 says nothing about why — the reason goes to the request log.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, current_app, g, jsonify, request

from . import cors
from .auth import ANONYMOUS, Authenticator, AuthError, Principal
from .errors import ApiError, error_body
from .fetch import FhirFetcher
from .issuers import is_loopback, normalise_base
from .jti_cache import MemoryReplayCache, RedisReplayCache, ReplayCache, ReplayCacheUnavailable
from .keys import JwksFetch, KeyStore, http_fetch_jwks
from .limits import GuardedFetcher, check_depth, check_not_cut, check_resource_count
from .security_settings import SecuritySettings
from .settings import ConfigError, Settings

EXTENSION_KEY = "crs_cds.security"


@dataclass(frozen=True, slots=True)
class Security:
    config: SecuritySettings
    production: bool
    authenticator: Authenticator
    cors_origins: tuple[str, ...]


def install(app: Flask, settings: Settings, *, jwks_fetch: JwksFetch = http_fetch_jwks,
            replay: ReplayCache | None = None) -> Security:
    """Attach the security hooks to ``app``; production without trusted issuers is a ``ConfigError``."""
    config: SecuritySettings = settings.security
    production = not settings.development
    if production and not config.issuers:
        raise ConfigError("CRS_CDS_ENV=production requires CRS_CDS_ISSUERS_FILE (the trusted JWT issuers)")
    if replay is None:
        replay = RedisReplayCache(config.redis_url) if config.redis_url else MemoryReplayCache()
    origins = config.cors_origins if config.cors_origins is not None else (() if production else ("*",))
    security = Security(config, production, Authenticator(config.issuers, KeyStore(jwks_fetch), replay), origins)
    app.extensions[EXTENSION_KEY] = security
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.before_request(_preflight)
    app.before_request(_authenticate)
    app.before_request(_check_depth)
    app.after_request(_cors_headers)
    return security


def _security() -> Security:
    return current_app.extensions[EXTENSION_KEY]


def _preflight() -> Response | None:
    return cors.preflight(_security().cors_origins)


def _cors_headers(response: Response) -> Response:
    return cors.add_headers(_security().cors_origins, response)


def _unauthorized(reason: str) -> Response:
    g.error, g.auth_failure = "unauthorized", reason
    response = jsonify(error_body("unauthorized", "Missing or invalid bearer token", g.get("request_id")))
    response.status_code = 401
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _audience() -> str:
    base = _security().config.public_base_url
    return base + request.path if base else request.base_url


def _authenticate() -> Response | None:
    if not cors.cds_path(request.path) or request.method == "OPTIONS":
        return None
    security = _security()
    header = request.headers.get("Authorization")
    if header is None or (not security.authenticator.configured and not security.production):
        if security.production:
            return _unauthorized("no Authorization header")
        g.principal = ANONYMOUS
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorized("Authorization is not a bearer token")
    try:
        g.principal = security.authenticator.authenticate(token.strip(), _audience())
    except AuthError as exc:
        return _unauthorized(exc.reason)
    except ReplayCacheUnavailable:
        g.error, g.auth_failure = "unavailable", "replay cache unavailable"
        response = jsonify(error_body("unavailable", "Authentication is temporarily unavailable; retry",
                                      g.get("request_id")))
        response.status_code = 503
        return response
    g.issuer = g.principal.issuer
    return None


def _check_depth() -> None:
    if request.method == "POST" and cors.cds_path(request.path):
        raw = request.get_data(cache=True)
        check_not_cut(raw, request.content_length, _security().config.max_body_bytes)
        check_depth(raw, _security().config.max_json_depth)


def principal() -> Principal:
    return g.get("principal") or ANONYMOUS


def authorize_fhir_server(fhir_server: object) -> None:
    """403 unless the caller may send us to ``fhir_server`` (checked before any request is made).

    Authenticated callers: their issuer's (and tenant's) allowlist, exact base URL.
    Anonymous callers (development only): any https server, or http on loopback.
    Production: https only, whatever the allowlist says.
    """
    if not isinstance(fhir_server, str):
        return
    base = normalise_base(fhir_server)
    allowed = principal().fhir_servers
    security = _security()
    if base is None:
        ok = False
    elif security.production and not base.startswith("https://"):
        ok = False
    elif allowed is not None:
        ok = base in allowed
    else:
        ok = base.startswith("https://") or is_loopback(base)
    if not ok:
        g.auth_failure = "fhirServer not allowed"
        raise ApiError(403, "forbidden", "fhirServer is not an allowed FHIR server for this client")


def guarded_fetcher(inner: FhirFetcher) -> FhirFetcher:
    """The call's fetcher, confined to fhirServer (defence in depth for any fetcher)."""
    return GuardedFetcher(inner)


def check_resources(count: int) -> None:
    check_resource_count(count, _security().config.max_resources)
