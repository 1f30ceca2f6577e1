"""Dose arithmetic: mg/kg from a recent weight, mg/m² from BSA, caps, bands and rounding.

Decimal throughout, so that 12 mg/kg × 29.9 kg is 358.8 mg and the text shows
the arithmetic a pharmacist would redo. Doses are never guessed: no recent
weight (or height, for mg/m²) means no dose, with the reason.

Order of operations: base dose (weight band, per-day division) → per-dose cap →
per-day cap → the protocol's rounding (never above a cap, never to zero).
Without a protocol rounding rule, a dose is kept exact to 0.01 mg (numeric
noise from unit conversion, not a clinical rounding).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from clinical import ClinicalSnapshot, Evidence, Measurement, MeasurementReading

from .formatting import day, num
from .model import DoseRule, Frequency, Settings, WeightBand

CENTI = Decimal("0.01")
_ROUNDING = {"nearest": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING}


@dataclass(frozen=True, slots=True)
class BodySize:
    """The weight and height a dose may use, or why none can be used."""

    weight: Measurement | None = None
    height: Measurement | None = None
    weight_problem: str | None = None
    height_problem: str | None = None

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
    calculation: str | None = None  # e.g. "8 mg/kg × 125 kg = 1000 mg, capped at 800 mg"
    problem: str | None = None  # why there is no dose
    band: WeightBand | None = None  # the weight band that applied
    evidence: tuple[Evidence, ...] = ()


def latest_measurement(snapshot: ClinicalSnapshot, kind: str, now: datetime) -> Measurement | None:
    """Most recent plausible measurement at or before ``now``."""
    found = [m for m in snapshot.measurements_of(kind) if m.time <= now and m.value > 0]
    return max(found, key=lambda m: m.time, default=None)


def body_size(snapshot: ClinicalSnapshot, now: datetime, settings: Settings) -> BodySize:
    """Most recent weight within ``settings.weight_max_age_days`` (and height, for BSA)."""
    weight, weight_problem = _recent(snapshot, "weight", "body weight", "kg", now,
                                     settings.weight_max_age_days, "dose cannot be computed")
    height, height_problem = _recent(snapshot, "height", "height", "cm", now,
                                     settings.height_max_age_days, "body surface area cannot be computed")
    return BodySize(weight, height, weight_problem, height_problem)


def _recent(snapshot: ClinicalSnapshot, kind: str, label: str, unit: str, now: datetime, max_days: int,
            consequence: str) -> tuple[Measurement | None, str | None]:
    m = latest_measurement(snapshot, kind, now)
    if m is None:
        return None, f"no {label} recorded in the last {max_days} days — {consequence}"
    if now - m.time > timedelta(days=max_days):
        return None, (f"no {label} recorded in the last {max_days} days (the most recent, {num(m.value)} {unit} "
                      f"on {day(m.time)}, {m.source}, is older) — {consequence}")
    return m, None


def mosteller_bsa(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    """Body surface area in m², to 0.01 m² as charted (so the shown arithmetic is exact)."""
    return ((height_cm * weight_kg / Decimal(3600)).sqrt()).quantize(CENTI, ROUND_HALF_UP)


def compute_dose(rule: DoseRule, frequency: Frequency | None, size: BodySize) -> DoseResult:
    """One dose (and the daily total) for ``rule`` given ``frequency`` and the patient's size."""
    if rule.basis == "unspecified":
        return DoseResult(None, problem=rule.unspecified_reason)
    evidence: list[Evidence] = []
    band = None
    if rule.basis in ("mg/kg", "mg/kg/day", "mg/m2"):
        if size.weight is None:
            return DoseResult(None, problem=size.weight_problem)
        evidence.append(_evidence("body weight", size.weight))
    weight = size.weight_kg
    doses_per_day = frequency.doses_per_day if frequency else None

    if rule.basis == "mg":
        base, expr = rule.amount, None
    elif rule.basis == "mg/kg":
        band = next((b for b in rule.weight_bands if weight < b.below_kg), None)
        per_kg = band.mg_per_kg if band else rule.amount
        base = per_kg * weight
        banded = f" (weight < {num(band.below_kg)} kg)" if band else ""
        expr = f"{num(per_kg)} mg/kg{banded} × {num(weight)} kg"
    elif rule.basis == "mg/kg/day":
        daily = rule.amount * weight
        if rule.max_mg_per_day is not None:
            daily = min(daily, rule.max_mg_per_day)
        if frequency is None:
            return DoseResult(None, per_day_mg=daily, evidence=tuple(evidence), problem=(
                f"{num(rule.amount)} mg/kg/day × {num(weight)} kg = {num(daily)} mg/day, but the source gives no "
                "dosing interval — divide per local practice"))
        divisions = doses_per_day or Decimal(1)
        base = daily / divisions
        expr = f"{num(rule.amount)} mg/kg/day × {num(weight)} kg = {num(rule.amount * weight)} mg/day"
        if divisions != 1:
            expr += f" ÷ {num(divisions)} doses"
    else:  # mg/m2
        if size.height is None:
            return DoseResult(None, problem=size.height_problem, evidence=tuple(evidence))
        evidence.append(_evidence("height", size.height))
        bsa = mosteller_bsa(size.height_cm, weight)
        base = rule.amount * bsa
        expr = (f"{num(rule.amount)} mg/m² × {num(bsa)} m² (Mosteller: {num(size.height_cm)} cm, "
                f"{num(weight)} kg)")

    dose, cap_note = _capped(base, rule, doses_per_day)
    dose, rounding_note, problem = _rounded(dose, rule, doses_per_day)
    if problem:
        return DoseResult(None, problem=problem, evidence=tuple(evidence))
    dose = _exact_to_centi(dose)
    per_day = _exact_to_centi(dose * doses_per_day) if doses_per_day else None
    calculation = _join_calculation(expr, cap_note, rounding_note)
    return DoseResult(dose, per_day, calculation, None, band, tuple(evidence))


