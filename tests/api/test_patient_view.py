"""End-to-end clinical scenarios: FHIR prefetch in, CDS Hooks card out.

Each test reads like a bedside situation; the layer tests pin the rules in
detail, these show the whole pipeline gives the clinician the right card.
"""
from __future__ import annotations

from typing import Any

import pytest

from cds_service.bootstrap import bootstrap
from cds_service.http import create_app
from devkit import fhirbuild as fb
from devkit.fhirbuild import ago


@pytest.fixture(scope="module")
def client():
    return create_app(bootstrap(clock=lambda: fb.NOW)).test_client()


def call(client, *resources: dict[str, Any]) -> list[dict[str, Any]]:
    resp = client.post("/cds-services/crs-patient-view", json=fb.hook_request(list(resources)))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["cards"]


def assessment(card: dict[str, Any]) -> dict[str, Any]:
    return card["extension"]["crs-cds.assessment"]


def complete_vitals(temp: float = 37.0, sbp: float = 118, device: str = "room-air") -> list[dict[str, Any]]:
    return [fb.temperature(temp, ago(hours=1)), fb.blood_pressure(sbp, 70, ago(hours=1)),
            fb.spo2(97, ago(hours=1)), fb.oxygen_device(device, ago(hours=1))]


def test_fever_of_100_4_f_is_grade_1(client) -> None:
    [card] = call(client, fb.car_t(), fb.temperature(100.4, ago(hours=1), unit="[degF]"),
                  fb.blood_pressure(120, 75, ago(hours=1)), fb.spo2(98, ago(hours=1)),
                  fb.oxygen_device("room-air", ago(hours=1)))
    assert assessment(card)["grade"] == 1
    assert card["indicator"] == "info"
    assert "100.4" in card["detail"]


def test_grade_3_card_names_norepinephrine_and_fever(client) -> None:
    card, *_ = call(client, fb.car_t(), *complete_vitals(temp=39.2, sbp=95),
                  fb.drug("norepinephrine", ago(hours=2), open_period=True, status="in-progress", rid="ne-run"))
    a = assessment(card)
    assert (a["status"], a["grade"], card["indicator"]) == ("graded", 3, "critical")
    assert "norepinephrine" in card["summary"] and "39.2" in card["summary"]
    assert "- hypotension: one vasopressor (norepinephrine): running, started 2 h ago" in card["detail"]
    # the administration's FHIR reference is in the machine-readable evidence, not the card's text
    assert "MedicationAdministration/ne-run" in [e["source"] for e in assessment(card)["evidence"]]


def test_entered_in_error_fever_does_not_make_crs(client) -> None:
    cards = call(client, fb.car_t(), fb.temperature(39.5, ago(hours=2), status="entered-in-error"),
                 *complete_vitals(temp=37.0))
    assert cards == []


def test_patient_without_index_therapy_gets_no_card_even_when_febrile_and_hypotensive(client) -> None:
    assert call(client, *complete_vitals(temp=39.4, sbp=80)) == []


def test_index_therapy_31_days_ago_is_outside_the_eligibility_window(client) -> None:
    assert call(client, fb.car_t(ago(days=31)), *complete_vitals(temp=39.4, sbp=80)) == []


def test_hypotension_without_any_fever_is_an_info_card_not_graded(client) -> None:
    [card] = call(client, fb.car_t(), *complete_vitals(temp=37.2, sbp=82))
    assert assessment(card)["status"] == "not-graded"
    assert card["indicator"] == "info"


def test_stale_vitals_are_reported_missing_not_normal(client) -> None:
    [card] = call(client, fb.car_t(), fb.temperature(38.6, ago(hours=2)),
                  fb.blood_pressure(120, 80, ago(hours=13)), fb.spo2(97, ago(hours=13)))
    a = assessment(card)
    assert a["grade"] == 1
    assert any("blood pressure" in m for m in a["missing"])
    assert any("SpO2 or oxygen support" in m for m in a["missing"])
    assert card["summary"].startswith("CRS grade ≥ 1")


def test_masked_fever_after_tocilizumab_grades_by_hypotension(client) -> None:
    card, *_ = call(client, fb.car_t(), fb.temperature(38.9, ago(hours=30)),
                  fb.drug("tocilizumab", ago(hours=28), dose=(560, "mg")),
                  *complete_vitals(temp=37.1, sbp=100),
                  fb.drug("norepinephrine", ago(hours=3), open_period=True, status="in-progress"))
    assert assessment(card)["grade"] == 3


def test_creatinine_does_not_change_the_grade(client) -> None:
    [card] = call(client, fb.car_t(), *complete_vitals(temp=38.5),
                  fb.lab("2160-0", 4.2, "mg/dL", ago(hours=2), display="Creatinine"))
    assert assessment(card)["grade"] == 1


