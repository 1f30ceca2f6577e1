"""How fast the feedback database grows with the calls the service answers (``make bench``).

Every answered patient-view records one row per issued card (a grade-3 answer issues
two: the assessment and the choice of steroid or anakinra). This records ``--calls``
such answers in a fresh SQLite file and, when one is reachable, a fresh PostgreSQL
database, and prints the bytes per call (table and index pages, after a checkpoint or
VACUUM so that free space is not counted) and the growth per day at a few call rates.
``CRS_CDS_RETENTION_DAYS`` bounds the total at about ``growth per day x days``.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from cds_service.feedback import IssuedCard, SqlFeedbackStore  # noqa: E402

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
RATES = (0.1, 1, 10)  # calls per second, averaged over a day
CARDS_PER_CALL = 2


def record(store: SqlFeedbackStore, calls: int) -> None:
    t0 = datetime(2026, 11, 21, tzinfo=UTC)
    for i in range(calls):
        at = t0 + timedelta(seconds=i)
        store.record_issued([IssuedCard(str(uuid.uuid4()), "crs-patient-view", kind, 3, "astct-generic", at)
                             for kind in ("crs-assessment", "steroid-or-anakinra")[:CARDS_PER_CALL]])


def sqlite_bytes(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        pages = conn.execute("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'issued_cards%' "
                             "OR name LIKE 'sqlite_autoindex_issued_cards%'").fetchone()[0]
    return int(pages or 0)


@contextmanager
def postgres_database() -> Iterator[str | None]:
    name = f"crs_cds_growth_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.Error:
        yield None
        return
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def postgres_bytes(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM FULL issued_cards")
        return int(conn.execute("SELECT pg_total_relation_size('issued_cards')").fetchone()[0])


def report(name: str, empty: int, full: int, calls: int) -> None:
    per_call = (full - empty) / calls
    per_day = ", ".join(f"{rate:g}/s: {per_call * rate * 86400 / 1e6:,.1f} MB" for rate in RATES)
    print(f"{name:<11} {per_call:6.0f} bytes per call ({CARDS_PER_CALL} cards) | growth per day at {per_day} "
          f"| 90 days at 1/s: {per_call * 86400 * 90 / 1e9:.2f} GB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "feedback.sqlite3"
        store = SqlFeedbackStore.from_url(str(path))
        empty = sqlite_bytes(path)
        record(store, args.calls)
        report("SQLite", empty, sqlite_bytes(path), args.calls)
    with postgres_database() as url:
        if url is None:
            print("PostgreSQL   not reachable on 127.0.0.1:5432: skipped")
            return
        store = SqlFeedbackStore.from_url(url)
        empty = postgres_bytes(url)
        record(store, args.calls)
        report("PostgreSQL", empty, postgres_bytes(url), args.calls)


if __name__ == "__main__":
    main()
