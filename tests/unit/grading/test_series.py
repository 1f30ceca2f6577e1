"""The grade over time is ``grade_crs`` at every instant the grade can change, and nothing else:
each point is the service's own grade at that time, and between two points the grade does not change."""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings

from clinical import ClinicalSnapshot
from grading import GradePoint, evaluation_times, grade_crs, grade_series
from grading.series import JUST_AFTER
from tests.support.clinical_data import GRADING
from tests.support.grading_builders import EVENTS, NOW, ago, bp, car_t, o2, pressor, sat, snapshot, temp


def state(s: ClinicalSnapshot, t: datetime) -> tuple:
    a = grade_crs(s, t, GRADING)
    return a.status, a.grade, a.lower_bound


def value(p: GradePoint) -> tuple:
    return p.status, p.grade, p.lower_bound


def runs(points: tuple[GradePoint, ...]) -> list[tuple]:
    """Consecutive equal points merged: (start, status, grade, lower bound)."""
    out: list[tuple] = []
    for p in points:
        if not out or out[-1][1:] != value(p):
            out.append((p.time, *value(p)))
    return out


def normal_vitals(*hours_ago: float) -> list:
    return [x for h in hours_ago for x in (temp(37.0, h), bp(120, h, mean=85), o2("room-air", h), sat(98, h))]


def test_the_band_follows_fever_and_hypotension_in_and_out_of_their_windows() -> None:
    s = snapshot(car_t(days_ago=2), *normal_vitals(46, 40, 34, 28, 22, 16, 10, 4), temp(38.6, 30), bp(85, 20, mean=70))
    assert runs(grade_series(s, ago(48), NOW, GRADING)) == [
        (ago(48), "insufficient-data", None, False),  # infused, nothing recorded yet
        (ago(46), "graded", 0, False),
        (ago(30), "graded", 1, False),  # fever: CRS onset
        (ago(20), "graded", 2, False),  # hypotension with fever in the last 24 h
        (ago(8) + JUST_AFTER, "graded", 1, False),  # the hypotensive reading is 12 h old
        (ago(6) + JUST_AFTER, "graded", 0, False),  # the fever is 24 h old
    ]


def test_missing_data_makes_the_band_a_lower_bound_once_the_last_reading_is_too_old() -> None:
    s = snapshot(car_t(days_ago=2), temp(38.5, 30), bp(88, 30, mean=70), o2("nasal-cannula", 30, flow=3),
                 sat(95, 30))
    band = runs(grade_series(s, ago(30), NOW, GRADING))
    assert band[0] == (ago(30), "graded", 2, False)
    assert band[1] == (ago(18) + JUST_AFTER, "graded", 1, True)  # BP and oxygen 12 h old: missing


def test_a_running_vasopressor_keeps_grade_3_until_now() -> None:
    s = snapshot(car_t(days_ago=2), *normal_vitals(20, 14, 8, 2), temp(39.0, 10), pressor("norepinephrine", 6))
    band = runs(grade_series(s, ago(20), NOW, GRADING))
    assert band[-1] == (ago(6), "graded", 3, False)
    assert grade_series(s, ago(20), NOW, GRADING)[-1].time == NOW


def test_the_series_covers_start_and_end_and_stays_within_them() -> None:
    s = snapshot(car_t(days_ago=3), *normal_vitals(70, 50, 30, 10))
    times = evaluation_times(s, ago(40), ago(5), GRADING)
    assert times[0] == ago(40) and times[-1] == ago(5)
    assert times == sorted(set(times))
    assert ago(30) in times and ago(70) not in times and ago(50) not in times


@settings(max_examples=150, deadline=None)
@given(EVENTS)
def test_every_point_is_the_services_own_grade_at_that_time(events: list) -> None:
    s = snapshot(car_t(), *events)
    points = grade_series(s, ago(hours=80), NOW, GRADING)
    assert points[-1].time == NOW
    assert [value(p) for p in points] == [state(s, p.time) for p in points]


@settings(max_examples=100, deadline=None)
@given(EVENTS)
def test_the_grade_does_not_change_between_two_points(events: list) -> None:
    """The band is exact, not sampled: halfway between two points and just before the next one, the
    service would have said what the earlier point says."""
    s = snapshot(car_t(), *events)
    points = grade_series(s, ago(hours=80), NOW, GRADING)
    for p, q in pairwise(points):
        between = [p.time + (q.time - p.time) / 2, q.time - timedelta(milliseconds=1)]
        assert all(state(s, t) == value(p) for t in between if t > p.time), (p, q)


def test_a_vasopressor_charted_at_one_time_point_leaves_the_band_when_it_may_have_stopped_12_h_later() -> None:
    """Found by the property above: norepinephrine charted once, 24.5 h ago, may have run on for
    point_unknown_hours (12 h) and then counts for the current window (12 h): until 30 minutes ago the grade
    is a lower bound ("may still be running"), just after it no longer is. The band must change there."""
    s = snapshot(car_t(), temp(38.0, 0.5), bp(78, 0.5), o2(None, 0.5, flow=2),
                 pressor("norepinephrine", 24.5, stopped_hours_ago=24.5))
    assert state(s, ago(0.5)) == ("graded", 2, True) and state(s, ago(0.25)) == ("graded", 2, False)
    band = runs(grade_series(s, ago(hours=2), NOW, GRADING))
    assert band[-2:] == [(ago(0.5), "graded", 2, True), (ago(0.5) + JUST_AFTER, "graded", 2, False)]
