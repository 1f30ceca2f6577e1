"""Grading's findings in words: drivers of the grade, missing inputs and notes."""
from __future__ import annotations

from datetime import datetime

from clinical.findings import (
    AgeUnknown,
    AttributedToOtherCause,
    CapdUsed,
    Driver,
    Eligibility,
    FeverBeforeIndexTherapy,
    FeverDriver,
    GradedByMostSevere,
    HypotensionDriver,
    HypoxiaDriver,
    IcansDriver,
    IcansLatestLess,
    InotropeNotCounted,
    LowerBound,
    Masked,
    Missing,
    MissingIcansInput,
    MissingInput,
    NotAnInfusion,
    Note,
    NoTemperatureAfterOnset,
    NotGraded,
    RoomAirAssumed,
    ScoreNotUsed,
    StaleBloodPressure,
    StaleSupport,
    StaleTemperature,
    SupportNotUsed,
    Unavailable,
    VasopressorDriver,
    WorstGrade,
)

from . import neuro, readings
from .numbers import hours, number
from .times import ago, stamp

COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


def _names(drugs: tuple[str, ...]) -> str:
    return ", ".join(drugs)


def driver(d: Driver | IcansDriver) -> str:
    """``hypotension: one vasopressor (norepinephrine)``, ``hypoxia: nasal cannula 4 L/min (low-flow)``,
    ``ICE score 5``."""
    match d:
        case IcansDriver():
            return neuro.driver(d)
        case FeverDriver(temperature=t):
            return f"fever {readings.temperature(t)}"
        case HypotensionDriver(measure=measure, mmhg=mmhg, threshold=thr):
            limit = (f" (< {number(thr.systolic_below)} mmHg for {readings.threshold_basis(thr, formula=False)})"
                     if thr.paediatric else "")
            return f"hypotension: {measure} {number(mmhg)} mmHg{limit}, no vasopressor"
        case HypoxiaDriver(support=support, how=how):
            return f"hypoxia: {readings.support(support, how)}"
        case VasopressorDriver():
            return _vasopressors(d)
    raise TypeError(f"not a driver: {d!r}")


def _vasopressors(d: VasopressorDriver) -> str:
    if d.overlapping:
        word = COUNT_WORDS.get(len(d.overlapping), str(len(d.overlapping)))
        extra = f" with {_names(d.not_counted)}" if d.not_counted else ""
        return f"hypotension: {word} vasopressors ({_names(d.overlapping)}){extra}"
    if len(d.drugs) == 1:
        return f"hypotension: one vasopressor ({d.drugs[0]})"
    if len(d.counted) <= 1:
        return f"hypotension: one vasopressor with {_names(d.not_counted)} ({_names(d.drugs)})"
    extra = f", with {_names(d.not_counted)}" if d.not_counted else ""
    return f"hypotension: one vasopressor at a time ({_names(d.counted)}, not overlapping{extra})"


def missing(m: Missing) -> str:
    """``cannot grade hypoxia: no SpO2 or oxygen support recorded in the last 12 h``."""
    if isinstance(m, Unavailable):
        return m.description
    if isinstance(m, MissingIcansInput):
        return neuro.missing(m)
    span = hours(m.window_hours)
    match m.reason:
        case "no-temperature":
            return f"cannot assess fever: no temperature recorded in the last {span}"
        case "no-blood-pressure":
            return f"cannot grade hypotension: no blood pressure recorded in the last {span}"
        case "support-without-tier":
            return (f"cannot grade hypoxia: oxygen support recorded in the last {span} without a device tier or flow "
                    f"({_unusable_support(m)})")
        case "no-oxygen-support":
            return f"cannot grade hypoxia: no oxygen support recorded in the last {span}"
        case "overlap-unknown":
            return (f"cannot tell whether {' and '.join(m.drugs)} ran together in the last {span}: charted at single "
                    "time points without start and stop — grade 4 if they overlapped")
        case "vasopressor-running-unknown":
            return (f"cannot tell whether {_names(m.drugs)} is still running: charted at a single time point "
                    f"before the last {span}")
    return f"cannot grade hypoxia: no SpO2 or oxygen support recorded in the last {span}"


def _unusable_support(m: MissingInput) -> str:
    record, how = m.record, m.how
    assert record is not None and how is not None
    what = f"FiO2 {number(record.fio2_percent)} %" if record.fio2_percent is not None else readings.support(record, how)
    return f"{what}, {record.source}"


