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
from dataclasses import dataclass
from datetime import datetime

from fhir_mappings import load_code_lists
from grading import GradingConfig, load_grading_config
from protocols import ProtocolRegistry

from .ehr import ClientLimits, FhirClient, FhirFetcher, Gatherer, HistoryPlan
from .feedback import FeedbackStore, SqlFeedbackStore
from .hooks import COMPOSERS, Assessor, CdsHooks, Composer, catalogue, loinc_tokens
from .instants import utc_now
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
from .settings import ConfigError, Settings, check_production


@dataclass(frozen=True, slots=True)
class Service:
    """The running service: configuration, the clock, the hooks and the trust machinery."""

    settings: Settings
    clock: Callable[[], datetime]  # the only clock in the service; tests pin it
    hooks: CdsHooks
    authenticator: Authenticator
    feedback_store: FeedbackStore
    replay: ReplayCache


def build_assessor(settings: Settings, *, grading: GradingConfig | None = None) -> Assessor:
    """The clinical pipeline with its knowledge loaded and validated (code lists, grading
    configuration, protocols). A bad data or protocol file fails here, naming the file."""
    if grading is None:
        overrides = {} if settings.eligibility else {"eligibility_required": False}
        grading = load_grading_config(settings.grading_file, **overrides)
    protocols = ProtocolRegistry.load(settings.protocol_id, settings.paediatric_protocol_id,
                                      adult_age_years=grading.adult_age_years)
    return Assessor(load_code_lists(), grading, protocols)


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
              grading: GradingConfig | None = None, composers: Mapping[str, Composer] = COMPOSERS) -> Service:
    """Build the service from ``settings`` (default: the environment).

    The feedback store defaults to ``settings.feedback_url``, opened (and its tables
    created) here, so an unreachable database fails at start-up, not on feedback.
    """
    settings = settings or Settings.from_env()
    security = settings.security
    if not settings.development:
        check_production(settings)
    assessor = build_assessor(settings, grading=grading)
    history = HistoryPlan(loinc_tokens(assessor.codes, "temperature"), assessor.grading.eligibility_window_days)
    gatherer = Gatherer(fetcher or FhirClient(ClientLimits(deadline_seconds=settings.fetch_deadline_seconds)),
                        settings.fetch_deadline_seconds, history)
    store = feedback_store if feedback_store is not None else SqlFeedbackStore.from_url(settings.feedback_url)
    replay = open_replay_cache(settings) if replay is None else replay
    hooks = CdsHooks(catalogue(assessor.codes), assessor, gatherer, store, clock, security.max_resources,
                     dict(composers))
    keys = key_store or KeyStore(jwks_fetch, max_age_seconds=security.jwks_max_age_seconds)
    authenticator = Authenticator(security.issuers, keys, replay,
                                  public_base_url=security.public_base_url)
    return Service(settings, clock, hooks, authenticator, store, replay)
