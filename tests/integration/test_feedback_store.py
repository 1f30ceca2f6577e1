"""The feedback store, on SQLite and on a real PostgreSQL server.

PostgreSQL runs on 127.0.0.1:5432 on every developer machine and in CI
(`.ci/run` starts it when it is down); each test gets its own database.
"""
from __future__ import annotations

import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from cds_service.feedback import (
    Feedback,
    FeedbackReceipt,
    IssuedCard,
    SilentAssessment,
    SqlFeedbackStore,
    format_report,
)

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
def issued(kind: str, grade: int | None = 3) -> IssuedCard:
    return IssuedCard(str(uuid.uuid4()), "crs-patient-view", kind, grade, "astct-generic", T0)


def overridden(card: IssuedCard, display: str, code: str = "x") -> Feedback:
    return Feedback(card.card_uuid, "overridden", T0 + timedelta(minutes=5), (), "urn:crs-cds:override", code, display)


def test_same_card_and_outcome_reported_twice_is_one_row(store) -> None:
    card = issued("crs-assessment")
    store.record_issued([card])
    fb = Feedback(card.card_uuid, "accepted", T0 + timedelta(minutes=1), ("sugg-1",))
    assert store.record_feedback("crs-patient-view", [fb], T0) == FeedbackReceipt(1, 0)
    assert store.record_feedback("crs-patient-view", [fb], T0 + timedelta(minutes=2)) == FeedbackReceipt(0, 0)
    [report] = store.report().kinds
    assert (report.issued, report.accepted, report.overridden) == (1, 1, 0)


def test_report_counts_per_card_kind_with_top_override_reasons(store) -> None:
    assessments = [issued("crs-assessment") for _ in range(4)]
    limits = [issued("tocilizumab-limit") for _ in range(3)]
    store.record_issued(assessments + limits)
    store.record_feedback("crs-patient-view", [
        Feedback(assessments[0].card_uuid, "accepted", T0),
        overridden(assessments[1], "Patient on comfort care"),
        overridden(limits[0], "Consultant decision", "consultant"),
        overridden(limits[1], "Consultant decision", "consultant"),
        overridden(limits[2], "Dose already given", "given"),
    ], T0)
    by_kind = {r.card_kind: r for r in store.report().kinds}
    assert (by_kind["crs-assessment"].issued, by_kind["crs-assessment"].accepted,
            by_kind["crs-assessment"].overridden) == (4, 1, 1)
    assert (by_kind["tocilizumab-limit"].issued, by_kind["tocilizumab-limit"].overridden) == (3, 3)
    assert by_kind["tocilizumab-limit"].override_reasons.most_common(1) == [("Consultant decision", 2)]
    lines = list(format_report(store.report()))
    assert any(line.startswith("tocilizumab-limit") and "Consultant decision (2)" in line for line in lines)


def test_report_since_a_date_leaves_older_cards_out(store) -> None:
    old = IssuedCard(str(uuid.uuid4()), "crs-patient-view", "crs-assessment", 2, "astct-generic", T0 - timedelta(days=10))
    store.record_issued([old, issued("crs-assessment")])
    [report] = store.report(since=T0 - timedelta(days=1)).kinds
    assert report.issued == 1


def test_feedback_for_a_card_we_never_issued_is_stored_but_flagged_and_reported_apart(store) -> None:
    ours = issued("crs-assessment")
    store.record_issued([ours])
    stranger = str(uuid.uuid4())
    receipt = store.record_feedback("crs-patient-view", [
        Feedback(stranger, "accepted", T0, ("s1", "s2")), Feedback(ours.card_uuid, "accepted", T0, ("s1",)),
        overridden(IssuedCard(str(uuid.uuid4()), "x", "x", None, None, T0), "Not my patient")], T0)
    assert receipt == FeedbackReceipt(stored=4, unknown_cards=2)
    report = store.report()
    assert [(r.card_kind, r.issued, r.accepted) for r in report.kinds] == [("crs-assessment", 1, 1)]
    assert (report.unknown_accepted, report.unknown_overridden) == (1, 1)
    assert list(format_report(report))[-1] == (
        "Feedback about cards this service never issued (stored, flagged): accepted 1, overridden 1")
    with store._transaction() as cur:
        cur.execute("SELECT card_uuid, card_issued FROM feedback_items ORDER BY card_uuid")
        flags = dict(cur.fetchall())
    assert flags[ours.card_uuid] == 1 and flags[stranger] == 0


