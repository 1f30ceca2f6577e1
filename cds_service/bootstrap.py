"""The composition root: everything a call needs, built once at start-up.

Code lists, grading configuration, the protocol registry (every configured
protocol loaded and validated), the site's orderables map (checked against those
protocols), the feedback store, the replay cache, the JWT authenticator and the
FHIR fetcher are made here and nowhere else. The Flask
app, the CLI and the tests receive the result; tests substitute fakes through
the keyword arguments instead of patching modules. Nothing is reloaded on a
request: a protocol file edited after start-up changes nothing until restart.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cards import validate_order_builders
from cards.profiles import NO_ORDERABLES, Orderables, mapping_of, orderable_actions
from cards.wording.times import LocalTimes
from fhir_mappings import CodeListError, CodeLists, load_code_lists, load_local_codes
from grading import GradingConfig, GradingConfigError, load_grading_config
from protocols import Protocol, ProtocolError, ProtocolRegistry, load_protocol

from . import __version__
from .ehr import ClientLimits, FhirClient, FhirFetcher, Gatherer, HistoryPlan
from .feedback import FeedbackStore, Retention, SqlFeedbackStore, StoreUnavailable
from .hooks import COMPOSERS, PAGE_DEADLINE_SECONDS, Assessor, CdsHooks, Composer, TimelinePages, catalogue
from .instants import utc_now
from .metrics import Metrics
from .orderables import OrderablesError, load_orderables
from .security import (
    Authenticator,
    JwksFetch,
    KeyStore,
    MemoryReplayCache,
    PostgresReplayCache,
    RedisReplayCache,
    ReplayCache,
    ReplayCacheUnavailable,
    http_fetch_jwks,
)
from .settings import ConfigError, Problems, Settings, check_production
from .smart import MemorySessionStore, OAuthHttp, RedisSessionStore, RequestsOAuthHttp, SessionStore, SmartLauncher


@dataclass(frozen=True, slots=True)
class Service:
    """The running service: configuration, the clock, the hooks, the trust machinery and the timeline page."""

    settings: Settings
    clock: Callable[[], datetime]  # the only clock in the service; tests pin it
    hooks: CdsHooks
    authenticator: Authenticator
    feedback_store: FeedbackStore
    replay: ReplayCache
    metrics: Metrics
    timeline: TimelinePages
    smart: SmartLauncher

    def summary(self) -> dict[str, Any]:
        """What runs, for the start-up log line: no secrets (database and Redis URLs without credentials)."""
        s = self.settings
        protocols = self.hooks.assessor.protocols
        return {
            "version": __version__,
            "environment": s.env,
            "mode": s.mode,
            "protocols": [{"id": p.id, "version": p.version, "for": role} for role, p in
                          (("default", protocols.default), ("paediatric", protocols.paediatric)) if p is not None],
            "issuers": len(s.security.issuers),
            "publicBaseUrl": s.security.public_base_url,
            "feedbackStore": self.feedback_store.describe(),
            "replayStore": self.replay.describe(),
            "corsOrigins": list(s.security.effective_cors_origins(s.development)),
            "workers": s.workers,
            "threads": s.threads,
            "orderables": mapped_counts(self.hooks.orderables, protocols.protocols) or None,
        }

    def readiness(self) -> dict[str, str | None]:
        """Each store and why it cannot be used now (None: usable) — what ``/ready`` reports."""
        checks: dict[str, str | None] = {}
        for name, ping in (("feedbackStore", self.feedback_store.ping), ("replayStore", self.replay.ping)):
            try:
                ping()
                checks[name] = None
            except (StoreUnavailable, ReplayCacheUnavailable) as exc:
                checks[name] = str(exc)
        return checks


def build_assessor(settings: Settings, *, grading: GradingConfig | None = None) -> Assessor:
    """The clinical pipeline with its knowledge loaded and validated (code lists with the site's local
    codes, grading configuration, protocols). ``ConfigError`` lists every bad file, one line each naming the
    variable that points at it."""
    problems = Problems()
    if grading is None:
        grading = problems.take(lambda: _grading(settings), None)
    codes = problems.take(lambda: _code_lists(settings), None)
    default = problems.take(lambda: _protocol("CRS_CDS_PROTOCOL", settings.protocol_id), None)
    paediatric = problems.take(lambda: _protocol("CRS_CDS_PAEDIATRIC_PROTOCOL", settings.paediatric_protocol_id),
                               None) if settings.paediatric_protocol_id else None
    problems.raise_if_any()
    assert grading is not None and codes is not None and default is not None
    validate_order_builders()  # the FHIR structure of every order a card can carry; calls check only values
    return Assessor(codes, grading, ProtocolRegistry(default, paediatric, grading.adult_age_years))


def _grading(settings: Settings) -> GradingConfig:
    overrides = {} if settings.eligibility else {"eligibility_required": False}
    try:
        return load_grading_config(settings.grading_file, **overrides)
    except GradingConfigError as exc:
        raise ConfigError(f"{'CRS_CDS_GRADING_FILE' if settings.grading_file else 'grading data'}: {exc}") from None


def _code_lists(settings: Settings) -> CodeLists:
    """The shipped code lists with the site's local codes (``CRS_CDS_LOCAL_CODES_FILE``)."""
    try:
        local = load_local_codes(settings.local_codes_file) if settings.local_codes_file else ()
    except CodeListError as exc:
        raise ConfigError(f"CRS_CDS_LOCAL_CODES_FILE: {exc}") from None
    try:
        return load_code_lists(local=local)
    except CodeListError as exc:
        where = "CRS_CDS_LOCAL_CODES_FILE" if local else "code lists (fhir_mappings/data)"
        raise ConfigError(f"{where}: {exc}") from None


