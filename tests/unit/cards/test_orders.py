"""FHIR orders carried by suggestions are valid R4 and say what the card says."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards.orders import (
    build_medication_request,
    diagnosis_condition,
    medication_request,
    service_request,
    validate_order_builders,
)


def dexamethasone_q6h() -> dict:
    return medication_request(patient_id="p1", drug_display="dexamethasone", rxnorm="3264", dose_mg=10.0,
                              route="IV", every_hours=6, text="dexamethasone 10 mg IV every 6 hours", grade=3)


def test_dexamethasone_order_is_a_draft_order_with_rxnorm_ucum_snomed_and_icd10() -> None:
    mr = dexamethasone_q6h()
    MedicationRequest.model_validate(mr)
    assert (mr["status"], mr["intent"]) == ("draft", "order")
    assert mr["subject"] == {"reference": "Patient/p1"}
    assert mr["medicationCodeableConcept"]["coding"][0] == {
        "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "3264", "display": "dexamethasone"}
    [dosage] = mr["dosageInstruction"]
    assert dosage["text"] == "dexamethasone 10 mg IV every 6 hours"
    assert dosage["doseAndRate"][0]["doseQuantity"] == {
        "value": 10, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}
    assert dosage["timing"] == {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}}
    assert dosage["route"]["coding"][0]["code"] == "47625008"
    assert mr["reasonCode"][0]["coding"][0]["code"] == "D89.833"


def test_fractional_doses_keep_their_decimals() -> None:
    mr = medication_request(patient_id="p1", drug_display="tocilizumab", rxnorm="612865", dose_mg=358.8,
                            route="IV", every_hours=None, once=True, text="tocilizumab 358.8 mg IV once", grade=2)
    assert mr["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 358.8
    assert mr["dosageInstruction"][0]["timing"] == {"repeat": {"count": 1}}


@pytest.mark.parametrize("grade,code", [(1, "D89.831"), (2, "D89.832"), (4, "D89.834"), (None, "D89.839")])
def test_reason_code_follows_grade(grade, code) -> None:
    mr = medication_request(patient_id="p1", drug_display="x", rxnorm=None, dose_mg=1, route="SC",
                            every_hours=24, text="x", grade=grade)
    assert mr["reasonCode"][0]["coding"][0]["code"] == code
    assert "coding" not in mr["medicationCodeableConcept"]


def test_icu_transfer_service_request_is_valid() -> None:
    sr = service_request(patient_id="p1", code={"system": "http://snomed.info/sct", "code": "305351004",
                                                "display": "Admission to intensive care unit"},
                         text="Transfer to ICU", grade=3, priority="urgent", encounter_id="e1")
    ServiceRequest.model_validate(sr)
    assert sr["status"] == "draft" and sr["priority"] == "urgent"
    assert sr["encounter"] == {"reference": "Encounter/e1"}


def test_unknown_route_is_rejected_not_guessed() -> None:
    with pytest.raises(KeyError):
        medication_request(patient_id="p1", drug_display="x", rxnorm=None, dose_mg=1, route="IM",
                           every_hours=6, text="x", grade=2)


def test_an_invalid_id_is_refused() -> None:
    dexamethasone_q6h()
    with pytest.raises(ValueError, match="not a valid FHIR id"):
        medication_request(patient_id="p1", drug_display="dexamethasone", rxnorm="3264", dose_mg=10.0,
                           route="IV", every_hours=6, text="x", grade=3, resource_id="not a valid id!")


def test_an_invalid_coding_field_is_refused() -> None:
    with pytest.raises(ValueError, match="userSelected"):
        service_request(patient_id="p1", code={"system": "http://snomed.info/sct", "code": "40701008",
                                               "display": "Echocardiography", "userSelected": "maybe"},
                        text="Echo", grade=3)


@pytest.mark.parametrize("dose", [0, -5, float("nan"), float("inf")])
def test_a_dose_that_is_not_a_positive_number_is_refused(dose) -> None:
    with pytest.raises(ValueError, match=r"doseQuantity\.value"):
        medication_request(patient_id="p1", drug_display="x", rxnorm="1", dose_mg=dose, route="IV",
                           every_hours=6, text="x", grade=3)


def test_the_structure_of_every_builder_variant_is_valid_fhir() -> None:
    validate_order_builders()  # raises pydantic's ValidationError on any invalid variant


# Values a protocol, a site or a patient can put into an order, valid or not.
_alphabet = st.characters(whitelist_categories=("L", "N", "P", "Zs"), whitelist_characters=" \t\n")
_texts = st.one_of(st.text(_alphabet, max_size=12), st.sampled_from(["", " ", "dexamethasone 10 mg"]))
_codes = st.one_of(st.sampled_from(["3264", "D 1", " x", "x ", "a  b", "a\tb", ""]), st.text(_alphabet, max_size=6))
_ids = st.one_of(st.sampled_from(["p1", "a.b-C", "x" * 64, "x" * 65, "bad id", "", "ü"]), st.text(_alphabet, max_size=5))
_numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10**6))
# Where the per-call checks are deliberately stricter than the FHIR model: a dose or period that is
# not positive, a blank text, a reference whose id part is not a FHIR id, an id longer than the
# 64 characters FHIR allows (which the model does not enforce).
_STRICTER = ("positive finite number", "non-empty string", "subject:", "encounter:", "longer than FHIR's 64")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patient=_ids, encounter=st.none() | _ids, display=_texts, rxnorm=st.none() | _codes, dose=_numbers,
       route=st.sampled_from(["IV", "SC", "PO"]), every=st.none() | _numbers, once=st.booleans(), text=_texts,
       grade=st.sampled_from([1, 2, 3, 4, None]), note=st.none() | _texts, rid=st.none() | _ids)
def test_per_call_checks_are_never_looser_than_the_fhir_model(patient, encounter, display, rxnorm, dose, route,
                                                              every, once, text, grade, note, rid) -> None:
    """The structure is validated at start-up; this shows that what the per-call checks let
    through is valid FHIR, and that what they refuse the model refuses too, unless the refusal
    is one of the deliberate clinical rules above."""
    kwargs = {"patient_id": patient, "drug_display": display, "rxnorm": rxnorm, "dose_mg": dose, "route": route,
              "every_hours": every, "once": once, "text": text, "grade": grade, "encounter_id": encounter,
              "note": note, "resource_id": "fixed-id" if rid is None else rid}
    model_accepts = _valid(MedicationRequest, build_medication_request(**kwargs))
    try:
        medication_request(**kwargs)
    except ValueError as refused:
        assert not model_accepts or any(reason in str(refused) for reason in _STRICTER), str(refused)
    else:
        assert model_accepts


def _valid(model, resource) -> bool:
    try:
        model.model_validate(resource)
    except ValueError:
        return False
    return True


# --- recording the diagnosis (issue 12, item 6) ------------------------------------------------------------

ONSET = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
CRS_CODES = {1: "D89.831", 2: "D89.832", 3: "D89.833", 4: "D89.834"}
ICANS_CODES = {1: "G92.01", 2: "G92.02", 3: "G92.03", 4: "G92.04"}


@pytest.mark.parametrize("syndrome,grade,code", [*(("crs", g, c) for g, c in CRS_CODES.items()),
                                                 *(("icans", g, c) for g, c in ICANS_CODES.items())])
def test_diagnosis_is_a_valid_r4_encounter_diagnosis_with_the_icd10cm_code_of_the_grade(syndrome, grade, code) -> None:
    c = diagnosis_condition(patient_id="p1", syndrome=syndrome, grade=grade, lower_bound=False, onset=ONSET,
                            encounter_id="e1")
    Condition.model_validate(c)
    assert c["resourceType"] == "Condition" and c["subject"] == {"reference": "Patient/p1"}
    assert c["encounter"] == {"reference": "Encounter/e1"}
    assert c["category"][0]["coding"][0]["code"] == "encounter-diagnosis"
    assert c["clinicalStatus"]["coding"][0]["code"] == "active"
    assert [(x["system"], x["code"]) for x in c["code"]["coding"]] == [
        ("http://hl7.org/fhir/sid/icd-10-cm", code), ("urn:oid:2.16.840.1.113883.6.90", code)]
    assert c["onsetDateTime"] == "2026-11-20T16:00:00Z"
    assert c["stage"][0]["summary"]["text"] == f"ASTCT grade {grade}"


def test_a_lower_bound_grade_is_recorded_grade_unspecified_with_the_bound_as_its_stage() -> None:
    crs = diagnosis_condition(patient_id="p1", syndrome="crs", grade=2, lower_bound=True, onset=ONSET)
    icans = diagnosis_condition(patient_id="p1", syndrome="icans", grade=3, lower_bound=True, onset=None)
    assert crs["code"]["coding"][0]["code"] == "D89.839" and icans["code"]["coding"][0]["code"] == "G92.00"
    assert crs["code"]["text"] == "Cytokine release syndrome, grade ≥ 2 (ASTCT)"
    assert crs["stage"][0]["summary"]["text"] == "ASTCT grade ≥ 2 (lower bound: some inputs missing)"
    assert "onsetDateTime" not in icans
    Condition.model_validate(icans)


def test_icans_orders_carry_the_icans_reason() -> None:
    mr = medication_request(patient_id="p1", drug_display="dexamethasone", rxnorm="3264", dose_mg=10.0, route="IV",
                            every_hours=6, text="dexamethasone 10 mg IV every 6 h", grade=3, syndrome="icans")
    assert mr["reasonCode"][0]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G92.03",
                                                "display": "Immune effector cell-associated neurotoxicity syndrome, "
                                                           "grade 3"}
