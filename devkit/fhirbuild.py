"""Builders for synthetic FHIR R4 JSON used across the test suite.

Tests describe a patient in clinical terms ("39.2 °C two hours ago",
"norepinephrine running since 3 h ago") and these helpers write the FHIR.
Times are given as ``timedelta`` before a fixed ``NOW`` so tests never read
the clock.
"""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PATIENT_ID = "p1"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"

_ids = itertools.count(1)


def iso(t: datetime | timedelta) -> str:
    if isinstance(t, timedelta):
        t = NOW - t
    return t.isoformat().replace("+00:00", "Z")


def ago(hours: float = 0, minutes: float = 0, days: float = 0) -> timedelta:
    return timedelta(hours=hours, minutes=minutes, days=days)


def _id(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def patient(birth_date: str | None = "1970-05-01", pid: str = PATIENT_ID) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Patient", "id": pid}
    if birth_date:
        res["birthDate"] = birth_date
    return res


def _obs(code: str, display: str, when: datetime | timedelta, *, status: str = "final", rid: str | None = None,
         category: str = "vital-signs", **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid or _id("obs"),
        "status": status,
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": category}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": iso(when),
    }
    res.update(extra)
    return res


def quantity(value: float, code: str, unit: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit or code, "system": UCUM, "code": code}


def temperature(value: float, when: datetime | timedelta, unit: str = "Cel", code: str = "8310-5",
                **kw: Any) -> dict[str, Any]:
    return _obs(code, "Body temperature", when, valueQuantity=quantity(value, unit), **kw)


def blood_pressure(systolic: float | None, diastolic: float | None, when: datetime | timedelta,
                   **kw: Any) -> dict[str, Any]:
    comps = []
    if systolic is not None:
        comps.append({"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                      "valueQuantity": quantity(systolic, "mm[Hg]", "mmHg")})
    if diastolic is not None:
        comps.append({"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                      "valueQuantity": quantity(diastolic, "mm[Hg]", "mmHg")})
    return _obs("85354-9", "Blood pressure panel", when, component=comps, **kw)


def systolic(value: float, when: datetime | timedelta, **kw: Any) -> dict[str, Any]:
    return _obs("8480-6", "Systolic blood pressure", when, valueQuantity=quantity(value, "mm[Hg]", "mmHg"), **kw)


def mean_arterial_pressure(value: float, when: datetime | timedelta, **kw: Any) -> dict[str, Any]:
    return _obs("8478-0", "Mean blood pressure", when, valueQuantity=quantity(value, "mm[Hg]", "mmHg"), **kw)


def spo2(value: float, when: datetime | timedelta, flow_l_min: float | None = None,
         fio2: float | None = None, **kw: Any) -> dict[str, Any]:
    comps = []
    if flow_l_min is not None:
        comps.append({"code": {"coding": [{"system": LOINC, "code": "3151-8"}]},
                      "valueQuantity": quantity(flow_l_min, "L/min")})
    if fio2 is not None:
        comps.append({"code": {"coding": [{"system": LOINC, "code": "3150-0"}]},
                      "valueQuantity": quantity(fio2, "%")})
    extra = {"component": comps} if comps else {}
    return _obs("59408-5", "Oxygen saturation by pulse oximetry", when,
                valueQuantity=quantity(value, "%"), **extra, **kw)


def oxygen_flow(value: float, when: datetime | timedelta, unit: str = "L/min", **kw: Any) -> dict[str, Any]:
    return _obs("3151-8", "Inhaled oxygen flow rate", when, valueQuantity=quantity(value, unit), **kw)


# SNOMED CT codes as listed in shared/clinical-reference.md section 4.
DEVICE_CODES = {
    "room-air": None,
    "nasal-cannula": ("336623009", "Oxygen nasal cannula"),
    "blow-by": ("425478008", "Blow-by oxygen"),
    "high-flow-nasal-cannula": ("426854004", "High flow oxygen nasal cannula"),
    "simple-facemask": ("371908008", "Oxygen administration by mask"),
    "non-rebreather": ("427591007", "Nonrebreather oxygen mask"),
    "venturi": ("428285009", "Venturi mask"),
    "cpap": ("47545007", "Continuous positive airway pressure ventilation treatment"),
    "bipap": ("243142003", "Bilevel positive airway pressure"),
    "non-invasive-ventilation": ("428311008", "Noninvasive ventilation"),
    "mechanical-ventilation": ("40617009", "Artificial respiration"),
    "endotracheal-tube": ("26412008", "Endotracheal tube"),
}


def oxygen_device(device: str, when: datetime | timedelta, **kw: Any) -> dict[str, Any]:
    """Method of oxygen delivery (LOINC 107117-4) with a SNOMED device value."""
    coded = DEVICE_CODES[device]
    if coded is None:
        value = {"text": "Room air"}
    else:
        value = {"coding": [{"system": SNOMED, "code": coded[0], "display": coded[1]}], "text": coded[1]}
    return _obs("107117-4", "Method of oxygen delivery", when, valueCodeableConcept=value, **kw)


def weight(value: float, when: datetime | timedelta, unit: str = "kg", **kw: Any) -> dict[str, Any]:
    return _obs("29463-7", "Body weight", when, valueQuantity=quantity(value, unit), **kw)


def height(value: float, when: datetime | timedelta, unit: str = "cm", **kw: Any) -> dict[str, Any]:
    return _obs("8302-2", "Body height", when, valueQuantity=quantity(value, unit), **kw)


def lab(code: str, value: float, unit: str, when: datetime | timedelta, display: str = "", **kw: Any) -> dict[str, Any]:
    return _obs(code, display or code, when, category="laboratory", valueQuantity=quantity(value, unit), **kw)


def med_admin(drug: str | dict[str, Any], when: datetime | timedelta, *, end: datetime | timedelta | None = None,
              open_period: bool = False, status: str = "completed", rxnorm: str | None = None,
              dose: tuple[float, str] | None = None, route: str | None = None, rid: str | None = None,
              **extra: Any) -> dict[str, Any]:
    """A MedicationAdministration.

    ``drug`` is a display text (coded with ``rxnorm`` if given) or a full
    ``medicationCodeableConcept``/``medicationReference`` dict passed through
    as-is. ``open_period`` gives ``effectivePeriod`` with a start only (an
    infusion still running); ``end`` gives a closed period.
    """
    res: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": rid or _id("ma"),
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }
    if isinstance(drug, dict):
        res.update(drug)
    else:
        concept: dict[str, Any] = {"text": drug}
        if rxnorm:
            concept["coding"] = [{"system": RXNORM, "code": rxnorm, "display": drug}]
        res["medicationCodeableConcept"] = concept
    if open_period:
        res["effectivePeriod"] = {"start": iso(when)}
    elif end is not None:
        res["effectivePeriod"] = {"start": iso(when), "end": iso(end)}
    else:
        res["effectiveDateTime"] = iso(when)
    dosage: dict[str, Any] = {}
    if dose:
        dosage["dose"] = quantity(dose[0], dose[1])
    if route:
        codes = {"IV": ("47625008", "Intravenous route"), "SC": ("34206005", "Subcutaneous route"),
                 "PO": ("26643006", "Oral route"), "IM": ("78421000", "Intramuscular route")}
        dosage["route"] = {"coding": [{"system": SNOMED, "code": codes[route][0], "display": codes[route][1]}]}
    if dosage:
        res["dosage"] = dosage
    res.update(extra)
    return res


# RxNorm ingredient codes from shared/clinical-reference.md section 4.
RX = {
    "norepinephrine": "7512",
    "epinephrine": "3992",
    "phenylephrine": "8163",
    "dopamine": "3628",
    "vasopressin": "11149",
    "dobutamine": "3616",
    "dexamethasone": "3264",
    "methylprednisolone": "6902",
    "hydrocortisone": "5492",
    "tocilizumab": "612865",
    "anakinra": "72435",
    "acetaminophen": "161",
    "blinatumomab": "1597258",
}


def drug(name: str, when: datetime | timedelta, **kw: Any) -> dict[str, Any]:
    """A MedicationAdministration coded with the RxNorm ingredient of ``name``."""
    return med_admin(name, when, rxnorm=RX.get(name), **kw)


def car_t(when: datetime | timedelta = ago(days=5), product: str = "axicabtagene ciloleucel",  # noqa: B008 - NOW is fixed
          **kw: Any) -> dict[str, Any]:
    """The index therapy: a CAR-T infusion, matched by name."""
    return med_admin(product, when, **kw)


def bundle(*resources: dict[str, Any], type_: str | None = "searchset") -> dict[str, Any]:
    b: dict[str, Any] = {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}
    if type_:
        b["type"] = type_
    return b


def hook_request(resources: list[dict[str, Any]], *, hook: str = "patient-view",
                 pid: str = PATIENT_ID, include_patient: bool = True, **extra: Any) -> dict[str, Any]:
    """A patient-view request whose prefetch holds ``resources`` split by type."""
    obs = [r for r in resources if r["resourceType"] == "Observation"]
    meds = [r for r in resources if r["resourceType"] in ("MedicationAdministration", "Medication")]
    pats = [r for r in resources if r["resourceType"] == "Patient"]
    conditions = [r for r in resources if r["resourceType"] == "Condition"]
    prefetch: dict[str, Any] = {
        "observations": bundle(*obs),
        "medicationAdministrations": bundle(*meds),
    }
    if conditions:  # read only when prefetched
        prefetch["conditions"] = bundle(*conditions)
    if include_patient:
        prefetch["patient"] = pats[0] if pats else patient(pid=pid)
    req: dict[str, Any] = {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": pid},
        "prefetch": prefetch,
    }
    req.update(extra)
    return req


# --- ICANS assessments as EHRs chart them --------------------------------------------------------------
# Flowsheet rows with Epic OIDs (examples/local-codes.example.yaml maps them), coded list answers,
# the RASS as SNOMED CT with an integer, and Conditions with onset (and abatement when resolved).

EPIC_FLOWSHEET_ROW = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"  # flowsheet row ids (FLO)
EPIC_LIST_VALUE = "urn:oid:1.2.840.114350.1.13.0.1.7.4.698084.30000"  # flowsheet list values of those rows
ROWS = {
    "ice-score": ("3040100101", "ICE score"),
    "ice-orientation": ("3040100102", "ICE orientation"),
    "ice-naming": ("3040100103", "ICE naming"),
    "ice-commands": ("3040100104", "ICE follows commands"),
    "ice-writing": ("3040100105", "ICE writing"),
    "ice-attention": ("3040100106", "ICE attention"),
    "capd-score": ("3040100110", "CAPD score"),
    "consciousness-level": ("3040100120", "Level of consciousness (ICANS)"),
    "seizure": ("3040100130", "Seizure activity (ICANS)"),
    "seizure-duration": ("3040100131", "Seizure duration"),
    "motor-weakness": ("3040100140", "Motor findings (ICANS)"),
    "cerebral-oedema": ("3040100150", "Neuroimaging: cerebral oedema"),
    "icans-attribution": ("3040100160", "Neuro finding attributable to another cause"),
}
# The list values of the coded rows, as examples/local-codes.example.yaml maps them.
ANSWERS = {
    "consciousness-level": {"alert": ("1", "Alert"), "spontaneous": ("2", "Drowsy, awakens spontaneously"),
                            "voice": ("3", "Awakens to voice"), "tactile": ("4", "Awakens only to touch"),
                            "unarousable": ("5", "Unarousable")},
    "seizure": {"none": ("1", "None"), "resolved": ("2", "Seizure, resolved rapidly"),
                "prolonged": ("3", "Seizure > 5 min"), "repetitive": ("4", "Repetitive, no return to baseline"),
                "seizure": ("5", "Seizure, duration not known")},
    "motor-weakness": {"none": ("1", "None"), "deep-focal": ("2", "Hemiparesis / paraparesis"),
                       "tremor": ("3", "Tremor or myoclonus only")},
    "cerebral-oedema": {"none": ("1", "No oedema"), "focal": ("2", "Focal / local oedema"),
                        "diffuse": ("3", "Diffuse cerebral oedema")},
    "icans-attribution": {"other-cause": ("1", "Yes - other cause"), "not-other-cause": ("2", "No")},
}


def _row(concept: str) -> dict[str, Any]:
    code, display = ROWS[concept]
    return {"coding": [{"system": EPIC_FLOWSHEET_ROW, "code": code, "display": display}], "text": display}


def _answer(concept: str, answer: str) -> dict[str, Any]:
    code, display = ANSWERS[concept][answer]
    return {"coding": [{"system": EPIC_LIST_VALUE, "code": code, "display": display}], "text": display}


def _flowsheet(concept: str, when: datetime | timedelta, *, rid: str | None = None, **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Observation", "id": rid or _id("fs"), "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "exam"}]}],
        "code": _row(concept), "subject": {"reference": f"Patient/{PATIENT_ID}"}, "effectiveDateTime": iso(when),
    }
    res.update(extra)
    return res


