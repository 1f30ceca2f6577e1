"""The ASTCT grade over time: ``grade_crs`` itself, evaluated at every instant the grade can change.

The timeline page draws the grade as a band. It must be the grade the service would
have given at each moment, so every point is ``assess_at`` — the one implementation
behind ``grade_crs`` — at that instant, on the data recorded up to it; nothing here
decides a grade.

Between two consecutive evaluation times the grade is constant, because it can only
change when (a) a reading or an administration event enters the record — evaluated at
its time — or (b) a reading leaves its window: fever 24 h, hypotension and oxygen
support 12 h, a vasopressor 12 h after it stopped (for one charted at a single time
point, after it may have stopped: ``point_unknown_hours`` later), an index therapy after
the eligibility window. A reading's leaving matters only when no reading of the same kind
(fever or not; hypotensive or not; the same oxygen tier) follows within its window:
then the instant just after it leaves is evaluated too. So the band is exact, not
sampled, and costs one evaluation per reading time on a 14-day record.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from clinical import ClinicalSnapshot, OxygenSupport, Status

from .config import GradingConfig
from .crs import assess_at
from .fever import is_fever
from .hypotension import is_hypotensive, threshold_for, usable
from .hypoxia import one_support_per_instant, support_tier
from .indexed import IndexedSnapshot
from .windows import Timed

# Windows are closed (a reading exactly 12 h old still counts): a reading has left its window at the
# next instant a datetime can tell apart, one microsecond after it is window-old.
JUST_AFTER = timedelta(microseconds=1)
T = TypeVar("T", bound=Timed)


@dataclass(frozen=True, slots=True)
class GradePoint:
    """The CRS assessment at ``time``, as ``grade_crs`` gives it on the data recorded up to then.

    Holds until the next point of the series.
    """

    time: datetime
    status: Status
    grade: int | None
    lower_bound: bool


def _expiries(items: Sequence[T], window: timedelta, kind: Callable[[T], Hashable]) -> Iterable[datetime]:
    """Just after each reading leaves ``window`` with no reading of its ``kind`` following within it."""
    last: dict[Hashable, datetime] = {}
    for item in items:  # sorted by time
        k = kind(item)
        before = last.get(k)
        if before is not None and item.time - before > window:
            yield before + window + JUST_AFTER
        last[k] = item.time
    yield from (t + window + JUST_AFTER for t in last.values())


def evaluation_times(snapshot: ClinicalSnapshot, start: datetime, end: datetime,
                     config: GradingConfig) -> list[datetime]:
    """Every instant in [start, end] at which the grade may change, with ``start`` and ``end``, sorted."""
    fever_window = timedelta(hours=config.fever_window_hours)
    current = timedelta(hours=config.current_window_hours)
    eligibility = timedelta(days=config.eligibility_window_days)
    threshold, _ = threshold_for(snapshot.age_years(end), config)
    oxygen = one_support_per_instant(list(snapshot.oxygen))

    def oxygen_kind(o: OxygenSupport) -> Hashable:  # the tier, and whether an untiered record shows oxygen
        return support_tier(o, config).tier, o.fio2_percent is None or o.fio2_percent > 21

    times: set[datetime] = {start, end}
    readings: list[Sequence[Timed]] = [snapshot.temperatures, snapshot.blood_pressures, oxygen, snapshot.spo2]
    for series in readings:
        times.update(r.time for r in series)
    times.update(_expiries(snapshot.temperatures, fever_window, lambda t: is_fever(t, config)))
    times.update(_expiries(snapshot.blood_pressures, current,
                           lambda b: (is_hypotensive(b, threshold), usable(b, threshold))))
    times.update(_expiries(oxygen, current, oxygen_kind))
    times.update(_expiries(snapshot.spo2, current, lambda s: "SpO2"))
    point_unknown = timedelta(hours=config.point_unknown_hours)
    for admin in snapshot.administrations:
        stopped = admin.end or admin.start
        times.update((admin.start, stopped, stopped + current + JUST_AFTER, stopped + eligibility + JUST_AFTER))
        if admin.point:  # charted at one instant: it may have run on until point_unknown_hours later
            times.update((stopped + point_unknown + JUST_AFTER, stopped + point_unknown + current + JUST_AFTER))
    return sorted(t for t in times if start <= t <= end)


def grade_series(snapshot: ClinicalSnapshot, start: datetime, end: datetime,
                 config: GradingConfig) -> tuple[GradePoint, ...]:
    """The grade at every instant of [start, end] where it may change (``evaluation_times``)."""
    record = IndexedSnapshot.of(snapshot, config)
    points = []
    for t in evaluation_times(snapshot, start, end, config):
        a = assess_at(record, t, config, worst_grade=False)
        points.append(GradePoint(t, a.status, a.grade, a.lower_bound))
    return tuple(points)
