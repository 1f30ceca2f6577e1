"""Service configuration: one frozen object built from environment variables.

Read once at start-up and validated there, so that a typo in a deployment
fails loudly before the first patient is seen instead of silently running on
a default. The service starts with no variables at all on development
defaults; ``insecure_defaults`` says which of them must not reach production.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .ehr.guard import normalise_base
from .security.issuers import Issuer, IssuerConfigError, load_issuers, sandbox_issuer

ENVIRONMENTS = ("development", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}
_PROTOCOL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_PROTOCOL_FILE_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_PROTOCOL = "astct-generic"
DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_ENV = "development"
DEFAULT_FEEDBACK_DB = "var/crs-cds-feedback.sqlite3"  # relative to the working directory
DEFAULT_FETCH_DEADLINE = 3.0  # CDS clients may abandon a call after ~5 s; leave time to grade
DEFAULT_TIMEZONE = "UTC"
DEFAULT_SMART_SCOPES = "launch launch/patient openid fhirUser patient/*.read"
_SMART_CLIENT_ID = re.compile(r"^[\x21-\x7e]{1,256}$")  # printable ASCII, no spaces (RFC 6749 client_id)
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 scope-token


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the variable."""


DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024  # a 14-day ICU record at 15-minute vitals is ~10 MB
DEFAULT_MAX_JSON_DEPTH = 64  # FHIR in a prefetch Bundle nests ~15 deep
DEFAULT_MAX_RESOURCES = 100_000  # the 14-day ICU record is ~12,000


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    """Trust and hardening: who may call (JWT issuers), from which web origins, how much."""

    issuers: tuple[Issuer, ...] = ()
    public_base_url: str | None = None  # the URL the EHR calls, when behind a proxy (JWT aud)
    redis_url: str | None = None  # shared jti replay cache
    cors_origins: tuple[str, ...] | None = None  # None: '*' in development, none in production
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    max_resources: int = DEFAULT_MAX_RESOURCES

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, production: bool) -> SecuritySettings:
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
        if _switch("CRS_CDS_TRUST_SANDBOX", env.get("CRS_CDS_TRUST_SANDBOX"), default=False):
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

    def fhir_allowlist(self) -> frozenset[str] | None:
        """Every FHIR server some trusted issuer (or its tenants) lists; None when no issuer restricts
        them (no issuers file, or the development sandbox): the guard's development rule applies then."""
        if not self.issuers or any(i.fhir_servers is None for i in self.issuers):
            return None
        return frozenset(s for i in self.issuers for s in (*(i.fhir_servers or ()),
                                                            *(u for t in i.tenants for u in t.fhir_servers)))

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


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
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


@dataclass(frozen=True, slots=True)
class SmartSettings:
    """The timeline page as a SMART on FHIR app: the client id the EHR registered it under and the
    scopes it asks for. No client id: cards carry no link and ``/app/launch`` answers 404."""

    client_id: str | None = None
    scopes: str = DEFAULT_SMART_SCOPES

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, production: bool, shared_store: bool) -> SmartSettings:
        client_id = (env.get("CRS_CDS_SMART_CLIENT_ID") or "").strip() or None
        if client_id is not None and not _SMART_CLIENT_ID.match(client_id):
            raise ConfigError("CRS_CDS_SMART_CLIENT_ID must be the client id the EHR registered the app under: "
                              "printable characters without spaces, at most 256")
        raw = env.get("CRS_CDS_SMART_SCOPES")
        scopes = DEFAULT_SMART_SCOPES if _blank(raw) else " ".join(raw.split())
        tokens = scopes.split(" ")
        if not all(_SCOPE_TOKEN.match(t) for t in tokens) or "launch" not in tokens:
            raise ConfigError(f"CRS_CDS_SMART_SCOPES={raw!r} must be space-separated OAuth scopes including "
                              f"'launch' (EHR launch), e.g. {DEFAULT_SMART_SCOPES!r}")
        if client_id is not None and production and not shared_store:
            raise ConfigError("CRS_CDS_SMART_CLIENT_ID in production requires CRS_CDS_REDIS_URL: the SMART "
                              "sessions of the timeline page must be shared by every worker and replica")
        return cls(client_id, scopes)


