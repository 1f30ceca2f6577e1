"""Times as clinicians read them: the wall clock of the deployment's zone, and how long ago.

FHIR instants are compared in UTC; people read the clock of their ward. Every time the service
shows, on a card or on the timeline page, is said by :func:`when` here (``2026-11-21 10:00 CET
(3 h ago)``, the absolute part alone, or ``3 h ago`` / ``in 5 h`` alone). The zone is the
deployment's (``CRS_CDS_TIMEZONE``): the service layer says it once per call with
:func:`reader_zone`, so that the wording functions, many calls deep, need no zone argument.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

MINUTES_PER_HOUR = 60
HOURS_SHOWN_AS_HOURS = 48  # "47 h ago", then "2 d ago"

_READER_ZONE: ContextVar[tzinfo] = ContextVar("crs_cds_reader_zone", default=UTC)


@contextmanager
def reader_zone(zone: tzinfo) -> Iterator[None]:
    """Say times on the wall clock of ``zone`` inside the block (one call's cards); UTC outside."""
    token = _READER_ZONE.set(zone)
    try:
        yield
    finally:
        _READER_ZONE.reset(token)


def current_zone() -> tzinfo:
    return _READER_ZONE.get()


def when(t: datetime, now: datetime | None = None, zone: tzinfo | None = None, *, absolute: bool = True) -> str:
    """``2026-11-21 10:00 UTC (3 h ago)`` with ``now``, ``2026-11-21 10:00 UTC`` without, ``3 h ago``
    (or ``in 5 h``) with ``absolute=False``. The absolute part finds the entry in the chart; the
    relative part is what a clinician reads."""
    text = stamp(t, zone)
    if now is None:
        return text
    said = relative(t, now)
    return f"{text} ({said})" if absolute else said


def stamp(t: datetime, zone: tzinfo | None = None) -> str:
    """``2026-11-21 10:00 CET``: to the minute, with the zone's abbreviation."""
    local = t.astimezone(zone or current_zone())
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def relative(t: datetime, now: datetime) -> str:
    """``just now``, ``45 min ago``, ``3 h ago``, ``2 d ago``; ``in 20 min``, ``in 5 h`` for a time to come."""
    seconds = (now - t).total_seconds()
    ahead = seconds < 0
    minutes = int(abs(seconds) // 60)
    if minutes == 0:
        return "now" if ahead else "just now"
    if minutes < MINUTES_PER_HOUR:
        span = f"{minutes} min"
    elif minutes < HOURS_SHOWN_AS_HOURS * MINUTES_PER_HOUR:
        span = f"{minutes // MINUTES_PER_HOUR} h"
    else:
        span = f"{minutes // (24 * MINUTES_PER_HOUR)} d"
    return f"in {span}" if ahead else f"{span} ago"


def ago(t: datetime, now: datetime) -> str:
    """``3 h ago``."""
    return relative(t, now)


def day(t: datetime, zone: tzinfo | None = None) -> str:
    """``2026-11-21``: the local date."""
    return f"{t.astimezone(zone or current_zone()):%Y-%m-%d}"


@dataclass(frozen=True, slots=True)
class LocalTimes:
    """The time wording of one deployment, its zone bound once (the timeline page's templates use it)."""

    zone: tzinfo = UTC

    def stamp(self, t: datetime) -> str:
        return stamp(t, self.zone)

    def when(self, t: datetime, now: datetime) -> str:
        return when(t, now, self.zone)

    def clock(self, t: datetime) -> str:
        """``10:00``: the wall-clock time alone (chart ticks)."""
        return f"{t.astimezone(self.zone):%H:%M}"

    def day(self, t: datetime) -> str:
        """``Sat 21 Nov``: the local date (chart ticks)."""
        return f"{t.astimezone(self.zone):%a %d %b}"

    @property
    def name(self) -> str:
        return str(self.zone)
