"""ICANS assessments as EHRs chart them -> NeuroFindings: flowsheet rows with Epic OIDs and coded list
answers, the RASS in SNOMED CT, Conditions with onset and abatement; bad input left out with its reason."""
from __future__ import annotations

from typing import Any

import pytest

from clinical.neuro import CapdScore, CerebralOedema, Consciousness, IceScore, MotorWeakness, Seizure
from devkit import fhirbuild as fb
from devkit.fhirbuild import ago
from fhir_mappings import load_code_lists, load_local_codes, map_resources
from tests.support.paths import EXAMPLES

SITE = load_code_lists(local=load_local_codes(EXAMPLES / "local-codes.example.yaml"))
SHIPPED = load_code_lists()


def mapped(*resources: dict[str, Any], codes=SITE):
    return map_resources([fb.patient(), *resources], patient_id="p1", now=fb.NOW, codes=codes)


def test_ice_score_row_with_its_items() -> None:
    [ice] = mapped(fb.ice_score(5, ago(hours=1), rid="ice-1",
                                items={"orientation": 2, "naming": 2, "commands": 1, "writing": 0,
                                       "attention": 0})).neuro
    assert isinstance(ice, IceScore)
    assert (ice.score, ice.source, ice.original, ice.unarousable) == (5, "Observation/ice-1", "ICE score 5", False)
    assert dict(ice.items) == {"orientation": 2, "naming": 2, "commands": 1, "writing": 0, "attention": 0}


def test_ice_score_charted_as_unable_unarousable() -> None:
    [ice] = mapped(fb.ice_score("Unable - unarousable", ago(hours=1))).neuro
    assert isinstance(ice, IceScore) and (ice.score, ice.unarousable) == (None, True)


@pytest.mark.parametrize("score", [-1, 11, 42])
def test_ice_score_outside_0_to_10_is_left_out_with_its_reason(score: int) -> None:
    s = mapped(fb.ice_score(score, ago(hours=1), rid="ice-bad"))
    assert s.neuro == ()
    assert [(e.source, e.reason) for e in s.excluded] == [("Observation/ice-bad", "out-of-range")]


def test_an_ice_item_out_of_range_leaves_the_whole_score_out() -> None:
    s = mapped(fb.ice_score(5, ago(hours=1), rid="ice-x", items={"orientation": 5}))
    assert s.neuro == () and s.excluded[0].reason == "out-of-range"


@pytest.mark.parametrize("score,kept", [(0, True), (32, True), (33, False), (-2, False)])
def test_capd_score_range_is_0_to_32(score: int, kept: bool) -> None:
    s = mapped(fb.capd_score(score, ago(hours=1)))
    assert (len(s.neuro) == 1) is kept
    if kept:
        assert isinstance(s.neuro[0], CapdScore) and s.neuro[0].score == score
    else:
        assert s.excluded[0].reason == "out-of-range"


def test_icans_finding_without_a_time_is_left_out() -> None:
    ice = fb.ice_score(6, ago(hours=1), rid="ice-untimed")
    del ice["effectiveDateTime"]
    s = mapped(ice)
    assert s.neuro == () and [(e.source, e.reason) for e in s.excluded] == [("Observation/ice-untimed", "no-time")]


def test_a_condition_without_onset_or_recorded_date_is_left_out() -> None:
    s = mapped(fb.seizure_condition(None, rid="sz-untimed"))
    assert s.neuro == () and s.excluded[0].reason == "no-time"


@pytest.mark.parametrize("level", ["alert", "spontaneous", "voice", "tactile", "unarousable"])
def test_site_consciousness_row_maps_its_list_values(level: str) -> None:
    [c] = mapped(fb.consciousness(level, ago(hours=1))).neuro
    assert isinstance(c, Consciousness) and c.level == level


@pytest.mark.parametrize("rass,level", [(1, "alert"), (0, "alert"), (-1, "voice"), (-3, "voice"), (-4, "tactile"),
                                        (-5, "unarousable")])
def test_rass_in_snomed_ct_is_shipped_and_mapped_without_local_codes(rass: int, level: str) -> None:
    [c] = mapped(fb.rass(rass, ago(hours=1)), codes=SHIPPED).neuro
    assert isinstance(c, Consciousness) and (c.level, c.original) == (level, f"RASS {rass}")


def test_an_unknown_list_value_is_left_out_as_unknown_answer() -> None:
    row = fb.consciousness("voice", ago(hours=1), rid="loc-odd")
    row["valueCodeableConcept"] = {"coding": [{"system": fb.EPIC_LIST_VALUE, "code": "99"}], "text": "Other"}
    s = mapped(row)
    assert s.neuro == () and [(e.source, e.reason) for e in s.excluded] == [("Observation/loc-odd", "unknown-answer")]


