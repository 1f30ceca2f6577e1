"""Parsing the instants a caller may pin (``--now``, ``extension["crs-cds.now"]``)."""
from __future__ import annotations

from datetime import datetime, timezone


def parse_instant(text: str) -> datetime:
    """ISO 8601 date-time -> aware datetime; no offset means UTC. Raises ValueError."""
    if not isinstance(text, str) or "T" not in text.upper():
        raise ValueError("expected an ISO 8601 date-time such as 2026-11-21T12:00:00Z")
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
