"""The assessment card's words: its summary, and each grading as a heading with one line per driver.

A clinician reads the card at the bedside in ten seconds: the grade, what drives it (each driver with its
value and how long ago), what is missing and what explains the grade. Everything else -- every piece of
evidence with its FHIR reference -- is in the card's machine-readable extension and in ``crs-cds grade``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from clinical import Administered, Assessment, Evidence, IcansAssessment, PressureReading
from clinical.findings import (
    Driver,
    FeverDriver,
    HypotensionDriver,
    HypoxiaDriver,
    IcansDriver,
    LowerBound,
    MissingIcansInput,
    NotGraded,
    VasopressorDriver,
    WorstGrade,
)

from ..card import SUMMARY_LIMIT
from ..markdown import truncate
from . import evidence, findings, neuro, readings
from .numbers import celsius, hours
from .times import ago, stamp, when


def grade_text(grading: Assessment | IcansAssessment) -> str:
    """``3`` or ``≥ 2`` when missing data make the grade a lower bound."""
    return f"≥ {grading.grade}" if grading.lower_bound else str(grading.grade)


# ------------------------------------------------------------------------------------------ summary

def summary(a: Assessment) -> str:
    """Under 140 characters: the grade(s) and the main drivers -- hypotension and hypoxia both when both
    count, then the fever (left out first when space runs short), then the ICANS driver."""
    icans = a.icans
    if icans is not None and a.has_icans:
        return _fitted(lambda drop_fever: _both(a, icans, drop_fever))
    return _fitted(lambda drop_fever: _crs(a, drop_fever))


def _fitted(build: Callable[[bool], str]) -> str:
    """The full summary if it fits, else without the fever, else cut at a word boundary."""
    for drop_fever in (False, True):
        text = build(drop_fever)
        if len(text) < SUMMARY_LIMIT:
            return text
    return truncate(build(True), SUMMARY_LIMIT)


def _drivers(drivers: Sequence[Driver], drop_fever: bool) -> list[str]:
    """The drivers that count, most severe first; the fever last (or not at all)."""
    signs = [findings.driver(d) for d in drivers if not isinstance(d, FeverDriver)]
    fever = [findings.driver(d) for d in drivers if isinstance(d, FeverDriver)]
    return signs if drop_fever and signs else signs + fever


def _both(a: Assessment, icans: IcansAssessment, drop_fever: bool) -> str:
    """``CRS grade 2 · ICANS grade 3 (ASTCT): <CRS drivers>; <ICANS main driver>``, or ICANS alone with what CRS
    is when it has no grade."""
    head = f"ICANS grade {grade_text(icans)}"
    icans_driver = findings.driver(icans.drivers[0])
    if a.has_crs:
        return f"CRS grade {grade_text(a)} · {head} (ASTCT): " + "; ".join(
            [*_drivers(a.drivers, drop_fever), icans_driver])
    crs_state = {"not-graded": "hypotension/hypoxia not graded as CRS (no fever)",
                 "insufficient-data": "CRS cannot be assessed"}.get(a.status)
    return f"{head} (ASTCT): {icans_driver}" + (f"; {crs_state}" if crs_state else "")


def _crs(a: Assessment, drop_fever: bool) -> str:
    lapsed = lapsed_fever(a)
    if a.status == "not-graded" and lapsed is not None and a.onset is not None:
        return (f"Not graded as CRS: fever window lapsed (CRS onset {stamp(a.onset)}, no fever in "
                f"{hours(lapsed.window_hours)}); hypotension/hypoxia now — evaluate other causes")
    if a.status == "not-graded":
        return "Hypotension/hypoxia without documented fever: not graded as CRS; evaluate other causes"
    if a.status == "insufficient-data" and a.drivers:
        return "CRS grade cannot be established (ASTCT): no current temperature; " + findings.driver(a.drivers[0])
    if a.status == "insufficient-data":
        first = findings.missing(a.missing[0]) if a.missing else "data missing"
        return f"Cannot assess CRS (ASTCT): {first}"
    if a.grade == 0:
        return "No CRS signs in the available data, but data are incomplete: " + (
            findings.missing(a.missing[0]) if a.missing else "see details")
    return f"CRS grade {grade_text(a)} (ASTCT): " + "; ".join(_drivers(a.drivers, drop_fever))


def lapsed_fever(a: Assessment) -> NotGraded | None:
    """The note that fever was documented (CRS onset) but has gone from the fever window."""
    return next((n for n in a.notes if isinstance(n, NotGraded) and n.since_onset), None)


# ------------------------------------------------------------------------------------------- detail

def crs_block(a: Assessment, *, urgent: bool) -> str:
    """The CRS grading: heading, then one line per driver (value, how long ago), what is missing and the
    notes that explain the grade."""
    return _block(_crs_heading(a, urgent), [_driver_line(d, a.evidence, a.now) for d in a.drivers],
                  [findings.missing(m) for m in a.missing], _notes(a))


def _crs_heading(a: Assessment, urgent: bool) -> str:
    lapsed = lapsed_fever(a)
    if a.status == "graded":
        head = f"**CRS grade {grade_text(a)}**" + _qualifiers(a)
        if a.onset is not None:
            threshold = f"fever ≥ {celsius(a.fever_threshold_c)}" if a.fever_threshold_c is not None else "fever"
            head += f", onset {ago(a.onset, a.now)} ({threshold})"
    elif a.status == "not-graded" and lapsed is not None and a.onset is not None:
        head = (f"**Not graded as CRS**: CRS onset {when(a.onset, a.now)}, but no fever in the last "
                f"{hours(lapsed.window_hours)} and no antipyretic or anticytokine therapy since onset — the fever "
                "window has lapsed.")
    elif a.status == "not-graded":
        head = "**Not graded as CRS**: no documented fever since the index therapy."
    elif a.drivers:
        head = "**The CRS grade cannot be established** without a current temperature; the signs are shown, not graded."
    else:
        head = "**CRS cannot be assessed** from the data available."
    if urgent:
        head += (f"\n\n**Urgent whatever its cause**: a new need for a vasopressor, high-flow oxygen or positive "
                 f"pressure after {readings.index_therapy(a.index_class)} needs review now.")
    return head


def _qualifiers(grading: Assessment | IcansAssessment, *, worst: bool = True) -> str:
    """`` (worst since onset 3; lower bound: data missing)``."""
    parts = [f"worst since onset {grading.worst_grade}"] if worst and grading.worst_grade else []
    if grading.lower_bound:
        parts.append("lower bound: data missing")
    return f" ({'; '.join(parts)})" if parts else ""


def icans_block(icans: IcansAssessment) -> str | None:
    """The ICANS grading, said as briefly: a heading and one line per driver, or what could not be charted."""
    if icans.status == "not-eligible":
        return None
    if icans.status == "insufficient-data":
        gaps = [m for m in icans.missing if isinstance(m, MissingIcansInput) and m.reason == "none-in-window"]
        rest = [findings.missing(m) for m in icans.missing if m not in gaps]
        head = "**ICANS not assessed**: " + (neuro.not_charted(gaps) if gaps else "no ICANS data")
        return _block(head, [], rest, [findings.note(n, icans.now) for n in icans.notes])
    if not icans.worst_grade and not icans.missing and not icans.notes:
        return None  # graded 0 on complete data, never higher: nothing to say (the extension has it)
    head = f"**ICANS grade {grade_text(icans)}**" + _qualifiers(icans, worst=icans.worst_grade != icans.grade)
    if icans.onset is not None and icans.has_icans:
        head += f", onset {ago(icans.onset, icans.now)}"
    lines = [f"{neuro.driver(d, charted=False)}, {ago(d.finding.time, icans.now)}" for d in icans.drivers]
    return _block(head, lines, [findings.missing(m) for m in icans.missing],
                  [findings.note(n, icans.now) for n in icans.notes])


def _block(head: str, drivers: list[str], missing: list[str], notes: list[str]) -> str:
    lines = drivers + [f"Missing: {m}" for m in missing] + [f"Note: {n}" for n in notes]
    return head + ("\n\n" + "\n".join(f"- {line}" for line in lines) if lines else "")


def _notes(a: Assessment) -> list[str]:
    """The notes that explain the grade; the worst grade and the lower bound are in the heading, and a lapsed
    fever window is the heading itself."""
    return [findings.note(n, a.now) for n in a.notes
            if not isinstance(n, WorstGrade | LowerBound) and not (isinstance(n, NotGraded) and n.since_onset)]


def _driver_line(d: Driver | IcansDriver, found: Sequence[Evidence], now: datetime) -> str:
    """One driver with its value and how long ago: ``hypoxia: nasal cannula 4 L/min (low-flow), 1 h ago``."""
    text = findings.driver(d)
    match d:
        case FeverDriver(temperature=t):
            return f"{text}, {ago(t.time, now)}"
        case HypoxiaDriver(support=support):
            return f"{text}, {ago(support.time, now)}"
        case HypotensionDriver(measure=measure):
            reading = next((e for e in found if e.role == "hypotension" and isinstance(e.fact, PressureReading)
                            and e.fact.measure == measure), None)
            return f"{text}, {ago(reading.time, now)}" if reading is not None else text
        case VasopressorDriver():
            infusions = [e for e in found if e.role == "vasopressor" and isinstance(e.fact, Administered)]
            if len(infusions) == 1:
                return f"{text}: {_infusion(infusions[0], now, named=False)}"
            return f"{text}: " + "; ".join(_infusion(e, now) for e in infusions) if infusions else text
    return text


def _infusion(e: Evidence, now: datetime, *, named: bool = True) -> str:
    """``norepinephrine 0.08 µg/kg/min, running, started 2 h ago`` (without the drug's name when the driver
    already names it)."""
    assert isinstance(e.fact, Administered)
    a = e.fact.administration
    dose = readings.dose(a).strip()
    state = "running" if e.fact.running else a.status
    what = ", ".join(p for p in ((f"{readings.drug(a.drug)} {dose}".strip() if named else dose), state) if p)
    return f"{what}, {'started ' if e.fact.running else ''}{ago(e.time, now)}"


def dated(e: Evidence, now: datetime, *, named: bool = True) -> str:
    """Evidence in one line with how long ago: ``blinatumomab 28 µg/day, running, started 2 d ago`` (without
    the drug's name when the sentence before names it)."""
    if isinstance(e.fact, Administered) and e.fact.context == "infusion":
        return _infusion(e, now, named=named)
    return f"{evidence.line(e)}, {ago(e.time, now)}"
