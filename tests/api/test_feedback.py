"""POST /cds-services/{id}/feedback, the cards recorded at response time, and the report.

Runs on SQLite and, like tests/test_feedback_store.py, on a real PostgreSQL.
"""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from cards import Card
from cds_service.bootstrap import bootstrap
from cds_service.cli import main
from cds_service.feedback import SqlFeedbackStore
from cds_service.http import create_app
from cds_service.settings import Settings
from devkit import fhirbuild as fb
from tests.support import apps
from tests.support.order_builders import cards_of, crs_patient, draft, kinds, order_request

OVERRIDE = {"system": "urn:crs-cds:override-reason", "code": "clinical-judgement",
            "display": "Clinical judgement: dose intended"}


@pytest.fixture
def api(store):
    return create_app(bootstrap(Settings(), clock=lambda: fb.NOW, feedback_store=store)).test_client()


def stamp(minutes: float = 5) -> str:
    return fb.iso(fb.NOW + timedelta(minutes=minutes))


def accepted(card: dict, minutes: float = 5) -> dict:
    return {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": stamp(minutes),
            "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}]}


def overridden(card: dict, reason: dict = OVERRIDE) -> dict:
    return {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": stamp(),
            "overrideReason": {"reason": reason, "userComment": "patient p1 discussed"}}


def issue_order_cards(api) -> list[dict]:
    orders = [draft("tocilizumab", 900), draft("sargramostim", 250, "ug")]
    cards = cards_of(api, order_request(crs_patient(70, grade=3), orders))
    assert kinds(cards) == ["tocilizumab-dose", "gm-csf"]
    return cards


def test_feedback_is_stored_once_however_often_it_is_sent(api, store) -> None:
    toci, _ = issue_order_cards(api)
    body = {"feedback": [accepted(toci)]}
    first = api.post("/cds-services/crs-order-sign/feedback", json=body)
    assert first.status_code == 200 and first.get_json() == {"received": 1, "stored": 1, "unknownCards": 0}
    again = api.post("/cds-services/crs-order-sign/feedback", json=body)
    assert again.status_code == 200 and again.get_json() == {"received": 1, "stored": 0, "unknownCards": 0}
    [report] = [r for r in store.report().kinds if r.card_kind == "tocilizumab-dose"]
    assert (report.issued, report.accepted, report.suggestions_accepted, report.overridden) == (1, 1, 1, 0)


def test_report_counts_issued_accepted_and_overridden_per_card_kind(api, store, capsys) -> None:
    toci, gm = issue_order_cards(api)
    toci2, gm2 = issue_order_cards(api)
    view = cards_of(api, fb.hook_request(crs_patient(70, grade=2)), "crs-patient-view")
    weight = {"system": OVERRIDE["system"], "code": "weight-outdated", "display": "Recorded weight is outdated"}
    body = {"feedback": [accepted(toci), overridden(toci2, weight), overridden(gm), overridden(gm2)]}
    assert api.post("/cds-services/crs-order-sign/feedback", json=body).status_code == 200
    assert api.post("/cds-services/crs-patient-view/feedback",
                    json={"feedback": [{"card": view[0]["uuid"], "outcome": "overridden",
                                        "outcomeTimestamp": stamp()}]}).status_code == 200

    by_kind = {r.card_kind: r for r in store.report().kinds}
    assert (by_kind["tocilizumab-dose"].issued, by_kind["tocilizumab-dose"].accepted,
            by_kind["tocilizumab-dose"].overridden) == (2, 1, 1)
    assert by_kind["tocilizumab-dose"].override_reasons == {"Recorded weight is outdated": 1}
    assert (by_kind["gm-csf"].issued, by_kind["gm-csf"].accepted, by_kind["gm-csf"].overridden) == (2, 0, 2)
    assert by_kind["gm-csf"].override_reasons == {"Clinical judgement: dose intended": 2}
    assert by_kind["crs-assessment"].issued == 1 and by_kind["crs-assessment"].overridden == 1
    assert by_kind["crs-assessment"].override_reasons == {"(no reason given)": 1}

    if isinstance(store, SqlFeedbackStore) and store._ph == "?":  # the CLI reads the same SQLite file
        path = store.describe().removeprefix("sqlite:///")
        assert main(["feedback", "report", "--database", path]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == f"feedback database: sqlite:///{path}"
        gm_line = next(line for line in lines if line.startswith("gm-csf"))
        assert gm_line.split()[1:5] == ["2", "0", "0", "2"] and "Clinical judgement: dose intended (2)" in gm_line
        assert main(["feedback", "report", "--database", path, "--since", "2026-11-22"]) == 0
        assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]] == []


