"""``crs-cds protocols list|show|validate``, ``grade --protocol`` and start-up on a bad protocol."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cds_service import cli
from protocols.loader import DATA_DIR
from tests.support.paths import ROOT

EXAMPLE = ROOT / "examples" / "patient-view-grade3.json"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("CRS_CDS_ENV", "CRS_CDS_ELIGIBILITY", "CRS_CDS_PROTOCOL", "CRS_CDS_PAEDIATRIC_PROTOCOL",
                 "CRS_CDS_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)


def typo_file(tmp_path: Path) -> Path:
    bad = tmp_path / "hospital.yaml"
    bad.write_text((DATA_DIR / "astct-generic.yaml").read_text().replace("mgPerKg:", "mgPerKgg:", 1))
    return bad


def test_list(capsys):
    assert cli.main(["protocols", "list"]) == 0
    out = capsys.readouterr().out
    assert "astct-generic (default)" in out and "christie-doc644-v8" in out and "paediatric-seed004" in out


def test_show_is_grade_by_grade(capsys):
    assert cli.main(["protocols", "show", "astct-generic"]) == 0
    out = capsys.readouterr().out
    for heading in ("Grade 1:", "Grade 2:", "Grade 3:", "Grade 4:", "Warnings"):
        assert heading in out
    assert "Dexamethasone 10 mg IV every 6 h" in out


def test_show_unknown_id_is_an_error(capsys):
    assert cli.main(["protocols", "show", "no-such-protocol"]) != 0
    assert "unknown protocol id" in capsys.readouterr().err


def test_validate_a_shipped_file(capsys):
    assert cli.main(["protocols", "validate", str(DATA_DIR / "christie-doc644-v8.yaml")]) == 0
    assert "valid protocol 'christie-doc644-v8'" in capsys.readouterr().out


def test_validate_a_file_with_a_typo(tmp_path, capsys):
    assert cli.main(["protocols", "validate", str(typo_file(tmp_path))]) == 1
    out = capsys.readouterr().out
    assert "hospital.yaml" in out and "mgPerKg" in out


def test_grade_prints_the_recommendations_of_the_active_protocol(capsys):
    assert cli.main(["grade", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "Protocol astct-generic" in out and "Dexamethasone 10 mg IV every 6 h" in out and "Warnings" in out


def test_grade_with_another_protocol(capsys):
    assert cli.main(["grade", str(EXAMPLE), "--protocol", "christie-doc644-v8", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)["recommendations"]
    assert recs["protocol"]["id"] == "christie-doc644-v8"
    orders = [i["order"] for i in recs["items"] if i["orderable"] and i["recommended"]]
    assert {"drug": "dexamethasone", "doseMg": 9.9, "route": "IV", "everyHours": 6} in orders


def test_grade_with_a_bad_protocol_file_names_the_problem(tmp_path, capsys):
    assert cli.main(["grade", str(EXAMPLE), "--protocol", str(typo_file(tmp_path))]) != 0
    err = capsys.readouterr().err
    assert "hospital.yaml" in err and "mgPerKg" in err and "Traceback" not in err


def test_serve_refuses_to_start_on_a_bad_protocol_file(tmp_path):
    env = {**os.environ, "CRS_CDS_PROTOCOL": str(typo_file(tmp_path))}
    proc = subprocess.run([sys.executable, "-m", "cds_service.cli", "serve", "--port", "1", "--workers", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines and all(line.startswith("crs-cds: configuration error: CRS_CDS_PROTOCOL: ") for line in lines)
    assert "hospital.yaml" in proc.stderr and "mgPerKg" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_serve_refuses_to_start_on_an_unknown_protocol_id():
    env = {**os.environ, "CRS_CDS_PAEDIATRIC_PROTOCOL": "no-such-protocol"}
    proc = subprocess.run([sys.executable, "-m", "cds_service.cli", "serve", "--port", "1", "--workers", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "unknown protocol id" in proc.stderr
