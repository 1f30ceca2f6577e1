"""Where issued cards and clinicians' feedback on them are kept.

Hospitals watch how often each kind of card is accepted or overridden, and
why. At response time the service records, per card, only what is needed to
join feedback to it (card uuid, service, card kind, grade, protocol): never a
patient identifier. Feedback is stored idempotently, one row per accepted
suggestion: a card whose suggestions are accepted one by one keeps every one,
and the same item reported twice is one row. Feedback about a card uuid this
service never issued is kept but flagged (``card_issued = 0``), and the report
shows it apart. An override's reason is kept as the client sent it: a Coding
(system, code, display), or Epic's acknowledgement reason built in Epic (category,
display, title); the report groups by it. The clinician's free-text
``userComment`` is not stored, because it may name the patient.

SQLite (a file) by default; PostgreSQL when the configured URL says so. The
SQL is the common subset of both; only the placeholder differs. The service
creates the tables at start-up (``from_url``), migrating the 0.1 feedback table;
the report opens an existing database only (``open_existing``), never creating
one where a path or URL was mistyped.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg

from ..urls import display_url

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS issued_cards (
        card_uuid TEXT PRIMARY KEY,
        service_id TEXT NOT NULL,
        card_kind TEXT NOT NULL,
        grade INTEGER,
        protocol TEXT,
        issued_at TEXT NOT NULL
    )""",
    # One row per accepted suggestion (suggestion_id '' for an override, or an acceptance naming none):
    # the reference sandbox reports a card's suggestions one by one, each as its own "accepted" item.
    """CREATE TABLE IF NOT EXISTS feedback_items (
        card_uuid TEXT NOT NULL,
        service_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        suggestion_id TEXT NOT NULL,
        outcome_at TEXT NOT NULL,
        override_system TEXT,
        override_code TEXT,
        override_display TEXT,
        card_issued INTEGER NOT NULL,
        received_at TEXT NOT NULL,
        override_category TEXT,
        override_title TEXT,
        PRIMARY KEY (card_uuid, outcome, suggestion_id)
    )""",
    # Silent mode (CRS_CDS_MODE=silent): what would have been graded, with no patient identifier and
    # no call identifier (a hookInstance could be joined to the EHR's audit log).
    """CREATE TABLE IF NOT EXISTS silent_assessments (
        assessment_id TEXT PRIMARY KEY,
        service_id TEXT NOT NULL,
        status TEXT NOT NULL,
        grade INTEGER,
        worst_grade INTEGER,
        lower_bound INTEGER NOT NULL,
        protocol TEXT,
        assessed_at TEXT NOT NULL
    )""",
)
# What the report and retention look up by time; created on existing databases too.
INDEXES = (
    "CREATE INDEX IF NOT EXISTS issued_cards_by_time ON issued_cards (issued_at)",
    "CREATE INDEX IF NOT EXISTS silent_assessments_by_time ON silent_assessments (assessed_at)",
)
LEGACY_FEEDBACK = "card_feedback"  # 0.1: one row per card and outcome (later suggestions were dropped)
# Columns added since a table was first created: (table, column, type), added to existing databases.
ADDED_COLUMNS = (("feedback_items", "override_category", "TEXT"), ("feedback_items", "override_title", "TEXT"))


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
    override_category: str | None = None  # Epic's acknowledgement reason built in Epic (reasonCategory)
    override_title: str | None = None  # ... and its reasonTitle

    def suggestion_ids(self) -> tuple[str, ...]:
        """One stored row each (see ``stored_suggestions``)."""
        return stored_suggestions(self.outcome, self.accepted_suggestions)


def stored_suggestions(outcome: str, accepted: Iterable[str]) -> tuple[str, ...]:
    """The suggestion ids an item is stored under: each accepted one, or '' (an override, or an
    acceptance naming no suggestion)."""
    unique = tuple(dict.fromkeys(accepted)) if outcome == "accepted" else ()
    return unique or ("",)


@dataclass(frozen=True, slots=True)
class SilentAssessment:
    """One assessment made in silent mode: the grade the service would have shown, nothing about whom."""

    service_id: str
    status: str  # graded | not-graded | insufficient-data | not-eligible
    grade: int | None
    worst_grade: int | None
    lower_bound: bool
    protocol: str | None
    assessed_at: datetime


