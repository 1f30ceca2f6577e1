"""recommend(): which protocol actions apply, alternatives, warnings and protocol selection."""
from __future__ import annotations

from datetime import timedelta

import pytest

from clinical import Evidence
from protocols import ProtocolRegistry, list_protocols, load_protocol
from protocols import recommend as recommend_typed
from protocols.loader import DEFAULT_PROTOCOL_ID, PAEDIATRIC_PROTOCOL_ID
from tests.support.clinical_data import GRADING
from tests.support.protocol_builders import NOW, administration, anc, assessment, snapshot, temperature
from tests.support.protocol_wording import SaidRecommendations, said

GENERIC = load_protocol("astct-generic")
CHRISTIE = load_protocol("christie-doc644-v8")
PAEDIATRIC = load_protocol("paediatric-seed004")


def recommend(*args, **kw) -> SaidRecommendations:
    """Recommendations with their items, warnings and notes in the card's words."""
    return said(recommend_typed(*args, **kw))


def one(recs, drug):
    [rec] = recs.for_drug(drug)
    return rec


def toci_doses(*hours):
    return tuple(administration("tocilizumab", h) for h in hours)


def regimen(rec):
    return rec.dose_mg, rec.route, rec.every_hours, rec.once


# ----------------------------------------------------------------- generic

def test_generic_grade3_dexamethasone_10mg_iv_every_6h_icu_and_echo():
    recs = recommend(assessment(3), snapshot(), GENERIC, NOW, grading=GRADING)
    dex = one(recs, "dexamethasone")
    assert regimen(dex) == (10, "IV", 6, False) and dex.recommended and dex.drug.rxnorm == "3264"
    assert dex.text == "Dexamethasone 10 mg IV every 6 h (total 40 mg/day)"
    services = {s.action_id: s for s in recs.services}
    assert services["icu-transfer"].codes[0].code == "305351004" and services["icu-transfer"].priority == "urgent"
    assert services["echocardiogram"].codes[0].code == "40701008"
    assert one(recs, "tocilizumab").recommended


def test_generic_grade2_persistent_hypotension_after_two_tocilizumab_doses_adds_dexamethasone_12_hourly():
    recs = recommend(assessment(2, hypotension_grade=2), snapshot(administrations=toci_doses(20, 10)), GENERIC, NOW, grading=GRADING)
    dex = one(recs, "dexamethasone")
    assert regimen(dex) == (10, "IV", 12, False) and dex.recommended
    assert "2 tocilizumab doses since the index therapy (needs ≥ 1)" in dex.rationale
    assert "hypotension present now (hypotension grade 2)" in dex.rationale


@pytest.mark.parametrize("hypotension,doses", [(0, (20, 10)), (2, ())])
def test_generic_grade2_no_dexamethasone_without_persistent_hypotension_after_tocilizumab(hypotension, doses):
    recs = recommend(assessment(2, hypotension_grade=hypotension), snapshot(administrations=toci_doses(*doses)),
                     GENERIC, NOW, grading=GRADING)
    assert recs.for_drug("dexamethasone") == () and recs.for_drug("anakinra") == ()


def test_generic_grade4_methylprednisolone_500mg_iv_every_12h():
    recs = recommend(assessment(4), snapshot(), GENERIC, NOW, grading=GRADING)
    mp = one(recs, "methylprednisolone")
    assert regimen(mp) == (500, "IV", 12, False) and mp.per_day_mg == 1000 and mp.recommended
    assert mp.text == "Methylprednisolone 500 mg IV every 12 h (total 1000 mg/day), for 3 days, then taper"
    assert recs.for_drug("dexamethasone") == ()


def test_generic_anakinra_100mg_iv_every_6h_is_the_unrecommended_alternative():
    recs = recommend(assessment(4), snapshot(), GENERIC, NOW, grading=GRADING)
    ana = one(recs, "anakinra")
    assert regimen(ana) == (100, "IV", 6, False) and ana.per_day_mg == 400 and not ana.recommended
    assert ana.alternative_group == "steroid-or-anakinra" and ana.drug.rxnorm == "72435"


@pytest.mark.parametrize("grade,kw,doses", [(2, {"hypotension_grade": 2}, (20, 10)), (3, {}, ()), (4, {}, ()),
                                            (2, {}, (60, 44, 36, 28))])
