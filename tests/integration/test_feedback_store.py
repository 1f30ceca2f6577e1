"""The feedback store, on SQLite and on a real PostgreSQL server.

PostgreSQL runs on 127.0.0.1:5432 on every developer machine and in CI
(`.ci/run` starts it when it is down); each test gets its own database.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from cds_service.feedback import Feedback, IssuedCard, format_report

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
def issued(kind: str, grade: int | None = 3) -> IssuedCard:
    return IssuedCard(str(uuid.uuid4()), "crs-patient-view", kind, grade, "astct-generic", T0)


def overridden(card: IssuedCard, display: str, code: str = "x") -> Feedback:
    return Feedback(card.card_uuid, "overridden", T0 + timedelta(minutes=5), (), "urn:crs-cds:override", code, display)


def test_same_card_and_outcome_reported_twice_is_one_row(store) -> None:
    card = issued("crs-assessment")
    store.record_issued([card])
    fb = Feedback(card.card_uuid, "accepted", T0 + timedelta(minutes=1), ("sugg-1",))
    assert store.record_feedback("crs-patient-view", [fb], T0) == 1
    assert store.record_feedback("crs-patient-view", [fb], T0 + timedelta(minutes=2)) == 0
    [report] = store.report()
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
    by_kind = {r.card_kind: r for r in store.report()}
    assert (by_kind["crs-assessment"].issued, by_kind["crs-assessment"].accepted,
            by_kind["crs-assessment"].overridden) == (4, 1, 1)
    assert (by_kind["tocilizumab-limit"].issued, by_kind["tocilizumab-limit"].overridden) == (3, 3)
    assert by_kind["tocilizumab-limit"].override_reasons.most_common(1) == [("Consultant decision", 2)]
    lines = list(format_report(list(by_kind.values())))
    assert any(line.startswith("tocilizumab-limit") and "Consultant decision (2)" in line for line in lines)


def test_report_since_a_date_leaves_older_cards_out(store) -> None:
    old = IssuedCard(str(uuid.uuid4()), "crs-patient-view", "crs-assessment", 2, "astct-generic", T0 - timedelta(days=10))
    store.record_issued([old, issued("crs-assessment")])
    [report] = store.report(since=T0 - timedelta(days=1))
    assert report.issued == 1


def test_feedback_for_a_card_we_never_issued_is_kept_as_unknown_kind(store) -> None:
    store.record_feedback("crs-patient-view", [Feedback(str(uuid.uuid4()), "accepted", T0)], T0)
    [report] = store.report()
    assert (report.card_kind, report.accepted, report.issued) == ("unknown", 1, 0)


def test_issuing_the_same_card_twice_is_harmless(store) -> None:
    card = issued("gm-csf")
    store.record_issued([card])
    store.record_issued([card])
    assert store.report()[0].issued == 1
