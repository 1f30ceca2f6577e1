"""The port through which the service reads what prefetch did not provide.

CDS Hooks expects a service to fetch missing prefetch data from ``fhirServer``
with the bearer token in ``fhirAuthorization``. ``client.FhirClient``
implements this over HTTP; tests plug in fakes through the composition root.

``deadline`` is a ``time.monotonic()`` instant by which the answer must be in:
the whole service call shares one, so a slow EHR costs a lower-bound card,
never a call the EHR abandons.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .guard import FhirServer


class FhirFetcher(Protocol):
    def fetch(self, query: str, *, server: FhirServer, authorization: Mapping[str, Any] | None,
              deadline: float | None = None) -> dict[str, Any] | None:
        """Run ``query`` (relative, e.g. ``Observation?patient=p1``, or an absolute next-page
        URL) against ``server``; return the FHIR JSON (Bundle or resource, None for a read
        that found nothing) or raise ``errors.FetchUnavailable`` — by ``deadline``."""
        ...
