"""Worst grade since onset, computed in O(n log n).

The grade at a past time ``t`` uses the same rules and windows as the current
grade, relative to ``t``: fever in [t - 24 h, t], hypotension, vasopressors and
oxygen support in [t - 12 h, t], masking once an antipyretic/anticytokine was
given after onset. Each finding is therefore "active" over an interval (a
hypotensive reading at b during [b, b + 12 h]), and the grade can only go up
where one of those intervals begins. So it is enough to evaluate the grade at
each interval start between onset and now, each evaluation being a handful of
binary searches.

Not replayed historically (documented simplifications): the SpO2-only room-air
assumption and "missing temperature" handling (missing data never raises a
past grade), and age — paediatric thresholds use the age at ``now``.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from clinical import BloodPressure, HypotensionThreshold, OxygenSupport, Temperature
from clinical.findings import WorstGrade

from .config import GradingConfig
from .fever import is_fever
from .hypotension import Overlap, is_hypotensive
from .hypoxia import one_support_per_instant, support_tier
from .windows import IntervalSet, Period


def _spans(times: Iterable[datetime], hours: float) -> list[tuple[datetime, datetime]]:
    width = timedelta(hours=hours)
    return [(t, t + width) for t in times]


def worst_grade_since(onset: datetime, now: datetime, *, temperatures: Iterable[Temperature],
                      blood_pressures: Iterable[BloodPressure], oxygen: Iterable[OxygenSupport],
                      vasopressors: list[Period], multiple: list[Overlap], masking_start: datetime | None,
                      threshold: HypotensionThreshold, config: GradingConfig) -> WorstGrade:
    """The highest grade at any time in [onset, now] and when it was first reached."""
    current = config.current_window_hours
    later = timedelta(hours=current)
    fever = IntervalSet(_spans((t.time for t in temperatures if t.time >= onset and is_fever(t, config)),
                               config.fever_window_hours))
    hypotension = IntervalSet(_spans((b.time for b in blood_pressures if is_hypotensive(b, threshold)), current))
    vaso = IntervalSet((p.start, p.end + later) for p in vasopressors)
    multi = IntervalSet((o.start, o.end + later) for o in multiple)
    by_tier: dict[int, list[datetime]] = {}
    for record in one_support_per_instant(list(oxygen)):  # one support, as for the current grade
        tier = support_tier(record, config).tier
        if tier:
            by_tier.setdefault(tier, []).append(record.time)
    hypoxia = sorted(((tier, IntervalSet(_spans(times, current))) for tier, times in by_tier.items()),
                     reverse=True, key=lambda x: x[0])

    def grade_at(t: datetime) -> int:
        febrile = t in fever
        if not febrile and (masking_start is None or t < masking_start):
            return 0
        hypo = 4 if t in multi else 3 if t in vaso else 2 if t in hypotension else 0
        oxy = next((tier for tier, spans in hypoxia if t in spans), 0)
        return max(1 if febrile else 0, hypo, oxy)

    candidates = {onset}
    if masking_start is not None:
        candidates.add(masking_start)
    for spans in (fever, hypotension, vaso, multi, *(s for _, s in hypoxia)):
        candidates.update(s for s in spans.starts if onset <= s <= now)
    best = WorstGrade(0, onset)
    for t in sorted(candidates):
        if t > now:
            break
        g = grade_at(t)
        if g > best.grade:
            best = WorstGrade(g, t)
            if g == 4:
                break
    return best
