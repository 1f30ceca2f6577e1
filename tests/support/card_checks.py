"""What every card must satisfy (CDS Hooks rules and ours), and readers of the cards' suggestions.

Every suggested resource is valid FHIR R4 and says the same thing as its ``crs-cds.order``
extension; under ``at-most-one`` at most one suggestion is recommended; summaries stay under 140
characters.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

MODELS = {"MedicationRequest": MedicationRequest, "ServiceRequest": ServiceRequest}
DIAGNOSIS = "crs-cds.diagnosis"
# Unit codes as UCUM writes them, never as people read them ("Cel", "ug", "mm[Hg]").
UCUM_CODES = re.compile(r"\bCel\b|\bug\b|\bug/|\[degF\]|mm\[Hg\]|10\*9|\[lb_av\]|\[U\]")


def check_card(card: dict[str, Any]) -> None:
    """CDS Hooks rules and our own: selectionBehavior with suggestions, at most one recommended
    under at-most-one, valid FHIR, extension agreeing with the resource."""
    assert len(card["summary"]) < 140
    if "suggestions" not in card:
        return
    assert card["selectionBehavior"] in ("any", "at-most-one")
    if card["selectionBehavior"] == "at-most-one":
        assert sum(bool(s.get("isRecommended")) for s in card["suggestions"]) <= 1
    for s in card["suggestions"]:
        assert s["uuid"] and s["label"] and s["actions"]
        if DIAGNOSIS in s["extension"]:
            agrees_with_diagnosis(s)
            continue
        order = s["extension"]["crs-cds.order"]
        for action in s["actions"]:
            assert action["type"] == "create"
            res = action["resource"]
            MODELS[res["resourceType"]].model_validate(res)
            assert (res["status"], res["intent"]) == ("draft", "order")
            assert res["subject"] == {"reference": "Patient/p1"}
            if res["resourceType"] == "MedicationRequest":
                agrees_with_medication(order, res)
            else:
                assert res["code"]["coding"][0]["code"] in order["codes"]
        if "service" in order:
            assert [a["resource"]["code"]["coding"][0]["code"] for a in s["actions"]] == order["codes"]


def agrees_with_medication(order: dict[str, Any], res: dict[str, Any]) -> None:
    [dosage] = res["dosageInstruction"]
    assert dosage["doseAndRate"][0]["doseQuantity"] == {"value": order["doseMg"], "unit": "mg",
                                                        "system": "http://unitsofmeasure.org", "code": "mg"}
    assert dosage["route"]["text"] == order["route"]
    repeat = dosage["timing"]["repeat"]
    if order["everyHours"] is None:
        assert repeat == {"count": 1}
    else:
        assert (repeat["period"], repeat["periodUnit"], repeat["frequency"]) == (order["everyHours"], "h", 1)
    assert res["medicationCodeableConcept"]["text"].lower() == order["drug"]


def agrees_with_diagnosis(s: dict[str, Any]) -> None:
    """A diagnosis suggestion: one valid R4 encounter-diagnosis Condition whose ICD-10-CM code, grade and onset
    are those of its ``crs-cds.diagnosis`` extension; never pre-selected."""
    [action] = s["actions"]
    assert action["type"] == "create" and s["isRecommended"] is False
    res = action["resource"]
    Condition.model_validate(res)
    d = s["extension"][DIAGNOSIS]
    codings = res["code"]["coding"]
    assert {(c["system"], c["code"]) for c in codings} == {("http://hl7.org/fhir/sid/icd-10-cm", d["code"]),
                                                           ("urn:oid:2.16.840.1.113883.6.90", d["code"])}
    assert res["category"][0]["coding"][0]["code"] == "encounter-diagnosis"
    assert res.get("onsetDateTime") == d["onset"] and res["subject"] == {"reference": "Patient/p1"}
    grade = f"≥ {d['grade']}" if d["lowerBound"] else str(d["grade"])
    assert res["stage"][0]["summary"]["text"].startswith(f"ASTCT grade {grade}")


def suggestions(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The order suggestions of the cards (diagnosis suggestions are read with ``diagnoses``)."""
    return [s for c in cards for s in c.get("suggestions", []) if DIAGNOSIS not in s["extension"]]


def diagnoses(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s["extension"][DIAGNOSIS] for c in cards for s in c.get("suggestions", []) if DIAGNOSIS in s["extension"]]


def med_orders(cards: list[dict[str, Any]], drug: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(suggestion, MedicationRequest) pairs for ``drug``."""
    return [(s, s["actions"][0]["resource"]) for s in suggestions(cards)
            if s["extension"]["crs-cds.order"].get("drug") == drug]


def one_order(cards, drug):
    [(suggestion, resource)] = med_orders(cards, drug)
    return suggestion, resource


def dose(resource: dict[str, Any]) -> tuple[float, str, str, Any]:
    [d] = resource["dosageInstruction"]
    repeat = d["timing"]["repeat"]
    return (d["doseAndRate"][0]["doseQuantity"]["value"], d["route"]["coding"][0]["code"], d["route"]["text"],
            repeat.get("period"))


def details(cards) -> str:
    return "\n".join(c.get("detail", "") for c in cards)


def texts(card: dict[str, Any]) -> Iterator[str]:
    """Everything on a card a clinician may read, in the card or in the EHR's order entry."""
    yield card["summary"]
    yield card.get("detail", "")
    yield card["source"]["label"]
    for r in card.get("overrideReasons", []):
        yield r["display"]
    for s in card.get("suggestions", []):
        yield s["label"]
        for action in s["actions"]:
            yield action["description"]
            resource = action.get("resource", {})
            for dosage in resource.get("dosageInstruction", []):
                yield dosage.get("text", "")
            for note in resource.get("note", []):
                yield note["text"]
