"""A call whose patient data all belongs to someone else: no cards (never an alert about it), and the
request log line says so in numbers, without any identifier."""
from __future__ import annotations

import json
import logging

import pytest

from cds_service.settings import Settings
from devkit import fhirbuild as fb
from tests.support import apps
from tests.support.order_builders import crs_patient, draft, order_request

URL = "/cds-services/crs-patient-view"


class RecordingStore:
    def __init__(self) -> None:
        self.issued: list = []

    def record_issued(self, cards) -> None:
        self.issued.extend(cards)

    def describe(self) -> str:
        return "recording"


def request_log(caplog) -> dict:
    [line] = [json.loads(r.getMessage()) for r in caplog.records if '"event":"request"' in r.getMessage()]
    return line


@pytest.mark.parametrize("eligibility", [True, False])
def test_another_patients_data_gives_no_cards_and_a_mismatch_in_the_log(caplog, eligibility) -> None:
    store = RecordingStore()
    client = apps.client(Settings(eligibility=eligibility), feedback_store=store)
    body = fb.hook_request(crs_patient(70, grade=3))
    body["context"]["patientId"] = "SOMEONE-ELSE-77"  # the EHR's context names another patient
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = client.post(URL, json=body)
    assert resp.status_code == 200 and resp.get_json() == {"cards": []}
    line = request_log(caplog)
    scoped = sum(1 for r in crs_patient(70, grade=3))
    assert line["mismatch"] == f"0 of {scoped} resources for this patient"
    assert "SOMEONE-ELSE-77" not in caplog.text and fb.PATIENT_ID not in json.dumps(line)
    assert store.issued == []


def test_the_patients_own_data_has_no_mismatch_field(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = apps.client().post(URL, json=fb.hook_request(crs_patient(70, grade=3)))
    assert resp.get_json()["cards"]
    assert "mismatch" not in request_log(caplog)


def test_an_order_check_on_another_patients_data_gives_no_cards(caplog) -> None:
    body = order_request(crs_patient(70, grade=3), [draft("tocilizumab", 900)])
    body["context"]["patientId"] = "someone-else"
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = apps.client().post("/cds-services/crs-order-sign", json=body)
    assert resp.get_json() == {"cards": []}
    assert request_log(caplog)["mismatch"].startswith("0 of ")


class OtherPatientsServer:
    """A FHIR server that answers with another patient's data (e.g. a wrong id mapping in an interface)."""

    def fetch(self, query, *, server, authorization, deadline=None):
        others = [{**r, "subject": {"reference": "Patient/p2"}} for r in crs_patient(70, grade=3)
                  if r["resourceType"] != "Patient"]
        if query.startswith("Patient/"):
            return fb.patient(pid="p2")
        return fb.bundle(*(r for r in others if query.startswith(r["resourceType"] + "?")))


def test_fetched_resources_are_counted_too(caplog) -> None:
    client = apps.client(fetcher=OtherPatientsServer())
    body = fb.hook_request([], fhirServer="https://fhir.example.org/r4")
    del body["prefetch"]
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = client.post(URL, json=body)
    assert resp.status_code == 200 and resp.get_json() == {"cards": []}
    assert request_log(caplog)["mismatch"].startswith("0 of ")
