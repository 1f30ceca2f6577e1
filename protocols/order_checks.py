"""Checks of draft medication orders against the active protocol (order-select / order-sign).

Pure clinical logic: the orders (``DraftMedication``), the snapshot, the
assessment, the protocol and ``now`` in; ``OrderFinding``s out, each saying
what is wrong, what the protocol would order instead, and the evidence.
An order that passes every check yields nothing: silence means "consistent
with the protocol", so a card is always worth reading.

Decisions (clinical-reference.md §3 leaves them to the product):

- Only patients the assessment finds eligible (an index therapy in the
  window) are checked: tocilizumab or steroids for other indications
  (rheumatology, ICANS-free oncology) must not be judged by a CRS protocol.
- Orders being signed count towards repeat limits: an order is checked with
  every other order of the same drug that is not checked in this call, plus
  the checked ones before it, as ``PendingDose``s at ``now``. So two
  tocilizumab orders signed together: the second is refused (8-h interval).
- Which checks apply to which drug or drug class is protocol data
  (``orderChecks``): adding a drug to a check is a data change. For one order
  the matching checks run in file order and the first that finds a problem
  decides, so a tocilizumab order refused by a repeat limit gets only the
  limit finding (delete); correcting the dose of an order that must not be
  given is noise.
- A dose within the check's tolerance (10 % in the shipped protocols) of the
  protocol dose passes (vial sizes, local rounding), unless it is above the
  per-dose maximum.
- Steroids are compared with the protocol's regimen(s) of the same drug at
  the current CRS grade and, from its ICANS section, at the current ICANS
  grade (a dexamethasone order for ICANS is not "off the CRS regimen"); no
  regimen of that steroid at either grade means no opinion, not a warning.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Context, Decimal
from typing import Literal

from clinical import Assessment, ClinicalSnapshot, DraftMedication, Evidence, unique_evidence
from grading import GradingConfig

from .calculation import DailyCapDivided, DoseCalculation, DoseProblem
from .conditions import Facts, all_hold, dose_evidence
from .dose import BodySize, body_size, compute_dose
from .findings import (
    AboveCap,
    AboveMaximum,
    Maximum,
    NeverGive,
    NoWeight,
    OffDose,
    OrderFinding,
    OrderProblem,
    Regimen,
    RegimenMismatch,
    RepeatRefused,
)
from .history import PendingDose, check_repeat, given_doses
from .model import (
    Action,
    Citation,
    DoseCheck,
    MaximumDoseCheck,
    MedicationAction,
    NeverGiveCheck,
    OrderCheck,
    Protocol,
    RegimenCheck,
    RepeatLimitsCheck,
    WarningRule,
)
from .recommend import MAX_DOSE_EVIDENCE, recommend, recommend_icans

_WIDE = Context(prec=400)  # room for any float-sized percentage when quantizing
WEIGHT_BASES = ("mg/kg", "mg/kg/day", "mg/m2")


@dataclass(frozen=True, slots=True)
class _Context:
    orders: Sequence[DraftMedication]
    checked: frozenset[str] | None
    assessment: Assessment
    snapshot: ClinicalSnapshot
    protocol: Protocol
    grading: GradingConfig
    now: datetime
    size: BodySize

    def pending_for(self, order: DraftMedication) -> tuple[PendingDose, ...]:
        """Other orders of the same drug that count as given at ``now`` (see module doc)."""
        return tuple(PendingDose(o.drug, self.now, o.reference, o.dose_mg, o.drug_class) for o in self.orders
                     if o.drug == order.drug and o.position != order.position
                     and (not self.is_checked(o) or o.position < order.position))

    def is_checked(self, order: DraftMedication) -> bool:
        return self.checked is None or order.reference in self.checked

    def finding(self, order: DraftMedication, kind: str, *, indicator: Literal["warning", "critical"],
                problem: OrderProblem, sources: tuple[Citation, ...], evidence: tuple[Evidence, ...] = (),
                action: Literal["update", "delete"] | None = None, dose_mg: float | None = None,
                every_hours: float | None = None, calculation: DoseCalculation | DailyCapDivided | None = None,
                next_allowed: datetime | None = None, escalation: str | None = None,
                reminders: tuple[WarningRule, ...] = ()) -> OrderFinding:
        """A finding on ``order`` at this call's grade and protocol."""
        return OrderFinding(kind, indicator, order, problem, sources, evidence, action, dose_mg, every_hours,
                            calculation, next_allowed, escalation, reminders, self.assessment.grade,
                            self.protocol.id, self.protocol.url)


