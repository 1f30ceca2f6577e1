"""The FHIR client under faults (``responses`` mocks the EHR): each ends by the deadline with
the documented answer — a 412 when nothing usable is left, else a lower-bound card naming what
could not be read — and never a wrong grade. Also: the token goes to fhirServer only, and
logs carry host, type, status and time, never the token, the patient id or the data."""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest
import requests
import responses

from cds_service.bootstrap import bootstrap
from cds_service.ehr import ClientLimits, FetchRejected, FetchUnavailable, FhirClient, FhirServer, ServerNotAllowed
from cds_service.http import create_app
from cds_service.settings import Settings
from devkit import fhirbuild as fb

SERVER = "https://ehr.example.org/fhir"
ANY = re.compile(r"https://ehr\.example\.org/fhir/.*")
URL = "/cds-services/crs-patient-view"
AUTH = {"access_token": "TOKEN-SECRET-9", "token_type": "Bearer", "expires_in": 300, "scope": "user/*.read",
        "subject": "crs-cds"}
DEADLINE = 1.0


def grade3_record() -> list[dict]:
    """Grade 3 (one vasopressor), febrile."""
    return [fb.patient(), fb.car_t(), fb.temperature(39.2, fb.ago(hours=1), rid="t1"),
            fb.blood_pressure(82, 50, fb.ago(hours=1), rid="bp1"), fb.spo2(97, fb.ago(hours=1), rid="s1"),
            fb.oxygen_device("room-air", fb.ago(hours=1), rid="o1"),
            fb.drug("norepinephrine", fb.ago(hours=2), open_period=True, status="in-progress", rid="ne1")]


def call(client, prefetch: dict | None = None, auth: dict | None = AUTH, pid: str = "p1"):
    body = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/example", "patientId": pid}, "fhirServer": SERVER}
    if auth:
        body["fhirAuthorization"] = auth
    if prefetch is not None:
        body["prefetch"] = prefetch
    started = time.monotonic()
    response = client.post(URL, json=body)
    return response, time.monotonic() - started


def assessment(response) -> dict:
    cards = response.get_json()["cards"]
    return next(c["extension"]["crs-cds.assessment"] for c in cards if "crs-cds.assessment" in c.get("extension", {}))


@pytest.fixture
def client():
    """The app with its real FhirClient and a 1 s fetch deadline."""
    return create_app(bootstrap(Settings(fetch_deadline_seconds=DEADLINE), clock=lambda: fb.NOW)).test_client()


@pytest.fixture
def ehr():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def serve_record(ehr, resources: list[dict]) -> None:
    """A well-behaved EHR holding ``resources`` (every search returns all of its type)."""
    def answer(request):
        path = request.path_url.split("?", 1)[0].removeprefix("/fhir/")
        kind, _, rid = path.partition("/")
        if rid:
            found = [r for r in resources if r["resourceType"] == kind and r["id"] == rid]
            return (200, {}, json.dumps(found[0])) if found else (404, {}, "{}")
        return 200, {}, json.dumps(fb.bundle(*[r for r in resources if r["resourceType"] == kind]))
    ehr.add_callback(responses.GET, ANY, callback=answer)


def full_prefetch(resources: list[dict]) -> dict:
    return fb.hook_request(resources)["prefetch"]


# --- the happy path and what goes on the wire ------------------------------------------------------

def test_no_prefetch_is_fetched_with_token_and_fhir_json(client, ehr) -> None:
    serve_record(ehr, grade3_record())
    response, _ = call(client)
    assert response.status_code == 200, response.get_json()
    assert (assessment(response)["grade"], assessment(response)["missing"]) == (3, [])
    for c in ehr.calls:
        assert c.request.headers["Authorization"] == "Bearer TOKEN-SECRET-9"
        assert c.request.headers["Accept"] == "application/fhir+json"
    paths = [c.request.url.removeprefix(SERVER + "/") for c in ehr.calls]
    assert "Patient/p1" in paths
    assert any(p.startswith("Observation?") and "date=ge2026-10-22T12:00:00Z" in unquote(p)
               for p in paths)  # the dated history query: 30 days before now
    assert any(p.startswith("MedicationAdministration?") and "effective-time=ge" in p for p in paths)


