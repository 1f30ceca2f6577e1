"""The patient-view assessment card, as a clinician and an EHR see it."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from cards import patient_view_cards
from clinical import (
    Administered,
    Assessment,
    DrugAdministration,
    Evidence,
    IcansAssessment,
    IcansDriver,
    NeuroReading,
    OxygenSupport,
    SupportTier,
    Temperature,
    TemperatureReading,
)
from clinical.findings import (
    FeverDriver,
    HypoxiaDriver,
    MissingIcansInput,
    MissingInput,
    NoTemperatureAfterOnset,
    NotGraded,
    VasopressorDriver,
)
from clinical.neuro import IceScore
from devkit.fhirbuild import NOW

CAR_T = DrugAdministration(drug="axicabtagene-ciloleucel", drug_class="index-therapy",
                           start=NOW - timedelta(days=5), end=NOW - timedelta(days=5), status="completed",
                           source="MedicationAdministration/cart", matched_by="name",
                           matched_on="axicabtagene ciloleucel", display="Yescarta", index_class="car-t")


FEVER = Temperature(39.2, NOW - timedelta(hours=1), "Observation/t1", "39.2 Cel")
NOREPINEPHRINE = DrugAdministration(drug="norepinephrine", drug_class="vasopressor", start=NOW - timedelta(hours=3),
                                    end=None, status="in-progress", source="MedicationAdministration/ne1",
                                    matched_by="code", matched_on="7512", display="norepinephrine")


def graded(grade: int, **kw) -> Assessment:
    defaults = {
        "status": "graded", "now": NOW, "grade": grade, "worst_grade": grade, "fever_present": True,
        "onset": NOW - timedelta(hours=20), "fever_threshold_c": 38.0, "index_therapy": CAR_T,
        "drivers": (VasopressorDriver(3, ("norepinephrine",)), FeverDriver(FEVER)),
        "evidence": (
            Evidence("fever", "temperature", TemperatureReading(FEVER), FEVER.time, FEVER.source),
            Evidence("vasopressor", "norepinephrine", Administered(NOREPINEPHRINE, "infusion", running=True),
                     NOREPINEPHRINE.start, NOREPINEPHRINE.source),
        ),
    }
    defaults.update(kw)
    return Assessment(**defaults)


def bodies(*args, **kwargs) -> list[dict]:
    """The card JSON the service would send."""
    return [card.body for card in patient_view_cards(*args, **kwargs)]


@pytest.mark.parametrize("grade,indicator", [(1, "info"), (2, "warning"), (3, "critical"), (4, "critical")])
def test_indicator_follows_grade(grade: int, indicator: str) -> None:
    [card] = bodies(graded(grade), protocol_id="astct-generic")
    assert card["indicator"] == indicator


def test_summary_states_grade_and_main_driver_within_140_characters() -> None:
    [card] = bodies(graded(3), protocol_id="astct-generic")
    assert card["summary"] == "CRS grade 3 (ASTCT): hypotension: one vasopressor (norepinephrine); fever 39.2 °C"
    assert len(card["summary"]) < 140


def test_long_drivers_are_cut_below_140_characters() -> None:
    four = ("norepinephrine", "phenylephrine", "epinephrine", "dopamine")
    ventilated = OxygenSupport(NOW, "Observation/o1", device="mechanical-ventilation")
    vasopressors = VasopressorDriver(4, (*four, "vasopressin"), four, ("vasopressin",))
    long = graded(4, drivers=(vasopressors, HypoxiaDriver(ventilated, SupportTier(4, "device"), 4),
                              FeverDriver(Temperature(40.1, NOW, "Observation/t2", "104.2 [degF]"))))
    [card] = bodies(long, protocol_id="astct-generic")
    assert len(card["summary"]) < 140
    assert card["summary"].startswith("CRS grade 4 (ASTCT): hypotension: four vasopressors")
    assert card["summary"].endswith("…")  # cut at a word boundary


def test_machine_readable_assessment_has_exactly_the_documented_shape() -> None:
    # Issue 11: the card's text is short, so the extension carries the complete evidence with its FHIR
    # references (what the old card's evidence table showed); the other fields are unchanged.
    [card] = bodies(graded(3), protocol_id="christie-doc644-v8")
    assert card["extension"]["crs-cds.assessment"] == {
        "system": "ASTCT-2019",
        "status": "graded",
        "grade": 3,
        "worstGrade": 3,
        "drivers": ["hypotension: one vasopressor (norepinephrine)", "fever 39.2 °C"],
        "missing": [],
        "evidence": [
            {"role": "fever", "what": "temperature", "value": "39.2 °C", "time": "2026-11-21T11:00:00Z",
             "source": "Observation/t1"},
            {"role": "vasopressor", "what": "norepinephrine", "value": "norepinephrine, running",
             "time": "2026-11-21T09:00:00Z", "source": "MedicationAdministration/ne1"},
        ],
        "protocol": "christie-doc644-v8",
    }


def test_detail_is_short_markdown_one_driver_a_line_with_how_long_ago_and_no_table_or_reference() -> None:
    [card] = bodies(graded(3), protocol_id="astct-generic")
    detail = card["detail"]
    assert detail == ("**CRS grade 3** (worst since onset 3), onset 20 h ago (fever ≥ 38.0 °C)\n\n"
                      "- hypotension: one vasopressor (norepinephrine): running, started 3 h ago\n"
                      "- fever 39.2 °C, 1 h ago")
    assert "|" not in detail and "Observation/" not in detail and "MedicationAdministration/" not in detail
    assert "<" not in detail.replace("< ", "")  # no raw HTML


def test_card_cites_astct_and_has_a_uuid() -> None:
    [card] = bodies(graded(2), protocol_id="astct-generic")
    assert "ASTCT" in card["source"]["label"]
    assert card["source"]["url"].endswith("30592986/")
    uuid.UUID(card["uuid"])


def test_missing_data_makes_the_grade_a_lower_bound_and_is_listed() -> None:
    gap = "cannot grade hypoxia: no SpO2 or oxygen support recorded in the last 12 h"
    missing = MissingInput("hypoxia", "no-spo2-or-support", 12)
    [card] = bodies(graded(2, lower_bound=True, missing=(missing,)), protocol_id="astct-generic")
    assert card["summary"].startswith("CRS grade ≥ 2 (ASTCT)")
    assert gap in card["detail"]
    assert "lower bound" in card["detail"]
    assert card["extension"]["crs-cds.assessment"]["missing"] == [gap]


def test_no_card_when_not_eligible_or_grade_0_on_complete_data() -> None:
    assert patient_view_cards(Assessment(status="not-eligible", now=NOW), protocol_id="astct-generic") == []
    assert patient_view_cards(graded(0, drivers=(), evidence=()), protocol_id="astct-generic") == []


def test_grade_0_on_incomplete_data_is_said_not_silent() -> None:
    gap = "cannot grade hypotension: no blood pressure recorded in the last 12 h"
    missing = MissingInput("hypotension", "no-blood-pressure", 12)
    [card] = bodies(graded(0, drivers=(), lower_bound=True, missing=(missing,)), protocol_id="astct-generic")
    assert card["indicator"] == "info"
    assert gap in card["summary"]


def test_hypotension_without_fever_gets_a_card_marked_not_graded_at_least_warning_on_a_vasopressor() -> None:
    # Clinical review (issue 12): a new vasopressor need after CAR-T is urgent whatever its cause, so this
    # not-graded card (hypotension grade 3: a vasopressor) is a warning; it was "info" before.
    note = ("hypotension/hypoxia without documented fever — not graded as CRS; evaluate other causes "
            "(sepsis, cardiac); if antipyretics were given from the start, CRS may be masked")
    a = Assessment(status="not-graded", now=NOW, notes=(NotGraded(since_onset=False, window_hours=24),),
                   index_therapy=CAR_T, hypotension_grade=3)
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["indicator"] == "warning"
    assert ("**Urgent whatever its cause**: a new need for a vasopressor, high-flow oxygen or positive pressure "
            "after CAR-T cells needs review now.") in card["detail"]
    assert card["extension"]["crs-cds.assessment"]["status"] == "not-graded"
    assert card["extension"]["crs-cds.assessment"]["grade"] is None
    assert "without documented fever" in card["summary"]
    assert note in card["detail"]


def test_insufficient_data_card_names_what_is_missing() -> None:
    gap = "cannot assess fever: no temperature recorded in the last 24 h"
    a = Assessment(status="insufficient-data", now=NOW, missing=(MissingInput("fever", "no-temperature", 24),),
                   lower_bound=True, index_therapy=CAR_T)
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["indicator"] == "info"
    assert gap in card["summary"]


def test_ehr_text_with_pipes_stays_in_the_extension_as_charted() -> None:
    odd = DrugAdministration(drug="axicabtagene-ciloleucel", drug_class="index-therapy", start=NOW, end=NOW,
                             status="completed", source="MedicationAdministration/x", matched_by="name",
                             matched_on="axicabtagene ciloleucel", display="a | b")
    ev = Evidence("index-therapy", odd.drug, Administered(odd, "index-therapy", day=0), NOW, odd.source)
    [card] = bodies(graded(1, evidence=(ev,)), protocol_id="astct-generic")
    assert "|" not in card["detail"]  # no table to break
    [shown] = card["extension"]["crs-cds.assessment"]["evidence"]
    assert shown["value"] == "a | b (axicabtagene ciloleucel), day +0" and shown["source"] == "MedicationAdministration/x"


def test_summary_names_hypotension_and_hypoxia_when_both_count_then_the_fever() -> None:
    # Issue 11: both signs that count are named (the summary used to keep only the main one and the fever).
    cannula = OxygenSupport(NOW, "Observation/o2", device="nasal-cannula", flow_l_min=4)
    a = graded(3, drivers=(VasopressorDriver(3, ("norepinephrine",)),
                           HypoxiaDriver(cannula, SupportTier(2, "device-flow"), 2), FeverDriver(FEVER)))
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["summary"] == ("CRS grade 3 (ASTCT): hypotension: one vasopressor (norepinephrine); hypoxia: nasal "
                               "cannula 4 L/min (low-flow); fever 39.2 °C")
    assert "- hypoxia: nasal cannula 4 L/min (low-flow), just now" in card["detail"]  # its time: the record's


def test_the_fever_is_left_out_before_a_sign_that_counts_when_space_runs_short() -> None:
    ventilated = OxygenSupport(NOW, "Observation/o1", device="mechanical-ventilation")
    both = VasopressorDriver(4, ("norepinephrine", "phenylephrine"), ("norepinephrine", "phenylephrine"))
    a = graded(4, drivers=(both, HypoxiaDriver(ventilated, SupportTier(4, "device"), 4), FeverDriver(FEVER)))
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["summary"] == ("CRS grade 4 (ASTCT): hypotension: two vasopressors (norepinephrine, phenylephrine); "
                               "hypoxia: mechanical ventilation (positive pressure)")
    assert "- fever 39.2 °C, 1 h ago" in card["detail"]  # said in the detail


# --------------------------------------------------------------------------------------------- ICANS

ICE_3 = IceScore(2, NOW - timedelta(hours=1), "Observation/ice-1", "ICE score 2")


def icans(grade: int | None, *, status: str = "graded", lower_bound: bool = False, missing=(), drivers=None):
    drivers = drivers if drivers is not None else (
        (IcansDriver("ice", grade, IceScore(grade and 7 - grade * 2, NOW - timedelta(hours=1), "Observation/ice-1",
                                            "ICE")),) if grade else ())
    return IcansAssessment(status=status, now=NOW, grade=grade, worst_grade=grade, lower_bound=lower_bound,  # type: ignore[arg-type]
                           drivers=drivers, missing=missing,
                           evidence=tuple(Evidence("icans", "ICE score", NeuroReading(d.finding), d.finding.time,
                                                   d.finding.source) for d in drivers))


def test_summary_states_both_gradings_crs_first() -> None:
    a = graded(2, drivers=(HypoxiaDriver(OxygenSupport(NOW, "Observation/o2", device="nasal-cannula", flow_l_min=4),
                                         SupportTier(2, "device-flow"), 2), FeverDriver(FEVER)),
               icans=icans(3, drivers=(IcansDriver("ice", 3, ICE_3),)))
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["summary"].startswith("CRS grade 2 · ICANS grade 3 (ASTCT): ")
    assert card["summary"] == ("CRS grade 2 · ICANS grade 3 (ASTCT): hypoxia: nasal cannula 4 L/min (low-flow); "
                               "fever 39.2 °C; ICE score 2")


def test_icans_extension_has_exactly_the_documented_shape() -> None:
    gap = MissingIcansInput("consciousness", "none-in-window", 12)
    a = graded(3, icans=icans(3, lower_bound=True, missing=(gap,), drivers=(IcansDriver("ice", 3, ICE_3),)))
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["extension"]["crs-cds.assessment"]["icans"] == {
        "system": "ASTCT-2019", "status": "graded", "grade": 3, "worstGrade": 3,
        "drivers": ["ICE score 2"], "missing": ["no level of consciousness charted in the last 12 h"],
        "evidence": [{"role": "icans", "what": "ICE score", "value": "ICE score 2", "time": "2026-11-21T11:00:00Z",
                      "source": "Observation/ice-1"}],
    }


def test_a_patient_with_icans_and_no_crs_still_gets_a_card() -> None:
    a = graded(0, drivers=(), evidence=(), fever_present=False, icans=icans(2))
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["summary"] == "ICANS grade 2 (ASTCT): ICE score 3"
    assert card["indicator"] == "warning"
    assert "**ICANS grade 2**\n\n- ICE score 3, 1 h ago" in card["detail"]


def test_icans_with_crs_not_graded_says_both() -> None:
    a = Assessment(status="not-graded", now=NOW, notes=(NotGraded(since_onset=False, window_hours=24),),
                   index_therapy=CAR_T, hypotension_grade=2, icans=icans(1))
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["summary"] == "ICANS grade 1 (ASTCT): ICE score 5; hypotension/hypoxia not graded as CRS (no fever)"


@pytest.mark.parametrize("crs,icans_grade,indicator", [(1, 3, "critical"), (3, 1, "critical"), (1, 2, "warning"),
                                                       (2, 1, "warning"), (1, 1, "info"), (0, 4, "critical")])
def test_indicator_follows_the_worse_of_crs_and_icans(crs: int, icans_grade: int, indicator: str) -> None:
    a = graded(crs, icans=icans(icans_grade)) if crs else graded(0, drivers=(), evidence=(), icans=icans(icans_grade))
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["indicator"] == indicator


def test_an_icans_gap_alone_makes_no_card_but_is_said_on_a_crs_card() -> None:
    gap = (MissingIcansInput("consciousness", "none-in-window", 12), MissingIcansInput("ice", "none-in-window", 12))
    nothing = icans(None, status="insufficient-data", missing=gap)
    assert patient_view_cards(graded(0, drivers=(), evidence=(), icans=nothing), protocol_id="astct-generic") == []
    [card] = bodies(graded(2, icans=nothing), protocol_id="astct-generic")
    assert "**ICANS not assessed**: no level of consciousness or ICE score in 12 h" in card["detail"]
    assert card["extension"]["crs-cds.assessment"]["icans"]["status"] == "insufficient-data"


def test_icans_detail_has_its_drivers_evidence_and_lower_bound() -> None:
    gap = MissingIcansInput("ice", "none-in-window", 12)
    a = graded(1, icans=icans(2, lower_bound=True, missing=(gap,)))
    [card] = bodies(a, protocol_id="astct-generic")
    detail = card["detail"]
    assert ("**ICANS grade ≥ 2** (lower bound: data missing)\n\n- ICE score 3, 1 h ago\n"
            "- Missing: no ICE score in the last 12 h") in detail
    assert card["extension"]["crs-cds.assessment"]["icans"]["evidence"][0]["source"] == "Observation/ice-1"
    assert card["summary"].startswith("CRS grade 1 · ICANS grade ≥ 2 (ASTCT)")



def test_hypotension_without_fever_and_without_a_vasopressor_stays_an_info_card() -> None:
    a = Assessment(status="not-graded", now=NOW, notes=(NotGraded(since_onset=False, window_hours=24),),
                   index_therapy=CAR_T, hypotension_grade=2, hypoxia_grade=2)
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["indicator"] == "info" and "Urgent" not in card["detail"]


@pytest.mark.parametrize("hypotension,hypoxia", [(3, 0), (4, 0), (0, 3), (0, 4)])
def test_a_vasopressor_high_flow_or_positive_pressure_need_not_graded_as_crs_is_at_least_a_warning(
        hypotension: int, hypoxia: int) -> None:
    a = Assessment(status="not-graded", now=NOW, notes=(NotGraded(since_onset=False, window_hours=24),),
                   index_therapy=CAR_T, hypotension_grade=hypotension, hypoxia_grade=hypoxia)
    assert bodies(a, protocol_id="astct-generic")[0]["indicator"] == "warning"


def test_fever_documented_but_older_than_24_h_names_the_onset_and_the_lapsed_window() -> None:
    onset = NOW - timedelta(hours=40)
    a = Assessment(status="not-graded", now=NOW, onset=onset, fever_threshold_c=38.0, index_therapy=CAR_T,
                   hypotension_grade=2, notes=(NotGraded(since_onset=True, window_hours=24),))
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["summary"] == ("Not graded as CRS: fever window lapsed (CRS onset 2026-11-19 20:00 UTC, no fever in "
                               "24 h); hypotension/hypoxia now — evaluate other causes")
    assert "without documented fever" not in card["summary"] + card["detail"]
    assert ("**Not graded as CRS**: CRS onset 2026-11-19 20:00 UTC (40 h ago), but no fever in the last 24 h and no "
            "antipyretic or anticytokine therapy since onset — the fever window has lapsed.") in card["detail"]


def test_no_current_temperature_after_onset_with_a_vasopressor_says_the_grade_cannot_be_established() -> None:
    gap = MissingInput("fever", "no-temperature", 24)
    a = Assessment(status="insufficient-data", now=NOW, onset=NOW - timedelta(hours=30), index_therapy=CAR_T,
                   hypotension_grade=3, drivers=(VasopressorDriver(3, ("norepinephrine",)),), missing=(gap,),
                   notes=(NoTemperatureAfterOnset(24),))
    [card] = bodies(a, protocol_id="astct-generic")
    assert card["summary"] == ("CRS grade cannot be established (ASTCT): no current temperature; hypotension: one "
                               "vasopressor (norepinephrine)")
    assert card["indicator"] == "warning"
    assert "grade ≥" not in card["summary"] and card["extension"]["crs-cds.assessment"]["grade"] is None
    assert "cannot assess fever: no temperature recorded in the last 24 h" in card["detail"]
    assert "when fever may be masked (an antipyretic or anticytokine given since onset: none given)" in card["detail"]
