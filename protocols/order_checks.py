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
- A tocilizumab order refused by a repeat limit gets only the limit finding
  (delete); correcting the dose of an order that must not be given is noise.
- A dose within ``DOSE_TOLERANCE`` (10 %) of the protocol dose passes
  (vial sizes, local rounding), unless it is above the per-dose maximum.
- Steroids are compared with the protocol's regimen(s) of the same drug at
  the current grade only; no regimen of that steroid at the grade (grade 1,
  ICANS use) means no opinion, not a warning.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Context, Decimal
from typing import Literal

from clinical import Assessment, ClinicalSnapshot, DraftMedication, Evidence, unique_evidence
from grading import GradingConfig

from .conditions import dose_evidence
from .dose import BodySize, body_size, compute_dose
from .formatting import num, when
from .history import PendingDose, check_repeat, given_doses
from .model import Citation, DoseRule, MedicationAction, Protocol, WarningRule
from .recommend import MAX_DOSE_EVIDENCE, recommend

DOSE_TOLERANCE = Decimal("0.10")
_WIDE = Context(prec=400)  # room for any float-sized percentage when quantizing
WEIGHT_BASES = ("mg/kg", "mg/kg/day", "mg/m2")
FindingKind = Literal["tocilizumab-dose", "tocilizumab-limit", "gm-csf", "steroid-regimen", "anakinra-dose",
                      "no-weight"]


@dataclass(frozen=True, slots=True)
class OrderFinding:
    """One problem with one draft order, and the protocol's answer to it.

    ``action`` is what the card proposes for the draft: ``update`` to
    ``dose_mg``/``every_hours``, ``delete`` it, or nothing (``None``).
    """

    kind: FindingKind
    indicator: Literal["warning", "critical"]
    order: DraftMedication
    summary: str  # plain words, < 140 characters
    reasons: tuple[str, ...]
    sources: tuple[Citation, ...]
    evidence: tuple[Evidence, ...] = ()
    action: Literal["update", "delete"] | None = None
    dose_mg: float | None = None  # the corrected dose (update)
    every_hours: float | None = None  # the corrected interval (update); None keeps the draft's
    calculation: str | None = None  # "8 mg/kg × 70 kg"
    next_allowed: datetime | None = None
    escalation: str | None = None
    reminders: tuple[str, ...] = ()  # e.g. antifungal prophylaxis with steroids
    grade: int | None = None
    protocol_id: str = ""


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
    if order.drug == "tocilizumab":
        return _tocilizumab(order, ctx)
    if order.drug_class == "gm-csf":
        return _gm_csf(order, ctx)
    if order.drug_class == "corticosteroid":
        return _steroid(order, ctx)
    if order.drug == "anakinra":
        return _anakinra(order, ctx)
    return []


