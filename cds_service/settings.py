"""Service configuration: one frozen object built from environment variables.

Read once at start-up and validated there, so that a typo in a deployment
fails loudly before the first patient is seen instead of silently running on
a default. The service starts with no variables at all on development
defaults; ``insecure_defaults`` says which of them must not reach production.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cards.profiles import CLIENTS

from .ehr.guard import is_loopback, normalise_base
from .security.issuers import Issuer, IssuerConfigError, load_issuers, sandbox_issuer

ENVIRONMENTS = ("development", "production")
MODES = ("active", "silent")
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
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4  # see README, "Serving": I/O-bound calls (no prefetch) overlap; CPU-bound ones queue per worker
_POSTGRES = ("postgresql://", "postgres://")
T = TypeVar("T")
DEFAULT_TIMEZONE = "UTC"
DEFAULT_SMART_SCOPES = "launch launch/patient openid fhirUser patient/*.read"
_SMART_CLIENT_ID = re.compile(r"^[\x21-\x7e]{1,256}$")  # printable ASCII, no spaces (RFC 6749 client_id)
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 scope-token


class ConfigError(ValueError):
    """Configuration the service cannot run on: one line per problem, each naming the variable (or file)
    and what is wrong, so that an operator fixes them all in one go."""

    def __init__(self, *problems: str) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(problems))


class Problems:
    """Collects ``ConfigError``s so that every bad setting is reported at once, not the first only."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def take(self, build: Callable[[], T], default: T) -> T:
        """``build()``, or ``default`` when it raised ``ConfigError`` (whose problems are kept)."""
        try:
            return build()
        except ConfigError as exc:
            self.found.extend(exc.problems)
            return default

    def check(self, condition: bool, problem: str) -> None:
        if not condition:
            self.found.append(problem)

    def raise_if_any(self) -> None:
        if self.found:
            raise ConfigError(*self.found)


DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024  # a 14-day ICU record at 15-minute vitals is ~10 MB
DEFAULT_MAX_JSON_DEPTH = 64  # FHIR in a prefetch Bundle nests ~15 deep
DEFAULT_MAX_RESOURCES = 100_000  # the 14-day ICU record is ~12,000
DEFAULT_JWKS_MAX_AGE = 3600  # a key the EHR stops publishing is trusted at most this long afterwards


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    """Trust and hardening: who may call (JWT issuers), from which web origins, how much."""

    issuers: tuple[Issuer, ...] = ()
    public_base_url: str | None = None  # the URL the EHR calls (JWT aud = it + path); required in production
    redis_url: str | None = None  # Redis for the shared jti replay cache
    replay_store: str | None = None  # memory | redis | postgresql; None: redis when redis_url is set, else memory
    cors_origins: tuple[str, ...] | None = None  # None: '*' in development, none in production
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    max_resources: int = DEFAULT_MAX_RESOURCES
    jwks_max_age_seconds: int = DEFAULT_JWKS_MAX_AGE  # keys fetched from a jku are re-fetched after this

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, production: bool, problems: Problems | None = None) \
            -> SecuritySettings:
        """Trust settings from ``env``; every bad variable is one line of the ``ConfigError``."""
        own = problems is None
        problems = Problems() if problems is None else problems
        issuers = problems.take(lambda: _issuers(env, production), ())
        base = problems.take(lambda: _public_base_url(env.get("CRS_CDS_PUBLIC_BASE_URL")), None)
        origins = env.get("CRS_CDS_CORS_ORIGINS")
        redis_url = (env.get("CRS_CDS_REDIS_URL") or "").strip() or None
        settings = cls(
            issuers=issuers,
            public_base_url=base,
            redis_url=redis_url,
            replay_store=problems.take(lambda: _replay_store(env.get("CRS_CDS_REPLAY_STORE"), redis_url,
                                                             env.get("CRS_CDS_DATABASE_URL")), None),
            cors_origins=None if origins is None or not origins.strip()
            else tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip()),
            max_body_bytes=problems.take(lambda: _positive(env, "CRS_CDS_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
                                         DEFAULT_MAX_BODY_BYTES),
            max_json_depth=problems.take(lambda: _positive(env, "CRS_CDS_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH),
                                         DEFAULT_MAX_JSON_DEPTH),
            max_resources=problems.take(lambda: _positive(env, "CRS_CDS_MAX_RESOURCES", DEFAULT_MAX_RESOURCES),
                                        DEFAULT_MAX_RESOURCES),
            jwks_max_age_seconds=problems.take(lambda: _jwks_max_age(env.get("CRS_CDS_JWKS_MAX_AGE_SECONDS")),
                                               DEFAULT_JWKS_MAX_AGE),
        )
        if own:
            problems.raise_if_any()
        return settings

    def effective_cors_origins(self, development: bool) -> tuple[str, ...]:
        """Configured origins; unset: '*' in development, none in production."""
        if self.cors_origins is not None:
            return self.cors_origins
        return ("*",) if development else ()

    @property
    def replay_kind(self) -> str:
        """Where ``jti``s are remembered: ``memory`` (this process), ``redis`` or ``postgresql``."""
        return self.replay_store or ("redis" if self.redis_url else "memory")

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


def _issuers(env: Mapping[str, str], production: bool) -> tuple[Issuer, ...]:
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
    return issuers


def _public_base_url(value: str | None) -> str | None:
    base = (value or "").strip() or None
    if base is not None and normalise_base(base) is None:
        raise ConfigError(f"CRS_CDS_PUBLIC_BASE_URL={base!r} must be an http(s) URL without query, "
                          "e.g. https://cds.example.org")
    return base.rstrip("/") if base else None


def _jwks_max_age(value: str | None) -> int:
    if _blank(value):
        return DEFAULT_JWKS_MAX_AGE
    try:
        seconds = int(value)
    except ValueError:
        seconds = 0
    if not 60 <= seconds <= 86_400:
        raise ConfigError(f"CRS_CDS_JWKS_MAX_AGE_SECONDS={value!r} must be a whole number of seconds from 60 "
                          "(the refresh rate limit) to 86400 (one day)")
    return seconds


REPLAY_STORES = ("memory", "redis", "postgresql")


def _replay_store(value: str | None, redis_url: str | None, database_url: str | None) -> str | None:
    if _blank(value):
        return None
    store = value.strip().lower()
    if store not in REPLAY_STORES:
        raise ConfigError(f"CRS_CDS_REPLAY_STORE={value!r} must be one of {', '.join(REPLAY_STORES)}")
    if store == "redis" and not redis_url:
        raise ConfigError("CRS_CDS_REPLAY_STORE=redis needs CRS_CDS_REDIS_URL, e.g. redis://127.0.0.1:6379/0")
    if store == "postgresql" and not (database_url or "").strip().startswith(_POSTGRES):
        raise ConfigError("CRS_CDS_REPLAY_STORE=postgresql needs CRS_CDS_DATABASE_URL=postgresql://... "
                          "(the replay table lives in the feedback database)")
    return store


def check_production(settings: Settings) -> None:
    """What production needs before it may start: trusted issuers, an audience from configuration,
    and — with more than one worker — a replay store all of them share."""
    security = settings.security
    problems = Problems()
    problems.check(bool(security.issuers),
                   "CRS_CDS_ENV=production requires CRS_CDS_ISSUERS_FILE (the trusted JWT issuers)")
    problems.take(lambda: check_audiences(security.issuers, security.public_base_url), None)
    problems.check(settings.workers == 1 or security.replay_kind != "memory",
                   f"CRS_CDS_REPLAY_STORE: production with {settings.workers} workers needs a replay store they "
                   "share (a jti remembered in one worker's memory is accepted again by another): set "
                   "CRS_CDS_REDIS_URL, or CRS_CDS_REPLAY_STORE=postgresql with CRS_CDS_DATABASE_URL, or run one "
                   "worker (CRS_CDS_WORKERS=1)")
    problems.raise_if_any()


def check_audiences(issuers: tuple[Issuer, ...], public_base_url: str | None) -> None:
    """Production: every issuer's expected JWT ``aud`` comes from configuration (its ``audience`` in the
    issuers file, else ``CRS_CDS_PUBLIC_BASE_URL``), never from the Host header of a request."""
    if public_base_url:
        return
    without = [i.iss for i in issuers if i.audience is None]
    if without:
        raise ConfigError("CRS_CDS_PUBLIC_BASE_URL is required in production: the URL the EHR calls, e.g. "
                          "https://cds.example.org (JWT aud = it + the path called), unless every issuer in "
                          f"CRS_CDS_ISSUERS_FILE has an audience; missing for {', '.join(without)}")


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
    workers: int = DEFAULT_WORKERS  # gunicorn worker processes of `crs-cds serve`
    threads: int = DEFAULT_THREADS  # threads per worker (gthread); 1 runs gunicorn's sync workers
    mode: str = "active"  # silent: grade and record every assessment, answer no cards (go-live comparison)
    retention_days: int | None = None  # per-call records (issued cards, silent assessments) kept this long
    local_codes_file: str | None = None  # the site's flowsheet rows and local codes, added to the code lists
    timezone: str = DEFAULT_TIMEZONE  # IANA name: the wall clock the timeline page shows times in
    smart: SmartSettings = field(default_factory=SmartSettings)  # the timeline page's SMART launch
    client: str | None = None  # CRS_CDS_CLIENT: the profile of calls without a verified JWT (development)
    orderables_file: str | None = None  # CRS_CDS_ORDERABLES_FILE: the site's orderable codes per client

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``CRS_CDS_*`` variables (``os.environ`` by default); ``ConfigError`` lists
        every bad variable, one line each."""
        env = os.environ if environ is None else environ
        problems = Problems()
        environment = problems.take(lambda: _environment(env.get("CRS_CDS_ENV")), DEFAULT_ENV)
        settings = cls(
            protocol_id=problems.take(lambda: _protocol(env.get("CRS_CDS_PROTOCOL")), None) or DEFAULT_PROTOCOL,
            paediatric_protocol_id=problems.take(
                lambda: _protocol(env.get("CRS_CDS_PAEDIATRIC_PROTOCOL"), "CRS_CDS_PAEDIATRIC_PROTOCOL"), None),
            eligibility=problems.take(
                lambda: _switch("CRS_CDS_ELIGIBILITY", env.get("CRS_CDS_ELIGIBILITY"), default=True), True),
            log_level=problems.take(lambda: _log_level(env.get("CRS_CDS_LOG_LEVEL")), DEFAULT_LOG_LEVEL),
            env=environment,
            feedback_url=problems.take(
                lambda: _feedback_url(env.get("CRS_CDS_DATABASE_URL"), env.get("CRS_CDS_FEEDBACK_DB")),
                DEFAULT_FEEDBACK_DB),
            security=SecuritySettings.from_env(env, production=environment == "production", problems=problems),
            fetch_deadline_seconds=problems.take(lambda: _seconds(
                "CRS_CDS_FETCH_DEADLINE_SECONDS", env.get("CRS_CDS_FETCH_DEADLINE_SECONDS"), DEFAULT_FETCH_DEADLINE),
                DEFAULT_FETCH_DEADLINE),
            grading_file=None if _blank(env.get("CRS_CDS_GRADING_FILE")) else env["CRS_CDS_GRADING_FILE"].strip(),
            workers=problems.take(lambda: _positive(env, "CRS_CDS_WORKERS", DEFAULT_WORKERS), DEFAULT_WORKERS),
            threads=problems.take(lambda: _positive(env, "CRS_CDS_THREADS", DEFAULT_THREADS), DEFAULT_THREADS),
            mode=problems.take(lambda: _mode(env.get("CRS_CDS_MODE")), "active"),
            retention_days=problems.take(lambda: _positive(env, "CRS_CDS_RETENTION_DAYS", 0), 0) or None,
            local_codes_file=None if _blank(env.get("CRS_CDS_LOCAL_CODES_FILE"))
            else env["CRS_CDS_LOCAL_CODES_FILE"].strip(),
            timezone=problems.take(lambda: _timezone(env.get("CRS_CDS_TIMEZONE")), DEFAULT_TIMEZONE),
            client=problems.take(lambda: _client(env.get("CRS_CDS_CLIENT")), None),
            orderables_file=None if _blank(env.get("CRS_CDS_ORDERABLES_FILE"))
            else env["CRS_CDS_ORDERABLES_FILE"].strip(),
        )
        shared = settings.security.redis_url is not None  # SMART sessions every worker sees
        settings = replace(settings, smart=problems.take(
            lambda: SmartSettings.from_env(env, production=environment == "production", shared_store=shared),
            SmartSettings()))
        problems.raise_if_any()
        return settings

    @property
    def silent(self) -> bool:
        return self.mode == "silent"

    @property
    def feedback_setting(self) -> str:
        """The variable that named the feedback database (for error messages)."""
        return "CRS_CDS_DATABASE_URL" if "://" in self.feedback_url else "CRS_CDS_FEEDBACK_DB"

    def served_at(self, host: str, port: int) -> Settings:
        """These settings for ``crs-cds serve`` on ``host:port``: in development without
        ``CRS_CDS_PUBLIC_BASE_URL``, the address served is the JWT audience (still configuration,
        never a request's Host header). Production always names its public URL."""
        if not self.development or self.security.public_base_url:
            return self
        shown = "localhost" if host in ("0.0.0.0", "::", "") else (f"[{host}]" if ":" in host else host)
        return replace(self, security=replace(self.security, public_base_url=f"http://{shown}:{port}"))

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

    def start_up_warnings(self) -> list[str]:
        """Logged at start-up: the insecure development defaults, or in production what an operator
        running it should know (clear-text public URL, stores that instances cannot share)."""
        if self.development:
            return self.insecure_defaults()
        found = []
        bases = [self.security.public_base_url, *(i.audience for i in self.security.issuers)]
        if any(b and b.startswith("http://") and not is_loopback(b) for b in bases):
            found.append("CRS_CDS_PUBLIC_BASE_URL (or an issuer's audience) is http: the EHR's JWT and patient data "
                         "cross the network in clear text; terminate TLS at the proxy and give its https URL")
        if self.security.replay_kind == "memory":
            found.append("replay store in memory: a token replayed to another instance of this service is not "
                         "detected; with more than one instance set CRS_CDS_REDIS_URL or CRS_CDS_REPLAY_STORE")
        if not self.feedback_url.startswith(_POSTGRES):
            found.append("feedback store is a SQLite file: instances cannot share it; use CRS_CDS_DATABASE_URL="
                         "postgresql://... when running more than one")
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


def _one_of(name: str, value: str | None, allowed: tuple[str, ...], default: T) -> str | T:
    """One of ``allowed`` (case-insensitive), ``default`` when unset; else a line naming the variable."""
    if _blank(value):
        return default
    word = value.strip().lower()
    if word not in allowed:
        raise ConfigError(f"{name}={value!r} must be one of {', '.join(allowed)}")
    return word


def _mode(value: str | None) -> str:
    return _one_of("CRS_CDS_MODE", value, MODES, "active")


def _client(value: str | None) -> str | None:
    """The client profile of calls that carry no verified JWT (development); None: detected per call."""
    return _one_of("CRS_CDS_CLIENT", value, CLIENTS, None)


def _environment(value: str | None) -> str:
    return _one_of("CRS_CDS_ENV", value, ENVIRONMENTS, DEFAULT_ENV)


def _feedback_url(database_url: str | None, feedback_db: str | None) -> str:
    """CRS_CDS_DATABASE_URL (PostgreSQL or sqlite:///) when set, else the CRS_CDS_FEEDBACK_DB file."""
    if not _blank(database_url):
        url = database_url.strip()
        if not url.startswith((*_POSTGRES, "sqlite:///")):
            raise ConfigError("CRS_CDS_DATABASE_URL must be a postgresql://... or sqlite:///... URL")
        return url
    return DEFAULT_FEEDBACK_DB if _blank(feedback_db) else feedback_db.strip()