def test_issued_cards_carry_kind_grade_and_protocol_but_no_patient_data(api, store, tmp_path) -> None:
    issue_order_cards(api)
    with store._transaction() as cur:  # the same SQL on SQLite and PostgreSQL
        cur.execute("SELECT card_uuid, service_id, card_kind, grade, protocol, issued_at FROM issued_cards")
        rows = cur.fetchall()
    assert sorted((r[1], r[2], r[3], r[4]) for r in rows) == [
        ("crs-order-sign", "gm-csf", 3, "astct-generic"), ("crs-order-sign", "tocilizumab-dose", 3, "astct-generic")]
    assert "p1" not in repr(rows)


def test_malformed_feedback_is_400_naming_the_field(api) -> None:
    resp = api.post("/cds-services/crs-order-sign/feedback",
                    json={"feedback": [{"card": "c1", "outcomeTimestamp": stamp()}]})
    assert resp.status_code == 400
    assert [d["path"] for d in resp.get_json()["details"]] == ["feedback[0].outcome"]
    resp = api.post("/cds-services/crs-order-sign/feedback",
                    json={"feedback": [{"card": "c1", "outcome": "maybe", "outcomeTimestamp": "yesterday"}]})
    assert {d["path"] for d in resp.get_json()["details"]} == {"feedback[0].outcome", "feedback[0].outcomeTimestamp"}
    resp = api.post("/cds-services/crs-order-sign/feedback", data="{", content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid-json"


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_timestamp_that_cannot_be_stored_in_utc_is_400_not_500(api, when) -> None:
    resp = api.post("/cds-services/crs-order-sign/feedback",
                    json={"feedback": [{"card": "c1", "outcome": "accepted", "outcomeTimestamp": when}]})
    assert resp.status_code == 400
    assert [d["path"] for d in resp.get_json()["details"]] == ["feedback[0].outcomeTimestamp"]


def test_nul_characters_in_stored_text_are_400_on_every_store(api) -> None:
    # PostgreSQL TEXT cannot hold NUL: without the check, the sqlite store accepts and postgres answers 500
    item = {"card": "c1\u0000", "outcome": "overridden", "outcomeTimestamp": stamp(),
            "acceptedSuggestions": [{"id": "s\u0000"}], "overrideReason": {"reason": {**OVERRIDE, "display": "x\u0000"}}}
    resp = api.post("/cds-services/crs-order-sign/feedback", json={"feedback": [item]})
    assert resp.status_code == 400
    assert {d["path"] for d in resp.get_json()["details"]} == {
        "feedback[0].card", "feedback[0].acceptedSuggestions[0].id", "feedback[0].overrideReason.reason.display"}


def test_feedback_for_an_unknown_service_is_404(api) -> None:
    resp = api.post("/cds-services/nope/feedback", json={"feedback": []})
    assert resp.status_code == 404 and resp.get_json()["error"] == "not-found"


def test_a_failing_store_does_not_cost_the_clinician_the_cards() -> None:
    class Broken:
        def record_issued(self, cards):
            raise sqlite3.OperationalError("disk I/O error")

        def describe(self) -> str:
            return "a broken disk"

    client = create_app(bootstrap(Settings(), clock=lambda: fb.NOW, feedback_store=Broken())).test_client()  # type: ignore[arg-type]
    assert kinds(cards_of(client, order_request(crs_patient(70), [draft("tocilizumab", 900)]))) == [
        "tocilizumab-dose"]


def test_settings_choose_the_feedback_store() -> None:
    assert Settings.from_env({}).feedback_url == "var/crs-cds-feedback.sqlite3"
    assert Settings.from_env({"CRS_CDS_FEEDBACK_DB": "/data/fb.sqlite3"}).feedback_url == "/data/fb.sqlite3"
    url = "postgresql://crs@db:5432/crs"
    assert Settings.from_env({"CRS_CDS_DATABASE_URL": url, "CRS_CDS_FEEDBACK_DB": "x"}).feedback_url == url
    from cds_service.settings import ConfigError

    with pytest.raises(ConfigError, match="CRS_CDS_DATABASE_URL"):
        Settings.from_env({"CRS_CDS_DATABASE_URL": "mysql://x"})


def test_issued_card_kind_grade_and_protocol_come_from_the_card() -> None:
    """The store keeps what the typed cards say (kind, grade, protocol), never read back from card JSON."""
    cards = [Card({"uuid": "a"}, "crs-assessment", 2, "astct-generic"),
             Card({"uuid": "b"}, "crs-protocol-options", None, "christie-doc644-v8"),
             Card({"uuid": "c"}, "gm-csf", None, "astct-generic")]
    store = SqlFeedbackStore.from_url(":memory:")
    client = apps.client(feedback_store=store, composers={"patient-view": lambda assessor, call: cards})
    assert client.post("/cds-services/crs-patient-view", json=fb.hook_request([])).status_code == 200
    with store._transaction() as cur:
        cur.execute("SELECT card_uuid, service_id, card_kind, grade, protocol, issued_at FROM issued_cards "
                    "ORDER BY card_uuid")
        rows = cur.fetchall()
    assert [r[:5] for r in rows] == [
        ("a", "crs-patient-view", "crs-assessment", 2, "astct-generic"),
        ("b", "crs-patient-view", "crs-protocol-options", None, "christie-doc644-v8"),
        ("c", "crs-patient-view", "gm-csf", None, "astct-generic")]
    assert {r[5] for r in rows} == {"2026-11-21T12:00:00.000000Z"}  # the service clock, no patient data


def test_a_cards_suggestions_accepted_one_by_one_as_the_sandbox_sends_them_are_all_kept(api, store) -> None:
    [card, *_] = cards_of(api, fb.hook_request(crs_patient(70, grade=3)), "crs-patient-view")
    suggestions = [s["uuid"] for s in card["suggestions"]]
    assert len(suggestions) >= 3
    for minutes, suggestion in enumerate(suggestions):
        body = {"feedback": [{"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": stamp(minutes),
                              "acceptedSuggestions": [{"id": suggestion}]}]}
        resp = api.post("/cds-services/crs-patient-view/feedback", json=body)
        assert resp.get_json() == {"received": 1, "stored": 1, "unknownCards": 0}
    [report] = [r for r in store.report().kinds if r.card_kind == "crs-assessment"]
    assert (report.accepted, report.suggestions_accepted) == (1, len(suggestions))


def test_feedback_about_a_card_never_issued_is_stored_flagged(api, store) -> None:
    body = {"feedback": [{"card": "d6b5c1d2-0000-4000-8000-000000000000", "outcome": "accepted",
                          "outcomeTimestamp": stamp(), "acceptedSuggestions": [{"id": "x"}]}]}
    resp = api.post("/cds-services/crs-patient-view/feedback", json=body)
    assert resp.status_code == 200 and resp.get_json() == {"received": 1, "stored": 1, "unknownCards": 1}
    assert store.report().unknown_accepted == 1


def test_epic_shaped_feedback_is_stored_with_its_reason(api, store) -> None:
    """Epic sends ``overrideReasons`` (an object) rather than the spec's ``overrideReason``, and one item
    per accepted suggestion: the reason is kept (a FHIR-style extension list beside it is tolerated)."""
    toci, gm = issue_order_cards(api)
    epic = {"feedback": [
        {"card": gm["uuid"], "outcome": "overridden", "outcomeTimestamp": stamp(),
         "overrideReasons": {"reason": {"code": "1", "system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.657380",
                                        "display": "Patient declined"}, "userComment": "see note",
                             "extension": [{"url": "com.epic.cdshooks.feedback.overrideReason.reasonTitle",
                                            "valueString": "Declined"}]}},
        {"card": toci["uuid"], "outcome": "accepted", "outcomeTimestamp": stamp(),
         "acceptedSuggestions": [{"id": toci["suggestions"][0]["uuid"]}]}]}
    resp = api.post("/cds-services/crs-order-sign/feedback", json=epic)
    assert resp.status_code == 200 and resp.get_json() == {"received": 2, "stored": 2, "unknownCards": 0}
    by_kind = {r.card_kind: r for r in store.report().kinds}
    assert by_kind["gm-csf"].overridden == 1 and by_kind["tocilizumab-dose"].suggestions_accepted == 1
    assert by_kind["gm-csf"].override_reasons == {"Patient declined": 1}


@pytest.mark.parametrize("item_change,field", [
    ({"overrideReasons": "Does not meet criteria"}, "feedback[1].overrideReasons"),
    ({"overrideReasons": []}, "feedback[1].overrideReasons"),
    ({"overrideReasons": {}}, "feedback[1].overrideReasons"),
    ({"overrideReasons": {"extension": {"com.epic.cdshooks.other": "x"}}}, "feedback[1].overrideReasons"),
    ({"overrideReasons": {"reason": "clinical-judgement"}}, "feedback[1].overrideReasons.reason"),
    ({"overrideReasons": {"extension": {"com.epic.cdshooks.feedback.overrideReason.reasonCategory": {"a": 1}}}},
     "feedback[1].overrideReasons.extension.com.epic.cdshooks.feedback.overrideReason.reasonCategory"),
    ({"overrideReason": {"reason": OVERRIDE}, "overrideReasons": {"reason": OVERRIDE}}, "feedback[1]"),
])
def test_an_item_in_neither_the_specs_nor_epics_shape_is_a_400_and_nothing_is_stored(api, store, item_change,
                                                                                      field) -> None:
    toci, gm = issue_order_cards(api)
    good = overridden(gm)
    bad = {"card": toci["uuid"], "outcome": "overridden", "outcomeTimestamp": stamp(), **item_change}
    resp = api.post("/cds-services/crs-order-sign/feedback", json={"feedback": [good, bad]})
    assert resp.status_code == 400
    assert field in [d["path"] for d in resp.get_json()["details"]], resp.get_json()
    assert all(r.overridden == 0 for r in store.report().kinds)  # not even the good item


def test_epics_own_reason_is_stored_and_reported_by_display_and_category(api, store) -> None:
    _, gm = issue_order_cards(api)
    epic = {"card": gm["uuid"], "outcome": "overridden", "outcomeTimestamp": stamp(),
            "overrideReasons": {"extension": {"com.epic.cdshooks.feedback.overrideReason.reasonCategory": 45,
                                              "com.epic.cdshooks.feedback.overrideReason.reasonTitle": "Not needed"},
                                "userComment": "patient p1 discussed"}}
    assert api.post("/cds-services/crs-order-sign/feedback", json={"feedback": [epic]}).status_code == 200
    by_kind = {r.card_kind: r for r in store.report().kinds}
    assert by_kind["gm-csf"].override_reasons == {"Not needed (Epic reason 45)": 1}
