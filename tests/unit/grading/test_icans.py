"""ASTCT ICANS grading: every row of the consensus table, the ICE-0 rule, CAPD in children, the window,
attribution to another cause, missing domains and bad input. Findings are built in clinical terms
(``ice(5, hours_ago=1)``, ``loc("voice")``); the mapping from FHIR is tested in fhir_mappings."""
from __future__ import annotations

import dataclasses

import pytest

from clinical.findings import IcansDriver
from grading import GradingConfigError, grade, load_grading_config
from grading.config import DEFAULT_CONFIG_PATH
from tests.support.clinical_data import GRADING
from tests.support.grading_builders import (
    NOW,
    assess_icans,
    birth_date_for_age,
    capd,
    car_t,
    complete_normal_vitals,
    ice,
    loc,
    motor,
    oedema,
    seizure,
    snapshot,
    temp,
)

NO_ICE = "no ICE score in the last 12 h"
NO_LOC = "no level of consciousness charted in the last 12 h"
NO_CAPD = "no CAPD score in the last 12 h"


def graded(*items, **kw):
    """ICANS with both required domains charted (alert unless a level is given), so only ``items`` drive it."""
    has_loc = any(getattr(i, "domain", None) == "consciousness" for i in items)
    has_score = any(getattr(i, "domain", None) in ("ice", "capd") for i in items)
    base = ([] if has_loc else [loc("alert", 2)]) + ([] if has_score or kw.get("birth_date") else [ice(10, 2)])
    return assess_icans(*base, *items, **kw)


# ------------------------------------------------------------------------------------- ICE score

@pytest.mark.parametrize("score,expected", [(10, 0), (9, 1), (8, 1), (7, 1), (6, 2), (5, 2), (4, 2), (3, 2),
                                            (2, 3), (1, 3)])
def test_ice_score_rows(score: int, expected: int) -> None:
    a = graded(ice(score, 1))
    assert (a.status, a.grade, a.lower_bound) == ("graded", expected, False)
    if expected:
        assert a.drivers == (f"ICE score {score}",)


def test_ice_0_awake_with_global_aphasia_is_grade_3() -> None:
    a = graded(ice(0, 1), loc("voice", 1))
    assert a.grade == 3
    assert "ICE score 0, awake (global aphasia)" in a.drivers


def test_ice_0_because_unarousable_is_grade_4() -> None:
    a = graded(ice(0, 1), loc("unarousable", 1.5))
    assert (a.grade, a.lower_bound) == (4, False)
    assert a.drivers[0] in ("ICE score 0, unarousable", "level of consciousness: unarousable (LOC unarousable)")
    assert "ICE score 0, unarousable" in a.drivers


def test_ice_charted_as_not_performable_because_unarousable_is_grade_4() -> None:
    a = graded(ice(None, 1))
    assert a.grade == 4 and a.drivers == ("ICE score 0, unarousable",)


def test_ice_0_with_no_level_of_consciousness_near_it_is_grade_3_as_a_lower_bound_with_the_reason() -> None:
    a = assess_icans(ice(0, 1, source="Observation/ice0"), loc("alert", 5))
    assert (a.grade, a.lower_bound) == (3, True)
    assert a.drivers == ("ICE score 0 (level of consciousness not charted)",)
    assert a.missing == ("ICE score 0 at 2026-11-21 11:00 UTC (Observation/ice0) with no level of consciousness "
                         "charted near it: unarousable (grade 4) or awake with global aphasia (grade 3) cannot be "
                         "told",)


# ---------------------------------------------------------------------------- level of consciousness

@pytest.mark.parametrize("level,expected", [("alert", 0), ("spontaneous", 1), ("voice", 2), ("tactile", 3),
                                            ("unarousable", 4)])
def test_depressed_level_of_consciousness_rows(level: str, expected: int) -> None:
    a = graded(loc(level, 1, original=f"RASS {level}"))
    assert a.grade == expected
    if expected:
        words = {"spontaneous": "awakens spontaneously", "voice": "awakens to voice",
                 "tactile": "awakens only to touch", "unarousable": "unarousable"}[level]
        assert a.drivers == (f"level of consciousness: {words} (RASS {level})",)


# --------------------------------------------------------------------------------------- seizures

