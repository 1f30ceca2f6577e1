"""Start-up opens and checks everything configured, says in one line each what is wrong, then says
in one line what runs; ``/health`` is liveness, ``/ready`` names a store that cannot be used."""
from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest

from cds_service.bootstrap import bootstrap
from cds_service.feedback import SqlFeedbackStore, StoreUnavailable
from cds_service.http import create_app
from cds_service.security import MemoryReplayCache, ReplayCacheUnavailable
from cds_service.settings import ConfigError, Settings
from devkit import fhirbuild as fb
from tests.support import apps
from tests.support import security_builders as sb
from tests.support.paths import PROTOCOL_DATA


def test_every_bad_variable_is_reported_at_once_one_line_each() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"CRS_CDS_ENV": "production", "CRS_CDS_ELIGIBILITY": "maybe", "CRS_CDS_WORKERS": "many",
                           "CRS_CDS_REPLAY_STORE": "etcd", "CRS_CDS_MAX_JSON_DEPTH": "0"})
    named = ["CRS_CDS_ELIGIBILITY", "CRS_CDS_ISSUERS_FILE", "CRS_CDS_REPLAY_STORE", "CRS_CDS_MAX_JSON_DEPTH",
             "CRS_CDS_WORKERS"]
    problems = caught.value.problems
    assert len(problems) == len(named) and all(name in line for name, line in zip(named, problems, strict=True))
    assert all("\n" not in line for line in problems)


def test_every_store_and_file_is_opened_at_start_up_and_each_failure_named(tmp_path) -> None:
    protocol_dir = tmp_path / "site-protocol.yaml"
    protocol_dir.mkdir()  # a directory where a file should be
    grading = tmp_path / "astct-site.json"
    grading.write_text("{not json")
    settings = Settings(env="production", protocol_id=str(protocol_dir), paediatric_protocol_id="no-such-protocol",
                        grading_file=str(grading), feedback_url="postgresql://crs:pw-secret@127.0.0.1:1/crs",
                        workers=2, security=replace(sb.settings().security, redis_url="redis://:pw-secret@127.0.0.1:1/0"))
    with pytest.raises(ConfigError) as caught:
        bootstrap(settings)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "CRS_CDS_GRADING_FILE", "CRS_CDS_PROTOCOL", "CRS_CDS_PAEDIATRIC_PROTOCOL", "CRS_CDS_DATABASE_URL",
        "CRS_CDS_REDIS_URL"]
    assert "Is a directory" in problems[1] and "unknown protocol id" in problems[2]
    assert problems[3].startswith("CRS_CDS_DATABASE_URL: cannot open the feedback database postgresql://127.0.0.1:1/crs")
    assert "pw-secret" not in str(caught.value)


def test_the_start_up_line_says_what_runs_without_secrets(caplog, tmp_path) -> None:
    settings = replace(sb.settings(public_base_url="https://cds.example.org", cors_origins=("https://ehr.example.org",)),
                       paediatric_protocol_id="paediatric-seed004", feedback_url=str(tmp_path / "fb.sqlite3"))
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        create_app(bootstrap(settings, clock=lambda: fb.NOW))
    [line] = [json.loads(r.getMessage()) for r in caplog.records if '"event":"start-up"' in r.getMessage()]
    assert line["environment"] == "production" and line["version"] == "0.2.0"
    assert [(p["id"], p["for"]) for p in line["protocols"]] == [("astct-generic", "default"),
                                                               ("paediatric-seed004", "paediatric")]
    assert all(p["version"] for p in line["protocols"])
    assert line["issuers"] == 1 and line["publicBaseUrl"] == "https://cds.example.org"
    assert line["feedbackStore"] == f"sqlite:///{tmp_path / 'fb.sqlite3'}"
    assert line["replayStore"] == "memory (this process only)"
    assert line["corsOrigins"] == ["https://ehr.example.org"] and line["workers"] == 1


@pytest.mark.postgres
def test_the_start_up_line_names_the_stores_but_never_their_credentials(caplog, pg_url) -> None:
    with_password = pg_url.replace("postgres@", "postgres:pw-secret@")  # trust auth: the password is not checked
    settings = replace(sb.settings(replay_store="postgresql"), feedback_url=with_password, workers=4)
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        create_app(bootstrap(settings, clock=lambda: fb.NOW))
    [line] = [json.loads(r.getMessage()) for r in caplog.records if '"event":"start-up"' in r.getMessage()]
    database = "postgresql://127.0.0.1:5432/" + pg_url.rsplit("/", 1)[1]
    assert line["feedbackStore"] == database and line["replayStore"] == f"postgresql {database}"
    assert line["workers"] == 4
    assert "pw-secret" not in caplog.text


