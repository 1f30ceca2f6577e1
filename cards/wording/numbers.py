"""Numbers and times as clinicians read them."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal


def number(value: float) -> str:
    """``4`` for 4.0, ``4.5`` for 4.5 (readings)."""
    return f"{value:g}"


def num(value: Decimal | float | int) -> str:
    """560, 358.8, 9.9 -- never 560.0, 8E+2 or 358.79999 (doses)."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return f"{d.normalize():f}"


def celsius(value: float) -> str:
    return f"{value:.1f} °C"


def hours(value: float) -> str:
    """A window: ``12 h``."""
    return f"{value:g} h"


def stamp(t: datetime) -> str:
    """UTC to the minute, as clinicians compare it with the chart."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d")


def hours_ago(t: datetime, now: datetime) -> str:
    ago = (now - t).total_seconds() / 3600
    return f"{ago:.0f} h ago" if ago >= 1 else f"{ago * 60:.0f} min ago"
