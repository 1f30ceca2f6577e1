"""Against a real FHIR server (sekmet-fhir, see tests/sekmet_server.py): whatever the EHR
prefetches — everything, part, an OperationOutcome, a first page — the service reads the rest
itself and reaches the same assessment as with full prefetch. The service's clock is pinned
at ``fhirbuild.NOW`` and the data are built relative to it, so dated queries line up."""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from cds_service.bootstrap import Service, bootstrap
from cds_service.ehr.templates import render_template
from cds_service.http import create_app
from cds_service.settings import Settings
from devkit import fhirbuild as fb
from devkit import records
from tests.support import sekmet_server
from tests.support.ehr import SERVICE

pytestmark = pytest.mark.integration
URL = "/cds-services/crs-patient-view"


@pytest.fixture(scope="session")
def fhir() -> Iterator[sekmet_server.SekmetServer]:
    if not sekmet_server.installed():
        pytest.skip("sekmet-fhir is not installed (pip install -e '.[test]' installs it)")
    try:
        server = sekmet_server.start()
    except sekmet_server.SekmetUnavailable as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


def for_patient(resources: list[dict[str, Any]], pid: str) -> list[dict[str, Any]]:
    """The builders' resources, re-homed to patient ``pid`` with ids unique on the server."""
    out = []
    for r in copy.deepcopy(resources):
        if r["resourceType"] == "Patient":
            r["id"] = pid
        else:
            r["id"] = f"{pid}-{r['id']}"
            if "subject" in r:
                r["subject"] = {"reference": f"Patient/{pid}"}
        out.append(r)
    return out


@pytest.fixture(scope="session")
def patient_72h(fhir) -> tuple[str, list[dict[str, Any]]]:
    """A 72-hour hourly CAR-T record (~550 resources), grade 3 with fever and a vasopressor."""
    pid = "int-72h"
    resources = for_patient(records.record(hours=72, step_minutes=60), pid)
    fhir.load(resources)
    return pid, resources


@pytest.fixture
def client():
    return create_app(bootstrap(Settings(), clock=lambda: fb.NOW)).test_client()


def body(fhir, pid: str, prefetch: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
    request = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
               "context": {"userId": "Practitioner/example", "patientId": pid},
               "fhirServer": fhir.base_url,
               "fhirAuthorization": {"access_token": token or fhir.token, "token_type": "Bearer",
                                     "expires_in": 300, "scope": "user/*.read", "subject": "crs-cds"}}
    if prefetch is not None:
        request["prefetch"] = prefetch
    return request


def full_prefetch(resources: list[dict[str, Any]], pid: str) -> dict[str, Any]:
    return fb.hook_request(resources, pid=pid)["prefetch"]


def outcome(response) -> dict[str, Any]:
    """What must not depend on how the data arrived: the assessment, summary and detail."""
    assert response.status_code == 200, response.get_json()
    card = next(c for c in response.get_json()["cards"] if "crs-cds.assessment" in c.get("extension", {}))
    return {"assessment": card["extension"]["crs-cds.assessment"], "summary": card["summary"],
            "detail": card["detail"]}


@pytest.fixture
def reference(client, fhir, patient_72h) -> dict[str, Any]:
    pid, resources = patient_72h
    result = outcome(client.post(URL, json=body(fhir, pid, full_prefetch(resources, pid))))
    assert result["assessment"]["grade"] == 3 and result["assessment"]["missing"] == []
    return result


def test_no_prefetch_gives_the_same_assessment_as_full_prefetch(client, fhir, patient_72h, reference) -> None:
    pid, _ = patient_72h
    assert outcome(client.post(URL, json=body(fhir, pid))) == reference


