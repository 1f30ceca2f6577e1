"""Timeline page render time on realistic records, phase by phase.

Run: ``.venv/bin/python benchmarks/bench_timeline.py`` (``make bench`` runs it too).

For each record (``devkit.records``; the 14-day ICU record has 15-minute vitals) it
times what ``GET /app/timeline`` does once the FHIR resources are read: map, grade and
recommend (as the card does), the grade series and the chart's geometry, and the HTML;
then the whole page through the HTTP route in-process, reading the record from a FHIR
server answering from memory (so the gatherer's slicing and de-duplication count, but
not the network). Prints p50/p95 in ms and the page's size.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cards.wording.times import LocalTimes
from cds_service.bootstrap import bootstrap, build_assessor
from cds_service.feedback import SqlFeedbackStore
from cds_service.http import create_app
from cds_service.http.server import tune_gc
from cds_service.settings import Settings
from devkit import fhirbuild as fb
from devkit.records import RECORDS
from timeline import build_page, render_page

URL = "/app/timeline?iss=http://127.0.0.1:8090/fhir&patient=p1&now=" + fb.iso(fb.NOW)


class MemoryFhir:
    """A FHIR server answering from a record in memory: reads by id, searches by type."""

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.by_type: dict[str, list[dict[str, Any]]] = {}
        for r in resources:
            self.by_type.setdefault(r["resourceType"], []).append(r)

    def fetch(self, query: str, *, server: Any, authorization: Any, deadline: float | None = None) -> Any:
        kind = query.partition("?")[0]
        if "/" in kind:
            rtype, rid = kind.split("/", 1)
            return next((r for r in self.by_type.get(rtype, []) if r.get("id") == rid), None)
        return fb.bundle(*self.by_type.get(kind, []))


def _p(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench(name: str, repeat: int) -> dict[str, Any]:
    resources = RECORDS[name]()
    assessor = build_assessor(Settings())
    times = LocalTimes()
    phases: dict[str, list[float]] = {"grade": [], "series + chart": [], "html": [], "page over HTTP": []}
    client = create_app(bootstrap(Settings(log_level="ERROR"), clock=lambda: fb.NOW, fetcher=MemoryFhir(resources),
                                  feedback_store=SqlFeedbackStore.from_url(":memory:"))).test_client()
    tune_gc()
    size = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = assessor.recommend(resources, patient_id="p1", now=fb.NOW)
        t1 = time.perf_counter()
        page = build_page(patient_id="p1", snapshot=result.snapshot, assessment=result.assessment,
                          recommendations=result.recommendations, grading=assessor.grading, times=times,
                          data_source="benchmark")
        t2 = time.perf_counter()
        render_page(page, times)
        t3 = time.perf_counter()
        response = client.get(URL)
        t4 = time.perf_counter()
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        size = len(response.data)
        for key, took in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            phases[key].append(took * 1000)
    points = sum(len(p.dots) for p in page.chart.panels)
    return {"resources": len(resources), "points": points, "kb": size / 1024,
            **{k: _p(v) for k, v in phases.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--record", choices=sorted(RECORDS), action="append",
                        help="only this record (repeatable; default: all)")
    args = parser.parse_args()
    print(f"{'record':<16}{'resources':>10}{'points':>8}{'page KB':>9}  "
          f"{'grade':>13}{'series + chart':>17}{'html':>13}{'page over HTTP':>17}   (p50 / p95, ms)")
    for name in args.record or list(RECORDS):
        r = bench(name, args.repeat)
        cells = "".join(f"{r[k][0]:>9.0f} /{r[k][1]:>4.0f}" for k in ("grade", "series + chart", "html"))
        print(f"{name:<16}{r['resources']:>10}{r['points']:>8}{r['kb']:>9.0f}  {cells}"
              f"{r['page over HTTP'][0]:>11.0f} /{r['page over HTTP'][1]:>4.0f}")


if __name__ == "__main__":
    main()
