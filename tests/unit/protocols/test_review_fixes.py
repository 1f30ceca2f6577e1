"""Clinical review fixes in the protocol layer (issue 12, item 4): SpO2 below target with no oxygen support
charted, weight plausibility, stopped tocilizumab counted towards the repeat limits, and the GM-CSF warning
naming the patient's index therapy class."""
from __future__ import annotations

from pathlib import Path

from clinical import DraftMedication, Measurement
from grading import grade_crs
from protocols import load_protocol
from protocols import recommend as recommend_typed
from protocols.order_checks import check_orders
from tests.support.clinical_data import GRADING
from tests.support.grading_builders import NOW, ago, bp, car_t, o2, sat, snapshot, temp
from tests.support.protocol_builders import administration, assessment
from tests.support.protocol_builders import snapshot as protocol_snapshot
from tests.support.protocol_files import edited
from tests.support.protocol_wording import SaidFinding, said

GENERIC = load_protocol("astct-generic")
CHRISTIE = load_protocol("christie-doc644-v8")


def graded(*items, protocol=GENERIC):
    s = snapshot(car_t(), *items)
    return said(recommend_typed(grade_crs(s, NOW, GRADING), s, protocol, NOW, grading=GRADING))


# ---------------------------------------------------------- SpO2 below target, no oxygen support charted

def test_spo2_below_the_protocol_target_with_no_oxygen_support_charted_prompts_a_check() -> None:
    recs = graded(temp(39.0, 1), bp(120, 1), sat(95, 3), sat(88, 1, source="Observation/sat-88"))
    check = recs.oxygen_check
    assert check is not None and (check.spo2.source, check.target_percent) == ("Observation/sat-88", 92)
    assert check.source.document == "000_a8ee7285a5023aec.txt"
    assert recs.grade == 1  # grading by support stays as ASTCT says: no support charted, none counted


def test_no_prompt_at_or_above_the_target_or_when_support_is_charted() -> None:
    assert graded(temp(39.0, 1), bp(120, 1), sat(92, 1)).oxygen_check is None
    assert graded(temp(39.0, 1), bp(120, 1), sat(88, 1), o2("room-air", 1)).oxygen_check is None
    assert graded(temp(39.0, 1), bp(120, 1), sat(88, 1), o2("nasal-cannula", 1, flow=2)).oxygen_check is None


def test_the_target_is_the_protocols_christie_keeps_spo2_above_90() -> None:
    assert graded(temp(39.0, 1), bp(120, 1), sat(91, 1), protocol=CHRISTIE).oxygen_check is None
    check = graded(temp(39.0, 1), bp(120, 1), sat(89, 1), protocol=CHRISTIE).oxygen_check
    assert check is not None and check.target_percent == 90 and check.source.section == "§6.2 Supportive therapy"


def test_the_prompt_is_made_for_an_eligible_patient_without_crs_too() -> None:
    recs = graded(temp(37.0, 1), bp(120, 1), sat(86, 1))
    assert recs.grade == 0 and recs.oxygen_check is not None


# ----------------------------------------------------------------------------------- weight plausibility

def weights(*kg_days: tuple[float, float]) -> tuple[Measurement, ...]:
    return tuple(Measurement("weight", kg, "kg", ago(days=days), f"Observation/w{i}", f"{kg} kg")
                 for i, (kg, days) in enumerate(kg_days))


def toci(protocol=GENERIC, *measurements: Measurement):
    s = protocol_snapshot(weight_kg=None, measurements=measurements)
    [rec] = said(recommend_typed(assessment(2), s, protocol, NOW, grading=GRADING)).for_drug("tocilizumab")
    return rec


def test_a_weight_more_than_20_percent_off_the_previous_within_a_week_is_suspect_and_no_dose_is_computed() -> None:
    rec = toci(GENERIC, *weights((70, 3), (95, 1)))
    assert (rec.dose_mg, rec.orderable) == (None, False)
    assert rec.dose_problem == ("body weight 95 kg on 2026-11-20 (Observation/w1) differs by 36 % from 70 kg on "
                                "2026-11-18 (Observation/w0), more than 20 % within 7 days: suspect — confirm the "
                                "weight; no mg/kg dose is computed from it")