def test_partial_prefetch_is_completed_from_the_server(client, fhir, patient_72h, reference) -> None:
    pid, resources = patient_72h
    prefetch = full_prefetch(resources, pid)
    del prefetch["observations"]
    assert outcome(client.post(URL, json=body(fhir, pid, prefetch))) == reference
    prefetch = full_prefetch(resources, pid)
    del prefetch["patient"], prefetch["medicationAdministrations"]
    assert outcome(client.post(URL, json=body(fhir, pid, prefetch))) == reference


def test_operation_outcome_in_place_of_a_key_is_fetched(client, fhir, patient_72h, reference) -> None:
    pid, resources = patient_72h
    prefetch = full_prefetch(resources, pid)
    prefetch["medicationAdministrations"] = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "timeout", "diagnostics": "the EHR gave up"}]}
    assert outcome(client.post(URL, json=body(fhir, pid, prefetch))) == reference


def with_observation_count(service: Service, count: int) -> Service:
    """The same service, its patient-view template asking for ``count`` Observations per page."""
    services = tuple(dataclasses.replace(s, prefetch={**s.prefetch, "observations": s.prefetch["observations"].replace(
        "_count=1000", f"_count={count}")}) if s.hook == "patient-view" else s for s in service.hooks.services)
    return dataclasses.replace(service, hooks=dataclasses.replace(service.hooks, services=services))


def test_small_count_forces_paging(fhir, patient_72h, reference) -> None:
    pid, _ = patient_72h
    service = with_observation_count(bootstrap(Settings(), clock=lambda: fb.NOW), 50)
    template = service.hooks.find("crs-patient-view").prefetch["observations"]
    first = fhir.get(render_template(template, {"patientId": pid}))
    assert any(link["relation"] == "next" for link in first["link"])  # the server pages for real
    assert outcome(create_app(service).test_client().post(URL, json=body(fhir, pid))) == reference


def test_a_paginated_prefetch_is_followed_on_the_server(client, fhir, patient_72h, reference) -> None:
    pid, resources = patient_72h
    prefetch = full_prefetch(resources, pid)
    template = SERVICE.prefetch["observations"].replace("_count=1000", "_count=40")
    prefetch["observations"] = fhir.get(render_template(template, {"patientId": pid}))
    assert len(prefetch["observations"]["entry"]) == 40
    assert outcome(client.post(URL, json=body(fhir, pid, prefetch))) == reference


def test_medications_by_reference_are_resolved(client, fhir) -> None:
    pid = "int-medref"
    norepinephrine = {"resourceType": "Medication", "id": f"{pid}-ne",
                      "code": {"coding": [{"system": fb.RXNORM, "code": fb.RX["norepinephrine"]}]}}
    by_reference = fb.med_admin({"medicationReference": {"reference": f"Medication/{pid}-ne"}}, fb.ago(hours=3),
                                open_period=True, status="in-progress", rid="ne")
    contained = fb.med_admin({"medicationReference": {"reference": "#acet"}, "contained": [
        {"resourceType": "Medication", "id": "acet",
         "code": {"coding": [{"system": fb.RXNORM, "code": fb.RX["acetaminophen"]}]}}]}, fb.ago(hours=20), rid="ac")
    resources = [*for_patient([fb.patient(), fb.car_t(), by_reference, contained,
                               fb.temperature(39.3, fb.ago(hours=1)), fb.blood_pressure(84, 48, fb.ago(hours=1)),
                               fb.spo2(96, fb.ago(hours=1)), fb.oxygen_device("room-air", fb.ago(hours=1))], pid),
                 norepinephrine]
    fhir.load(resources)
    result = outcome(client.post(URL, json=body(fhir, pid)))
    assert result["assessment"]["grade"] == 3
    assert any("norepinephrine" in d for d in result["assessment"]["drivers"])
    assert result["assessment"]["missing"] == []


def test_a_rejected_token_is_412_and_says_so(client, fhir, patient_72h) -> None:
    pid, _ = patient_72h
    response = client.post(URL, json=body(fhir, pid, token="expired-or-wrong"))
    assert response.status_code == 412
    assert "rejected the access token (401)" in str(response.get_json())
