"""Patient -> birth date, for the patient the request is about."""
from __future__ import annotations

from datetime import date

from .context import OTHER_PATIENT, MappingContext
from .fhirtime import parse_birth_date


def birth_date(patients: list[tuple[str, dict]], ctx: MappingContext) -> date | None:
    """Birth date of the Patient whose id is the request's patient id, or of the only Patient.

    A lone Patient is what the prefetch read ``Patient/{{context.patientId}}``
    returned, even when its id differs (a server answering a merged record
    with the surviving id, or omitting the id). When several Patients arrive,
    only the one with the requested id is used; the others are recorded as
    "other-patient" and never feed age-dependent thresholds.
    """
    if len(patients) == 1:
        return parse_birth_date(patients[0][1].get("birthDate"))
    chosen = None
    for source, res in patients:
        if res.get("id") == ctx.patient_id and chosen is None:
            chosen = res
        else:
            ctx.exclude(source, OTHER_PATIENT)
    return parse_birth_date(chosen.get("birthDate")) if chosen is not None else None