def test_full_prefetch_makes_no_request(client, ehr) -> None:
    response, _ = call(client, full_prefetch(grade3_record()))
    assert response.status_code == 200 and assessment(response)["grade"] == 3
    assert len(ehr.calls) == 0


def test_no_token_sends_no_authorization_header(client, ehr) -> None:
    serve_record(ehr, grade3_record())
    response, _ = call(client, auth=None)
    assert response.status_code == 200
    assert all("Authorization" not in c.request.headers for c in ehr.calls)


# --- faults: nothing usable -> 412 within the deadline ---------------------------------------------

@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_error_status_on_every_query_is_412(client, ehr, status) -> None:
    ehr.add(responses.GET, ANY, status=status, json={"resourceType": "OperationOutcome"})
    response, took = call(client)
    assert response.status_code == 412
    assert took < DEADLINE + 0.5
    assert set(response.get_json()["missingPrefetch"]) >= {"observations", "medicationAdministrations"}


def test_rejected_token_is_logged_as_such_without_token_or_patient(client, ehr, caplog) -> None:
    ehr.add(responses.GET, ANY, status=401)
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        response, _ = call(client, pid="PAT-SECRET-42")
    assert response.status_code == 412
    assert "rejected the access token (401)" in json.dumps(response.get_json())
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "crs_cds.fhir"]
    assert lines and all(line["host"] == "ehr.example.org" and line["status"] == 401 for line in lines)
    assert {line["resourceType"] for line in lines} >= {"Patient", "Observation", "MedicationAdministration"}
    assert any("token rejected" in line.get("note", "") for line in lines)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "TOKEN-SECRET-9" not in text and "PAT-SECRET-42" not in text


@pytest.mark.parametrize("failure", [requests.exceptions.ConnectTimeout("x"), requests.exceptions.ReadTimeout("x"),
                                     requests.exceptions.ConnectionError("x")])
def test_timeouts_and_unreachable_are_412(client, ehr, failure) -> None:
    ehr.add(responses.GET, ANY, body=failure)
    response, took = call(client)
    assert response.status_code == 412 and took < DEADLINE + 0.5


def test_slow_server_past_the_deadline_is_412_on_time(client, ehr) -> None:
    def slow(request):
        time.sleep(DEADLINE + 1.5)
        return 200, {}, json.dumps(fb.bundle())
    ehr.add_callback(responses.GET, ANY, callback=slow)
    response, took = call(client)
    assert response.status_code == 412
    assert took < DEADLINE + 0.5
    assert "within the time allowed" in json.dumps(response.get_json())


@pytest.mark.parametrize("body", ["<html><body><h1>502 Bad Gateway</h1></body></html>",
                                  '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Obs',
                                  '{"entry": []}', "[1, 2]"])
def test_html_truncated_or_non_fhir_answer_is_not_data(client, ehr, body) -> None:
    ehr.add(responses.GET, ANY, status=200, body=body, content_type="text/html")
    response, _ = call(client)
    assert response.status_code == 412
    assert "not FHIR JSON" in json.dumps(response.get_json()) or "not a FHIR resource" in json.dumps(response.get_json())


@pytest.mark.parametrize("body", [b'{"resourceType": "Patient", "id": "p1", "name": [{"text": "\\udc00"}]}',
                                  b'{"resourceType": "Patient", "id": "p1", "name": [{"text": "\xed\xb0\x80"}]}',
                                  b'{"resourceType": "Bundle", "total": 1e999}'])
