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
from fhir_mappings import load_code_lists, map_resources
from grading import Assessment, GradingConfig, grade_crs, load_grading_config


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """Everything a composer needs about one validated, data-complete service call."""

    context: Mapping[str, Any]
    resources: Sequence[dict[str, Any]]
    now: datetime
    protocol_id: str
    eligibility: bool = True
    unavailable: Sequence[str] = field(default=())


@lru_cache(maxsize=2)
def grading_config(eligibility: bool = True) -> GradingConfig:
    """The grading configuration for this deployment, loaded (and validated) once per process."""
    return load_grading_config() if eligibility else load_grading_config(eligibility_required=False)


def assess(resources: Iterable[dict[str, Any]], *, patient_id: str, now: datetime,
           unavailable: Iterable[str] = (), eligibility: bool = True) -> Assessment:
    """Map the FHIR resources and grade CRS at ``now``."""
    snapshot = map_resources(resources, patient_id=patient_id, now=now, unavailable=tuple(unavailable))
    return grade_crs(snapshot, now, grading_config(eligibility))


def compose_patient_view(call: ServiceCall) -> list[dict[str, Any]]:
    """patient-view: the CRS assessment card (or none)."""
    assessment = assess(call.resources, patient_id=call.context["patientId"], now=call.now,
                        unavailable=call.unavailable, eligibility=call.eligibility)
    return patient_view_cards(assessment, protocol_id=call.protocol_id)


# catalogue.ServiceDefinition.composer -> function; order-select/order-sign add theirs here.
COMPOSERS: dict[str, Callable[[ServiceCall], list[dict[str, Any]]]] = {
    "patient-view": compose_patient_view,
}


def warm_up(eligibility: bool = True) -> None:
    """Load code lists and grading configuration before the first request: a bad data
    file fails at start-up, not on a patient, and the first call is not the slow one."""
    load_code_lists()
    grading_config(eligibility)
