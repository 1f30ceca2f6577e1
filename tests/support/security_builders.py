"""Keys, trusted issuers and signed tokens for the security tests (generated, never checked in)."""
from __future__ import annotations

import json
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cds_service.security import Issuer, Tenant
from cds_service.settings import SecuritySettings, Settings

ISS = "https://ehr.example.org"
KID = "ehr-key-1"
FHIR = "https://fhir.example.org/r4"
BASE = "http://localhost"  # Flask's test client host


@cache
def ec_key(name: str = "ehr") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@cache
def rsa_key(name: str = "ehr") -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: Any, kid: str = KID) -> dict[str, Any]:
    public = key.public_key()
    algorithm = ECAlgorithm if isinstance(public, ec.EllipticCurvePublicKey) else RSAAlgorithm
    jwk = algorithm.to_jwk(public, as_dict=True)
    return {**jwk, "kid": kid, "use": "sig"}


def jwks(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"keys": list(entries)}


def issuer(iss: str = ISS, key: Any = None, kid: str = KID, fhir_servers: tuple[str, ...] = (FHIR,),
           tenants: tuple[Tenant, ...] = (), jku: tuple[str, ...] = (), audience: str | None = None) -> Issuer:
    keyset = jwks(public_jwk(key or ec_key(), kid)) if key is not False else None
    return Issuer(iss=iss, jwks=json.dumps(keyset) if keyset else None, jku=jku,
                  fhir_servers=fhir_servers, tenants=tenants, audience=audience)


def settings(*issuers: Issuer, env: str = "production", workers: int = 1, **security: Any) -> Settings:
    """Settings trusting ``issuers`` (default: one EC issuer); JWT ``aud`` is ``BASE`` + path unless
    ``public_base_url`` says otherwise (the audience comes from configuration only). One worker: a test
    app is one process, so production accepts the in-memory replay cache unless a store is given."""
    security.setdefault("public_base_url", BASE)
    return Settings(env=env, workers=workers, security=SecuritySettings(issuers=issuers or (issuer(),), **security))


def token(path: str = "/cds-services", *, key: Any = None, kid: str | None = KID, alg: str = "ES384",
          headers: dict[str, Any] | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISS, "aud": BASE + path, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex,
               "sub": "client-1"}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    head = dict(headers or {})
    if kid is not None:
        head["kid"] = kid
    return jwt.encode(payload, key if key is not None else ec_key(), algorithm=alg, headers=head)


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def issuers_file(path: Path, *, iss: str = ISS, key: Any = None, kid: str = KID, **extra: Any) -> Path:
    """An issuers file trusting ``key``'s public half (default: the EC key ``token`` signs with), for a
    service started as a process."""
    entry = {"iss": iss, "jwks": jwks(public_jwk(key or ec_key(), kid)), "fhirServers": [FHIR], **extra}
    path.write_text(json.dumps({"issuers": [entry]}))
    return path
