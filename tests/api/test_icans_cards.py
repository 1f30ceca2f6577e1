"""ICANS and the bispecific pathway end to end: FHIR as EHRs chart it (flowsheet rows with Epic OIDs
mapped by the site-local codes file, RASS in SNOMED CT, Conditions) in, CDS Hooks cards out."""
from __future__ import annotations

from typing import Any

import pytest

from cds_service.settings import Settings
from devkit import fhirbuild as fb
from devkit.fhirbuild import ago
from tests.support.apps import client as app_client
from tests.support.card_checks import check_card, details, diagnoses, dose, med_orders, one_order, suggestions
from tests.support.paths import EXAMPLES

SITE_CODES = str(EXAMPLES / "local-codes.example.yaml")


@pytest.fixture(scope="module")
def generic():
    return app_client(Settings(local_codes_file=SITE_CODES))


@pytest.fixture(scope="module")
def christie():
    return app_client(Settings(protocol_id="christie-doc644-v8", local_codes_file=SITE_CODES))


def call(client, *resources: dict[str, Any]) -> list[dict[str, Any]]:
    resp = client.post("/cds-services/crs-patient-view", json=fb.hook_request([fb.patient(), *resources]))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    cards = resp.get_json()["cards"]
    for card in cards:
        check_card(card)
    return cards


def afebrile(**kw) -> list[dict[str, Any]]:
    return [fb.temperature(37.0, ago(hours=1)), fb.blood_pressure(kw.get("sbp", 122), 70, ago(hours=1)),
            fb.spo2(97, ago(hours=1)), fb.oxygen_device("room-air", ago(hours=1)), fb.weight(70, ago(days=1))]


def icans(card: dict[str, Any]) -> dict[str, Any]:
    return card["extension"]["crs-cds.assessment"]["icans"]


def test_icans_without_crs_gets_a_card_with_its_grade_drivers_and_protocol_orders(generic) -> None:
    cards = call(generic, fb.car_t(), *afebrile(), fb.ice_score(2, ago(hours=1), rid="ice-2"),
                 fb.consciousness("voice", ago(hours=1), rid="loc-1"))
    card = cards[0]
    assert card["summary"] == "ICANS grade 3 (ASTCT): ICE score 2"
    assert card["indicator"] == "critical"
    assert {k: v for k, v in icans(card).items() if k != "evidence"} == {
        "system": "ASTCT-2019", "status": "graded", "grade": 3, "worstGrade": 3,
        "drivers": ["ICE score 2",
                    "level of consciousness: awakens to voice (Level of consciousness (ICANS): Awakens to voice)"],
        "missing": []}
    assert "Observation/ice-2" in [e["source"] for e in icans(card)["evidence"]]
    assert card["extension"]["crs-cds.assessment"]["grade"] == 0
    assert "- ICE score 2, 1 h ago\n- level of consciousness: awakens to voice, 1 h ago" in card["detail"]
    assert card["detail"].endswith("Table 2 ICANS Recommendations - G3")
    dexamethasone = [r for s, r in med_orders(cards, "dexamethasone")]
    assert [dose(r) for r in dexamethasone] == [(10, "47625008", "IV", 6)]
    assert dexamethasone[0]["reasonCode"][0]["coding"][0]["code"] == "G92.03"
    assert any(s["extension"]["crs-cds.order"].get("code") == "305351004" for s in suggestions(cards))
    # the steroid warnings that are about CRS ("do not withhold them in severe CRS") are not said without CRS
    steroid_card = next(c for c in cards if c.get("selectionBehavior") == "at-most-one")
    assert "antifungal" in steroid_card["detail"] and "severe CRS" not in steroid_card["detail"]