def note(n: Note, now: datetime) -> str:
    """One note of an assessment as of ``now`` (stale data are said with how long ago)."""
    if isinstance(n, AttributedToOtherCause | IcansLatestLess | CapdUsed | ScoreNotUsed):
        return neuro.note(n, now)
    match n:
        case NotGraded(since_onset=False):
            return ("hypotension/hypoxia without documented fever — not graded as CRS; evaluate other causes "
                    "(sepsis, cardiac); if antipyretics were given from the start, CRS may be masked")
        case NotGraded(window_hours=window):
            return (f"hypotension/hypoxia without fever in the last {hours(window)} and no antipyretic or "
                    "anticytokine therapy since CRS onset — not graded as CRS; evaluate other causes (sepsis, cardiac)")
        case Masked(drugs=drugs, resolved=False):
            return (f"fever may be masked ({_names(drugs)} given after CRS onset): graded by hypotension/hypoxia, "
                    "fever not required (ASTCT)")
        case Masked(drugs=drugs):
            return (f"no fever, hypotension or hypoxia since {_names(drugs)} given after CRS onset: CRS resolved "
                    "or masked (grade 0)")
        case NoTemperatureAfterOnset(window_hours=window):
            return (f"no temperature in the last {hours(window)}: the CRS grade cannot be established — after CRS "
                    f"onset, hypotension/hypoxia count as CRS only with fever in the last {hours(window)} or when "
                    "fever may be masked (an antipyretic or anticytokine given since onset: none given); record a "
                    "temperature")
        case WorstGrade(grade=grade, time=time):
            return f"worst grade since onset: {grade}, reached at {stamp(time)}"
        case LowerBound(grade=grade):
            return f"at least grade {grade}: some inputs are missing, the true grade may be higher"
        case Eligibility(reason="no-index-therapy", window_days=days):
            return f"no index therapy (CAR-T or T-cell engager) in the last {days:g} days: CRS not assessed"
        case Eligibility(reason="switched-off", window_days=days):
            return (f"eligibility check switched off: no index therapy in the last {days:g} days, "
                    f"CRS onset searched from {days:g} days ago")
        case Eligibility():
            return "some data could not be obtained: an index therapy may have been missed"
        case AgeUnknown():
            return "age unknown (no birth date): adult blood-pressure thresholds used"
        case StaleTemperature(temperature=t):
            return (f"last temperature {readings.temperature(t)} {ago(t.time, now)} ({t.source}) "
                    "is too old to assess fever")
        case FeverBeforeIndexTherapy(temperature=t):
            return f"fever {readings.temperature(t)} before the index therapy not counted as CRS"
        case StaleBloodPressure(reading=bp, window_hours=window):
            return (f"last blood pressure {ago(bp.time, now)} ({bp.source}) is older than {hours(window)}: "
                    "not used")
        case NotAnInfusion(administration=a, reason=reason):
            route = f" {a.route}" if a.route else ""
            why = f"given by the {a.route} route" if reason == "route" else "a bolus (a single dose, no rate)"
            return (f"{a.drug}{readings.dose(a)}{route} at {stamp(a.start)} ({a.source}): {why}, not a "
                    "vasopressor infusion — not counted by ASTCT")
        case InotropeNotCounted(drug=drug, running=running, window_hours=window):
            state = "running" if running else f"given in the last {hours(window)}"
            return f"{drug} {state} (inotrope), not counted by ASTCT"
        case SupportNotUsed(record=record, how=how):
            return (f"oxygen record {record.source} ({readings.support(record, how)}) has no device tier or flow: "
                    "not used")
        case GradedByMostSevere():
            return (f"graded by the most severe oxygen support in the last {hours(n.window_hours)} "
                    f"({readings.support(n.worst, n.worst_how)}); latest record: "
                    f"{readings.support(n.latest, n.latest_how)} at {stamp(n.latest.time)}")
        case StaleSupport(record=record, how=how, window_hours=window, since=since):
            text = (f"last oxygen support record ({readings.support(record, how)}, {ago(record.time, now)}, "
                    f"{record.source}) is older than {hours(window)}: not used")
            if since is not None:
                text += f"; SpO2 {number(since.percent)}% recorded since without oxygen-support information"
            return text
        case RoomAirAssumed(spo2=spo2):
            return f"no oxygen support recorded; SpO2 {number(spo2.percent)}% assumed on room air"
    raise TypeError(f"not a note: {n!r}")