@dataclass(frozen=True, slots=True)
class FeedbackReceipt:
    """What one feedback post changed: rows newly stored, and items about cards we never issued."""

    stored: int
    unknown_cards: int
    unknown: frozenset[str] = field(default=frozenset(), compare=False)  # those cards' uuids


@dataclass(slots=True)
class KindReport:
    card_kind: str
    issued: int = 0
    accepted: int = 0  # cards with at least one acceptance
    suggestions_accepted: int = 0
    overridden: int = 0  # cards overridden
    override_reasons: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class FeedbackReport:
    """Per card kind, and apart from them the feedback about card uuids this service never issued, and
    the silent-mode assessments by status and grade ((status, grade) -> count)."""

    kinds: list[KindReport] = field(default_factory=list)
    unknown_accepted: int = 0
    unknown_overridden: int = 0
    silent: dict[tuple[str, int | None], int] = field(default_factory=dict)


class StoreUnavailable(Exception):
    """The feedback database cannot be opened or used; the message names it (never its credentials)."""


class FeedbackStore(Protocol):
    def record_issued(self, cards: Iterable[IssuedCard]) -> None: ...
    def record_assessment(self, assessment: SilentAssessment) -> None: ...
    def record_feedback(self, service_id: str, items: Iterable[Feedback], received_at: datetime) -> FeedbackReceipt:
        ...
    def report(self, since: datetime | None = None) -> FeedbackReport: ...
    def ping(self) -> None: ...
    def describe(self) -> str: ...
    def prune(self, before: datetime) -> int: ...


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _reason(exc: BaseException) -> str:
    """A driver error in one line (its first), for an operator: PostgreSQL and SQLite messages name
    the server, port, database or file, never a password."""
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


DB_ERRORS = (psycopg.Error, sqlite3.Error, OSError)


