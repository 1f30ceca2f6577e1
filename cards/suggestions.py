"""CDS Hooks suggestions that carry a protocol's orders as draft FHIR resources.

A suggestion's label is the complete order in one line; its action's description adds the limits and
the source. Its ``crs-cds.order`` extension repeats the order's key facts so a receiving system (and our
tests) can check that what the card says is what the resource orders, and ``crs-cds.evidence`` lists what
the order was computed from, with FHIR references.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from protocols import MedicationRecommendation, Recommendation, ServiceRecommendation

from .extension import evidence_json
from .orders import Syndrome, diagnosis_condition, medication_request, service_request
from .wording import plan, recommendations

ORDER_EXTENSION = "crs-cds.order"
EVIDENCE_EXTENSION = "crs-cds.evidence"
DIAGNOSIS_EXTENSION = "crs-cds.diagnosis"
NewId = Callable[[], str]
Orderable = MedicationRecommendation | ServiceRecommendation


def _new_uuid() -> str:
    return str(uuid.uuid4())


def order_extension(rec: Orderable) -> dict[str, Any]:
    """``{"drug": "dexamethasone", "doseMg": 10, "route": "IV", "everyHours": 6}`` or, for a
    service, ``{"service": "icu-transfer", "code": "305351004"}`` (design.md)."""
    if isinstance(rec, ServiceRecommendation):
        return {"service": rec.action_id, "code": rec.codes[0].code, "codes": [c.code for c in rec.codes]}
    assert rec.dose_mg is not None
    every = None if rec.once or not rec.every_hours else _number(rec.every_hours)
    return {"drug": rec.drug.key, "doseMg": _number(rec.dose_mg), "route": rec.route, "everyHours": every}


def order_suggestion(rec: Recommendation, *, grade: int | None, patient_id: str, encounter_id: str | None = None,
                     syndrome: Syndrome = "crs", new_uuid: NewId = _new_uuid) -> dict[str, Any]:
    """One suggestion (call only for ``rec.orderable``): one ``create`` action for a medication;
    one per code for a service, since a panel (CBC, CMP, ...) is several orders the EHR
    applies together, and one CodeableConcept may hold only equivalent codings."""
    if not rec.orderable or not isinstance(rec, MedicationRecommendation | ServiceRecommendation):
        raise ValueError(f"{rec.action_id} is not orderable")
    label = plan.order_label(rec)
    if isinstance(rec, MedicationRecommendation):
        assert rec.dose_mg is not None
        resource = medication_request(patient_id=patient_id, drug_display=rec.drug.display, rxnorm=rec.drug.rxnorm,
                                      dose_mg=rec.dose_mg, route=rec.route, every_hours=rec.every_hours,
                                      once=rec.once, text=recommendations.medication(rec), grade=grade,
                                      syndrome=syndrome, encounter_id=encounter_id, note=rec.note)
        actions = [{"type": "create", "description": plan.order_description(rec), "resource": resource}]
    else:
        actions = [{"type": "create", "description": plan.service_description(code.display, rec),
                    "resource": service_request(patient_id=patient_id, text=code.name if len(rec.codes) > 1
                                                else rec.text, grade=grade, syndrome=syndrome,
                                                encounter_id=encounter_id,
                                                code={"system": code.system, "code": code.code,
                                                      "display": code.display},
                                                priority=rec.priority)}
                   for code in rec.codes]
    extension: dict[str, Any] = {ORDER_EXTENSION: order_extension(rec)}
    if rec.evidence:  # what the order was computed from (the weight of an mg/kg dose, prior doses), with references
        extension[EVIDENCE_EXTENSION] = [evidence_json(e) for e in rec.evidence]
    return {
        "label": label,
        "uuid": new_uuid(),
        "isRecommended": rec.recommended,
        "actions": actions,
        "extension": extension,
    }


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def diagnosis_suggestion(*, syndrome: Syndrome, grade: int, lower_bound: bool, onset: datetime | None, patient_id: str,
                         encounter_id: str | None = None, new_uuid: NewId = _new_uuid) -> dict[str, Any]:
    """A suggestion to record the diagnosis as an encounter-diagnosis Condition (ICD-10-CM by grade): many
    charts never record a CRS or ICANS grade. Never pre-selected: the clinician confirms it."""
    resource = diagnosis_condition(patient_id=patient_id, syndrome=syndrome, grade=grade, lower_bound=lower_bound,
                                   onset=onset, encounter_id=encounter_id)
    coding = resource["code"]["coding"][0]
    label = f"Record diagnosis: {resource['code']['text']} — {coding['code']}"
    return {
        "label": label,
        "uuid": new_uuid(),
        "isRecommended": False,
        "actions": [{"type": "create", "description": label, "resource": resource}],
        "extension": {DIAGNOSIS_EXTENSION: {"syndrome": syndrome, "code": coding["code"], "system": coding["system"],
                                           "grade": grade, "lowerBound": lower_bound,
                                           "onset": resource.get("onsetDateTime")}},
    }
