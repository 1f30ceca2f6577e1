"""The CRS and ICANS assessment card shown on patient-view.

One card per eligible patient with something to say: a CRS or ICANS grade with
its drivers and evidence, hypotension/hypoxia without documented fever, or data
too incomplete to grade CRS. Silence (no card) only when the patient is not
eligible, or was assessed on complete CRS data with no CRS signs and has no
ICANS (an ICANS gap alone is said on a card that has another reason to show:
sites that do not chart the ICE score would otherwise see a card for every
patient). The summary states both gradings ("CRS grade 2 · ICANS grade 3
(ASTCT)") and the indicator follows the worse of the two.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from clinical import Assessment, Evidence, IcansAssessment
from clinical.findings import FeverDriver, NotGraded
from protocols import Recommendations

from .card import SUMMARY_LIMIT, Card
from .markdown import bullets, table, truncate, when
from .recommendation_cards import (
    PROTOCOL_TOPIC,
    alternatives_card,
    combined_orders,
    concurrent_section,
    exclusive_groups,
    first_section,
    merged_warnings,
    recommendations_section,
    warnings_section,
)
from .suggestions import diagnosis_suggestion, order_suggestion
from .wording import evidence, findings, readings
from .wording import recommendations as recommendation_words
from .wording.numbers import celsius, hours, stamp

ASSESSMENT_KIND = "crs-assessment"
ASTCT_SOURCE: dict[str, Any] = {
    "label": "ASTCT consensus grading for CRS (Lee et al., Biol Blood Marrow Transplant 2019)",
    "url": "https://pubmed.ncbi.nlm.nih.gov/30592986/",
    "topic": {"system": "urn:crs-cds:card-kind", "code": ASSESSMENT_KIND, "display": "CRS assessment"},
}
INDICATOR_BY_GRADE = {0: "info", 1: "info", 2: "warning", 3: "critical", 4: "critical"}
# A hypotension or hypoxia tier this high (a vasopressor; high-flow oxygen or positive pressure) is urgent even
# when it is not graded as CRS (clinical review): the card is at least a warning.
URGENT_SIGN_TIER = 3

TIMELINE_LABEL = "CRS timeline: vitals, treatment and grade since the infusion, with all evidence"
_ROLE_ORDER = {"fever": 0, "hypotension": 1, "vasopressor": 2, "hypoxia": 3, "masking": 4,
               "index-therapy": 5, "context": 6}


def assessment_extension(assessment: Assessment, protocol_id: str) -> dict[str, Any]:
    """The machine-readable ``crs-cds.assessment`` value (shape fixed by design.md)."""
    extension: dict[str, Any] = {**grading_extension(assessment), "protocol": protocol_id}
    if assessment.icans is not None:
        extension["icans"] = grading_extension(assessment.icans)
    return extension


def grading_extension(grading: Assessment | IcansAssessment) -> dict[str, Any]:
    """One grading's fields (CRS, or the ``icans`` object: the same shape, design.md)."""
    return {
        "system": grading.system,
        "status": grading.status,
        "grade": grading.grade,
        "worstGrade": grading.worst_grade,
        "drivers": [findings.driver(d) for d in grading.drivers],
        "missing": [findings.missing(m) for m in grading.missing],
    }


def grade_text(assessment: Assessment | IcansAssessment) -> str:
    """``3`` or ``≥ 2`` when missing data make the grade a lower bound."""
    return f"≥ {assessment.grade}" if assessment.lower_bound else str(assessment.grade)


def _summary(assessment: Assessment) -> str:
    if assessment.icans is not None and assessment.has_icans:
        return truncate(_both_summary(assessment, assessment.icans), SUMMARY_LIMIT)
    return truncate(_crs_summary(assessment), SUMMARY_LIMIT)


