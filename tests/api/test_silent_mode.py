"""Silent mode for go-live: every assessment graded and recorded (no patient identifiers), no card shown;
the feedback report shows the recorded assessments by grade."""
from __future__ import annotations

import json
import logging

import pytest

from cds_service.cli import main
from cds_service.feedback import SqlFeedbackStore
from cds_service.settings import ConfigError, Settings
from devkit import fhirbuild as fb
from tests.support import apps
from tests.support.order_builders import crs_patient, draft, order_request

URL = "/cds-services/crs-patient-view"
SILENT = Settings(mode="silent")


@pytest.fixture
def store(tmp_path) -> SqlFeedbackStore:
    return SqlFeedbackStore.from_url(str(tmp_path / "feedback.sqlite3"))


def rows(store: SqlFeedbackStore, table: str) -> list[tuple]:
    with store._transaction() as cur:
        cur.execute(f"SELECT * FROM {table}")
        return [tuple(r) for r in cur.fetchall()]


def test_the_mode_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).mode == "active"
    assert Settings.from_env({"CRS_CDS_MODE": " Silent "}).silent
    with pytest.raises(ConfigError, match="CRS_CDS_MODE='quiet' must be one of active, silent"):
        Settings.from_env({"CRS_CDS_MODE": "quiet"})


def test_silent_mode_grades_records_and_shows_nothing(store, caplog) -> None:
    client = apps.client(SILENT, feedback_store=store)
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = client.post(URL, json=fb.hook_request(crs_patient(70, grade=3)))
    assert resp.status_code == 200 and resp.get_json() == {"cards": []}
    [(assessment_id, service, status, grade, worst, lower_bound, protocol, at)] = rows(store, "silent_assessments")
    assert (service, status, grade, worst, lower_bound, protocol, at) == (
        "crs-patient-view", "graded", 3, 3, 0, "astct-generic", "2026-11-21T12:00:00.000000Z")
    assert fb.PATIENT_ID not in json.dumps([assessment_id, service, status, protocol])
    assert rows(store, "issued_cards") == []  # nothing was shown, so nothing was issued
    [line] = [json.loads(r.getMessage()) for r in caplog.records if '"event":"request"' in r.getMessage()]
    assert line["silent"] == {"status": "graded", "grade": 3} and line["cards"] == []


def test_every_assessment_is_recorded_whatever_its_outcome(store) -> None:
    client = apps.client(SILENT, feedback_store=store)
    calls = [fb.hook_request(crs_patient(70, grade=2)), fb.hook_request(crs_patient(70, grade=3)),
             fb.hook_request([fb.patient(), fb.temperature(39.0, fb.ago(hours=1))])]  # no CAR-T: not eligible
    for body in calls:
        assert client.post(URL, json=body).get_json() == {"cards": []}
    order = order_request(crs_patient(70, grade=3), [draft("tocilizumab", 900)])
    assert client.post("/cds-services/crs-order-sign", json=order).get_json() == {"cards": []}
    assert sorted((r[1], r[2], r[3]) for r in rows(store, "silent_assessments")) == [
        ("crs-order-sign", "graded", 3), ("crs-patient-view", "graded", 2), ("crs-patient-view", "graded", 3),
        ("crs-patient-view", "not-eligible", None)]


def test_the_report_shows_silent_assessments_by_grade(store, tmp_path, capsys) -> None:
    client = apps.client(SILENT, feedback_store=store)
    for grade in (2, 3, 3):
        client.post(URL, json=fb.hook_request(crs_patient(70, grade=grade)))
    client.post(URL, json=fb.hook_request([fb.patient()]))
    assert main(["feedback", "report", "--database", str(tmp_path / "feedback.sqlite3")]) == 0
    out = capsys.readouterr().out.splitlines()
    start = out.index("Silent mode (CRS_CDS_MODE=silent): assessments recorded, no card shown")
    assert [line.split() for line in out[start + 2:]] == [["grade", "2", "1"], ["grade", "3", "2"],
                                                          ["not-eligible", "1"]]


def test_a_failing_store_still_answers_no_cards() -> None:
    class Broken:
        def record_assessment(self, assessment):
            raise OSError("disk full")

        def describe(self) -> str:
            return "a full disk"

    resp = apps.client(SILENT, feedback_store=Broken()).post(URL, json=fb.hook_request(crs_patient(70, grade=3)))
    assert resp.status_code == 200 and resp.get_json() == {"cards": []}


def test_silent_mode_is_said_at_start_up_and_counted(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        client = apps.client(SILENT)
    assert any("CRS_CDS_MODE=silent" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    [summary] = [json.loads(r.getMessage()) for r in caplog.records if '"event":"start-up"' in r.getMessage()]
    assert summary["mode"] == "silent"
    client.post(URL, json=fb.hook_request(crs_patient(70, grade=3)))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'crs_cds_silent_assessments_total{grade="3",service="crs-patient-view",status="graded"} 1.0' in text
    assert "crs_cds_cards_issued_total{" not in text
