"""protocols.order_checks as pure functions: other protocols, and the semantics decided there."""
from __future__ import annotations

import ast
import typing
from dataclasses import replace
from datetime import date

from clinical import DraftMedication, DrugClass
from protocols import list_protocols, load_protocol
from protocols.model import Condition, RegimenCheck
from protocols.order_checks import check_orders
from tests.support.clinical_data import GRADING
from tests.support.paths import ROOT
from tests.support.protocol_builders import NOW, administration, assessment, snapshot
from tests.support.protocol_files import edited
from tests.support.protocol_wording import SaidFinding

CLASSES = {"tocilizumab": "anti-il6", "anakinra": "il1-antagonist", "dexamethasone": "corticosteroid",
           "methylprednisolone": "corticosteroid", "sargramostim": "gm-csf"}


def order(drug: str, dose_mg: float | None, *, every_hours: float | None = None, position: int = 0,
          route: str | None = "IV") -> DraftMedication:
    return DraftMedication(reference=f"MedicationRequest/{drug}{position}", position=position, drug=drug,
                           drug_class=CLASSES[drug], display=drug, matched_by="code", status="draft",
                           dose_value=dose_mg, dose_unit="mg", dose_mg=dose_mg, every_hours=every_hours, route=route)


def check(orders, *, grade: int = 2, protocol: str = "astct-generic", weight_kg: float | None = 70,
          given=(), checked=None, **assess):
    return check_orders(orders, assessment=assessment(grade, **assess),
                        snapshot=snapshot(weight_kg=weight_kg, administrations=tuple(given)),
                        protocol=load_protocol(protocol), grading=GRADING, now=NOW, checked=checked)


def test_christie_allows_tocilizumab_6_hours_after_the_last_dose() -> None:
    given = [administration("tocilizumab", 6, dose_mg=560)]
    assert check([order("tocilizumab", 560)], protocol="christie-doc644-v8", given=given) == []
    [refused] = check([order("tocilizumab", 560)], protocol="christie-doc644-v8",
                      given=[administration("tocilizumab", 5, dose_mg=560)])
    assert refused.kind == "tocilizumab-limit" and refused.next_allowed.hour == 13  # 07:00 + 6 h


def test_paediatric_tocilizumab_uses_12_mg_per_kg_below_30_kg() -> None:
    [finding] = check([order("tocilizumab", 160)], protocol="paediatric-seed004", weight_kg=20)
    assert finding.kind == "tocilizumab-dose" and finding.dose_mg == 240  # 12 mg/kg × 20 kg
    assert check([order("tocilizumab", 240)], protocol="paediatric-seed004", weight_kg=20) == []


def test_paediatric_anakinra_per_kg_without_weight_cannot_be_checked() -> None:
    [finding] = check([order("anakinra", 40, every_hours=6)], protocol="paediatric-seed004", weight_kg=None, grade=3)
    assert finding.kind == "no-weight"


def test_paediatric_anakinra_above_100_mg_per_dose_is_corrected() -> None:
    [finding] = check([order("anakinra", 150, every_hours=6)], protocol="paediatric-seed004", weight_kg=70, grade=3)
    assert finding.kind == "anakinra-dose" and finding.dose_mg == 100


def test_not_eligible_patients_are_not_checked() -> None:
    assert check([order("tocilizumab", 900), order("sargramostim", 0.25)], status="not-eligible", index=None) == []


def test_steroid_without_a_protocol_regimen_at_the_grade_gives_no_opinion() -> None:
    assert check([order("dexamethasone", 10, every_hours=6)], grade=1) == []  # e.g. for ICANS


def test_methylprednisolone_at_grade_4_is_compared_with_500_mg_every_12_h() -> None:
    [finding] = check([order("methylprednisolone", 1000, every_hours=24)], grade=4)
    assert finding.kind == "steroid-regimen" and (finding.dose_mg, finding.every_hours) == (500, 12)
    assert any("antifungal" in r.text for r in finding.reminders)
    assert check([order("methylprednisolone", 500, every_hours=12)], grade=4) == []


def test_a_refused_dose_gets_only_the_limit_finding() -> None:
    given = [administration("tocilizumab", 2, dose_mg=560)]
    assert [f.kind for f in check([order("tocilizumab", 900)], given=given)] == ["tocilizumab-limit"]


def test_unchecked_drafts_count_but_get_no_finding() -> None:
    orders = [order("tocilizumab", 900, position=0), order("tocilizumab", 560, position=1)]
    [finding] = check(orders, checked={"MedicationRequest/tocilizumab1"})
    assert finding.order.position == 1 and finding.kind == "tocilizumab-limit"


