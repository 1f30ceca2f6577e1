"""Times and units as a clinician reads them: one function for every time, UCUM codes never shown."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cards.wording.numbers import recorded, unit
from cards.wording.times import when

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("before,said", [(timedelta(seconds=20), "just now"), (timedelta(minutes=45), "45 min ago"),
                                          (timedelta(hours=3, minutes=59), "3 h ago"), (timedelta(hours=47), "47 h ago"),
                                          (timedelta(hours=49), "2 d ago"), (-timedelta(hours=8), "in 8 h"),
                                          (-timedelta(minutes=30), "in 30 min")])
def test_how_long_ago_or_how_soon(before: timedelta, said: str) -> None:
    assert when(NOW - before, NOW, absolute=False) == said


def test_absolute_and_relative_in_utc_by_default() -> None:
    assert when(NOW - timedelta(hours=3), NOW) == "2026-11-21 09:00 UTC (3 h ago)"
    assert when(NOW - timedelta(hours=3)) == "2026-11-21 09:00 UTC"


def test_the_zone_is_the_readers_wall_clock() -> None:
    """The deployment's time zone can be handed to the one function that says times (not configured yet)."""
    t = datetime(2026, 7, 1, 9, 0, tzinfo=timezone(timedelta(hours=-4)))  # 13:00 UTC
    assert when(t, zone=ZoneInfo("Europe/London")) == "2026-07-01 14:00 BST"
    assert when(t, t + timedelta(hours=2), ZoneInfo("Europe/Berlin")) == "2026-07-01 15:00 CEST (2 h ago)"


@pytest.mark.parametrize("code,shown", [("Cel", "°C"), ("[degF]", "°F"), ("ug/kg/min", "µg/kg/min"), ("ug/min", "µg/min"),
                                        ("ug/d", "µg/day"), ("mm[Hg]", "mmHg"), ("10*9/L", "× 10⁹/L"),
                                        ("[lb_av]", "lb"), ("[U]/min", "units/min"), ("mg", "mg"), ("L/min", "L/min"),
                                        (None, "")])
def test_units_as_people_write_them(code: str | None, shown: str) -> None:
    assert unit(code) == shown


def test_a_value_as_recorded_keeps_its_number_and_shows_its_unit() -> None:
    assert recorded("39.2 Cel") == "39.2 °C"
    assert recorded("154 [lb_av]") == "154 lb"
    assert recorded("70") == "70"
