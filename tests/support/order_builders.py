"""Draft MedicationRequests and order-select / order-sign requests for the order-check tests."""
from __future__ import annotations

import itertools
from typing import Any

from devkit import fhirbuild as fb

_ids = itertools.count(1)
ROUTES = {"IV": ("47625008", "Intravenous route"), "SC": ("34206005", "Subcutaneous route"),
          "PO": ("26643006", "Oral route")}


def draft(drug: str, dose: float | None, unit: str = "mg", *, every_hours: float | None = None,
          route: str | None = "IV", rid: str | None = None, status: str = "draft", coded: bool = True,
          text: str | None = None, **extra: Any) -> dict[str, Any]:
    """A draft MedicationRequest coded with the RxNorm ingredient of ``drug`` (when known)."""
    concept: dict[str, Any] = {"text": drug}
    if coded and drug in fb.RX:
        concept["coding"] = [{"system": fb.RXNORM, "code": fb.RX[drug], "display": drug}]
    dosage: dict[str, Any] = {}
    if text:
        dosage["text"] = text
    if every_hours:
        dosage["timing"] = {"repeat": {"frequency": 1, "period": every_hours, "periodUnit": "h"}}
    if route:
        code, display = ROUTES[route]
        dosage["route"] = {"coding": [{"system": fb.SNOMED, "code": code, "display": display}]}
    if dose is not None:
        dosage["doseAndRate"] = [{"doseQuantity": {"value": dose, "unit": unit, "system": fb.UCUM, "code": unit}}]
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest", "id": rid or f"mr{next(_ids)}", "status": status, "intent": "order",
        "medicationCodeableConcept": concept, "subject": {"reference": f"Patient/{fb.PATIENT_ID}"},
        "dosageInstruction": [dosage],
    }
    res.update(extra)
    return res


def order_request(resources: list[dict[str, Any]], drafts: list[dict[str, Any]], *, hook: str = "order-sign",
                  selections: list[str] | None = None, bundle_type: str | None = None) -> dict[str, Any]:
    """An order-sign (or order-select) request; ``draftOrders`` has no ``Bundle.type`` by default (sandbox)."""
    req = fb.hook_request(resources, hook=hook)
    req["context"]["draftOrders"] = fb.bundle(*drafts, type_=bundle_type)
    if hook == "order-select":
        req["context"]["selections"] = (selections if selections is not None
                                        else [f"MedicationRequest/{d['id']}" for d in drafts])
    return req


def crs_patient(weight_kg: float | None = 70, *, grade: int = 2, extra: list[dict[str, Any]] | None = None
                ) -> list[dict[str, Any]]:
    """A CAR-T patient 5 days after infusion with CRS of ``grade`` (2: fever + low-flow O2; 3: + norepinephrine)."""
    res: list[dict[str, Any]] = [fb.patient(), fb.car_t(), fb.temperature(39.2, fb.ago(hours=1)),
                                 fb.blood_pressure(118, 70, fb.ago(minutes=30))]
    if grade >= 2:
        res += [fb.oxygen_flow(3, fb.ago(minutes=20)), fb.oxygen_device("nasal-cannula", fb.ago(minutes=20)),
                fb.spo2(95, fb.ago(minutes=20))]
    else:
        res += [fb.spo2(98, fb.ago(minutes=20)), fb.oxygen_device("room-air", fb.ago(minutes=20))]
    if grade >= 3:
        res = [r for r in res if not (r["resourceType"] == "Observation"
                                      and r["code"]["coding"][0]["code"] in ("85354-9",))]
        res += [fb.blood_pressure(84, 50, fb.ago(minutes=15)),
                fb.med_admin("norepinephrine", fb.ago(hours=2), open_period=True, status="in-progress",
                             rxnorm=fb.RX["norepinephrine"])]
    if weight_kg is not None:
        res.append(fb.weight(weight_kg, fb.ago(days=1)))
    return res + (extra or [])


def cards_of(client: Any, req: dict[str, Any], service: str = "crs-order-sign") -> list[dict[str, Any]]:
    resp = client.post(f"/cds-services/{service}", json=req)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["cards"]


def kinds(cards: list[dict[str, Any]]) -> list[str]:
    return [c["source"]["topic"]["code"] for c in cards]
