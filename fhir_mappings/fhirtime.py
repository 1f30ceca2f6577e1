"""FHIR date and dateTime parsing, tolerant and fast.

Named ``fhirtime`` rather than ``time`` so it never shadows the standard
library module. ``datetime.fromisoformat`` (Python 3.11+) already accepts
every form FHIR ``dateTime``/``instant`` uses (with or without seconds,
fractional seconds of any length, ``Z`` or an offset), so the hot path is one
C call and a timezone fix-up: no regular expression per value.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

UTC = UTC

# "YYYY-MM-DD": the shortest string that names a day. Shorter forms ("2026",
# "2026-11") are legal FHIR dateTimes but far too vague to place a vital sign
# or a dose in a 12- or 24-hour window, so they count as "no usable time".
_DAY_LENGTH = 10


def parse_datetime(value: object) -> datetime | None:
    """A FHIR dateTime/instant as an aware UTC datetime, or None if unusable.

    Date-only values mean midnight UTC; values without an offset are taken as
    UTC (the model's convention). Anything that is not a string naming at least
    a day (numbers, garbage, "2026-11") gives None; this never raises.
    """
    if type(value) is not str or len(value) < _DAY_LENGTH:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    tz = parsed.tzinfo
    if tz is UTC:  # "Z" or "+00:00": most EHR data, no further work
        return parsed
    try:
        if tz is None:
            return parsed.replace(tzinfo=UTC)
        if parsed.utcoffset():
            return parsed.astimezone(UTC)
        return parsed.replace(tzinfo=UTC)
    except (OverflowError, ValueError):  # e.g. year 1 with a positive offset
        return None


def parse_birth_date(value: object) -> date | None:
    """Patient.birthDate ("YYYY", "YYYY-MM" or "YYYY-MM-DD") as a date.

    A partial date becomes the first day of its year or month: the earliest
    possible birthday makes the patient as old as the data allow, which is the
    conservative side for age-dependent thresholds (paediatric hypotension).
    Extra characters after the day (a stray time) are ignored.
    """
    if type(value) is not str:
        return None
    text = value.strip()
    try:
        if len(text) == 4 and text.isdigit():
            return date(int(text), 1, 1)
        if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
            return date(int(text[:4]), int(text[5:7]), 1)
        if len(text) >= _DAY_LENGTH:
            return date.fromisoformat(text[:_DAY_LENGTH])
    except ValueError:
        return None
    return None


def as_utc(moment: datetime) -> datetime:
    """``moment`` made timezone-aware (naive means UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
