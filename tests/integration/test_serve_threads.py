"""The serving model (README, "Serving"): gunicorn gthread workers. One worker answers other calls
while a call waits on the EHR's FHIR server, and an EHR's keep-alive connection is kept between
calls; ``CRS_CDS_THREADS=1`` is the sync model, one call at a time per worker."""
from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from devkit import fhirbuild as fb
from tests.support.order_builders import crs_patient
from tests.support.services import serving

URL = "/cds-services/crs-patient-view"


class SlowFhir:
    """A FHIR server 300 ms away that remembers which calls (by X-Request-Id) were in flight together."""

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.resources, self.lock = resources, threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.overlaps: set[frozenset[str]] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                call = self.headers.get("X-Request-Id", "?")
                with fake.lock:
                    fake.in_flight[call] = fake.in_flight.get(call, 0) + 1
                    if len(fake.in_flight) > 1:
                        fake.overlaps.add(frozenset(fake.in_flight))
                time.sleep(0.3)
                kind = self.path.split("/fhir/", 1)[1].split("?")[0].split("/")[0]
                if kind == "Patient":
                    body = next(r for r in fake.resources if r["resourceType"] == "Patient")
                else:
                    body = fb.bundle(*[r for r in fake.resources if r["resourceType"] == kind])
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                with fake.lock:
                    fake.in_flight[call] -= 1
                    if not fake.in_flight[call]:
                        del fake.in_flight[call]

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # every call opens its time slices at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def no_prefetch_call(base: str, call: str) -> dict[str, Any]:
    body = fb.hook_request([], fhirServer=base)
    body.pop("prefetch")
    body["extension"] = {"crs-cds.now": fb.iso(fb.NOW)}
    return body


@pytest.mark.parametrize("threads,overlap", [(None, True), ("1", False)])
def test_one_worker_answers_other_calls_while_one_waits_on_the_fhir_server(tmp_path, threads, overlap) -> None:
    fhir = SlowFhir(crs_patient(70, grade=3))
    env = {"CRS_CDS_FEEDBACK_DB": str(tmp_path / "fb.sqlite3"), **({"CRS_CDS_THREADS": threads} if threads else {})}
    with serving(env, tmp_path / "serve.log", workers=1) as server:
        server.wait_ready()

        def post(call: str) -> int:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            connection.request("POST", URL, body=json.dumps(no_prefetch_call(fhir.base, call)),
                               headers={"Content-Type": "application/json", "X-Request-Id": call})
            status = connection.getresponse().status
            connection.close()
            return status

        with ThreadPoolExecutor(3) as pool:
            statuses = list(pool.map(post, ["call-a", "call-b", "call-c"]))
    fhir.server.shutdown()
    assert statuses == [200, 200, 200]
    assert bool(fhir.overlaps) is overlap, fhir.overlaps  # calls waiting on the FHIR server side by side


def test_an_ehr_connection_is_kept_alive_between_calls(tmp_path) -> None:
    body = json.dumps({**fb.hook_request(crs_patient(70, grade=3)), "extension": {"crs-cds.now": fb.iso(fb.NOW)}})
    with serving({"CRS_CDS_FEEDBACK_DB": str(tmp_path / "fb.sqlite3")}, tmp_path / "serve.log") as server:
        server.wait_ready()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        ports = []
        for _ in range(3):
            connection.request("POST", URL, body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            assert response.status == 200 and json.loads(response.read())["cards"]
            assert response.getheader("Connection", "").lower() != "close"
            ports.append(connection.sock.getsockname()[1])
        connection.close()
    assert len(set(ports)) == 1  # the same TCP connection for every call
