"""ICANS findings, drivers, missing inputs and notes in words.

``ICE score 5``, ``level of consciousness: awakens only to touch (RASS -4)``,
``no ICE score in the last 12 h``: what grading found about ICANS, said as the
card, the machine-readable extension and ``crs-cds grade`` say it.
"""
from __future__ import annotations

from datetime import datetime

from clinical.findings import (
    AttributedToOtherCause,
    CapdUsed,
    IcansDriver,
    IcansLatestLess,
    MissingIcansInput,
    ScoreNotUsed,
)
from clinical.neuro import CapdScore, Consciousness, IceScore, MotorWeakness, NeuroFinding, Seizure

from .numbers import hours, number
from .times import stamp

LEVELS = {"alert": "alert", "spontaneous": "awakens spontaneously", "voice": "awakens to voice",
          "tactile": "awakens only to touch", "unarousable": "unarousable"}
OEDEMA = {"focal": "focal cerebral oedema on imaging", "diffuse": "diffuse cerebral oedema on imaging",
          "posturing": "decerebrate or decorticate posturing", "cranial-nerve-vi-palsy": "cranial nerve VI palsy",
          "papilloedema": "papilloedema", "cushings-triad": "Cushing's triad",
          "unspecified": "cerebral oedema (extent not charted)", "none": "no cerebral oedema"}
ITEM_MAX = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1}
SCORES = {"ice": "ICE score", "capd": "CAPD score", "consciousness": "level of consciousness"}


def finding(f: NeuroFinding, *, charted: bool = True) -> str:
    """One finding in the service's words, with what was charted where it adds something (``charted``)."""
    if isinstance(f, IceScore):
        if f.score is None:
            return "ICE not performable: unarousable"
        items = ", ".join(f"{item} {points}/{ITEM_MAX[item]}" for item, points in f.items)
        return f"ICE score {f.score}" + (f" ({items})" if items else "")
    if isinstance(f, CapdScore):
        return "CAPD not performable: unarousable" if f.score is None else f"CAPD score {f.score}"
    if isinstance(f, Seizure):
        return _seizure(f)
    as_charted = f" ({f.original})" if charted else ""
    if isinstance(f, Consciousness):
        return f"level of consciousness: {LEVELS[f.level]}{as_charted}"
    if isinstance(f, MotorWeakness):
        return ("deep focal motor weakness" if f.character == "deep-focal" else "no motor deficit") + as_charted
    return OEDEMA[f.character] + as_charted


def _seizure(f: Seizure) -> str:
    duration = f" ({number(round(f.duration_minutes, 1))} min)" if f.duration_minutes is not None else ""
    match f.character:
        case "none":
            return "no seizure"
        case "prolonged":
            return f"prolonged seizure (> 5 min){duration}"
        case "repetitive":
            return "repetitive seizures without return to baseline"
        case "resolved":
            return f"seizure, resolved rapidly{duration}"
    if f.duration_minutes is not None:
        return f"seizure{duration}"
    return "seizure, resolved" if f.resolved else "seizure (duration not charted)"


def driver(d: IcansDriver, *, charted: bool = True) -> str:
    """``ICE score 5``, ``ICE score 0, unarousable``, ``level of consciousness: awakens to voice (...)``;
    ``charted=False`` leaves out the row as charted (the card's short line)."""
    f = d.finding
    if isinstance(f, IceScore) and d.ice_zero is not None:
        return {"unarousable": "ICE score 0, unarousable", "awake": "ICE score 0, awake (global aphasia)",
                "unknown": "ICE score 0 (level of consciousness not charted)"}[d.ice_zero]
    if isinstance(f, IceScore) and f.score is not None:
        return f"ICE score {f.score}"
    if isinstance(f, CapdScore) and f.score is not None:
        return f"CAPD score {f.score}" + (" (delirium)" if d.tier >= 3 else "")
    return finding(f, charted=charted)


def not_charted(gaps: list[MissingIcansInput]) -> str:
    """``no ICE score or level of consciousness in 12 h``: the required domains nothing was charted for, in one
    phrase."""
    what = " or ".join(dict.fromkeys(SCORES.get(m.domain, m.domain) for m in gaps))
    return f"no {what} in {hours(max(m.window_hours for m in gaps))}"


def missing(m: MissingIcansInput) -> str:
    """``no ICE score in the last 12 h``."""
    span = hours(m.window_hours)
    f = m.finding
    match m.reason:
        case "none-in-window":
            what = SCORES.get(m.domain, m.domain)
            verb = "charted " if m.domain == "consciousness" else ""
            return f"no {what} {verb}in the last {span}"
        case "ice-zero-consciousness":
            assert f is not None
            return (f"ICE score 0 at {stamp(f.time)} ({f.source}) with no level of consciousness charted near it: "
                    "unarousable (grade 4) or awake with global aphasia (grade 3) cannot be told")
        case "seizure-duration":
            assert f is not None
            return (f"seizure at {stamp(f.time)} ({f.source}): neither its duration nor its resolution is "
                    "charted — grade 4 if longer than 5 min or repetitive")
    assert f is not None
    return f"cerebral oedema at {stamp(f.time)} ({f.source}) charted without its extent — grade 4 if diffuse"


def note(n: AttributedToOtherCause | IcansLatestLess | CapdUsed | ScoreNotUsed, now: datetime) -> str:
    match n:
        case AttributedToOtherCause(finding=f):
            assert f.attribution is not None
            cause = f" ({f.attribution.cause})" if f.attribution.cause else ""
            return (f"{finding(f)} at {stamp(f.time)} ({f.source}) charted as due to another cause{cause} "
                    f"by {f.attribution.source}: not counted for ICANS")
        case IcansLatestLess(worst=worst, latest=latest, window_hours=window):
            return (f"graded by the most severe {SCORES.get(worst.domain, worst.domain)} finding in the last "
                    f"{hours(window)} ({finding(worst)} at {stamp(worst.time)}); latest: {finding(latest)} at "
                    f"{stamp(latest.time)}")
        case CapdUsed(charted=True):
            return "CAPD score counted beside the ICE score (site setting, e.g. developmental delay)"
        case CapdUsed(age_years=age, under_age_years=limit):
            return f"graded with the CAPD score, not the ICE score: age {number(age or 0)} y, under {number(limit)}"
        case ScoreNotUsed(finding=f, age_years=age):
            other = "CAPD" if isinstance(f, IceScore) else "ICE"
            years = f"age {number(age)} y" if age is not None else "age unknown"
            return f"{finding(f)} at {stamp(f.time)} ({f.source}) not used: {years}, the {other} score applies"
    raise TypeError(f"not an ICANS note: {n!r}")
