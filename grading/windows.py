"""Time windows over sorted data: the arithmetic behind "in the last 12 h".

Every rule looks back a fixed window from an evaluation time ``t``; the worst
grade since onset asks the same question at thousands of ``t``. Keeping each
kind of data sorted and answering with ``bisect`` makes one question
O(log n), so a 14-day ICU record with 15-minute vitals stays fast.

All windows are closed: a reading exactly 12 h old is still in a 12 h window.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from clinical import DrugAdministration

# Statuses that mean the drug was not (or not really) given; the mapping
# already drops most of them, grading stays safe if one slips through.
NOT_GIVEN = frozenset({"not-done", "entered-in-error"})


class Timed(Protocol):
    """Anything placed in time: every reading of the snapshot."""

    @property
    def time(self) -> datetime: ...


T = TypeVar("T", bound=Timed)


class TimeIndexed(Generic[T]):
    """Items sorted by time, with everything after ``until`` dropped (no future data; None keeps all)."""

    def __init__(self, items: Iterable[T], until: datetime | None,
                 key: Callable[[T], datetime] = lambda x: x.time):
        ordered = sorted((i for i in items if until is None or key(i) <= until), key=key)
        self.items: list[T] = ordered
        self.times: list[datetime] = [key(i) for i in ordered]

    def upto(self, t: datetime) -> TimeIndexed[T]:
        """The items at or before ``t``, without sorting again: what grading sees at ``t``."""
        end = bisect_right(self.times, t)
        view: TimeIndexed[T] = object.__new__(type(self))
        view.items, view.times = self.items[:end], self.times[:end]
        return view

    def between(self, start: datetime, end: datetime) -> Sequence[T]:
        """Items with ``start <= time <= end``."""
        return self.items[bisect_left(self.times, start):bisect_right(self.times, end)]

    def before(self, t: datetime) -> Sequence[T]:
        """Items with ``time < t``."""
        return self.items[:bisect_left(self.times, t)]

    def first_from(self, t: datetime) -> T | None:
        """The earliest item at or after ``t``."""
        i = bisect_left(self.times, t)
        return self.items[i] if i < len(self.items) else None

    def latest_at(self, t: datetime) -> T | None:
        """The most recent item at or before ``t``."""
        i = bisect_right(self.times, t)
        return self.items[i - 1] if i else None

    def __len__(self) -> int:
        return len(self.items)


class IntervalSet:
    """A union of closed time intervals with O(log n) membership.

    Used by the worst-grade scan: each finding is active for an interval
    (a fever at f counts during [f, f + 24 h]); the grade at ``t`` is read off
    which sets contain ``t``.
    """

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]]):
        merged: list[list[datetime]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [m[0] for m in merged]
        self.ends = [m[1] for m in merged]

    def __contains__(self, t: datetime) -> bool:
        i = bisect_right(self.starts, t) - 1
        return i >= 0 and self.ends[i] >= t

    def __bool__(self) -> bool:
        return bool(self.starts)


def window(t: datetime, hours: float) -> tuple[datetime, datetime]:
    """``[t - hours, t]``."""
    return t - timedelta(hours=hours), t


@dataclass(frozen=True, slots=True)
class Period:
    """When a drug was effectively running, with the administration it came from.

    ``running`` is True when the administration is in progress or its period is
    open: it is then taken to run until ``now``. An administration charted at a
    single time point ran at that instant; ``unknown_until`` is how long it may
    still have been running afterwards (the grading data's infusion rule), which
    can neither count nor be ignored.
    """

    drug: str
    start: datetime
    end: datetime
    running: bool
    administration: DrugAdministration
    unknown_until: datetime | None = None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start <= end and self.end >= start

    @property
    def latest_end(self) -> datetime:
        """The end, or the end of the time it may still have been running."""
        return self.unknown_until if self.unknown_until is not None else self.end


def period_of(admin: DrugAdministration, now: datetime) -> Period | None:
    """The effective period of ``admin`` as seen at ``now`` (None if not given or in the future)."""
    if admin.status in NOT_GIVEN or admin.start > now:
        return None
    if admin.in_progress or admin.end is None:
        return Period(admin.drug, admin.start, now, True, admin)
    return Period(admin.drug, admin.start, max(min(admin.end, now), admin.start), False, admin)
