"""The machine-readable assessment on a card (``extension["crs-cds.assessment"]``, shape in design.md).

The card's text is short; this keeps everything: the grade, its drivers, what is missing and the complete
evidence -- every observation and administration with its role, value, time and FHIR reference -- so that
integration engineers, the timeline page and tests never parse the card's prose.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from clinical import Assessment, Evidence, IcansAssessment

from .wording import evidence, findings

ASSESSMENT_EXTENSION = "crs-cds.assessment"


def instant(value: datetime | None) -> str | None:
    """An instant as FHIR writes it, in UTC: ``2026-11-21T11:00:00Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def evidence_json(e: Evidence) -> dict[str, Any]:
    """``{"role": "fever", "what": "temperature", "value": "39.2 °C", "time": "...Z", "source": "Observation/t1"}``."""
    return {"role": e.role, "what": e.what, "value": evidence.value(e), "time": instant(e.time), "source": e.source}


def grading_extension(grading: Assessment | IcansAssessment) -> dict[str, Any]:
    """One grading's fields (CRS, or the ``icans`` object: the same shape)."""
    return {
        "system": grading.system,
        "status": grading.status,
        "grade": grading.grade,
        "worstGrade": grading.worst_grade,
        "drivers": [findings.driver(d) for d in grading.drivers],
        "missing": [findings.missing(m) for m in grading.missing],
        "evidence": [evidence_json(e) for e in grading.evidence],
    }


def assessment_extension(assessment: Assessment, protocol_id: str) -> dict[str, Any]:
    """The ``crs-cds.assessment`` value: the CRS grading, the protocol, and the ICANS grading when assessed."""
    extension: dict[str, Any] = {**grading_extension(assessment), "protocol": protocol_id}
    if assessment.icans is not None:
        extension["icans"] = grading_extension(assessment.icans)
    return extension
