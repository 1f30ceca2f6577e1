"""Protocol recommendations on patient-view: which orders go on which card, and the choose-one cards.

Layout (see README "Protocols"): the assessment card carries the orders that apply now and can be combined
(``selectionBehavior: any``); every set of mutually exclusive options with two or more orderable members
(e.g. steroid vs anakinra) gets its own ``at-most-one`` card, offered there once -- the assessment card
only says that a choice follows. An order that cannot be given now (a repeat limit, no recent weight, its own
condition not met yet) is never a suggestion: the assessment card says why in one line, and when it would
apply. Each safety warning is said on the card whose orders it is about (antifungal prophylaxis beside the
corticosteroid choice), the others on the assessment card.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from protocols import (
    AdviceRecommendation,
    MedicationRecommendation,
    Recommendation,
    Recommendations,
    ServiceRecommendation,
    WarningRecommendation,
)
from protocols.reasons import ClassPlanned
from protocols.recommendation import IndexTherapyUnknown, WarningNotEvaluated

from .card import SUMMARY_LIMIT
from .markdown import bullets, truncate
from .suggestions import NewId, order_extension, order_suggestion
from .wording import doses, plan, reasons, recommendations
from .wording.overrides import override_reasons
from .wording.times import when

PROTOCOL_TOPIC = {"system": "urn:crs-cds:card-kind", "code": "crs-protocol-options", "display": "CRS protocol options"}
# Where a card links when neither the cited document nor the protocol has an address: the ASTCT consensus
# the grades are given by.
ASTCT_URL = "https://pubmed.ncbi.nlm.nih.gov/30592986/"


def protocol_source(recs: Recommendations, cited: Sequence[MedicationRecommendation] = ()) -> dict[str, Any]:
    """The card's ``source``: the protocol by its title, linking to the first cited document that has an
    address, else to the protocol's own."""
    url = next((c.url for r in cited for c in r.sources if c.url), None) or recs.protocol_url or ASTCT_URL
    return {"label": f"{recs.protocol_title} (version {recs.protocol_version})", "url": url,
            "topic": PROTOCOL_TOPIC}


def exclusive_groups(recs: Recommendations) -> dict[str, tuple[MedicationRecommendation, ...]]:
    """Alternative groups with at least two orderable options: these need an at-most-one card."""
    groups: dict[str, list[MedicationRecommendation]] = {}
    for r in recs.medications:
        if r.alternative_group and r.orderable:
            groups.setdefault(r.alternative_group, []).append(r)
    return {g: tuple(rs) for g, rs in groups.items() if len(rs) >= 2}


def combinable_orders(recs: Recommendations) -> tuple[Recommendation, ...]:
    """Orderable items that are not part of an exclusive choice (they go on the assessment card)."""
    exclusive = exclusive_groups(recs)
    return tuple(r for r in recs.items
                 if r.orderable and not (isinstance(r, MedicationRecommendation) and r.alternative_group in exclusive))


def combined_orders(active: Sequence[Recommendations]) -> list[tuple[Recommendation, Recommendations]]:
    """The combinable orders of every section, each with its section; an order two sections both make
    (ICU transfer for CRS and ICANS) once. With concurrent CRS and ICANS the ICANS corticosteroid comes
    first: the card's concurrent-CRS line says why."""
    seen: list[dict[str, Any]] = []
    out: list[tuple[Recommendation, Recommendations]] = []
    for recs in active:
        for r in combinable_orders(recs):
            key = order_extension(r)  # type: ignore[arg-type]
            if key not in seen:
                seen.append(key)
                out.append((r, recs))

    def steroid_first(item: tuple[Recommendation, Recommendations]) -> bool:
        r, recs = item
        return not (recs.concurrent is not None and isinstance(r, MedicationRecommendation)
                    and r.drug.drug_class == "corticosteroid")

    return sorted(out, key=steroid_first)


def merged_warnings(active: Sequence[Recommendations]) -> list[WarningRecommendation]:
    """Every section's safety warnings, each once."""
    found: dict[str, WarningRecommendation] = {}
    for recs in active:
        for w in recs.warnings:
            found.setdefault(w.warning_id, w)
    return list(found.values())


def planned_class(w: WarningRecommendation) -> str | None:
    """The drug class a warning holds for because the protocol proposes it now (a corticosteroid), whatever
    else it is limited to (CRS present, the index therapy's class): the warning belongs beside that order."""
    planned = [r.drug_class for r in w.rationale if isinstance(r, ClassPlanned)]
    return planned[0] if planned else None


# ------------------------------------------------------------------------------ assessment card's plan

