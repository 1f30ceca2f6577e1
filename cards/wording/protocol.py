"""Protocol rules in words: frequencies, dose rules, repeat limits and conditions.

One place, so that a card's item line and ``crs-cds protocols show`` describe a
rule identically.
"""
from __future__ import annotations

from decimal import Decimal

from protocols.model import Condition, DoseCount, DoseRule, Frequency, RepeatLimits

from . import readings
from .numbers import num


def frequency_text(freq: Frequency | None, *, repeatable: bool = False) -> str:
    """``every 6 h``, ``once daily``, ``now`` (a single dose that may be repeated) or ``once``."""
    if freq is None:
        return ""
    if freq.once:
        return "now" if repeatable else "once"
    if freq.every_hours == 24:
        return "once daily"
    return f"every {num(freq.every_hours)} h" if freq.every_hours is not None else ""


def dose_text(rule: DoseRule) -> str:
    """``8 mg/kg (12 mg/kg if < 30 kg), max 800 mg per dose``."""
    if rule.basis == "unspecified":
        return f"dose not specified ({rule.unspecified_reason})"
    unit = {"mg": "mg", "mg/kg": "mg/kg", "mg/kg/day": "mg/kg/day", "mg/m2": "mg/m²"}[rule.basis]
    text = f"{num(rule.amount)} {unit}" if rule.amount is not None else unit
    if rule.weight_bands:
        text += " (" + ", ".join(f"{num(b.mg_per_kg)} mg/kg if < {num(b.below_kg)} kg" for b in rule.weight_bands) + ")"
    caps = []
    if rule.max_mg_per_dose is not None:
        caps.append(f"max {num(rule.max_mg_per_dose)} mg per dose")
    if rule.max_mg_per_day is not None:
        caps.append(f"max {num(rule.max_mg_per_day)} mg/day")
    if rule.rounding is not None:
        caps.append(f"rounded {rule.rounding.mode} to {num(rule.rounding.step_mg)} mg"
                    + (f" ({rule.rounding.label})" if rule.rounding.label else ""))
    return ", ".join([text] + caps)


def limits_text(limits: RepeatLimits | None) -> str:
    """``may repeat every 8 h, max 3 doses in 24 h, 4 in total``."""
    if limits is None:
        return ""
    parts = []
    if limits.min_interval_hours is not None and limits.min_interval_hours >= 48:
        # e.g. siltuximab "cannot repeat in < 3 weeks": a lock-out, not a dosing rhythm
        parts.append(f"not to be repeated within {num(limits.min_interval_hours / 24)} days")
    elif limits.min_interval_hours is not None:
        parts.append(f"may repeat every {num(limits.min_interval_hours)} h")
    if limits.max_doses_per_24h is not None:
        parts.append(f"max {limits.max_doses_per_24h} doses in 24 h")
    if limits.max_doses_since_index_therapy is not None:
        parts.append(f"{limits.max_doses_since_index_therapy} in total")
    return ", ".join(parts)


def condition_text(cond: Condition) -> str:
    """The rule a condition states, e.g. ``≥ 2 prior tocilizumab doses``."""
    v = cond.value
    if isinstance(v, DoseCount):
        what = v.drug or f"{v.drug_class} class"
        if cond.name == "min_doses_since_onset":
            return f"≥ {v.count} {what} doses since onset"
        return (f"≥ {v.count} prior {what} doses" if cond.name == "min_prior_doses"
                else (f"no prior {what}" if v.count == 0 else f"≤ {v.count} prior {what} doses"))
    if isinstance(v, tuple):  # any_of
        return "(" + " or ".join(condition_text(c) for c in v) + ")"
    texts = {
        "hypotension_persisting": "hypotension persisting", "febrile": "febrile",
        "fever_may_be_masked": "fever may be masked", "crs_present": "CRS present", "icans_present": "ICANS present",
        "index_therapy_running": "index therapy infusion running",
    }
    if cond.name in texts:
        return texts[cond.name] if v else f"not {texts[cond.name]}"
    if cond.name == "fever_duration_hours_gt" and isinstance(v, Decimal):
        return f"fever for > {num(v)} h"
    if cond.name == "fever_duration_hours_gte" and isinstance(v, Decimal):
        return f"fever for ≥ {num(v)} h"
    if cond.name == "anc_below" and isinstance(v, Decimal):
        return f"ANC < {num(v)} × 10⁹/L"
    if cond.name == "crs_grade_at_least" and isinstance(v, Decimal):
        return f"CRS grade ≥ {num(v)}"
    if cond.name == "index_class":
        return f"after {readings.index_therapy(str(v))}"
    if cond.name == "drug_class_planned_or_running":
        return f"{v} planned or running"
    return f"{cond.name}: {v}"
