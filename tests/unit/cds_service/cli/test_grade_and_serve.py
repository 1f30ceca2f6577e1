"""The ``crs-cds`` command: offline grading of files and the gunicorn server."""
from __future__ import annotations

import gc
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import types
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from cds_service import cli
from cds_service.cli.render_assessment import assessment_table, assessment_to_json
from cds_service.ehr.offline import InputError, patient_id_of, read_input
from cds_service.http.server import GC_THRESHOLDS, CdsServer, gunicorn_options
from cds_service.settings import Settings
from clinical import Assessment, Evidence, OxygenSupport, SupportTier, Temperature, TemperatureReading
from clinical.findings import HypoxiaDriver, InotropeNotCounted, MissingInput
from devkit import fhirbuild as fb
from protocols import Recommendations
from tests.support import apps
from tests.support.clinical_data import CODES, GRADING
from tests.support.paths import ROOT

EXAMPLE = ROOT / "examples" / "patient-view-grade3.json"

FEVER = Temperature(39.2, fb.NOW - timedelta(hours=1), "Observation/t1", "39.2 Cel")
CANNULA = OxygenSupport(fb.NOW - timedelta(hours=1), "Observation/o1", device="nasal-cannula", flow_l_min=3)
ASSESSMENT = Assessment(
    status="graded", now=fb.NOW, grade=2, worst_grade=3, lower_bound=True, fever_present=True,
    onset=fb.NOW - timedelta(hours=20), drivers=(HypoxiaDriver(CANNULA, SupportTier(2, "device-flow"), 2),),
    evidence=(Evidence("fever", "temperature", TemperatureReading(FEVER), FEVER.time, FEVER.source),),
    missing=(MissingInput("hypotension", "no-blood-pressure", 12),),
    notes=(InotropeNotCounted("dobutamine", True, 12),))


