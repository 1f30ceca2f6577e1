"""Patient -> birth date, for the patient the request is about."""
from __future__ import annotations

from datetime import date

from .context import OTHER_PATIENT, MappingContext
from .fhirtime import parse_birth_date


def birth_date(patients: list[tuple[str, dict]], ctx: MappingContext) -> date | None:
    """Birth date of the Patient whose id is the request's patient id.

    When no Patient has that id, a single Patient *without* an id is taken as
    the patient (a prefetch ``Patient/{{context.patientId}}`` read stripped of
    its id); a Patient with a different id is someone else and is recorded as
    an "other-patient" exclusion, never used for age-dependent thresholds.
    """
    chosen = None
    anonymous = []
    for source, res in patients:
        rid = res.get("id")
        if type(rid) is str and rid:
            if rid == ctx.patient_id and chosen is None:
                chosen = res
            elif rid != ctx.patient_id:
                ctx.exclude(source, OTHER_PATIENT)
        else:
            anonymous.append(res)
    if chosen is None and len(anonymous) == 1 and len(patients) == 1:
        chosen = anonymous[0]
    return parse_birth_date(chosen.get("birthDate")) if chosen is not None else None
