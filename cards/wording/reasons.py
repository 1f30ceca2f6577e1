"""Why a protocol item applies, why a dose is refused, and the protocol's notes, in words.

``2 tocilizumab doses since the index therapy (needs ≥ 1)``, ``last dose at
2026-11-21 09:00 UTC: the minimum interval is 8 h``: each typed reason from the
protocols layer as a clinician checks it against the chart.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from protocols.history import DailyLimitReached, IntervalNotElapsed, RepeatCheck, RepeatReason, TotalLimitReached
from protocols.reasons import (
    AnotherOptionRecommended,
    ClassNotPlannedOrRunning,
    ClassPlanned,
    ClassRunning,
    CrsNow,
    FebrileNow,
    FeverDuration,
    HypotensionNow,
    IcansNow,
    IndexClassIs,
    IndexTherapyRunning,
    LatestAnc,
    MaskingApplied,
    MaskingTherapyGiven,
    NoAnc,
    NoMaskingTherapy,
    OnsetUnknown,
    PriorDoses,
    Reason,
    StaleAnc,
)
from protocols.recommendation import (
    IndexTherapyUnknown,
    LowerBoundActions,
    NoCrs,
    NoIcans,
    ProtocolNote,
    WarningNotEvaluated,
)

from .numbers import hours, num
from .readings import index_therapy
from .times import stamp, when


def reason(r: Reason) -> str:
    """One condition's outcome as a checkable fact."""
    match r:
        case PriorDoses():
            since = "since onset" if r.since_onset else "since the index therapy" if r.since_index else "recorded"
            if r.bound == "min":
                need = f"needs ≥ {r.count}"
            else:
                need = "needs none" if r.count == 0 else f"needs ≤ {r.count}"
            return f"{r.given} {r.what} dose{'s' if r.given != 1 else ''} {since} ({need})"
        case HypotensionNow(grade=None):
            return "hypotension cannot be assessed (no recent blood pressure or vasopressor data)"
        case HypotensionNow(grade=grade):
            return f"hypotension present now (hypotension grade {grade})" if (grade or 0) >= 2 else "no hypotension now"
        case FebrileNow(present=present):
            return "febrile now" if present else "not febrile now"
        case FeverDuration():
            need = f"needs {'>' if r.strict else '≥'} {num(r.limit_hours)} h"
            if r.hours is None or r.onset is None:
                why = "no fever onset recorded" if r.onset is None else "not febrile now"
                return f"fever duration: {why} ({need})"
            return f"fever for {r.hours:.0f} h since onset at {stamp(r.onset)} ({need})"
        case NoAnc(max_age_hours=max_age):
            return f"no ANC recorded in the last {hours(max_age)}: neutropenia cannot be assessed"
        case StaleAnc(anc=anc):
            return (f"no ANC in the last {hours(r.max_age_hours)} (latest {num(anc.value)} × 10⁹/L at "
                    f"{stamp(anc.time)}, {anc.source}): neutropenia cannot be assessed")
        case LatestAnc(anc=anc):
            return f"latest ANC {num(anc.value)} × 10⁹/L at {stamp(anc.time)} (threshold < {num(r.threshold)})"
        case ClassPlanned(drug_class=drug_class):
            return f"{drug_class} in the recommendations"
        case ClassRunning(drug_class=drug_class):
            return f"{drug_class} given in the last {hours(r.window_hours)} or running ({', '.join(r.drugs)})"
        case ClassNotPlannedOrRunning(drug_class=drug_class):
            return f"no {drug_class} planned or running"
        case MaskingApplied():
            return "grading applied the masked-fever rule"
        case MaskingTherapyGiven(drugs=drugs):
            return "antipyretic/anticytokine therapy given: " + ", ".join(drugs)
        case NoMaskingTherapy():
            return "no antipyretic or anticytokine therapy given"
        case AnotherOptionRecommended():
            return "another option of the same choice is recommended"
        case CrsNow(grade=grade, at_least=at_least):
            now = "no CRS now" if grade is None else f"CRS grade {grade} now"
            return now + (f" (needs ≥ {at_least})" if at_least is not None else "")
        case IcansNow(grade=grade):
            return "no ICANS now" if grade is None else f"ICANS grade {grade} now"
        case IndexTherapyRunning(administration=admin, running=running):
            if admin is None:
                return "no index therapy recorded"
            state = "running" if running else "not running"
            return f"{admin.display} {state} now (since {stamp(admin.start)}, {admin.source})"
        case IndexClassIs(index_class=actual, wanted=wanted):
            if actual is None:
                return f"index therapy class not known (the rule is for {index_therapy(wanted)})"
            return f"index therapy: {index_therapy(actual)}"
        case OnsetUnknown():
            return "no onset documented: doses since onset cannot be counted"
    raise TypeError(f"not a reason: {r!r}")


