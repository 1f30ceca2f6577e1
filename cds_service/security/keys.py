"""Public keys of trusted issuers, by ``kid``, with allowlisted ``jku`` URLs fetched and cached.

An unknown ``kid`` triggers a refetch of the issuer's JWKS URLs (key
rotation), but at most once per ``min_refresh_seconds`` per URL, so that a
stream of tokens with made-up ``kid`` values cannot make us hammer the issuer.
Fetching goes through an injectable function (tests use ``responses``).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
import requests

from .issuers import Issuer

JwksFetch = Callable[[str], Mapping[str, Any]]
MIN_REFRESH_SECONDS = 60.0
FETCH_TIMEOUT_SECONDS = 3.0


class KeyNotFound(Exception):
    """No trusted key for this token; the message is a reason for the log."""


def http_fetch_jwks(url: str) -> Mapping[str, Any]:
    """GET a JWKS (no redirects: the allowlisted URL is the one we trust)."""
    response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS, allow_redirects=False,
                            headers={"Accept": "application/json"})
    response.raise_for_status()
    return response.json()


def _public_keys(jwks: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """Usable asymmetric public keys by kid; private, symmetric and malformed entries are skipped."""
    found: dict[str, jwt.PyJWK] = {}
    for entry in jwks.get("keys", []) if isinstance(jwks, Mapping) else []:
        if not isinstance(entry, Mapping) or entry.get("kty") not in ("EC", "RSA", "OKP") \
                or "d" in entry or not isinstance(entry.get("kid"), str):
            continue
        try:
            found[entry["kid"]] = jwt.PyJWK(dict(entry))
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
    return found


class KeyStore:
    """Keys of all trusted issuers: configured ones fixed, ``jku`` ones cached and refreshed."""

    def __init__(self, fetch: JwksFetch = http_fetch_jwks, *, now: Callable[[], float] = time.monotonic,
                 min_refresh_seconds: float = MIN_REFRESH_SECONDS) -> None:
        self._fetch = fetch
        self._now = now
        self._min_refresh = min_refresh_seconds
        self._static: dict[str, dict[str, jwt.PyJWK]] = {}
        self._remote: dict[str, dict[str, jwt.PyJWK]] = {}
        self._fetched_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def key(self, issuer: Issuer, kid: Any, jku: Any = None) -> jwt.PyJWK:
        if not isinstance(kid, str) or not kid:
            raise KeyNotFound("token header has no kid")
        if jku is not None and jku not in issuer.jku:
            raise KeyNotFound("jku is not allowlisted for the issuer")
        static = self._static.get(issuer.iss)
        if static is None:
            static = self._static.setdefault(issuer.iss, _public_keys({"keys": issuer.keys()}))
        if kid in static:
            return static[kid]
        urls = (jku,) if jku is not None else issuer.jku
        for url in urls:
            key = self._remote.get(url, {}).get(kid) or self._refresh(url).get(kid)
            if key is not None:
                return key
        raise KeyNotFound("unknown kid")

    def _refresh(self, url: str) -> dict[str, jwt.PyJWK]:
        with self._lock:
            last = self._fetched_at.get(url)
            if last is not None and self._now() - last < self._min_refresh:
                return self._remote.get(url, {})
            self._fetched_at[url] = self._now()
        try:
            keys = _public_keys(self._fetch(url))
        except Exception:  # network, HTTP status, JSON: the URL simply yields no keys this time
            return self._remote.get(url, {})
        self._remote[url] = keys
        return keys
