"""A test EHR of one's own: a key pair, its JWKS and an issuers file, and tokens shaped as EHRs send them.

For trying the service in production mode before any EHR is connected (the README's
quick-start), and for the integration tests of whoever connects one. The private
key never leaves the directory it is written to; the service is given the issuers
file, which names only the public JWKS. Token claims follow the client's shape:

- ``generic`` — the CDS Hooks 2.0 claims: ``iss``, ``aud`` (the URL called), ``exp``,
  ``iat``, ``jti``, ``sub``; header ``alg``, ``kid``, ``typ: JWT``;
- ``epic`` — what Epic's CDS Hooks client sends on top: ``nbf`` five minutes before
  ``iat``, and ``jku`` in the header when one is given. (Epic's documented 15-minute
  lifetime is longer than this service accepts; ``--lifetime`` chooses.)

Any claim can be added or replaced (``extra_claims``), so other EHR profiles need no
change here.
"""
from __future__ import annotations

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
CLIENTS = ("generic", "epic")
KEY_TYPES = {"ec": "ES384", "rsa": "RS384"}  # CDS Hooks recommends ES384/RS384; Epic signs RS384 by default
EPIC_NBF_BEFORE_IAT = 300


class DevIssuerError(Exception):
    """The directory or its files cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class DevIssuer:
    """The files of a test EHR, and what a token needs from them."""

    folder: Path
    iss: str
    kid: str
    alg: str

    @property
    def issuers_file(self) -> Path:
        return self.folder / ISSUERS_FILE


def create(folder: Path, *, iss: str = DEFAULT_ISS, key_type: str = "ec", kid: str | None = None,
           fhir_servers: tuple[str, ...] = (), audience: str | None = None, overwrite: bool = False) -> DevIssuer:
    """Write ``private-key.pem`` (mode 600), ``jwks.json`` and ``issuers.yaml`` into ``folder``."""
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
        if audience:
            entry["audience"] = audience
        (folder / ISSUERS_FILE).write_text(
            "# A test EHR made by `crs-cds dev-issuer` (its private key is private-key.pem, beside this file).\n"
            "# Point CRS_CDS_ISSUERS_FILE here; never trust it in a real deployment.\n"
            + yaml.safe_dump({"issuers": [entry]}, sort_keys=False))
    except OSError as exc:
        raise DevIssuerError(f"{folder}: cannot write ({exc.strerror or type(exc).__name__})") from None
    return DevIssuer(folder, iss, kid, alg)


def load(folder: Path) -> DevIssuer:
    """The test EHR ``create`` wrote into ``folder``."""
    try:
        jwks = json.loads((folder / JWKS_FILE).read_text())
        issuers = yaml.safe_load((folder / ISSUERS_FILE).read_text())
        [key] = jwks["keys"]
        [issuer] = issuers["issuers"]
        return DevIssuer(folder, issuer["iss"], key["kid"], key["alg"])
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise DevIssuerError(f"{folder}: not a directory written by `crs-cds dev-issuer` ({type(exc).__name__}); "
                             "run `crs-cds dev-issuer --out DIR` first") from None


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """What a token says beyond the issuer's own: the URL called, the client's shape, its lifetime."""

    aud: str
    client: str = "generic"
    lifetime_seconds: int = 300
    sub: str = DEFAULT_SUB
    jku: str | None = None
    extra_claims: Mapping[str, Any] = field(default_factory=dict)


def token(issuer: DevIssuer, request: TokenRequest, *, now: float | None = None) -> str:
    """A JWT signed with the test EHR's private key, shaped as ``request.client`` sends them."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"iss": issuer.iss, "aud": request.aud, "sub": request.sub, "iat": issued,
                              "exp": issued + request.lifetime_seconds, "jti": uuid.uuid4().hex}
    headers: dict[str, Any] = {"kid": issuer.kid, "typ": "JWT"}
    if request.client == "epic":
        claims["nbf"] = issued - EPIC_NBF_BEFORE_IAT
    if request.jku:
        headers["jku"] = request.jku
    claims.update(request.extra_claims)
    try:
        key = serialization.load_pem_private_key((issuer.folder / PRIVATE_KEY).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise DevIssuerError(f"{issuer.folder / PRIVATE_KEY}: cannot read the private key "
                             f"({getattr(exc, 'strerror', None) or type(exc).__name__})") from None
    return jwt.encode(claims, key, algorithm=issuer.alg, headers=headers)  # type: ignore[arg-type]