def repeat(r: RepeatReason) -> str:
    """One repeat limit a dose now would break."""
    match r:
        case TotalLimitReached():
            since = "since the index therapy" if r.index_known else "recorded (index therapy start unknown)"
            return f"{r.given} doses given {since}: the maximum is {r.maximum} in total"
        case IntervalNotElapsed():
            return f"last dose at {stamp(r.last)}: the minimum interval is {num(r.min_interval_hours)} h"
        case DailyLimitReached():
            return (f"{r.given} doses in the last 24 h: the maximum is {r.maximum}; the dose of {stamp(r.leaving)} "
                    f"leaves the 24-h window at {stamp(r.leaves_at)}")
    raise TypeError(f"not a repeat-limit reason: {r!r}")


def refusal(check: RepeatCheck) -> str:
    """Every limit a dose now would break, in one line."""
    return "; ".join(repeat(r) for r in check.reasons)


def limited(check: RepeatCheck, now: datetime) -> str:
    """The limits a dose now would break, as briefly as a card says them: ``3 doses in 24 h, max 3; last dose
    3 h ago, at least 8 h apart`` (``refusal`` has every time and date)."""
    parts = []
    for r in check.reasons:
        match r:
            case TotalLimitReached():
                parts.append(f"{r.given} doses given, max {r.maximum} in total")
            case IntervalNotElapsed():
                parts.append(f"last dose {when(r.last, now, absolute=False)}, at least "
                             f"{num(r.min_interval_hours)} h apart")
            case DailyLimitReached():
                parts.append(f"{r.given} doses in 24 h, max {r.maximum}")
    return "; ".join(parts)


def note(n: ProtocolNote) -> str:
    """One of the protocol's notes on these recommendations."""
    match n:
        case NoCrs(status=status):
            return f"No CRS grade 1-4 (assessment status: {status}): the protocol proposes no treatment."
        case NoIcans(section=False):
            return "The protocol has no ICANS section: no ICANS actions."
        case NoIcans(status=status):
            return f"No ICANS grade 1-4 (ICANS status: {status}): no ICANS actions."
        case LowerBoundActions(grade=grade):
            return (f"The grade is a lower bound because data are missing: these are the grade {grade} actions, "
                    "and the true grade may be higher.")
        case IndexTherapyUnknown():
            return "Index therapy start unknown: every recorded dose counts towards total-dose limits."
        case WarningNotEvaluated():
            return not_assessed(n) + "."
    raise TypeError(f"not a protocol note: {n!r}")


def not_assessed(n: WarningNotEvaluated) -> str:
    """What a warning needed and the data lacked, as the clinician names it:
    ``Neutropenia not assessed: no neutrophil count in 48 h`` (never the warning's id)."""
    lines = dict.fromkeys(_unassessed(r) for r in n.reasons if _undecided(r))
    return "; ".join(lines) or f"Not assessed ({n.text}): {'; '.join(reason(r) for r in n.reasons)}"


def _undecided(r: Reason) -> bool:
    return isinstance(r, NoAnc | StaleAnc) or (isinstance(r, HypotensionNow) and r.grade is None)


def _unassessed(r: Reason) -> str:
    match r:
        case NoAnc(max_age_hours=max_age):
            return f"Neutropenia not assessed: no neutrophil count in {hours(max_age)}"
        case StaleAnc(anc=anc, max_age_hours=max_age):
            return (f"Neutropenia not assessed: the last neutrophil count ({num(anc.value)} × 10⁹/L, "
                    f"{stamp(anc.time)}, {anc.source}) is older than {hours(max_age)}")
    return "Hypotension not assessed: no recent blood pressure or vasopressor data"


def until(r: Reason, now: datetime | None = None) -> str:
    """When an order's own condition would hold, from the reason it does not hold now: ``if fever lasts > 24 h:
    from 2026-11-22 06:00 UTC (in 18 h) if still febrile``, ``only if no tocilizumab was given before (1 given)``."""
    match r:
        case FeverDuration(limit_hours=limit, strict=strict, onset=onset, hours=lasted):
            bound = ">" if strict else "≥"
            if onset is None:
                return f"if fever lasts {bound} {num(limit)} h (no fever onset recorded)"
            if lasted is None:
                return f"if fever lasts {bound} {num(limit)} h (not febrile now)"
            due = onset + timedelta(hours=float(limit))
            if now is not None and due > now:
                return f"if fever lasts {bound} {num(limit)} h: from {when(due, now)} if still febrile"
            return f"if fever lasts {bound} {num(limit)} h (fever for {lasted:.0f} h since onset at {stamp(onset)})"
        case PriorDoses(bound="max", count=0, what=what, given=given):
            return f"only if no {what} was given before ({given} given)"
        case PriorDoses(bound="min", count=count, what=what, given=given):
            return f"after ≥ {count} {what} dose{'s' if count != 1 else ''} ({given} given)"
        case CrsNow(grade=None, at_least=None):
            return "with concurrent CRS (none now)"
        case FebrileNow(present=False):
            return "if febrile"
        case HypotensionNow():
            return "if hypotension persists"
    return f"when: {reason(r)}"
