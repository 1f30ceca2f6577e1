"""The patient-view service definition and a ``gather`` with the service's real templates and history plan."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cds_service.ehr import CallData, FhirFetcher, FhirServer, Gatherer, HistoryPlan
from cds_service.hooks import catalogue
from devkit import fhirbuild as fb
from tests.support.clinical_data import CODES

SERVICES = {s.id: s for s in catalogue(CODES)}
SERVICE = SERVICES["crs-patient-view"]
HISTORY = HistoryPlan(30)


def gather(request: Mapping[str, Any], fetcher: FhirFetcher, *, now: datetime = fb.NOW,
           deadline_seconds: float = 3.0) -> CallData:
    """What the service layer gathers for a patient-view ``request`` (its fhirServer taken as admitted)."""
    server = request.get("fhirServer")
    return Gatherer(fetcher, deadline_seconds, HISTORY).gather(
        request, SERVICE.prefetch, SERVICE.required_prefetch, server=FhirServer(server) if server else None, now=now,
        prefetch_only=SERVICE.prefetch_only)
