"""Trusted JWT issuers: who may call us, with which keys, and where they may send us.

Loaded once at start-up from ``CRS_CDS_ISSUERS_FILE`` (YAML or JSON, checked
against ``schemas/issuers.schema.json``, problems reported as file:line) so that a
bad trust configuration stops the service instead of silently letting nobody — or
everybody — in. Each issuer also carries its ``fhirServer`` allowlist: the service
sends the EHR's bearer token to ``fhirServer``, so an unlisted one is a token leak.
Each issuer says what kind of client it is (``client``: the profile that shapes its
answers) and the longest token lifetime it may use: Epic signs 15-minute tokens,
so 900 s is the default; a site may lower it per issuer.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..ehr.guard import normalise_base
from ..schemas import schema_problems
from ..sitefiles import SiteFile, SiteFileError, read_site_file

SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
DEFAULT_CLIENT = "generic"
DEFAULT_MAX_TOKEN_LIFETIME = 900  # Epic: exp - iat = 15 minutes; CDS Hooks asks for 5, other EHRs stay below


class IssuerConfigError(ValueError):
    """The issuers file is unreadable or invalid; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    fhir_servers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Issuer:
    """One trusted issuer. ``fhir_servers`` is None only for the development sandbox (any server)."""

    iss: str
    jwks: str | None = None  # JWKS as JSON text (kept hashable)
    jku: tuple[str, ...] = ()  # allowlisted JWKS URLs
    fhir_servers: tuple[str, ...] | None = ()
    tenants: tuple[Tenant, ...] = ()
    audience: str | None = None  # the base URL this issuer calls us at; None: CRS_CDS_PUBLIC_BASE_URL
    client: str = DEFAULT_CLIENT  # the client profile: generic | epic | oracle-health
    max_token_lifetime: int = DEFAULT_MAX_TOKEN_LIFETIME  # seconds from iat to exp, at most

    def keys(self) -> list[dict[str, Any]]:
        return list(json.loads(self.jwks)["keys"]) if self.jwks else []

    def tenant(self, tenant_id: Any) -> Tenant | None:
        return next((t for t in self.tenants if t.id == tenant_id), None)


def load_issuers(path: str, *, production: bool) -> tuple[Issuer, ...]:
    """Read and validate an issuers file; ``IssuerConfigError`` names what is wrong (file:line, path)."""
    try:
        site = read_site_file(path, "issuers file")
        site.checked("issuers")
    except SiteFileError as exc:
        raise IssuerConfigError("; ".join(exc.problems)) from None
    issuers = tuple(_issuer(item, Path(path).parent, site, i) for i, item in enumerate(site.data["issuers"]))
    seen: set[str] = set()
    for i, issuer in enumerate(issuers):
        if issuer.iss in seen:
            raise IssuerConfigError(f"{site.where(('issuers', i))}: issuer {issuer.iss!r} is listed twice")
        seen.add(issuer.iss)
        if production:
            _require_https(site.where(("issuers", i)), issuer)
    return issuers


def _issuer(item: dict[str, Any], base: Path, site: SiteFile, index: int) -> Issuer:
    path = site.where(("issuers", index))
    jwks = item.get("jwks")
    if "jwksFile" in item:
        jwks_path = base / item["jwksFile"]
        try:
            jwks = json.loads(jwks_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IssuerConfigError(f"{path}: issuer {item['iss']!r}: cannot read jwksFile {jwks_path} "
                                    f"({type(exc).__name__})") from None
        problems = schema_problems("issuers", {"issuers": [{"iss": "x", "fhirServers": [], "jwks": jwks}]})
        if problems:
            raise IssuerConfigError(f"{jwks_path}: not a public JWKS: "
                                    + "; ".join(f"{p.path}: {p.problem}" for p in problems))
    servers = tuple(_bases(item.get("fhirServers", ()), path))
    tenants = tuple(Tenant(t["id"], tuple(_bases(t.get("fhirServers", ()), path))) for t in item.get("tenants", ()))
    audience = item.get("audience")
    if audience is not None and normalise_base(audience) is None:
        raise IssuerConfigError(f"{path}: issuer {item['iss']!r}: audience {audience!r} is not a plain http(s) "
                                "base URL")
    return Issuer(iss=item["iss"], jwks=json.dumps(jwks, sort_keys=True) if jwks else None,
                  jku=tuple(item.get("jku", ())), fhir_servers=servers, tenants=tenants,
                  audience=audience.rstrip("/") if audience else None, client=item.get("client", DEFAULT_CLIENT),
                  max_token_lifetime=item.get("maxTokenLifetimeSeconds", DEFAULT_MAX_TOKEN_LIFETIME))


def _bases(urls: Iterable[str], path: str) -> Iterable[str]:
    for url in urls:
        base = normalise_base(url)
        if base is None:
            raise IssuerConfigError(f"{path}: fhirServer {url!r} is not a plain http(s) base URL")
        yield base


def _require_https(path: str, issuer: Issuer) -> None:
    servers = [*(issuer.fhir_servers or ()), *(s for t in issuer.tenants for s in t.fhir_servers)]
    for url in [*servers, *issuer.jku]:
        if not url.startswith("https://"):
            raise IssuerConfigError(f"{path}: issuer {issuer.iss!r}: {url} must use https in production")


def sandbox_issuer() -> Issuer:
    """The public CDS Hooks sandbox (https://sandbox.cds-hooks.org), whose ES384 public key is
    published with its source (``.well-known/jwks.json`` of github.com/cds-hooks/sandbox).
    Anyone can obtain a token it signed, so it is trusted in development only."""
    text = resources.files(__package__).joinpath("trust/cds-hooks-sandbox.jwks.json").read_text(encoding="utf-8")
    return Issuer(iss=SANDBOX_ISS, jwks=json.dumps(json.loads(text), sort_keys=True), jku=(SANDBOX_JKU,),
                  fhir_servers=None)
