"""Hypoxia tier from the oxygen support the patient is on (never from SpO2).

Every patient here has fever (39.0 °C 1 h ago) and a normal blood pressure,
so the grade is the hypoxia tier (or 1 when there is none).
"""
from __future__ import annotations

import pytest

from tests.support.grading_builders import assess, bp, o2, sat, temp

FEBRILE_NORMOTENSIVE = [temp(39.0, 1), bp(120, 1, mean=85), sat(95, 1)]


def grade_with(*items, **kw):
    return assess(*FEBRILE_NORMOTENSIVE, *items, **kw)


@pytest.mark.parametrize("flow,grade,driver", [
    (6, 2, "hypoxia: nasal cannula 6 L/min (low-flow)"),
    (7, 3, "hypoxia: nasal cannula 7 L/min (high-flow)"),
])
def test_nasal_cannula_6_l_min_is_low_flow_and_7_l_min_is_high_flow(flow: float, grade: int, driver: str) -> None:
    a = grade_with(o2("nasal-cannula", 1, flow=flow))
    assert (a.grade, a.hypoxia_grade) == (grade, grade)
    assert a.drivers[0] == driver


def test_nasal_cannula_without_a_flow_is_low_flow() -> None:
    assert grade_with(o2("nasal-cannula", 1)).grade == 2


@pytest.mark.parametrize("flow,grade", [(4, 2), (6, 2), (8, 3), (0, 1)])
def test_flow_with_no_device_is_low_up_to_6_l_min_and_high_above(flow: float, grade: int) -> None:
    a = grade_with(o2(None, 1, flow=flow))
    assert a.grade == grade
    if flow == 4:
        assert a.drivers[0] == "hypoxia: oxygen 4 L/min, no device recorded (low-flow)"


def test_blow_by_is_low_flow_grade_2() -> None:
    a = grade_with(o2("blow-by", 1))
    assert a.grade == 2
    assert a.drivers[0] == "hypoxia: blow-by (low-flow)"


def test_facemask_at_2_l_min_is_grade_3_device_wins_over_flow() -> None:
    assert grade_with(o2("simple-facemask", 1, flow=2)).grade == 3


def test_cpap_at_low_flow_is_still_positive_pressure_grade_4() -> None:
    assert grade_with(o2("cpap", 1, flow=2)).grade == 4


@pytest.mark.parametrize("device,grade,driver", [
    ("room-air", 1, None),
    ("high-flow-nasal-cannula", 3, "hypoxia: high-flow nasal cannula"),
    ("simple-facemask", 3, "hypoxia: simple facemask"),
    ("non-rebreather", 3, "hypoxia: non-rebreather mask"),
    ("partial-rebreather", 3, "hypoxia: partial rebreather mask"),
    ("venturi", 3, "hypoxia: Venturi mask"),
    ("cpap", 4, "hypoxia: CPAP (positive pressure)"),
    ("bipap", 4, "hypoxia: BiPAP (positive pressure)"),
    ("non-invasive-ventilation", 4, "hypoxia: non-invasive ventilation (positive pressure)"),
    ("mechanical-ventilation", 4, "hypoxia: mechanical ventilation (positive pressure)"),
])
def test_device_tiers(device: str, grade: int, driver: str | None) -> None:
    a = grade_with(o2(device, 1))
    assert a.grade == grade
    if driver:
        assert a.drivers[0] == driver


def test_high_flow_nasal_cannula_is_grade_3_and_cpap_grade_4() -> None:
    assert grade_with(o2("high-flow-nasal-cannula", 1, flow=40)).grade == 3
    assert grade_with(o2("cpap", 1)).grade == 4


def test_low_spo2_on_room_air_does_not_make_hypoxia_spo2_is_context_only() -> None:
    a = assess(temp(39.0, 1), bp(120, 1), o2("room-air", 1), sat(86, 1, source="Observation/sat"))
    assert (a.grade, a.hypoxia_grade) == (1, 0)
    [ev] = [e for e in a.evidence if e.source == "Observation/sat"]
    assert (ev.role, ev.value) == ("context", "SpO2 86 %")


