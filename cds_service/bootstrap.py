"""The composition root: everything a call needs, built once at start-up.

Code lists, grading configuration, the protocol registry (every configured
protocol loaded and validated), the feedback store, the replay cache, the JWT
authenticator and the FHIR fetcher are made here and nowhere else. The Flask
app, the CLI and the tests receive the result; tests substitute fakes through
the keyword arguments instead of patching modules. Nothing is reloaded on a
request: a protocol file edited after start-up changes nothing until restart.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from cards import validate_order_builders
from cards.wording.times import LocalTimes
from fhir_mappings import load_code_lists
from grading import GradingConfig, load_grading_config
from protocols import ProtocolRegistry

from .ehr import ClientLimits, FhirClient, FhirFetcher, Gatherer, HistoryPlan
from .feedback import FeedbackStore, SqlFeedbackStore
from .hooks import COMPOSERS, PAGE_DEADLINE_SECONDS, Assessor, CdsHooks, Composer, TimelinePages, catalogue
from .instants import utc_now
from .security import (
    Authenticator,
    JwksFetch,
    KeyStore,
    MemoryReplayCache,
    RedisReplayCache,
    ReplayCache,
    http_fetch_jwks,
)
from .settings import ConfigError, Settings
from .smart import MemorySessionStore, OAuthHttp, RedisSessionStore, RequestsOAuthHttp, SessionStore, SmartLauncher


@dataclass(frozen=True, slots=True)
class Service:
    """The running service: configuration, the clock, the hooks, the trust machinery and the timeline page."""

    settings: Settings
    clock: Callable[[], datetime]  # the only clock in the service; tests pin it
    hooks: CdsHooks
    authenticator: Authenticator
    feedback_store: FeedbackStore
    timeline: TimelinePages
    smart: SmartLauncher


def build_assessor(settings: Settings, *, grading: GradingConfig | None = None) -> Assessor:
    """The clinical pipeline with its knowledge loaded and validated (code lists, grading
    configuration, protocols). A bad data or protocol file fails here, naming the file."""
    if grading is None:
        overrides = {} if settings.eligibility else {"eligibility_required": False}
        grading = load_grading_config(settings.grading_file, **overrides)
    protocols = ProtocolRegistry.load(settings.protocol_id, settings.paediatric_protocol_id,
                                      adult_age_years=grading.adult_age_years)
    validate_order_builders()  # the FHIR structure of every order a card can carry; calls check only values
    return Assessor(load_code_lists(), grading, protocols)


def bootstrap(settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now,
              fetcher: FhirFetcher | None = None, feedback_store: FeedbackStore | None = None,
              replay: ReplayCache | None = None, jwks_fetch: JwksFetch = http_fetch_jwks,
              grading: GradingConfig | None = None, composers: Mapping[str, Composer] = COMPOSERS,
              oauth_http: OAuthHttp | None = None, sessions: SessionStore | None = None) -> Service:
    """Build the service from ``settings`` (default: the environment).

    The feedback store defaults to ``settings.feedback_url``, opened (and its tables
    created) here, so an unreachable database fails at start-up, not on feedback. The
    timeline page's SMART sessions live in Redis when ``CRS_CDS_REDIS_URL`` is set.
    """
    settings = settings or Settings.from_env()
    security = settings.security
    if not settings.development and not security.issuers:
        raise ConfigError("CRS_CDS_ENV=production requires CRS_CDS_ISSUERS_FILE (the trusted JWT issuers)")
    assessor = build_assessor(settings, grading=grading)
    history = HistoryPlan(assessor.grading.eligibility_window_days)
    gatherer = Gatherer(fetcher or FhirClient(ClientLimits(deadline_seconds=settings.fetch_deadline_seconds)),
                        settings.fetch_deadline_seconds, history)
    store = feedback_store if feedback_store is not None else SqlFeedbackStore.from_url(settings.feedback_url)
    if replay is None:
        replay = RedisReplayCache(security.redis_url) if security.redis_url else MemoryReplayCache()
    hooks = CdsHooks(catalogue(assessor.codes), assessor, gatherer, store, clock, security.max_resources,
                     dict(composers))
    timeline = TimelinePages(assessor, replace(gatherer, deadline_seconds=PAGE_DEADLINE_SECONDS),
                             LocalTimes(settings.zone), security.max_resources)
    if sessions is None:
        sessions = RedisSessionStore(security.redis_url) if security.redis_url else MemorySessionStore()
    smart = SmartLauncher(settings.smart.client_id, settings.smart.scopes, security.fhir_allowlist(),
                          not settings.development, sessions, oauth_http or RequestsOAuthHttp())
    return Service(settings, clock, hooks, Authenticator(security.issuers, KeyStore(jwks_fetch), replay), store,
                   timeline, smart)
