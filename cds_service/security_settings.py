"""Trust and hardening settings (``CRS_CDS_ISSUERS_FILE``, CORS, limits, ...).

A part of ``Settings`` of its own so that authentication, CORS and request
limits are configured and validated in one place; read from the environment
at start-up, where a bad value is a ``ConfigError`` naming the variable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .issuers import Issuer, IssuerConfigError, load_issuers, normalise_base, sandbox_issuer

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024  # a 14-day ICU record at 15-minute vitals is ~10 MB
DEFAULT_MAX_JSON_DEPTH = 64  # FHIR in a prefetch Bundle nests ~15 deep
DEFAULT_MAX_RESOURCES = 100_000  # the 14-day ICU record is ~12,000


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    issuers: tuple[Issuer, ...] = ()
    public_base_url: str | None = None  # the URL the EHR calls, when behind a proxy (JWT aud)
    redis_url: str | None = None  # shared jti replay cache
    cors_origins: tuple[str, ...] | None = None  # None: '*' in development, none in production
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    max_resources: int = DEFAULT_MAX_RESOURCES

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, production: bool) -> "SecuritySettings":
        from .settings import ConfigError

        issuers: tuple[Issuer, ...] = ()
        path = (env.get("CRS_CDS_ISSUERS_FILE") or "").strip()
        if path:
            try:
                issuers = load_issuers(path, production=production)
            except IssuerConfigError as exc:
                raise ConfigError(f"CRS_CDS_ISSUERS_FILE: {exc}") from None
        elif production:
            raise ConfigError("CRS_CDS_ENV=production requires CRS_CDS_ISSUERS_FILE (the trusted JWT issuers); "
                              "see README, Configuration")
        if _flag(env, "CRS_CDS_TRUST_SANDBOX"):
            if production:
                raise ConfigError("CRS_CDS_TRUST_SANDBOX=on is refused in production: the public sandbox's "
                                  "signing key is published")
            issuers = (*issuers, sandbox_issuer())
        base = (env.get("CRS_CDS_PUBLIC_BASE_URL") or "").strip() or None
        if base is not None and normalise_base(base) is None:
            raise ConfigError(f"CRS_CDS_PUBLIC_BASE_URL={base!r} must be an http(s) URL without query, "
                              "e.g. https://cds.example.org")
        origins = env.get("CRS_CDS_CORS_ORIGINS")
        return cls(
            issuers=issuers,
            public_base_url=base.rstrip("/") if base else None,
            redis_url=(env.get("CRS_CDS_REDIS_URL") or "").strip() or None,
            cors_origins=None if origins is None or not origins.strip()
            else tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip()),
            max_body_bytes=_positive(env, "CRS_CDS_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            max_json_depth=_positive(env, "CRS_CDS_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH),
            max_resources=_positive(env, "CRS_CDS_MAX_RESOURCES", DEFAULT_MAX_RESOURCES),
        )

    def insecure(self, development: bool) -> list[str]:
        """What this configuration lets through that production must not."""
        if not development:
            return []
        found = ["CRS_CDS_ENV=development: requests without a bearer JWT are accepted, and a caller without "
                 "one may name any https fhirServer or an http one on loopback"]
        if not self.issuers:
            found.append("no CRS_CDS_ISSUERS_FILE: bearer JWTs are not verified")
        if any(i.fhir_servers is None for i in self.issuers):
            found.append("CRS_CDS_TRUST_SANDBOX=on: tokens signed with the public CDS Hooks sandbox key are accepted")
        if self.cors_origins is None:
            found.append("CRS_CDS_CORS_ORIGINS unset: any web origin may call the service (CORS '*')")
        return found


def _flag(env: Mapping[str, str], name: str) -> bool:
    from .settings import ConfigError

    value = (env.get(name) or "").strip().lower()
    if value in ("", "off", "false", "no", "0"):
        return False
    if value in ("on", "true", "yes", "1"):
        return True
    raise ConfigError(f"{name}={env.get(name)!r} must be 'on' or 'off'")


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    from .settings import ConfigError

    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be a positive integer")
    return value
