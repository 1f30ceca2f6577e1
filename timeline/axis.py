"""The one time axis every panel of the chart shares: instants to x coordinates, and its ticks.

From the index therapy (day 0) to now. Ticks fall on local midnights of the deployment's
time zone, labelled with the local date and the day after the index therapy, as a ward
counts them ("day +3").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from cards.wording.times import LocalTimes

MAX_DAY_LABELS = 8  # more day labels than this do not fit 600 px: label every n-th day


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    day: str  # "Sat 21 Nov"
    day_number: str | None  # "day +3" (None without an index therapy)
    labelled: bool


@dataclass(frozen=True, slots=True)
class TimeAxis:
    start: datetime
    end: datetime
    left: float  # x of ``start``
    width: float  # x span from ``start`` to ``end``

    def x(self, t: datetime) -> float:
        """The x of ``t``, clamped to the axis (a period begun before it starts at its left edge)."""
        span = (self.end - self.start).total_seconds()
        share = (t - self.start).total_seconds() / span if span > 0 else 1.0
        return round(self.left + self.width * min(1.0, max(0.0, share)), 1)

    def covers(self, t: datetime) -> bool:
        return self.start <= t <= self.end

    def ticks(self, times: LocalTimes, day_zero: datetime | None) -> list[Tick]:
        """A tick at each local midnight on the axis; labels thinned to fit."""
        zone = times.zone
        local_start = self.start.astimezone(zone)
        midnight = datetime.combine(local_start.date() + timedelta(days=1), time(), tzinfo=zone)
        days: list[datetime] = []
        while midnight <= self.end:
            days.append(midnight)
            midnight = datetime.combine(midnight.date() + timedelta(days=1), time(), tzinfo=zone)
        every = max(1, -(-len(days) // MAX_DAY_LABELS))
        zero_date = day_zero.astimezone(zone).date() if day_zero is not None else None
        return [Tick(self.x(d), times.day(d),
                     f"day +{(d.date() - zero_date).days}" if zero_date is not None else None,
                     i % every == 0)
                for i, d in enumerate(days)]
