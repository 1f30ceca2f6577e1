"""fhir_mappings: MedicationAdministration (+ Medication) -> DrugAdministration."""
from __future__ import annotations

import pytest

from devkit import fhirbuild as fb
from fhir_mappings import load_code_lists, map_resources
from tests.support.clinical_data import CODES

RX = fb.RXNORM


def snap(*resources):
    return map_resources(list(resources), patient_id=fb.PATIENT_ID, now=fb.NOW, codes=CODES)


def only(snapshot):
    [admin] = snapshot.administrations
    return admin


def reasons(snapshot):
    return {e.source: e.reason for e in snapshot.excluded}


def rx(code: str, display: str = "") -> dict:
    coding = {"system": RX, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


# --- how the drug is recognised ---------------------------------------------

def test_by_rxnorm_ingredient_code() -> None:
    a = only(snap(fb.drug("norepinephrine", fb.ago(hours=2), rid="ne1")))
    assert (a.drug, a.drug_class, a.matched_by, a.matched_on, a.source) == (
        "norepinephrine", "vasopressor", "code", "7512", "MedicationAdministration/ne1")


@pytest.mark.parametrize("name, drug_class", [
    ("norepinephrine", "vasopressor"), ("epinephrine", "vasopressor"), ("phenylephrine", "vasopressor"),
    ("dopamine", "vasopressor"), ("vasopressin", "vasopressor"), ("dobutamine", "inotrope"),
    ("dexamethasone", "corticosteroid"), ("methylprednisolone", "corticosteroid"),
    ("hydrocortisone", "corticosteroid"), ("tocilizumab", "anti-il6"), ("anakinra", "il1-antagonist"),
    ("acetaminophen", "antipyretic"),
])
def test_every_builder_drug_by_code(name: str, drug_class: str) -> None:
    a = only(snap(fb.drug(name, fb.ago(hours=1))))
    assert (a.drug, a.drug_class, a.matched_by) == (name, drug_class, "code")


def test_by_contained_medication() -> None:
    admin = fb.med_admin({"medicationReference": {"reference": "#m1"},
                          "contained": [{"resourceType": "Medication", "id": "m1", "code": rx("612865", "tocilizumab")}]},
                         fb.ago(hours=3))
    a = only(snap(admin))
    assert (a.drug, a.matched_by, a.matched_on, a.display) == ("tocilizumab", "code", "612865", "tocilizumab")


def test_by_referenced_medication_resource() -> None:
    med = {"resourceType": "Medication", "id": "med-ana", "code": rx("72435")}
    admin = fb.med_admin({"medicationReference": {"reference": "Medication/med-ana"}}, fb.ago(hours=3))
    a = only(snap(admin, med))  # order does not matter
    assert (a.drug, a.drug_class, a.matched_by) == ("anakinra", "il1-antagonist", "code")


def test_by_ingredient_code_of_a_product_medication() -> None:
    med = {"resourceType": "Medication", "id": "sbd",
           "code": rx("1657979", "tocilizumab 20 MG/ML Injectable Solution [Actemra]"),
           "ingredient": [{"itemCodeableConcept": rx("612865")}]}
    admin = fb.med_admin({"medicationReference": {"reference": "https://ehr.example/fhir/Medication/sbd"}},
                         fb.ago(hours=3))
    a = only(snap(med, admin))
    assert (a.drug, a.matched_by, a.matched_on) == ("tocilizumab", "ingredient-code", "612865")
    assert a.display == "tocilizumab 20 MG/ML Injectable Solution [Actemra]"


def test_by_ingredient_item_reference() -> None:
    admin = fb.med_admin({"medicationReference": {"reference": "#prod"}, "contained": [
        {"resourceType": "Medication", "id": "prod", "code": {"text": "House mix"},
         "ingredient": [{"itemReference": {"reference": "#ing"}}]},
        {"resourceType": "Medication", "id": "ing", "code": rx("3264")}]}, fb.ago(hours=3))
    a = only(snap(admin))
    assert (a.drug, a.matched_by) == ("dexamethasone", "ingredient-code")


def test_by_brand_name_in_text() -> None:
    a = only(snap(fb.med_admin("Actemra 400 mg/20 mL", fb.ago(hours=4), rid="toc-text")))
    assert (a.drug, a.drug_class, a.matched_by, a.matched_on, a.display) == (
        "tocilizumab", "anti-il6", "name", "Actemra", "Actemra 400 mg/20 mL")


def test_product_level_code_not_in_list_falls_back_to_name() -> None:
    admin = fb.med_admin({"medicationCodeableConcept": rx("1807516", "norepinephrine 0.016 MG/ML Injectable Solution")},
                         fb.ago(hours=1))
    a = only(snap(admin))
    assert (a.drug, a.matched_by, a.matched_on) == ("norepinephrine", "name", "norepinephrine")


@pytest.mark.parametrize("text, drug", [
    ("Levophed 4 mg in 250 mL D5W", "norepinephrine"),
    ("SOLU-MEDROL 500 mg IV", "methylprednisolone"),
    ("Tylenol 650 mg PO", "acetaminophen"),
    ("Paracetamol 1 g", "acetaminophen"),
    ("Kineret 100 mg", "anakinra"),
    ("Sylvant 11 mg/kg", "siltuximab"),
    ("Leukine 250 mcg/m2", "sargramostim"),
    ("Decadron 10 mg", "dexamethasone"),
    ("Giapreza 2.5 mg", "angiotensin-ii"),
    ("Vasostrict 20 units", "vasopressin"),
    ("Kymriah (tisagenlecleucel) infusion", "tisagenlecleucel"),
    ("YESCARTA suspension for IV infusion", "axicabtagene ciloleucel"),
    ("Carvykti", "ciltacabtagene autoleucel"),
    ("Aucatzyl", "obecabtagene autoleucel"),
    ("Tecvayli step-up dose", "teclistamab"),
    ("Blincyto 28 mcg/day", "blinatumomab"),
    ("Imdelltra", "tarlatamab"),
    ("tocilizumab-aazg 400 mg", "tocilizumab"),
])
def test_names_and_brands(text: str, drug: str) -> None:
    assert only(snap(fb.med_admin(text, fb.ago(hours=1)))).drug == drug


def test_index_therapy_builder_matches_by_name() -> None:
    a = only(snap(fb.car_t()))
    assert (a.drug, a.drug_class, a.matched_by) == ("axicabtagene ciloleucel", "index-therapy", "name")


def test_epinephrine_not_matched_inside_norepinephrine_nor_in_local_anaesthetic() -> None:
    s = snap(fb.med_admin("Norepinephrine infusion", fb.ago(hours=1)),
             fb.med_admin("Lidocaine 1% with epinephrine 1:100,000", fb.ago(hours=1)))
    assert [a.drug for a in s.administrations] == ["norepinephrine"]


def test_unknown_drug_ignored_silently() -> None:
    s = snap(fb.med_admin("Piperacillin-tazobactam 4.5 g", fb.ago(hours=1)))
    assert s.administrations == () and s.excluded == ()


def test_combination_product_yields_each_known_drug() -> None:
    s = snap(fb.med_admin("Hydrocodone / Acetaminophen 5/325", fb.ago(hours=1)))
    assert [a.drug for a in s.administrations] == ["acetaminophen"]
    s = snap(fb.med_admin("dexamethasone and acetaminophen", fb.ago(hours=1)))
    assert sorted(a.drug for a in s.administrations) == ["acetaminophen", "dexamethasone"]


def test_code_wins_over_name() -> None:
    admin = fb.med_admin({"medicationCodeableConcept": {"text": "Levophed", "coding": [{"system": RX, "code": "3992"}]}},
                         fb.ago(hours=1))
    a = only(snap(admin))
    assert (a.drug, a.matched_by) == ("epinephrine", "code")


def test_unresolvable_reference_uses_its_display() -> None:
    admin = fb.med_admin({"medicationReference": {"reference": "Medication/missing", "display": "Dexamethasone 10 mg"}},
                         fb.ago(hours=1))
    a = only(snap(admin))
    assert (a.drug, a.matched_by, a.display) == ("dexamethasone", "name", "Dexamethasone 10 mg")


# --- times, dose, route -------------------------------------------------------

def test_effective_datetime_gives_start_equal_end() -> None:
    a = only(snap(fb.drug("dexamethasone", fb.ago(hours=5))))
    assert a.start == a.end == fb.NOW - fb.ago(hours=5)


def test_open_period_has_no_end() -> None:
    a = only(snap(fb.drug("norepinephrine", fb.ago(hours=3), open_period=True, status="in-progress")))
    assert a.start == fb.NOW - fb.ago(hours=3)
    assert a.end is None and a.in_progress


def test_closed_period() -> None:
    a = only(snap(fb.drug("phenylephrine", fb.ago(hours=6), end=fb.ago(hours=2))))
    assert (a.start, a.end) == (fb.NOW - fb.ago(hours=6), fb.NOW - fb.ago(hours=2))


@pytest.mark.parametrize("dose, mg", [((560, "mg"), 560.0), ((1, "g"), 1000.0), ((250, "ug"), 0.25),
                                      ((0.08, "ug/kg/min"), None), ((100, "mL"), None)])
def test_dose_and_mg(dose: tuple[float, str], mg: float | None) -> None:
    a = only(snap(fb.drug("tocilizumab", fb.ago(hours=1), dose=dose)))
    assert (a.dose_value, a.dose_unit, a.dose_mg) == (dose[0], dose[1], mg)


def test_dose_unit_text_mcg() -> None:
    admin = fb.drug("anakinra", fb.ago(hours=1))
    admin["dosage"] = {"dose": {"value": 100000, "unit": "mcg"}}
    assert only(snap(admin)).dose_mg == 100.0


@pytest.mark.parametrize("route", ["IV", "SC", "PO"])
def test_route_by_snomed_code(route: str) -> None:
    assert only(snap(fb.drug("anakinra", fb.ago(hours=1), route=route))).route == route


def test_route_by_text() -> None:
    admin = fb.drug("anakinra", fb.ago(hours=1))
    admin["dosage"] = {"route": {"text": "Subcut"}}
    assert only(snap(admin)).route == "SC"


# --- exclusions ---------------------------------------------------------------

@pytest.mark.parametrize("status", ["entered-in-error", "not-done"])
def test_not_given_statuses_excluded(status: str) -> None:
    s = snap(fb.drug("tocilizumab", fb.ago(hours=1), status=status, rid="toc-x"))
    assert s.administrations == ()
    assert reasons(s) == {"MedicationAdministration/toc-x": status}


@pytest.mark.parametrize("status", ["completed", "in-progress", "on-hold", "stopped", "unknown"])
def test_real_administrations_kept(status: str) -> None:
    assert only(snap(fb.drug("tocilizumab", fb.ago(hours=1), status=status))).status == status


def test_future_dated_administration_excluded() -> None:
    s = snap(fb.drug("tocilizumab", fb.NOW + fb.ago(hours=1), rid="toc-future"))
    assert s.administrations == () and reasons(s) == {"MedicationAdministration/toc-future": "future-dated"}


def test_other_patient_administration_excluded() -> None:
    s = snap(fb.drug("norepinephrine", fb.ago(hours=1), rid="ne-other", subject={"reference": "Patient/p9"}))
    assert s.administrations == () and reasons(s) == {"MedicationAdministration/ne-other": "other-patient"}


def test_administration_without_time_excluded() -> None:
    admin = fb.drug("norepinephrine", fb.ago(hours=1), rid="ne-notime")
    del admin["effectiveDateTime"]
    assert reasons(snap(admin)) == {"MedicationAdministration/ne-notime": "no-time"}


def test_administrations_sorted_by_start() -> None:
    s = snap(fb.drug("tocilizumab", fb.ago(hours=2)), fb.car_t(fb.ago(days=5)), fb.drug("acetaminophen", fb.ago(hours=9)))
    assert [a.drug for a in s.administrations] == ["axicabtagene ciloleucel", "acetaminophen", "tocilizumab"]


def test_medication_data_records_verification_for_every_code() -> None:
    import json
    from pathlib import Path

    data = json.loads((Path(load_code_lists.__code__.co_filename).parent / "data" / "medications.json").read_text())
    drugs = {d["drug"]: d for d in data["drugs"]}
    assert {"sargramostim", "tisagenlecleucel", "teclistamab", "filgrastim", "ruxolitinib", "cyclophosphamide"} <= set(drugs)
    for drug in data["drugs"]:
        for entry in drug["rxnorm"]:
            assert entry["source"]
        if not drug["rxnorm"]:
            assert drug.get("note"), f"{drug['drug']} has no code and no note saying why"
