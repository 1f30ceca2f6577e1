"""Dose engine: mg/kg from a recent weight, weight bands, caps, BSA, rounding and repeat limits."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from cards.wording import doses
from cards.wording.evidence import value
from clinical import ClinicalSnapshot, Measurement
from protocols import PendingDose, load_protocol
from protocols import recommend as recommend_typed
from protocols.dose import body_size, compute_dose, mosteller_bsa
from protocols.history import check_repeat, given_doses
from tests.support.clinical_data import GRADING
from tests.support.protocol_builders import NOW, administration, assessment, height, hours_ago, snapshot, weight
from tests.support.protocol_wording import SaidRecommendations, said

GENERIC = load_protocol("astct-generic")
CHRISTIE = load_protocol("christie-doc644-v8")
PAEDIATRIC = load_protocol("paediatric-seed004")


def recommend(*args, **kw) -> SaidRecommendations:
    """Recommendations with their items, warnings and notes in the card's words."""
    return said(recommend_typed(*args, **kw))


def tocilizumab(protocol, snap, grade=2, **kw):
    [rec] = recommend(assessment(grade, **kw), snap, protocol, NOW, grading=GRADING).for_drug("tocilizumab")
    return rec


def action(protocol, grade, action_id):
    return next(a for a in protocol.grades[grade].actions if a.id == action_id)


# ------------------------------------------------------------------ mg/kg

@pytest.mark.parametrize("kg,mg", [(70, 560), (125, 800), (100, 800), (22, 264), (29.9, 358.8), (30.0, 240)])
def test_generic_grade2_tocilizumab_dose(kg, mg):
    rec = tocilizumab(GENERIC, snapshot(weight_kg=kg))
    assert rec.dose_mg == mg
    assert rec.route == "IV" and rec.once and rec.recommended and rec.orderable


@pytest.mark.parametrize("kg,mg,per_kg", [(22, 264, "12 mg/kg"), (29.9, 358.8, "12 mg/kg"), (30.0, 240, "8 mg/kg"),
                                          (60, 480, "8 mg/kg"), (110, 800, "8 mg/kg")])
def test_paediatric_tocilizumab_weight_bands(kg, mg, per_kg):
    rec = tocilizumab(PAEDIATRIC, snapshot(weight_kg=kg))
    assert rec.dose_mg == mg
    assert rec.dose_calculation.startswith(per_kg)


def test_decimal_arithmetic_is_exact():
    rec = tocilizumab(GENERIC, snapshot(weight_kg=29.9))
    assert repr(rec.dose_mg) == "358.8"
    assert "358.8 mg IV now" in rec.text
    assert "12 mg/kg (weight < 30 kg) × 29.9 kg" in rec.text


def test_text_shows_dose_arithmetic_and_limits():
    rec = tocilizumab(GENERIC, snapshot(weight_kg=70))
    assert rec.text == ("Tocilizumab 560 mg IV now (8 mg/kg × 70 kg, max 800 mg); "
                        "may repeat every 8 h, max 3 doses in 24 h, 4 in total")


def test_cap_is_shown_when_it_applies():
    rec = tocilizumab(GENERIC, snapshot(weight_kg=125))
    assert rec.dose_calculation == "8 mg/kg × 125 kg = 1000 mg, capped at 800 mg"


def test_weight_converted_from_pounds_keeps_two_decimals():
    lb = Measurement("weight", 69.853168, "kg", NOW - timedelta(days=1), "Observation/lb", "154 [lb_av]")
    snap = snapshot(weight_kg=None, measurements=(lb,))
    rec = tocilizumab(GENERIC, snap)
    assert rec.dose_mg == 558.83
    assert any("recorded as 154 lb" in value(e) for e in rec.evidence)


def test_most_recent_weight_is_used_with_its_reference():
    snap = snapshot(weight_kg=None, measurements=(weight(80, days=10, source="Observation/old"),
                                                   weight(70, days=2, source="Observation/new")))
    rec = tocilizumab(GENERIC, snap)
    assert rec.dose_mg == 560
    [w] = [e for e in rec.evidence if e.what == "body weight"]
    assert (w.source, w.time, value(w)) == ("Observation/new", NOW - timedelta(days=2), "70 kg")


# ---------------------------------------------------------- missing weight

def test_no_weight_gives_no_dose_and_says_why():
    rec = tocilizumab(GENERIC, snapshot(weight_kg=None))
    assert rec.dose_mg is None and not rec.orderable
    assert rec.dose_problem == "no body weight recorded in the last 30 days — dose cannot be computed"
    assert rec.dose_problem in rec.text


def test_stale_weight_31_days_gives_no_dose_and_names_its_date():
    snap = snapshot(weight_kg=None, measurements=(weight(70, days=31, source="Observation/w-old"),))
    rec = tocilizumab(GENERIC, snap)
    assert rec.dose_mg is None
    assert rec.dose_problem.startswith("no body weight recorded in the last 30 days")
    assert "2026-10-21" in rec.dose_problem and "Observation/w-old" in rec.dose_problem
    assert rec.dose_problem.endswith("dose cannot be computed")