def test_unrecognised_oxygen_device_with_spo2_is_missing_hypoxia_not_room_air(client) -> None:
    # A febrile CAR-T patient charted on "Oxygen via trach collar" (a device the code lists do not
    # know) with SpO2 93 %: the oxygen support is documented but its ASTCT tier is unknown, so the
    # card says hypoxia cannot be graded and the grade is "at least 1" - never "assumed on room air".
    device = fb.oxygen_device("nasal-cannula", ago(hours=1), rid="o2-trach")
    device["valueCodeableConcept"] = {"text": "Oxygen via trach collar"}
    [card] = call(client, fb.car_t(), fb.temperature(39.0, ago(hours=1)), fb.blood_pressure(120, 75, ago(hours=1)),
                  fb.spo2(93, ago(hours=1)), device)
    a = assessment(card)
    assert a["grade"] == 1 and "CRS grade ≥ 1" in card["summary"]
    assert any("Observation/o2-trach" in m and "trach collar" in m for m in a["missing"])
    assert "assumed on room air" not in card["detail"]


def test_oxygen_flow_in_an_unknown_unit_with_spo2_is_missing_hypoxia_not_room_air(client) -> None:
    # SpO2 92 % with an inhaled-oxygen-flow component charted in a unit the service does not convert:
    # the flow is excluded (units are never guessed) and hypoxia is reported missing, not room air.
    sat = fb.spo2(92, ago(hours=1), flow_l_min=10, rid="sp-odd")
    sat["component"][0]["valueQuantity"] = fb.quantity(10, "[ft_i]/min")
    [card] = call(client, fb.car_t(), fb.temperature(39.0, ago(hours=1)), fb.blood_pressure(120, 75, ago(hours=1)),
                  sat)
    a = assessment(card)
    assert a["grade"] == 1 and "CRS grade ≥ 1" in card["summary"]
    assert any("Observation/sp-odd" in m and "unknown-unit" in m for m in a["missing"])
    assert "assumed on room air" not in card["detail"]


# --- clinical review (issue 12, item 4) ------------------------------------------------------------------

def test_fever_older_than_24_h_says_the_window_lapsed_not_without_documented_fever(client) -> None:
    [card] = call(client, fb.car_t(), fb.temperature(38.9, ago(hours=40)), *complete_vitals(temp=37.0, sbp=84))
    assert assessment(card)["status"] == "not-graded"
    assert card["summary"].startswith("Not graded as CRS: fever window lapsed (CRS onset 2026-11-19 20:00 UTC")
    assert "without documented fever" not in card["summary"] + card["detail"]


def test_a_vasopressor_without_fever_is_at_least_a_warning(client) -> None:
    [card] = call(client, fb.car_t(), *complete_vitals(temp=37.0, sbp=95),
                  fb.drug("norepinephrine", ago(hours=2), open_period=True, status="in-progress"))
    assert assessment(card)["status"] == "not-graded" and card["indicator"] == "warning"


def test_onset_without_a_current_temperature_and_a_vasopressor_is_not_grade_3(client) -> None:
    cards = call(client, fb.car_t(), fb.temperature(39.0, ago(hours=30)), fb.blood_pressure(95, 60, ago(hours=1)),
                 fb.spo2(97, ago(hours=1)), fb.oxygen_device("room-air", ago(hours=1)), fb.weight(70, ago(days=1)),
                 fb.drug("norepinephrine", ago(hours=2), open_period=True, status="in-progress", rid="ne-now"))
    [card] = cards  # no protocol orders: the grade is not established
    a = assessment(card)
    assert (a["status"], a["grade"]) == ("insufficient-data", None)
    assert card["summary"] == ("CRS grade cannot be established (ASTCT): no current temperature; hypotension: one "
                               "vasopressor (norepinephrine)")
    assert a["missing"] == ["cannot assess fever: no temperature recorded in the last 24 h"]
    assert "- hypotension: one vasopressor (norepinephrine): running, started 2 h ago" in card["detail"]
    assert "MedicationAdministration/ne-now" in [e["source"] for e in a["evidence"]] and "suggestions" not in card


def test_intramuscular_epinephrine_is_not_a_vasopressor_infusion(client) -> None:
    [card] = call(client, fb.car_t(), *complete_vitals(temp=38.6),
                  fb.drug("epinephrine", ago(hours=2), dose=(0.5, "mg"), route="IM", rid="epi-im"))
    assert assessment(card)["grade"] == 1
    assert "(MedicationAdministration/epi-im): given by the IM route, not a vasopressor infusion" in card["detail"]


def test_vasopressors_charted_as_single_mar_time_points_are_a_lower_bound_not_a_silent_grade_3(client) -> None:
    cards = call(client, fb.car_t(), *complete_vitals(temp=38.6, sbp=100),
                 fb.drug("norepinephrine", ago(hours=5), dose=(0.1, "ug/kg/min"), route="IV"),
                 fb.drug("phenylephrine", ago(hours=2), dose=(1, "ug/kg/min"), route="IV"))
    card = cards[0]
    assert card["summary"].startswith("CRS grade ≥ 3 (ASTCT)")
    assert ("cannot tell whether norepinephrine and phenylephrine ran together in the last 12 h"
            in assessment(card)["missing"][0])


def test_spo2_below_target_with_no_oxygen_support_charted_prompts_a_check(client) -> None:
    [card] = call(client, fb.car_t(), fb.temperature(37.0, ago(hours=1)), fb.blood_pressure(120, 70, ago(hours=1)),
                  fb.spo2(88, ago(hours=1), rid="sat-88"))
    assert card["summary"] == "Check oxygen support: none charted — SpO2 88 % is below the 92 % target"
    assert card["indicator"] == "warning"
    assert "(Observation/sat-88) is below the protocol's target of 92 %" in card["detail"]
