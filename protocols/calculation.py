"""A dose's arithmetic, and why there is no dose, as typed values.

The dose engine computes with Decimal and records each step it took (the base
dose, the cap, the rounding), so that a card can show the arithmetic a
pharmacist would redo and an order check can quote the base expression
without anyone parsing a sentence. ``cards.wording.doses`` says them in words.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from clinical import Measurement

# ------------------------------------------------------------------ base dose


@dataclass(frozen=True, slots=True)
class PerKg:
    """``8 mg/kg × 70 kg``; ``band_below_kg`` when a weight band's dose applied."""

    mg_per_kg: Decimal
    weight_kg: Decimal
    band_below_kg: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PerKgPerDay:
    """``2 mg/kg/day × 70 kg = 140 mg/day ÷ 2 doses`` (``doses_per_day`` 1: not divided)."""

    mg_per_kg_per_day: Decimal
    weight_kg: Decimal
    doses_per_day: Decimal

    @property
    def per_day_mg(self) -> Decimal:
        """The daily dose before any cap."""
        return self.mg_per_kg_per_day * self.weight_kg


@dataclass(frozen=True, slots=True)
class PerM2:
    """``1500 mg/m² × 1.84 m²`` with the Mosteller body surface area's height and weight."""

    mg_per_m2: Decimal
    bsa_m2: Decimal
    height_cm: Decimal
    weight_kg: Decimal


Base = PerKg | PerKgPerDay | PerM2

# ----------------------------------------------------------------------- caps


@dataclass(frozen=True, slots=True)
class CapApplied:
    """The base dose was above a cap, so the dose is the cap.

    ``cap`` says which cap bit: the per-dose maximum, or the daily maximum divided by the
    doses per day; ``max_mg_per_day`` is the rule's daily maximum when it has one.
    """

    uncapped_mg: Decimal
    cap_mg: Decimal
    cap: Literal["per-dose", "per-day"]
    max_mg_per_day: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CapsListed:
    """The rule's caps, none of which bit (shown so the clinician knows them)."""

    max_mg_per_dose: Decimal | None
    max_mg_per_day: Decimal | None


# ------------------------------------------------------------------- rounding


@dataclass(frozen=True, slots=True)
class Rounded:
    """Rounded to the protocol's step (a vial, a syringe graduation)."""

    to_mg: Decimal
    label: str | None = None  # e.g. "nearest vial"


@dataclass(frozen=True, slots=True)
class NotRounded:
    """Rounding would change the dose by more than the protocol allows: the exact dose stands."""

    to_mg: Decimal
    change_percent: Decimal
    limit_percent: Decimal
    label: str | None = None


@dataclass(frozen=True, slots=True)
class DoseCalculation:
    """The steps from the rule to the dose: base, cap (applied or listed), rounding; each may be absent."""

    base: Base | None = None
    cap: CapApplied | CapsListed | None = None
    rounding: Rounded | NotRounded | None = None


@dataclass(frozen=True, slots=True)
class DailyCapDivided:
    """A corrected dose that is the daily maximum divided by the doses per day (order checks)."""

    max_mg_per_day: Decimal
    doses_per_day: Decimal


# ------------------------------------------------------------------- no dose


@dataclass(frozen=True, slots=True)
class NoRecentMeasurement:
    """No usable weight (or height, for body surface area) within the protocol's age limit;
    ``latest`` is the most recent one when it is older than that."""

    measure: Literal["weight", "height"]
    max_age_days: int
    latest: Measurement | None = None


@dataclass(frozen=True, slots=True)
class SuspectWeight:
    """The latest weight differs from the previous one by more than the protocol allows within its window
    (a unit slip, another patient's value): no mg/kg dose is computed from it until it is confirmed."""

    latest: Measurement
    previous: Measurement
    change_percent: Decimal  # rounded to a whole percent
    limit_percent: Decimal
    within_days: float


@dataclass(frozen=True, slots=True)
class UnspecifiedDose:
    """The protocol gives no dose, for the reason it states."""

    reason: str | None


@dataclass(frozen=True, slots=True)
class NoDosingInterval:
    """A daily dose the source gives without a dosing interval: not divided by guess."""

    mg_per_kg_per_day: Decimal
    weight_kg: Decimal
    per_day_mg: Decimal  # after the daily cap


@dataclass(frozen=True, slots=True)
class RoundsToZero:
    """The dose rounds to 0 mg at the protocol's step: left to the prescriber."""

    dose_mg: Decimal
    step_mg: Decimal
    label: str | None = None


DoseProblem = NoRecentMeasurement | SuspectWeight | UnspecifiedDose | NoDosingInterval | RoundsToZero
