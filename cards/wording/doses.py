"""A dose's arithmetic and why there is no dose, in words (the card's item line, order checks, the CLI).

``8 mg/kg × 125 kg = 1000 mg, capped at 800 mg``: the steps the dose engine took,
in the order a pharmacist redoes them. A cap that did not bite is listed only
after an expression (``8 mg/kg × 70 kg, max 800 mg``), never on its own.
"""
from __future__ import annotations

from protocols.calculation import (
    Base,
    CapApplied,
    CapsListed,
    DailyCapDivided,
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

from .numbers import num
from .times import day

_MEASURES = {"weight": ("body weight", "kg", "dose cannot be computed"),
             "height": ("height", "cm", "body surface area cannot be computed")}


def base(b: Base) -> str:
    """``12 mg/kg (weight < 30 kg) × 29.9 kg``, ``2 mg/kg/day × 70 kg = 140 mg/day ÷ 2 doses``,
    ``1500 mg/m² × 1.84 m² (Mosteller: 175 cm, 70 kg)``."""
    if isinstance(b, PerKg):
        banded = f" (weight < {num(b.band_below_kg)} kg)" if b.band_below_kg is not None else ""
        return f"{num(b.mg_per_kg)} mg/kg{banded} × {num(b.weight_kg)} kg"
    if isinstance(b, PerKgPerDay):
        text = f"{num(b.mg_per_kg_per_day)} mg/kg/day × {num(b.weight_kg)} kg = {num(b.per_day_mg)} mg/day"
        return text + (f" ÷ {num(b.doses_per_day)} doses" if b.doses_per_day != 1 else "")
    return f"{num(b.mg_per_m2)} mg/m² × {num(b.bsa_m2)} m² (Mosteller: {num(b.height_cm)} cm, {num(b.weight_kg)} kg)"


def factors(b: Base) -> str:
    """The base expression without its result: ``8 mg/kg × 70 kg`` (an order check's summary, which
    states the result itself)."""
    if isinstance(b, PerKgPerDay):
        return f"{num(b.mg_per_kg_per_day)} mg/kg/day × {num(b.weight_kg)} kg"
    if isinstance(b, PerM2):
        return f"{num(b.mg_per_m2)} mg/m² × {num(b.bsa_m2)} m²"
    return base(b)


def _cap(c: CapApplied | CapsListed) -> str:
    if isinstance(c, CapApplied):
        if c.cap == "per-day":
            label = f" per dose ({num(c.max_mg_per_day)} mg/day)" if c.max_mg_per_day is not None else " per dose"
        else:
            label = "" if c.max_mg_per_day is None else " per dose"
        return f"{num(c.uncapped_mg)} mg, capped at {num(c.cap_mg)} mg{label}"
    caps = []
    if c.max_mg_per_dose is not None:
        caps.append(f"{num(c.max_mg_per_dose)} mg" + (" per dose" if c.max_mg_per_day else ""))
    if c.max_mg_per_day is not None:
        caps.append(f"{num(c.max_mg_per_day)} mg/day")
    return "max " + ", ".join(caps)


def _rounding(r: Rounded | NotRounded) -> str:
    label = f" ({r.label})" if r.label else ""
    if isinstance(r, Rounded):
        return f"rounded to {num(r.to_mg)} mg{label}"
    return (f"not rounded to {num(r.to_mg)} mg{label}: that would change the dose by {num(r.change_percent)} % "
            f"(limit {num(r.limit_percent)} %)")


def calculation(c: DoseCalculation | DailyCapDivided | None, *, caps: bool = True) -> str | None:
    """The whole arithmetic, or None when there is nothing to show (a fixed dose within its caps);
    ``caps=False`` leaves out caps that did not bite (an order's one-line label)."""
    if c is None:
        return None
    if isinstance(c, DailyCapDivided):
        return f"{num(c.max_mg_per_day)} mg/day ÷ {num(c.doses_per_day)} doses"
    text: str | None
    if c.base is None:
        text = _cap(c.cap) if isinstance(c.cap, CapApplied) else None
    else:
        text = base(c.base)
        if isinstance(c.cap, CapApplied):
            text += " = " + _cap(c.cap)
        elif c.cap is not None and caps:
            text += ", " + _cap(c.cap)
    if c.rounding is not None:
        text = f"{text}, {_rounding(c.rounding)}" if text else _rounding(c.rounding)
    return text


def problem(p: DoseProblem | None, *, drug: str | None = None) -> str:
    """Why there is no dose; ``drug`` names whose dose cannot be computed (``— tocilizumab dose ...``)."""
    if isinstance(p, NoRecentMeasurement):
        label, unit, consequence = _MEASURES[p.measure]
        if p.measure == "weight" and drug:
            consequence = f"{drug} {consequence}"
        m = p.latest
        if m is None:
            return f"no {label} recorded in the last {p.max_age_days} days — {consequence}"
        return (f"no {label} recorded in the last {p.max_age_days} days (the most recent, {num(m.value)} {unit} "
                f"on {day(m.time)}, {m.source}, is older) — {consequence}")
    if isinstance(p, SuspectWeight):
        latest, previous = p.latest, p.previous
        return (f"body weight {num(latest.value)} kg on {day(latest.time)} ({latest.source}) differs by "
                f"{num(p.change_percent)} % from {num(previous.value)} kg on {day(previous.time)} ({previous.source}), "
                f"more than {num(p.limit_percent)} % within {num(p.within_days)} days: suspect — confirm the weight; "
                "no mg/kg dose is computed from it")
    if isinstance(p, NoDosingInterval):
        return (f"{num(p.mg_per_kg_per_day)} mg/kg/day × {num(p.weight_kg)} kg = {num(p.per_day_mg)} mg/day, but "
                "the source gives no dosing interval — divide per local practice")
    if isinstance(p, RoundsToZero):
        label = f" ({p.label})" if p.label else ""
        return f"{num(p.dose_mg)} mg rounds to 0 mg at {num(p.step_mg)} mg steps{label} — dose per prescriber"
    if isinstance(p, UnspecifiedDose) and p.reason:
        return p.reason
    return "the protocol gives no dose"
