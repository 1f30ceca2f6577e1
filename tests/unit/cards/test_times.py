"""Times in words: local wall clock of the deployment's zone, with how long ago."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cards.wording.times import LocalTimes, ago, reader_zone, stamp, when

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("before,said", [(timedelta(0), "just now"), (timedelta(minutes=59), "59 min ago"),
                                         (timedelta(hours=3, minutes=59), "3 h ago"), (timedelta(hours=47), "47 h ago"),
                                         (timedelta(hours=48), "2 d ago"), (timedelta(days=15, hours=3), "15 d ago")])
def test_how_long_ago(before, said) -> None:
    assert ago(NOW - before, NOW) == said


def test_a_time_to_come_is_said_as_how_soon() -> None:
    assert ago(NOW + timedelta(minutes=5), NOW) == "in 5 min"
    assert when(NOW + timedelta(hours=5), NOW) == "2026-07-01 17:00 UTC (in 5 h)"


def test_local_time_names_its_zone_and_follows_summer_time() -> None:
    london = ZoneInfo("Europe/London")
    assert stamp(NOW, london) == "2026-07-01 13:00 BST"
    assert stamp(datetime(2026, 11, 21, 12, tzinfo=UTC), london) == "2026-11-21 12:00 GMT"
    assert when(NOW - timedelta(hours=3), NOW, ZoneInfo("America/New_York")) == "2026-07-01 05:00 EDT (3 h ago)"


def test_one_calls_wording_follows_the_deployments_zone_and_no_other_call() -> None:
    t = NOW - timedelta(hours=2, minutes=10)
    assert when(t, NOW) == "2026-07-01 09:50 UTC (2 h ago)"
    with reader_zone(ZoneInfo("Europe/Berlin")):
        assert when(t, NOW) == "2026-07-01 11:50 CEST (2 h ago)"
        assert stamp(t) == "2026-07-01 11:50 CEST"
    assert when(t, NOW) == "2026-07-01 09:50 UTC (2 h ago)"


def test_local_times_bound_to_a_zone() -> None:
    paris = LocalTimes(ZoneInfo("Europe/Paris"))
    assert (paris.stamp(NOW), paris.clock(NOW), paris.day(NOW), paris.name) == (
        "2026-07-01 14:00 CEST", "14:00", "Wed 01 Jul", "Europe/Paris")
    assert paris.when(NOW - timedelta(minutes=30), NOW) == "2026-07-01 13:30 CEST (30 min ago)"
