"""Eligibility: CRS is assessed only within 30 days of an index therapy (configurable)."""
from __future__ import annotations

import pytest

from grading import load_grading_config
from tests.support.grading_builders import ago, assess, car_t, complete_normal_vitals, drug, temp

FEVER = [temp(39.0, 1), *complete_normal_vitals()]


@pytest.mark.parametrize("days_ago,status", [(29, "graded"), (30, "graded"), (31, "not-eligible")])
def test_index_therapy_within_30_days_is_eligible(days_ago: float, status: str) -> None:
    a = assess(car_t(days_ago=days_ago), *FEVER, with_car_t=False)
    assert a.status == status


def test_not_eligible_assessment_carries_no_grade() -> None:
    a = assess(car_t(days_ago=31), *FEVER, with_car_t=False)
    assert (a.grade, a.worst_grade, a.index_therapy, a.drivers) == (None, None, None, ())
    assert a.notes == ("no index therapy (CAR-T or T-cell engager) in the last 30 days: CRS not assessed",)


def test_no_index_therapy_is_not_eligible() -> None:
    assert assess(*FEVER, with_car_t=False).status == "not-eligible"


def test_index_therapy_after_now_does_not_count() -> None:
    assert assess(car_t(days_ago=-1), *FEVER, with_car_t=False).status == "not-eligible"


def test_bispecific_infusion_started_35_days_ago_still_running_is_eligible() -> None:
    blina = drug("blinatumomab", 35 * 24, end_hours_ago=None, status="in-progress")
    a = assess(blina, *FEVER, with_car_t=False)
    assert (a.status, a.grade) == ("graded", 1)


def test_eligibility_off_by_config_grades_a_patient_without_index_therapy() -> None:
    config = load_grading_config(eligibility_required=False)
    a = assess(*FEVER, with_car_t=False, config=config)
    assert (a.status, a.grade, a.index_therapy) == ("graded", 1, None)
    assert a.notes[0].startswith("eligibility check switched off")


def test_eligibility_off_searches_onset_within_the_eligibility_window() -> None:
    config = load_grading_config(eligibility_required=False)
    a = assess(temp(39.0, 40 * 24), temp(38.5, 10 * 24), temp(37.0, 1), *complete_normal_vitals(),
               with_car_t=False, config=config)
    assert a.onset is not None and a.onset == ago(days=10)


def test_not_eligible_still_lists_data_that_could_not_be_obtained() -> None:
    a = assess(*FEVER, with_car_t=False, unavailable=("medications: FHIR server returned 503",))
    assert a.status == "not-eligible"
    assert a.missing == ("medications: FHIR server returned 503",)
    assert "some data could not be obtained: an index therapy may have been missed" in a.notes


def test_onset_is_searched_from_the_earliest_index_dose_in_the_window() -> None:
    # Step-up dosing: teclistamab 6 and 3 days ago; fever 5 days ago follows the first dose.
    a = assess(drug("teclistamab", 6 * 24), drug("teclistamab", 3 * 24), temp(38.4, 5 * 24), temp(37.0, 1),
               *complete_normal_vitals(), with_car_t=False)
    assert a.onset == ago(days=5)
    assert a.index_therapy is not None and a.index_therapy.start == ago(days=6)
    assert len([e for e in a.evidence if e.role == "index-therapy"]) == 2
