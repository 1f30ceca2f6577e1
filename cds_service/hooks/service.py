"""The hook service layer: answer a validated call with complete cards (no Flask).

Gather the call's data (prefetch, then the EHR's FHIR server), refuse a record
too large to grade whole, answer no cards when none of the patient data is the
context patient's (the request log says so), run the hook's composer, and
remember each issued card for the feedback report. In silent mode (go-live),
grade the patient and record the assessment — no patient identifier — and
answer no cards: a hospital compares those grades with its clinicians' before
anyone sees a card. The HTTP layer only validates, authenticates, admits
the fhirServer and serialises what this returns.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from cards import Card
from cards.profiles import NO_ORDERABLES, PROFILES, ClientShaping, Orderables
from cards.wording.times import reader_zone
from clinical import Assessment
from fhir_mappings import patient_share

from ..ehr import FhirServer, Gatherer
from ..feedback import FeedbackStore, IssuedCard, Retention, SilentAssessment
from ..metrics import Metrics
from .assess import Assessor
from .call import HookCall, HookResult
from .catalogue import ServiceDefinition
from .order_review import compose_order_select, compose_order_sign
from .patient_view import compose_patient_view

Composer = Callable[[Assessor, HookCall], list[Card]]
COMPOSERS: dict[str, Composer] = {
    "patient-view": compose_patient_view,
    "order-select": compose_order_select,
    "order-sign": compose_order_sign,
}
_log = logging.getLogger("crs_cds.hooks")


class TooManyResources(Exception):
    """More FHIR resources than the configured maximum: refused, never graded on a truncated record."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} FHIR resources")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class CdsHooks:
    """The services of this deployment and everything they need, built once at start-up."""

    services: tuple[ServiceDefinition, ...]
    assessor: Assessor
    gatherer: Gatherer
    feedback_store: FeedbackStore
    clock: Callable[[], datetime]
    max_resources: int
    composers: Mapping[str, Composer] = field(default_factory=lambda: dict(COMPOSERS))
    metrics: Metrics = field(default_factory=Metrics)
    silent: bool = False
    retention: Retention | None = None  # CRS_CDS_RETENTION_DAYS: old per-call records deleted in the background
    orderables: Orderables = NO_ORDERABLES  # CRS_CDS_ORDERABLES_FILE: the site's orderable codes per client
    zone: tzinfo = UTC  # CRS_CDS_TIMEZONE: the wall clock the cards say times in

    def find(self, service_id: str) -> ServiceDefinition | None:
        return next((s for s in self.services if s.id == service_id), None)

    def discovery(self) -> dict[str, Any]:
        return {"services": [s.discovery() for s in self.services]}

    def templates(self) -> dict[str, Mapping[str, str]]:
        """Prefetch templates by hook (for reading offline requests)."""
        return {s.hook: s.prefetch for s in self.services}

    def answer(self, service: ServiceDefinition, request: Mapping[str, Any], *, now: datetime,
               server: FhirServer | None, client: str = "generic", timeline_url: str | None = None) -> HookResult:
        """The cards for a validated ``request`` to ``service``, shaped for ``client`` (a profile name);
        ``timeline_url``: the SMART link to put on the assessment card, when the timeline page is
        registered as a SMART app.

        Raises ``ehr.DataUnavailable`` (required data neither prefetched nor fetchable)
        and ``TooManyResources``; a failure is an error, never a partial card.
        """
        data = self.gatherer.gather(request, service.prefetch, service.required_prefetch, server=server, now=now,
                                    prefetch_only=service.prefetch_only)
        if len(data.resources) > self.max_resources:
            raise TooManyResources(self.max_resources)
        share = patient_share(data.resources, request["context"].get("patientId"))
        if share.mismatch:  # none of it is this patient's: nothing to say, and never an alert about it
            return HookResult((), len(data.resources), share)
        call = HookCall(request["context"], data.resources, now, tuple(data.unavailable), timeline_url,
                        ClientShaping(PROFILES[client], self.orderables))
        if self.silent:
            return HookResult((), len(data.resources), share, self._record_silently(service.id, call))
        with reader_zone(self.zone):
            cards = tuple(self.composers[service.hook](self.assessor, call))
        self._record_issued(service.id, cards)
        return HookResult(cards, len(data.resources), share)

    def _record_silently(self, service_id: str, call: HookCall) -> Assessment:
        """Grade as the cards would have, and record it; a store failure is logged, the answer stays empty."""
        graded = self.assessor.grade(call.resources, patient_id=call.context["patientId"], now=call.now,
                                     unavailable=call.unavailable)
        a = graded.assessment
        self.metrics.silent_assessment(service_id, a.status, a.grade)
        try:
            self.feedback_store.record_assessment(SilentAssessment(
                service_id, a.status, a.grade, a.worst_grade, a.lower_bound, graded.protocol.id, self.clock()))
        except Exception as exc:
            _log.error("could not record a silent assessment for %s: %s", service_id, type(exc).__name__)
        if self.retention is not None:
            self.retention.due(self.clock())
        return a

    def _record_issued(self, service_id: str, cards: tuple[Card, ...]) -> None:
        """Remember each card (kind, grade, protocol; no patient data) for the feedback report.

        A store failure is logged, never turned into an error: guidance must reach the clinician.
        """
        if not cards:
            return
        for card in cards:
            self.metrics.card_issued(service_id, card.kind, card.grade)
        issued_at = self.clock()
        try:
            self.feedback_store.record_issued(IssuedCard(c.uuid, service_id, c.kind, c.grade, c.protocol, issued_at)
                                              for c in cards)
        except Exception as exc:
            # Type only, like every other error log: a driver's message may quote the failing row.
            _log.error("could not record issued cards for %s: %s", service_id, type(exc).__name__)
        if self.retention is not None:
            self.retention.due(issued_at)