def _finding(order: DraftMedication, ctx: _Context, **kw: object) -> OrderFinding:
    return OrderFinding(order=order, grade=ctx.assessment.grade, protocol_id=ctx.protocol.id,
                        **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------ tocilizumab

def _tocilizumab(order: DraftMedication, ctx: _Context) -> list[OrderFinding]:
    action = _action_for(ctx, "tocilizumab")
    limits = ctx.protocol.settings.repeat_limits.get("tocilizumab")
    if limits is not None:
        index = ctx.assessment.index_therapy
        prior = given_doses(ctx.snapshot, ctx.pending_for(order), drug="tocilizumab")
        verdict = check_repeat(prior, limits, ctx.now, index.start if index else None)
        if not verdict.allowed:
            shown = tuple(d for d in prior if index is None or d.time >= index.start)[-MAX_DOSE_EVIDENCE:]
            escalation = action.if_exhausted.text if action and action.if_exhausted else None
            if verdict.exhausted:
                summary = (f"Tocilizumab dose not allowed: {len(verdict.since_index)} doses already given, the "
                           f"maximum is {limits.max_doses_since_index_therapy}: cancel and escalate")
            else:
                summary = f"Tocilizumab dose not allowed now: next dose allowed at {when(verdict.next_allowed)}"
                if (limits.max_doses_per_24h is not None and len(verdict.in_24h) >= limits.max_doses_per_24h):
                    summary = (f"Tocilizumab: would be dose {len(verdict.in_24h) + 1} in 24 h (max "
                               f"{limits.max_doses_per_24h}); next allowed {when(verdict.next_allowed)}")
            return [_finding(order, ctx, kind="tocilizumab-limit", indicator="critical", summary=summary,
                             reasons=verdict.reasons, sources=_cite(limits.source, action.source if action else None),
                             evidence=unique_evidence(dose_evidence(shown)),
                             action="delete", next_allowed=verdict.next_allowed, escalation=escalation)]
    if action is None:
        return []
    return _weight_based_dose(order, ctx, action, kind="tocilizumab-dose")


def _weight_based_dose(order: DraftMedication, ctx: _Context, action: MedicationAction,
                       kind: FindingKind) -> list[OrderFinding]:
    """The draft dose against the protocol's mg/kg dose and per-dose cap."""
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
        over = f" and exceeds the {num(cap)} mg maximum" if cap is not None and given > cap else ""
        return [_finding(order, ctx, kind="no-weight", indicator="warning",
                         summary=f"{name} {num(given)} mg cannot be checked: no recent body weight{over}",
                         reasons=(expected.problem or "no recent body weight",), sources=(action.source,))]
    above_cap = cap is not None and given > cap
    off_by = abs(given - expected.mg) / expected.mg
    if not above_cap and off_by <= DOSE_TOLERANCE:
        return []
    calc = _short_calculation(expected.calculation)
    if above_cap:
        summary = f"{name} {num(given)} mg exceeds the {num(cap)} mg maximum dose: change to {num(expected.mg)} mg"
        reason = f"{num(given)} mg is above the protocol's maximum of {num(cap)} mg per dose"
    else:
        direction = "above" if given > expected.mg else "below"
        pct = (off_by * 100).quantize(Decimal(1), context=_WIDE)  # an absurd dose (-1e30 mg) has > 28 digits
        summary = f"{name} {num(given)} mg is {pct} % {direction} the protocol dose: change to {num(expected.mg)} mg"
        reason = (f"{num(given)} mg differs from the protocol dose {num(expected.mg)} mg by {pct} % "
                  f"(tolerance {num(DOSE_TOLERANCE * 100)} %)")
    if calc and len(summary) + len(calc) + 3 < 140:
        summary += f" ({calc})"
    return [_finding(order, ctx, kind=kind, indicator="warning", summary=summary,
                     reasons=(reason,), sources=(action.source,), evidence=expected.evidence, action="update",
                     dose_mg=float(expected.mg), calculation=expected.calculation)]


def _short_calculation(calculation: str | None) -> str | None:
    """``8 mg/kg × 70 kg`` from ``8 mg/kg × 70 kg, max 800 mg`` (the summary states the cap itself)."""
    if not calculation:
        return None
    return calculation.split(",")[0].split(" = ")[0]


# ---------------------------------------------------------------------- GM-CSF

def _gm_csf(order: DraftMedication, ctx: _Context) -> list[OrderFinding]:
    rule = _warning_rule(ctx.protocol, ("gm-csf", "sargramostim"))
    if rule is None:
        return []
    return [_finding(order, ctx, kind="gm-csf", indicator="critical",
                     summary=f"Do not give {order.display}: GM-CSF is not recommended after CAR T-cell therapy",
                     reasons=(rule.text,), sources=(rule.source,), action="delete")]


# --------------------------------------------------------------- corticosteroids

def _steroid(order: DraftMedication, ctx: _Context) -> list[OrderFinding]:
    pending = tuple(PendingDose(o.drug, ctx.now, o.reference, o.dose_mg, o.drug_class)
                    for o in ctx.orders if o.position != order.position)
    recs = recommend(ctx.assessment, ctx.snapshot, ctx.protocol, ctx.now, grading=ctx.grading, pending=pending)
    regimens = [r for r in recs.medications if r.drug == order.drug and r.dose_mg is not None]
    if not regimens or order.dose_mg is None:
        return []
    given = Decimal(str(order.dose_mg))

    def matches(dose_mg: float, every_hours: float | None) -> bool:
        expected = Decimal(str(dose_mg))
        dose_ok = abs(given - expected) / expected <= DOSE_TOLERANCE
        freq_ok = order.every_hours is None or every_hours is None or abs(order.every_hours - every_hours) < 0.01
        return dose_ok and freq_ok

    if any(matches(r.dose_mg, r.every_hours) for r in regimens):  # type: ignore[arg-type]
        return []
    target = next((r for r in regimens if r.recommended), regimens[0])
    name = target.drug_display or order.display
    draft = f"{num(given)} mg" + (f" every {num(order.every_hours)} h" if order.every_hours else "")
    regimen = f"{num(target.dose_mg)} mg {target.route or ''} " + (
        f"every {num(target.every_hours)} h" if target.every_hours else "")
    grade = ctx.assessment.grade
    summary = f"{name} {draft} differs from the grade {grade} protocol regimen: {regimen.strip()}"
    reminders = tuple(w.text for w in ctx.protocol.warnings if _about_steroids(w))
    return [_finding(order, ctx, kind="steroid-regimen", indicator="warning", summary=summary,
                     reasons=(f"The protocol gives {name.lower()} {regimen.strip()} at CRS grade {grade}",),
                     sources=target.sources, evidence=(), action="update", dose_mg=target.dose_mg,
                     every_hours=target.every_hours, calculation=target.dose_calculation, reminders=reminders)]


def _about_steroids(rule: WarningRule) -> bool:
    return any(c.name == "drug_class_planned_or_running" and c.value == "corticosteroid" for c in rule.when)


# -------------------------------------------------------------------- anakinra

def _anakinra(order: DraftMedication, ctx: _Context) -> list[OrderFinding]:
    action = _action_for(ctx, "anakinra")
    if action is None or order.dose_mg is None:
        return []
    rule: DoseRule = action.dose
    given = Decimal(str(order.dose_mg))
    every = Decimal(str(order.every_hours)) if order.every_hours else (
        action.frequency.every_hours if action.frequency and action.frequency.every_hours else None)
    per_day_n = Decimal(24) / every if every else Decimal(1)
    limits: list[tuple[Decimal, str]] = []
    if rule.max_mg_per_dose is not None:
        limits.append((rule.max_mg_per_dose, f"{num(rule.max_mg_per_dose)} mg per-dose maximum"))
    if rule.max_mg_per_day is not None:
        limits.append((rule.max_mg_per_day / per_day_n, f"{num(rule.max_mg_per_day)} mg/day maximum"))
    broken = [(cap, label) for cap, label in limits if given > cap]
    if not broken:
        if rule.basis in WEIGHT_BASES and ctx.size.weight is None:
            return _weight_based_dose(order, ctx, action, kind="anakinra-dose")
        return []
    corrected = min(cap for cap, _ in limits).quantize(Decimal("0.01")).normalize()
    timing = f" every {num(every)} h" if every else ""
    per_day = f" ({num(given * per_day_n)} mg/day)" if every else ""
    label = max(broken, key=lambda b: b[1].endswith("mg/day maximum"))[1]
    summary = f"Anakinra {num(given)} mg{timing}{per_day} exceeds the {label}: change to {num(corrected)} mg{timing}"
    reasons = tuple(f"{num(given)} mg{timing} is above the {lbl}" for _, lbl in broken)
    return [_finding(order, ctx, kind="anakinra-dose", indicator="warning", summary=summary, reasons=reasons,
                     sources=_cite(action.source, action.regimen.source if action.regimen else None),
                     action="update", dose_mg=float(corrected),
                     calculation=f"{num(rule.max_mg_per_day)} mg/day ÷ {num(per_day_n)} doses"
                     if rule.max_mg_per_day is not None and every else None)]


# --------------------------------------------------------------------- helpers

def _actions(actions: Sequence[object]) -> Iterator[MedicationAction]:
    for a in actions:
        if isinstance(a, MedicationAction):
            yield a
            if a.if_exhausted:
                yield from _actions(a.if_exhausted.actions)


def _action_for(ctx: _Context, drug: str) -> MedicationAction | None:
    """The protocol's action for ``drug``: the current grade's first, else the lowest grade that has one."""
    grade = ctx.assessment.grade
    order = ([grade] if grade in ctx.protocol.grades else []) + sorted(g for g in ctx.protocol.grades if g != grade)
    for g in order:
        found = next((a for a in _actions(ctx.protocol.actions_for(g)) if a.drug.key == drug), None)
        if found is not None:
            return found
    return next((a for a in _actions(ctx.protocol.all_grades) if a.drug.key == drug), None)


def _warning_rule(protocol: Protocol, words: tuple[str, ...]) -> WarningRule | None:
    return next((w for w in protocol.warnings if any(k in (w.id + " " + w.text).lower() for k in words)), None)


def _cite(*citations: Citation | None) -> tuple[Citation, ...]:
    out: list[Citation] = []
    for c in citations:
        if c is not None and c not in out:
            out.append(c)
    return tuple(out)