def _both_summary(assessment: Assessment, icans: IcansAssessment) -> str:
    """``CRS grade 2 · ICANS grade 3 (ASTCT): <CRS main driver>; <ICANS main driver>``, or ICANS alone
    with what CRS is when it has no grade."""
    icans_head = f"ICANS grade {grade_text(icans)}"
    icans_driver = findings.driver(icans.drivers[0])
    if assessment.has_crs:
        crs_driver = _headline_drivers(assessment)[:1]
        return f"CRS grade {grade_text(assessment)} · {icans_head} (ASTCT): " + "; ".join([*crs_driver, icans_driver])
    crs_state = {"not-graded": "hypotension/hypoxia not graded as CRS (no fever)",
                 "insufficient-data": "CRS cannot be assessed"}.get(assessment.status)
    return f"{icans_head} (ASTCT): {icans_driver}" + (f"; {crs_state}" if crs_state else "")


def _lapsed(assessment: Assessment) -> NotGraded | None:
    """The note that fever was documented (CRS onset) but has gone from the fever window."""
    return next((n for n in assessment.notes if isinstance(n, NotGraded) and n.since_onset), None)


def _crs_summary(assessment: Assessment) -> str:
    lapsed = _lapsed(assessment)
    if assessment.status == "not-graded" and lapsed is not None and assessment.onset is not None:
        text = (f"Not graded as CRS: fever window lapsed (CRS onset {stamp(assessment.onset)}, no fever in "
                f"{hours(lapsed.window_hours)}); hypotension/hypoxia now — evaluate other causes")
    elif assessment.status == "not-graded":
        text = "Hypotension/hypoxia without documented fever: not graded as CRS; evaluate other causes"
    elif assessment.status == "insufficient-data" and assessment.drivers:
        text = ("CRS grade cannot be established (ASTCT): no current temperature; "
                + findings.driver(assessment.drivers[0]))
    elif assessment.status == "insufficient-data":
        first = findings.missing(assessment.missing[0]) if assessment.missing else "data missing"
        text = f"Cannot assess CRS (ASTCT): {first}"
    elif assessment.grade == 0:
        text = "No CRS signs in the available data, but data are incomplete: " + (
            findings.missing(assessment.missing[0]) if assessment.missing else "see details")
    else:
        text = f"CRS grade {grade_text(assessment)} (ASTCT): " + "; ".join(_headline_drivers(assessment))
    return text


def _headline_drivers(assessment: Assessment) -> list[str]:
    """The main driver, then the fever that makes it CRS (or the next driver)."""
    drivers = list(assessment.drivers)
    if len(drivers) > 2:
        drivers = [drivers[0], next((d for d in drivers[1:] if isinstance(d, FeverDriver)), drivers[1])]
    return [findings.driver(d) for d in drivers]


_INDICATORS = ("info", "warning", "critical")


def _indicator(assessment: Assessment) -> str:
    """The worse of the CRS and the ICANS indicators."""
    levels = [_crs_indicator(assessment)]
    if assessment.icans is not None and assessment.has_icans and assessment.icans.grade is not None:
        levels.append(INDICATOR_BY_GRADE[assessment.icans.grade])
    return max(levels, key=_INDICATORS.index)


def _urgent_sign(assessment: Assessment) -> bool:
    """Not graded as CRS, but a vasopressor, high-flow oxygen or positive pressure is needed now."""
    return assessment.status in ("not-graded", "insufficient-data") and max(
        assessment.hypotension_grade or 0, assessment.hypoxia_grade or 0) >= URGENT_SIGN_TIER


def _crs_indicator(assessment: Assessment) -> str:
    if _urgent_sign(assessment):
        return "warning"  # a new vasopressor or high-flow/positive-pressure need is urgent whatever its cause
    if assessment.status != "graded" or assessment.grade is None:
        return "info"
    return INDICATOR_BY_GRADE[assessment.grade]


def _evidence_rows(assessment: Assessment | IcansAssessment) -> list[list[str]]:
    ordered: list[Evidence] = sorted(assessment.evidence, key=lambda e: (_ROLE_ORDER.get(e.role, 9), e.time))
    return [[e.role, e.what, evidence.value(e), when(e.time, assessment.now), e.source] for e in ordered]


