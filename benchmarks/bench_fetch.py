"""Patient-view with no prefetch against a FHIR server 100 ms away.

Run: ``.venv/bin/python benchmarks/bench_fetch.py [--latency-ms 100] [--repeat 5]``.

A tiny threaded HTTP server on 127.0.0.1, in its own process (so that it does
not compete with the service for the interpreter lock), serves a synthetic
record as a FHIR server would (reads, searches by patient/code/date ranges,
newest first, ``_count`` paging with next links, ``Medication?_id=``) and sleeps
``latency`` before every answer. The service reads everything itself; the
figure to look at is the call time next to the number of requests and the
round trips the answer needs (the time slices, then the Medications the
administrations reference): concurrent queries make a call cost about those
round trips, not the sum of all requests.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import socket
import statistics
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cds_service.bootstrap import bootstrap
from cds_service.feedback import SqlFeedbackStore
from cds_service.http import create_app
from cds_service.settings import Settings
from devkit import fhirbuild as fb
from devkit.records import RECORDS
from fhir_mappings import load_code_lists

PATIENT = fb.PATIENT_ID
MEMORY_STORE = SqlFeedbackStore.from_url(":memory:")  # keep the developer's var/ database clean


def with_referenced_medication(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Code the running norepinephrine through a Medication resource, so that resolving
    references (a second, dependent round) is part of the measured call."""
    out = []
    for r in resources:
        if r["resourceType"] == "MedicationAdministration" and "norepinephrine" in json.dumps(r):
            r = {k: v for k, v in r.items() if k != "medicationCodeableConcept"}
            r["medicationReference"] = {"reference": "Medication/ne"}
        out.append(r)
    out.append({"resourceType": "Medication", "id": "ne",
                "code": {"coding": [{"system": fb.RXNORM, "code": fb.RX["norepinephrine"]}]}})
    return out


_COMPARE = {"ge": str.__ge__, "gt": str.__gt__, "le": str.__le__, "lt": str.__lt__}


def _when(r: dict[str, Any]) -> str:
    return r.get("effectiveDateTime") or (r.get("effectivePeriod") or {}).get("start") or ""


class FakeFhir:
    """Just enough FHIR search for the service's queries."""

    def __init__(self, resources: list[dict[str, Any]], latency: float, counter: Any) -> None:
        self.resources, self.latency, self.counter = resources, latency, counter
        self.cache: dict[str, tuple[int, bytes]] = {}
        self.base = ""

    def answer(self, path_qs: str) -> dict[str, Any] | None:
        parts = urlsplit(path_qs)
        segs = [s for s in parts.path.split("/") if s][1:]  # after /fhir
        ranges = parse_qs(parts.query)
        q = {k: v[-1] for k, v in ranges.items()}
        kind = segs[0]
        if len(segs) == 2:
            return next((r for r in self.resources if r["resourceType"] == kind and r["id"] == segs[1]), None)
        hits = [r for r in self.resources if r["resourceType"] == kind]
        if "_id" in q:
            hits = [r for r in hits if r["id"] in q["_id"].split(",")]
        if "patient" in q:
            hits = [r for r in hits if (r.get("subject") or {}).get("reference") == f"Patient/{q['patient']}"]
        if "code" in q:
            codes = {c.split("|")[-1] for c in q["code"].split(",")}
            hits = [r for r in hits if any(c.get("code") in codes for c in r["code"]["coding"])]
        for name in ("date", "effective-time"):
            for value in ranges.get(name, []):
                prefix, bound = value[:2], value[2:]
                hits = [r for r in hits if _COMPARE[prefix](_when(r), bound)]
        hits.sort(key=_when, reverse=True)
        count, offset = int(q.get("_count", 20)), int(q.get("_offset", 0))
        bundle = fb.bundle(*hits[offset:offset + count])
        if offset + count < len(hits):
            nxt = {**q, "_offset": str(offset + count)}
            bundle["link"] = [{"relation": "next", "url": f"{self.base}/{kind}?{urlencode(nxt)}"}]
        return bundle

    def serve(self, port: int = 0) -> ThreadingHTTPServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with fake.counter.get_lock():
                    fake.counter.value += 1
                time.sleep(fake.latency)
                cached = fake.cache.get(self.path)
                if cached is None:  # a real server answers from its index: only the first call searches
                    value = fake.answer(self.path)
                    cached = fake.cache[self.path] = (
                        200 if value is not None else 404,
                        json.dumps(value or {"resourceType": "OperationOutcome"}).encode())
                status, data = cached
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # a FHIR server's backlog: the service opens every slice at once

        server = Server(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        self.base = f"http://127.0.0.1:{server.server_address[1]}/fhir"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def _serve_forever(resources: list[dict[str, Any]], latency: float, port: int, counter: Any) -> None:
    """The fake FHIR server's process: counts requests in shared memory."""
    fake = FakeFhir(resources, latency, counter)
    fake.serve(port)
    threading.Event().wait()


class RemoteFhir:
    """FakeFhir in another process, reached over loopback like a real EHR."""

    def __init__(self, resources: list[dict[str, Any]], latency: float) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.counter = multiprocessing.Value("i", 0)
        self.process = multiprocessing.Process(target=_serve_forever, args=(resources, latency, port, self.counter),
                                               daemon=True)
        self.process.start()
        self.base = f"http://127.0.0.1:{port}/fhir"
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("the fake FHIR server did not start")

    @property
    def requests(self) -> int:
        return int(self.counter.value)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join()


def round_trips(resources: list[dict[str, Any]], slices: int = 16, days: float = 30) -> int:
    """The round trips the answer needs: the time slices (and their pages, 1000 an answer) all at
    once, then one round for the referenced Medications."""
    codes = load_code_lists().observation_role
    times = sorted(_when(r) for r in resources if r["resourceType"] == "Observation"
                   and any(c.get("code") in codes for c in r["code"]["coding"]))
    start = fb.NOW - timedelta(days=days)
    edges = [(start + (fb.NOW - start) / slices * i).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(1, slices)]
    per_slice = [sum(1 for t in times if (i == 0 or t >= edges[i - 1]) and (i == len(edges) or t < edges[i]))
                 for i in range(slices)]
    return max(1, max(math.ceil(n / 1000) for n in per_slice)) + 1


def prefetched_ms(resources: list[dict[str, Any]], repeat: int) -> float:
    """The same call with everything prefetched and no FHIR server: the cost without the network."""
    service = bootstrap(Settings(log_level="ERROR"), clock=lambda: fb.NOW, feedback_store=MEMORY_STORE)
    client = create_app(service).test_client()
    body = fb.hook_request(resources)
    times = []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        assert client.post("/cds-services/crs-patient-view", json=body).status_code == 200
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times[1:])


