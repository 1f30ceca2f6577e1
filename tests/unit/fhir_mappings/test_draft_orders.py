"""Draft orders as Epic sends them: the Medication in the same Bundle, the dose on the Dosage or only in
Epic's ordered-dose extension, routes coded locally and in SNOMED CT (issue 10)."""
from __future__ import annotations

from typing import Any

import pytest

from devkit import fhirbuild as fb
from fhir_mappings import map_draft_orders
from tests.support.clinical_data import CODES

ORDERED_DOSE = "https://open.epic.com/fhir/extensions/ordered-dose"
ADMIN_AMOUNT = "https://open.epic.com/fhir/extensions/admin-amount"
ROUTE = {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.861.1.7.4.798268.7025", "code": "11",
                     "display": "Intravenous"},
                    {"system": fb.SNOMED, "code": "47625008", "display": "Intravenous route"}], "text": "Intravenous"}
TOCI = {"resourceType": "Medication", "id": "eToci",
        "code": {"coding": [{"system": fb.RXNORM, "code": "612865"}], "text": "tocilizumab 20 mg/mL"}}


def quantity(value: float, unit: str = "mg", code: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": fb.UCUM, "code": code or unit}


def epic_order(dosage: dict[str, Any], reference: str = "Medication/eToci") -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": "eMR1", "status": "draft", "intent": "order",
            "medicationReference": {"reference": reference, "display": "TOCILIZUMAB 20 MG/ML IV SOLN"},
            "subject": {"reference": "Patient/p1"},
            "dosageInstruction": [{"route": ROUTE, "timing": {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h"},
                                                              "code": {"text": "Q8H"}}, **dosage}]}


def mapped(order: dict[str, Any]) -> Any:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}, {"resource": TOCI}]}
    [found] = map_draft_orders(bundle, patient_id="p1", now=fb.NOW, codes=CODES)
    return found


@pytest.mark.parametrize("dosage", [
    {"doseAndRate": [{"doseQuantity": quantity(560)}]},
    {"doseQuantity": quantity(560)},  # Epic's examples: on the Dosage itself
    {"extension": [{"url": ORDERED_DOSE, "valueQuantity": quantity(560)}]},  # only in ordered-dose
    {"extension": [{"url": ADMIN_AMOUNT, "valueQuantity": quantity(28, "mL")},
                   {"url": ORDERED_DOSE, "valueQuantity": quantity(560)}],
     "doseQuantity": quantity(28, "mL")},  # the volume given, and the dose in mg beside it
    {"extension": [{"url": ORDERED_DOSE, "valueQuantity": quantity(0.56, "g")}]},
])
def test_the_dose_in_mg_is_read_wherever_epic_puts_it(dosage) -> None:
    order = mapped(epic_order(dosage))
    assert (order.drug, order.matched_by, order.dose_mg, order.every_hours, order.route) == (
        "tocilizumab", "code", 560.0, 8.0, "IV")


def test_the_medication_in_the_same_bundle_is_found_by_an_absolute_reference() -> None:
    order = mapped(epic_order({"doseQuantity": quantity(560)},
                              "https://fhir.epic-hospital.example.org/api/FHIR/R4/Medication/eToci"))
    assert (order.drug, order.matched_by) == ("tocilizumab", "code")


def test_a_dose_in_other_units_only_is_kept_as_given_and_an_amount_to_give_is_no_dose() -> None:
    order = mapped(epic_order({"doseQuantity": quantity(2, "vial", "{vial}")}))
    assert (order.dose_mg, order.dose_value, order.dose_unit) == (None, 2.0, "{vial}")
    order = mapped(epic_order({"extension": [{"url": ADMIN_AMOUNT, "valueQuantity": quantity(2, "vial", "{vial}")}]}))
    assert (order.dose_mg, order.dose_value) == (None, None)
