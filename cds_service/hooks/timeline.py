"""The timeline page's service layer: read one patient's record, grade it, render the page (no Flask).

The record is read as a patient-view call reads what prefetch lacks: the same templates,
the same ``Gatherer`` (time slices of the eligibility window, one deadline, the guard
deciding where the token goes), the same mapping, grading and protocol as the card. A
page can wait longer than a CDS call, so it gets its own deadline. Offline (``crs-cds
timeline FILE``) the resources come from a file instead, through the same rendering.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cards.wording.times import LocalTimes
from timeline import build_page, render_page

from ..ehr import FhirServer, Gatherer
from .assess import Assessor
from .catalogue import patient_data_prefetch
from .service import TooManyResources

PAGE_DEADLINE_SECONDS = 10.0  # a clinician opened the page and waits for it; a CDS call cannot


class PatientNotFound(Exception):
    """The FHIR server has no such Patient (a read answered 404 or nothing)."""


@dataclass(frozen=True, slots=True)
class TimelinePages:
    """Everything the page needs, built once at start-up (``bootstrap``)."""

    assessor: Assessor
    gatherer: Gatherer  # with ``PAGE_DEADLINE_SECONDS``
    times: LocalTimes
    max_resources: int

    @property
    def templates(self) -> Mapping[str, str]:
        return patient_data_prefetch(self.assessor.codes)

    def from_server(self, *, patient_id: str, server: FhirServer, access_token: str | None, now: datetime,
                    data_source: str) -> str:
        """Read the patient's record from ``server`` (with ``access_token``, if any) and render the page.

        Raises ``ehr.DataUnavailable`` (the Patient could not be read), ``PatientNotFound`` and
        ``TooManyResources``; a partial record renders, its gaps named and the grade a lower bound."""
        request: dict[str, Any] = {"context": {"patientId": patient_id}, "prefetch": {}}
        if access_token:
            request["fhirAuthorization"] = {"access_token": access_token, "token_type": "Bearer"}
        data = self.gatherer.gather(request, self.templates, ("patient",), server=server, now=now)
        if not any(r.get("resourceType") == "Patient" for r in data.resources):
            raise PatientNotFound(patient_id)
        return self.from_resources(data.resources, patient_id=patient_id, now=now, unavailable=data.unavailable,
                                   data_source=data_source)

    def from_resources(self, resources: Iterable[dict[str, Any]], *, patient_id: str, now: datetime,
                       unavailable: Iterable[str] = (), data_source: str) -> str:
        """The page for what ``from_server`` read (never graded truncated: too many is an error)."""
        resources = list(resources)
        if len(resources) > self.max_resources:
            raise TooManyResources(self.max_resources)
        return timeline_html(self.assessor, resources, patient_id=patient_id, now=now, unavailable=unavailable,
                             times=self.times, data_source=data_source)


def timeline_html(assessor: Assessor, resources: Iterable[dict[str, Any]], *, patient_id: str, now: datetime,
                  unavailable: Iterable[str] = (), times: LocalTimes, data_source: str) -> str:
    """Map, grade and recommend as the card does, then draw the page (also ``crs-cds timeline FILE``)."""
    result = assessor.recommend(resources, patient_id=patient_id, now=now, unavailable=unavailable)
    page = build_page(patient_id=patient_id, snapshot=result.snapshot, assessment=result.assessment,
                      recommendations=result.recommendations, grading=assessor.grading, times=times,
                      data_source=data_source)
    return render_page(page, times)
