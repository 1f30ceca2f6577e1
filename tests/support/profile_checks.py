"""Each client profile's rules, checked on a card as the EHR receives it (issue 10)."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cards.profiles.clients import RXNORM, RXNORM_OID
from cards.wording.ehr import CHECK_DEFAULTS, DEFAULTS_NOTICE

MODELS = {"MedicationRequest": MedicationRequest, "ServiceRequest": ServiceRequest, "Condition": Condition}

ALPHANUMERIC = re.compile(r"[A-Za-z0-9]{1,100}")
CLIENT_OF = {"epic": "epic", "oracle-health": "oracle-health", "generic": "generic"}


def creates(card: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [a for s in card.get("suggestions", []) for a in s["actions"]
            if a["type"] == "create" and a["resource"]["resourceType"] == resource_type]


def _dose(resource: dict[str, Any]) -> str:
    value = resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"]
    return f"{Decimal(str(value)).normalize():f} mg"


def check_epic(card: dict[str, Any]) -> None:
    """selectionBehavior any, one create/delete action per suggestion, the whole order in each medication
    action's description, RxNorm under Epic's OID before the URI, a stable alphanumeric topic code."""
    assert ALPHANUMERIC.fullmatch(card["source"]["topic"]["code"]), card["source"]["topic"]
    suggestions = card.get("suggestions", [])
    if suggestions:
        assert card["selectionBehavior"] == "any"
    for s in suggestions:
        assert s["uuid"] and s["label"] and len(s["actions"]) == 1, s
        assert "Source:" not in s["label"], s["label"]  # a button names the order; its description cites
        assert s["actions"][0]["type"] in ("create", "delete"), s
        if "resource" in s["actions"][0]:  # what Epic creates is valid R4
            resource = s["actions"][0]["resource"]
            MODELS[resource["resourceType"]].model_validate(resource)
    medications = creates(card, "MedicationRequest")
    for s in suggestions:
        action = s["actions"][0]
        if action not in medications:
            continue
        resource, text = action["resource"], action["description"]
        assert _dose(resource) in text and CHECK_DEFAULTS in text, text
        route = s.get("extension", {}).get("crs-cds.order", {}).get("route")
        assert route is None or f" {route} " in text, (route, text)
        systems = [c["system"] for c in resource["medicationCodeableConcept"]["coding"]]
        if RXNORM in systems:
            assert RXNORM_OID in systems and systems.index(RXNORM_OID) < systems.index(RXNORM), systems
    if medications:
        assert card["detail"].startswith(DEFAULTS_NOTICE)
    if "crs-cds.alternatives" in card.get("extension", {}):
        recommended = [s for s in suggestions if s["isRecommended"]]
        assert len(recommended) <= 1
        if recommended:
            assert all(s["actions"][0]["description"].startswith("Instead of the recommended")
                       for s in suggestions if not s["isRecommended"])


def check_oracle(card: dict[str, Any]) -> None:
    """No markdown table, critical only from grade 3, links without appContext."""
    assert not any(line.lstrip().startswith("|") for line in card.get("detail", "").splitlines()), card["detail"]
    if card["indicator"] == "critical":
        extension = card.get("extension", {})
        assessment = extension.get("crs-cds.assessment") or {}
        grades = [assessment.get("grade"), (assessment.get("icans") or {}).get("grade"),
                  (extension.get("crs-cds.order-check") or {}).get("grade")]
        assert max((g for g in grades if g is not None), default=0) >= 3, card["summary"]
    assert all("appContext" not in link for link in card.get("links", []))


def check_profile(client: str, card: dict[str, Any]) -> None:
    """The rules of ``client``'s profile, and the profile named in the assessment."""
    assessment = card.get("extension", {}).get("crs-cds.assessment")
    if assessment is not None:
        assert assessment["client"] == client
    if client == "epic":
        check_epic(card)
    elif client == "oracle-health":
        check_oracle(card)
