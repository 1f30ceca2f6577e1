"""Suggestions as a client that creates orders from its own defaults can apply them (Epic).

Epic supports ``selectionBehavior: any`` only, one action per suggestion, creates and deletes but
no updates, and ignores the details of a suggested order. So: a suggestion with several actions
(a lab panel) becomes one suggestion per action; a proposed correction of a draft (an update)
becomes "cancel the draft" and "create the corrected order", both pre-selected; every medication
order's description states the whole order to set; and mutually exclusive options stay on one
card, only the recommended one pre-selected, each other one saying that it replaces it. Every
option the generic card offers is still offered.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from protocols import MedicationRecommendation

from ..suggestions import ORDER_EXTENSION
from ..wording import ehr
from .clients import ClientProfile
from .codes import medication_concept
from .orderables import Orderables
from .subjects import CardSubjects, alternatives_group

NewId = Callable[[], str]
# Parts of a signed or re-signed draft that must not be copied into a new order.
_DRAFT_ONLY = ("identifier", "meta", "text", "priorPrescription", "groupIdentifier", "basedOn")


def without_updates(body: dict[str, Any], profile: ClientProfile, orderables: Orderables,
                    subjects: CardSubjects, new_uuid: NewId) -> None:
    """Each ``update`` of a draft as a ``delete`` of it and a ``create`` of the corrected order."""
    if "update" in profile.action_types:
        return
    finding = subjects.finding(body)
    out: list[dict[str, Any]] = []
    for suggestion in body.get("suggestions", ()):
        update = next((a for a in suggestion.get("actions", ()) if a.get("type") == "update"), None)
        if update is None or finding is None or finding.dose_mg is None:
            out.append(suggestion)
            continue
        drug = subjects.drugs.get(finding.order.drug)
        entry = orderables.find(profile.name, None, finding.order.drug)
        out.append({"label": f"Cancel the draft {finding.order.display} order", "uuid": new_uuid(),
                    "isRecommended": True,
                    "actions": [{"type": "delete", "description": ehr.cancel_replaced(finding),
                                 "resourceId": finding.order.reference}]})
        resource = _new_order(update["resource"], new_uuid())
        if entry is not None or (drug is not None and drug.rxnorm):
            concept = {"text": drug.display if drug else finding.order.display}
            resource["medicationCodeableConcept"] = medication_concept(
                concept, profile, entry, drug.rxnorm if drug else None)
            resource.pop("medicationReference", None)
        out.append({**suggestion, "actions": [{"type": "create", "description": ehr.corrected_order(finding),
                                               "resource": resource}]})
    if out:
        body["suggestions"] = out


def _new_order(draft: dict[str, Any], rid: str) -> dict[str, Any]:
    resource = {k: v for k, v in copy.deepcopy(draft).items() if k not in _DRAFT_ONLY}
    resource.update({"id": rid, "status": "draft", "intent": "order"})
    return resource


def single_actions(body: dict[str, Any], profile: ClientProfile, new_uuid: NewId) -> None:
    """A suggestion of several actions (one ServiceRequest per code of a panel) as one suggestion each."""
    if not profile.one_action_per_suggestion or not body.get("suggestions"):
        return
    out: list[dict[str, Any]] = []
    for suggestion in body["suggestions"]:
        actions = suggestion.get("actions") or []
        if len(actions) < 2:
            out.append(suggestion)
            continue
        order = (suggestion.get("extension") or {}).get(ORDER_EXTENSION) or {}
        codes = order.get("codes") or []
        for i, action in enumerate(actions):
            one = {**suggestion, "label": _order_name(action), "uuid": suggestion["uuid"] if i == 0 else new_uuid(),
                   "actions": [action]}
            if "service" in order and i < len(codes):
                one["extension"] = {**suggestion["extension"], ORDER_EXTENSION: {**order, "code": codes[i]}}
            out.append(one)
    body["suggestions"] = out


def _order_name(action: dict[str, Any]) -> str:
    """What one action orders ("Blood culture"), as the button's label; its description keeps the source."""
    code = (action.get("resource") or {}).get("code") or {}
    named = code.get("text") or next((c.get("display") for c in code.get("coding") or () if c.get("display")), None)
    return str(named) if named else str(action["description"])


def whole_orders(body: dict[str, Any], profile: ClientProfile, subjects: CardSubjects) -> bool:
    """Each medication order's description as the whole order to set; True when the card has one."""
    if not profile.orders_from_own_defaults:
        return False
    found = False
    for suggestion in body.get("suggestions", ()):
        rec = subjects.order((suggestion.get("extension") or {}).get(ORDER_EXTENSION))
        for action in suggestion.get("actions", ()):
            resource = action.get("resource") or {}
            if resource.get("resourceType") == "ServiceRequest" and resource.get("priority") \
                    and action.get("type") == "create":
                action["description"] = ehr.with_priority(action["description"], resource["priority"])
            if resource.get("resourceType") != "MedicationRequest":
                continue
            found = True
            if action.get("type") == "create" and isinstance(rec, MedicationRecommendation):
                action["description"] = ehr.order_to_set(rec)
    return found


def supported_selection(body: dict[str, Any], profile: ClientProfile, subjects: CardSubjects) -> None:
    """``any`` where the client supports nothing else; on a card of exclusive options, each option but the
    recommended one says it replaces the recommended one (only that one is pre-selected)."""
    behaviour = body.get("selectionBehavior")
    if behaviour is None or behaviour in profile.selection_behaviors:
        return
    body["selectionBehavior"] = "any"
    if alternatives_group(body) is None:
        return
    options = [(s, subjects.order((s.get("extension") or {}).get(ORDER_EXTENSION))) for s in body["suggestions"]]
    chosen = next((rec for s, rec in options if s.get("isRecommended")), None)
    for suggestion, rec in options:
        if suggestion.get("isRecommended") or not isinstance(rec, MedicationRecommendation):
            continue
        text = ehr.instead_of(rec, chosen) if isinstance(chosen, MedicationRecommendation) else ehr.one_of(rec)
        for action in suggestion.get("actions", ()):
            action["description"] = text
