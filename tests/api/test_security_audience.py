"""The JWT audience comes from configuration, never from the request: Host spoofing, aud arrays, typ.

The attack: with the audience built from the ``Host`` header, a token minted for
another CDS service that serves the same path was accepted by sending that
service's host name. Here the expected ``aud`` is the issuer's ``audience`` or
``CRS_CDS_PUBLIC_BASE_URL`` plus the path, whatever the request says.
"""
from __future__ import annotations

import json
import logging

import jwt
import pytest

from tests.support import apps
from tests.support import security_builders as sb

PUBLIC = "https://cds.example.org"
DISCOVERY = "/cds-services"
SERVICE = "/cds-services/crs-patient-view"
OTHER_SERVICE = "https://other-cds.example.net"


@pytest.fixture(params=["public base URL", "issuer audience"])
def prod(request):
    """Production, the audience configured either way (with no public base URL, the request's Host
    is the only other place an audience could come from)."""
    if request.param == "public base URL":
        return apps.client(sb.settings(public_base_url=PUBLIC))
    return apps.client(sb.settings(sb.issuer(audience=PUBLIC), public_base_url=None))


def auth_failure(caplog) -> str | None:
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "crs_cds.request"]
    return lines[-1].get("authFailure")


@pytest.mark.parametrize("headers,base_url", [
    ({"Host": "other-cds.example.net"}, None),
    ({}, OTHER_SERVICE),  # scheme and host of the other service, as a client would send them
    ({"Host": "other-cds.example.net", "X-Forwarded-Host": "other-cds.example.net", "X-Forwarded-Proto": "https"}, None),
    ({"Forwarded": "host=other-cds.example.net;proto=https"}, None),
])
def test_a_token_for_another_service_is_refused_whatever_host_is_sent(prod, caplog, headers, base_url) -> None:
    for scheme in ("https", "http"):
        stolen = sb.token(aud=f"{scheme}://other-cds.example.net{DISCOVERY}")
        kwargs = {"base_url": base_url} if base_url else {}
        with caplog.at_level(logging.INFO, logger="crs_cds"):
            resp = prod.get(DISCOVERY, headers={**headers, **sb.bearer(stolen)}, **kwargs)
        assert resp.status_code == 401
        assert auth_failure(caplog) == "aud is not the URL called"


def test_our_own_token_is_accepted_whatever_host_the_proxy_forwards(prod) -> None:
    for host in ("cds-internal:8080", "10.1.2.3", "localhost"):
        ours = sb.token(aud=PUBLIC + DISCOVERY)
        assert prod.get(DISCOVERY, headers={"Host": host, **sb.bearer(ours)}).status_code == 200


def test_the_path_called_is_part_of_the_audience(prod) -> None:
    for_discovery = sb.token(aud=PUBLIC + DISCOVERY)
    assert prod.post(SERVICE, json={}, headers=sb.bearer(for_discovery)).status_code == 401
    assert prod.get(DISCOVERY, headers=sb.bearer(sb.token(aud=PUBLIC + DISCOVERY + "/"))).status_code == 200


@pytest.mark.parametrize("aud,status,reason", [
    ([PUBLIC + DISCOVERY], 200, None),
    ([PUBLIC + DISCOVERY, OTHER_SERVICE + DISCOVERY], 401, "aud lists other audiences"),
    ([OTHER_SERVICE + DISCOVERY, PUBLIC + DISCOVERY], 401, "aud lists other audiences"),
    ([PUBLIC + DISCOVERY, PUBLIC + DISCOVERY], 401, "aud lists other audiences"),
    ([], 401, "aud lists other audiences"),
    ([OTHER_SERVICE + DISCOVERY], 401, "aud is not the URL called"),
    (PUBLIC.upper() + DISCOVERY, 401, "aud is not the URL called"),
])
def test_an_aud_array_must_hold_our_url_and_nothing_else(prod, caplog, aud, status, reason) -> None:
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = prod.get(DISCOVERY, headers=sb.bearer(sb.token(aud=aud)))
    assert resp.status_code == status
    assert auth_failure(caplog) == reason


@pytest.mark.parametrize("typ,status", [("JWT", 200), (None, 200), ("jwt", 401), ("at+jwt", 401), ("JOSE", 401),
                                        (1, 401)])
def test_typ_when_present_must_be_jwt(prod, typ, status) -> None:
    tok = sb.token(aud=PUBLIC + DISCOVERY, headers={"typ": typ})  # None: PyJWT leaves typ out
    assert ("typ" in jwt.get_unverified_header(tok)) == (typ is not None)
    assert prod.get(DISCOVERY, headers=sb.bearer(tok)).status_code == status


def test_each_issuer_may_have_its_own_audience() -> None:
    hospital = sb.issuer("https://hospital.example.org", kid="h-1", audience="https://cds-hospital.example.org")
    client = apps.client(sb.settings(sb.issuer(), hospital, public_base_url=PUBLIC))
    own = sb.token(iss=hospital.iss, kid="h-1", aud="https://cds-hospital.example.org" + DISCOVERY)
    assert client.get(DISCOVERY, headers=sb.bearer(own)).status_code == 200
    shared = sb.token(iss=hospital.iss, kid="h-1", aud=PUBLIC + DISCOVERY)
    assert client.get(DISCOVERY, headers=sb.bearer(shared)).status_code == 401  # its audience, not the global one
    assert client.get(DISCOVERY, headers=sb.bearer(sb.token(aud=PUBLIC + DISCOVERY))).status_code == 200


def test_without_any_configured_audience_a_token_is_refused_in_development(caplog) -> None:
    client = apps.client(sb.settings(env="development", public_base_url=None))
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = client.get(DISCOVERY, headers=sb.bearer(sb.token(DISCOVERY)))
    assert resp.status_code == 401
    assert auth_failure(caplog) == "no audience configured (CRS_CDS_PUBLIC_BASE_URL)"
    assert client.get(DISCOVERY).status_code == 200  # development: a call without a token is still served