def check_orders(orders: Sequence[DraftMedication], *, assessment: Assessment, snapshot: ClinicalSnapshot,
                 protocol: Protocol, grading: GradingConfig, now: datetime,
                 checked: Collection[str] | None = None) -> list[OrderFinding]:
    """Findings for the orders named in ``checked`` (all orders when None), in order."""
    if assessment.status == "not-eligible":
        return []
    ctx = _Context(orders, frozenset(checked) if checked is not None else None, assessment, snapshot, protocol,
                   grading, now, body_size(snapshot, now, protocol.settings))
    findings: list[OrderFinding] = []
    for order in orders:
        if ctx.is_checked(order):
            findings.extend(_check(order, ctx))
    return findings


def _check(order: DraftMedication, ctx: _Context) -> list[OrderFinding]:
    """The protocol's checks for this order's drug or drug class, in file order; the first finding decides."""
    for check in ctx.protocol.order_checks:
        if check.target.matches(order.drug, order.drug_class):
            found = _run(check, order, ctx)
            if found:
                return found
    return []


def _run(check: OrderCheck, order: DraftMedication, ctx: _Context) -> list[OrderFinding]:
    match check:
        case RepeatLimitsCheck():
            return _repeat_limits(order, ctx, check.finding)
        case DoseCheck():
            return _dose(order, ctx, check.finding, check.tolerance_percent)
        case MaximumDoseCheck():
            return _maximum_dose(order, ctx, check.finding)
        case NeverGiveCheck():
            return _never_give(order, ctx, check.finding, check.warning, check.label)
        case RegimenCheck():
            return _regimen_for_grade(order, ctx, check.finding, check.tolerance_percent, check.reminders)


def _display(order: DraftMedication, ctx: _Context) -> str:
    drug = ctx.protocol.drugs.get(order.drug)
    return drug.display if drug else order.display


# ---------------------------------------------------------------- repeat limits

def _repeat_limits(order: DraftMedication, ctx: _Context, kind: str) -> list[OrderFinding]:
    """Refuse a dose the drug's repeat limits do not allow now (delete), with the doses that decided it."""
    limits = ctx.protocol.settings.repeat_limits.get(order.drug)
    if limits is None:
        return []
    index = ctx.assessment.index_therapy
    prior = given_doses(ctx.snapshot, ctx.pending_for(order), drug=order.drug,
                        include_stopped=ctx.protocol.settings.count_stopped_doses)
    verdict = check_repeat(prior, limits, ctx.now, index.start if index else None)
    if verdict.allowed:
        return []
    action = _action_for(ctx, order.drug)
    shown = tuple(d for d in prior if index is None or d.time >= index.start)[-MAX_DOSE_EVIDENCE:]
    return [ctx.finding(order, kind, indicator="critical", problem=RepeatRefused(_display(order, ctx), verdict, limits),
                        sources=_cite(limits.source, action.source if action else None),
                        evidence=unique_evidence(dose_evidence(shown)), action="delete",
                        next_allowed=verdict.next_allowed,
                        escalation=action.if_exhausted.text if action and action.if_exhausted else None)]


# ------------------------------------------------------------------------- dose

