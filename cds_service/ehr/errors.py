"""Why EHR data could not be read: one exception tree, messages safe to show and log."""
from __future__ import annotations


class FetchUnavailable(Exception):
    """The data could not be fetched; the message says why, without patient data or tokens."""


class FetchRejected(FetchUnavailable):
    """The FHIR server refused the access token (401/403): expired, revoked or out of scope."""
