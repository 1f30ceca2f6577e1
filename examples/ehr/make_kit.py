"""Regenerate the EHR-shaped test kit: requests and feedback as Epic and Oracle Health send them.

Run from the repository root: ``.venv/bin/python examples/ehr/make_kit.py``.

The clinical data are the ones of ``examples/`` (a CAR-T patient with grade 3 CRS, a grade 2
one), written the way each EHR documents its CDS Hooks calls (``shared/ehr-notes.md``; Epic's
"CDS Hooks" tutorial on fhir.epic.com, Oracle Health's ``millennium/cds_hooks.md``):

- Epic: ``userId`` a ``PractitionerRole``, an ``encounterId``, ``fhirAuthorization`` with
  Epic-style scope names, the ``com.epic.cdshooks.request.*`` extensions (``bpa-trigger-action``
  60, open chart; 18, enter order; 23, sign orders), prefetch searchsets with ``total``,
  ``fullUrl`` and ``search.mode``, absolute references on the FHIR base, flowsheet-row codes
  beside LOINC, administrations that reference Medications (included in the searchset), an empty
  search as a Bundle holding one ``OperationOutcome`` with ``search.mode: outcome``; draft orders
  in a ``collection`` Bundle that also holds the referenced Medications, doses in ``doseQuantity``
  on the Dosage or only in Epic's ``ordered-dose`` extension, routes coded with a local OID and
  SNOMED CT, ``timing.code.text`` such as "Q12H"; feedback in Epic's shapes.
- Oracle Health: patient-view only, numeric ids, SMART scopes, its FHIR base per tenant.

``expected.json`` says what each request must answer; ``tests/api/test_ehr_kit.py`` replays every
file in production mode with real JWTs (an issuers file per profile) and checks each profile's
rules on every card. The files carry no ``crs-cds.now``: tests pin the service's clock at the data's
"now" (``devkit.fhirbuild.NOW``), and ``python -m devkit.retime`` moves them to the present for curl.
"""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from devkit import fhirbuild as fb  # noqa: E402
from devkit import records  # noqa: E402

EPIC_BASE = "https://fhir.epic-hospital.example.org/api/FHIR/R4"
ORACLE_BASE = "https://fhir-ehr.cerner.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d"
EPIC_PATIENT = "eCRSkit.Patient.3aQ3"
ORACLE_PATIENT = "12724066"
EPIC_ROUTE = "urn:oid:1.2.840.114350.1.13.861.1.7.4.798268.7025"  # the site's route list
EPIC_ORDER_ID = "urn:oid:1.2.840.114350.1.13.861.1.7.2.798268"
EPIC_MEDICATION_ID = "urn:oid:1.2.840.114350.1.13.861.1.7.2.698288"
ORDERED_DOSE = "https://open.epic.com/fhir/extensions/ordered-dose"
ADMIN_AMOUNT = "https://open.epic.com/fhir/extensions/admin-amount"
# Epic flowsheet row ids (FLO) for the vital signs, coded beside LOINC.
FLOWSHEET = {"8310-5": ("6", "Temp"), "85354-9": ("5", "BP"), "59408-5": ("10", "SpO2"),
             "3151-8": ("250026", "O2 Flow"), "29463-7": ("14", "Weight")}
FLOWSHEET_ROW = "urn:oid:1.2.840.114350.1.13.861.1.7.2.707679"
EPIC_SCOPE = ("Patient.Read (R4) Observation.Read (Vitals) (R4) Observation.Search (Vitals) (R4) Observation.Search "
              "(Labs) (R4) MedicationAdministration.Search (R4) Medication.Read (R4) Condition.Search (Problems) "
              "(R4) MedicationRequest.Read (Unsigned Order) (R4)")
ROUTES = {"IV": ("11", "Intravenous", "47625008", "Intravenous route"),
          "SC": ("18", "Subcutaneous", "34206005", "Subcutaneous route")}
