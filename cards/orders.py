"""Ready-to-sign FHIR orders carried by card suggestions.

Built as plain dicts and validated through fhir.resources' R4B models (R4
compatible), so a structural mistake fails here, in our tests, and not in
the EHR when a clinician clicks "accept".
"""
from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import BaseModel

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
ICD10CM_OID = "urn:oid:2.16.840.1.113883.6.90"  # ICD-10-CM as Epic names it (ehr-notes.md): the same code twice
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
SYNDROME_NAMES = {"crs": "Cytokine release syndrome", "icans": "Immune effector cell-associated neurotoxicity syndrome"}


# Codes the orders carry (routes, ICD-10-CM reasons): package data, read once at import.
TERMINOLOGY: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "terminology.json").read_text())


Syndrome = Literal["crs", "icans"]


def diagnosis_coding(syndrome: Syndrome, grade: int | None) -> dict[str, Any]:
    """ICD-10-CM D89.83x (CRS) or G92.0x (ICANS) for a grade; grade unspecified without a grade."""
    key = str(grade) if grade in (1, 2, 3, 4) else "unspecified"
    return dict(TERMINOLOGY["crsReason" if syndrome == "crs" else "icansReason"][key])


def crs_reason(grade: int | None, syndrome: Syndrome = "crs") -> dict[str, Any]:
    """The reason an order treats: ICD-10-CM for the grade of CRS (D89.83x) or ICANS (G92.0x)."""
    return {"coding": [diagnosis_coding(syndrome, grade)]}


def _timing(every_hours: float | None, once: bool) -> dict[str, Any] | None:
    if once or not every_hours:
        return {"repeat": {"count": 1}}
    period: float | int = int(every_hours) if float(every_hours).is_integer() else every_hours
    return {"repeat": {"frequency": 1, "period": period, "periodUnit": "h"}}


def _number(value: float) -> float | int:
    """FHIR decimals: 560 rather than 560.0, 358.8 kept as is."""
    return int(value) if float(value).is_integer() else value


def medication_request(*, patient_id: str, drug_display: str, rxnorm: str | None, dose_mg: float,
                       route: str, every_hours: float | None, text: str, grade: int | None,
                       once: bool = False, encounter_id: str | None = None, syndrome: Syndrome = "crs",
                       resource_id: str | None = None, note: str | None = None) -> dict[str, Any]:
    """A draft MedicationRequest for one dose regimen (dose in mg, UCUM ``mg``)."""
    coding = [{"system": RXNORM, "code": rxnorm, "display": drug_display}] if rxnorm else []
    dosage: dict[str, Any] = {
        "text": text,
        "timing": _timing(every_hours, once),
        "route": {"coding": [TERMINOLOGY["routes"][route]], "text": route},
        "doseAndRate": [{"doseQuantity": {"value": _number(dose_mg), "unit": "mg", "system": UCUM, "code": "mg"}}],
    }
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": resource_id or str(uuid.uuid4()),
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {**({"coding": coding} if coding else {}), "text": drug_display},
        "subject": {"reference": f"Patient/{patient_id}"},
        "reasonCode": [crs_reason(grade, syndrome)],
        "dosageInstruction": [dosage],
    }
    if encounter_id:
        resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    if note:
        resource["note"] = [{"text": note}]
    return _validated(MedicationRequest, resource)


def service_request(*, patient_id: str, code: dict[str, Any], text: str, grade: int | None,
                    encounter_id: str | None = None, resource_id: str | None = None,
                    priority: str | None = None, syndrome: Syndrome = "crs") -> dict[str, Any]:
    """A draft ServiceRequest (ICU transfer, echocardiogram, labs, cultures)."""
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": resource_id or str(uuid.uuid4()),
        "status": "draft",
        "intent": "order",
        "code": {"coding": [code], "text": text},
        "subject": {"reference": f"Patient/{patient_id}"},
        "reasonCode": [crs_reason(grade, syndrome)],
    }
    if priority:
        resource["priority"] = priority
    if encounter_id:
        resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    return _validated(ServiceRequest, resource)


def diagnosis_condition(*, patient_id: str, syndrome: Syndrome, grade: int, lower_bound: bool,
                        onset: datetime | None, encounter_id: str | None = None,
                        resource_id: str | None = None) -> dict[str, Any]:
    """A draft Condition (encounter diagnosis) recording the syndrome with its ICD-10-CM code for the grade
    (grade unspecified when the grade is a lower bound: the code must not claim a grade the data cannot
    show), the ASTCT grade as its stage and the onset."""
    coding = diagnosis_coding(syndrome, None if lower_bound else grade)
    grade_text = f"≥ {grade}" if lower_bound else str(grade)
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": resource_id or str(uuid.uuid4()),
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active", "display": "Active"}]},
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed",
                                           "display": "Confirmed"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis",
                                  "display": "Encounter Diagnosis"}]}],
        "code": {"coding": [coding, {**coding, "system": ICD10CM_OID}],
                 "text": f"{SYNDROME_NAMES[syndrome]}, grade {grade_text} (ASTCT)"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "stage": [{"summary": {"text": f"ASTCT grade {grade_text}"
                               + (" (lower bound: some inputs missing)" if lower_bound else "")},
                   "type": {"text": "ASTCT 2019 consensus grade"}}],
    }
    if onset is not None:
        resource["onsetDateTime"] = onset.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if encounter_id:
        resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    return _validated(Condition, resource)


# Per-call parts of an order; everything else is fixed by the protocol and the grade.
_PER_CALL_FIELDS = ("id", "subject", "encounter")
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def _validated(model: type[BaseModel], resource: dict[str, Any]) -> dict[str, Any]:
    """Validate ``resource`` with its fhir.resources model; raises on invalid FHIR.

    Orders differ between calls only in id, subject and encounter, so each
    distinct order shape is validated by the model once per process (about
    1 ms each, and a card may carry twenty orders) and the per-call fields
    are checked here.
    """
    if not _FHIR_ID.fullmatch(resource["id"]):
        raise ValueError(f"{resource['id']!r} is not a valid FHIR id")
    shape = {k: v for k, v in resource.items() if k not in _PER_CALL_FIELDS}
    _validate_shape(model, json.dumps(shape, sort_keys=True))
    return resource


@lru_cache(maxsize=4096)
def _validate_shape(model: type[BaseModel], shape: str) -> None:
    model.model_validate({**json.loads(shape), "id": "shape", "subject": {"reference": "Patient/shape"}})
