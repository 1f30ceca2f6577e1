"""The HTTP half of a SMART launch (discovery, token endpoint): JSON objects only, no redirects followed,
bounded; every failure a 502 naming the step, never an exception escaping as a 500."""
from __future__ import annotations

import pytest
import requests
import responses

from cds_service.smart import LaunchError, RequestsOAuthHttp
from cds_service.smart.oauth_http import MAX_BYTES

CONFIG = "https://fhir.example.org/r4/.well-known/smart-configuration"
TOKEN = "https://auth.example.org/token"


@responses.activate
def test_discovery_reads_a_json_object() -> None:
    responses.get(CONFIG, json={"authorization_endpoint": "https://auth.example.org/authorize"})
    assert RequestsOAuthHttp().get_json(CONFIG, step="discovery") == {
        "authorization_endpoint": "https://auth.example.org/authorize", "_status": 200}


@responses.activate
@pytest.mark.parametrize("answer,code", [
    ({"body": "<html>login</html>", "status": 200}, "discovery-invalid"),
    ({"json": ["not", "an", "object"], "status": 200}, "discovery-invalid"),
    ({"json": {"error": "not found"}, "status": 404}, "discovery-invalid"),
    ({"body": b"{" + b" " * MAX_BYTES + b"}", "status": 200}, "discovery-invalid"),
    ({"body": requests.ConnectionError("refused")}, "discovery-unreachable"),
    ({"status": 302, "headers": {"Location": "https://elsewhere.example.com/"}}, "discovery-invalid"),
])
def test_a_discovery_it_cannot_use_is_a_502_naming_the_step(answer, code) -> None:
    responses.get(CONFIG, **answer)
    with pytest.raises(LaunchError) as caught:
        RequestsOAuthHttp().get_json(CONFIG, step="discovery")
    assert (caught.value.status, caught.value.code) == (502, code)
    assert "SMART configuration" in caught.value.message


@responses.activate
def test_the_token_endpoint_gets_a_form_and_its_error_answer_is_read() -> None:
    responses.post(TOKEN, json={"error": "invalid_grant"}, status=400,
                   match=[responses.matchers.urlencoded_params_matcher({"grant_type": "authorization_code",
                                                                        "code": "c"})])
    answer = RequestsOAuthHttp().post_form(TOKEN, {"grant_type": "authorization_code", "code": "c"}, step="token")
    assert answer == {"error": "invalid_grant", "_status": 400}
