"""Worst grade since onset, and that computing it stays fast on a 14-day ICU record."""
from __future__ import annotations

from hypothesis import given, settings

from grading import grade_crs
from tests.support.clinical_data import GRADING
from tests.support.grading_builders import (
    EVENTS,
    NOW,
    assess,
    bp,
    car_t,
    complete_normal_vitals,
    drug,
    o2,
    pressor,
    sat,
    snapshot,
    temp,
)


def test_worst_grade_since_onset_is_kept_after_recovery() -> None:
    # Onset 72 h ago (fever still within 24 h when phenylephrine joins norepinephrine 49 h ago: grade 4);
    # now 38.5 °C only, normal blood pressure, room air.
    a = assess(temp(38.6, 72), temp(39.4, 48), bp(78, 48), pressor("norepinephrine", 50, stopped_hours_ago=30),
               pressor("phenylephrine", 49, stopped_hours_ago=36), temp(38.5, 1), *complete_normal_vitals())
    assert (a.grade, a.worst_grade) == (1, 4)
    assert "worst grade since onset: 4, reached at 2026-11-19 11:00 UTC" in a.notes


def test_worst_grade_equals_current_grade_when_now_is_the_worst() -> None:
    a = assess(temp(38.6, 20), temp(39.0, 1), bp(84, 1), o2("room-air", 1), sat(96, 1))
    assert (a.grade, a.worst_grade) == (2, 2)
    assert not any(n.startswith("worst grade") for n in a.notes)


def test_worst_grade_uses_the_same_windows_relative_to_each_past_time() -> None:
    # Hypoxia on a non-rebreather 40 h ago, fever 45 h ago (within 24 h of it): grade 3 at that time.
    # Hypotension 60 h ago, before the fever window of that time and without any fever within 24 h: not counted.
    a = assess(temp(38.2, 70), bp(80, 60), temp(38.9, 45), o2("non-rebreather", 40), temp(37.0, 1),
               *complete_normal_vitals())
    assert (a.grade, a.worst_grade) == (0, 3)


def test_worst_grade_counts_masking_from_the_masking_drug_on() -> None:
    # Onset 50 h ago; tocilizumab 40 h ago; 30 h ago afebrile but on norepinephrine -> grade 3 (masked).
    a = assess(temp(38.8, 50), drug("tocilizumab", 40), temp(37.0, 30), pressor("norepinephrine", 31, 29),
               temp(37.0, 1), *complete_normal_vitals())
    assert (a.grade, a.worst_grade, a.masked) == (0, 3, True)


def test_worst_grade_ignores_signs_before_onset_outside_the_window_of_any_fever_time() -> None:
    a = assess(o2("cpap", 60), temp(38.5, 20), temp(38.2, 1), *complete_normal_vitals())
    assert (a.grade, a.worst_grade) == (1, 1)


# --- the scan agrees with a brute-force re-grading at every event time ---------------------------------------



def _brute_force_worst(events: list) -> int | None:
    s = snapshot(car_t(), *events)
    onset = grade_crs(s, NOW, GRADING).onset
    if onset is None:
        return None
    times = {NOW} | {getattr(e, "time", None) or e.start for e in events}
    best = 0
    for t in sorted(t for t in times if onset <= t <= NOW):
        a = grade_crs(s, t, GRADING)
        if a.status == "graded" and (a.fever_present or a.masked):
            best = max(best, a.grade or 0)
    return best


@settings(max_examples=150, deadline=None)
@given(EVENTS)
def test_worst_grade_scan_matches_regrading_at_every_event_time(events: list) -> None:
    a = grade_crs(snapshot(car_t(), *events), NOW, GRADING)
    expected = _brute_force_worst(events)
    if expected is None:
        assert a.worst_grade is None
    else:
        assert a.worst_grade == max(expected, a.grade or 0)


# --- performance ---------------------------------------------------------------------------------------------


def icu_record_14_days() -> list:
    """15-minute temperature, BP and SpO2 for 14 days, O2 every 4 h, drugs: ~5,500 values."""
    items: list = [car_t(days_ago=15)]
    steps = 14 * 24 * 4
    for i in range(steps):
        h = i / 4
        febrile = h < 36
        items += [temp(38.1 + (i % 15) / 10 if febrile else 36.5 + (i % 10) / 10, h),
                  bp(84 + i % 45, h, mean=55 + i % 30), sat(91 + i % 9, h)]
        if i % 16 == 0:
            items.append(o2("nasal-cannula", h, flow=2 + i % 3))
    items += [drug("acetaminophen", h) for h in range(0, 14 * 24, 6)]
    items += [drug("tocilizumab", 20), drug("tocilizumab", 10), pressor("norepinephrine", 4)]
    return items


def test_a_14_day_icu_record_with_15_minute_vitals_grades_current_and_worst() -> None:
    """Speed is measured by benchmarks/bench_patient_view.py, not here; this pins the result."""
    s = snapshot(*icu_record_14_days())
    assert len(s.temperatures) + len(s.blood_pressures) + len(s.spo2) > 4000
    a = grade_crs(s, NOW, GRADING)
    assert a.grade == 3 and a.worst_grade == 3


@settings(max_examples=150, deadline=None)
@given(EVENTS)
def test_assessment_invariants_hold_for_any_record(events: list) -> None:
    a = grade_crs(snapshot(car_t(), *events), NOW, GRADING)
    if a.status == "graded":
        assert a.grade is not None and 0 <= a.grade <= 4
    else:
        assert a.grade is None
    if a.lower_bound:
        assert a.missing and a.status == "graded"
    if a.status == "insufficient-data":
        assert a.missing
    if a.grade and a.grade >= 1:
        assert a.drivers
    if a.grade is not None and a.worst_grade is not None:
        assert a.worst_grade >= a.grade
    if a.onset is None:
        assert a.worst_grade is None and not a.masked
    sources = {e.source for e in events} | {"MedicationAdministration/cart"}
    assert {e.source for e in a.evidence} <= sources


def test_worst_grade_reads_device_and_flow_charted_together_as_one_support_like_the_current_grade() -> None:
    # Blow-by (low-flow) charted with a separate 8 L/min flow at the same instant is one support,
    # graded 2 now; the worst grade must not call that same record grade 3.
    a = assess(temp(39.0, 1), bp(120, 1, mean=85), o2("blow-by", 1), o2(None, 1, flow=8), sat(95, 1))
    assert (a.grade, a.worst_grade) == (2, 2)
    assert not any(n.startswith("worst grade") for n in a.notes)
