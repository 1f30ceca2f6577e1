"""Missing and stale data are findings, never a silent grade 0."""
from __future__ import annotations

from tests.support.grading_builders import assess, bp, drug, o2, pressor, sat, temp

NO_TEMPERATURE = "cannot assess fever: no temperature recorded in the last 24 h"
NO_BP = "cannot grade hypotension: no blood pressure recorded in the last 12 h"
NO_OXYGEN = "cannot grade hypoxia: no SpO2 or oxygen support recorded in the last 12 h"


def test_blood_pressure_13_h_old_is_stale_so_missing_and_the_grade_is_a_lower_bound() -> None:
    a = assess(temp(39.0, 1), bp(120, 13, source="Observation/old"), o2("room-air", 1), sat(97, 1))
    assert a.missing == (NO_BP,)
    assert a.hypotension_grade is None
    assert (a.status, a.grade, a.lower_bound) == ("graded", 1, True)
    assert any(n.startswith("last blood pressure 13 h ago (Observation/old) is older than 12 h") for n in a.notes)
    assert "at least grade 1: some inputs are missing, the true grade may be higher" in a.notes


def test_blood_pressure_exactly_12_h_old_is_still_current() -> None:
    a = assess(temp(39.0, 1), bp(120, 12), o2("room-air", 1), sat(97, 1))
    assert (a.missing, a.hypotension_grade) == ((), 0)


def test_missing_oxygen_information_has_the_exact_text() -> None:
    a = assess(temp(39.0, 1), bp(120, 1))
    assert a.missing == (NO_OXYGEN,)
    assert (a.grade, a.lower_bound, a.hypoxia_grade) == (1, True, None)


def test_no_temperature_and_no_sign_and_no_onset_is_insufficient_data() -> None:
    a = assess(bp(120, 1), o2("room-air", 1), sat(97, 1))
    assert (a.status, a.grade) == ("insufficient-data", None)
    assert a.missing == (NO_TEMPERATURE,)


def test_nothing_recorded_at_all_lists_every_missing_input() -> None:
    a = assess()
    assert a.status == "insufficient-data"
    assert a.missing == (NO_TEMPERATURE, NO_BP, NO_OXYGEN)


def test_no_temperature_after_documented_onset_with_a_vasopressor_cannot_be_graded_and_says_why() -> None:
    # Clinical review (issue 12): with an onset but no temperature in 24 h and no masking drug, a vasopressor is
    # not "grade >= 3": the grade cannot be established without a current temperature. The missing input and the
    # masking rule are named, and the hypotension is still shown.
    a = assess(temp(39.0, 30), bp(84, 2), pressor("norepinephrine", 2), o2("room-air", 1), sat(96, 1))
    assert (a.status, a.grade, a.lower_bound) == ("insufficient-data", None, False)
    assert a.missing == (NO_TEMPERATURE,)
    assert a.notes[0].startswith("no temperature in the last 24 h: the CRS grade cannot be established — after CRS "
                                 "onset, hypotension/hypoxia count as CRS only with fever in the last 24 h or when "
                                 "fever may be masked")
    assert a.drivers == ("hypotension: one vasopressor (norepinephrine)",)
    assert a.hypotension_grade == 3 and a.worst_grade == 1


def test_no_temperature_after_onset_with_masking_therapy_is_still_graded_by_the_signs() -> None:
    a = assess(temp(39.0, 30), drug("tocilizumab", 20), bp(84, 2), pressor("norepinephrine", 2), o2("room-air", 1),
               sat(96, 1))
    assert (a.status, a.grade, a.lower_bound, a.masked) == ("graded", 3, True, True)


def test_no_temperature_after_onset_and_no_sign_is_insufficient_data() -> None:
    a = assess(temp(39.0, 30), bp(120, 1), o2("room-air", 1), sat(97, 1))
    assert (a.status, a.grade, a.worst_grade) == ("insufficient-data", None, 1)


def test_fever_with_no_blood_pressure_and_no_oxygen_is_at_least_grade_1() -> None:
    a = assess(temp(38.7, 1))
    assert (a.status, a.grade, a.lower_bound) == ("graded", 1, True)
    assert a.missing == (NO_BP, NO_OXYGEN)


def test_unavailable_data_reported_by_the_transport_is_missing_and_makes_a_lower_bound() -> None:
    a = assess(temp(39.0, 1), bp(120, 1), o2("room-air", 1), sat(97, 1),
               unavailable=("observations: FHIR server returned 503",))
    assert a.missing == ("observations: FHIR server returned 503",)
    assert (a.grade, a.lower_bound) == (1, True)


def test_grade_4_with_missing_data_is_not_a_lower_bound_nothing_is_higher() -> None:
    a = assess(temp(39.0, 1), o2("mechanical-ventilation", 1))
    assert a.missing == (NO_BP,)
    assert (a.grade, a.lower_bound) == (4, False)


def test_no_weight_is_not_a_grading_issue() -> None:
    a = assess(temp(39.0, 1), bp(120, 1), o2("room-air", 1), sat(97, 1))
    assert a.missing == ()
