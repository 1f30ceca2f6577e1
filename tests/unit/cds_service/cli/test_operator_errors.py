"""What an operator sees when something is wrong: one line per problem naming the setting, exit code 2,
never a Python traceback — for ``serve``, ``protocols validate|show`` and ``feedback report``.

Run in this process where only the error path runs (an uncaught exception fails the test), and as a
real process where the whole command line is the point (every problem at once, the start-up line)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

from cds_service import cli
from tests.support import security_builders as sb
from tests.support.paths import ROOT
from tests.support.services import free_port, postgres_database, serving


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRS_CDS_")}
    return subprocess.run([sys.executable, "-m", "cds_service.cli", *args], cwd=ROOT, env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=60)


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == "crs-cds 0.2.0"


def in_process(capsys, monkeypatch, argv: list[str], env: dict[str, str] | None = None) -> str:
    """``crs-cds ARGV`` in this process (a traceback would fail the test): its one stderr line, exit code 2."""
    for name in [n for n in os.environ if n.startswith("CRS_CDS_")]:
        monkeypatch.delenv(name)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert cli.main(argv) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    return line


def test_serve_on_an_unreachable_postgresql_is_one_line(capsys, monkeypatch) -> None:
    env = {"CRS_CDS_DATABASE_URL": "postgresql://crs:pw-secret@127.0.0.1:1/crs"}
    line = in_process(capsys, monkeypatch, ["serve", "--port", str(free_port()), "--workers", "1"], env)
    assert line.startswith("crs-cds: configuration error: CRS_CDS_DATABASE_URL: cannot open the feedback database "
                           "postgresql://127.0.0.1:1/crs (OperationalError: ")
    assert "pw-secret" not in line


def test_serve_reports_every_problem_one_line_each(tmp_path) -> None:
    env = {"CRS_CDS_ENV": "production", "CRS_CDS_PROTOCOL": str(tmp_path / "missing.yaml"),
           "CRS_CDS_ISSUERS_FILE": str(sb.issuers_file(tmp_path / "issuers.json")),
           "CRS_CDS_FEEDBACK_DB": str(tmp_path / "fb.sqlite3")}
    proc = run("serve", "--port", str(free_port()), "--workers", "2", env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert [line.split(":")[2].strip().split(" ")[0] for line in lines] == [
        "CRS_CDS_PUBLIC_BASE_URL", "CRS_CDS_REPLAY_STORE", "CRS_CDS_PROTOCOL"]


def test_a_production_start_logs_one_summary_line(tmp_path) -> None:
    port = free_port()
    env = {"CRS_CDS_ENV": "production", "CRS_CDS_ISSUERS_FILE": str(sb.issuers_file(tmp_path / "issuers.json")),
           "CRS_CDS_PUBLIC_BASE_URL": "https://cds.example.org", "CRS_CDS_FEEDBACK_DB": str(tmp_path / "fb.sqlite3"),
           "CRS_CDS_CORS_ORIGINS": "https://ehr.example.org"}
    with serving(env, tmp_path / "serve.log", port=port, workers=1) as server:
        server.wait_ready("/ready")
        lines = [json.loads(line) for line in server.output().splitlines() if '"event":"start-up"' in line]
    [summary] = lines
    print(json.dumps(summary))  # the figure for the operator's documentation
    assert summary["environment"] == "production" and summary["workers"] == 1 and summary["issuers"] == 1
    assert summary["replayStore"] == "memory (this process only)"


@pytest.mark.parametrize("make,says", [(lambda p: p / "missing.yaml", "no such file"),
                                       (lambda p: p, "is a directory")])
def test_protocols_validate_on_a_missing_file_or_a_directory_is_one_line(tmp_path, capsys, monkeypatch, make,
                                                                         says) -> None:
    target = make(tmp_path)
    line = in_process(capsys, monkeypatch, ["protocols", "validate", str(target)])
    assert line == f"crs-cds: {target}: {says}: give a protocol file (.yaml, .yml or .json)"


def test_protocols_show_on_a_directory_is_one_line(tmp_path, capsys, monkeypatch) -> None:
    folder = tmp_path / "site.yaml"
    folder.mkdir()
    assert in_process(capsys, monkeypatch, ["protocols", "show", str(folder)]) == (
        f"crs-cds: {folder}: cannot read (Is a directory)")


def test_feedback_report_on_a_missing_sqlite_file_names_it_and_creates_nothing(tmp_path, capsys, monkeypatch) -> None:
    missing = tmp_path / "var" / "feedback.sqlite3"
    line = in_process(capsys, monkeypatch, ["feedback", "report"], {"CRS_CDS_FEEDBACK_DB": str(missing)})
    assert line == (f"crs-cds: CRS_CDS_FEEDBACK_DB: no feedback database at sqlite:///{missing}: the service creates "
                    "it when it first starts; check the path")
    assert not missing.parent.exists()


def test_feedback_report_on_an_unreachable_postgresql_is_one_line(capsys, monkeypatch) -> None:
    line = in_process(capsys, monkeypatch, ["feedback", "report"],
                      {"CRS_CDS_DATABASE_URL": "postgresql://crs:pw@127.0.0.1:1/crs"})
    assert line.startswith("crs-cds: CRS_CDS_DATABASE_URL: cannot open the feedback database "
                           "postgresql://127.0.0.1:1/crs (OperationalError")


@pytest.mark.postgres
def test_feedback_report_refuses_a_database_without_our_tables_and_leaves_it_empty(capsys) -> None:
    with postgres_database() as url:
        assert cli.main(["feedback", "report", "--database", url]) == 2
        err = capsys.readouterr().err
        assert err.startswith("crs-cds: --database: postgresql://127.0.0.1:5432/") and "no crs-cds feedback" in err
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM information_schema.tables "
                                "WHERE table_schema = 'public'").fetchone()[0] == 0