def test_answer_with_unpaired_surrogates_or_infinite_numbers_is_not_data(ehr, body) -> None:
    # such text cannot be encoded into a card (a 500), and inf is no reading
    ehr.add(responses.GET, re.compile(r".*"), status=200, body=body, content_type="application/fhir+json")
    with pytest.raises(FetchUnavailable, match="not FHIR JSON"):
        fetch(FhirClient())


def test_answer_larger_than_the_cap_is_not_read(ehr) -> None:
    big = fb.bundle(*[fb.temperature(37.0, fb.ago(minutes=i)) for i in range(400)])
    ehr.add(responses.GET, ANY, json=big)
    client = create_app(bootstrap(Settings(fetch_deadline_seconds=DEADLINE), clock=lambda: fb.NOW,
                        fetcher=FhirClient(ClientLimits(max_response_bytes=20_000)))).test_client()
    response, _ = call(client)
    assert response.status_code == 412
    assert "larger than 20000 bytes" in json.dumps(response.get_json())


# --- faults with something usable: a lower-bound card naming what could not be read -----------------

def paged(*resources, next_url):
    b = fb.bundle(*resources)
    b["link"] = [{"relation": "next", "url": next_url}]
    return b


def slice_with_next(next_url: str):
    """An EHR whose Observation searches (the service's time slices) each answer one page whose
    ``next`` link is ``next_url``."""
    def answer(request):
        if "/Observation?" in request.url and "page=" not in request.url:
            return 200, {}, json.dumps(paged(next_url=next_url))
        return 200, {}, json.dumps(fb.bundle())
    return answer


def test_next_link_that_loops_gives_a_lower_bound_card(client, ehr) -> None:
    """A paginated prefetch is completed by time slices; a slice whose next link loops stops paging."""
    record = grade3_record()
    prefetch = full_prefetch(record)
    loop = f"{SERVER}/Observation?page=2"
    prefetch["observations"] = paged(*[e["resource"] for e in prefetch["observations"]["entry"]], next_url=loop)
    ehr.add(responses.GET, loop, json=paged(next_url=loop))
    ehr.add_callback(responses.GET, ANY, callback=slice_with_next(loop))
    response, took = call(client, prefetch)
    assert response.status_code == 200 and took < DEADLINE + 0.5
    found = assessment(response)
    assert found["grade"] == 3  # a lower bound that happens to be the true grade: never higher
    assert any("observations" in m and "loops" in m for m in found["missing"])
    assert response.get_json()["cards"][0]["summary"].startswith("CRS grade ≥ 3")


def test_a_failing_page_gives_a_lower_bound_card_not_a_wrong_grade(client, ehr) -> None:
    """Page 1 is normal; the rest of the record (which would hold the fever) cannot be read."""
    record = [fb.patient(), fb.car_t(), fb.temperature(36.8, fb.ago(hours=1), rid="t-now")]
    prefetch = full_prefetch(record)
    prefetch["observations"] = paged(record[2], next_url=f"{SERVER}/Observation?page=2")
    ehr.add(responses.GET, ANY, status=500)
    response, _ = call(client, prefetch)
    assert response.status_code == 200
    found = assessment(response)
    assert any(m.startswith("observations: 17 of 17 time slices could not be read completely") and "500" in m
               for m in found["missing"])
    assert found["grade"] in (0, None)  # what was read shows no fever: never a made-up grade ...
    assert "incomplete" in response.get_json()["cards"][0]["summary"]  # ... and the card says it is partial


def test_next_link_off_the_fhir_server_is_not_followed(client, ehr) -> None:
    record = grade3_record()
    prefetch = full_prefetch(record)
    evil_page = "https://evil.example.com/fhir/Observation?page=2"
    prefetch["observations"] = paged(*[e["resource"] for e in prefetch["observations"]["entry"]], next_url=evil_page)
    evil = ehr.add(responses.GET, re.compile(r"https://evil\.example\.com/.*"), json=fb.bundle())
    ehr.add_callback(responses.GET, ANY, callback=slice_with_next(evil_page))
    response, _ = call(client, prefetch)
    assert response.status_code == 200
    assert evil.call_count == 0
    assert any("outside fhirServer" in m or "off the FHIR server" in m for m in assessment(response)["missing"])


