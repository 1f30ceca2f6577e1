"""Request limits (body size, JSON depth, resources) and CORS."""
from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app

from cds_service.bootstrap import bootstrap
from cds_service.ehr import FetchUnavailable, FhirServer
from cds_service.http import create_app
from cds_service.json_text import json_depth
from cds_service.settings import SecuritySettings, Settings
from devkit import fhirbuild as fb
from tests.support import security_builders as sb

SERVICE = "/cds-services/crs-patient-view"


def app_with(**security) -> object:
    return create_app(bootstrap(Settings(security=SecuritySettings(**security)), clock=lambda: fb.NOW)).test_client()


def request_body() -> dict:
    return fb.hook_request([fb.car_t(), fb.temperature(39.1, fb.ago(hours=1))])


# --- size, depth, resources ----------------------------------------------------------------------------

def test_an_oversized_body_is_413() -> None:
    client = app_with(max_body_bytes=2000)
    body = request_body()
    body["extension"] = {"padding": "x" * 5000}
    resp = client.post(SERVICE, json=body)
    assert resp.status_code == 413 and resp.get_json()["error"] == "request-too-large"


def test_an_oversized_body_is_413_even_before_authentication_in_production() -> None:
    client = create_app(bootstrap(sb.settings(max_body_bytes=2000), clock=lambda: fb.NOW)).test_client()
    resp = client.post(SERVICE, data=b"{" + b" " * 5000 + b"}", content_type="application/json",
                       headers=sb.bearer(sb.token(SERVICE)))
    assert resp.status_code == 413


def test_an_oversized_chunked_body_is_413_not_cut_and_parsed() -> None:
    # No Content-Length (Transfer-Encoding: chunked, as gunicorn hands it over): Werkzeug
    # stops reading at MAX_CONTENT_LENGTH instead of refusing, so the body arrives cut short.
    client = app_with(max_body_bytes=2000)
    body = request_body()
    body["extension"] = {"padding": "x" * 5000}
    status, answer = post_chunked(client, json.dumps(body).encode())
    assert status == 413 and answer["error"] == "request-too-large"


def test_a_chunked_body_within_the_limit_is_read_whole(client) -> None:
    assert post_chunked(client, json.dumps(request_body()).encode())[0] == 200


def post_chunked(client, raw: bytes) -> tuple[int, dict]:
    """POST ``raw`` as a WSGI server hands over a chunked body: no CONTENT_LENGTH, input terminated."""
    environ = EnvironBuilder(path=SERVICE, method="POST", input_stream=io.BytesIO(raw),
                             content_type="application/json").get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    body, status, _ = run_wsgi_app(client.application, environ, buffered=True)
    return int(status.split()[0]), json.loads(b"".join(body))


def test_the_default_body_limit_is_a_setting() -> None:
    assert SecuritySettings().max_body_bytes == 16 * 1024 * 1024
    assert Settings.from_env({"CRS_CDS_MAX_BODY_BYTES": "1000"}).security.max_body_bytes == 1000


@pytest.mark.parametrize("depth", [65, 5000, 100_000])
def test_deep_json_is_400_naming_the_problem(client, depth) -> None:
    body = request_body()
    raw = json.dumps(body)[:-1] + ', "extension": {"x": ' + "[" * depth + "]" * depth + "}}"
    resp = client.post(SERVICE, data=raw, content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "invalid-json" and "deeper than 64 levels" in resp.get_json()["message"]


def test_depth_within_the_limit_is_fine(client) -> None:
    body = request_body()
    body["extension"] = {"x": json.loads("[" * 40 + "]" * 40), "s": "[[[[{{{{" * 100}
    assert client.post(SERVICE, json=body).status_code == 200


@pytest.mark.parametrize("text,depth", [("1", 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4),
                                        ('["[[[[", "\\"[[["]', 1), ('{"a\\\\": "]]]"}', 1)])
def test_json_depth_ignores_brackets_in_strings(text, depth) -> None:
    assert json_depth(text.encode()) == depth


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\/ax\n\u00e9'),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                               st.text(alphabet='[]{}"\\a', max_size=4), inner, max_size=3), max_leaves=30)


def true_depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(true_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(true_depth, value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_json_depth_matches_the_parsed_depth(value, ascii_only) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert json_depth(raw) == true_depth(value)


def test_too_many_resources_is_400_not_a_truncated_grade() -> None:
    client = app_with(max_resources=5)
    body = fb.hook_request([fb.car_t(), *(fb.temperature(38.0, fb.ago(hours=h)) for h in range(1, 10))])
    resp = client.post(SERVICE, json=body)
    assert resp.status_code == 400 and resp.get_json()["error"] == "too-many-resources"


def test_every_request_url_stays_on_the_fhir_server() -> None:
    server = FhirServer("https://f.example.org/r4")
    assert server.url("Observation?patient=p") == "https://f.example.org/r4/Observation?patient=p"
    assert server.url("https://f.example.org/r4/Observation?page=2") == "https://f.example.org/r4/Observation?page=2"
    with pytest.raises(FetchUnavailable):
        server.url("https://attacker.example.net/r4?page=2")
    with pytest.raises(FetchUnavailable):
        server.url("https://f.example.org/r4x/Observation")


# --- CORS ----------------------------------------------------------------------------------------------

PREFLIGHT = {"Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


@pytest.mark.parametrize("path", ["/cds-services", SERVICE, SERVICE + "/feedback"])
def test_preflight_in_development_allows_any_origin_with_auth_headers(client, path) -> None:
    resp = client.options(path, headers=PREFLIGHT)
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]
    assert "Content-Type" in resp.headers["Access-Control-Allow-Headers"]
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]


def test_preflight_needs_no_token_in_production_and_honours_configured_origins() -> None:
    client = create_app(bootstrap(sb.settings(cors_origins=("https://sandbox.cds-hooks.org",)),
                        clock=lambda: fb.NOW)).test_client()
    resp = client.options(SERVICE, headers=PREFLIGHT)
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "https://sandbox.cds-hooks.org"
    other = client.options(SERVICE, headers={**PREFLIGHT, "Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in other.headers
    actual = client.get("/cds-services", headers={"Origin": "https://sandbox.cds-hooks.org",
                                                  **sb.bearer(sb.token("/cds-services"))})
    assert actual.headers["Access-Control-Allow-Origin"] == "https://sandbox.cds-hooks.org"
    assert "Origin" in actual.headers["Vary"]
    refused = client.get("/cds-services", headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"]  # readable by the page


def test_production_without_configured_origins_sends_no_cors_headers() -> None:
    client = create_app(bootstrap(sb.settings(), clock=lambda: fb.NOW)).test_client()
    resp = client.options(SERVICE, headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_health_gets_no_cors_headers(client) -> None:
    assert "Access-Control-Allow-Origin" not in client.get("/health", headers={"Origin": "https://x.org"}).headers


def test_cors_origins_are_read_from_the_environment() -> None:
    s = Settings.from_env({"CRS_CDS_CORS_ORIGINS": "https://a.org, https://b.org/"})
    assert s.security.cors_origins == ("https://a.org", "https://b.org")
