"""The timeline page over HTTP: the card's SMART link, the EHR launch (PKCE, state, token exchange, server-side
session), the development mode against an open FHIR server, and every refusal as a 4xx page naming what is
wrong — never a 500, never a token or a patient id in a log line, a cookie or a URL after the callback."""
from __future__ import annotations

import dataclasses
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from cds_service.settings import SecuritySettings, Settings, SmartSettings
from devkit import fhirbuild as fb
from tests.support import apps
from tests.support import security_builders as sb
from tests.support.pages import AuthorizationServer, RecordServer, error_code, message, shown_grade, ward_record

FHIR = "https://fhir.example.org/r4"
CLIENT_ID = "crs-cds-timeline"
URL = "/cds-services/crs-patient-view"


def smart_settings(*, env: str = "development", fhir: str = FHIR, **security) -> Settings:
    issuer = sb.issuer(fhir_servers=(fhir,))
    return Settings(env=env, smart=SmartSettings(CLIENT_ID),
                    security=SecuritySettings(issuers=(issuer,), **security))


@pytest.fixture
def ehr():
    """The EHR: its authorization server and its FHIR server holding the ward record, behind the token."""
    auth = AuthorizationServer(fhir=FHIR)
    return auth, RecordServer(ward_record(), token=auth.token)


def launched(client, auth, *, launch: str = "opaque-launch-ctx"):
    """The EHR opens the launch URL; the browser goes to the authorization server and back."""
    started = client.get(f"/app/launch?iss={FHIR}&launch={launch}")
    assert started.status_code == 302, message(started)
    back = auth.authorize(started.headers["Location"])
    return started, client.get(f"/app/callback?code={back['code']}&state={back['state']}")


# --- the card's link --------------------------------------------------------------------------------------


def test_the_card_links_to_the_launch_when_a_smart_client_id_is_configured(ehr) -> None:
    client = apps.client(smart_settings(env="development"))
    card = client.post(URL, json=fb.hook_request(ward_record())).get_json()["cards"][0]
    assert card["links"] == [{"label": "CRS timeline: vitals, treatment and grade since the infusion, with all "
                                       "evidence", "url": "http://localhost/app/launch", "type": "smart"}]


def test_the_link_uses_the_public_base_url_behind_a_proxy(ehr) -> None:
    settings = smart_settings(public_base_url="https://cds.example.org")
    card = apps.client(settings).post(URL, json=fb.hook_request(ward_record())).get_json()["cards"][0]
    assert card["links"][0]["url"] == "https://cds.example.org/app/launch"


def test_without_a_smart_client_id_the_card_has_no_link_and_the_launch_is_not_found() -> None:
    client = apps.client(Settings())
    card = client.post(URL, json=fb.hook_request(ward_record())).get_json()["cards"][0]
    assert "links" not in card
    response = client.get(f"/app/launch?iss={FHIR}&launch=x")
    assert response.status_code == 404 and error_code(response) == "smart-not-configured"


# --- the SMART EHR launch ---------------------------------------------------------------------------------


def test_an_ehr_launch_reaches_the_page_with_the_same_grade_as_the_card(ehr) -> None:
    auth, fhir = ehr
    client = apps.client(smart_settings(), fetcher=fhir, oauth_http=auth)
    started, back = launched(client, auth)

    assert auth.discovery_calls == [f"{FHIR}/.well-known/smart-configuration"]
    redirect = urlsplit(started.headers["Location"])
    asked = {k: v[0] for k, v in parse_qs(redirect.query).items()}
    assert f"{redirect.scheme}://{redirect.netloc}{redirect.path}" == auth.authorize_endpoint
    assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
    assert asked["redirect_uri"] == "http://localhost/app/callback" and asked["aud"] == FHIR
    assert asked["launch"] == "opaque-launch-ctx" and asked["code_challenge_method"] == "S256"
    assert asked["scope"] == "launch launch/patient openid fhirUser patient/*.read"
    assert len(asked["state"]) >= 32 and len(asked["code_challenge"]) == 43

    assert back.status_code == 303 and back.headers["Location"] == "http://localhost/app/timeline"
    assert auth.token_forms[0]["grant_type"] == "authorization_code" and len(auth.token_forms[0]["code_verifier"]) >= 43
    page = client.get("/app/timeline")
    assert page.status_code == 200, message(page)
    assert set(fhir.tokens) == {auth.token}  # every FHIR read carried the token, and only it
    card = client.post(URL, json=fb.hook_request(ward_record())).get_json()["cards"][0]
    assert shown_grade(page.get_data(as_text=True)) == str(card["extension"]["crs-cds.assessment"]["grade"]) == "3"
    assert f"{FHIR} (SMART launch)" in page.get_data(as_text=True)


