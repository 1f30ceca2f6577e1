"""Dose arithmetic: mg/kg from a recent weight, mg/m² from BSA, caps, bands and rounding.

Decimal throughout, so that 12 mg/kg × 29.9 kg is 358.8 mg, and each step is
recorded (``calculation.DoseCalculation``) so the card shows the arithmetic a
pharmacist would redo. Doses are never guessed: no recent
weight (or height, for mg/m²) means no dose, with the reason; so does a weight
that differs from the previous one by more than the protocol's plausibility
limit (20 % within 7 days in the shipped protocols) until it is confirmed.

Order of operations: base dose (weight band, per-day division) → per-dose cap →
per-day cap → the protocol's rounding (never above a cap, never to zero).
Without a protocol rounding rule, a dose is kept exact to 0.01 mg (numeric
noise from unit conversion, not a clinical rounding).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Literal

from clinical import ClinicalSnapshot, Evidence, Measurement, MeasurementReading

from .calculation import (
    Base,
    CapApplied,
    CapsListed,
    DoseCalculation,
    DoseProblem,
    NoDosingInterval,
    NoRecentMeasurement,
    NotRounded,
    PerKg,
    PerKgPerDay,
    PerM2,
    Rounded,
    RoundsToZero,
    SuspectWeight,
    UnspecifiedDose,
)
from .model import DoseRule, Frequency, Settings, WeightBand

CENTI = Decimal("0.01")
_ROUNDING = {"nearest": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING}


@dataclass(frozen=True, slots=True)
class BodySize:
    """The weight and height a dose may use, or why none can be used."""

    weight: Measurement | None = None
    height: Measurement | None = None
    weight_problem: NoRecentMeasurement | SuspectWeight | None = None
    height_problem: NoRecentMeasurement | None = None

    @property
    def weight_kg(self) -> Decimal | None:
        return Decimal(str(self.weight.value)) if self.weight else None

    @property
    def height_cm(self) -> Decimal | None:
        return Decimal(str(self.height.value)) if self.height else None


@dataclass(frozen=True, slots=True)
class DoseResult:
    mg: Decimal | None  # one dose; None when it cannot be computed
    per_day_mg: Decimal | None = None
    calculation: DoseCalculation | None = None  # e.g. 8 mg/kg × 125 kg, capped at 800 mg
    problem: DoseProblem | None = None  # why there is no dose
    band: WeightBand | None = None  # the weight band that applied
    evidence: tuple[Evidence, ...] = ()


def latest_measurement(snapshot: ClinicalSnapshot, kind: str, now: datetime) -> Measurement | None:
    """Most recent plausible measurement at or before ``now``."""
    found = [m for m in snapshot.measurements_of(kind) if m.time <= now and m.value > 0]
    return max(found, key=lambda m: m.time, default=None)


def body_size(snapshot: ClinicalSnapshot, now: datetime, settings: Settings) -> BodySize:
    """Most recent plausible weight within ``settings.weight_max_age_days`` (and height, for BSA)."""
    weight, stale = _recent(snapshot, "weight", now, settings.weight_max_age_days)
    weight_problem: NoRecentMeasurement | SuspectWeight | None = stale
    suspect = _suspect(snapshot, weight, settings) if weight is not None else None
    if suspect is not None:
        weight, weight_problem = None, suspect
    height, height_problem = _recent(snapshot, "height", now, settings.height_max_age_days)
    return BodySize(weight, height, weight_problem, height_problem)


def _suspect(snapshot: ClinicalSnapshot, latest: Measurement, settings: Settings) -> SuspectWeight | None:
    """The latest weight against the previous one recorded within the plausibility window before it."""
    earlier = [m for m in snapshot.measurements_of("weight")
               if m.value > 0 and latest.time - settings.weight_change_within <= m.time < latest.time]
    if not earlier:
        return None
    previous = max(earlier, key=lambda m: m.time)
    change = abs(Decimal(str(latest.value)) - Decimal(str(previous.value))) / Decimal(str(previous.value)) * 100
    if change <= settings.weight_max_change_percent:
        return None
    return SuspectWeight(latest, previous, change.quantize(Decimal(1)), settings.weight_max_change_percent,
                         settings.weight_change_within.total_seconds() / 86400)


def _recent(snapshot: ClinicalSnapshot, measure: Literal["weight", "height"], now: datetime, max_days: int
            ) -> tuple[Measurement | None, NoRecentMeasurement | None]:
    m = latest_measurement(snapshot, measure, now)
    if m is None:
        return None, NoRecentMeasurement(measure, max_days)
    if now - m.time > timedelta(days=max_days):
        return None, NoRecentMeasurement(measure, max_days, m)
    return m, None


def mosteller_bsa(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    """Body surface area in m², to 0.01 m² as charted (so the shown arithmetic is exact)."""
    return ((height_cm * weight_kg / Decimal(3600)).sqrt()).quantize(CENTI, ROUND_HALF_UP)


def compute_dose(rule: DoseRule, frequency: Frequency | None, size: BodySize) -> DoseResult:
    """One dose (and the daily total) for ``rule`` given ``frequency`` and the patient's size."""
    if rule.basis == "unspecified" or rule.amount is None:
        return DoseResult(None, problem=UnspecifiedDose(rule.unspecified_reason))
    amount = rule.amount
    evidence: list[Evidence] = []
    band = None
    weight = size.weight_kg
    if rule.basis in ("mg/kg", "mg/kg/day", "mg/m2"):
        if size.weight is None or weight is None:
            return DoseResult(None, problem=size.weight_problem)
        evidence.append(_evidence("body weight", size.weight))
    doses_per_day = frequency.doses_per_day if frequency else None

    expr: Base | None
    if rule.basis == "mg":
        base, expr = amount, None
    elif rule.basis == "mg/kg":
        assert weight is not None
        band = next((b for b in rule.weight_bands if weight < b.below_kg), None)
        per_kg = band.mg_per_kg if band else amount
        base = per_kg * weight
        expr = PerKg(per_kg, weight, band.below_kg if band else None)
    elif rule.basis == "mg/kg/day":
        assert weight is not None
        daily = amount * weight
        if rule.max_mg_per_day is not None:
            daily = min(daily, rule.max_mg_per_day)
        if frequency is None:
            return DoseResult(None, per_day_mg=daily, evidence=tuple(evidence),
                              problem=NoDosingInterval(amount, weight, daily))
        divisions = doses_per_day or Decimal(1)
        base = daily / divisions
        expr = PerKgPerDay(amount, weight, divisions)
    else:  # mg/m2
        height = size.height_cm
        if size.height is None or height is None or weight is None:
            return DoseResult(None, problem=size.height_problem, evidence=tuple(evidence))
        evidence.append(_evidence("height", size.height))
        bsa = mosteller_bsa(height, weight)
        base = amount * bsa
        expr = PerM2(amount, bsa, height, weight)

    dose, cap = _capped(base, rule, doses_per_day)
    dose, rounding, problem = _rounded(dose, rule, doses_per_day)
    if problem:
        return DoseResult(None, problem=problem, evidence=tuple(evidence))
    dose = _exact_to_centi(dose)
    per_day = _exact_to_centi(dose * doses_per_day) if doses_per_day else None
    return DoseResult(dose, per_day, DoseCalculation(expr, cap, rounding), None, band, tuple(evidence))