def write(tmp_path: Path, data: Any, name: str = "input.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


NO_RECOMMENDATIONS = Recommendations("astct-generic", "ASTCT consensus CRS management (generic)", "1.0.0", grade=2)


class FakePipeline(list):
    """Stands in for the clinical pipeline the CLI receives from the composition root:
    records each call (and the settings it was built from), returns ASSESSMENT."""

    codes = CODES
    grading = GRADING

    def __call__(self, settings: Settings) -> FakePipeline:
        self.eligibility = settings.eligibility
        return self

    def recommend(self, resources, *, patient_id, now, unavailable=()):
        self.append({"resources": list(resources), "patient_id": patient_id, "now": now,
                     "unavailable": list(unavailable), "eligibility": self.eligibility})
        return types.SimpleNamespace(assessment=ASSESSMENT, recommendations=NO_RECOMMENDATIONS)


@pytest.fixture
def fake_pipeline(monkeypatch) -> FakePipeline:
    for name in ("CRS_CDS_ENV", "CRS_CDS_ELIGIBILITY", "CRS_CDS_PROTOCOL", "CRS_CDS_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    return FakePipeline()


def grade(argv: list[str], pipeline: FakePipeline | None = None) -> int:
    """``crs-cds grade ...`` with the fake pipeline (the real one when None)."""
    return cli.main(["grade", *argv], **({"build_assessor": pipeline} if pipeline is not None else {}))


# --- bad input: message on stderr, exit code 2, no traceback -------------------------------------------

@pytest.mark.parametrize("content,says", [
    ("{not json", "not valid JSON"),
    ('"a string"', "expected a FHIR Bundle"),
    ('{"foo": 1}', "neither resourceType nor hook/prefetch"),
    ('{"resourceType": "OperationOutcome", "issue": []}', "OperationOutcome"),
    (json.dumps(fb.bundle(fb.patient(pid="a"), fb.patient(pid="b"))), "--patient"),
    (json.dumps(fb.bundle(fb.temperature(38.0, fb.ago(hours=1)))), "no Patient"),
    ('{"hook": "patient-view", "context": {}, "extension": {"crs-cds.now": "soon"}}', "crs-cds.now"),
])
def test_bad_file_is_a_clear_error(tmp_path, capsys, fake_pipeline, content, says) -> None:
    code = grade([write(tmp_path, content)], fake_pipeline)
    err = capsys.readouterr().err
    assert code == 2
    assert says in err and "Traceback" not in err
    assert not fake_pipeline


def test_missing_file_is_a_clear_error(tmp_path, capsys) -> None:
    assert grade([str(tmp_path / "nope.json")]) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_bad_now_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        grade(["x.json", "--now", "tomorrow"])
    assert caught.value.code == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_bad_configuration_names_the_variable(tmp_path, capsys, fake_pipeline, monkeypatch) -> None:
    monkeypatch.setenv("CRS_CDS_ELIGIBILITY", "sometimes")
    assert grade([write(tmp_path, fb.patient())], fake_pipeline) == 2
    assert "CRS_CDS_ELIGIBILITY" in capsys.readouterr().err


# --- what is graded: resources, patient, time ----------------------------------------------------------

def test_request_file_uses_prefetch_context_and_pinned_time(fake_pipeline, capsys) -> None:
    assert grade([str(EXAMPLE)], fake_pipeline) == 0
    [call] = fake_pipeline
    assert call["patient_id"] == "p1" and call["now"] == fb.NOW
    assert {r["resourceType"] for r in call["resources"]} == {"Patient", "Observation", "MedicationAdministration"}
    assert call["unavailable"] == []


def test_now_and_patient_options_win(fake_pipeline, capsys) -> None:
    grade([str(EXAMPLE), "--now", "2026-11-22T08:00:00Z", "--patient", "other"], fake_pipeline)
    assert fake_pipeline[0]["now"].isoformat() == "2026-11-22T08:00:00+00:00"
    assert fake_pipeline[0]["patient_id"] == "other"


def test_bundle_file_uses_its_only_patient(tmp_path, fake_pipeline, capsys) -> None:
    path = write(tmp_path, fb.bundle(fb.patient(pid="solo"), fb.temperature(38.0, fb.ago(hours=1))))
    assert grade([path, "--now", "2026-11-21T12:00:00"], fake_pipeline) == 0
    assert fake_pipeline[0]["patient_id"] == "solo"
    assert fake_pipeline[0]["now"] == fb.NOW  # no offset: UTC


def test_single_resource_from_stdin(monkeypatch, fake_pipeline, capsys) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(json.dumps(fb.patient(pid="s1")).encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert grade(["-", "--now", "2026-11-21T12:00:00Z"], fake_pipeline) == 0
    assert fake_pipeline[0]["patient_id"] == "s1" and len(fake_pipeline[0]["resources"]) == 1


def test_gaps_in_a_request_become_unavailable_notes(tmp_path, fake_pipeline, capsys) -> None:
    request = fb.hook_request([fb.car_t()])
    del request["prefetch"]["observations"]
    request["prefetch"]["medicationAdministrations"]["link"] = [{"relation": "next", "url": "https://x/p2"}]
    grade([write(tmp_path, request), "--now", "2026-11-21T12:00:00Z"], fake_pipeline)
    assert fake_pipeline[0]["unavailable"] == [
        "observations: not provided (key omitted)",
        "medicationAdministrations: only the first page was provided (prefetch paginated)"]


def test_a_file_with_none_of_the_patients_data_is_said_in_words(fake_pipeline, capsys) -> None:
    assert grade([str(EXAMPLE), "--patient", "someone-else", "--json"], fake_pipeline) == 0
    out, err = capsys.readouterr()
    json.loads(out)  # stdout stays JSON
    assert err.startswith(f"crs-cds: none of the 10 resources about a patient in {EXAMPLE} is about patient "
                          "someone-else (0 of 10 resources for this patient)")
    assert grade([str(EXAMPLE)], fake_pipeline) == 0
    assert capsys.readouterr().err == ""  # the request's own patient: nothing to say


def test_eligibility_setting_reaches_the_pipeline(tmp_path, fake_pipeline, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CRS_CDS_ELIGIBILITY", "off")
    grade([write(tmp_path, fb.patient()), "--now", "2026-11-21T12:00:00Z"], fake_pipeline)
    assert fake_pipeline[0]["eligibility"] is False


def test_patient_id_rules() -> None:
    given = read_input(fb.bundle(fb.patient(pid="a"), fb.patient(pid="a")), {})
    assert patient_id_of(given, None) == "a"
    assert patient_id_of(given, "b") == "b"
    with pytest.raises(InputError):
        patient_id_of(read_input([fb.temperature(38, fb.ago(hours=1))], {}), None)


# --- output --------------------------------------------------------------------------------------------

def test_table_output_shows_every_part(fake_pipeline, capsys) -> None:
    grade([str(EXAMPLE)], fake_pipeline)
    out = capsys.readouterr().out
    for text in ("status", "graded", ">= 2 (lower bound", "worst grade   3", "hypoxia: nasal cannula 3 L/min",
                 "Evidence", "role", "source", "Observation/t1", "39.2 °C", "2026-11-21T11:00:00Z",
                 "Missing", "no blood pressure", "Notes", "dobutamine"):
        assert text in out, text


def test_json_output(fake_pipeline, capsys) -> None:
    grade([str(EXAMPLE), "--json"], fake_pipeline)
    data = json.loads(capsys.readouterr().out)
    assert data["recommendations"]["items"] == []
    assert {k: v for k, v in data.items() if k != "recommendations"} == assessment_to_json(ASSESSMENT)
    assert (data["status"], data["grade"], data["worstGrade"], data["lowerBound"]) == ("graded", 2, 3, True)
    assert data["evidence"] == [{"role": "fever", "what": "temperature", "value": "39.2 °C",
                                 "time": "2026-11-21T11:00:00Z", "source": "Observation/t1"}]
    assert set(data) >= {"drivers", "missing", "notes", "onset", "indexTherapy"}


def test_table_for_an_ungraded_assessment() -> None:
    text = assessment_table(Assessment(status="not-eligible", now=fb.NOW), patient_id="p1")
    assert "not-eligible" in text and "Evidence" not in text


def test_pipeline_grades_the_grade_3_example(capsys) -> None:
    """The real pipeline (needs the clinical layers)."""
    assert grade([str(EXAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["grade"]) == ("graded", 3)
    assert any(e["source"] == "MedicationAdministration/ne-1" for e in data["evidence"])


# --- serve ---------------------------------------------------------------------------------------------

def test_serve_options() -> None:
    args = cli.build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000", "--workers", "3"])
    assert (args.host, args.port, args.workers) == ("0.0.0.0", 9000, 3)
    opts = gunicorn_options(Settings(), host="::1", port=9000, workers=3)
    assert opts["bind"] == "[::1]:9000" and opts["workers"] == 3 and opts["preload_app"] is True
    server = CdsServer(apps.service(), opts)
    assert server.cfg.control_socket_disable is True  # no $HOME/.gunicorn/gunicorn.ctl shared by instances


@pytest.mark.parametrize("argv", [["serve", "--port", "0"], ["serve", "--port", "http"], ["serve", "--workers", "0"]])
def test_serve_rejects_bad_options(argv, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == 2


def test_gunicorn_application_is_configured_and_loads_the_app() -> None:
    server = CdsServer(apps.service(), gunicorn_options(Settings(), host="127.0.0.1", port=8123, workers=2))
    assert server.cfg.bind == ["127.0.0.1:8123"] and server.cfg.workers == 2
    before = gc.get_threshold()
    try:
        assert server.load().test_client().get("/health").status_code == 200
        # start-up state frozen out of the collector, collections spaced out (see server.GC_THRESHOLDS)
        assert gc.get_threshold() == GC_THRESHOLDS and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_crs_cds_serve_answers_discovery(tmp_path) -> None:
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "cds_service.cli", "serve", "--port", str(port), "--workers", "1"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "CRS_CDS_ENV": "development"})
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                resp = requests.get(f"http://127.0.0.1:{port}/cds-services", timeout=1)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert resp.status_code == 200
        assert resp.json()["services"][0]["id"] == "crs-patient-view"
        assert resp.headers["X-Request-Id"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
