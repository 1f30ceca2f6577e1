"""Ready-to-sign FHIR orders carried by card suggestions.

Built as plain dicts. Their structure is validated through fhir.resources' R4B
models (R4 compatible) once at start-up and their per-call values on every
call, so a structural mistake fails here, in our tests, and not in the EHR
when a clinician clicks "accept".
"""
from __future__ import annotations

import json
import math
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

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
    """A draft MedicationRequest for one dose regimen (dose in mg, UCUM ``mg``); ValueError
    naming the field when a value would make it invalid."""
    return _validated(build_medication_request(
        patient_id=patient_id, drug_display=drug_display, rxnorm=rxnorm, dose_mg=dose_mg, route=route,
        every_hours=every_hours, text=text, grade=grade, once=once, encounter_id=encounter_id,
        syndrome=syndrome, resource_id=resource_id, note=note))


def build_medication_request(*, patient_id: str, drug_display: str, rxnorm: str | None, dose_mg: float,
                             route: str, every_hours: float | None, text: str, grade: int | None,
                             once: bool = False, encounter_id: str | None = None, syndrome: Syndrome = "crs",
                             resource_id: str | None = None, note: str | None = None) -> dict[str, Any]:
    """The MedicationRequest as built, unchecked (``medication_request`` checks it)."""
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
    return resource


def service_request(*, patient_id: str, code: dict[str, Any], text: str, grade: int | None,
                    encounter_id: str | None = None, resource_id: str | None = None,
                    priority: str | None = None, syndrome: Syndrome = "crs") -> dict[str, Any]:
    """A draft ServiceRequest (ICU transfer, echocardiogram, labs, cultures); ValueError naming
    the field when a value would make it invalid."""
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
    return _validated(resource)


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
    return _validated(resource)


# What varies between calls is checked per call (below); the structure around it is fixed
# by these builders and TERMINOLOGY, and is validated by the FHIR models once, at start-up.
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]+")
_FHIR_CODE = re.compile(r"[^\s]+(\s[^\s]+)*")
_FHIR_URI = re.compile(r"\S*")
_REQUEST_PRIORITIES = frozenset({"routine", "urgent", "asap", "stat"})  # FHIR R4 request-priority
_CODING_FIELDS = {"system": str, "version": str, "code": str, "display": str, "userSelected": bool}


def _validated(resource: dict[str, Any]) -> dict[str, Any]:
    """Check the per-call values of an order built here; raises ValueError naming the field.

    Building one is on every card's path (a card may carry twenty orders) and a FHIR model
    validation costs about 1 ms, so the models validate each structural variant once
    (``validate_order_builders``, from the composition root) and each call checks only what
    varies: ids, references, codes, numbers and texts.
    """
    for field, value in (("id", resource["id"]), ("subject", resource["subject"]["reference"]),
                         ("encounter", (resource.get("encounter") or {}).get("reference", "Encounter/x"))):
        rid = value.rsplit("/", 1)[-1]
        if not _FHIR_ID.fullmatch(rid):
            raise ValueError(f"{field}: {value!r} is not a valid FHIR id")
        if len(rid) > 64:
            raise ValueError(f"{field}: {value!r} has an id longer than FHIR's 64 characters")
    if resource["resourceType"] == "MedicationRequest":
        _check_medication(resource)
    elif resource["resourceType"] == "ServiceRequest":
        _check_coding(resource["code"]["coding"][0], "code.coding")
        _check_text(resource["code"]["text"], "code.text")
        priority = resource.get("priority")
        if priority is not None and priority not in _REQUEST_PRIORITIES:
            raise ValueError(f"priority: {priority!r} is not one of {', '.join(sorted(_REQUEST_PRIORITIES))}")
    return resource


def _check_medication(resource: dict[str, Any]) -> None:
    concept = resource["medicationCodeableConcept"]
    _check_text(concept["text"], "medicationCodeableConcept.text")
    for coding in concept.get("coding", ()):
        _check_coding(coding, "medicationCodeableConcept.coding")
    [dosage] = resource["dosageInstruction"]
    _check_text(dosage["text"], "dosageInstruction.text")
    _check_positive(dosage["doseAndRate"][0]["doseQuantity"]["value"], "doseQuantity.value")
    period = dosage["timing"]["repeat"].get("period")
    if period is not None:
        _check_positive(period, "timing.repeat.period")
    for note in resource.get("note", ()):
        _check_text(note["text"], "note.text")


def _check_coding(coding: dict[str, Any], where: str) -> None:
    for key, value in coding.items():
        kind = _CODING_FIELDS.get(key)
        if kind is None or type(value) is not kind:
            raise ValueError(f"{where}.{key}: {value!r} is not allowed in a FHIR Coding")
    if "code" in coding and not _FHIR_CODE.fullmatch(coding["code"]):
        raise ValueError(f"{where}.code: {coding['code']!r} is not a valid FHIR code")
    if "system" in coding and not _FHIR_URI.fullmatch(coding["system"]):
        raise ValueError(f"{where}.system: {coding['system']!r} is not a valid FHIR uri")
    for key in ("display", "version"):
        if key in coding:
            _check_text(coding[key], f"{where}.{key}")


def _check_text(value: object, where: str) -> None:
    if type(value) is not str or not value.strip():
        raise ValueError(f"{where}: {value!r} is not a non-empty string")


def _check_positive(value: object, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{where}: {value!r} is not a positive finite number")


_builders_validated = False


def validate_order_builders() -> None:
    """Validate every structural variant the builders make with the fhir.resources models.

    Each variant differs from the baseline in one part (a route, a timing, a reason grade,
    an optional element); the models validate those parts independently, so these cover
    every combination. Once per process: the composition root calls it at start-up.
    """
    global _builders_validated
    if _builders_validated:
        return
    base: dict[str, Any] = {"patient_id": "shape", "drug_display": "drug", "rxnorm": "1", "dose_mg": 1.5, "route": "IV",
                            "every_hours": 6, "text": "drug", "grade": 1}
    variants: list[dict[str, Any]] = [
        {}, {"rxnorm": None}, {"every_hours": 1.5}, {"every_hours": None}, {"once": True},
        {"encounter_id": "e"}, {"note": "note"},
        *({"route": route} for route in TERMINOLOGY["routes"]),
        *({"grade": grade} for grade in (2, 3, 4, None)),
    ]
    for change in [*variants, {"syndrome": "icans"}]:
        MedicationRequest.model_validate(medication_request(**{**base, **change}))
    code = {"system": "http://snomed.info/sct", "code": "1", "display": "service"}
    service: dict[str, Any] = {"patient_id": "shape", "code": code, "text": "service", "grade": 3}
    changes: list[dict[str, Any]] = [{}, {"priority": "urgent"}, {"encounter_id": "e"}, {"grade": None},
                                     {"syndrome": "icans"}]
    for change in changes:
        ServiceRequest.model_validate(service_request(**{**service, **change}))
    onset = datetime(2026, 1, 1, tzinfo=UTC)
    for syndrome in ("crs", "icans"):
        reasons = TERMINOLOGY["crsReason" if syndrome == "crs" else "icansReason"]
        for grade in (int(key) for key in reasons if key.isdigit()):
            for lower_bound in (False, True):
                Condition.model_validate(diagnosis_condition(patient_id="shape", syndrome=syndrome, grade=grade,
                                                             lower_bound=lower_bound, onset=onset))
    Condition.model_validate(diagnosis_condition(patient_id="shape", syndrome="crs", grade=1, lower_bound=False,
                                                 onset=None, encounter_id="e"))
    _builders_validated = True
