"""Evidence in words: what each typed fact shows (``value``) and the fact in one line (``line``)."""
from __future__ import annotations

from clinical import (
    Administered,
    CountedDose,
    Evidence,
    MeasurementReading,
    NeuroReading,
    PressureReading,
    SaturationReading,
    SupportReading,
    TemperatureReading,
)

from . import neuro, readings
from .numbers import hours, num, number, recorded, unit


def value(e: Evidence) -> str:
    """``39.2 °C (highest in 24 h)``, ``norepinephrine 0.08 µg/kg/min, running``, ``dose given, 560 mg``."""
    fact = e.fact
    if isinstance(fact, TemperatureReading):
        t = fact.temperature
        if fact.as_recorded:
            return recorded(t.original) if t.original else f"{t.celsius} °C"
        label = {"highest": f" (highest in {hours(fact.window_hours or 0)})", "latest": " (latest)",
                 "onset": " (CRS onset)"}.get(fact.mark or "", "")
        return readings.temperature(t) + label
    if isinstance(fact, PressureReading):
        return (f"{fact.measure} {number(fact.mmhg)} mmHg, lowest in {hours(fact.window_hours)}; "
                f"{readings.threshold(fact.threshold, fact.measure)}")
    if isinstance(fact, SupportReading):
        return readings.support(fact.support, fact.tier) + (" (latest)" if fact.latest else "")
    if isinstance(fact, SaturationReading):
        text = f"SpO2 {number(fact.spo2.percent)} %"
        if fact.lowest_in_hours is not None:
            text += f", lowest in {hours(fact.lowest_in_hours)}"
        return text + (" (latest)" if fact.latest else "")
    if isinstance(fact, Administered):
        return _administered(fact)
    if isinstance(fact, NeuroReading):
        mark = {"latest": " (latest)", "attributed": " — charted as due to another cause, not counted"}
        return neuro.finding(fact.finding) + mark.get(fact.mark or "", "")
    if isinstance(fact, CountedDose):
        given = "pending order" if fact.pending else (
            "stopped before completion — counted as given" if fact.stopped else "dose given")
        return given + (f", {num(fact.dose_mg)} mg" if fact.dose_mg is not None else "")
    return _measurement(fact)


def _administered(fact: Administered) -> str:
    a = fact.administration
    if fact.context == "index-therapy":
        drug = readings.drug(a.drug)
        name = a.display if a.display.lower() == drug else f"{a.display} ({drug})"
        return f"{name}, day +{fact.day}"
    if fact.context == "after-onset":
        return f"{readings.drug(a.drug)}{readings.dose(a)} given after CRS onset"
    if fact.context == "infusion":
        return readings.administration(a, fact.running)
    if fact.context == "inotrope":
        return readings.administration(a, fact.running) + " (inotrope, not counted by ASTCT)"
    return f"{readings.drug(a.drug)} {a.status}" + (f", {num(a.dose_mg)} mg" if a.dose_mg is not None else "")


def _measurement(fact: MeasurementReading) -> str:
    m = fact.measurement
    if m.kind == "anc":
        return f"{num(m.value)} × 10⁹/L"
    text = f"{num(m.value)} {unit(m.unit)}"
    as_recorded = recorded(m.original) if m.original else ""
    if as_recorded and as_recorded.replace(" ", "") != text.replace(" ", ""):
        text += f" (recorded as {as_recorded})"
    return text


# Facts whose value already names what they are ("SpO2 95 %", "ICE score 5", "norepinephrine ..., running").
_SELF_NAMED = (Administered, SaturationReading, NeuroReading)


def line(e: Evidence) -> str:
    """The fact in one line, naming the thing once: ``temperature 39.2 °C``, ``SpO2 95 %``,
    ``norepinephrine 0.08 µg/kg/min, running`` (never "norepinephrine norepinephrine ...")."""
    if isinstance(e.fact, _SELF_NAMED):
        return value(e)
    return f"{e.what} {value(e)}"
