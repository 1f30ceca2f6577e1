"""What grading found, as typed values: drivers of the grade, missing inputs and notes.

Grading decides; the cards layer and the CLI say it in words. Each value carries
what a sentence needs (the reading, the threshold, the window) so that nothing
downstream parses text, and a site's change of wording never touches grading.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .evidence import HypotensionThreshold, SupportTier
from .neuro import Consciousness, IcansDomain, NeuroFinding
from .snapshot import BloodPressure, DrugAdministration, OxygenSupport, SpO2, Temperature

# ----------------------------------------------------------------------------------------- drivers


@dataclass(frozen=True, slots=True)
class FeverDriver:
    """Fever in the fever window: the highest temperature."""

    temperature: Temperature
    tier: int = 1

    @property
    def kind(self) -> Literal["fever"]:
        return "fever"


@dataclass(frozen=True, slots=True)
class VasopressorDriver:
    """Hypotension requiring vasopressors: grade 3 (one at a time) or 4 (two overlapping).

    ``drugs`` are the vasopressors active in the window (first given first);
    ``overlapping`` the counted ones that ran together (empty below grade 4);
    ``not_counted`` the ones ASTCT does not count as a second agent (vasopressin).
    """

    tier: int
    drugs: tuple[str, ...]
    overlapping: tuple[str, ...] = ()
    not_counted: tuple[str, ...] = ()

    @property
    def kind(self) -> Literal["hypotension"]:
        return "hypotension"

    @property
    def counted(self) -> tuple[str, ...]:
        return tuple(d for d in self.drugs if d not in self.not_counted)


@dataclass(frozen=True, slots=True)
class HypotensionDriver:
    """Hypotension without a vasopressor (grade 2): the lowest reading below the threshold."""

    measure: Literal["systolic", "MAP"]
    mmhg: float
    threshold: HypotensionThreshold
    tier: int = 2

    @property
    def kind(self) -> Literal["hypotension"]:
        return "hypotension"


@dataclass(frozen=True, slots=True)
class HypoxiaDriver:
    """Oxygen support at its ASTCT tier: the most severe support in the window."""

    support: OxygenSupport
    how: SupportTier
    tier: int

    @property
    def kind(self) -> Literal["hypoxia"]:
        return "hypoxia"


Driver = FeverDriver | VasopressorDriver | HypotensionDriver | HypoxiaDriver


@dataclass(frozen=True, slots=True)
class IcansDriver:
    """An ICANS domain at its ASTCT grade: the most severe finding of the domain in the window.

    An ICE score of 0 is grade 4 when the patient is unarousable and grade 3 when awake (global
    aphasia): ``ice_zero`` says which reading applied and ``awake`` the level of consciousness it
    was read with ("unknown": no level charted near it, so grade 3 as a lower bound).
    """

    domain: IcansDomain
    tier: int
    finding: NeuroFinding
    ice_zero: Literal["unarousable", "awake", "unknown"] | None = None
    awake: Consciousness | None = None

# ----------------------------------------------------------------------------------------- missing

MissingReason = Literal[
    "no-temperature",  # fever: no temperature in the fever window
    "no-blood-pressure",  # hypotension: no blood pressure in the current window
    "support-without-tier",  # hypoxia: support recorded without a device tier or flow (FiO2 only)
    "no-oxygen-support",  # hypoxia: SpO2 recorded but the last support is older than the window
    "no-spo2-or-support",  # hypoxia: neither SpO2 nor support in the window
    "overlap-unknown",  # hypotension: two vasopressors charted as single time points may or may not have overlapped
    "vasopressor-running-unknown",  # hypotension: a point-charted vasopressor before the window may still run
]


@dataclass(frozen=True, slots=True)
class MissingInput:
    """An ASTCT input that cannot be assessed from the data, with why; the grade is then a lower bound."""

    input: Literal["fever", "hypotension", "hypoxia"]
    reason: MissingReason
    window_hours: float
    record: OxygenSupport | None = None  # support-without-tier: the record
    how: SupportTier | None = None
    drugs: tuple[str, ...] = ()  # overlap-unknown, vasopressor-running-unknown: the vasopressors


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Data the transport could not obtain, as the transport describes it (e.g. a FHIR server's 503)."""

    description: str


IcansMissingReason = Literal[
    "none-in-window",  # a required domain (ICE or CAPD score, level of consciousness) not charted in the window
    "ice-zero-consciousness",  # ICE 0 with no level of consciousness near it: unarousable (4) or awake (3)?
    "seizure-duration",  # a seizure neither resolved nor timed: grade 4 if > 5 min or repetitive
    "oedema-extent",  # cerebral oedema charted without its extent: grade 4 if diffuse
]


@dataclass(frozen=True, slots=True)
class MissingIcansInput:
    """An ICANS input that cannot be assessed from the data; the ICANS grade is then a lower bound."""

    domain: IcansDomain
    reason: IcansMissingReason
    window_hours: float
    finding: NeuroFinding | None = None  # the finding whose detail is missing


