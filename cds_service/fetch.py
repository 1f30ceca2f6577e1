"""The seam through which the service reads what prefetch did not provide.

CDS Hooks expects a service to fetch missing prefetch data from
``fhirServer`` with the bearer token in ``fhirAuthorization``. The HTTP
client (``fhir_client.FhirClient``) implements this interface; ``NullFetcher``
declines every request (no EHR access configured), which the service reports
as 412 (required data) or as an "unavailable" note. Tests plug in fakes.

``deadline`` is a ``time.monotonic()`` instant by which the answer must be in:
the whole service call shares one, so a slow EHR costs a lower-bound card,
never a call the EHR abandons.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Protocol
from urllib.parse import quote


class FetchUnavailable(Exception):
    """The data could not be fetched; the message says why, without patient data or tokens."""


class FetchRejected(FetchUnavailable):
    """The FHIR server refused the access token (401/403): expired, revoked or out of scope."""


class FhirFetcher(Protocol):
    def fetch(self, query: str, *, fhir_server: str, authorization: Mapping[str, Any] | None,
              deadline: float | None = None) -> dict[str, Any] | None:
        """Run ``query`` (relative, e.g. ``Observation?patient=p1``, or an absolute next-page
        URL) against ``fhir_server``; return the FHIR JSON (Bundle or resource, None for
        a read that found nothing) or raise ``FetchUnavailable`` — by ``deadline``."""
        ...


class NullFetcher:
    """Fetches nothing: for deployments (and tests) without EHR access."""

    reason = "fetching from the FHIR server is not enabled"

    def fetch(self, query: str, *, fhir_server: str, authorization: Mapping[str, Any] | None,
              deadline: float | None = None) -> dict[str, Any] | None:
        raise FetchUnavailable(self.reason)


_TOKEN = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_USER_TOKENS = {"userPractitionerId": "Practitioner", "userPractitionerRoleId": "PractitionerRole",
                "userPatientId": "Patient", "userRelatedPersonId": "RelatedPerson"}


class TemplateError(ValueError):
    """A prefetch template names a token this request cannot fill."""


def render_template(template: str, context: Mapping[str, Any]) -> str:
    """Replace prefetch tokens (``{{context.patientId}}``, ``{{userPractitionerId}}``)
    with URL-escaped values from the hook context, as a CDS client would."""

    def value(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("context."):
            found = context.get(token.removeprefix("context."))
        elif token in _USER_TOKENS:
            user = context.get("userId")
            kind, _, ident = user.partition("/") if isinstance(user, str) else ("", "", "")
            found = ident if kind == _USER_TOKENS[token] else None
        else:
            found = None
        if not isinstance(found, str) or not found:
            raise TemplateError(f"prefetch token {{{{{token}}}}} has no value in this request")
        return quote(found, safe="")

    return _TOKEN.sub(value, template)