def test_issuing_the_same_card_twice_is_harmless(store) -> None:
    card = issued("gm-csf")
    store.record_issued([card])
    store.record_issued([card])
    assert store.report().kinds[0].issued == 1


def test_suggestions_accepted_one_by_one_are_all_kept(store) -> None:
    """The reference sandbox sends one "accepted" item per suggestion, each naming one: 0.1 kept the first."""
    card = issued("crs-assessment")
    store.record_issued([card])
    suggestions = [f"sugg-{i}" for i in range(5)]
    for minute, suggestion in enumerate(suggestions):
        item = Feedback(card.card_uuid, "accepted", T0 + timedelta(minutes=minute), (suggestion,))
        assert store.record_feedback("crs-patient-view", [item], T0) == FeedbackReceipt(1, 0)
        assert store.record_feedback("crs-patient-view", [item], T0) == FeedbackReceipt(0, 0)  # a repeat
    both = Feedback(card.card_uuid, "accepted", T0, ("sugg-0", "sugg-5", "sugg-5"))  # one old, one new
    assert store.record_feedback("crs-patient-view", [both], T0) == FeedbackReceipt(1, 0)
    [report] = store.report().kinds
    assert (report.accepted, report.suggestions_accepted) == (1, 6)
    with store._transaction() as cur:
        cur.execute("SELECT suggestion_id FROM feedback_items ORDER BY suggestion_id")
        assert [row[0] for row in cur.fetchall()] == [*suggestions, "sugg-5"]


def test_an_override_and_an_acceptance_without_suggestions_are_one_row_each(store) -> None:
    card = issued("tocilizumab-limit")
    store.record_issued([card])
    items = [overridden(card, "Consultant decision"), Feedback(card.card_uuid, "accepted", T0)]
    assert store.record_feedback("crs-order-sign", items * 2, T0) == FeedbackReceipt(2, 0)
    [report] = store.report().kinds
    assert (report.accepted, report.suggestions_accepted, report.overridden) == (1, 0, 1)


LEGACY_SCHEMA = (  # 0.1: one row per card and outcome; later suggestions of the same card were dropped
    """CREATE TABLE issued_cards (card_uuid TEXT PRIMARY KEY, service_id TEXT NOT NULL, card_kind TEXT NOT NULL,
       grade INTEGER, protocol TEXT, issued_at TEXT NOT NULL)""",
    """CREATE TABLE card_feedback (card_uuid TEXT NOT NULL, service_id TEXT NOT NULL, outcome TEXT NOT NULL,
       outcome_at TEXT NOT NULL, accepted_suggestions TEXT NOT NULL, override_system TEXT, override_code TEXT,
       override_display TEXT, received_at TEXT NOT NULL, PRIMARY KEY (card_uuid, outcome))""",
)


def old_database(kind: str, tmp_path, request, schema: tuple[str, ...]) -> tuple[str, Any, str]:
    """(URL, open connection, placeholder) of a database with an older release's ``schema``."""
    if kind == "sqlite":
        url = str(tmp_path / "old.sqlite3")
        conn, ph = sqlite3.connect(url), "?"
    else:
        url = request.getfixturevalue("pg_url")
        conn, ph = psycopg.connect(url), "%s"
    cur = conn.cursor()
    for statement in schema:  # committed with the caller's rows
        cur.execute(statement)
    return url, conn, ph