# The Medications the kit's orders and administrations reference (RxNorm ingredient + Epic's own id).
MEDICATIONS = {
    "norepinephrine": ("eMed.NE4mg250", "NOREPINEPHRINE 4 MG/250 ML IN DEXTROSE 5 % IV SOLN", "7512"),
    "car-t": ("eMed.AxiCel", "AXICABTAGENE CILOLEUCEL IV SUSP (YESCARTA)", None),
    "tocilizumab": ("eMed.Toci20", "TOCILIZUMAB 20 MG/ML IV SOLN", "612865"),
    "dexamethasone": ("eMed.Dex4", "DEXAMETHASONE SODIUM PHOSPHATE 4 MG/ML IJ SOLN", "3264"),
    "sargramostim": ("eMed.GMCSF", "SARGRAMOSTIM 250 MCG IJ SOLR", None),  # no verified ingredient code: by name
}


def epic_ref(kind: str, rid: str) -> str:
    return f"{EPIC_BASE}/{kind}/{rid}"


def epic_subject() -> dict[str, Any]:
    return {"reference": epic_ref("Patient", EPIC_PATIENT), "display": "Crskit, Test"}


def epic_patient() -> dict[str, Any]:
    return {"resourceType": "Patient", "id": EPIC_PATIENT,
            "identifier": [{"use": "usual", "type": {"text": "EPI"}, "system": "urn:oid:1.2.840.114350.1.1",
                            "value": "203713"}],
            "active": True, "name": [{"use": "official", "text": "Test Crskit", "family": "Crskit", "given": ["Test"]}],
            "gender": "female", "birthDate": "1961-02-11"}


def epic_observation(res: dict[str, Any]) -> dict[str, Any]:
    """An fhirbuild Observation as Epic sends it: flowsheet row beside LOINC, absolute subject."""
    res = copy.deepcopy(res)
    res["subject"] = epic_subject()
    loinc = res["code"]["coding"][0]["code"]
    if loinc in FLOWSHEET:
        row, display = FLOWSHEET[loinc]
        res["code"]["coding"].insert(0, {"system": FLOWSHEET_ROW, "code": row, "display": display})
        res["code"]["text"] = display
    res["issued"] = res.get("effectiveDateTime", fb.iso(fb.NOW))
    return res


def epic_medication(drug: str) -> dict[str, Any]:
    rid, display, rxnorm = MEDICATIONS[drug]
    coding = [{"system": fb.RXNORM, "code": rxnorm}] if rxnorm else []
    text = display.lower() if drug != "car-t" else "axicabtagene ciloleucel suspension for IV infusion"
    return {"resourceType": "Medication", "id": rid,
            "identifier": [{"use": "usual", "system": EPIC_MEDICATION_ID, "value": rid.removeprefix("eMed.")}],
            "code": {"coding": coding, "text": text}}


def epic_route(route: str) -> dict[str, Any]:
    local, text, snomed, display = ROUTES[route]
    return {"coding": [{"system": EPIC_ROUTE, "code": local, "display": text},
                       {"system": fb.SNOMED, "code": snomed, "display": display}], "text": text}


def epic_administration(res: dict[str, Any], drug: str) -> dict[str, Any]:
    """An fhirbuild administration as Epic sends it: the Medication by absolute reference."""
    res = copy.deepcopy(res)
    rid, display, _ = MEDICATIONS[drug]
    res.pop("medicationCodeableConcept", None)
    res["medicationReference"] = {"reference": epic_ref("Medication", rid), "display": display}
    res["subject"] = epic_subject()
    if "route" in res.get("dosage", {}):
        res["dosage"]["route"] = epic_route("IV")
    return res


def searchset(query: str, resources: list[dict[str, Any]], included: list[dict[str, Any]] = ()) -> dict[str, Any]:
    """A search result as Epic returns it; no match is one OperationOutcome with ``search.mode: outcome``."""
    entries = [{"link": [{"relation": "self", "url": epic_ref(r["resourceType"], r["id"])}],
                "fullUrl": epic_ref(r["resourceType"], r["id"]), "resource": r, "search": {"mode": "match"}}
               for r in resources]
    entries += [{"fullUrl": epic_ref(r["resourceType"], r["id"]), "resource": r, "search": {"mode": "include"}}
                for r in included]
    if not resources:
        entries = [{"resource": {"resourceType": "OperationOutcome", "issue": [{
            "severity": "warning", "code": "processing",
            "details": {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.861.1.7.2.657369", "code": "4101",
                                    "display": "Resource request returns no results."}],
                        "text": "Resource request returns no results."}}]},
            "search": {"mode": "outcome"}}]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "link": [{"relation": "self", "url": f"{EPIC_BASE}/{query}"}], "entry": entries}