class SqlFeedbackStore:
    """One implementation for SQLite and PostgreSQL (DB-API connections)."""

    def __init__(self, connect: Callable[[], Any], placeholder: str, *, shown: str, create: bool = True) -> None:
        self._connect = connect
        self._ph = placeholder
        self._shown = shown
        self._lock = threading.Lock()
        try:
            if create:
                self._create_schema()
            else:
                self._check_schema()
        except DB_ERRORS as exc:
            raise StoreUnavailable(f"cannot open the feedback database {shown} ({_reason(exc)})") from None
        finally:
            if isinstance(connect, _KeptConnection):
                connect.release()  # opened by the gunicorn master: no connection is inherited by a worker

    @property
    def postgres(self) -> bool:
        return self._ph == "%s"

    @classmethod
    def from_url(cls, url: str) -> SqlFeedbackStore:
        """Open (creating the tables, migrating 0.1's) ``postgresql://…`` / ``postgres://…``,
        ``sqlite:///path`` or a plain file path. ``StoreUnavailable`` names the database."""
        if url.startswith(("postgresql://", "postgres://")):
            return cls(_KeptConnection(lambda: psycopg.connect(url, connect_timeout=5)), "%s",
                       shown=display_url(url))
        path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
        if path == ":memory:":
            shared = sqlite3.connect(":memory:", check_same_thread=False)
            return cls(lambda: _Borrowed(shared), "?", shown="sqlite (in memory)")
        shown = f"sqlite:///{Path(path).resolve()}"
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot open the feedback database {shown} ({_reason(exc)})") from None
        return cls(_KeptConnection(lambda: _open_sqlite(path)), "?", shown=shown)

    @classmethod
    def open_existing(cls, url: str) -> SqlFeedbackStore:
        """Open a database the service has already created, read-only for SQLite; never create one
        (a mistyped path or URL is an error, not an empty report)."""
        if url.startswith(("postgresql://", "postgres://")):
            return cls(_KeptConnection(lambda: psycopg.connect(url, connect_timeout=5)), "%s",
                       shown=display_url(url), create=False)
        path = Path(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url)
        shown = f"sqlite:///{path.resolve()}"
        if not path.is_file():
            raise StoreUnavailable(f"no feedback database at {shown}: the service creates it when it first starts; "
                                   "check the path")
        uri = f"{path.resolve().as_uri()}?mode=ro".replace("file://", "file:", 1)
        return cls(lambda: sqlite3.connect(uri, uri=True, timeout=10), "?", shown=shown, create=False)

    def describe(self) -> str:
        """The database, as an operator knows it (no credentials)."""
        return self._shown

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self._ph)

    def _transaction(self, *, durable: bool = True) -> _Transaction:
        """A unit of work. ``durable=False`` for the per-call records (issued cards, silent
        assessments): committed without waiting for the disk (PostgreSQL ``synchronous_commit
        off``, SQLite ``synchronous NORMAL`` in WAL mode), so they cost ~0.1 ms on the
        patient-view path instead of a flush. A crash of the database server or machine (not of
        the service) may lose the last fraction of a second of them; feedback, which a client
        was told we stored, is always committed durably."""
        return _Transaction(self._connect, self._lock, self._relaxed if not durable else self._durable)

    # The first statement of a unit of work; on PostgreSQL it also finds a kept connection the server
    # dropped (a restart, an idle timeout), which the transaction then replaces once.
    def _relaxed(self, cur: Any) -> None:
        cur.execute("SET LOCAL synchronous_commit TO OFF" if self.postgres else "PRAGMA synchronous = NORMAL")

    def _durable(self, cur: Any) -> None:
        cur.execute("SELECT 1" if self.postgres else "PRAGMA synchronous = FULL")

    def _tables(self, cur: Any) -> set[str]:
        if self.postgres:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        else:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in cur.fetchall()}

    def _columns(self, cur: Any, table: str) -> set[str]:
        if self.postgres:
            cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                        "AND table_name = %s", (table,))
            return {name for (name,) in cur.fetchall()}
        cur.execute(f"PRAGMA table_info({table})")
        return {row[1] for row in cur.fetchall()}

    def _create_schema(self) -> None:
        """Create what is missing and migrate 0.1's feedback table, serialised across instances starting
        together (PostgreSQL: an advisory lock; SQLite: an immediate transaction)."""
        with self._transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('crs-cds schema'))" if self.postgres
                        else "BEGIN IMMEDIATE")
            for statement in (*SCHEMA, *INDEXES):
                cur.execute(statement)
            for table, column, kind in ADDED_COLUMNS:
                if column not in self._columns(cur, table):
                    cur.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            if LEGACY_FEEDBACK in self._tables(cur):
                self._migrate_legacy(cur)

    def _migrate_legacy(self, cur: Any) -> None:
        """0.1 kept one row per card and outcome, its suggestions as a JSON list: one row per suggestion
        now. The old table is kept, renamed, for audit."""
        cur.execute(f"SELECT card_uuid, service_id, outcome, outcome_at, accepted_suggestions, override_system, "
                    f"override_code, override_display, received_at FROM {LEGACY_FEEDBACK}")
        rows = cur.fetchall()
        issued = self._issued_among(cur, {row[0] for row in rows})
        for card, service, outcome, at, suggestions, system, code, display, received in rows:
            for suggestion in stored_suggestions(outcome, json.loads(suggestions or "[]")):
                cur.execute(self._sql(_INSERT_FEEDBACK), (card, service, outcome, suggestion, at, system, code,
                                                           display, int(card in issued), received, None, None))
        cur.execute(f"ALTER TABLE {LEGACY_FEEDBACK} RENAME TO {LEGACY_FEEDBACK}_v01")

    def _check_schema(self) -> None:
        with self._transaction() as cur:
            tables = self._tables(cur)
        if {"issued_cards", "feedback_items"} <= tables:
            return
        if LEGACY_FEEDBACK in tables:
            raise StoreUnavailable(f"the feedback database {self._shown} has the 0.1 tables: start the service "
                                   "once with it to migrate them")
        raise StoreUnavailable(f"{self._shown} holds no crs-cds feedback tables: not a feedback database, or the "
                               "service has never started with it")

    def ping(self) -> None:
        """Readiness: ``StoreUnavailable`` when the database cannot be used now."""
        try:
            with self._transaction() as cur:
                cur.execute("SELECT 1 FROM issued_cards LIMIT 1")
                cur.fetchall()
        except DB_ERRORS as exc:
            raise StoreUnavailable(f"cannot use the feedback database {self._shown} ({_reason(exc)})") from None

    def _issued_among(self, cur: Any, cards: set[str]) -> set[str]:
        found: set[str] = set()
        ordered = sorted(cards)
        for i in range(0, len(ordered), 500):
            chunk = ordered[i:i + 500]
            cur.execute(self._sql(f"SELECT card_uuid FROM issued_cards WHERE card_uuid IN "
                                  f"({', '.join('?' * len(chunk))})"), chunk)
            found.update(card for (card,) in cur.fetchall())
        return found

    def record_issued(self, cards: Iterable[IssuedCard]) -> None:
        rows = [(c.card_uuid, c.service_id, c.card_kind, c.grade, c.protocol, _iso(c.issued_at)) for c in cards]
        if not rows:
            return
        with self._transaction(durable=False) as cur:
            cur.executemany(self._sql(
                "INSERT INTO issued_cards (card_uuid, service_id, card_kind, grade, protocol, issued_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (card_uuid) DO NOTHING"), rows)

    def prune(self, before: datetime, *, batch: int = 1000) -> int:
        """Delete the per-call records older than ``before`` (``CRS_CDS_RETENTION_DAYS``): issued
        cards no feedback refers to, and silent-mode assessments. Feedback is kept, and so is the
        issued-card row it joins to. Deleted ``batch`` rows per transaction, so that calls
        recording cards meanwhile wait milliseconds, not the whole deletion. Returns the count."""
        cutoff = _iso(before)
        removed = 0
        for table, key, column, unless in (
                ("issued_cards", "card_uuid", "issued_at",
                 " AND NOT EXISTS (SELECT 1 FROM feedback_items f WHERE f.card_uuid = t.card_uuid)"),
                ("silent_assessments", "assessment_id", "assessed_at", "")):
            while True:
                with self._transaction(durable=False) as cur:
                    cur.execute(self._sql(f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} t "
                                          f"WHERE {column} < ?{unless} LIMIT {int(batch)})"), (cutoff,))
                    count = max(cur.rowcount, 0)
                removed += count
                if count < batch:
                    break
        return removed

    def record_assessment(self, assessment: SilentAssessment) -> None:
        a = assessment
        with self._transaction(durable=False) as cur:
            cur.execute(self._sql(
                "INSERT INTO silent_assessments (assessment_id, service_id, status, grade, worst_grade, lower_bound, "
                "protocol, assessed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                (str(uuid.uuid4()), a.service_id, a.status, a.grade, a.worst_grade, int(a.lower_bound), a.protocol,
                 _iso(a.assessed_at)))

    def record_feedback(self, service_id: str, items: Iterable[Feedback], received_at: datetime) -> FeedbackReceipt:
        """Store feedback, one row per accepted suggestion; repeats are ignored, cards never issued flagged."""
        items = list(items)
        new = 0
        with self._transaction() as cur:
            issued = self._issued_among(cur, {f.card_uuid for f in items})
            for f in items:
                for suggestion in f.suggestion_ids():
                    cur.execute(self._sql(_INSERT_FEEDBACK), (
                        f.card_uuid, service_id, f.outcome, suggestion, _iso(f.outcome_at), f.override_system,
                        f.override_code, f.override_display, int(f.card_uuid in issued), _iso(received_at),
                        f.override_category, f.override_title))
                    new += max(cur.rowcount, 0)
        return FeedbackReceipt(new, sum(1 for f in items if f.card_uuid not in issued),
                               frozenset(f.card_uuid for f in items) - issued)

    def report(self, since: datetime | None = None) -> FeedbackReport:
        """Per card kind: issued, accepted, suggestions accepted, overridden and the override reasons;
        feedback about cards never issued apart."""
        cutoff = _iso(since) if since else ""
        kinds: dict[str, KindReport] = {}
        out = FeedbackReport()
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT card_kind, COUNT(*) FROM issued_cards WHERE issued_at >= ? "
                                  "GROUP BY card_kind"), (cutoff,))
            for kind, count in cur.fetchall():
                kinds.setdefault(kind, KindReport(kind)).issued = int(count)
            cur.execute(self._sql(
                "SELECT f.card_uuid, f.card_issued, COALESCE(i.card_kind, 'unknown'), f.outcome, f.suggestion_id, "
                "f.override_code, f.override_display, f.override_category, f.override_title FROM feedback_items f "
                "LEFT JOIN issued_cards i ON i.card_uuid = f.card_uuid WHERE f.outcome_at >= ?"), (cutoff,))
            rows = cur.fetchall()
            cur.execute(self._sql("SELECT status, grade, COUNT(*) FROM silent_assessments WHERE assessed_at >= ? "
                                  "GROUP BY status, grade"), (cutoff,))
            out.silent = {(status, grade): int(n) for status, grade, n in cur.fetchall()}
        cards_seen: set[tuple[str, str]] = set()
        for card, card_issued, kind, outcome, suggestion, code, display, category, title in rows:
            first = (card, outcome) not in cards_seen
            cards_seen.add((card, outcome))
            if not card_issued:
                if first and outcome == "accepted":
                    out.unknown_accepted += 1
                elif first and outcome == "overridden":
                    out.unknown_overridden += 1
                continue
            r = kinds.setdefault(kind, KindReport(kind))
            if outcome == "accepted":
                r.accepted += first
                r.suggestions_accepted += bool(suggestion)
            elif outcome == "overridden" and first:
                r.overridden += 1
                r.override_reasons[reason_label(code, display, category, title)] += 1
        out.kinds = sorted(kinds.values(), key=lambda r: r.card_kind)
        return out