def _protocol(setting: str, id_or_path: str) -> Protocol:
    """One configured protocol, every problem of it a line naming ``setting``."""
    try:
        return load_protocol(id_or_path)
    except ProtocolError as exc:
        raise ConfigError(*(f"{setting}: {p.render(exc.file)}" for p in exc.problems)) from None
    except OSError as exc:  # e.g. a directory named like a protocol file
        raise ConfigError(f"{setting}: {id_or_path}: cannot read ({exc.strerror or type(exc).__name__})") from None


def open_orderables(settings: Settings, assessor: Assessor) -> Orderables:
    """The site's orderables map, checked against every configured protocol (none configured: empty)."""
    if not settings.orderables_file:
        return NO_ORDERABLES
    try:
        return load_orderables(settings.orderables_file, assessor.protocols.protocols)
    except OrderablesError as exc:
        raise ConfigError(*(f"CRS_CDS_ORDERABLES_FILE: {p}" for p in exc.problems)) from None


def mapped_counts(orderables: Orderables, protocols: tuple[Protocol, ...]) -> dict[str, str]:
    """Per client named in the map: how many of the protocols' orderable actions it maps (start-up log)."""
    actions = {a.id: a for p in protocols for a in orderable_actions(p)}
    counts = {}
    for client in orderables.clients():
        mapped = sum(all(entry is not None for _, entry in mapping_of(orderables, client, a))
                     for a in actions.values())
        counts[client] = f"{mapped} of {len(actions)} orderable actions mapped"
    return counts


def open_feedback_store(settings: Settings) -> FeedbackStore:
    """The feedback database, opened (tables created or migrated) now: an unreachable one stops start-up."""
    try:
        return SqlFeedbackStore.from_url(settings.feedback_url)
    except StoreUnavailable as exc:
        raise ConfigError(f"{settings.feedback_setting}: {exc}") from None


def open_replay_cache(settings: Settings) -> ReplayCache:
    """The configured replay store, reached and prepared now: a store that is configured but
    unreachable stops start-up with one line naming the setting, not every call with a 503."""
    security = settings.security
    cache: ReplayCache
    if security.replay_kind == "redis" and security.redis_url:
        cache, setting = RedisReplayCache(security.redis_url), "CRS_CDS_REDIS_URL"
    elif security.replay_kind == "postgresql":
        cache, setting = PostgresReplayCache(settings.feedback_url), "CRS_CDS_REPLAY_STORE=postgresql"
    else:
        return MemoryReplayCache()
    try:
        cache.open()
    except ReplayCacheUnavailable as exc:
        raise ConfigError(f"{setting}: {exc}") from None
    return cache


def bootstrap(settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now,
              fetcher: FhirFetcher | None = None, feedback_store: FeedbackStore | None = None,
              replay: ReplayCache | None = None, jwks_fetch: JwksFetch = http_fetch_jwks,
              key_store: KeyStore | None = None,
              grading: GradingConfig | None = None, composers: Mapping[str, Composer] = COMPOSERS,
              oauth_http: OAuthHttp | None = None, sessions: SessionStore | None = None) -> Service:
    """Build the service from ``settings`` (default: the environment).

    Everything configured is opened and checked here — protocols, grading data, the feedback
    database (tables created), the replay store — and every problem found is one line of one
    ``ConfigError``, so an operator sees them all before the first patient, not as 503s later.
    The timeline page's SMART sessions live in Redis when ``CRS_CDS_REDIS_URL`` is set.
    """
    settings = settings or Settings.from_env()
    security = settings.security
    problems = Problems()
    if not settings.development:
        problems.take(lambda: check_production(settings), None)
    assessor = problems.take(lambda: build_assessor(settings, grading=grading), None)
    store = feedback_store if feedback_store is not None else problems.take(lambda: open_feedback_store(settings),
                                                                            None)
    replay = replay if replay is not None else problems.take(lambda: open_replay_cache(settings), None)
    orderables = problems.take(lambda: open_orderables(settings, assessor), NO_ORDERABLES) \
        if assessor is not None else NO_ORDERABLES
    problems.raise_if_any()
    assert assessor is not None and store is not None and replay is not None
    metrics = Metrics()
    history = HistoryPlan(assessor.grading.eligibility_window_days)
    client = FhirClient(ClientLimits(deadline_seconds=settings.fetch_deadline_seconds), metrics=metrics)
    gatherer = Gatherer(fetcher or client, settings.fetch_deadline_seconds, history)
    retention = Retention(store, settings.retention_days) if settings.retention_days else None
    hooks = CdsHooks(catalogue(assessor.codes), assessor, gatherer, store, clock, security.max_resources,
                     dict(composers), metrics, settings.silent, retention, orderables, settings.zone)
    keys = key_store or KeyStore(jwks_fetch, max_age_seconds=security.jwks_max_age_seconds)
    authenticator = Authenticator(security.issuers, keys, replay,
                                  public_base_url=security.public_base_url)
    timeline = TimelinePages(assessor, replace(gatherer, deadline_seconds=PAGE_DEADLINE_SECONDS),
                             LocalTimes(settings.zone), security.max_resources)
    if sessions is None:
        sessions = RedisSessionStore(security.redis_url) if security.redis_url else MemorySessionStore()
    smart = SmartLauncher(settings.smart.client_id, settings.smart.scopes, security.fhir_allowlist(),
                          not settings.development, sessions, oauth_http or RequestsOAuthHttp())
    return Service(settings, clock, hooks, authenticator, store, replay, metrics, timeline, smart)
