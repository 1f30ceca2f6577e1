"""The CRS assessment card shown on patient-view.

One card per eligible patient with something to say: a grade with its drivers
and evidence, hypotension/hypoxia without documented fever, or data too
incomplete to grade. Silence (no card) only when the patient is not eligible
or was assessed on complete data and has no CRS signs.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from clinical import Assessment, Evidence
from clinical.findings import FeverDriver
from protocols import Recommendations

from .card import SUMMARY_LIMIT, Card
from .markdown import bullets, table, truncate, when
from .recommendation_cards import (
    PROTOCOL_TOPIC,
    alternatives_card,
    combinable_orders,
    exclusive_groups,
    recommendations_section,
    suggestions,
    warnings_section,
)
from .wording import evidence, findings
from .wording.numbers import celsius

ASSESSMENT_KIND = "crs-assessment"
ASTCT_SOURCE: dict[str, Any] = {
    "label": "ASTCT consensus grading for CRS (Lee et al., Biol Blood Marrow Transplant 2019)",
    "url": "https://pubmed.ncbi.nlm.nih.gov/30592986/",
    "topic": {"system": "urn:crs-cds:card-kind", "code": ASSESSMENT_KIND, "display": "CRS assessment"},
}
INDICATOR_BY_GRADE = {0: "info", 1: "info", 2: "warning", 3: "critical", 4: "critical"}
TIMELINE_LABEL = "CRS timeline: vitals, treatment and grade since the infusion, with all evidence"
_ROLE_ORDER = {"fever": 0, "hypotension": 1, "vasopressor": 2, "hypoxia": 3, "masking": 4,
               "index-therapy": 5, "context": 6}


def assessment_extension(assessment: Assessment, protocol_id: str) -> dict[str, Any]:
    """The machine-readable ``crs-cds.assessment`` value (shape fixed by design.md)."""
    return {
        "system": assessment.system,
        "status": assessment.status,
        "grade": assessment.grade,
        "worstGrade": assessment.worst_grade,
        "drivers": [findings.driver(d) for d in assessment.drivers],
        "missing": [findings.missing(m) for m in assessment.missing],
        "protocol": protocol_id,
    }


def grade_text(assessment: Assessment) -> str:
    """``3`` or ``≥ 2`` when missing data make the grade a lower bound."""
    return f"≥ {assessment.grade}" if assessment.lower_bound else str(assessment.grade)


def _summary(assessment: Assessment) -> str:
    if assessment.status == "not-graded":
        text = "Hypotension/hypoxia without documented fever: not graded as CRS; evaluate other causes"
    elif assessment.status == "insufficient-data":
        first = findings.missing(assessment.missing[0]) if assessment.missing else "data missing"
        text = f"Cannot assess CRS (ASTCT): {first}"
    elif assessment.grade == 0:
        text = "No CRS signs in the available data, but data are incomplete: " + (
            findings.missing(assessment.missing[0]) if assessment.missing else "see details")
    else:
        text = f"CRS grade {grade_text(assessment)} (ASTCT): " + "; ".join(_headline_drivers(assessment))
    return truncate(text, SUMMARY_LIMIT)


def _headline_drivers(assessment: Assessment) -> list[str]:
    """The main driver, then the fever that makes it CRS (or the next driver)."""
    drivers = list(assessment.drivers)
    if len(drivers) > 2:
        drivers = [drivers[0], next((d for d in drivers[1:] if isinstance(d, FeverDriver)), drivers[1])]
    return [findings.driver(d) for d in drivers]


def _indicator(assessment: Assessment) -> str:
    if assessment.status != "graded" or assessment.grade is None:
        return "info"
    return INDICATOR_BY_GRADE[assessment.grade]


def _evidence_rows(assessment: Assessment) -> list[list[str]]:
    ordered: list[Evidence] = sorted(assessment.evidence, key=lambda e: (_ROLE_ORDER.get(e.role, 9), e.time))
    return [[e.role, e.what, evidence.value(e), when(e.time, assessment.now), e.source] for e in ordered]


def _detail(assessment: Assessment, protocol_id: str) -> str:
    parts: list[str] = []
    if assessment.status == "graded":
        head = f"**ASTCT CRS grade {grade_text(assessment)}**"
        if assessment.worst_grade is not None:
            head += f" (worst since onset: {assessment.worst_grade})"
        parts.append(head)
    elif assessment.status == "not-graded":
        parts.append("**Not graded as CRS**: no documented fever since the index therapy.")
    else:
        parts.append("**CRS cannot be assessed** from the data available.")
    if assessment.lower_bound:
        parts.append("Some inputs are missing, so the grade is a lower bound: the true grade may be higher.")
    if assessment.onset is not None:
        threshold = assessment.fever_threshold_c
        fever = f"first fever ≥ {celsius(threshold)}" if threshold is not None else "first fever"
        parts.append(f"CRS onset ({fever} after the index therapy): {when(assessment.onset, assessment.now)}.")
    if assessment.drivers:
        parts.append("**What drives the grade**\n\n" + bullets(findings.driver(d) for d in assessment.drivers))
    if assessment.evidence:
        parts.append("**Evidence**\n\n" + table(["For", "What", "Value", "When", "Source"], _evidence_rows(assessment)))
    if assessment.missing:
        parts.append("**Missing or stale data**\n\n" + bullets(findings.missing(m) for m in assessment.missing))
    if assessment.notes:
        parts.append("**Notes**\n\n" + bullets(findings.note(n, assessment.now) for n in assessment.notes))
    parts.append(f"Graded by the ASTCT consensus ({assessment.system}); protocol `{protocol_id}`. "
                 "Organ toxicities are graded separately (CTCAE) and do not change the CRS grade.")
    return "\n\n".join(parts)


def needs_card(assessment: Assessment) -> bool:
    """Whether patient-view should show the assessment at all."""
    if assessment.status == "not-eligible":
        return False
    if assessment.status == "graded" and (assessment.grade or 0) == 0:
        return assessment.lower_bound  # incomplete data is a finding; complete and normal is silence
    return True


def assessment_card(assessment: Assessment, *, protocol_id: str,
                    new_uuid: Callable[[], str] = lambda: str(uuid.uuid4())) -> dict[str, Any]:
    """Build the CDS Hooks card for ``assessment`` (call only when ``needs_card``)."""
    return {
        "uuid": new_uuid(),
        "summary": _summary(assessment),
        "indicator": _indicator(assessment),
        "detail": _detail(assessment, protocol_id),
        "source": ASTCT_SOURCE,
        "extension": {"crs-cds.assessment": assessment_extension(assessment, protocol_id)},
    }


def timeline_link(url: str) -> dict[str, Any]:
    """The SMART link to the CRS timeline page (``url``: its launch endpoint, ``/app/launch``)."""
    return {"label": TIMELINE_LABEL, "url": url, "type": "smart"}


def patient_view_cards(assessment: Assessment, *, protocol_id: str, recommendations: Recommendations | None = None,
                       patient_id: str | None = None, encounter_id: str | None = None, timeline_url: str | None = None,
                       new_uuid: Callable[[], str] = lambda: str(uuid.uuid4())) -> list[Card]:
    """Cards for the patient-view hook.

    Without recommendations (or without CRS): zero or one assessment card. With
    CRS and recommendations: the assessment card gains the protocol section,
    safety warnings and the combinable order suggestions, followed by one
    ``at-most-one`` card per set of mutually exclusive orders. With ``timeline_url``
    (a SMART client id is configured) the assessment card links to the timeline page;
    without it, no link at all, never a broken one.
    """
    if not needs_card(assessment):
        return []
    card = assessment_card(assessment, protocol_id=protocol_id, new_uuid=new_uuid)
    if timeline_url is not None:
        card["links"] = [timeline_link(timeline_url)]
    issued = Card(card, ASSESSMENT_KIND, assessment.grade, protocol_id)
    if recommendations is None or not assessment.has_crs or patient_id is None:
        return [issued]
    recs = recommendations
    sections = [recommendations_section(recs, assessment.now), warnings_section(recs, assessment.now)]
    card["detail"] += "\n\n" + "\n\n".join(s for s in sections if s)
    orders = combinable_orders(recs)
    if orders:
        card["suggestions"] = suggestions(orders, recs, patient_id=patient_id, encounter_id=encounter_id,
                                          new_uuid=new_uuid)
        card["selectionBehavior"] = "any"
    cards = [issued]
    for group, options in exclusive_groups(recs).items():
        cards.append(Card(alternatives_card(group, options, recs, assessment.now, patient_id=patient_id,
                                            encounter_id=encounter_id, new_uuid=new_uuid),
                          PROTOCOL_TOPIC["code"], None, recs.protocol_id))
    return cards
