"""Protocol recommendations on patient-view: order suggestions, their evidence and sources.

Layout (see README "Cards"): the assessment card carries the orders that can
be combined (``selectionBehavior: any``); every set of mutually exclusive
options with two or more orderable members (e.g. steroid vs anakinra) gets its
own ``at-most-one`` card, because selectionBehavior is per card. Items that
cannot be ordered (blocked repeat dose, limit reached, no weight) and the
protocol's safety warnings are written in the detail, never silently dropped.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from clinical import Evidence
from protocols import Recommendation, Recommendations
from protocols.formatting import num
from protocols.formatting import when as utc_minute

from .markdown import bullets, truncate, when
from .suggestions import NewId, order_suggestion, timing_text
from .wording import evidence

SUMMARY_LIMIT = 140
PROTOCOL_TOPIC = {"system": "urn:crs-cds:card-kind", "code": "crs-protocol-options", "display": "CRS protocol options"}


def protocol_source(recs: Recommendations) -> dict[str, Any]:
    return {"label": f"{recs.protocol_title} (protocol {recs.protocol_id} v{recs.protocol_version})",
            "topic": PROTOCOL_TOPIC}


def exclusive_groups(recs: Recommendations) -> dict[str, tuple[Recommendation, ...]]:
    """Alternative groups with at least two orderable options: these need an at-most-one card."""
    groups: dict[str, list[Recommendation]] = {}
    for r in recs.items:
        if r.alternative_group and r.orderable:
            groups.setdefault(r.alternative_group, []).append(r)
    return {g: tuple(rs) for g, rs in groups.items() if len(rs) >= 2}


def combinable_orders(recs: Recommendations) -> tuple[Recommendation, ...]:
    """Orderable items that are not part of an exclusive choice (they go on the assessment card)."""
    exclusive = exclusive_groups(recs)
    return tuple(r for r in recs.items if r.orderable and r.alternative_group not in exclusive)


def suggestions(items: tuple[Recommendation, ...], recs: Recommendations, *, patient_id: str,
                encounter_id: str | None, new_uuid: NewId) -> list[dict[str, Any]]:
    return [order_suggestion(r, grade=recs.grade, patient_id=patient_id, encounter_id=encounter_id,
                             new_uuid=new_uuid) for r in items]


# ------------------------------------------------------------------ detail text

def status_text(rec: Recommendation, recs: Recommendations) -> str:
    """What the card does with this item, and why when it proposes no order."""
    if rec.kind == "medication" and rec.limit_reached:
        escalation = [r.text for r in recs.items if r.escalates == rec.action_id]
        proposed = f" Escalation proposed: {'; '.join(escalation)}." if escalation else ""
        return f"no further doses — limit reached: {rec.blocked}.{proposed}"
    if rec.kind == "medication" and rec.blocked:
        nxt = f"; next dose allowed from {utc_minute(rec.next_allowed)}" if rec.next_allowed else ""
        return f"not now — {rec.blocked}{nxt}"
    if rec.kind == "medication" and rec.dose_mg is None:
        return f"no order — {_named_problem(rec)}"
    if rec.orderable:
        return "order suggested" + (" (recommended)" if rec.recommended else " (option)")
    if rec.kind == "service":
        return "to arrange (no orderable code in the protocol)"
    return "advice"


def _named_problem(rec: Recommendation) -> str:
    """``... — tocilizumab dose cannot be computed``: say which dose is missing."""
    problem = rec.dose_problem or "the protocol gives no dose"
    name = (rec.drug_display or rec.drug or "").lower()
    return problem.replace("— dose cannot be computed", f"— {name} dose cannot be computed") if name else problem


def evidence_text(e: Evidence, now: datetime) -> str:
    return f"{e.what} {evidence.value(e)}, {when(e.time, now)}, {e.source}"


def headline(rec: Recommendation) -> str:
    """The item's own line; for a medication that cannot be ordered now, only drug and dose,
    since the status that follows gives the reason (the protocol text would repeat it)."""
    if rec.kind != "medication" or rec.orderable:
        return rec.text
    name = rec.drug_display or rec.action_id
    if rec.limit_reached or rec.dose_mg is None:
        return name
    calc = f" ({rec.dose_calculation})" if rec.dose_calculation else ""
    return f"{name} {num(rec.dose_mg)} mg {rec.route} {timing_text(rec)}{calc}"


def _item(rec: Recommendation, recs: Recommendations, now: datetime) -> str:
    head = f"- **{headline(rec)}** — {status_text(rec, recs)}"
    lines = [head]
    if rec.alternative_group:
        lines.append(f"  - Alternative group: {rec.alternative_group} (choose at most one)")
    why = [r for r in rec.rationale if not (rec.blocked and r in rec.blocked)]  # the status already says it
    if why:
        lines.append("  - Why: " + "; ".join(why))
    for e in rec.evidence:
        lines.append("  - Evidence: " + evidence_text(e, now))
    if rec.note:
        lines.append(f"  - Note: {rec.note}")
    lines.append("  - Source: " + "; ".join(c.label for c in rec.sources))
    return "\n".join(lines)


def recommendations_section(recs: Recommendations, now: datetime) -> str:
    """Every applicable protocol item with its status, evidence and source, plus notes."""
    parts = [f"**Protocol: {recs.protocol_title}** (`{recs.protocol_id}` version {recs.protocol_version}), "
             f"grade {recs.grade} actions"]
    if recs.items:
        parts.append("\n".join(_item(r, recs, now) for r in recs.items))
    if recs.notes:
        parts.append("**Protocol notes**\n\n" + bullets(recs.notes))
    return "\n\n".join(parts)


def warnings_section(recs: Recommendations, now: datetime) -> str | None:
    """The protocol's safety warnings that apply now, each with its evidence and source."""
    if not recs.warnings:
        return None
    lines = []
    for w in recs.warnings:
        line = f"- **{w.text}**"
        for e in w.evidence:
            line += "\n  - Evidence: " + evidence_text(e, now)
        line += "\n  - Source: " + "; ".join(c.label for c in w.sources)
        lines.append(line)
    return "**Safety warnings**\n\n" + "\n".join(lines)


# ---------------------------------------------------------------------- cards

def alternatives_card(group: str, options: tuple[Recommendation, ...], recs: Recommendations, now: datetime, *,
                      patient_id: str, encounter_id: str | None,
                      new_uuid: NewId) -> dict[str, Any]:
    """An ``at-most-one`` card for mutually exclusive orders; at most one is recommended."""
    chosen = next((r for r in options if r.recommended), None)
    names = " or ".join(_short(r) for r in options)
    summary = f"Choose one: {names}"
    detail = [f"These options are mutually exclusive (protocol group `{group}`): order at most one."
              + (f" The protocol recommends **{_short(chosen)}**." if chosen else "")]
    detail.append("\n".join(_item(r, recs, now) for r in options))
    detail.append(f"Protocol: {recs.protocol_title} (`{recs.protocol_id}` version {recs.protocol_version}).")
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


def _short(rec: Recommendation) -> str:
    if rec.dose_mg is None:
        return rec.drug_display or rec.action_id
    return f"{(rec.drug_display or '').lower()} {num(rec.dose_mg)} mg {rec.route} {timing_text(rec)}"
