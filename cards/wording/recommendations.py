"""A protocol recommendation's own line, as the card, the FHIR order's dosage text and the CLI say it.

``Tocilizumab 560 mg IV now (8 mg/kg × 70 kg, max 800 mg); may repeat every 8 h,
max 3 doses in 24 h, 4 in total``: dose, route, timing, arithmetic and limits in
one line a clinician can verify. Services, advice and warnings say their
protocol text.
"""
from __future__ import annotations

from protocols import MedicationRecommendation, Recommendation, WarningRecommendation
from protocols.recommendation import OxygenCheck

from . import doses, readings
from .numbers import num, number
from .protocol import dose_text, frequency_text, limits_text
from .reasons import refusal
from .times import stamp


def text(rec: Recommendation | WarningRecommendation) -> str:
    """The item's line: a medication's dose and timing, a warning naming the index therapy where it says
    so, else the protocol's text."""
    if isinstance(rec, MedicationRecommendation):
        return medication(rec)
    if isinstance(rec, WarningRecommendation) and rec.names_index_therapy:
        return f"{rec.text} — not recommended after {readings.index_therapy(rec.index_class)}"
    return rec.text


def oxygen_check_summary(check: OxygenCheck) -> str:
    """``Check oxygen support: none charted — SpO2 88 % is below the 92 % target``."""
    return (f"Check oxygen support: none charted — SpO2 {number(check.spo2.percent)} % is below the "
            f"{num(check.target_percent)} % target")


def oxygen_check(check: OxygenCheck) -> str:
    """``Check oxygen support: none charted — SpO2 88 % at ... is below the protocol's target of 92 %``."""
    s = check.spo2
    return (f"Check oxygen support: none charted — SpO2 {number(s.percent)} % at {stamp(s.time)} ({s.source}) is "
            f"below the protocol's target of {num(check.target_percent)} % ({check.source.label}). ASTCT grades "
            "hypoxia by the oxygen support the patient is on: none is charted, so none is counted.")


def timing(rec: MedicationRecommendation) -> str:
    """``every 6 h``, or ``now`` for a single dose (the order's timing count is 1)."""
    every = rec.every_hours
    if rec.once or not every:
        return "now"
    return "once daily" if every == 24 else f"every {number(every)} h"


def order(rec: MedicationRecommendation, *, duration: bool = True) -> str:
    """The complete order in one line, as a suggestion's label: ``Tocilizumab 560 mg IV now (8 mg/kg × 70 kg)``,
    ``Methylprednisolone 500 mg IV every 12 h, for 3 days, then taper``; without a dose, drug and route
    (``Methylprednisolone IV``)."""
    if rec.dose is None:
        return f"{rec.drug.display} {rec.route}"
    line = f"{rec.drug.display} {num(rec.dose)} mg {rec.route} {timing(rec)}"
    calculation = doses.calculation(rec.calculation, caps=False)
    if calculation:
        line += f" ({calculation})"
    return line + (f", {rec.duration}" if rec.duration and duration else "")


def medication(rec: MedicationRecommendation) -> str:
    """One line a clinician can verify: dose, route, timing, arithmetic, limits."""
    name = rec.drug.display
    route = rec.route + (f" (or {'/'.join(rec.alternative_routes)})" if rec.alternative_routes else "")
    check = rec.repeat
    if check and check.exhausted:
        return f"{name}: no further doses — {refusal(check)}. {rec.escalation or 'Escalate per protocol.'}"
    timing = frequency_text(rec.frequency, repeatable=rec.limits is not None)
    not_now = (f" — not now: {refusal(check)}; next dose allowed at "
               f"{stamp(check.next_allowed) if check.next_allowed else 'an unknown time'}"
               if check and not check.allowed else "")
    if rec.dose is None:
        rule = "" if rec.rule.basis == "unspecified" else f" {dose_text(rec.rule)},"
        return f"{name}{rule} {route}{' ' + timing if timing else ''}: {doses.problem(rec.problem)}{not_now}"
    line = f"{name} {num(rec.dose)} mg {route}" + (f" {timing}" if timing else "")
    calculation = doses.calculation(rec.calculation)
    details = [calculation] if calculation else []
    if rec.per_day is not None and rec.per_day != rec.dose and rec.rule.basis != "mg/kg/day":
        details.append(f"total {num(rec.per_day)} mg/day")
    if details:
        line += f" ({'; '.join(details)})"
    if rec.duration:
        line += f", {rec.duration}"
    if rec.regimen:
        line += f" — regimen: {rec.regimen}"
    if not_now:
        return line + not_now
    if rec.limits is not None:
        line += f"; {limits_text(rec.limits)}"
    return line
