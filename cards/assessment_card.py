"""The CRS and ICANS assessment card shown on patient-view: short enough to read at the bedside.

One card per eligible patient with something to say: a CRS or ICANS grade with its drivers, hypotension/
hypoxia without documented fever, or data too incomplete to grade CRS. Silence (no card) only when the
patient is not eligible, or was assessed on complete CRS data with no CRS signs and has no ICANS (an ICANS
gap alone is said on a card that has another reason to show: sites that do not chart the ICE score would
otherwise see a card for every patient). The summary states both gradings ("CRS grade 2 · ICANS grade 3
(ASTCT)") and the indicator follows the worse of the two.

The detail (markdown, no tables) is: what to do first, the grade and worst grade with one line per driver
(value, how long ago), what is missing, orders not offered now and when they would be, that a choice
follows, the warnings and one line naming the protocol section. The complete evidence with FHIR references
is in ``extension["crs-cds.assessment"]``; each order's in its suggestion. The parts are kept apart
(paragraphs, one fact per line) so that an EHR's client profile can reshape them after the fact.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from clinical import Assessment
from protocols import Recommendations

from .card import SUMMARY_LIMIT, Card
from .extension import ASSESSMENT_EXTENSION, assessment_extension
from .markdown import truncate
from .recommendation_cards import (
    PROTOCOL_TOPIC,
    alternatives_card,
    combined_orders,
    exclusive_groups,
    first_lines,
    merged_warnings,
    plan_lines,
    planned_class,
)
from .suggestions import diagnosis_suggestion, order_suggestion
from .wording import assessment as words
from .wording import recommendations as recommendation_words
from .wording.overrides import override_reasons

ASSESSMENT_KIND = "crs-assessment"
ASTCT_SOURCE: dict[str, Any] = {
    "label": "ASTCT consensus grading for CRS and ICANS (Lee et al., Biol Blood Marrow Transplant 2019)",
    "url": "https://pubmed.ncbi.nlm.nih.gov/30592986/",
    "topic": {"system": "urn:crs-cds:card-kind", "code": ASSESSMENT_KIND, "display": "CRS assessment"},
}
INDICATOR_BY_GRADE = {0: "info", 1: "info", 2: "warning", 3: "critical", 4: "critical"}
# A hypotension or hypoxia tier this high (a vasopressor; high-flow oxygen or positive pressure) is urgent even
# when it is not graded as CRS (clinical review): the card is at least a warning.
URGENT_SIGN_TIER = 3
_INDICATORS = ("info", "warning", "critical")
TIMELINE_LABEL = "CRS timeline: vitals, treatment and grade since the infusion, with all evidence"


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


def _detail(assessment: Assessment) -> str:
    """The gradings: CRS, then ICANS when it was assessed."""
    parts = [words.crs_block(assessment, urgent=_urgent_sign(assessment))]
    icans = words.icans_block(assessment.icans) if assessment.icans is not None else None
    return "\n\n".join(parts + ([icans] if icans else []))


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
        "summary": words.summary(assessment),
        "indicator": _indicator(assessment),
        "detail": _detail(assessment),
        "source": ASTCT_SOURCE,
        "extension": {ASSESSMENT_EXTENSION: assessment_extension(assessment, protocol_id)},
    }


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


def timeline_link(url: str) -> dict[str, Any]:
    """The SMART link to the CRS timeline page (``url``: its launch endpoint, ``/app/launch``)."""
    return {"label": TIMELINE_LABEL, "url": url, "type": "smart"}


def patient_view_cards(assessment: Assessment, *, protocol_id: str, recommendations: Recommendations | None = None,
                       icans_recommendations: Recommendations | None = None, patient_id: str | None = None,
                       encounter_id: str | None = None, timeline_url: str | None = None,
                       new_uuid: Callable[[], str] = lambda: str(uuid.uuid4())) -> list[Card]:
    """Cards for the patient-view hook.

    Without recommendations (or without CRS or ICANS): zero or one assessment card. With CRS and/or
    ICANS and their recommendations: the assessment card gains what the protocol says first (pause a
    T-cell engager infusion), the plan lines (orders not offered now, the choice that follows, warnings,
    the protocol section) and the combinable order suggestions, followed by one ``at-most-one`` card per
    set of mutually exclusive orders (with concurrent CRS and ICANS, the ICANS corticosteroid first).
    Every card with suggestions carries the override reasons. With ``timeline_url`` (a SMART client
    id is configured) the assessment card links to the timeline page; without it, no link at all,
    never a broken one.
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
    syndrome = "crs" if assessment.has_crs or not assessment.has_icans else "icans"
    diagnoses = diagnosis_suggestions(assessment, patient_id=patient_id, encounter_id=encounter_id,
                                      new_uuid=new_uuid)
    if diagnoses:
        _suggest(card, diagnoses, syndrome)
    active = [r for r, present in ((recommendations, assessment.has_crs),
                                   (icans_recommendations, assessment.has_icans)) if r is not None and present]
    if not active:
        return [issued]
    if len(active) == 2 and active[1].concurrent is not None:
        active.reverse()  # concurrent CRS and ICANS: the ICANS section, corticosteroid first, leads
    now = assessment.now
    choices = [(group, options, recs) for recs in active for group, options in exclusive_groups(recs).items()]
    beside_choice = {r.drug.drug_class for _, options, _ in choices for r in options}
    warnings = merged_warnings(active)
    on_card = [w for w in warnings if planned_class(w) not in beside_choice]
    card["detail"] = "\n\n".join([*first_lines(active, now), card["detail"], *plan_lines(active, on_card, now)])
    orders = combined_orders(active)
    if orders:
        _suggest(card, [order_suggestion(r, grade=recs.grade, syndrome=recs.syndrome, patient_id=patient_id,
                                         encounter_id=encounter_id, new_uuid=new_uuid)
                        for r, recs in orders] + diagnoses, syndrome)
    cards = [issued]
    for group, options, recs in choices:
        classes = {r.drug.drug_class for r in options}
        about = [w for w in warnings if planned_class(w) in classes]
        cards.append(Card(alternatives_card(group, options, recs, about, now, patient_id=patient_id,
                                            encounter_id=encounter_id, new_uuid=new_uuid),
                          PROTOCOL_TOPIC["code"], None, recs.protocol_id))
    return cards


def _suggest(card: dict[str, Any], suggestions: list[dict[str, Any]], syndrome: str) -> None:
    """Put ``suggestions`` on the card (combinable: ``any``), with the reasons a clinician may give for
    dismissing it."""
    card["suggestions"], card["selectionBehavior"] = suggestions, "any"
    card["overrideReasons"] = override_reasons("icans" if syndrome == "icans" else "crs")
