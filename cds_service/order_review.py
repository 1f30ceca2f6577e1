"""order-select / order-sign: wire the draft orders through mapping, grading, checks and cards.

No Flask and no clinical decision here (those live in ``protocols.order_checks``).
order-select checks only the orders named in ``context.selections``; order-sign
checks every draft (it also fires on re-sign, when orders may be ``active``).
The other drafts still count towards repeat limits in both.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from cards.order_cards import order_cards
from fhir_mappings import map_resources
from fhir_mappings.draft_orders import draft_order_resources, map_draft_orders
from grading import GradingConfig, grade_crs
from protocols import load_protocol, select_protocol
from protocols.order_checks import check_orders


def review_orders(context: Mapping[str, Any], resources: Sequence[dict[str, Any]], *, now: datetime,
                  protocol_id: str, config: GradingConfig, selected_only: bool,
                  paediatric_protocol_id: str | None = None,
                  unavailable: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Cards for the draft orders of an order-select (``selected_only``) or order-sign call."""
    patient_id = context["patientId"]
    draft_orders = context.get("draftOrders")
    orders = map_draft_orders(draft_orders, patient_id=patient_id, now=now, resources=resources)
    if not orders:
        return []
    checked = None
    if selected_only:
        selections = context.get("selections")
        checked = {s for s in selections if isinstance(s, str)} if isinstance(selections, list) else set()
        if not any(o.reference in checked for o in orders):
            return []
    snapshot = map_resources(resources, patient_id=patient_id, now=now, unavailable=tuple(unavailable))
    assessment = grade_crs(snapshot, now, config)
    protocol = load_protocol(select_protocol(protocol_id, paediatric_protocol_id, snapshot.age_years(now)))
    findings = check_orders(orders, assessment=assessment, snapshot=snapshot, protocol=protocol, now=now,
                            checked=checked)
    drafts = {f"MedicationRequest/{r['id']}": r for r in draft_order_resources(draft_orders)
              if r.get("resourceType") == "MedicationRequest" and isinstance(r.get("id"), str)}
    return order_cards(findings, drafts)