def epic_grade3_prefetch() -> dict[str, Any]:
    """Grade 3 CRS on day +4 of axicabtagene ciloleucel (norepinephrine, low-flow oxygen, 70 kg)."""
    observations = [epic_observation(r) for r in records.grade3_vitals("eObs.")]
    administrations = [
        epic_administration(fb.car_t(fb.ago(days=4), rid="eMA.cart-1"), "car-t"),
        epic_administration(fb.drug("norepinephrine", fb.ago(hours=2.5), open_period=True, status="in-progress",
                                    dose=(0.08, "ug/kg/min"), route="IV", rid="eMA.ne-1"), "norepinephrine"),
    ]
    patient = f"patient={EPIC_PATIENT}"
    return {
        "patient": epic_patient(),
        "observations": searchset(f"Observation?{patient}&_sort=-date", observations),
        "medicationAdministrations": searchset(f"MedicationAdministration?{patient}&_include="
                                               "MedicationAdministration:medication",
                                               administrations, [epic_medication("car-t"),
                                                                 epic_medication("norepinephrine")]),
        "conditions": searchset(f"Condition?{patient}", []),
    }


def epic_request(hook: str, instance: str, trigger: str, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "hookInstance": instance,
        "fhirServer": EPIC_BASE,
        "hook": hook,
        "fhirAuthorization": {"access_token": "kit-opaque-access-token-not-a-jwt", "token_type": "Bearer",
                              "expires_in": 300, "scope": EPIC_SCOPE, "subject": "crs-cds-kit-client"},
        "context": {"patientId": EPIC_PATIENT, "encounterId": "eCRSkit.Encounter.77",
                    "userId": "PractitionerRole/eCRSkit.Role.12", **context},
        "prefetch": epic_grade3_prefetch(),
        "extension": {
            "com.epic.cdshooks.request.bpa-trigger-action": trigger,
            "com.epic.cdshooks.request.cds-hooks-specification-version": "1.0",
            "com.epic.cdshooks.request.fhir-version": "R4",
            "com.epic.cdshooks.request.criteria-id": "2852",
            "com.epic.cdshooks.request.epic-version": "11.2",
            "com.epic.cdshooks.request.cds-hooks-implementation-version": "1.0",
        },
    }


def epic_draft(rid: str, drug: str, dose_mg: float | None, *, ordered_mg: float, every_hours: float | None,
               timing_text: str, route: str = "IV", unit: str = "mg") -> dict[str, Any]:
    """A draft MedicationRequest as Epic sends it (``dose_mg`` None: the dose only in ``ordered-dose``)."""
    med_id, display, _ = MEDICATIONS[drug]
    quantity = {"value": ordered_mg, "unit": unit, "system": fb.UCUM, "code": unit}
    dosage: dict[str, Any] = {
        "extension": [{"valueQuantity": quantity, "url": ORDERED_DOSE}],
        "timing": {"repeat": {"boundsPeriod": {"start": fb.iso(fb.ago(minutes=-30))},
                              **({"frequency": 1, "period": every_hours, "periodUnit": "h"} if every_hours
                                 else {"count": 1})},
                   "code": {"text": timing_text}},
        "asNeededBoolean": False,
        "route": epic_route(route),
    }
    if dose_mg is not None:
        dosage["extension"].insert(0, {"valueQuantity": {"value": 1, "unit": "vial", "system": fb.UCUM,
                                                         "code": "{vial}"}, "url": ADMIN_AMOUNT})
        dosage["doseQuantity"] = {"value": dose_mg, "unit": unit, "system": fb.UCUM, "code": unit}
    return {"resourceType": "MedicationRequest", "id": rid,
            "identifier": [{"use": "usual", "system": EPIC_ORDER_ID, "value": rid.rsplit(".", 1)[-1]}],
            "status": "draft", "intent": "order",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                                      "code": "inpatient", "display": "Inpatient"}], "text": "Inpatient"}],
            "priority": "routine",
            "medicationReference": {"reference": f"Medication/{med_id}", "display": display},
            "subject": {"reference": f"Patient/{EPIC_PATIENT}", "display": "Crskit, Test"},
            "dosageInstruction": [dosage]}