def _component(concept: str, **value: Any) -> dict[str, Any]:
    return {"code": _row(concept), **value}


def attributed_component(cause: str = "Sedation (propofol)") -> dict[str, Any]:
    """The 'attributable to another cause' row answered yes, as a component of the finding."""
    concept = _answer("icans-attribution", "other-cause")
    return _component("icans-attribution", valueCodeableConcept={**concept, "text": cause})


def ice_score(score: int | str, when: datetime | timedelta, *, items: dict[str, int] | None = None,
              components: list[dict[str, Any]] | None = None, **kw: Any) -> dict[str, Any]:
    """The ICE score row: an integer (valueInteger), or a text such as "Unable - unarousable";
    ``items`` as components (orientation, naming, commands, writing, attention)."""
    comps = [_component(f"ice-{item}", valueInteger=points) for item, points in (items or {}).items()]
    comps += components or []
    value = {"valueInteger": score} if isinstance(score, int) else {"valueString": score}
    return _flowsheet("ice-score", when, **value, **({"component": comps} if comps else {}), **kw)


def capd_score(score: int | str, when: datetime | timedelta, **kw: Any) -> dict[str, Any]:
    value = {"valueInteger": score} if isinstance(score, int) else {"valueString": score}
    return _flowsheet("capd-score", when, **value, **kw)


