"""Where issued cards and clinicians' feedback on them are kept.

Hospitals watch how often each kind of card is accepted or overridden, and
why. At response time the service records, per card, only what is needed to
join feedback to it (card uuid, service, card kind, grade, protocol): never a
patient identifier. Feedback is stored idempotently: the same card and
outcome reported twice is one row. The clinician's free-text ``userComment``
is not stored, because it may name the patient.

SQLite (a file) by default; PostgreSQL when the configured URL says so. The
SQL is the common subset of both; only the placeholder differs.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS issued_cards (
        card_uuid TEXT PRIMARY KEY,
        service_id TEXT NOT NULL,
        card_kind TEXT NOT NULL,
        grade INTEGER,
        protocol TEXT,
        issued_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS card_feedback (
        card_uuid TEXT NOT NULL,
        service_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        outcome_at TEXT NOT NULL,
        accepted_suggestions TEXT NOT NULL,
        override_system TEXT,
        override_code TEXT,
        override_display TEXT,
        received_at TEXT NOT NULL,
        PRIMARY KEY (card_uuid, outcome)
    )""",
)


@dataclass(frozen=True, slots=True)
class IssuedCard:
    card_uuid: str
    service_id: str
    card_kind: str  # e.g. "crs-assessment", "tocilizumab-limit", "gm-csf"
    grade: int | None
    protocol: str | None
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class Feedback:
    card_uuid: str
    outcome: str  # "accepted" | "overridden"
    outcome_at: datetime
    accepted_suggestions: tuple[str, ...] = ()
    override_system: str | None = None
    override_code: str | None = None
    override_display: str | None = None


@dataclass(slots=True)
class KindReport:
    card_kind: str
    issued: int = 0
    accepted: int = 0
    overridden: int = 0
    override_reasons: Counter[str] = field(default_factory=Counter)


class FeedbackStore(Protocol):
    def record_issued(self, cards: Iterable[IssuedCard]) -> None: ...
    def record_feedback(self, service_id: str, items: Iterable[Feedback], received_at: datetime) -> int: ...
    def report(self, since: datetime | None = None) -> list[KindReport]: ...


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SqlFeedbackStore:
    """One implementation for SQLite and PostgreSQL (DB-API connections)."""

    def __init__(self, connect: Any, placeholder: str) -> None:
        self._connect = connect
        self._ph = placeholder
        self._lock = threading.Lock()
        with self._transaction() as cur:
            for statement in SCHEMA:
                cur.execute(statement)

    @classmethod
    def from_url(cls, url: str) -> SqlFeedbackStore:
        """``postgresql://…`` / ``postgres://…``, ``sqlite:///path`` or a plain file path."""
        if url.startswith(("postgresql://", "postgres://")):
            return cls(lambda: psycopg.connect(url), "%s")
        path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            return cls(lambda: sqlite3.connect(path, timeout=10), "?")
        shared = sqlite3.connect(":memory:", check_same_thread=False)
        return cls(lambda: _Borrowed(shared), "?")

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self._ph)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._connect, self._lock)

    def record_issued(self, cards: Iterable[IssuedCard]) -> None:
        rows = [(c.card_uuid, c.service_id, c.card_kind, c.grade, c.protocol, _iso(c.issued_at)) for c in cards]
        if not rows:
            return
        with self._transaction() as cur:
            cur.executemany(self._sql(
                "INSERT INTO issued_cards (card_uuid, service_id, card_kind, grade, protocol, issued_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (card_uuid) DO NOTHING"), rows)

    def record_feedback(self, service_id: str, items: Iterable[Feedback], received_at: datetime) -> int:
        """Store feedback; returns how many rows were new (repeats are ignored)."""
        new = 0
        with self._transaction() as cur:
            for f in items:
                cur.execute(self._sql(
                    "INSERT INTO card_feedback (card_uuid, service_id, outcome, outcome_at, accepted_suggestions, "
                    "override_system, override_code, override_display, received_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (card_uuid, outcome) DO NOTHING"),
                    (f.card_uuid, service_id, f.outcome, _iso(f.outcome_at), json.dumps(list(f.accepted_suggestions)),
                     f.override_system, f.override_code, f.override_display, _iso(received_at)))
                new += max(cur.rowcount, 0)
        return new

    def report(self, since: datetime | None = None) -> list[KindReport]:
        """Per card kind: issued, accepted, overridden, and the override reasons."""
        cutoff = _iso(since) if since else ""
        reports: dict[str, KindReport] = {}
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT card_kind, COUNT(*) FROM issued_cards WHERE issued_at >= ? "
                                  "GROUP BY card_kind"), (cutoff,))
            for kind, count in cur.fetchall():
                reports.setdefault(kind, KindReport(kind)).issued = int(count)
            cur.execute(self._sql(
                "SELECT COALESCE(i.card_kind, 'unknown'), f.outcome, f.override_code, f.override_display "
                "FROM card_feedback f LEFT JOIN issued_cards i ON i.card_uuid = f.card_uuid "
                "WHERE f.outcome_at >= ?"), (cutoff,))
            for kind, outcome, code, display in cur.fetchall():
                r = reports.setdefault(kind, KindReport(kind))
                if outcome == "accepted":
                    r.accepted += 1
                elif outcome == "overridden":
                    r.overridden += 1
                    r.override_reasons[display or code or "(no reason given)"] += 1
        return sorted(reports.values(), key=lambda r: r.card_kind)


class _Transaction:
    """Connection per unit of work, committed on success; serialised per process for SQLite."""

    def __init__(self, connect: Any, lock: threading.Lock) -> None:
        self._connect, self._lock = connect, lock

    def __enter__(self) -> Any:
        self._lock.acquire()
        try:
            self._conn = self._connect()
            self._cur = self._conn.cursor()
        except BaseException:
            self._lock.release()
            raise
        return self._cur

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        try:
            if exc_type is None:
                self._conn.commit()
            else:
                self._conn.rollback()
        finally:
            self._conn.close()
            self._lock.release()


class _Borrowed:
    """A shared in-memory SQLite connection whose close() does not destroy the database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def cursor(self) -> sqlite3.Cursor:
        return self._conn.cursor()

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        pass
