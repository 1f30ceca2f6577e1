"""Fever, CRS onset and masked fever (ASTCT; clinical-reference.md section 1).

Unless a test says otherwise the patient had CAR-T cells 5 days ago and has a
normal blood pressure and room air with SpO2 1 h ago, so only fever decides.
"""
from __future__ import annotations

import pytest

from tests.support.grading_builders import (
    NOW,
    ago,
    assess,
    bp,
    car_t,
    complete_normal_vitals,
    drug,
    o2,
    pressor,
    sat,
    temp,
)

NORMAL = complete_normal_vitals()


def test_38_0_exactly_is_fever_grade_1() -> None:
    a = assess(temp(38.0, 1), *NORMAL)
    assert (a.status, a.grade, a.fever_present) == ("graded", 1, True)
    assert a.drivers == ("fever 38.0 °C",)


def test_37_9_is_not_fever_grade_0() -> None:
    a = assess(temp(37.9, 1), *NORMAL)
    assert (a.status, a.grade, a.fever_present, a.onset) == ("graded", 0, False, None)
    assert a.drivers == ()
    assert not a.lower_bound


def test_fever_without_hypotension_or_hypoxia_is_grade_1() -> None:
    a = assess(temp(39.2, 2, source="Observation/t1"), *NORMAL)
    assert (a.grade, a.hypotension_grade, a.hypoxia_grade) == (1, 0, 0)
    assert a.drivers == ("fever 39.2 °C",)
    fever = [e for e in a.evidence if e.role == "fever"]
    assert [(e.value, e.source) for e in fever] == [("39.2 °C", "Observation/t1")]


def test_driver_shows_highest_fever_in_24_h_and_evidence_also_the_latest_temperature() -> None:
    a = assess(temp(39.6, 10, source="Observation/tmax"), temp(38.2, 1, source="Observation/latest"), *NORMAL)
    assert a.drivers == ("fever 39.6 °C",)
    values = {e.source: e.value for e in a.evidence if e.what == "temperature"}
    assert values["Observation/tmax"] == "39.6 °C (highest in 24 h)"
    assert values["Observation/latest"] == "38.2 °C (latest)"


def test_fahrenheit_temperature_is_shown_as_recorded_with_celsius() -> None:
    a = assess(temp(38.28, 1, original="100.9 [degF]", source="Observation/f"), *NORMAL)
    assert a.grade == 1
    assert a.drivers == ("fever 100.9 °F (38.3 °C)",)


def test_fever_25_h_ago_is_outside_the_24_h_fever_window() -> None:
    a = assess(temp(38.9, 25), temp(37.0, 1), *NORMAL)
    assert (a.grade, a.fever_present) == (0, False)
    assert a.onset == ago(25)
    assert a.worst_grade == 1


def test_fever_exactly_24_h_ago_is_still_in_the_window() -> None:
    a = assess(temp(38.9, 24), temp(37.0, 1), *NORMAL)
    assert (a.grade, a.fever_present) == (1, True)


# --- onset ------------------------------------------------------------------------------------------------------


def test_onset_is_the_first_fever_after_the_index_therapy() -> None:
    a = assess(temp(37.5, 40), temp(38.3, 30), temp(39.0, 20), temp(38.6, 1), *NORMAL)
    assert a.onset == ago(30)


def test_fever_before_the_index_therapy_is_not_onset() -> None:
    # CAR-T 5 days ago; a fever 6 days ago (e.g. infection before infusion) is not CRS.
    a = assess(temp(39.0, 6 * 24), temp(37.0, 1), *NORMAL)
    assert a.onset is None
    assert (a.status, a.grade, a.worst_grade) == ("graded", 0, None)


def test_fever_in_the_last_24_h_but_before_a_recent_index_therapy_does_not_count() -> None:
    a = assess(car_t(days_ago=10 / 24), temp(38.8, 20), temp(37.2, 1), *NORMAL, with_car_t=False)
    assert (a.grade, a.fever_present, a.onset) == (0, False, None)
    assert any("before the index therapy not counted" in n for n in a.notes)


def test_onset_evidence_is_shown_when_the_onset_fever_is_older_than_the_window() -> None:
    a = assess(temp(38.3, 30, source="Observation/onset"), temp(38.9, 2), *NORMAL)
    onset = [e for e in a.evidence if e.source == "Observation/onset"]
    assert [(e.role, e.value) for e in onset] == [("fever", "38.3 °C (CRS onset)")]


# --- masked fever -----------------------------------------------------------------------------------------------

MASKED_CASE = [temp(38.9, 30, source="Observation/onset"), temp(37.1, 1), bp(86, 2), bp(104, 1),
               pressor("norepinephrine", 3), o2("room-air", 1), sat(96, 1)]


@pytest.mark.parametrize("masking_drug", ["tocilizumab", "dexamethasone", "anakinra", "siltuximab", "acetaminophen"])
def test_masked_fever_after_anticytokine_or_antipyretic_grades_by_hypotension(masking_drug: str) -> None:
    # Fever 30 h ago = onset; drug 20 h ago; no fever now; norepinephrine running -> grade 3, masked.
    a = assess(*MASKED_CASE, drug(masking_drug, 20, source="MedicationAdministration/mask"))
    assert (a.status, a.grade, a.masked, a.fever_present) == ("graded", 3, True, False)
    assert a.drivers == ("hypotension: one vasopressor (norepinephrine)",)
    assert any(n.startswith(f"fever may be masked ({masking_drug} given after CRS onset)") for n in a.notes)
    assert [(e.role, e.source) for e in a.evidence if e.role == "masking"] == [
        ("masking", "MedicationAdministration/mask")]


def test_no_masking_when_the_drug_was_given_before_onset() -> None:
    # Tocilizumab 40 h ago, before the first fever 30 h ago: fever is not masked, so
    # hypotension without fever now is not counted as CRS.
    a = assess(*MASKED_CASE, drug("tocilizumab", 40))
    assert a.masked is False
    assert (a.status, a.grade) == ("not-graded", None)
    assert a.notes[0].startswith("hypotension/hypoxia without fever in the last 24 h and no antipyretic")


def test_masking_with_no_current_sign_is_grade_0_crs_resolved_or_masked() -> None:
    a = assess(temp(38.9, 30), drug("tocilizumab", 20), temp(37.0, 1), *NORMAL)
    assert (a.status, a.grade, a.masked) == ("graded", 0, True)
    assert a.notes[0] == ("no fever, hypotension or hypoxia since tocilizumab given after CRS onset: "
                          "CRS resolved or masked (grade 0)")
    assert a.worst_grade == 1


def test_current_fever_despite_masking_drug_is_not_reported_as_masked() -> None:
    a = assess(temp(38.9, 30), drug("tocilizumab", 20), temp(38.4, 1), *NORMAL)
    assert (a.grade, a.masked, a.fever_present) == (1, False, True)


def test_masked_grade_uses_now_not_the_clock() -> None:
    a = assess(*MASKED_CASE, drug("tocilizumab", 20))
    assert a.now == NOW