def consciousness(level: str, when: datetime | timedelta, *, components: list[dict[str, Any]] | None = None,
                  **kw: Any) -> dict[str, Any]:
    """The site's level-of-consciousness row with its coded list answer."""
    extra = {"component": components} if components else {}
    return _flowsheet("consciousness-level", when, valueCodeableConcept=_answer("consciousness-level", level),
                      **extra, **kw)


def rass(score: int, when: datetime | timedelta, **kw: Any) -> dict[str, Any]:
    """RASS charted as SNOMED CT 1345050000 with an integer (the shipped code)."""
    res = _flowsheet("consciousness-level", when, valueInteger=score, **kw)
    res["code"] = {"coding": [{"system": SNOMED, "code": "1345050000",
                               "display": "Richmond Agitation Sedation Scale score"}], "text": "RASS"}
    return res


def seizure_row(answer: str, when: datetime | timedelta, *, minutes: float | None = None, **kw: Any) -> dict[str, Any]:
    comps = [_component("seizure-duration", valueQuantity=quantity(minutes, "min"))] if minutes is not None else []
    return _flowsheet("seizure", when, valueCodeableConcept=_answer("seizure", answer),
                      **({"component": comps} if comps else {}), **kw)


def motor_row(answer: str, when: datetime | timedelta, **kw: Any) -> dict[str, Any]:
    return _flowsheet("motor-weakness", when, valueCodeableConcept=_answer("motor-weakness", answer), **kw)


