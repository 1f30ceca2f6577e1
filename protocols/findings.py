"""What an order check found wrong with one draft order, as typed values.

``order_checks`` decides; each finding carries a ``problem`` with the numbers,
times and rules behind it, and ``cards.wording.orders`` turns it into the
card's summary and reasons. Nothing downstream parses a sentence.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from clinical import DraftMedication, Evidence, IndexClass

from .calculation import DailyCapDivided, DoseCalculation, DoseProblem
from .history import RepeatCheck
from .model import Citation, RepeatLimits, Route, WarningRule


@dataclass(frozen=True, slots=True)
class RepeatRefused:
    """A dose the drug's repeat limits refuse now (or at all, once the total is reached)."""

    drug: str  # the drug's display name
    verdict: RepeatCheck
    limits: RepeatLimits


@dataclass(frozen=True, slots=True)
class NoWeight:
    """A weight-based dose that cannot be checked: no recent weight (``above_cap``: the per-dose
    maximum, when the draft exceeds it anyway)."""

    drug: str
    given_mg: Decimal
    above_cap: Decimal | None
    why: DoseProblem | None


@dataclass(frozen=True, slots=True)
class AboveCap:
    """The draft dose is above the protocol's per-dose maximum."""

    drug: str
    given_mg: Decimal
    cap_mg: Decimal
    expected_mg: Decimal
    calculation: DoseCalculation | None


@dataclass(frozen=True, slots=True)
class OffDose:
    """The draft dose differs from the protocol dose by more than the tolerance."""

    drug: str
    given_mg: Decimal
    expected_mg: Decimal
    off_percent: Decimal  # rounded to a whole percent
    tolerance_percent: Decimal
    calculation: DoseCalculation | None


@dataclass(frozen=True, slots=True)
class NeverGive:
    """A drug the protocol says must not be given (``label``: what, e.g. "GM-CSF"), citing its warning."""

    drug: str  # the draft's display name
    label: str
    warning: WarningRule
    index_class: IndexClass | None = None  # the patient's index therapy class, which the card names


@dataclass(frozen=True, slots=True)
class Regimen:
    """A dose and interval as ordered or as the protocol gives them."""

    dose_mg: Decimal
    every_hours: Decimal | None
    route: Route | None = None


@dataclass(frozen=True, slots=True)
class RegimenMismatch:
    """A draft that matches none of the protocol's regimens of that drug at the current grade."""

    drug: str
    given: Regimen
    protocol: Regimen  # the recommended regimen (else the first)
    grade: int | None


@dataclass(frozen=True, slots=True)
class Maximum:
    """One maximum a draft dose exceeds: per dose, or per day (``mg`` is the rule's value)."""

    per: Literal["dose", "day"]
    mg: Decimal


@dataclass(frozen=True, slots=True)
class AboveMaximum:
    """A draft dose above the per-dose or per-day maximum (per day at the draft's, else the
    protocol's, interval), and the largest dose both allow."""

    drug: str
    given_mg: Decimal
    every_hours: Decimal | None
    doses_per_day: Decimal
    exceeded: tuple[Maximum, ...]
    corrected_mg: Decimal


OrderProblem = RepeatRefused | NoWeight | AboveCap | OffDose | NeverGive | RegimenMismatch | AboveMaximum


@dataclass(frozen=True, slots=True)
class OrderFinding:
    """One problem with one draft order, and the protocol's answer to it.

    ``kind`` is the card kind the protocol file declares for the check (``no-weight`` when
    a weight-based dose cannot be checked). ``action`` is what the card proposes for the
    draft: ``update`` to ``dose_mg``/``every_hours``, ``delete`` it, or nothing (``None``).
    """

    kind: str
    indicator: Literal["warning", "critical"]
    order: DraftMedication
    problem: OrderProblem
    sources: tuple[Citation, ...]
    evidence: tuple[Evidence, ...] = ()
    action: Literal["update", "delete"] | None = None
    dose_mg: float | None = None  # the corrected dose (update)
    every_hours: float | None = None  # the corrected interval (update); None keeps the draft's
    calculation: DoseCalculation | DailyCapDivided | None = None
    next_allowed: datetime | None = None
    escalation: str | None = None  # the protocol's escalation text
    reminders: tuple[WarningRule, ...] = ()  # e.g. antifungal prophylaxis with steroids
    grade: int | None = None
    protocol_id: str = ""
    protocol_url: str | None = None  # where to read the protocol (the card's source link)
