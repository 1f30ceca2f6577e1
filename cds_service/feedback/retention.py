"""Retention of the per-call records: older than ``CRS_CDS_RETENTION_DAYS`` days, deleted.

Every answered call adds a row per issued card (about 410 bytes a grade-3 call on
SQLite, 500 on PostgreSQL, indexes included: ``benchmarks/bench_feedback_growth.py``),
35-43 MB a day at one call a second: a year of a busy hospital is gigabytes nobody
reads. Each worker deletes what is past the retention at most once a day,
in a background thread, so no call waits for the deletion.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from .store import FeedbackStore

_log = logging.getLogger("crs_cds.feedback")
EVERY_SECONDS = 24 * 3600.0


class Retention:
    """Schedules ``FeedbackStore.prune`` for one process; ``due`` is called after each recording."""

    def __init__(self, store: FeedbackStore, days: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store, self.days, self._monotonic = store, days, monotonic
        self._next = 0.0  # the first recording in a process prunes
        self._lock = threading.Lock()

    def due(self, now: datetime) -> threading.Thread | None:
        """Start a pruning of what is older than ``now`` - ``days`` if none ran in this process for a
        day; the started thread (tests wait for it), else None."""
        t = self._monotonic()
        with self._lock:
            if t < self._next:
                return None
            self._next = t + EVERY_SECONDS
        thread = threading.Thread(target=self._prune, args=(now - timedelta(days=self.days),),
                                  name="crs-cds-retention", daemon=True)
        thread.start()
        return thread

    def _prune(self, before: datetime) -> None:
        try:
            removed = self.store.prune(before)
        except Exception as exc:  # type only: a driver's message may quote a row
            _log.error("retention: could not delete records older than %d days: %s", self.days,
                       type(exc).__name__)
            return
        _log.info("retention: %d records older than %d days deleted", removed, self.days)