def test_a_paginated_prefetch_is_completed_in_one_round_of_concurrent_slices_not_page_by_page(ehr) -> None:
    """The prefetch's own next link is never followed: the service reads the window in time slices."""
    record = grade3_record()
    prefetch = full_prefetch(record)
    prefetch["observations"] = paged(*[e["resource"] for e in prefetch["observations"]["entry"]],
                                     next_url=f"{SERVER}/Observation?page=2")
    ehr.add(responses.GET, ANY, json=fb.bundle())
    client = create_app(bootstrap(Settings(fetch_deadline_seconds=DEADLINE), clock=lambda: fb.NOW)).test_client()
    response, _ = call(client, prefetch)
    assert response.status_code == 200 and assessment(response)["missing"] == []
    urls = [c.request.url for c in ehr.calls]
    assert not any("page=2" in u for u in urls)
    assert len(urls) == 17 and all(u.startswith(f"{SERVER}/Observation?patient=p1&code=") for u in urls)
    assert sum("date=ge" in u for u in urls) == 16 and sum("date=lt" in u for u in urls) == 16


def test_unreadable_referenced_medication_is_named(client, ehr) -> None:
    by_ref = fb.med_admin({"medicationReference": {"reference": "Medication/med-ne"}}, fb.ago(hours=2),
                          open_period=True, status="in-progress", rid="ne-ref")
    record = [*grade3_record()[:-1], by_ref]
    ehr.add(responses.GET, re.compile(r".*/Medication\?.*"), status=503)
    response, took = call(client, full_prefetch(record))
    assert response.status_code == 200 and took < DEADLINE + 0.5
    found = assessment(response)
    assert any("Medications that administrations reference could not be read" in m for m in found["missing"])
    assert found["grade"] is None or found["grade"] <= 3


def test_referenced_medication_is_read_in_one_batch(client, ehr) -> None:
    meds = [fb.med_admin({"medicationReference": {"reference": f"Medication/m{i}"}}, fb.ago(hours=2 + i),
                         rid=f"ref{i}") for i in range(3)]
    contained = fb.med_admin({"medicationReference": {"reference": "#c"},
                              "contained": [{"resourceType": "Medication", "id": "c"}]}, fb.ago(hours=1), rid="cont")
    record = [*grade3_record(), *meds, contained]
    medication = {"resourceType": "Medication", "id": "m0",
                  "code": {"coding": [{"system": fb.RXNORM, "code": "7512"}]}}
    ehr.add(responses.GET, re.compile(r".*/Medication\?.*"), json=fb.bundle(medication))
    response, _ = call(client, full_prefetch(record))
    assert response.status_code == 200
    assert [c.request.url for c in ehr.calls] == [f"{SERVER}/Medication?_id=m0,m1,m2&_count=100"]
    assert assessment(response)["missing"] == []


# --- the client itself --------------------------------------------------------------------------------

def fetch(client: FhirClient, query: str = "Patient/p1", **kw):
    return client.fetch(query, server=FhirServer(SERVER), authorization=AUTH, **kw)


def test_retries_on_503_then_succeeds(ehr) -> None:
    ehr.add(responses.GET, f"{SERVER}/Patient/p1", status=503)
    ehr.add(responses.GET, f"{SERVER}/Patient/p1", status=429, headers={"Retry-After": "0"})
    ehr.add(responses.GET, f"{SERVER}/Patient/p1", json=fb.patient())
    assert fetch(FhirClient())["id"] == "p1"
    assert len(ehr.calls) == 3


