"""Order codes as the client finds its orderables: the site's mapped coding first, then the standard
codes (RxNorm as the client names it: Epic lists the RxNorm OID, the sandbox the RxNorm URI).

Only ``create`` actions are recoded; an ``update`` carries the clinician's own draft, whose medication
is the EHR's and stays as it was chosen.
"""
from __future__ import annotations

from typing import Any

from ..suggestions import ORDER_EXTENSION
from .clients import RXNORM, ClientProfile
from .orderables import Orderable, Orderables
from .subjects import CardSubjects


def medication_concept(concept: dict[str, Any], profile: ClientProfile, entry: Orderable | None,
                       rxnorm: str | None) -> dict[str, Any]:
    """``concept`` with the site's coding first, then the RxNorm code under each system the client reads."""
    found = concept.get("coding") or []
    code = rxnorm or next((c.get("code") for c in found if c.get("system") == RXNORM), None)
    display = next((c.get("display") for c in found if c.get("system") == RXNORM), None) or concept.get("text")
    others = [c for c in found if c.get("system") != RXNORM]
    standard = [{"system": system, "code": code, **({"display": display} if display else {})}
                for system in profile.rxnorm_systems] if code else []
    coding = ([entry.coding()] if entry else []) + standard + others
    return {**concept, "coding": coding} if coding else concept


def coded_orders(body: dict[str, Any], profile: ClientProfile, orderables: Orderables,
                 subjects: CardSubjects) -> None:
    """Recode every ``create`` order of the card's suggestions for ``profile``."""
    if not len(orderables) and profile.rxnorm_systems == (RXNORM,):
        return  # the codes the builders wrote are this client's (the generic profile without a site map)
    for suggestion in body.get("suggestions", ()):
        order = (suggestion.get("extension") or {}).get(ORDER_EXTENSION)
        if not isinstance(order, dict):
            continue
        rec = subjects.order(order)
        action_id = rec.action_id if rec is not None else None
        if "drug" in order:
            entry = orderables.find(profile.name, action_id, order["drug"])
            for action in _creates(suggestion, "MedicationRequest"):
                resource = action["resource"]
                resource["medicationCodeableConcept"] = medication_concept(
                    resource["medicationCodeableConcept"], profile, entry, None)
        elif "service" in order:
            _service(suggestion, order, profile, orderables)


def _creates(suggestion: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [a for a in suggestion.get("actions", ()) if a.get("type") == "create"
            and (a.get("resource") or {}).get("resourceType") == resource_type]


def _service(suggestion: dict[str, Any], order: dict[str, Any], profile: ClientProfile,
             orderables: Orderables) -> None:
    """One ServiceRequest per protocol code, each led by its mapped coding; or, when the site maps the
    whole of a multi-code action to one orderable (an order set), that one order naming every code."""
    actions = _creates(suggestion, "ServiceRequest")
    whole = orderables.find(profile.name, order["service"])
    if whole is not None and len(actions) > 1:
        first = actions[0]
        named = "; ".join(a["resource"]["code"]["coding"][0].get("display", "") for a in actions)
        first["resource"]["code"] = {"coding": [whole.coding()], "text": whole.display or named}
        first["description"] = f"Order {whole.display or 'the order set'} ({named})"
        suggestion["actions"] = [first]
        return
    for action in actions:
        concept = action["resource"]["code"]
        entry = orderables.find(profile.name, order["service"], code=concept["coding"][0].get("code"))
        if entry is not None:
            concept["coding"] = [entry.coding(), *concept["coding"]]