def test_concurrent_crs_and_icans_states_both_and_puts_the_corticosteroid_first_saying_why(generic) -> None:
    cards = call(generic, fb.car_t(), fb.temperature(38.8, ago(hours=30)), fb.temperature(39.1, ago(hours=1)),
                 fb.blood_pressure(84, 50, ago(hours=1)), fb.spo2(97, ago(hours=1)),
                 fb.oxygen_device("room-air", ago(hours=1)), fb.weight(70, ago(days=1)),
                 fb.ice_score(5, ago(hours=1)), fb.consciousness("alert", ago(hours=1)))
    card = cards[0]
    assert card["summary"].startswith("CRS grade 2 · ICANS grade 2 (ASTCT): hypotension: systolic 84 mmHg")
    assert card["summary"].endswith("; ICE score 5")
    detail = card["detail"]
    assert "- Next card: corticosteroid first — dexamethasone or methylprednisolone." in detail
    assert detail.endswith("Protocol: ASTCT consensus CRS management (generic) — ICANS: ASCO Guideline 2021 on CAR "
                           "T-cell toxicities (Santomasso et al.), Table 2 ICANS Recommendations - G2; CRS: Treatment "
                           "of CRS (guideline summary), Grade 2 CRS Management")
    # The corticosteroid choice (dexamethasone or methylprednisolone) is the first card after the assessment,
    # dexamethasone recommended; the CRS's own steroid/anakinra choice, if any, follows it.
    steroid = cards[1]
    assert steroid["selectionBehavior"] == "at-most-one"
    assert steroid["detail"].startswith("**Concurrent CRS and ICANS: corticosteroid first, the first-line treatment "
                                        "of ICANS; tocilizumab treats the CRS, not the neurotoxicity")
    assert steroid["extension"]["crs-cds.alternatives"]["group"] == "icans-corticosteroid"
    first = steroid["suggestions"][0]
    assert (first["extension"]["crs-cds.order"]["drug"], first["extension"]["crs-cds.order"]["doseMg"],
            first["extension"]["crs-cds.order"]["everyHours"], first["isRecommended"]) == ("dexamethasone", 10, 6, True)
    _, toci = one_order(cards, "tocilizumab")
    assert dose(toci)[0] == 560  # the CRS is still treated: 8 mg/kg × 70 kg
    assert "do not withhold steroids in severe CRS" in steroid["detail"]  # with CRS it is said


@pytest.mark.parametrize("ice,crs_temp,indicator", [(2, 38.5, "critical"), (5, 38.5, "warning"), (8, 38.5, "info")])
def test_indicator_follows_the_worse_of_crs_and_icans(generic, ice: int, crs_temp: float, indicator: str) -> None:
    cards = call(generic, fb.car_t(), fb.temperature(crs_temp, ago(hours=1)),
                 fb.blood_pressure(122, 70, ago(hours=1)), fb.spo2(97, ago(hours=1)),
                 fb.oxygen_device("room-air", ago(hours=1)), fb.ice_score(ice, ago(hours=1)),
                 fb.consciousness("alert", ago(hours=1)))
    assert cards[0]["extension"]["crs-cds.assessment"]["grade"] == 1
    assert cards[0]["indicator"] == indicator


def test_rass_in_snomed_and_a_status_epilepticus_condition_need_no_site_codes() -> None:
    plain = app_client(Settings())
    cards = call(plain, fb.car_t(), *afebrile(), fb.rass(-4, ago(hours=2)),
                 fb.status_epilepticus(ago(hours=1), rid="se-1"))
    card = cards[0]
    assert icans(card)["grade"] == 4 and card["indicator"] == "critical"
    assert icans(card)["drivers"] == ["prolonged seizure (> 5 min)",
                                      "level of consciousness: awakens only to touch (RASS -4)"]
    assert "no ICE score in the last 12 h" in icans(card)["missing"]
    assert "- prolonged seizure (> 5 min), 1 h ago" in card["detail"]
    assert "Condition/se-1" in [e["source"] for e in icans(card)["evidence"]]


def test_icans_missing_data_alone_makes_no_card(generic) -> None:
    assert call(generic, fb.car_t(), *afebrile()) == []


def test_an_ice_score_out_of_range_is_not_graded(generic) -> None:
    cards = call(generic, fb.car_t(), *afebrile(), fb.ice_score(12, ago(hours=1)),
                 fb.consciousness("alert", ago(hours=1)))
    assert cards == []  # ICE 12 left out: ICANS has only "alert", grade 0 - nothing to say


def test_a_finding_attributed_to_another_cause_is_not_counted_and_said(generic) -> None:
    loc = fb.consciousness("tactile", ago(hours=1), rid="loc-sed", components=[fb.attributed_component("Propofol")])
    cards = call(generic, fb.car_t(), fb.temperature(38.6, ago(hours=1)), fb.blood_pressure(122, 70, ago(hours=1)),
                 fb.spo2(97, ago(hours=1)), fb.oxygen_device("room-air", ago(hours=1)), fb.ice_score(9, ago(hours=1)),
                 loc)
    assert icans(cards[0])["grade"] == 1
    assert "(Observation/loc-sed) charted as due to another cause (Propofol)" in cards[0]["detail"]  # said why


# --------------------------------------------------------------------------- blinatumomab, Christie

def blinatumomab(**kw) -> dict[str, Any]:
    return fb.drug("blinatumomab", ago(days=2), open_period=True, status="in-progress", rid="blin-1",
                   dose=(28, "ug/d"), route="IV", **kw)


