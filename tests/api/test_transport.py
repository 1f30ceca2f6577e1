"""The HTTP contract through the Flask test client: discovery, errors, prefetch cases.

Tests marked "pipeline" in their name run the real clinical layers; every
other test replaces the composer, so transport behaviour is checked on its own.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
import weakref
from typing import Any
from urllib.parse import parse_qsl

import pytest
from flask import Response

from cards import Card
from cds_service.bootstrap import bootstrap
from cds_service.feedback import SqlFeedbackStore
from cds_service.http import create_app
from cds_service.http.routes import free_after_sending
from cds_service.settings import Settings
from devkit import fhirbuild as fb
from devkit.fhirbuild import ago
from tests.support.clinical_data import CODES

URL = "/cds-services/crs-patient-view"
HOOK_INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
LOINC_CODES = {"8310-5", "8331-1", "8328-7", "8332-9", "8333-7", "8334-5", "8329-5",  # temperatures
               "85354-9", "8480-6", "8478-0",  # blood pressure
               "59408-5", "2708-6",  # SpO2
               "3151-8", "3150-0", "107117-4",  # oxygen flow, concentration, delivery
               "29463-7", "8302-2",  # weight, height
               "751-8", "753-4", "26499-4"}  # neutrophils
ALLOWED_TOKENS = {"context.patientId", "context.encounterId", "context.userId", "userPractitionerId",
                  "userPractitionerRoleId", "userPatientId", "userRelatedPersonId"}


def minimal(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"hook": "patient-view", "hookInstance": HOOK_INSTANCE,
                            "context": {"userId": "Practitioner/example", "patientId": fb.PATIENT_ID}}
    body.update(extra)
    return body


def full_request(*resources: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return fb.hook_request([fb.car_t(), fb.temperature(39.1, ago(hours=1)), *resources], **extra)


class Recorder(list):
    """A fake composer for every hook: records what the transport hands it and answers one fixed card."""

    def compose(self, assessor, call) -> list[Card]:
        card_uuid = str(uuid.uuid4())
        self.append({"context": call.context, "resources": call.resources, "unavailable": list(call.unavailable),
                     "now": call.now, "card": card_uuid})
        return [Card({"uuid": card_uuid, "summary": "test card", "indicator": "info", "source": {"label": "test"}},
                     "test")]

    @property
    def composers(self) -> dict[str, Any]:
        return dict.fromkeys(("patient-view", "order-select", "order-sign"), self.compose)


@pytest.fixture
def captured() -> Recorder:
    """Replaces the clinical pipeline of the apps built with it (``client`` below, or ``composers=``)."""
    return Recorder()


@pytest.fixture
def client(request, settings):
    """The conftest app, with the composer replaced when the test also asks for ``captured``."""
    composers = request.getfixturevalue("captured").composers if "captured" in request.fixturenames else {}
    store = SqlFeedbackStore.from_url(":memory:")
    return create_app(bootstrap(settings, clock=lambda: fb.NOW, feedback_store=store,
                                **({"composers": composers} if composers else {}))).test_client()


def problems(resp) -> dict[str, str]:
    return {d["path"]: d["problem"] for d in resp.get_json().get("details", [])}


# --- discovery -----------------------------------------------------------------------------------------

def test_discovery_lists_crs_patient_view_with_its_prefetch(client) -> None:
    resp = client.get("/cds-services")
    assert resp.status_code == 200
    [service] = [s for s in resp.get_json()["services"] if s["id"] == "crs-patient-view"]
    assert service["hook"] == "patient-view"
    assert service["title"] and service["description"]
    assert set(service["prefetch"]) == {"patient", "observations", "medicationAdministrations", "conditions"}
    assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"


def test_prefetch_templates_are_valid_cds_hooks_2_queries(client) -> None:
    """Reads or type searches with token/reference params, _sort and _count; known tokens; no relative dates."""
    for service in client.get("/cds-services").get_json()["services"]:
        for key, template in service["prefetch"].items():
            tokens = set(re.findall(r"\{\{\s*([^}]*?)\s*\}\}", template))
            assert tokens <= ALLOWED_TOKENS, (key, tokens)
            path, _, query = template.partition("?")
            assert re.fullmatch(r"[A-Z][A-Za-z]+(/\{\{[^}]+\}\})?", path), key
            params = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
            assert set(params) <= {"patient", "code", "_sort", "_count"}, (key, params)
            assert "_include" not in template and "today()" not in template


def test_observation_template_names_every_needed_loinc_code_newest_first(client) -> None:
    service = next(s for s in client.get("/cds-services").get_json()["services"] if s["id"] == "crs-patient-view")
    template = service["prefetch"]["observations"]
    assert template.startswith("Observation?patient={{context.patientId}}&code=")
    query = dict(parse_qsl(template.partition("?")[2]))
    codes = query["code"].split(",")
    loinc = [c for c in codes if c.startswith("http://loinc.org|")]
    assert {c.removeprefix("http://loinc.org|") for c in loinc} >= LOINC_CODES  # and every other code the mapping reads
    # The other tokens are exactly the ICANS assessments the code lists know (RASS, seizure, ...), in any system
    # alias of SNOMED CT, and nothing else (no site-local rows are configured here).
    assert {tuple(c.split("|", 1)) for c in codes if c not in loinc} == set(CODES.observation_codings())
    assert query["_sort"] == "-date" and int(query["_count"]) > 0


def test_medication_template_is_newest_first_by_effective_time(client) -> None:
    service = next(s for s in client.get("/cds-services").get_json()["services"] if s["id"] == "crs-patient-view")
    template = service["prefetch"]["medicationAdministrations"]
    assert template.startswith("MedicationAdministration?patient={{context.patientId}}&")
    query = dict(parse_qsl(template.partition("?")[2]))
    assert query["_sort"] == "-effective-time" and int(query["_count"]) > 0


def test_health(client) -> None:
    resp = client.get("/health")
    assert (resp.status_code, resp.get_json()) == (200, {"status": "ok"})


# --- 400: the body names the field ---------------------------------------------------------------------

@pytest.mark.parametrize("body,field", [
    ({"hookInstance": HOOK_INSTANCE, "context": {"patientId": "p1"}}, "hook"),
    ({"hook": "patient-view", "context": {"patientId": "p1"}}, "hookInstance"),
    ({"hook": "patient-view", "hookInstance": HOOK_INSTANCE}, "context"),
    ({"hook": "patient-view", "hookInstance": HOOK_INSTANCE, "context": {"userId": "Practitioner/1"}},
     "context.patientId"),
])
def test_missing_required_field_is_named(client, body, field) -> None:
    resp = client.post(URL, json=body)
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "invalid-request"
    assert problems(resp)[field] == "is a required property"
    assert field in resp.get_json()["message"]


@pytest.mark.parametrize("change,field,says", [
    ({"hook": 5}, "hook", "must be of type string"),
    ({"context": "x"}, "context", "must be of type object"),
    ({"hookInstance": "not-a-uuid"}, "hookInstance", "must be a UUID"),
    ({"hookInstance": 42}, "hookInstance", "must be of type string"),
    ({"context": {"patientId": 12345}}, "context.patientId", "must be of type string"),
    ({"context": {"patientId": ""}}, "context.patientId", "must not be empty"),
    ({"context": {"patientId": "p1", "userId": 7}}, "context.userId", "must be of type string"),
    ({"prefetch": []}, "prefetch", "must be of type object"),
    ({"prefetch": {"observations": "Bundle"}}, "prefetch.observations", "must be of type object or null"),
    ({"fhirServer": "not a url"}, "fhirServer", "must be an absolute http(s) URL"),
    ({"extension": "x"}, "extension", "must be of type object"),
])
def test_wrong_type_or_format_is_named(client, change, field, says) -> None:
    resp = client.post(URL, json=minimal(**change))
    assert resp.status_code == 400
    assert problems(resp)[field].startswith(says), problems(resp)


def test_fhir_authorization_requires_fhir_server_and_never_echoes_the_token(client) -> None:
    auth = {"access_token": "SECRET-TOKEN-abc", "token_type": "Bearer", "expires_in": "300",
            "scope": "user/*.read", "subject": "crs-cds"}
    resp = client.post(URL, json=minimal(fhirAuthorization=auth))
    assert resp.status_code == 400
    found = problems(resp)
    assert found["fhirServer"] == "is required when fhirAuthorization is present"
    assert found["fhirAuthorization.expires_in"].startswith("must be of type integer")
    assert "SECRET-TOKEN" not in resp.get_data(as_text=True)


def test_several_problems_are_reported_together(client) -> None:
    resp = client.post(URL, json={"hook": 5, "context": "x"})
    assert set(problems(resp)) == {"hook", "hookInstance", "context"}


def test_error_body_never_echoes_submitted_values(client) -> None:
    resp = client.post(URL, json=minimal(context={"patientId": 987654321}))
    assert resp.status_code == 400
    assert "987654321" not in resp.get_data(as_text=True)


def test_hook_that_is_not_the_services_hook_is_rejected(client) -> None:
    resp = client.post(URL, json=minimal(hook="order-sign", context={"patientId": "p1", "draftOrders": fb.bundle()}))
    assert resp.status_code == 400
    assert "patient-view" in problems(resp)["hook"]


@pytest.mark.parametrize("data,content_type,says", [
    (b'{"hook": "patient-view",', "application/json", "not valid JSON"),
    (b"", "application/json", "empty"),
    (b"   ", None, "empty"),
    (b"[1, 2]", "application/json", "must be a JSON object, got an array"),
    (b'"patient-view"', "application/json", "must be a JSON object, got a string"),
    (b"null", "application/json", "must be a JSON object, got null"),
    (b'{"hook": NaN}', "application/json", "not valid JSON"),
    (b"\xff\xfe{}", "application/json", "not"),
    (b"hook=patient-view", "application/x-www-form-urlencoded", "Content-Type"),
    (json.dumps(minimal()).encode(), "text/plain", "Content-Type 'text/plain' is not JSON"),
])
def test_unparseable_body_is_400_naming_the_parse_problem(client, data, content_type, says) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    resp = client.post(URL, data=data, headers=headers)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "invalid-json"
    assert says in body["message"]


def test_missing_content_type_is_tolerated(client) -> None:
    resp = client.post(URL, data=json.dumps(minimal()))  # no prefetch: gets as far as the data check
    assert resp.status_code == 412


def test_json_content_type_variants_are_accepted(client) -> None:
    for ctype in ("application/json; charset=utf-8", "application/fhir+json"):
        resp = client.post(URL, data=json.dumps(minimal()), headers={"Content-Type": ctype})
        assert resp.status_code == 412, ctype


def test_upper_case_hook_instance_is_accepted(client) -> None:
    resp = client.post(URL, json=minimal(hookInstance=HOOK_INSTANCE.upper()))
    assert resp.status_code == 412  # valid request; no prefetch


def test_invalid_pinned_time_is_named(client) -> None:
    resp = client.post(URL, json=minimal(extension={"crs-cds.now": "yesterday"}))
    assert resp.status_code == 400
    assert "extension.crs-cds.now" in problems(resp)


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00"])
def test_pinned_time_at_the_ends_of_the_calendar_is_400_not_500(client, instant) -> None:
    resp = client.post(URL, json=full_request(extension={"crs-cds.now": instant}))
    assert resp.status_code == 400
    assert "extension.crs-cds.now" in problems(resp)


@pytest.mark.parametrize("value,path", [
    ("1e999", "prefetch.observations.entry[0].resource.valueQuantity.value"),
    ("-1e400", "prefetch.observations.entry[0].resource.valueQuantity.value"),
    ("9" * 400, "prefetch.observations.entry[0].resource.valueQuantity.value"),
])
def test_a_number_beyond_float_range_is_400_naming_the_field(client, value, path) -> None:
    # json.loads turns 1e999 into inf: a reading (or a dose) that silently drops out of every check
    request = full_request()
    request["prefetch"]["observations"] = fb.bundle(fb.temperature(39.1, ago(hours=1)))
    raw = json.dumps(request).replace('"value": 39.1', f'"value": {value}')
    resp = client.post(URL, data=raw, content_type="application/json")
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"] == "invalid-request"
    assert "beyond the range" in problems(resp)[path]


@pytest.mark.parametrize("raw_string,path", [
    ('"\\ud800"', "context.patientId"),
    ('"ab\\udfffc"', "prefetch.observations.entry[0].resource.id"),
])
def test_an_unpaired_surrogate_is_400_naming_the_field_not_500(client, raw_string, path) -> None:
    request = full_request(fhirServer="https://fhir.example.org/r4")
    request["prefetch"]["observations"] = fb.bundle(fb.temperature(39.1, ago(hours=1)))
    marker = request["prefetch"]["observations"]["entry"][0]["resource"]["id"]
    raw = json.dumps(request)
    raw = (raw.replace(f'"patientId": "{fb.PATIENT_ID}"', f'"patientId": {raw_string}') if path.startswith("context")
           else raw.replace(f'"id": "{marker}"', f'"id": {raw_string}'))
    resp = client.post(URL, data=raw, content_type="application/json")
    assert resp.status_code == 400, resp.get_json()
    assert "unpaired UTF-16 surrogate" in problems(resp)[path]


def test_surrogates_encoded_in_the_bytes_are_not_utf8(client) -> None:
    raw = json.dumps(minimal()).encode().replace(b'"Practitioner/example"', b'"Practitioner/\xed\xa0\x80"')
    resp = client.post(URL, data=raw, content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid-json"


def test_escaped_non_ascii_text_and_surrogate_pairs_are_accepted(client, captured) -> None:
    request = full_request()
    request["context"]["userId"] = "Practitioner/\U0001F600-é"
    resp = client.post(URL, data=json.dumps(request, ensure_ascii=True), content_type="application/json")
    assert resp.status_code == 200
    assert captured[0]["context"]["userId"] == "Practitioner/\U0001F600-é"


# --- 404 / 405 -----------------------------------------------------------------------------------------

def test_unknown_service_is_404_json(client) -> None:
    resp = client.post("/cds-services/no-such-service", json=minimal())
    assert resp.status_code == 404
    assert resp.get_json()["error"] == "not-found"


def test_unknown_path_is_404_json(client) -> None:
    resp = client.get("/Patient/p1")
    assert resp.status_code == 404 and resp.get_json()["error"] == "not-found"
    assert "p1" not in resp.get_json()["message"]


@pytest.mark.parametrize("method,path", [("get", URL), ("put", URL), ("post", "/cds-services"),
                                         ("delete", "/cds-services")])
def test_wrong_method_is_405_json_with_allow(client, method, path) -> None:
    resp = getattr(client, method)(path)
    assert resp.status_code == 405
    assert resp.get_json()["error"] == "method-not-allowed"
    assert resp.headers["Allow"]


# --- prefetch: 412 when required data is neither prefetched nor fetchable ------------------------------

def test_prefetch_omitted_without_fhir_server_is_412_naming_every_key(client) -> None:
    resp = client.post(URL, json=minimal())
    assert resp.status_code == 412
    body = resp.get_json()
    assert body["error"] == "precondition-failed"
    assert set(body["missingPrefetch"]) == {"patient", "observations", "medicationAdministrations"}
    assert "fhirServer" in body["message"]
    assert problems(resp)["prefetch.observations"] == "not provided (key omitted)"


def test_one_omitted_key_is_named(client) -> None:
    request = full_request()
    del request["prefetch"]["medicationAdministrations"]
    resp = client.post(URL, json=request)
    assert resp.status_code == 412
    assert resp.get_json()["missingPrefetch"] == ["medicationAdministrations"]


def test_operation_outcome_counts_as_a_failed_key(client) -> None:
    request = full_request()
    request["prefetch"]["observations"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": "Observation search timed out"}]}
    resp = client.post(URL, json=request)
    assert resp.status_code == 412
    assert resp.get_json()["missingPrefetch"] == ["observations"]
    assert "OperationOutcome" in problems(resp)["prefetch.observations"]
    assert "timed out" not in resp.get_data(as_text=True)


def test_prefetch_value_that_is_not_a_fhir_resource_is_unsatisfied(client) -> None:
    request = full_request()
    request["prefetch"]["patient"] = {"id": "p1"}
    resp = client.post(URL, json=request)
    assert resp.status_code == 412
    assert "resourceType" in problems(resp)["prefetch.patient"]


def test_with_fhir_server_down_missing_data_is_412(client) -> None:
    import responses  # every request to an unregistered URL fails as a connection error

    with responses.RequestsMock():
        resp = client.post(URL, json=minimal(fhirServer="https://ehr.example.org/fhir"))
    assert resp.status_code == 412
    assert "could not be reached" in problems(resp)["prefetch.observations"]


def test_a_fetcher_fills_omitted_keys(settings, captured) -> None:
    class Fetcher:
        def __init__(self) -> None:
            self.queries: list[str] = []

        def fetch(self, query, *, server, authorization, deadline=None):
            self.queries.append(query)
            if query.startswith("Patient/"):
                return fb.patient()
            if query.startswith("Observation?"):
                return fb.bundle(fb.temperature(38.5, ago(hours=1), rid="fetched-t"))
            return fb.bundle()

    fetcher = Fetcher()
    client = create_app(bootstrap(settings, clock=lambda: fb.NOW, fetcher=fetcher,
                                  composers=captured.composers)).test_client()
    resp = client.post(URL, json=minimal(fhirServer="https://ehr.example.org/fhir"))
    assert resp.status_code == 200, resp.get_json()
    assert any(q.startswith("Observation?patient=p1&code=") for q in fetcher.queries)
    assert "fetched-t" in {r["id"] for r in captured[0]["resources"]}


# --- prefetch shapes the transport must survive (composer replaced) ------------------------------------

def test_resources_are_flattened_from_bundles_and_single_resources(client, captured) -> None:
    resp = client.post(URL, json=full_request(fb.drug("norepinephrine", ago(hours=1), rid="ne-1")))
    assert resp.status_code == 200
    kinds = sorted(r["resourceType"] for r in captured[0]["resources"])
    assert kinds == ["MedicationAdministration", "MedicationAdministration", "Observation", "Patient"]
    assert captured[0]["unavailable"] == []


def test_null_and_empty_bundle_mean_no_data_not_missing(client, captured) -> None:
    request = minimal(prefetch={"patient": None, "observations": fb.bundle(),
                                "medicationAdministrations": {"resourceType": "Bundle", "type": "searchset"}})
    resp = client.post(URL, json=request)
    assert resp.status_code == 200
    assert captured[0]["resources"] == [] and captured[0]["unavailable"] == []


def test_bundle_entries_without_resource_and_non_object_entries_are_skipped(client, captured) -> None:
    request = full_request()
    request["prefetch"]["observations"]["entry"] += [
        {"fullUrl": "urn:uuid:1"}, "junk", None, 3, {"resource": "not an object"}, {"resource": {"id": "x"}},
        {"resource": {"resourceType": "OperationOutcome", "issue": []}, "search": {"mode": "outcome"}}]
    request["prefetch"]["medicationAdministrations"]["entry"] = "not a list"
    resp = client.post(URL, json=request)
    assert resp.status_code == 200
    assert sorted(r["resourceType"] for r in captured[0]["resources"]) == ["Observation", "Patient"]


def test_paginated_prefetch_keeps_its_page_and_notes_the_rest_is_missing(client, captured) -> None:
    request = full_request()
    request["prefetch"]["observations"]["link"] = [
        {"relation": "self", "url": "https://ehr.example.org/fhir/Observation?patient=p1&_page=1"},
        {"relation": "next", "url": "https://ehr.example.org/fhir/Observation?patient=p1&_page=2"}]
    resp = client.post(URL, json=request)
    assert resp.status_code == 200
    assert any(r["resourceType"] == "Observation" for r in captured[0]["resources"])
    assert captured[0]["unavailable"] == [
        "observations: only the first page was provided (prefetch paginated) and no FHIR server to fetch the rest"]


def test_extension_and_unknown_fields_are_tolerated(client, captured) -> None:
    request = full_request(extension={"com.example.tenant": {"id": 7}}, somethingNew=[1, 2],
                           context={"patientId": "p1", "userId": "Practitioner/1", "encounterId": "e1",
                                    "unitCode": "ICU"})
    request["prefetch"]["unrequested"] = fb.bundle(fb.patient(pid="someone-else"))
    resp = client.post(URL, json=request)
    assert resp.status_code == 200
    assert "someone-else" not in {r["id"] for r in captured[0]["resources"]}  # only templated keys are read


def test_the_clock_is_the_apps_and_can_be_pinned_in_development(client, captured) -> None:
    client.post(URL, json=full_request())
    client.post(URL, json=full_request(extension={"crs-cds.now": "2026-11-20T08:30:00+01:00"}))
    assert captured[0]["now"] == fb.NOW
    assert captured[1]["now"].isoformat() == "2026-11-20T08:30:00+01:00"


def test_pinned_time_is_ignored_in_production(captured) -> None:
    from tests.support import security_builders as sb

    client = create_app(bootstrap(sb.settings(), clock=lambda: fb.NOW, composers=captured.composers)).test_client()
    client.post(URL, json=full_request(extension={"crs-cds.now": "2020-01-01T00:00:00Z"}), headers=sb.bearer(sb.token(URL)))
    assert captured[0]["now"] == fb.NOW


def test_response_is_the_composers_cards(client, captured) -> None:
    resp = client.post(URL, json=full_request())
    assert resp.get_json() == {"cards": [{"uuid": captured[0]["card"], "summary": "test card",
                                          "indicator": "info", "source": {"label": "test"}}]}


# --- 500, request ids, logging -------------------------------------------------------------------------

def test_unexpected_exception_is_500_json_without_cards_or_patient_data(settings, caplog) -> None:
    def explode(*args, **kwargs):
        raise KeyError("Observation/secret for patient PAT-SECRET-42")

    client = create_app(bootstrap(settings, clock=lambda: fb.NOW, feedback_store=SqlFeedbackStore.from_url(":memory:"),
                                  composers=dict.fromkeys(("patient-view",), explode))).test_client()
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = client.post(URL, json=full_request(pid="PAT-SECRET-42"))
    assert resp.status_code == 500
    body = resp.get_json()
    assert body["error"] == "internal-error" and "cards" not in body
    assert body["requestId"] == resp.headers["X-Request-Id"] and body["requestId"] in body["message"]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("crs_cds"))
    assert "KeyError" in logged and body["requestId"] in logged
    assert "PAT-SECRET-42" not in logged and "secret" not in logged
    assert "PAT-SECRET-42" not in resp.get_data(as_text=True)


def test_every_response_has_a_request_id(client) -> None:
    for resp in (client.get("/cds-services"), client.get("/health"), client.post(URL, json={}),
                 client.post("/cds-services/nope", json={}), client.get(URL)):
        assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-Id"])


def test_a_callers_simple_request_id_is_reused_and_an_unsafe_one_replaced(client) -> None:
    assert client.get("/health", headers={"X-Request-Id": "ehr-123.abc"}).headers["X-Request-Id"] == "ehr-123.abc"
    unsafe = client.get("/health", headers={"X-Request-Id": "p1 \"forged\" <log>"}).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", unsafe)


def test_one_json_log_line_per_request_without_patient_data_or_tokens(client, captured, caplog) -> None:
    request = full_request(pid="PAT-SECRET-42", fhirServer="https://ehr.example.org/fhir",
                           fhirAuthorization={"access_token": "TOKEN-SECRET", "token_type": "Bearer",
                                              "expires_in": 300, "scope": "user/*.read", "subject": "crs"})
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = client.post(URL, json=request, headers={"X-Request-Id": "trace-1"})
    assert resp.status_code == 200
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "crs_cds.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["requestId"] == "trace-1"
    assert (line["service"], line["hook"], line["hookInstance"], line["status"]) == (
        "crs-patient-view", "patient-view", request["hookInstance"], 200)
    assert line["cards"] == [captured[0]["card"]] and line["latencyMs"] >= 0
    text = json.dumps(line)
    for secret in ("PAT-SECRET-42", "TOKEN-SECRET", "Practitioner/example", "ehr.example.org", "39.1"):
        assert secret not in text


# --- the real pipeline (needs fhir_mappings, grading and cards) ----------------------------------------

def test_pipeline_full_request_answers_cards(client) -> None:
    resp = client.post(URL, json=full_request(fb.blood_pressure(120, 70, ago(hours=1)), fb.spo2(97, ago(hours=1)),
                                              fb.oxygen_device("room-air", ago(hours=1))))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [card] = resp.get_json()["cards"]
    assert card["extension"]["crs-cds.assessment"]["status"] == "graded"
    assert card["extension"]["crs-cds.assessment"]["protocol"] == "astct-generic"


@pytest.mark.parametrize("prefetch", [
    {"patient": None, "observations": None, "medicationAdministrations": None},
    {"patient": fb.patient(), "observations": fb.bundle(), "medicationAdministrations": fb.bundle()},
    {"patient": fb.patient(), "observations": {"resourceType": "Bundle", "entry": [{}, {"fullUrl": "x"}]},
     "medicationAdministrations": {"resourceType": "Bundle"}},
])
def test_pipeline_survives_empty_prefetch_shapes(client, prefetch) -> None:
    resp = client.post(URL, json=minimal(prefetch=prefetch))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["cards"] == []  # no index therapy: not eligible, no card


def test_pipeline_paginated_prefetch_still_grades(client) -> None:
    request = full_request()
    request["prefetch"]["observations"]["link"] = [{"relation": "next", "url": "https://ehr.example.org/fhir/p2"}]
    resp = client.post(URL, json=request)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [card] = resp.get_json()["cards"]
    assert card["extension"]["crs-cds.assessment"]["status"] in ("graded", "insufficient-data")


def test_pipeline_eligibility_off_assesses_without_index_therapy() -> None:
    client = create_app(bootstrap(Settings(eligibility=False), clock=lambda: fb.NOW)).test_client()
    request = fb.hook_request([fb.temperature(39.4, ago(hours=1)), fb.blood_pressure(120, 70, ago(hours=1)),
                               fb.spo2(97, ago(hours=1)), fb.oxygen_device("room-air", ago(hours=1))])
    resp = client.post(URL, json=request)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [card] = resp.get_json()["cards"]
    assert card["extension"]["crs-cds.assessment"]["status"] == "graded"


def test_the_calls_data_are_freed_after_the_answer_is_sent_not_before() -> None:
    """Freeing a long record's objects is left until the server has written the answer."""

    class Held:
        pass

    response, held = Response("{}"), Held()
    alive = weakref.ref(held)
    free_after_sending(response, held)
    del held
    assert alive() is not None  # still held while the answer is being written
    response.close()  # what the WSGI server calls once the answer is sent
    assert alive() is None
