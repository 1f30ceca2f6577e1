"""A test EHR of one's own: a key pair, its JWKS and an issuers file, and tokens shaped as EHRs send them.

For trying the service in production mode before any EHR is connected (the README's
quick-start), and for the integration tests of whoever connects one. The private
key never leaves the directory it is written to; the service is given the issuers
file, which names only the public JWKS. Token claims follow the client's shape:

- ``generic`` — the CDS Hooks 2.0 claims: ``iss``, ``aud`` (the URL called), ``exp``,
  ``iat``, ``jti``, ``sub``; header ``alg``, ``kid``, ``typ: JWT``;
- ``epic`` — what Epic's CDS Hooks client sends on top: ``nbf`` five minutes before
  ``iat``, a 15-minute lifetime, ``jku`` in the header when one is given, ``iss`` the
  organisation's FHIR base URL, ``sub`` the CDS client id, signed RS384;
- ``oracle-health`` — ``iss`` ``https://cds-hooks.cerner.com`` with the generic claims.

A token can also be signed with any private key file (``key_issuer``: an EHR's test key
an engineer was given, or one made with openssl), its ``kid`` the key's RFC 7638
thumbprint unless named. Any claim can be added or replaced (``extra_claims``).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

PRIVATE_KEY = "private-key.pem"
JWKS_FILE = "jwks.json"
ISSUERS_FILE = "issuers.yaml"
DEFAULT_ISS = "https://test-ehr.example.org"
DEFAULT_SUB = "crs-cds-test-client"
KEY_TYPES = {"ec": "ES384", "rsa": "RS384"}  # CDS Hooks recommends ES384/RS384; Epic signs RS384 by default
EPIC_NBF_BEFORE_IAT = 300
# What each client's tokens say by default: its iss (Epic: the organisation's FHIR base URL), lifetime, key type.
CLIENT_ISS = {"generic": DEFAULT_ISS, "epic": "https://ehr.hospital.example.org/api/FHIR/R4",
              "oracle-health": "https://cds-hooks.cerner.com"}
CLIENT_LIFETIME = {"generic": 300, "epic": 900, "oracle-health": 300}
CLIENT_KEY_TYPE = {"generic": "ec", "epic": "rsa", "oracle-health": "rsa"}
_CURVE_ALGS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


class DevIssuerError(Exception):
    """The directory or its files cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class DevIssuer:
    """The files of a test EHR, and what a token needs from them."""

    folder: Path
    iss: str
    kid: str
    alg: str
    client: str = "generic"
    key_file: Path | None = None  # the private key (default: private-key.pem in ``folder``)

    @property
    def issuers_file(self) -> Path:
        return self.folder / ISSUERS_FILE

    @property
    def private_key(self) -> Path:
        return self.key_file or self.folder / PRIVATE_KEY