def oedema_row(answer: str, when: datetime | timedelta, **kw: Any) -> dict[str, Any]:
    return _flowsheet("cerebral-oedema", when, valueCodeableConcept=_answer("cerebral-oedema", answer), **kw)


def attribution_row(finding: dict[str, Any], when: datetime | timedelta, *, cause: str = "Sedation",
                    answer: str = "other-cause", **kw: Any) -> dict[str, Any]:
    """An attribution charted on its own row, pointing at its finding with ``focus``."""
    value = {**_answer("icans-attribution", answer), "text": cause}
    return _flowsheet("icans-attribution", when, valueCodeableConcept=value,
                      focus=[{"reference": f"{finding['resourceType']}/{finding['id']}"}], **kw)


def condition(code: str, display: str, onset: datetime | timedelta | None, *,
              abated: datetime | timedelta | None = None, clinical_status: str = "active",
              verification: str = "confirmed", rid: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Condition (encounter diagnosis) coded in SNOMED CT, with onset and, when resolved, abatement."""
    res: dict[str, Any] = {
        "resourceType": "Condition", "id": rid or _id("cond"),
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": clinical_status}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                           "code": verification}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": "encounter-diagnosis"}]}],
        "code": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }
    if onset is not None:
        res["onsetDateTime"] = iso(onset)
    if abated is not None:
        res["abatementDateTime"] = iso(abated)
    res.update(extra)
    return res


def seizure_condition(onset: datetime | timedelta, **kw: Any) -> dict[str, Any]:
    return condition("91175000", "Seizure", onset, **kw)


def status_epilepticus(onset: datetime | timedelta, **kw: Any) -> dict[str, Any]:
    return condition("230456007", "Status epilepticus", onset, **kw)


def hemiplegia(onset: datetime | timedelta, **kw: Any) -> dict[str, Any]:
    return condition("50582007", "Hemiplegia", onset, **kw)