def _icans_detail(icans: IcansAssessment) -> str:
    """The ICANS section: grade, drivers, evidence, missing data and notes."""
    if icans.status == "insufficient-data":
        parts = ["**ICANS cannot be assessed** from the data available."]
    else:
        head = f"**ASTCT ICANS grade {grade_text(icans)}**"
        if icans.worst_grade is not None:
            head += f" (worst since onset: {icans.worst_grade})"
        parts = [head]
        if icans.lower_bound:
            parts.append("Some ICANS inputs are missing, so the ICANS grade is a lower bound: the true grade may be "
                         "higher.")
    if icans.onset is not None:
        parts.append(f"ICANS onset (first finding of grade ≥ 1 after the index therapy): "
                     f"{when(icans.onset, icans.now)}.")
    if icans.drivers:
        parts.append("**What drives the ICANS grade**\n\n" + bullets(findings.driver(d) for d in icans.drivers))
    if icans.evidence:
        parts.append("**ICANS evidence**\n\n" + table(["For", "What", "Value", "When", "Source"],
                                                       _evidence_rows(icans)))
    if icans.missing:
        parts.append("**Missing ICANS data**\n\n" + bullets(findings.missing(m) for m in icans.missing))
    if icans.notes:
        parts.append("**ICANS notes**\n\n" + bullets(findings.note(n, icans.now) for n in icans.notes))
    parts.append(f"ICANS graded by the ASTCT consensus ({icans.system}): the most severe domain "
                 + ("(CAPD, level of consciousness, seizure, motor findings, raised ICP / cerebral oedema)."
                    if icans.paediatric else
                    "(ICE score, level of consciousness, seizure, motor findings, raised ICP / cerebral oedema)."))
    return "\n\n".join(parts)


def _detail(assessment: Assessment, protocol_id: str) -> str:
    parts: list[str] = []
    lapsed = _lapsed(assessment)
    if assessment.status == "graded":
        head = f"**ASTCT CRS grade {grade_text(assessment)}**"
        if assessment.worst_grade is not None:
            head += f" (worst since onset: {assessment.worst_grade})"
        parts.append(head)
    elif assessment.status == "not-graded" and lapsed is not None and assessment.onset is not None:
        parts.append(f"**Not graded as CRS**: CRS onset {when(assessment.onset, assessment.now)}, but no fever in the "
                     f"last {hours(lapsed.window_hours)} and no antipyretic or anticytokine therapy since onset — the "
                     "fever window has lapsed.")
    elif assessment.status == "not-graded":
        parts.append("**Not graded as CRS**: no documented fever since the index therapy.")
    elif assessment.drivers:
        parts.append("**The CRS grade cannot be established** without a current temperature (see the notes); the "
                     "signs below are shown, not graded.")
    else:
        parts.append("**CRS cannot be assessed** from the data available.")
    if _urgent_sign(assessment):
        parts.append(f"**Urgent whatever its cause**: a new need for a vasopressor, high-flow oxygen or positive "
                     f"pressure after {readings.index_therapy(assessment.index_class)} needs review now.")
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
    if assessment.icans is not None and assessment.icans.status != "not-eligible":
        parts.append(_icans_detail(assessment.icans))
    return "\n\n".join(parts)


def needs_card(assessment: Assessment) -> bool:
    """Whether patient-view should show the assessment at all."""
    if assessment.status == "not-eligible":
        return False
    if assessment.has_icans:
        return True
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


