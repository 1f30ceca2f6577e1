"""Evaluate the protocol condition vocabulary against the patient's data.

Each term answers with a verdict, the facts a clinician can check (typed
``reasons``: "2 tocilizumab doses since the index therapy (needs ≥ 2)" once
worded) and the FHIR evidence behind it. Missing data is never read as
"condition false" silently: the reason says what was missing and ``unknown`` is set.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from clinical import (
    Administered,
    Assessment,
    ClinicalSnapshot,
    CountedDose,
    DrugAdministration,
    Evidence,
    EvidenceRole,
    IndexClass,
    MeasurementReading,
    TemperatureReading,
)
from grading import GradingConfig
from grading.windows import period_of

from .dose import latest_measurement
from .history import COUNTED_STATUSES, GivenDose, PendingDose, given_doses
from .model import Condition, DoseCount, Settings
from .reasons import (
    ClassNotPlannedOrRunning,
    ClassPlanned,
    ClassRunning,
    CrsNow,
    FebrileNow,
    FeverDuration,
    HypotensionNow,
    IcansNow,
    IndexClassIs,
    IndexTherapyRunning,
    LatestAnc,
    MaskingApplied,
    MaskingTherapyGiven,
    NoAnc,
    NoMaskingTherapy,
    OnsetUnknown,
    PriorDoses,
    Reason,
    StaleAnc,
)


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a condition may look at, for one request.

    The fever threshold and the masking drug classes are the grading data's (``grading``), so a
    site that changes them in its grading file changes protocol conditions too; how long a drug
    counts as running and how old an ANC may be are the protocol's ``settings``.
    """

    assessment: Assessment
    snapshot: ClinicalSnapshot
    now: datetime
    grading: GradingConfig
    settings: Settings
    pending: tuple[PendingDose | DrugAdministration, ...] = ()
    planned_classes: frozenset[str] = frozenset()  # drug classes in the recommendations so far
    section_onset: datetime | None = None  # onset of the syndrome the section treats (CRS, or ICANS)

    @property
    def index_start(self) -> datetime | None:
        it = self.assessment.index_therapy
        return it.start if it else None


