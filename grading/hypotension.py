"""Hypotension tier (ASTCT): 0 none, 2 without vasopressor, 3 a vasopressor, 4 multiple.

- A blood-pressure reading in the current window below the age threshold is
  hypotension (adults: systolic < 90 or MAP < 65 mmHg; children: systolic
  only, PALS bands from the config; unknown age: adult thresholds).
- A vasopressor counts when it is running or its effective period overlaps
  the current window. A running vasopressor means "requiring vasopressors"
  even when the readings are normal: they are normal because of the drug.
- "Multiple" means two different vasopressors not in
  ``not_counted_for_multiple`` (vasopressin) whose periods overlap each other
  at some moment inside the window. Two agents given one after the other are
  "a vasopressor" (grade 3). Dose never changes the tier.
- Only infusions count (the grading data's infusion rules): an administration
  by an excluded route (IM epinephrine for anaphylaxis) or a bolus (a single
  time point with a dose in mg and no rate) is shown and not counted.
- An infusion charted at single time points may still have run after each
  point: two vasopressors that cannot be shown to overlap or not, or one that
  may still be running, make the hypotension input missing (the grade a lower
  bound with that reason) - never a silent under-grade, never a guessed 4.
- Inotropes (dobutamine, milrinone) are not ASTCT vasopressors: shown, not counted.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import combinations
from typing import Literal

from clinical import Administered, BloodPressure, DrugAdministration, Evidence, HypotensionThreshold, PressureReading
from clinical.findings import (
    AgeUnknown,
    HypotensionDriver,
    InotropeNotCounted,
    MissingInput,
    NotAnInfusion,
    StaleBloodPressure,
    VasopressorDriver,
)

from .config import GradingConfig
from .finding import Finding
from .windows import Period, TimeIndexed, period_of, window


def threshold_for(age_years: float | None, config: GradingConfig) -> tuple[HypotensionThreshold, AgeUnknown | None]:
    """The threshold for ``age_years`` and, when age is unknown, a note saying adult values were used."""
    adult = HypotensionThreshold(config.adult_systolic_below, config.adult_map_below)
    if age_years is None:
        return adult, AgeUnknown()
    for band in config.paediatric_bands:
        if band.from_age_years <= age_years < band.to_age_years:
            limit = band.systolic_below + band.plus_per_year_of_age * age_years
            return (HypotensionThreshold(limit, band.map_below, age_years, band.systolic_below,
                                         band.plus_per_year_of_age), None)
    return adult, None


def usable(bp: BloodPressure, thr: HypotensionThreshold) -> bool:
    """Whether the reading carries a value the threshold can judge."""
    return bp.systolic is not None or (thr.map_below is not None and bp.mean is not None)


def is_hypotensive(bp: BloodPressure, thr: HypotensionThreshold) -> bool:
    return ((bp.systolic is not None and bp.systolic < thr.systolic_below)
            or (thr.map_below is not None and bp.mean is not None and bp.mean < thr.map_below))


def not_an_infusion(admin: DrugAdministration, config: GradingConfig) -> NotAnInfusion | None:
    """Why a vasopressor administration is not an infusion (route, bolus), or None when it is one."""
    if admin.route is not None and admin.route in config.excluded_infusion_routes:
        return NotAnInfusion(admin, "route")
    if config.single_point_mass_dose_is_bolus and admin.point and admin.dose_mg is not None:
        return NotAnInfusion(admin, "bolus")
    return None


def vasopressor_periods(admins: list[DrugAdministration], now: datetime, config: GradingConfig) -> list[Period]:
    """The vasopressor infusions as periods; one charted at a single time point may still have run for
    ``point_unknown_hours`` afterwards (``unknown_until``)."""
    unknown = timedelta(hours=config.point_unknown_hours)
    periods: list[Period] = []
    for a in admins:
        if a.drug not in config.vasopressors or not_an_infusion(a, config) is not None:
            continue
        p = period_of(a, now)
        if p is not None:
            periods.append(replace(p, unknown_until=min(a.start + unknown, now)) if a.point else p)
    return sorted(periods, key=lambda p: (p.start, p.drug))


def inotrope_periods(admins: list[DrugAdministration], now: datetime, config: GradingConfig) -> list[Period]:
    periods = (period_of(a, now) for a in admins
               if a.drug not in config.vasopressors and (a.drug_class == "inotrope" or a.drug in config.inotropes))
    return sorted((p for p in periods if p is not None), key=lambda p: p.start)


@dataclass(frozen=True, slots=True)
class Overlap:
    """Two different counted vasopressors running together during [start, end]."""

    start: datetime
    end: datetime
    drugs: tuple[str, str]


def _merged(periods: list[Period], possibly: bool) -> list[tuple[datetime, datetime]]:
    out: list[list[datetime]] = []
    for p in sorted(periods, key=lambda p: p.start):
        end = p.latest_end if possibly else p.end
        if out and p.start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([p.start, end])
    return [(s, e) for s, e in out]


def overlaps(periods: list[Period], config: GradingConfig, *, possibly: bool = False) -> list[Overlap]:
    """Every stretch of time when two different counted vasopressors ran together (``possibly``: may have
    run together, counting the time a point-charted infusion may still have been running).

    Per drug, periods are merged; each pair of drugs is then swept with two
    pointers, so the cost is linear in the number of administrations.
    """
    by_drug: dict[str, list[Period]] = {}
    for p in periods:
        if p.drug not in config.not_counted_for_multiple:
            by_drug.setdefault(p.drug, []).append(p)
    merged = {drug: _merged(ps, possibly) for drug, ps in by_drug.items()}
    found: list[Overlap] = []
    for a, b in combinations(sorted(merged), 2):
        xs, ys, i, j = merged[a], merged[b], 0, 0
        while i < len(xs) and j < len(ys):
            start, end = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
            if start <= end:
                found.append(Overlap(start, end, (a, b)))
            if xs[i][1] <= ys[j][1]:
                i += 1
            else:
                j += 1
    return sorted(found, key=lambda o: o.start)


def _first_seen_order(periods: list[Period]) -> list[str]:
    return list(dict.fromkeys(p.drug for p in sorted(periods, key=lambda p: p.start)))


def _vasopressor_driver(active: list[Period], multiple: list[Overlap], config: GradingConfig) -> VasopressorDriver:
    drugs = tuple(_first_seen_order(active))
    not_counted = tuple(d for d in drugs if d in config.not_counted_for_multiple)
    if multiple:
        together = {d for o in multiple for d in o.drugs}
        overlapping = tuple(d for d in drugs if d not in not_counted and d in together)
        return VasopressorDriver(4, drugs, overlapping, not_counted)
    return VasopressorDriver(3, drugs, (), not_counted)


def _lowest(readings: list[BloodPressure], attr: str) -> tuple[BloodPressure, float] | None:
    """The reading with the lowest ``attr`` ("systolic" or "mean") and that value."""
    values = [(r, getattr(r, attr)) for r in readings if getattr(r, attr) is not None]
    return min(values, key=lambda rv: (rv[1], rv[0].time)) if values else None


def _reading(role: Literal["hypotension", "context"], measure: Literal["systolic", "MAP"],
             low: tuple[BloodPressure, float], thr: HypotensionThreshold, window_hours: float) -> Evidence:
    reading, value = low
    return Evidence(role, "blood pressure", PressureReading(reading, measure, value, window_hours, thr),
                    reading.time, reading.source)


def assess_hypotension(bps: TimeIndexed[BloodPressure], vasopressors: list[Period], multiple: list[Overlap],
                       inotropes: list[Period], thr: HypotensionThreshold, now: datetime,
                       config: GradingConfig, *, possible: Sequence[Overlap] = (),
                       not_infusions: Sequence[NotAnInfusion] = ()) -> Finding:
    """The hypotension tier at ``now`` with its driver, evidence, notes and missing data; ``possible``
    are the overlaps that cannot be told apart from none (point-charted infusions)."""
    span = config.current_window_hours
    start, end = window(now, span)
    active = [p for p in vasopressors if p.overlaps(start, end)]
    multiple_now = [o for o in multiple if o.start <= end and o.end >= start]
    possible_now = [o for o in possible if o.start <= end and o.end >= start]
    maybe_running = [p for p in vasopressors if p.end < start and p.latest_end >= start]
    readings = [r for r in bps.between(start, end) if usable(r, thr)]
    low_sys = _lowest(readings, "systolic")
    low_map = _lowest(readings, "mean") if thr.map_below is not None else None
    sys_hypo = low_sys if low_sys is not None and low_sys[1] < thr.systolic_below else None
    map_hypo = low_map if low_map is not None and low_map[1] < (thr.map_below or 0) else None

    finding = Finding(tier=None)
    if active and not multiple_now and possible_now:
        finding.missing.append(MissingInput("hypotension", "overlap-unknown", span, drugs=possible_now[0].drugs))
    elif not active and maybe_running:
        finding.missing.append(MissingInput("hypotension", "vasopressor-running-unknown", span,
                                            drugs=tuple(dict.fromkeys(p.drug for p in maybe_running))))
    if active:
        driver = _vasopressor_driver(active, multiple_now, config)
        finding.tier, finding.driver = driver.tier, driver
    elif sys_hypo is not None:
        finding.tier = 2
        finding.driver = HypotensionDriver("systolic", sys_hypo[1], thr)
    elif map_hypo is not None:
        finding.tier = 2
        finding.driver = HypotensionDriver("MAP", map_hypo[1], thr)
    elif readings:
        finding.tier = 0
    else:
        finding.missing.append(MissingInput("hypotension", "no-blood-pressure", span))
        last = next((r for r in reversed(bps.before(start)) if usable(r, thr)), None)
        if last is not None:
            finding.notes.append(StaleBloodPressure(last, span))

    # Evidence: the vasopressors (latest administration per drug), then the readings that decided.
    latest = {p.drug: p for p in (active or maybe_running)}
    for p in sorted(latest.values(), key=lambda p: p.start):
        finding.evidence.append(Evidence("vasopressor", p.drug, Administered(p.administration, "infusion", p.running),
                                         p.start, p.administration.source))
    if sys_hypo:
        finding.evidence.append(_reading("hypotension", "systolic", sys_hypo, thr, span))
    if map_hypo and (not sys_hypo or map_hypo[0] is not sys_hypo[0]):
        finding.evidence.append(_reading("hypotension", "MAP", map_hypo, thr, span))
    if readings and not (sys_hypo or map_hypo):
        if low_sys is not None:
            finding.evidence.append(_reading("context", "systolic", low_sys, thr, span))
        elif low_map is not None:
            finding.evidence.append(_reading("context", "MAP", low_map, thr, span))

    for n in not_infusions:
        if start <= n.administration.start <= end:
            finding.notes.append(n)
            finding.evidence.append(Evidence("context", n.administration.drug,
                                             Administered(n.administration, "record"), n.administration.start,
                                             n.administration.source))
    for p in (p for p in inotropes if p.overlaps(start, end)):
        note = InotropeNotCounted(p.drug, p.running, span)
        if note not in finding.notes:
            finding.notes.append(note)
        finding.evidence.append(Evidence("context", p.drug, Administered(p.administration, "inotrope", p.running),
                                         p.start, p.administration.source))
    return finding