def reason_label(code: str | None, display: str | None, category: str | None, title: str | None) -> str:
    """What the report groups overrides by: the reason's display (else code), or Epic's own reason with its
    category (``Does not meet criteria (Epic reason 45)``)."""
    label = display or title or code or ("(no reason given)" if category is None else "Epic reason")
    return f"{label} (Epic reason {category})" if category is not None else label


_INSERT_FEEDBACK = (
    "INSERT INTO feedback_items (card_uuid, service_id, outcome, suggestion_id, outcome_at, override_system, "
    "override_code, override_display, card_issued, received_at, override_category, override_title) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (card_uuid, outcome, suggestion_id) DO NOTHING")


class _Transaction:
    """A unit of work on the process's connection, committed on success; serialised per process."""

    def __init__(self, connect: Any, lock: threading.Lock, begin: Callable[[Any], None]) -> None:
        self._connect, self._lock, self._begin = connect, lock, begin

    def __enter__(self) -> Any:
        self._lock.acquire()
        try:
            self._conn = self._connect()
            self._cur = self._conn.cursor()
            try:
                self._begin(self._cur)
            except DB_ERRORS:
                reopen = getattr(self._connect, "reopen", None)
                if reopen is None:
                    raise
                self._conn = reopen()  # the kept connection was dropped: one fresh one, once
                self._cur = self._conn.cursor()
                self._begin(self._cur)
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


