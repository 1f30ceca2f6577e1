"""Protocol recommendations as JSON or plain text, for ``crs-cds grade``.

Wording of each item's status comes from the card layer (``status_text``), so
the terminal and the card say the same thing; nothing clinical is decided here.
"""
from __future__ import annotations

from typing import Any

from cards import evidence_json
from cards.recommendation_cards import status_text
from cards.suggestions import order_extension
from cards.wording import doses, evidence, reasons, recommendations
from protocols import (
    MedicationRecommendation,
    Recommendation,
    Recommendations,
    ServiceRecommendation,
    WarningRecommendation,
)

from .render_assessment import instant


def _item_json(r: Recommendation | WarningRecommendation, recs: Recommendations) -> dict[str, Any]:
    medication = r if isinstance(r, MedicationRecommendation) else None
    orderable = isinstance(r, MedicationRecommendation | ServiceRecommendation) and r.orderable
    return {
        "kind": r.kind,
        "action": r.warning_id if isinstance(r, WarningRecommendation) else r.action_id,
        "text": recommendations.text(r), "status": status_text(r, recs),
        "orderable": r.orderable,
        "recommended": r.recommended if isinstance(r, MedicationRecommendation | ServiceRecommendation) else False,
        "alternativeGroup": medication.alternative_group if medication else None,
        "order": order_extension(r) if orderable and isinstance(r, MedicationRecommendation | ServiceRecommendation)
        else None,
        "blocked": reasons.refusal(medication.repeat) if medication and medication.repeat and medication.blocked
        else None,
        "nextAllowed": instant(medication.next_allowed if medication else None),
        "doseProblem": doses.problem(medication.problem) if medication and medication.problem else None,
        "evidence": [evidence_json(e) for e in r.evidence],
        "sources": [{"document": c.document, "section": c.section, "label": c.label} for c in r.sources],
    }


def recommendations_to_json(recs: Recommendations) -> dict[str, Any]:
    return {
        "protocol": {"id": recs.protocol_id, "title": recs.protocol_title, "version": recs.protocol_version},
        "grade": recs.grade,
        "items": [_item_json(r, recs) for r in recs.items],
        "warnings": [_item_json(w, recs) for w in recs.warnings],
        "notes": [reasons.note(n) for n in recs.notes],
    }


def recommendations_table(recs: Recommendations) -> str:
    """Each item with its status, evidence and source, then warnings and notes."""
    lines = [f"Protocol {recs.protocol_id} v{recs.protocol_version}: {recs.protocol_title}"]
    if recs.items:
        lines += ["", "Recommendations"]
    for r in recs.items:
        group = (f"  [choose one: {r.alternative_group}]"
                 if isinstance(r, MedicationRecommendation) and r.alternative_group and r.orderable else "")
        lines.append(f"  - {recommendations.text(r)}")
        lines.append(f"      status: {status_text(r, recs)}{group}")
        lines += [f"      evidence: {evidence.line(e)} at {instant(e.time)} ({e.source})" for e in r.evidence]
        lines.append(f"      source: {'; '.join(c.label for c in r.sources)}")
    if recs.warnings:
        lines += ["", "Warnings"]
        for w in recs.warnings:
            lines.append(f"  - {w.text}")
            lines += [f"      evidence: {evidence.line(e)} at {instant(e.time)} ({e.source})" for e in w.evidence]
            lines.append(f"      source: {'; '.join(c.label for c in w.sources)}")
    if recs.notes:
        lines += ["", "Protocol notes", *[f"  - {reasons.note(n)}" for n in recs.notes]]
    return "\n".join(lines)