def test_the_browser_holds_an_opaque_httponly_cookie_never_the_token(ehr) -> None:
    auth, fhir = ehr
    client = apps.client(smart_settings(), fetcher=fhir, oauth_http=auth)
    started, back = launched(client, auth)
    for response in (started, back):
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("crs_cds_app=") and "HttpOnly" in cookie and "Path=/app" in cookie
        assert "SameSite=Lax" in cookie and auth.token not in cookie
        # the value is an opaque random id (256 bits, URL-safe), never the patient: a substring test for
        # "p1" would fail by chance once in a hundred runs, so the value is checked for what it is
        value = cookie.split(";")[0].removeprefix("crs_cds_app=")
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value) and "Patient/" not in value and value != "p1"
    assert started.headers["Set-Cookie"].split(";")[0] != back.headers["Set-Cookie"].split(";")[0]  # a new id
    page = client.get("/app/timeline")
    assert page.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in page.headers
    assert auth.token not in page.get_data(as_text=True)


def test_over_https_the_cookie_is_secure_and_works_inside_the_ehrs_frame(ehr) -> None:
    auth, fhir = ehr
    client = apps.client(smart_settings(public_base_url="https://cds.example.org"), fetcher=fhir, oauth_http=auth)
    started = client.get(f"/app/launch?iss={FHIR}&launch=x")
    assert "Secure" in started.headers["Set-Cookie"] and "SameSite=None" in started.headers["Set-Cookie"]
    assert parse_qs(urlsplit(started.headers["Location"]).query)["redirect_uri"] == [
        "https://cds.example.org/app/callback"]


def test_a_callback_with_another_state_is_refused_and_spends_nothing(ehr) -> None:
    auth, fhir = ehr
    client = apps.client(smart_settings(), fetcher=fhir, oauth_http=auth)
    started = client.get(f"/app/launch?iss={FHIR}&launch=x")
    back = auth.authorize(started.headers["Location"])
    refused = client.get(f"/app/callback?code={back['code']}&state=forged-{back['state']}")
    assert refused.status_code == 400 and error_code(refused) == "bad-state"
    assert "state parameter does not match" in message(refused)
    assert auth.token_forms == []  # the code was never exchanged


def test_a_callback_in_another_browser_is_refused(ehr) -> None:
    auth, fhir = ehr
    client = apps.client(smart_settings(), fetcher=fhir, oauth_http=auth)
    started = client.get(f"/app/launch?iss={FHIR}&launch=x")
    back = auth.authorize(started.headers["Location"])
    other = client.application.test_client()  # no cookie
    refused = other.get(f"/app/callback?code={back['code']}&state={back['state']}")
    assert refused.status_code == 400 and error_code(refused) == "launch-expired"


def test_a_code_is_exchanged_once(ehr) -> None:
    auth, fhir = ehr
    client = apps.client(smart_settings(), fetcher=fhir, oauth_http=auth)
    started = client.get(f"/app/launch?iss={FHIR}&launch=x")
    back = auth.authorize(started.headers["Location"])
    launch_cookie = started.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert client.get(f"/app/callback?code={back['code']}&state={back['state']}").status_code == 303
    client.set_cookie("crs_cds_app", launch_cookie, path="/app")  # the launch session replayed
    again = client.get(f"/app/callback?code={back['code']}&state={back['state']}")
    assert again.status_code == 400 and error_code(again) == "launch-expired"


