"""Logs and metrics never carry patient identifiers, names, resource contents or tokens — on success or on
any refusal.

Requests full of recognisable patient data and secrets go through every outcome
(200, 400, 401, 403, 412, 413, 500); both the logging records and everything
written to stderr are searched for each of them.
"""
from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from cds_service.bootstrap import bootstrap
from cds_service.http import create_app
from devkit import fhirbuild as fb
from tests.support import security_builders as sb

SERVICE = "/cds-services/crs-patient-view"
PID = "PAT-SECRET-4242"
NAME = "Zebulon Quixote-Marchetti"
MRN = "MRN-7Q3X9Z"
BIRTH = "1937-07-13"
ENCOUNTER = "ENC-SECRET-77"
USER = "Practitioner/DR-SECRET-9"
OBS_ID = "OBS-SECRET-1"
NOTE = "patient confided XYZZY-PLUGH"
FHIR_TOKEN = "FHIR-ACCESS-TOKEN-SECRET-5150"
SECRETS = [PID, NAME, "Quixote", MRN, BIRTH, ENCOUNTER, "DR-SECRET-9", OBS_ID, "XYZZY-PLUGH", FHIR_TOKEN, "39.87"]


def patient_request(**extra: Any) -> dict[str, Any]:
    patient = {**fb.patient(BIRTH, pid=PID), "name": [{"text": NAME, "family": "Quixote-Marchetti"}],
               "identifier": [{"system": "urn:mrn", "value": MRN}]}
    temp = fb.temperature(39.87, fb.ago(hours=1), rid=OBS_ID)
    temp["note"] = [{"text": NOTE}]
    resources = [fb.car_t(), temp, fb.blood_pressure(82, 50, fb.ago(hours=1)), fb.spo2(95, fb.ago(hours=1))]
    for resource in resources:
        resource["subject"] = {"reference": f"Patient/{PID}", "display": NAME}
    body = fb.hook_request([patient, *resources], pid=PID)
    body["context"].update(userId=USER, encounterId=ENCOUNTER)
    body.update(extra)
    return body


@pytest.fixture
def logs(caplog, capfd):
    """Everything logged (records) and written to stderr during the test body."""
    caplog.set_level(logging.DEBUG, logger="crs_cds")

    def collected() -> str:
        out, err = capfd.readouterr()
        assert '"event":"request"' in err  # stderr really is captured
        return "\n".join([*(r.getMessage() for r in caplog.records), caplog.text, out, err])

    return collected


def assert_clean(text: str, *extra_secrets: str) -> None:
    assert '"event":"request"' in text  # the capture works
    for secret in [*SECRETS, *extra_secrets]:
        assert secret not in text, f"{secret!r} leaked into the logs"


def test_development_calls_log_no_patient_data(logs) -> None:
    client = create_app(bootstrap(sb.settings(env="development"), clock=lambda: fb.NOW)).test_client()
    tok = sb.token(SERVICE, sub=PID, patient=NAME)
    auth = {"access_token": FHIR_TOKEN, "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
            "subject": PID, "patient": PID}
    ok = client.post(SERVICE, json=patient_request(fhirServer="https://fhir.example.org/r4", fhirAuthorization=auth),
                     headers=sb.bearer(tok))
    assert ok.status_code == 200, ok.get_json()
    assert client.post(SERVICE, json=patient_request(hook=NAME)).status_code == 400
    missing = patient_request(fhirServer="https://fhir.example.org/r4", fhirAuthorization=auth)
    del missing["prefetch"]["patient"]
    assert client.post(SERVICE, json=missing).status_code == 412
    assert client.post(SERVICE, json=patient_request(), headers=sb.bearer(tok)).status_code == 401  # replay
    wrong_patient = patient_request()
    wrong_patient["context"]["patientId"] = "OTHER-SECRET-31"  # a mismatch: logged in numbers only
    assert client.post(SERVICE, json=wrong_patient).get_json() == {"cards": []}
    deep = json.dumps(patient_request())[:-1] + ', "x": ' + "[" * 100 + json.dumps(NAME) + "]" * 100 + "}"
    assert client.post(SERVICE, data=deep, content_type="application/json").status_code == 400
    assert client.post(SERVICE, data=json.dumps({"hook": NAME, "x": "a" * (17 * 1024 * 1024)}),
                       content_type="application/json").status_code == 413

    def explode(*args, **kwargs):
        raise ValueError(f"cannot grade {NAME} ({PID}, {MRN})")

    exploding = create_app(bootstrap(sb.settings(env="development"), clock=lambda: fb.NOW,
                                     composers={"patient-view": explode})).test_client()
    assert exploding.post(SERVICE, json=patient_request()).status_code == 500
    exposition = client.get("/metrics").get_data(as_text=True)  # metrics labels: no patient data either
    assert 'crs_cds_requests_total{endpoint="service"' in exposition
    for secret in [*SECRETS, tok, "OTHER-SECRET-31"]:
        assert secret not in exposition, f"{secret!r} leaked into /metrics"
    text = logs()
    assert_clean(text, tok, tok.split(".")[2], "OTHER-SECRET-31")
    lines = [json.loads(line) for line in text.splitlines() if line.startswith('{"time"')]
    assert {line["status"] for line in lines if line["event"] == "request"} >= {200, 400, 401, 412, 413, 500}
    assert any(line.get("mismatch") == "0 of 5 resources for this patient" for line in lines)


def test_production_refusals_log_no_patient_data_or_tokens(logs) -> None:
    client = create_app(bootstrap(sb.settings(), clock=lambda: fb.NOW)).test_client()
    forged = sb.token(SERVICE, key=sb.ec_key("attacker"), sub=PID, name=NAME)
    wrong_aud = sb.token("/elsewhere", sub=PID)
    assert client.post(SERVICE, json=patient_request(), headers=sb.bearer(forged)).status_code == 401
    assert client.post(SERVICE, json=patient_request(), headers=sb.bearer(wrong_aud)).status_code == 401
    assert client.post(SERVICE, json=patient_request(), headers={"Authorization": f"Bearer {FHIR_TOKEN}"}).status_code == 401
    assert client.post(SERVICE, json=patient_request()).status_code == 401
    off_list = patient_request(fhirServer=f"https://{MRN.lower()}.example.net/{PID}")
    assert client.post(SERVICE, json=off_list, headers=sb.bearer(sb.token(SERVICE))).status_code == 403
    good = client.post(SERVICE, json=patient_request(), headers=sb.bearer(sb.token(SERVICE, sub=PID)))
    assert good.status_code == 200
    exposition = client.get("/metrics").get_data(as_text=True)
    assert "crs_cds_auth_failures_total" in exposition
    for secret in [*SECRETS, forged, wrong_aud, MRN.lower()]:
        assert secret not in exposition, f"{secret!r} leaked into /metrics"
    text = logs()
    assert_clean(text, forged, wrong_aud, forged.split(".")[2], MRN.lower())
    [line] = [json.loads(ln) for ln in text.splitlines() if '"status":200' in ln and ln.startswith('{"time"')][:1]
    assert line["issuer"] == sb.ISS and line["grades"] and line["cards"]