def create(folder: Path, *, iss: str = DEFAULT_ISS, key_type: str = "ec", kid: str | None = None,
           fhir_servers: tuple[str, ...] = (), audience: str | None = None, overwrite: bool = False,
           client: str = "generic", jku: tuple[str, ...] = ()) -> DevIssuer:
    """Write ``private-key.pem`` (mode 600), ``jwks.json`` and ``issuers.yaml`` (naming ``client`` and any
    ``jku`` the tokens will carry) into ``folder``."""
    if (folder / PRIVATE_KEY).exists() and not overwrite:
        raise DevIssuerError(f"{folder / PRIVATE_KEY} exists: keep it, or pass --force to replace the key pair")
    alg = KEY_TYPES[key_type]
    kid = kid or f"test-ehr-{uuid.uuid4().hex[:8]}"
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if key_type == "ec":
        key = ec.generate_private_key(ec.SECP384R1())
        public = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        public = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        descriptor = os.open(folder / PRIVATE_KEY, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        (folder / JWKS_FILE).write_text(json.dumps({"keys": [{**public, "kid": kid, "alg": alg, "use": "sig"}]},
                                                   indent=2) + "\n")
        entry: dict[str, Any] = {"iss": iss, "jwksFile": JWKS_FILE, "fhirServers": list(fhir_servers)}
        if jku:
            entry["jku"] = list(jku)
        if audience:
            entry["audience"] = audience
        if client != "generic":
            entry["client"] = client
        (folder / ISSUERS_FILE).write_text(
            "# A test EHR made by `crs-cds dev-issuer` (its private key is private-key.pem, beside this file).\n"
            "# Point CRS_CDS_ISSUERS_FILE here; never trust it in a real deployment.\n"
            + yaml.safe_dump({"issuers": [entry]}, sort_keys=False))
    except OSError as exc:
        raise DevIssuerError(f"{folder}: cannot write ({exc.strerror or type(exc).__name__})") from None
    return DevIssuer(folder, iss, kid, alg, client)


def load(folder: Path) -> DevIssuer:
    """The test EHR ``create`` wrote into ``folder``."""
    try:
        jwks = json.loads((folder / JWKS_FILE).read_text())
        issuers = yaml.safe_load((folder / ISSUERS_FILE).read_text())
        [key] = jwks["keys"]
        [issuer] = issuers["issuers"]
        return DevIssuer(folder, issuer["iss"], key["kid"], key["alg"], issuer.get("client", "generic"))
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise DevIssuerError(f"{folder}: not a directory written by `crs-cds dev-issuer` ({type(exc).__name__}); "
                             "run `crs-cds dev-issuer --out DIR` first") from None


def key_issuer(key_file: Path, *, client: str = "generic", iss: str | None = None, kid: str | None = None) -> DevIssuer:
    """An EHR that signs with the private key in ``key_file`` (PEM): RS384 for RSA, ES256/384/512 by curve;
    ``kid`` by default the key's RFC 7638 thumbprint, ``iss`` the client's usual one."""
    key = _private_key(key_file)
    if isinstance(key, rsa.RSAPrivateKey):
        alg, public = "RS384", RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _CURVE_ALGS:
        alg, public = _CURVE_ALGS[key.curve.name], ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        raise DevIssuerError(f"{key_file}: not an RSA or P-256/384/521 EC private key")
    return DevIssuer(key_file.parent, iss or CLIENT_ISS[client], kid or thumbprint(public), alg, client, key_file)


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url): a kid both sides can compute from the public key."""
    members = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def _private_key(path: Path) -> Any:
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise DevIssuerError(f"{path}: cannot read the private key "
                             f"({getattr(exc, 'strerror', None) or type(exc).__name__})") from None


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """What a token says beyond the issuer's own: the URL called, the client's shape, its lifetime."""

    aud: str
    client: str = "generic"
    lifetime_seconds: int | None = None  # None: the client's usual (Epic 900 s, else 300 s)
    sub: str = DEFAULT_SUB
    jku: str | None = None
    extra_claims: Mapping[str, Any] = field(default_factory=dict)


def token(issuer: DevIssuer, request: TokenRequest, *, now: float | None = None) -> str:
    """A JWT signed with the test EHR's private key, shaped as ``request.client`` sends them."""
    issued = int(time.time() if now is None else now)
    lifetime = request.lifetime_seconds or CLIENT_LIFETIME.get(request.client, 300)
    claims: dict[str, Any] = {"iss": issuer.iss, "aud": request.aud, "sub": request.sub, "iat": issued,
                              "exp": issued + lifetime, "jti": uuid.uuid4().hex}
    headers: dict[str, Any] = {"kid": issuer.kid, "typ": "JWT"}
    if request.client == "epic":
        claims["nbf"] = issued - EPIC_NBF_BEFORE_IAT
    if request.jku:
        headers["jku"] = request.jku
    claims.update(request.extra_claims)
    key = _private_key(issuer.private_key)
    return jwt.encode(claims, key, algorithm=issuer.alg, headers=headers)
