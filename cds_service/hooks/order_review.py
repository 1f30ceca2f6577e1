"""order-select / order-sign: the draft orders through mapping, grading, protocol checks and cards.

No Flask and no clinical decision here (those live in ``protocols.order_checks``).
order-select checks only the orders named in ``context.selections``; order-sign
checks every draft (it also fires on re-sign, when orders may be ``active``).
The other drafts still count towards repeat limits in both.
"""
from __future__ import annotations

from cards import Card, order_cards
from cards.profiles import CardSubjects
from fhir_mappings import draft_order_resources, map_draft_orders
from protocols.order_checks import check_orders

from .assess import Assessor
from .call import HookCall


def compose_order_review(assessor: Assessor, call: HookCall, *, selected_only: bool) -> list[Card]:
    """Cards for the draft orders of an order-select (``selected_only``) or order-sign call.

    The patient is mapped and graded only when there is a draft order of ours to
    check (most order-sign calls have none).
    """
    context = call.context
    patient_id = context["patientId"]
    draft_orders = context.get("draftOrders")
    orders = map_draft_orders(draft_orders, patient_id=patient_id, now=call.now, codes=assessor.codes,
                              resources=call.resources)
    if not orders:
        return []
    checked = None
    if selected_only:
        selections = context.get("selections")
        checked = {s for s in selections if isinstance(s, str)} if isinstance(selections, list) else set()
        if not any(o.reference in checked for o in orders):
            return []
    g = assessor.grade(call.resources, patient_id=patient_id, now=call.now, unavailable=call.unavailable)
    findings = check_orders(orders, assessment=g.assessment, snapshot=g.snapshot, protocol=g.protocol,
                            grading=assessor.grading, now=call.now, checked=checked)
    drafts = {f"MedicationRequest/{r['id']}": r for r in draft_order_resources(draft_orders)
              if r.get("resourceType") == "MedicationRequest" and isinstance(r.get("id"), str)}
    subjects = CardSubjects(g.protocol.version, g.assessment, findings=tuple(findings), drugs=g.protocol.drugs)
    return call.shaping.finish(order_cards(findings, drafts), subjects)


def compose_order_select(assessor: Assessor, call: HookCall) -> list[Card]:
    """order-select: protocol checks of the newly selected draft orders (``context.selections``)."""
    return compose_order_review(assessor, call, selected_only=True)


def compose_order_sign(assessor: Assessor, call: HookCall) -> list[Card]:
    """order-sign: protocol checks of every draft order about to be signed."""
    return compose_order_review(assessor, call, selected_only=False)
