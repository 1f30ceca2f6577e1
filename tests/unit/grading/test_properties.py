"""Monotonicity of ASTCT grading, as properties over arbitrary records (hypothesis).

For a patient with CRS (grade >= 1), more support can never mean a lower grade:
adding a vasopressor, or replacing an oxygen support by a more intensive one at
the same instant, never lowers the current or the worst grade. (Without fever,
hypotension or hypoxia is deliberately "not graded" as CRS — other causes — so
grade 0 may become "not graded"; that is asserted too.)
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from grading import grade_crs
from tests.support.clinical_data import GRADING
from tests.support.grading_builders import EVENTS, HOURS, NOW, car_t, o2, pressor, snapshot

PRESSORS = st.sampled_from(["norepinephrine", "phenylephrine", "vasopressin", "epinephrine", "dopamine"])
# Oxygen supports in ASTCT order: room air, low-flow, high-flow, positive pressure.
SUPPORTS = [("room-air", None), ("nasal-cannula", 2), ("nasal-cannula", 8), ("simple-facemask", None),
            ("non-rebreather", 15), ("cpap", None)]
ESCALATION = st.tuples(st.integers(0, len(SUPPORTS) - 1), st.integers(0, len(SUPPORTS) - 1)).map(sorted)


def never_lower(before, after) -> None:
    if before.grade is not None and before.grade >= 1:
        assert after.grade is not None and after.grade >= before.grade
    elif before.grade == 0:
        assert (after.grade is not None and after.grade >= 0) or after.status == "not-graded"
    if before.worst_grade is not None:
        assert after.worst_grade is not None and after.worst_grade >= before.worst_grade


@settings(max_examples=200, deadline=None)
@given(EVENTS, PRESSORS, HOURS, st.sampled_from([None, 0, 2, 10]))
def test_adding_a_vasopressor_never_lowers_the_grade(events, name, hours_ago, duration) -> None:
    added = pressor(name, hours_ago, None if duration is None else max(0.0, hours_ago - duration))
    before = grade_crs(snapshot(car_t(), *events), NOW, GRADING)
    after = grade_crs(snapshot(car_t(), *events, added), NOW, GRADING)
    never_lower(before, after)


@settings(max_examples=200, deadline=None)
@given(EVENTS, ESCALATION, HOURS)
def test_escalating_oxygen_support_never_lowers_the_grade(events, pair, hours_ago) -> None:
    (low_device, low_flow), (high_device, high_flow) = SUPPORTS[pair[0]], SUPPORTS[pair[1]]
    low = grade_crs(snapshot(car_t(), *events, o2(low_device, hours_ago, flow=low_flow)), NOW, GRADING)
    high = grade_crs(snapshot(car_t(), *events, o2(high_device, hours_ago, flow=high_flow)), NOW, GRADING)
    never_lower(low, high)