def _capped(base: Decimal, rule: DoseRule, doses_per_day: Decimal | None) -> tuple[Decimal, str | None]:
    """Apply the tighter of the per-dose and per-day caps; describe it if it bit, else list the caps."""
    limits = []
    if rule.max_mg_per_dose is not None:
        limits.append((rule.max_mg_per_dose, "" if rule.max_mg_per_day is None else " per dose"))
    if rule.max_mg_per_day is not None:
        limits.append((rule.max_mg_per_day / (doses_per_day or Decimal(1)),
                       f" per dose ({num(rule.max_mg_per_day)} mg/day)"))
    if limits:
        limit, label = min(limits, key=lambda x: x[0])
        if base > limit:
            return limit, f"= {num(_exact_to_centi(base))} mg, capped at {num(_exact_to_centi(limit))} mg{label}"
    caps = []
    if rule.max_mg_per_dose is not None:
        caps.append(f"{num(rule.max_mg_per_dose)} mg" + (" per dose" if rule.max_mg_per_day else ""))
    if rule.max_mg_per_day is not None:
        caps.append(f"{num(rule.max_mg_per_day)} mg/day")
    return base, ("max " + ", ".join(caps)) if caps else None


def _rounded(dose: Decimal, rule: DoseRule, doses_per_day: Decimal | None) -> tuple[Decimal, str | None, str | None]:
    """The protocol's rounding, if any: (dose, note, problem)."""
    r = rule.rounding
    if r is None:
        return dose, None, None
    label = f" ({r.label})" if r.label else ""
    rounded = (dose / r.step_mg).quantize(Decimal(1), _ROUNDING[r.mode]) * r.step_mg
    caps = [c for c in (rule.max_mg_per_dose,
                        rule.max_mg_per_day / (doses_per_day or 1) if rule.max_mg_per_day else None) if c is not None]
    if caps and rounded > min(caps):
        rounded = (dose / r.step_mg).quantize(Decimal(1), ROUND_FLOOR) * r.step_mg
    if rounded <= 0 and r.max_change_percent is not None and r.max_change_percent < 100:
        # Rounding to 0 mg is a 100 % change: beyond the protocol's tolerance, so not rounded
        # (the same rule that keeps 50 mg from becoming 100 mg keeps 25 mg from becoming 0 mg).
        return dose, (f"not rounded to 0 mg{label}: that would change the dose by 100 % "
                      f"(limit {num(r.max_change_percent)} %)"), None
    if rounded <= 0:
        return dose, None, (f"{num(_exact_to_centi(dose))} mg rounds to 0 mg at {num(r.step_mg)} mg steps{label} — "
                            "dose per prescriber")
    change = abs(rounded - dose) / dose * 100
    if r.max_change_percent is not None and change > r.max_change_percent:
        return dose, (f"not rounded to {num(rounded)} mg{label}: that would change the dose by "
                      f"{num(change.quantize(Decimal(1)))} % (limit {num(r.max_change_percent)} %)"), None
    if rounded == dose:
        return dose, None, None
    return rounded, f"rounded to {num(rounded)} mg{label}", None


def _join_calculation(expr: str | None, cap_note: str | None, rounding_note: str | None) -> str | None:
    """``8 mg/kg × 125 kg = 1000 mg, capped at 800 mg``; a cap alone is only shown with an expression."""
    if expr is None:
        text = cap_note if cap_note and cap_note.startswith("=") else None
        text = text[2:] if text else None  # "1000 mg, capped at ..." without a leading "="
    else:
        text = expr + ((" " if cap_note.startswith("=") else ", ") + cap_note if cap_note else "")
    if rounding_note:
        text = f"{text}, {rounding_note}" if text else rounding_note
    return text


def _exact_to_centi(value: Decimal) -> Decimal:
    """Keep exact decimals (358.8); trim conversion noise beyond 0.01 mg."""
    return value if value == value.quantize(CENTI) else value.quantize(CENTI, ROUND_HALF_UP)


def _evidence(what: str, m: Measurement) -> Evidence:
    return Evidence("context", what, MeasurementReading(m), m.time, m.source)
