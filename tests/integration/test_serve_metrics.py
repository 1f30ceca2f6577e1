"""/metrics under gunicorn: several worker processes, one set of numbers (prometheus_client multiprocess mode)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from devkit import fhirbuild as fb
from tests.support.order_builders import crs_patient
from tests.support.services import serving

URL = "/cds-services/crs-patient-view"


def owned_metrics_dir(pid: int) -> Path:
    """The directory ``crs-cds serve`` made for itself (it re-executed with the variable set)."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    [value] = [e.split(b"=", 1)[1] for e in environ if e.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    return Path(value.decode())


def test_counts_from_every_worker_are_summed_and_the_directory_removed_at_exit(tmp_path) -> None:
    env = {"CRS_CDS_FEEDBACK_DB": str(tmp_path / "fb.sqlite3")}
    body = fb.hook_request(crs_patient(70, grade=3))
    body["extension"] = {"crs-cds.now": fb.iso(fb.NOW)}  # the record is built around fhirbuild.NOW
    with serving(env, tmp_path / "serve.log", workers=3) as server:
        server.wait_ready()
        folder = owned_metrics_dir(server.process.pid)
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda _: requests.post(server.url + URL, json=body, timeout=10).status_code,
                                     range(60)))
        assert statuses == [200] * 60
        workers_that_counted = {p.name for p in folder.glob("counter_*.db")}
        text = requests.get(server.url + "/metrics", timeout=5).text
        server.stop()
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for family in text_string_to_metric_families(text) for s in family.samples}
    key = ("crs_cds_requests_total", (("endpoint", "service"), ("service", "crs-patient-view"), ("status", "200")))
    assert values[key] == 60  # whichever worker answered each one
    assert len(workers_that_counted) >= 2
    cards = sum(v for (name, labels), v in values.items() if name == "crs_cds_cards_issued_total"
                and ("grade", "3") in labels)
    assert cards == 60
    assert not folder.exists()  # serve made it, serve removed it