def _open_sqlite(path: str) -> sqlite3.Connection:
    """A SQLite file in WAL mode: readers never wait for the writer, and a commit that need not be
    durable (``synchronous NORMAL``) costs no flush. ``check_same_thread`` is off because the
    store's lock, not the thread, owns the connection."""
    conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    return conn


class _KeptConnection:
    """One connection per process, kept between units of work (the store's lock serialises them),
    opened again after a fork or a failure, or when the server dropped it (``reopen``). Opening a
    PostgreSQL connection costs ~7 ms on loopback and a SQLite file ~1 ms with its first commit; a
    unit of work on a kept one ~0.1 ms: on the patient-view path that matters."""

    def __init__(self, open_connection: Callable[[], Any]) -> None:
        self._open = open_connection
        self._conn: Any = None
        self._pid = os.getpid()

    def __call__(self) -> _Borrowed:
        conn = self._conn
        if conn is not None and (self._pid != os.getpid() or _unusable(conn)):
            conn = None  # a parent's connection is not ours to use, nor to close
        if conn is None:
            conn = self._open()
            self._conn, self._pid = conn, os.getpid()
        return _Borrowed(conn)

    def reopen(self) -> _Borrowed:
        """A new connection in place of one the server dropped."""
        self.release()
        return self()

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():
            conn.close()


def _unusable(conn: Any) -> bool:
    return bool(getattr(conn, "closed", False) or getattr(conn, "broken", False))


class _Borrowed:
    """A kept connection (the shared in-memory SQLite one, a process's PostgreSQL one) whose close()
    leaves it open for the next unit of work."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def cursor(self) -> Any:
        return self._conn.cursor()

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        pass
