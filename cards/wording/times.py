"""Times as clinicians read them: local time in the deployment's zone, with how long ago.

FHIR instants are compared in UTC; people read the wall clock of their ward. One module
turns an instant into ``2026-11-21 10:00 CET (3 h ago)`` for a zone (``CRS_CDS_TIMEZONE``),
so that the timeline page and the card texts say times the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

MINUTES_PER_HOUR = 60
HOURS_SHOWN_AS_HOURS = 48  # "47 h ago", then "2 d ago"


def stamp(t: datetime, zone: tzinfo = UTC) -> str:
    """``2026-11-21 10:00 CET``: to the minute, with the zone's abbreviation."""
    local = t.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def ago(t: datetime, now: datetime) -> str | None:
    """``45 min ago``, ``3 h ago``, ``2 d ago``; None for a time after ``now``."""
    minutes = int((now - t).total_seconds() // 60)
    if minutes < 0:
        return None
    if minutes < MINUTES_PER_HOUR:
        return f"{minutes} min ago"
    if minutes < HOURS_SHOWN_AS_HOURS * MINUTES_PER_HOUR:
        return f"{minutes // MINUTES_PER_HOUR} h ago"
    return f"{minutes // (24 * MINUTES_PER_HOUR)} d ago"


def when(t: datetime, now: datetime, zone: tzinfo = UTC) -> str:
    """``2026-11-21 10:00 CET (3 h ago)``: the absolute part finds the entry in the chart, the
    relative part is what a clinician reads."""
    relative = ago(t, now)
    return f"{stamp(t, zone)} ({relative})" if relative else stamp(t, zone)


@dataclass(frozen=True, slots=True)
class LocalTimes:
    """The time wording of one deployment: its zone, bound once (the timeline page's templates use it)."""

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
