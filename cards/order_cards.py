"""Cards for order-select / order-sign: one card per protocol finding on a draft order.

A finding that proposes a corrected dose becomes an ``update`` suggestion
carrying the clinician's own draft (same id) with only the dose and, where
the protocol says so, the interval replaced — so accepting it changes nothing
else the prescriber chose. A refused order becomes a ``delete`` suggestion.
Every card can be overridden with a coded reason, which the feedback report
counts per card kind.
"""
from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest
from pydantic import ValidationError

from protocols.findings import OrderFinding

from .card import SUMMARY_LIMIT, Card
from .markdown import bullets, truncate
from .orders import UCUM
from .recommendation_cards import ASTCT_URL
from .wording import doses, evidence
from .wording import orders as finding_words
from .wording.numbers import amount, num
from .wording.overrides import order_check_reasons
from .wording.times import stamp

CARD_KIND_SYSTEM = "urn:crs-cds:card-kind"
ORDER_CHECK_EXTENSION = "crs-cds.order-check"
KIND_DISPLAY = {
    "tocilizumab-dose": "Tocilizumab dose", "tocilizumab-limit": "Tocilizumab repeat limit",
    "gm-csf": "GM-CSF after CAR-T", "steroid-regimen": "Corticosteroid regimen",
    "anakinra-dose": "Anakinra dose", "no-weight": "Dose not checkable: no weight",
}


def order_cards(findings: Sequence[OrderFinding], drafts: Mapping[str, dict[str, Any]], *,
                new_uuid: Callable[[], str] = lambda: str(uuid.uuid4())) -> list[Card]:
    """Cards for ``findings``; ``drafts`` maps "MedicationRequest/id" to the draft as received."""
    return [Card(order_card(f, drafts.get(f.order.reference), new_uuid=new_uuid), f.kind, f.grade, f.protocol_id)
            for f in findings]


def order_card(finding: OrderFinding, draft: dict[str, Any] | None, *,
               new_uuid: Callable[[], str] = lambda: str(uuid.uuid4())) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": new_uuid(),
        "summary": truncate(finding_words.summary(finding), SUMMARY_LIMIT),
        "indicator": finding.indicator,
        "detail": _detail(finding),
        "source": {
            "label": finding.sources[0].label if finding.sources else "CRS treatment protocol",
            "url": next((c.url for c in finding.sources if c.url), None) or finding.protocol_url or ASTCT_URL,
            "topic": {"system": CARD_KIND_SYSTEM, "code": finding.kind,
                      "display": KIND_DISPLAY.get(finding.kind, finding.kind)},
        },
        "overrideReasons": order_check_reasons(),
        "extension": {ORDER_CHECK_EXTENSION: {"kind": finding.kind, "order": finding.order.reference,
                                              "grade": finding.grade, "protocol": finding.protocol_id}},
    }
    suggestion = _suggestion(finding, draft, new_uuid)
    if suggestion is not None:
        card["suggestions"] = [suggestion]
        card["selectionBehavior"] = "at-most-one"
    return card


def _suggestion(finding: OrderFinding, draft: dict[str, Any] | None,
                new_uuid: Callable[[], str]) -> dict[str, Any] | None:
    order = finding.order
    if finding.action == "delete" and order.has_id:
        return {"label": f"Cancel this {order.display} order", "uuid": new_uuid(), "isRecommended": True,
                "actions": [{"type": "delete", "description": f"Remove the draft {order.display} order",
                             "resourceId": order.reference}]}
    if finding.action == "update" and draft is not None and finding.dose_mg is not None:
        resource = corrected_request(draft, finding.dose_mg, finding.every_hours)
        if resource is None:
            return None
        timing = f" every {num(finding.every_hours)} h" if finding.every_hours else ""
        label = f"Change to {num(finding.dose_mg)} mg{timing}"
        suggestion: dict[str, Any] = {
            "label": label, "uuid": new_uuid(), "isRecommended": True,
            "actions": [{"type": "update", "description": f"{label} ({order.display})", "resource": resource}]}
        if order.route:  # design.md's order extension needs a route; the resource still says everything
            every = finding.every_hours or order.every_hours
            suggestion["extension"] = {"crs-cds.order": {"drug": order.drug, "doseMg": _number(finding.dose_mg),
                                                         "route": order.route, "everyHours": every}}
        return suggestion
    return None