def test_production_cautions_are_logged_at_start_up(caplog) -> None:
    settings = sb.settings(public_base_url="http://cds.example.org")
    with caplog.at_level(logging.WARNING, logger="crs_cds"):
        apps.client(settings)
    cautions = [r.getMessage() for r in caplog.records if r.getMessage().startswith("caution: ")]
    assert [c.split(":")[1].strip().split(" ")[0] for c in cautions] == ["CRS_CDS_PUBLIC_BASE_URL", "replay",
                                                                        "feedback"]
    with caplog.at_level(logging.WARNING, logger="crs_cds"):
        caplog.clear()
        apps.client(sb.settings(public_base_url="http://127.0.0.1:8080"))  # loopback: no clear-text caution
    assert not any("CRS_CDS_PUBLIC_BASE_URL" in r.getMessage() for r in caplog.records)


# --- /health and /ready -------------------------------------------------------------------------------

class DownStore:
    """A feedback store whose database has gone away."""

    def __init__(self) -> None:
        self.pinged = 0

    def ping(self) -> None:
        self.pinged += 1
        raise StoreUnavailable("cannot use the feedback database postgresql://db.internal:5432/crs (OperationalError)")

    def describe(self) -> str:
        return "postgresql://db.internal:5432/crs"


class DownReplay(MemoryReplayCache):
    kind = "redis"

    def ping(self) -> None:
        raise ReplayCacheUnavailable("cannot reach Redis at redis://redis.internal:6379/0 (ConnectionError)")


def test_ready_when_every_store_can_be_used() -> None:
    resp = apps.client().get("/ready")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ready", "checks": {"feedbackStore": "ok", "replayStore": "ok"}}


@pytest.mark.parametrize("fakes,down", [({"feedback_store": DownStore()}, {"feedbackStore"}),
                                        ({"replay": DownReplay()}, {"replayStore"}),
                                        ({"feedback_store": DownStore(), "replay": DownReplay()},
                                         {"feedbackStore", "replayStore"})])
def test_ready_is_503_naming_the_store_that_is_down_and_logs_why(caplog, fakes, down) -> None:
    client = apps.client(**fakes)
    with caplog.at_level(logging.INFO, logger="crs_cds"):
        resp = client.get("/ready")
    body = resp.get_json()
    assert resp.status_code == 503 and body["status"] == "unavailable"
    assert {name for name, state in body["checks"].items() if state == "down"} == down
    assert "internal" not in resp.get_data(as_text=True)  # addresses go to the log only
    logged = [json.loads(r.getMessage()) for r in caplog.records if '"event":"not-ready"' in r.getMessage()]
    assert {line["store"] for line in logged} == down and all("internal" in line["problem"] for line in logged)
    [request] = [json.loads(r.getMessage()) for r in caplog.records if '"event":"request"' in r.getMessage()]
    assert set(request["down"]) == down and request["status"] == 503


def test_health_touches_no_store() -> None:
    store = DownStore()
    client = apps.client(feedback_store=store, replay=DownReplay())
    assert client.get("/health").status_code == 200
    assert store.pinged == 0


def test_ready_and_health_need_no_token_in_production() -> None:
    client = apps.client(sb.settings())
    assert client.get("/ready").status_code == 200 and client.get("/health").status_code == 200


def test_a_protocol_loaded_at_start_up_is_in_the_summary(tmp_path) -> None:
    own = tmp_path / "our-protocol.yaml"
    own.write_text((PROTOCOL_DATA / "christie-doc644-v8.yaml").read_text())
    summary = apps.service(Settings(protocol_id=str(own), feedback_url=":memory:")).summary()
    assert summary["protocols"][0]["id"] == "christie-doc644-v8"


def test_feedback_store_opening_a_missing_sqlite_file_read_only_never_creates_it(tmp_path) -> None:
    missing = tmp_path / "typo" / "feedback.sqlite3"
    with pytest.raises(StoreUnavailable, match="no feedback database at sqlite:///"):
        SqlFeedbackStore.open_existing(str(missing))
    assert not missing.parent.exists()