def test_generic_steroid_or_anakinra_exactly_one_recommended(grade, kw, doses):
    recs = recommend(assessment(grade, **kw), snapshot(administrations=toci_doses(*doses)), GENERIC, NOW, grading=GRADING)
    group = recs.alternatives("steroid-or-anakinra")
    assert len(group) == 2 and {r.drug.drug_class for r in group} == {"corticosteroid", "il1-antagonist"}
    assert sum(r.recommended for r in group) == 1
    assert [r.drug.key for r in group if r.recommended] in (["dexamethasone"], ["methylprednisolone"])


def test_generic_grade1_tocilizumab_not_offered_before_24h_of_fever_but_says_when():
    # Issue 11: an order whose own condition ("if fever > 24 h") does not hold yet is not a suggestion; the
    # card says when it would apply. It was an unrecommended one-click option before.
    snap = snapshot(temperatures=(temperature(38.6, 10), temperature(38.9, 2)))
    rec = one(recommend(assessment(1, onset_hours=10), snap, GENERIC, NOW, grading=GRADING), "tocilizumab")
    assert not rec.recommended and not rec.orderable and rec.dose_mg == 560
    assert rec.awaiting == ("if fever lasts > 24 h (fever for 8 h since onset at 2026-11-21 02:00 UTC)",)


def test_generic_grade1_tocilizumab_recommended_after_more_than_24h_of_fever():
    snap = snapshot(temperatures=(temperature(38.6, 30), temperature(38.4, 3)))
    rec = one(recommend(assessment(1, onset_hours=30), snap, GENERIC, NOW, grading=GRADING), "tocilizumab")
    assert rec.recommended
    assert {e.source for e in rec.evidence if e.role == "fever"} == {t.source for t in snap.temperatures}


def test_generic_grade1_supportive_care_only_otherwise():
    recs = recommend(assessment(1), snapshot(), GENERIC, NOW, grading=GRADING)
    assert [r.action_id for r in recs.items if r.kind == "advice"] == ["supportive-care"]
    assert [r.drug.key for r in recs.medications] == ["tocilizumab"]


def test_generic_escalation_replaces_the_grade_option_for_the_same_drug():
    recs = recommend(assessment(2, hypotension_grade=2), snapshot(administrations=toci_doses(60, 44, 36, 28)),
                     GENERIC, NOW, grading=GRADING)
    dex = one(recs, "dexamethasone")
    assert (dex.every_hours, dex.escalates) == (6, "tocilizumab")


def test_infection_workup_only_when_febrile():
    def ids(recs):
        return {r.action_id for r in recs.services}
    assert "infection-workup" in ids(recommend(assessment(2), snapshot(), GENERIC, NOW, grading=GRADING))
    assert "infection-workup" not in ids(recommend(assessment(2, fever=False, masked=True), snapshot(), GENERIC, NOW, grading=GRADING))


def test_no_crs_no_actions():
    for a in (assessment(0), assessment(2, status="not-graded"), assessment(None, status="not-eligible")):
        recs = recommend(a, snapshot(), GENERIC, NOW, grading=GRADING)
        assert recs.items == () and recs.warnings == () and "proposes no treatment" in recs.notes[0]


def test_lower_bound_grade_is_said():
    recs = recommend(assessment(2, lower_bound=True), snapshot(), GENERIC, NOW, grading=GRADING)
    assert recs.lower_bound and "lower bound" in recs.notes[0]


# ---------------------------------------------------------------- Christie

def test_christie_grade3_dexamethasone_9_9mg_every_6h_with_19_8mg_if_refractory():
    recs = recommend(assessment(3), snapshot(), CHRISTIE, NOW, grading=GRADING)
    standard, refractory = recs.for_drug("dexamethasone")
    assert regimen(standard) == (9.9, "IV", 6, False) and standard.recommended
    assert regimen(refractory) == (19.8, "IV", 6, False) and not refractory.recommended
    assert standard.alternative_group == refractory.alternative_group == "corticosteroid"
    assert standard.source.document == "002_3ba164531ae4c869.txt"


def test_christie_anakinra_200mg_sc_daily_after_two_tocilizumab_doses():
    assert recommend(assessment(2), snapshot(administrations=toci_doses(10)), CHRISTIE, NOW, grading=GRADING).for_drug("anakinra") == ()
    recs = recommend(assessment(2), snapshot(administrations=toci_doses(16, 8)), CHRISTIE, NOW, grading=GRADING)
    ana = one(recs, "anakinra")
    assert regimen(ana) == (200, "SC", 24, False) and ana.route == "SC"
    assert ana.text.startswith("Anakinra 200 mg SC once daily, until 24 h after resolution of CRS")
    assert ana.source.section == "§7.2 Anakinra (Kineret)"
    assert ana.regimen == "DOC644 section 7.2 (second line, 200 mg SC daily)"


