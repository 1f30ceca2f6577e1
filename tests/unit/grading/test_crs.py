"""Putting it together: grade = more severe of hypotension and hypoxia, fever rules, status."""
from __future__ import annotations

from tests.support.grading_builders import NOW, assess, bp, complete_normal_vitals, lab, o2, pressor, sat, temp


def test_astct_paper_example_fever_one_vasopressor_low_flow_nasal_cannula_is_grade_3() -> None:
    # Lee et al. 2019: 39.5 °C, hypotension requiring one vasopressor, low-flow nasal cannula -> grade 3.
    a = assess(temp(39.5, 1), bp(84, 2), pressor("norepinephrine", 2), o2("nasal-cannula", 1, flow=3), sat(94, 1))
    assert (a.status, a.grade, a.hypotension_grade, a.hypoxia_grade) == ("graded", 3, 3, 2)
    assert a.drivers == ("hypotension: one vasopressor (norepinephrine)",
                         "hypoxia: nasal cannula 3 L/min (low-flow)", "fever 39.5 °C")


def test_christie_restated_example_without_vasopressor_is_grade_2() -> None:
    a = assess(temp(39.5, 1), bp(84, 2), o2("nasal-cannula", 1, flow=3), sat(94, 1))
    assert a.grade == 2


def test_the_more_severe_of_hypotension_and_hypoxia_sets_the_grade_and_comes_first() -> None:
    a = assess(temp(38.6, 1), bp(84, 2), pressor("norepinephrine", 2), o2("cpap", 1), sat(93, 1))
    assert a.grade == 4
    assert a.drivers == ("hypoxia: CPAP (positive pressure)", "hypotension: one vasopressor (norepinephrine)",
                         "fever 38.6 °C")


def test_organ_toxicity_does_not_change_the_grade() -> None:
    labs = [lab("creatinine", 4.8, "mg/dL"), lab("alt", 900, "U/L"), lab("ast", 1200, "U/L")]
    with_labs = assess(temp(39.0, 1), *complete_normal_vitals(), *labs)
    without = assess(temp(39.0, 1), *complete_normal_vitals())
    assert with_labs.grade == without.grade == 1
    assert not any(e.what in {"creatinine", "alt", "ast"} for e in with_labs.evidence)


def test_no_fever_ever_with_hypotension_is_not_graded_with_the_note() -> None:
    a = assess(temp(37.1, 1), bp(82, 1), o2("room-air", 1), sat(97, 1))
    assert (a.status, a.grade, a.worst_grade, a.onset) == ("not-graded", None, None, None)
    assert a.notes[0] == ("hypotension/hypoxia without documented fever — not graded as CRS; evaluate other "
                          "causes (sepsis, cardiac); if antipyretics were given from the start, CRS may be masked")
    assert a.drivers == ("hypotension: systolic 82 mmHg, no vasopressor",)


def test_no_fever_ever_with_hypoxia_is_not_graded() -> None:
    a = assess(temp(37.1, 1), bp(120, 1), o2("non-rebreather", 1), sat(92, 1))
    assert (a.status, a.grade) == ("not-graded", None)
    assert a.drivers == ("hypoxia: non-rebreather mask",)


def test_no_fever_and_no_sign_on_complete_data_is_grade_0() -> None:
    a = assess(temp(36.9, 1), *complete_normal_vitals())
    assert (a.status, a.grade, a.lower_bound, a.missing, a.drivers) == ("graded", 0, False, (), ())


def test_fever_gone_without_masking_drug_and_hypotension_now_is_not_graded() -> None:
    # Decision: onset 40 h ago, no fever since 24 h, no antipyretic/anticytokine: hypotension is not
    # counted as CRS; the card says so instead of a silent grade 0.
    a = assess(temp(39.0, 40), temp(37.2, 1), bp(84, 1), o2("room-air", 1), sat(97, 1))
    assert (a.status, a.grade, a.worst_grade) == ("not-graded", None, 1)
    assert a.notes[0].startswith("hypotension/hypoxia without fever in the last 24 h")


def test_grade_depends_on_now_only_never_on_the_clock() -> None:
    a = assess(temp(39.0, 1), *complete_normal_vitals())
    assert a.now == NOW
    later = assess(temp(39.0, 1), *complete_normal_vitals(), now=NOW.replace(day=23))
    assert (later.grade, later.status) == (None, "insufficient-data")


def test_evidence_references_every_observation_and_administration_that_drove_the_grade() -> None:
    a = assess(temp(39.5, 1, source="Observation/t"), bp(84, 2, source="Observation/bp"),
               pressor("norepinephrine", 2, source="MedicationAdministration/ne"),
               o2("nasal-cannula", 1, flow=3, source="Observation/o2"), sat(94, 1, source="Observation/sat"))
    by_role = {(e.role, e.source) for e in a.evidence}
    assert {("index-therapy", "MedicationAdministration/cart"), ("fever", "Observation/t"),
            ("hypotension", "Observation/bp"), ("vasopressor", "MedicationAdministration/ne"),
            ("hypoxia", "Observation/o2"), ("context", "Observation/sat")} <= by_role
    assert all(e.time <= NOW for e in a.evidence)


def test_assessment_keeps_the_index_therapy() -> None:
    a = assess(temp(39.0, 1), *complete_normal_vitals())
    assert a.index_therapy is not None and a.index_therapy.drug == "axicabtagene-ciloleucel"
    [ev] = [e for e in a.evidence if e.role == "index-therapy"]
    assert ev.value.endswith("day +5")