@pytest.mark.parametrize("query,status,code", [
    ("launch=x", 400, "missing-iss"),
    (f"iss={FHIR}", 400, "missing-launch"),
    ("iss=not-a-url&launch=x", 400, "bad-iss"),
    ("iss=https://evil.example.com/fhir&launch=x", 403, "iss-not-allowed"),
    ("iss=http://fhir.example.org/r4&launch=x", 403, "iss-not-allowed"),
    (f"iss={FHIR}&launch=%0A", 400, "bad-launch"),
])
def test_a_bad_launch_is_a_page_naming_what_is_wrong(ehr, query, status, code) -> None:
    auth, fhir = ehr
    response = apps.client(smart_settings(), fetcher=fhir, oauth_http=auth).get(f"/app/launch?{query}")
    assert (response.status_code, error_code(response)) == (status, code)
    assert response.mimetype == "text/html" and message(response)
    assert auth.discovery_calls == []  # refused before any request to the EHR


def test_an_authorization_server_without_pkce_s256_is_refused(ehr) -> None:
    auth, fhir = ehr
    auth.methods = ("plain",)
    response = apps.client(smart_settings(), fetcher=fhir, oauth_http=auth).get(f"/app/launch?iss={FHIR}&launch=x")
    assert response.status_code == 502 and error_code(response) == "pkce-unsupported"


@pytest.mark.parametrize("change,status,code", [
    ({"token_error": "invalid_grant"}, 502, "token-refused"),
    ({"patient": None}, 502, "no-patient-context"),
    ({"patient": "p1<script>"}, 502, "no-patient-context"),
])
def test_a_token_response_the_page_cannot_use_is_said(ehr, change, status, code) -> None:
    auth, fhir = ehr
    for name, value in change.items():
        setattr(auth, name, value)
    _, back = launched(apps.client(smart_settings(), fetcher=fhir, oauth_http=auth), auth)
    assert (back.status_code, error_code(back)) == (status, code)


def test_the_user_declining_is_said(ehr) -> None:
    auth, fhir = ehr
    client = apps.client(smart_settings(), fetcher=fhir, oauth_http=auth)
    client.get(f"/app/launch?iss={FHIR}&launch=x")
    refused = client.get("/app/callback?error=access_denied&state=whatever")
    assert refused.status_code == 403 and message(refused) == "The EHR did not authorise the launch (access_denied)."


def test_no_session_and_an_expired_one_ask_for_a_new_launch(ehr) -> None:
    auth, fhir = ehr
    auth.expires_in = 60
    client = apps.client(smart_settings(), fetcher=fhir, oauth_http=auth)
    none = client.get("/app/timeline")
    assert none.status_code == 401 and error_code(none) == "no-session"
    launched(client, auth)
    assert client.get("/app/timeline").status_code == 200
    service = client.application.extensions["crs_cds"]  # a minute later, by the launcher's clock
    later = dataclasses.replace(service.smart, clock=lambda: time.time() + 61)
    client.application.extensions["crs_cds"] = dataclasses.replace(service, smart=later)
    expired = client.get("/app/timeline")
    assert expired.status_code == 401 and error_code(expired) == "session-expired"


def test_a_token_the_fhir_server_rejects_is_a_bad_gateway_page(ehr) -> None:
    auth, _ = ehr
    fhir = RecordServer(ward_record(), token="another-token")
    client = apps.client(smart_settings(), fetcher=fhir, oauth_http=auth)
    launched(client, auth)
    page = client.get("/app/timeline")
    assert page.status_code == 502 and error_code(page) == "fhir-unavailable"
    assert "rejected the access token" in message(page)