def test_christie_records_the_grade_table_anakinra_regimen_as_an_alternative():
    choice = CHRISTIE.regimens["anakinra"]
    assert choice.selected == "section-7-2" and set(choice.options) == {"section-7-2", "grade-table"}
    table = load_protocol("christie-doc644-v8", regimens={"anakinra": "grade-table"})
    ana = one(recommend(assessment(2), snapshot(administrations=toci_doses(16, 8)), table, NOW, grading=GRADING), "anakinra")
    assert (ana.dose_mg, ana.route) == (100, "SC")


def test_christie_after_four_doses_anakinra_is_recommended():
    recs = recommend(assessment(2), snapshot(administrations=toci_doses(60, 44, 36, 28)), CHRISTIE, NOW, grading=GRADING)
    ana = one(recs, "anakinra")
    assert ana.recommended and ana.escalates == "tocilizumab"


def test_christie_grade1_tocilizumab_only_when_fever_persists_3_days():
    short = snapshot(temperatures=(temperature(38.5, 48), temperature(38.5, 1)))
    assert recommend(assessment(1, onset_hours=48), short, CHRISTIE, NOW, grading=GRADING).for_drug("tocilizumab") == ()
    long = snapshot(temperatures=(temperature(38.5, 73), temperature(38.5, 1)))
    rec = one(recommend(assessment(1, onset_hours=73), long, CHRISTIE, NOW, grading=GRADING), "tocilizumab")
    assert rec.recommended and rec.dose_mg == 560


def test_christie_grade2_dexamethasone_after_two_tocilizumab_doses_with_hypotension():
    recs = recommend(assessment(2, hypotension_grade=2), snapshot(administrations=toci_doses(16, 8)), CHRISTIE, NOW, grading=GRADING)
    dex = one(recs, "dexamethasone")
    assert (dex.dose_mg, dex.route, dex.once) == (10, "IV", True)


def test_christie_siltuximab_only_before_any_tocilizumab():
    assert one(recommend(assessment(2), snapshot(), CHRISTIE, NOW, grading=GRADING), "siltuximab").dose_mg == 770
    assert recommend(assessment(2), snapshot(administrations=toci_doses(10)), CHRISTIE, NOW, grading=GRADING).for_drug("siltuximab") == ()


def test_christie_grade3_tocilizumab_recommended_only_if_not_given_before():
    assert one(recommend(assessment(3), snapshot(), CHRISTIE, NOW, grading=GRADING), "tocilizumab").recommended
    again = one(recommend(assessment(3), snapshot(administrations=toci_doses(10)), CHRISTIE, NOW, grading=GRADING), "tocilizumab")
    # DOC644 §6.3 grade 3: "as per grade 2 if not administered previously" - after a dose it is not offered
    # (issue 11: only what applies now is a suggestion); the card says why.
    assert not again.recommended and not again.orderable
    assert again.awaiting == ("only if no tocilizumab was given before (1 given)",)


def test_christie_grade4_methylprednisolone_is_the_recommended_steroid():
    recs = recommend(assessment(4), snapshot(), CHRISTIE, NOW, grading=GRADING)
    group = recs.alternatives("corticosteroid")
    assert [(r.drug.key, r.recommended) for r in group] == [("methylprednisolone", True), ("dexamethasone", False)]


# -------------------------------------------------------------- paediatric

def paediatric_anakinra(kg, protocol=PAEDIATRIC):
    given = toci_doses(30) + (administration("dexamethasone", 20),)
    return one(recommend(assessment(3), snapshot(weight_kg=kg, administrations=given), protocol, NOW, grading=GRADING), "anakinra")


def test_paediatric_childrens_national_anakinra_2mg_per_kg_iv_every_6h():
    ana = paediatric_anakinra(20)
    assert regimen(ana) == (40, "IV", 6, False) and ana.per_day_mg == 160
    assert ana.regimen == "Children's National Hospital (Washington, DC)"
    assert any(s.document == "004_9e07d6bcd0a2eec7.txt" and "Children's National" in s.section for s in ana.sources)


def test_paediatric_anakinra_capped_at_100mg_per_dose():
    ana = paediatric_anakinra(60)
    assert ana.dose_mg == 100 and ana.per_day_mg == 400
    assert "2 mg/kg × 60 kg = 120 mg, capped at 100 mg per dose" in ana.text


