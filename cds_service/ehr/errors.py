"""Why EHR data could not be read: one exception tree, messages safe to show and log."""
from __future__ import annotations


class FetchUnavailable(Exception):
    """The data could not be fetched; the message says why, without patient data or tokens, and
    ``kind`` names the failure for metrics (a fixed word: timeout, unreachable, busy, ...)."""

    def __init__(self, message: str, kind: str = "unavailable") -> None:
        super().__init__(message)
        self.kind = kind


class FetchRejected(FetchUnavailable):
    """The FHIR server refused the access token (401/403): expired, revoked or out of scope."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "token-rejected")