Missing = MissingInput | Unavailable | MissingIcansInput

# ------------------------------------------------------------------------------------------- notes


@dataclass(frozen=True, slots=True)
class NotGraded:
    """Hypotension/hypoxia not graded as CRS: no documented fever (``since_onset`` False), or fever
    gone from the window with no masking drug since onset (``since_onset`` True)."""

    since_onset: bool
    window_hours: float


@dataclass(frozen=True, slots=True)
class Masked:
    """Masking applied: fever not required; ``resolved`` when no sign remains either (grade 0)."""

    drugs: tuple[str, ...]
    resolved: bool


@dataclass(frozen=True, slots=True)
class NoTemperatureAfterOnset:
    """Onset documented, no temperature in the window and no masking drug since onset, but hypotension or
    hypoxia now: the CRS grade cannot be established (fever unknown, masking rule not met)."""

    window_hours: float


@dataclass(frozen=True, slots=True)
class WorstGrade:
    """A higher grade was reached since onset than now."""

    grade: int
    time: datetime


@dataclass(frozen=True, slots=True)
class LowerBound:
    """Inputs are missing: the grade is at least ``grade``."""

    grade: int


@dataclass(frozen=True, slots=True)
class Eligibility:
    """No index therapy in the window (``switched_off``: assessed anyway, onset searched from the
    window's start), or an index therapy may be among the data that could not be read."""

    reason: Literal["no-index-therapy", "switched-off", "may-be-missed"]
    window_days: float = 0


@dataclass(frozen=True, slots=True)
class AgeUnknown:
    """No birth date: adult blood-pressure thresholds used."""


@dataclass(frozen=True, slots=True)
class StaleTemperature:
    """The last temperature is too old to assess fever."""

    temperature: Temperature


@dataclass(frozen=True, slots=True)
class FeverBeforeIndexTherapy:
    """A fever before the index therapy, not counted as CRS."""

    temperature: Temperature


@dataclass(frozen=True, slots=True)
class StaleBloodPressure:
    """The last blood pressure is older than the window: not used."""

    reading: BloodPressure
    window_hours: float


@dataclass(frozen=True, slots=True)
class NotAnInfusion:
    """A vasopressor given by a route that is not an infusion (IM epinephrine for anaphylaxis) or as a
    bolus (a single time point with a dose in mg): shown, not counted as requiring vasopressors."""

    administration: DrugAdministration
    reason: Literal["route", "bolus"]


@dataclass(frozen=True, slots=True)
class InotropeNotCounted:
    """An inotrope (dobutamine, milrinone) running or given in the window: shown, not counted by ASTCT."""

    drug: str
    running: bool
    window_hours: float


@dataclass(frozen=True, slots=True)
class SupportNotUsed:
    """An oxygen record whose tier cannot be told (no device tier or flow): not used."""

    record: OxygenSupport
    how: SupportTier


@dataclass(frozen=True, slots=True)
class GradedByMostSevere:
    """Weaned within the window: graded by the most severe support, the latest is less."""

    worst: OxygenSupport
    worst_how: SupportTier
    latest: OxygenSupport
    latest_how: SupportTier
    window_hours: float


@dataclass(frozen=True, slots=True)
class StaleSupport:
    """The last oxygen-support record is older than the window: not used (``since`` an SpO2 recorded
    after it without support information, when there is one)."""

    record: OxygenSupport
    how: SupportTier
    window_hours: float
    since: SpO2 | None = None


@dataclass(frozen=True, slots=True)
class RoomAirAssumed:
    """No oxygen support recorded at all: an SpO2 taken to be on room air."""

    spo2: SpO2


@dataclass(frozen=True, slots=True)
class AttributedToOtherCause:
    """An ICANS finding a clinician charted as due to another cause: left out of the grade."""

    finding: NeuroFinding


@dataclass(frozen=True, slots=True)
class IcansLatestLess:
    """Graded by the most severe finding of a domain in the window; the latest one is less severe."""

    worst: NeuroFinding
    latest: NeuroFinding
    window_hours: float


@dataclass(frozen=True, slots=True)
class CapdUsed:
    """Graded with the CAPD score: the patient is under ``under_age_years`` (``charted``: older, a CAPD
    charted and the site counts it, e.g. developmental delay)."""

    age_years: float | None
    under_age_years: float
    charted: bool = False


@dataclass(frozen=True, slots=True)
class ScoreNotUsed:
    """A cognitive score of the instrument that does not apply at this age (ICE under 12, CAPD from 12)."""

    finding: NeuroFinding
    age_years: float | None


Note = (NotGraded | Masked | NoTemperatureAfterOnset | WorstGrade | LowerBound | Eligibility | AgeUnknown |
        StaleTemperature | FeverBeforeIndexTherapy | StaleBloodPressure | InotropeNotCounted | SupportNotUsed |
        GradedByMostSevere | StaleSupport | RoomAirAssumed | AttributedToOtherCause | IcansLatestLess | CapdUsed |
        ScoreNotUsed | NotAnInfusion)
