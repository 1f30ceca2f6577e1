"""Order-check findings in words: the card's summary (under 140 characters) and its reasons.

``Tocilizumab 900 mg exceeds the 800 mg maximum dose: change to 560 mg (8 mg/kg × 70 kg)``:
what is wrong with the draft and what the protocol would order instead, from the
typed problem ``protocols.order_checks`` found.
"""
from __future__ import annotations

from protocols.calculation import SuspectWeight
from protocols.findings import (
    AboveCap,
    AboveMaximum,
    Maximum,
    NeverGive,
    NoWeight,
    OffDose,
    OrderFinding,
    Regimen,
    RegimenMismatch,
    RepeatRefused,
)

from ..card import SUMMARY_LIMIT
from . import doses, readings
from .numbers import num
from .reasons import repeat
from .times import stamp


def summary(f: OrderFinding) -> str:
    """One line: the problem and, where there is one, the protocol's correction."""
    p = f.problem
    match p:
        case RepeatRefused(drug=drug, verdict=verdict, limits=limits):
            next_allowed = stamp(verdict.next_allowed) if verdict.next_allowed else "an unknown time"
            if verdict.exhausted:
                return (f"{drug} dose not allowed: {len(verdict.since_index)} doses already given, the maximum is "
                        f"{limits.max_doses_since_index_therapy}: cancel and escalate")
            if limits.max_doses_per_24h is not None and len(verdict.in_24h) >= limits.max_doses_per_24h:
                return (f"{drug}: would be dose {len(verdict.in_24h) + 1} in 24 h (max {limits.max_doses_per_24h}); "
                        f"next allowed {next_allowed}")
            return f"{drug} dose not allowed now: next dose allowed at {next_allowed}"
        case NoWeight(drug=drug, given_mg=given, above_cap=cap, why=why):
            over = f" and exceeds the {num(cap)} mg maximum" if cap is not None else ""
            weight = "the latest body weight is suspect" if isinstance(why, SuspectWeight) else "no recent body weight"
            return f"{drug} {num(given)} mg cannot be checked: {weight}{over}"
        case AboveCap(drug=drug, given_mg=given):
            text = (f"{drug} {num(given)} mg exceeds the {num(p.cap_mg)} mg maximum dose: "
                    f"change to {num(p.expected_mg)} mg")
            return _with_factors(text, p)
        case OffDose(drug=drug, given_mg=given):
            direction = "above" if given > p.expected_mg else "below"
            text = (f"{drug} {num(given)} mg is {p.off_percent} % {direction} the protocol dose: "
                    f"change to {num(p.expected_mg)} mg")
            return _with_factors(text, p)
        case NeverGive(drug=drug, label=label, index_class=index_class):
            return f"Do not give {drug}: {label} is not recommended after {readings.index_therapy(index_class)}"
        case RegimenMismatch(drug=drug, given=given, protocol=protocol, grade=grade):
            return f"{drug} {_regimen(given)} differs from the grade {grade} protocol regimen: {_regimen(protocol)}"
        case AboveMaximum(drug=drug, given_mg=given):
            timing = f" every {num(p.every_hours)} h" if p.every_hours else ""
            per_day = f" ({num(given * p.doses_per_day)} mg/day)" if p.every_hours else ""
            return (f"{drug} {num(given)} mg{timing}{per_day} exceeds the {_maximum(_headline_maximum(p))}: "
                    f"change to {num(p.corrected_mg)} mg{timing}")
    raise TypeError(f"not an order-check problem: {p!r}")


def reasons(f: OrderFinding) -> tuple[str, ...]:
    """What is wrong, one fact per line (the card's **Problem** list)."""
    p = f.problem
    match p:
        case RepeatRefused(verdict=verdict):
            return tuple(repeat(r) for r in verdict.reasons)
        case NoWeight(why=why):
            return (doses.problem(why) if why is not None else "no recent body weight",)
        case AboveCap(given_mg=given, cap_mg=cap):
            return (f"{num(given)} mg is above the protocol's maximum of {num(cap)} mg per dose",)
        case OffDose(given_mg=given):
            return (f"{num(given)} mg differs from the protocol dose {num(p.expected_mg)} mg by {p.off_percent} % "
                    f"(tolerance {num(p.tolerance_percent)} %)",)
        case NeverGive(warning=warning):
            return (warning.text,)
        case RegimenMismatch(drug=drug, protocol=protocol, grade=grade):
            return (f"The protocol gives {drug.lower()} {_regimen(protocol)} at CRS grade {grade}",)
        case AboveMaximum(given_mg=given, every_hours=every):
            timing = f" every {num(every)} h" if every else ""
            return tuple(f"{num(given)} mg{timing} is above the {_maximum(m)}" for m in p.exceeded)
    raise TypeError(f"not an order-check problem: {p!r}")


def _with_factors(text: str, p: AboveCap | OffDose) -> str:
    """The summary with the dose's factors (``8 mg/kg × 70 kg``) when they fit in the summary."""
    base = p.calculation.base if p.calculation else None
    factors = doses.factors(base) if base is not None else None
    if factors and len(text) + len(factors) + 3 < SUMMARY_LIMIT:
        text += f" ({factors})"
    return text


def _regimen(r: Regimen) -> str:
    """``10 mg IV every 6 h`` (the draft: ``10 mg every 12 h``)."""
    text = f"{num(r.dose_mg)} mg" + (f" {r.route}" if r.route else "")
    return text + (f" every {num(r.every_hours)} h" if r.every_hours else "")


def _maximum(m: Maximum) -> str:
    return f"{num(m.mg)} mg per-dose maximum" if m.per == "dose" else f"{num(m.mg)} mg/day maximum"


def _headline_maximum(p: AboveMaximum) -> Maximum:
    """The daily maximum when the draft exceeds it (it says the most), else the per-dose one."""
    return next((m for m in p.exceeded if m.per == "day"), p.exceeded[0])