def diagnosis_suggestions(assessment: Assessment, *, patient_id: str, encounter_id: str | None,
                          new_uuid: Callable[[], str]) -> list[dict[str, Any]]:
    """For each graded syndrome (CRS, ICANS grade >= 1), a suggestion to record the diagnosis with its
    ICD-10-CM code, grade and onset."""
    out = []
    if assessment.has_crs and assessment.grade is not None:
        out.append(diagnosis_suggestion(syndrome="crs", grade=assessment.grade, lower_bound=assessment.lower_bound,
                                        onset=assessment.onset, patient_id=patient_id, encounter_id=encounter_id,
                                        new_uuid=new_uuid))
    icans = assessment.icans
    if icans is not None and icans.has_icans and icans.grade is not None:
        out.append(diagnosis_suggestion(syndrome="icans", grade=icans.grade, lower_bound=icans.lower_bound,
                                        onset=icans.onset, patient_id=patient_id, encounter_id=encounter_id,
                                        new_uuid=new_uuid))
    return out


def patient_view_cards(assessment: Assessment, *, protocol_id: str, recommendations: Recommendations | None = None,
                       icans_recommendations: Recommendations | None = None, patient_id: str | None = None,
                       encounter_id: str | None = None, timeline_url: str | None = None,
                       new_uuid: Callable[[], str] = lambda: str(uuid.uuid4())) -> list[Card]:
    """Cards for the patient-view hook.

    Without recommendations (or without CRS or ICANS): zero or one assessment card. With CRS and/or
    ICANS and their recommendations: the assessment card gains what the protocol says first (pause a
    T-cell engager infusion), the protocol sections (with concurrent CRS and ICANS, the ICANS section
    first, saying why the corticosteroid comes first), the safety warnings and the combinable order
    suggestions, followed by one ``at-most-one`` card per set of mutually exclusive orders. With
    ``timeline_url`` (a SMART client id is configured) the assessment card links to the timeline page;
    without it, no link at all, never a broken one.
    """
    check = recommendations.oxygen_check if recommendations is not None else None
    if not needs_card(assessment) and check is None:
        return []
    card = assessment_card(assessment, protocol_id=protocol_id, new_uuid=new_uuid)
    if check is not None:
        card["detail"] = f"**{recommendation_words.oxygen_check(check)}**\n\n" + card["detail"]
        if not needs_card(assessment):  # the prompt is what this card is for
            card["summary"] = truncate(recommendation_words.oxygen_check_summary(check), SUMMARY_LIMIT)
            card["indicator"] = max(card["indicator"], "warning", key=_INDICATORS.index)
    if timeline_url is not None:
        card["links"] = [timeline_link(timeline_url)]
    issued = Card(card, ASSESSMENT_KIND, assessment.grade, protocol_id)
    if patient_id is None:
        return [issued]
    diagnoses = diagnosis_suggestions(assessment, patient_id=patient_id, encounter_id=encounter_id,
                                      new_uuid=new_uuid)
    if diagnoses:
        card["suggestions"], card["selectionBehavior"] = diagnoses, "any"
    active = [r for r, present in ((recommendations, assessment.has_crs),
                                   (icans_recommendations, assessment.has_icans)) if r is not None and present]
    if not active:
        return [issued]
    if len(active) == 2 and active[1].concurrent is not None:
        active.reverse()  # concurrent CRS and ICANS: the ICANS section, corticosteroid first, leads
    now = assessment.now
    first = first_section(active, now)
    if first:
        card["detail"] = first + "\n\n" + card["detail"]
    sections = [concurrent_section(r) for r in active] + [recommendations_section(r, now) for r in active]
    sections.append(warnings_section(merged_warnings(active), now))
    card["detail"] += "\n\n" + "\n\n".join(s for s in sections if s)
    orders = combined_orders(active)
    if orders:
        card["suggestions"] = [order_suggestion(r, grade=recs.grade, syndrome=recs.syndrome, patient_id=patient_id,
                                                encounter_id=encounter_id, new_uuid=new_uuid)
                               for r, recs in orders] + diagnoses
        card["selectionBehavior"] = "any"
    cards = [issued]
    for recs in active:
        for group, options in exclusive_groups(recs).items():
            cards.append(Card(alternatives_card(group, options, recs, now, patient_id=patient_id,
                                                encounter_id=encounter_id, new_uuid=new_uuid),
                              PROTOCOL_TOPIC["code"], None, recs.protocol_id))
    return cards
