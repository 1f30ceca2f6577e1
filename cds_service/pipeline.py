"""The clinical pipeline as the transport calls it: resources -> snapshot -> assessment -> cards.

No Flask here: the HTTP route and the offline CLI (``crs-cds grade``) share
it. ``now`` is always passed in (only the transport reads the clock), and no
clinical decision is taken here — this module only wires the layers together.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Sequence

from cards import patient_view_cards
from clinical import ClinicalSnapshot
from fhir_mappings import load_code_lists, map_resources
from clinical import Assessment
from grading import GradingConfig, grade_crs, load_grading_config
from protocols import Protocol, Recommendations, load_protocol, recommend, select_protocol


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """Everything a composer needs about one validated, data-complete service call."""

    context: Mapping[str, Any]
    resources: Sequence[dict[str, Any]]
    now: datetime
    protocol_id: str
    eligibility: bool = True
    unavailable: Sequence[str] = field(default=())
    paediatric_protocol_id: str | None = None


@lru_cache(maxsize=2)
def grading_config(eligibility: bool = True) -> GradingConfig:
    """The grading configuration for this deployment, loaded (and validated) once per process."""
    return load_grading_config() if eligibility else load_grading_config(eligibility_required=False)


@dataclass(frozen=True, slots=True)
class Graded:
    """One patient's snapshot, CRS assessment and the protocol selected for them."""

    snapshot: ClinicalSnapshot
    assessment: Assessment
    protocol: Protocol


@dataclass(frozen=True, slots=True)
class Result(Graded):
    """A graded patient and what the selected protocol recommends for them."""

    recommendations: Recommendations


def protocol_for(snapshot: ClinicalSnapshot, now: datetime, protocol_id: str,
                 paediatric_protocol_id: str | None = None) -> Protocol:
    """The deployment's protocol, or its paediatric one for a patient under 18 (already
    validated at start-up, so this is a cache hit)."""
    return load_protocol(select_protocol(protocol_id, paediatric_protocol_id, snapshot.age_years(now)))


def grade(resources: Iterable[dict[str, Any]], *, patient_id: str, now: datetime, protocol_id: str,
          paediatric_protocol_id: str | None = None, unavailable: Iterable[str] = (),
          eligibility: bool = True) -> Graded:
    """Map the FHIR resources, grade CRS at ``now`` and select the patient's protocol."""
    snapshot = map_resources(resources, patient_id=patient_id, now=now, unavailable=tuple(unavailable))
    assessment = grade_crs(snapshot, now, grading_config(eligibility))
    return Graded(snapshot, assessment, protocol_for(snapshot, now, protocol_id, paediatric_protocol_id))


def assess_and_recommend(resources: Iterable[dict[str, Any]], *, patient_id: str, now: datetime,
                         protocol_id: str, paediatric_protocol_id: str | None = None,
                         unavailable: Iterable[str] = (), eligibility: bool = True) -> Result:
    """Map, grade, then apply the protocol selected for this patient."""
    g = grade(resources, patient_id=patient_id, now=now, protocol_id=protocol_id,
              paediatric_protocol_id=paediatric_protocol_id, unavailable=unavailable, eligibility=eligibility)
    return Result(g.snapshot, g.assessment, g.protocol, recommend(g.assessment, g.snapshot, g.protocol, now))


def compose_patient_view(call: ServiceCall) -> list[dict[str, Any]]:
    """patient-view: the CRS assessment card with the protocol's orders (or no card)."""
    patient_id = call.context["patientId"]
    result = assess_and_recommend(call.resources, patient_id=patient_id, now=call.now,
                                  protocol_id=call.protocol_id, paediatric_protocol_id=call.paediatric_protocol_id,
                                  unavailable=call.unavailable, eligibility=call.eligibility)
    return patient_view_cards(result.assessment, protocol_id=result.protocol.id,
                              recommendations=result.recommendations, patient_id=patient_id,
                              encounter_id=call.context.get("encounterId"))


def _review_orders(call: ServiceCall, *, selected_only: bool) -> list[dict[str, Any]]:
    from .order_review import review_orders

    def graded() -> Graded:
        return grade(call.resources, patient_id=call.context["patientId"], now=call.now,
                     protocol_id=call.protocol_id, paediatric_protocol_id=call.paediatric_protocol_id,
                     unavailable=call.unavailable, eligibility=call.eligibility)

    return review_orders(call.context, call.resources, now=call.now, selected_only=selected_only, graded=graded)


def compose_order_select(call: ServiceCall) -> list[dict[str, Any]]:
    """order-select: protocol checks of the newly selected draft orders (``context.selections``)."""
    return _review_orders(call, selected_only=True)


def compose_order_sign(call: ServiceCall) -> list[dict[str, Any]]:
    """order-sign: protocol checks of every draft order about to be signed."""
    return _review_orders(call, selected_only=False)


# catalogue.ServiceDefinition.composer -> function.
COMPOSERS: dict[str, Callable[[ServiceCall], list[dict[str, Any]]]] = {
    "patient-view": compose_patient_view,
    "order-select": compose_order_select,
    "order-sign": compose_order_sign,
}


def warm_up(eligibility: bool = True, protocol_ids: Iterable[str | None] = ()) -> None:
    """Load code lists, grading configuration and the deployment's protocols before the
    first request: a bad data or protocol file fails at start-up (``protocols.ProtocolError``
    names the file, line, JSON path and problem), not on a patient."""
    load_code_lists()
    grading_config(eligibility)
    for protocol_id in protocol_ids:
        if protocol_id:
            load_protocol(protocol_id)