def test_paediatric_anakinra_is_third_line_after_tocilizumab_and_steroids():
    recs = recommend(assessment(3), snapshot(weight_kg=20, administrations=toci_doses(30)), PAEDIATRIC, NOW, grading=GRADING)
    assert recs.for_drug("anakinra") == ()


def test_paediatric_institution_is_selectable():
    musc = load_protocol("paediatric-seed004", regimens={"anakinra": "musc"})
    ana = paediatric_anakinra(20, musc)
    assert regimen(ana) == (80, "SC", 12, False)


def test_paediatric_steroid_is_named_without_an_adult_dose():
    recs = recommend(assessment(3), snapshot(weight_kg=20), PAEDIATRIC, NOW, grading=GRADING)
    dex = one(recs, "dexamethasone")
    assert dex.dose_mg is None and not dex.orderable and "no paediatric corticosteroid dose" in dex.dose_problem


# ---------------------------------------------------------------- warnings

def warning_ids(recs):
    return {w.warning_id for w in recs.warnings}


def test_gm_csf_and_icans_warnings_for_every_crs_patient():
    for protocol in (GENERIC, CHRISTIE, PAEDIATRIC):
        for grade in (1, 2, 3, 4):
            assert {"no-gm-csf", "watch-for-icans"} <= warning_ids(recommend(assessment(grade), snapshot(), protocol, NOW, grading=GRADING))


def test_antifungal_prophylaxis_when_a_steroid_is_suggested_or_running():
    assert "antifungal-prophylaxis" not in warning_ids(recommend(assessment(2), snapshot(), GENERIC, NOW, grading=GRADING))
    assert "antifungal-prophylaxis" in warning_ids(recommend(assessment(3), snapshot(), GENERIC, NOW, grading=GRADING))
    running = snapshot(administrations=(administration("dexamethasone", 5),))
    recs = recommend(assessment(2), running, GENERIC, NOW, grading=GRADING)
    [w] = [w for w in recs.warnings if w.warning_id == "antifungal-prophylaxis"]
    assert any(e.what == "dexamethasone" for e in w.evidence)


def test_antibiotics_warning_when_latest_anc_below_0_5_with_its_reference():
    recs = recommend(assessment(2), snapshot(measurements=(anc(0.3, source="Observation/anc-1"),)), GENERIC, NOW, grading=GRADING)
    [w] = [w for w in recs.warnings if w.warning_id == "neutropenic-antibiotics"]
    assert [e.source for e in w.evidence] == ["Observation/anc-1"]
    assert "latest ANC 0.3" in w.rationale[0]


def test_no_antibiotics_warning_when_latest_anc_recovered():
    snap = snapshot(measurements=(anc(0.2, hours=30, source="Observation/old"), anc(0.8, hours=2)))
    assert "neutropenic-antibiotics" not in warning_ids(recommend(assessment(2), snap, GENERIC, NOW, grading=GRADING))


def test_missing_anc_is_a_note_not_silence():
    recs = recommend(assessment(2), snapshot(), GENERIC, NOW, grading=GRADING)
    assert any(n == "Neutropenia not assessed: no neutrophil count in 48 h." for n in recs.notes)


@pytest.mark.parametrize("masked,given", [(True, ()), (False, ("acetaminophen",)), (False, ("tocilizumab",))])
def test_masked_fever_warning(masked, given):
    snap = snapshot(administrations=tuple(administration(d, 6) for d in given))
    assert "fever-may-be-masked" in warning_ids(recommend(assessment(2, masked=masked), snap, GENERIC, NOW, grading=GRADING))


def test_no_masked_fever_warning_without_masking_therapy():
    assert "fever-may-be-masked" not in warning_ids(recommend(assessment(2), snapshot(), GENERIC, NOW, grading=GRADING))


# ---------------------------------------------------------- sources, select

@pytest.mark.parametrize("summary", list_protocols(), ids=lambda s: s.id)
def test_every_recommendation_carries_a_source_citation(summary):
    protocol = load_protocol(summary.id)
    scenarios = [(g, snapshot(weight_kg=kg, administrations=doses, measurements=(anc(0.2),),
                              temperatures=(temperature(39, 80), temperature(39, 1))))
                 for g in (1, 2, 3, 4) for kg in (20, 70)
                 for doses in ((), toci_doses(16, 8), toci_doses(60, 44, 36, 28) + (administration("dexamethasone", 3),))]
    for grade, snap in scenarios:
        recs = recommend(assessment(grade, hypotension_grade=2, onset_hours=80), snap, protocol, NOW, grading=GRADING)
        assert recs.items and recs.warnings
        for rec in recs.items + recs.warnings:
            assert rec.sources, rec
            for source in rec.sources:
                assert source.document and source.section and source.title, rec
                assert source.document in {s.document for s in protocol.sources}