@pytest.mark.parametrize("finding,expected,lower", [
    (seizure("resolved"), 3, False),  # any clinical seizure that resolves rapidly
    (seizure("seizure", minutes=3), 3, False),
    (seizure("seizure", minutes=5), 3, False),  # > 5 min is prolonged; exactly 5 is not
    (seizure("seizure", minutes=6), 4, False),  # life-threatening prolonged seizure
    (seizure("resolved", minutes=12), 4, False),  # resolved, but after 12 min
    (seizure("prolonged"), 4, False),  # status epilepticus
    (seizure("repetitive"), 4, False),  # repetitive without return to baseline
    (seizure("seizure", resolved=True), 3, False),  # resolved, duration not charted
    (seizure("seizure"), 3, True),  # neither resolved nor timed: at least 3
    (seizure("none"), 0, False),
])
def test_seizure_rows(finding, expected: int, lower: bool) -> None:
    a = graded(finding)
    assert (a.grade, a.lower_bound) == (expected, lower)


def test_a_seizure_of_unknown_duration_names_what_is_missing() -> None:
    a = graded(seizure("seizure", 2, source="Condition/sz"))
    assert a.missing == ("seizure at 2026-11-21 10:00 UTC (Condition/sz): neither its duration nor its resolution "
                         "is charted — grade 4 if longer than 5 min or repetitive",)


# ---------------------------------------------------------------------------------- motor findings

def test_deep_focal_motor_weakness_is_grade_4() -> None:
    a = graded(motor("deep-focal"))
    assert a.grade == 4 and a.drivers == ("deep focal motor weakness (hemiparesis)",)


def test_no_motor_deficit_is_grade_0() -> None:
    assert graded(motor("none")).grade == 0


# --------------------------------------------------------------------- raised ICP / cerebral oedema

@pytest.mark.parametrize("character,expected", [("focal", 3), ("diffuse", 4), ("posturing", 4),
                                                ("cranial-nerve-vi-palsy", 4), ("papilloedema", 4),
                                                ("cushings-triad", 4), ("none", 0)])
def test_raised_icp_and_cerebral_oedema_rows(character: str, expected: int) -> None:
    a = graded(oedema(character))
    assert (a.grade, a.lower_bound) == (expected, False)


def test_oedema_without_its_extent_is_grade_3_as_a_lower_bound() -> None:
    a = graded(oedema("unspecified", source="Observation/mri"))
    assert (a.grade, a.lower_bound) == (3, True)
    assert a.missing == ("cerebral oedema at 2026-11-21 11:00 UTC (Observation/mri) charted without its extent — "
                         "grade 4 if diffuse",)


# ---------------------------------------------------------------------------- the most severe domain

def test_grade_is_the_most_severe_domain_astct_example_ice_3_with_a_generalised_seizure_is_grade_3() -> None:
    a = graded(ice(3, 1), seizure("resolved", 1))
    assert a.grade == 3
    assert a.drivers[0] == "seizure, resolved rapidly" and "ICE score 3" in a.drivers


def test_drivers_are_ordered_most_severe_first_and_carry_their_evidence() -> None:
    a = graded(ice(5, 1, source="Observation/ice"), loc("tactile", 1, source="Observation/loc"))
    assert a.grade == 3
    assert [d.domain for d in a.typed.drivers] == ["consciousness", "ice"]
    assert [(e.role, e.source) for e in a.evidence] == [("icans", "Observation/loc"), ("icans", "Observation/ice")]


# -------------------------------------------------------------------------------------- children

CHILD = birth_date_for_age(7)


@pytest.mark.parametrize("score,expected", [(0, 0), (1, 1), (8, 1), (9, 3), (32, 3), (None, 4)])
def test_capd_rows_for_a_child_under_12(score, expected: int) -> None:
    a = assess_icans(capd(score, 1), loc("alert", 1), birth_date=CHILD)
    assert (a.grade, a.paediatric, a.lower_bound) == (expected, True, False)
    assert "graded with the CAPD score, not the ICE score: age 7 y, under 12" in a.notes


def test_a_child_without_a_capd_score_misses_the_capd_not_the_ice() -> None:
    a = assess_icans(loc("voice", 1), birth_date=CHILD)
    assert a.missing == (NO_CAPD,) and (a.grade, a.lower_bound) == (2, True)


def test_an_ice_score_charted_for_a_child_under_12_is_not_used() -> None:
    a = assess_icans(ice(2, 1, source="Observation/ice-child"), capd(3, 1), loc("alert", 1), birth_date=CHILD)
    assert a.grade == 1
    assert any(n.startswith("ICE score 2 at 2026-11-21 11:00 UTC (Observation/ice-child) not used: age 7 y, "
                            "the CAPD score applies") for n in a.notes)


def test_a_capd_for_an_adult_counts_only_where_the_site_says_so() -> None:
    items = (ice(8, 1), capd(12, 1), loc("alert", 1))
    assert assess_icans(*items).grade == 1
    site = dataclasses.replace(GRADING, icans=dataclasses.replace(GRADING.icans,
                                                                  capd_count_when_charted_from_age=True))
    a = assess_icans(*items, config=site)
    assert a.grade == 3 and "CAPD score 12 (delirium)" in a.drivers


