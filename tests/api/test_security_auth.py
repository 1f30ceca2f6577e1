"""Attacks on the bearer JWT and the fhirServer allowlist: each is refused, with no detail to the caller."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from dataclasses import replace
from typing import Any

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization

from cds_service.bootstrap import bootstrap
from cds_service.http import create_app
from cds_service.security import Tenant
from devkit import fhirbuild as fb
from tests.support import security_builders as sb

DISCOVERY = "/cds-services"
SERVICE = "/cds-services/crs-patient-view"
UNAUTHORIZED = {"error": "unauthorized", "message": "Missing or invalid bearer token"}


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(path: str = DISCOVERY, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": sb.ISS, "aud": sb.BASE + path, "iat": now, "exp": now + 300, "jti": f"j-{time.time_ns()}", **extra}


class RecordingFetcher:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def fetch(self, query, *, server, authorization, deadline=None):
        self.calls.append(server.base)
        return fb.bundle()


@pytest.fixture
def fetcher() -> RecordingFetcher:
    return RecordingFetcher()


@pytest.fixture
def prod(fetcher):
    tenants = (Tenant("hospital-a", ("https://fhir-a.example.org/r4",)),
               Tenant("hospital-b", ("https://fhir-b.example.org/r4",)))
    settings = sb.settings(sb.issuer(), sb.issuer("https://tenanted.example.org", kid="t-1", fhir_servers=(),
                                                  tenants=tenants))
    return create_app(bootstrap(settings, clock=lambda: fb.NOW, fetcher=fetcher)).test_client()


def refused(resp) -> bool:
    body = resp.get_json()
    return (resp.status_code == 401 and {k: body[k] for k in ("error", "message")} == UNAUTHORIZED
            and set(body) <= {"error", "message", "requestId"} and resp.headers["WWW-Authenticate"] == "Bearer")


def service_request(**extra: Any) -> dict[str, Any]:
    return fb.hook_request([fb.car_t(), fb.temperature(39.1, fb.ago(hours=1))], **extra)


# --- production: authentication required ---------------------------------------------------------------

def test_valid_token_is_accepted_on_discovery_and_service(prod) -> None:
    assert prod.get(DISCOVERY, headers=sb.bearer(sb.token(DISCOVERY))).status_code == 200
    resp = prod.post(SERVICE, json=service_request(), headers=sb.bearer(sb.token(SERVICE)))
    assert resp.status_code == 200, resp.get_json()


@pytest.mark.parametrize("method,path", [("get", DISCOVERY), ("post", SERVICE), ("post", SERVICE + "/feedback")])
def test_missing_header_in_production_is_401_everywhere_but_health(prod, method, path) -> None:
    resp = getattr(prod, method)(path, json=service_request() if method == "post" else None)
    assert refused(resp)
    assert prod.get("/health").status_code == 200


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "token abc"])
def test_a_header_that_is_not_a_bearer_token_is_401(prod, header) -> None:
    assert refused(prod.get(DISCOVERY, headers={"Authorization": header}))


def test_alg_none_is_refused(prod) -> None:
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': sb.KID})}.{b64(claims())}."
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(unsigned)))


def test_hs256_signed_with_the_public_key_as_secret_is_refused(prod) -> None:
    pem = sb.ec_key().public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': sb.KID})}.{b64(claims())}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(f"{signing_input}.{b64(signature)}")))


@pytest.mark.parametrize("aud", ["https://other.example.org/cds-services", sb.BASE + SERVICE, None,
                                 sb.BASE + "/cds-services/../cds-services"])
def test_wrong_or_missing_aud_is_refused(prod, aud) -> None:
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(sb.token(DISCOVERY, aud=aud))))


def test_expired_token_is_refused(prod) -> None:
    now = int(time.time())
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(sb.token(iat=now - 400, exp=now - 100))))


def test_iat_in_the_future_is_refused(prod) -> None:
    now = int(time.time())
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(sb.token(iat=now + 300, exp=now + 500))))


def test_small_clock_skew_is_tolerated(prod) -> None:
    now = int(time.time())
    assert prod.get(DISCOVERY, headers=sb.bearer(sb.token(iat=now + 10, exp=now + 200))).status_code == 200
    assert prod.get(DISCOVERY, headers=sb.bearer(sb.token(iat=now - 300, exp=now - 10))).status_code == 200


def test_a_lifetime_beyond_the_maximum_is_refused(prod) -> None:
    now = int(time.time())
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(sb.token(iat=now, exp=now + 3600))))
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(sb.token(iat=now, exp=now + 901))))
    assert prod.get(DISCOVERY, headers=sb.bearer(sb.token(iat=now, exp=now + 900))).status_code == 200  # Epic's


def test_the_maximum_lifetime_is_set_per_issuer() -> None:
    strict = replace(sb.issuer(), max_token_lifetime=300)
    other = replace(sb.issuer(iss="https://epic.example.org", key=sb.rsa_key(), kid="rsa-1"), client="epic")
    api = create_app(bootstrap(sb.settings(strict, other), clock=lambda: fb.NOW)).test_client()
    now = int(time.time())
    assert refused(api.get(DISCOVERY, headers=sb.bearer(sb.token(iat=now, exp=now + 600))))
    epic = sb.token(iss="https://epic.example.org", key=sb.rsa_key(), kid="rsa-1", alg="RS384", iat=now, exp=now + 900)
    assert api.get(DISCOVERY, headers=sb.bearer(epic)).status_code == 200


@pytest.mark.parametrize("before,status", [(300, 200), (330, 200), (331, 401), (3600, 401)])
def test_nbf_may_precede_iat_by_up_to_five_minutes(prod, before, status) -> None:
    """Epic sets nbf 5 minutes before iat; an earlier nbf (beyond the 30 s leeway) is refused."""
    now = int(time.time())
    tok = sb.token(iat=now, exp=now + 900, nbf=now - before)
    assert prod.get(DISCOVERY, headers=sb.bearer(tok)).status_code == status


@pytest.mark.parametrize("times", [{"iat": float("nan"), "exp": 10**10}, {"iat": float("nan"), "exp": float("nan")},
                                   {"nbf": float("nan")}, {"exp": float("inf")}])
def test_nan_or_infinite_times_are_refused(prod, times) -> None:
    # NaN (which JSON parsers accept in a JWT) compares false with everything: it must not
    # slip past the expiry, lifetime and replay checks of a token signed by a trusted issuer.
    tok = sb.token(**times)
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(tok)))
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(tok)))


@pytest.mark.parametrize("missing", ["iss", "exp", "iat", "jti"])
def test_missing_required_claims_are_refused(prod, missing) -> None:
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(sb.token(**{missing: None}))))


def test_unknown_kid_and_missing_kid_are_refused(prod) -> None:
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(sb.token(kid="no-such-key"))))
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(sb.token(kid=None))))


def test_untrusted_issuer_and_a_stranger_key_are_refused(prod) -> None:
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(sb.token(iss="https://evil.example.org"))))
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(sb.token(key=sb.ec_key("attacker")))))


def test_replayed_jti_is_refused(prod) -> None:
    tok = sb.token(DISCOVERY, jti="once-only")
    assert prod.get(DISCOVERY, headers=sb.bearer(tok)).status_code == 200
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(tok)))


def test_tampered_payload_is_refused(prod) -> None:
    head, payload, sig = sb.token(DISCOVERY).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["sub"] = "admin"
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(f"{head}.{b64(body)}.{sig}")))


def test_algorithm_not_matching_the_key_is_refused(prod) -> None:
    rsa_signed = sb.token(key=sb.rsa_key(), alg="RS384")  # EC key configured under this kid
    assert refused(prod.get(DISCOVERY, headers=sb.bearer(rsa_signed)))


def test_rsa_issuers_are_supported() -> None:
    settings = sb.settings(sb.issuer(key=sb.rsa_key()))
    client = create_app(bootstrap(settings, clock=lambda: fb.NOW)).test_client()
    assert client.get(DISCOVERY, headers=sb.bearer(sb.token(key=sb.rsa_key(), alg="RS384"))).status_code == 200
    assert client.get(DISCOVERY, headers=sb.bearer(sb.token(key=sb.rsa_key(), alg="PS384"))).status_code == 200
    assert refused(client.get(DISCOVERY, headers=sb.bearer(sb.token(key=sb.ec_key(), alg="ES384"))))


def test_the_reason_goes_to_the_log_and_not_to_the_caller(prod, caplog) -> None:
    now = int(time.time())
    tok = sb.token(iat=now - 400, exp=now - 100)
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = prod.get(DISCOVERY, headers=sb.bearer(tok))
    assert "expired" not in resp.get_data(as_text=True)
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "crs_cds.request"]
    assert line["status"] == 401 and line["authFailure"] == "expired"
    assert tok not in caplog.text and tok.split(".")[2] not in caplog.text


# --- tenants and the fhirServer allowlist --------------------------------------------------------------

def tenant_token(tenant: str | None) -> str:
    return sb.token(SERVICE, iss="https://tenanted.example.org", kid="t-1", tenant=tenant)


def test_a_tenants_own_fhir_server_is_allowed(prod, fetcher) -> None:
    resp = prod.post(SERVICE, json=service_request(fhirServer="https://fhir-a.example.org/r4/"),
                     headers=sb.bearer(tenant_token("hospital-a")))
    assert resp.status_code == 200, resp.get_json()


def test_token_of_another_tenant_is_refused(prod, fetcher) -> None:
    resp = prod.post(SERVICE, json=service_request(fhirServer="https://fhir-b.example.org/r4"),
                     headers=sb.bearer(tenant_token("hospital-a")))
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"
    assert refused(prod.post(SERVICE, json=service_request(), headers=sb.bearer(tenant_token("hospital-z"))))
    assert refused(prod.post(SERVICE, json=service_request(), headers=sb.bearer(tenant_token(None))))
    assert fetcher.calls == []


@pytest.mark.parametrize("server", ["https://attacker.example.net/fhir", "http://fhir.example.org/r4",
                                    "https://fhir.example.org/r4/../../admin", "https://fhir.example.org.evil.net/r4",
                                    "https://user@fhir.example.org/r4", "https://fhir.example.org/r4?x=1"])
def test_fhir_server_off_the_allowlist_is_403_before_any_request(prod, fetcher, server) -> None:
    body = service_request(fhirServer=server, fhirAuthorization={
        "access_token": "EHR-ACCESS-TOKEN", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
        "subject": "crs-cds"})
    del body["prefetch"]["observations"]  # would otherwise be fetched
    resp = prod.post(SERVICE, json=body, headers=sb.bearer(sb.token(SERVICE)))
    assert resp.status_code == 403, resp.get_json()
    assert "EHR-ACCESS-TOKEN" not in resp.get_data(as_text=True)
    assert fetcher.calls == []


def test_allowlisted_fhir_server_is_used_for_fetching(prod, fetcher) -> None:
    body = service_request(fhirServer="https://FHIR.example.org:443/r4")
    del body["prefetch"]["observations"]
    resp = prod.post(SERVICE, json=body, headers=sb.bearer(sb.token(SERVICE)))
    assert resp.status_code == 200, resp.get_json()
    assert fetcher.calls and set(fetcher.calls) == {"https://FHIR.example.org:443/r4"}


# --- behind a proxy --------------------------------------------------------------------------------------

def test_aud_is_the_public_url_behind_a_proxy() -> None:
    client = create_app(bootstrap(sb.settings(public_base_url="https://cds.example.org"), clock=lambda: fb.NOW)).test_client()
    public = sb.token(aud="https://cds.example.org/cds-services")
    assert client.get(DISCOVERY, headers=sb.bearer(public)).status_code == 200
    assert refused(client.get(DISCOVERY, headers=sb.bearer(sb.token(DISCOVERY))))


# --- keys from allowlisted jku URLs (fetched through `requests`, mocked with `responses`) ---------------

JKU = "https://ehr.example.org/.well-known/jwks.json"


@pytest.fixture
def jku_client():
    settings = sb.settings(sb.issuer(key=False, jku=(JKU,)))
    return create_app(bootstrap(settings, clock=lambda: fb.NOW)).test_client()


@responses.activate
def test_keys_are_fetched_from_an_allowlisted_jku_and_cached(jku_client) -> None:
    responses.get(JKU, json=sb.jwks(sb.public_jwk(sb.ec_key())))
    for _ in range(3):
        tok = sb.token(headers={"jku": JKU})
        assert jku_client.get(DISCOVERY, headers=sb.bearer(tok)).status_code == 200
    assert jku_client.get(DISCOVERY, headers=sb.bearer(sb.token())).status_code == 200  # no jku header: issuer's
    assert len(responses.calls) == 1


@responses.activate
def test_unknown_kid_refreshes_the_jwks_at_a_bounded_rate(jku_client) -> None:
    responses.get(JKU, json=sb.jwks(sb.public_jwk(sb.ec_key())))
    for i in range(5):
        assert refused(jku_client.get(DISCOVERY, headers=sb.bearer(sb.token(kid=f"made-up-{i}"))))
    assert len(responses.calls) == 1


@responses.activate
def test_jku_not_allowlisted_is_refused_without_fetching(jku_client) -> None:
    evil = "https://attacker.example.net/jwks.json"
    responses.get(evil, json=sb.jwks(sb.public_jwk(sb.ec_key("attacker"))))
    tok = sb.token(key=sb.ec_key("attacker"), headers={"jku": evil})
    assert refused(jku_client.get(DISCOVERY, headers=sb.bearer(tok)))
    assert len(responses.calls) == 0


@responses.activate
def test_an_unreachable_jku_is_401_not_500(jku_client) -> None:
    responses.get(JKU, status=503)
    assert refused(jku_client.get(DISCOVERY, headers=sb.bearer(sb.token())))


def test_private_or_symmetric_keys_in_a_jwks_are_ignored() -> None:
    from cds_service.security.keys import _public_keys

    private = jwt.algorithms.ECAlgorithm.to_jwk(sb.ec_key(), as_dict=True)
    found = _public_keys({"keys": [{**private, "kid": "p"}, {"kty": "oct", "k": "c2VjcmV0", "kid": "s"},
                                   {"kty": "EC", "kid": "broken"}, sb.public_jwk(sb.ec_key(), "ok")]})
    assert list(found) == ["ok"]


# --- development ---------------------------------------------------------------------------------------

def test_development_without_issuers_accepts_anonymous_calls(client) -> None:
    assert client.get(DISCOVERY).status_code == 200
    assert client.post(SERVICE, json=service_request()).status_code == 200


def test_development_with_issuers_verifies_a_token_that_is_sent() -> None:
    client = create_app(bootstrap(sb.settings(env="development"), clock=lambda: fb.NOW)).test_client()
    assert client.get(DISCOVERY).status_code == 200
    assert client.get(DISCOVERY, headers=sb.bearer(sb.token())).status_code == 200
    assert refused(client.get(DISCOVERY, headers=sb.bearer(sb.token(aud="https://elsewhere"))))


@pytest.mark.parametrize("server,status", [("https://any.example.org/fhir", 200), ("http://127.0.0.1:8081/fhir", 200),
                                           ("http://localhost/fhir", 200), ("http://fhir.example.org/fhir", 403),
                                           ("http://10.0.0.5/fhir", 403)])
def test_anonymous_development_callers_may_name_https_or_loopback_http(client, server, status) -> None:
    assert client.post(SERVICE, json=service_request(fhirServer=server)).status_code == status