def test_weight_exactly_30_days_old_is_still_used():
    snap = snapshot(weight_kg=None, measurements=(weight(70, days=30),))
    assert tocilizumab(GENERIC, snap).dose_mg == 560


def test_future_weight_is_ignored():
    snap = ClinicalSnapshot("p1", measurements=(Measurement("weight", 70, "kg", NOW + timedelta(hours=1), "O/f", "70"),))
    assert body_size(snap, NOW, GENERIC.settings).weight is None


def test_fixed_doses_need_no_weight():
    recs = recommend(assessment(3), snapshot(weight_kg=None), GENERIC, NOW, grading=GRADING)
    [dex] = recs.for_drug("dexamethasone")
    assert dex.dose_mg == 10 and dex.orderable


# -------------------------------------------------------- other dose bases

def test_christie_methylprednisolone_2_mg_per_kg_per_day_divided_12_hourly():
    recs = recommend(assessment(4), snapshot(weight_kg=70), CHRISTIE, NOW, grading=GRADING)
    [mp] = recs.for_drug("methylprednisolone")
    assert (mp.dose_mg, mp.every_hours, mp.per_day_mg, mp.route) == (70, 12, 140, "IV")
    assert mp.dose_calculation == "2 mg/kg/day × 70 kg = 140 mg/day ÷ 2 doses"


def test_bsa_dose_uses_mosteller_with_recent_height():
    assert mosteller_bsa(Decimal(175), Decimal(70)) == Decimal("1.84")
    recs = recommend(assessment(4), snapshot(weight_kg=70, measurements=(height(175),)), CHRISTIE, NOW, grading=GRADING)
    [cy] = recs.for_drug("cyclophosphamide")
    assert cy.dose_mg == 2760 and not cy.recommended
    assert "1500 mg/m² × 1.84 m² (Mosteller: 175 cm, 70 kg)" in cy.text
    assert {e.what for e in cy.evidence} >= {"body weight", "height"}


def test_bsa_dose_without_height_is_not_computed():
    recs = recommend(assessment(4), snapshot(weight_kg=70), CHRISTIE, NOW, grading=GRADING)
    [cy] = recs.for_drug("cyclophosphamide")
    assert cy.dose_mg is None
    assert cy.dose_problem == "no height recorded in the last 365 days — body surface area cannot be computed"


def test_unspecified_dose_names_the_reason():
    rule = action(PAEDIATRIC, 3, "dexamethasone").dose
    result = compute_dose(rule, None, body_size(snapshot(), NOW, PAEDIATRIC.settings))
    assert result.mg is None and "no paediatric corticosteroid dose" in doses.problem(result.problem)


def test_daily_dose_without_interval_is_not_divided_by_guess():
    chop = load_protocol("paediatric-seed004", regimens={"anakinra": "chop"})
    a = action(chop, 3, "anakinra")
    result = compute_dose(a.dose, a.frequency, body_size(snapshot(weight_kg=20), NOW, chop.settings))
    assert result.mg is None and result.per_day_mg == 40
    assert "no dosing interval" in doses.problem(result.problem)


@pytest.mark.parametrize("kg,mg,note", [(20, 50, "not rounded to 100 mg (nearest vial): that would change the dose by 100 %"),
                                        (36, 90, "not rounded to 100 mg (nearest vial): that would change the dose by 11 %"),
                                        (39, 100, ", rounded to 100 mg (nearest vial)"), (40, 100, None),
                                        # 10 kg: 25 mg per dose; nearest vial (0 mg) is a 100 % change, so
                                        # the exact dose stands instead of "dose per prescriber"
                                        (10, 25, "not rounded to 0 mg (nearest vial): that would change the dose by 100 %")])
def test_vial_rounding_only_within_the_protocols_tolerance(kg, mg, note):
    st_jude = load_protocol("paediatric-seed004", regimens={"anakinra": "st-jude"})
    a = action(st_jude, 3, "anakinra")
    result = compute_dose(a.dose, a.frequency, body_size(snapshot(weight_kg=kg), NOW, st_jude.settings))
    assert result.mg == mg
    calculation = doses.calculation(result.calculation)
    assert (note in calculation) if note else ("rounded" not in calculation)


def test_rounding_up_to_whole_vials_where_the_protocol_says():
    option = CHRISTIE.regimens["anakinra"].options["grade-table"]
    result = compute_dose(option.dose, option.frequency, body_size(snapshot(weight_kg=70), NOW, CHRISTIE.settings))
    assert result.mg == 100 and "rounded to 100 mg (whole 100 mg vials)" in doses.calculation(result.calculation)


def test_no_rounding_unless_the_protocol_asks():
    assert tocilizumab(GENERIC, snapshot(weight_kg=71.3)).dose_mg == 570.4


# ------------------------------------------------------------ repeat limits

def toci_doses(*hours):
    return tuple(administration("tocilizumab", h) for h in hours)


