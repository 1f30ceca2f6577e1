"""/metrics in Prometheus text format: requests, latency, FHIR fetches, cards, feedback, auth failures;
request ids and trace context carried to the FHIR server. No label ever carries patient data."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import responses
from prometheus_client.parser import text_string_to_metric_families

from cds_service.ehr import ClientLimits, FetchUnavailable, FhirClient, FhirServer
from cds_service.metrics import Metrics
from devkit import fhirbuild as fb
from tests.support import apps
from tests.support import security_builders as sb
from tests.support.order_builders import crs_patient

URL = "/cds-services/crs-patient-view"
FHIR = "https://fhir.example.org/r4"


def samples(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.content_type.startswith("text/plain; version=0.0.4")
    found = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(found, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_latency_and_cards_are_counted() -> None:
    client = apps.client()
    for _ in range(3):
        assert client.post(URL, json=fb.hook_request(crs_patient(70, grade=3))).status_code == 200
    client.get("/cds-services")
    client.post("/cds-services/nope", json={})
    found = samples(client)
    assert value(found, "crs_cds_requests_total", endpoint="service", service="crs-patient-view", status="200") == 3
    assert value(found, "crs_cds_requests_total", endpoint="discovery", service="", status="200") == 1
    assert value(found, "crs_cds_requests_total", endpoint="service", service="", status="404") == 1
    assert value(found, "crs_cds_request_duration_seconds_count", endpoint="service", service="crs-patient-view") == 3
    assert value(found, "crs_cds_cards_issued_total", service="crs-patient-view", kind="crs-assessment",
                 grade="3") == 3
    assert sum(v for (name, _), v in found.items() if name == "crs_cds_cards_issued_total") >= 3


def test_feedback_outcomes_are_counted_by_whether_we_issued_the_card() -> None:
    client = apps.client()
    [card, *_] = client.post(URL, json=fb.hook_request(crs_patient(70, grade=3))).get_json()["cards"]
    when = fb.iso(fb.NOW + timedelta(minutes=2))
    body = {"feedback": [{"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": when},
                         {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": when},
                         {"card": "never-issued", "outcome": "accepted", "outcomeTimestamp": when}]}
    assert client.post(URL + "/feedback", json=body).status_code == 200
    found = samples(client)
    for outcome, card, n in [("accepted", "issued", 1), ("overridden", "issued", 1), ("accepted", "unknown", 1)]:
        assert value(found, "crs_cds_feedback_items_total", service="crs-patient-view", outcome=outcome,
                     card=card) == n


def test_auth_failures_are_counted_by_reason() -> None:
    client = apps.client(sb.settings())
    tok = sb.token("/cds-services")
    client.get("/cds-services", headers=sb.bearer(tok))
    client.get("/cds-services", headers=sb.bearer(tok))  # replay
    client.get("/cds-services")  # no header
    client.get("/cds-services", headers=sb.bearer(sb.token(aud="https://elsewhere/cds-services")))
    found = samples(client)
    for reason in ("jti-replayed", "no-authorization-header", "aud-is-not-the-url-called"):
        assert value(found, "crs_cds_auth_failures_total", reason=reason) == 1, reason


@responses.activate
def test_fhir_fetch_time_and_failures_by_kind() -> None:
    metrics = Metrics()
    client = FhirClient(ClientLimits(max_retries=0), metrics=metrics)
    server = FhirServer.admit(FHIR, allowlist=None, https_only=True)
    responses.get(f"{FHIR}/Patient/p1", json=fb.patient())
    responses.get(f"{FHIR}/Observation", status=503)
    responses.get(f"{FHIR}/MedicationAdministration", body="<html>login</html>")
    client.fetch("Patient/p1", server=server, authorization=None)
    for query in ("Observation?patient=p1", "MedicationAdministration?patient=p1", "https://evil.example.net/x"):
        with pytest.raises(FetchUnavailable):
            client.fetch(query, server=server, authorization=None)
    text = metrics.exposition().decode()
    assert 'crs_cds_fhir_fetch_duration_seconds_count{resource_type="Patient"} 1.0' in text
    assert 'crs_cds_fhir_fetch_duration_seconds_count{resource_type="Observation"} 1.0' in text
    for kind in ("busy", "not-fhir", "off-server"):
        assert f'crs_cds_fhir_fetch_failures_total{{kind="{kind}"}} 1.0' in text


@responses.activate
def test_a_paging_url_never_becomes_a_label() -> None:
    metrics = Metrics()
    client = FhirClient(ClientLimits(max_retries=0), metrics=metrics)
    server = FhirServer.admit(FHIR, allowlist=None, https_only=True)
    responses.get(f"{FHIR}/ZebulonQuixote", json=fb.bundle())  # a server's page URL naming a patient
    client.fetch(f"{FHIR}/ZebulonQuixote?page=2", server=server, authorization=None)
    text = metrics.exposition().decode()
    assert "Zebulon" not in text and 'resource_type="other"' in text


@responses.activate
def test_the_request_id_and_trace_go_to_the_fhir_server() -> None:
    responses.get(re.compile(rf"{re.escape(FHIR)}/.*"), json=fb.bundle())
    client = apps.client(fetcher=None)
    body = fb.hook_request(crs_patient(70, grade=3), fhirServer=FHIR)
    del body["prefetch"]["observations"]
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    resp = client.post(URL, json=body, headers={"X-Request-Id": "ehr-call-42",
                                                "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    assert resp.status_code == 200 and resp.headers["X-Request-Id"] == "ehr-call-42"
    sent = [call.request.headers for call in responses.calls]
    assert sent and all(h["X-Request-Id"] == "ehr-call-42" for h in sent)  # from the fetch threads too
    parents = {h["traceparent"] for h in sent}
    assert all(re.fullmatch(rf"00-{trace_id}-[0-9a-f]{{16}}-01", p) for p in parents)
    assert "00f067aa0ba902b7" not in "".join(parents)  # our own span, child of the caller's


@responses.activate
def test_without_a_traceparent_only_the_request_id_goes_along() -> None:
    responses.get(re.compile(rf"{re.escape(FHIR)}/.*"), json=fb.bundle())
    body = fb.hook_request(crs_patient(70, grade=3), fhirServer=FHIR)
    del body["prefetch"]["observations"]
    resp = apps.client(fetcher=None).post(URL, json=body, headers={"traceparent": "garbage"})
    sent = [call.request.headers for call in responses.calls]
    assert sent and all(h["X-Request-Id"] == resp.headers["X-Request-Id"] and "traceparent" not in h for h in sent)
