"""Keys from a ``jku`` expire, each key keeps to its own ``alg``, and ``crit`` is refused.

The attack: keys fetched from a ``jku`` were cached with no expiry, so a key the EHR removed
from its JWKS stayed trusted until restart. The JWKS is served through ``responses`` (the real
HTTP fetch, Cache-Control parsing included); the key store's clock is a fake one.
"""
from __future__ import annotations

import base64
import json
import logging

import jwt
import pytest
import responses

from cds_service.security import Issuer, KeyStore, http_fetch_jwks
from cds_service.security.keys import cache_max_age
from tests.support import apps
from tests.support import security_builders as sb

JKU = "https://ehr.example.org/.well-known/jwks.json"
DISCOVERY = "/cds-services"
OLD, NEW = "ehr-2026-10", "ehr-2026-11"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def jku_client(clock: Clock, *, max_age: float = 3600):
    store = KeyStore(http_fetch_jwks, now=clock, max_age_seconds=max_age)
    return apps.client(sb.settings(sb.issuer(key=False, jku=(JKU,))), key_store=store)


def publish(*kids: str, cache_control: str | None = None) -> None:
    responses.upsert(responses.GET, JKU, json=sb.jwks(*(sb.public_jwk(sb.ec_key(k), k) for k in kids)),
                     headers={"Cache-Control": cache_control} if cache_control else {})


def status(client, kid: str) -> int:
    return client.get(DISCOVERY, headers=sb.bearer(sb.token(key=sb.ec_key(kid), kid=kid))).status_code


def trusting_old(clock: Clock, cache_control: str | None = None):
    """A service that fetched the JWKS (publishing OLD) at 1000 s and accepted OLD's token."""
    publish(OLD, cache_control=cache_control)
    client = jku_client(clock)
    assert status(client, OLD) == 200
    return client


@responses.activate
def test_a_key_removed_from_the_jwks_stops_working_after_the_cache_expires(clock) -> None:
    client = trusting_old(clock)
    publish(NEW)  # the EHR withdraws the old key
    clock.now = 1000 + 3600 - 1
    assert status(client, OLD) == 200  # trusted at most the hour it may be cached...
    clock.now = 1000 + 3600
    assert status(client, OLD) == 401  # ...then the JWKS is fetched again and the key is gone
    assert len(responses.calls) == 2


@responses.activate
def test_any_refetch_drops_a_key_no_longer_published(clock) -> None:
    client = trusting_old(clock)
    publish(NEW)
    clock.now += 61
    assert status(client, NEW) == 200  # an unknown kid: fetched again (key rotation)...
    assert status(client, OLD) == 401  # ...and the fetched set is the whole truth


@responses.activate
def test_without_a_rotation_the_jwks_is_fetched_again_after_the_hour(clock) -> None:
    publish(OLD)
    client = jku_client(clock)
    for minute in range(0, 60, 10):
        clock.now = 1000 + minute * 60
        assert status(client, OLD) == 200
    assert len(responses.calls) == 1
    clock.now = 1000 + 3600
    assert status(client, OLD) == 200
    assert len(responses.calls) == 2


@responses.activate
@pytest.mark.parametrize("cache_control,expires_after", [("max-age=300", 300), ("public, max-age=120", 120),
                                                          ("max-age=86400", 3600), ("no-store", 60),
                                                          ("max-age=5", 60), (None, 3600)])
def test_cache_control_max_age_is_honoured_when_shorter(clock, cache_control, expires_after) -> None:
    client = trusting_old(clock, cache_control)
    publish(NEW)
    clock.now = 1000 + expires_after - 1
    assert status(client, OLD) == 200
    clock.now = 1000 + expires_after
    assert status(client, OLD) == 401


@responses.activate
def test_when_the_jku_fails_after_expiry_the_expired_keys_are_not_used(clock) -> None:
    client = trusting_old(clock)
    responses.replace(responses.GET, JKU, status=503)
    clock.now += 3600
    assert status(client, OLD) == 401  # fails closed
    publish(OLD)
    clock.now += 30
    assert status(client, OLD) == 401  # the next fetch waits for the one-a-minute limit...
    clock.now += 31
    assert status(client, OLD) == 200  # ...then the key is trusted again


@responses.activate
def test_unknown_kids_trigger_at_most_one_fetch_a_minute_even_after_expiry(clock) -> None:
    publish(OLD)
    client = jku_client(clock)
    for i in range(5):
        assert status(client, f"made-up-{i}") == 401
    assert len(responses.calls) == 1
    clock.now += 3600
    for i in range(5):
        assert status(client, f"made-up-again-{i}") == 401
    assert len(responses.calls) == 2


# --- each key's own alg -------------------------------------------------------------------------------

def pinned(alg: str | None, key, kid: str = sb.KID):
    entry = sb.public_jwk(key, kid)
    if alg:
        entry["alg"] = alg
    return apps.client(sb.settings(Issuer(iss=sb.ISS, jwks=json.dumps(sb.jwks(entry)), fhir_servers=(sb.FHIR,))))


@pytest.mark.parametrize("stated,signed,status_", [("RS384", "RS384", 200), ("RS384", "RS256", 401),
                                                   ("RS384", "PS384", 401), (None, "PS384", 200),
                                                   ("PS256", "PS256", 200)])
def test_a_key_whose_jwks_entry_states_an_alg_is_used_for_that_alg_only(caplog, stated, signed, status_) -> None:
    client = pinned(stated, sb.rsa_key())
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = client.get(DISCOVERY, headers=sb.bearer(sb.token(key=sb.rsa_key(), alg=signed)))
    assert resp.status_code == status_
    if status_ == 401:
        assert "alg is not the key's alg" in caplog.text


# --- crit -----------------------------------------------------------------------------------------------

def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def with_crit(header_extra: dict) -> str:
    """A token signed by the trusted key whose header carries ``crit`` (built by hand: PyJWT's encoder
    is not asked to produce what the verifier must refuse)."""
    good = sb.token(DISCOVERY)
    header = {"alg": "ES384", "typ": "JWT", "kid": sb.KID, **header_extra}
    payload = good.split(".")[1]
    signing_input = f"{b64(json.dumps(header).encode())}.{payload}".encode()
    algorithm = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA384)
    der = algorithm.sign(signing_input, sb.ec_key())
    return f"{signing_input.decode()}.{b64(der)}"


@pytest.mark.parametrize("extra", [{"crit": ["exp"]}, {"crit": ["b64"], "b64": False}, {"crit": ["x-ehr"], "x-ehr": 1},
                                   {"crit": []}])
def test_a_token_naming_critical_extensions_is_refused(caplog, extra) -> None:
    client = apps.client(sb.settings())
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = client.get(DISCOVERY, headers=sb.bearer(with_crit(extra)))
    assert resp.status_code == 401
    assert "crit header" in caplog.text
    assert client.get(DISCOVERY, headers=sb.bearer(with_crit({}))).status_code == 200  # the same token without it


@pytest.mark.parametrize("header,seconds", [("max-age=300", 300), ("public, max-age=120, must-revalidate", 120),
                                            ('max-age="60"', 60), ("MAX-AGE=10", 10), ("no-cache", 0),
                                            ("private, no-store", 0), ("s-maxage=100", None), ("public", None),
                                            ("", None), (None, None)])
def test_cache_control_max_age_is_read(header, seconds) -> None:
    assert cache_max_age(header) == seconds
