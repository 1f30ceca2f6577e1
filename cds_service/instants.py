"""Parsing the instants a caller may pin (``--now``, ``extension["crs-cds.now"]``)."""
from __future__ import annotations

from datetime import UTC, datetime

# Instants outside these years are typos, and the time arithmetic downstream (windows
# before ``now``, UTC conversion for storage) would overflow near years 1 and 9999.
EARLIEST_YEAR, LATEST_YEAR = 1900, 8999


def parse_instant(text: str) -> datetime:
    """ISO 8601 date-time -> aware datetime; no offset means UTC. Raises ValueError."""
    if not isinstance(text, str) or "T" not in text.upper():
        raise ValueError("expected an ISO 8601 date-time such as 2026-11-21T12:00:00Z")
    value = datetime.fromisoformat(text.strip())
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"expected a date-time between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def utc_now() -> datetime:
    return datetime.now(UTC)


# Development only: a request's extension["crs-cds.now"] grades "as of" that instant, so that the
# example requests (and `crs-cds grade` on them) replay the same way whenever they are run.
NOW_EXTENSION = "crs-cds.now"