def _capped(base: Decimal, rule: DoseRule, doses_per_day: Decimal | None
            ) -> tuple[Decimal, CapApplied | CapsListed | None]:
    """Apply the tighter of the per-dose and per-day caps; say which if it bit, else list the caps."""
    limits: list[tuple[Decimal, Literal["per-dose", "per-day"]]] = []
    if rule.max_mg_per_dose is not None:
        limits.append((rule.max_mg_per_dose, "per-dose"))
    if rule.max_mg_per_day is not None:
        limits.append((rule.max_mg_per_day / (doses_per_day or Decimal(1)), "per-day"))
    if limits:
        limit, which = min(limits, key=lambda x: x[0])
        if base > limit:
            return limit, CapApplied(_exact_to_centi(base), _exact_to_centi(limit), which, rule.max_mg_per_day)
        return base, CapsListed(rule.max_mg_per_dose, rule.max_mg_per_day)
    return base, None


def _rounded(dose: Decimal, rule: DoseRule, doses_per_day: Decimal | None
             ) -> tuple[Decimal, Rounded | NotRounded | None, RoundsToZero | None]:
    """The protocol's rounding, if any: (dose, what rounding did, problem)."""
    r = rule.rounding
    if r is None:
        return dose, None, None
    rounded = (dose / r.step_mg).quantize(Decimal(1), _ROUNDING[r.mode]) * r.step_mg
    caps = [c for c in (rule.max_mg_per_dose,
                        rule.max_mg_per_day / (doses_per_day or 1) if rule.max_mg_per_day else None) if c is not None]
    if caps and rounded > min(caps):
        rounded = (dose / r.step_mg).quantize(Decimal(1), ROUND_FLOOR) * r.step_mg
    if rounded <= 0 and r.max_change_percent is not None and r.max_change_percent < 100:
        # Rounding to 0 mg is a 100 % change: beyond the protocol's tolerance, so not rounded
        # (the same rule that keeps 50 mg from becoming 100 mg keeps 25 mg from becoming 0 mg).
        return dose, NotRounded(Decimal(0), Decimal(100), r.max_change_percent, r.label), None
    if rounded <= 0:
        return dose, None, RoundsToZero(_exact_to_centi(dose), r.step_mg, r.label)
    change = abs(rounded - dose) / dose * 100
    if r.max_change_percent is not None and change > r.max_change_percent:
        return dose, NotRounded(rounded, change.quantize(Decimal(1)), r.max_change_percent, r.label), None
    if rounded == dose:
        return dose, None, None
    return rounded, Rounded(rounded, r.label), None


def _exact_to_centi(value: Decimal) -> Decimal:
    """Keep exact decimals (358.8); trim conversion noise beyond 0.01 mg."""
    return value if value == value.quantize(CENTI) else value.quantize(CENTI, ROUND_HALF_UP)


def _evidence(what: str, m: Measurement) -> Evidence:
    return Evidence("context", what, MeasurementReading(m), m.time, m.source)
