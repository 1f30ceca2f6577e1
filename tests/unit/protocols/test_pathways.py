"""The bispecific pathway: protocol data gives CRS after a T-cell engager its own section. The Christie
protocol implements DOC644 6.4 for blinatumomab: pause the infusion (stated first, naming the running
administration), dexamethasone 10-20 mg IV, tocilizumab as for CAR-T only when steroids fail, restart at a
reduced dose after grade 3, discontinue permanently at grade 4. The generic protocol keeps today's behaviour."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from protocols import load_protocol
from protocols import recommend as recommend_typed
from protocols.conditions import Facts, evaluate
from protocols.model import Condition
from tests.support.clinical_data import GRADING
from tests.support.protocol_builders import INDEX_THERAPY, NOW, administration, assessment, snapshot
from tests.support.protocol_files import edited
from tests.support.protocol_wording import said

CHRISTIE = load_protocol("christie-doc644-v8")
GENERIC = load_protocol("astct-generic")
CHRISTIE_FILE = Path(CHRISTIE.path or "")
BLINATUMOMAB = administration("blinatumomab", 24 * 3, status="in-progress", source="MedicationAdministration/blin-1")


def recommend(grade: int, *, protocol=CHRISTIE, index=BLINATUMOMAB, given=(), onset_hours: float = 10):
    a = assessment(grade, index=index, onset_hours=onset_hours)
    return said(recommend_typed(a, snapshot(administrations=tuple(given), index=index), protocol, NOW,
                                grading=GRADING))


def ids(recs) -> list[str]:
    return [r.action_id for r in recs.items]


def test_christie_blinatumomab_grade_2_pause_first_naming_the_running_infusion() -> None:
    recs = recommend(2)
    assert recs.pathway == "t-cell-engager"
    [pause] = [r for r in recs.items if r.action_id == "pause-infusion"]
    assert pause.first and pause.text == "Pause the blinatumomab infusion"
    assert pause.rationale == ("blinatumomab running now (since 2026-11-18 12:00 UTC, MedicationAdministration/blin-1)",)
    assert [e.source for e in pause.evidence] == ["MedicationAdministration/blin-1"]
    assert pause.source.section == "§6.4 Additional treatment - blinatumomab"


def test_christie_blinatumomab_dexamethasone_10mg_iv_suggested_with_20mg_as_the_alternative() -> None:
    recs = recommend(2)
    dex = {r.action_id: (r.dose_mg, r.route, r.once, r.recommended, r.alternative_group)
           for r in recs.for_drug("dexamethasone")}
    assert dex == {"blinatumomab-dexamethasone": (10, "IV", True, True, "blinatumomab-steroid"),
                   "blinatumomab-dexamethasone-20": (20, "IV", True, False, "blinatumomab-steroid")}


def test_christie_blinatumomab_tocilizumab_only_when_steroids_fail() -> None:
    assert recommend(2).for_drug("tocilizumab") == ()
    before_onset = administration("dexamethasone", 48)  # premedication before CRS onset does not count
    assert recommend(2, given=(before_onset,)).for_drug("tocilizumab") == ()
    [toci] = recommend(2, given=(administration("dexamethasone", 4),)).for_drug("tocilizumab")
    assert (toci.dose_mg, toci.route, toci.recommended) == (560, "IV", True)
    assert "1 corticosteroid dose since onset (needs ≥ 1)" in toci.rationale


def test_christie_blinatumomab_grade_1_is_supportive_only() -> None:
    recs = recommend(1)
    assert ids(recs) == ["supportive-therapy", "infection-workup", "blinatumomab-grade-1"]
    assert recs.medications == ()


def test_christie_blinatumomab_grade_3_restart_at_a_reduced_dose_once_resolved() -> None:
    recs = recommend(3)
    assert "restart-reduced-dose" in ids(recs) and ids(recs)[2] == "pause-infusion"
    assert "discontinue-permanently" not in ids(recs)


def test_christie_blinatumomab_grade_4_discontinue_permanently_stated_first() -> None:
    recs = recommend(4)
    first = [r.action_id for r in recs.items if getattr(r, "first", False)]
    assert first == ["pause-infusion", "discontinue-permanently"]
    [stop] = [r for r in recs.items if r.action_id == "discontinue-permanently"]
    assert stop.text == "Discontinue blinatumomab permanently (grade 4 CRS, as per the drug's SPC)"
    assert "restart-reduced-dose" not in ids(recs)


def test_no_pause_when_the_infusion_is_not_running() -> None:
    stopped = administration("blinatumomab", 24 * 3, source="MedicationAdministration/blin-done")
    recs = recommend(3, index=stopped)
    assert recs.pathway == "t-cell-engager" and "pause-infusion" not in ids(recs)


def test_christie_car_t_patients_keep_the_car_t_grades() -> None:
    recs = recommend(3, index=INDEX_THERAPY)
    assert recs.pathway is None
    assert [(r.dose_mg, r.every_hours) for r in recs.for_drug("dexamethasone")] == [(9.9, 6), (19.8, 6)]


def test_christie_other_t_cell_engagers_keep_the_car_t_grades_unless_the_site_adds_them(tmp_path: Path) -> None:
    teclistamab = administration("teclistamab", 24 * 2)
    assert recommend(2, index=teclistamab).pathway is None
    site = load_protocol(edited(tmp_path, "    drugs: [blinatumomab]\n", "    drugs: [blinatumomab, teclistamab]\n",
                                source=CHRISTIE_FILE))
    assert recommend(2, index=teclistamab, protocol=site).pathway == "t-cell-engager"


def test_the_generic_protocol_keeps_todays_behaviour_for_blinatumomab() -> None:
    blin = recommend(3, protocol=GENERIC)
    cart = recommend(3, protocol=GENERIC, index=INDEX_THERAPY)
    assert blin.pathway is None
    assert [r.action_id for r in blin.items] == [r.action_id for r in cart.items]



def test_christies_car_t_steroid_caution_is_not_given_after_blinatumomab() -> None:
    """DOC644 §6.3 (CAR-T): steroids "reserved for patients not responding to IL-6 antagonists". After
    blinatumomab (§6.4) dexamethasone comes first, so that caution would contradict the card's own order."""
    car_t = [w.warning_id for w in recommend(3, index=INDEX_THERAPY).warnings]
    blinatumomab = [w.warning_id for w in recommend(3).warnings]
    assert "steroids-and-car-t-efficacy" in car_t
    assert "steroids-and-car-t-efficacy" not in blinatumomab and "antifungal-prophylaxis" in blinatumomab


def test_an_unknown_index_class_leaves_the_rule_unknown_never_silently_false() -> None:
    """No index therapy class known: a rule limited to CAR-T is "not assessed" (said as a note), not "no"."""
    a = replace(assessment(3), index_therapy=None, latest_index_therapy=None)
    outcome = evaluate(Condition("index_class", "car-t"), Facts(a, snapshot(), NOW, GRADING, CHRISTIE.settings))
    assert not outcome.holds and outcome.unknown
    assert [r.index_class for r in outcome.reasons] == [None]
