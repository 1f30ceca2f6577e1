"""A real FHIR R4 server for integration tests and development: sekmet-fhir, run as a subprocess.

``sekmet serve`` (PyPI ``sekmet-fhir``, a FastAPI app on SQLite) is started on
127.0.0.1 (a free port unless one is given) with in-memory storage
(``db_path: ":memory:"``), inbound validation and the workflow simulator off, and
static bearer-token authentication on, so that the tests also prove the service
sends the token — or open (``token=None``), as the SMART launcher's FHIR server and
for the timeline page in development. Its ``base_url`` is set to the real address:
it writes next links with it. Data goes in as one transaction Bundle of PUTs (ids kept).

``python -m devkit.fhir_server`` serves an open one holding a synthetic record
(``devkit.records``) until interrupted, for trying the timeline page by hand.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

from devkit import fhirbuild, processes, records

TOKEN = "integration-token-7f3c"
START_TIMEOUT_SECONDS = 60


class SekmetUnavailable(RuntimeError):
    """sekmet is installed but did not start: the integration tests must fail, not skip."""


def installed() -> bool:
    return importlib.util.find_spec("sekmet") is not None


def _executable() -> list[str]:
    beside = Path(sys.executable).with_name("sekmet")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("sekmet")
    if found:
        return [found]
    return [sys.executable, "-c", "from sekmet.cli import app; app()"]


@dataclass
class SekmetServer:
    base_url: str
    process: subprocess.Popen
    workdir: tempfile.TemporaryDirectory
    log: IO[bytes]
    token: str | None = TOKEN  # None: an open server

    def headers(self) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**auth, "Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}

    def load(self, resources: Iterable[dict[str, Any]]) -> None:
        """PUT every resource in one transaction (ids preserved, so tests can refer to them)."""
        entries = [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
                   for r in resources]
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        response = requests.post(self.base_url, json=bundle, headers=self.headers(), timeout=120)
        if response.status_code != 200:
            raise AssertionError(f"transaction failed: {response.status_code} {response.text[:500]}")

    def get(self, query: str) -> dict[str, Any]:
        response = requests.get(f"{self.base_url}/{query}", headers=self.headers(), timeout=30)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        processes.stop(self.process)
        self.log.close()
        self.workdir.cleanup()


def start(token: str | None = TOKEN, port: int | None = None) -> SekmetServer:
    """Start sekmet (bearer ``token`` required; None: open) and wait until ``/fhir/metadata`` answers;
    ``SekmetUnavailable`` if it does not."""
    port = port or processes.free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    workdir = tempfile.TemporaryDirectory(prefix="sekmet-")
    config = Path(workdir.name) / "settings.yaml"
    config.write_text(
        f"host: 127.0.0.1\nport: {port}\nbase_url: {base}\ndb_path: ':memory:'\n"
        f"data_dir: {workdir.name}/data\nlog_inbound: false\n"
        "validation:\n  inbound: 'off'\nsimulator:\n  enabled: false\n"
        + (f"server_auth:\n  types: [bearer]\n  tokens: ['{token}']\n" if token else
           "server_auth:\n  types: [none]\n"))
    log = open(Path(workdir.name) / "server.log", "wb")  # noqa: SIM115 - closed by stop()
    env = {**os.environ, "SEKMET_CONFIG": str(config)}
    process = subprocess.Popen([*_executable(), "serve", "--config", str(config), "--host", "127.0.0.1",
                                "--port", str(port)], cwd=workdir.name, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    server = SekmetServer(base, process, workdir, log, token)
    if processes.answers(f"{base}/metadata", process, START_TIMEOUT_SECONDS):
        return server
    log.flush()
    output = (Path(workdir.name) / "server.log").read_text(errors="replace")[-2000:]
    server.stop()
    raise SekmetUnavailable(f"sekmet did not start on port {port}:\n{output}")


def main(argv: list[str] | None = None) -> int:
    """Serve an open FHIR server holding a synthetic record until Ctrl-C (development only)."""
    parser = argparse.ArgumentParser(prog="python -m devkit.fhir_server", description=main.__doc__)
    parser.add_argument("--port", type=int, default=8090, help="port on 127.0.0.1 (default: %(default)s)")
    parser.add_argument("--record", choices=sorted(records.RECORDS), default="72h-hourly",
                        help="synthetic record of patient p1 (default: %(default)s)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped by its pid: stop sekmet too (finally)
    server = start(token=None, port=args.port)
    try:
        server.load(records.RECORDS[args.record]())
        print(f"Open FHIR server {server.base_url} holds Patient/{fhirbuild.PATIENT_ID} ({args.record}), "
              f"recorded up to {fhirbuild.iso(fhirbuild.NOW)}. Ctrl-C stops it.", flush=True)
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
