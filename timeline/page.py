"""The timeline page as values: header, summary, chart, evidence, protocol section.

``build_page`` reads the clinical values (snapshot, assessment, grade series,
recommendations) and words them with ``cards.wording``, the same words the card and
``crs-cds grade`` use; the template only lays them out. No grade or dose is decided here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cards.recommendation_cards import status_text
from cards.wording import evidence, findings, reasons, recommendations
from cards.wording.times import LocalTimes
from clinical import Assessment, ClinicalSnapshot, Evidence
from grading import GradingConfig, grade_series
from grading.hypotension import threshold_for
from protocols import MedicationRecommendation, Recommendations, ServiceRecommendation

from .chart import Chart, ChartInput, build_chart

ROLE_ORDER = {"fever": 0, "hypotension": 1, "vasopressor": 2, "hypoxia": 3, "masking": 4, "index-therapy": 5,
              "context": 6}
NO_INDEX_LOOKBACK = timedelta(days=7)  # the axis without an index therapy: the last week of data


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    role: str
    what: str
    value: str
    when: str
    source: str


@dataclass(frozen=True, slots=True)
class ActionItem:
    """One protocol action (or warning) with its status and its sources, as the card words them."""

    kind: str
    text: str
    status: str
    why: tuple[str, ...]
    evidence: tuple[str, ...]
    note: str | None
    sources: tuple[str, ...]
    recommended: bool
    orderable: bool


@dataclass(frozen=True, slots=True)
class ProtocolSection:
    title: str  # "ASTCT consensus ... (astct-generic v1)"
    grade: int | None
    items: tuple[ActionItem, ...]
    warnings: tuple[ActionItem, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TimelinePage:
    patient_id: str
    age: str | None
    now: str  # local time of the assessment
    zone: str
    data_source: str  # where the data were read from
    status: str
    grade: int | None
    grade_text: str  # "3", "≥ 2", "not graded"
    worst_grade: int | None
    onset: str | None
    index_therapy: str | None
    drivers: tuple[str, ...]
    missing: tuple[str, ...]
    notes: tuple[str, ...]
    evidence: tuple[EvidenceRow, ...]
    excluded: tuple[tuple[str, str], ...]  # (FHIR reference, why it was left out)
    protocol: ProtocolSection
    chart: Chart
    system: str


def grade_text(a: Assessment) -> str:
    if a.status == "graded":
        return f"≥ {a.grade}" if a.lower_bound else str(a.grade)
    return {"not-graded": "not graded", "insufficient-data": "cannot be assessed",
            "not-eligible": "not assessed (no index therapy)"}[a.status]


def axis_start(assessment: Assessment, now: datetime) -> datetime:
    """The index therapy (day 0), a little before it so its line is visible; else the last week."""
    index = assessment.index_therapy
    if index is not None:
        return index.start - max(timedelta(hours=2), (now - index.start) / 50)
    return now - NO_INDEX_LOOKBACK


def _evidence_rows(a: Assessment, times: LocalTimes) -> tuple[EvidenceRow, ...]:
    ordered: list[Evidence] = sorted(a.evidence, key=lambda e: (ROLE_ORDER.get(e.role, 9), e.time))
    return tuple(EvidenceRow(e.role, e.what, _with_what(e), times.when(e.time, a.now), e.source) for e in ordered)


def _with_what(e: Evidence) -> str:
    """The value, led by what it is unless it already says so (``norepinephrine 0.05 ug/kg/min``)."""
    value = evidence.value(e)
    return value if value.lower().startswith(e.what.lower()) else f"{e.what}: {value}"


def _evidence_line(e: Evidence, now: datetime, times: LocalTimes) -> str:
    """``acetaminophen 1000 mg given after CRS onset, <when>, <reference>``: the thing named once."""
    return f"{evidence.line(e)}, {times.when(e.time, now)}, {e.source}"


def protocol_section(recs: Recommendations, now: datetime, times: LocalTimes) -> ProtocolSection:
    items = tuple(
        ActionItem(r.kind, recommendations.text(r), status_text(r, recs), tuple(reasons.reason(x) for x in r.rationale),
                   tuple(_evidence_line(e, now, times) for e in r.evidence),
                   r.note if isinstance(r, MedicationRecommendation) else None,
                   tuple(c.label for c in r.sources),
                   isinstance(r, MedicationRecommendation | ServiceRecommendation) and r.recommended, r.orderable)
        for r in recs.items)
    warnings = tuple(
        ActionItem(w.kind, w.text, "warning", tuple(reasons.reason(x) for x in w.rationale),
                   tuple(_evidence_line(e, now, times) for e in w.evidence), None,
                   tuple(c.label for c in w.sources), False, False)
        for w in recs.warnings)
    title = f"{recs.protocol_title} ({recs.protocol_id} v{recs.protocol_version})"
    return ProtocolSection(title, recs.grade, items, warnings, tuple(reasons.note(n) for n in recs.notes))


def build_page(*, patient_id: str, snapshot: ClinicalSnapshot, assessment: Assessment,
               recommendations: Recommendations, grading: GradingConfig, times: LocalTimes,
               data_source: str) -> TimelinePage:
    """The page for one patient at ``assessment.now``, its band grading's own ``grade_series``."""
    a, now = assessment, assessment.now
    age = snapshot.age_years(now)
    threshold, _ = threshold_for(age, grading)
    index = a.index_therapy
    start = axis_start(a, now)
    series = grade_series(snapshot, start, now, grading)
    chart = build_chart(ChartInput(snapshot, series, start, now, threshold, grading, times, index))
    return TimelinePage(
        patient_id=patient_id,
        age=None if age is None else f"{age:g} y",
        now=times.stamp(now),
        zone=times.name,
        data_source=data_source,
        status=a.status,
        grade=a.grade,
        grade_text=grade_text(a),
        worst_grade=a.worst_grade,
        onset=times.when(a.onset, now) if a.onset is not None else None,
        index_therapy=(f"{index.display}, {times.when(index.start, now)} ({index.source})"
                       if index is not None else None),
        drivers=tuple(findings.driver(d) for d in a.drivers),
        missing=tuple(findings.missing(m) for m in a.missing),
        notes=tuple(findings.note(n, now) for n in a.notes),
        evidence=_evidence_rows(a, times),
        excluded=tuple((x.source, x.reason) for x in snapshot.excluded),
        protocol=protocol_section(recommendations, now, times),
        chart=chart,
        system=a.system,
    )
