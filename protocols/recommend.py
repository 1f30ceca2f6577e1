"""Apply a protocol to one patient: which actions apply now, with doses, limits and sources.

Pure: takes the assessment, the snapshot, the protocol and ``now``; never reads
the clock or the network. Pending doses (orders being signed) count towards
repeat limits like given ones. ``recommend`` answers the CRS grade (from the
index-therapy pathway's section when one applies, e.g. after blinatumomab),
``recommend_icans`` the ICANS grade from the protocol's ICANS section.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from clinical import Assessment, ClinicalSnapshot, DrugAdministration, SaturationReading, unique_evidence
from clinical.findings import RoomAirAssumed
from grading import GradingConfig

from .conditions import Facts, Outcome, all_hold, dose_evidence
from .dose import BodySize, body_size, compute_dose
from .history import PendingDose, check_repeat, given_doses
from .model import Action, AdviceAction, Citation, MedicationAction, Protocol, Section, ServiceAction
from .reasons import AnotherOptionRecommended
from .recommendation import (
    AdviceRecommendation,
    IndexTherapyUnknown,
    LowerBoundActions,
    MedicationRecommendation,
    NoCrs,
    NoIcans,
    OxygenCheck,
    ProtocolNote,
    Recommendation,
    Recommendations,
    ServiceRecommendation,
    WarningNotEvaluated,
    WarningRecommendation,
)

MAX_DOSE_EVIDENCE = 10  # prior doses listed per medication (most recent)


def recommend(assessment: Assessment, snapshot: ClinicalSnapshot, protocol: Protocol, now: datetime, *,
              grading: GradingConfig, pending: Iterable[PendingDose | DrugAdministration] = ()) -> Recommendations:
    """The protocol's actions and warnings for this patient's current CRS grade.

    ``grading`` is the grading configuration the assessment was made with: conditions read its
    fever threshold and masking drug classes rather than defining them again.
    """
    index = assessment.latest_index_therapy or assessment.index_therapy
    pathway = protocol.pathway_for(index.drug if index else None, assessment.index_class)
    header = Recommendations(protocol.id, protocol.title, protocol.version, assessment.grade,
                             lower_bound=assessment.lower_bound, pathway=pathway.index_class if pathway else None,
                             oxygen_check=oxygen_check(assessment, protocol), protocol_url=protocol.url)
    if not assessment.has_crs or assessment.grade is None:
        return replace(header, notes=(NoCrs(assessment.status),))
    facts = Facts(assessment, snapshot, now, grading, protocol.settings, _classified(pending, protocol),
                  section_onset=assessment.onset)
    section = protocol.crs_section(pathway)
    cited = section.source_for(assessment.grade) or (pathway.source if pathway else None)
    header = replace(header, section_source=cited)
    return _section(header, section, assessment.grade, assessment.lower_bound, facts, protocol)


def recommend_icans(assessment: Assessment, snapshot: ClinicalSnapshot, protocol: Protocol, now: datetime, *,
                    grading: GradingConfig,
                    pending: Iterable[PendingDose | DrugAdministration] = ()) -> Recommendations:
    """The protocol's ICANS section for this patient's current ICANS grade (``assessment.icans``), with the
    concurrent-CRS rule when CRS is present too."""
    icans = assessment.icans
    header = Recommendations(protocol.id, protocol.title, protocol.version, icans.grade if icans else None,
                             lower_bound=icans.lower_bound if icans else False, syndrome="icans",
                             protocol_url=protocol.url)
    if icans is None or not icans.has_icans or icans.grade is None or protocol.icans is None:
        return replace(header, notes=(NoIcans(icans.status if icans else None, protocol.icans is not None),))
    section = protocol.icans
    header = replace(header, section_source=section.section.source_for(icans.grade) or section.source)
    facts = Facts(assessment, snapshot, now, grading, protocol.settings, _classified(pending, protocol),
                  section_onset=icans.onset)
    rule = section.concurrent_crs
    concurrent = (WarningRecommendation(rule.id, rule.text, (rule.source,), short=rule.short)
                  if assessment.has_crs else None)
    return replace(_section(header, section.section, icans.grade, icans.lower_bound, facts, protocol),
                   concurrent=concurrent)


def oxygen_check(assessment: Assessment, protocol: Protocol) -> OxygenCheck | None:
    """The lowest SpO2 in the current window when it is below the protocol's target and no oxygen support is
    charted at all (grading took the patient to be on room air): grading by support stays as ASTCT says,
    but the card prompts a check of the support."""
    target = protocol.settings.oxygen_target
    if target is None or not any(isinstance(n, RoomAirAssumed) for n in assessment.notes):
        return None
    readings = [e.fact.spo2 for e in assessment.evidence if isinstance(e.fact, SaturationReading)]
    lowest = min(readings, key=lambda s: (s.percent, s.time), default=None)
    if lowest is None or Decimal(str(lowest.percent)) >= target.spo2_percent:
        return None
    return OxygenCheck(lowest, target.spo2_percent, target.source)


def _section(header: Recommendations, section: Section, grade: int, lower_bound: bool, facts: Facts,
             protocol: Protocol) -> Recommendations:
    """The section's actions for ``grade`` applied to the patient, with the protocol's warnings and notes."""
    size = body_size(facts.snapshot, facts.now, protocol.settings)
    applied: list[Recommendation] = []
    for action in section.actions_for(grade):
        applied.extend(_apply(action, facts, size, protocol))
    items = _at_most_one_recommended(_replace_escalated(applied))

    planned = frozenset(r.drug.drug_class for r in items
                        if isinstance(r, MedicationRecommendation) and not r.blocked and not r.awaiting
                        and r.drug.drug_class)
    warnings, notes = _warnings(protocol, replace(facts, planned_classes=planned))
    if lower_bound:
        notes.insert(0, LowerBoundActions(grade))
    if facts.assessment.index_therapy is None and protocol.settings.repeat_limits:
        notes.append(IndexTherapyUnknown())
    return replace(header, items=tuple(items), warnings=tuple(warnings), notes=tuple(notes))


# ----------------------------------------------------------------- actions

def _apply(action: Action, facts: Facts, size: BodySize, protocol: Protocol,
           escalates: str | None = None) -> list[Recommendation]:
    """Recommendations for one action (none when its conditions do not hold)."""
    applies = all_hold(action.when, facts)
    if not applies.holds:
        return []
    if isinstance(action, ServiceAction):
        return [ServiceRecommendation(action.id, action.text, (action.source,), recommended=action.recommended,
                                      codes=action.codes, priority=action.priority, rationale=applies.reasons,
                                      evidence=applies.evidence, escalates=escalates)]
    if isinstance(action, AdviceAction):
        return [AdviceRecommendation(action.id, action.text, (action.source,), rationale=applies.reasons,
                                     evidence=applies.evidence, escalates=escalates, first=action.first)]
    return _medication(action, facts, size, protocol, applies, escalates)


def _medication(action: MedicationAction, facts: Facts, size: BodySize, protocol: Protocol, applies: Outcome,
                escalates: str | None) -> list[Recommendation]:
    upgrade = all_hold(action.recommended_when, facts) if action.recommended_when else None
    recommended = action.recommended or bool(upgrade and upgrade.holds)
    awaiting = upgrade.reasons if upgrade is not None and not upgrade.holds else ()
    dose = compute_dose(action.dose, action.frequency, size)
    limits = protocol.settings.repeat_limits.get(action.drug.key)
    prior = given_doses(facts.snapshot, facts.pending, drug=action.drug.key,
                        include_stopped=protocol.settings.count_stopped_doses)
    check = check_repeat(prior, limits, facts.now, facts.index_start) if limits else None
    blocked = check is not None and not check.allowed
    shown_doses = [d for d in prior if facts.index_start is None or d.time >= facts.index_start][-MAX_DOSE_EVIDENCE:]
    rec = MedicationRecommendation(
        action_id=action.id, drug=action.drug, route=action.route, rule=action.dose,
        sources=_sources(action.source, action.regimen.source if action.regimen else None,
                         dose.band.source if dose.band else None, limits.source if limits else None),
        dose=dose.mg, per_day=dose.per_day_mg, calculation=dose.calculation, problem=dose.problem,
        frequency=action.frequency, alternative_routes=action.alternative_routes, duration=action.duration,
        regimen=action.regimen.label if action.regimen else None,
        recommended=recommended and not blocked,
        alternative_group=action.alternative_group,
        rationale=applies.reasons + (upgrade.reasons if upgrade and upgrade.holds else ()),
        evidence=unique_evidence(dose.evidence + applies.evidence + (upgrade.evidence if upgrade else ())
                                 + dose_evidence(shown_doses)),
        note=action.note or action.dose.note,
        limits=limits, repeat=check,
        escalation=action.if_exhausted.text if action.if_exhausted else None,
        escalates=escalates,
        awaiting=awaiting,
    )
    out: list[Recommendation] = [rec]
    if check and check.exhausted and action.if_exhausted:
        for step in action.if_exhausted.actions:
            out.extend(_apply(step, facts, size, protocol, escalates=action.id))
    return out


def _replace_escalated(applied: list[Recommendation]) -> list[Recommendation]:
    """An escalation's drug replaces the grade's own option for that drug (e.g. dexamethasone 12-hourly)."""
    escalated = {r.drug.key for r in applied if isinstance(r, MedicationRecommendation) and r.escalates}
    return [r for r in applied
            if r.escalates or not (isinstance(r, MedicationRecommendation) and r.drug.key in escalated)]


def _at_most_one_recommended(items: list[Recommendation]) -> list[Recommendation]:
    """Mutually exclusive options: keep the first recommended one per group, demote the rest."""
    seen: set[str] = set()
    out: list[Recommendation] = []
    for r in items:
        group = r.alternative_group if isinstance(r, MedicationRecommendation) else None
        if isinstance(r, MedicationRecommendation) and group and r.recommended:
            if group in seen:
                r = replace(r, recommended=False, rationale=r.rationale + (AnotherOptionRecommended(group),))
            seen.add(group)
        out.append(r)
    return out


# ---------------------------------------------------------------- warnings

def _warnings(protocol: Protocol, facts: Facts) -> tuple[list[WarningRecommendation], list[ProtocolNote]]:
    warnings: list[WarningRecommendation] = []
    notes: list[ProtocolNote] = []
    for rule in protocol.warnings:
        outcome = all_hold(rule.when, facts)
        if outcome.holds:
            warnings.append(WarningRecommendation(rule.id, rule.text, (rule.source,), rationale=outcome.reasons,
                                                  evidence=outcome.evidence,
                                                  names_index_therapy=rule.names_index_therapy,
                                                  index_class=facts.assessment.index_class, short=rule.short))
        elif outcome.unknown:
            notes.append(WarningNotEvaluated(rule.id, outcome.reasons, rule.text))
    return warnings, notes


def _classified(pending: Iterable[PendingDose | DrugAdministration], protocol: Protocol
                ) -> tuple[PendingDose | DrugAdministration, ...]:
    """Give pending orders their drug class from the protocol, so class conditions count them."""
    out: list[PendingDose | DrugAdministration] = []
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
