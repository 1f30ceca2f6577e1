"""Whose data a call carries: how many of its resources belong to the patient in context.

An EHR that sends (or a FHIR server that returns) another patient's data for
``context.patientId`` gets no card — the mapping leaves out every resource that
names someone else — and without this count nobody could tell that call from
one about a patient with nothing to grade. The transport logs it; ``crs-cds
grade`` says it in words.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .fhirjson import is_other_patient


@dataclass(frozen=True, slots=True)
class PatientShare:
    """``for_patient`` of the ``scoped`` resources that name a patient (a Patient, or a ``subject`` or
    ``patient`` reference) are the context patient's; one that cannot be checked counts as theirs, as
    the mapping reads it."""

    for_patient: int
    scoped: int

    @property
    def mismatch(self) -> bool:
        """Patient data came, none of it this patient's."""
        return self.scoped > 0 and self.for_patient == 0


def patient_share(resources: Iterable[Any], patient_id: str) -> PatientShare:
    pid = patient_id.removeprefix("Patient/") if isinstance(patient_id, str) else ""
    expected = f"Patient/{pid}"
    mine = scoped = 0
    for resource in resources:
        if not isinstance(resource, dict):
            continue
        if resource.get("resourceType") == "Patient":
            scoped += 1
            mine += resource.get("id") == pid
            continue
        reference = resource.get("subject", resource.get("patient"))
        if isinstance(reference, dict):
            scoped += 1
            mine += not is_other_patient(reference, expected, pid)
    return PatientShare(mine, scoped)