def test_a_plausible_change_or_an_old_previous_weight_gives_the_dose() -> None:
    assert toci(GENERIC, *weights((70, 3), (80, 1))).dose_mg == 640  # +14 %: 8 mg/kg × 80 kg
    assert toci(GENERIC, *weights((70, 10), (95, 1))).dose_mg == 760  # the previous weight is 9 days older


def test_the_plausibility_limit_is_protocol_data(tmp_path: Path) -> None:
    site = load_protocol(edited(tmp_path, "weightPlausibility: {maxChangePercent: 20, withinDays: 7}",
                                "weightPlausibility: {maxChangePercent: 40, withinDays: 7}"))
    assert toci(site, *weights((70, 3), (95, 1))).dose_mg == 760


def test_an_order_against_a_suspect_weight_cannot_be_checked_and_says_why() -> None:
    draft = DraftMedication("MedicationRequest/t1", 0, "tocilizumab", "anti-il6", "tocilizumab", "code", "draft",
                            760, "mg", 760)
    [finding] = check_orders([draft], assessment=assessment(2),
                             snapshot=protocol_snapshot(weight_kg=None, measurements=weights((70, 3), (95, 1))),
                             protocol=GENERIC, grading=GRADING, now=NOW)
    said_finding = SaidFinding(finding)
    assert finding.kind == "no-weight"
    assert said_finding.summary == "Tocilizumab 760 mg cannot be checked: the latest body weight is suspect"
    assert "differs by 36 % from 70 kg" in said_finding.reasons[0]


# ------------------------------------------------------------------------------- stopped tocilizumab

def test_a_stopped_tocilizumab_dose_counts_towards_the_repeat_limits_and_the_card_says_so() -> None:
    given = (administration("tocilizumab", 20, dose_mg=560), administration("tocilizumab", 12, dose_mg=560),
             administration("tocilizumab", 4, dose_mg=300, status="stopped", source="MedicationAdministration/stop"))
    s = protocol_snapshot(administrations=given)
    [rec] = said(recommend_typed(assessment(2), s, GENERIC, NOW, grading=GRADING)).for_drug("tocilizumab")
    assert rec.blocked and "3 doses in the last 24 h: the maximum is 3" in rec.blocked
    [stopped] = [e for e in rec.evidence if e.source == "MedicationAdministration/stop"]
    assert stopped.fact.stopped


def test_counting_stopped_doses_is_protocol_data(tmp_path: Path) -> None:
    site = load_protocol(edited(tmp_path, "  countStoppedDoses: true", "  countStoppedDoses: false"))
    given = (administration("tocilizumab", 20), administration("tocilizumab", 12),
             administration("tocilizumab", 4, status="stopped"))
    [rec] = said(recommend_typed(assessment(2), protocol_snapshot(administrations=given), site, NOW,
                                 grading=GRADING)).for_drug("tocilizumab")
    assert not rec.blocked


# ------------------------------------------------------------------------------------ GM-CSF warning

def test_the_gm_csf_warning_names_the_patients_index_therapy_class() -> None:
    cart = said(recommend_typed(assessment(2), protocol_snapshot(), GENERIC, NOW, grading=GRADING))
    [gm] = [w for w in cart.warnings if w.warning_id == "no-gm-csf"]
    assert gm.text == "Do not use GM-CSF (sargramostim) — not recommended after CAR-T cells"
    blin = administration("blinatumomab", 48, status="in-progress")
    engager = said(recommend_typed(assessment(2, index=blin), protocol_snapshot(index=blin), GENERIC, NOW,
                                   grading=GRADING))
    [gm] = [w for w in engager.warnings if w.warning_id == "no-gm-csf"]
    assert gm.text == "Do not use GM-CSF (sargramostim) — not recommended after a T-cell engager"


def test_the_gm_csf_order_check_names_the_index_therapy_class_too() -> None:
    draft = DraftMedication("MedicationRequest/g1", 0, "sargramostim", "gm-csf", "Leukine", "name", "draft", 250,
                            "ug", 0.25)
    blin = administration("blinatumomab", 48, status="in-progress")
    [finding] = check_orders([draft], assessment=assessment(2, index=blin), snapshot=protocol_snapshot(index=blin),
                             protocol=GENERIC, grading=GRADING, now=NOW)
    assert SaidFinding(finding).summary == "Do not give Leukine: GM-CSF is not recommended after a T-cell engager"