# ------------------------------------------------------------------- attribution to another cause

def test_a_finding_charted_as_due_to_another_cause_is_left_out_and_said() -> None:
    a = graded(loc("tactile", 1, source="Observation/loc-sed", other_cause="Propofol"), loc("alert", 0.5))
    assert a.grade == 0
    assert ("level of consciousness: awakens only to touch (LOC tactile) at 2026-11-21 11:00 UTC "
            "(Observation/loc-sed) charted as due to another cause (Propofol) by Observation/attr-loc-sed: not "
            "counted for ICANS") in a.notes
    assert any(e.source == "Observation/loc-sed" and e.value.endswith("charted as due to another cause, not counted")
               for e in a.evidence)


def test_the_service_never_attributes_a_finding_itself() -> None:
    # Propofol running does not make the depressed consciousness "another cause": only a clinician's charting does.
    assert graded(loc("tactile", 1)).grade == 3


# ---------------------------------------------------------------------------- window and history

def test_findings_older_than_12_h_do_not_count_now_but_stay_the_worst_grade() -> None:
    a = assess_icans(ice(2, 20), ice(9, 1), loc("alert", 1))
    assert (a.grade, a.worst_grade) == (1, 3)
    assert "worst grade since onset: 3, reached at 2026-11-20 16:00 UTC" in a.notes


def test_the_most_severe_finding_in_the_window_counts_and_a_less_severe_latest_is_said() -> None:
    a = assess_icans(ice(2, 6, source="Observation/early"), ice(8, 1, source="Observation/late"), loc("alert", 1))
    assert a.grade == 3
    assert ("graded by the most severe ICE score finding in the last 12 h (ICE score 2 at 2026-11-21 06:00 UTC); "
            "latest: ICE score 8 at 2026-11-21 11:00 UTC") in a.notes


def test_findings_before_the_index_therapy_do_not_count() -> None:
    a = assess_icans(ice(1, 24 * 6), ice(10, 1), loc("alert", 1))
    assert (a.grade, a.worst_grade, a.onset) == (0, 0, None)


def test_onset_is_the_first_finding_of_grade_1_or_more() -> None:
    a = assess_icans(ice(10, 30), ice(8, 20), ice(4, 1), loc("alert", 1))
    assert a.onset == NOW.replace(hour=16, day=20)


# ---------------------------------------------------------------------------------- missing data

def test_no_ice_score_in_12_h_is_named_and_makes_a_lower_bound() -> None:
    a = assess_icans(loc("voice", 1), ice(8, 13))
    assert a.missing == (NO_ICE,)
    assert (a.status, a.grade, a.lower_bound) == ("graded", 2, True)
    assert "at least grade 2: some inputs are missing, the true grade may be higher" in a.notes


def test_no_level_of_consciousness_is_named() -> None:
    assert assess_icans(ice(9, 1)).missing == (NO_LOC,)


def test_nothing_charted_is_insufficient_data_naming_both_domains() -> None:
    a = assess_icans()
    assert (a.status, a.grade, a.worst_grade) == ("insufficient-data", None, None)
    assert a.missing == (NO_LOC, NO_ICE)


def test_grade_4_with_a_missing_domain_is_not_a_lower_bound() -> None:
    a = assess_icans(motor("deep-focal", 1))
    assert (a.grade, a.lower_bound) == (4, False) and a.missing == (NO_LOC, NO_ICE)


def test_unavailable_data_is_missing_for_icans_too() -> None:
    a = graded(ice(9, 1), unavailable=("observations: FHIR server returned 503",))
    assert a.missing == ("observations: FHIR server returned 503",) and a.lower_bound


# ----------------------------------------------------------------------------------- eligibility

def test_no_index_therapy_is_not_eligible() -> None:
    a = assess_icans(ice(2, 1), loc("voice", 1), with_car_t=False)
    assert (a.status, a.grade) == ("not-eligible", None)


def test_grade_puts_crs_and_icans_in_one_assessment() -> None:
    a = grade(snapshot(car_t(), temp(39.0, 1), *complete_normal_vitals(), ice(4, 1), loc("alert", 1)), NOW,
              GRADING)
    assert (a.grade, a.icans.grade, a.has_crs, a.has_icans) == (1, 2, True, True)
    assert isinstance(a.icans.drivers[0], IcansDriver)


def test_the_icans_section_of_the_grading_data_is_validated(tmp_path) -> None:
    site = tmp_path / "astct.json"
    site.write_text(DEFAULT_CONFIG_PATH.read_text().replace('"unarousable_tier": 4', '"unarousable_tier": 7'))
    with pytest.raises(GradingConfigError, match=r"icans\.capd\.unarousable_tier"):
        load_grading_config(site)