def test_findings_carry_grade_and_protocol() -> None:
    [finding] = check([order("tocilizumab", 900)], grade=3)
    assert (finding.grade, finding.protocol_id) == (3, "astct-generic")
    assert date(2026, 11, 20) == finding.evidence[0].time.date()  # the weight used, with its time


# ------------------------------------------------------------- checks declared in data

def test_a_check_added_in_the_protocol_file_takes_effect(tmp_path) -> None:
    """Checking another drug is a data change: a copy of the generic protocol that adds a maximum-dose
    check for methylprednisolone (before the steroid regimen check) reports it with its own card kind."""
    order_ = [order("methylprednisolone", 1000, every_hours=12)]
    [shipped] = check(order_, grade=4)
    assert shipped.kind == "steroid-regimen"
    path = edited(tmp_path, "  - drugClass: corticosteroid\n    check: regimen-for-grade",
                  "  - drug: methylprednisolone\n    check: maximum-dose\n    finding: methylprednisolone-dose\n"
                  "  - drugClass: corticosteroid\n    check: regimen-for-grade")
    [finding] = [SaidFinding(f) for f in check(order_, grade=4, protocol=str(path))]
    assert (finding.kind, finding.action, finding.dose_mg, finding.indicator) == (
        "methylprednisolone-dose", "update", 500, "warning")
    assert finding.summary == ("Methylprednisolone 1000 mg every 12 h (2000 mg/day) exceeds the 1000 mg/day maximum: "
                               "change to 500 mg every 12 h")
    assert finding.reasons == ("1000 mg every 12 h is above the 1000 mg/day maximum",)
    assert finding.calculation == "1000 mg/day ÷ 2 doses"
    # the first check that finds a problem decides; one that finds none lets the next run
    assert [f.kind for f in check([order("methylprednisolone", 500, every_hours=24)], grade=4,
                                  protocol=str(path))] == ["steroid-regimen"]


def test_which_drug_is_checked_how_is_data_not_code() -> None:
    """No drug key or drug class is written in the order-check engine: the protocol files name them."""
    tree = ast.parse((ROOT / "protocols" / "order_checks.py").read_text(encoding="utf-8"))
    names = set(typing.get_args(DrugClass)) | {d for s in list_protocols() for d in load_protocol(s.id).drugs}
    written = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert not {s for s in written if s in names}


def test_a_steroid_ordered_for_icans_is_checked_against_the_icans_regimen_too() -> None:
    # CRS grade 2 with hypotension persisting after tocilizumab: dexamethasone 10 mg every 12 h; ICANS grade 3:
    # dexamethasone 10 mg IV every 6 h. A 6-hourly order is the ICANS regimen, not "off the CRS regimen".
    crs2 = {"grade": 2, "hypotension_grade": 2, "given": [administration("tocilizumab", 10, dose_mg=560)]}
    [finding] = check([order("dexamethasone", 10, every_hours=6)], **crs2)
    assert finding.kind == "steroid-regimen" and (finding.dose_mg, finding.every_hours) == (10, 12)
    assert check([order("dexamethasone", 10, every_hours=6)], icans_grade=3, **crs2) == []
    [finding] = check([order("dexamethasone", 40, every_hours=6)], icans_grade=3, **crs2)
    assert finding.kind == "steroid-regimen"


def test_regimen_reminders_are_those_whose_conditions_hold_with_the_drafted_steroid_planned() -> None:
    christie = load_protocol("christie-doc644-v8")
    car_t = assessment(3)
    [finding] = check_orders([order("dexamethasone", 10, every_hours=12)], assessment=car_t,
                             snapshot=snapshot(weight_kg=70), protocol=christie, grading=GRADING, now=NOW)
    assert [r.id for r in finding.reminders] == ["antifungal-prophylaxis", "steroids-and-car-t-efficacy"]
    # the same rules with the caution limited to a T-cell engager: not repeated for this CAR-T patient
    edited_rules = tuple(replace(w, when=(Condition("index_class", "t-cell-engager"),))
                         if w.id == "steroids-and-car-t-efficacy" else w for w in christie.warnings)
    checks = tuple(replace(c, reminders=tuple(next(w for w in edited_rules if w.id == r.id) for r in c.reminders))
                   if isinstance(c, RegimenCheck) else c for c in christie.order_checks)
    [finding] = check_orders([order("dexamethasone", 10, every_hours=12)], assessment=car_t,
                             snapshot=snapshot(weight_kg=70), protocol=replace(christie, order_checks=checks),
                             grading=GRADING, now=NOW)
    assert [r.id for r in finding.reminders] == ["antifungal-prophylaxis"]