def test_most_severe_support_in_the_12_h_window_sets_the_tier_even_if_weaned_since() -> None:
    # Decision: the most severe support recorded in the current window counts (ASTCT: recorded or
    # running in the last 12 h); the latest record is shown and a note explains.
    a = grade_with(o2("non-rebreather", 6, source="Observation/nrb"), o2("nasal-cannula", 1, flow=2))
    assert (a.grade, a.hypoxia_grade) == (3, 3)
    assert a.drivers[0] == "hypoxia: non-rebreather mask"
    assert any(n.startswith("graded by the most severe oxygen support in the last 12 h (non-rebreather mask); "
                            "latest record: nasal cannula 2 L/min (low-flow)") for n in a.notes)


def test_support_recorded_13_h_ago_is_not_current() -> None:
    a = grade_with(o2("non-rebreather", 13), o2("room-air", 1))
    assert a.hypoxia_grade == 0


def test_spo2_without_any_oxygen_support_record_is_assumed_room_air_with_a_note() -> None:
    a = assess(temp(39.0, 1), bp(120, 1), sat(97, 1))
    assert (a.grade, a.hypoxia_grade, a.missing) == (1, 0, ())
    assert "no oxygen support recorded; SpO2 97% assumed on room air" in a.notes


def test_spo2_with_only_a_stale_oxygen_record_showing_support_is_missing_not_room_air() -> None:
    a = assess(temp(39.0, 1), bp(120, 1), sat(95, 1), o2("nasal-cannula", 14, flow=3))
    assert a.hypoxia_grade is None
    assert a.missing == ("cannot grade hypoxia: no oxygen support recorded in the last 12 h",)
    assert (a.grade, a.lower_bound) == (1, True)


@pytest.mark.parametrize("records", [
    [o2("room-air", 1, flow=4)],  # one observation: method "room air" with a 4 L/min flow component
    [o2("room-air", 1), o2(None, 1, flow=4)],  # charted separately at the same time
])
def test_oxygen_flow_charted_with_room_air_is_graded_by_the_flow(records) -> None:
    # A 4 L/min oxygen flow contradicts "room air"; the device wins only for masks and positive
    # pressure, so the flow decides: low-flow, grade 2 (not room air, grade 1).
    a = grade_with(*records)
    assert (a.grade, a.hypoxia_grade) == (2, 2)
    assert a.drivers[0] == "hypoxia: oxygen 4 L/min with room air charted (low-flow)"


def test_fio2_40_percent_without_device_or_flow_is_unknown_support_not_room_air() -> None:
    # FiO2 40 % means supplemental oxygen, but not which support (nasal cannula? Venturi?):
    # hypoxia is missing and the grade a lower bound, never "SpO2 assumed on room air".
    a = assess(temp(39.0, 1), bp(120, 1), sat(94, 1), o2(None, 1, fio2=40, source="Observation/fio2"))
    assert a.hypoxia_grade is None and (a.grade, a.lower_bound) == (1, True)
    assert a.missing == ("cannot grade hypoxia: oxygen support recorded in the last 12 h without a device tier or flow "
                         "(FiO2 40 %, Observation/fio2)",)
    assert not any("assumed on room air" in n for n in a.notes)


def test_room_air_charted_alongside_fio2_40_percent_is_unknown_support_not_room_air() -> None:
    a = assess(temp(39.0, 1), bp(120, 1), sat(94, 1), o2("room-air", 3), o2(None, 1, fio2=40))
    assert a.hypoxia_grade is None and (a.grade, a.lower_bound) == (1, True)


def test_fio2_21_percent_with_spo2_is_room_air() -> None:
    a = assess(temp(39.0, 1), bp(120, 1), sat(97, 1), o2(None, 1, fio2=21))
    assert (a.grade, a.hypoxia_grade, a.missing) == (1, 0, ())


@pytest.mark.parametrize("device,flow,grade,driver", [
    ("nasal-cannula", 4, 2, "hypoxia: nasal cannula 4 L/min (low-flow)"),
    ("nasal-cannula", 8, 3, "hypoxia: nasal cannula 8 L/min (high-flow)"),
    ("simple-facemask", 2, 3, None),
])
def test_flow_and_device_charted_separately_at_the_same_time_are_one_support(device, flow, grade, driver) -> None:
    """EHRs chart the flow (e.g. an SpO2 component) and the delivery method as two observations."""
    a = grade_with(o2(None, 1, flow=flow, source="Observation/spo2-flow"), o2(device, 1, source="Observation/method"))
    assert a.grade == grade
    if driver:
        assert a.drivers[0] == driver
    assert "no device recorded" not in a.drivers[0]