def _dose(order: DraftMedication, ctx: _Context, kind: str, tolerance_percent: Decimal) -> list[OrderFinding]:
    """The draft dose against the protocol's dose for the drug (within a tolerance) and its per-dose cap."""
    action = _action_for(ctx, order.drug)
    if action is None:
        return []
    rule = action.dose
    expected = compute_dose(rule, action.frequency, ctx.size)
    name = action.drug.display
    cap = rule.max_mg_per_dose
    if order.dose_mg is None:
        return []
    given = Decimal(str(order.dose_mg))
    if expected.mg is None:
        if rule.basis not in WEIGHT_BASES:
            return []
        return [_no_weight(order, ctx, action, given, expected.problem)]
    above_cap = cap is not None and given > cap
    off_by = abs(given - expected.mg) / expected.mg
    if not above_cap and off_by * 100 <= tolerance_percent:
        return []
    problem: AboveCap | OffDose
    if cap is not None and above_cap:
        problem = AboveCap(name, given, cap, expected.mg, expected.calculation)
    else:
        pct = (off_by * 100).quantize(Decimal(1), context=_WIDE)  # an absurd dose (-1e30 mg) has > 28 digits
        problem = OffDose(name, given, expected.mg, pct, tolerance_percent, expected.calculation)
    return [ctx.finding(order, kind, indicator="warning", problem=problem, sources=(action.source,),
                        evidence=expected.evidence, action="update", dose_mg=float(expected.mg),
                        calculation=expected.calculation)]


def _no_weight(order: DraftMedication, ctx: _Context, action: MedicationAction, given: Decimal,
               why: DoseProblem | None) -> OrderFinding:
    """A weight-based dose with no recent weight: said, not guessed (no suggestion)."""
    cap = action.dose.max_mg_per_dose
    problem = NoWeight(action.drug.display, given, cap if cap is not None and given > cap else None, why)
    return ctx.finding(order, "no-weight", indicator="warning", problem=problem, sources=(action.source,))


# ------------------------------------------------------------------- never give

def _never_give(order: DraftMedication, ctx: _Context, kind: str, rule: WarningRule, label: str
                ) -> list[OrderFinding]:
    """A drug the protocol's warning forbids: delete, citing the warning."""
    never = NeverGive(order.display, label, rule, ctx.assessment.index_class)
    return [ctx.finding(order, kind, indicator="critical", problem=never,
                        sources=(rule.source,), action="delete")]


# ------------------------------------------------------------ regimen for grade

def _regimen_for_grade(order: DraftMedication, ctx: _Context, kind: str, tolerance_percent: Decimal,
                       reminders: tuple[WarningRule, ...]) -> list[OrderFinding]:
    """The draft against the protocol's regimens of that drug at the current grade (any may match)."""
    pending = tuple(PendingDose(o.drug, ctx.now, o.reference, o.dose_mg, o.drug_class)
                    for o in ctx.orders if o.position != order.position)
    sections = (recommend(ctx.assessment, ctx.snapshot, ctx.protocol, ctx.now, grading=ctx.grading, pending=pending),
                recommend_icans(ctx.assessment, ctx.snapshot, ctx.protocol, ctx.now, grading=ctx.grading,
                                pending=pending))
    regimens = [r for recs in sections for r in recs.for_drug(order.drug) if r.dose is not None]
    if not regimens or order.dose_mg is None:
        return []
    given = Decimal(str(order.dose_mg))

    def matches(dose: Decimal, every_hours: float | None) -> bool:
        dose_ok = abs(given - dose) / dose * 100 <= tolerance_percent
        freq_ok = order.every_hours is None or every_hours is None or abs(order.every_hours - every_hours) < 0.01
        return dose_ok and freq_ok

    if any(r.dose is not None and matches(r.dose, r.every_hours) for r in regimens):
        return []
    target = next((r for r in regimens if r.recommended), regimens[0])
    assert target.dose is not None
    every = Decimal(str(order.every_hours)) if order.every_hours else None
    protocol_every = target.frequency.every_hours if target.frequency else None
    problem = RegimenMismatch(target.drug.display, Regimen(given, every),
                              Regimen(target.dose, protocol_every, target.route), ctx.assessment.grade)
    return [ctx.finding(order, kind, indicator="warning", problem=problem, sources=target.sources,
                        action="update", dose_mg=target.dose_mg, every_hours=target.every_hours,
                        calculation=target.calculation, reminders=_holding(reminders, order, pending, ctx))]


