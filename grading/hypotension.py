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
- Inotropes (dobutamine, milrinone) are not ASTCT vasopressors: shown, not counted.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from clinical import BloodPressure, DrugAdministration, Evidence

from . import text
from .config import GradingConfig
from .finding import Finding
from .windows import Period, TimeIndexed, period_of, window


@dataclass(frozen=True, slots=True)
class Threshold:
    """The hypotension threshold that applies to this patient, with how to say it."""

    systolic_below: float
    map_below: float | None
    basis: str  # "adult", "age 5 y: 70 + 2 × age", ...
    paediatric: bool = False

    def describe(self, what: str) -> str:
        limit = self.systolic_below if what == "systolic" else self.map_below
        return f"threshold {what} < {text.number(limit or 0)} mmHg ({self.basis})"


def threshold_for(age_years: float | None, config: GradingConfig) -> tuple[Threshold, str | None]:
    """The threshold for ``age_years`` and, when age is unknown, a note saying adult values were used."""
    adult = Threshold(config.adult_systolic_below, config.adult_map_below, "adult")
    if age_years is None:
        return adult, "age unknown (no birth date): adult blood-pressure thresholds used"
    for band in config.paediatric_bands:
        if band.from_age_years <= age_years < band.to_age_years:
            limit = band.systolic_below + band.plus_per_year_of_age * age_years
            basis = f"age {text.number(age_years)} y"
            if band.plus_per_year_of_age:
                basis += (f": {text.number(band.systolic_below)} + "
                          f"{text.number(band.plus_per_year_of_age)} × age")
            return Threshold(limit, band.map_below, basis, paediatric=True), None
    return adult, None


def usable(bp: BloodPressure, thr: Threshold) -> bool:
    """Whether the reading carries a value the threshold can judge."""
    return bp.systolic is not None or (thr.map_below is not None and bp.mean is not None)


def is_hypotensive(bp: BloodPressure, thr: Threshold) -> bool:
    return ((bp.systolic is not None and bp.systolic < thr.systolic_below)
            or (thr.map_below is not None and bp.mean is not None and bp.mean < thr.map_below))


def vasopressor_periods(admins: list[DrugAdministration], now: datetime, config: GradingConfig) -> list[Period]:
    periods = (period_of(a, now) for a in admins if a.drug in config.vasopressors)
    return sorted((p for p in periods if p is not None), key=lambda p: (p.start, p.drug))


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


def _merged(periods: list[Period]) -> list[tuple[datetime, datetime]]:
    out: list[list[datetime]] = []
    for p in sorted(periods, key=lambda p: p.start):
        if out and p.start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], p.end)
        else:
            out.append([p.start, p.end])
    return [(s, e) for s, e in out]


def overlaps(periods: list[Period], config: GradingConfig) -> list[Overlap]:
    """Every stretch of time when two different counted vasopressors ran together.

    Per drug, periods are merged; each pair of drugs is then swept with two
    pointers, so the cost is linear in the number of administrations.
    """
    by_drug: dict[str, list[Period]] = {}
    for p in periods:
        if p.drug not in config.not_counted_for_multiple:
            by_drug.setdefault(p.drug, []).append(p)
    merged = {drug: _merged(ps) for drug, ps in by_drug.items()}
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


def _vasopressor_driver(active: list[Period], multiple: list[Overlap], config: GradingConfig) -> tuple[int, str]:
    drugs = _first_seen_order(active)
    excluded = [d for d in drugs if d in config.not_counted_for_multiple]
    counted = [d for d in drugs if d not in config.not_counted_for_multiple]
    if multiple:
        together = {d for o in multiple for d in o.drugs}
        names = [d for d in counted if d in together]
        word = text.COUNT_WORDS.get(len(names), str(len(names)))
        extra = f" with {text.join_drugs(excluded)}" if excluded else ""
        return 4, f"hypotension: {word} vasopressors ({text.join_drugs(names)}){extra}"
    if len(drugs) == 1:
        return 3, f"hypotension: one vasopressor ({drugs[0]})"
    if len(counted) <= 1:
        return 3, f"hypotension: one vasopressor with {text.join_drugs(excluded)} ({text.join_drugs(drugs)})"
    extra = f", with {text.join_drugs(excluded)}" if excluded else ""
    return 3, (f"hypotension: one vasopressor at a time ({text.join_drugs(counted)}, "
               f"not overlapping{extra})")


