"""CRS_CDS_RETENTION_DAYS: per-call records past the retention are deleted in the background, once a
day per worker, and never on a call's own time."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta

import pytest

from cds_service.feedback import IssuedCard, Retention, SqlFeedbackStore
from cds_service.settings import ConfigError, Settings
from devkit import fhirbuild as fb
from devkit import records
from tests.support import apps


def old_card(days_ago: float) -> IssuedCard:
    return IssuedCard(str(uuid.uuid4()), "crs-patient-view", "crs-assessment", 3, "astct-generic",
                      fb.NOW - timedelta(days=days_ago))


def issued_count(store: SqlFeedbackStore) -> int:
    return sum(k.issued for k in store.report().kinds)


def test_a_pruning_runs_at_most_once_a_day_per_process(tmp_path) -> None:
    store = SqlFeedbackStore.from_url(str(tmp_path / "f.sqlite3"))
    store.record_issued([old_card(40), old_card(1)])
    clock = [1000.0]
    retention = Retention(store, 30, monotonic=lambda: clock[0])
    first = retention.due(fb.NOW)
    assert first is not None
    first.join(5)
    assert issued_count(store) == 1
    store.record_issued([old_card(31)])
    clock[0] += 3600
    assert retention.due(fb.NOW) is None  # an hour later: not again
    clock[0] += 24 * 3600
    later = retention.due(fb.NOW)
    assert later is not None
    later.join(5)
    assert issued_count(store) == 1


def test_a_failed_pruning_is_logged_by_type_and_the_calls_go_on(caplog) -> None:
    class Broken:
        def prune(self, before):
            raise RuntimeError("row (card_uuid)=(secret) violates something")

    caplog.set_level(logging.INFO, logger="crs_cds.feedback")
    thread = Retention(Broken(), 30).due(fb.NOW)  # type: ignore[arg-type]
    assert thread is not None
    thread.join(5)
    assert "could not delete records older than 30 days: RuntimeError" in caplog.text
    assert "secret" not in caplog.text


def test_a_call_starts_the_pruning_without_waiting_for_it(tmp_path) -> None:
    store = SqlFeedbackStore.from_url(str(tmp_path / "f.sqlite3"))
    store.record_issued([old_card(40) for _ in range(3)])
    release = threading.Event()
    prune = store.prune

    def slow_prune(before):  # the deletion may be long: the call must not wait for it
        release.wait(5)
        return prune(before)

    store.prune = slow_prune  # type: ignore[method-assign]
    client = apps.client(Settings(retention_days=30), feedback_store=store)
    response = client.post("/cds-services/crs-patient-view", json=fb.hook_request(records.record(hours=24, step_minutes=60)))
    assert response.status_code == 200 and response.get_json()["cards"]
    assert issued_count(store) == 3 + len(response.get_json()["cards"])  # answered before any deletion
    release.set()
    deadline = time.monotonic() + 5
    while issued_count(store) != len(response.get_json()["cards"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert issued_count(store) == len(response.get_json()["cards"])


@pytest.mark.parametrize("value", ["0", "-3", "a year"])
def test_a_retention_that_is_not_a_positive_number_of_days_stops_start_up(value) -> None:
    with pytest.raises(ConfigError, match="CRS_CDS_RETENTION_DAYS"):
        Settings.from_env({"CRS_CDS_RETENTION_DAYS": value})


def test_no_retention_keeps_everything() -> None:
    assert Settings.from_env({}).retention_days is None
    assert Settings.from_env({"CRS_CDS_RETENTION_DAYS": "400"}).retention_days == 400