def _holding(reminders: tuple[WarningRule, ...], order: DraftMedication, pending: tuple[PendingDose, ...],
             ctx: _Context) -> tuple[WarningRule, ...]:
    """The reminders whose own conditions hold with the drafted drug planned: a caution written for CAR-T
    cells is not repeated after a T-cell engager."""
    drafted = PendingDose(order.drug, ctx.now, order.reference, order.dose_mg, order.drug_class)
    facts = Facts(ctx.assessment, ctx.snapshot, ctx.now, ctx.grading, ctx.protocol.settings, (*pending, drafted),
                  planned_classes=frozenset({order.drug_class} if order.drug_class else ()),
                  section_onset=ctx.assessment.onset)
    return tuple(r for r in reminders if all_hold(r.when, facts).holds)


# ----------------------------------------------------------------- maximum dose

def _maximum_dose(order: DraftMedication, ctx: _Context, kind: str) -> list[OrderFinding]:
    """The draft dose against the protocol's per-dose and per-day maximum for the drug (at the draft's
    interval, else the protocol's); a weight-based dose without a weight cannot be checked."""
    action = _action_for(ctx, order.drug)
    if action is None or order.dose_mg is None:
        return []
    rule = action.dose
    given = Decimal(str(order.dose_mg))
    every = Decimal(str(order.every_hours)) if order.every_hours else (
        action.frequency.every_hours if action.frequency and action.frequency.every_hours else None)
    per_day_n = Decimal(24) / every if every else Decimal(1)
    limits: list[tuple[Decimal, Maximum]] = []
    if rule.max_mg_per_dose is not None:
        limits.append((rule.max_mg_per_dose, Maximum("dose", rule.max_mg_per_dose)))
    if rule.max_mg_per_day is not None:
        limits.append((rule.max_mg_per_day / per_day_n, Maximum("day", rule.max_mg_per_day)))
    exceeded = tuple(m for cap, m in limits if given > cap)
    if not exceeded:
        if rule.basis in WEIGHT_BASES and ctx.size.weight is None:
            return [_no_weight(order, ctx, action, given, ctx.size.weight_problem)]
        return []
    corrected = min(cap for cap, _ in limits).quantize(Decimal("0.01")).normalize()
    problem = AboveMaximum(action.drug.display, given, every, per_day_n, exceeded, corrected)
    return [ctx.finding(order, kind, indicator="warning", problem=problem,
                        sources=_cite(action.source, action.regimen.source if action.regimen else None),
                        action="update", dose_mg=float(corrected),
                        calculation=DailyCapDivided(rule.max_mg_per_day, per_day_n)
                        if rule.max_mg_per_day is not None and every else None)]


# --------------------------------------------------------------------- helpers

def _actions(actions: Sequence[Action]) -> Iterator[MedicationAction]:
    for a in actions:
        if isinstance(a, MedicationAction):
            yield a
            if a.if_exhausted:
                yield from _actions(a.if_exhausted.actions)


def _action_for(ctx: _Context, drug: str) -> MedicationAction | None:
    """The protocol's action for ``drug``: the current grade's first, else the lowest grade that has one."""
    grade = ctx.assessment.grade
    for g in sorted(ctx.protocol.grades, key=lambda g: (g != grade, g)):
        found = next((a for a in _actions(ctx.protocol.actions_for(g)) if a.drug.key == drug), None)
        if found is not None:
            return found
    return next((a for a in _actions(ctx.protocol.all_grades) if a.drug.key == drug), None)


def _cite(*citations: Citation | None) -> tuple[Citation, ...]:
    out: list[Citation] = []
    for c in citations:
        if c is not None and c not in out:
            out.append(c)
    return tuple(out)
