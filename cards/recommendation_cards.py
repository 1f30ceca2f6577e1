"""Protocol recommendations on patient-view: order suggestions, their evidence and sources.

Layout (see README "Cards"): the assessment card carries the orders that can
be combined (``selectionBehavior: any``); every set of mutually exclusive
options with two or more orderable members (e.g. steroid vs anakinra) gets its
own ``at-most-one`` card, because selectionBehavior is per card. Items that
cannot be ordered (blocked repeat dose, limit reached, no weight) and the
protocol's safety warnings are written in the detail, never silently dropped.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from clinical import Evidence
from protocols import (
    AdviceRecommendation,
    MedicationRecommendation,
    Recommendation,
    Recommendations,
    ServiceRecommendation,
    WarningRecommendation,
)

from .card import SUMMARY_LIMIT
from .markdown import bullets, truncate, when
from .suggestions import NewId, order_extension, order_suggestion, timing_text
from .wording import doses, evidence, reasons, recommendations
from .wording.numbers import num, stamp

PROTOCOL_TOPIC = {"system": "urn:crs-cds:card-kind", "code": "crs-protocol-options", "display": "CRS protocol options"}


def protocol_source(recs: Recommendations) -> dict[str, Any]:
    return {"label": f"{recs.protocol_title} (protocol {recs.protocol_id} v{recs.protocol_version})",
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


def suggestions(items: tuple[Recommendation, ...], recs: Recommendations, *, patient_id: str,
                encounter_id: str | None, new_uuid: NewId) -> list[dict[str, Any]]:
    return [order_suggestion(r, grade=recs.grade, syndrome=recs.syndrome, patient_id=patient_id,
                             encounter_id=encounter_id, new_uuid=new_uuid) for r in items]


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


# ------------------------------------------------------------------ detail text

def status_text(rec: Recommendation | WarningRecommendation, recs: Recommendations) -> str:
    """What the card does with this item, and why when it proposes no order."""
    if isinstance(rec, MedicationRecommendation):
        if rec.repeat is not None and rec.limit_reached:
            escalation = [recommendations.text(r) for r in recs.items if r.escalates == rec.action_id]
            proposed = f" Escalation proposed: {'; '.join(escalation)}." if escalation else ""
            return f"no further doses — limit reached: {reasons.refusal(rec.repeat)}.{proposed}"
        if rec.repeat is not None and rec.blocked:
            nxt = f"; next dose allowed from {stamp(rec.next_allowed)}" if rec.next_allowed else ""
            return f"not now — {reasons.refusal(rec.repeat)}{nxt}"
        if rec.dose is None:
            return f"no order — {doses.problem(rec.problem, drug=rec.drug.display.lower())}"
    if isinstance(rec, MedicationRecommendation | ServiceRecommendation) and rec.orderable:
        return "order suggested" + (" (recommended)" if rec.recommended else " (option)")
    if isinstance(rec, ServiceRecommendation):
        return "to arrange (no orderable code in the protocol)"
    return "advice"


def evidence_text(e: Evidence, now: datetime) -> str:
    return f"{e.what} {evidence.value(e)}, {when(e.time, now)}, {e.source}"


def headline(rec: Recommendation) -> str:
    """The item's own line; for a medication that cannot be ordered now, only drug and dose,
    since the status that follows gives the reason (the protocol text would repeat it)."""
    if not isinstance(rec, MedicationRecommendation) or rec.orderable:
        return recommendations.text(rec)
    name = rec.drug.display
    if rec.limit_reached or rec.dose_mg is None:
        return name
    calculation = doses.calculation(rec.calculation)
    calc = f" ({calculation})" if calculation else ""
    return f"{name} {num(rec.dose_mg)} mg {rec.route} {timing_text(rec)}{calc}"


def _item(rec: Recommendation, recs: Recommendations, now: datetime) -> str:
    head = f"- **{headline(rec)}** — {status_text(rec, recs)}"
    lines = [head]
    if isinstance(rec, MedicationRecommendation) and rec.alternative_group:
        lines.append(f"  - Alternative group: {rec.alternative_group} (choose at most one)")
    if rec.rationale:  # the conditions; a refused dose's limits are in the status
        lines.append("  - Why: " + "; ".join(reasons.reason(r) for r in rec.rationale))
    for e in rec.evidence:
        lines.append("  - Evidence: " + evidence_text(e, now))
    if isinstance(rec, MedicationRecommendation) and rec.note:
        lines.append(f"  - Note: {rec.note}")
    lines.append("  - Source: " + "; ".join(c.label for c in rec.sources))
    return "\n".join(lines)


def section_label(recs: Recommendations) -> str:
    """``grade 2 actions``, ``ICANS grade 3 actions``, ``grade 3 actions after a T-cell engager``."""
    label = f"{'ICANS ' if recs.syndrome == 'icans' else ''}grade {recs.grade} actions"
    return label + (f" after a {recs.pathway.replace('-', ' ')}" if recs.pathway else "")


def recommendations_section(recs: Recommendations, now: datetime) -> str:
    """Every applicable protocol item with its status, evidence and source, plus notes."""
    parts = [f"**Protocol: {recs.protocol_title}** (`{recs.protocol_id}` version {recs.protocol_version}), "
             f"{section_label(recs)}"]
    if recs.items:
        parts.append("\n".join(_item(r, recs, now) for r in recs.items))
    if recs.notes:
        parts.append("**Protocol notes**\n\n" + bullets(reasons.note(n) for n in recs.notes))
    return "\n\n".join(parts)


def first_section(active: Sequence[Recommendations], now: datetime) -> str | None:
    """What the protocol says to do before anything else (pause the blinatumomab infusion), with the
    administration it names."""
    lines = []
    for recs in active:
        for r in recs.items:
            if isinstance(r, AdviceRecommendation) and r.first:
                line = f"**First: {r.text}**"
                line += "".join("\n  - Evidence: " + evidence_text(e, now) for e in r.evidence)
                lines.append(f"- {line}\n  - Source: " + "; ".join(c.label for c in r.sources))
    return "\n".join(lines) if lines else None


def concurrent_section(recs: Recommendations) -> str | None:
    """The ICANS section's rule for concurrent CRS, said at the head of the protocol part."""
    c = recs.concurrent
    if c is None:
        return None
    return f"**{c.text}** (Source: {'; '.join(x.label for x in c.sources)})"


