"""openapi.yaml is a valid OpenAPI document and describes what the service really answers."""
from __future__ import annotations

import copy
import json

import pytest
from openapi_spec_validator import validate

from cds_service.schemas import SCHEMAS
from devkit import fhirbuild as fb
from tests.support import apps
from tests.support.openapi import response_schema
from tests.support.paths import ROOT

URL = "/cds-services/crs-patient-view"


def test_document_is_valid_openapi(document) -> None:
    validate(document)


def test_request_schema_is_the_one_the_service_validates_with(document) -> None:
    ours = copy.deepcopy(SCHEMAS["request"])
    ours.pop("$schema")
    ours.pop("$id")
    assert document["components"]["schemas"]["CdsRequest"] == ours


def test_every_error_status_is_documented(document) -> None:
    call = document["paths"]["/cds-services/{id}"]["post"]["responses"]
    assert {"200", "400", "404", "405", "412", "500"} <= set(call)


def test_discovery_conforms(client, document, conforms) -> None:
    resp = client.get("/cds-services")
    conforms(resp.get_json(), response_schema(document, "/cds-services", "get", "200"))


def test_health_conforms(client, document, conforms) -> None:
    conforms(client.get("/health").get_json(), response_schema(document, "/health", "get", "200"))


@pytest.mark.parametrize("status,send", [
    ("400", lambda c: c.post(URL, json={"hook": 5})),
    ("400", lambda c: c.post(URL, data=b"{", headers={"Content-Type": "application/json"})),
    ("404", lambda c: c.post("/cds-services/nope", json={})),
    ("405", lambda c: c.get(URL)),
    ("412", lambda c: c.post(URL, json={"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                                        "context": {"patientId": "p1"}})),
])
def test_error_responses_conform(client, document, conforms, status, send) -> None:
    resp = send(client)
    assert str(resp.status_code) == status
    conforms(resp.get_json(), response_schema(document, "/cds-services/{id}", "post", status))


def test_500_conforms(settings, document, conforms) -> None:
    client = apps.client(settings, composers={"patient-view": lambda *a: 1 / 0})
    resp = client.post(URL, json=fb.hook_request([]))
    assert resp.status_code == 500
    conforms(resp.get_json(), response_schema(document, "/cds-services/{id}", "post", "500"))


def test_example_requests_conform_to_the_request_schema(conforms) -> None:
    conforms(fb.hook_request([fb.car_t(), fb.temperature(39.0, fb.ago(hours=1))]), "CdsRequest")
    for path in sorted((ROOT / "examples").glob("patient-view-*.json")):
        conforms(json.loads(path.read_text()), "CdsRequest")


def test_card_schema_requires_selection_behavior_with_suggestions(document, conforms) -> None:
    card = {"uuid": "0b5e3d5e-5e0b-4c1e-9f43-3f1b9d1c2a11", "summary": "s", "indicator": "warning",
            "source": {"label": "x"}, "suggestions": [{"label": "give dexamethasone"}]}
    with pytest.raises(AssertionError):
        conforms(card, "Card")
    conforms({**card, "selectionBehavior": "at-most-one"}, "Card")
    with pytest.raises(AssertionError):
        conforms({**card, "selectionBehavior": "any", "summary": "x" * 141}, "Card")


def test_pipeline_cards_conform(client, document, conforms) -> None:
    """A real 200 with a card (needs the clinical layers)."""
    body = (ROOT / "examples" / "patient-view-grade3.json").read_bytes()
    resp = client.post(URL, data=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["cards"], "expected a card for the grade 3 example"
    conforms(resp.get_json(), response_schema(document, "/cds-services/{id}", "post", "200"))


def test_order_suggestions_conform(client, document, conforms) -> None:
    """Every suggestion of the grade 3 example carries a create action with its resource and order extension."""
    body = (ROOT / "examples" / "patient-view-grade3.json").read_bytes()
    cards = client.post(URL, data=body, headers={"Content-Type": "application/json"}).get_json()["cards"]
    suggestions = [s for c in cards for s in c.get("suggestions", [])]
    assert suggestions and {c["selectionBehavior"] for c in cards if "suggestions" in c} == {"any", "at-most-one"}
    for s in suggestions:
        conforms(s, "Suggestion")
        if "crs-cds.diagnosis" in s["extension"]:  # record the diagnosis (issue 12, item 6)
            conforms(s["extension"]["crs-cds.diagnosis"], "DiagnosisExtension")
        else:
            conforms(s["extension"]["crs-cds.order"], "OrderExtension")
    assert sum("crs-cds.diagnosis" in s["extension"] for s in suggestions) == 1
    with pytest.raises(AssertionError):
        conforms({"type": "create", "description": "no resource"}, "Action")
