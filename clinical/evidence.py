"""Evidence: the observation or administration behind a finding, with its FHIR source.

Grading, protocols and cards all cite evidence the same way, so that every grade,
condition and proposed order can name the resource that drove it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Literal

# What a piece of evidence is evidence *for*; cards group and order by it.
EvidenceRole = Literal[
    "fever",
    "hypotension",
    "hypoxia",
    "vasopressor",
    "masking",
    "index-therapy",
    "context",
]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One observation or administration behind a finding, with its source."""

    role: EvidenceRole
    what: str  # "temperature", "norepinephrine", "oxygen support", "blood pressure"
    value: str  # human text, e.g. "39.2 °C", "systolic 84 mmHg", "nasal cannula 4 L/min"
    time: datetime
    source: str  # FHIR reference, e.g. "Observation/t1"


def unique_evidence(evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    """Drop repeated rows (same role, source, what and time), keeping first-seen order.

    Several findings may cite the same observation; a card lists it once.
    """
    seen: set[tuple[str, str, str, datetime]] = set()
    out: list[Evidence] = []
    for e in evidence:
        key = (e.role, e.source, e.what, e.time)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return tuple(out)