def test_three_doses_at_minus16_minus8_and_now_refuse_the_next_until_plus_8h():
    rec = tocilizumab(GENERIC, snapshot(administrations=toci_doses(16, 8, 0)))
    assert rec.blocked and not rec.orderable and not rec.recommended
    assert rec.next_allowed == NOW + timedelta(hours=8)
    assert "next dose allowed at 2026-11-21 20:00 UTC" in rec.text
    assert rec.dose_mg == 560  # what the next dose would be


def test_next_allowed_is_the_later_of_interval_and_window():
    limits = GENERIC.settings.repeat_limits["tocilizumab"]
    # window: the -20 h dose leaves at +4 h; interval: last dose -2 h + 8 h = +6 h
    doses = given_doses(snapshot(administrations=toci_doses(20, 12, 2)), drug="tocilizumab")
    check = check_repeat(doses, limits, NOW, hours_ago(24 * 6))
    assert not check.allowed and check.next_allowed == NOW + timedelta(hours=6)
    # window dominates: doses at -10 h, -9 h, -1 h (interval ignored in this construction)
    doses = given_doses(snapshot(administrations=toci_doses(10, 9, 1)), drug="tocilizumab")
    check = check_repeat(doses, limits, NOW, hours_ago(24 * 6))
    assert check.next_allowed == NOW + timedelta(hours=14)


def test_a_dose_exactly_24h_old_counts_towards_three_in_24h():
    rec = tocilizumab(GENERIC, snapshot(administrations=toci_doses(24, 16, 8)))
    assert rec.blocked and "3 doses in the last 24 h" in rec.blocked


def test_a_dose_just_over_24h_old_no_longer_counts():
    rec = tocilizumab(GENERIC, snapshot(administrations=toci_doses(24 + 1 / 60, 16, 8)))
    assert rec.blocked is None and rec.orderable


def test_minimum_interval_blocks_until_last_plus_interval():
    rec = tocilizumab(GENERIC, snapshot(administrations=toci_doses(5)))
    assert rec.blocked and rec.next_allowed == NOW + timedelta(hours=3)


def test_christie_minimum_interval_is_6h():
    assert tocilizumab(CHRISTIE, snapshot(administrations=toci_doses(7))).blocked is None
    assert tocilizumab(GENERIC, snapshot(administrations=toci_doses(7))).blocked is not None
    rec = tocilizumab(CHRISTIE, snapshot(administrations=toci_doses(5)))
    assert rec.next_allowed == NOW + timedelta(hours=1)


def test_four_doses_since_infusion_refuse_a_fifth_and_propose_the_escalation():
    recs = recommend(assessment(2), snapshot(administrations=toci_doses(60, 44, 36, 28)), GENERIC, NOW, grading=GRADING)
    [toci] = recs.for_drug("tocilizumab")
    assert toci.limit_reached and toci.blocked and not toci.orderable and toci.next_allowed is None
    assert "4 doses given since the index therapy: the maximum is 4 in total" in toci.text
    escalation = [r for r in recs.items if r.escalates == "tocilizumab"]
    assert [(r.drug.key, r.dose_mg, r.every_hours, r.recommended) for r in escalation] == [
        ("dexamethasone", 10, 6, True), ("anakinra", 100, 6, False)]


def test_doses_before_the_index_therapy_do_not_count_towards_the_total():
    before = tuple(administration("tocilizumab", 24 * 10 + h) for h in (0, 8, 16, 24))
    assert tocilizumab(GENERIC, snapshot(administrations=before)).orderable


def test_only_completed_or_in_progress_administrations_count():
    snap = snapshot(administrations=(administration("tocilizumab", 2, status="entered-in-error"),
                                     administration("tocilizumab", 3, status="not-done")))
    assert tocilizumab(GENERIC, snap).orderable
    running = snapshot(administrations=(administration("tocilizumab", 1, status="in-progress"),))
    assert tocilizumab(GENERIC, running).blocked


def test_pending_orders_count_like_given_doses():
    snap = snapshot(administrations=toci_doses(16, 9))
    assert tocilizumab(GENERIC, snap).orderable
    recs = recommend(assessment(2), snap, GENERIC, NOW, grading=GRADING,
                     pending=(PendingDose("tocilizumab", NOW - timedelta(hours=1), "MedicationRequest/draft"),))
    [rec] = recs.for_drug("tocilizumab")
    # 3 in 24 h now: the -16 h dose leaves the window at +8 h (later than the interval, +7 h)
    assert rec.blocked and rec.next_allowed == NOW + timedelta(hours=8)
    assert any(e.source == "MedicationRequest/draft" and value(e).startswith("pending order") for e in rec.evidence)


def test_prior_doses_are_evidence():
    rec = tocilizumab(GENERIC, snapshot(administrations=(administration("tocilizumab", 10, source="MedicationAdministration/t1"),)))
    assert ("tocilizumab", "MedicationAdministration/t1", hours_ago(10)) in {(e.what, e.source, e.time) for e in rec.evidence}
