"""Verify the EHR's bearer JWT (CDS Hooks 2.0 "Trusting CDS Clients").

Asymmetric algorithms only — ``none`` and HMAC are refused before any key is
looked at, so a public key can never be used as an HMAC secret. ``aud`` must
be the URL called, built from configuration only (the issuer's ``audience`` or
``CRS_CDS_PUBLIC_BASE_URL``, plus the path): a Host header is the caller's to
choose, so an audience built from it would accept a token minted for another
service on the same path. ``exp``/``iat`` are checked with a small leeway and the
issuer's maximum lifetime (``maxTokenLifetimeSeconds``, 900 s by default: Epic
signs 15-minute tokens), ``nbf`` may precede ``iat`` by up to 5 minutes (Epic
sets it so), and a ``jti`` is accepted once. Every failure is an ``AuthError``
whose reason goes to the log, never to the caller.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from .issuers import Issuer, Tenant
from .keys import KeyNotFound, KeyStore
from .replay import ReplayCache

ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
LEEWAY_SECONDS = 30
NBF_BEFORE_IAT_SECONDS = 300  # Epic: nbf "typically 5 minutes prior to the issue time"; earlier is refused
_REQUIRED = ["iss", "aud", "exp", "iat", "jti"]


class AuthError(Exception):
    """Authentication failed; ``reason`` is for the log only (no token content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """Who called: the issuer, its tenant, the FHIR servers it may send us to (None: any), and the kind
    of client it is (the issuers file's ``client``; None without a verified token)."""

    issuer: str | None
    tenant: str | None
    fhir_servers: frozenset[str] | None
    client: str | None = None


ANONYMOUS = Principal(issuer=None, tenant=None, fhir_servers=None)


class Authenticator:
    def __init__(self, issuers: Sequence[Issuer], keys: KeyStore, replay: ReplayCache, *,
                 public_base_url: str | None = None, now: Callable[[], float] = time.time,
                 leeway: int = LEEWAY_SECONDS) -> None:
        self._issuers = {i.iss: i for i in issuers}
        self._public_base_url = public_base_url
        self._keys = keys
        self._replay = replay
        self._now = now
        self._leeway = leeway

    @property
    def configured(self) -> bool:
        return bool(self._issuers)

    def authenticate(self, token: str, path: str) -> Principal:
        """The verified caller of ``path`` (the path called, e.g. ``/cds-services``), or ``AuthError``."""
        header = _header(token)
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise AuthError("algorithm not allowed")
        if "typ" in header and header["typ"] != "JWT":
            raise AuthError("typ is not JWT")
        issuer = self._issuers.get(unverified.get("iss")) if isinstance(unverified.get("iss"), str) else None
        if issuer is None:
            raise AuthError("issuer not trusted")
        base = issuer.audience or self._public_base_url
        if base is None:
            raise AuthError("no audience configured (CRS_CDS_PUBLIC_BASE_URL)")
        try:
            key = self._keys.key(issuer, header.get("kid"), header.get("jku"))
        except KeyNotFound as exc:
            raise AuthError(str(exc)) from None
        if key.alg is not None and key.alg != alg:
            raise AuthError("alg is not the key's alg")
        claims = self._verify(token, key.jwk, alg, base + path, issuer.max_token_lifetime)
        tenant = self._tenant(issuer, claims)
        if not self._replay.first_use(issuer.iss, claims["jti"], float(claims["exp"]) + self._leeway):
            raise AuthError("jti replayed")
        return Principal(issuer.iss, tenant.id if tenant else None, _servers(issuer, tenant), issuer.client)

    def _verify(self, token: str, key: jwt.PyJWK, alg: str, audience: str, max_lifetime: int) -> dict[str, Any]:
        """Signature (PyJWT, the one algorithm named), then claims by our own rules."""
        try:
            claims = jwt.decode(token, key.key, algorithms=[alg],
                                options={"require": _REQUIRED, "verify_exp": False, "verify_iat": False,
                                         "verify_nbf": False, "verify_aud": False})
        except jwt.InvalidSignatureError:
            raise AuthError("bad signature") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"missing claim {exc.claim}") from None
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise AuthError(f"invalid token ({type(exc).__name__})") from None
        _check_audience(claims["aud"], audience)
        exp, iat, now = claims["exp"], claims["iat"], self._now()
        if not all(_finite_number(v) for v in (exp, iat)):  # NaN would pass every comparison below
            raise AuthError("exp or iat not a finite number")
        if not isinstance(claims["jti"], str) or not claims["jti"]:
            raise AuthError("jti not a string")
        if exp < now - self._leeway:
            raise AuthError("expired")
        if iat > now + self._leeway:
            raise AuthError("iat in the future")
        if "nbf" in claims:
            nbf = claims["nbf"]
            if not _finite_number(nbf) or nbf > now + self._leeway:
                raise AuthError("not yet valid (nbf)")
            if nbf < iat - NBF_BEFORE_IAT_SECONDS - self._leeway:
                raise AuthError("nbf more than 5 minutes before iat")
        if exp - iat > max_lifetime:
            raise AuthError("lifetime too long")
        return claims

    @staticmethod
    def _tenant(issuer: Issuer, claims: dict[str, Any]) -> Tenant | None:
        if not issuer.tenants:
            return None
        tenant = issuer.tenant(claims.get("tenant"))
        if tenant is None:
            raise AuthError("tenant not configured for the issuer")
        return tenant


def _header(token: str) -> dict[str, Any]:
    """The JOSE header, read here rather than by PyJWT so that ``crit`` is refused whatever PyJWT
    version is installed (before 2.12 PyJWT ignored it, CVE-2026-32597). We implement no JWS
    extension, so a token that names one as critical cannot be processed as its issuer meant."""
    encoded = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, binascii.Error):
        raise AuthError("malformed token") from None
    if not isinstance(header, dict) or token.count(".") != 2:
        raise AuthError("malformed token")
    if "crit" in header:
        raise AuthError("crit header: extensions we do not implement")
    return header


def _check_audience(aud: Any, expected: str) -> None:
    """``aud`` is the URL called — a string, or an array holding that URL and nothing else: a token
    that also names other audiences could be replayed against them, so it is refused."""
    accepted = (expected, expected + "/")
    if isinstance(aud, list):
        if len(aud) != 1:
            raise AuthError("aud lists other audiences")
        aud = aud[0]
    if aud not in accepted:
        raise AuthError("aud is not the URL called")


def _finite_number(value: Any) -> bool:
    """A JSON number usable in time arithmetic: not a boolean, not NaN or an infinity."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _servers(issuer: Issuer, tenant: Tenant | None) -> frozenset[str] | None:
    if issuer.fhir_servers is None:
        return None
    return frozenset(issuer.fhir_servers) | frozenset(tenant.fhir_servers if tenant else ())