@dataclass(frozen=True, slots=True)
class Settings:
    protocol_id: str = DEFAULT_PROTOCOL
    eligibility: bool = True  # assess only patients with an index therapy in the eligibility window
    log_level: str = DEFAULT_LOG_LEVEL
    env: str = DEFAULT_ENV
    paediatric_protocol_id: str | None = None  # used for patients under 18 when set
    feedback_url: str = DEFAULT_FEEDBACK_DB  # PostgreSQL URL, sqlite:///path or a SQLite file path
    security: SecuritySettings = field(default_factory=SecuritySettings)  # JWT issuers, CORS, limits
    fetch_deadline_seconds: float = DEFAULT_FETCH_DEADLINE  # reading gaps from fhirServer, all queries together
    grading_file: str | None = None  # the site's copy of grading/data/astct.json (None: the shipped one)
    timezone: str = DEFAULT_TIMEZONE  # IANA name: the wall clock the timeline page shows times in
    smart: SmartSettings = field(default_factory=SmartSettings)  # the timeline page's SMART launch

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``CRS_CDS_*`` variables (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        production = _environment(env.get("CRS_CDS_ENV")) == "production"
        security = SecuritySettings.from_env(env, production=production)
        return cls(
            protocol_id=_protocol(env.get("CRS_CDS_PROTOCOL")) or DEFAULT_PROTOCOL,
            paediatric_protocol_id=_protocol(env.get("CRS_CDS_PAEDIATRIC_PROTOCOL"), "CRS_CDS_PAEDIATRIC_PROTOCOL"),
            eligibility=_switch("CRS_CDS_ELIGIBILITY", env.get("CRS_CDS_ELIGIBILITY"), default=True),
            log_level=_log_level(env.get("CRS_CDS_LOG_LEVEL")),
            env=_environment(env.get("CRS_CDS_ENV")),
            feedback_url=_feedback_url(env.get("CRS_CDS_DATABASE_URL"), env.get("CRS_CDS_FEEDBACK_DB")),
            security=security,
            fetch_deadline_seconds=_seconds("CRS_CDS_FETCH_DEADLINE_SECONDS", env.get("CRS_CDS_FETCH_DEADLINE_SECONDS"),
                                            DEFAULT_FETCH_DEADLINE),
            grading_file=None if _blank(env.get("CRS_CDS_GRADING_FILE")) else env["CRS_CDS_GRADING_FILE"].strip(),
            timezone=_timezone(env.get("CRS_CDS_TIMEZONE")),
            smart=SmartSettings.from_env(env, production=production, shared_store=security.redis_url is not None),
        )

    def insecure_defaults(self) -> list[str]:
        """What this configuration allows that production must not (logged at start-up)."""
        if not self.development:
            return []
        found = ['CRS_CDS_ENV=development: requests may pin the grading time with extension["crs-cds.now"]',
                 "CRS_CDS_ENV=development: /app/timeline?iss=...&patient=... reads an open FHIR server "
                 "without authorization",
                 *self.security.insecure(self.development)]
        if self.smart.client_id and not self.security.redis_url:
            found.append("CRS_CDS_SMART_CLIENT_ID without CRS_CDS_REDIS_URL: SMART sessions live in each worker's "
                         "memory, so a launch works only with `crs-cds serve --workers 1`")
        return found


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _timezone(value: str | None) -> str:
    """An IANA time zone name (``Europe/London``), checked against the time zone database."""
    if _blank(value):
        return DEFAULT_TIMEZONE
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"CRS_CDS_TIMEZONE={value!r} is not an IANA time zone name, "
                          "e.g. Europe/London or America/New_York") from None
    return name


def _seconds(name: str, value: str | None, default: float) -> float:
    if _blank(value):
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 60:
        raise ConfigError(f"{name}={value!r} must be a number of seconds between 0 and 60, e.g. 3")
    return seconds


def _protocol(value: str | None, name: str = "CRS_CDS_PROTOCOL") -> str | None:
    """A shipped protocol id, or the path of an institution's own protocol file.

    Only the form is checked here; the file itself is loaded and validated at
    start-up by ``bootstrap``, which names the file, line, path and problem.
    """
    if _blank(value):
        return None
    value = value.strip()
    if value.lower().endswith(_PROTOCOL_FILE_SUFFIXES):
        return value
    if not _PROTOCOL_ID.match(value):
        raise ConfigError(f"{name}={value!r} is neither a protocol id (lower-case letters, digits, '.', '_' "
                          "or '-', e.g. 'astct-generic') nor a protocol file path ending in .yaml, .yml or .json")
    return value


def _switch(name: str, value: str | None, *, default: bool) -> bool:
    if _blank(value):
        return default
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} must be 'on' or 'off'")


def _log_level(value: str | None) -> str:
    if _blank(value):
        return DEFAULT_LOG_LEVEL
    level = value.strip().upper()
    if level == "WARN":
        level = "WARNING"
    if level not in LOG_LEVELS:
        raise ConfigError(f"CRS_CDS_LOG_LEVEL={value!r} must be one of {', '.join(LOG_LEVELS)}")
    return level


def _environment(value: str | None) -> str:
    if _blank(value):
        return DEFAULT_ENV
    env = value.strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"CRS_CDS_ENV={value!r} must be one of {', '.join(ENVIRONMENTS)}")
    return env


def _feedback_url(database_url: str | None, feedback_db: str | None) -> str:
    """CRS_CDS_DATABASE_URL (PostgreSQL or sqlite:///) when set, else the CRS_CDS_FEEDBACK_DB file."""
    if not _blank(database_url):
        url = database_url.strip()
        if not url.startswith(("postgresql://", "postgres://", "sqlite:///")):
            raise ConfigError("CRS_CDS_DATABASE_URL must be a postgresql://... or sqlite:///... URL")
        return url
    return DEFAULT_FEEDBACK_DB if _blank(feedback_db) else feedback_db.strip()