def test_seizure_row_with_its_duration_component() -> None:
    [sz] = mapped(fb.seizure_row("seizure", ago(hours=1), minutes=7)).neuro
    assert isinstance(sz, Seizure) and (sz.character, sz.duration_minutes) == ("seizure", 7)


def test_seizure_condition_with_abatement_is_resolved_with_its_duration() -> None:
    [sz] = mapped(fb.seizure_condition(ago(hours=3), abated=ago(hours=2, minutes=58), rid="sz-1")).neuro
    assert isinstance(sz, Seizure)
    assert (sz.character, sz.resolved, sz.duration_minutes, sz.source) == ("seizure", True, 2, "Condition/sz-1")


def test_status_epilepticus_condition_means_a_prolonged_seizure() -> None:
    [sz] = mapped(fb.status_epilepticus(ago(hours=1)), codes=SHIPPED).neuro
    assert isinstance(sz, Seizure) and sz.character == "prolonged"


@pytest.mark.parametrize("verification", ["entered-in-error", "refuted"])
def test_a_refuted_or_erroneous_condition_is_not_a_finding(verification: str) -> None:
    s = mapped(fb.seizure_condition(ago(hours=1), verification=verification))
    assert s.neuro == () and s.excluded[0].reason == verification


def test_hemiplegia_condition_is_deep_focal_motor_weakness_tremor_is_not() -> None:
    found = mapped(fb.hemiplegia(ago(hours=1)), fb.motor_row("tremor", ago(hours=1))).neuro
    assert sorted(f.character for f in found if isinstance(f, MotorWeakness)) == ["deep-focal", "none"]


@pytest.mark.parametrize("answer", ["none", "focal", "diffuse"])
def test_cerebral_oedema_row(answer: str) -> None:
    [o] = mapped(fb.oedema_row(answer, ago(hours=1))).neuro
    assert isinstance(o, CerebralOedema) and o.character == answer


def test_attribution_charted_on_the_finding_itself() -> None:
    [c] = mapped(fb.consciousness("tactile", ago(hours=1), components=[fb.attributed_component("Propofol")])).neuro
    assert c.attribution is not None and c.attribution.cause == "Propofol"


def test_attribution_charted_on_its_own_row_pointing_at_the_finding() -> None:
    ice = fb.ice_score(2, ago(hours=1), rid="ice-2")
    s = mapped(ice, fb.attribution_row(ice, ago(hours=1), cause="Post-ictal", rid="attr-1"))
    [finding] = s.neuro
    assert finding.attribution is not None
    assert (finding.attribution.source, finding.attribution.cause) == ("Observation/attr-1", "Post-ictal")


def test_an_attribution_answered_no_changes_nothing() -> None:
    ice = fb.ice_score(2, ago(hours=1), rid="ice-3")
    [finding] = mapped(ice, fb.attribution_row(ice, ago(hours=1), answer="not-other-cause")).neuro
    assert finding.attribution is None


def test_site_flowsheet_rows_are_not_read_without_the_site_codes() -> None:
    s = mapped(fb.ice_score(5, ago(hours=1)), fb.consciousness("voice", ago(hours=1)), codes=SHIPPED)
    assert s.neuro == () and s.excluded == ()


def test_local_codes_extend_the_other_lists_too() -> None:
    temp = fb.temperature(38.6, ago(hours=1), rid="t-local")
    temp["code"] = {"coding": [{"system": fb.EPIC_FLOWSHEET_ROW, "code": "6", "display": "Temp"}]}
    nore = fb.med_admin({"medicationCodeableConcept": {"coding": [
        {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288", "code": "118032"}], "text": "NOREPI DRIP"}},
        ago(hours=2), open_period=True, status="in-progress")
    hfnc = fb.oxygen_device("nasal-cannula", ago(hours=1))
    hfnc["valueCodeableConcept"] = {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.4.698084.30400",
                                                "code": "14"}]}
    s = mapped(temp, nore, hfnc)
    assert [t.source for t in s.temperatures] == ["Observation/t-local"]
    assert [(a.drug, a.matched_by) for a in s.administrations] == [("norepinephrine", "code")]
    assert [o.device for o in s.oxygen] == ["high-flow-nasal-cannula"]
    shipped = mapped(temp, nore, hfnc, codes=SHIPPED)
    assert shipped.temperatures == () and [a.matched_by for a in shipped.administrations] == ["name"]


def test_index_therapies_carry_their_class() -> None:
    s = mapped(fb.car_t(), fb.drug("blinatumomab", ago(days=2), open_period=True, status="in-progress"))
    assert {(a.drug, a.index_class) for a in s.administrations} == {
        ("axicabtagene ciloleucel", "car-t"), ("blinatumomab", "t-cell-engager")}


def test_intramuscular_route_is_recognised() -> None:
    [a] = mapped(fb.med_admin("EPINEPHrine 1 mg/mL injection", ago(hours=1), rxnorm="3992", dose=(0.5, "mg"),
                              route="IM")).administrations
    assert a.route == "IM"