def crs_after_blinatumomab(grade: int) -> list[dict[str, Any]]:
    out = [blinatumomab(), fb.temperature(38.9, ago(hours=20)), fb.temperature(39.0, ago(hours=1)),
           fb.blood_pressure(84, 50, ago(hours=1)), fb.spo2(97, ago(hours=1)),
           fb.oxygen_device("room-air", ago(hours=1)), fb.weight(70, ago(days=1))]
    if grade >= 3:
        out.append(fb.drug("norepinephrine", ago(hours=2), open_period=True, status="in-progress"))
    if grade >= 4:
        out.append(fb.drug("phenylephrine", ago(hours=1), open_period=True, status="in-progress"))
    return out


def test_christie_blinatumomab_crs_pause_stated_first_naming_the_running_infusion(christie) -> None:
    cards = call(christie, *crs_after_blinatumomab(2))
    detail = cards[0]["detail"]
    assert detail.startswith("**First: Pause the blinatumomab infusion** — 28 µg/day, running, started 2 d ago\n\n")
    assert "MedicationAdministration/blin-1" in [e["source"] for e in cards[0]["extension"]["crs-cds.assessment"]
                                                 ["evidence"]]
    assert detail.endswith("Protocol: The Christie NHS FT, Guidelines for management of CRS (DOC644 v8) — §6.4 "
                           "Additional treatment - blinatumomab")
    assert "- Next card: choose the dexamethasone dose." in detail
    assert med_orders(cards, "tocilizumab") == []  # only when steroids fail
    steroid = [c for c in cards if c.get("selectionBehavior") == "at-most-one"]
    assert [s["extension"]["crs-cds.order"]["doseMg"] for s in steroid[0]["suggestions"]] == [10, 20]
    assert [s["isRecommended"] for s in steroid[0]["suggestions"]] == [True, False]
    # §6.3's CAR-T caution ("steroids only if no response to IL-6 antagonists") would contradict §6.4 here
    assert "antifungal" in steroid[0]["detail"] and "IL-6 antagonists" not in steroid[0]["detail"]


def test_christie_blinatumomab_tocilizumab_when_steroids_fail(christie) -> None:
    cards = call(christie, *crs_after_blinatumomab(2), fb.drug("dexamethasone", ago(hours=6), dose=(10, "mg")))
    _, toci = one_order(cards, "tocilizumab")
    assert dose(toci)[0] == 560


def test_christie_blinatumomab_grade_4_discontinue_permanently(christie) -> None:
    detail = details(call(christie, *crs_after_blinatumomab(4)))
    assert detail.startswith("**First: Pause the blinatumomab infusion**")
    assert "**First: Discontinue blinatumomab permanently (grade 4 CRS, as per the drug's SPC)**" in detail


def test_generic_protocol_blinatumomab_patient_keeps_the_car_t_pathway(generic) -> None:
    detail = details(call(generic, *crs_after_blinatumomab(3)))
    assert "Pause the blinatumomab infusion" not in detail
    assert "Treatment of CRS (guideline summary), Grade 3 CRS Management" in detail


# ------------------------------------------------------------------------------ record the diagnosis

def test_a_graded_card_offers_to_record_crs_and_icans_with_their_icd10cm_codes(generic) -> None:
    cards = call(generic, fb.car_t(), fb.temperature(38.8, ago(hours=30)), fb.temperature(39.1, ago(hours=1)),
                 fb.blood_pressure(84, 50, ago(hours=1)), fb.spo2(97, ago(hours=1)),
                 fb.oxygen_device("room-air", ago(hours=1)), fb.weight(70, ago(days=1)),
                 fb.ice_score(5, ago(hours=3)), fb.consciousness("alert", ago(hours=1)))
    assert diagnoses(cards[:1]) == [
        {"syndrome": "crs", "code": "D89.832", "system": "http://hl7.org/fhir/sid/icd-10-cm", "grade": 2,
         "lowerBound": False, "onset": "2026-11-20T06:00:00Z"},
        {"syndrome": "icans", "code": "G92.02", "system": "http://hl7.org/fhir/sid/icd-10-cm", "grade": 2,
         "lowerBound": False, "onset": "2026-11-21T09:00:00Z"}]


def test_a_lower_bound_grade_is_offered_as_grade_unspecified(generic) -> None:
    cards = call(generic, fb.car_t(), fb.temperature(38.6, ago(hours=1)))  # no blood pressure, no oxygen data
    [d] = diagnoses(cards)
    assert (d["code"], d["grade"], d["lowerBound"]) == ("D89.839", 1, True)


def test_no_diagnosis_is_offered_without_a_grade(generic) -> None:
    cards = call(generic, fb.car_t(), *afebrile(sbp=84))  # hypotension without fever: not graded
    assert cards and diagnoses(cards) == []
