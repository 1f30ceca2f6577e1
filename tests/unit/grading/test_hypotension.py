"""Hypotension tier: thresholds, vasopressors, "multiple", inotropes, children.

Every patient here has fever (39.0 °C 1 h ago) and room air, so the grade is
the hypotension tier (or 1 when there is none).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.support.clinical_data import GRADING
from tests.support.grading_builders import assess, birth_date_for_age, bp, drug, o2, pressor, sat, temp

FEBRILE_ON_ROOM_AIR = [temp(39.0, 1), o2("room-air", 1), sat(97, 1)]


def grade_with(*items, **kw):
    return assess(*FEBRILE_ON_ROOM_AIR, *items, **kw)


@pytest.mark.parametrize("systolic,grade", [(89, 2), (90, 1)])
def test_adult_systolic_below_90_without_vasopressor_is_grade_2(systolic: float, grade: int) -> None:
    a = grade_with(bp(systolic, 2, mean=70))
    assert a.grade == grade
    if grade == 2:
        assert a.drivers[0] == "hypotension: systolic 89 mmHg, no vasopressor"


@pytest.mark.parametrize("mean,grade", [(64, 2), (65, 1)])
def test_adult_map_below_65_without_vasopressor_is_grade_2(mean: float, grade: int) -> None:
    a = grade_with(bp(100, 2, mean=mean))
    assert a.grade == grade
    if grade == 2:
        assert a.drivers[0] == "hypotension: MAP 64 mmHg, no vasopressor"


def test_hypotension_evidence_is_the_lowest_reading_with_the_threshold_used() -> None:
    a = grade_with(bp(95, 5), bp(84, 3, source="Observation/lowest"), bp(102, 1))
    [ev] = [e for e in a.evidence if e.role == "hypotension"]
    assert ev.source == "Observation/lowest"
    assert ev.value == "systolic 84 mmHg, lowest in 12 h; threshold systolic < 90 mmHg (adult)"


def test_vasopressin_alone_is_a_vasopressor_grade_3() -> None:
    a = grade_with(bp(88, 2), pressor("vasopressin", 2))
    assert (a.grade, a.hypotension_grade) == (3, 3)
    assert a.drivers[0] == "hypotension: one vasopressor (vasopressin)"


def test_norepinephrine_plus_vasopressin_is_grade_3_vasopressin_never_makes_multiple() -> None:
    a = grade_with(bp(88, 2), pressor("norepinephrine", 4), pressor("vasopressin", 2))
    assert a.grade == 3
    assert a.drivers[0] == "hypotension: one vasopressor with vasopressin (norepinephrine, vasopressin)"


def test_norepinephrine_plus_phenylephrine_overlapping_is_grade_4() -> None:
    a = grade_with(bp(88, 2), pressor("norepinephrine", 4, source="MedicationAdministration/ne"),
                   pressor("phenylephrine", 2, source="MedicationAdministration/phe"))
    assert (a.grade, a.hypotension_grade) == (4, 4)
    assert a.drivers[0] == "hypotension: two vasopressors (norepinephrine, phenylephrine)"
    assert [e.source for e in a.evidence if e.role == "vasopressor"] == [
        "MedicationAdministration/ne", "MedicationAdministration/phe"]


def test_two_vasopressors_one_after_the_other_are_grade_3_not_multiple() -> None:
    # Norepinephrine 10 h -> 6 h ago, phenylephrine started 5 h ago: never together.
    a = grade_with(bp(100, 1), pressor("norepinephrine", 10, stopped_hours_ago=6), pressor("phenylephrine", 5))
    assert a.grade == 3
    assert a.drivers[0] == "hypotension: one vasopressor at a time (norepinephrine, phenylephrine, not overlapping)"


def test_two_vasopressors_that_overlapped_earlier_in_the_window_still_count_as_multiple() -> None:
    a = grade_with(bp(100, 1), pressor("norepinephrine", 10, stopped_hours_ago=6),
                   pressor("epinephrine", 8, stopped_hours_ago=5))
    assert a.grade == 4


def test_vasopressor_stopped_13_h_ago_is_not_counted() -> None:
    a = grade_with(bp(110, 1), pressor("norepinephrine", 20, stopped_hours_ago=13))
    assert (a.grade, a.hypotension_grade) == (1, 0)
    assert not [e for e in a.evidence if e.role == "vasopressor"]


def test_vasopressor_stopped_11_h_ago_still_counts_in_the_12_h_window() -> None:
    a = grade_with(bp(110, 1), pressor("norepinephrine", 20, stopped_hours_ago=11))
    assert a.grade == 3


def test_in_progress_infusion_started_2_days_ago_counts() -> None:
    a = grade_with(bp(110, 1), pressor("norepinephrine", 48))
    assert a.grade == 3
    [ev] = [e for e in a.evidence if e.role == "vasopressor"]
    assert ev.value == "norepinephrine 0.05 µg/kg/min, running"  # units as people write them, never UCUM


def test_running_vasopressor_with_normal_blood_pressure_is_still_requiring_vasopressors() -> None:
    a = grade_with(bp(118, 1, mean=80), pressor("norepinephrine", 3))
    assert (a.grade, a.hypotension_grade) == (3, 3)


def test_vasopressor_running_without_any_blood_pressure_is_graded_not_missing() -> None:
    a = grade_with(pressor("norepinephrine", 3))
    assert a.grade == 3
    assert not any("hypotension" in m for m in a.missing)


@pytest.mark.parametrize("dose", [(0.02, "ug/kg/min"), (0.5, "ug/kg/min")])
def test_vasopressor_dose_never_changes_the_grade(dose) -> None:
    ne = drug("norepinephrine", 3, end_hours_ago=None, status="in-progress", dose=dose)
    assert grade_with(bp(85, 1), ne).grade == 3


@pytest.mark.parametrize("inotrope", ["dobutamine", "milrinone"])
def test_inotrope_alone_is_not_counted_and_is_shown_as_context(inotrope: str) -> None:
    a = grade_with(bp(105, 1), pressor(inotrope, 3, source="MedicationAdministration/ino"))
    assert (a.grade, a.hypotension_grade) == (1, 0)
    assert f"{inotrope} running (inotrope), not counted by ASTCT" in a.notes
    [ev] = [e for e in a.evidence if e.source == "MedicationAdministration/ino"]
    assert ev.role == "context"


def test_inotrope_with_a_vasopressor_does_not_make_multiple() -> None:
    a = grade_with(bp(105, 1), pressor("norepinephrine", 3), pressor("dobutamine", 2))
    assert a.grade == 3
    assert "dobutamine running (inotrope), not counted by ASTCT" in a.notes


# --- children (PALS thresholds; systolic only) ---------------------------------------------------------------


@pytest.mark.parametrize("systolic,grade", [(79, 2), (80, 1), (81, 1)])
def test_5_year_old_is_hypotensive_below_70_plus_2_times_age(systolic: float, grade: int) -> None:
    a = grade_with(bp(systolic, 2), birth_date=birth_date_for_age(5))
    assert a.grade == grade


def test_child_hypotension_evidence_says_which_threshold_applied() -> None:
    a = grade_with(bp(79, 2), birth_date=birth_date_for_age(5))
    assert a.drivers[0] == "hypotension: systolic 79 mmHg (< 80 mmHg for age 5 y), no vasopressor"
    [ev] = [e for e in a.evidence if e.role == "hypotension"]
    assert ev.value == "systolic 79 mmHg, lowest in 12 h; threshold systolic < 80 mmHg (age 5 y: 70 + 2 × age)"


@pytest.mark.parametrize("systolic,grade", [(89, 2), (90, 1)])
def test_12_year_old_is_hypotensive_below_90(systolic: float, grade: int) -> None:
    assert grade_with(bp(systolic, 2), birth_date=birth_date_for_age(12)).grade == grade


@pytest.mark.parametrize("systolic,grade", [(69, 2), (70, 1)])
def test_infant_under_1_year_uses_70_like_pals(systolic: float, grade: int) -> None:
    assert grade_with(bp(systolic, 2), birth_date=birth_date_for_age(0)).grade == grade


def test_child_map_alone_does_not_define_hypotension() -> None:
    # Decision: the paediatric thresholds are systolic only (PALS); MAP < 65 is an adult criterion.
    assert grade_with(bp(85, 2, mean=55), birth_date=birth_date_for_age(5)).grade == 1


def test_unknown_age_uses_adult_thresholds_with_a_note() -> None:
    a = grade_with(bp(85, 2), birth_date=None)
    assert a.grade == 2
    assert "age unknown (no birth date): adult blood-pressure thresholds used" in a.notes


# --- infusions: route, bolus and single-time-point charting (clinical review, issue 12) ---------------------

def point(name: str, hours_ago: float, *, source: str | None = None, dose=(0.08, "ug/kg/min"), **kw) -> Any:
    """One MAR action charted as a single time point (effectiveDateTime), no start and stop."""
    return drug(name, hours_ago, dose=dose, source=source, **kw)


def test_intramuscular_epinephrine_for_anaphylaxis_is_not_a_vasopressor_infusion() -> None:
    im = drug("epinephrine", 2, dose=(0.5, "mg"), route="IM", source="MedicationAdministration/epi-im")
    a = assess(temp(39.0, 1), bp(95, 1), o2("room-air", 1), sat(97, 1), im)
    assert (a.grade, a.hypotension_grade) == (1, 0)
    assert ("epinephrine 0.5 mg IM at 2026-11-21 10:00 UTC (MedicationAdministration/epi-im): given by the IM route, "
            "not a vasopressor infusion — not counted by ASTCT") in a.notes


def test_an_iv_bolus_of_epinephrine_is_not_an_infusion_the_rule_is_data() -> None:
    bolus = drug("epinephrine", 2, dose=(0.1, "mg"), route="IV", source="MedicationAdministration/epi-push")
    a = assess(temp(39.0, 1), bp(120, 1), o2("room-air", 1), sat(97, 1), bolus)
    assert a.hypotension_grade == 0 and any("a bolus (a single dose, no rate)" in n for n in a.notes)
    counted = dataclasses.replace(GRADING, single_point_mass_dose_is_bolus=False, excluded_infusion_routes=frozenset())
    assert assess(temp(39.0, 1), bp(120, 1), o2("room-air", 1), sat(97, 1), bolus, config=counted).grade == 3


def test_a_point_charted_infusion_rate_is_an_infusion() -> None:
    a = assess(temp(39.0, 1), bp(100, 1), o2("room-air", 1), sat(97, 1), point("norepinephrine", 2))
    assert (a.grade, a.lower_bound) == (3, False)


def test_two_point_charted_vasopressors_that_cannot_be_shown_to_overlap_make_a_lower_bound_with_the_reason() -> None:
    a = assess(temp(39.0, 1), bp(100, 1), o2("room-air", 1), sat(97, 1), point("norepinephrine", 6),
               point("phenylephrine", 3))
    assert (a.grade, a.lower_bound) == (3, True)
    assert a.missing == ("cannot tell whether norepinephrine and phenylephrine ran together in the last 12 h: charted "
                         "at single time points without start and stop — grade 4 if they overlapped",)


def test_point_charted_vasopressors_at_the_same_instant_overlap() -> None:
    a = assess(temp(39.0, 1), bp(100, 1), o2("room-air", 1), sat(97, 1), point("norepinephrine", 3),
               point("phenylephrine", 3))
    assert (a.grade, a.lower_bound) == (4, False)


def test_periods_that_do_not_overlap_stay_a_certain_grade_3() -> None:
    a = assess(temp(39.0, 1), bp(100, 1), o2("room-air", 1), sat(97, 1), pressor("norepinephrine", 8, 6),
               pressor("phenylephrine", 4))
    assert (a.grade, a.lower_bound, a.missing) == (3, False, ())


def test_a_point_charted_vasopressor_before_the_window_may_still_be_running() -> None:
    a = assess(temp(39.0, 1), bp(100, 1), o2("room-air", 1), sat(97, 1), point("norepinephrine", 14))
    assert (a.grade, a.lower_bound) == (1, True)
    assert a.missing == ("cannot tell whether norepinephrine is still running: charted at a single time point before "
                         "the last 12 h",)
    assert assess(temp(39.0, 1), bp(100, 1), o2("room-air", 1), sat(97, 1), point("norepinephrine", 25)).missing == ()