def no_prefetch_request(fhir_server: str) -> dict[str, Any]:
    """A patient-view with no prefetch at all, at the records' fixed time (development only)."""
    return {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/example", "patientId": PATIENT}, "fhirServer": fhir_server,
            "fhirAuthorization": {"access_token": "bench", "token_type": "Bearer", "expires_in": 300,
                                  "scope": "user/*.read", "subject": "bench"},
            "extension": {"crs-cds.now": fb.iso(fb.NOW)}}


_REMOTES: dict[tuple[str, float], RemoteFhir] = {}


def remote(name: str, latency: float) -> RemoteFhir:
    """The fake FHIR server serving record ``name``, started once per benchmark run."""
    key = (name, latency)
    if key not in _REMOTES:
        _REMOTES[key] = RemoteFhir(with_referenced_medication(RECORDS[name]()), latency)
    return _REMOTES[key]


def over_http(service_url: str, name: str, latency: float, calls: int = 3) -> float:
    """p50 of ``calls`` no-prefetch patient-views to a running service (``bench_http``), after one
    that warms the fake FHIR server's answers; the FHIR server stays up for the next round."""
    data = json.dumps(no_prefetch_request(remote(name, latency).base)).encode()
    times = []
    for _ in range(calls + 1):
        request = urllib.request.Request(f"{service_url}/cds-services/crs-patient-view", data=data,
                                         headers={"Content-Type": "application/json"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        times.append((time.perf_counter() - t0) * 1000)
        found = answer["cards"][0]["extension"]["crs-cds.assessment"]
        assert found["grade"] == 3 and not found["missing"], found
    return statistics.median(times[1:])


def bench(name: str, latency: float, repeat: int) -> None:
    resources = with_referenced_medication(RECORDS[name]())
    fake = RemoteFhir(resources, latency)
    settings = Settings(log_level="WARNING", fetch_deadline_seconds=10.0)
    client = create_app(bootstrap(settings, clock=lambda: fb.NOW, feedback_store=MEMORY_STORE)).test_client()
    body = no_prefetch_request(fake.base)
    times, counts = [], []
    try:
        for _ in range(repeat + 1):
            before = fake.requests
            t0 = time.perf_counter()
            response = client.post("/cds-services/crs-patient-view", json=body)
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, response.get_json()
            found = response.get_json()["cards"][0]["extension"]["crs-cds.assessment"]
            assert found["grade"] == 3 and not found["missing"], found
            times.append(elapsed)
            counts.append(fake.requests - before)
    finally:
        fake.stop()
    times = times[1:]  # the first call opens the connections
    trips = round_trips(resources)
    print(f"{name:<14} {len(resources):>5} resources | {counts[-1]:>2} requests in {trips} round trips x "
          f"{latency * 1000:.0f} ms = {trips * latency * 1000:.0f} ms (all in series: "
          f"{counts[-1] * latency * 1000:.0f} ms) | no prefetch: p50 {statistics.median(times):.0f} ms, "
          f"max {max(times):.0f} ms | full prefetch, no network: {prefetched_ms(resources, repeat):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("records", nargs="*", default=list(RECORDS))
    args = parser.parse_args()
    for name in args.records:
        bench(name, args.latency_ms / 1000, args.repeat)


if __name__ == "__main__":
    main()
