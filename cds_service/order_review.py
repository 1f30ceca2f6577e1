"""order-select / order-sign: wire the draft orders through mapping, grading, checks and cards.

No Flask and no clinical decision here (those live in ``protocols.order_checks``).
order-select checks only the orders named in ``context.selections``; order-sign
checks every draft (it also fires on re-sign, when orders may be ``active``).
The other drafts still count towards repeat limits in both.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from cards.order_cards import order_cards
from fhir_mappings.draft_orders import draft_order_resources, map_draft_orders
from protocols.order_checks import check_orders

if TYPE_CHECKING:
    from .pipeline import Graded


def review_orders(context: Mapping[str, Any], resources: Sequence[dict[str, Any]], *, now: datetime,
                  selected_only: bool, graded: Callable[[], "Graded"]) -> list[dict[str, Any]]:
    """Cards for the draft orders of an order-select (``selected_only``) or order-sign call.

    ``graded`` maps, grades and selects the protocol; it is called only when
    there is a draft order to check (most order-sign calls have none of ours).
    """
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
    g = graded()
    findings = check_orders(orders, assessment=g.assessment, snapshot=g.snapshot, protocol=g.protocol, now=now,
                            checked=checked)
    drafts = {f"MedicationRequest/{r['id']}": r for r in draft_order_resources(draft_orders)
              if r.get("resourceType") == "MedicationRequest" and isinstance(r.get("id"), str)}
    return order_cards(findings, drafts)
