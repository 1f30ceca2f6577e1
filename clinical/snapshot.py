"""The clinical snapshot: what the mapping layer reads out of FHIR, as plain values.

Everything downstream (grading, protocols, cards) reads these dataclasses and
never FHIR JSON. Every value keeps the FHIR reference it came from
(``source``, e.g. ``"Observation/123"``) and its clinically relevant time, so
that a card can always show *which* observation or administration drove a
grade or a dose.

All datetimes are timezone-aware (UTC when the source had no offset).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from .neuro import NeuroFinding

# Oxygen support categories the mapping recognises. Which ASTCT tier each one
# means is clinical knowledge and lives in grading's data file, not here.
OxygenDevice = Literal[
    "room-air",
    "nasal-cannula",
    "blow-by",
    "high-flow-nasal-cannula",
    "simple-facemask",
    "non-rebreather",
    "partial-rebreather",
    "venturi",
    "cpap",
    "bipap",
    "non-invasive-ventilation",
    "mechanical-ventilation",
]

# Drug classes the mapping recognises (see fhir_mappings/data/medications.json).
DrugClass = Literal[
    "vasopressor",
    "inotrope",
    "antipyretic",
    "anti-il6",
    "il1-antagonist",
    "corticosteroid",
    "gm-csf",
    "index-therapy",
    "other",
]

# How a MedicationAdministration was recognised, strongest first.
MatchedBy = Literal["code", "ingredient-code", "name"]

# What kind of index therapy a drug is (medications.json): immune effector cells or a T-cell engager.
IndexClass = Literal["car-t", "t-cell-engager"]


@dataclass(frozen=True, slots=True)
class Temperature:
    celsius: float
    time: datetime
    source: str
    original: str  # as recorded, e.g. "100.4 [degF]", shown to clinicians


@dataclass(frozen=True, slots=True)
class BloodPressure:
    """One blood-pressure reading; either value may be absent."""

    time: datetime
    source: str
    systolic: float | None = None  # mm[Hg]
    mean: float | None = None  # mm[Hg] (MAP, measured or recorded)
    diastolic: float | None = None


@dataclass(frozen=True, slots=True)
class OxygenSupport:
    """Oxygen support recorded at one time: a device, a flow, or both.

    Comes from a method-of-delivery observation (LOINC 107117-4), a flow-rate
    observation (3151-8) or the flow/concentration components of an SpO2
    observation.
    """

    time: datetime
    source: str
    device: OxygenDevice | None = None
    device_display: str | None = None
    flow_l_min: float | None = None
    fio2_percent: float | None = None


@dataclass(frozen=True, slots=True)
class SpO2:
    percent: float
    time: datetime
    source: str


@dataclass(frozen=True, slots=True)
class Measurement:
    """A body measurement or lab value already converted to ``unit``."""

    kind: str  # "weight" (kg), "height" (cm), "anc" (10*9/L), "creatinine", "crp", ...
    value: float
    unit: str  # UCUM code of ``value``
    time: datetime
    source: str
    original: str  # as recorded, e.g. "154 [lb_av]"


@dataclass(frozen=True, slots=True)
class DrugAdministration:
    """A MedicationAdministration of a drug the service cares about.

    ``start``/``end`` come from ``effectiveDateTime`` (start == end) or
    ``effectivePeriod``; ``end`` is None when the period is open.
    """

    drug: str  # canonical key, e.g. "norepinephrine", "tocilizumab"
    drug_class: DrugClass
    start: datetime
    end: datetime | None
    status: str  # FHIR MedicationAdministration.status (in-progress, completed, on-hold, ...)
    source: str
    matched_by: MatchedBy
    matched_on: str  # the code or the text that matched, for audit
    display: str  # what the EHR called it
    dose_value: float | None = None
    dose_unit: str | None = None  # UCUM code as given
    dose_mg: float | None = None  # when convertible to mg
    route: str | None = None  # "IV", "SC", "PO", "IM" when recognised
    index_class: IndexClass | None = None  # index therapies only: CAR-T cells or a T-cell engager

    @property
    def in_progress(self) -> bool:
        return self.status == "in-progress"

    @property
    def point(self) -> bool:
        """Charted at a single time point (effectiveDateTime), not as a period."""
        return self.end is not None and self.end == self.start and not self.in_progress


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A resource deliberately left out, with why; shown for auditability."""

    source: str
    reason: str  # "entered-in-error", "cancelled", "not-done", "future-dated", "unknown-unit", ...


@dataclass(frozen=True, slots=True)
class ClinicalSnapshot:
    """Everything grading and protocols need about one patient, time-sorted."""

    patient_id: str
    birth_date: date | None = None
    temperatures: tuple[Temperature, ...] = ()
    blood_pressures: tuple[BloodPressure, ...] = ()
    oxygen: tuple[OxygenSupport, ...] = ()
    spo2: tuple[SpO2, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    administrations: tuple[DrugAdministration, ...] = ()
    neuro: tuple[NeuroFinding, ...] = ()  # ICANS findings (ICE, CAPD, consciousness, seizure, motor, oedema)
    excluded: tuple[Exclusion, ...] = ()
    # Data the transport knows it could not obtain (e.g. "observations: FHIR
    # server returned 503"); grading reports them and treats the grade as a
    # lower bound.
    unavailable: tuple[str, ...] = field(default=())

    def age_years(self, now: datetime) -> float | None:
        """Age in completed years at ``now`` (None when birthDate is unknown)."""
        if self.birth_date is None:
            return None
        today = now.date()
        years = today.year - self.birth_date.year
        if (today.month, today.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    def measurements_of(self, kind: str) -> tuple[Measurement, ...]:
        return tuple(m for m in self.measurements if m.kind == kind)