def legacy_database(kind: str, tmp_path, request) -> str:
    """A 0.1 feedback database with one issued card accepted with two suggestions, one overridden, one unknown."""
    url, conn, ph = old_database(kind, tmp_path, request, LEGACY_SCHEMA)
    with conn:
        cur = conn.cursor()
        cur.execute(f"INSERT INTO issued_cards VALUES ({', '.join([ph] * 6)})",
                    ("c1", "crs-patient-view", "crs-assessment", 3, "astct-generic", "2026-11-20T10:00:00.000000Z"))
        for row in [("c1", "accepted", '["s1", "s2"]', None), ("c1", "overridden", "[]", "Comfort care"),
                    ("c9", "accepted", '["s7"]', None)]:
            cur.execute(f"INSERT INTO card_feedback VALUES ({', '.join([ph] * 9)})",
                        (row[0], "crs-patient-view", row[1], "2026-11-20T11:00:00.000000Z", row[2], None, None, row[3],
                         "2026-11-20T11:00:01.000000Z"))
    conn.close()
    return url


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_0_1_database_is_migrated_at_start_up_and_its_old_table_kept(kind, tmp_path, request) -> None:
    url = legacy_database(kind, tmp_path, request)
    store = SqlFeedbackStore.from_url(url)
    SqlFeedbackStore.from_url(url)  # a second start finds nothing left to migrate
    with store._transaction() as cur:
        cur.execute("SELECT card_uuid, outcome, suggestion_id, card_issued FROM feedback_items "
                    "ORDER BY card_uuid, outcome, suggestion_id")
        rows = [tuple(r) for r in cur.fetchall()]
        cur.execute("SELECT COUNT(*) FROM card_feedback_v01")
        kept = cur.fetchone()[0]
    assert rows == [("c1", "accepted", "s1", 1), ("c1", "accepted", "s2", 1), ("c1", "overridden", "", 1),
                    ("c9", "accepted", "s7", 0)]
    assert kept == 3
    report = store.report()
    [kind_report] = report.kinds
    assert (kind_report.accepted, kind_report.suggestions_accepted, kind_report.overridden) == (1, 2, 1)
    assert report.unknown_accepted == 1


V02_FEEDBACK = (  # 0.2: feedback_items before Epic's own reasons were kept (no category, no title)
    """CREATE TABLE issued_cards (card_uuid TEXT PRIMARY KEY, service_id TEXT NOT NULL, card_kind TEXT NOT NULL,
       grade INTEGER, protocol TEXT, issued_at TEXT NOT NULL)""",
    """CREATE TABLE feedback_items (card_uuid TEXT NOT NULL, service_id TEXT NOT NULL, outcome TEXT NOT NULL,
       suggestion_id TEXT NOT NULL, outcome_at TEXT NOT NULL, override_system TEXT, override_code TEXT,
       override_display TEXT, card_issued INTEGER NOT NULL, received_at TEXT NOT NULL,
       PRIMARY KEY (card_uuid, outcome, suggestion_id))""",
)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_0_2_feedback_table_gains_epics_reason_columns_and_keeps_its_rows(kind, tmp_path, request) -> None:
    url, conn, ph = old_database(kind, tmp_path, request, V02_FEEDBACK)
    with conn:
        cur = conn.cursor()
        cur.execute(f"INSERT INTO feedback_items VALUES ({', '.join([ph] * 10)})",
                    ("c1", "crs-order-sign", "overridden", "", "2026-11-20T11:00:00.000000Z", "urn:x", "weight",
                     "Recorded weight is outdated", 0, "2026-11-20T11:00:01.000000Z"))
    conn.close()
    store = SqlFeedbackStore.from_url(url)
    SqlFeedbackStore.from_url(url)  # a second start adds nothing
    card = issued("gm-csf")
    store.record_issued([card])
    epic = Feedback(card.card_uuid, "overridden", T0, override_display="Does not meet criteria",
                    override_category="45", override_title="Does not meet criteria")
    assert store.record_feedback("crs-order-sign", [epic], T0).stored == 1
    report = store.report()
    assert report.unknown_overridden == 1  # the 0.2 row, kept
    [gm] = report.kinds
    assert gm.override_reasons == {"Does not meet criteria (Epic reason 45)": 1}


@pytest.mark.postgres
def test_instances_starting_together_create_the_tables_once(pg_url) -> None:
    start = threading.Barrier(6)

    def open_store(_: int) -> str:
        start.wait()
        return SqlFeedbackStore.from_url(pg_url).describe()

    with ThreadPoolExecutor(6) as pool:
        assert len(set(pool.map(open_store, range(6)))) == 1  # none failed on a concurrent CREATE TABLE