def corrected_request(draft: dict[str, Any], dose_mg: float, every_hours: float | None) -> dict[str, Any] | None:
    """The draft with dosageInstruction[0]'s dose (and interval) replaced; None if not valid R4 FHIR."""
    resource = copy.deepcopy(draft)
    dosages = resource.get("dosageInstruction")
    if not isinstance(dosages, list) or not dosages or not isinstance(dosages[0], dict):
        dosages = resource["dosageInstruction"] = [{}]
    dosage = dosages[0]
    _drop_other_doses(dosage)
    rates = dosage.get("doseAndRate")
    if not isinstance(rates, list) or not rates or not isinstance(rates[0], dict):
        rates = dosage["doseAndRate"] = [{}]
    rates[0]["doseQuantity"] = {"value": _number(dose_mg), "unit": "mg", "system": UCUM, "code": "mg"}
    if every_hours:
        found_timing = dosage.get("timing")
        timing: dict[str, Any] = found_timing if isinstance(found_timing, dict) else {}
        found_repeat = timing.get("repeat")
        repeat: dict[str, Any] = found_repeat if isinstance(found_repeat, dict) else {}
        for key in ("frequencyMax", "periodMax", "count", "countMax"):
            repeat.pop(key, None)
        repeat.update({"frequency": 1, "period": _number(every_hours), "periodUnit": "h"})
        timing["repeat"] = repeat
        timing.pop("code", None)  # a coded schedule (e.g. BID) would contradict the new interval
        dosage["timing"] = timing
    if "text" in dosage:  # the old text would state the old dose
        dosage["text"] = f"{num(dose_mg)} mg" + (f" every {num(every_hours)} h" if every_hours else "")
    try:
        return MedicationRequest.model_validate(resource).model_dump(mode="json", exclude_none=True)
    except ValidationError:
        return None


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _drop_other_doses(dosage: dict[str, Any]) -> None:
    """Doses the draft states outside ``doseAndRate`` would contradict the correction: Epic's examples put
    ``doseQuantity`` on the Dosage itself (not R4), and its ``ordered-dose`` / ``admin-amount`` extensions
    repeat the old dose as Quantities."""
    dosage.pop("doseQuantity", None)
    extensions = dosage.get("extension")
    if isinstance(extensions, list):
        kept = [e for e in extensions if not (isinstance(e, dict) and "valueQuantity" in e)]
        if kept:
            dosage["extension"] = kept
        else:
            del dosage["extension"]


def _detail(f: OrderFinding) -> str:
    o = f.order
    as_read = o.display + (amount(o.dose_value, o.dose_unit) if o.dose_value is not None else " (no dose)")
    if o.every_hours:
        as_read += f" every {num(o.every_hours)} h"
    if o.route:
        as_read += f" {o.route}"
    parts = [f"**Order checked**: {as_read} (`{o.reference}`)", "**Problem**\n\n" + bullets(finding_words.reasons(f))]
    protocol: list[str] = []
    if f.action == "update" and f.dose_mg is not None:
        line = f"Protocol dose: {num(f.dose_mg)} mg" + (f" every {num(f.every_hours)} h" if f.every_hours else "")
        calculation = doses.calculation(f.calculation)
        protocol.append(line + (f" ({calculation})" if calculation else ""))
    if f.action == "delete":
        protocol.append("Cancel this order.")
    if f.next_allowed is not None:
        protocol.append(f"Next dose allowed at {stamp(f.next_allowed)}.")
    if f.escalation and f.next_allowed is None:
        protocol.append(f"Protocol escalation: {f.escalation}")
    elif f.escalation:
        protocol.append(f"Once the dose limits are reached without improvement, the protocol escalates: {f.escalation}")
    if protocol:
        parts.append("**What the protocol says**\n\n" + bullets(protocol))
    if f.reminders:
        parts.append("**Reminders**\n\n" + bullets(w.text for w in f.reminders))
    if f.evidence:
        parts.append("**Evidence**\n\n" + bullets(f"{evidence.line(e)}, {stamp(e.time)} ({e.source})"
                                                   for e in f.evidence))
    grade = "not graded" if f.grade is None else f"CRS grade {f.grade}"
    sources = "; ".join(c.label for c in f.sources)
    parts.append(f"Checked against the protocol ({grade}). Source: {sources}.")
    return "\n\n".join(parts)
