"""Apply a protocol to one patient: which actions apply now, with doses, limits and sources.

Pure: takes the assessment, the snapshot, the protocol and ``now``; never reads
the clock or the network. Pending doses (orders being signed) count towards
repeat limits like given ones.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from clinical import Assessment, ClinicalSnapshot, DrugAdministration, unique_evidence
from grading import GradingConfig

from .conditions import Facts, Outcome, all_hold, dose_evidence
from .dose import BodySize, DoseResult, body_size, compute_dose
from .formatting import dose_text, frequency_text, limits_text, num, when
from .history import PendingDose, RepeatCheck, check_repeat, given_doses
from .model import Action, AdviceAction, Citation, MedicationAction, Protocol, RepeatLimits, ServiceAction
from .recommendation import Recommendation, Recommendations

MAX_DOSE_EVIDENCE = 10  # prior doses listed per medication (most recent)


def recommend(assessment: Assessment, snapshot: ClinicalSnapshot, protocol: Protocol, now: datetime, *,
              grading: GradingConfig, pending: Iterable[PendingDose | DrugAdministration] = ()) -> Recommendations:
    """The protocol's actions and warnings for this patient's current CRS grade.

    ``grading`` is the grading configuration the assessment was made with: conditions read its
    fever threshold and masking drug classes rather than defining them again.
    """
    header = {"protocol_id": protocol.id, "protocol_title": protocol.title, "protocol_version": protocol.version,
                  "grade": assessment.grade, "lower_bound": assessment.lower_bound}
    if not assessment.has_crs:
        return Recommendations(**header, notes=(
            f"No CRS grade 1-4 (assessment status: {assessment.status}): the protocol proposes no treatment.",))
    facts = Facts(assessment, snapshot, now, grading, protocol.settings, _classified(pending, protocol))
    size = body_size(snapshot, now, protocol.settings)
    applied: list[Recommendation] = []
    for action in protocol.actions_for(assessment.grade):
        applied.extend(_apply(action, facts, size, protocol))
    items = _at_most_one_recommended(_replace_escalated(applied))

    planned = frozenset(r.drug_class for r in items if r.kind == "medication" and r.blocked is None and r.drug_class)
    warnings, notes = _warnings(protocol, replace(facts, planned_classes=planned))
    if assessment.lower_bound:
        notes.insert(0, f"The grade is a lower bound because data are missing: these are the grade "
                        f"{assessment.grade} actions, and the true grade may be higher.")
    if assessment.index_therapy is None and protocol.settings.repeat_limits:
        notes.append("Index therapy start unknown: every recorded dose counts towards total-dose limits.")
    return Recommendations(**header, items=tuple(items), warnings=tuple(warnings), notes=tuple(notes))


# ----------------------------------------------------------------- actions

def _apply(action: Action, facts: Facts, size: BodySize, protocol: Protocol,
           escalates: str | None = None) -> list[Recommendation]:
    """Recommendations for one action (none when its conditions do not hold)."""
    applies = all_hold(action.when, facts)
    if not applies.holds:
        return []
    if isinstance(action, ServiceAction):
        rec = Recommendation("service", action.id, action.text, (action.source,), recommended=action.recommended,
                             rationale=applies.reasons, evidence=applies.evidence, codes=action.codes,
                             priority=action.priority, escalates=escalates)
        return [rec]
    if isinstance(action, AdviceAction):
        rec = Recommendation("advice", action.id, action.text, (action.source,), rationale=applies.reasons,
                             evidence=applies.evidence, escalates=escalates)
        return [rec]
    return _medication(action, facts, size, protocol, applies, escalates)


def _medication(action: MedicationAction, facts: Facts, size: BodySize, protocol: Protocol, applies: Outcome,
                escalates: str | None) -> list[Recommendation]:
    upgrade = all_hold(action.recommended_when, facts) if action.recommended_when else None
    recommended = action.recommended or bool(upgrade and upgrade.holds)
    dose = compute_dose(action.dose, action.frequency, size)
    limits = protocol.settings.repeat_limits.get(action.drug.key)
    prior = given_doses(facts.snapshot, facts.pending, drug=action.drug.key)
    check = check_repeat(prior, limits, facts.now, facts.index_start) if limits else None
    blocked = "; ".join(check.reasons) if check and not check.allowed else None
    shown_doses = [d for d in prior if facts.index_start is None or d.time >= facts.index_start][-MAX_DOSE_EVIDENCE:]
    freq = action.frequency
    rec = Recommendation(
        kind="medication", action_id=action.id,
        text=_medication_text(action, dose, limits, check),
        sources=_sources(action.source, action.regimen.source if action.regimen else None,
                         dose.band.source if dose.band else None, limits.source if limits else None),
        recommended=recommended and blocked is None,
        alternative_group=action.alternative_group,
        rationale=applies.reasons + (upgrade.reasons if upgrade else ()) + (check.reasons if blocked else ()),
        evidence=unique_evidence(dose.evidence + applies.evidence + (upgrade.evidence if upgrade else ())
                         + dose_evidence(shown_doses)),
        note=action.note or action.dose.note,
        drug=action.drug.key, drug_display=action.drug.display, drug_class=action.drug.drug_class,
        rxnorm=action.drug.rxnorm,
        dose_mg=float(dose.mg) if dose.mg is not None else None,
        dose_problem=dose.problem, dose_calculation=dose.calculation,
        route=action.route,
        every_hours=float(freq.every_hours) if freq and freq.every_hours is not None else None,
        once=bool(freq and freq.once),
        per_day_mg=float(dose.per_day_mg) if dose.per_day_mg is not None else None,
        duration=action.duration,
        regimen=action.regimen.label if action.regimen else None,
        blocked=blocked,
        next_allowed=check.next_allowed if check else None,
        limit_reached=bool(check and check.exhausted),
        escalates=escalates,
    )
    out = [rec]
    if check and check.exhausted and action.if_exhausted:
        for step in action.if_exhausted.actions:
            out.extend(_apply(step, facts, size, protocol, escalates=action.id))
    return out


def _medication_text(action: MedicationAction, dose: DoseResult, limits: RepeatLimits | None,
                     check: RepeatCheck | None) -> str:
    """One line a clinician can verify: dose, route, timing, arithmetic, limits."""
    name = action.drug.display
    route = action.route + (f" (or {'/'.join(action.alternative_routes)})" if action.alternative_routes else "")
    if check and check.exhausted:
        escalation = action.if_exhausted.text if action.if_exhausted else "Escalate per protocol."
        return f"{name}: no further doses — {'; '.join(check.reasons)}. {escalation}"
    timing = frequency_text(action.frequency, repeatable=limits is not None)
    not_now = (f" — not now: {'; '.join(check.reasons)}; next dose allowed at {when(check.next_allowed)}"
               if check and not check.allowed else "")
    if dose.mg is None:
        rule = "" if action.dose.basis == "unspecified" else f" {dose_text(action.dose)},"
        return f"{name}{rule} {route}{' ' + timing if timing else ''}: {dose.problem}{not_now}"
    text = f"{name} {num(dose.mg)} mg {route}" + (f" {timing}" if timing else "")
    details = [dose.calculation] if dose.calculation else []
    if dose.per_day_mg is not None and dose.per_day_mg != dose.mg and action.dose.basis != "mg/kg/day":
        details.append(f"total {num(dose.per_day_mg)} mg/day")
    if details:
        text += f" ({'; '.join(details)})"
    if action.duration:
        text += f", {action.duration}"
    if action.regimen:
        text += f" — regimen: {action.regimen.label}"
    if not_now:
        return text + not_now
    if limits is not None:
        text += f"; {limits_text(limits)}"
    return text


def _replace_escalated(applied: list[Recommendation]) -> list[Recommendation]:
    """An escalation's drug replaces the grade's own option for that drug (e.g. dexamethasone 12-hourly)."""
    escalated = {r.drug for r in applied if r.escalates and r.drug}
    return [r for r in applied if r.escalates or r.drug not in escalated]


def _at_most_one_recommended(items: list[Recommendation]) -> list[Recommendation]:
    """Mutually exclusive options: keep the first recommended one per group, demote the rest."""
    seen: set[str] = set()
    out = []
    for r in items:
        if r.alternative_group and r.recommended:
            if r.alternative_group in seen:
                r = replace(r, recommended=False,
                            rationale=r.rationale + (f"another '{r.alternative_group}' option is recommended",))
            seen.add(r.alternative_group)
        out.append(r)
    return out


# ---------------------------------------------------------------- warnings

def _warnings(protocol: Protocol, facts: Facts) -> tuple[list[Recommendation], list[str]]:
    warnings, notes = [], []
    for rule in protocol.warnings:
        outcome = all_hold(rule.when, facts)
        if outcome.holds:
            warnings.append(Recommendation("warning", rule.id, rule.text, (rule.source,),
                                           rationale=outcome.reasons, evidence=outcome.evidence))
        elif outcome.unknown:
            notes.append(f"Warning '{rule.id}' could not be evaluated: {'; '.join(outcome.reasons)}.")
    return warnings, notes


def _classified(pending: Iterable[PendingDose | DrugAdministration], protocol: Protocol
                ) -> tuple[PendingDose | DrugAdministration, ...]:
    """Give pending orders their drug class from the protocol, so class conditions count them."""
    out = []
    for p in pending:
        if isinstance(p, PendingDose) and p.drug_class is None and p.drug in protocol.drugs:
            p = replace(p, drug_class=protocol.drugs[p.drug].drug_class)
        out.append(p)
    return tuple(out)


def _sources(*citations: Citation | None) -> tuple[Citation, ...]:
    out: list[Citation] = []
    for c in citations:
        if c is not None and c not in out:
            out.append(c)
    return tuple(out)