@dataclass(frozen=True, slots=True)
class Outcome:
    holds: bool
    reasons: tuple[Reason, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    unknown: bool = False  # decided on missing data


@dataclass(frozen=True, slots=True)
class FeverSpan:
    hours: float
    evidence: tuple[Evidence, ...] = field(default=())


def all_hold(conditions: Iterable[Condition], facts: Facts) -> Outcome:
    """All terms hold (an empty list holds)."""
    outcomes = [evaluate(c, facts) for c in conditions]
    return Outcome(all(o.holds for o in outcomes),
                   tuple(r for o in outcomes for r in o.reasons),
                   tuple(e for o in outcomes for e in o.evidence),
                   any(o.unknown for o in outcomes))


def evaluate(cond: Condition, facts: Facts) -> Outcome:
    handler = _HANDLERS[cond.name]
    return handler(cond, facts)


def _prior_doses(cond: Condition, facts: Facts) -> Outcome:
    spec = cond.value
    assert isinstance(spec, DoseCount)
    doses = given_doses(facts.snapshot, facts.pending, drug=spec.drug, drug_class=spec.drug_class,
                        since=facts.index_start)
    n = len(doses)
    bound: Literal["min", "max"] = "min" if cond.name == "min_prior_doses" else "max"
    holds = n >= spec.count if bound == "min" else n <= spec.count
    reason = PriorDoses(bound, spec.count, spec.drug or str(spec.drug_class), n, facts.index_start is not None)
    return Outcome(holds, (reason,), dose_evidence(doses))


def _doses_since_onset(cond: Condition, facts: Facts) -> Outcome:
    spec = cond.value
    assert isinstance(spec, DoseCount)
    onset = facts.section_onset
    if onset is None:
        return Outcome(False, (OnsetUnknown(),))
    doses = given_doses(facts.snapshot, facts.pending, drug=spec.drug, drug_class=spec.drug_class, since=onset)
    reason = PriorDoses("min", spec.count, spec.drug or str(spec.drug_class), len(doses), False, since_onset=True)
    return Outcome(len(doses) >= spec.count, (reason,), dose_evidence(doses))


def _crs(cond: Condition, facts: Facts) -> Outcome:
    a = facts.assessment
    grade = a.grade if a.has_crs else None
    if cond.name == "crs_present":
        return Outcome(a.has_crs == bool(cond.value), (CrsNow(grade),), _roles(a.evidence, "fever", "hypotension",
                                                                               "vasopressor", "hypoxia"))
    at_least = int(str(cond.value))
    return Outcome(grade is not None and grade >= at_least, (CrsNow(grade, at_least),))


def _icans(cond: Condition, facts: Facts) -> Outcome:
    icans = facts.assessment.icans
    present = facts.assessment.has_icans
    return Outcome(present == bool(cond.value), (IcansNow(icans.grade if icans and present else None),))


def _index_running(cond: Condition, facts: Facts) -> Outcome:
    a = facts.assessment
    admin = a.latest_index_therapy or a.index_therapy
    period = period_of(admin, facts.now) if admin is not None else None
    running = period is not None and period.running
    evidence = (Evidence("index-therapy", admin.drug, Administered(admin, "infusion", running), admin.start,
                         admin.source),) if admin is not None else ()
    return Outcome(running == bool(cond.value), (IndexTherapyRunning(admin, running),), evidence)


_INDEX_CLASSES: dict[object, IndexClass] = {"car-t": "car-t", "t-cell-engager": "t-cell-engager"}  # schema enum


def _index_class(cond: Condition, facts: Facts) -> Outcome:
    wanted = _INDEX_CLASSES[cond.value]
    actual = facts.assessment.index_class
    return Outcome(actual == wanted, (IndexClassIs(actual, wanted),), (), actual is None)  # unknown: said


def _roles(evidence: Iterable[Evidence], *roles: EvidenceRole) -> tuple[Evidence, ...]:
    return tuple(e for e in evidence if e.role in roles)


def _hypotension(cond: Condition, facts: Facts) -> Outcome:
    grade = facts.assessment.hypotension_grade
    if grade is None:
        return Outcome(False, (HypotensionNow(None),), unknown=True)
    present = grade >= 2
    evidence = tuple(e for e in facts.assessment.evidence if e.role in ("hypotension", "vasopressor"))
    return Outcome(present == bool(cond.value), (HypotensionNow(grade),), evidence)


def _febrile(cond: Condition, facts: Facts) -> Outcome:
    present = facts.assessment.fever_present
    evidence = tuple(e for e in facts.assessment.evidence if e.role == "fever")
    return Outcome(present == bool(cond.value), (FebrileNow(present),), evidence)


def fever_span(facts: Facts) -> FeverSpan | None:
    """How long fever has lasted: onset to the latest temperature at or above the grading data's
    fever threshold, while still febrile."""
    onset = facts.assessment.onset
    if onset is None or not facts.assessment.fever_present:
        return None
    threshold = facts.grading.fever_threshold_c
    febrile = [t for t in facts.snapshot.temperatures if t.celsius >= threshold and onset <= t.time <= facts.now]
    if not febrile:
        return None
    first, latest = min(febrile, key=lambda t: t.time), max(febrile, key=lambda t: t.time)
    evidence = tuple(Evidence("fever", "temperature", TemperatureReading(t, as_recorded=True), t.time, t.source)
                     for t in ((first, latest) if first is not latest else (first,)))
    return FeverSpan((latest.time - onset).total_seconds() / 3600, evidence)


def _fever_duration(cond: Condition, facts: Facts) -> Outcome:
    limit = cond.value
    assert isinstance(limit, Decimal)
    strict = cond.name.endswith("_gt")
    span = fever_span(facts)
    if span is None:
        return Outcome(False, (FeverDuration(limit, strict, None, facts.assessment.onset),))
    holds = span.hours > float(limit) if strict else span.hours >= float(limit)
    return Outcome(holds, (FeverDuration(limit, strict, span.hours, facts.assessment.onset),), span.evidence)


def _anc_below(cond: Condition, facts: Facts) -> Outcome:
    anc = latest_measurement(facts.snapshot, "anc", facts.now)
    max_age = facts.settings.anc_max_age
    if anc is None:
        return Outcome(False, (NoAnc(max_age.total_seconds() / 3600),), unknown=True)
    threshold = cond.value
    assert isinstance(threshold, Decimal)
    limit = float(threshold)
    if facts.now - anc.time > max_age and not anc.value < limit:
        return Outcome(False, (StaleAnc(anc, max_age.total_seconds() / 3600),), unknown=True)
    evidence = (Evidence("context", "absolute neutrophil count", MeasurementReading(anc), anc.time, anc.source),)
    return Outcome(anc.value < limit, (LatestAnc(anc, threshold),), evidence)


def _planned_or_running(cond: Condition, facts: Facts) -> Outcome:
    drug_class = str(cond.value)
    window = facts.settings.running_window
    running = tuple(a for a in facts.snapshot.administrations
                    if a.drug_class == drug_class and a.status in COUNTED_STATUSES
                    and (a.in_progress or facts.now - window <= a.start <= facts.now))
    planned = drug_class in facts.planned_classes
    reasons: list[Reason] = []
    if planned:
        reasons.append(ClassPlanned(drug_class))
    if running:
        reasons.append(ClassRunning(drug_class, tuple(sorted({a.drug for a in running})),
                                    window.total_seconds() / 3600))
    return Outcome(planned or bool(running), tuple(reasons) or (ClassNotPlannedOrRunning(drug_class),),
                   _administration_evidence(running, "context"))


def _masked(cond: Condition, facts: Facts) -> Outcome:
    # ASTCT masking (clinical-reference.md §1): only therapy given at or after CRS onset can mask
    # fever; an antipyretic before onset (e.g. premedication at the infusion) does not. Which drug
    # classes mask is the grading data's list, the one grading itself applies.
    onset = facts.assessment.onset
    given = tuple(a for a in facts.snapshot.administrations
                  if a.drug_class in facts.grading.masking_drug_classes and a.status in COUNTED_STATUSES
                  and onset is not None and onset <= a.start <= facts.now)
    masked = facts.assessment.masked or bool(given)
    reasons: list[Reason] = []
    if facts.assessment.masked:
        reasons.append(MaskingApplied())
    if given:
        reasons.append(MaskingTherapyGiven(tuple(sorted({a.drug for a in given}))))
    evidence = (tuple(e for e in facts.assessment.evidence if e.role == "masking")
                + _administration_evidence(given, "masking"))
    return Outcome(masked == bool(cond.value), tuple(reasons) or (NoMaskingTherapy(),), evidence)


def _any_of(cond: Condition, facts: Facts) -> Outcome:
    terms = cond.value
    assert isinstance(terms, tuple)
    outcomes = [evaluate(c, facts) for c in terms]
    held = [o for o in outcomes if o.holds]
    chosen = held or outcomes
    return Outcome(bool(held), tuple(r for o in chosen for r in o.reasons),
                   tuple(e for o in chosen for e in o.evidence), not held and any(o.unknown for o in outcomes))


_HANDLERS: dict[str, Callable[[Condition, Facts], Outcome]] = {
    "min_prior_doses": _prior_doses,
    "max_prior_doses": _prior_doses,
    "hypotension_persisting": _hypotension,
    "febrile": _febrile,
    "fever_duration_hours_gt": _fever_duration,
    "fever_duration_hours_gte": _fever_duration,
    "anc_below": _anc_below,
    "drug_class_planned_or_running": _planned_or_running,
    "fever_may_be_masked": _masked,
    "any_of": _any_of,
    "min_doses_since_onset": _doses_since_onset,
    "crs_present": _crs,
    "crs_grade_at_least": _crs,
    "icans_present": _icans,
    "index_therapy_running": _index_running,
    "index_class": _index_class,
}


def dose_evidence(doses: Iterable[GivenDose]) -> tuple[Evidence, ...]:
    return tuple(Evidence("context", d.drug, CountedDose(d.drug, d.dose_mg, d.pending, d.stopped), d.time, d.source)
                 for d in doses)


def _administration_evidence(given: Iterable[DrugAdministration], role: EvidenceRole) -> tuple[Evidence, ...]:
    return tuple(Evidence(role, a.drug, Administered(a, "record"), a.start, a.source) for a in given)
