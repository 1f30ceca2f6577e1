"""Public keys of trusted issuers, by ``kid``, with allowlisted ``jku`` URLs fetched and cached.

Keys fetched from a ``jku`` are trusted for a bounded time: ``max_age_seconds``
(``CRS_CDS_JWKS_MAX_AGE_SECONDS``, default one hour), or the JWKS response's
``Cache-Control: max-age`` when shorter. After that the URL is fetched again
before any of its keys is used, so a key the EHR stopped publishing (rotated
out, or withdrawn after a compromise) stops being trusted within that time,
not at the next restart. If the fetch then fails, the expired keys are not
used: trust fails closed until the URL answers.

An unknown ``kid`` triggers a refetch (key rotation), but every fetch of a URL
is at most once per ``min_refresh_seconds``, so that a stream of tokens with
made-up ``kid`` values cannot make us hammer the issuer. A key whose JWKS
entry states an ``alg`` is used for that algorithm only. Fetching goes through
an injectable function (tests use ``responses``).
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
import requests

from .issuers import Issuer

MIN_REFRESH_SECONDS = 60.0
DEFAULT_MAX_AGE_SECONDS = 3600.0
FETCH_TIMEOUT_SECONDS = 3.0
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\s*(?:,|$)", re.IGNORECASE)


class KeyNotFound(Exception):
    """No trusted key for this token; the message is a reason for the log."""


@dataclass(frozen=True, slots=True)
class JwksDocument:
    """A fetched JWKS and how long its server says it may be cached (None: not said)."""

    jwks: Mapping[str, Any]
    max_age: float | None = None


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A usable public key and the ``alg`` its JWKS entry pins it to (None: any of its key type)."""

    jwk: jwt.PyJWK
    alg: str | None


JwksFetch = Callable[[str], JwksDocument]


def cache_max_age(cache_control: str | None) -> float | None:
    """Seconds from a ``Cache-Control`` header: ``max-age``; 0 for ``no-cache``/``no-store``; else None."""
    if not cache_control:
        return None
    if _NO_CACHE.search(cache_control):
        return 0.0
    found = _MAX_AGE.search(cache_control)
    return float(found.group(1)) if found else None


def http_fetch_jwks(url: str) -> JwksDocument:
    """GET a JWKS (no redirects: the allowlisted URL is the one we trust)."""
    response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS, allow_redirects=False,
                            headers={"Accept": "application/json"})
    response.raise_for_status()
    return JwksDocument(response.json(), cache_max_age(response.headers.get("Cache-Control")))


def _public_keys(jwks: Mapping[str, Any]) -> dict[str, TrustedKey]:
    """Usable asymmetric public keys by kid; private, symmetric and malformed entries are skipped."""
    found: dict[str, TrustedKey] = {}
    for entry in jwks.get("keys", []) if isinstance(jwks, Mapping) else []:
        if not isinstance(entry, Mapping) or entry.get("kty") not in ("EC", "RSA", "OKP") \
                or "d" in entry or not isinstance(entry.get("kid"), str):
            continue
        alg = entry.get("alg")
        try:
            found[entry["kid"]] = TrustedKey(jwt.PyJWK(dict(entry)), alg if isinstance(alg, str) else None)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
    return found


@dataclass(frozen=True, slots=True)
class _Fetched:
    keys: dict[str, TrustedKey]
    expires_at: float  # monotonic


class KeyStore:
    """Keys of all trusted issuers: configured ones fixed, ``jku`` ones cached until they expire."""

    def __init__(self, fetch: JwksFetch = http_fetch_jwks, *, now: Callable[[], float] = time.monotonic,
                 min_refresh_seconds: float = MIN_REFRESH_SECONDS,
                 max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS) -> None:
        self._fetch = fetch
        self._now = now
        self._min_refresh = min_refresh_seconds
        self._max_age = max(max_age_seconds, min_refresh_seconds)
        self._static: dict[str, dict[str, TrustedKey]] = {}
        self._remote: dict[str, _Fetched] = {}
        self._attempted_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def key(self, issuer: Issuer, kid: Any, jku: Any = None) -> TrustedKey:
        if not isinstance(kid, str) or not kid:
            raise KeyNotFound("token header has no kid")
        if jku is not None and jku not in issuer.jku:
            raise KeyNotFound("jku is not allowlisted for the issuer")
        static = self._static.get(issuer.iss)
        if static is None:
            static = self._static.setdefault(issuer.iss, _public_keys({"keys": issuer.keys()}))
        if kid in static:
            return static[kid]
        for url in (jku,) if jku is not None else issuer.jku:
            key = self._current(url).get(kid) or self._refresh(url).get(kid)
            if key is not None:
                return key
        raise KeyNotFound("unknown kid")

    def _current(self, url: str) -> dict[str, TrustedKey]:
        """The URL's keys while they are fresh; nothing once they have expired."""
        fetched = self._remote.get(url)
        if fetched is None or self._now() >= fetched.expires_at:
            return {}
        return fetched.keys

    def _refresh(self, url: str) -> dict[str, TrustedKey]:
        now = self._now()
        with self._lock:
            last = self._attempted_at.get(url)
            if last is not None and now - last < self._min_refresh:
                return self._current(url)
            self._attempted_at[url] = now
        try:
            document = self._fetch(url)
            keys = _public_keys(document.jwks)
        except Exception:  # network, HTTP status, JSON: the URL yields no new keys this time
            return self._current(url)
        lifetime = self._max_age if document.max_age is None else \
            min(self._max_age, max(self._min_refresh, document.max_age))
        self._remote[url] = _Fetched(keys, now + lifetime)
        return keys
