"""Evidence: the observation or administration behind a finding, with its FHIR source.

Grading, protocols and cards all cite evidence the same way, so that every grade,
condition and proposed order can name the resource that drove it. What the
evidence shows is a typed fact (a reading, an administration, a counted dose),
never a sentence: the cards layer and the CLI choose the words.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .neuro import NeuroFinding
from .snapshot import BloodPressure, DrugAdministration, Measurement, OxygenSupport, SpO2, Temperature

# What a piece of evidence is evidence *for*; cards group and order by it.
EvidenceRole = Literal[
    "fever",
    "hypotension",
    "hypoxia",
    "vasopressor",
    "masking",
    "index-therapy",
    "icans",
    "context",
]


@dataclass(frozen=True, slots=True)
class HypotensionThreshold:
    """The hypotension threshold that applies to one patient, and why (the basis is shown).

    Adults: systolic < 90 or MAP < 65 mmHg. Children: a PALS band from the grading data,
    ``systolic_base + per_year_of_age × age`` (``per_year_of_age`` 0 for a flat band).
    """

    systolic_below: float
    map_below: float | None
    age_years: float | None = None  # the age the band was chosen for; None: adult thresholds
    systolic_base: float | None = None  # the band's base value, when it depends on age
    per_year_of_age: float = 0.0

    @property
    def paediatric(self) -> bool:
        return self.age_years is not None


# How the ASTCT tier of one oxygen-support record was decided (grading/hypoxia.py):
SupportRule = Literal[
    "device",  # the device's tier (masks, positive pressure; flow-dependent devices without a flow)
    "device-flow",  # a flow-dependent device (nasal cannula) with its flow: low- or high-flow by litres
    "room-air-with-flow",  # "room air" charted with an oxygen flow: the flow decides
    "flow",  # a flow and no device
    "no-flow",  # 0 L/min and no device: room air
    "device-without-tier",  # a recognised device the grading data give no tier
    "unrecognised",  # a delivery method the code lists do not know
    "nothing",  # neither device nor flow (FiO2 alone)
]


@dataclass(frozen=True, slots=True)
class SupportTier:
    """The ASTCT hypoxia tier of one oxygen-support record (None: cannot be told) and the rule used."""

    tier: int | None
    rule: SupportRule
    low_flow_tier: int = 2  # the configured low-flow tier, so that "low-flow" follows the grading data

    @property
    def flow_based(self) -> bool:
        """The tier was read off the litres per minute."""
        return self.rule in ("device-flow", "room-air-with-flow", "flow")


# ------------------------------------------------------------------------------------------ facts

Mark = Literal["highest", "lowest", "latest", "onset"]


@dataclass(frozen=True, slots=True)
class TemperatureReading:
    """A temperature; ``mark`` says why this one is shown (highest in the window, latest, CRS onset)."""

    temperature: Temperature
    mark: Mark | None = None
    window_hours: float | None = None  # the window a "highest" is taken over
    as_recorded: bool = False  # shown as the EHR recorded it (value and unit code), not converted


@dataclass(frozen=True, slots=True)
class PressureReading:
    """The lowest systolic or mean pressure in the current window, against the patient's threshold."""

    reading: BloodPressure
    measure: Literal["systolic", "MAP"]
    mmhg: float
    window_hours: float
    threshold: HypotensionThreshold


@dataclass(frozen=True, slots=True)
class SupportReading:
    """An oxygen-support record with its tier; ``latest`` when shown as the latest record."""

    support: OxygenSupport
    tier: SupportTier
    latest: bool = False


@dataclass(frozen=True, slots=True)
class SaturationReading:
    """An SpO2 value: the lowest in the window (``lowest_in_hours``) or the latest."""

    spo2: SpO2
    lowest_in_hours: float | None = None
    latest: bool = False


AdministrationContext = Literal[
    "infusion",  # a vasopressor: running, or its status
    "inotrope",  # an inotrope, shown but not counted by ASTCT
    "after-onset",  # an antipyretic or anticytokine given after CRS onset (masking)
    "record",  # an administration as recorded (status and dose in mg), for protocol conditions
    "index-therapy",  # the CAR-T or T-cell engager that starts the episode
]


@dataclass(frozen=True, slots=True)
class Administered:
    """A drug administration; ``context`` says what it is evidence of."""

    administration: DrugAdministration
    context: AdministrationContext
    running: bool = False  # infusions: taken to run until now
    day: int | None = None  # index therapy: days since it (infusion day = 0)


@dataclass(frozen=True, slots=True)
class CountedDose:
    """A dose counted towards a repeat limit or a condition: given, or an order being signed."""

    drug: str
    dose_mg: float | None
    pending: bool = False
    stopped: bool = False  # an administration stopped before completion, counted as given


@dataclass(frozen=True, slots=True)
class MeasurementReading:
    """A body measurement or lab value (weight, height, ANC) as converted, with what was recorded."""

    measurement: Measurement


@dataclass(frozen=True, slots=True)
class NeuroReading:
    """An ICANS finding as charted; ``mark`` says why it is shown (its domain's latest, or left out as
    attributed to another cause)."""

    finding: NeuroFinding
    mark: Literal["latest", "attributed"] | None = None


Fact = (TemperatureReading | PressureReading | SupportReading | SaturationReading | Administered | CountedDose |
        MeasurementReading | NeuroReading)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One observation or administration behind a finding, with its source."""

    role: EvidenceRole
    what: str  # a key: "temperature", a drug key ("norepinephrine"), "oxygen support", "blood pressure"
    fact: Fact
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