def test_retries_are_bounded_and_respect_the_deadline(ehr) -> None:
    ehr.add(responses.GET, f"{SERVER}/Patient/p1", status=503)
    with pytest.raises(FetchUnavailable, match="503"):
        fetch(FhirClient(ClientLimits(max_retries=2, backoff_seconds=0.01)))
    assert len(ehr.calls) == 3
    ehr.calls.reset()
    with pytest.raises(FetchUnavailable):  # a backoff that would pass the deadline is not waited for
        fetch(FhirClient(ClientLimits(backoff_seconds=5)), deadline=time.monotonic() + 0.5)
    assert len(ehr.calls) == 1


def test_redirects_stay_on_the_fhir_server(ehr) -> None:
    ehr.add(responses.GET, f"{SERVER}/Patient/p1", status=302, headers={"Location": "/fhir/Patient/p1b"})
    ehr.add(responses.GET, f"{SERVER}/Patient/p1b", json=fb.patient())
    assert fetch(FhirClient())["id"] == "p1"
    ehr.add(responses.GET, f"{SERVER}/Patient/p2", status=307, headers={"Location": "https://evil.example.com/x"})
    with pytest.raises(FetchUnavailable, match="off the FHIR server"):
        fetch(FhirClient(), "Patient/p2")
    assert not any("evil" in c.request.url for c in ehr.calls)


def test_read_not_found_is_none_but_search_not_found_fails(ehr) -> None:
    ehr.add(responses.GET, re.compile(r".*"), status=404)
    assert fetch(FhirClient()) is None
    with pytest.raises(FetchUnavailable, match="404"):
        fetch(FhirClient(), "Observation?patient=p1")


def test_rejection_is_its_own_error(ehr) -> None:
    ehr.add(responses.GET, re.compile(r".*"), status=403)
    with pytest.raises(FetchRejected, match="403"):
        fetch(FhirClient())


def test_a_server_off_the_allowlist_is_refused_before_any_request(ehr) -> None:
    with pytest.raises(ServerNotAllowed, match="not an allowed"):
        FhirServer.admit(SERVER, allowlist=frozenset({"https://other.example.org/fhir"}), https_only=True)
    assert FhirServer.admit(SERVER, allowlist=frozenset({SERVER}), https_only=True).base == SERVER
    assert len(ehr.calls) == 0


def test_absolute_url_on_another_host_is_refused(ehr) -> None:
    with pytest.raises(FetchUnavailable, match="off the FHIR server"):
        fetch(FhirClient(), "https://ehr.example.org.evil.com/fhir/Patient/p1")
    with pytest.raises(FetchUnavailable, match="off the FHIR server"):
        fetch(FhirClient(), "http://ehr.example.org/fhir/Patient/p1")  # scheme downgrade
    with pytest.raises(FetchUnavailable, match="off the FHIR server"):
        fetch(FhirClient(), "https://ehr.example.org/admin/tokens")  # same host, outside the FHIR base
    assert len(ehr.calls) == 0


class _Slow(BaseHTTPRequestHandler):
    """A real socket server that answers after 2 s (or drips its body), for true timeouts."""

    def do_GET(self) -> None:
        if "drip" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b'{"resourceType": "Bundle"}')
            return
        time.sleep(2)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"resourceType": "Bundle"}')

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def slow_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    server.shutdown()
    server.server_close()


def test_real_slow_server_times_out_by_the_deadline(slow_server) -> None:
    client = FhirClient()
    started = time.monotonic()
    with pytest.raises(FetchUnavailable, match="in time"):
        client.fetch("Observation?patient=p1", server=FhirServer(slow_server), authorization=None,
                     deadline=time.monotonic() + 0.5)
    assert time.monotonic() - started < 0.9
    started = time.monotonic()
    with pytest.raises(FetchUnavailable, match=r"time allowed|timed out"):
        client.fetch("Observation?drip=1", server=FhirServer(slow_server), authorization=None,
                     deadline=time.monotonic() + 0.5)
    assert time.monotonic() - started < 1.0