def collection(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def epic_requests() -> dict[str, dict[str, Any]]:
    toci = epic_draft("eMR.ord.1001", "tocilizumab", 900, ordered_mg=900, every_hours=None, timing_text="ONCE")
    dex = epic_draft("eMR.ord.1002", "dexamethasone", None, ordered_mg=10, every_hours=12, timing_text="Q12H")
    gm = epic_draft("eMR.ord.1003", "sargramostim", None, ordered_mg=250, every_hours=24, timing_text="DAILY",
                    route="SC", unit="ug")
    return {
        "patient-view": epic_request("patient-view", "a1f0c2de-5b7e-4c1a-9d3e-0e1a2b3c4d01", "60", {}),
        "order-select": epic_request("order-select", "a1f0c2de-5b7e-4c1a-9d3e-0e1a2b3c4d02", "18", {
            "selections": [f"MedicationRequest/{toci['id']}"],
            "draftOrders": collection(toci, epic_medication("tocilizumab"))}),
        "order-sign": epic_request("order-sign", "a1f0c2de-5b7e-4c1a-9d3e-0e1a2b3c4d03", "23", {
            "draftOrders": collection(dex, gm, epic_medication("dexamethasone"), epic_medication("sargramostim"))}),
    }


def epic_feedback() -> dict[str, dict[str, Any]]:
    """Feedback bodies in Epic's shapes; the card and suggestion uuids stand for those of an answer."""
    card, other, suggestion = ("0b8e7a52-3f7c-4d0e-9a61-5c2f1d9e4a01", "0b8e7a52-3f7c-4d0e-9a61-5c2f1d9e4a02",
                               "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e01")
    when = fb.iso(fb.ago(minutes=-5))
    accepted = {"acceptedSuggestions": [{"id": suggestion}], "card": card, "outcome": "accepted",
                "outcomeTimestamp": when}
    coded = {"card": other, "outcome": "overridden", "outcomeTimestamp": when,
             "overrideReasons": {"reason": {"code": "clinical-judgement", "display": "Clinical judgement: dose "
                                            "intended", "system": "urn:crs-cds:override-reason"},
                                 "userComment": "User Entered Free Text"}}
    built_in_epic = {"card": "0b8e7a52-3f7c-4d0e-9a61-5c2f1d9e4a05", "outcome": "overridden",
                     "outcomeTimestamp": when,
                     "overrideReasons": {"extension": {
                         "com.epic.cdshooks.feedback.overrideReason.reasonCategory": "45",
                         "com.epic.cdshooks.feedback.overrideReason.reasonDisplay": "Does not meet criteria",
                         "com.epic.cdshooks.feedback.overrideReason.reasonTitle": "Does not meet criteria"},
                         "userComment": "User Entered Free Text"}}
    batch = [accepted, {**coded, "card": "0b8e7a52-3f7c-4d0e-9a61-5c2f1d9e4a03"},
             {**built_in_epic, "card": "0b8e7a52-3f7c-4d0e-9a61-5c2f1d9e4a04"}]
    return {"feedback-accepted": {"feedback": [accepted]}, "feedback-override-reason": {"feedback": [coded]},
            "feedback-override-extension": {"feedback": [built_in_epic]}, "feedback-batch": {"feedback": batch}}


def oracle_request(instance: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """patient-view as Oracle Health's CDS Hooks server sends it (Patient View 1.0), numeric ids."""
    request = fb.hook_request([_oracle_ids(r) for r in resources], pid=ORACLE_PATIENT)
    request.update({"hookInstance": instance, "fhirServer": ORACLE_BASE,
                    "fhirAuthorization": {"access_token": "kit-opaque-access-token", "token_type": "Bearer",
                                          "expires_in": 570, "subject": "crs-cds-kit-client",
                                          "scope": "patient/Patient.read patient/Observation.read "
                                                   "patient/MedicationAdministration.read patient/Medication.read"}})
    request["context"] = {"userId": "Practitioner/12742069", "patientId": ORACLE_PATIENT}
    return request


def _oracle_ids(res: dict[str, Any]) -> dict[str, Any]:
    res = copy.deepcopy(res)
    if res["resourceType"] == "Patient":
        res["id"] = ORACLE_PATIENT
    else:
        res["subject"] = {"reference": f"Patient/{ORACLE_PATIENT}"}
    return res


def oracle_requests() -> dict[str, dict[str, Any]]:
    cart = fb.car_t(fb.ago(days=4), rid="30118745")
    grade3 = [fb.patient("1958-04-23"), cart,
              fb.temperature(38.6, fb.ago(hours=18), rid="1198840011"),
              fb.temperature(39.4, fb.ago(hours=1), rid="1198840012"),
              fb.blood_pressure(82, 46, fb.ago(hours=2), rid="1198840013"),
              fb.spo2(94, fb.ago(hours=1), flow_l_min=3, rid="1198840014"),
              fb.oxygen_device("nasal-cannula", fb.ago(hours=1), rid="1198840015"),
              fb.weight(81.0, fb.ago(days=1), rid="1198840016"),
              fb.drug("norepinephrine", fb.ago(hours=2), open_period=True, status="in-progress",
                      dose=(0.06, "ug/kg/min"), route="IV", rid="30118799")]
    grade2 = [fb.patient("1975-09-30"), cart, *records.grade2_fahrenheit_vitals("oh-")]
    return {"patient-view-grade3": oracle_request("b2e1d3c4-6a7f-4b8c-9d0e-1f2a3b4c5d01", grade3),
            "patient-view-grade2": oracle_request("b2e1d3c4-6a7f-4b8c-9d0e-1f2a3b4c5d02", grade2)}


# What the service must answer to each file (tests/api/test_ehr_kit.py): the card kinds in order and the
# assessment's grade for a hook call; for feedback, how many records are new the first time.
EXPECTED: dict[str, dict[str, Any]] = {
    "epic/patient-view.json": {"service": "crs-patient-view", "cards": ["crs-assessment", "crs-protocol-options"],
                               "grade": 3},
    "epic/order-select.json": {"service": "crs-order-select", "cards": ["tocilizumab-dose"]},
    "epic/order-sign.json": {"service": "crs-order-sign", "cards": ["steroid-regimen", "gm-csf"]},
    "epic/feedback-accepted.json": {"stored": 1},
    "epic/feedback-override-reason.json": {"stored": 1},
    "epic/feedback-override-extension.json": {"stored": 1},
    "epic/feedback-batch.json": {"stored": 2},  # replayed after feedback-accepted, whose item it repeats
    "oracle-health/patient-view-grade3.json": {"service": "crs-patient-view",
                                               "cards": ["crs-assessment", "crs-protocol-options"], "grade": 3},
    "oracle-health/patient-view-grade2.json": {"service": "crs-patient-view", "cards": ["crs-assessment"],
                                               "grade": 2},
}


def kit() -> dict[str, dict[str, Any]]:
    """Relative path (without .json) -> file content."""
    files = {f"epic/{name}": body for name, body in {**epic_requests(), **epic_feedback()}.items()}
    files.update({f"oracle-health/{name}": body for name, body in oracle_requests().items()})
    return files


def main() -> None:
    for name, body in kit().items():
        path = HERE / f"{name}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    (HERE / "expected.json").write_text(json.dumps(EXPECTED, indent=2) + "\n")
    print(f"wrote {len(kit())} files and expected.json to {HERE}")


if __name__ == "__main__":
    main()