def test_nothing_patient_identifying_or_secret_reaches_the_logs(ehr, capsys) -> None:
    auth, fhir = ehr
    client = apps.client(smart_settings(), fetcher=fhir, oauth_http=auth)
    started, _ = launched(client, auth)
    client.get("/app/timeline")
    client.get(f"/app/timeline?iss={FHIR}&patient=p1")
    logs = capsys.readouterr().err
    assert '"route":"/app/timeline"' in logs and '"route":"/app/callback"' in logs
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    code = auth.token_forms[0]["code"]
    for secret in (auth.token, state, code, "opaque-launch-ctx", "p1", "fhir.example.org", "Patient/"):
        assert secret not in logs


# --- development: an open FHIR server --------------------------------------------------------------------


def test_in_development_the_page_reads_an_open_fhir_server() -> None:
    fhir = RecordServer(ward_record())
    client = apps.client(Settings(), fetcher=fhir)
    page = client.get("/app/timeline?iss=http://127.0.0.1:8090/fhir&patient=p1&now=2026-11-21T12:00:00Z")
    assert page.status_code == 200 and shown_grade(page.get_data(as_text=True)) == "3"
    assert set(fhir.tokens) == {None}
    assert "Patient/p1" in fhir.queries
    assert any(q.startswith("Observation?patient=p1&code=") and "date=ge2026-10-22" in q for q in fhir.queries)


@pytest.mark.parametrize("query,status,code", [
    ("patient=p1", 400, "missing-iss"),
    ("iss=http://127.0.0.1:8090/fhir", 400, "missing-patient"),
    ("iss=http://127.0.0.1:8090/fhir&patient=p1%3Cscript%3E", 400, "bad-patient"),
    ("iss=http://127.0.0.1:8090/fhir&patient=../Observation", 400, "bad-patient"),
    ("iss=http://127.0.0.1:8090/fhir&patient=" + "p" * 65, 400, "bad-patient"),
    ("iss=http://10.1.2.3/fhir&patient=p1", 403, "iss-not-allowed"),
    ("iss=file:///etc/passwd&patient=p1", 403, "iss-not-allowed"),
    ("iss=http://127.0.0.1:8090/fhir&patient=p1&now=yesterday", 400, "bad-now"),
    ("iss=http://127.0.0.1:8090/fhir&patient=nobody", 404, "patient-not-found"),
])
def test_bad_development_parameters_are_a_page_naming_what_is_wrong(query, status, code) -> None:
    response = apps.client(Settings(), fetcher=RecordServer(ward_record())).get(f"/app/timeline?{query}")
    assert (response.status_code, error_code(response)) == (status, code), message(response)
    assert "<script" not in response.get_data(as_text=True).split("<body", 1)[1]


def test_the_open_server_mode_is_refused_in_production() -> None:
    client = apps.client(sb.settings(), fetcher=RecordServer(ward_record()))
    response = client.get("/app/timeline?iss=https://fhir.example.org/r4&patient=p1")
    assert response.status_code == 403 and error_code(response) == "development-only"


def test_an_unreachable_fhir_server_is_a_bad_gateway_page_not_a_500() -> None:
    class Down:
        def fetch(self, query, **kw):
            raise ConnectionError("boom")  # a fetcher bug or a dead socket: the gatherer reports it as unread

    response = apps.client(Settings(), fetcher=Down()).get("/app/timeline?iss=http://127.0.0.1:9/fhir&patient=p1")
    assert response.status_code == 502 and error_code(response) == "fhir-unavailable"


def test_an_unexpected_failure_is_an_html_500_with_a_request_id_and_no_detail(monkeypatch, capsys) -> None:
    client = apps.client(Settings(), fetcher=RecordServer(ward_record()))
    service = client.application.extensions["crs_cds"]
    monkeypatch.setattr(type(service.timeline), "from_server", lambda *a, **k: 1 / 0)
    response = client.get("/app/timeline?iss=http://127.0.0.1:8090/fhir&patient=p1")
    assert response.status_code == 500 and error_code(response) == "internal-error"
    assert "ZeroDivisionError" not in response.get_data(as_text=True)
    assert '"exception":"ZeroDivisionError"' in capsys.readouterr().err
