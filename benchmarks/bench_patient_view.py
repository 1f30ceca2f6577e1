"""Patient-view service time on realistic records, compared with json.loads.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/bench_patient_view.py``).

For each record it calls ``POST /cds-services/crs-patient-view`` in-process
through the Flask test client (so HTTP parsing, validation, mapping, grading
and card building are all counted, but not the network), and prints p50/p95
service time next to the time ``json.loads`` takes on the same request body:
the ratio shows how close the hot path stays to the cost of merely reading
the JSON.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cds_service.bootstrap import bootstrap
from cds_service.feedback import SqlFeedbackStore
from cds_service.http import create_app
from cds_service.http.server import tune_gc
from cds_service.settings import Settings
from devkit.fhirbuild import NOW
from devkit.records import RECORDS, as_hook_request


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50, p95


def bench(name: str, repeat: int) -> dict[str, float]:
    resources = RECORDS[name]()
    body = json.dumps(as_hook_request(resources)).encode()
    # In-memory feedback store: the benchmark must not fill the developer's var/ database,
    # but recording issued cards stays on the measured path as in production.
    client = create_app(bootstrap(Settings(log_level="ERROR"), clock=lambda: NOW,
                        feedback_store=SqlFeedbackStore.from_url(":memory:"))).test_client()
    tune_gc()  # as `crs-cds serve` does after building the app
    headers = {"Content-Type": "application/json"}
    first = client.post("/cds-services/crs-patient-view", data=body, headers=headers)
    assert first.status_code == 200, first.get_data(as_text=True)
    service, loads = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        resp = client.post("/cds-services/crs-patient-view", data=body, headers=headers)
        service.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200
        t0 = time.perf_counter()
        json.loads(body)
        loads.append((time.perf_counter() - t0) * 1000)
    s50, s95 = _percentiles(service)
    l50, l95 = _percentiles(loads)
    cards = first.get_json()["cards"]
    grade = cards[0]["extension"]["crs-cds.assessment"]["grade"] if cards else None
    return {"resources": len(resources), "bytes": len(body), "service_p50": s50, "service_p95": s95,
            "loads_p50": l50, "loads_p95": l95, "grade": grade}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(f"{'record':<16}{'resources':>10}{'body KB':>9}{'service p50':>13}{'p95':>9}"
          f"{'json.loads p50':>16}{'p95':>9}{'ratio':>7}  grade")
    for name in RECORDS:
        r = bench(name, args.repeat)
        print(f"{name:<16}{r['resources']:>10}{r['bytes'] / 1024:>9.0f}{r['service_p50']:>11.1f}ms"
              f"{r['service_p95']:>7.1f}ms{r['loads_p50']:>14.1f}ms{r['loads_p95']:>7.1f}ms"
              f"{r['service_p50'] / r['loads_p50']:>7.1f}  {r['grade']}")


if __name__ == "__main__":
    main()
