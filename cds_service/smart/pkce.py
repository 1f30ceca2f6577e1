"""PKCE (RFC 7636) with S256, and the random values of a launch.

The verifier stays in the server-side session; only its SHA-256 challenge travels in the
browser's redirect, so an intercepted authorization code is useless without our session.
"""
from __future__ import annotations

import base64
import hashlib
import secrets

VERIFIER_BYTES = 48  # 64 characters of base64url: within RFC 7636's 43-128


def new_verifier() -> str:
    return secrets.token_urlsafe(VERIFIER_BYTES)


def challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(verifier))`` without padding (``code_challenge_method=S256``)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    return secrets.token_urlsafe(32)