def _lowest(readings: list[BloodPressure], attr: str) -> tuple[BloodPressure, float] | None:
    """The reading with the lowest ``attr`` ("systolic" or "mean") and that value."""
    values = [(r, getattr(r, attr)) for r in readings if getattr(r, attr) is not None]
    return min(values, key=lambda rv: (rv[1], rv[0].time)) if values else None


def _reading(role: str, what: str, low: tuple[BloodPressure, float], thr: Threshold, span: str) -> Evidence:
    reading, value = low
    return Evidence(role, "blood pressure",  # type: ignore[arg-type]
                    f"{what} {text.number(value)} mmHg, lowest in {span}; {thr.describe(what)}",
                    reading.time, reading.source)


def assess_hypotension(bps: TimeIndexed[BloodPressure], vasopressors: list[Period], multiple: list[Overlap],
                       inotropes: list[Period], thr: Threshold, now: datetime, config: GradingConfig) -> Finding:
    """The hypotension tier at ``now`` with its driver, evidence, notes and missing data."""
    start, end = window(now, config.current_window_hours)
    span = config.hours("current_window_hours")
    active = [p for p in vasopressors if p.overlaps(start, end)]
    multiple_now = [o for o in multiple if o.start <= end and o.end >= start]
    readings = [r for r in bps.between(start, end) if usable(r, thr)]
    low_sys = _lowest(readings, "systolic")
    low_map = _lowest(readings, "mean") if thr.map_below is not None else None
    sys_hypo = low_sys if low_sys is not None and low_sys[1] < thr.systolic_below else None
    map_hypo = low_map if low_map is not None and low_map[1] < (thr.map_below or 0) else None

    finding = Finding(tier=None)
    if active:
        finding.tier, finding.driver = _vasopressor_driver(active, multiple_now, config)
    elif sys_hypo or map_hypo:
        finding.tier = 2
        value = (f"systolic {text.number(sys_hypo[1])} mmHg" if sys_hypo
                 else f"MAP {text.number(map_hypo[1])} mmHg")  # type: ignore[index]
        limit = f" (< {text.number(thr.systolic_below)} mmHg for {thr.basis.split(':')[0]})" if thr.paediatric else ""
        finding.driver = f"hypotension: {value}{limit}, no vasopressor"
    elif readings:
        finding.tier = 0
    else:
        finding.missing.append(f"cannot grade hypotension: no blood pressure recorded in the last {span}")
        last = next((r for r in reversed(bps.before(start)) if usable(r, thr)), None)
        if last is not None:
            finding.notes.append(f"last blood pressure {text.hours_ago(last.time, now)} ({last.source}) "
                                 f"is older than {span}: not used")

    # Evidence: the vasopressors (latest administration per drug), then the readings that decided.
    latest = {p.drug: p for p in active}
    for p in sorted(latest.values(), key=lambda p: p.start):
        finding.evidence.append(Evidence("vasopressor", p.drug, text.administration(p.administration, p.running),
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

    for p in (p for p in inotropes if p.overlaps(start, end)):
        state = "running" if p.running else f"given in the last {span}"
        note = f"{p.drug} {state} (inotrope), not counted by ASTCT"
        if note not in finding.notes:
            finding.notes.append(note)
        finding.evidence.append(Evidence("context", p.drug,
                                         text.administration(p.administration, p.running)
                                         + " (inotrope, not counted by ASTCT)",
                                         p.start, p.administration.source))
    return finding
