"""``crs-cds dev-issuer`` and ``crs-cds dev-token``: a test EHR for running the service in production mode.

``dev-issuer --out DIR`` writes a key pair, its JWKS and an issuers file for
``CRS_CDS_ISSUERS_FILE`` (``--client epic``: an RS384 key and ``client: epic``);
``dev-token --issuer-dir DIR --aud URL`` prints a JWT that EHR would send to ``URL``,
shaped as its client sends them, and ``dev-token --client epic --key FILE --aud URL``
does the same with any private key file. Both refuse, in one line, what they cannot do.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cards.profiles import CLIENTS

from ..security.dev_issuer import (
    CLIENT_ISS,
    CLIENT_KEY_TYPE,
    DEFAULT_SUB,
    KEY_TYPES,
    DevIssuerError,
    TokenRequest,
    create,
    key_issuer,
    load,
    token,
)

MAX_LIFETIME = 3600


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    issuer = commands.add_parser("dev-issuer", help="make a test EHR: key pair, JWKS and issuers file")
    issuer.add_argument("--out", required=True, metavar="DIR", help="directory to write into (created)")
    issuer.add_argument("--client", choices=CLIENTS, default="generic",
                        help="the kind of EHR (written as client: in the issuers file; default: %(default)s)")
    issuer.add_argument("--iss", help="the issuer's iss (default: the client's usual, e.g. "
                        f"{CLIENT_ISS['generic']}; Epic: the organisation's FHIR base URL)")
    issuer.add_argument("--key-type", choices=sorted(KEY_TYPES),
                        help="ec: ES384 (default); rsa: RS384, as Epic signs (default with --client epic)")
    issuer.add_argument("--jku", action="append", default=[], metavar="URL",
                        help="a JWKS URL the tokens name in their header (allowlisted in the issuers file)")
    issuer.add_argument("--kid", help="key id (default: a new random one)")
    issuer.add_argument("--fhir-server", action="append", default=[], metavar="URL",
                        help="a FHIR server base URL this EHR may send (repeatable; https in production)")
    issuer.add_argument("--audience", metavar="URL", help="the base URL this EHR calls the service at "
                        "(default: the service's CRS_CDS_PUBLIC_BASE_URL)")
    issuer.add_argument("--force", action="store_true", help="replace an existing key pair")
    issuer.set_defaults(run=dev_issuer)

    mint = commands.add_parser("dev-token", help="print a JWT from a test EHR made by dev-issuer, or signed with "
                               "a private key file")
    signer = mint.add_mutually_exclusive_group(required=True)
    signer.add_argument("--issuer-dir", metavar="DIR", help="the directory dev-issuer wrote")
    signer.add_argument("--key", metavar="FILE", help="a PEM private key (RSA: RS384; EC: ES256/384/512)")
    mint.add_argument("--aud", required=True, metavar="URL",
                      help="the URL the token is for: CRS_CDS_PUBLIC_BASE_URL + the path called, e.g. "
                      "https://cds.example.org/cds-services/crs-patient-view")
    mint.add_argument("--client", choices=CLIENTS,
                      help="the token's shape: generic (CDS Hooks 2.0), epic (nbf 5 min before iat, 15-minute "
                      "lifetime, jku with --jku) or oracle-health (default: the issuer directory's client, else "
                      "generic)")
    mint.add_argument("--iss", help="with --key: the issuer (default: the client's usual)")
    mint.add_argument("--kid", help="with --key: the key id (default: the key's RFC 7638 thumbprint)")
    mint.add_argument("--lifetime", type=_lifetime, metavar="SECONDS",
                      help="seconds from iat to exp (default: 900 for epic, else 300; the service accepts up to "
                      "the issuer's maxTokenLifetimeSeconds, 900 by default)")
    mint.add_argument("--sub", default=DEFAULT_SUB, help="the client id (default: %(default)s)")
    mint.add_argument("--jku", metavar="URL", help="a jku header (the issuer must allowlist it)")
    mint.add_argument("--claim", action="append", default=[], metavar="NAME=VALUE", type=_claim,
                      help="add or replace a claim (VALUE read as JSON when it is JSON, e.g. tenant=hospital-a)")
    mint.set_defaults(run=dev_token)


def dev_issuer(args: argparse.Namespace) -> int:
    try:
        made = create(Path(args.out), iss=args.iss or CLIENT_ISS[args.client],
                      key_type=args.key_type or CLIENT_KEY_TYPE[args.client], kid=args.kid,
                      fhir_servers=tuple(args.fhir_server), audience=args.audience, overwrite=args.force,
                      client=args.client, jku=tuple(args.jku))
    except DevIssuerError as exc:
        print(f"crs-cds: {exc}", file=sys.stderr)
        return 2
    print(f"test EHR {made.iss} ({made.client}; key {made.kid}, {made.alg}) written to {made.folder}/:\n"
          f"  private-key.pem  the EHR's signing key (keep it there)\n"
          f"  jwks.json        its public key\n"
          f"  issuers.yaml     for the service: CRS_CDS_ISSUERS_FILE={made.issuers_file}\n"
          f"then: crs-cds dev-token --issuer-dir {made.folder} --aud <public base URL>/cds-services/crs-patient-view")
    return 0


def dev_token(args: argparse.Namespace) -> int:
    try:
        if args.key:
            issuer = key_issuer(Path(args.key), client=args.client or "generic", iss=args.iss, kid=args.kid)
        else:
            issuer = load(Path(args.issuer_dir))
        client = args.client or issuer.client
        print(token(issuer, TokenRequest(args.aud, client, args.lifetime, args.sub, args.jku, dict(args.claim))))
    except DevIssuerError as exc:
        print(f"crs-cds: {exc}", file=sys.stderr)
        return 2
    return 0


def _lifetime(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIFETIME:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 1 to {MAX_LIFETIME}")
    return value


def _claim(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    try:
        return name, json.loads(raw)
    except ValueError:
        return name, raw
