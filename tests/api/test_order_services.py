"""crs-order-select / crs-order-sign as services: discovery, request validation, draft mapping."""
from __future__ import annotations

import pytest

from devkit import fhirbuild as fb
from fhir_mappings import map_draft_orders
from tests.support.clinical_data import CODES
from tests.support.order_builders import crs_patient, draft, order_request


def test_discovery_lists_the_order_services_with_the_patient_view_prefetch(client) -> None:
    services = {s["id"]: s for s in client.get("/cds-services").get_json()["services"]}
    assert services["crs-order-select"]["hook"] == "order-select"
    assert services["crs-order-sign"]["hook"] == "order-sign"
    for sid in ("crs-order-select", "crs-order-sign"):
        assert services[sid]["prefetch"] == services["crs-patient-view"]["prefetch"]
        assert services[sid]["description"] and services[sid]["title"]


def _problems(resp) -> list[str]:
    assert resp.status_code == 400, resp.get_json()
    return [d["path"] for d in resp.get_json()["details"]]


def test_order_select_without_selections_or_draft_orders_is_400_naming_the_field(client) -> None:
    req = order_request(crs_patient(70), [draft("tocilizumab", 900)], hook="order-select")
    del req["context"]["selections"]
    assert _problems(client.post("/cds-services/crs-order-select", json=req)) == ["context.selections"]
    del req["context"]["draftOrders"]
    assert _problems(client.post("/cds-services/crs-order-select", json=req)) == [
        "context.draftOrders", "context.selections"]


def test_order_sign_without_draft_orders_is_400_naming_the_field(client) -> None:
    req = order_request(crs_patient(70), [draft("tocilizumab", 900)])
    del req["context"]["draftOrders"]
    assert _problems(client.post("/cds-services/crs-order-sign", json=req)) == ["context.draftOrders"]
    req["context"]["draftOrders"] = []
    resp = client.post("/cds-services/crs-order-sign", json=req)
    assert _problems(resp) == ["context.draftOrders"] and "object" in resp.get_json()["details"][0]["problem"]


def test_wrong_hook_for_the_order_service_is_400(client) -> None:
    req = order_request(crs_patient(70), [draft("tocilizumab", 900)])
    assert _problems(client.post("/cds-services/crs-order-select", json=req)) == ["hook"]


def test_extra_context_fields_are_tolerated(client) -> None:
    req = order_request(crs_patient(70), [draft("tocilizumab", 560)])
    req["context"]["somethingNew"] = {"x": 1}
    req["extension"] = {"vendor.flag": True}
    assert client.post("/cds-services/crs-order-sign", json=req).status_code == 200


# ------------------------------------------------------------------------ mapping

def test_draft_mapping_reads_dose_timing_route_and_contained_medication() -> None:
    contained = {"resourceType": "Medication", "id": "m", "code": {"text": "Actemra 400 mg/20 mL"}}
    order = draft("x", 800, rid="r1", every_hours=None)
    del order["medicationCodeableConcept"]
    order.update(contained=[contained], medicationReference={"reference": "#m"})
    order["dosageInstruction"][0]["timing"] = {"repeat": {"frequency": 4, "period": 1, "periodUnit": "d"}}
    steroid = draft("dexamethasone", 10000, "ug", rid="r2", route="PO")
    [toci, dex] = map_draft_orders(fb.bundle(order, steroid, type_=None), patient_id="p1", now=fb.NOW, codes=CODES)
    assert (toci.reference, toci.drug, toci.matched_by, toci.dose_mg, toci.every_hours, toci.route) == (
        "MedicationRequest/r1", "tocilizumab", "name", 800.0, 6.0, "IV")
    assert (dex.drug, dex.dose_mg, dex.route, dex.position) == ("dexamethasone", 10.0, "PO", 1)


def test_draft_mapping_resolves_a_referenced_medication_from_prefetch() -> None:
    med = {"resourceType": "Medication", "id": "kin",
           "code": {"coding": [{"system": fb.RXNORM, "code": "72435", "display": "anakinra"}]}}
    order = draft("x", 100, rid="r", coded=False)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/kin"}
    [found] = map_draft_orders(fb.bundle(order), patient_id="p1", now=fb.NOW, codes=CODES, resources=[med])
    assert (found.drug, found.matched_by) == ("anakinra", "code")


def test_draft_mapping_skips_odd_entries_and_cancelled_orders() -> None:
    bundle = {"resourceType": "Bundle", "entry": [
        {"resource": draft("tocilizumab", 560, status="cancelled")}, {"fullUrl": "x"}, "junk",
        {"resource": {"resourceType": "ServiceRequest", "id": "s"}},
        {"resource": draft("tocilizumab", None, rid="nodose")}]}
    [only] = map_draft_orders(bundle, patient_id="p1", now=fb.NOW, codes=CODES)
    assert only.reference == "MedicationRequest/nodose" and only.dose_mg is None
    assert map_draft_orders(None, patient_id="p1", now=fb.NOW, codes=CODES) == []
    assert map_draft_orders({"entry": "nope"}, patient_id="p1", now=fb.NOW, codes=CODES) == []


@pytest.mark.parametrize("status", [{"a": 1}, ["draft"]])
def test_an_order_whose_status_is_not_a_string_is_still_checked_not_a_500(client, status) -> None:
    odd = draft("tocilizumab", 900, rid="odd")
    odd["status"] = status  # unhashable: `in frozenset` raised TypeError outside the per-order guard
    [found] = map_draft_orders(fb.bundle(odd), patient_id="p1", now=fb.NOW, codes=CODES)
    assert found.reference == "MedicationRequest/odd"
    resp = client.post("/cds-services/crs-order-sign", json=order_request(crs_patient(70, grade=3), [odd]))
    assert resp.status_code == 200


# ------------------------------------------------------------------ contract

from tests.support.openapi import response_schema  # noqa: E402


def test_order_cards_and_feedback_conform_to_the_openapi_document(client, document, conforms) -> None:
    orders = [draft("tocilizumab", 900), draft("dexamethasone", 10, every_hours=12), draft("sargramostim", 250, "ug"),
              draft("anakinra", 200, every_hours=6), draft("tocilizumab", 560, route=None)]
    resp = client.post("/cds-services/crs-order-sign", json=order_request(crs_patient(70, grade=3), orders))
    body = resp.get_json()
    assert len(body["cards"]) == 5
    conforms(body, response_schema(document, "/cds-services/{id}", "post", "200"))
    for suggestion in (s for c in body["cards"] for s in c.get("suggestions", [])):
        if "extension" in suggestion:
            conforms(suggestion["extension"]["crs-cds.order"], "OrderExtension")
    feedback = {"feedback": [{"card": body["cards"][0]["uuid"], "outcome": "accepted",
                              "outcomeTimestamp": "2026-11-21T12:05:00Z"}]}
    conforms(feedback, "FeedbackRequest")
    result = client.post("/cds-services/crs-order-sign/feedback", json=feedback)
    conforms(result.get_json(), response_schema(document, "/cds-services/{id}/feedback", "post", "200"))