def plan_lines(active: Sequence[Recommendations], warnings: Sequence[WarningRecommendation],
               now: datetime) -> list[str]:
    """The protocol's part of the assessment card, one line each: orders not offered now (and when they
    would be), the choice that follows, the warnings, what could not be assessed, and the protocol section."""
    lines = list(dict.fromkeys(plan.not_offered(r, now) for recs in active for r in recs.medications
                               if not r.orderable))  # a line two sections would both say, once
    groups = [options for recs in active for options in exclusive_groups(recs).values()]
    concurrent = next((recs.concurrent for recs in active if recs.concurrent is not None), None)
    steroid_choice = any(r.drug.drug_class == "corticosteroid" for group in groups for r in group)
    if concurrent is not None and not steroid_choice:  # else the corticosteroid choice card says it
        lines.insert(0, f"**{concurrent.short or concurrent.text}**")
    if groups:
        lines.append(plan.choice(groups, corticosteroid_first=concurrent is not None and steroid_choice))
    if warnings:
        lines.append(plan.warnings(warnings, now))
    notes = [n for recs in active for n in recs.notes if isinstance(n, WarningNotEvaluated | IndexTherapyUnknown)]
    lines += list(dict.fromkeys(plan.unassessed(n) for n in notes))
    return [bullets(lines)] + [plan.section(active)] if lines else [plan.section(active)]


def first_lines(active: Sequence[Recommendations], now: datetime) -> list[str]:
    """What the protocol says to do before anything else (pause the blinatumomab infusion), with the
    administration it names."""
    return [plan.first(r, now) for recs in active for r in recs.items
            if isinstance(r, AdviceRecommendation) and r.first]


# ------------------------------------------------------------------------------------- CLI wording

def status_text(rec: Recommendation | WarningRecommendation, recs: Recommendations) -> str:
    """What the cards do with this item, and why when they propose no order (``crs-cds grade``)."""
    if isinstance(rec, MedicationRecommendation):
        if rec.repeat is not None and rec.limit_reached:
            escalation = [recommendations.text(r) for r in recs.items if r.escalates == rec.action_id]
            proposed = f" Escalation proposed: {'; '.join(escalation)}." if escalation else ""
            return f"no further doses — limit reached: {reasons.refusal(rec.repeat)}.{proposed}"
        if rec.repeat is not None and rec.blocked:
            nxt = f"; next dose allowed from {when(rec.next_allowed)}" if rec.next_allowed else ""
            return f"not now — {reasons.refusal(rec.repeat)}{nxt}"
        if rec.dose is None:
            return f"no order — {doses.problem(rec.problem, drug=rec.drug.display.lower())}"
        if rec.awaiting:
            return "not offered now — " + "; ".join(reasons.until(r) for r in rec.awaiting)
    if isinstance(rec, MedicationRecommendation | ServiceRecommendation) and rec.orderable:
        return "order suggested" + (" (recommended)" if rec.recommended else " (option)")
    if isinstance(rec, ServiceRecommendation):
        return "to arrange (no orderable code in the protocol)"
    return "advice"


# ------------------------------------------------------------------------------------ choose-one card

def alternatives_card(group: str, options: tuple[MedicationRecommendation, ...], recs: Recommendations,
                      warnings: Sequence[WarningRecommendation], now: datetime, *, patient_id: str,
                      encounter_id: str | None, new_uuid: NewId) -> dict[str, Any]:
    """An ``at-most-one`` card for mutually exclusive orders (at most one recommended): each option with why
    it applies and its source, the concurrent-CRS rule when the choice is the ICANS corticosteroid, and the
    warnings about these drugs."""
    by_dose = len({r.drug.key for r in options}) < len(options)
    shared = plan.shared_reasons(options)
    detail = [plan.choice_head(options),
              bullets(plan.option(r, by_dose=by_dose, shared=shared) for r in options)]
    if recs.concurrent is not None and any(r.drug.drug_class == "corticosteroid" for r in options):
        detail.insert(0, f"**{recs.concurrent.text}**")
    if warnings:
        detail.append(plan.warnings(warnings, now))
    detail.append(plan.section([recs]))
    return {
        "uuid": new_uuid(),
        "summary": truncate(plan.choice_summary(options), SUMMARY_LIMIT),
        "indicator": "warning" if (recs.grade or 0) >= 2 else "info",
        "detail": "\n\n".join(detail),
        "source": protocol_source(recs, options),
        "suggestions": [order_suggestion(r, grade=recs.grade, syndrome=recs.syndrome, patient_id=patient_id,
                                         encounter_id=encounter_id, new_uuid=new_uuid) for r in options],
        "selectionBehavior": "at-most-one",
        "overrideReasons": override_reasons(recs.syndrome),
        "extension": {"crs-cds.alternatives": {"group": group, "protocol": recs.protocol_id}},
    }
