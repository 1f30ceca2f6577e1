"""Why a protocol condition held or not, as typed values with the facts it was decided on.

Each condition term (``conditions.py``) answers with one or more of these: the
count, reading, time or threshold a clinician would check. ``cards.wording.reasons``
says them in words; nothing downstream compares or parses sentences.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from clinical import DrugAdministration, IndexClass, Measurement


@dataclass(frozen=True, slots=True)
class PriorDoses:
    """``given`` doses of a drug (or drug class) counted against ``min_prior_doses``/``max_prior_doses``."""

    bound: Literal["min", "max"]
    count: int  # the condition's count
    what: str  # the drug key or drug class
    given: int
    since_index: bool  # counted since the index therapy (else every recorded dose)
    since_onset: bool = False  # counted since the onset of the syndrome the section treats


@dataclass(frozen=True, slots=True)
class HypotensionNow:
    """Grading's hypotension grade now; None: it could not be assessed."""

    grade: int | None


@dataclass(frozen=True, slots=True)
class FebrileNow:
    present: bool


@dataclass(frozen=True, slots=True)
class FeverDuration:
    """How long fever has lasted since onset (``hours`` None: no onset, or not febrile now) against
    the condition's limit (``strict``: more than, else at least)."""

    limit_hours: Decimal
    strict: bool
    hours: float | None = None
    onset: datetime | None = None


@dataclass(frozen=True, slots=True)
class NoAnc:
    """No absolute neutrophil count recorded: neutropenia cannot be assessed (``max_age_hours``: how recent
    one must be, the protocol's setting)."""

    max_age_hours: float


@dataclass(frozen=True, slots=True)
class StaleAnc:
    """The latest ANC is older than the protocol allows (and not below the threshold)."""

    anc: Measurement
    max_age_hours: float


@dataclass(frozen=True, slots=True)
class LatestAnc:
    """The latest ANC against the condition's threshold."""

    anc: Measurement
    threshold: Decimal


@dataclass(frozen=True, slots=True)
class ClassPlanned:
    """A drug of the class is among the recommendations so far."""

    drug_class: str


@dataclass(frozen=True, slots=True)
class ClassRunning:
    """Drugs of the class given within the running window, or still running."""

    drug_class: str
    drugs: tuple[str, ...]
    window_hours: float


@dataclass(frozen=True, slots=True)
class ClassNotPlannedOrRunning:
    drug_class: str


@dataclass(frozen=True, slots=True)
class MaskingApplied:
    """Grading applied the masked-fever rule."""


@dataclass(frozen=True, slots=True)
class MaskingTherapyGiven:
    """Drugs of a masking class given since CRS onset."""

    drugs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NoMaskingTherapy:
    """No drug of a masking class given since CRS onset."""


@dataclass(frozen=True, slots=True)
class CrsNow:
    """Grading's CRS grade now (None: not graded) against ``at_least`` when the condition sets one."""

    grade: int | None
    at_least: int | None = None


@dataclass(frozen=True, slots=True)
class IcansNow:
    """Grading's ICANS grade now (None: not graded)."""

    grade: int | None


@dataclass(frozen=True, slots=True)
class IndexTherapyRunning:
    """Whether the most recent index therapy (e.g. a blinatumomab infusion) is running now."""

    administration: DrugAdministration | None
    running: bool


@dataclass(frozen=True, slots=True)
class IndexClassIs:
    """Which class of index therapy the patient had (CAR-T cells, a T-cell engager), against the one a
    rule is for: a CAR-T caution does not apply after blinatumomab."""

    index_class: IndexClass | None
    wanted: IndexClass


@dataclass(frozen=True, slots=True)
class OnsetUnknown:
    """Doses since onset cannot be counted: the syndrome has no documented onset."""


@dataclass(frozen=True, slots=True)
class AnotherOptionRecommended:
    """Demoted: another option of the same alternative group is the recommended one."""

    group: str


Reason = (PriorDoses | HypotensionNow | FebrileNow | FeverDuration | NoAnc | StaleAnc | LatestAnc | ClassPlanned |
          ClassRunning | ClassNotPlannedOrRunning | MaskingApplied | MaskingTherapyGiven | NoMaskingTherapy |
          AnotherOptionRecommended | CrsNow | IcansNow | IndexTherapyRunning | IndexClassIs | OnsetUnknown)