def test_silent_assessments_are_stored_and_reported_by_status_and_grade(store) -> None:
    for status, grade in [("graded", 3), ("graded", 3), ("graded", 1), ("not-eligible", None)]:
        store.record_assessment(SilentAssessment("crs-patient-view", status, grade, grade, False, "astct-generic", T0))
    store.record_assessment(SilentAssessment("crs-patient-view", "graded", 2, 2, False, "astct-generic",
                                             T0 - timedelta(days=3)))
    assert store.report(since=T0 - timedelta(days=1)).silent == {("graded", 3): 2, ("graded", 1): 1,
                                                                 ("not-eligible", None): 1}
    lines = list(format_report(store.report()))
    assert lines[lines.index("Silent mode (CRS_CDS_MODE=silent): assessments recorded, no card shown") + 2:] == [
        f"{'grade 1':<24}{1:>12}", f"{'grade 2':<24}{1:>12}", f"{'grade 3':<24}{2:>12}",
        f"{'not-eligible':<24}{1:>12}"]


@pytest.mark.postgres
def test_postgresql_keeps_one_connection_per_process_and_replaces_a_dropped_one(pg_url) -> None:
    store = SqlFeedbackStore.from_url(pg_url)

    def backend() -> int:
        with store._transaction() as cur:
            cur.execute("SELECT pg_backend_pid()")
            return cur.fetchone()[0]

    first = backend()
    assert backend() == first  # kept between units of work
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))  # the server drops it (restart, idle timeout)
    store.record_issued([issued("crs-assessment")])  # still works, on a new connection
    assert backend() != first
    assert store.report().kinds[0].issued == 1


def test_per_call_records_commit_without_a_flush_and_feedback_with_one(store) -> None:
    """Issued cards are on every patient-view's path: committed without waiting for the disk. Feedback,
    which the client was told we stored, waits for it (PostgreSQL synchronous_commit, SQLite synchronous)."""
    query, relaxed, durable = (("SHOW synchronous_commit", "off", "on") if store.postgres
                               else ("PRAGMA synchronous", 1, 2))  # SQLite: 1 = NORMAL, 2 = FULL
    with store._transaction(durable=False) as cur:
        cur.execute(query)
        assert cur.fetchone()[0] == relaxed
    with store._transaction() as cur:
        cur.execute(query)
        assert cur.fetchone()[0] == durable


def test_a_sqlite_store_writes_ahead_so_readers_never_wait(tmp_path) -> None:
    path = tmp_path / "feedback.sqlite3"
    SqlFeedbackStore.from_url(str(path)).record_issued([issued("crs-assessment")])
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert SqlFeedbackStore.open_existing(str(path)).report().kinds[0].issued == 1  # read-only, as the CLI does


def test_pruning_deletes_old_per_call_records_but_keeps_feedback_and_its_cards(store) -> None:
    def card(days_ago: float) -> IssuedCard:
        return IssuedCard(str(uuid.uuid4()), "crs-patient-view", "crs-assessment", 3, "astct-generic",
                          T0 - timedelta(days=days_ago))

    old, old_with_feedback, recent = [card(40) for _ in range(5)], card(41), card(10)
    store.record_issued([*old, old_with_feedback, recent])
    store.record_feedback("crs-patient-view", [overridden(old_with_feedback, "Not CRS")], T0)
    for days_ago in (45, 5):
        store.record_assessment(SilentAssessment("crs-patient-view", "graded", 2, 2, False, "astct-generic",
                                                 T0 - timedelta(days=days_ago)))
    assert store.prune(T0 - timedelta(days=30), batch=2) == 6  # 5 cards and 1 assessment, two rows at a time
    report = store.report()
    [kind] = report.kinds
    assert (kind.issued, kind.overridden) == (2, 1)  # the recent card and the one feedback refers to
    assert report.silent == {("graded", 2): 1}
    assert store.prune(T0 - timedelta(days=30)) == 0