def test_evidence_names_the_weight_observation_used():
    rec = one(recommend(assessment(2), snapshot(), GENERIC, NOW, grading=GRADING), "tocilizumab")
    assert [(e.what, e.source) for e in rec.evidence] == [("body weight", "Observation/weight")]


@pytest.mark.parametrize("age,expected", [(10, PAEDIATRIC_PROTOCOL_ID), (17.9, PAEDIATRIC_PROTOCOL_ID),
                                          (18, DEFAULT_PROTOCOL_ID), (None, DEFAULT_PROTOCOL_ID)])
def test_select_protocol_children_get_the_paediatric_protocol(age, expected):
    registry = ProtocolRegistry(GENERIC, PAEDIATRIC, adult_age_years=18)
    assert registry.for_age(age).id == expected


def test_select_protocol_without_a_paediatric_protocol_keeps_the_configured_one():
    assert ProtocolRegistry.load("christie-doc644-v8", None, adult_age_years=18).for_age(8).id == "christie-doc644-v8"


def test_recommendations_are_immutable():
    recs = recommend_typed(assessment(2), snapshot(), GENERIC, NOW, grading=GRADING)
    with pytest.raises(AttributeError):
        recs.items[0].recommended = False  # type: ignore[misc]
    assert isinstance(recs.items[0].evidence, tuple)
    assert all(isinstance(e, Evidence) for r in recs.items for e in r.evidence)


def test_pending_steroid_order_counts_for_class_conditions():
    from protocols import PendingDose
    snap = snapshot(weight_kg=20, administrations=toci_doses(30))
    pending = (PendingDose("dexamethasone", NOW, "MedicationRequest/dex-draft"),)
    ana = one(recommend(assessment(3), snap, PAEDIATRIC, NOW, grading=GRADING, pending=pending), "anakinra")
    assert ana.dose_mg == 40
    assert "1 corticosteroid dose since the index therapy (needs ≥ 1)" in ana.rationale


def test_no_masked_fever_warning_for_paracetamol_premedication_before_crs_onset():
    # Paracetamol premedication at the CAR-T infusion (6 days ago), CRS onset 10 h ago: masking
    # applies only to therapy given after onset (ASTCT; clinical-reference.md §1).
    snap = snapshot(administrations=(administration("acetaminophen", 24 * 6 - 1),))
    assert "fever-may-be-masked" not in warning_ids(recommend(assessment(2), snap, GENERIC, NOW, grading=GRADING))
    later = snapshot(administrations=(administration("acetaminophen", 24 * 6 - 1), administration("acetaminophen", 4)))
    assert "fever-may-be-masked" in warning_ids(recommend(assessment(2), later, GENERIC, NOW, grading=GRADING))


def test_christie_siltuximab_not_offered_again_within_3_weeks():
    # DOC644 6.3 grade 2: siltuximab 11 mg/kg single dose - "cannot repeat in < 3 weeks".
    recs = recommend(assessment(2), snapshot(administrations=(administration("siltuximab", 48),)), CHRISTIE, NOW, grading=GRADING)
    silt = one(recs, "siltuximab")
    assert silt.blocked and not silt.recommended
    assert silt.next_allowed == NOW - timedelta(hours=48) + timedelta(weeks=3)
    fresh = one(recommend(assessment(2), snapshot(), CHRISTIE, NOW, grading=GRADING), "siltuximab")
    assert fresh.blocked is None and fresh.dose_mg == 770
    assert "not to be repeated within 21 days" in fresh.text


def test_stale_normal_anc_is_not_read_as_not_neutropenic():
    # The latest ANC (2.1) is from before lymphodepletion, 5 days ago: neutropenia now is unknown,
    # so the card says the antibiotics reminder could not be evaluated instead of dropping it silently.
    recs = recommend(assessment(2), snapshot(measurements=(anc(2.1, hours=24 * 5, source="Observation/anc-old"),)),
                     GENERIC, NOW, grading=GRADING)
    assert "neutropenic-antibiotics" not in warning_ids(recs)
    assert any(n.startswith("Neutropenia not assessed: the last neutrophil count (2.1 × 10⁹/L")
               and "Observation/anc-old" in n and "is older than 48 h" in n for n in recs.notes)