def warnings_section(warnings: Sequence[WarningRecommendation], now: datetime) -> str | None:
    """The protocol's safety warnings that apply now, each with its evidence and source."""
    if not warnings:
        return None
    lines = []
    for w in warnings:
        line = f"- **{recommendations.text(w)}**"
        for e in w.evidence:
            line += "\n  - Evidence: " + evidence_text(e, now)
        line += "\n  - Source: " + "; ".join(c.label for c in w.sources)
        lines.append(line)
    return "**Safety warnings**\n\n" + "\n".join(lines)


# ---------------------------------------------------------------------- cards

def alternatives_card(group: str, options: tuple[MedicationRecommendation, ...], recs: Recommendations,
                      now: datetime, *, patient_id: str, encounter_id: str | None,
                      new_uuid: NewId) -> dict[str, Any]:
    """An ``at-most-one`` card for mutually exclusive orders; at most one is recommended."""
    chosen = next((r for r in options if r.recommended), None)
    names = " or ".join(_short(r) for r in options)
    summary = f"Choose one: {names}"
    detail = [f"These options are mutually exclusive (protocol group `{group}`): order at most one."
              + (f" The protocol recommends **{_short(chosen)}**." if chosen else "")]
    detail.append("\n".join(_item(r, recs, now) for r in options))
    detail.append(f"Protocol: {recs.protocol_title} (`{recs.protocol_id}` version {recs.protocol_version}), "
                  f"{section_label(recs)}.")
    return {
        "uuid": new_uuid(),
        "summary": truncate(summary, SUMMARY_LIMIT),
        "indicator": "warning" if (recs.grade or 0) >= 2 else "info",
        "detail": "\n\n".join(detail),
        "source": protocol_source(recs),
        "suggestions": suggestions(options, recs, patient_id=patient_id, encounter_id=encounter_id,
                                   new_uuid=new_uuid),
        "selectionBehavior": "at-most-one",
        "extension": {"crs-cds.alternatives": {"group": group, "protocol": recs.protocol_id}},
    }


def _short(rec: MedicationRecommendation) -> str:
    if rec.dose_mg is None:
        return rec.drug.display
    return f"{rec.drug.display.lower()} {num(rec.dose_mg)} mg {rec.route} {timing_text(rec)}"
